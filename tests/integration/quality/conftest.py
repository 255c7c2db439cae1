"""Quality-management API fixtures: people of every role, token minting, form documents."""

from __future__ import annotations

import base64
import re
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import responses
from sqlalchemy import func, select

from extension.platform import hosts
from extension.platform.models.audit import AuditEntry
from tests.factories import add_people, add_tenant, bearer

# acme: two teams; qa1/qa2 are the evaluation pool, qa3 a third analyst (second reviewer cases)
PEOPLE = [
    ("a1", "agent", "t1", "sup1"), ("a2", "agent", "t1", "sup1"), ("a3", "agent", "t2", "sup2"),
    ("sup1", "supervisor", "t1", None), ("sup2", "supervisor", "t2", None),
    ("qa1", "qa_analyst", None, None), ("qa2", "qa_analyst", None, None),
    ("mgr", "manager", None, None), ("mgr2", "manager", None, None), ("adm", "admin", None, None),
]




@pytest.fixture
def people(app, db, tenant):
    add_people(db, tenant[0], PEOPLE, name=str.upper)
    return tenant[0]


@pytest.fixture
def other_tenant(app, db, people):
    """globex: the same person ids, so any leak across tenants would show."""
    add_tenant(db, "globex")
    add_people(db, "globex", PEOPLE, name=str.upper)
    return "globex"


@pytest.fixture
def token_for(app):
    def mint(person_id: str, role: str | None = None, *, tenant_id: str = "acme") -> dict[str, str]:
        role = role or {p: r for p, r, _, _ in PEOPLE}[person_id]
        return bearer(app, person_id, role, tenant_id=tenant_id)

    return mint


def yes_no(qid: str, **extra) -> dict:
    return {"id": qid, "text": f"{qid}?", "type": "yes_no",
            "options": [{"id": f"{qid}y", "text": "Yes", "value": 1},
                        {"id": f"{qid}n", "text": "No", "value": 0}], **extra}


def form_body(**extra) -> dict:
    """Greeting (1 q) weight 1, Handling (handle-time auto rule, compliance auto rule, manual q)."""
    handle = yes_no("fast", auto={"metric": "handle_seconds",
                                  "bands": [{"max": 300, "option_id": "fasty"},
                                            {"max": None, "option_id": "fastn"}]})
    disclosure = yes_no("disclosed", auto={"metric": "compliance_statement",
                                           "phrases": ["this call may be recorded"],
                                           "yes": "disclosedy", "no": "disclosedn"})
    return {"name": "Support call", "interaction_type": "voice", "department": "care",
            "customer_segment": "retail", "weight_mode": "SCALED",
            "groups": [{"id": "g1", "name": "Greeting", "weight": 1, "questions": [yes_no("greet")]},
                       {"id": "g2", "name": "Handling", "weight": 1, "na_enabled": True,
                        "questions": [handle, disclosure, yes_no("solved")]}], **extra}


def count(db, model, **where) -> int:
    with db.session() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.scalar(query)


def audit_actions(db, tenant_id: str = "acme") -> list[str]:
    with db.session() as session:
        return [a for a in session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == tenant_id)
                                           .order_by(AuditEntry.id)) if not a.startswith("tenant.")]


def snapshot(db, *models) -> dict:
    """Every row of the given tables as plain dicts: compare before and after a refused request."""
    out = {}
    with db.session() as session:
        for model in models:
            rows = session.scalars(select(model)).all()
            out[model.__tablename__] = sorted(
                repr({c.name: getattr(r, c.name) for c in model.__table__.columns}) for r in rows)
    return out


NOW = datetime.now(UTC)


@pytest.fixture
def published_form(client, people, token_for):
    """A published form id (created and published by the manager)."""
    created = client.post("/api/v1/forms", json=form_body(), headers=token_for("mgr"))
    assert created.status_code == 201, created.get_json()
    form_id = created.get_json()["id"]
    assert client.post(f"/api/v1/forms/{form_id}/publish", headers=token_for("mgr")).status_code == 200
    return form_id


