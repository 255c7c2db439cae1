"""History sync fixtures: the sandbox host on a loopback port with a pinned clock, a tenant on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import select

from extension.analytics.models.facts import InteractionFact, KpiRollupDaily
from extension.analytics.models.sync import SyncCursor
from extension.analytics.sync_cli import sync_cli
from tests.helpers import serving

NOW = datetime(2025, 6, 11, 8, 0, tzinfo=UTC)  # the sandbox's clock
UNTIL = "2025-06-11T08:00:00Z"


@pytest.fixture
def sandbox():
    from sandbox.app import create_app as create_sandbox

    app = create_sandbox(seed=7, now=NOW)
    with serving(app) as base:
        yield base, app


def _create(app, base: str, tenant_id: str):
    from extension.platform import tenants

    with app.extensions["coachwire.db"].session() as session:
        created, secret = tenants.create(
            session, app.extensions["coachwire.box"], name=f"Org {tenant_id}", tenant_id=tenant_id,
            api_base=base, login_base=base, client_id="sandbox-client", client_secret="sandbox-secret",
            timezone="Europe/London")
    return created.id, secret


@pytest.fixture
def host_tenant(app, sandbox):
    from extension.platform import hosts

    hosts.forget()
    yield _create(app, sandbox[0], "sbx")
    hosts.forget()


@pytest.fixture
def second_tenant(app, sandbox, host_tenant):
    return _create(app, sandbox[0], "sbx2")


def control(base: str, **body) -> dict:
    response = requests.post(f"{base}/sandbox/control/analytics", json=body, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def cli(app):
    app.cli.add_command(sync_cli)
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["sync", *args])

    return invoke


def facts(db, tenant_id: str) -> dict[str, dict]:
    with db.session() as session:
        rows = session.execute(select(InteractionFact.__table__)
                               .where(InteractionFact.tenant_id == tenant_id)).all()
    return {r.conversation_id: dict(r._mapping) for r in rows}


def rollups(db, tenant_id: str) -> list[dict]:
    table = KpiRollupDaily.__table__
    with db.session() as session:
        rows = session.execute(select(table).where(table.c.tenant_id == tenant_id)
                               .order_by(*table.primary_key.columns)).all()
    return [dict(r._mapping) for r in rows if r.volume]


def cursor(db, tenant_id: str) -> SyncCursor | None:
    with db.session() as session:
        found = session.get(SyncCursor, (tenant_id, "conversations"))
        if found is not None:
            session.expunge(found)
        return found
