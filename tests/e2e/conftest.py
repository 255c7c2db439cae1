"""End-to-end fixtures: the sandbox host served on a loopback port, a tenant pointing at it."""

from __future__ import annotations

import pytest
import requests

from tests.helpers import serving


@pytest.fixture
def sandbox():
    from sandbox.app import create_app as create_sandbox

    app = create_sandbox(seed=11)
    with serving(app) as base:
        yield base, app.extensions["sandbox"]


@pytest.fixture
def host_tenant(app, sandbox):
    """A tenant on the sandbox host, with a Graph calendar for supervisors, people synced."""
    from extension.platform import hosts, people, tenants

    base, _ = sandbox
    hosts.forget()
    box = app.extensions["coachwire.box"]
    with app.app_context(), app.extensions["coachwire.db"].session() as session:
        tenant, secret = tenants.create(
            session, box, name="Sandbox org", tenant_id="sbx", api_base=base, login_base=base,
            client_id="sandbox-client", client_secret="sandbox-secret", timezone="Europe/London",
            calendar_provider="graph",
            calendar_config={"tenant_id": "contoso", "client_id": "graph-client",
                             "client_secret": "graph-secret",
                             "login_base": f"{base}/graph/oauth2", "graph_base": f"{base}/graph/v1.0"})
    with app.app_context():  # after the commit: the host is asked with no transaction open
        people.sync_now(app.extensions["coachwire.db"], tenant.id)
    yield tenant.id, secret
    hosts.forget()


def sandbox_state(base: str) -> dict:
    return requests.get(f"{base}/sandbox/state.json", timeout=5).json()
