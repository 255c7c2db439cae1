"""Bulk-load generated facts for the analytics bench at the issue's scale (PostgreSQL only).

``upsert_facts`` (the product's incremental path) runs at a few thousand interactions/s, so
ten million rows would take an hour; the bench measures that rate separately. Here the facts
are generated with numpy (the same distributions as extension.analytics.demo: skill
per agent, improving and declining agents, hour-of-day and weekday seasonality, inquiry and
channel mix), written with COPY, and the daily rollups built with one INSERT ... SELECT that
restates analytics_sums.contribution in SQL. ``check_rollups`` compares the two paths.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import text

from bench.common import log

INQUIRIES = np.array(["billing", "tech", "sales", "cancel", "moving", "other"])
INQUIRY_P = np.array([0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
CHANNELS = np.array(["voice", "chat", "email", "message"])
CHANNEL_P = np.array([0.55, 0.25, 0.12, 0.08])
HOURLY = np.array([1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 13, 12, 13, 14, 13, 11, 9, 7, 5, 4, 3, 2, 1], float)
COLUMNS = ("tenant_id", "conversation_id", "agent_id", "team_id", "queue_id", "inquiry", "channel",
           "ended_at", "local_day", "t_talk_ms", "t_hold_ms", "t_acw_ms", "t_handle_ms", "transferred",
           "fcr", "csat", "nps", "qa_score", "customer_sentiment", "agent_sentiment", "p_satisfaction",
           "p_resolution", "updated_at")

ROLLUP_SQL = """
INSERT INTO kpi_rollups_daily (tenant_id, day, agent_id, team_id, queue_id, inquiry, channel, week, month,
  quarter, volume, timed, handle_ms, talk_n, talk_ms, hold_n, hold_ms, acw_n, acw_ms, transfer_n,
  transfer_yes, fcr_n, fcr_yes, csat_n, csat_sum, nps_n, nps_promoters, nps_detractors, qa_n, qa_sum,
  csent_n, csent_sum, asent_n, asent_sum, scored, scored_handle_ms, expected)
SELECT tenant_id, local_day, coalesce(agent_id, ''), coalesce(team_id, ''), coalesce(queue_id, ''),
  coalesce(inquiry, ''), coalesce(channel, ''), date_trunc('week', local_day)::date,
  date_trunc('month', local_day)::date, date_trunc('quarter', local_day)::date,
  count(*), count(t_handle_ms), coalesce(sum(t_handle_ms), 0), count(t_talk_ms), coalesce(sum(t_talk_ms), 0),
  count(t_hold_ms), coalesce(sum(t_hold_ms), 0), count(t_acw_ms), coalesce(sum(t_acw_ms), 0),
  count(transferred), count(*) FILTER (WHERE transferred), count(fcr), count(*) FILTER (WHERE fcr),
  count(csat), coalesce(sum(csat), 0), count(nps), count(*) FILTER (WHERE nps >= 9),
  count(*) FILTER (WHERE nps <= 6), count(qa_score), coalesce(sum(qa_score), 0),
  count(customer_sentiment), coalesce(sum(customer_sentiment), 0), count(agent_sentiment),
  coalesce(sum(agent_sentiment), 0),
  count(*) FILTER (WHERE t_handle_ms IS NOT NULL AND p_satisfaction IS NOT NULL AND p_resolution IS NOT NULL),
  coalesce(sum(t_handle_ms) FILTER (WHERE p_satisfaction IS NOT NULL AND p_resolution IS NOT NULL), 0),
  coalesce(sum(p_satisfaction * p_resolution) FILTER (WHERE t_handle_ms IS NOT NULL), 0)
