"""Worker bench: drain_inbox throughput in one process, against one RQ job per event.

The inbox is filled with realistic received rows (conversation.ended, sentiment and transcript
for each conversation, ~10% of them meeting the default flag rule, ~10% the recognize rule), built
by the receiver's own parse -> normalize -> event_row path and bulk-inserted. Then drain_inbox runs
inside app.app_context(), exactly as the RQ job would, and every row must end `done`.

No outbound calls: processing only evaluates policies and records flags, recognitions and
`pending` appointment rows; host calls belong to effect jobs, and the bench tenant's host is a
closed loopback port in any case.

    python -m bench.worker [--events 50000] [--rq-jobs 2000] [--budget 240]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    bench_database,
    bench_redis,
    create_tenant,
    dumps,
    event_stream,
    inbox_counts,
    log,
    make_app,
    table,
)

RQ_QUEUE = "bench"


@dataclass
class DrainResult:
    events: int
    seconds: float
    statuses: dict[str, int]
    error: str | None = None
    effects: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


# ------------------------------------------------------------------ filling the inbox


def fill(app, tenant_id: str, count: int, *, seed: int) -> int:
    """count received rows, normalized like the receiver does, inserted 1,000 per statement."""
    from sqlalchemy.dialects.postgresql import insert

    from extension.platform.models.inbox import InboxEvent
    from handlers import normalize, parse
    from handlers.inbox import event_row

    rows = []
    for i, message in enumerate(event_stream(seed, count)):
        events = normalize.normalize_all(parse.parse_body(dumps(message)),
                                         webhook_id=f"fill-{seed}-{i}")
        rows.extend(event_row(tenant_id, event) for event in events)
    stmt = insert(InboxEvent.__table__).on_conflict_do_nothing()
    with app.extensions["coachwire.db"].engine.begin() as conn:
        for start in range(0, len(rows), 1000):
            conn.execute(stmt, rows[start:start + 1000])
    return len(rows)


def effect_counts(app, tenant_id: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from extension.coaching.models import Appointment, Flag, Recognition

    counts = {}
    with app.extensions["coachwire.db"].session() as session:
        for name, model in (("flags", Flag), ("recognitions", Recognition),
                            ("appointments", Appointment)):
            counts[name] = session.scalar(select(func.count()).select_from(model)
                                          .where(model.tenant_id == tenant_id)) or 0
    return counts


# ------------------------------------------------------------------ drain_inbox


def drain(app, database_url: str, tenant_id: str) -> DrainResult:
    """Time handlers.jobs.drain_inbox(tenant) in this process, inside the app context."""
    from handlers.jobs import drain_inbox

    events = sum(inbox_counts(database_url, tenant_id).values())
    error = None
    with app.app_context():
        started = time.perf_counter()
        try:
            drain_inbox(tenant_id)
        except Exception as exc:  # reported, not hidden: e.g. the lead's effects not done yet
            error = f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
    return DrainResult(events, seconds, inbox_counts(database_url, tenant_id), error,
                       effect_counts(app, tenant_id))


def warm_up(app) -> None:
    """Load the sentiment model once, as a long-running worker process already has."""
    from extension.text import scoring as text

    with app.app_context():
        text.party_scores([{"party": "agent", "text": "warm up"}])


def sentiment_model_name(app) -> str:
    from extension.text import scoring as text

    with app.app_context():
        return type(text._model()).__name__


# ------------------------------------------------------------------ one RQ job per event


def one_event(tenant_id: str) -> int:
    """The per-event job design drain_inbox replaced: claim and process one row."""
    from extension.platform.db import get_db
    from handlers.jobs import process_batch

    with get_db().session() as session:
        return process_batch(session, tenant_id=tenant_id, limit=1)


def noop() -> None:
    """Pure RQ overhead: enqueue, fetch, perform, store the result."""


def rq_burst(app, redis_url: str, func_path: str, args: tuple, jobs: int) -> float:
    """Enqueue `jobs` jobs, then time an rq SimpleWorker in burst mode until the queue is empty.

    Same shape as extension/platform/worker.py's AppWorker (JSON serializer, app context per job), with
    logging at WARNING so the per-job INFO lines are not counted against RQ.
    """
    from redis import Redis
    from rq import Queue, SimpleWorker
    from rq.serializers import JSONSerializer

    redis = Redis.from_url(redis_url)
    queue = Queue(RQ_QUEUE, connection=redis, serializer=JSONSerializer)
    with redis.pipeline() as pipe:
        for _ in range(jobs):
            queue.enqueue_call(func=func_path, args=args, result_ttl=600, pipeline=pipe)
        pipe.execute()

    class AppWorker(SimpleWorker):
        def perform_job(self, job, queue):
            with app.app_context():
                return super().perform_job(job, queue)

    worker = AppWorker([queue], connection=redis, serializer=JSONSerializer)
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING", with_scheduler=False, max_jobs=jobs)
    seconds = time.perf_counter() - started
    queue.empty()
    redis.close()
    return seconds


# ------------------------------------------------------------------ run and report


@dataclass
class Options:
    events: int
    rq_jobs: int
    budget: float  # seconds for the main drain; the event count shrinks to fit
    rq_budget: float = 40.0
    models: tuple[str, ...] = ("auto", "vader")
    calibration: int = 600


def run(opts: Options) -> dict:
    with bench_database() as database_url, bench_redis() as redis_url:
        result: dict = {"models": []}
        for index, choice in enumerate(dict.fromkeys(opts.models)):
            app = make_app(database_url, redis_url, sentiment_model=choice)
            try:
                name = sentiment_model_name(app)
                if any(m["model"] == name for m in result["models"]):
                    continue  # "auto" resolved to VADER: the ML extra is not installed
                budget = opts.budget if index == 0 else opts.budget / 3
                result["models"].append(measure_drain(app, database_url, choice=choice,
                                                      name=name, opts=opts, budget=budget))
                if index == 0:
                    result.update(rq_baseline(app, database_url, redis_url, opts))
            finally:
                app.extensions["coachwire.db"].dispose()
        return result


def measure_drain(app, database_url: str, *, choice: str, name: str, opts: Options,
                  budget: float) -> dict:
    log(f"sentiment {choice} -> {name}: loading the model")
    warm_up(app)
    create_tenant(app, f"cal-{choice}")
    fill(app, f"cal-{choice}", opts.calibration, seed=1)
    calibration = drain(app, database_url, f"cal-{choice}")
    # 0.5: the rate falls as the tables grow (see README), so the calibration flatters it.
    events = min(opts.events, max(opts.calibration, int(calibration.rate * budget * 0.5)))
    if events < opts.events:
        log(f"calibration drained {calibration.rate:.0f} events/s: using {events} events "
            f"instead of {opts.events} to stay inside {budget:.0f}s")
    tenant = f"drain-{choice}"
    create_tenant(app, tenant)
    started = time.perf_counter()
    filled = fill(app, tenant, events, seed=2)
    log(f"filled {filled} rows in {time.perf_counter() - started:.1f}s; draining")
    main = drain(app, database_url, tenant)
    log(f"drain_inbox ({name}): {main.events} events in {main.seconds:.1f}s")
    return {"choice": choice, "model": name, "drain": main, "calibration": calibration}


def rq_baseline(app, database_url: str, redis_url: str, opts: Options) -> dict:
    """One RQ job per event, sized (after 50 calibration jobs) to fit opts.rq_budget."""
    create_tenant(app, "bench-rq")
    fill(app, "bench-rq", opts.rq_jobs + 50, seed=3)
    probe = rq_burst(app, redis_url, "bench.worker.one_event", ("bench-rq",), 50)
    jobs = min(opts.rq_jobs, max(100, int(50 / probe * opts.rq_budget)))
    rq_seconds = rq_burst(app, redis_url, "bench.worker.one_event", ("bench-rq",), jobs)
    statuses = inbox_counts(database_url, "bench-rq")
    noop_seconds = rq_burst(app, redis_url, "bench.worker.noop", (), opts.rq_jobs)
    return {"rq_jobs": jobs, "rq_seconds": rq_seconds, "rq_done": statuses.get("done", 0) - 50,
            "noop_jobs": opts.rq_jobs, "noop_seconds": noop_seconds}


def report(result: dict) -> str:
    first = result["models"][0]["drain"]
    rq_rate = result["rq_jobs"] / result["rq_seconds"]
    noop_rate = result["noop_jobs"] / result["noop_seconds"]
    rows = []
    for m in result["models"]:
        d = m["drain"]
        rows.append((f"drain_inbox, batches of 500 ({m['model']})", f"{d.events:,}",
                     f"{d.seconds:.1f}", f"{d.rate:,.0f}", _statuses(d.statuses)))
    rows.append((f"RQ job per event ({result['models'][0]['model']})",
                 f"{result['rq_jobs']:,}", f"{result['rq_seconds']:.1f}", f"{rq_rate:,.0f}",
                 f"done:{result['rq_done']}"))
    rows.append(("RQ no-op job (pure RQ overhead)", f"{result['noop_jobs']:,}",
                 f"{result['noop_seconds']:.1f}", f"{noop_rate:,.0f}", "-"))
    out = table(rows, ("worker (1 process)", "events", "seconds", "events/s", "inbox after"))
    notes = [f"- drain_inbox vs one RQ job per event (same model): {first.rate / rq_rate:.1f}x"]
    for m in result["models"]:
        d, done = m["drain"], m["drain"].statuses.get("done", 0)
        notes.append(f"- {m['model']}: all rows done: {'yes' if done == d.events else 'NO'} "
                     f"({done:,} of {d.events:,}); effects {d.effects}; calibration "
                     f"{m['calibration'].rate:,.0f} events/s")
        for res in (m["calibration"], d):
            if res.error:
                notes.append(f"- {m['model']}: drain_inbox raised: {res.error}")
    return out + "\n" + "\n".join(notes)


def _statuses(statuses: dict[str, int]) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(statuses.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rq-jobs", type=int, default=2_000)
    parser.add_argument("--budget", type=float, default=100.0,
                        help="seconds the main drain may take (the event count shrinks to fit)")
    parser.add_argument("--rq-budget", type=float, default=40.0)
    parser.add_argument("--sentiment", default="auto,vader",
                        help="COACHWIRE_SENTIMENT values to measure, first is the main one")
    parser.add_argument("--summary-json", help="also write the key figures here (run_all)")
    args = parser.parse_args(argv)
    result = run(Options(events=args.events, rq_jobs=args.rq_jobs, budget=args.budget,
                         rq_budget=args.rq_budget, models=tuple(args.sentiment.split(","))))
    print(report(result))
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary(result)))
    return 0


def summary(result: dict) -> dict:
    rq_rate = result["rq_jobs"] / result["rq_seconds"]
    drains = [{"model": m["model"], "events": m["drain"].events, "events_s": m["drain"].rate,
               "all_done": m["drain"].statuses.get("done", 0) == m["drain"].events,
               "error": m["drain"].error} for m in result["models"]]
    return {"drains": drains, "rq_events_s": rq_rate, "rq_jobs": result["rq_jobs"],
            "noop_jobs_s": result["noop_jobs"] / result["noop_seconds"],
            "ratio": result["models"][0]["drain"].rate / rq_rate}


if __name__ == "__main__":
    sys.exit(main())
