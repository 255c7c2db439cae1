"""A host's published signing keys (JWKS) for host-signed sign-on tokens (``/sso/jwt``).

PyJWT's ``PyJWKClient`` picks the key by ``kid`` and caches the set; only its fetch is replaced,
so the keys come over the shared :class:`connectors.http.Transport` (timeouts, bounded retries,
typed errors) instead of ``urllib``. Call it with no database transaction open. Clients are kept
per URL, so the set is fetched at most once per ``LIFESPAN`` (and again when a token names a
``kid`` the cached set lacks: a host rotated its key).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import jwt

from connectors.errors import ConnectorError, Invalid
from connectors.http import Transport

LIFESPAN = 300  # seconds a fetched key set is trusted
TIMEOUT = (3.05, 5)
ATTEMPTS = 2  # a person is waiting in the frame


class TransportJWKClient(jwt.PyJWKClient):
    """``PyJWKClient`` whose fetch goes through the connector transport."""

    def __init__(self, uri: str, *, transport: Transport | None = None) -> None:
        super().__init__(uri, cache_keys=False, cache_jwk_set=True, lifespan=LIFESPAN)
        parts = urlsplit(uri)
        self._path = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
        self._transport = transport or Transport(f"{parts.scheme}://{parts.netloc}",
                                                 max_attempts=ATTEMPTS, timeout=TIMEOUT)

    def fetch_data(self) -> Any:
        try:
            data = self._transport.request("GET", self._path)
        except ConnectorError as exc:
            raise jwt.PyJWKClientConnectionError(f"JWKS not fetched: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise jwt.PyJWKClientError("The JWKS answer is not a key set")
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)  # type: ignore[arg-type]  # as PyJWT's own fetch_data does
        return data


_clients: dict[str, TransportJWKClient] = {}
_lock = threading.Lock()


def client_for(uri: str) -> TransportJWKClient:
    parts = urlsplit(uri)
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost"):
        raise Invalid("A JWKS URL must be https (http only on loopback)")
    with _lock:
        if uri not in _clients:
            _clients[uri] = TransportJWKClient(uri)
        return _clients[uri]


def signing_key(uri: str, token: str) -> Any:
    """The public key the token's ``kid`` names, from the host's JWKS (cached)."""
    return client_for(uri).get_signing_key_from_jwt(token).key


def forget() -> None:
    """Drop every cached key set (tests, key rotation by hand)."""
    with _lock:
        _clients.clear()