FROM interaction_facts WHERE tenant_id = :t
GROUP BY tenant_id, local_day, agent_id, team_id, queue_id, inquiry, channel"""


_SUMS = ("volume, timed, handle_ms, talk_n, talk_ms, hold_n, hold_ms, acw_n, acw_ms, transfer_n, "
         "transfer_yes, fcr_n, fcr_yes, csat_n, csat_sum, nps_n, nps_promoters, nps_detractors, qa_n, "
         "qa_sum, csent_n, csent_sum, asent_n, asent_sum, scored, scored_handle_ms, expected")
AGENT_ROLLUP_SQL = (
    f"INSERT INTO kpi_rollups_agent_daily (tenant_id, agent_id, day, week, month, quarter, {_SUMS}) "
    f"SELECT tenant_id, agent_id, day, min(week), min(month), min(quarter), "
    f"{', '.join(f'sum({c})' for c in _SUMS.split(', '))} FROM kpi_rollups_daily WHERE tenant_id = :t "
    f"GROUP BY tenant_id, agent_id, day")


def _chunk(rng: np.random.Generator, *, n: int, first: int, agents: int, days: int, end: datetime,
           skill: np.ndarray, drift: np.ndarray) -> list[tuple]:
    agent = rng.integers(0, agents, n)
    weekday_weight = np.array([1.1] * 5 + [0.45] * 2)
    start = end - timedelta(days=days)
    day_weights = weekday_weight[[(start + timedelta(days=d)).weekday() for d in range(days)]]
    day = rng.choice(days, n, p=day_weights / day_weights.sum())
    seconds = rng.choice(24, n, p=HOURLY / HOURLY.sum()) * 3600 + rng.integers(0, 3600, n)
    s = np.clip(skill[agent] + drift[agent] * day / days, 0.3, 1.0)
    channel = rng.choice(len(CHANNELS), n, p=CHANNEL_P)
    inquiry = rng.choice(len(INQUIRIES), n, p=INQUIRY_P)
    talk = (rng.lognormal(5.6, 0.5, n) * (1.6 - s) * 1000).astype(np.int64)
    hold = np.where(rng.random(n) < 0.25, (rng.uniform(5, 120, n) * 1000).astype(np.int64), 0)
    acw = (rng.uniform(10, 120, n) * (1.5 - s) * 1000).astype(np.int64)
    sat = np.clip(rng.normal(0.55 + 0.4 * s, 0.1), 0.05, 1.0)
    res = np.clip(rng.normal(0.5 + 0.45 * s, 0.1), 0.05, 1.0)
    predicted = CHANNELS[channel] != "email"
    stars = np.clip(np.round(1 + 4 * sat + rng.normal(0, 0.6, n)), 1, 5)
    csat = np.where(rng.random(n) < 0.25, stars, np.nan)
    nps = np.where(rng.random(n) < 0.15, np.clip(np.round(10 * sat + rng.normal(0, 1.5, n)), 0, 10), np.nan)
    qa = np.where(rng.random(n) < 0.1, np.round(np.clip(rng.normal(60 + 35 * s, 8), 30, 100), 1), np.nan)
    fcr = np.where(rng.random(n) < 0.8, (rng.random(n) < res).astype(float), np.nan)
    csent = np.round(np.clip(rng.normal(2 * sat - 1, 0.3), -1, 1), 2)
    asent = np.round(np.clip(rng.normal(0.3 + 0.4 * s, 0.2), -1, 1), 2)
    transferred = rng.random(n) < 0.2 - 0.12 * s
    queue = rng.integers(0, 20, n)
    base = start.replace(tzinfo=UTC)
    now = datetime.now(UTC)

    def opt(value):
        return None if np.isnan(value) else value

    rows = []
    for k in range(n):
        ended = base + timedelta(days=int(day[k]), seconds=int(seconds[k]))
        a = int(agent[k])
        rows.append((
            "bench", f"bulk-{first + k:010d}", f"a{a:04d}", f"t{a // 12:03d}", f"q{int(queue[k]):02d}",
            str(INQUIRIES[inquiry[k]]), str(CHANNELS[channel[k]]), ended, ended.date(), int(talk[k]),
            int(hold[k]), int(acw[k]), int(talk[k] + hold[k] + acw[k]), bool(transferred[k]),
            None if np.isnan(fcr[k]) else bool(fcr[k]), opt(csat[k]),
            None if np.isnan(nps[k]) else int(nps[k]), opt(qa[k]), float(csent[k]), float(asent[k]),
            round(float(sat[k]), 3) if predicted[k] else None,
            round(float(res[k]), 3) if predicted[k] else None, now))
    return rows


def load(engine, *, rows: int, agents: int, days: int, end: datetime, seed: int = 7,
         chunk: int = 250_000) -> dict[str, float]:
    """COPY ``rows`` generated facts of tenant 'bench', then build its rollups in SQL."""
    rng = np.random.default_rng(seed)
    skill = rng.uniform(0.55, 1.0, agents)
    roll = rng.random(agents)
    drift = np.where(roll < 0.05, 0.3, np.where(roll < 0.10, -0.3, 0.0))
    started, written = time.perf_counter(), 0
    raw = engine.raw_connection()
    try:
        statement = f"COPY interaction_facts ({', '.join(COLUMNS)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            while written < rows:
                n = min(chunk, rows - written)
                for row in _chunk(rng, n=n, first=written, agents=agents, days=days, end=end,
                                  skill=skill, drift=drift):
                    copy.write_row(row)
                written += n
                log(f"copied {written:,} facts ({written / (time.perf_counter() - started):,.0f}/s)")
        raw.commit()
    finally:
        raw.close()
    copied = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL work_mem = '1GB'"))  # hash the groups instead of sorting on disk
        conn.execute(text(ROLLUP_SQL), {"t": "bench"})
        conn.execute(text(AGENT_ROLLUP_SQL), {"t": "bench"})
    rolled = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(text("ANALYZE interaction_facts"))
        conn.execute(text("ANALYZE kpi_rollups_daily"))
        conn.execute(text("ANALYZE kpi_rollups_agent_daily"))
        count = conn.execute(text("SELECT count(*) FROM kpi_rollups_daily "
                                  "WHERE tenant_id = 'bench'")).scalar()
    log(f"COPY {rows:,} facts in {copied:.0f} s; {count:,} rollup rows in {rolled:.0f} s")
    return {"copy_s": copied, "rollup_s": rolled, "rollup_rows": count}


def check_rollups(app) -> int:
    """The SQL rollups equal the product's (analytics.rebuild_rollups, the Python path) row for
    row; for small loads only (the Python path holds every rollup key in memory)."""
    import math

    from extension.analytics import facts as analytics

    db = app.extensions["coachwire.db"]
    queries = [text("SELECT * FROM kpi_rollups_daily WHERE tenant_id = 'bench' "
                    "ORDER BY day, agent_id, team_id, queue_id, inquiry, channel"),
               text("SELECT * FROM kpi_rollups_agent_daily WHERE tenant_id = 'bench' ORDER BY day, agent_id")]
    with db.engine.connect() as conn:
        by_sql = [[dict(r._mapping) for r in conn.execute(q)] for q in queries]
    with db.session() as session:
        analytics.rebuild_rollups(session, tenant_id="bench", tz="UTC")
    with db.engine.connect() as conn:
        by_python = [[dict(r._mapping) for r in conn.execute(q)] for q in queries]
    for sql_rows, python_rows in zip(by_sql, by_python, strict=True):
        assert len(sql_rows) == len(python_rows), (len(sql_rows), len(python_rows))
        for a, b in zip(sql_rows, python_rows, strict=True):
            for key, value in a.items():
                if isinstance(value, float):
                    assert math.isclose(value, b[key], rel_tol=1e-9, abs_tol=1e-9), (key, a, b)
                else:
                    assert value == b[key], (key, a, b)
    return sum(len(rows) for rows in by_sql)
