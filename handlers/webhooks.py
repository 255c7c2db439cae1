"""POST /webhooks/<tenant_id>: verify, parse, normalize, commit to the inbox, answer 202.

The receiver only adapts HTTP to the sans-I/O functions in verify/parse/normalize; nothing slow
happens here (no host API calls, no scoring).

It is a WSGI layer in front of the Flask app, not a Flask view: it answers the one hot path with
werkzeug's Request and Response and hands every other request to Flask unchanged. Flask's
per-request machinery (app and request contexts, URL adapters bound twice, routing over every
API rule, signals, teardown) measured about 46 us per request in-process against 16 us for
werkzeug alone: some 13 % of the server CPU an accepted event costs. Nothing here needs it:
the tenant cache, the inbox writer and the settings are reached through the app object, and
errors become the same problem+json documents Flask's handlers write (docs/decisions.md).
"""

from __future__ import annotations

import logging

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from extension.problems import Problem, problem_response
from extension.services import tenants
from handlers import normalize, parse, verify

log = logging.getLogger("coachwire.webhooks")
PREFIX = "/webhooks/"


class WebhookReceiver:
    """WSGI middleware: `POST /webhooks/<tenant_id>` is answered here, anything else goes on to
    `downstream` (the Flask app's own wsgi_app), so Flask 404s `/webhooks/` and `/webhooks/a/b`
    as it does any unknown path."""

    def __init__(self, app, downstream) -> None:
        self.app, self.downstream = app, downstream
        self.settings = app.config["SETTINGS"]
        # The same bound Flask gives its requests (MAX_CONTENT_LENGTH): a chunked body, which
        # has no Content-Length to check first, is cut off there with a 413.
        self.request_class = type("WebhookRequest", (Request,),
                                  {"max_content_length": app.config["MAX_CONTENT_LENGTH"]})

    def __call__(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith(PREFIX):
            return self.downstream(environ, start_response)
        request = self.request_class(environ)
        tenant_id = request.path[len(PREFIX):]
        if not tenant_id or "/" in tenant_id:
            return self.downstream(environ, start_response)
        return self.respond(request, tenant_id)(environ, start_response)

    def respond(self, request: Request, tenant_id: str) -> Response:
        if request.method != "POST":
            return problem_response(Problem(405, "Method Not Allowed",
                                            "Webhooks are delivered with POST."),
                                    headers={"Allow": "POST"})
        try:
            return self.receive(request, tenant_id)
        except verify.InboundError as exc:
            log.info("webhook rejected tenant=%s status=%s title=%s detail=%s webhook-id=%s",
                     tenant_id, exc.status, exc.title, exc.detail,
                     request.headers.get("webhook-id", "-")[:200])
            return problem_response(Problem(exc.status, exc.title, exc.detail,
                                            errors=getattr(exc, "errors", None)))
        except Problem as problem:
            return problem_response(problem)
        except RequestEntityTooLarge as exc:
            return problem_response(Problem(413, exc.name, exc.description or ""))
        except Exception:
            log.exception("webhook for tenant %s failed", tenant_id)
            return problem_response(Problem(500, "Internal Server Error",
                                            "An unexpected error occurred."))

    def receive(self, request: Request, tenant_id: str) -> Response:
        settings, extensions = self.settings, self.app.extensions
        config = tenants.load_config(extensions["coachwire.db"].sessionmaker,
                                     extensions["coachwire.box"], tenant_id)
        if config is None:
            raise Problem(404, "Unknown Tenant", "No tenant with this id.")
        if config.status != "active":
            raise Problem(403, "Tenant Disabled", "This tenant does not accept events.")
        verify.check_size(request.content_length, limit=settings.webhook_max_bytes)
        body = request.get_data(cache=False)
        verify.check_size(len(body), limit=settings.webhook_max_bytes)
        webhook_id = _authenticate(request.headers, body, config)
        events = normalize.normalize_all(parse.parse_body(body), webhook_id=webhook_id)
        result = extensions["coachwire.inbox"].accept(tenant_id, events)
        status = 202 if result.accepted or not events else 200
        # What jsonify would write, without its encoder on the hot path.
        answer = b'{"accepted":%d,"duplicates":%d}\n' % (result.accepted, result.duplicates)
        return Response(answer, status=status, mimetype="application/json")


def _authenticate(headers, body: bytes, config) -> str | None:
    if "webhook-signature" in headers and config.inbound_secrets:
        return verify.verify_standard_webhook(headers, body, config.inbound_secrets)
    if config.api_keys and (headers.get("x-api-key") or headers.get("authorization")):
        verify.verify_api_key(headers, config.api_keys)
        return None
    raise verify.Unauthorized("missing credentials")
