"""/api/v1/privacy: the data map, subject exports and erasures (admins of the tenant only)."""

from __future__ import annotations

from flask import Blueprint, Response
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from extension.platform.api.plumbing import documented, parse_body, respond
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import PRIVACY_ADMIN
from extension.platform.db import get_db
from extension.platform.queue import get_dispatcher
from extension.privacy import archive, subjects
from extension.privacy.domain import datamap

bp = Blueprint("api_privacy", __name__, url_prefix="/api/v1/privacy")
TAG = "privacy"
_INVALID = {"415": "Not JSON", "422": "Invalid body (name exactly one subject)",
            "404": "No such person in this tenant"}


class SubjectIn(Schema):
    person_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    customer_address = fields.String(load_default=None, validate=validate.Length(min=1, max=320))

    @validates_schema
    def one_subject(self, data, **kwargs):
        if bool(data.get("person_id")) == bool(data.get("customer_address")):
            raise ValidationError("Give exactly one of person_id and customer_address.", "_schema")


class ExportIn(SubjectIn):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "zip"]))


class ErasureIn(SubjectIn):
    dry_run = fields.Boolean(load_default=False)


class ArchiveOut(Schema):
    subject = fields.Dict()
    generated_at = fields.String()
    classes = fields.Dict(metadata={"description": "Every data class of the map, and where the "
                                                   "subject has data"})
    tables = fields.Dict(metadata={"description": "table -> the subject's rows"})


class ErasureOut(Schema):
    dry_run = fields.Boolean()
    steps = fields.List(fields.Dict(), metadata={"description": "dry run: table, action, rows"})
    subject = fields.Dict()
    erasure_id = fields.Integer()
    pseudonym = fields.String()
    status = fields.String()
    this_run = fields.Dict()
    total = fields.Dict()
    created_at = fields.String()
    finished_at = fields.String(allow_none=True)


class DataMapOut(Schema):
    classes = fields.List(fields.Dict())
    tables = fields.List(fields.Dict())


def _ident(data) -> tuple[str, str]:
    return ("person", data["person_id"]) if data.get("person_id") else ("customer", data["customer_address"])


def _subject_of(principal, data):
    return subjects.subject_of(principal.tenant_id, *_ident(data))


@bp.get("/data-map")
@documented(summary="The data map: personal data per table and column, its class and retention",
            response=DataMapOut, tag=TAG)
@require(PRIVACY_ADMIN)
def data_map():
    classes = [c.__dict__ for c in datamap.CLASSES.values()]
    tables = [{"name": t.name, "purpose": t.purpose, "on_person_erasure": t.on_person_erasure,
               "columns": [{"name": n, "class": c.cls, "ref": c.ref, "note": c.note}
                           for n, c in sorted(t.columns.items())]}
              for t in sorted(datamap.TABLES.values(), key=lambda t: t.name)]
    return respond({"classes": classes, "tables": tables})


@bp.post("/exports")
@documented(summary="Subject access: everything about a staff member or a customer (audited)",
            body=ExportIn, response=ArchiveOut, tag=TAG, problems=_INVALID)
@require(PRIVACY_ADMIN)
def create_export():
    """``format: zip`` answers the archive as a zip (export.json, classes.csv, one CSV per table)."""
    data = parse_body(ExportIn)
    principal = current_principal()
    with get_db().session() as session:
        subject = _subject_of(principal, data)(session)
        body = subjects.export(session, subject, actor=principal.person_id)
    if data["format"] == "zip":
        return Response(archive.zip_bytes(body), mimetype="application/zip",
                        headers={"Content-Disposition": 'attachment; filename="privacy-export.zip"'})
    return respond(body)


@bp.post("/erasures")
@documented(summary="Erase a staff member or a customer everywhere (or list what would go)",
            body=ErasureIn, response=ErasureOut, status=202, tag=TAG, problems=_INVALID)
@require(PRIVACY_ADMIN)
def create_erasure():
    """A worker erases (202; follow ``GET /privacy/erasures/{id}``); ``dry_run`` answers at once
    (200) with what would go. Idempotent: erasing again resumes an erasure cut short or finds
    nothing left."""
    data = parse_body(ErasureIn)
    principal = current_principal()
    db = get_db()
    subject_of = _subject_of(principal, data)
    with db.session() as session:
        subject = subject_of(session)
        if data["dry_run"]:
            steps = subjects.plan(session, subject)
            return respond({"dry_run": True, "steps": [s.__dict__ for s in steps]})
        body = subjects.erasure_json(subjects.start(session, subject, actor=principal.person_id))
    get_dispatcher().enqueue(subjects.erase_job, principal.tenant_id, *_ident(data), principal.person_id)
    return respond({"dry_run": False, **body}, 202)


@bp.get("/erasures/<int:erasure_id>")
@documented(summary="One erasure: its status and the rows changed per table", response=ErasureOut, tag=TAG)
@require(PRIVACY_ADMIN)
def get_erasure(erasure_id: int):
    principal = current_principal()
    with get_db().session() as session:
        body = subjects.erasure_json(subjects.erasure_or_404(session, principal.tenant_id, erasure_id))
    return respond({"dry_run": False, **body})


class RetentionIn(Schema):
    periods = fields.Dict(keys=fields.String(validate=validate.OneOf(sorted(datamap.CLASSES))),
                          values=fields.Integer(allow_none=True, validate=validate.Range(min=0, max=36500)),
                          required=True, metadata={"description": "class -> days (null: never by age; "
                                                                  "0: back to the default)"})


class RetentionOut(Schema):
    classes = fields.List(fields.Dict(), metadata={"description": "class, default_days, tenant_days, days"})


def _retention_body(session, tenant_id: str) -> dict:
    from extension.platform.models.tenants import Tenant

    tenant = session.get(Tenant, tenant_id)
    overrides = dict((tenant.retention if tenant else None) or {})
    return {"classes": [{"class": key, "default_days": cls.retention_days,
                         "tenant_days": overrides.get(key), "overridden": key in overrides,
                         "days": datamap.retention_days(key, overrides)}
                        for key, cls in datamap.CLASSES.items()]}


@bp.get("/retention")
@documented(summary="Retention periods in effect per data class (default and the tenant's own)",
            response=RetentionOut, tag=TAG)
@require(PRIVACY_ADMIN)
def get_retention():
    principal = current_principal()
    with get_db().session() as session:
        body = _retention_body(session, principal.tenant_id)
    return respond(body)


@bp.put("/retention")
@documented(summary="Set the tenant's retention periods per data class (audited)", body=RetentionIn,
            response=RetentionOut, tag=TAG, problems={"415": "Not JSON", "422": "Unknown class or bad days"})
@require(PRIVACY_ADMIN)
def put_retention():
    from extension.privacy import retention

    data = parse_body(RetentionIn)
    principal = current_principal()
    with get_db().session() as session:
        for cls, days in sorted(data["periods"].items()):
            retention.set_period(session, principal.tenant_id, cls, days, actor=principal.person_id)
        body = _retention_body(session, principal.tenant_id)
    return respond(body)
