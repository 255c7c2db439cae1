"""What every panel page shares: the signed-in person, the role check, the page's CSP, htmx partials.

A capability's ``panels/`` registers its pages with :func:`page` on its own blueprint::

    bp = Blueprint("analytics_panels", __name__, template_folder="templates")

    @page(bp, "/agents/<agent_id>", view="agents", permission=ANALYTICS_READ)
    def agent(p: Page, agent_id: str):
        with get_db().session() as session:
            ...  # every query scoped with p.principal (extension.platform.auth.scope)
        return p.render("analytics/panels/agent.html", block="results", agent=...)

The rule is mounted under ``/t/<tenant_id>/panels``. Before the view runs, :func:`page` has
checked the tenant, loaded the panel session (none: to sign-on, then back here), checked the
person's *stored* role against ``permission`` (403 page otherwise) and, for a top-level
navigation (``Sec-Fetch-Dest: document``, i.e. not inside the console's frame), answered
"open it in Genesys Cloud" instead of the page. Every answer carries the CSP with this
response's nonce, ``frame-ancestors`` = the tenant's console origins, and ``Cache-Control:
no-store``.

``Page.render(template, block=...)``: an htmx request (``HX-Request``) gets only that block of
the template (``jinja2-fragments``), anything else the whole page. ``Page.url`` builds links
to other panels that keep ``gcLangTag`` (the language) and ``gcHostOrigin``/``gcTargetEnv``.
Unsafe methods are CSRF-checked before the view (``extension.platform.csrf``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, g, redirect, request
from flask_babel import lazy_gettext
from jinja2_fragments.flask import render_block

from extension.platform import csrf, layout, sessions
from extension.platform.auth.permissions import Principal
from extension.platform.db import get_db
from extension.platform.errors import DomainError
from extension.platform.models.tenants import Tenant
from extension.platform.problems import Problem

PREFIX = "/t/<tenant_id>/panels"
KEPT_PARAMS = ("gcLangTag", "gcHostOrigin", "gcTargetEnv")
# the pages the navigation offers, in order: (view, path, label); a view shows for a role
# holding its permission in shell.PANEL_VIEWS ("My performance" only for agents: the others
# open an agent's overview from the directory; an agent's "home" is their own performance)
NAVIGATION = (
    ("home", "home", lazy_gettext("Team home")),
    ("agents", "agents", lazy_gettext("Agents")),
    ("my-performance", "my-performance", lazy_gettext("My performance")),
    ("trends", "trends", lazy_gettext("Trends")),
    ("settings", "settings", lazy_gettext("Settings")),
)


@dataclass
class Page:
    """One panel request: who asks, in which tenant, and how to answer."""

    tenant_id: str
    principal: Principal
    person_name: str
    nonce: str
    csrf_token: str
    timezone: str
    origins: list[str]
    view: str
    lang_tag: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def role_name(self) -> str:
        from extension.platform.shell import ROLE_NAMES

        return str(ROLE_NAMES.get(self.principal.role, self.principal.role))

    @property
    def is_htmx(self) -> bool:
        return request.headers.get("HX-Request") == "true"

    def url(self, path: str, **params: Any) -> str:
        """``/t/<tenant>/panels/<path>?...`` keeping the console's gc* parameters."""
        query = {k: request.args[k] for k in KEPT_PARAMS if request.args.get(k)}
        query.update({k: v for k, v in params.items() if v is not None and v != ""})
        base = f"/t/{self.tenant_id}/panels/{path.lstrip('/')}"
        return base + ("?" + urlencode(query, doseq=True) if query else "")

    def nav(self) -> list[dict[str, Any]]:
        from extension.platform.shell import PANEL_VIEWS

        return [{"view": view, "href": self.url(path), "label": str(label), "current": view == self.view}
                for view, path, label in NAVIGATION
                if view in PANEL_VIEWS and self.principal.can(PANEL_VIEWS[view])
                and (view != "my-performance" or self.principal.role == "agent")
                and (view != "home" or self.principal.role != "agent")]

    def context(self) -> dict[str, Any]:
        return {"p": self, "name": self.person_name, "role": self.role_name,
                "csrf_token": self.csrf_token, "view": self.view}

    def render(self, template: str, *, block: str | None = None, status: int = 200,
               **context: Any) -> Response:
        """The whole page, or for an htmx request only ``block`` of it."""
        ctx = {**self.context(), **context}
        if block and self.is_htmx:
            html = render_block(template, block, nonce=self.nonce,
                                lang=layout.negotiate_lang(self.lang_tag), asset=layout.asset, **ctx)
        else:
            html = layout.render(template, nonce=self.nonce, lang_tag=self.lang_tag, **ctx)
        return self.headers(Response(html, status=status, mimetype="text/html"))

    def headers(self, response: Response) -> Response:
        from extension.platform.shell import _page_headers

        return _page_headers(response, self.origins, self.nonce)


