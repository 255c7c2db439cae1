"""Per-client-IP rate limit on the sign-on routes (Flask-Limiter).

``/t/<tenant>/sso/start``, the callback, the popup's start and handover and ``/sso/jwt`` share
one budget per client IP (``SSO_RATE_LIMIT``, env ``COACHWIRE_SSO_RATE_LIMIT``; one sign-in
spends 2 to 4). Counters live in Redis when ``REDIS_URL`` is set (every web worker counts
together), in memory otherwise. Over the limit: ``429`` problem+json with ``Retry-After``; for a
browser, the same small page as other sign-on refusals.

The client IP is ``request.remote_addr``: behind a reverse proxy, have the WSGI server set it
from the proxy's header (gunicorn ``forwarded_allow_ips``), or every person shares the proxy's
budget. A call centre behind one NAT address shares one budget too: raise the limit to fit a
shift change (a few hundred sign-ins in a minute).
"""

from __future__ import annotations

import math
import os
import secrets
import time

from flask import Response
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from flask_limiter.util import get_remote_address

DEFAULT_LIMIT = "120 per minute"
ENDPOINTS = ("shell.start", "shell.callback", "shell.popup", "shell.handover", "shell.jwt")


def _breached(limit: RequestLimit) -> Response:
    from flask_babel import lazy_gettext as _

    from extension.platform import shell

    retry = max(1, math.ceil(limit.reset_at - time.time()))
    response = shell._refusal(
        429, _("Too Many Requests"),
        _("Too many sign-in attempts from your network; try again in %(seconds)s seconds.",
          seconds=retry), kind="rate_limited", tenant_id=None)
    response.headers["Retry-After"] = str(retry)
    return response


def init_app(app) -> None:
    """A limiter per app (its own counters), wrapped around the sign-on views."""
    settings = app.config["SETTINGS"]
    limit = (app.config.get("SSO_RATE_LIMIT") or os.environ.get("COACHWIRE_SSO_RATE_LIMIT")
             or DEFAULT_LIMIT)
    prefix = "coachwire-sso"
    if app.testing:  # test apps share one Redis: each counts on its own
        prefix += "-" + secrets.token_hex(6)
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.redis_url or "memory://",
                      key_prefix=prefix, on_breach=_breached, headers_enabled=False,
                      strategy="moving-window")
    shared = limiter.shared_limit(limit, scope="sign-on")
    for endpoint in ENDPOINTS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = shared(app.view_functions[endpoint])
    app.extensions["coachwire.sso_limiter"] = limiter

    def _exceeded(exc: RateLimitExceeded):
        # more specific than the app's HTTPException handler, which would drop our answer
        if exc.response is not None:
            return exc.response
        current = limiter.current_limit
        return _breached(current) if current is not None else exc

    app.register_error_handler(RateLimitExceeded, _exceeded)
