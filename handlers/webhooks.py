"""POST /webhooks/<tenant_id>: verify, parse, normalize, commit to the inbox, answer 202.

The receiver only adapts HTTP to the sans-I/O functions in verify/parse/normalize; nothing slow
happens here (no host API calls, no scoring).

It is a WSGI layer in front of the Flask app, not a Flask view: it answers the one hot path on
the WSGI environ (werkzeug's stream and header helpers) and hands every other request to Flask
unchanged. In-process, a Flask view that reads the body and answers costs 62-68 us per request;
this receiver, verify, parse and normalize included, costs 46 us (71 us with werkzeug's Request
and Response objects, 111 us as a Flask view). Nothing here needs Flask: the tenant cache, the
inbox writer and the settings are reached through the app object (there is no app context:
`current_app` is not set here), and errors become the same problem+json documents Flask's
handlers write (docs/decisions.md).
"""

from __future__ import annotations

import logging

import psycopg
import sqlalchemy.exc
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_content_length, get_input_stream

from extension.platform import headers as headers_module
from extension.platform import logs, metrics, tenants
from extension.platform.problems import Problem, from_http_exception, internal_error, problem_response
from handlers import normalize, parse, verify

log = logging.getLogger("coachwire.webhooks")
PREFIX = "/webhooks/"
_JSON_ANSWER = "application/json"


class WebhookReceiver:
    """WSGI middleware: `POST /webhooks/<tenant_id>` is answered here, anything else goes on to
    `downstream` (the Flask app's own wsgi_app), so Flask 404s `/webhooks/` and `/webhooks/a/b`
    as it does any unknown path."""

    def __init__(self, app, downstream) -> None:
        self.app, self.downstream = app, downstream
        self.settings = app.config["SETTINGS"]
        # The bound Flask gives its requests (MAX_CONTENT_LENGTH): a chunked body, which has no
        # Content-Length to check first, is cut off there with a 413 by werkzeug's stream.
        self.max_content_length = app.config["MAX_CONTENT_LENGTH"]

    def __call__(self, environ, start_response):
        logs.clear()  # this request's log context starts empty (a server may reuse the thread)
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.downstream(environ, start_response)
        # WSGI carries the path as latin-1; decode it as werkzeug does for its routes.
        tenant_id = path[len(PREFIX):].encode("latin-1").decode(errors="replace")
        if not tenant_id or "/" in tenant_id:
            return self.downstream(environ, start_response)
        start_response = metrics.count_webhook_answers(start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(Problem(405, "Method Not Allowed", "Webhooks are delivered with POST."),
                           environ, start_response, Allow="POST")
        headers = EnvironHeaders(environ)
        try:
            status, answer = self.receive(environ, headers, tenant_id)
        except verify.InboundError as exc:
            log.info("webhook rejected tenant=%s status=%s title=%s detail=%s webhook-id=%s",
                     tenant_id, exc.status, exc.title, exc.detail,
                     headers.get("webhook-id", "-")[:200])
            problem = Problem(exc.status, exc.title, exc.detail, errors=getattr(exc, "errors", None))
        except Problem as exc:
            problem = exc
        except RequestEntityTooLarge as exc:
            problem = from_http_exception(exc)
        except STORE_UNAVAILABLE as exc:
            # Locked past the writer's wait (SQLite), restarting or unreachable (PostgreSQL), or
            # a writer that did not answer: nothing of this request was stored, so the sender's
            # retry is safe and will be answered once the store is back.
            log.warning("webhook for tenant %s: event store unavailable (%s)", tenant_id,
                        type(exc).__name__)
            return _answer(Problem(503, "Service Unavailable", "The event store is busy or "
                                   "unavailable; nothing was stored. Retry after the given delay."),
                           environ, start_response, **{"Retry-After": RETRY_AFTER_SECONDS})
        except Exception:
            log.exception("webhook for tenant %s failed", tenant_id)
            problem = internal_error()
        else:
            # The one answer of the hot path, written directly: a Response object and its
            # header processing cost more than the rest of this function's HTTP handling.
            start_response(status, [("Content-Type", _JSON_ANSWER),
                                    ("Content-Length", str(len(answer))), *SECURITY_HEADERS])
            return [answer]
        return _answer(problem, environ, start_response)

    def receive(self, environ, headers: EnvironHeaders, tenant_id: str) -> tuple[str, bytes]:
        """The status line and body of the answer; raises what becomes a problem answer."""
        settings, extensions = self.settings, self.app.extensions
        config = tenants.load_config(extensions["coachwire.db"].sessionmaker,
                                     extensions["coachwire.box"], tenant_id)
        if config is None:
            raise Problem(404, "Unknown Tenant", "No tenant with this id.")
        logs.bind_request(tenant=tenant_id, delivery_id=headers.get("webhook-id"))
        if config.status != "active":
            raise Problem(403, "Tenant Disabled", "This tenant does not accept events.")
        verify.check_size(get_content_length(environ), limit=settings.webhook_max_bytes)
        body = get_input_stream(environ, max_content_length=self.max_content_length).read()
        verify.check_size(len(body), limit=settings.webhook_max_bytes)
        webhook_id = _authenticate(headers, body, config)
        events = normalize.normalize_all(parse.parse_body(body), webhook_id=webhook_id)
        result = extensions["coachwire.inbox"].accept(tenant_id, events)
        status = "202 Accepted" if result.accepted or not events else "200 OK"
        return status, b'{"accepted":%d,"duplicates":%d}\n' % (result.accepted, result.duplicates)


# The same as Flask's answers get (extension.platform.headers), as one ready list.
SECURITY_HEADERS = (*headers_module.ALWAYS, headers_module.NO_STORE)

# What a sender may retry: the database or the writer could not take the events just now.
STORE_UNAVAILABLE = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.TimeoutError,
                     psycopg.OperationalError, TimeoutError)
RETRY_AFTER_SECONDS = "2"


def _answer(problem: Problem, environ, start_response, **headers: str):
    return problem_response(problem, headers={**dict(SECURITY_HEADERS), **headers})(
        environ, start_response)


def _authenticate(headers, body: bytes, config) -> str | None:
    if "webhook-signature" in headers and config.inbound_secrets:
        return verify.verify_standard_webhook(headers, body, config.inbound_secrets)
    if config.api_keys and (headers.get("x-api-key") or headers.get("authorization")):
        verify.verify_api_key(headers, config.api_keys)
        return None
    raise verify.Unauthorized("missing credentials")
