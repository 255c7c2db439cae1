"""The marketplace lifecycle: /install creates (or re-activates) a tenant, /uninstall stops it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from extension import close_app, create_app
from extension.platform import config as config_module
from extension.platform.models.audit import AuditEntry
from extension.platform.models.tenants import Tenant
from tests.helpers import dumps, sentiment, signed_headers

TOKEN = "install-token-for-tests"


@pytest.fixture
def install_app(settings):
    app = create_app(settings.with_overrides(install_token=TOKEN))
    from tests.conftest import _clean

    _clean(app)
    yield app
    _clean(app)
    close_app(app)


def body(**changes) -> dict:
    base = {"name": "Acme Support", "hostOrgId": "org-123", "region": "mypurecloud.ie",
            "clientId": "cid", "clientSecret": "csecret", "timezone": "Europe/Dublin",
            "consoleOrigins": ["https://apps.mypurecloud.ie"]}
    return {**base, **changes}


def post(client, path, payload, token=TOKEN):
    return client.post(path, json=payload, headers={"Authorization": f"Bearer {token}"})


def tenant_count(app) -> int:
    with app.extensions["coachwire.db"].session() as session:
        return session.scalar(select(func.count()).select_from(Tenant))


def test_install_creates_a_tenant_that_accepts_signed_webhooks(install_app):
    client = install_app.test_client()
    response = post(client, "/install", body())
    assert response.status_code == 201
    data = response.json
    assert data["webhookUrl"].endswith(f"/webhooks/{data['tenantId']}")
    with install_app.extensions["coachwire.db"].session() as session:
        tenant = session.get(Tenant, data["tenantId"])
        assert (tenant.api_base, tenant.login_base) == ("https://api.mypurecloud.ie",
                                                        "https://login.mypurecloud.ie")
        assert install_app.extensions["coachwire.box"].open(tenant.client_secret_enc) == "csecret"
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "tenant.installed" in actions
    event = dumps(sentiment("c-1", -70))
    hook = client.post(f"/webhooks/{data['tenantId']}", data=event,
                       headers=signed_headers(data["webhookSecret"], event))
    assert hook.status_code == 202


def test_reinstalling_the_same_org_updates_it_instead_of_creating_another(install_app):
    client = install_app.test_client()
    first = post(client, "/install", body()).json
    again = post(client, "/install", body(clientSecret="rotated", name="Acme Care"))
    assert again.status_code == 200
    assert again.json["tenantId"] == first["tenantId"]
    assert again.json["webhookSecret"] == first["webhookSecret"]
    assert tenant_count(install_app) == 1
    with install_app.extensions["coachwire.db"].session() as session:
        tenant = session.get(Tenant, first["tenantId"])
        assert tenant.name == "Acme Care"
        assert install_app.extensions["coachwire.box"].open(tenant.client_secret_enc) == "rotated"


def test_uninstall_stops_webhooks_and_forgets_credentials(install_app):
    client = install_app.test_client()
    installed = post(client, "/install", body()).json
    response = post(client, "/uninstall", {"hostOrgId": "org-123"})
    assert response.status_code == 200
    with install_app.extensions["coachwire.db"].session() as session:
        tenant = session.get(Tenant, installed["tenantId"])
        assert tenant.status == "uninstalled"
        assert tenant.client_secret_enc is None and tenant.inbound_secrets_enc is None
    event = dumps(sentiment("c-1", -70))
    hook = client.post(f"/webhooks/{installed['tenantId']}", data=event,
                       headers=signed_headers(installed["webhookSecret"], event))
    assert hook.status_code == 403
    assert post(client, "/uninstall", {"hostOrgId": "nobody"}).status_code == 404


@pytest.mark.parametrize(("payload", "path"), [
    (body(region="mars.example"), "/region"),
    (body(timezone="Mars/Olympus"), "/timezone"),
    (body(clientSecret=""), "/clientSecret"),
    ({k: v for k, v in body().items() if k != "hostOrgId"}, "/hostOrgId"),
    (body(apiBase="https://api.mypurecloud.ie"), "/region"),
    (body(consoleOrigins=["not a url"]), "/consoleOrigins/0"),
])
def test_invalid_install_requests_name_the_field_and_create_nothing(install_app, payload, path):
    response = post(install_app.test_client(), "/install", payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert path in [error["path"] for error in response.json["errors"]]
    assert tenant_count(install_app) == 0


def test_install_needs_the_install_token(install_app, settings):
    client = install_app.test_client()
    assert post(client, "/install", body(), token="wrong").status_code == 401
    assert tenant_count(install_app) == 0
    disabled = create_app(config_module.testing(database_url=settings.database_url,
                                                redis_url=settings.redis_url))
    assert post(disabled.test_client(), "/install", body()).status_code == 403
    close_app(disabled)
