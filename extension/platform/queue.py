"""Background jobs: RQ on Redis, or an embedded in-process queue when REDIS_URL is unset.

Jobs are plain functions registered with @job; they take ids (JSON-serializable arguments only)
and reload state themselves. Both back ends share the retry policy declared on the decorator.
"""

from __future__ import annotations

import functools
import logging
import queue as stdqueue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import import_module

from extension.platform.logs import run_job

log = logging.getLogger("coachwire.queue")

_REGISTRY: dict[str, JobSpec] = {}


@dataclass(frozen=True)
class JobSpec:
    func: Callable
    queue: str
    retries: int
    intervals: tuple[int, ...]
    timeout: int

    @property
    def path(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"


def job(*, queue: str = "default", retries: int = 3, intervals=(2, 10, 60), timeout: int = 300):
    """Bind a function to a queue, a retry policy and a time limit (redash worker.py habit)."""

    def wrap(func):
        spec = JobSpec(func, queue, retries, tuple(intervals), timeout)
        _REGISTRY[spec.path] = spec
        func.spec = spec
        return func

    return wrap


# RQ stores a job as its function's dotted path. Jobs enqueued before the capability packages
# (0.1.0) name the old modules: they still run for one release, then this table goes.
MOVED_JOB_MODULES = {
    "extension.services.alert_delivery": "extension.analytics.alert_delivery",
    "extension.services.booking": "extension.coaching.booking",
    "extension.services.directory": "extension.platform.directory",
    "extension.services.fcr": "extension.analytics.fcr",
    "extension.services.interaction_analytics": "extension.text.interaction_analytics",
    "extension.services.notify": "extension.coaching.task_email",
    "extension.services.transcripts_fetch": "extension.coaching.transcripts_fetch",
}


def current_path(path: str) -> str:
    """A stored job path as it is named today (see MOVED_JOB_MODULES)."""
    module, _, name = path.rpartition(".")
    return f"{MOVED_JOB_MODULES.get(module, module)}.{name}"


@functools.cache
def job_class():
    """RQ's Job, reading stored paths through ``current_path``."""
    from rq.job import Job
    from rq.utils import import_attribute

    class MovedPathJob(Job):
        @property
        def func(self):
            if self.func_name is None or self.instance:
                return super().func
            return import_attribute(current_path(self.func_name))

    return MovedPathJob


def resolve(path: str) -> JobSpec:
    path = current_path(path)
    if path not in _REGISTRY:
        module, _, _name = path.rpartition(".")
        import_module(module)
    return _REGISTRY[path]


class Dispatcher:
    """Interface both back ends implement."""

    def enqueue(self, func, *args, job_id: str | None = None) -> None:  # pragma: no cover
        raise NotImplementedError

    def enqueue_in(self, seconds: float, func, *args) -> None:  # pragma: no cover
        """Run `func(*args)` once `seconds` have passed (a job that must wait re-enqueues itself
        this way instead of sleeping in a worker)."""
        raise NotImplementedError

    def claim_flag(self, key: str, ttl: int) -> bool:  # pragma: no cover
        raise NotImplementedError

    def release_flag(self, key: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def ping(self) -> bool:
        return True

    def shutdown(self) -> None:
        return None


class RQDispatcher(Dispatcher):
    """`namespace` prefixes queue names and flag keys, so several deployments (or test runs)
    can share one Redis without taking each other's jobs."""

    def __init__(self, redis_url: str, *, namespace: str = "") -> None:
        from redis import Redis

        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.namespace = namespace
        self._queues: dict[str, object] = {}

    def queue(self, name: str):
        from rq import Queue
        from rq.serializers import JSONSerializer

        if name not in self._queues:
            self._queues[name] = Queue(self.namespace + name, connection=self.redis,
                                       serializer=JSONSerializer, job_class=job_class())
        return self._queues[name]

    def flag_key(self, key: str) -> str:
        return f"coachwire:{self.namespace}{key}"

    def enqueue(self, func, *args, job_id: str | None = None) -> None:
        from rq import Retry

        spec = func.spec
        retry = Retry(max=spec.retries, interval=list(spec.intervals)) if spec.retries else None
        self.queue(spec.queue).enqueue_call(
            func=spec.path, args=args, job_id=job_id, retry=retry,
            timeout=spec.timeout, failure_ttl=7 * 24 * 3600, result_ttl=600,
        )

    def enqueue_in(self, seconds: float, func, *args) -> None:
        from datetime import timedelta

        spec = func.spec
        self.queue(spec.queue).enqueue_in(
            timedelta(seconds=max(1.0, seconds)), spec.path, *args, job_timeout=spec.timeout,
            failure_ttl=7 * 24 * 3600, result_ttl=600)

    def claim_flag(self, key: str, ttl: int) -> bool:
        return bool(self.redis.set(self.flag_key(key), "1", nx=True, ex=ttl))

    def release_flag(self, key: str) -> None:
        self.redis.delete(self.flag_key(key))

    def ping(self) -> bool:
        return bool(self.redis.ping())


@dataclass(order=True)
class _Item:
    due: float
    seq: int
    path: str = field(compare=False)
    args: tuple = field(compare=False)
    attempt: int = field(compare=False, default=0)


class EmbeddedDispatcher(Dispatcher):
    """Runs jobs on background threads of this process: asynchronous, no Redis needed.

    Used by `make run` and by tests on the embedded defaults. Delayed retries sit in a
    priority queue ordered by due time. Events have a lane (queue and threads) of their own, as
    the Procfile gives them a worker of their own: a host-bound effect job waiting on a slow host
    never holds up the inbox drain. With ``threads=0`` (the test configuration) nothing runs in
    the background: jobs wait, in one due-ordered queue, until the caller drains them
    (``wait_idle``), as RQ's jobs wait for a burst worker, so no job races a test's own
    transaction.
    """

    def __init__(self, *, app=None, threads: int = 1) -> None:
        self.app = app
        shared: stdqueue.PriorityQueue[_Item] = stdqueue.PriorityQueue()
        self._lanes: dict[str, stdqueue.PriorityQueue[_Item]] = {
            "events": shared if threads == 0 else stdqueue.PriorityQueue(), "other": shared}
        self._flags: dict[str, float] = {}
        self._lock = threading.Lock()
        self._seq = 0
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._busy = 0
        self.last_job_at: datetime | None = None  # when a job last finished here (the heartbeat reports it)
        self._threads = [
            threading.Thread(target=self._run, args=(lane,), daemon=True,
                             name=f"embedded-{lane}-{i}")
            for lane in self._lanes for i in range(threads)]
        for thread in self._threads:
            thread.start()

    @property
    def _queue(self) -> stdqueue.PriorityQueue[_Item]:
        """The lane every job shares without threads (``wait_idle`` drains it)."""
        return self._lanes["other"]

    def waiting(self) -> int:
        """Jobs queued here and not yet started (delayed retries included)."""
        lanes = {id(lane): lane for lane in self._lanes.values()}
        return sum(lane.qsize() for lane in lanes.values())

    def enqueue(self, func, *args, job_id: str | None = None) -> None:
        self._put(func.spec.path, args, attempt=0, delay=0, queue=func.spec.queue)

    def enqueue_in(self, seconds: float, func, *args) -> None:
        self._put(func.spec.path, args, attempt=0, delay=max(0.0, seconds), queue=func.spec.queue)

    def _put(self, path: str, args: tuple, *, attempt: int, delay: float, queue: str) -> None:
        with self._lock:
            self._seq += 1
            seq = self._seq
        with self._idle:
            self._busy += 1
        lane = self._lanes["events" if queue == "events" else "other"]
        lane.put(_Item(time.monotonic() + delay, seq, path, tuple(args), attempt))

    def claim_flag(self, key: str, ttl: int) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._flags.get(key, 0) > now:
                return False
            self._flags[key] = now + ttl
            return True

    def release_flag(self, key: str) -> None:
        with self._lock:
            self._flags.pop(key, None)

    def _run(self, lane: str) -> None:
        queue = self._lanes[lane]
        while not self._stop.is_set():
            try:
                item = queue.get(timeout=0.2)
            except stdqueue.Empty:
                continue
            wait = item.due - time.monotonic()
            if wait > 0:
                queue.put(item)
                time.sleep(min(wait, 0.05))
                continue
            self._execute(item)

    def _execute(self, item: _Item) -> None:
        spec = resolve(item.path)
        try:
            if self.app is not None:
                with self.app.app_context():
                    run_job(spec.func, item.args, job_id=f"embedded-{item.seq}")  # logs carry it
            else:
                run_job(spec.func, item.args, job_id=f"embedded-{item.seq}")
        except Exception:
            log.exception("job %s failed (attempt %d)", item.path, item.attempt + 1)
            if item.attempt < spec.retries:
                delay = spec.intervals[min(item.attempt, len(spec.intervals) - 1)]
                self._put(item.path, item.args, attempt=item.attempt + 1,
                          delay=delay * random.uniform(0.8, 1.2), queue=spec.queue)
        finally:
            self.last_job_at = datetime.now(UTC)
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no job is queued or running (tests and the demo use this). Without
        threads, run the queued jobs (and the retries they schedule) here, in due order."""
        deadline = time.monotonic() + timeout
        if not self._threads:
            return self._drain_here(deadline)
        with self._idle:
            while self._busy > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def _drain_here(self, deadline: float) -> bool:
        while True:
            try:
                item = self._queue.get_nowait()
            except stdqueue.Empty:
                return True
            wait = item.due - time.monotonic()
            if wait > 0:
                if time.monotonic() + wait > deadline:
                    self._queue.put(item)
                    return False
                time.sleep(wait)
            self._execute(item)

    def shutdown(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)


def init_app(app) -> Dispatcher:
    settings = app.config["SETTINGS"]
    if settings.redis_url:
        dispatcher: Dispatcher = RQDispatcher(settings.redis_url, namespace=settings.queue_namespace)
    else:
        dispatcher = EmbeddedDispatcher(app=app, threads=settings.embedded_worker_threads)
    app.extensions["coachwire.queue"] = dispatcher
    return dispatcher


def get_dispatcher(app=None) -> Dispatcher:
    """The app's job dispatcher (``current_app``'s unless ``app`` is given): the one accessor
    for it; code outside this module does not read ``app.extensions["coachwire.queue"]``."""
    from flask import current_app

    return (app or current_app).extensions["coachwire.queue"]
