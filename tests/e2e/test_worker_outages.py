"""A real `flask worker` rides out Redis outages (issue 17) and says it is alive.

The worker runs against a private redis-server started here (never the shared one). The server
is killed and, while it is away, its port drops new connections (a listener whose accept queue
is full, as a host that is gone or failing over does), so the worker's reconnects time out; RQ's
own loop quits on that ("Redis connection timeout, quitting"). Then redis-server starts afresh,
empty, on the same port. A job
enqueued after the restart must still run. /readyz sees the worker's heartbeat while it lives
and turns red within 30 s of it dying while events wait, green again once they drain.

Without Redis, `flask worker` runs the periodic jobs on its embedded queue."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from extension import close_app
from extension.platform.queue import RQDispatcher, job
from tests.conftest import QUEUE_NAMESPACE, ROOT
from tests.e2e.conftest import kill, start_worker, wait_until

pytestmark = pytest.mark.e2e
REDIS_SERVER = shutil.which("redis-server")


@job(queue="default", retries=0)
def touch(path: str) -> None:
    Path(path).write_text("ran")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(self._answers, 10), "the private redis-server did not start"

    def _answers(self) -> bool:
        from redis import Redis

        try:
            return bool(Redis.from_url(self.url, socket_timeout=1).ping())
        except Exception:
            return False

    @contextlib.contextmanager
    def away(self):
        """Stopped, its port dropping connection attempts (they time out) until the block ends."""
        self.stop()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(0)
        fillers = []
        for _ in range(3):  # fill the accept queue: later SYNs are dropped
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            fillers.append(filler)
        try:
            yield
        finally:
            for sock in (*fillers, listener):
                sock.close()

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


# the workers started here: a 1 s heartbeat, 2 s sweeps
WORKER_SETTINGS = {"heartbeat_seconds": "1", "sweep_seconds": "2", "sentiment": "vader"}


@pytest.fixture
def private_redis():
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(free_port())
    server.start()
    yield server
    server.stop()


def test_the_worker_rides_out_a_redis_outage_and_restart(app, settings, private_redis, tmp_path):
    log_path = tmp_path / "worker.log"
    dispatcher = RQDispatcher(private_redis.url, namespace=QUEUE_NAMESPACE)
    worker = start_worker(log_path, database_url=settings.database_url,
                          redis_url=private_redis.url, **WORKER_SETTINGS)
    try:
        before = tmp_path / "before"
        dispatcher.enqueue(touch, str(before))
        assert wait_until(before.exists, 60), log_path.read_text()[-3000:]
        with private_redis.away():
            time.sleep(8)  # the worker's reconnects time out meanwhile
        private_redis.start()  # a restart, empty (no persistence)
        after = tmp_path / "after"
        dispatcher = RQDispatcher(private_redis.url, namespace=QUEUE_NAMESPACE)
        dispatcher.enqueue(touch, str(after))
        assert wait_until(after.exists, 90), "no job ran after the restart:\n" + \
            log_path.read_text()[-3000:]
        assert worker.poll() is None, "the worker process exited"
        kill(worker, signal.SIGTERM)  # a stop request still ends it
        assert worker.returncode == 0, log_path.read_text()[-3000:]
    finally:
        kill(worker)


def test_readyz_follows_the_worker_heartbeat(app, settings, private_redis, tenant, tmp_path):
    from extension import create_app
    from extension.platform.models.inbox import InboxEvent

    web = create_app(settings.with_overrides(redis_url=private_redis.url, ready_stale_seconds=5,
                                             ready_wait_seconds=0))
    client = web.test_client()
    db = web.extensions["coachwire.db"]
    worker = start_worker(tmp_path / "worker.log", database_url=settings.database_url,
                          redis_url=private_redis.url, **WORKER_SETTINGS)
    try:
        assert wait_until(lambda: client.get("/readyz").json["pipeline"]["live_workers"] >= 1, 60), \
            (tmp_path / "worker.log").read_text()[-3000:]
        kill(worker)
        since = datetime.now(UTC) - timedelta(seconds=1)
        with db.session() as session:
            session.add(InboxEvent(tenant_id=tenant[0], delivery_id="waiting", type="conversation.ended",
                                   payload={}, received_at=since, next_attempt_at=since))
        stopped = time.monotonic()
        assert wait_until(lambda: client.get("/readyz").status_code == 503, 30)
        print(f"readiness red {time.monotonic() - stopped:.1f}s after the worker died")
        with db.session() as session:
            session.execute(update(InboxEvent).values(status="done"))
        assert client.get("/readyz").status_code == 200
    finally:
        kill(worker)
        close_app(web)


def test_flask_worker_without_redis_runs_the_periodic_jobs(app, settings, tmp_path):
    from extension.platform.models.ops import PeriodicLease

    db = app.extensions["coachwire.db"]
    log_path = tmp_path / "worker.log"
    worker = start_worker(log_path, database_url=settings.database_url, redis_url=None,
                          **WORKER_SETTINGS)

    def swept() -> bool:
        with db.session() as session:
            return session.scalar(select(PeriodicLease.last_outcome).where(
                PeriodicLease.name == "handlers.jobs.sweep")) == "ok"

    try:
        assert wait_until(swept, 60), log_path.read_text()[-3000:]
        assert worker.poll() is None
        kill(worker, signal.SIGTERM)
        assert worker.returncode == 0, log_path.read_text()[-3000:]
    finally:
        kill(worker)


def test_gunicorn_with_two_workers_and_no_redis_runs_the_periodic_jobs(app, settings, tmp_path):
    """gunicorn.conf.py starts each gunicorn worker's scheduler at boot, no request needed."""
    from extension.platform.models.ops import PeriodicLease

    db = app.extensions["coachwire.db"]
    log_path = tmp_path / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": settings.database_url, "COACHWIRE_ENV": "test",
           "COACHWIRE_SWEEP_SECONDS": "2", "COACHWIRE_SENTIMENT": "vader"}
    env.pop("REDIS_URL", None)
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child process
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                            f"127.0.0.1:{free_port()}", "wsgi:app"], cwd=ROOT, env=env, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)

    def ran() -> set[str]:
        with db.session() as session:
            return set(session.scalars(select(PeriodicLease.name).where(
                PeriodicLease.last_outcome == "ok")))

    try:
        assert wait_until(lambda: "handlers.jobs.sweep" in ran(), 90), log_path.read_text()[-3000:]
    finally:
        kill(web, signal.SIGTERM)
