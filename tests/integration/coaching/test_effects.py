"""Decided effects land on the host exactly once, through lost answers, killed workers and long
outages (issue 12 §3, issue 17), against the sandbox host and its fault mode."""

from __future__ import annotations

import copy
from datetime import timedelta

import requests
from sqlalchemy import select, update

from extension.coaching import booking
from extension.coaching.domain.policy_schema import DEFAULT_POLICY
from extension.coaching.models import Appointment, Recognition, Task
from extension.platform import hosts
from extension.platform.models._types import utcnow
from extension.platform.models.audit import AuditEntry
from extension.platform.models.tenants import Tenant
from tests.e2e.conftest import sandbox_state

APPOINTMENTS = "/api/v2/coaching/appointments"
RECOGNITIONS = "/api/v2/employeeengagement/recognitions"


def arm(base: str, path: str, mode: str, **rule) -> None:
    answer = requests.post(f"{base}/sandbox/control/faults", timeout=5,
                           json={"path": path, "mode": mode, **rule})
    assert answer.status_code == 200, answer.text


def clear(base: str) -> None:
    requests.delete(f"{base}/sandbox/control/faults", timeout=5)


def decide_appointments(db, tenant_id: str, agent_ids: list[str]) -> list[int]:
    """Decided appointments, as the pattern rule leaves them: pending rows, one per agent."""
    with db.session() as session:
        rows = [Appointment(tenant_id=tenant_id, agent_id=agent_id, week_key="2026-W49",
                            idempotency_key=f"coaching:{agent_id}:2026-W49:0",
                            conversation_ids=[f"conv-{agent_id[:8]}-{i}" for i in range(2)],
                            length_minutes=30)
                for agent_id in agent_ids]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def decide_recognitions(db, tenant_id: str, agent_ids: list[str]) -> list[int]:
    with db.session() as session:
        rows = [Recognition(tenant_id=tenant_id, agent_id=agent_id, conversation_id=f"conv-{i}",
                            idempotency_key=f"recognition:conv-{i}")
                for i, agent_id in enumerate(agent_ids)]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def dispatch(app, tenant_id: str, run_jobs) -> None:
    with app.app_context():
        booking.dispatch_effects(tenant_id)
    run_jobs()


