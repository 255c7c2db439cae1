"""A real `flask worker` process killed with SIGKILL in the middle of the work, then restarted:
the outcome equals an undisturbed run (one appointment, nothing lost, nothing twice).

Needs PostgreSQL and Redis (the embedded queue lives inside the web process and has no separate
worker to kill)."""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from extension.coaching.models import Appointment
from extension.platform.models.inbox import InboxEvent
from tests.e2e.conftest import kill, sandbox_state, start_worker, wait_until
from tests.e2e.test_coaching_pipeline import deliver_batch, negative_calls

pytestmark = pytest.mark.e2e


def _start(settings, log_path):
    """A worker on the test database and Redis with fast sweeps and short effect leases."""
    return start_worker(log_path, database_url=settings.database_url, redis_url=settings.redis_url,
                        namespace=settings.queue_namespace, sweep_seconds="1",
                        inbox_grace_seconds="1", effect_lease_seconds="2")


def counts(db) -> tuple[int, int]:
    with db.session() as session:
        waiting = session.scalar(select(func.count(InboxEvent.id)).where(
            InboxEvent.status == "received"))
        booked = session.scalar(select(func.count(Appointment.id)).where(
            Appointment.status == "booked"))
    return waiting, booked


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
    worker = _start(settings, log_path)
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
        worker = _start(settings, log_path)
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
