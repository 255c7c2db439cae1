"""Page speed bench (PostgreSQL): server time of every panel page on the big tenant.

Builds the tenant of ``bench.analytics --bulk`` (``bench.bulk``: COPY of generated facts, rollups
in SQL) with the facts ending today, so the pages' standard ranges (last 24 h, week, month,
3 months) hold data, runs the peer-snapshot precompute job as the worker would, then for each
page URL: the first request of a fresh process (a new app, nothing cached in it) and
``--repeat`` more, through the Flask app over HTTP with a panel session cookie and
``Sec-Fetch-Dest: iframe``. The ratio column divides by ``/healthz`` measured in the same run.

    .venv/bin/python -m bench.pages --rows 200000 --agents 500            # iterate small
    .venv/bin/python -m bench.pages --rows 10000000 --agents 5000 --days 365 --keep pages10m
    .venv/bin/python -m bench.pages --rows 10000000 --agents 5000 --keep pages10m   # re-measure
    .venv/bin/python -m bench.pages --rows 10000000 --agents 5000 --keep pages10m --url PERSON=URL ...

``--keep NAME`` keeps the loaded database (coachwire_bench_NAME) for the next run, which
reuses it when its row count matches ``--rows`` (else it deletes the tenant's facts and loads
``--rows``: pass the kept database's ``--rows``/``--agents`` to re-measure it). Page URLs may
contain ``{t}`` (tenant), ``{agent}``, ``{team}``, ``{inquiry}``, ``{conversation}``, ``{from30}``,
``{from90}``, ``{to}``; a page that answers 404 is reported as such, and the API views the pages
reuse are measured next to them (``API_BASELINE``; ``--no-api`` skips them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from bench.common import (
    BASE_DB_URL,
    ROOT,
    bench_database,
    bench_redis,
    create_tenant,
    log,
    make_app,
    percentile,
    table,
)

TENANT = "bench"
ADMIN = "x000"  # the bulk people have no admin: one is added (see ensure_admin) for the settings page
# (who is signed in, URL): supervisor s000 leads team t000, a0001 is one of its agents; {inquiry}
# and {conversation} are picked from a0001's loaded facts (values_for)
PAGES = [
    ("s000", "/t/{t}/panels/home"),
    ("s000", "/t/{t}/panels/agents"),
    ("m000", "/t/{t}/panels/agents"),  # the manager's directory: all 5,000 agents
    ("s000", "/t/{t}/panels/agents/{agent}"),
    ("a0001", "/t/{t}/panels/my-performance"),
    ("s000", "/t/{t}/panels/agents/{agent}/inquiries/{inquiry}"),
    ("s000", "/t/{t}/panels/trends"),
    ("s000", "/t/{t}/panels/interactions?agent={agent}&from={from30}&to={to}"),
    ("s000", "/t/{t}/panels/interactions/{conversation}"),
    ("s000", "/t/{t}/panels/interaction?gcConversationId={conversation}"),  # the widget: 303 on
    (ADMIN, "/t/{t}/panels/settings"),
]
# What each page asks of the server, as the API views answer it (the pages reuse their services):
# measured next to the pages for comparison. No single-interaction API exists yet.
API_BASELINE = [
    ("s000", "/api/v1/teams/{team}/performance?period=day&from={from30}&to={to}"),
    ("m000", "/api/v1/metrics?dims=agent_id&from={from30}&to={to}"),
    ("s000", "/api/v1/agents/{agent}/performance?from={from90}&to={to}"),
    ("a0001", "/api/v1/agents/{agent}/performance?from={from30}&to={to}"),
    ("s000", "/api/v1/metrics?dims=inquiry&agent_id={agent}&from={from90}&to={to}"),
    ("s000", "/api/v1/metrics?dims=team_id&period=week&from={from90}&to={to}"),
    ("s000", "/api/v1/interactions?agent={agent}&from={from30}&to={to}"),
]
SECONDS_LIMIT = 8.0  # one request longer than this is a failure of the bench, not a figure


def _today() -> date:
    return datetime.now(UTC).date()


def _db_url(name: str) -> str:
    return urlunsplit(urlsplit(BASE_DB_URL)._replace(path=f"/coachwire_bench_{name}"))


@contextmanager
def kept_database(name: str):
    """coachwire_bench_<name>, created and migrated when missing; never dropped."""
    import psycopg

    from extension.platform.migrate import upgrade

    admin = urlunsplit(urlsplit(BASE_DB_URL)._replace(path="/postgres")).replace("postgresql+psycopg",
                                                                                 "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (f"coachwire_bench_{name}",)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "coachwire_bench_{name}"')
    url = _db_url(name)
    upgrade(url)
    yield url


def loaded_rows(app) -> int:
    from sqlalchemy import text

    with app.extensions["coachwire.db"].engine.connect() as conn:
        marker = conn.execute(text("SELECT count(*) FROM tenants WHERE id = :t"), {"t": TENANT}).scalar()
        if not marker:
            return -1
        return int(conn.execute(text("SELECT count(*) FROM interaction_facts WHERE tenant_id = :t"),
                                {"t": TENANT}).scalar() or 0)


def load(app, *, rows: int, agents: int, days: int) -> dict[str, float]:
    """The bulk tenant, facts ending today (UTC)."""
    from sqlalchemy import text

    from bench import bulk
    from extension.analytics import demo as analytics_demo
    from extension.platform.models.people import Person

    db = app.extensions["coachwire.db"]
    with db.engine.begin() as conn:  # a partial earlier load
        for table_name in ("kpi_rollups_agent_daily", "kpi_rollups_daily", "interaction_facts", "people"):
            conn.execute(text(f"DELETE FROM {table_name} WHERE tenant_id = :t"), {"t": TENANT})
    if loaded_rows(app) == -1:
        create_tenant(app, TENANT)
    with db.session() as session:
        session.add_all(Person(tenant_id=TENANT, **p) for p in analytics_demo.people(agents))
    end = datetime.combine(_today() + timedelta(days=1), datetime.min.time(), UTC)
    return bulk.load(db.engine, rows=rows, agents=agents, days=days, end=end)


def fill(url: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        url = url.replace("{" + key + "}", value)
    return url


def ensure_admin(app) -> None:
    """An admin person in the bench tenant (for the settings page), added once if missing."""
    from extension.platform.models.people import Person

    with app.extensions["coachwire.db"].session() as session:
        if session.get(Person, (TENANT, ADMIN)) is None:
            session.add(Person(tenant_id=TENANT, id=ADMIN, name="Admin", role="admin"))


def values_for(app) -> dict[str, str]:
    """Real ids from the loaded tenant: a0001's newest conversation of the last 30 days and its
    most frequent inquiry of the last 90."""
    from sqlalchemy import text

    today = _today()
    ensure_admin(app)
    with app.extensions["coachwire.db"].engine.connect() as conn:
        conversation = conn.execute(text(
            "SELECT conversation_id FROM interaction_facts WHERE tenant_id = :t AND agent_id = 'a0001' "
            "AND local_day >= :d ORDER BY ended_at DESC LIMIT 1"),
            {"t": TENANT, "d": today - timedelta(days=29)}).scalar() or "none"
        inquiry = conn.execute(text(
            "SELECT inquiry FROM interaction_facts WHERE tenant_id = :t AND agent_id = 'a0001' "
            "AND local_day >= :d AND inquiry IS NOT NULL GROUP BY inquiry ORDER BY count(*) DESC, inquiry "
            "LIMIT 1"), {"t": TENANT, "d": today - timedelta(days=89)}).scalar() or "billing"
    return {"t": TENANT, "agent": "a0001", "team": "t000", "inquiry": inquiry, "conversation": conversation,
            "to": today.isoformat(), "from30": (today - timedelta(days=29)).isoformat(),
            "from90": (today - timedelta(days=89)).isoformat()}


def headers_for(app, client, person_id: str, url: str) -> dict[str, str]:
    """A panel session cookie on ``client`` (as tests.factories.panel_session) for a page; a
    bearer token for an API URL."""
    from extension.platform import csrf
    from extension.platform.auth import tokens
    from extension.platform.models.people import Person
    from extension.platform.models.sessions import PanelSession
    from extension.platform.sso import digest, new_secret

    db = app.extensions["coachwire.db"]
    if url.startswith("/api/"):
        with db.session() as session:
            role = session.get(Person, (TENANT, person_id)).role
        return {"Authorization": "Bearer " + tokens.issue(app.config["SECRET_KEY"], tenant_id=TENANT,
                                                           person_id=person_id, role=role)}
    secret, now = new_secret(), datetime.now(UTC)
    with db.session() as session:
        session.add(PanelSession(id_hash=digest(secret), tenant_id=TENANT, person_id=person_id,
                                 created_at=now, last_seen_at=now, expires_at=now + timedelta(hours=8),
                                 host_token_enc=app.extensions["coachwire.box"].seal("bench-token"),
                                 host_checked_at=now))
    client.set_cookie(csrf.COOKIE, secret, secure=True, httponly=True, samesite="None")
    return {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}


def request_ms(client, url: str, headers: dict[str, str]) -> tuple[int, float]:
    """Server time of one request: the whole WSGI call (routing, session, queries, template)."""
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    response.get_data()
    return response.status_code, (time.perf_counter() - started) * 1000


def precompute(app) -> float:
    """The worker's peer-snapshot job for the bench tenant (as extension.analytics.snapshots
    runs it every minute); returns its duration in seconds."""
    from extension.analytics import snapshots

    started = time.perf_counter()
    with app.extensions["coachwire.db"].session() as session:
        counts = snapshots.refresh_tenant(session, TENANT, tz="UTC",
                                          staleness=app.config["SETTINGS"].peer_snapshot_seconds)
    seconds = time.perf_counter() - started
    log(f"peer snapshots: {counts} in {seconds:.1f} s")
    return seconds


def first_in_fresh_process(database_url: str, redis_url: str, person: str, url: str) -> dict:
    """One request in a new Python process (app created, nothing cached, no connection yet)."""
    command = [sys.executable, "-m", "bench.pages", "--child", database_url, redis_url, person, url]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(database_url: str, redis_url: str, person: str, url: str) -> None:
    app = make_app(database_url, redis_url)
    client = app.test_client()
    headers = headers_for(app, client, person, url)
    status, ms = request_ms(client, url, headers)
    app.extensions["coachwire.queue"].shutdown()
    app.extensions["coachwire.db"].dispose()
    print(json.dumps({"status": status, "ms": ms}))


def measure(app, database_url: str, redis_url: str, targets: list[tuple[str, str]], *,
            repeat: int) -> list[dict]:
    values = values_for(app)
    client = app.test_client()
    results = []
    for person, template in targets:
        url = fill(template, values)
        precompute(app)  # as the worker's minute job keeps them: confirmed, not rebuilt
        first = first_in_fresh_process(database_url, redis_url, person, url)
        headers = headers_for(app, client, person, url)
        times, statuses = [], set()
        for _ in range(repeat):
            status, ms = request_ms(client, url, headers)
            statuses.add(status)
            times.append(ms)
        results.append({"person": person, "url": url, "template": template, "first": first,
                        "statuses": sorted(statuses), "times": times})
        log(f"{url}: {sorted(statuses)} first {first['ms']:.0f} ms, p95 {percentile(times, 95):.1f} ms")
    return results


def healthz(app, *, repeat: int) -> list[float]:
    client = app.test_client()
    request_ms(client, "/healthz", {})
    return [request_ms(client, "/healthz", {})[1] for _ in range(repeat)]


def report(results: list[dict], base: list[float]) -> tuple[list[tuple], str]:
    base95 = percentile(base, 95)
    rows = [("/healthz (baseline)", "-", "200", "-", f"{percentile(base, 50):.1f}", f"{base95:.1f}",
             f"{max(base):.1f}", "1.0", str(len(base)))]
    for r in results:
        t = r["times"]
        status = "/".join(str(x) for x in r["statuses"])
        if r["statuses"] == [404]:
            status += " (no page yet)"
        p95 = percentile(t, 95)
        rows.append((r["template"], r["person"], status, f"{r['first']['ms']:.0f}",
                     f"{percentile(t, 50):.1f}", f"{p95:.1f}", f"{max(t):.1f}", f"{p95 / base95:.0f}",
                     str(len(t))))
    headers = ("URL", "as", "status", "first, fresh process (ms)", "p50 (ms)", "p95 (ms)", "max (ms)",
               "p95 / healthz p95", "n")
    return rows, table(rows, headers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", metavar="NAME", help="keep (and reuse) database coachwire_bench_NAME")
    parser.add_argument("--url", action="append", metavar="[PERSON=]URL",
                        help="a URL to measure (repeatable; default: the pages, then the API baseline)")
    parser.add_argument("--no-api", action="store_true", help="skip the API baseline")
    parser.add_argument("--results", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--summary-json", help="write the summary for bench.run_all here")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    targets = [tuple(u.split("=", 1)) if "=" in u.split("?")[0] else ("s000", u) for u in args.url or []]
    if not targets:
        targets = PAGES + ([] if args.no_api else API_BASELINE)
    database = kept_database(args.keep) if args.keep else bench_database()
    with database as url, bench_redis() as redis_url:
        app = make_app(url, redis_url)
        rows = loaded_rows(app)
        if rows != args.rows:
            log(f"loading {args.rows:,} facts ({rows:,} there)")
            load(app, rows=args.rows, agents=args.agents, days=args.days)
        job_seconds = precompute(app)
        base = healthz(app, repeat=max(args.repeat, 30))
        results = measure(app, url, redis_url, targets, repeat=args.repeat)
        staleness = app.config["SETTINGS"].peer_snapshot_seconds
        app.extensions["coachwire.queue"].shutdown()
        app.extensions["coachwire.db"].dispose()
    _rows, text_table = report(results, base)
    head = (f"page speed: {args.rows:,} interactions, {args.agents:,} agents, {args.days} days, "
            f"{args.repeat} requests a URL after the first in a fresh process; peer-snapshot job "
            f"{job_seconds:.1f} s (staleness bound {staleness} s)")
    print(f"\n{head}\n\n{text_table}")
    if args.results:
        write_results(head, text_table)
    if args.summary_json:
        found = [r for r in results if r["statuses"] == [200]]
        with open(args.summary_json, "w") as handle:
            json.dump({"rows": args.rows, "urls": len(found),
                       "worst_p95_ms": max((percentile(r["times"], 95) for r in found), default=0.0),
                       "worst_first_ms": max((r["first"]["ms"] for r in found), default=0.0)}, handle)


def write_results(head: str, text_table: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    section = (f"\n## Page speed on the 10M-interaction tenant (`bench/pages.py`, {_today().isoformat()})\n\n"
               f"Machine: {os.cpu_count()} cores, PostgreSQL and the app on the same host (other "
               f"work running alongside). Server time = the whole WSGI call through the Flask app "
               f"(test client, no socket) with a panel session cookie and `Sec-Fetch-Dest: iframe` (API "
               f"URLs: a bearer "
               f"token). \"first\" is the first request of a new process after the worker's snapshot "
               f"job ran.\n\n{head}\n\n{text_table}\n")
    with path.open("a") as handle:
        handle.write(section)


if __name__ == "__main__":
    main()
