"""Notification channels and the fan-out to connected WebSockets (no Flask in here)."""

from __future__ import annotations

import queue
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MAX_CHANNELS = 20  # the API description: creating a 21st channel removes the oldest
DROP = object()  # tells a socket loop to hang up, as a network failure would
# Topics this host can publish (names as in the reference's notificationTopics).
TOPIC_PATTERNS = [
    "v2.detail.events.conversation.{id}.user.end", "v2.detail.events.conversation.{id}.acw",
    "v2.conversations.{id}.transcription", "v2.speechandtextanalytics.conversation.{id}.sentiment",
    "v2.users.{id}.wem.coaching.notification", "v2.users.{id}.workforcemanagement.schedules",
    "v2.quality.evaluations", "v2.users.{id}.conversations", "v2.routing.queues.{id}.conversations",
]
_TOPIC_RES = [re.compile("^" + re.escape(p).replace(r"\{id\}", r"[A-Za-z0-9*_-]+") + "$")
              for p in TOPIC_PATTERNS]


def heartbeat() -> dict:
    return {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}


def topic_known(topic: str) -> bool:
    return any(r.match(topic) for r in _TOPIC_RES)


def topic_matches(subscribed: str, topic: str) -> bool:
    """Exact match, or a `*` wildcard segment (useful for org-wide listening in demos)."""
    pattern = "^" + re.escape(subscribed).replace(r"\*", r"[^.]+") + "$"
    return re.match(pattern, topic) is not None


@dataclass
class Channel:
    id: str
    created: datetime
    expires: datetime
    topics: list[str] = field(default_factory=list)
    sockets: set[queue.Queue] = field(default_factory=set)


class Hub:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.channels: dict[str, Channel] = {}
        self.published: list[dict] = []  # recent messages, for the console and tests

    def create(self, *, now: datetime, hours: float) -> Channel:
        channel = Channel(id=str(uuid.uuid4()), created=now,
                          expires=now + timedelta(hours=hours))
        with self.lock:
            self.channels[channel.id] = channel
            while len(self.channels) > MAX_CHANNELS:
                oldest = min(self.channels.values(), key=lambda c: c.created)
                self.remove(oldest.id)
        return channel

    def get(self, channel_id: str, now: datetime) -> Channel | None:
        with self.lock:
            channel = self.channels.get(channel_id)
        return channel if channel and channel.expires > now else None

    def subscribe(self, channel: Channel, topics: list[str], *, replace: bool) -> None:
        with self.lock:
            kept = [] if replace else channel.topics
            channel.topics = list(dict.fromkeys([*kept, *topics]))

    def attach(self, channel: Channel) -> queue.Queue:
        inbox: queue.Queue = queue.Queue()
        with self.lock:
            channel.sockets.add(inbox)
        return inbox

    def detach(self, channel: Channel, inbox: queue.Queue) -> None:
        with self.lock:
            channel.sockets.discard(inbox)

    def publish(self, topic: str, body: dict, *, correlation_id: str | None = None) -> int:
        return self.publish_message({"topicName": topic, "version": "2", "eventBody": body,
                                     "metadata": {"CorrelationId": correlation_id
                                                  or str(uuid.uuid4())}})

    def publish_message(self, message: dict) -> int:
        """Deliver to every socket of every channel subscribed to the topic; the count sent."""
        delivered = 0
        with self.lock:
            self.published = [*self.published[-199:], message]
            for channel in self.channels.values():
                if any(topic_matches(t, message["topicName"]) for t in channel.topics):
                    for inbox in channel.sockets:
                        inbox.put(message)
                        delivered += 1
        return delivered

    def drop_sockets(self, channel_id: str | None = None) -> int:
        with self.lock:
            targets = [c for c in self.channels.values() if channel_id in (None, c.id)]
            inboxes = [i for c in targets for i in c.sockets]
        for inbox in inboxes:
            inbox.put(DROP)
        return len(inboxes)

    def expire(self, now: datetime, channel_id: str | None = None) -> None:
        with self.lock:
            for channel in self.channels.values():
                if channel_id in (None, channel.id):
                    channel.expires = now
        self.drop_sockets(channel_id)

    def remove(self, channel_id: str) -> None:
        self.drop_sockets(channel_id)
        with self.lock:
            self.channels.pop(channel_id, None)
