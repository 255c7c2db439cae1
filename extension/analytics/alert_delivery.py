"""Performance alerts: raising (with cool-down), and idempotent delivery.

A *raise* is a new alert, or one whose key is quiet again after its cool-down; an alert that
fires again within the cool-down only refreshes its value (domain.alerts.due_alerts decides).
Each raise gets one ``alert_deliveries`` row per channel, inserted under unique keys in the same
transaction as the alert (before any call): ``panel`` (the supervisor's inbox, i.e. the alerts
API listing: delivered by being stored), ``email`` to the subject's supervisor, ``webhook`` (a
Standard Webhooks-signed POST whose ``webhook-id`` is the idempotency key, so receivers can
de-duplicate too). Jobs take a lease on the row before calling out and mark it ``sent`` after;
a retry finds ``sent`` and stops, so nothing is sent twice once it was acknowledged.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.errors import ConnectorError, Invalid, Transient
from connectors.mail import send_mail
from connectors.webhooks import post_signed
from extension.analytics.alert_settings import settings_for
from extension.analytics.domain import alerts as rules_domain
from extension.analytics.forecast import weekly_by
from extension.analytics.models.delivery import AlertDelivery, AlertSettings
from extension.analytics.models.facts import PerformanceAlert
from extension.analytics.query import Slice, kpi_rows
from extension.platform import audit, context, mail
from extension.platform.db import get_db
from extension.platform.models._types import utcnow
from extension.platform.models.people import Person
from extension.platform.queue import get_dispatcher, job
from extension.platform.tenants import tenant_timezone

log = logging.getLogger("coachwire.alerts")
ACTOR = "system:alerts"
CHANNELS = ("panel", "email", "webhook")
MAX_ATTEMPTS = 6
WINDOW_DAYS = 7  # threshold rules judge the last week of local days
DEVIATION_WEEKS = 12  # the EWMA chart's history of weekly AES per agent
TIMEOUT = 10.0
EVENT_TYPE = "performance_alert.raised"


# ---------------------------------------------------------------- raising


def candidates(session: Session, *, tenant_id: str, settings: AlertSettings, as_of: date) -> list:
    """Threshold breaches over the last WINDOW_DAYS local days to ``as_of``, and agents whose
    weekly AES left its EWMA control limits."""
    recent = Slice(tenant_id=tenant_id, start=as_of - timedelta(days=WINDOW_DAYS - 1), end=as_of)
    found = []
    for subject in ("agent", "team"):
        rules = [rules_domain.ThresholdRule(r["rule_id"], r["metric"], r["op"], r["value"])
                 for r in settings.rules or [] if r.get("subject", "agent") == subject]
        if not rules:
            continue
        column = f"{subject}_id"
        values = {(subject, row[column]): row for row in kpi_rows(session, recent, dims=(column,))
                  if row[column] is not None}
        found += rules_domain.threshold_alerts(rules, values)
    history = Slice(tenant_id=tenant_id, start=as_of - timedelta(weeks=DEVIATION_WEEKS), end=as_of)
    series = {("agent", agent): [r["aes"] for r in rows if r["aes"] is not None]
              for agent, rows in weekly_by(session, history, level="agent").items()}
    return found + rules_domain.deviation_alerts(series, metric="aes", rule_id="aes-deviation")


@dataclass(frozen=True)
class Raised:
    key: str
    raise_id: str


def raise_alerts(session: Session, *, tenant_id: str, found: list, now: datetime,
                 settings: AlertSettings | None = None) -> dict[str, list]:
    """Store candidates: new raises get deliveries; re-raises within the cool-down only refresh."""
    settings = settings or settings_for(session, tenant_id)
    cooldown = timedelta(hours=settings.cooldown_hours)
    result: dict[str, list] = {"raised": [], "refreshed": []}
    for alert in found:
        stored = session.get(PerformanceAlert, (tenant_id, alert.key))
        previous = [] if stored is None else [{"key": alert.key, "at": stored.raised_at}]
        if not rules_domain.due_alerts([alert], previous=previous, cooldown=cooldown, now=now):
            assert stored is not None  # an alert never stored before is always due
            stored.value, stored.message = alert.value, alert.message[:500]
            stored.details = {**(stored.details or {}), "last_seen": now.isoformat()}
            result["refreshed"].append(alert.key)
            continue
        stored = stored or PerformanceAlert(tenant_id=tenant_id, key=alert.key)
        subject_type, subject_id = alert.subject
        raise_id = now.strftime("%Y%m%dT%H%M%S.%fZ")
        stored.kind, stored.subject_type, stored.subject_id = alert.kind, subject_type, str(subject_id)
        stored.metric, stored.value, stored.message = alert.metric, alert.value, alert.message[:500]
        stored.status, stored.raised_at, stored.cooldown_until = "open", now, now + cooldown
        stored.details = {"raise_id": raise_id, "last_seen": now.isoformat()}
        session.add(stored)
        session.flush()
        _create_deliveries(session, settings, stored, raise_id=raise_id)
        audit.record(session, tenant_id=tenant_id, actor=ACTOR, action="alert.raised", subject_type="alert",
                     subject_id=alert.key, details={"raise_id": raise_id, "value": alert.value,
                                                    "kind": alert.kind})
        result["raised"].append(Raised(alert.key, raise_id))
    return result


def idempotency_key(tenant_id: str, alert_key: str, raise_id: str, channel: str) -> str:
    digest = hashlib.sha256("\x1f".join((tenant_id, alert_key, raise_id, channel)).encode()).hexdigest()
    return f"alert_{digest[:40]}"


def supervisor_email(session: Session, alert: PerformanceAlert) -> str | None:
    """The subject's supervisor: an agent's ``supervisor_id``; a team's supervisor member."""
    if alert.subject_type == "agent":
        agent = session.get(Person, (alert.tenant_id, alert.subject_id))
        boss = agent and agent.supervisor_id and session.get(Person, (alert.tenant_id, agent.supervisor_id))
    else:
        boss = session.scalars(select(Person).where(
            Person.tenant_id == alert.tenant_id, Person.team_id == alert.subject_id,
            Person.role == "supervisor").order_by(Person.id)).first()
    return boss.email if boss and boss.email else None


