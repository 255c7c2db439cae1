import base64
from urllib.parse import parse_qs

import pytest

from connectors.errors import Invalid
from connectors.genesys.auth import client_credentials
from connectors.tokens import AccessToken, CachedTokenProvider, RedisTokenCache

from .conftest import API, LOGIN, add_token


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def test_client_credentials_request_matches_the_reference(mocked):
    add_token(mocked)
    provider = client_credentials(login_base=LOGIN, client_id="cid", client_secret="sec")
    assert provider() == "tok-1"
    sent = mocked.calls[0].request
    assert sent.url == f"{LOGIN}/oauth/token"
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:sec").decode()
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent.body) == {"grant_type": ["client_credentials"]}


def test_token_is_cached_until_shortly_before_expiry():
    fetches = []
    clock = Clock()

    def fetch():
        fetches.append(1)
        return f"tok-{len(fetches)}", 3600

    provider = CachedTokenProvider(fetch, key="k", margin=60, clock=clock)
    assert provider() == provider() == "tok-1"
    clock.now += 3600 - 61
    assert provider() == "tok-1"
    clock.now += 2  # now inside the safety margin
    assert provider() == "tok-2"
    assert len(fetches) == 2


def test_refresh_discards_the_cached_token():
    fetches = []

    def fetch():
        fetches.append(1)
        return f"tok-{len(fetches)}", 3600

    provider = CachedTokenProvider(fetch, key="k")
    assert provider() == "tok-1"
    assert provider(refresh=True) == "tok-2"


def test_token_error_is_invalid_without_leaking_the_secret(mocked):
    mocked.post(
        f"{LOGIN}/oauth/token",
        status=400,
        json={"error": "invalid_client", "client_secret": "s3cret"},
    )
    provider = client_credentials(login_base=LOGIN, client_id="cid", client_secret="s3cret")
    with pytest.raises(Invalid) as caught:
        provider()
    assert "s3cret" not in caught.value.excerpt + str(caught.value)


def test_a_token_response_without_access_token_is_rejected(mocked):
    mocked.post(f"{LOGIN}/oauth/token", json={"token_type": "bearer"})
    with pytest.raises(Invalid):
        client_credentials(login_base=LOGIN, client_id="c", client_secret="s")()


def test_redis_cache_shares_one_token_between_processes_and_stores_no_secret(mocked, redis_ns):
    add_token(mocked, token="shared-token", expires_in=3600)
    cache = RedisTokenCache(redis_ns.client, prefix=redis_ns.prefix)
    first = client_credentials(
        login_base=LOGIN, client_id="cid", client_secret="s3cret", cache=cache
    )
    second = client_credentials(
        login_base=LOGIN, client_id="cid", client_secret="s3cret", cache=cache
    )
    assert first() == second() == "shared-token"
    assert len(mocked.calls) == 1
    keys = list(redis_ns.client.scan_iter(match=redis_ns.prefix + "*"))
    assert len(keys) == 1
    stored = redis_ns.client.get(keys[0]).decode()
    assert "s3cret" not in stored and "cid" not in keys[0].decode()
    assert 3500 < redis_ns.client.ttl(keys[0]) <= 3600


def test_redis_cache_keys_differ_per_client_id(mocked, redis_ns):
    mocked.post(f"{LOGIN}/oauth/token", json={"access_token": "a", "expires_in": 600})
    cache = RedisTokenCache(redis_ns.client, prefix=redis_ns.prefix)
    client_credentials(login_base=LOGIN, client_id="one", client_secret="s", cache=cache)()
    client_credentials(login_base=LOGIN, client_id="two", client_secret="s", cache=cache)()
    assert len(list(redis_ns.client.scan_iter(match=redis_ns.prefix + "*"))) == 2


def test_redis_cache_round_trips_a_token(redis_ns):
    cache = RedisTokenCache(redis_ns.client, prefix=redis_ns.prefix, clock=lambda: 100.0)
    cache.put("k", AccessToken("v", 200.0))
    assert cache.get("k") == AccessToken("v", 200.0)
    cache.delete("k")
    assert cache.get("k") is None


def test_genesys_client_refreshes_on_401_and_sends_the_new_token(mocked, genesys):
    add_token(mocked, token="tok-2")  # the fixture registered tok-1 first; calls get them in order
    mocked.get(f"{API}/api/v2/users/u1", status=401)
    mocked.get(f"{API}/api/v2/users/u1", json={"id": "u1"})
    assert genesys.users.get_user("u1") == {"id": "u1"}
    token_calls = [c for c in mocked.calls if c.request.url.endswith("/oauth/token")]
    api_calls = [c for c in mocked.calls if "/api/v2/" in c.request.url]
    assert len(token_calls) == 2
    assert [c.request.headers["Authorization"] for c in api_calls] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]