def time_passes(db, model) -> None:
    """The retry time of every waiting row comes (instead of sleeping through the backoff)."""
    with db.session() as session:
        session.execute(update(model).where(model.status == "pending",
                                            model.next_attempt_at.is_not(None))
                        .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def sweep(app, run_jobs) -> dict:
    with app.app_context():
        swept = booking.sweep_effects()
    run_jobs()
    return swept


def rows(db, model) -> list:
    with db.session() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def actions(db) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def hosted(base: str, kind: str, agent_ids: list[str]) -> int:
    state = sandbox_state(base)
    if kind == "appointments":
        return sum(1 for a in state["appointments"] if a["attendees"][0]["id"] in agent_ids)
    return sum(1 for r in state["recognitions"] if r["recipient"]["id"] in agent_ids)


def test_a_host_that_commits_then_answers_502_gets_each_appointment_once(
        app, db, run_jobs, sandbox, host_tenant):
    base, state = sandbox
    tenant_id, _ = host_tenant
    agents = [a.id for a in state.world.agents[:12]]
    arm(base, APPOINTMENTS, "commit_then_502")
    decide_appointments(db, tenant_id, agents)
    dispatch(app, tenant_id, run_jobs)

    assert hosted(base, "appointments", agents) == 12  # each create sent once, not re-sent
    waiting = rows(db, Appointment)
    assert {a.status for a in waiting} == {"pending"}  # retrying, not failed
    assert all(a.next_attempt_at and a.last_error for a in waiting)
    clear(base)
    time_passes(db, Appointment)
    sweep(app, run_jobs)

    booked = rows(db, Appointment)
    assert {a.status for a in booked} == {"booked"}
    host_ids = {a["id"] for a in sandbox_state(base)["appointments"]}
    assert {a.host_appointment_id for a in booked} == host_ids and len(host_ids) == 12
    assert actions(db).count("coaching.adopted") == 12
    assert "coaching.booked" not in actions(db)


def test_every_second_answer_lost_still_gives_n_appointments_for_n_decisions(
        app, db, run_jobs, sandbox, host_tenant):
    base, state = sandbox
    tenant_id, _ = host_tenant
    agents = [a.id for a in state.world.agents[:6]]
    arm(base, APPOINTMENTS, "commit_then_502", every=2)
    decide_appointments(db, tenant_id, agents)
    dispatch(app, tenant_id, run_jobs)
    for _ in range(3):
        time_passes(db, Appointment)
        sweep(app, run_jobs)
    assert {a.status for a in rows(db, Appointment)} == {"booked"}
    assert hosted(base, "appointments", agents) == 6
    assert actions(db).count("coaching.adopted") == 3
    assert actions(db).count("coaching.booked") == 3


def test_a_recognition_whose_answer_is_lost_is_adopted_not_sent_again(
        app, db, run_jobs, sandbox, host_tenant):
    base, state = sandbox
    tenant_id, _ = host_tenant
    agents = [a.id for a in state.world.agents[:4]]
    arm(base, RECOGNITIONS, "commit_then_502")
    decide_recognitions(db, tenant_id, agents)
    dispatch(app, tenant_id, run_jobs)
    assert hosted(base, "recognitions", agents) == 4
    assert {r.status for r in rows(db, Recognition)} == {"pending"}
    time_passes(db, Recognition)
    sweep(app, run_jobs)  # the fault is still armed: only a send would meet it

    sent = rows(db, Recognition)
    assert {r.status for r in sent} == {"sent"}
    assert hosted(base, "recognitions", agents) == 4
    assert {r.host_recognition_id for r in sent} == {
        r["id"] for r in sandbox_state(base)["recognitions"]}
    assert actions(db).count("recognition.adopted") == 4


def test_a_recognition_answer_past_the_read_timeout_is_adopted(
        app, db, run_jobs, sandbox, host_tenant):
    base, state = sandbox
    tenant_id, _ = host_tenant
    agents = [state.world.agents[0].id]
    with app.app_context(), db.session() as session:
        client = hosts.genesys_for(session.get(Tenant, tenant_id))
    client.transport._timeout = (3.05, 0.5)  # a short read timeout instead of a slow test
    arm(base, RECOGNITIONS, "commit_then_sleep", seconds=2)
    decide_recognitions(db, tenant_id, agents)
    dispatch(app, tenant_id, run_jobs)
    assert rows(db, Recognition)[0].status == "pending"
    time_passes(db, Recognition)
    sweep(app, run_jobs)
    assert rows(db, Recognition)[0].status == "sent"
    assert hosted(base, "recognitions", agents) == 1


def test_a_worker_killed_mid_send_leaves_a_recognition_the_sweep_adopts(
        app, db, run_jobs, sandbox, host_tenant, settings):
    base, state = sandbox
    tenant_id, _ = host_tenant
    agent = state.world.agents[1].id
    [row_id] = decide_recognitions(db, tenant_id, [agent])
    # The killed worker had leased the row and its POST reached the host; nothing came back.
    token = requests.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("sandbox-client", "sandbox-secret"), timeout=5).json()
    made = requests.post(f"{base}{RECOGNITIONS}", timeout=5,
                         headers={"Authorization": f"Bearer {token['access_token']}"},
                         json={"recipientId": agent, "type": "ThankYou", "title": "t",
                               "contextType": "Interaction", "contextId": "conv-0"}).json()
    lease = timedelta(seconds=settings.effect_lease_seconds + 1)
    with db.session() as session:
        session.execute(update(Recognition).where(Recognition.id == row_id).values(
            status="sending", attempts=1, updated_at=utcnow() - lease))
    assert sweep(app, run_jobs)["recognitions"] == 1
    [recognition] = rows(db, Recognition)
    assert recognition.status == "sent" and recognition.host_recognition_id == made["id"]
    assert hosted(base, "recognitions", [agent]) == 1
    assert "recognition.adopted" in actions(db)


def test_an_outage_longer_than_five_attempts_books_once_when_the_host_returns(
        app, db, run_jobs, sandbox, host_tenant):
    base, state = sandbox
    tenant_id, _ = host_tenant
    agents = [state.world.agents[2].id]
    arm(base, APPOINTMENTS, "503")
    decide_appointments(db, tenant_id, agents)
    dispatch(app, tenant_id, run_jobs)
    assert sweep(app, run_jobs)["appointments"] == 0  # not due yet: nobody hammers the host
    for _ in range(6):
        time_passes(db, Appointment)
        sweep(app, run_jobs)
    [waiting] = rows(db, Appointment)
    assert waiting.status == "pending" and waiting.attempts == 7
    assert waiting.next_attempt_at is not None and "503" in (waiting.last_error or "")
    assert "coaching.booking_failed" not in actions(db)

    clear(base)
    time_passes(db, Appointment)
    sweep(app, run_jobs)
    [booked] = rows(db, Appointment)
    assert booked.status == "booked" and booked.next_attempt_at is None
    assert hosted(base, "appointments", agents) == 1
    assert actions(db).count("coaching.booked") == 1


def test_retries_wait_longer_each_time_up_to_the_cap(app):
    with app.app_context():
        settings = app.config["SETTINGS"]
        delays = [booking.retry_delay(n) for n in range(1, 12)]
    base, cap = settings.effect_retry_base_seconds, settings.effect_retry_cap_seconds
    assert base / 2 <= delays[0] <= base
    assert all(cap / 2 <= d <= cap for d in delays[-3:])
    assert all(d <= cap for d in delays)


