"""CSRF and Fetch-Metadata checks for requests the panel session cookie authenticates.

The panel cookie is ``SameSite=None`` (it has to be, in the console's cross-site frame), so the
browser sends it with requests any site starts. Every *unsafe* request (not GET, HEAD, OPTIONS)
that carries the cookie and no ``Authorization`` header (a bearer-token call is not
authenticated by the cookie: the guard then ignores it) must:

1. not come from another site: ``Sec-Fetch-Site`` must be ``same-origin``. The panel's own
   requests (htmx, forms) are same-origin even inside the console's frame: the frame's document
   is ours. The console itself never posts to us, so ``same-site``, ``cross-site`` and ``none``
   are refused. A browser too old to send Fetch Metadata is checked by its ``Origin`` (when sent,
   it must be our public origin);
2. carry the session's CSRF token in the ``X-CSRF-Token`` header (htmx sends it from the page
   shell's ``hx-headers:inherited``) or a ``csrf_token`` form field. The token is an HMAC, under
   the app's secret key, of the session id's hash: one per panel session, nothing to store,
   gone with the session (sign-in rotates it), no time limit (panels stay open all shift).

And any cookie-authenticated ``/api/`` request started by another site (``Sec-Fetch-Site:
cross-site``) is refused, reads included (resource isolation: a panel's API calls are
same-origin). Refusals are 403 problem+json and never reach the view.

Flask-WTF's ``CSRFProtect`` keeps its token in Flask's cookie session, which Coachwire does not
have (``NoCookieSessions``); this is the same check bound to the server-side panel session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

from flask import current_app, request

from extension.platform.problems import PROBLEM_BASE, Problem
from extension.platform.sso import digest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "X-CSRF-Token"
FORM_FIELD = "csrf_token"
COOKIE = "__Host-coachwire"  # shell.SESSION_COOKIE


def token_for(secret_key: str, session_secret: str) -> str:
    """The CSRF token of the panel session whose cookie value is ``session_secret``."""
    mac = hmac.new(secret_key.encode(), b"coachwire-csrf:" + digest(session_secret).encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def cookie_authenticated() -> bool:
    """The request carries the panel cookie and no Authorization header."""
    return bool(request.cookies.get(COOKIE)) and "Authorization" not in request.headers


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _refuse(kind: str, detail: str) -> Problem:
    return Problem(403, "Forbidden", detail, type_=f"{PROBLEM_BASE}csrf/{kind}")


def protect() -> None:
    """before_request: raise a 403 problem for a forged cookie-authenticated request."""
    if not cookie_authenticated():
        return
    site = request.headers.get("Sec-Fetch-Site")
    if request.method in SAFE_METHODS:
        if site == "cross-site" and request.path.startswith("/api/"):
            raise _refuse("cross-site", "Another site may not call the Coachwire API with your "
                                        "panel session.")
        return
    if site is not None and site != "same-origin":
        raise _refuse("cross-site", "A change must come from a Coachwire page itself "
                                    f"(Sec-Fetch-Site was {site[:20]!r}).")
    origin = request.headers.get("Origin")
    public = _origin(current_app.config["SETTINGS"].public_url)
    if site is None and origin is not None and origin.lower() != public:
        raise _refuse("cross-site", "A change must come from a Coachwire page itself.")
    given = request.headers.get(HEADER)
    if given is None and request.mimetype in ("application/x-www-form-urlencoded",
                                              "multipart/form-data"):
        given = request.form.get(FORM_FIELD)
    expected = token_for(current_app.config["SECRET_KEY"], request.cookies[COOKIE])
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise _refuse("token", "The CSRF token is missing or wrong; reload the panel.")


def init_app(app) -> None:
    app.before_request(protect)
