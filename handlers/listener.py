"""The Notification API bridge: one channel per tenant (per shard), read over a WebSocket, every
message written to the same inbox as the webhooks.

Lifecycle of a ChannelListener (one thread; see listener_pool.py for why threads):
- open: create a channel (or reuse the last one after a drop), connect its socket, then PUT the
  topic list. Connecting first means that once the PUT returns, every message is on our socket.
- serve: read frames with a short timeout so stop, renewal and the dead-socket check run even
  when the host is silent. Heartbeats (`channel.metadata`, every 30 s on Genesys) prove the
  socket alive; nothing at all for `heartbeat_timeout` seconds means a dead socket.
- renew: `renew_before` the channel's `expires` (24 h on Genesys), or when the host announces
  `v2.system.socket_closing`, open a new channel and subscribe it while the old socket stays
  open, read the old one for `overlap_seconds` more, then close it. Messages sent during the
  overlap arrive twice; the inbox's unique delivery id keeps one.
- drop: reconnect with capped, jittered exponential backoff; re-use the channel unless the host
  says it is gone (404 on subscribe, handshake refused, close code 1008), else create a new one.
  The host does not buffer for a channel with no socket: what is published while we are
  disconnected is lost on this path and arrives through the webhook/EventBridge copy or the
  periodic reconciliation instead.

Every dependency is injected (notifications client, socket factory, clocks, sleep, random), so
tests drive the loop with fakes or against the sandbox host.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from websockets.exceptions import ConnectionClosed, InvalidStatus

from connectors.errors import NotFound
from handlers.listener_parts import (
    Channel,
    ChannelGone,
    ListenerSettings,
    ListenerStats,
    Live,
    Notifications,
    Socket,
    SocketDead,
    default_connect,
    parse_channel,
)
from handlers.listener_sink import Outcome, SinkStopped, TopicSource

log = logging.getLogger("coachwire.listener")
GONE_CLOSE_CODE = 1008  # policy violation: the host refuses this channel (unknown or expired)
# Re-exported: the pool and the tests build listeners from this module.
__all__ = ["ChannelListener", "ListenerSettings", "ListenerStats", "Notifications",
           "default_connect"]


class ChannelListener:
    def __init__(self, name: str, *, notifications: Notifications, topics: TopicSource,
                 sink: Callable[[str | bytes], Outcome],
                 connect: Callable[[str], Socket] = default_connect,
                 settings: ListenerSettings | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Any] | None = None,
                 rng: random.Random | None = None,
                 stop: threading.Event | None = None) -> None:
        self.name, self.notifications, self.topics, self.sink = name, notifications, topics, sink
        self.connect, self.settings = connect, settings or ListenerSettings()
        self.clock, self.monotonic, self.rng = clock, monotonic, rng or random.Random()
        self.stop = stop or threading.Event()
        self.sleep = sleep or self.stop.wait  # interruptible: SIGTERM ends a backoff at once
        self.stats = ListenerStats()
        self.thread: threading.Thread | None = None
        self._live: Live | None = None
        self._channel: Channel | None = None
        self._renew_requested = False
        self._renew_failures, self._next_renew_try = 0, 0.0
        self._next_refresh = 0.0

    # -- thread ------------------------------------------------------------------------------
    def start(self) -> ChannelListener:
        self.thread = threading.Thread(target=self.run, name=f"listener-{self.name}", daemon=True)
        self.thread.start()
        return self

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            healthy = self._session()
            if self.stop.is_set():
                break
            failures = 1 if healthy else failures + 1
            self.sleep(self.backoff(failures))
        log.info("listener %s stopped", self.name)

    def backoff(self, failures: int) -> float:
        """Equal jitter: never zero (a flapping host is not hammered), spread across tenants."""
        delay = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (failures - 1))
        return delay / 2 + self.rng.uniform(0, delay / 2)

    def _session(self) -> bool:
        """Open, serve until the socket ends; True when it had delivered frames (healthy)."""
        self._live = None
        try:
            self._live = self._open(self._channel)
            self._channel = self._live.channel
            self._serve()
        except ChannelGone:
            log.info("listener %s: channel gone, a new one follows", self.name)
            self._channel = None
        except SinkStopped:
            return False
        except Exception as exc:
            self._note_drop(exc)
        finally:
            self._close_live()
        return bool(self._live and self._live.got_frame)

    def _note_drop(self, exc: Exception) -> None:
        self.stats.drops += 1
        code = getattr(getattr(exc, "rcvd", None), "code", None)
        if code == GONE_CLOSE_CODE:
            self._channel = None
        log.warning("listener %s: socket ended (%s: %s); reconnecting", self.name,
                    type(exc).__name__, exc)

    def _close_live(self) -> None:
        if self._live is not None:
            _close_quietly(self._live.socket)

    # -- opening -----------------------------------------------------------------------------
    def _open(self, channel: Channel | None) -> Live:
        if channel is not None and not self._expiring(channel):
            try:
                return self._attach(channel)
            except ChannelGone:
                log.info("listener %s: channel %s gone", self.name, channel.id)
        return self._attach(self._create())

    def _create(self) -> Channel:
        channel = parse_channel(self.notifications.create_channel(), now=self.clock())
        self.stats.channels += 1
        log.info("listener %s: channel %s expires %s", self.name, channel.id,
                 channel.expires.isoformat())
        return channel

    def _attach(self, channel: Channel) -> Live:
        try:
            socket = self.connect(channel.uri)
        except InvalidStatus as exc:
            if 400 <= exc.response.status_code < 500:
                raise ChannelGone(channel.id) from exc
            raise
        try:
            topics = self._subscribe(channel)
        except BaseException:
            _close_quietly(socket)
            raise
        self.stats.connects += 1
        return Live(channel=channel, socket=socket, topics=topics, last_frame=self.monotonic())

    def _subscribe(self, channel: Channel) -> tuple[str, ...]:
        topics = tuple(self.topics())
        try:
            entries = self.notifications.replace_subscriptions(channel.id, topics,
                                                               ignore_errors=True)
        except NotFound as exc:
            raise ChannelGone(channel.id) from exc
        rejected = [e for e in entries if e.get("state") == "Rejected"]
        if rejected:
            log.warning("listener %s: %d topic(s) rejected, e.g. %s", self.name, len(rejected),
                        rejected[:3])
        self._next_refresh = self.monotonic() + self.settings.refresh_topics_seconds
        return topics

    # -- serving -----------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self.stop.is_set():
            live = cast(Live, self._live)  # attached before serving; _renew() swaps it
            if self._renew_due(live):
                self._renew()
                continue
            if self.monotonic() >= self._next_refresh:
                self._refresh_topics(live)
            try:
                frame = live.socket.recv(timeout=self.settings.poll_seconds)
            except TimeoutError:
                self._check_alive(live)
                continue
            self._on_frame(live, frame)

    def _on_frame(self, live: Live, frame: str | bytes, *, draining: bool = False) -> None:
        live.last_frame, live.got_frame = self.monotonic(), True
        outcome = self.sink(frame)
        self.stats.frames += 1
        self.stats.heartbeats += outcome.heartbeat
        self.stats.accepted += outcome.accepted
        self.stats.duplicates += outcome.duplicates
        if draining or outcome.signal is None:
            return
        log.info("listener %s: host says %s -> %s", self.name, outcome.topic, outcome.signal)
        if outcome.signal == "renew":
            self._renew_requested = True
        else:
            live.topics = self._subscribe(live.channel)

    def _check_alive(self, live: Live) -> None:
        silent = self.monotonic() - live.last_frame
        if silent > self.settings.heartbeat_timeout:
            raise SocketDead(f"no frame for {silent:.0f}s")

    def _refresh_topics(self, live: Live) -> None:
        if tuple(self.topics()) != live.topics:
            log.info("listener %s: topic list changed, resubscribing", self.name)
            live.topics = self._subscribe(live.channel)
        self._next_refresh = self.monotonic() + self.settings.refresh_topics_seconds

    # -- renewal -----------------------------------------------------------------------------
    def _expiring(self, channel: Channel) -> bool:
        return channel.expires - self.clock() <= self.settings.renew_before

    def _renew_due(self, live: Live) -> bool:
        wanted = self._renew_requested or self._expiring(live.channel)
        return wanted and self.monotonic() >= self._next_renew_try

    def _renew(self) -> None:
        """New channel subscribed while the old socket still reads; then drain and close."""
        try:
            new = self._attach(self._create())
        except Exception as exc:  # keep serving the old socket and try again later
            self._renew_failures += 1
            self._next_renew_try = self.monotonic() + self.backoff(self._renew_failures)
            log.warning("listener %s: renewal failed (%s); old channel kept", self.name, exc)
            return
        old, self._live, self._channel = cast(Live, self._live), new, new.channel
        self._renew_requested, self._renew_failures = False, 0
        self._drain(old)
        _close_quietly(old.socket)
        self.stats.renewals += 1
        log.info("listener %s: renewed %s -> %s", self.name, old.channel.id, new.channel.id)

    def _drain(self, old: Live) -> None:
        deadline = self.monotonic() + self.settings.overlap_seconds
        while (remaining := deadline - self.monotonic()) > 0 and not self.stop.is_set():
            try:
                frame = old.socket.recv(timeout=remaining)
            except (TimeoutError, ConnectionClosed):
                return
            self._on_frame(old, frame, draining=True)


def _close_quietly(socket: Socket) -> None:
    try:
        socket.close()
    except Exception:  # closing a broken socket must not hide why it broke
        log.debug("socket close failed", exc_info=True)

