"""The `worker` process (an RQ worker inside the app context) and the periodic jobs.

Periodic jobs are data (name, interval). Every process that can tick (the web process with the
embedded queue under `flask run`, gunicorn or `make run`; every `flask worker`) runs one
scheduler thread; each job has a lease row (``periodic_leases``) and a tick runs it only when
that process moves the row's ``due_at`` forward first (compare-and-set in the database), so each
job runs once per tick however many processes tick. The same thread writes this process's
heartbeat row, which /readyz reads.

The RQ worker rides out Redis and database outages: when RQ's work loop gives up (it quits on a
Redis timeout or any error outside a job), the loop here waits (capped exponential backoff) and
starts a fresh RQ worker; only a stop request (SIGTERM/SIGINT) ends it.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from extension.platform.logs import job_context
from extension.platform.queue import Dispatcher, RQDispatcher, get_dispatcher, job

log = logging.getLogger("coachwire.worker")

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}"
BACKOFF_CAP_SECONDS = 30.0
HEARTBEAT_KEEP = timedelta(hours=1)  # older heartbeat rows (dead processes) are deleted


def add_periodic(app, func, every: int) -> None:
    """Each capability registers its periodic jobs in its ``init_app`` (function, seconds). Only
    queue jobs (``@job``): the scheduler runs each on its own queue."""
    if not hasattr(func, "spec"):
        raise TypeError(f"periodic job {job_name(func)} is not a @job function")
    app.extensions.setdefault("coachwire.periodic", []).append((func, every))


def add_warm_up(app, func) -> None:
    """Work a worker does once before taking jobs (e.g. loading a model)."""
    app.extensions.setdefault("coachwire.warm_ups", []).append(func)


def periodic_jobs(app) -> list:
    """(function, seconds) as the capabilities registered them: the inbox and effect sweeps
    often; alert deliveries stuck past their lease with the sweeps; alert rules, control charts
    and first-contact settling hourly; the directory (people, groups, queues) every six hours."""
    return list(app.extensions.get("coachwire.periodic", ()))


def job_name(func) -> str:
    """Module-qualified, so two modules' ``sweep`` never share a lease or a job id."""
    return f"{func.__module__}.{func.__name__}"


def _now() -> datetime:
    return datetime.now(UTC)


def _process_id() -> str:
    # after a fork (gunicorn) the pid differs from the one at import
    return f"{socket.gethostname()}:{os.getpid()}"


# --- leases --------------------------------------------------------------------------------

def _next_due(now: datetime, every: int) -> datetime:
    """The start of the next slot of ``every`` seconds (slots aligned on the epoch)."""
    slot = int(now.timestamp()) // every + 1
    return datetime.fromtimestamp(slot * every, UTC)


def ensure_leases(db, jobs: list) -> None:
    """A lease row per registered job, due at once when new; an existing row keeps its due time
    (its interval follows the code)."""
    now = _now()
    with db.session() as session:
        known = {row.name: row for row in session.scalars(select(_lease_model()))}
        for func, every in jobs:
            row = known.get(job_name(func))
            if row is not None and row.every_seconds != every:
                row.every_seconds = every
    for func, every in jobs:
        if job_name(func) in known:
            continue
        try:
            with db.session() as session:
                session.add(_lease_model()(name=job_name(func), every_seconds=every, due_at=now))
        except IntegrityError:  # another process inserted it first
            pass


def claim(db, name: str, every: int, *, now: datetime | None = None) -> datetime | None:
    """Move the job's ``due_at`` to its next slot if it is due; the slot it claimed, or None
    when it is not due or another process claimed it first."""
    from extension.platform.models.ops import PeriodicLease

    now = now or _now()
    with db.session() as session:
        result = session.execute(
            update(PeriodicLease)
            .where(PeriodicLease.name == name, PeriodicLease.due_at <= now)
            .values(due_at=_next_due(now, every), claimed_at=now, claimed_by=_process_id()))
        claimed = cast(int, getattr(result, "rowcount", 0)) == 1
    return now if claimed else None


def unclaim(db, name: str, claimed_at: datetime) -> None:
    """Give a claimed tick back (it could not be enqueued): due again at once."""
    from extension.platform.models.ops import PeriodicLease

    with db.session() as session:
        session.execute(update(PeriodicLease).where(
            PeriodicLease.name == name, PeriodicLease.claimed_at == claimed_at,
            PeriodicLease.claimed_by == _process_id()).values(due_at=claimed_at))


