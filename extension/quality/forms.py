"""Evaluation forms: drafts, publishing, versioning, Genesys import.

A form row holds the selectors (interaction type, department, customer segment) and points at
its versions. A version's document is a domain form document (``extension.quality.domain.forms``) whose
``id`` is the form id and ``version`` its number. The newest version is either a draft (edited in
place) or published; editing a published form makes a new draft version (``next_version``),
which becomes current when published. Published versions never change, so an evaluation keeps
scoring against the version it was assigned with.

Errors are raised as domain errors (``extension.platform.errors``: 404 / 409 / 422 with JSON Pointers),
so the API returns them unchanged and other services may let them through.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.errors import ConnectorError, NotFound
from extension.platform import audit
from extension.platform import errors as domain_errors
from extension.platform.hosts import genesys_for
from extension.platform.models._types import utcnow
from extension.platform.models.tenants import Tenant
from extension.quality.domain.forms import Form, next_version, parse_form, validate_form
from extension.quality.domain.genesys_forms import genesys_form_doc
from extension.quality.models.evaluations import QualityForm, QualityFormVersion

SELECTORS = ("interaction_type", "department", "customer_segment")


def new_id() -> str:
    return uuid.uuid4().hex


def form_or_404(session: Session, tenant_id: str, form_id: str, *, lock: bool = False) -> QualityForm:
    query = select(QualityForm).where(QualityForm.tenant_id == tenant_id, QualityForm.id == form_id)
    if lock:
        query = query.with_for_update()
    form = session.scalars(query).first()
    if form is None:
        raise domain_errors.NotFound(f"No form {form_id!r}.")
    return form


def version_row(session: Session, tenant_id: str, form_id: str, version: int) -> QualityFormVersion | None:
    return session.scalars(select(QualityFormVersion).where(
        QualityFormVersion.tenant_id == tenant_id, QualityFormVersion.form_id == form_id,
        QualityFormVersion.version == version)).first()


def _stored_version(session: Session, tenant_id: str, form_id: str, version: int) -> QualityFormVersion:
    """A version the form row points at (latest or published), which is always stored."""
    row = version_row(session, tenant_id, form_id, version)
    if row is None:
        raise domain_errors.NotFound(f"Form {form_id!r} has no version {version}.")
    return row


def form_version(session: Session, tenant_id: str, form_id: str,
                 version: int | None = None) -> tuple[QualityFormVersion, Form]:
    """A stored version of a form and its domain ``Form``.

    ``version=None`` means the published version (the one new evaluations use), or the latest
    draft when the form was never published. ``NotFound`` when the form or version is not
    in the tenant.
    """
    form = form_or_404(session, tenant_id, form_id)
    number = version if version is not None else (form.published_version or form.latest_version)
    row = version_row(session, tenant_id, form_id, number)
    if row is None:
        raise domain_errors.NotFound(f"Form {form_id!r} has no version {number}.")
    return row, parse_form(row.document)


def published_form(session: Session, tenant_id: str, form_id: str) -> tuple[QualityFormVersion, Form]:
    """The published version, or 409 when the form has never been published."""
    form = form_or_404(session, tenant_id, form_id)
    if form.published_version is None:
        raise domain_errors.Conflict(f"Form {form_id!r} has no published version yet.")
    return form_version(session, tenant_id, form_id, form.published_version)


# ---------------------------------------------------------------- writing


def _document(form_id: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    doc = {"id": form_id, "name": data.get("name"), "version": version, "groups": data.get("groups")}
    if data.get("weight_mode") is not None:
        doc["weight_mode"] = data["weight_mode"]
    return doc


def check_document(doc: dict[str, Any], *, prefix: str = "") -> Form:
    """A valid document as a ``Form``, else 422 naming every JSON Pointer at fault."""
    issues = validate_form(doc)
    if issues:
        raise domain_errors.Invalid("The form is not valid.",
                      errors=[{"field": prefix + i.path, "message": i.message} for i in issues])
    return parse_form(doc)


def create_form(session: Session, *, tenant_id: str, actor: str, data: dict[str, Any],
                genesys_form_id: str | None = None) -> QualityForm:
    """A new form with version 1 as a draft. ``data``: name, groups, weight_mode, selectors."""
    form_id = new_id()
    check_document(_document(form_id, 1, data))
    form = QualityForm(id=form_id, tenant_id=tenant_id, name=data["name"], status="draft",
                       latest_version=1, genesys_form_id=genesys_form_id, created_by=actor,
                       **{k: data.get(k) for k in SELECTORS})
    session.add(form)
    session.flush()
    session.add(QualityFormVersion(tenant_id=tenant_id, form_id=form_id, version=1, status="draft",
                                   document=_document(form_id, 1, data), created_by=actor))
    session.flush()
    audit.record(session, tenant_id=tenant_id, actor=actor, action="form.created",
                 subject_type="form", subject_id=form_id,
                 details={"name": form.name, "version": 1, "genesys_form_id": genesys_form_id})
    return form


def update_form(session: Session, *, tenant_id: str, form_id: str, actor: str,
                data: dict[str, Any]) -> tuple[QualityForm, bool]:
    """Apply an edit; returns (form, changed).

    A draft latest version is replaced in place. When the latest version is published, the edit
    becomes a new draft version unless nothing that matters changed (``next_version``).
    Selector changes apply to the form row either way.
    """
    form = form_or_404(session, tenant_id, form_id, lock=True)
    latest = _stored_version(session, tenant_id, form_id, form.latest_version)
    doc = _document(form_id, form.latest_version, data)
    check_document(doc)
    selectors = {k: data.get(k) for k in SELECTORS if k in data}
    changed_selectors = {k: v for k, v in selectors.items() if getattr(form, k) != v}
    details: dict[str, Any] = {}
    if latest.status == "draft":
        if latest.document != doc:
            latest.document = doc
            details["version"] = latest.version
    else:
        published = parse_form(latest.document)
        successor = next_version(published, doc)
        if successor is not published:
            number = successor.version
            session.add(QualityFormVersion(
                tenant_id=tenant_id, form_id=form_id, version=number, status="draft",
                document=_document(form_id, number, data), created_by=actor))
            form.latest_version = number
            details["version"] = number
            details["new_version_of"] = latest.version
    if form.name != data["name"]:
        details["name"] = {"before": form.name, "after": data["name"]}
        form.name = data["name"]
    for key, value in changed_selectors.items():
        details[key] = {"before": getattr(form, key), "after": value}
        setattr(form, key, value)
    if not details:
        return form, False
    form.updated_at = utcnow()
    session.flush()
    audit.record(session, tenant_id=tenant_id, actor=actor, action="form.updated",
                 subject_type="form", subject_id=form_id, details=details)
    return form, True


def publish(session: Session, *, tenant_id: str, form_id: str, actor: str) -> QualityForm:
    """Publish the latest draft version; 409 when there is no draft to publish."""
    form = form_or_404(session, tenant_id, form_id, lock=True)
    latest = _stored_version(session, tenant_id, form_id, form.latest_version)
    if latest.status != "draft":
        raise domain_errors.Conflict(f"Version {latest.version} is already published; "
                                       "edit the form to make a new version.")
    now = utcnow()
    previous = form.published_version
    if previous is not None:
        _stored_version(session, tenant_id, form_id, previous).status = "superseded"
    latest.status, latest.published_at = "published", now
    form.status, form.published_version, form.updated_at = "published", latest.version, now
    session.flush()
    audit.record(session, tenant_id=tenant_id, actor=actor, action="form.published",
                 subject_type="form", subject_id=form_id,
                 details={"version": latest.version, "superseded": previous})
    return form


def list_forms(session: Session, tenant_id: str, *, filters: dict[str, Any], offset: int,
               limit: int) -> list[QualityForm]:
    query = select(QualityForm).where(QualityForm.tenant_id == tenant_id)
    for key in (*SELECTORS, "status"):
        if filters.get(key):
            query = query.where(getattr(QualityForm, key) == filters[key])
    query = query.order_by(QualityForm.created_at, QualityForm.id).offset(offset).limit(limit)
    return list(session.scalars(query))


def versions(session: Session, tenant_id: str, form_id: str) -> list[QualityFormVersion]:
    form_or_404(session, tenant_id, form_id)
    return list(session.scalars(select(QualityFormVersion).where(
        QualityFormVersion.tenant_id == tenant_id, QualityFormVersion.form_id == form_id)
        .order_by(QualityFormVersion.version)))


def version_count(session: Session, tenant_id: str, form_id: str) -> int:
    return cast(int, session.scalar(  # COUNT always returns one row
        select(func.count()).select_from(QualityFormVersion).where(
            QualityFormVersion.tenant_id == tenant_id, QualityFormVersion.form_id == form_id)))


# ---------------------------------------------------------------- Genesys import


def import_genesys(session: Session, *, tenant_id: str, genesys_form_id: str, actor: str,
                   response: dict[str, Any],
                   selectors: dict[str, Any] | None = None) -> tuple[QualityForm, bool]:
    """Store a Genesys published form (``response``, fetched with no transaction open by
    :func:`fetch_genesys_form`) as a published form; (form, created). This never asks the host:
    ``session`` may be mid-transaction.

    Importing the same Genesys form again adds (and publishes) a new version when it changed.
    Parts that cannot be represented are a 422 naming the Genesys-side JSON Pointers.
    """
    doc, issues = genesys_form_doc(response)
    if issues:
        raise domain_errors.Invalid("The Genesys form cannot be imported.",
                      errors=[{"field": i.path, "message": i.message} for i in issues])
    data = {"name": doc["name"] or genesys_form_id, "weight_mode": doc["weight_mode"],
            "groups": doc["groups"], **(selectors or {})}
    existing = session.scalars(select(QualityForm).where(
        QualityForm.tenant_id == tenant_id, QualityForm.genesys_form_id == genesys_form_id)).first()
    if existing is None:
        form = create_form(session, tenant_id=tenant_id, actor=actor, data=data,
                           genesys_form_id=genesys_form_id)
        return publish(session, tenant_id=tenant_id, form_id=form.id, actor=actor), True
    data = {**{k: getattr(existing, k) for k in SELECTORS}, **data}
    form, _changed = update_form(session, tenant_id=tenant_id, form_id=existing.id, actor=actor, data=data)
    latest = _stored_version(session, tenant_id, form.id, form.latest_version)
    if latest.status == "draft":
        publish(session, tenant_id=tenant_id, form_id=form.id, actor=actor)
    return form, False


def fetch_genesys_form(tenant_id: str, genesys_form_id: str) -> dict[str, Any]:
    """GET the Genesys published form with no transaction open (the tenant is read in a session
    of its own, closed before the call); pass the answer to ``import_genesys(response=...)``."""
    from extension.platform.db import get_db

    with get_db().session() as session:
        tenant = session.get(Tenant, tenant_id)
    return _published_form(tenant, genesys_form_id)


def _published_form(tenant: Tenant | None, genesys_form_id: str) -> dict[str, Any]:
    try:
        return genesys_for(tenant).quality.published_form(genesys_form_id)
    except NotFound as exc:
        raise domain_errors.Invalid("The host has no such published form.", errors=[
            {"field": "genesysFormId", "message": "not found on the host"}]) from exc
    except ConnectorError as exc:
        raise domain_errors.HostFailed(
            f"The host did not answer usably ({type(exc).__name__}).") from exc
