"""POST /webhooks/<tenant_id>: verify, parse, normalize, commit to the inbox, answer 202.

The view only adapts HTTP to the sans-I/O functions in verify/parse/normalize; nothing slow
happens here (no host API calls, no scoring).
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, request

from extension.db import get_db
from extension.problems import Problem, problem_response
from extension.services import tenants
from handlers import normalize, parse, verify

log = logging.getLogger("coachwire.webhooks")
bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/<tenant_id>")
def receive(tenant_id: str):
    try:
        return _receive(tenant_id)
    except verify.InboundError as exc:
        log.info("webhook rejected tenant=%s status=%s title=%s detail=%s webhook-id=%s", tenant_id,
                 exc.status, exc.title, exc.detail, request.headers.get("webhook-id", "-")[:200])
        return problem_response(Problem(exc.status, exc.title, exc.detail,
                                        errors=getattr(exc, "errors", None)))


def _receive(tenant_id: str):
    # The objects behind the context-local proxies, looked up once: each proxy access costs a
    # context-variable lookup, and this view is the hottest path there is.
    app, req = current_app._get_current_object(), request._get_current_object()
    settings, extensions = app.config["SETTINGS"], app.extensions
    config = tenants.load_config(get_db(app).sessionmaker, extensions["coachwire.box"], tenant_id)
    if config is None:
        raise Problem(404, "Unknown Tenant", "No tenant with this id.")
    if config.status != "active":
        raise Problem(403, "Tenant Disabled", "This tenant does not accept events.")
    verify.check_size(req.content_length, limit=settings.webhook_max_bytes)
    body = req.get_data(cache=False)
    verify.check_size(len(body), limit=settings.webhook_max_bytes)
    webhook_id = _authenticate(req.headers, body, config)
    events = normalize.normalize_all(parse.parse_body(body), webhook_id=webhook_id)
    result = extensions["coachwire.inbox"].accept(tenant_id, events)
    status = 202 if result.accepted or not events else 200
    # What jsonify would write, without its encoder on the hot path.
    body = b'{"accepted":%d,"duplicates":%d}\n' % (result.accepted, result.duplicates)
    return app.response_class(body, status=status, mimetype="application/json")


def _authenticate(headers, body: bytes, config) -> str | None:
    if "webhook-signature" in headers and config.inbound_secrets:
        return verify.verify_standard_webhook(headers, body, config.inbound_secrets)
    if config.api_keys and (headers.get("x-api-key") or headers.get("authorization")):
        verify.verify_api_key(headers, config.api_keys)
        return None
    raise verify.Unauthorized("missing credentials")
