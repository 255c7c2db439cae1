"""A tenant where one agent (agent-p) and one customer (by phone number) have data in every
capability: events through the webhook and the drain (inbox, interactions, transcripts, text
analytics, facts, rollups), the rest stored as the services store it. A second agent and a
second customer are the control: erasure must leave them alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from extension.analytics.models.delivery import AlertDelivery
from extension.analytics.models.facts import KpiRollupAgentDaily, KpiRollupDaily, PerformanceAlert
from extension.coaching.models import Appointment, Flag, Recognition, Task
from extension.platform.models.directory import Group, GroupMember, Queue, QueueMember
from extension.platform.models.people import Person, RevokedToken
from extension.platform.models.sessions import PanelSession
from extension.platform.queue import get_dispatcher
from extension.quality.models.calibration import CalibrationScore, CalibrationSession
from extension.quality.models.evaluations import (
    Dispute,
    Evaluation,
    EvaluatorCap,
    QualityForm,
    QualityFormVersion,
)
from extension.quality.models.fetches import EvaluationFetch
from extension.sampling.models import SamplingPick, SamplingPlanRow, SamplingRun
from extension.text.models import TenantPhraseList
from handlers import jobs
from tests.helpers import dumps, signed_headers, transcript

AGENT, OTHER, SUPERVISOR, ADMIN = "agent-p", "agent-o", "sup-1", "admin-1"
NAME, EMAIL = "Priya Érasmus", "priya.erasmus@acme.test"  # non-ASCII: JSON escapes it on SQLite
ADDRESS, OTHER_ADDRESS = "+44 20 7946 0001", "+44 20 7946 0999"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def settings(settings):
    return settings.with_overrides(sentiment_model="vader")


def _ended(conversation_id: str, agent: str, address: str, ended_at: datetime) -> dict:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "test", "type": "conversation.ended",
            "time": ended_at.isoformat(),
            "data": {"conversation_id": conversation_id, "agent_id": agent, "queue_id": "q1",
                     "channel": "voice", "t_talk_ms": 60000, "t_hold_ms": 5000, "t_acw_ms": 10000,
                     "wrapup_code": "billing", "ended_at": ended_at.isoformat(),
                     "customer_address": address}}


def deliver(client, tenant, messages: list[dict]) -> None:
    tenant_id, secret = tenant
    body = dumps({"events": messages})
    response = client.post(f"/webhooks/{tenant_id}", data=body, headers=signed_headers(secret, body))
    assert response.status_code == 202, response.get_data(as_text=True)


@pytest.fixture
def world(app, client, db, tenant, run_jobs):
    tenant_id = tenant[0]
    with db.session() as session:
        session.add_all([
            Person(tenant_id=tenant_id, id=AGENT, name=NAME, email=EMAIL, role="agent", team_id="t1",
                   supervisor_id=SUPERVISOR),
            Person(tenant_id=tenant_id, id=OTHER, name="Olaf Other", email="olaf@acme.test", role="agent",
                   team_id="t1", supervisor_id=SUPERVISOR),
            Person(tenant_id=tenant_id, id=SUPERVISOR, name="Sam Supervisor", role="supervisor",
                   team_id="t1"),
            Person(tenant_id=tenant_id, id=ADMIN, name="Ada Admin", role="admin"),
        ])
    conversations = {"c-1": (AGENT, ADDRESS), "c-2": (AGENT, OTHER_ADDRESS), "c-3": (OTHER, ADDRESS),
                     "c-4": (OTHER, OTHER_ADDRESS)}
    messages = []
    for i, (cid, (agent, address)) in enumerate(conversations.items()):
        messages.append(_ended(cid, agent, address, NOW - timedelta(hours=5 - i)))
        who = "Priya" if agent == AGENT else "Olaf"
        messages.append(transcript(cid, [("agent", f"Hello, this is {who}, how can I help?"),
                                         ("customer", f"My number is {address}, the bill is wrong.")]))
    deliver(client, tenant, messages)
    with app.app_context():
        get_dispatcher().enqueue(jobs.drain_inbox, tenant_id)
    run_jobs()
    _store_the_rest(db, tenant_id)
    return tenant_id


def _store_the_rest(db, tenant_id: str) -> None:
    t = tenant_id
    with db.session() as s:
        s.add_all([Group(tenant_id=t, id="g1", name="Team 1"), Queue(tenant_id=t, id="q1", name="Billing")])
        s.flush()
        s.add_all([
            GroupMember(tenant_id=t, group_id="g1", person_id=AGENT),
            GroupMember(tenant_id=t, group_id="g1", person_id=OTHER),
            QueueMember(tenant_id=t, queue_id="q1", person_id=AGENT, joined=True),
            RevokedToken(tenant_id=t, jti="j1", person_id=AGENT, expires_at=NOW + timedelta(days=1)),
            PanelSession(id_hash="0" * 64, tenant_id=t, person_id=AGENT,
                         expires_at=NOW + timedelta(hours=8)),
            TenantPhraseList(tenant_id=t, kind="required", rules=[], updated_by=AGENT),
            QualityForm(id="f1", tenant_id=t, name="Voice", created_by=AGENT),
            EvaluatorCap(tenant_id=t, evaluator_id=AGENT, daily_cap=3),
        ])
        s.flush()
        s.add_all([
            Evaluation(id="e1", tenant_id=t, conversation_id="c-1", agent_id=AGENT, evaluator_id=SUPERVISOR,
                       form_id="f1", form_version=1, assigned_day="2026-12-07", status="released",
                       answers={"q1": {"option_id": "o1", "text": f"{NAME} was polite"}}),
            Evaluation(id="e2", tenant_id=t, conversation_id="c-3", agent_id=OTHER, evaluator_id=AGENT,
                       form_id="f1", form_version=1, assigned_day="2026-12-07", created_by=AGENT),
            Evaluation(id="e3", tenant_id=t, conversation_id="c-4", agent_id=OTHER, evaluator_id=SUPERVISOR,
                       form_id="f1", form_version=1, assigned_day="2026-12-07",  # names her, no id
                       answers={"q1": {"option_id": "o2", "text": f"Handed over to {NAME}"}}),
            CalibrationSession(id="cs1", tenant_id=t, name="Dec", form_id="f1", form_version=1,
                               conversation_ids=["c-1"], evaluator_ids=[AGENT, SUPERVISOR], drift_threshold=5,
                               created_by=SUPERVISOR),
            SamplingPlanRow(id="sp1", tenant_id=t, name="Plan", document={}, created_by=AGENT),
            Appointment(tenant_id=t, agent_id=AGENT, facilitator_id=SUPERVISOR, week_key="2026-W50",
                        idempotency_key=f"appt|{AGENT}|2026-W50", conversation_ids=["c-1"],
                        decision={"agent": AGENT, "flags": 2}),
            Recognition(tenant_id=t, agent_id=AGENT, conversation_id="c-1",
                        idempotency_key=f"rec|{AGENT}|c-1"),
            Task(tenant_id=t, assignee_id=SUPERVISOR, kind="schedule", title=f"Schedule coaching for {NAME}",
                 details={"agent_id": AGENT}, idempotency_key=f"task|{AGENT}"),
            QualityFormVersion(tenant_id=t, form_id="f1", version=1, document={}, created_by=AGENT),
            PerformanceAlert(tenant_id=t, key=f"threshold|agent|{AGENT}|aht", kind="threshold",
                             subject_type="agent", subject_id=AGENT, metric="aht", value=900.0,
                             message=f"{NAME}: handle time above 800 s", details={"agent_id": AGENT}),
            AlertDelivery(tenant_id=t, alert_key=f"threshold|agent|{AGENT}|aht", raise_id="r1",
                          channel="email", idempotency_key=f"ad|{AGENT}|r1", recipient=EMAIL),
            EvaluationFetch(tenant_id=t, host_evaluation_id="he1", version_key="1|x",
                            data={"agent_id": AGENT, "evaluator_id": SUPERVISOR}),
        ])
        s.flush()
        s.add_all([
            Flag(tenant_id=t, conversation_id="c-1", agent_id=AGENT, rule_id="r1", action="flag", at=NOW,
                 reasons=[f"{AGENT} negative"]),
            Dispute(id="d1", tenant_id=t, evaluation_id="e1", agent_id=AGENT, resolver_id=SUPERVISOR,
                    items=[{"question_id": "q1", "reason": "I, Priya, was polite"}]),
            CalibrationScore(tenant_id=t, session_id="cs1", evaluator_id=AGENT, conversation_id="c-1",
                             answers={}, total_score=80.0),
            SamplingRun(id="sr1", tenant_id=t, plan_id="sp1", plan_version=1, plan_document={}, run_key="k",
                        start_day=NOW.date(), end_day=NOW.date(), period_start=NOW, period_end=NOW, seed="1",
                        fairness=[{"agent_id": AGENT, "picked": 1}], created_by=SUPERVISOR),
        ])
        s.flush()
        s.add(SamplingPick(tenant_id=t, run_id="sr1", position=0, conversation_id="c-1", agent_id=AGENT,
                           component="random", reasons=[]))


ROLLUP_SUMS = ("volume", "handle_ms", "talk_ms", "hold_ms", "acw_ms", "csent_n", "csent_sum")


def rollup_totals(db, tenant_id: str) -> dict:
    with db.session() as session:
        totals = {}
        for model in (KpiRollupDaily, KpiRollupAgentDaily):
            row = session.execute(select(*[func.sum(getattr(model, c)) for c in ROLLUP_SUMS])
                                  .where(model.tenant_id == tenant_id)).one()
            totals[model.__tablename__] = dict(zip(ROLLUP_SUMS, row, strict=True))
    return totals
