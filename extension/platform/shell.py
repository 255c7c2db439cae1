"""The panels' web side: sign-on routes, the panel session cookie, the page shell and its CSP.

- ``GET /t/<tenant>/sso/start?next=<panel path>``: a one-time state, then a redirect to the
  tenant's own login host (from the tenant record; ``gcHostOrigin``/``gcTargetEnv`` are never
  read for this).
- ``GET /sso/genesys/callback``: the code comes back; see :func:`extension.platform.sso.finish`.
  The session is rotated (any old one revoked) and the browser returns to the panel.
- ``GET /t/<tenant>/panels/<view>``: without a session, to ``sso/start``; with one, the shell
  naming the signed-in person and their stored role.

Cookies work in a cross-site frame only as ``Secure; SameSite=None; Partitioned`` (PANELS.md §3):
``__Host-coachwire`` holds the session id, ``__Host-coachwire-sso`` binds a sign-in in flight to
the browser that started it. Both ``HttpOnly``, ``Path=/``, no ``Domain``. Panel answers carry
``Cache-Control: no-store`` and a CSP whose ``frame-ancestors`` lists exactly the tenant's console
origins; every other answer keeps ``frame-ancestors 'none'`` (``headers``).
"""

from __future__ import annotations

import logging
import re
import secrets
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, current_app, redirect, request
from flask_babel import force_locale, lazy_gettext
from werkzeug.wrappers import Response as BaseResponse

from extension.platform import csrf, layout, sso
from extension.platform.auth.permissions import (
    ALERTS_READ,
    ANALYTICS_READ,
    COACHING_READ,
    SETTINGS_WRITE,
)
from extension.platform.db import get_db
from extension.platform.models.tenants import Tenant
from extension.platform.problems import Problem, problem_response

log = logging.getLogger(__name__)
bp = Blueprint("shell", __name__)

SESSION_COOKIE = "__Host-coachwire"
BIND_COOKIE = "__Host-coachwire-sso"
CALLBACK_PATH = "/sso/genesys/callback"
TENANT = r"[a-z0-9][a-z0-9-]{1,62}"
# The panel views and the permission each needs (the one permission table decides, as in the API).
PANEL_VIEWS = {"home": ANALYTICS_READ, "my-performance": ANALYTICS_READ,
               "agents": ALERTS_READ, "trends": ANALYTICS_READ, "interaction": COACHING_READ,
               "interactions": ANALYTICS_READ, "settings": SETTINGS_WRITE}
ROLE_NAMES = {"agent": lazy_gettext("Agent"), "supervisor": lazy_gettext("Supervisor"),
              "qa_analyst": lazy_gettext("QA analyst"), "manager": lazy_gettext("Manager"),
              "admin": lazy_gettext("Admin")}
_ = lazy_gettext  # rendered (in the request's language) when the answer is built
# an origin an admin may list: https (or http on loopback, for the sandbox console), no path
_ORIGIN = re.compile(r"^(https://[a-z0-9.-]+(:\d{1,5})?|http://(127\.0\.0\.1|localhost)(:\d{1,5})?)$")


# --- CSP ------------------------------------------------------------------------------------

def console_origins(tenant: Tenant) -> list[str]:
    """``https://apps.<domain>`` of the tenant's region (from its API host) plus the origins an
    admin listed on the tenant; nothing else, no wildcards."""
    found: list[str] = []
    parts = urlsplit(tenant.api_base or "")
    if parts.scheme == "https" and parts.hostname and parts.hostname.startswith("api."):
        found.append("https://apps." + parts.hostname.removeprefix("api."))
    for origin in tenant.console_origins or []:
        value = str(origin).strip().rstrip("/").lower()
        if _ORIGIN.fullmatch(value):
            if value not in found:
                found.append(value)
        else:
            log.warning("tenant %s: console origin %r is not an origin; ignored", tenant.id,
                        str(origin)[:100])
    return found


def panel_csp(origins: list[str], nonce: str) -> str:
    ancestors = " ".join(origins) if origins else "'none'"
    return (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
            f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; font-src 'self'; "
            f"connect-src 'self'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {ancestors}")


def _tenant_origins(tenant_id: str | None) -> list[str]:
    if not tenant_id:
        return []
    with get_db().session() as session:
        tenant = session.get(Tenant, tenant_id)
        return console_origins(tenant) if tenant is not None else []


def _page_headers(response: Response, origins: list[str], nonce: str) -> Response:
    response.headers["Content-Security-Policy"] = panel_csp(origins, nonce)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


# --- cookies --------------------------------------------------------------------------------

def _set_cookie(response: BaseResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True,
                        samesite="None", partitioned=True)


def _drop_cookie(response: BaseResponse, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="None",
                           partitioned=True)


# --- pages ----------------------------------------------------------------------------------

def _wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/problem+json", "application/json",
                                                "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > 0