def test_past_the_give_up_time_the_supervisor_gets_a_task_and_nothing_is_booked_later(
        app, db, run_jobs, sandbox, host_tenant):
    base, state = sandbox
    tenant_id, _ = host_tenant
    agent = state.world.agents[3]
    supervisor = state.world.supervisor_of(agent.id)
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(effect_give_up_seconds=0)
    arm(base, APPOINTMENTS, "503")
    decide_appointments(db, tenant_id, [agent.id])
    dispatch(app, tenant_id, run_jobs)

    [failed] = rows(db, Appointment)
    assert failed.status == "failed"
    [task] = [t for t in rows(db, Task) if t.kind == "appointment_failed"]
    assert task.assignee_id == supervisor.id and task.details["appointment_id"] == failed.id
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "coaching.booking_failed")).one()
    assert entry.details["gave_up"] is True and entry.details["task_id"] == task.id
    clear(base)
    sweep(app, run_jobs)
    assert hosted(base, "appointments", [agent.id]) == 0


def test_a_recognition_past_the_give_up_time_becomes_a_task(
        app, db, run_jobs, sandbox, host_tenant):
    base, state = sandbox
    tenant_id, _ = host_tenant
    agent = state.world.agents[4]
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(effect_give_up_seconds=0)
    arm(base, RECOGNITIONS, "503")
    decide_recognitions(db, tenant_id, [agent.id])
    dispatch(app, tenant_id, run_jobs)
    assert rows(db, Recognition)[0].status == "failed"
    assert [t.kind for t in rows(db, Task)] == ["recognition_failed"]
    assert "recognition.failed" in actions(db)


def test_a_permanent_error_still_fails_at_once(app, db, run_jobs, sandbox, host_tenant):
    tenant_id, _ = host_tenant
    decide_recognitions(db, tenant_id, ["not-a-person-on-the-host"])  # the host answers 400
    dispatch(app, tenant_id, run_jobs)
    [failed] = rows(db, Recognition)
    assert failed.status == "failed" and failed.attempts == 1
    assert "recognition.failed" in actions(db)
    assert not rows(db, Task)


def _set_calendar_policy(db, tenant_id: str, choice: str) -> None:
    policy = copy.deepcopy(DEFAULT_POLICY)
    policy["coaching"]["calendar_unavailable"] = choice
    with db.session() as session:
        session.get(Tenant, tenant_id).policy = policy


def test_a_calendar_outage_is_retried_then_booked_unchecked_by_default(
        app, db, run_jobs, sandbox, host_tenant):
    base, state = sandbox
    tenant_id, _ = host_tenant
    agents = [state.world.agents[5].id]
    arm(base, "/graph/v1.0/users/*", "503")
    decide_appointments(db, tenant_id, agents)
    dispatch(app, tenant_id, run_jobs)
    for _ in range(booking.CALENDAR_ATTEMPTS - 1):
        assert rows(db, Appointment)[0].status == "pending"  # calendar retried, not failed
        time_passes(db, Appointment)
        sweep(app, run_jobs)
    [appointment] = rows(db, Appointment)
    assert appointment.status == "booked" and appointment.calendar_checked is False
    assert appointment.calendar_failures == booking.CALENDAR_ATTEMPTS - 1
    assert hosted(base, "appointments", agents) == 1
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "coaching.calendar_unavailable")).one()
    assert entry.details["policy"] == "book_unchecked"


def test_a_calendar_that_cannot_be_read_with_the_task_policy_asks_the_supervisor(
        app, db, run_jobs, sandbox, host_tenant):
    base, state = sandbox
    tenant_id, _ = host_tenant
    agent = state.world.agents[6]
    supervisor = state.world.supervisor_of(agent.id)
    del state.world.calendars[supervisor.email]  # Graph: ErrorMailRecipientNotFound
    _set_calendar_policy(db, tenant_id, "task")
    decide_appointments(db, tenant_id, [agent.id])
    dispatch(app, tenant_id, run_jobs)
    [appointment] = rows(db, Appointment)
    assert appointment.status == "manual" and appointment.calendar_checked is False
    assert "calendar_unavailable" in appointment.slot_reason
    [task] = rows(db, Task)
    assert task.kind == "schedule_coaching" and "calendar" in task.title
    assert hosted(base, "appointments", [agent.id]) == 0
    assert {"coaching.calendar_unavailable", "coaching.no_slot"} <= set(actions(db))


def test_a_readable_calendar_is_marked_checked(app, db, run_jobs, sandbox, host_tenant):
    _, state = sandbox
    tenant_id, _ = host_tenant
    decide_appointments(db, tenant_id, [state.world.agents[7].id])
    dispatch(app, tenant_id, run_jobs)
    [appointment] = rows(db, Appointment)
    assert appointment.status == "booked" and appointment.calendar_checked is True
