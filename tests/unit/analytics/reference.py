"""An independent, deliberately plain pandas implementation of the analytics definitions.

It shares no code with ``extension.domain``: it restates each definition from the issue and
the docstrings, in column operations, so the tests catch a wrong definition as well as a slip.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

LOWER_IS_BETTER = {
    "aes": True,
    "aht_s": True,
    "talk_s": True,
    "hold_s": True,
    "acw_s": True,
    "transfer_rate": True,
    "fcr_rate": False,
    "csat": False,
    "nps": False,
    "qa": False,
    "customer_sentiment": False,
    "agent_sentiment": False,
}
FOCUS = ("aht_s", "hold_s", "acw_s", "transfer_rate", "fcr_rate", "csat", "qa", "customer_sentiment")
FLOATS = [
    "t_talk_ms",
    "t_hold_ms",
    "t_acw_ms",
    "t_handle_ms",
    "csat",
    "nps",
    "qa_score",
    "customer_sentiment",
    "agent_sentiment",
    "p_satisfaction",
    "p_resolution",
]


def frame(records: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(records)
    for column in FLOATS:
        df[column] = pd.to_numeric(df[column], errors="coerce").astype(float)
    for column in ("transferred", "fcr"):
        df[column] = df[column].map({True: 1.0, False: 0.0}).astype(float)
    df["ended_at"] = pd.to_datetime(df["ended_at"], utc=True)
    return df


def _none(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def aes(g: pd.DataFrame) -> tuple[float | None, str | None]:
    scored = g["t_handle_ms"].notna() & g["p_satisfaction"].notna() & g["p_resolution"].notna()
    if scored.any():
        expected = (g.loc[scored, "p_satisfaction"] * g.loc[scored, "p_resolution"]).sum()
        return (g.loc[scored, "t_handle_ms"].sum() / 1000 / expected if expected > 0 else None), None
    if g["t_handle_ms"].notna().any():
        return g["t_handle_ms"].mean() / 1000, "aht"
    return None, None


def summary(g: pd.DataFrame) -> dict:
    answers = g["nps"].dropna()
    nps = None
    if len(answers):
        nps = 100 * ((answers >= 9).sum() - (answers <= 6).sum()) / len(answers)
    value, fallback = aes(g)
    return {
        "volume": len(g),
        "aht_s": _none(g["t_handle_ms"].mean() / 1000),
        "talk_s": _none(g["t_talk_ms"].mean() / 1000),
        "hold_s": _none(g["t_hold_ms"].mean() / 1000),
        "acw_s": _none(g["t_acw_ms"].mean() / 1000),
        "transfer_rate": _none(g["transferred"].mean()),
        "fcr_rate": _none(g["fcr"].mean()),
        "csat": _none(g["csat"].mean()),
        "nps": _none(nps),
        "qa": _none(g["qa_score"].mean()),
        "customer_sentiment": _none(g["customer_sentiment"].mean()),
        "agent_sentiment": _none(g["agent_sentiment"].mean()),
        "aes": _none(value),
        "aes_fallback": fallback,
    }


def with_bucket(df: pd.DataFrame, period: str, tz: str) -> pd.DataFrame:
    local = df["ended_at"].dt.tz_convert(tz).dt.tz_localize(None)
    freq = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q"}[period]
    periods = local.dt.to_period(freq)
    out = df.copy()
    out["period_start"] = periods.dt.start_time.dt.date
    if period == "week":
        iso = periods.dt.start_time.dt.isocalendar()
        out["period"] = iso["year"].astype(str) + "-W" + iso["week"].map("{:02d}".format)
    elif period == "quarter":
        out["period"] = periods.dt.year.astype(str) + "-Q" + periods.dt.quarter.astype(str)
    else:
        out["period"] = periods.astype(str)
    return out


def _helper_columns(df: pd.DataFrame) -> pd.DataFrame:
    scored = df["t_handle_ms"].notna() & df["p_satisfaction"].notna() & df["p_resolution"].notna()
    return df.assign(
        scored=scored.astype(int),
        scored_handle=df["t_handle_ms"].where(scored),
        expected=(df["p_satisfaction"] * df["p_resolution"]).where(scored),
        promoter=(df["nps"] >= 9).astype(float).where(df["nps"].notna()),
        detractor=(df["nps"] <= 6).astype(float).where(df["nps"].notna()),
    )


def _summaries(grouped) -> pd.DataFrame:
    """Vectorised :func:`summary` over a groupby (same definitions, column by column)."""
    out = grouped.agg(
        volume=("conversation_id", "size"),
        aht_s=("t_handle_ms", "mean"),
        talk_s=("t_talk_ms", "mean"),
        hold_s=("t_hold_ms", "mean"),
        acw_s=("t_acw_ms", "mean"),
        transfer_rate=("transferred", "mean"),
        fcr_rate=("fcr", "mean"),
        csat=("csat", "mean"),
        promoters=("promoter", "mean"),
        detractors=("detractor", "mean"),
        qa=("qa_score", "mean"),
        customer_sentiment=("customer_sentiment", "mean"),
        agent_sentiment=("agent_sentiment", "mean"),
        scored=("scored", "sum"),
        scored_handle=("scored_handle", "sum"),
        expected=("expected", "sum"),
    )
    for column in ("aht_s", "talk_s", "hold_s", "acw_s"):
        out[column] = out[column] / 1000
    out["nps"] = 100 * (out["promoters"] - out["detractors"])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = out["scored_handle"] / 1000 / out["expected"]
    out["aes"] = np.where(out["scored"] > 0, ratio.where(out["expected"] > 0), out["aht_s"])
    out["aes_fallback"] = np.where((out["scored"] == 0) & out["aht_s"].notna(), "aht", None)
    return out.drop(columns=["promoters", "detractors", "scored", "scored_handle", "expected"])


def kpis_by(records: list[dict], *, dims: list[str], period: str | None, tz: str) -> dict[tuple, dict]:
    df = _helper_columns(frame(records))
    keys = list(dims)
    if period is not None:
        df = with_bucket(df, period, tz)
        keys += ["period_start", "period"]
    table = _summaries(df.groupby(keys, dropna=False, sort=False))
    result = {}
    for key, row in table.iterrows():
        clean = {k: (v if k == "aes_fallback" else _none(v)) for k, v in row.items()}
        clean["volume"] = int(row["volume"])
        result[key if isinstance(key, tuple) else (key,)] = clean
    return result


def labels(values: pd.Series, *, lower: bool) -> dict:
    values = values.dropna()
    if values.nunique() <= 1:
        return dict.fromkeys(values.index, "Good")
    better = values.rank(method="min", ascending=lower) - 1
    n = len(values)
    out = np.where(better < n / 4, "Great", np.where(better >= 3 * n / 4, "Needs work", "Good"))
    return dict(zip(values.index, out.tolist(), strict=True))


def quartile_labels_by(records: list[dict], *, metric: str) -> dict[tuple, dict]:
    df = frame(records)
    result = {}
    for cell, g in df.groupby(["inquiry", "channel"]):
        per_agent = pd.Series({agent: summary(a)[metric] for agent, a in g.groupby("agent_id")}, dtype=float)
        result[cell] = labels(per_agent, lower=LOWER_IS_BETTER[metric])
    return result


def inquiry_impacts(df: pd.DataFrame, agent: str) -> pd.DataFrame:
    mine, peers = df[df["agent_id"] == agent], df[df["agent_id"] != agent]
    rows = []
    for (inquiry, channel), g in mine.groupby(["inquiry", "channel"]):
        p = peers[(peers["inquiry"] == inquiry) & (peers["channel"] == channel)]
        a_value, a_fallback = aes(g)
        p_value, p_fallback = aes(p) if len(p) else (None, None)
        compared = a_value is not None and p_value is not None and a_fallback == p_fallback
        impact = (a_value - p_value) * len(g) / len(mine) if compared else 0.0
        rows.append({"inquiry": inquiry, "impact": impact, "volume": len(g), "compared": compared})
    cells = pd.DataFrame(rows)
    per_inquiry = cells.groupby("inquiry").agg(
        impact=("impact", "sum"), volume=("volume", "sum"), compared=("compared", "any")
    )
    return per_inquiry[per_inquiry["compared"]].reset_index()


def top_bottom(df: pd.DataFrame, agent: str, n: int = 3) -> tuple[list, list]:
    impacts = inquiry_impacts(df, agent)
    top = impacts[impacts["impact"] < 0].sort_values(["impact", "inquiry"]).head(n)
    worst_first = impacts.assign(neg=-impacts["impact"])
    bottom = worst_first[worst_first["impact"] > 0].sort_values(["neg", "inquiry"]).head(n)
    return list(zip(top["inquiry"], top["impact"], strict=True)), list(
        zip(bottom["inquiry"], bottom["impact"], strict=True)
    )


def focus(df: pd.DataFrame, agent: str) -> dict:
    mine, peers = df[df["agent_id"] == agent], df[df["agent_id"] != agent]
    result = {}
    for inquiry, g in mine.groupby("inquiry"):
        own = summary(g)
        peer_table = pd.DataFrame(
            [summary(p) for _, p in peers[peers["inquiry"] == inquiry].groupby("agent_id")]
        )
        gaps = {}
        for metric in FOCUS:
            column = peer_table[metric].astype(float).dropna() if len(peer_table) else pd.Series(dtype=float)
            if own[metric] is None or len(column) < 2 or column.std(ddof=0) == 0:
                continue
            gap = (own[metric] - column.mean()) / column.std(ddof=0)
            gaps[metric] = gap if LOWER_IS_BETTER[metric] else -gap
        positive = {m: g for m, g in gaps.items() if g > 0}
        result[inquiry] = max(positive, key=lambda m: (positive[m], -FOCUS.index(m))) if positive else None
    return result