def _refusal(status: int, title, detail, *, tenant_id: str | None = None,
             kind: str | None = None, next_path: str | None = None) -> Response:
    """problem+json, or a small HTML page for a browser (framable by the tenant's console).
    ``title`` and ``detail`` may be lazy translations: rendered in the request's language
    (or that of ``next_path``, the panel a sign-in was for)."""
    nonce = secrets.token_urlsafe(16)
    origins = _tenant_origins(tenant_id)
    lang_tag = request_lang() or (_lang_of(next_path) if next_path else None)
    with force_locale(layout.negotiate_lang(lang_tag)):
        title, detail = str(title), str(detail)
        if _wants_html():
            response = Response(layout.render("platform/message.html", nonce=nonce, title=title,
                                              detail=detail, lang_tag=lang_tag),
                                status=status, mimetype="text/html")
        else:
            type_ = sso_problem_type(kind) if kind else None
            response = problem_response(Problem(status, title, detail, type_=type_))
    return _page_headers(response, origins, nonce)


def request_lang() -> str | None:
    """``gcLangTag`` of this request, else of the panel it signs in for (``next``)."""
    tag = request.args.get("gcLangTag")
    if tag is None and request.args.get("next"):
        tag = _lang_of(request.args["next"])
    return tag


def outside_frame(tenant_id: str, origins: list[str]) -> Response:
    """A panel opened as a page of its own (not in the console's frame): say where it lives."""
    nonce = secrets.token_urlsafe(16)
    console = origins[0] if origins else None
    html = layout.render("platform/outside.html", nonce=nonce,
                         lang_tag=request.args.get("gcLangTag"), console=console)
    return _page_headers(Response(html, status=200, mimetype="text/html"), origins, nonce)


def sso_problem_type(reason: str) -> str:
    from extension.platform.problems import PROBLEM_BASE

    return f"{PROBLEM_BASE}sign-on/{reason.replace('_', '-')}"


def _refused(exc: sso.SignOnRefused, tenant_id: str | None = None) -> Response:
    return _refusal(exc.status, exc.title, exc.detail, tenant_id=exc.tenant_id or tenant_id,
                    kind=exc.reason, next_path=exc.next_path)


def _redirect_uri() -> str:
    return current_app.config["SETTINGS"].public_url.rstrip("/") + CALLBACK_PATH


def _tenant_ok(tenant_id: str) -> bool:
    return re.fullmatch(TENANT, tenant_id) is not None


def _browser_secret() -> str:
    """The binding cookie's value (this frame's or popup's own partition), else a new one."""
    browser = request.cookies.get(BIND_COOKIE) or sso.new_secret()
    return browser if len(browser) <= 100 else sso.new_secret()


def _public_origin() -> str:
    parts = urlsplit(current_app.config["SETTINGS"].public_url)
    return f"{parts.scheme}://{parts.netloc}"