def _lease_model():
    from extension.platform.models.ops import PeriodicLease

    return PeriodicLease


def _run_periodic(name: str) -> object:
    """Run the periodic job ``name`` and record when it ran and how it ended on its lease row.
    No retries here: the next tick runs it again."""
    from flask import current_app

    from extension.platform.db import get_db
    from extension.platform.models.ops import PeriodicLease

    funcs = {job_name(func): func for func, _ in periodic_jobs(current_app)}
    db = get_db()
    with db.session() as session:
        session.execute(update(PeriodicLease).where(PeriodicLease.name == name).values(
            last_started_at=_now()))
    try:
        result = funcs[name]()
    except Exception as exc:
        with db.session() as session:
            session.execute(update(PeriodicLease).where(PeriodicLease.name == name).values(
                last_finished_at=_now(), last_outcome="error",
                last_error=f"{type(exc).__name__}: {exc}"[:500]))
        raise
    with db.session() as session:
        session.execute(update(PeriodicLease).where(PeriodicLease.name == name).values(
            last_finished_at=_now(), last_outcome="ok", last_error=None))
    return result


# One runner per queue: a periodic job keeps its own queue's priority (the inbox sweep on
# `events` must not wait behind a burst of `default` work).
@job(queue="events", retries=0, timeout=3600)
def run_periodic_events(name: str) -> object:
    return _run_periodic(name)


@job(queue="effects", retries=0, timeout=3600)
def run_periodic_effects(name: str) -> object:
    return _run_periodic(name)


@job(queue="default", retries=0, timeout=3600)
def run_periodic(name: str) -> object:
    return _run_periodic(name)


RUNNERS = {"events": run_periodic_events, "effects": run_periodic_effects, "default": run_periodic}


def tick(app, dispatcher: Dispatcher | None = None, *, now: datetime | None = None) -> list[str]:
    """One scheduler tick: claim every due job and enqueue its run; the names claimed here."""
    from extension.platform.db import get_db

    db = get_db(app)
    dispatcher = dispatcher or get_dispatcher(app)
    claimed = []
    for func, every in periodic_jobs(app):
        name = job_name(func)
        slot = claim(db, name, every, now=now)
        if slot is None:
            continue
        try:
            # no fixed job id: the lease already makes the run unique, and a fixed id would be
            # shared by deployments (or test runs) using one Redis under different namespaces
            dispatcher.enqueue(RUNNERS.get(func.spec.queue, run_periodic), name)
        except Exception:  # e.g. Redis briefly away: give the tick back, the next one retries
            log.exception("could not enqueue %s; it stays due", name)
            unclaim(db, name, slot)
            continue
        claimed.append(name)
    return claimed


# --- heartbeats ----------------------------------------------------------------------------

class Heartbeat:
    """This process's heartbeat row: ``beat`` writes it (and the time the last job finished)."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.started_at = _now()
        self.last_job_at: datetime | None = None

    def job_done(self) -> None:
        self.last_job_at = _now()

    def beat(self, db, last_job_at: datetime | None = None) -> None:
        from extension.platform.models.ops import WorkerHeartbeat

        now, ident = _now(), _process_id()
        last = last_job_at or self.last_job_at
        with db.session() as session:
            result = session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.id == ident)
                                     .values(seen_at=now, role=self.role, last_job_at=last))
            if cast(int, getattr(result, "rowcount", 0)) == 0:
                session.add(WorkerHeartbeat(id=ident, role=self.role, started_at=self.started_at,
                                            seen_at=now, last_job_at=last))
            session.execute(delete(WorkerHeartbeat).where(
                WorkerHeartbeat.seen_at < now - HEARTBEAT_KEEP))

    def forget(self, db) -> None:
        """A clean exit removes the row (a dead process's row just goes stale)."""
        from extension.platform.models.ops import WorkerHeartbeat

        with db.session() as session:
            session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.id == _process_id()))


# --- the scheduler thread ------------------------------------------------------------------

