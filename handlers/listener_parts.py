"""Value types and seams of the listener: settings, stats, channels, the socket factory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from websockets.sync.client import connect as ws_connect


class Socket(Protocol):
    def recv(self, timeout: float | None = None) -> str | bytes: ...
    def close(self) -> None: ...


class Notifications(Protocol):
    def create_channel(self) -> dict[str, Any]: ...
    def replace_subscriptions(self, channel_id: str, topics: Any, *,
                              ignore_errors: bool | None = None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class ListenerSettings:
    heartbeat_timeout: float = 95.0  # three missed Genesys heartbeats (30 s) plus slack
    renew_before: timedelta = timedelta(hours=1)  # channels live 24 h: renew at 23 h
    overlap_seconds: float = 3.0
    poll_seconds: float = 1.0  # longest a stop or a due renewal waits for a silent socket
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    refresh_topics_seconds: float = 300.0  # pick up new agents without a restart


@dataclass
class ListenerStats:
    channels: int = 0
    connects: int = 0
    renewals: int = 0
    drops: int = 0
    frames: int = 0
    heartbeats: int = 0
    accepted: int = 0
    duplicates: int = 0


@dataclass(frozen=True)
class Channel:
    id: str
    uri: str
    expires: datetime


@dataclass
class Live:
    channel: Channel
    socket: Socket
    topics: tuple[str, ...]
    last_frame: float
    got_frame: bool = False


class ChannelGone(Exception):
    """The host no longer knows the channel: make a new one."""


class SocketDead(Exception):
    """No frame, not even a heartbeat, for heartbeat_timeout seconds."""


def default_connect(uri: str) -> Socket:
    # Transcription frames can be large; 4 MiB keeps one long utterance batch in one frame.
    return ws_connect(uri, open_timeout=10, close_timeout=2, max_size=4 * 2**20)


def parse_channel(answer: dict[str, Any], *, now: datetime) -> Channel:
    expires = answer.get("expires")
    when = datetime.fromisoformat(expires) if expires else now + timedelta(hours=24)
    return Channel(id=answer["id"], uri=answer["connectUri"],
                   expires=when if when.tzinfo else when.replace(tzinfo=UTC))
