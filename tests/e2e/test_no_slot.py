"""When no low-occupancy slot is free for both agent and supervisor, nothing is booked on the
host: the supervisor gets a task in Coachwire and an email, and the audit trail says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from extension import close_app, create_app
from extension.coaching.models import Appointment, Task
from extension.platform.models.audit import AuditEntry
from tests.e2e.conftest import sandbox_state
from tests.e2e.test_coaching_pipeline import deliver_batch, negative_calls
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.e2e


@pytest.fixture
def smtp():
    sink = SmtpSink()
    yield sink
    sink.shutdown()


@pytest.fixture
def mail_app(app, settings, smtp):
    """The same database and queue as `app`, with SMTP pointing at the sink."""
    mailing = create_app(settings.with_overrides(smtp_host="127.0.0.1", smtp_port=smtp.port,
                                                 smtp_starttls=False, smtp_from="cw@example.test"))
    yield mailing
    close_app(mailing)


def test_a_fully_booked_supervisor_gets_a_task_and_an_email(mail_app, sandbox, host_tenant, smtp):
    from sandbox.world import Busy

    base, sandbox_state_obj = sandbox
    world = sandbox_state_obj.world
    tenant_id, secret = host_tenant
    agent = world.agents[4]
    supervisor = world.supervisor_of(agent.id)
    now = datetime.now(UTC)
    world.calendars[supervisor.email].append(Busy(now - timedelta(days=1), now + timedelta(days=30),
                                                  "Offsite"))
    deliver_batch(mail_app.test_client(), tenant_id, secret,
                  [m for call in negative_calls(world, agent.id, 3, seed=9) for m in call])
    _run_all(mail_app)

    assert not [a for a in sandbox_state(base)["appointments"]
                if [x["id"] for x in a["attendees"]] == [agent.id]]
    db = mail_app.extensions["coachwire.db"]
    with db.session() as session:
        appointment = session.scalars(select(Appointment)).one()
        task = session.scalars(select(Task)).one()
        actions = session.scalars(select(AuditEntry.action)).all()
    assert appointment.status == "manual"
    assert appointment.slot_reason["rejected"]["supervisor_busy"] > 0
    assert task.assignee_id == supervisor.id and task.kind == "schedule_coaching"
    assert task.details["email"]["status"] == "sent"
    assert "coaching.no_slot" in actions and "task.email_sent" in actions
    assert len(smtp.messages) == 1
    assert supervisor.email in smtp.messages[0]
    assert "Coaching to schedule by hand" in smtp.messages[0]


def _run_all(app) -> None:
    dispatcher = app.extensions["coachwire.queue"]
    for _ in range(3):
        if hasattr(dispatcher, "redis"):
            from extension.platform.worker import run_worker

            run_worker(app, ["events", "effects", "default"], burst=True)
        else:
            assert dispatcher.wait_idle(30)
