from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from sandbox.app import create_app
from sandbox.state import Config
from tests.helpers import serving

# A Wednesday morning outside any DST change, so weeks and shifts are predictable.
NOW = datetime(2025, 6, 11, 8, 0, tzinfo=UTC)
BASIC = "Basic " + base64.b64encode(b"sandbox-client:sandbox-secret").decode()


@pytest.fixture
def app():
    return create_app(seed=7, now=NOW, config=Config(heartbeat_seconds=0.3))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(app):
    return app.extensions["sandbox"].world


@pytest.fixture
def auth(client):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": BASIC})
    return {"Authorization": f"Bearer {response.json['access_token']}"}


@pytest.fixture
def api(client, auth):
    """Call /api/v2 with a valid token: api('get', '/users', ...) -> response."""
    def call(method: str, path: str, **kwargs):
        return getattr(client, method)(f"/api/v2{path}", headers=auth, **kwargs)
    return call


@pytest.fixture
def live():
    """A real threaded server (WebSockets need one); yields (base_url, app)."""
    app = create_app(seed=7, config=Config(heartbeat_seconds=0.3))
    with serving(app) as base:
        yield base, app
