"""The alert inbox: raised performance alerts about agents and teams in the caller's scope,
acknowledge/close (audited), and the tenant's alert settings (admins)."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from sqlalchemy import select

from extension.analytics import alert_inbox, alert_settings
from extension.analytics.api import schemas
from extension.analytics.models.delivery import AlertDelivery
from extension.analytics.models.facts import PerformanceAlert
from extension.platform.api.plumbing import documented, offset_of, page, parse, parse_body, respond
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import ALERTS_READ, ALERTS_WRITE, SETTINGS_WRITE
from extension.platform.db import get_db
from extension.platform.problems import Problem

bp = Blueprint("api_alerts", __name__, url_prefix="/api/v1")
FIELDS = ("key", "kind", "subject_type", "subject_id", "metric", "value", "message", "status", "raised_at")


@bp.get("/alerts")
@documented(summary="The alert inbox: performance alerts (thresholds and control-limit deviations)",
            query=schemas.AlertInboxQuery, response=schemas.AlertsPage)
@require(ALERTS_READ)
def alerts():
    """Newest first; a supervisor sees alerts about their agents and teams. ``status`` is open
    (default), acknowledged, closed or all; GET /alerts/<key> adds who acted and the deliveries."""
    args = parse(schemas.AlertInboxQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        query = _scoped(session, principal, status=args["status"])
        found = session.scalars(query.limit(args["limit"] + 1).offset(offset)).all()
        rows, cursor = page(list(found), limit=args["limit"], offset=offset)
        items = [{name: getattr(alert, name) for name in FIELDS} for alert in rows]
    return respond({"items": items, "next_cursor": cursor})


@bp.get("/alerts/<path:key>")
@documented(summary="One alert of the inbox, with who acted on it and its deliveries",
            query=None, response=schemas.AlertInboxItem, tag="alerts")
@require(ALERTS_READ)
def alert(key: str):
    """Deliveries are those of the alert's current raise (panel, email, webhook). Another
    tenant's or an out-of-scope key is 404."""
    principal = current_principal()
    with get_db().session() as session:
        found = session.scalars(_scoped(session, principal, status="all")
                                .where(PerformanceAlert.key == key)).first()
        if found is None:
            raise Problem(404, "Not Found", f"No alert {key!r} in your scope.")
        item = _item(session, found)
    return respond(item)


def _item(session, alert: PerformanceAlert) -> dict:
    item = {name: getattr(alert, name) for name in FIELDS}
    details = alert.details or {}
    raise_id = details.get("raise_id")
    item.update(raise_id=raise_id, acknowledged_by=details.get("acknowledged_by"),
                acknowledged_at=details.get("acknowledged_at"), closed_by=details.get("closed_by"))
    deliveries = session.scalars(select(AlertDelivery).where(
        AlertDelivery.tenant_id == alert.tenant_id, AlertDelivery.alert_key == alert.key,
        AlertDelivery.raise_id == (raise_id or "")).order_by(AlertDelivery.channel)).all()
    item["deliveries"] = [{"channel": d.channel, "status": d.status, "attempts": d.attempts,
                           "raise_id": d.raise_id} for d in deliveries]
    return item


def _scoped(session, principal, *, status: str):
    return alert_inbox.scoped(session, principal, status=status)


def _body() -> dict:
    """The optional JSON body of an action ({} when there is none)."""
    if not request.get_data(cache=True):
        return {}
    return parse_body(schemas.AlertActionBody)


def _act(key: str, action: str):
    body, principal = _body(), current_principal()
    with get_db().session() as session:
        try:
            alert = alert_inbox.act(session, principal, key, action, note=body.get("note"))
        except alert_inbox.NotAllowedNow as exc:
            raise Problem(409, "Conflict", str(exc)) from exc
        if alert is None:
            raise Problem(404, "Not Found", f"No alert {key!r} in your scope.")
        item = _item(session, alert)
    return respond(item)


@bp.post("/alerts/<path:key>/acknowledge")
@documented(summary="Acknowledge an open alert (audited)", body=schemas.AlertActionBody,
            response=schemas.AlertInboxItem, tag="alerts",
            problems={"409": "The alert is not open", "422": "Invalid body"})
@require(ALERTS_WRITE)
def acknowledge(key: str):
    """The body is optional (``{"note": "..."}``). Another tenant's or an out-of-scope key is 404."""
    return _act(key, "acknowledge")


@bp.post("/alerts/<path:key>/close")
@documented(summary="Close an open or acknowledged alert (audited)", body=schemas.AlertActionBody,
            response=schemas.AlertInboxItem, tag="alerts",
            problems={"409": "The alert is already closed", "422": "Invalid body"})
@require(ALERTS_WRITE)
def close(key: str):
    """A closed alert stays quiet until its cool-down ends; then a new breach raises it again."""
    return _act(key, "close")


@bp.get("/alert-settings")
@documented(summary="The tenant's alert rules and delivery settings", query=None,
            response=schemas.AlertSettingsView, tag="alerts")
@require(SETTINGS_WRITE)
def get_settings():
    """The webhook signing secret is never shown again; ``webhook_secret_set`` says whether one exists."""
    with get_db().session() as session:
        settings = alert_settings.settings_for(session, current_principal().tenant_id)
        view = alert_settings.settings_view(settings)
    return respond(view)


@bp.put("/alert-settings")
@documented(summary="Change alert rules, cool-down, email and webhook delivery (audited)",
            body=schemas.AlertSettingsBody, response=schemas.AlertSettingsView, tag="alerts",
            problems={"422": "Invalid body (errors name each field)", "415": "Not JSON"})
@require(SETTINGS_WRITE)
def put_settings():
    """Fields left out keep their value. A new webhook URL without a secret, or
    ``rotate_secret: true``, makes a ``whsec_`` secret that this answer shows once."""
    body, principal = parse_body(schemas.AlertSettingsBody), current_principal()
    box = current_app.extensions["coachwire.box"]
    with get_db().session() as session:
        try:
            settings, secret = alert_settings.update_settings(
                session, box, tenant_id=principal.tenant_id, changes=body,
                actor=f"person:{principal.person_id}")
        except alert_settings.SettingsError as exc:
            session.rollback()
            raise Problem(422, "Unprocessable Content", "The body has invalid fields.",
                          errors=[{"field": exc.field, "message": exc.message}]) from exc
        view = alert_settings.settings_view(settings)
    return respond({**view, **({"webhook_secret": secret} if secret else {})})