def _to_host(started: sso.Started, browser: str) -> BaseResponse:
    response = redirect(started.authorize_url, code=302)
    _set_cookie(response, BIND_COOKIE, browser, int(sso.STATE_TTL.total_seconds()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/t/<tenant_id>/sso/start")
def start(tenant_id: str):
    if not _tenant_ok(tenant_id):
        return _refusal(404, _("Not Found"), _("No such Coachwire tenant."), kind="unknown_tenant")
    browser = _browser_secret()
    db, box = get_db(), current_app.extensions["coachwire.box"]
    next_raw = request.args.get("next")
    try:
        if next_raw and sso.popup_requested(next_raw):
            return _offer_popup(tenant_id, next_raw, browser)
        started = sso.start(db, box, tenant_id=tenant_id, next_raw=next_raw,
                            browser_secret=browser, redirect_uri=_redirect_uri())
    except sso.SignOnRefused as exc:
        known = exc.reason not in ("unknown_tenant",)
        return _refused(exc, tenant_id if known else None)
    return _to_host(started, browser)


def _lang_of(next_path: str) -> str | None:
    from urllib.parse import parse_qs

    return parse_qs(urlsplit(next_path).query).get("gcLangTag", [None])[0]


def _offer_popup(tenant_id: str, next_raw: str, browser: str) -> Response:
    """gcUsePopupAuth=true: the frame shows a button that opens the sign-in in a popup."""
    offer = sso.offer_popup(get_db(), tenant_id=tenant_id, next_raw=next_raw,
                            frame_secret=browser)
    nonce = secrets.token_urlsafe(16)
    lang = _lang_of(offer.next_path)
    old = request.cookies.get(SESSION_COOKIE)
    with force_locale(layout.negotiate_lang(lang)):
        html = _render_offer(tenant_id, offer, nonce, lang, old)
    response = _page_headers(Response(html, mimetype="text/html"), _tenant_origins(tenant_id),
                             nonce)
    _set_cookie(response, BIND_COOKIE, browser, int(sso.HANDOVER_TTL.total_seconds()))
    return response


def _render_offer(tenant_id: str, offer: sso.PopupOffer, nonce: str, lang: str | None,
                  old: str | None) -> str:
    return layout.render(
        "platform/popup_start.html", nonce=nonce, lang_tag=lang,
        popup_url=f"/t/{tenant_id}/sso/popup?key={offer.popup_key}"
                  + (f"&gcLangTag={quote(lang, safe='')}" if lang else ""),
        message_nonce=offer.nonce, ticket=offer.ticket,
        handover_url=f"/t/{tenant_id}/sso/handover",
        handover_csrf=csrf.token_for(current_app.config["SECRET_KEY"], old) if old else None)


@bp.get("/t/<tenant_id>/sso/popup")
def popup(tenant_id: str):
    """The popup's first stop: its one-time key, then the tenant's login host as usual."""
    if not _tenant_ok(tenant_id):
        return _refusal(404, _("Not Found"), _("No such Coachwire tenant."), kind="unknown_tenant")
    browser = _browser_secret()
    try:
        started = sso.start_popup(get_db(), current_app.extensions["coachwire.box"],
                                  tenant_id=tenant_id, popup_key=request.args.get("key"),
                                  browser_secret=browser, redirect_uri=_redirect_uri())
    except sso.SignOnRefused as exc:
        return _refused(exc, None)  # a top-level popup: never framed
    return _to_host(started, browser)


@bp.post("/t/<tenant_id>/sso/handover")
def handover(tenant_id: str):
    """The frame posts its ticket and the popup's code; the session cookie is set here, in the
    frame's own (partitioned) cookie jar, and the frame goes on to its panel."""
    if not _tenant_ok(tenant_id):
        return _refusal(404, _("Not Found"), _("No such Coachwire tenant."), kind="unknown_tenant")
    try:
        done = sso.claim_handover(get_db(), current_app.extensions["coachwire.box"],
                                  tenant_id=tenant_id, ticket=request.form.get("ticket"),
                                  code=request.form.get("code"),
                                  frame_secret=request.cookies.get(BIND_COOKIE),
                                  old_session_secret=request.cookies.get(SESSION_COOKIE))
    except sso.SignOnRefused as exc:
        return _refused(exc, tenant_id)
    return _signed_in_redirect(done.next_path, done.session_secret)


def _signed_in_redirect(next_path: str, session_secret: str) -> BaseResponse:
    response = redirect(next_path, code=303)
    _set_cookie(response, SESSION_COOKIE, session_secret, int(sso.SESSION_MAX.total_seconds()))
    _drop_cookie(response, BIND_COOKIE)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/t/<tenant_id>/sso/jwt")
def jwt(tenant_id: str):
    """Another host signs its user in with a short-lived JWT it signed (``sso_jwt``)."""
    from extension.platform import sso_jwt

    if not _tenant_ok(tenant_id):
        return _refusal(404, _("Not Found"), _("No such Coachwire tenant."), kind="unknown_tenant")
    try:
        signed = sso_jwt.sign_in(get_db(), current_app.extensions["coachwire.box"],
                                 tenant_id=tenant_id, token=request.args.get("jwt"),
                                 next_raw=request.args.get("next"),
                                 old_session_secret=request.cookies.get(SESSION_COOKIE))
    except sso.SignOnRefused as exc:
        known = exc.reason not in ("unknown_tenant",)
        return _refused(exc, tenant_id if known else None)
    return _signed_in_redirect(signed.next_path, signed.session_secret)


@bp.get(CALLBACK_PATH)
def callback():
    args = request.args
    try:
        signed = sso.finish(
            get_db(), current_app.extensions["coachwire.box"], state=args.get("state"),
            code=args.get("code"), host_error=args.get("error"),
            browser_secret=request.cookies.get(BIND_COOKIE), redirect_uri=_redirect_uri(),
            old_session_secret=request.cookies.get(SESSION_COOKIE))
    except sso.SignOnRefused as exc:
        return _refused(exc)
    if signed.handover_code:  # a popup: hand the code to the frame that opened it
        nonce = secrets.token_urlsafe(16)
        lang = _lang_of(signed.next_path)
        with force_locale(layout.negotiate_lang(lang)):
            html = layout.render("platform/popup_done.html", nonce=nonce, lang_tag=lang,
                                 code=signed.handover_code, message_nonce=signed.handover_nonce,
                                 origin=_public_origin())
        response = _page_headers(Response(html, mimetype="text/html"), [], nonce)
        _drop_cookie(response, BIND_COOKIE)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    return _signed_in_redirect(signed.next_path, signed.session_secret)


@bp.get("/t/<tenant_id>/panels/<view>")
def panel(tenant_id: str, view: str):
    """Every panel has its own page (``extension.platform.panels.page``); anything else here
    is a panel that does not exist."""
    if not _tenant_ok(tenant_id):
        return _refusal(404, _("Not Found"), _("No such Coachwire tenant."))
    with get_db().session() as session:
        known = session.get(Tenant, tenant_id) is not None
    if not known:
        return _refusal(404, _("Not Found"), _("No such Coachwire tenant."))
    return _refusal(404, _("Not Found"), _("No such panel."), tenant_id=tenant_id)


def init_app(app) -> None:
    from extension.platform import ratelimit, settings_panel

    app.register_blueprint(bp)
    app.register_blueprint(settings_panel.bp)
    layout.init_app(app)
    ratelimit.init_app(app)  # per client IP on the sign-on routes
