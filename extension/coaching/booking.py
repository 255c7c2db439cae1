"""Effect jobs: book a decided coaching appointment on the host, send a recognition.

Each effect row exists (with a unique idempotency key) before any host call. A retry first looks
on the host for an appointment carrying that key in its description, so a crash between the POST
and our commit never books twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from sqlalchemy import select, update

from connectors.errors import ConnectorError, Forbidden, Invalid, NotFound, Transient
from extension.coaching import task_email as notify
from extension.coaching import wfm_data
from extension.coaching.domain import policies, scheduling
from extension.coaching.models import Appointment, Recognition, Task
from extension.platform import audit, context, hosts, metrics
from extension.platform.db import get_db
from extension.platform.models._types import utcnow
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant
from extension.platform.queue import get_dispatcher, job

log = logging.getLogger("coachwire.booking")
ACTOR = "system:booking"
MAX_ATTEMPTS = 5
SEARCH_DAYS = 10


@dataclass
class Facilitator:
    id: str | None
    email: str | None


def dispatch_effects(tenant_id: str) -> None:
    """Enqueue effect jobs for rows a drain just created (a flag stops double enqueueing)."""
    with get_db().session() as session:
        appointments = session.scalars(select(Appointment.id).where(
            Appointment.tenant_id == tenant_id, Appointment.status == "pending")).all()
        recognitions = session.scalars(select(Recognition.id).where(
            Recognition.tenant_id == tenant_id, Recognition.status == "pending")).all()
    _enqueue(book_appointment, appointments, "appt")
    _enqueue(send_recognition, recognitions, "recog")


def _enqueue(func, ids, prefix: str, *, ttl: int = 60) -> None:
    dispatcher = get_dispatcher()
    for row_id in ids:
        if dispatcher.claim_flag(f"effect:{prefix}:{row_id}", ttl):
            dispatcher.enqueue(func, row_id)


def _lease() -> timedelta:
    return timedelta(seconds=context.settings().effect_lease_seconds)


def sweep_effects() -> dict:
    """Re-enqueue effects left pending or half-done (e.g. a worker killed mid-call)."""
    cutoff = utcnow() - _lease()
    with get_db().session() as session:
        appointments = session.scalars(select(Appointment.id).where(
            Appointment.status.in_(("pending", "booking")), Appointment.updated_at <= cutoff)).all()
        recognitions = session.scalars(select(Recognition.id).where(
            Recognition.status.in_(("pending", "sending")), Recognition.updated_at <= cutoff)).all()
    # Own keys: the dispatch flag of the lost job may still be set.
    _enqueue(book_appointment, appointments, "sweep-appt", ttl=5)
    _enqueue(send_recognition, recognitions, "sweep-recog", ttl=5)
    return {"appointments": len(appointments), "recognitions": len(recognitions)}


def _take_lease(session, model, row_id: int, *, start: str, busy: str) -> bool:
    """Move a row to `busy` if it is at `start`, or `busy` with an expired lease; True when this
    worker won it. Two jobs for one effect (a sweep racing a slow worker) cannot both call out."""
    now = utcnow()
    won = session.execute(
        update(model).where(model.id == row_id).where(
            (model.status == start) | ((model.status == busy) & (model.updated_at <= now - _lease())))
        .values(status=busy, attempts=model.attempts + 1, updated_at=now))
    return won.rowcount == 1


@job(queue="effects", retries=4, intervals=(5, 30, 120, 600))
@metrics.outcomes(metrics.BOOKINGS)
def book_appointment(appointment_id: int) -> str:
    db = get_db()
    with db.session() as session:
        if not _take_lease(session, Appointment, appointment_id, start="pending", busy="booking"):
            return "skipped"
        # the row was just leased, so it exists (the casts only inform the type checker)
        appointment = cast(Appointment, session.get(Appointment, appointment_id))
        tenant = cast(Tenant, session.get(Tenant, appointment.tenant_id))
        facilitator = _known_facilitator(session, tenant.id, appointment.agent_id)
    try:
        outcome = _book(tenant, appointment, facilitator)
    except Transient as exc:
        return _transient_failure(appointment_id, exc)
    except ConnectorError as exc:
        _finish(appointment_id, status="failed", error=exc, action="coaching.booking_failed")
        return "failed"
    return _store_outcome(appointment_id, outcome)


def _known_facilitator(session, tenant_id: str, agent_id: str) -> Facilitator:
    agent = session.get(Person, (tenant_id, agent_id))
    supervisor = agent and agent.supervisor_id and session.get(Person, (tenant_id, agent.supervisor_id))
    if supervisor:
        return Facilitator(supervisor.id, supervisor.email)
    return Facilitator(agent.supervisor_id if agent else None, None)


def _facilitator(client, agent_id: str, known: Facilitator) -> Facilitator:
    if known.id and known.email:
        return known
    user = client.users.get_user(agent_id) if not known.id else {}  # manager needs no expand
    manager_id = known.id or (user.get("manager") or {}).get("id")
    if not manager_id:
        return Facilitator(None, None)
    manager = client.users.get_user(manager_id)
    return Facilitator(manager_id, manager.get("email"))


def _book(tenant, appointment, known: Facilitator) -> dict:
    client = hosts.genesys_for(tenant)
    now = utcnow()
    window_end = now + timedelta(days=SEARCH_DAYS)
    existing = list(client.coaching.list_appointments([appointment.agent_id], start=now -
                                                      timedelta(days=1), end=window_end))
    mine = next((a for a in existing if appointment.idempotency_key in (a.get("description") or "")),
                None)
    if mine:
        return {"status": "booked", "host": mine, "reason": {"resumed": True}}
    facilitator = _facilitator(client, appointment.agent_id, known)
    choice = _choose_slot(client, tenant, appointment, facilitator, existing, now, window_end)
    if isinstance(choice, scheduling.NoSlot):
        return {"status": "manual", "reason": choice.reason, "facilitator": facilitator.id,
                "facilitator_email": facilitator.email}
    host = client.coaching.create_appointment(
        name="Coaching: recent interactions", description=_description(appointment),
        date_start=choice.start, length_in_minutes=appointment.length_minutes,
        attendee_ids=[appointment.agent_id], facilitator_id=facilitator.id,
        conversation_ids=list(appointment.conversation_ids), add_to_schedule=True)
    reason = {**choice.reason, "surplus": choice.surplus}
    return {"status": "booked", "host": host, "reason": reason, "facilitator": facilitator.id}


def _description(appointment) -> str:
    count = len(appointment.conversation_ids)
    return (f"Automated coaching: {count} flagged interactions in the policy window. "
            f"[coachwire:{appointment.idempotency_key}]")


def _choose_slot(client, tenant, appointment, facilitator, existing, now, window_end):
    settings = policies.coaching_settings(tenant.policy or policies.DEFAULT_POLICY)
    picture = wfm_data.gather(client, agent_id=appointment.agent_id, start=now, end=window_end,
                              with_staffing=False)
    request = scheduling.SlotRequest(
        activities=picture.activities, agent_busy=_busy_from(existing),
        supervisor_busy=_supervisor_busy(tenant, facilitator, now, window_end), now=now,
        tz=tenant.timezone, horizon_days=int(settings["horizon_days"]),
        length_minutes=appointment.length_minutes,
        peak_quantile=float(settings.get("peak_quantile", 0.8)))
    try:
        answer = client.coaching.query_slots(
            start=now, end=window_end, length_in_minutes=appointment.length_minutes,
            attendee_ids=[appointment.agent_id],
            facilitator_ids=[facilitator.id] if facilitator.id else None)
        return scheduling.choose_from_host_slots(request, answer.get("suggestedSlots") or [])
    except (NotFound, Invalid, Forbidden) as exc:
        log.info("host slots unavailable (%s); computing from schedule and forecast", exc)
    picture = wfm_data.gather(client, agent_id=appointment.agent_id, start=now, end=window_end,
                              with_staffing=True)
    return scheduling.choose_from_staffing(request, picture.staffing)


def _busy_from(appointments: list[dict]) -> list[tuple]:
    busy = []
    for item in appointments:
        if item.get("dateStart") and item.get("status") != "InvalidSchedule":
            start = wfm_data._parse(item["dateStart"])
            busy.append((start, start + timedelta(minutes=item.get("lengthInMinutes") or 0)))
    return busy


def _supervisor_busy(tenant, facilitator, start, end) -> list[tuple]:
    calendar = hosts.calendar_for(tenant)
    if calendar is None or not facilitator.email:
        return []
    return calendar.busy_intervals(facilitator.email, start, end)


def _transient_failure(appointment_id: int, exc: Exception) -> str:
    with get_db().session() as session:
        appointment = cast(Appointment, session.get(Appointment, appointment_id))
        appointment.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        final = appointment.attempts >= MAX_ATTEMPTS
    if final:
        _finish(appointment_id, status="failed", error=exc, action="coaching.booking_failed")
        return "failed"
    _release(Appointment, appointment_id, status="pending")
    raise exc


def _finish(appointment_id: int, *, status: str, error: Exception, action: str) -> None:
    with get_db().session() as session:
        appointment = cast(Appointment, session.get(Appointment, appointment_id))
        appointment.status, appointment.last_error = status, f"{type(error).__name__}: {error}"[:1000]
        audit.record(session, tenant_id=appointment.tenant_id, actor=ACTOR, action=action,
                     subject_type="appointment", subject_id=str(appointment_id),
                     details={"error": appointment.last_error, "attempts": appointment.attempts})


def _store_outcome(appointment_id: int, outcome: dict) -> str:
    with get_db().session() as session:
        appointment = cast(Appointment, session.get(Appointment, appointment_id))
        appointment.status, appointment.slot_reason = outcome["status"], outcome["reason"]
        appointment.facilitator_id = outcome.get("facilitator") or appointment.facilitator_id
        if outcome["status"] == "booked":
            host = outcome["host"]
            appointment.host_appointment_id = host.get("id")
            appointment.date_start = wfm_data._parse(host["dateStart"]) if host.get("dateStart") else None
            action = "coaching.booked"
        else:
            task = _manual_task(session, appointment, email=outcome.get("facilitator_email"))
            action = "coaching.no_slot"
        audit.record(session, tenant_id=appointment.tenant_id, actor=ACTOR, action=action,
                     subject_type="appointment", subject_id=str(appointment_id),
                     details={"host_appointment_id": appointment.host_appointment_id,
                              "date_start": appointment.date_start and appointment.date_start.isoformat(),
                              "slot": outcome["reason"],
                              "conversation_ids": appointment.conversation_ids})
    if outcome["status"] == "manual":
        notify.dispatch_task_email(task.id)
    return outcome["status"]


def _manual_task(session, appointment, *, email: str | None) -> Task:
    task = Task(
        tenant_id=appointment.tenant_id, assignee_id=appointment.facilitator_id,
        kind="schedule_coaching", idempotency_key=f"manual:{appointment.idempotency_key}",
        title="Schedule a coaching session by hand: no free low-occupancy slot was found",
        details={"agent_id": appointment.agent_id, "appointment_id": appointment.id,
                 "conversation_ids": appointment.conversation_ids, "email_to": email})
    session.add(task)
    session.flush()
    return task


@job(queue="effects", retries=4, intervals=(5, 30, 120, 600))
@metrics.outcomes(metrics.RECOGNITIONS)
def send_recognition(recognition_id: int) -> str:
    with get_db().session() as session:
        if not _take_lease(session, Recognition, recognition_id, start="pending", busy="sending"):
            return "skipped"
        # the row was just leased, so it exists (the cast only informs the type checker)
        recognition = cast(Recognition, session.get(Recognition, recognition_id))
        tenant = session.get(Tenant, recognition.tenant_id)
    try:
        host = hosts.genesys_for(tenant).recognition.create_recognition(
            recipient_id=recognition.agent_id, recognition_type=recognition.kind,
            title="A delighted customer", note="Recognised automatically for a highly positive "
            "interaction.", context_type="Interaction", context_id=recognition.conversation_id)
    except Transient:
        _release(Recognition, recognition_id, status="pending")
        raise  # retried by the queue with backoff
    except ConnectorError as exc:
        _fail_recognition(recognition_id, exc)
        return "failed"
    with get_db().session() as session:
        recognition = cast(Recognition, session.get(Recognition, recognition_id))
        recognition.status, recognition.host_recognition_id = "sent", (host or {}).get("id")
        audit.record(session, tenant_id=recognition.tenant_id, actor=ACTOR,
                     action="recognition.sent", subject_type="recognition",
                     subject_id=str(recognition_id),
                     details={"agent_id": recognition.agent_id,
                              "conversation_id": recognition.conversation_id})
    return "sent"


def _fail_recognition(recognition_id: int, exc: Exception) -> None:
    with get_db().session() as session:
        recognition = cast(Recognition, session.get(Recognition, recognition_id))
        recognition.status, recognition.last_error = "failed", f"{type(exc).__name__}: {exc}"[:1000]
        audit.record(session, tenant_id=recognition.tenant_id, actor=ACTOR,
                     action="recognition.failed", subject_type="recognition",
                     subject_id=str(recognition_id), details={"error": recognition.last_error})


def _release(model, row_id: int, *, status: str) -> None:
    """Give a leased row back so the queue's retry can take it at once."""
    with get_db().session() as session:
        session.execute(update(model).where(model.id == row_id).values(status=status))
