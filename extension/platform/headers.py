"""Security headers on every answer Flask gives (the webhook receiver sets its own, the same).

``nosniff`` everywhere; ``Cache-Control: no-store`` on API answers (they carry personal data);
``frame-ancestors 'none'`` everywhere, since no page may be framed until the panels set their
own per-tenant policy; HSTS when the request came over HTTPS."""

from __future__ import annotations

from flask import Flask, Response, request

ALWAYS = (("X-Content-Type-Options", "nosniff"),
          ("Content-Security-Policy", "frame-ancestors 'none'"))
NO_STORE = ("Cache-Control", "no-store")
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def secure(response: Response) -> Response:
    for name, value in ALWAYS:
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/"):
        response.headers[NO_STORE[0]] = NO_STORE[1]
    if request.is_secure:
        response.headers.setdefault(*HSTS)
    return response


def init_app(app: Flask) -> None:
    app.after_request(secure)
