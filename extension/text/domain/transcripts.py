"""Transcripts from the host into the internal shape ``[{party, text, offset_ms, duration_ms}]``.

* ``from_genesys`` reads the document behind the Speech and Text Analytics transcript URL
  (``GET /api/v2/speechandtextanalytics/conversations/{id}/communications/{id}/transcripturl``
  -> ``{url}`` -> JSON): ``{conversationId, communicationId, mediaType, startTime?, participants?,
  transcripts: [{transcriptId, language, phrases: [{text, startTimeMs, duration: {milliseconds},
  participantPurpose, words?, ...}], analytics?}]}``. Phrases of every transcript are merged in
  time order; ``startTimeMs`` is epoch milliseconds and becomes an offset from the first phrase
  (or from the document's ``startTime`` when it is given and earlier); ``duration`` may be a
  ``{"milliseconds": n}`` object or a number. ``participantPurpose`` ``internal``/``agent``/``user``
  is the agent, ``external``/``customer`` the customer; others (``acd``, ``ivr``, ``bot``) keep
  their lower-cased purpose, which the detectors ignore.
* ``from_messages`` reads chat/messaging turns ``[{party|purpose|from, text|body, offset_ms?}]``.
* ``from_email`` splits an email body into paragraphs of one party (no timings).

Pure functions: no I/O, no redaction (analysis redacts before anything is stored).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["from_email", "from_genesys", "from_messages", "normalise", "party_of"]

AGENT_PURPOSES = frozenset({"internal", "agent", "user", "staff"})
CUSTOMER_PURPOSES = frozenset({"external", "customer", "client", "consumer"})


def party_of(purpose: Any) -> str:
    value = str(purpose or "").strip().lower()
    if value in AGENT_PURPOSES:
        return "agent"
    if value in CUSTOMER_PURPOSES:
        return "customer"
    return value or "unknown"


def _duration_ms(value: Any) -> int | None:
    if isinstance(value, Mapping):
        value = value.get("milliseconds")
    if value is None or isinstance(value, bool):
        return None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def from_genesys(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The STA transcript document as utterances in time order (see the module docstring)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("transcripts"), list):
        raise ValueError("not a Genesys transcript document: 'transcripts' must be a list")
    phrases: list[tuple[int | None, int, int, Any, str]] = []
    for transcript in document["transcripts"]:
        for index, phrase in enumerate((transcript or {}).get("phrases") or []):
            text = str(phrase.get("text") or "").strip()
            if not text:
                continue
            phrases.append((_int(phrase.get("startTimeMs")), len(phrases), index, phrase, text))
    timed = [p[0] for p in phrases if p[0] is not None]
    origin = min(timed) if timed else None
    start = _int(document.get("startTime"))
    if origin is not None and start is not None and start <= origin:
        origin = start
    phrases.sort(key=lambda p: (p[0] is None, p[0] or 0, p[1]))
    return [{"party": party_of(phrase.get("participantPurpose")), "text": text,
             "offset_ms": None if started is None or origin is None else started - origin,
             "duration_ms": _duration_ms(phrase.get("duration"))}
            for started, _, _, phrase, text in phrases]


def from_messages(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat or messaging turns; empty turns are dropped, order is kept."""
    out = []
    for message in messages:
        text = str(message.get("text") or message.get("body") or "").strip()
        if not text:
            continue
        purpose = message.get("party") or message.get("purpose") or message.get("participantPurpose") \
            or message.get("from")
        out.append({"party": party_of(purpose), "text": text, "offset_ms": _int(message.get("offset_ms")),
                    "duration_ms": None})
    return out


def from_email(body: str, *, party: str = "customer") -> list[dict[str, Any]]:
    """One utterance per non-empty paragraph of an email body, all from ``party``."""
    paragraphs = [p.strip() for p in str(body or "").replace("\r\n", "\n").split("\n\n")]
    return [{"party": party_of(party), "text": p, "offset_ms": None, "duration_ms": None}
            for p in paragraphs if p]


def normalise(transcript: Any, *, channel: str | None = None) -> list[dict[str, Any]]:
    """Whatever arrived (a Genesys document, message turns, internal utterances, an email body)
    in the internal shape."""
    if isinstance(transcript, Mapping):
        return from_genesys(transcript)
    if isinstance(transcript, str):
        return from_email(transcript) if channel == "email" else from_messages([{"party": "customer",
                                                                                "text": transcript}])
    if isinstance(transcript, list):
        out = []
        for item in transcript:
            if not isinstance(item, Mapping):
                raise ValueError("every utterance must be an object")
            text = str(item.get("text") or item.get("body") or "").strip()
            if not text:
                continue
            out.append({"party": party_of(item.get("party") or item.get("purpose")
                                          or item.get("participantPurpose")),
                        "text": text, "offset_ms": _int(item.get("offset_ms")),
                        "duration_ms": _duration_ms(item.get("duration_ms"))})
        return out
    raise ValueError("a transcript is a Genesys document, a list of utterances or a text")
