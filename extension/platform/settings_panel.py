"""The admin's settings panel: people and their Coachwire roles, and this organisation's setup.

``/t/<tenant>/panels/settings`` (``settings.write``: admins): the tenant's people, searchable,
filterable by role, 25 a page; each row sets the person's role (an admin's override, which the
role mapping then leaves alone) or hands it back to the mapping, through the same
``roles.set_role`` as ``PUT /api/v1/people/<id>/role`` (audited; the last admin cannot be
demoted). Below, what Coachwire knows of the organisation: time zone, the console origins that
may frame the panels, the sign-on client, and whether the role mapping is the default.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, request
from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, or_, select

from extension.platform import roles
from extension.platform.auth.permissions import SETTINGS_WRITE
from extension.platform.auth.tokens import ROLES
from extension.platform.db import get_db
from extension.platform.errors import DomainError
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant
from extension.platform.panels import Page, page
from extension.platform.problems import Problem

bp = Blueprint("platform_settings_panel", __name__)
PAGE_SIZE = 25
ROLE_LABELS = {"agent": lazy_gettext("Agent"), "supervisor": lazy_gettext("Supervisor"),
               "qa_analyst": lazy_gettext("QA analyst"), "manager": lazy_gettext("Manager"),
               "admin": lazy_gettext("Admin")}
MAPPED_CHOICE = "mapped"


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _args() -> dict[str, Any]:
    q = (request.args.get("q") or "").strip()
    if len(q) > 200:
        raise Problem(400, "Bad Request", gettext("The search 'q' is longer than 200 characters."))
    role = request.args.get("role") or ""
    if role and role not in ROLES:
        raise Problem(400, "Bad Request", gettext("Unknown role %(value)s; choose one of: %(choices)s.",
                                                  value=role[:40], choices=", ".join(ROLES)))
    raw_page = request.args.get("page") or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= 10_000:
        raise Problem(400, "Bad Request", gettext("'page' must be a whole number from 1."))
    return {"q": q, "role": role, "page": int(raw_page)}


def _row(person: Person, *, note: str | None = None, error: str | None = None) -> dict[str, Any]:
    return {"id": person.id, "name": person.name or person.id, "email": person.email,
            "team": person.team_id, "role": person.role,
            "role_label": str(ROLE_LABELS.get(person.role, person.role)),
            "mapped": person.role_source != roles.OVERRIDE, "active": person.active,
            "note": note, "error": error}


@page(bp, "/settings", view="settings", permission=SETTINGS_WRITE)
def settings(p: Page):
    args = _args()
    with get_db().session() as session:
        tenant = session.get(Tenant, p.tenant_id)
        assert tenant is not None  # the page frame checked it
        query = select(Person).where(Person.tenant_id == p.tenant_id)
        if args["role"]:
            query = query.where(Person.role == args["role"])
        if args["q"]:
            pattern = _like(args["q"])
            query = query.where(or_(Person.name.ilike(pattern, escape="\\"),
                                    Person.email.ilike(pattern, escape="\\")))
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        pages = max(1, math.ceil(total / PAGE_SIZE))
        current = min(args["page"], pages)
        people = [_row(person) for person in session.scalars(
            query.order_by(Person.name, Person.id).offset((current - 1) * PAGE_SIZE).limit(PAGE_SIZE))]
        counts = dict(session.execute(select(Person.role, func.count()).where(
            Person.tenant_id == p.tenant_id, Person.active.is_(True)).group_by(Person.role)).tuples().all())
        from extension.platform.shell import console_origins

        org = {"name": tenant.name, "timezone": tenant.timezone or "UTC",
               "origins": console_origins(tenant), "sso_client": tenant.sso_client_id,
               "mapping_default": tenant.role_mapping is None}
    link = {"q": args["q"] or None, "role": args["role"] or None}
    return p.render("platform/settings.html", block="people", title=gettext("Settings"),
                    people=people, total=total, page=current, pages=pages, args=args, org=org,
                    counts=[(str(ROLE_LABELS[r]), counts.get(r, 0)) for r in ROLES],
                    roles=[(r, str(ROLE_LABELS[r])) for r in ROLES],
                    previous=p.url("settings", page=current - 1, **link) if current > 1 else None,
                    next=p.url("settings", page=current + 1, **link) if current < pages else None)


@page(bp, "/settings/people/<person_id>/role", view="settings", permission=SETTINGS_WRITE,
      methods=("POST",))
def set_role(p: Page, person_id: str):
    """One row's change: a role (an override) or ``mapped`` (back to the role mapping)."""
    choice = request.form.get("role", "")
    if choice != MAPPED_CHOICE and choice not in ROLES:
        raise Problem(400, "Bad Request", gettext("Choose a role, or hand the person back to the mapping."))
    note = error = None
    with get_db().session() as session:
        try:
            person = roles.set_role(session, p.tenant_id, person_id,
                                    None if choice == MAPPED_CHOICE else choice,
                                    actor=f"person:{p.principal.person_id}")
            note = (gettext("Handed back to the role mapping.") if choice == MAPPED_CHOICE
                    else gettext("Role set to %(role)s.", role=str(ROLE_LABELS[choice])))
        except DomainError as exc:
            if exc.status == 404:
                raise
            # set_role refuses before it changes anything (the last admin): show the row as it is
            found = session.get(Person, (p.tenant_id, person_id))
            if found is None:
                raise
            person = found
            error = (gettext("This is the organisation's last Coachwire admin; name another admin first.")
                     if exc.status == 409 else str(exc.detail or exc))
        row = _row(person, note=note, error=error)
    return p.render("platform/settings_row.html", title=gettext("Settings"), row=row,
                    roles=[(r, str(ROLE_LABELS[r])) for r in ROLES],
                    status=409 if error else 200)
