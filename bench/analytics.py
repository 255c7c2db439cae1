"""Analytics bench (PostgreSQL): rollup maintenance rate, team and agent views through the HTTP
API (Flask test client, in-process: no socket), the weekly quartile computation, and the same
figures from a naive GROUP BY over the raw facts in the same run.

    .venv/bin/python -m bench.analytics --rows 200000 --agents 500 --days 90
    .venv/bin/python -m bench.analytics --rows 10000000 --agents 5000 --days 365   # the issue's scale
"""

from __future__ import annotations

import argparse
import itertools
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from bench.common import bench_database, bench_redis, create_tenant, log, make_app, percentile, table

END = datetime(2026, 1, 1, tzinfo=UTC)
NAIVE_TEAM = """
SELECT agent_id, local_day, count(*), avg(t_handle_ms), avg(t_hold_ms), avg(t_acw_ms),
       avg(transferred::int), avg(fcr::int), avg(csat), avg(qa_score),
       sum(t_handle_ms) FILTER (WHERE p_satisfaction IS NOT NULL AND p_resolution IS NOT NULL)
         / nullif(sum(p_satisfaction * p_resolution), 0)
FROM interaction_facts WHERE tenant_id = :t AND agent_id = ANY(:agents)
  AND local_day BETWEEN :start AND :end GROUP BY agent_id, local_day"""
NAIVE_CELLS = """
SELECT inquiry, channel, agent_id, count(*), sum(t_handle_ms),
       sum(p_satisfaction * p_resolution) FROM interaction_facts
WHERE tenant_id = :t AND local_day BETWEEN :start AND :end GROUP BY inquiry, channel, agent_id"""


def load(app, *, agents: int, days: int, rows: int, batch: int) -> float:
    from extension.analytics import demo as analytics_demo
    from extension.analytics import facts as analytics
    from extension.platform.models.people import Person

    db = app.extensions["coachwire.db"]
    with db.session() as session:
        session.add_all(Person(tenant_id="bench", **p) for p in analytics_demo.people(agents))
    records = analytics_demo.interactions(agents=agents, days=days, seed=7, end=END,
                                          per_agent_day=rows / (agents * days) / 0.9)
    records = itertools.islice(records, rows)
    stored, started = 0, time.perf_counter()
    while chunk := list(itertools.islice(records, batch)):
        with db.session() as session:
            analytics.upsert_facts(session, tenant_id="bench", records=chunk, tz="UTC")
        stored += len(chunk)
        if stored % (batch * 20) == 0:
            log(f"{stored} facts, {stored / (time.perf_counter() - started):.0f}/s")
    rate = stored / (time.perf_counter() - started)
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    log(f"loaded {stored} facts at {rate:.0f}/s")
    return rate


def timed(fn, *, repeat: int) -> list[float]:
    fn()  # warm caches and the connection pool
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def http_views(app, *, repeat: int, agent_count: int) -> dict[str, list[float]]:
    from extension.platform.auth import tokens

    client = app.test_client()
    token = tokens.issue(app.config["SECRET_KEY"], tenant_id="bench", person_id="m000", role="manager")
    headers = {"Authorization": f"Bearer {token}"}
    last = END.date() - timedelta(days=1)
    span = {"from": (last - timedelta(days=89)).isoformat(), "to": last.isoformat()}

    def get(url, **params):
        response = client.get(url, headers=headers, query_string={**span, **params})
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    agents = itertools.cycle(f"a{i:04d}" for i in range(0, agent_count, 7))
    peers = app.extensions["coachwire.peers"]

    def cold():
        peers._entries.clear()  # a custom range's first request in a process sums the peers
        get("/api/v1/agents/a0001/performance")

    def first_stored():
        peers._entries.clear()  # a standard range's first request in a process loads the
        get("/api/v1/agents/a0001/performance")  # worker's stored snapshot

    views = {"team view (12 agents x 8 KPIs x 90 days)": timed(
                 lambda: get("/api/v1/teams/t000/performance", period="day"), repeat=repeat),
             "agent inquiry view (90 days), a different agent each time": timed(
                 lambda: get(f"/api/v1/agents/{next(agents)}/performance"), repeat=repeat),
             "agent inquiry view, cold (peer snapshot summed in the request)": timed(cold, repeat=3)}
    started = time.perf_counter()
    precompute(app, last)
    log(f"peer-snapshot job (8 ranges): {time.perf_counter() - started:.1f} s")
    loads = peers.loads
    views["agent inquiry view, first in a process (stored snapshot loaded)"] = timed(first_stored, repeat=10)
    assert peers.loads > loads, "the stored snapshot was not used"
    return views


def precompute(app, today: date) -> None:
    """The worker's peer-snapshot job for the bench tenant, its ranges ending ``today``."""
    from extension.analytics import snapshots

    with app.extensions["coachwire.db"].session() as session:
        snapshots.refresh_tenant(session, "bench", tz="UTC", today=today,
                                 staleness=app.config["SETTINGS"].peer_snapshot_seconds)


