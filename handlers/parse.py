"""Turn a raw request body into envelopes: which wire form each event came in, nothing more.

Accepted forms (ARCHITECTURE.md §3): a Genesys notification message, the Amazon EventBridge
envelope of the Genesys integration, CloudEvents 1.0 JSON, or `{"events": [...]}` of those.
Every item is checked before anything is returned, so one bad item rejects the whole batch and the
caller never stores half of it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

from handlers.errors import BadJSON, NotAnEvent, TooManyEvents, problem

MAX_BATCH = 500
# Bounds the 422 body when a large batch is wrong everywhere.
MAX_REPORTED_ERRORS = 50
# The inbox delivery_id column holds 200 characters; a longer id would be truncated and collide.
MAX_ID_LENGTH = 200
EVENTBRIDGE_SOURCE_PREFIX = "aws.partner/genesys.com"
# PostgreSQL cannot store U+0000 or an unpaired surrogate in text or jsonb. In valid UTF-8 JSON
# they can only arrive as \u escapes, so the raw text is scanned for those first (a C-speed
# search that almost never matches) and only then is the document walked for the exact field.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "contains U+0000 or an unpaired surrogate, which cannot be stored"
# No accepted payload nests anywhere near this deep; a document that does is refused before it is
# stored, or decoding it again in a worker (deeper in the stack) raises RecursionError and the
# row blocks its tenant's drain.
MAX_DEPTH = 64

Kind = Literal["genesys", "eventbridge", "cloudevents"]


@dataclass(frozen=True)
class Envelope:
    """One event as received. `index` is its position in a batch, None when sent alone."""

    kind: Kind
    payload: dict[str, Any]
    own_id: str | None
    index: int | None = None

    @property
    def path(self) -> str:
        """JSON pointer of this event in the body, for error messages."""
        return "" if self.index is None else f"/events/{self.index}"


def parse_body(body: bytes) -> list[Envelope]:
    """Envelopes for every event in `body`; BadJSON, NotAnEvent or TooManyEvents otherwise."""
    text, document = _load_json(body)
    _refuse_too_deep(text, document)
    _refuse_unstorable(text, document)
    if isinstance(document, dict) and "events" in document:
        return _parse_batch(document["events"])
    errors: list[dict[str, str]] = []
    envelope = _parse_item(document, index=None, errors=errors)
    if errors or envelope is None:
        raise NotAnEvent(errors)
    return [envelope]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(literal: str) -> float:
    # json reads 1e400 as infinity, which no JSON column stores and no score means.
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"{literal} does not fit a double")
    return value


# NaN/Infinity are Python extensions, not JSON; storing them would break JSONB columns. One
# decoder for every request: json.loads with hooks builds a new decoder and scanner per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def _load_json(body: bytes) -> tuple[str, Any]:
    try:
        text = body.decode("utf-8")
        return text, _DECODER.decode(text)
    except UnicodeDecodeError as exc:
        raise BadJSON("body is not valid UTF-8") from exc
    except RecursionError as exc:
        raise BadJSON("body is nested too deeply") from exc
    except ValueError as exc:
        raise BadJSON("body is not valid JSON") from exc


def _refuse_too_deep(text: str, document: Any) -> None:
    """NotAnEvent naming the first value nested deeper than MAX_DEPTH. A body with fewer opening
    brackets than that cannot be too deep, so the common case costs two C-speed counts."""
    if text.count("{") + text.count("[") <= MAX_DEPTH:
        return
    stack: list[tuple[str, Any, int]] = [("", document, 1)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, dict):
            items: Any = ((f"{path}/{_escape_pointer(k)}", v) for k, v in value.items())
        elif isinstance(value, list):
            items = ((f"{path}/{i}", v) for i, v in enumerate(value))
        else:
            continue
        if depth > MAX_DEPTH:
            message = f"nested deeper than {MAX_DEPTH} levels"
            raise NotAnEvent([problem(path, message)], detail=f"body is {message}")
        stack.extend((p, v, depth + 1) for p, v in items)


def _refuse_unstorable(text: str, document: Any) -> None:
    """NotAnEvent naming every field that holds text no database column can keep. Accepted, such
    an event would fail the group commit it joins, other requests' rows with it."""
    if not _SUSPECT_ESCAPE.search(text):
        return
    found: list[dict[str, str]] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack and len(found) < MAX_REPORTED_ERRORS:
        path, value = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                found.append(problem(path, UNSTORABLE_MESSAGE))
        elif isinstance(value, dict):
            for key, item in value.items():
                pointer = f"{path}/{_escape_pointer(key)}"
                if _UNSTORABLE.search(key):
                    found.append(problem(pointer, "this key " + UNSTORABLE_MESSAGE))
                stack.append((pointer, item))
        elif isinstance(value, list):
            stack.extend((f"{path}/{i}", item) for i, item in enumerate(value))
    if found:
        raise NotAnEvent(sorted(found, key=lambda e: e["path"]), detail=UNSTORABLE_MESSAGE)


