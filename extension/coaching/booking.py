"""Effect jobs: book a decided coaching appointment on the host, send a recognition.

Each effect row exists (with a unique idempotency key) before any host call, and lands on the
host exactly once:
- A create is never re-sent blindly (the transport does not retry it after a 5xx or a timeout).
  Before any attempt after the first, we look on the host for the one an earlier attempt may have
  made and adopt it: an appointment carrying our key in its description, a recognition we sent
  to the agent for the same interaction (contextId). This covers a lost answer, a worker killed
  mid-call (its lease runs out and the sweep takes the row) and a crash before our commit.
- A transient failure (connection, timeout, 5xx, 408, 409, 429) puts the row back to `pending`
  with a due time (`next_attempt_at`, capped exponential backoff); the periodic sweep takes due
  rows, so the retrying survives restarts. Only after `effect_give_up_seconds` (a day, like a
  host's own sender) does it fail, with a task for the supervisor. Other 4xx fail at once.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select, update

from connectors.errors import ConnectorError, Forbidden, Invalid, NotFound, Transient
from connectors.genesys.body import iso_utc
from extension.coaching import task_email as notify
from extension.coaching import wfm_data
from extension.coaching.domain import policies, scheduling
from extension.coaching.models import Appointment, Recognition, Task
from extension.platform import audit, context, hosts, logs, metrics
from extension.platform.db import get_db
from extension.platform.models._types import utcnow
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant
from extension.platform.queue import get_dispatcher, job

log = logging.getLogger("coachwire.booking")
ACTOR = "system:booking"
SEARCH_DAYS = 10
RETRYABLE_STATUSES = (408, 409)  # 4xx that say "try again", besides 429 (a Transient already)
CALENDAR_ATTEMPTS = 3  # effect attempts that meet a transient calendar error before we go on
RECOGNITION_NOTE = "Recognised automatically for a highly positive interaction."


class CalendarDown(Transient):
    """The supervisor's calendar failed transiently (after the transport's own retries)."""


@dataclass
class Facilitator:
    id: str | None
    email: str | None


def dispatch_effects(tenant_id: str) -> None:
    """Enqueue effect jobs for rows a drain just created (a flag stops double enqueueing)."""
    now = utcnow()
    with get_db().session() as session:
        appointments = session.execute(select(Appointment.id, Appointment.attempts).where(
            Appointment.tenant_id == tenant_id, Appointment.status == "pending",
            _due(Appointment, now))).all()
        recognitions = session.execute(select(Recognition.id, Recognition.attempts).where(
            Recognition.tenant_id == tenant_id, Recognition.status == "pending",
            _due(Recognition, now))).all()
    _enqueue(book_appointment, appointments, "appt")
    _enqueue(send_recognition, recognitions, "recog")


def _enqueue(func, rows, prefix: str, *, ttl: int = 60) -> None:
    """One job per (row, attempt): the flag stops double enqueueing of one attempt, while the
    next attempt of a retrying row is never held back by the previous one's flag."""
    dispatcher = get_dispatcher()
    for row_id, attempts in rows:
        if dispatcher.claim_flag(f"effect:{prefix}:{row_id}:{attempts}", ttl):
            dispatcher.enqueue(func, row_id)


def _lease() -> timedelta:
    return timedelta(seconds=context.settings().effect_lease_seconds)


def _due(model, now: datetime):
    """Rows whose next attempt is due (None: due since they were written)."""
    return model.next_attempt_at.is_(None) | (model.next_attempt_at <= now)


def _sweepable(model, busy: str, now: datetime):
    """Pending rows due for a retry, new rows a lost dispatch left behind (after a lease, so a
    fresh dispatch is not raced), and `busy` rows whose worker's lease ran out."""
    cutoff = now - _lease()
    return (((model.status == "pending") & (
        (model.next_attempt_at <= now)
        | (model.next_attempt_at.is_(None) & (model.updated_at <= cutoff))))
        | ((model.status == busy) & (model.updated_at <= cutoff)))


