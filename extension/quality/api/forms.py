"""/api/v1/forms: evaluation forms (drafts, publishing, versions, Genesys import)."""

from __future__ import annotations

from flask import Blueprint

from extension.platform.api.plumbing import documented, offset_of, page, parse, parse_body, respond
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import EVALUATIONS_READ, FORMS_WRITE
from extension.platform.db import get_db
from extension.quality import forms as quality_forms
from extension.quality.api import schemas as qs

bp = Blueprint("api_forms", __name__, url_prefix="/api/v1")
TAG = "quality"
_INVALID = {"415": "Body is not JSON", "422": "Invalid body; errors name JSON Pointers or fields"}


def _out(session, form) -> dict:
    latest = quality_forms.version_row(session, form.tenant_id, form.id, form.latest_version)
    body = qs.FormOut().dump({**_columns(form), "latest": latest})
    return body


def _columns(form) -> dict:
    return {c: getattr(form, c) for c in (
        "id", "name", "interaction_type", "department", "customer_segment", "status", "latest_version",
        "published_version", "genesys_form_id", "created_by", "created_at", "updated_at")}


@bp.get("/forms")
@documented(summary="List evaluation forms, filtered by selectors and status", tag=TAG,
            query=qs.FormsQuery, response=qs.FormsPage)
@require(EVALUATIONS_READ)
def list_forms():
    args = parse(qs.FormsQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        rows = quality_forms.list_forms(session, principal.tenant_id, filters=args, offset=offset,
                                        limit=args["limit"] + 1)
        shown, cursor = page(rows, limit=args["limit"], offset=offset)
        items = [_out(session, form) for form in shown]
    return respond({"items": items, "next_cursor": cursor})


@bp.post("/forms")
@documented(summary="Create a form (version 1, draft)", tag=TAG, body=qs.FormBody, response=qs.FormOut,
            status=201, problems=_INVALID)
@require(FORMS_WRITE)
def create_form():
    data = parse_body(qs.FormBody)
    principal = current_principal()
    with get_db().session() as session:
        form = quality_forms.create_form(session, tenant_id=principal.tenant_id,
                                         actor=principal.person_id, data=data)
        body = _out(session, form)
    return respond(body, 201)


@bp.post("/forms/import")
@documented(summary="Import a Genesys published evaluation form", tag=TAG, body=qs.FormImportBody,
            response=qs.FormOut, status=201, problems={
                **_INVALID, "502": "The host could not be reached"})
@require(FORMS_WRITE)
def import_form():
    """Fetches GET /api/v2/quality/publishedforms/evaluations/{genesysFormId} and stores an
    equivalent published form (201). Importing the same form again publishes a new version when
    it changed (200). Parts that cannot be represented: 422 with Genesys-side JSON Pointers."""
    data = parse_body(qs.FormImportBody)
    principal = current_principal()
    selectors = {k: data[k] for k in quality_forms.SELECTORS if k in data}
    # the host GET first, with no transaction open; then one short transaction stores it
    response = quality_forms.fetch_genesys_form(principal.tenant_id, data["genesys_form_id"])
    with get_db().session() as session:
        form, created = quality_forms.import_genesys(
            session, tenant_id=principal.tenant_id, genesys_form_id=data["genesys_form_id"],
            actor=principal.person_id, selectors=selectors, response=response)
        body = _out(session, form)
    return respond(body, 201 if created else 200)


@bp.get("/forms/<form_id>")
@documented(summary="One form with its newest version", tag=TAG, response=qs.FormOut)
@require(EVALUATIONS_READ)
def get_form(form_id: str):
    principal = current_principal()
    with get_db().session() as session:
        body = _out(session, quality_forms.form_or_404(session, principal.tenant_id, form_id))
    return respond(body)


@bp.put("/forms/<form_id>")
@documented(summary="Edit a form: a draft in place, a published form as a new draft version", tag=TAG,
            body=qs.FormBody, response=qs.FormOut, problems=_INVALID)
@require(FORMS_WRITE)
def edit_form(form_id: str):
    """Published versions never change; an edit that changes nothing that matters makes no
    new version. Evaluations keep the version they were assigned with."""
    data = parse_body(qs.FormBody)
    principal = current_principal()
    with get_db().session() as session:
        form, _changed = quality_forms.update_form(session, tenant_id=principal.tenant_id,
                                                   form_id=form_id, actor=principal.person_id, data=data)
        body = _out(session, form)
    return respond(body)


@bp.post("/forms/<form_id>/publish")
@documented(summary="Publish the newest (draft) version", tag=TAG, response=qs.FormOut,
            problems={"409": "The newest version is already published"})
@require(FORMS_WRITE)
def publish_form(form_id: str):
    principal = current_principal()
    with get_db().session() as session:
        form = quality_forms.publish(session, tenant_id=principal.tenant_id, form_id=form_id,
                                     actor=principal.person_id)
        body = _out(session, form)
    return respond(body)


@bp.get("/forms/<form_id>/versions")
@documented(summary="Every version of a form, oldest first", tag=TAG, response=qs.FormVersions)
@require(EVALUATIONS_READ)
def form_versions(form_id: str):
    principal = current_principal()
    with get_db().session() as session:
        rows = quality_forms.versions(session, principal.tenant_id, form_id)
        body = qs.FormVersions().dump({"items": rows})
    return respond(body)
