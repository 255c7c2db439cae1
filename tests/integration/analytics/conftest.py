"""Analytics API fixtures: a tenant with people and generated facts, and token minting."""

from __future__ import annotations

from datetime import date

import pytest

from extension.analytics import facts as analytics
from tests.factories import add_people, add_tenant, bearer
from tests.unit.analytics.generate import AGENTS, TEAMS, generate

FIRST_DAY, LAST_DAY = date(2025, 3, 1), date(2026, 1, 31)
RANGE = {"from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat()}
SUPERVISORS = {team: f"sup-{team}" for team in TEAMS}


@pytest.fixture(scope="session")
def records():
    return generate(seed=7)


def _team(agent: str) -> str:
    return TEAMS[int(agent[1:]) % len(TEAMS)]


PEOPLE = ([(agent, "agent", _team(agent), SUPERVISORS[_team(agent)]) for agent in AGENTS]
          + [(sup, "supervisor", team, None) for team, sup in SUPERVISORS.items()]
          + [("mgr", "manager", None, None), ("adm", "admin", None, None)])
NAMES = {**{agent: f"Agent {agent}" for agent in AGENTS},
         **{sup: f"Supervisor {team}" for team, sup in SUPERVISORS.items()}, "mgr": "Manager", "adm": "Admin"}


@pytest.fixture
def loaded(app, db, tenant, records):
    """The generated records stored as facts (and rollups) of tenant 'acme' (Europe/London)."""
    tenant_id = tenant[0]
    add_people(db, tenant_id, PEOPLE, name=NAMES.get)
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=tenant_id, records=records)
    return tenant_id


@pytest.fixture
def other_tenant(app, db):
    """A second tenant with the same person ids, so a leak across tenants would show."""
    add_tenant(db, "globex", timezone="America/New_York")
    add_people(db, "globex", PEOPLE, name=NAMES.get)
    return "globex"


@pytest.fixture
def token_for(app):
    def mint(person_id: str, role: str, *, tenant_id: str = "acme") -> dict[str, str]:
        return bearer(app, person_id, role, tenant_id=tenant_id)

    return mint
