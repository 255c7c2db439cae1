import os
import uuid

import pytest
import redis
import responses

from connectors.genesys import GenesysClient
from connectors.ratelimit import BucketSpec, InMemoryTokenBucket

API = "https://api.mypurecloud.ie"
LOGIN = "https://login.mypurecloud.ie"


class SleepRecorder:
    """Stands in for time.sleep: records the waits instead of sleeping."""

    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


@pytest.fixture
def sleeps():
    return SleepRecorder()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def add_token(rsps, token="tok-1", expires_in=86400):
    rsps.post(f"{LOGIN}/oauth/token", json={"access_token": token, "expires_in": expires_in})


@pytest.fixture
def genesys(mocked, sleeps):
    add_token(mocked)
    bucket = InMemoryTokenBucket(BucketSpec(capacity=1000, per_second=1000))
    return GenesysClient(
        api_base=API,
        login_base=LOGIN,
        client_id="client-a",
        client_secret="s3cret",
        tenant_key=f"t-{uuid.uuid4().hex}",
        bucket=bucket,
        sleep=sleeps,
    )


class RedisNamespace:
    def __init__(self, client, prefix):
        self.client, self.prefix = client, prefix


@pytest.fixture
def redis_ns():
    """The real Redis the integration suite uses; keys are namespaced and removed afterwards."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {url} unreachable: {exc}")
    prefix = f"test-connectors-{uuid.uuid4().hex}:"
    yield RedisNamespace(client, prefix)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()
