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


# What upsert_facts stored for the generated records, per table: the first test of a run stores
# them through the product path (upsert_facts), every later one copies the stored rows in, as
# the product left them (on PostgreSQL the product path takes seconds per test; its own
# correctness is tested by the rollup and live-fact tests, which do not use this fixture).
_STORED: dict[str, dict[str, list[dict]]] = {}


def _tenant_tables():
    from extension import load_models
    from extension.platform.db import Base

    load_models()
    return [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c]


def _rows(session, tenant_id: str) -> dict[str, list[dict]]:
    from sqlalchemy import select

    return {t.name: [dict(r._mapping) for r in session.execute(select(t).where(t.c.tenant_id == tenant_id))]
            for t in _tenant_tables()}


@pytest.fixture
def loaded(app, db, tenant, records):
    """The generated records stored as facts (and rollups) of tenant 'acme' (Europe/London)."""
    tenant_id = tenant[0]
    add_people(db, tenant_id, PEOPLE, name=NAMES.get)
    key = f"{db.engine.url.get_backend_name()}:{tenant_id}"
    if key in _STORED:
        tables = {t.name: t for t in _tenant_tables()}
        with db.session() as session:
            for name, rows in _STORED[key].items():
                session.execute(tables[name].insert(), rows)
        return tenant_id
    with db.session() as session:
        before = {name: len(rows) for name, rows in _rows(session, tenant_id).items()}
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=tenant_id, records=records)
    with db.session() as session:
        after = _rows(session, tenant_id)
    grown = {name for name, rows in after.items() if len(rows) != before.get(name, 0)}
    added = {name: after[name] for name in grown if not before.get(name)}
    # copy only what is safe to copy: tables that were empty, with no id sequence to advance
    if grown == set(added) and all(t.autoincrement_column is None for t in _tenant_tables()
                                   if t.name in added):
        _STORED[key] = added
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
