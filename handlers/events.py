"""The normalized domain event and the time conversions every mapping needs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CONVERSATION_ENDED = "conversation.ended"
CONVERSATION_SENTIMENT = "conversation.sentiment"
CONVERSATION_TRANSCRIPT = "conversation.transcript"
EVALUATION_CHANGED = "evaluation.changed"
SURVEY_COMPLETED = "survey.completed"
SCHEDULE_CHANGED = "schedule.changed"
USER_CHANGED = "user.changed"
COACHING_CHANGED = "coaching.changed"
# A Genesys topic we do not map yet: stored with its raw body so it can be replayed once we do.
UNROUTED = "unrouted"

NORMALIZED_TYPES = frozenset({
    CONVERSATION_ENDED,
    CONVERSATION_SENTIMENT,
    CONVERSATION_TRANSCRIPT,
    EVALUATION_CHANGED,
    SURVEY_COMPLETED,
    SCHEDULE_CHANGED,
    USER_CHANGED,
    COACHING_CHANGED,
})


class FieldError(ValueError):
    """A payload field that cannot be converted; `path` is a JSON pointer inside the payload."""

    def __init__(self, path: str, message: str, *, more: Iterable[tuple[str, str]] = ()) -> None:
        self.path = path
        self.message = message
        # Validators that collect several problems report them all in one 422.
        self.found = [(path, message), *more]
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class Mapped:
    """What a mapping yields before the delivery id is known."""

    type: str
    subject: str | None
    occurred_at: datetime | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DomainEvent:
    delivery_id: str
    type: str
    subject: str | None
    occurred_at: datetime | None
    source_topic: str | None
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the inbox JSONB column and the RQ JSON serializer)."""
        return {
            "delivery_id": self.delivery_id,
            "type": self.type,
            "subject": self.subject,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "source_topic": self.source_topic,
            "data": self.data,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any] | str) -> DomainEvent:
        """Inverse of to_json; also takes the serialized string."""
        obj = json.loads(value) if isinstance(value, str) else value
        occurred = obj.get("occurred_at")
        return cls(
            delivery_id=obj["delivery_id"],
            type=obj["type"],
            subject=obj.get("subject"),
            occurred_at=datetime.fromisoformat(occurred) if occurred else None,
            source_topic=obj.get("source_topic"),
            data=dict(obj.get("data") or {}),
        )


def to_utc(value: Any, *, path: str) -> datetime | None:
    """Epoch milliseconds or an ISO-8601 string as an aware UTC datetime; None stays None.

    A string without an offset is taken as UTC: Genesys and EventBridge always send UTC.
    """
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip())
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise FieldError(path, "is not a valid timestamp") from exc
    raise FieldError(path, "must be epoch milliseconds or an ISO-8601 string")


def to_iso(value: Any, *, path: str) -> str | None:
    """Like to_utc, rendered as ISO-8601 so it can live in `data` (plain JSON)."""
    moment = to_utc(value, path=path)
    return moment.isoformat() if moment else None
