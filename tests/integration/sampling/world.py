"""Shared fixtures of the quality-management integration tests (calibration, sampling, text
analytics): two tenants with the same person ids, a published form, facts, token minting.
Imported by each directory's conftest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from extension.analytics.models.facts import InteractionFact
from extension.platform import config as config_module
from extension.platform.auth import tokens
from extension.platform.models.audit import AuditEntry
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant
from tests.conftest import QUEUE_NAMESPACE

AGENTS = ("a1", "a2", "a3", "a4")
QA = ("qa1", "qa2", "qa3")


@pytest.fixture
def settings(database_url, redis_url):
    """The test settings with the lexicon sentiment model (the learned one is slow to load and
    not what these tests are about)."""
    return config_module.testing(database_url=database_url, redis_url=redis_url,
                                 queue_namespace=QUEUE_NAMESPACE, sentiment_model="vader")


def people(tenant_id: str) -> list[Person]:
    found = [Person(tenant_id=tenant_id, id=a, name=f"Agent {a}", role="agent", team_id="t1",
                    supervisor_id="sup1") for a in AGENTS[:2]]
    found += [Person(tenant_id=tenant_id, id=a, name=f"Agent {a}", role="agent", team_id="t2",
                     supervisor_id="sup2") for a in AGENTS[2:]]
    found += [Person(tenant_id=tenant_id, id="sup1", name="Sup 1", role="supervisor", team_id="t1"),
              Person(tenant_id=tenant_id, id="sup2", name="Sup 2", role="supervisor", team_id="t2"),
              Person(tenant_id=tenant_id, id="mgr", name="Manager", role="manager"),
              Person(tenant_id=tenant_id, id="adm", name="Admin", role="admin")]
    found += [Person(tenant_id=tenant_id, id=q, name=f"QA {q}", role="qa_analyst") for q in QA]
    return found


@pytest.fixture
def world(app, db, tenant):
    """Tenant 'acme' (Europe/London) with people, plus tenant 'globex' with the same ids."""
    with db.session() as session:
        session.add(Tenant(id="globex", name="Globex", api_base="https://api.example",
                           login_base="https://login.example", timezone="America/New_York"))
    with db.session() as session:
        session.add_all(people("acme") + people("globex"))
    return "acme"


@pytest.fixture
def token_for(app):
    def mint(person_id: str, role: str, *, tenant_id: str = "acme") -> dict[str, str]:
        token = tokens.issue(app.config["SECRET_KEY"], tenant_id=tenant_id, person_id=person_id, role=role)
        return {"Authorization": f"Bearer {token}"}

    return mint


FORM = {
    "name": "Support call", "weight_mode": "SCALED",
    "groups": [
        {"id": "g1", "name": "Opening", "weight": 1.0, "questions": [
            {"id": "q1", "text": "Greeted?", "type": "yes_no",
             "options": [{"id": "q1y", "text": "Yes", "value": 1}, {"id": "q1n", "text": "No", "value": 0}]},
            {"id": "q2", "text": "Verified?", "type": "yes_no", "na_enabled": True,
             "options": [{"id": "q2y", "text": "Yes", "value": 1}, {"id": "q2n", "text": "No", "value": 0}]},
        ]},
        {"id": "g2", "name": "Resolution", "weight": 1.0, "questions": [
            {"id": "q3", "text": "Resolved?", "type": "multiple_choice",
             "options": [{"id": "q3a", "text": "Fully", "value": 2},
                         {"id": "q3b", "text": "Partly", "value": 1},
                         {"id": "q3c", "text": "No", "value": 0}]},
        ]},
    ],
}


def make_form(db, tenant_id: str = "acme", *, publish: bool = True) -> str:
    from extension.quality import forms as quality_forms

    with db.session() as session:
        form = quality_forms.create_form(session, tenant_id=tenant_id, actor="mgr", data=dict(FORM))
        if publish:
            quality_forms.publish(session, tenant_id=tenant_id, form_id=form.id, actor="mgr")
        return form.id


@pytest.fixture
def form_id(world, db):
    return make_form(db)


def add_facts(db, tenant_id: str, rows: list[dict]) -> None:
    """Fact rows stored directly (the analytics service's FCR judging is not under test here)."""
    with db.session() as session:
        for row in rows:
            ended = row["ended_at"]
            session.add(InteractionFact(tenant_id=tenant_id, local_day=ended.date(), **row))


def fact(n: int, *, agent: str, day: date, **extra) -> dict:
    base = {"conversation_id": f"c{n:04d}", "agent_id": agent, "team_id": "t1", "queue_id": "q1",
            "inquiry": "billing", "channel": "voice",
            "ended_at": datetime(day.year, day.month, day.day, 9, tzinfo=UTC) + timedelta(minutes=n),
            "t_handle_ms": 300_000, "transferred": False, "fcr": True, "csat": 4.0,
            "customer_sentiment": 0.3}
    return {**base, **extra}


def audit_actions(db, tenant_id: str = "acme") -> list[str]:
    from sqlalchemy import select

    with db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == tenant_id)
                                  .order_by(AuditEntry.id))
        return [a for a in actions if a != "tenant.created"]  # the fixture's own


def count(db, model, **where) -> int:
    from sqlalchemy import func, select

    with db.session() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.scalar(query)
