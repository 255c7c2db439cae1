"""Rewriting stored values so they no longer name a subject: every occurrence of each needle
(a host user id, a name, an e-mail address, a customer address) in a string, a JSON object's
keys and values, or a list is replaced. Needles shorter than ``MIN_NEEDLE`` are ignored (a
two-letter name would rewrite unrelated words)."""

from __future__ import annotations

import re
from collections.abc import Mapping

MIN_NEEDLE = 3
JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]


def usable(replacements: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in replacements.items() if k and len(k.strip()) >= MIN_NEEDLE}


def _pattern(replacements: Mapping[str, str]) -> re.Pattern[str] | None:
    keys = sorted(usable(replacements), key=len, reverse=True)  # longest first: an e-mail before its name
    if not keys:
        return None
    # whole words only: a name must not rewrite the middle of another word
    return re.compile("|".join(rf"(?<!\w){re.escape(k)}(?!\w)" for k in keys), re.IGNORECASE)


def scrub(value: JSON, replacements: Mapping[str, str]) -> JSON:
    """``value`` with every needle replaced (case-insensitive); the same object when unchanged."""
    pattern = _pattern(replacements)
    if pattern is None:
        return value
    lowered = {k.lower(): v for k, v in usable(replacements).items()}
    return _walk(value, pattern, lowered)


def _walk(value: JSON, pattern: re.Pattern[str], lowered: dict[str, str]) -> JSON:
    if isinstance(value, str):
        return pattern.sub(lambda m: lowered[m.group(0).lower()], value)
    if isinstance(value, list):
        return [_walk(v, pattern, lowered) for v in value]
    if isinstance(value, dict):
        return {str(_walk(k, pattern, lowered)): _walk(v, pattern, lowered) for k, v in value.items()}
    return value


def mentions(value: JSON, needles: list[str]) -> bool:
    """Whether any usable needle occurs in ``value`` (case-insensitive)."""
    pattern = _pattern(dict.fromkeys(needles, ""))
    if pattern is None:
        return False
    return _found(value, pattern)


def _found(value: JSON, pattern: re.Pattern[str]) -> bool:
    if isinstance(value, str):
        return pattern.search(value) is not None
    if isinstance(value, list):
        return any(_found(v, pattern) for v in value)
    if isinstance(value, dict):
        return any(_found(k, pattern) or _found(v, pattern) for k, v in value.items())
    return False
