"""From host events to a booked coaching appointment, through the real receiver, inbox, worker
and connectors against the sandbox host (PostgreSQL + Redis in CI, embedded defaults locally)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from extension.analytics.models.facts import InteractionFact, KpiRollupDaily
from extension.coaching.models import Appointment
from extension.platform.models.audit import AuditEntry
from extension.platform.models.inbox import InboxEvent
from tests.e2e.conftest import sandbox_state
from tests.helpers import dumps, signed_headers

pytestmark = pytest.mark.e2e


def deliver(client, tenant_id: str, secret: str, messages: list[dict]) -> None:
    from sandbox.events import webhook_id

    for message in messages:
        body = dumps(message)
        response = client.post(f"/webhooks/{tenant_id}", data=body,
                               headers=signed_headers(secret, body, msg_id=webhook_id(message)))
        assert response.status_code in (200, 202), response.data


def deliver_batch(client, tenant_id: str, secret: str, messages: list[dict]) -> None:
    """One request, one inbox commit: the worker sees every message of it in one drain."""
    body = dumps({"events": messages})
    response = client.post(f"/webhooks/{tenant_id}", data=body, headers=signed_headers(secret, body))
    assert response.status_code in (200, 202), response.data


def negative_calls(world, agent_id: str, count: int, *, seed: int) -> list[list[dict]]:
    from sandbox.events import build_conversation

    rng = random.Random(seed)
    now = datetime.now(UTC)
    return [build_conversation(world, agent_id=agent_id, ended_at=now - timedelta(minutes=30 - i),
                               rng=rng, customer_sentiment=-0.85, agent_tone="negative",
                               media="voice")
            for i in range(count)]


def audit_actions(db, tenant_id: str) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.tenant_id == tenant_id).order_by(AuditEntry.id)))


def _on_queue(activities, start: datetime, end: datetime) -> bool:
    """Inside scheduled queue time and clear of breaks, meals and meetings, judged on the
    schedule as it was before the host added the coaching activity."""
    def span(a):
        return a.start, a.start + timedelta(minutes=a.minutes)
    covered = any(a.category == "OnQueueWork" and span(a)[0] <= start and end <= span(a)[1]
                  for a in activities)
    clashes = [a for a in activities if a.category != "OnQueueWork" and a.external_type != "Coaching"
               and span(a)[0] < end and start < span(a)[1]]
    return covered and not clashes


def test_three_negative_calls_book_one_appointment_then_the_week_is_rate_limited(
        app, client, db, run_jobs, sandbox, host_tenant):
    base, sandbox_state_obj = sandbox
    world = sandbox_state_obj.world
    tenant_id, secret = host_tenant
    agent = world.agents[0]
    supervisor = world.supervisor_of(agent.id)
    calls = negative_calls(world, agent.id, 4, seed=9)
    schedule_before = [a for shift in world.shifts_of(agent.id) for a in shift.activities]

    # The three calls' messages arrive together and out of order (sentiment before the end
    # of the call, the last call first).
    deliver_batch(client, tenant_id, secret,
                  [m for messages in reversed(calls[:3]) for m in reversed(messages)])
    run_jobs()
    run_jobs()

    booked = [a for a in sandbox_state(base)["appointments"]
              if [x["id"] for x in a["attendees"]] == [agent.id]]
    assert len(booked) == 1
    appointment = booked[0]
    conversation_ids = {m[0]["eventBody"]["conversationId"] for m in calls[:3]}
    assert {c["id"] for c in appointment["conversations"]} == conversation_ids
    assert appointment["facilitator"]["id"] == supervisor.id
    start = datetime.fromisoformat(appointment["dateStart"].replace("Z", "+00:00"))
    end = start + timedelta(minutes=appointment["lengthInMinutes"])
    assert start > datetime.now(UTC)
    assert _on_queue(schedule_before, start, end), "slot is not inside the agent's on-queue time"
    for busy in world.calendars[supervisor.email]:
        assert end <= busy.start or start >= busy.end, "slot overlaps the supervisor's calendar"

    # A fourth negative call the same week books nothing and is audited as rate-limited.
    deliver(client, tenant_id, secret, calls[3])
    run_jobs()
    booked_after = [a for a in sandbox_state(base)["appointments"]
                    if [x["id"] for x in a["attendees"]] == [agent.id]]
    assert len(booked_after) == 1
    actions = audit_actions(db, tenant_id)
    assert actions.count("coaching.appointment_decided") == 1
    assert actions.count("coaching.booked") == 1
    assert "coaching.skipped.rate_limited" in actions, str(actions)
    assert actions.count("interaction.flagged") == 4


def test_redelivering_everything_changes_nothing(app, client, db, run_jobs, sandbox, host_tenant):
    base, sandbox_state_obj = sandbox
    world = sandbox_state_obj.world
    tenant_id, secret = host_tenant
    agent = world.agents[1]
    calls = negative_calls(world, agent.id, 3, seed=5)
    everything = [m for messages in calls for m in messages]
    deliver_batch(client, tenant_id, secret, everything)
    run_jobs()
    run_jobs()
    deliver(client, tenant_id, secret, list(reversed(everything)))
    run_jobs()
    with db.session() as session:
        assert session.scalar(select(InboxEvent.id).where(InboxEvent.status != "done").limit(1)) is None
        appointments = session.scalars(select(Appointment)).all()
    assert len(appointments) == 1
    assert appointments[0].status == "booked"
    hosted = [a for a in sandbox_state(base)["appointments"]
              if [x["id"] for x in a["attendees"]] == [agent.id]]
    assert len(hosted) == 1
    # The analytics facts and rollups saw each conversation once, redelivery or not.
    with db.session() as session:
        facts = session.scalars(select(InteractionFact)).all()
        volume = session.scalar(select(func.sum(KpiRollupDaily.volume)))
        rolled_handle = session.scalar(select(func.sum(KpiRollupDaily.handle_ms)))
    assert len(facts) == 3 and volume == 3
    assert {f.agent_id for f in facts} == {agent.id}
    assert rolled_handle == sum(f.t_handle_ms for f in facts)
    assert all(f.agent_sentiment is not None and f.customer_sentiment is not None for f in facts)


def test_a_delighted_customer_earns_a_recognition(app, client, db, run_jobs, sandbox, host_tenant):
    from sandbox.events import build_conversation

    base, sandbox_state_obj = sandbox
    world = sandbox_state_obj.world
    tenant_id, secret = host_tenant
    agent = world.agents[2]
    messages = build_conversation(world, agent_id=agent.id, ended_at=datetime.now(UTC),
                                  rng=random.Random(9), customer_sentiment=0.95,
                                  agent_tone="positive")
    deliver(client, tenant_id, secret, messages)
    run_jobs()
    run_jobs()
    recognitions = [r for r in sandbox_state(base)["recognitions"]
                    if r.get("recipient", {}).get("id", r.get("recipientId")) == agent.id]
    assert len(recognitions) == 1
    assert "recognition.sent" in audit_actions(db, tenant_id)
