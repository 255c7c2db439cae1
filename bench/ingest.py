"""Ingest bench: events/s and latency of POST /webhooks/<tenant>, against a bare Flask app.

Both servers run the Procfile's web command (gunicorn, its worker class and counts) on a random
loopback port, one after the other, in the same run, driven by wrk over pre-signed requests.

    python -m bench.ingest [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import loadgen
from bench.common import (
    Server,
    bench_database,
    bench_env,
    bench_redis,
    create_tenant,
    dumps,
    event_stream,
    gunicorn,
    inbox_counts,
    log,
    make_app,
    server_shape,
    table,
)
from bench.loadgen import LoadResult

BATCH_SIZE = 500


@dataclass
class Case:
    name: str
    result: LoadResult
    events_per_request: int = 1
    rows: int | None = None  # new inbox rows after the run
    accepted: int | None = None  # events in 202 answers the client saw

    @property
    def events_per_second(self) -> float:
        return self.result.rate * self.events_per_request

    @property
    def cpu_ms_per_event(self) -> float:
        return self.result.cpu_ms_per_request / self.events_per_request

    @property
    def lost(self) -> int | None:
        if self.rows is None:
            return None
        return max(0, (self.accepted or 0) - self.rows)


@dataclass
class Options:
    seconds: float
    warmup: float
    connections: int
    threads: int
    batch_connections: int
    workdir: Path


# ------------------------------------------------------------------ one measured run


def _single_bodies(count: int = 3000) -> list[bytes]:
    return [dumps(message) for message in event_stream(11, count)]


def _batch_bodies(count: int = 6) -> list[bytes]:
    messages = list(event_stream(12, BATCH_SIZE * count))
    return [dumps({"events": messages[i:i + BATCH_SIZE]})
            for i in range(0, len(messages), BATCH_SIZE)]


def drive(server: Server, *, tenant: str, secret: str, bodies: list[bytes], pool_size: int,
          opts: Options, connections: int, threads: int, label: str,
          before_run=lambda: None) -> LoadResult:
    """Warm up, call before_run(), then one measured run; every request has its own webhook-id.

    Also records the server's CPU seconds during the run: a figure much less disturbed than
    the rate by whatever else runs on the machine.
    """
    base, path = server.url, f"/webhooks/{tenant}"
    if loadgen.wrk_path() is None:
        warm = list(loadgen.signed_requests(secret, bodies, 500, prefix=f"{label}-warm"))
        loadgen.closed_loop(base + path, warm, seconds=opts.warmup, connections=connections)
        pool = list(loadgen.signed_requests(secret, bodies, pool_size, prefix=label))
        time.sleep(1.0)
        before_run()
        cpu = server.cpu_seconds()
        result = loadgen.closed_loop(base + path, pool, seconds=opts.seconds,
                                     connections=connections)
        result.server_cpu = server.cpu_seconds() - cpu
        return result
    warm_file, pool_file = opts.workdir / f"{label}-warm.pool", opts.workdir / f"{label}.pool"
    loadgen.write_pool(warm_file, path, loadgen.signed_requests(
        secret, bodies, max(200, pool_size // 20), prefix=f"{label}-warm"))
    loadgen.run_wrk(base + path, warm_file, seconds=opts.warmup, connections=connections,
                    threads=threads)
    warm_file.unlink(missing_ok=True)
    started = time.monotonic()
    loadgen.write_pool(pool_file, path, loadgen.signed_requests(
        secret, bodies, pool_size, prefix=label))
    log(f"{label}: {pool_size} signed requests written in {time.monotonic() - started:.1f}s")
    before_run()
    cpu = server.cpu_seconds()
    try:
        result = loadgen.run_wrk(base + path, pool_file, seconds=opts.seconds,
                                 connections=connections, threads=threads)
        result.server_cpu = server.cpu_seconds() - cpu
        return result
    finally:
        pool_file.unlink(missing_ok=True)


class Baseline:
    """Inbox rows of one tenant just before the measured run (warm-up rows excluded)."""

    def __init__(self, database_url: str, tenant: str) -> None:
        self.database_url, self.tenant, self.rows = database_url, tenant, 0

    def __call__(self) -> None:
        self.rows = self.settled()

    def settled(self, *, timeout: float = 15.0) -> int:
        """The row count once requests in flight when a client stopped have committed."""
        deadline, last = time.monotonic() + timeout, -1
        while True:
            rows = sum(inbox_counts(self.database_url, self.tenant).values())
            if rows == last or time.monotonic() > deadline:
                return rows
            last = rows
            time.sleep(0.75)

    def check(self, case: Case) -> Case:
        """Every event the client saw accepted (202) must be a row: nothing lost."""
        case.rows = self.settled() - self.rows
        case.accepted = case.result.count(202) * case.events_per_request
        return case


# ------------------------------------------------------------------ the cases


BARE_FLASK, BARE_WSGI = "bare Flask (204)", "bare WSGI (204), no Flask"
# name -> (app, label): the issue's Flask baseline, and the same endpoint without Flask (the
# floor under Coachwire's receiver, which answers in front of Flask).
BARE_APPS = {BARE_FLASK: ("bench.bare_app:app", "bare"),
             BARE_WSGI: ("bench.bare_app:wsgi_app", "bare-wsgi")}


def bare_case(opts: Options, name: str) -> Case:
    app_spec, label = BARE_APPS[name]
    with gunicorn(app_spec, env=bench_env("", ""), ready_path="/healthz") as server:
        result = drive(server, tenant="bare", secret="whsec_" + "QUJD" * 8, bodies=_single_bodies(),
                       pool_size=3000, opts=opts, connections=opts.connections,
                       threads=opts.threads, label=label)
    return Case(name, result)


def coachwire_cases(opts: Options, *, app, database_url: str, redis_url: str,
                    bare_rate: float) -> list[Case]:
    """Group commit on: max rate, p99 at half that rate, and 500-event batches."""
    singles = _single_bodies()
    env = bench_env(database_url, redis_url, COACHWIRE_GROUP_COMMIT="1")
    with gunicorn("wsgi:app", env=env, ready_path="/readyz") as server:
        top = singles_case("Coachwire, group commit", server, app=app, database_url=database_url,
                           opts=opts, bodies=singles, bare_rate=bare_rate, tenant="bench-gc")
        half = half_rate_case(server, app=app, database_url=database_url, opts=opts,
                              bodies=singles, rate=top.result.rate / 2)
        batch = batch_case(server, app=app, database_url=database_url, opts=opts)
    return [top, half, batch]


def singles_case(name: str, server: Server, *, app, database_url: str, opts: Options,
                 bodies: list[bytes], bare_rate: float, tenant: str) -> Case:
    secret = create_tenant(app, tenant)
    baseline = Baseline(database_url, tenant)
    # Coachwire cannot beat the bare app: this many distinct webhook-ids is enough.
    pool_size = max(5000, int(bare_rate * opts.seconds * 1.15))
    result = drive(server, tenant=tenant, secret=secret, bodies=bodies, pool_size=pool_size,
                   opts=opts, connections=opts.connections, threads=opts.threads, label=tenant,
                   before_run=baseline)
    return baseline.check(Case(name, result))


def half_rate_case(server: Server, *, app, database_url: str, opts: Options, bodies: list[bytes],
                   rate: float) -> Case:
    secret = create_tenant(app, "bench-half")
    count = int(rate * opts.seconds)
    requests = list(loadgen.signed_requests(secret, bodies, count, prefix="half"))
    baseline = Baseline(database_url, "bench-half")
    cpu = server.cpu_seconds()
    result = loadgen.paced(server.url + "/webhooks/bench-half", requests, rate=rate)
    result.server_cpu = server.cpu_seconds() - cpu
    return baseline.check(Case(f"Coachwire at half max ({rate:,.0f}/s target)", result))


def batch_case(server: Server, *, app, database_url: str, opts: Options) -> Case:
    secret = create_tenant(app, "bench-batch")
    baseline = Baseline(database_url, "bench-batch")
    pool_size = max(150, int(100 * opts.seconds))  # room for 50,000 events/s
    result = drive(server, tenant="bench-batch", secret=secret, bodies=_batch_bodies(),
                   pool_size=pool_size, opts=opts, connections=opts.batch_connections,
                   threads=1, label="batch", before_run=baseline)
    return baseline.check(Case(f"Coachwire, batches of {BATCH_SIZE}", result,
                               events_per_request=BATCH_SIZE))


def naive_case(opts: Options, *, app, database_url: str, redis_url: str,
               bare_rate: float) -> Case:
    env = bench_env(database_url, redis_url, COACHWIRE_GROUP_COMMIT="0")
    with gunicorn("wsgi:app", env=env, ready_path="/readyz") as server:
        return singles_case("Coachwire, commit per request", server, app=app,
                            database_url=database_url, opts=opts, bodies=_single_bodies(),
                            bare_rate=bare_rate, tenant="bench-naive")


# ------------------------------------------------------------------ report


def run(opts: Options) -> list[Case]:
    if loadgen.ensure_wrk() is None:
        log("wrk is not installed and apt-get is unavailable: falling back to a Python client; "
            "its figures are lower bounds (the client shares the two cores with the server)")
    cases = [bare_case(opts, BARE_FLASK), bare_case(opts, BARE_WSGI)]
    bare_rate = max(case.result.rate for case in cases)
    log(f"bare: {cases[0].result.rate:.0f} req/s (Flask), {cases[1].result.rate:.0f} req/s (WSGI)")
    with bench_database() as database_url, bench_redis() as redis_url:
        app = make_app(database_url, redis_url)
        try:
            cases += coachwire_cases(opts, app=app, database_url=database_url,
                                     redis_url=redis_url, bare_rate=bare_rate)
            cases.append(naive_case(opts, app=app, database_url=database_url,
                                    redis_url=redis_url, bare_rate=bare_rate))
        finally:
            app.extensions["coachwire.db"].dispose()
    return cases


def report(cases: list[Case]) -> str:
    bare = cases[0].events_per_second
    rows = []
    for case in cases:
        r = case.result
        ratio = f"{case.events_per_second / bare:.2f}x" if case.events_per_request == 1 else "-"
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(r.statuses.items()))
        check = "-" if case.rows is None else (
            f"{case.rows} rows / {case.accepted} accepted, lost {case.lost}")
        rows.append((case.name, f"{r.rate:,.0f}", f"{case.events_per_second:,.0f}",
                     f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", ratio,
                     f"{case.cpu_ms_per_event:.2f}", statuses, check))
    out = table(rows, ("case", "req/s", "events/s", "p50 ms", "p99 ms", "vs bare",
                       "server CPU ms/event", "statuses", "inbox check"))
    by_name = {case.name: case for case in cases}
    wsgi, top = by_name.get(BARE_WSGI), by_name.get("Coachwire, group commit")
    notes = [f"- server shape (all): gunicorn {server_shape()}"]
    if wsgi and top:
        notes.append(f"- Coachwire's receiver answers in front of Flask: against the bare WSGI "
                     f"endpoint (no framework saving in the ratio) it measures "
                     f"{top.events_per_second / wsgi.events_per_second:.2f}x")
    notes += [f"- {c.name}: {c.result.method}" for c in cases]
    notes += [f"- {c.name}: {c.result.wrapped} requests reused a webhook-id (pool too small)"
              for c in cases if c.result.wrapped and c.name not in BARE_APPS]
    half = next((c for c in cases if c.result.method.startswith("paced")), None)
    if half:
        notes.append(f"- half-rate run achieved {half.result.rate:,.0f} req/s; latency counted "
                     f"from each request's due time; from actual send: "
                     f"p50 {half.result.errors['service_p50_ms']} ms, "
                     f"p99 {half.result.errors['service_p99_ms']} ms")
    return out + "\n" + "\n".join(notes)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--batch-connections", type=int, default=4)
    parser.add_argument("--summary-json", help="also write the key figures here (run_all)")
    return parser.parse_args(argv)


def summary(cases: list[Case]) -> dict:
    bare, wsgi, gc, half, batch, naive = cases
    return {
        "bare_wsgi": {"events_s": wsgi.events_per_second, "cpu_ms": wsgi.cpu_ms_per_event,
                      "p50_ms": wsgi.result.p50_ms, "p99_ms": wsgi.result.p99_ms},
        "bare": {"events_s": bare.events_per_second, "cpu_ms": bare.cpu_ms_per_event,
                 "p50_ms": bare.result.p50_ms,
                 "p99_ms": bare.result.p99_ms},
        "coachwire": {"events_s": gc.events_per_second, "cpu_ms": gc.cpu_ms_per_event,
                      "p50_ms": gc.result.p50_ms,
                      "p99_ms": gc.result.p99_ms, "ratio": gc.events_per_second / bare.result.rate,
                      "lost": gc.lost},
        "naive": {"events_s": naive.events_per_second, "cpu_ms": naive.cpu_ms_per_event,
                  "p50_ms": naive.result.p50_ms,
                  "p99_ms": naive.result.p99_ms,
                  "ratio": naive.events_per_second / bare.result.rate, "lost": naive.lost},
        "half": {"target_s": gc.result.rate / 2, "achieved_s": half.result.rate,
                 "p50_ms": half.result.p50_ms, "p99_ms": half.result.p99_ms, "lost": half.lost},
        "batch": {"events_s": batch.events_per_second, "cpu_ms": batch.cpu_ms_per_event,
                  "p50_ms": batch.result.p50_ms,
                  "p99_ms": batch.result.p99_ms, "lost": batch.lost},
        "method": cases[1].result.method,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="coachwire-bench-") as workdir:
        opts = Options(seconds=args.seconds, warmup=args.warmup, connections=args.connections,
                       threads=args.threads, batch_connections=args.batch_connections,
                       workdir=Path(workdir))
        cases = run(opts)
    print(report(cases))
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary(cases)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
