"""Genesys Cloud OAuth client-credentials grant (reference `auth` section).

POST {login_base}/oauth/token with HTTP Basic client_id:client_secret and the form
grant_type=client_credentials; the answer's access_token is then sent as a Bearer token.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import requests

from connectors.errors import Invalid
from connectors.http import Transport
from connectors.tokens import CachedTokenProvider, MemoryTokenCache, RedisTokenCache, cache_key

# expires_in is not read by the SDK (reference: "from memory"); when absent, assume a short
# life so a wrong guess costs one extra token request, not a burst of 401s.
FALLBACK_EXPIRES_IN = 300.0


def client_credentials(
    *,
    login_base: str,
    client_id: str,
    client_secret: str,
    cache: MemoryTokenCache | RedisTokenCache | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    margin: float = 60.0,
) -> CachedTokenProvider:
    """A token provider for one OAuth client, cached per client id (share `cache` across
    processes with a RedisTokenCache)."""
    login = Transport(login_base, session=session, sleep=sleep)
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()

    def fetch() -> tuple[str, float]:
        answer = login.request(
            "POST",
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        return _read_token(answer)

    key = "genesys:" + cache_key(login.base_url, client_id)
    return CachedTokenProvider(fetch, key=key, cache=cache or MemoryTokenCache(), margin=margin)


def _read_token(answer: object) -> tuple[str, float]:
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise Invalid("token response without access_token")
    return answer["access_token"], float(answer.get("expires_in") or FALLBACK_EXPIRES_IN)
