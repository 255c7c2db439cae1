"""The sign-on routes share one budget per client IP (Flask-Limiter; Redis when REDIS_URL is
set, memory otherwise); over it, 429 problem+json with Retry-After."""

from __future__ import annotations

import pytest

from extension import close_app, create_app
from tests.factories import add_tenant

START = "/t/acme/sso/start?next=%2Ft%2Facme%2Fpanels%2Fhome"
JSON = {"Accept": "application/json"}


@pytest.fixture
def limited(settings, monkeypatch):
    """An app whose sign-on budget is 3 requests a minute per client IP."""
    monkeypatch.setenv("COACHWIRE_SSO_RATE_LIMIT", "3 per minute")
    app = create_app(settings)
    add_tenant(app.extensions["coachwire.db"], "acme")
    yield app
    from extension.platform.db import Base

    with app.extensions["coachwire.db"].engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    close_app(app)


def _get(client, path: str, ip: str, **headers):
    return client.get(path, environ_base={"REMOTE_ADDR": ip}, headers=headers or JSON)


def test_the_fourth_sign_on_request_from_one_ip_is_a_429_with_retry_after(limited):
    client = limited.test_client()
    for _ in range(3):
        assert _get(client, START, "10.0.0.1").status_code == 409  # not set up: still counted
    over = _get(client, START, "10.0.0.1")
    assert over.status_code == 429
    assert over.headers["Content-Type"] == "application/problem+json"
    body = over.get_json()
    assert body["status"] == 429 and body["type"].endswith("/sign-on/rate-limited")
    assert 1 <= int(over.headers["Retry-After"]) <= 61  # the window, rounded up
    assert over.headers["Cache-Control"] == "no-store"
    # another client IP has its own budget
    assert _get(client, START, "10.0.0.2").status_code == 409


def test_the_callback_and_start_share_the_budget(limited):
    client = limited.test_client()
    for _ in range(3):
        _get(client, "/sso/genesys/callback?state=x&code=y", "10.0.0.3")
    assert _get(client, START, "10.0.0.3").status_code == 429
    assert _get(client, "/sso/genesys/callback?state=x", "10.0.0.3").status_code == 429


def test_a_browser_gets_the_refusal_page(limited):
    client = limited.test_client()
    for _ in range(3):
        _get(client, START, "10.0.0.4")
    page = _get(client, START, "10.0.0.4", Accept="text/html")
    assert page.status_code == 429 and page.headers["Retry-After"]
    assert "Too Many Requests" in page.get_data(as_text=True)
    german = _get(client, START + "&gcLangTag=de-DE", "10.0.0.4", Accept="text/html")
    assert "Zu viele Anfragen" in german.get_data(as_text=True)


def test_panels_themselves_are_not_limited(limited):
    client = limited.test_client()
    for _ in range(5):
        assert _get(client, "/t/acme/panels/home", "10.0.0.5",
                    **{"Sec-Fetch-Dest": "iframe"}).status_code != 429


def test_counters_live_in_redis_when_it_is_configured(limited, settings):
    storage = type(limited.extensions["coachwire.sso_limiter"].storage).__name__
    assert storage == ("RedisStorage" if settings.redis_url else "MemoryStorage")
