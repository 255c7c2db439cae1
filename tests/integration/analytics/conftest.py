"""Analytics API fixtures: a tenant with people and generated facts, and token minting."""

from __future__ import annotations

from datetime import date

import pytest

from extension.analytics import facts as analytics
from extension.platform.auth import tokens
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant
from tests.unit.analytics.generate import AGENTS, TEAMS, generate

FIRST_DAY, LAST_DAY = date(2025, 3, 1), date(2026, 1, 31)
RANGE = {"from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat()}
SUPERVISORS = {team: f"sup-{team}" for team in TEAMS}


@pytest.fixture(scope="session")
def records():
    return generate(seed=7)


def _people(tenant_id: str) -> list[Person]:
    people = [Person(tenant_id=tenant_id, id=agent, name=f"Agent {agent}", role="agent",
                     team_id=TEAMS[int(agent[1:]) % len(TEAMS)],
                     supervisor_id=SUPERVISORS[TEAMS[int(agent[1:]) % len(TEAMS)]])
              for agent in AGENTS]
    people += [Person(tenant_id=tenant_id, id=sup, name=f"Supervisor {team}", role="supervisor",
                      team_id=team) for team, sup in SUPERVISORS.items()]
    people += [Person(tenant_id=tenant_id, id="mgr", name="Manager", role="manager"),
               Person(tenant_id=tenant_id, id="adm", name="Admin", role="admin")]
    return people


@pytest.fixture
def loaded(app, db, tenant, records):
    """The generated records stored as facts (and rollups) of tenant 'acme' (Europe/London)."""
    tenant_id = tenant[0]
    with db.session() as session:
        session.add_all(_people(tenant_id))
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=tenant_id, records=records)
    return tenant_id


@pytest.fixture
def other_tenant(app, db):
    """A second tenant with the same person ids, so a leak across tenants would show."""
    with db.session() as session:
        session.add(Tenant(id="globex", name="Globex", api_base="https://api.example",
                           login_base="https://login.example", timezone="America/New_York"))
    with db.session() as session:
        session.add_all(_people("globex"))
    return "globex"


@pytest.fixture
def token_for(app):
    def mint(person_id: str, role: str, *, tenant_id: str = "acme") -> dict[str, str]:
        token = tokens.issue(app.config["SECRET_KEY"], tenant_id=tenant_id, person_id=person_id, role=role)
        return {"Authorization": f"Bearer {token}"}

    return mint
