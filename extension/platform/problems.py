"""RFC 9457 problem details for every error the HTTP surface returns; never a stack trace."""

from __future__ import annotations

import logging

from flask import Response, json
from werkzeug.exceptions import HTTPException

from extension.platform.errors import DomainError

log = logging.getLogger("coachwire.errors")
PROBLEM_BASE = "https://coachwire.dev/problems/"


class Problem(DomainError):
    """An HTTP problem raised by the API layer itself (views, auth, parsing); services raise the
    domain errors of ``extension.platform.errors``, which ``from_domain`` maps the same way."""

    def __init__(self, status: int, title: str, detail: str = "", *, type_: str | None = None,
                 errors: list[dict] | None = None) -> None:
        super().__init__(detail, errors=errors)
        self.status, self.title = status, title
        self.type = type_ or PROBLEM_BASE + title.lower().replace(" ", "-")


def from_domain(error: DomainError) -> Problem:
    if isinstance(error, Problem):
        return error
    return Problem(error.status, error.title, error.detail, errors=error.errors)


def problem_response(problem: Problem, *, headers: dict | None = None) -> Response:
    body = {"type": problem.type, "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    return Response(json.dumps(body), status=problem.status, headers=headers,
                    mimetype="application/problem+json")


def _domain(error: DomainError) -> Response:
    return problem_response(from_domain(error))


def from_http_exception(exc: HTTPException) -> Problem:
    return Problem(exc.code or 500, exc.name, exc.description or "")


def internal_error() -> Problem:
    """What any unexpected failure answers: never the exception's text."""
    return Problem(500, "Internal Server Error", "An unexpected error occurred.")


def _http(exc: HTTPException) -> Response:
    # keep what the exception says about itself, e.g. a 405's Allow
    allow = {name: value for name, value in exc.get_headers() if name == "Allow"}
    return problem_response(from_http_exception(exc), headers=allow or None)


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error")
    return problem_response(internal_error())


def init_app(app) -> None:
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(DomainError, _domain)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)
