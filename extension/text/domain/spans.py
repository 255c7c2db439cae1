"""Utterances in, spans out: the plain shapes every detector shares.

A span's offsets index the text of one utterance (``utterance`` is its position in the list), so
a panel can highlight ``text[start:end]`` without re-running anything. Offsets always refer to
the text that is stored, i.e. after PII redaction when the analysis pipeline ran it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

PARTIES = ("agent", "customer")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")


@dataclass(frozen=True)
class Utterance:
    party: str
    text: str
    offset_ms: int | None = None
    duration_ms: int | None = None


@dataclass(frozen=True)
class Span:
    """A highlighted stretch of one utterance; ``detail`` carries detector-specific facts."""

    utterance: int
    start: int
    end: int
    kind: str
    text: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    norm: str


def as_utterances(raw: Iterable[Mapping[str, Any] | Utterance]) -> list[Utterance]:
    """Accept dicts as they arrive from events; unknown parties are kept (e.g. ``ivr``) but no
    detector looks at them."""
    result = []
    for item in raw:
        if isinstance(item, Utterance):
            result.append(item)
            continue
        result.append(Utterance(
            party=str(item.get("party") or ""),
            text=str(item.get("text") or ""),
            offset_ms=_int_or_none(item.get("offset_ms")),
            duration_ms=_int_or_none(item.get("duration_ms")),
        ))
    return result


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def tokenize(text: str) -> list[Token]:
    """Lower-cased word tokens with their character offsets; apostrophes stay inside words
    ("don't") and curly ones are folded so ASR and chat text compare equal."""
    return [Token(m.start(), m.end(), m.group().lower().replace("’", "'")) for m in _WORD.finditer(text)]