def sweep_effects() -> dict:
    """Re-enqueue effects whose retry is due, or left half-done (e.g. a worker killed mid-call).
    Runs periodically, so retries scheduled before a restart still happen."""
    now = utcnow()
    with get_db().session() as session:
        appointments = session.execute(select(Appointment.id, Appointment.attempts).where(
            _sweepable(Appointment, "booking", now))).all()
        recognitions = session.execute(select(Recognition.id, Recognition.attempts).where(
            _sweepable(Recognition, "sending", now))).all()
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
            ((model.status == start) & _due(model, now))
            | ((model.status == busy) & (model.updated_at <= now - _lease())))
        .values(status=busy, attempts=model.attempts + 1, next_attempt_at=None, updated_at=now))
    return won.rowcount == 1


@job(queue="effects", retries=4, intervals=(5, 30, 120, 600))
@metrics.outcomes(metrics.BOOKINGS)
def book_appointment(appointment_id: int) -> str:
    db = get_db()
    with db.session() as session:
        if not _take_lease(session, Appointment, appointment_id, start="pending", busy="booking"):
            _bind_tenant_of(session, Appointment, appointment_id)
            return "skipped"
        # the row was just leased, so it exists (the casts only inform the type checker)
        appointment = cast(Appointment, session.get(Appointment, appointment_id))
        logs.bind_tenant(appointment.tenant_id)
        tenant = cast(Tenant, session.get(Tenant, appointment.tenant_id))
        facilitator = _known_facilitator(session, tenant.id, appointment.agent_id)
    try:
        outcome = _book(tenant, appointment, facilitator)
    except ConnectorError as exc:
        if retryable(exc):
            return _retry_later(Appointment, appointment_id, exc)
        _finish(appointment_id, status="failed", error=exc, action="coaching.booking_failed")
        return "failed"
    return _store_outcome(appointment_id, outcome)


def _bind_tenant_of(session, model, row_id: int) -> None:
    """A skipped job's row (if there is one) names the tenant its logs and metrics carry."""
    tenant_id = session.scalar(select(model.tenant_id).where(model.id == row_id))
    if tenant_id is not None:
        logs.bind_tenant(tenant_id)


def retryable(exc: ConnectorError) -> bool:
    """Worth another attempt later: connection, timeout, 5xx, 429, and 408/409."""
    return isinstance(exc, Transient) or exc.status in RETRYABLE_STATUSES


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
    # Every attempt looks first, the very first one too (a crash may precede our first commit).
    # An earlier attempt chose its slot in [its time, its time + SEARCH_DAYS], and every attempt
    # is after the decision, so the window from the decision (less a day for clock skew) to now
    # + SEARCH_DAYS holds whatever any attempt made.
    existing = list(client.coaching.list_appointments(
        [appointment.agent_id], start=min(appointment.created_at, now) - timedelta(days=1),
        end=window_end + timedelta(days=1)))
    mine = next((a for a in existing if _marker(appointment) in (a.get("description") or "")),
                None)
    if mine:
        return {"status": "booked", "host": mine, "reason": {"adopted": True}, "adopted": True}
    facilitator = _facilitator(client, appointment.agent_id, known)
    choice, calendar = _choose_slot(client, tenant, appointment, facilitator, existing, now,
                                    window_end)
    if isinstance(choice, scheduling.NoSlot):
        return {"status": "manual", "reason": choice.reason, "facilitator": facilitator.id,
                "facilitator_email": facilitator.email, "calendar": calendar}
    host = client.coaching.create_appointment(
        name="Coaching: recent interactions", description=_description(appointment),
        date_start=choice.start, length_in_minutes=appointment.length_minutes,
        attendee_ids=[appointment.agent_id], facilitator_id=facilitator.id,
        conversation_ids=list(appointment.conversation_ids), add_to_schedule=True)
    reason = {**choice.reason, "surplus": choice.surplus}
    return {"status": "booked", "host": host, "reason": reason, "facilitator": facilitator.id,
            "calendar": calendar}


