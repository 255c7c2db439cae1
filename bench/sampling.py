"""Sampling bench: ``select`` over a month of 1,000,000 interactions against a pandas baseline.

Pure CPU, no database or Redis. Generates a seeded month (about 5,000 agents with uneven volumes,
3 channels, 40 queues, 60 inquiries with their own handle-time distributions), then times:

* ``select`` on columnar numpy arrays with integer-coded ids (the fast path; median of repeats);
* ``select`` with string agent/queue/inquiry ids (one run: factorising strings costs extra);
* a naive pandas baseline doing the same plan with idioms one would reach for first --
  ``groupby().quantile`` fences, ``groupby().cumcount`` caps, ``groupby().sample(frac=...)`` for
  the random component and shuffle-then-``cumcount`` top-ups -- on the same data, one run.

    python -m bench.sampling [--rows 1000000] [--agents 5000] [--repeat 5] [--no-baseline]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from extension.sampling.domain.selection import DEFAULT_PLAN, parse_plan, select

START, END = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
CHANNELS = np.array(["voice", "chat", "email"])
TARGET_SECONDS = 1.0


def generate(*, rows: int, agents: int, seed: int) -> dict[str, np.ndarray]:
    """A month of interactions as columnar arrays (integer-coded ids, channel as strings)."""
    rng = np.random.default_rng(seed)
    weights = rng.gamma(2.0, 1.0, agents)
    agent = rng.choice(agents, size=rows, p=weights / weights.sum())
    inquiry = rng.integers(0, 60, rows)
    typical = rng.uniform(90_000, 1_200_000, 60)
    seconds = np.sort(rng.integers(0, int((END - START).total_seconds()), rows))
    return {
        "conversation_id": np.arange(rows, dtype=np.int64),
        "agent_id": agent,
        "channel": CHANNELS[rng.choice(3, size=rows, p=[0.6, 0.3, 0.1])],
        "queue_id": (agent * 7 + rng.integers(0, 3, rows)) % 40,
        "inquiry": inquiry,
        "ended_at": np.datetime64(START.replace(tzinfo=None), "s") + seconds.astype("timedelta64[s]"),
        "t_handle_ms": typical[inquiry] * rng.lognormal(0.0, 0.5, rows),
        "transferred": rng.random(rows) < 0.06,
        "repeat_contact": rng.random(rows) < 0.08,
        "csat": np.where(rng.random(rows) < 0.25, rng.integers(1, 6, rows), np.nan),
        "customer_sentiment": np.clip(rng.normal(0.15, 0.3, rows), -1, 1),
        "sentiment_trend": np.clip(rng.normal(0.0, 0.2, rows), -2, 2),
        "escalation": rng.random(rows) < 0.01,
        "compliance_miss": rng.random(rows) < 0.02,
    }


def with_string_ids(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = dict(data)
    for name, prefix in (("agent_id", "agent-"), ("queue_id", "queue-"), ("inquiry", "inquiry-")):
        out[name] = np.char.add(prefix, data[name].astype("U6"))
    return out


def time_select(data: dict[str, np.ndarray], *, repeat: int,
                coaching: frozenset[int]) -> tuple[list[tuple[float, float]], object]:
    """[(wall s, CPU s)] per run, and the last selection. CPU time is reported too because on a
    shared 2-core box the wall clock mostly measures the neighbours."""
    plan = parse_plan(DEFAULT_PLAN)
    timings, selection = [], None
    for run in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        selection = select(data, plan, seed=run, period_start=START, period_end=END, coaching_agents=coaching)
        timings.append((time.perf_counter() - wall, time.process_time() - cpu))
    return timings, selection


def pandas_baseline(data: dict[str, np.ndarray], *, seed: int, coaching: frozenset[int]) -> tuple[float, int]:
    """The same plan in first-reach pandas; returns (CPU seconds, picks)."""
    import pandas as pd

    began = time.process_time()
    df = pd.DataFrame(data)
    df = df[(df.ended_at >= START.replace(tzinfo=None)) & (df.ended_at < END.replace(tzinfo=None))]
    grouped = df.groupby("inquiry")["t_handle_ms"]
    q1, q3 = (df["inquiry"].map(grouped.quantile(q)) for q in (0.25, 0.75))
    spread = 1.5 * (q3 - q1)
    score = ((df.customer_sentiment <= -0.3).astype(int) + (df.sentiment_trend <= -0.2)
             + df.escalation + df.compliance_miss + (df.t_handle_ms > q3 + spread)
             + (df.t_handle_ms < q1 - spread) + df.transferred + df.repeat_contact + (df.csat <= 2))
    budget = round(0.02 * len(df))
    risky = df[score > 0].assign(score=score, tie=np.random.default_rng(seed).random(int((score > 0).sum())))
    risky = risky.sort_values(["score", "tie"], ascending=[False, True])
    risk = risky[risky.groupby("agent_id").cumcount() < 10].head(round(0.4 * budget))
    rest = df.drop(risk.index)
    frac = (budget - len(risk)) / len(rest)
    random = rest.groupby(["agent_id", "channel", "queue_id"]).sample(frac=frac, random_state=seed)
    rest = rest.drop(random.index)
    coached = rest[rest.agent_id.isin(coaching)].sample(frac=1, random_state=seed)
    targeted = coached[coached.groupby("agent_id").cumcount() < 2]
    rest = rest.drop(targeted.index)
    have = pd.concat([risk, random, targeted]).groupby("agent_id").size()
    need = (4 - have.reindex(df.agent_id.unique(), fill_value=0)).clip(lower=0)
    shuffled = rest.sample(frac=1, random_state=seed)
    fairness = shuffled[shuffled.groupby("agent_id").cumcount() < shuffled.agent_id.map(need)]
    picks = len(risk) + len(random) + len(targeted) + len(fairness)
    return time.process_time() - began, picks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sampling")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--summary-json", type=Path)
    args = parser.parse_args(argv)

    began = time.perf_counter()
    data = generate(rows=args.rows, agents=args.agents, seed=args.seed)
    coaching = frozenset(range(0, args.agents, 50))  # 2% of agents on a coaching plan
    print(f"generated {args.rows:,} interactions, {args.agents:,} agents "
          f"in {time.perf_counter() - began:.1f} s")
    timings, selection = time_select(data, repeat=args.repeat, coaching=coaching)
    wall = statistics.median(t[0] for t in timings)
    fast = statistics.median(t[1] for t in timings)
    strings, _ = time_select(with_string_ids(data), repeat=1, coaching=coaching)
    summary = {"rows": args.rows, "agents": args.agents, "select_s": fast, "select_wall_s": wall,
               "select_max_wall_s": max(t[0] for t in timings), "select_string_ids_s": strings[0][1],
               "picks": len(selection.picks), "counts": selection.counts, "target_s": TARGET_SECONDS}
    if not args.no_baseline:
        baseline = pandas_baseline(data, seed=args.seed, coaching=coaching)
        summary["baseline_s"], summary["baseline_picks"] = baseline
        summary["ratio"] = summary["baseline_s"] / fast
    print(report(summary))
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary))
    return 0 if fast < TARGET_SECONDS else 1  # CPU time: the wall clock depends on the neighbours


def report(summary: dict) -> str:
    lines = [
        f"select, int-coded ids: median {summary['select_s']:.3f} s CPU, wall median "
        f"{summary['select_wall_s']:.3f} s, worst {summary['select_max_wall_s']:.3f} s "
        f"(target < {summary['target_s']:.0f} s) -> {summary['picks']:,} picks {summary['counts']}",
        f"select, string ids:    {summary['select_string_ids_s']:.3f} s CPU (one run, includes factorising)",
    ]
    if "baseline_s" in summary:
        lines.append(f"pandas baseline:       {summary['baseline_s']:.3f} s CPU -> "
                     f"{summary['baseline_picks']:,} picks; select is {summary['ratio']:.1f}x faster")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
