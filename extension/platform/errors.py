"""Domain errors: what services raise when a request cannot be carried out. They know no HTTP
framework; the API layer (``extension.platform.problems``) turns each into an RFC 9457 problem
with the status and title below, and a CLI turns it into a message.

``errors`` carries the failing fields, each ``{"field": <name or JSON Pointer>, ...reason}``."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad Request"

    def __init__(self, detail: str = "", *, errors: list[dict] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors or []


class Invalid(DomainError):
    """The input is understood but not acceptable (422), e.g. a field out of range."""

    status, title = 422, "Unprocessable Content"


class NotFound(DomainError):
    status, title = 404, "Not Found"


class Forbidden(DomainError):
    """The caller may not do this to this thing (403)."""

    status, title = 403, "Forbidden"


class Conflict(DomainError):
    """The thing is not in a state that allows this (409), e.g. a lifecycle step out of order."""

    status, title = 409, "Conflict"


class HostFailed(DomainError):
    """The host platform did not answer usefully (502)."""

    status, title = 502, "Bad Gateway"


def field_errors(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """marshmallow's nested messages as ``[{"field": "items.0.party", "message": ...}]``: the
    one shape every problem+json and CLI error names a bad field in."""
    if isinstance(messages, list):
        return [{"field": prefix or "_schema", "message": str(m)} for m in messages]
    errors: list[dict[str, str]] = []
    for name, inner in messages.items():
        errors += field_errors(inner, f"{prefix}.{name}" if prefix else str(name))
    return errors
