"""Envelopes -> domain events, with the delivery id that makes storing them idempotent.

Delivery id (ARCHITECTURE.md §3, STYLE.md habit 6), first available wins:
- an event sent alone: `webhook-id`, else the envelope's own id (EventBridge/CloudEvents `id`),
  else `metadata.CorrelationId:topicName`;
- a batch item: its own id, else `{webhook-id}:{index}`, else `CorrelationId:topicName`
  (the batch's webhook-id alone would collide across its items);
- nothing available: NotAnEvent, because an event without an idempotency key could be stored twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from extension.text.domain.pii import redact
from handlers import cloudevents as ce
from handlers.errors import NotAnEvent, problem
from handlers.events import (
    CONVERSATION_TRANSCRIPT,
    NORMALIZED_TYPES,
    DomainEvent,
    FieldError,
    Mapped,
    to_utc,
)
from handlers.genesys import HEARTBEAT_TOPIC, map_notification
from handlers.parse import Envelope

# DomainEvent is re-exported: the jobs import it from here.
__all__ = ["DomainEvent", "normalize", "normalize_all"]


@dataclass(frozen=True)
class _Unwrapped:
    """The parts of any envelope form that normalization needs."""

    mapped: Mapped | None
    topic: str | None
    correlation_id: str | None
    envelope_time: datetime | None


def normalize_all(envelopes: Iterable[Envelope], *, webhook_id: str | None) -> list[DomainEvent]:
    """Normalize every envelope of one request; any failure rejects them all (nothing is stored)."""
    normalized: list[DomainEvent] = []
    errors: list[dict[str, str]] = []
    for envelope in envelopes:
        try:
            normalized.extend(normalize(envelope, webhook_id=webhook_id, index=envelope.index))
        except NotAnEvent as exc:
            errors.extend(exc.errors)
    if errors:
        raise NotAnEvent(errors)
    return normalized


def normalize(
    envelope: Envelope, *, webhook_id: str | None, index: int | None = None
) -> list[DomainEvent]:
    """Domain events for one envelope: [] for heartbeats and topics we deliberately skip."""
    unwrapped = _unwrap(envelope)
    if unwrapped.mapped is None:
        return []
    delivery_id = _delivery_id(envelope, unwrapped, webhook_id=webhook_id, index=index)
    mapped = unwrapped.mapped
    return [DomainEvent(
        delivery_id=delivery_id,
        type=mapped.type,
        subject=mapped.subject,
        occurred_at=mapped.occurred_at or unwrapped.envelope_time,
        source_topic=unwrapped.topic,
        data=_without_pii(mapped.type, mapped.data),
    )]


def _without_pii(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Transcript text is redacted here, before the inbox: nothing stores a card number, a
    national id, an email address or a phone number, not even the durable copy of the event."""
    if event_type != CONVERSATION_TRANSCRIPT or not isinstance(data.get("phrases"), list):
        return data
    phrases = [{**phrase, "text": redact(phrase["text"]).text}
               if isinstance(phrase, dict) and isinstance(phrase.get("text"), str) else phrase
               for phrase in data["phrases"]]
    return {**data, "phrases": phrases}


def _unwrap(envelope: Envelope) -> _Unwrapped:
    payload = envelope.payload
    try:
        if envelope.kind == "genesys":
            return _from_notification(payload, prefix="", envelope_time=None)
        if envelope.kind == "eventbridge":
            moment = to_utc(payload.get("time"), path="/time")
            return _from_notification(payload["detail"], prefix="/detail", envelope_time=moment)
        return _from_cloudevent(payload)
    except FieldError as exc:
        raise NotAnEvent([problem(envelope.path + path, msg) for path, msg in exc.found]) from exc


def _from_notification(
    message: dict[str, Any], *, prefix: str, envelope_time: datetime | None
) -> _Unwrapped:
    topic = message["topicName"]
    metadata = message.get("metadata") or {}
    try:
        mapped = map_notification(topic, message["eventBody"])
    except FieldError as exc:
        raise FieldError(f"{prefix}/eventBody{exc.path}", exc.message) from exc
    return _Unwrapped(mapped=mapped, topic=topic, correlation_id=metadata.get("CorrelationId"),
                      envelope_time=envelope_time)


def _from_cloudevent(payload: dict[str, Any]) -> _Unwrapped:
    event_type = payload["type"]
    moment = to_utc(payload.get("time"), path="/time")
    data = payload.get("data")
    if event_type in NORMALIZED_TYPES:
        return _Unwrapped(mapped=_normalized_cloudevent(payload), topic=None,
                          correlation_id=None, envelope_time=moment)
    if event_type.startswith("v2.") or event_type == HEARTBEAT_TOPIC:
        # A Genesys topic relayed as a CloudEvent: `data` is the eventBody.
        if not isinstance(data, dict):
            raise FieldError("/data", "must be the Genesys eventBody object")
        try:
            mapped = map_notification(event_type, data)
        except FieldError as exc:
            raise FieldError(f"/data{exc.path}", exc.message) from exc
        return _Unwrapped(mapped=mapped, topic=event_type, correlation_id=None,
                          envelope_time=moment)
    raise FieldError("/type", "is neither a Coachwire event type nor a Genesys topic")


def _normalized_cloudevent(payload: dict[str, Any]) -> Mapped:
    data: Any  # any JSON until data_errors() finds nothing wrong with it
    event_type, data = payload["type"], payload.get("data")
    found = ce.data_errors(event_type, data)
    if found:
        (path, message), *more = found
        raise FieldError(path, message, more=more)
    subject = payload.get("subject")
    if not isinstance(subject, str) or not subject:
        subject = data[ce.SUBJECT_KEY[event_type]]
    return Mapped(type=event_type, subject=subject, occurred_at=None, data=dict(data))


def _delivery_id(
    envelope: Envelope, unwrapped: _Unwrapped, *, webhook_id: str | None, index: int | None
) -> str:
    by_correlation = None
    if unwrapped.correlation_id and unwrapped.topic:
        by_correlation = f"{unwrapped.correlation_id}:{unwrapped.topic}"
    if index is None:
        candidates = [webhook_id, envelope.own_id, by_correlation]
    else:
        by_position = f"{webhook_id}:{index}" if webhook_id else None
        candidates = [envelope.own_id, by_position, by_correlation]
    for candidate in candidates:
        if candidate:
            return candidate
    raise NotAnEvent([problem(envelope.path, "no delivery id: send webhook-id, an event id or "
                                             "metadata.CorrelationId")])
