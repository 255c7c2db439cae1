"""What the listener does with one WebSocket frame: the same parse -> normalize -> inbox path as
the webhooks, so a message that arrives both ways (overlapping channels, a webhook copy) is stored
once under its delivery id `CorrelationId:topicName`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from handlers.errors import BadJSON, NotAnEvent, TooManyEvents
from handlers.genesys import HEARTBEAT_TOPIC
from handlers.normalize import normalize_all
from handlers.parse import parse_body

log = logging.getLogger("coachwire.listener")
TOPICS_FILE = Path(__file__).resolve().parents[1] / "manifests" / "genesys-cloud" / "topics.json"
SOCKET_CLOSING = "v2.system.socket_closing"
NO_LONGER_SUBSCRIBED = "v2.system.no_longer_subscribed."
TOKEN_REVOKED = "v2.system.token_revoked."


@dataclass(frozen=True)
class Outcome:
    """What one frame was: `signal` is set for host control messages the listener must act on."""

    topic: str | None
    accepted: int = 0
    duplicates: int = 0
    signal: str | None = None  # "renew" | "resubscribe" | None

    @property
    def heartbeat(self) -> bool:
        return self.topic == HEARTBEAT_TOPIC


def control_signal(topic: str | None) -> str | None:
    if topic is None:
        return None
    if topic == SOCKET_CLOSING or topic.startswith(TOKEN_REVOKED):
        return "renew"
    if topic.startswith(NO_LONGER_SUBSCRIBED):
        return "resubscribe"
    return None


def _topic_of(frame: str | bytes) -> str | None:
    try:
        message = json.loads(frame)
    except ValueError:
        return None
    return message.get("topicName") if isinstance(message, dict) else None


class InboxSink:
    """Frame -> inbox rows for one tenant. Storage failures are retried (the frame is held, the
    socket is not read meanwhile) until stored or the listener stops: acking nothing to the host,
    a frame we drop is lost for good."""

    def __init__(self, inbox, tenant_id: str, *, stop: threading.Event,
                 retry_seconds: float = 1.0, max_retry_seconds: float = 30.0) -> None:
        self.inbox, self.tenant_id, self.stop = inbox, tenant_id, stop
        self.retry_seconds, self.max_retry_seconds = retry_seconds, max_retry_seconds

    def __call__(self, frame: str | bytes) -> Outcome:
        topic = _topic_of(frame)
        signal = control_signal(topic)
        if signal or topic == HEARTBEAT_TOPIC:
            return Outcome(topic=topic, signal=signal)
        raw = frame.encode() if isinstance(frame, str) else frame
        try:
            events = normalize_all(parse_body(raw), webhook_id=None)
        except (BadJSON, NotAnEvent, TooManyEvents) as exc:
            # The host sent something we cannot read; storing it would not help a retry.
            log.warning("tenant %s: unreadable frame on %s: %s", self.tenant_id, topic, exc)
            return Outcome(topic=topic)
        if not events:
            return Outcome(topic=topic)
        return self._store(topic, events)

    def _store(self, topic: str | None, events) -> Outcome:
        delay = self.retry_seconds
        while True:
            try:
                result = self.inbox.accept(self.tenant_id, events)
                return Outcome(topic=topic, accepted=result.accepted,
                               duplicates=result.duplicates)
            except Exception:
                log.exception("tenant %s: inbox write failed; retrying in %.1fs",
                              self.tenant_id, delay)
            if self.stop.wait(delay):
                raise SinkStopped(topic)
            delay = min(delay * 2, self.max_retry_seconds)


class SinkStopped(Exception):
    """Shutdown arrived while a frame was still unstored (the webhook copy or sweep covers it)."""


def load_topics(path: Path = TOPICS_FILE, *,
                handled: Callable[[str], bool] | None = None) -> dict[str, list[str]]:
    """{"org": [...], "user": [...]} topic templates the listener subscribes; with `handled`,
    only those whose event type it accepts (a topic nothing routes costs a subscription slot,
    per agent for the per-user ones, and brings nothing)."""
    document = json.loads(path.read_text())
    return {scope: [entry["topic"] for entry in entries
                    if handled is None or handled(entry["event"])]
            for scope, entries in document["listener"].items()}


def expand_topics(templates: dict[str, list[str]], *, user_ids: list[str]) -> list[str]:
    """Concrete topic names: org-wide ones as they are, per-user ones once per known user."""
    topics = list(templates.get("org", []))
    for user_id in sorted(user_ids):
        topics.extend(t.replace("{id}", user_id) for t in templates.get("user", []))
    return topics


TopicSource = Callable[[], list[str]]