def _marker(appointment) -> str:
    # With the closing bracket, so key ...:1 never matches a description made for ...:10.
    return f"[coachwire:{appointment.idempotency_key}]"


def _description(appointment) -> str:
    count = len(appointment.conversation_ids)
    return (f"Automated coaching: {count} flagged interactions in the policy window. "
            f"{_marker(appointment)}")


def _choose_slot(client, tenant, appointment, facilitator, existing, now, window_end):
    """(a slot or NoSlot, the calendar check: {"checked": True|False|None, ...})."""
    settings = policies.coaching_settings(tenant.policy or policies.DEFAULT_POLICY)
    picture = wfm_data.gather(client, agent_id=appointment.agent_id, start=now, end=window_end,
                              with_staffing=False)
    supervisor_busy, calendar = _supervisor_busy(tenant, appointment, facilitator, now,
                                                 window_end, settings["calendar_unavailable"])
    if calendar.get("checked") is False and calendar["policy"] == "task":
        return scheduling.NoSlot({"calendar_unavailable": calendar["error"]}), calendar
    request = scheduling.SlotRequest(
        activities=picture.activities, agent_busy=_busy_from(existing),
        supervisor_busy=supervisor_busy, now=now,
        tz=tenant.timezone, horizon_days=int(settings["horizon_days"]),
        length_minutes=appointment.length_minutes,
        peak_quantile=float(settings.get("peak_quantile", 0.8)))
    try:
        answer = client.coaching.query_slots(
            start=now, end=window_end, length_in_minutes=appointment.length_minutes,
            attendee_ids=[appointment.agent_id],
            facilitator_ids=[facilitator.id] if facilitator.id else None)
        return (scheduling.choose_from_host_slots(request, answer.get("suggestedSlots") or []),
                calendar)
    except (NotFound, Invalid, Forbidden) as exc:
        log.info("host slots unavailable (%s); computing from schedule and forecast", exc)
    picture = wfm_data.gather(client, agent_id=appointment.agent_id, start=now, end=window_end,
                              with_staffing=True)
    return scheduling.choose_from_staffing(request, picture.staffing), calendar


def _busy_from(appointments: list[dict]) -> list[tuple]:
    busy = []
    for item in appointments:
        if item.get("dateStart") and item.get("status") != "InvalidSchedule":
            start = wfm_data._parse(item["dateStart"])
            busy.append((start, start + timedelta(minutes=item.get("lengthInMinutes") or 0)))
    return busy


