"""A real `flask worker` process killed with SIGKILL in the middle of the work, then restarted:
the outcome equals an undisturbed run (one appointment, nothing lost, nothing twice).

Needs PostgreSQL and Redis (the embedded queue lives inside the web process and has no separate
worker to kill)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from extension.coaching.models import Appointment
from extension.platform.models.inbox import InboxEvent
from tests.conftest import ROOT
from tests.e2e.conftest import sandbox_state
from tests.e2e.test_coaching_pipeline import deliver_batch, negative_calls

pytestmark = pytest.mark.e2e


def start_worker(settings, log_path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "COACHWIRE_ENV": "test", "COACHWIRE_SWEEP_SECONDS": "1",
           "COACHWIRE_QUEUE_NAMESPACE": settings.queue_namespace,
           "COACHWIRE_INBOX_GRACE_SECONDS": "1", "COACHWIRE_EFFECT_LEASE_SECONDS": "2"}
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child process
    # Its own process group: RQ forks a scheduler process, which must die with the worker.
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def kill(worker: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def counts(db) -> tuple[int, int]:
    with db.session() as session:
        waiting = session.scalar(select(func.count(InboxEvent.id)).where(
            InboxEvent.status == "received"))
        booked = session.scalar(select(func.count(Appointment.id)).where(
            Appointment.status == "booked"))
    return waiting, booked


def wait_until(predicate, seconds: float, *, step: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis for a separate worker")
def test_killing_the_worker_mid_stream_loses_nothing_and_books_once(
        app, client, db, settings, sandbox, host_tenant, tmp_path):
    from sandbox.events import random_conversation

    base, sandbox_state_obj = sandbox
    world = sandbox_state_obj.world
    tenant_id, secret = host_tenant
    agent = world.agents[3]
    rng = random.Random(21)
    now = datetime.now(UTC)
    noise = [m for i in range(300)
             for m in random_conversation(world, rng=rng, ended_at=now - timedelta(seconds=i))]
    pattern = [m for call in negative_calls(world, agent.id, 3, seed=9) for m in call]
    log_path = tmp_path / "worker.log"
    worker = start_worker(settings, log_path)
    try:
        for start in range(0, len(noise), 300):
            deliver_batch(client, tenant_id, secret, noise[start:start + 300])
        deliver_batch(client, tenant_id, secret, pattern)
        total = counts(db)[0]
        # Kill as soon as the first batch has committed: later batches are mid-flight.
        started = wait_until(lambda: counts(db)[0] < total, 120, step=0.01)
        assert started, "worker never started:\n" + log_path.read_text()[-3000:]
        kill(worker)
        interrupted = counts(db)
        worker = start_worker(settings, log_path)
        assert wait_until(lambda: counts(db)[0] == 0, 120), "inbox never drained"
        with db.session() as session:
            mine = session.scalars(select(Appointment).where(Appointment.agent_id == agent.id)).all()
        assert len(mine) == 1
        assert wait_until(lambda: _hosted(base, agent.id) == 1, 30)
        assert wait_until(lambda: _unsettled(db) == 0, 30), "effects never settled"
        time.sleep(2.5)  # past a lease: a late sweep must not book anything again
        assert _hosted(base, agent.id) == 1
        booked_here = counts(db)[1]
        assert booked_here == len({a["id"] for a in sandbox_state(base)["appointments"]})
        assert 0 < interrupted[0] < total, "the kill did not land mid-stream"
        print(f"rows waiting when killed: {interrupted[0]} of {total}; booked: {booked_here}")
    finally:
        kill(worker)


def _unsettled(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(Appointment.id)).where(
            Appointment.status.in_(("pending", "booking"))))


def _hosted(base: str, agent_id: str) -> int:
    return sum(1 for a in sandbox_state(base)["appointments"]
               if [x["id"] for x in a["attendees"]] == [agent_id])
