"""Per-tenant host clients, built once per process so token caches and buckets are shared."""

from __future__ import annotations

import threading

from connectors.calendars.google import GoogleCalendar, google_token_provider
from connectors.calendars.graph import GraphCalendar
from connectors.genesys.client import GenesysClient
from connectors.tokens import RedisTokenCache
from extension.platform import context
from extension.platform.queue import get_dispatcher

_clients: dict[tuple, object] = {}
_lock = threading.Lock()


def _redis():
    return getattr(get_dispatcher(), "redis", None)


def _cached(key: tuple, build):
    with _lock:
        if key not in _clients:
            _clients[key] = build()
        return _clients[key]


def genesys_for(tenant) -> GenesysClient:
    box = context.secret_box()
    key = ("genesys", tenant.id, tenant.api_base, tenant.client_id, tenant.client_secret_enc)
    return _cached(key, lambda: GenesysClient(
        api_base=tenant.api_base, login_base=tenant.login_base, client_id=tenant.client_id or "",
        client_secret=box.open(tenant.client_secret_enc) or "", tenant_key=tenant.id,
        redis=_redis()))


def calendar_for(tenant):
    """The supervisor calendar of this tenant, or None when none is configured."""
    if not tenant.calendar_provider or not tenant.calendar_config_enc:
        return None
    config = context.secret_box().open(tenant.calendar_config_enc)
    key = ("calendar", tenant.id, tenant.calendar_config_enc)
    if tenant.calendar_provider == "graph":
        return _cached(key, lambda: GraphCalendar(
            tenant_id=config["tenant_id"], client_id=config["client_id"],
            client_secret=config["client_secret"],
            **{k: config[k] for k in ("login_base", "graph_base") if k in config}))
    return _cached(key, lambda: GoogleCalendar(
        token=_google_token(config), **({"google_base": config["google_base"]}
                                        if "google_base" in config else {})))


def _google_token(config: dict):
    """Google's refresh-token or service-account (JWT bearer) grant, cached until expiry: in
    Redis when there is one, so every worker reuses one token."""
    client = _redis()
    return google_token_provider(config, cache=RedisTokenCache(client) if client else None)


def forget() -> None:
    """Drop cached clients (tests, secret rotation)."""
    with _lock:
        _clients.clear()
