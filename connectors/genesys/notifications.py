"""Notification API channels: the WebSocket feed the listener process subscribes to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors.genesys.body import query
from connectors.http import Transport

BASE = "/api/v2/notifications/channels"


class NotificationsClient:
    def __init__(self, transport: Transport):
        self._t = transport

    def create_channel(self) -> dict[str, Any]:
        """A new channel {id, connectUri, expires}; the host keeps at most 20 per client and
        drops the oldest when a 21st is made, so callers should reuse channels."""
        answer = self._t.request("POST", BASE) or {}
        return {key: answer.get(key) for key in ("id", "connectUri", "expires")}

    def list_channels(self) -> list[dict[str, Any]]:
        return (self._t.request("GET", BASE) or {}).get("entities") or []

    def subscribe(
        self, channel_id: str, topics: Iterable[str], *, ignore_errors: bool | None = None
    ) -> list[dict[str, Any]]:
        """Add topics to the channel; returns ChannelTopic entries with state Permitted/Rejected."""
        return self._topics("POST", channel_id, topics, ignore_errors)

    def replace_subscriptions(
        self, channel_id: str, topics: Iterable[str], *, ignore_errors: bool | None = None
    ) -> list[dict[str, Any]]:
        """Make `topics` the channel's whole subscription list."""
        return self._topics("PUT", channel_id, topics, ignore_errors)

    def subscriptions(self, channel_id: str) -> list[dict[str, Any]]:
        answer = self._t.request("GET", f"{BASE}/{channel_id}/subscriptions") or {}
        return answer.get("entities") or []

    def _topics(
        self, method: str, channel_id: str, topics: Iterable[str], ignore_errors: bool | None
    ) -> list[dict[str, Any]]:
        body = [{"id": topic} for topic in topics]  # a JSON array of ChannelTopic
        params = query(ignoreErrors=ignore_errors)
        path = f"{BASE}/{channel_id}/subscriptions"
        answer = self._t.request(method, path, json=body, params=params) or {}
        return answer.get("entities") or []