def add_interaction(db, conversation_id: str, *, agent_id: str = "a1", handle_ms: int | None = 200_000,
                    transcript: list[dict] | None = None, fact: bool = True, tenant_id: str = "acme") -> None:
    """A conversation as the pipeline (interactions) and analytics (facts) would have stored it."""
    from extension.analytics import facts as analytics
    from extension.analytics.models.interactions import Interaction

    ended = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with db.session() as session:
        session.add(Interaction(tenant_id=tenant_id, conversation_id=conversation_id, agent_id=agent_id,
                                t_handle_ms=handle_ms, transferred=False, ended_at=ended,
                                transcript=transcript, outcomes=[]))
        if fact:
            analytics.upsert_facts(session, tenant_id=tenant_id, records=[{
                "conversation_id": conversation_id, "agent_id": agent_id, "team_id": "t1",
                "channel": "voice", "ended_at": ended, "t_handle_ms": handle_ms, "fcr": True}])


RECORDED = [{"party": "agent", "text": "Hello, this call may be recorded for quality purposes."},
            {"party": "customer", "text": "Fine."}]
ALL_YES = {"greet": {"option_id": "greety"}, "solved": {"option_id": "solvedy"}}


def handled(db, conversation_id: str, agent_id: str = "a1", *, tenant_id: str = "acme") -> None:
    """Make sure the tenant has a record of ``conversation_id`` handled by ``agent_id`` (an
    evaluation can only be assigned for such a conversation); an existing record is kept."""
    from extension.analytics.models.interactions import Interaction

    with db.session() as session:
        found = session.get(Interaction, (tenant_id, conversation_id))
    if found is None:
        add_interaction(db, conversation_id, agent_id=agent_id, handle_ms=None, fact=False,
                        tenant_id=tenant_id)


@pytest.fixture
def assign(client, db, published_form, token_for):
    """POST /api/v1/evaluations as the manager for a conversation ``agent_id`` handled (stored
    first when missing); returns the response."""

    def post(conversation_id: str = "c1", *, agent_id: str = "a1", **extra):
        handled(db, conversation_id, agent_id)
        body = {"conversation_id": conversation_id, "agent_id": agent_id, "form_id": published_form, **extra}
        return client.post("/api/v1/evaluations", json=body, headers=token_for("mgr"))

    return post


@pytest.fixture
def released(client, db, assign, token_for):
    """A released evaluation of a1's conversation c1 scored by qa1 (every answer yes)."""
    add_interaction(db, "c1", transcript=RECORDED)
    evaluation = assign("c1", evaluator_id="qa1").get_json()
    url = f"/api/v1/evaluations/{evaluation['id']}"
    qa = token_for("qa1")
    assert client.put(f"{url}/answers", json={"answers": ALL_YES}, headers=qa).status_code == 200
    assert client.post(f"{url}/submit", headers=qa).status_code == 200
    response = client.post(f"{url}/release", headers=qa)
    assert response.status_code == 200
    return response.get_json()


SANDBOX_BASIC = "Basic " + base64.b64encode(b"sandbox-client:sandbox-secret").decode()


@contextmanager
def sandbox_host(sandbox):
    """Requests to the test tenant's API and login hosts answered by the sandbox app (a test
    client); yields the list of paths asked, in order."""
    calls: list[str] = []

    def forward(request):
        path = request.path_url
        headers = {"Authorization": request.headers.get("Authorization", "")}
        if path.startswith("/oauth/token"):
            headers["Authorization"] = SANDBOX_BASIC  # the test tenant's credentials are fakes
        calls.append(path)
        answer = sandbox.open(path, method=request.method, data=request.body, headers={
            **headers, "Content-Type": request.headers.get("Content-Type", "")})
        return answer.status_code, {"Content-Type": answer.content_type}, answer.get_data()

    hosts.forget()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for base in ("https://api.mypurecloud.ie", "https://login.mypurecloud.ie"):
            for method in ("GET", "POST"):
                mock.add_callback(method, re.compile(re.escape(base) + "/.*"), callback=forward)
        yield calls
    hosts.forget()