def _supervisor_busy(tenant, appointment, facilitator, start, end,
                     policy: str) -> tuple[list[tuple], dict]:
    """The supervisor's busy intervals and how the calendar check went. A transient calendar
    error (the transport has retried it already) retries the whole effect later, up to
    CALENDAR_ATTEMPTS attempts; after that, or on an error retrying cannot mend (no such
    mailbox, no permission), availability is unknown and the tenant's `calendar_unavailable`
    policy decides: book unchecked, or hand the supervisor a task."""
    calendar = hosts.calendar_for(tenant)
    if calendar is None or not facilitator.email:
        return [], {"checked": None}
    try:
        return calendar.busy_intervals(facilitator.email, start, end), {"checked": True}
    except ConnectorError as exc:
        if retryable(exc) and appointment.calendar_failures + 1 < CALENDAR_ATTEMPTS:
            raise CalendarDown(f"calendar: {exc}", status=exc.status) from exc
        error = f"{type(exc).__name__}: {exc}"[:300]
        log.warning("supervisor calendar unavailable (%s); policy %s", error, policy)
        return [], {"checked": False, "policy": policy, "error": error}


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: exponential from the base, capped, with jitter
    (between half and all of it, so a host coming back is not hit by every row at once)."""
    settings = context.settings()
    ceiling = min(settings.effect_retry_cap_seconds,
                  settings.effect_retry_base_seconds * 2 ** min(max(attempts - 1, 0), 30))
    return ceiling * random.uniform(0.5, 1.0)


def _retry_later(model, row_id: int, exc: ConnectorError) -> str:
    """Back to `pending` with a due time, or, past the give-up time, failed with a task."""
    now = utcnow()
    give_up = timedelta(seconds=context.settings().effect_give_up_seconds)
    with get_db().session() as session:
        row = cast(Appointment | Recognition, session.get(model, row_id))  # the leased row
        row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        if isinstance(exc, CalendarDown) and isinstance(row, Appointment):
            row.calendar_failures += 1
        if now - row.created_at < give_up:
            row.status = "pending"
            due = now + timedelta(seconds=retry_delay(row.attempts))
            row.next_attempt_at = due
            log.warning("%s %s: %s; attempt %d, next at %s", model.__tablename__, row_id,
                        row.last_error, row.attempts, due.isoformat())
            return "retrying"
        task = _give_up(session, model, row, now)
    notify.dispatch_task_email(task.id)
    return "failed"


def _give_up(session, model, row, now: datetime) -> Task:
    """The host stayed unreachable for the give-up time: fail, audit, and alert a person with
    a task (and its email) to do it by hand. Nothing is sent to the host after this."""
    kind = "appointment" if model is Appointment else "recognition"
    row.status = "failed"
    supervisor = _supervisor_of(session, row.tenant_id, row.agent_id)
    what = ("book the coaching session" if kind == "appointment" else "send the recognition")
    task = Task(
        tenant_id=row.tenant_id, assignee_id=supervisor.id, kind=f"{kind}_failed",
        idempotency_key=f"gave-up:{row.idempotency_key}",
        title=f"The host was unreachable for a day: {what} by hand",
        details={"agent_id": row.agent_id, f"{kind}_id": row.id, "error": row.last_error,
                 "attempts": row.attempts, "email_to": supervisor.email,
                 "conversation_ids": (row.conversation_ids if kind == "appointment"
                                      else [row.conversation_id])})
    session.add(task)
    session.flush()
    action = "coaching.booking_failed" if kind == "appointment" else "recognition.failed"
    audit.record(session, tenant_id=row.tenant_id, actor=ACTOR, action=action,
                 subject_type=kind, subject_id=str(row.id),
                 details={"error": row.last_error, "attempts": row.attempts, "gave_up": True,
                          "since": iso_utc(row.created_at), "task_id": task.id})
    log.error("ALERT: %s %s of tenant %s gave up after %d attempts: %s", kind, row.id,
              row.tenant_id, row.attempts, row.last_error)
    return task


def _supervisor_of(session, tenant_id: str, agent_id: str) -> Facilitator:
    return _known_facilitator(session, tenant_id, agent_id)


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
        calendar = outcome.get("calendar") or {}
        if "checked" in calendar:
            appointment.calendar_checked = calendar["checked"]
        if calendar.get("checked") is False:
            audit.record(session, tenant_id=appointment.tenant_id, actor=ACTOR,
                         action="coaching.calendar_unavailable", subject_type="appointment",
                         subject_id=str(appointment_id),
                         details={"policy": calendar["policy"], "error": calendar["error"],
                                  "calendar_failures": appointment.calendar_failures})
        if outcome["status"] == "booked":
            host = outcome["host"]
            appointment.host_appointment_id = host.get("id")
            appointment.date_start = wfm_data._parse(host["dateStart"]) if host.get("dateStart") else None
            action = "coaching.adopted" if outcome.get("adopted") else "coaching.booked"
        else:
            task = _manual_task(session, appointment, email=outcome.get("facilitator_email"),
                                calendar_unavailable="calendar_unavailable" in outcome["reason"])
            action = "coaching.no_slot"
        audit.record(session, tenant_id=appointment.tenant_id, actor=ACTOR, action=action,
                     subject_type="appointment", subject_id=str(appointment_id),
                     details={"host_appointment_id": appointment.host_appointment_id,
                              "date_start": appointment.date_start and appointment.date_start.isoformat(),
                              "slot": outcome["reason"],
                              "calendar_checked": appointment.calendar_checked,
                              "attempts": appointment.attempts,
                              "conversation_ids": appointment.conversation_ids})
    if outcome["status"] == "manual":
        notify.dispatch_task_email(task.id)
    return outcome["status"]


def _manual_task(session, appointment, *, email: str | None,
                 calendar_unavailable: bool = False) -> Task:
    why = ("your calendar could not be read" if calendar_unavailable
           else "no free low-occupancy slot was found")
    task = Task(
        tenant_id=appointment.tenant_id, assignee_id=appointment.facilitator_id,
        kind="schedule_coaching", idempotency_key=f"manual:{appointment.idempotency_key}",
        title=f"Schedule a coaching session by hand: {why}",
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
            _bind_tenant_of(session, Recognition, recognition_id)
            return "skipped"
        # the row was just leased, so it exists (the cast only informs the type checker)
        recognition = cast(Recognition, session.get(Recognition, recognition_id))
        logs.bind_tenant(recognition.tenant_id)
        tenant = session.get(Tenant, recognition.tenant_id)
    try:
        client = hosts.genesys_for(tenant)
        # Any attempt after the first may follow one whose outcome we never learned (a lost
        # answer, a killed worker): look for what it made before sending again.
        host = _sent_before(client, recognition) if recognition.attempts > 1 else None
        adopted = host is not None
        if host is None:
            host = client.recognition.create_recognition(
                recipient_id=recognition.agent_id, recognition_type=recognition.kind,
                title="A delighted customer", note=RECOGNITION_NOTE, context_type="Interaction",
                context_id=recognition.conversation_id)
    except ConnectorError as exc:
        if retryable(exc):
            return _retry_later(Recognition, recognition_id, exc)
        _fail_recognition(recognition_id, exc)
        return "failed"
    with get_db().session() as session:
        recognition = cast(Recognition, session.get(Recognition, recognition_id))
        recognition.status, recognition.host_recognition_id = "sent", (host or {}).get("id")
        audit.record(session, tenant_id=recognition.tenant_id, actor=ACTOR,
                     action="recognition.adopted" if adopted else "recognition.sent",
                     subject_type="recognition", subject_id=str(recognition_id),
                     details={"agent_id": recognition.agent_id,
                              "host_recognition_id": recognition.host_recognition_id,
                              "attempts": recognition.attempts,
                              "conversation_id": recognition.conversation_id})
    return "adopted" if adopted else "sent"


def _sent_before(client, recognition) -> dict | None:
    """The recognition an earlier attempt sent, if the host has it: one we sent (direction
    sent) to this agent since the decision, for this interaction (contextType Interaction,
    contextId the conversation). Our key is `recognition:<conversation id>`, so the context
    carries it; the oldest match wins."""
    now = utcnow()
    found = [r for r in client.recognition.list_sent(
        recipient_id=recognition.agent_id, start=min(recognition.created_at, now) -
        timedelta(days=1), end=now + timedelta(days=1))
        if r.get("contextType") == "Interaction"
        and r.get("contextId") == recognition.conversation_id]
    return min(found, key=lambda r: r.get("dateCreated") or "") if found else None


def _fail_recognition(recognition_id: int, exc: Exception) -> None:
    with get_db().session() as session:
        recognition = cast(Recognition, session.get(Recognition, recognition_id))
        recognition.status, recognition.last_error = "failed", f"{type(exc).__name__}: {exc}"[:1000]
        audit.record(session, tenant_id=recognition.tenant_id, actor=ACTOR,
                     action="recognition.failed", subject_type="recognition",
                     subject_id=str(recognition_id), details={"error": recognition.last_error})

