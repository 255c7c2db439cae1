"""Typed errors for the inbound webhook path.

Each error knows its HTTP status and renders as RFC 9457 problem details, so the Flask view only
adapts. Messages never quote the request body or header values: they end up in logs and responses.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://coachwire.dev/problems/"


class InboundError(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.title
        super().__init__(self.detail)

    def to_problem(self) -> dict[str, Any]:
        """The `application/problem+json` body for this error."""
        return {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }


class Unauthorized(InboundError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"


class PayloadTooLarge(InboundError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


class BadJSON(InboundError):
    status = 400
    title = "Body is not valid JSON"
    slug = "bad-json"


class NotAnEvent(InboundError):
    """Valid JSON, but not an event we accept; `errors` lists each failing JSON pointer."""

    status = 422
    title = "Not an accepted event"
    slug = "not-an-event"

    def __init__(self, errors: list[dict[str, str]], detail: str | None = None) -> None:
        self.errors = errors
        super().__init__(detail or f"{len(errors)} validation error(s)")

    def to_problem(self) -> dict[str, Any]:
        return {**super().to_problem(), "errors": self.errors}


class TooManyEvents(NotAnEvent):
    """A batch above the limit.

    422, not 413: the body may be well under the byte limit, and the sender must split the batch,
    not shrink the content. Subclassing NotAnEvent keeps one `except` for "reject the whole batch".
    """

    title = "Too many events in batch"
    slug = "too-many-events"

    def __init__(self, *, count: int, limit: int) -> None:
        message = f"at most {limit} events per batch, got {count}"
        super().__init__([{"path": "/events", "message": message}], detail=message)


def problem(path: str, message: str) -> dict[str, str]:
    """One entry of NotAnEvent.errors."""
    return {"path": path, "message": message}
