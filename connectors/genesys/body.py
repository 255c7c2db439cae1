"""Helpers that turn keyword arguments into Genesys request bodies and query strings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any


def compact(**fields: Any) -> dict[str, Any]:
    """A body with the given camelCase fields, dropping the ones left as None (not sent)."""
    return {key: wire(value) for key, value in fields.items() if value is not None}


def query(**fields: Any) -> dict[str, Any]:
    """Query parameters: like `compact`, with booleans as the lowercase words JSON uses
    (requests would send Python's "True")."""
    return {key: _query_value(value) for key, value in compact(**fields).items()}


def _query_value(value: Any) -> Any:
    return ("true" if value else "false") if isinstance(value, bool) else value


def wire(value: Any) -> Any:
    """Datetimes as ISO-8601 UTC with Z, dates as yyyy-MM-dd; containers recursively."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [wire(item) for item in value]
    return value


def iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC in storage)")
    millis = f"{moment.microsecond // 1000:03d}"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + millis + "Z"


def interval(start: datetime | str, end: datetime | None = None) -> str:
    """Genesys ISO-8601 interval "start/end"; an already formatted string passes through."""
    if isinstance(start, str) and end is None:
        return start
    if not isinstance(start, datetime) or end is None:
        raise ValueError("interval needs two aware datetimes or one 'start/end' string")
    return f"{iso_utc(start)}/{iso_utc(end)}"


def one_of(allowed: Iterable[str], value: str | None, *, field: str) -> str | None:
    """Reject a value the reference does not list before it costs a round trip."""
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise ValueError(f"{field} must be one of {allowed}, not {value!r}")
    return value


def parse_time(value: Any) -> datetime | None:
    """A host timestamp (ISO 8601, `Z` or an offset) as an aware datetime; None when absent or
    unreadable (a naive one is taken as UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
