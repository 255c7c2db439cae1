"""/install and /uninstall: the marketplace lifecycle of a tenant.

The marketplace (or an operator's provisioning script) calls these with the deployment's install
token. Re-installing the same host organisation is idempotent: it updates the credentials and
reactivates the tenant instead of creating a second one.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from extension.platform import tenants
from extension.platform.db import get_db
from extension.platform.problems import Problem

bp = Blueprint("install", __name__)


class CalendarSchema(Schema):
    provider = fields.String(required=True, validate=validate.OneOf(["graph", "google"]))
    config = fields.Dict(required=True)


class InstallSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    hostOrgId = fields.String(required=True, validate=validate.Length(min=1, max=64))
    region = fields.String()
    apiBase = fields.Url(require_tld=False, schemes={"http", "https"})
    loginBase = fields.Url(require_tld=False, schemes={"http", "https"})
    clientId = fields.String(required=True, validate=validate.Length(min=1, max=200))
    clientSecret = fields.String(required=True, validate=validate.Length(min=1, max=500))
    # the person sign-on client of the panels (Code Authorization with PKCE)
    ssoClientId = fields.String(validate=validate.Length(min=1, max=200))
    timezone = fields.String(load_default="UTC")
    consoleOrigins = fields.List(fields.Url(require_tld=False, schemes={"https", "http"}),
                                 load_default=list)
    calendar = fields.Nested(CalendarSchema)

    @validates_schema
    def one_host(self, data, **_kwargs):
        if bool(data.get("region")) == bool(data.get("apiBase")):
            raise ValidationError("give exactly one of region or apiBase", field_name="region")


class UninstallSchema(Schema):
    hostOrgId = fields.String(required=True, validate=validate.Length(min=1, max=64))


def _authorize() -> None:
    expected = current_app.config["SETTINGS"].install_token
    if not expected:
        raise Problem(403, "Install Disabled", "Set COACHWIRE_INSTALL_TOKEN to enable /install.")
    given = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Problem(401, "Unauthorized", "A valid install token is required.")


def _load(schema: Schema) -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Problem(400, "Bad Request", "The body must be a JSON object.")
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise Problem(422, "Validation Failed", "The request has invalid fields.",
                      errors=_field_errors(exc.messages)) from exc


def _field_errors(messages, prefix: str = "") -> list[dict]:
    errors = []
    for field_name, value in messages.items():
        path = f"{prefix}/{field_name}"
        if isinstance(value, dict):
            errors.extend(_field_errors(value, path))
        else:
            errors.extend({"path": path, "message": str(m)} for m in value)
    return errors


@bp.post("/install")
def install():
    _authorize()
    data = _load(InstallSchema())
    box = current_app.extensions["coachwire.box"]
    try:
        with get_db().session() as session:
            result = tenants.install(session, box, data=data)
    except tenants.TenantError as exc:
        raise Problem(422, "Validation Failed", exc.message,
                      errors=[{"path": f"/{exc.field}", "message": exc.message}]) from exc
    public = current_app.config["SETTINGS"].public_url.rstrip("/")
    body = {"tenantId": result.tenant_id, "webhookUrl": f"{public}/webhooks/{result.tenant_id}",
            "webhookSecret": result.webhook_secret, "created": result.created}
    return jsonify(body), 201 if result.created else 200


@bp.post("/uninstall")
def uninstall():
    _authorize()
    data = _load(UninstallSchema())
    with get_db().session() as session:
        tenant_id = tenants.uninstall(session, host_org_id=data["hostOrgId"])
    if tenant_id is None:
        raise Problem(404, "Unknown Tenant", "No installation for this host organisation.")
    return jsonify(tenantId=tenant_id, status="uninstalled")
