"""CloudEvents whose `type` is one of our normalized types: validate `data` against our shape.

Only the keys a consumer cannot do without are required; the rest is type-checked when present.
Errors are collected (not raised one by one) so a sender sees every problem in one 422.
"""

from __future__ import annotations

from typing import Any

from handlers import events as ev

_CHANNELS = frozenset({"voice", "chat", "email", "message", "social"})
_PARTIES = frozenset({"agent", "customer", "unknown"})

REQUIRED: dict[str, tuple[str, ...]] = {
    ev.CONVERSATION_ENDED: ("conversation_id",),
    ev.CONVERSATION_SENTIMENT: ("conversation_id", "customer_score"),
    ev.CONVERSATION_TRANSCRIPT: ("conversation_id", "phrases"),
    ev.EVALUATION_CHANGED: ("evaluation_id", "status"),
    ev.SURVEY_COMPLETED: ("survey_id", "conversation_id"),
    ev.SCHEDULE_CHANGED: ("user_id",),
    ev.USER_CHANGED: ("user_id",),
    ev.COACHING_CHANGED: ("user_id",),
}
# The key naming the thing the event is about, used as DomainEvent.subject.
SUBJECT_KEY = {
    ev.CONVERSATION_ENDED: "conversation_id",
    ev.CONVERSATION_SENTIMENT: "conversation_id",
    ev.CONVERSATION_TRANSCRIPT: "conversation_id",
    ev.EVALUATION_CHANGED: "evaluation_id",
    ev.SURVEY_COMPLETED: "survey_id",
    ev.SCHEDULE_CHANGED: "user_id",
    ev.USER_CHANGED: "user_id",
    ev.COACHING_CHANGED: "user_id",
}
_MILLIS = ("t_talk_ms", "t_hold_ms", "t_acw_ms", "t_handle_ms")


def data_errors(event_type: str, data: Any) -> list[tuple[str, str]]:
    """(path under /data, message) for every problem in `data` of a normalized event."""
    if not isinstance(data, dict):
        return [("/data", "must be an object")]
    found = [(f"/data/{key}", "is required") for key in REQUIRED[event_type]
             if data.get(key) in (None, "")]
    found += [(f"/data/{k}", "must be a string") for k in data
              if k.endswith("_id") and data[k] is not None and not isinstance(data[k], str)]
    found += _conversation_errors(data)
    if event_type == ev.CONVERSATION_TRANSCRIPT:
        found += _phrase_errors(data.get("phrases"))
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _conversation_errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    channel = data.get("channel")
    if channel is not None and channel not in _CHANNELS:
        found.append(("/data/channel", f"must be one of {', '.join(sorted(_CHANNELS))}"))
    for key in _MILLIS:
        value = data.get(key)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool)
                                      and value >= 0):
            found.append((f"/data/{key}", "must be a non-negative integer"))
    for key in ("customer_score", "trend"):
        value = data.get(key)
        if value is not None and not (_is_number(value) and -1 <= value <= 1):
            found.append((f"/data/{key}", "must be a number in -1..1"))
    return found


def _phrase_errors(phrases: Any) -> list[tuple[str, str]]:
    if phrases is None:
        return []  # already reported as required
    if not isinstance(phrases, list):
        return [("/data/phrases", "must be an array")]
    found = []
    for i, phrase in enumerate(phrases):
        path = f"/data/phrases/{i}"
        if not isinstance(phrase, dict):
            found.append((path, "must be an object"))
            continue
        if phrase.get("party") not in _PARTIES:
            found.append((path + "/party", "must be agent, customer or unknown"))
        if not isinstance(phrase.get("text"), str):
            found.append((path + "/text", "must be a string"))
    return found