def quartiles_week(app) -> float:
    """Every agent's label in every inquiry x channel cell for one week, from the rollups."""
    from extension.analytics import peers as analytics_peers

    week = _week_slice()

    def run():
        with app.extensions["coachwire.db"].session() as session:
            labels = analytics_peers.labels_for_all(session, tenant_id="bench", start=week.start,
                                                    end=week.end)
        assert sum(len(per_cell) for per_cell in labels.values()) > 0

    return min(timed(run, repeat=3))


def _week_slice():
    from extension.analytics.query import Slice

    end = END.date() - timedelta(days=1)
    return Slice(tenant_id="bench", start=end - timedelta(days=6), end=end)


def naive(app, *, repeat: int) -> dict[str, float]:
    engine = app.extensions["coachwire.db"].engine
    end = END.date() - timedelta(days=1)
    agents = [f"a{i:04d}" for i in range(12)]

    def team():
        with engine.connect() as conn:
            conn.execute(text(NAIVE_TEAM), {"t": "bench", "agents": agents, "start": end - timedelta(days=89),
                                            "end": end}).all()

    def cells():
        with engine.connect() as conn:
            params = {"t": "bench", "start": end - timedelta(days=6), "end": end}
            conn.execute(text(NAIVE_CELLS), params).all()

    return {"team": percentile(timed(team, repeat=repeat), 95), "cells": min(timed(cells, repeat=3))}


def incremental_rate(app, *, agents: int, rows: int, batch: int) -> float:
    """upsert_facts of new interactions on top of what is loaded: the live path's rate."""
    from extension.analytics import demo as analytics_demo
    from extension.analytics import facts as analytics

    db = app.extensions["coachwire.db"]
    records = analytics_demo.interactions(agents=agents, days=7, seed=99, end=END + timedelta(days=7),
                                          per_agent_day=rows / (agents * 7) / 0.9)
    records = itertools.islice(records, rows)
    stored, started = 0, time.perf_counter()
    while chunk := list(itertools.islice(records, batch)):
        with db.session() as session:
            analytics.upsert_facts(session, tenant_id="bench", records=chunk, tz="UTC")
        stored += len(chunk)
    return stored / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--bulk", action="store_true",
                        help="COPY generated facts and build rollups in SQL (for millions of rows); "
                             "the incremental rate is then measured on 50,000 more interactions")
    parser.add_argument("--check-bulk", action="store_true",
                        help="with --bulk: verify the SQL rollups equal the product's (small loads)")
    args = parser.parse_args()
    with bench_database() as url, bench_redis() as redis_url:
        app = make_app(url, redis_url)
        create_tenant(app, "bench")
        if args.bulk:
            from bench import bulk

            with app.extensions["coachwire.db"].session() as session:
                from extension.analytics import demo as analytics_demo
                from extension.platform.models.people import Person

                session.add_all(Person(tenant_id="bench", **p) for p in analytics_demo.people(args.agents))
            bulk.load(app.extensions["coachwire.db"].engine, rows=args.rows, agents=args.agents,
                      days=args.days, end=END)
            if args.check_bulk:
                log(f"SQL rollups equal the product's: {bulk.check_rollups(app):,} rows compared")
        else:
            rate = load(app, agents=args.agents, days=args.days, rows=args.rows, batch=args.batch)
        views = http_views(app, repeat=args.repeat, agent_count=args.agents)
        quartile_ms, raw = quartiles_week(app), naive(app, repeat=args.repeat)
        if args.bulk:
            rate = incremental_rate(app, agents=args.agents, rows=50_000, batch=args.batch)
        app.extensions["coachwire.queue"].shutdown()
        app.extensions["coachwire.db"].dispose()
    rows = [("rollup maintenance (upsert_facts)", f"{rate:,.0f} interactions/s", "", "")]
    cold = views.pop("agent inquiry view, cold (peer snapshot summed in the request)")
    stored = views.pop("agent inquiry view, first in a process (stored snapshot loaded)")
    for name, times in views.items():
        p50, p95 = percentile(times, 50), percentile(times, 95)
        rows.append((name + " p95", f"{p95:.1f} ms", f"p50 {p50:.1f} ms", ""))
    rows.append(("agent view, cold, custom range (sums the peers)", f"{min(cold):.0f} ms", "",
                 f"once per interval per process every {app.config['SETTINGS'].peer_snapshot_seconds} s"))
    rows.append(("agent view, first in a process, standard range (loads the stored snapshot) p95",
                 f"{percentile(stored, 95):.0f} ms", f"p50 {percentile(stored, 50):.0f} ms",
                 "the worker precomputes last 24 h / week / month / 3 months and the periods before"))
    team_p95 = percentile(next(iter(views.values())), 95)
    rows.append(("naive GROUP BY, team view p95", f"{raw['team']:.1f} ms", "",
                 f"SQL only; API team view / naive = {team_p95 / raw['team']:.2f}"))
    rows.append(("quartiles, all agents x cells, 1 week", f"{quartile_ms:.0f} ms", "", ""))
    rows.append(("naive GROUP BY cells, 1 week", f"{raw['cells']:.0f} ms", "",
                 f"ratio {quartile_ms / raw['cells']:.2f}"))
    print(f"\nanalytics bench: {args.rows:,} interactions, {args.agents} agents, {args.days} days "
          f"(generated {date.today().isoformat()})\n")
    print(table(rows, ("figure", "value", "", "note")))


if __name__ == "__main__":
    main()