def _create_deliveries(session: Session, settings: AlertSettings, alert: PerformanceAlert, *,
                       raise_id: str) -> None:
    now = utcnow()
    rows: list[tuple[str, str | None, str]] = [("panel", None, "sent")]
    if settings.email_enabled:
        email = supervisor_email(session, alert)
        rows.append(("email", email, "pending" if email else "skipped"))
    if settings.webhook_url:
        rows.append(("webhook", settings.webhook_url, "pending"))
    for channel, recipient, status in rows:
        delivery = AlertDelivery(
            tenant_id=alert.tenant_id, alert_key=alert.key, raise_id=raise_id, channel=channel,
            idempotency_key=idempotency_key(alert.tenant_id, alert.key, raise_id, channel),
            recipient=recipient, status=status, attempts=0, created_at=now, updated_at=now,
            sent_at=now if status == "sent" else None,
            last_error="the supervisor has no email address" if status == "skipped" else None)
        try:
            with session.begin_nested():
                session.add(delivery)
        except IntegrityError:  # another worker stored this raise's delivery first
            log.info("delivery %s exists", delivery.idempotency_key)


def evaluate(session: Session, *, tenant_id: str, as_of: date | None = None,
             now: datetime | None = None) -> dict[str, list]:
    """Find, store and (via :func:`dispatch`, after commit) deliver a tenant's alerts."""
    now = now or utcnow()
    as_of = as_of or now.astimezone(ZoneInfo(tenant_timezone(session, tenant_id))).date()
    settings = settings_for(session, tenant_id)
    found = candidates(session, tenant_id=tenant_id, settings=settings, as_of=as_of)
    return raise_alerts(session, tenant_id=tenant_id, found=found, now=now, settings=settings)


@job(queue="default", retries=0, timeout=1800)
def evaluate_all(as_of: date | None = None) -> dict[str, int]:
    """The periodic job: judge every active tenant's rules and control charts, one transaction
    each, and queue the deliveries of new raises. A tenant that fails is logged and skipped."""
    from extension.platform.models.tenants import Tenant

    db = get_db()
    with db.session() as session:
        tenant_ids = list(session.scalars(select(Tenant.id).where(Tenant.status == "active")))
    raised = {}
    for tenant_id in tenant_ids:
        try:
            with db.session() as session:
                raised[tenant_id] = len(evaluate(session, tenant_id=tenant_id, as_of=as_of)["raised"])
        except Exception:  # one tenant's bad data must not stop the others' alerts
            log.exception("alert evaluation failed tenant=%s", tenant_id)
            continue
        if raised[tenant_id]:
            dispatch(tenant_id)
    return raised


# ---------------------------------------------------------------- delivery


def dispatch(tenant_id: str | None = None) -> int:
    """Enqueue a job for every pending email/webhook delivery (a flag stops double enqueueing)."""
    query = select(AlertDelivery.id).where(AlertDelivery.status == "pending")
    if tenant_id is not None:
        query = query.where(AlertDelivery.tenant_id == tenant_id)
    with get_db().session() as session:
        ids = session.scalars(query.order_by(AlertDelivery.id)).all()
    dispatcher, count = get_dispatcher(), 0
    for delivery_id in ids:
        if dispatcher.claim_flag(f"effect:alert:{delivery_id}", 60):
            dispatcher.enqueue(deliver_alert, delivery_id, job_id=f"alert-delivery-{delivery_id}")
            count += 1
    return count


@job(queue="effects", retries=0)
def sweep() -> int:
    """Re-enqueue deliveries left pending or mid-call past the lease (a worker died)."""
    cutoff = utcnow() - _lease()
    with get_db().session() as session:
        ids = session.scalars(select(AlertDelivery.id).where(
            AlertDelivery.status.in_(("pending", "sending")), AlertDelivery.updated_at <= cutoff)).all()
    dispatcher = get_dispatcher()
    for delivery_id in ids:
        if dispatcher.claim_flag(f"effect:sweep-alert:{delivery_id}", 5):
            dispatcher.enqueue(deliver_alert, delivery_id)
    return len(ids)