def _escape_pointer(key: str) -> str:
    """RFC 6901: `~` and `/` inside a key are written `~0` and `~1`."""
    return key.replace("~", "~0").replace("/", "~1")


def _parse_batch(items: Any) -> list[Envelope]:
    if not isinstance(items, list):
        raise NotAnEvent([problem("/events", "must be an array")])
    if not items:
        raise NotAnEvent([problem("/events", "must not be empty")])
    if len(items) > MAX_BATCH:
        raise TooManyEvents(count=len(items), limit=MAX_BATCH)
    errors: list[dict[str, str]] = []
    envelopes = [_parse_item(item, index=i, errors=errors) for i, item in enumerate(items)]
    if errors:
        raise NotAnEvent(errors[:MAX_REPORTED_ERRORS], detail=f"{len(errors)} validation error(s)")
    return [e for e in envelopes if e is not None]


def _parse_item(item: Any, *, index: int | None, errors: list[dict[str, str]]) -> Envelope | None:
    path = "" if index is None else f"/events/{index}"
    if not isinstance(item, dict):
        errors.append(problem(path, "must be an object"))
        return None
    if "specversion" in item:
        kind: Kind = "cloudevents"
        found = _cloudevent_errors(item)
        own_id = item.get("id")
    elif "detail-type" in item or "detail" in item:
        kind, found, own_id = "eventbridge", _eventbridge_errors(item), item.get("id")
    else:
        kind, found, own_id = "genesys", _notification_errors(item), None
    errors.extend(problem(path + sub, message) for sub, message in found)
    return None if found else Envelope(kind=kind, payload=item, own_id=own_id, index=index)


def _notification_errors(item: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """A Genesys notification message: topicName and eventBody required, metadata optional."""
    found = []
    if not _nonempty_str(item.get("topicName")):
        found.append((prefix, "missing topicName"))
    if not isinstance(item.get("eventBody"), dict):
        found.append((prefix, "missing eventBody object"))
    metadata = item.get("metadata", {})
    if not isinstance(metadata, dict):
        found.append((prefix + "/metadata", "must be an object"))
    elif "CorrelationId" in metadata and not _nonempty_str(metadata["CorrelationId"]):
        found.append((prefix + "/metadata/CorrelationId", "must be a non-empty string"))
    return found


def _eventbridge_errors(item: dict[str, Any]) -> list[tuple[str, str]]:
    found = _id_errors(item.get("id"))
    for key in ("detail-type", "source"):
        if not _nonempty_str(item.get(key)):
            found.append(("", f"missing {key}"))
    source = item.get("source")
    if _nonempty_str(source) and not source.startswith(EVENTBRIDGE_SOURCE_PREFIX):
        found.append(("/source", "not a Genesys partner event source"))
    detail = item.get("detail")
    if not isinstance(detail, dict):
        found.append(("", "missing detail object"))
    else:
        found.extend(_notification_errors(detail, prefix="/detail"))
    return found


def _cloudevent_errors(item: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    if item.get("specversion") != "1.0":
        found.append(("/specversion", "must be \"1.0\""))
    found.extend(_id_errors(item.get("id")))
    for key in ("source", "type"):
        if not _nonempty_str(item.get(key)):
            found.append(("", f"missing {key}"))
    if "time" in item and not _nonempty_str(item["time"]):
        found.append(("/time", "must be an RFC 3339 string"))
    if "data_base64" in item:
        found.append(("/data_base64", "binary data is not supported; send JSON `data`"))
    return found


def _id_errors(value: Any) -> list[tuple[str, str]]:
    if not _nonempty_str(value):
        return [("", "missing id")]
    if len(value) > MAX_ID_LENGTH:
        return [("/id", f"longer than {MAX_ID_LENGTH} characters")]
    return []


def _nonempty_str(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value.strip())