def _schedule_loop(app, stop: threading.Event, heartbeat: Heartbeat | None = None) -> None:
    from extension.platform.db import get_db

    dispatcher = get_dispatcher(app)
    db = get_db(app)
    every = max(1, app.config["SETTINGS"].heartbeat_seconds)
    ready = False
    last_beat = 0.0
    while not stop.is_set():
        try:
            if heartbeat is not None and time.monotonic() - last_beat >= every:
                heartbeat.beat(db, getattr(dispatcher, "last_job_at", None))
                last_beat = time.monotonic()
            if not ready:
                ensure_leases(db, periodic_jobs(app))
                ready = True
            tick(app, dispatcher)
        except Exception:  # the database or Redis briefly away: the next tick tries again
            log.exception("periodic tick failed")
        stop.wait(1.0)


def start_scheduler(app, *, role: str | None = None) -> threading.Event:
    """Start this process's scheduler thread (once per process; later calls return the same
    stop event). ``role`` names the heartbeat this thread writes (none: the process takes no
    jobs, e.g. a web process when Redis is configured)."""
    state = app.extensions.setdefault("coachwire.scheduler", {})
    with _START_LOCK:
        if state.get("pid") == os.getpid():
            return state["stop"]
        if role is None and not hasattr(get_dispatcher(app), "redis"):
            role = "embedded"
        stop = threading.Event()
        heartbeat = Heartbeat(role) if role else None
        thread = threading.Thread(target=_schedule_loop, args=(app, stop, heartbeat), daemon=True,
                                  name="periodic")
        thread.start()
        state.update(pid=os.getpid(), stop=stop, heartbeat=heartbeat, thread=thread)
        return stop


def stop_scheduler(app, timeout: float = 10.0) -> None:
    """Stop this process's scheduler thread for ``app``, if it runs, and wait for its tick to end
    (before the app's engine is disposed, or its ticks would reconnect)."""
    state = app.extensions.get("coachwire.scheduler", {})
    if state.get("pid") != os.getpid():
        return
    state["stop"].set()
    thread = state.get("thread")
    if thread is not None:
        thread.join(timeout)
    state.clear()


_START_LOCK = threading.Lock()


def start_background(app) -> None:
    """A web process's scheduler, unless COACHWIRE_BACKGROUND=0 (gunicorn.conf.py calls this
    as each gunicorn worker boots)."""
    if app.config["SETTINGS"].background:
        start_scheduler(app)


def init_app(app) -> None:
    """Outside tests (their apps are driven by hand), a web process starts its scheduler with
    its first request, after any fork, so `flask run` ticks too."""
    if app.config["SETTINGS"].testing:
        return

    @app.before_request
    def _ensure_scheduler():
        start_background(app)


def warm_up(app) -> None:
    """Run the registered warm-ups before taking jobs: the learned sentiment model needs
    seconds to load, which would otherwise land on the first event's latency."""
    with app.app_context():
        for func in app.extensions.get("coachwire.warm_ups", ()):
            func()


# --- the worker process --------------------------------------------------------------------

class _Stop:
    """SIGTERM/SIGINT while the worker waits to reconnect (RQ's handlers are gone then)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, signum, frame) -> None:
        self.event.set()


def run_embedded(app) -> None:
    """`flask worker` without Redis: tick the periodic jobs and run them on this process's
    embedded queue until SIGTERM/SIGINT (the web processes run the events)."""
    stop = _Stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    warm_up(app)
    scheduler = start_scheduler(app, role="embedded")
    log.info("no REDIS_URL: running the periodic jobs on the embedded queue")
    stop.event.wait()
    scheduler.set()


def run_worker(app, queues: list[str], *, burst: bool = False,
               backoff_cap: float = BACKOFF_CAP_SECONDS) -> None:
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    from extension.platform.db import get_db

    dispatcher = get_dispatcher(app)
    if not hasattr(dispatcher, "redis"):
        if burst:
            raise SystemExit("REDIS_URL is not set: the embedded queue has no burst worker")
        return run_embedded(app)
    dispatcher = cast(RQDispatcher, dispatcher)  # the one dispatcher with a Redis connection
    heartbeat = Heartbeat("worker")

    class AppWorker(SimpleWorker):
        """Runs each job inside the Flask app context (jobs use the app's db and queue).

        While Redis is away, RQ's own dequeue loop retries with a wait doubling up to 60 s, so a
        worker could notice a restarted Redis a minute late while events waited; it asks every
        second instead (one connection attempt a second is nothing to Redis)."""

        max_connection_wait_time = 1.0

        def perform_job(self, job, queue):
            try:
                with app.app_context(), job_context(job.id, job.func, job.args):
                    return super().perform_job(job, queue)
            finally:
                heartbeat.job_done()

    def make_worker():
        return AppWorker([dispatcher.queue(name) for name in queues], connection=dispatcher.redis,
                         serializer=JSONSerializer, job_class=dispatcher.queue(queues[0]).job_class)

    if burst:
        make_worker().work(burst=True, with_scheduler=True, logging_level="INFO")
        return None
    warm_up(app)
    stop = _Stop()
    scheduler = _start_worker_scheduler(app, heartbeat)
    failures = 0
    lost_redis = False
    try:
        while not stop.event.is_set():
            worker = None
            started = time.monotonic()
            if lost_redis:
                lost_redis = not _sweep_soon(app, get_db(app))
            try:
                worker = make_worker()  # RQ asks Redis about itself here already
                worker.work(with_scheduler=True, logging_level="INFO")
            except SystemExit:
                raise
            except Exception:  # e.g. Redis away at start-up, register_birth or teardown
                log.exception("the RQ worker stopped")
            if worker is not None and (worker._stop_requested
                                       or worker._shutdown_requested_date is not None):
                break
            # RQ gave up (Redis timeout, an error outside a job): start a fresh worker soon
            failures = 0 if time.monotonic() - started > 60 else failures + 1
            delay = min(backoff_cap, 0.5 * 2 ** min(failures, 10)) * random.uniform(0.8, 1.2)
            log.warning("RQ worker loop ended; reconnecting in %.1fs (sooner when Redis answers "
                        "again)", delay)
            lost_redis = lost_redis or not _redis_answers(dispatcher)
            previous = (signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop))
            try:
                _wait_to_reconnect(dispatcher, stop.event, delay)
            finally:
                signal.signal(signal.SIGTERM, previous[0])
                signal.signal(signal.SIGINT, previous[1])
    finally:
        scheduler.set()
        try:
            heartbeat.forget(get_db(app))
        except Exception:
            log.warning("could not remove this worker's heartbeat row")
    return None


def _sweep_soon(app, db) -> bool:
    """Redis is back after an outage: make the `events` queue's periodic jobs (the inbox sweep)
    due now, so the events stored while no drain could be enqueued (and a restarted Redis lost
    every queued job) are drained at the next tick, not after the sweep's interval and grace.
    False when the database cannot be reached either (the sweep then runs when it is due)."""
    from extension.platform.models.ops import PeriodicLease

    try:
        names = [job_name(func) for func, _ in periodic_jobs(app) if func.spec.queue == "events"]
        with db.session() as session:
            session.execute(update(PeriodicLease).where(PeriodicLease.name.in_(names))
                            .values(due_at=_now()))
    except Exception:
        log.warning("could not bring the inbox sweep forward after the Redis outage")
        return False
    log.info("Redis answers again: %s due now", ", ".join(names) or "nothing")
    return True


def _redis_answers(dispatcher) -> bool:
    try:
        return bool(dispatcher.ping())
    except Exception:
        return False


def _wait_to_reconnect(dispatcher, stop: threading.Event, delay: float) -> None:
    """Wait ``delay`` before starting a fresh RQ worker, or less: while Redis does not answer,
    ask it every second and reconnect as soon as it does. A worker that crashes while Redis
    answers keeps the whole backoff (no busy loop); one that lost Redis is back within a
    second of Redis, so events queued after a restart do not wait out the backoff."""
    deadline = time.monotonic() + delay
    if _redis_answers(dispatcher):
        stop.wait(delay)
        return
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0 or stop.wait(min(1.0, remaining)):
            return
        if _redis_answers(dispatcher):
            return


def _start_worker_scheduler(app, heartbeat: Heartbeat) -> threading.Event:
    state = app.extensions.setdefault("coachwire.scheduler", {})
    with _START_LOCK:
        if state.get("pid") == os.getpid():  # a web-style scheduler already runs: replace it
            state["stop"].set()
        stop = threading.Event()
        thread = threading.Thread(target=_schedule_loop, args=(app, stop, heartbeat), daemon=True,
                                  name="periodic")
        thread.start()
        state.update(pid=os.getpid(), stop=stop, heartbeat=heartbeat, thread=thread)
    return stop