def _lease() -> timedelta:
    return timedelta(seconds=context.settings().effect_lease_seconds)


def _take_lease(session: Session, delivery_id: int) -> bool:
    now = utcnow()
    won = cast(CursorResult[Any], session.execute(
        update(AlertDelivery).where(AlertDelivery.id == delivery_id).where(
            (AlertDelivery.status == "pending")
            | ((AlertDelivery.status == "sending") & (AlertDelivery.updated_at <= now - _lease())))
        .values(status="sending", attempts=AlertDelivery.attempts + 1, updated_at=now)))
    return won.rowcount == 1


@job(queue="effects", retries=5, intervals=(2, 15, 60, 300, 1800))
def deliver_alert(delivery_id: int) -> str:
    """Send one delivery once: lease, call, record. Transient failures raise (the job retries)."""
    with get_db().session() as session:
        if not _take_lease(session, delivery_id):
            return "skipped"
        delivery = session.get(AlertDelivery, delivery_id)
        assert delivery is not None  # the lease was just taken on this row
        alert = session.get(PerformanceAlert, (delivery.tenant_id, delivery.alert_key))
        if alert is None:  # erased since (retention, subject erasure): nothing left to say
            missing = True
        else:
            missing, message = False, _payload(delivery, alert)
        settings = settings_for(session, delivery.tenant_id)
        channel, recipient = delivery.channel, delivery.recipient
        secret_token = settings.webhook_secret_enc
    if missing:
        return _finish(delivery_id, status="failed", error="the alert no longer exists")
    try:
        if channel == "email":
            _send_email(cast(str, recipient), message)  # pending deliveries have a recipient
        else:
            box = context.secret_box()
            post_signed(cast(str, recipient), box.open(secret_token), msg_id=message["id"], payload=message,
                        allow_loopback=webhook_allow_loopback())
    except Transient as exc:
        return _transient(delivery_id, exc)
    except ConnectorError as exc:
        return _finish(delivery_id, status="failed", error=f"{type(exc).__name__}: {exc}")
    return _finish(delivery_id, status="sent", error=None)


def webhook_allow_loopback() -> bool:
    """Whether alert webhooks may reach loopback addresses: only when the settings' ``extra``
    says ``webhook_allow_loopback`` (tests, the sandbox); never from the environment, so it is
    off in production."""
    return bool(context.settings().extra.get("webhook_allow_loopback", False))


def _payload(delivery: AlertDelivery, alert: PerformanceAlert) -> dict[str, Any]:
    return {"id": delivery.idempotency_key, "type": EVENT_TYPE, "timestamp": alert.raised_at.isoformat(),
            "data": {"tenant_id": alert.tenant_id, "key": alert.key, "raise_id": delivery.raise_id,
                     "kind": alert.kind, "subject_type": alert.subject_type, "subject_id": alert.subject_id,
                     "metric": alert.metric, "value": alert.value, "message": alert.message,
                     "raised_at": alert.raised_at.isoformat()}}


def _send_email(recipient: str, message: dict[str, Any]) -> None:
    smtp = mail.smtp_settings()
    if smtp is None:
        raise Invalid("SMTP is not configured")
    data = message["data"]
    subject = f"Coachwire alert: {data['metric']} for {data['subject_type']} {data['subject_id']}"
    text = (f"{data['message']}\n\nSubject: {data['subject_type']} {data['subject_id']}\n"
            f"Metric: {data['metric']} = {data['value']:g}\nRaised: {data['raised_at']}\n"
            f"Alert: {data['key']}\nReference: {message['id']}\n\n"
            "Open the Coachwire supervisor panel to acknowledge it.\n")
    send_mail(smtp, to=[recipient], subject=subject, text=text)


def _transient(delivery_id: int, exc: Exception) -> str:
    with get_db().session() as session:
        delivery = session.get(AlertDelivery, delivery_id)
        assert delivery is not None
        final = delivery.attempts >= MAX_ATTEMPTS
    if final:
        return _finish(delivery_id, status="failed", error=f"{type(exc).__name__}: {exc}")
    with get_db().session() as session:
        delivery = session.get(AlertDelivery, delivery_id)
        assert delivery is not None
        delivery.status, delivery.updated_at = "pending", utcnow()
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    raise exc


def _finish(delivery_id: int, *, status: str, error: str | None) -> str:
    with get_db().session() as session:
        delivery = session.get(AlertDelivery, delivery_id)
        assert delivery is not None
        delivery.status, delivery.updated_at = status, utcnow()
        delivery.last_error = None if error is None else error[:1000]
        if status == "sent":
            delivery.sent_at = delivery.updated_at
        audit.record(session, tenant_id=delivery.tenant_id, actor=ACTOR, action=f"alert.delivery_{status}",
                     subject_type="alert_delivery", subject_id=str(delivery_id),
                     details={"channel": delivery.channel, "alert_key": delivery.alert_key,
                              "raise_id": delivery.raise_id, "attempts": delivery.attempts,
                              "error": delivery.last_error})
    return status
