"""The `worker` process: an RQ worker inside the app context, plus periodic jobs.

Periodic jobs are data (name, interval); each run is enqueued with a deterministic job id per
time slot, so several worker processes never enqueue the same sweep twice.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import cast

from extension.platform.logs import job_context
from extension.platform.queue import RQDispatcher, get_dispatcher

log = logging.getLogger("coachwire.worker")


def add_periodic(app, func, every: int) -> None:
    """Each capability registers its periodic jobs in its ``init_app`` (function, seconds)."""
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
    """Module-qualified, so two modules' ``sweep`` never share a slot flag or a job id."""
    return f"{func.__module__}.{func.__name__}"


def _schedule_loop(app, stop: threading.Event) -> None:
    dispatcher = get_dispatcher(app)
    jobs = periodic_jobs(app)
    while not stop.is_set():
        now = int(time.time())
        for func, every in jobs:
            slot, name = now // every, job_name(func)
            try:
                if dispatcher.claim_flag(f"periodic:{name}:{slot}", every * 2):
                    dispatcher.enqueue(func, job_id=f"periodic-{name}-{slot}")
            except Exception:  # e.g. Redis briefly away: the next tick tries again; never die
                log.exception("could not schedule %s", name)
        stop.wait(1.0)


def start_scheduler(app) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=_schedule_loop, args=(app, stop), daemon=True,
                     name="periodic").start()
    return stop


def warm_up(app) -> None:
    """Run the registered warm-ups before taking jobs: the learned sentiment model needs
    seconds to load, which would otherwise land on the first event's latency."""
    with app.app_context():
        for func in app.extensions.get("coachwire.warm_ups", ()):
            func()


def run_worker(app, queues: list[str], *, burst: bool = False) -> None:
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    dispatcher = get_dispatcher(app)
    if not hasattr(dispatcher, "redis"):
        raise SystemExit("REDIS_URL is not set: the web process runs jobs in-process already")
    dispatcher = cast(RQDispatcher, dispatcher)  # the one dispatcher with a Redis connection
    if not burst:
        warm_up(app)
    stop = start_scheduler(app) if not burst else None

    class AppWorker(SimpleWorker):
        """Runs each job inside the Flask app context (jobs use the app's db and queue)."""

        def perform_job(self, job, queue):
            with app.app_context(), job_context(job.id, job.func, job.args):  # logs carry it
                return super().perform_job(job, queue)

    worker = AppWorker([dispatcher.queue(name) for name in queues], connection=dispatcher.redis,
                       serializer=JSONSerializer, job_class=dispatcher.queue(queues[0]).job_class)
    try:
        worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        if stop is not None:
            stop.set()