def page(bp: Blueprint, rule: str, *, view: str, permission: str,
         methods: tuple[str, ...] = ("GET",)) -> Callable:
    """Register a panel page at ``/t/<tenant_id>/panels<rule>`` (see the module docstring)."""

    def decorator(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapped(tenant_id: str, **kwargs: Any):
            from extension.platform import shell

            _ = shell._
            if not shell._tenant_ok(tenant_id):
                return shell._refusal(404, _("Not Found"), _("No such Coachwire tenant."))
            db = get_db()
            with db.session() as session:
                tenant = session.get(Tenant, tenant_id)
                origins = shell.console_origins(tenant) if tenant is not None else []
                timezone = (tenant.timezone or "UTC") if tenant is not None else "UTC"
            if tenant is None:
                return shell._refusal(404, _("Not Found"), _("No such Coachwire tenant."))
            if request.headers.get("Sec-Fetch-Dest") == "document" and request.method == "GET":
                return shell.outside_frame(tenant_id, origins)
            secret = request.cookies.get(shell.SESSION_COOKIE)
            try:
                current = sessions.load(db, current_app.extensions["coachwire.box"],
                                        secret=secret, tenant_id=tenant_id)
            except DomainError as exc:
                return shell._refusal(exc.status, exc.title, exc.detail, tenant_id=tenant_id)
            if current is None or secret is None:
                if request.method != "GET" or request.headers.get("HX-Request") == "true":
                    return shell._refusal(401, _("Signed out"),
                                          _("Your Coachwire session has ended; reload the panel."),
                                          tenant_id=tenant_id)
                back = request.path + (f"?{request.query_string.decode('latin-1')}"
                                       if request.query_string else "")
                response = redirect(f"/t/{tenant_id}/sso/start?next={quote(back, safe='')}",
                                    code=302)
                response.headers["Cache-Control"] = "no-store"
                return response
            principal = current.principal
            if not principal.can(permission):
                role_name = shell.ROLE_NAMES.get(principal.role, principal.role)
                return shell._refusal(403, _("Forbidden"),
                                      _("Your role (%(role)s) does not open this panel.",
                                        role=role_name), tenant_id=tenant_id)
            g.panel_timezone = timezone
            p = Page(tenant_id=tenant_id, principal=principal,
                     person_name=current.person_name or principal.person_id,
                     nonce=secrets.token_urlsafe(16),
                     csrf_token=csrf.token_for(current_app.config["SECRET_KEY"], secret),
                     timezone=timezone, origins=origins, view=view,
                     lang_tag=request.args.get("gcLangTag"))
            try:
                return fn(p, **kwargs)
            except (Problem, DomainError) as exc:
                status = getattr(exc, "status", 400)
                title = getattr(exc, "title", "Bad Request")
                detail = getattr(exc, "detail", None) or str(exc)
                return shell._refusal(status, title, detail, tenant_id=tenant_id)

        bp.add_url_rule(PREFIX + rule, endpoint=fn.__name__, view_func=wrapped,
                        methods=list(methods))
        wrapped.panel_view = view  # type: ignore[attr-defined]
        wrapped.permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorator
