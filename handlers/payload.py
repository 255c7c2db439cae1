"""Typed reads from a JSON object: absent or null is None, a wrong type is a FieldError.

Strict on type so a sender's bug surfaces as a 422 with a path, not as a crash in a job later.
"""

from __future__ import annotations

from typing import Any

from handlers.events import FieldError


def obj(value: Any, *, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(path, "must be an object")
    return value


def text(body: dict[str, Any], key: str, *, prefix: str = "") -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"{prefix}/{key}", "must be a string")
    return value


def lower(body: dict[str, Any], key: str, *, prefix: str = "") -> str | None:
    value = text(body, key, prefix=prefix)
    return value.lower() if value is not None else None


def number(body: dict[str, Any], key: str, *, prefix: str = "") -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"{prefix}/{key}", "must be a number")
    return value


def whole(body: dict[str, Any], key: str, *, prefix: str = "") -> int | None:
    value = number(body, key, prefix=prefix)
    if value is None:
        return None
    if value != int(value) or value < 0:
        raise FieldError(f"{prefix}/{key}", "must be a non-negative integer")
    return int(value)
