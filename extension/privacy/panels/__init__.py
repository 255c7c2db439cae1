"""The admin's privacy actions in the panels: what Coachwire holds about a staff member or a
customer, its export, and its erasure, through the same services as ``/api/v1/privacy``.

``/t/<tenant>/panels/settings/privacy?person=<id>`` or ``?customer=<address>`` (``privacy.admin``)
shows the dry run (per table: the action and the rows); "Download the export" answers the zip
archive (audited); "Erase" (with a confirmation box) starts the erasure on a worker, and the page
then follows its status. Reached from a person's row in the settings panel.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_babel import gettext

from extension.platform.auth.permissions import PRIVACY_ADMIN
from extension.platform.db import get_db
from extension.platform.errors import DomainError
from extension.platform.panels import Page, page
from extension.platform.problems import Problem
from extension.platform.queue import get_dispatcher
from extension.privacy import archive, subjects

bp = Blueprint("privacy_panels", __name__, template_folder="templates")


def _subject() -> tuple[str, str]:
    source = request.form if request.method == "POST" else request.args
    person = (source.get("person") or "").strip()
    customer = (source.get("customer") or "").strip()
    if bool(person) == bool(customer):
        raise Problem(400, "Bad Request", gettext("Name exactly one: a person or a customer's address."))
    if len(person) > 64 or len(customer) > 320:
        raise Problem(400, "Bad Request", gettext("That person id or address is too long."))
    return ("person", person) if person else ("customer", customer)


def _view(p: Page, kind: str, ident: str, *, status: int = 200, erasure: dict | None = None):
    with get_db().session() as session:
        subject = subjects.subject_of(p.tenant_id, kind, ident)(session)
        steps = subjects.plan(session, subject)
        found = subjects._erasure(session, p.tenant_id, subject.kind, subject.ref)
        erasure = erasure or (subjects.erasure_json(found) if found is not None else None)
    return p.render("privacy/panels/privacy.html", title=gettext("Personal data"), kind=kind,
                    ident=ident, steps=steps, erasure=erasure, status=status,
                    back=p.url("settings"), here=p.url("settings/privacy", **{kind: ident}))


@page(bp, "/settings/privacy", view="settings", permission=PRIVACY_ADMIN)
def privacy(p: Page):
    kind, ident = _subject()
    try:
        return _view(p, kind, ident)
    except DomainError as exc:
        raise Problem(exc.status, exc.title, exc.detail) from exc


@page(bp, "/settings/privacy/export", view="settings", permission=PRIVACY_ADMIN, methods=("POST",))
def export(p: Page):
    kind, ident = _subject()
    try:
        with get_db().session() as session:
            subject = subjects.subject_of(p.tenant_id, kind, ident)(session)
            body = subjects.export(session, subject, actor=p.principal.person_id)
    except DomainError as exc:
        raise Problem(exc.status, exc.title, exc.detail) from exc
    return p.headers(Response(archive.zip_bytes(body), mimetype="application/zip", headers={
        "Content-Disposition": 'attachment; filename="privacy-export.zip"'}))


@page(bp, "/settings/privacy/erase", view="settings", permission=PRIVACY_ADMIN, methods=("POST",))
def erase(p: Page):
    kind, ident = _subject()
    if request.form.get("confirm") != "yes":
        raise Problem(400, "Bad Request", gettext("Tick the box to confirm the erasure; nothing was erased."))
    try:
        with get_db().session() as session:
            subject = subjects.subject_of(p.tenant_id, kind, ident)(session)
            body = subjects.erasure_json(subjects.start(session, subject, actor=p.principal.person_id))
    except DomainError as exc:
        raise Problem(exc.status, exc.title, exc.detail) from exc
    get_dispatcher().enqueue(subjects.erase_job, p.tenant_id, kind, ident, p.principal.person_id)
    return _view(p, kind, ident, status=202, erasure=body)


def init_app(app) -> None:
    app.register_blueprint(bp)
