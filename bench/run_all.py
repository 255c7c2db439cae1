"""`make bench`: every bench in turn, each in its own process with a time limit, then a summary.

Each bench prints its own detailed table; the summary at the end is the one for the README.
A bench that overruns is killed (its process group), its database dropped and Redis db 14
flushed, and the summary says so. The whole run stays under TOTAL_SECONDS.

    python -m bench.run_all [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, bench_redis, drop_databases, log, table

TOTAL_SECONDS = 580
# (name, module, arguments, time limit in seconds)
BENCHES = [
    ("ingest", "bench.ingest", ["--seconds", "10"], 200),
    ("worker", "bench.worker", ["--events", "50000", "--rq-jobs", "2000", "--budget", "80"],
     270),
    ("latency", "bench.latency", [], 100),
    # page speed (perf part): a small tenant here; the 10M figures: bench/pages.py --rows 10000000
    ("pages", "bench.pages", ["--rows", "200000", "--agents", "500", "--repeat", "10"], 150),
]
QUICK = {"ingest": ["--seconds", "4", "--warmup", "1"],
         "worker": ["--events", "5000", "--rq-jobs", "300", "--budget", "20",
                    "--rq-budget", "10"],
         "latency": ["--conversations", "1"],
         "pages": ["--rows", "20000", "--agents", "100", "--repeat", "3"]}


def run_one(module: str, args: list[str], *, limit: float, workdir: Path) -> tuple[dict, str]:
    summary, names = workdir / f"{module}.json", workdir / f"{module}.dbs"
    env = {**os.environ, "BENCH_DB_LOG": str(names), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", module, *args, "--summary-json", str(summary)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        _clean_up(names)
        return {}, f"killed after {limit:.0f}s"
    if proc.returncode != 0 or not summary.exists():
        _clean_up(names)
        return {}, f"failed (exit {proc.returncode})"
    return json.loads(summary.read_text()), "ok"


def _clean_up(names: Path) -> None:
    if names.exists():
        drop_databases(names.read_text().split())
    with bench_redis():
        pass


def summary_rows(results: dict[str, tuple[dict, str]]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    ingest, status = results.get("ingest", ({}, "not run"))
    if ingest:
        bare, cw, naive, half, batch = (ingest[k] for k in
                                        ("bare", "coachwire", "naive", "half", "batch"))
        rows += [
            ("ingest: bare Flask (204)", f"{bare['events_s']:,.0f} events/s, "
             f"p50 {bare['p50_ms']:.1f} ms, p99 {bare['p99_ms']:.1f} ms, "
             f"{bare['cpu_ms']:.2f} CPU ms/event", "ceiling"),
            ("ingest: bare WSGI (204), no Flask", f"{ingest['bare_wsgi']['events_s']:,.0f} "
             f"events/s, {ingest['bare_wsgi']['cpu_ms']:.2f} CPU ms/event; Coachwire "
             f"{cw['events_s'] / ingest['bare_wsgi']['events_s']:.2f}x of it", "reference"),
            ("ingest: Coachwire, group commit", f"{cw['events_s']:,.0f} events/s "
             f"({cw['ratio']:.2f}x bare), p50 {cw['p50_ms']:.1f} ms, p99 {cw['p99_ms']:.1f} ms, "
             f"{cw['cpu_ms']:.2f} CPU ms/event, lost {cw['lost']}", ">= 0.4x"),
            ("ingest: Coachwire, commit per request", f"{naive['events_s']:,.0f} events/s "
             f"({naive['ratio']:.2f}x bare), p99 {naive['p99_ms']:.1f} ms, "
             f"{naive['cpu_ms']:.2f} CPU ms/event, lost {naive['lost']}", "~0.15x"),
            ("ingest: p99 at half max rate", f"p99 {half['p99_ms']:.1f} ms, p50 "
             f"{half['p50_ms']:.1f} ms at {half['achieved_s']:,.0f}/s "
             f"(target {half['target_s']:,.0f}/s, paced client)", "-"),
            ("ingest: batches of 500", f"{batch['events_s']:,.0f} events/s, p99 "
             f"{batch['p99_ms']:.0f} ms per request, {batch['cpu_ms']:.3f} CPU ms/event, "
             f"lost {batch['lost']}", ">= 6,000"),
        ]
    else:
        rows.append(("ingest", status, "-"))
    worker, status = results.get("worker", ({}, "not run"))
    if worker:
        for d in worker["drains"]:
            rows.append((f"worker: drain_inbox, 1 process, {d['model']}",
                         f"{d['events_s']:,.0f} events/s over {d['events']:,} events, "
                         f"all done: {d['all_done']}", ">= 1,000"))
            if d.get("error"):
                rows.append(("worker: drain_inbox error", d["error"][:120], "-"))
        rows.append(("worker: one RQ job per event", f"{worker['rq_events_s']:,.0f} events/s "
                     f"over {worker['rq_jobs']:,} jobs (no-op jobs: "
                     f"{worker['noop_jobs_s']:,.0f}/s); drain is {worker['ratio']:.1f}x", "-"))
    else:
        rows.append(("worker", status, "-"))
    latency, status = results.get("latency", ({}, "not run"))
    rows.append(("event to booked appointment", latency.get("text", status), "-"))
    pages, status = results.get("pages", ({}, "not run"))
    if pages:
        rows.append((f"pages: server time, {pages['rows']:,} interactions",
                     f"worst p95 {pages['worst_p95_ms']:.0f} ms, worst first request in a fresh "
                     f"process {pages['worst_first_ms']:.0f} ms over {pages['urls']} URLs", "< 150 ms"))
    else:
        rows.append(("pages", status, "-"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all")
    parser.add_argument("--quick", action="store_true", help="short runs, to check the benches")
    parser.add_argument("--only", choices=[name for name, *_ in BENCHES], action="append")
    args = parser.parse_args(argv)
    started, results = time.monotonic(), {}
    with tempfile.TemporaryDirectory(prefix="coachwire-bench-") as workdir:
        for name, module, bench_args, limit in BENCHES:
            if args.only and name not in args.only:
                continue
            left = TOTAL_SECONDS - (time.monotonic() - started)
            if left < 30:
                results[name] = ({}, "skipped: out of time")
                continue
            log(f"== {name} (limit {min(limit, left):.0f}s)")
            results[name] = run_one(module, QUICK[name] if args.quick else bench_args,
                                    limit=min(limit, left), workdir=Path(workdir))
    print(f"\nSummary ({time.monotonic() - started:.0f}s; 2-core machine, PostgreSQL and the "
          "load generator on the same cores):")
    print(table(summary_rows(results), ("measure", "result", "target")))
    return 0 if all(status == "ok" for _, status in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
