"""Run a ChannelListener for every active tenant with client credentials, one thread each.

Why threads and not asyncio: everything a listener touches blocks — the requests-based connector
with its token bucket and retries, SQLAlchemy sessions, the inbox writer's group-commit future —
and the websockets sync client reads with a timeout. A thread per tenant costs a stack and one
socket; under asyncio each of those calls would need `to_thread` anyway, and one slow tenant's
database retry must not stall the others' sockets.

A tenant's topics (org-wide + per known agent) are split into shards of at most
MAX_TOPICS_PER_CHANNEL, one channel and thread per shard. The pool re-reads the tenants every
`rescan_seconds`: new or re-enabled tenants start, disabled ones stop, changed credentials restart.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant
from extension.platform.queue import get_dispatcher
from handlers.listener import ChannelListener, ListenerSettings, Notifications, default_connect
from handlers.listener_sink import InboxSink, expand_topics, load_topics

log = logging.getLogger("coachwire.listener")
MAX_TOPICS_PER_CHANNEL = 1000  # Genesys' per-channel limit (from its docs, not the reference)
# 20 channels per OAuth client, and each shard briefly holds two while renewing.
MAX_SHARDS = 9


@dataclass(frozen=True)
class TenantAccess:
    id: str
    api_base: str
    login_base: str
    client_id: str
    client_secret: str

    @property
    def fingerprint(self) -> str:
        """Changes when anything the connector was built from changes (restart the listener)."""
        text = "|".join((self.api_base, self.login_base, self.client_id, self.client_secret))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def active_tenants(app) -> list[TenantAccess]:
    box = app.extensions["coachwire.box"]
    with app.extensions["coachwire.db"].session() as session:
        rows = session.scalars(select(Tenant).where(
            Tenant.status == "active", Tenant.client_id.is_not(None),
            Tenant.client_secret_enc.is_not(None)).order_by(Tenant.id)).all()
        return [TenantAccess(id=t.id, api_base=t.api_base, login_base=t.login_base,
                             client_id=t.client_id, client_secret=box.open(t.client_secret_enc))
                for t in rows]


def agent_ids(app, tenant_id: str) -> list[str]:
    with app.extensions["coachwire.db"].session() as session:
        return list(session.scalars(select(Person.id).where(
            Person.tenant_id == tenant_id, Person.active.is_(True), Person.role == "agent")))


def shard(topics: list[str], index: int) -> list[str]:
    return topics[index * MAX_TOPICS_PER_CHANNEL:(index + 1) * MAX_TOPICS_PER_CHANNEL]


def shard_count(topics: list[str], tenant_id: str) -> int:
    wanted = max(1, math.ceil(len(topics) / MAX_TOPICS_PER_CHANNEL))
    if wanted > MAX_SHARDS:
        log.error("tenant %s: %d topics need %d channels; only %d are subscribed",
                  tenant_id, len(topics), wanted, MAX_SHARDS * MAX_TOPICS_PER_CHANNEL)
    return min(wanted, MAX_SHARDS)


def genesys_notifications(app, tenant: TenantAccess) -> Notifications:
    from connectors.genesys import GenesysClient

    dispatcher = get_dispatcher(app)
    client = GenesysClient(api_base=tenant.api_base, login_base=tenant.login_base,
                           client_id=tenant.client_id, client_secret=tenant.client_secret,
                           tenant_key=tenant.id, redis=getattr(dispatcher, "redis", None))
    return client.notifications


Key = tuple[str, int, str]  # tenant id, shard, credentials fingerprint


class ListenerPool:
    def __init__(self, app, *, settings: ListenerSettings | None = None,
                 notifications_for: Callable = genesys_notifications,
                 connect: Callable = default_connect, extra_topics: tuple[str, ...] = ()) -> None:
        self.app, self.settings = app, settings or ListenerSettings()
        self.notifications_for, self.connect = notifications_for, connect
        self.extra_topics = extra_topics
        self.listeners: dict[Key, ChannelListener] = {}

    @property
    def templates(self) -> dict[str, list[str]]:
        """The manifest's topics whose events the app's router handles (read each time: routes
        may be added after the pool starts). Extra org-level names, e.g. a sandbox wildcard for
        demos, are added as they are; the manifest stays the rule."""
        router = self.app.extensions["coachwire.router"]
        templates = load_topics(handled=router.routes)
        return {**templates, "org": [*templates.get("org", []), *self.extra_topics]}

    def topics_for(self, tenant_id: str) -> list[str]:
        templates = self.templates
        if not templates.get("user"):
            return expand_topics(templates, user_ids=[])  # no per-agent topic: skip the query
        return expand_topics(templates, user_ids=agent_ids(self.app, tenant_id))

    def sync(self) -> None:
        """Start what should run, stop what should not."""
        desired: dict[Key, TenantAccess] = {}
        for tenant in active_tenants(self.app):
            count = shard_count(self.topics_for(tenant.id), tenant.id)
            desired.update({(tenant.id, i, tenant.fingerprint): tenant for i in range(count)})
        for key in [k for k in self.listeners if k not in desired]:
            log.info("listener %s/%d: stopping", key[0], key[1])
            self.listeners.pop(key).shutdown()
        for key, tenant in desired.items():
            if key not in self.listeners:
                self.listeners[key] = self._build(tenant, index=key[1]).start()

    def _build(self, tenant: TenantAccess, *, index: int) -> ChannelListener:
        stop = threading.Event()
        inbox = self.app.extensions["coachwire.inbox"]
        return ChannelListener(
            f"{tenant.id}/{index}", notifications=self.notifications_for(self.app, tenant),
            topics=lambda: shard(self.topics_for(tenant.id), index),
            sink=InboxSink(inbox, tenant.id, stop=stop), connect=self.connect,
            settings=self.settings, stop=stop)

    def run(self, stop: threading.Event, *, rescan_seconds: float = 60.0) -> None:
        """Until `stop` is set (SIGTERM): sync now and every rescan_seconds; then stop all."""
        try:
            while not stop.is_set():
                try:
                    self.sync()
                except Exception:  # a database blip must not end the process; retry next scan
                    log.exception("listener pool: tenant scan failed")
                stop.wait(rescan_seconds)
        finally:
            self.shutdown()

    def shutdown(self, timeout: float = 10.0) -> None:
        for listener in self.listeners.values():
            listener.stop.set()  # all at once, so shutdown takes one poll, not one per tenant
        for listener in self.listeners.values():
            listener.shutdown(timeout)
        self.listeners.clear()
