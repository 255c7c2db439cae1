"""A tenant's Google calendar through the sandbox host: Google's grants, one token per lifetime."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers import serving

NOW = datetime(2025, 6, 11, 8, 0, tzinfo=UTC)
START, END = datetime(2025, 6, 12, 8, 0, tzinfo=UTC), datetime(2025, 6, 12, 16, 0, tzinfo=UTC)


@pytest.fixture
def sandbox():
    from sandbox.app import create_app as create_sandbox

    app = create_sandbox(seed=7, now=NOW)
    with serving(app) as base:
        yield base, app


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _configs(base: str) -> dict[str, dict]:
    return {
        "refresh_token": {"client_id": "google-client", "client_secret": "google-secret",
                          "refresh_token": "google-refresh", "token_url": f"{base}/google/token",
                          "google_base": f"{base}/google"},
        "service_account": {"type": "service_account",
                            "client_email": "coachwire@p.iam.gserviceaccount.com",
                            "private_key": _pem(), "token_uri": f"{base}/google/token",
                            "subject": "sup1@sandbox.test", "google_base": f"{base}/google"},
    }


@pytest.mark.parametrize("grant", ["refresh_token", "service_account"])
def test_supervisor_busy_times_come_through_googles_grant_with_one_token(app, sandbox, grant):
    from extension.platform import hosts, tenants
    from extension.platform.models.tenants import Tenant

    base, sandbox_app = sandbox
    hosts.forget()
    with app.app_context(), app.extensions["coachwire.db"].session() as session:
        created, _ = tenants.create(
            session, app.extensions["coachwire.box"], name="Google org", tenant_id="ggl",
            api_base=base, login_base=base, client_id="sandbox-client",
            client_secret="sandbox-secret", timezone="Europe/London",
            calendar_provider="google", calendar_config=_configs(base)[grant])
        tenant = session.get(Tenant, created.id)
    try:  # committed: the calendar is asked with no transaction open
        with app.app_context():
            calendar = hosts.calendar_for(tenant)
            busy = [calendar.busy_intervals("sup1@sandbox.test", START, END) for _ in range(3)]
    finally:
        hosts.forget()
    assert busy[0] and busy[0] == busy[1] == busy[2]  # the seeded stand-up is busy time
    issued = [realm for realm, _ in sandbox_app.extensions["sandbox"].tokens.values()]
    assert issued.count("google") == 1
