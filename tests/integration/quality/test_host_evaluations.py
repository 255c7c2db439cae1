"""Evaluations made in Genesys are mirrored into Coachwire's: a signed ``v2.quality.evaluations``
notification reaches the webhook receiver, the drain fetches the evaluation from the sandbox host
(and imports its form), scores it with our engine and follows the host's lifecycle.

The host is the sandbox app (its control endpoint plays the Genesys evaluator and hands back the
notification it published); the Genesys scoring sets are worked out by hand in the comments.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from extension.analytics.models.facts import InteractionFact, KpiRollupDaily
from extension.platform.models.audit import AuditEntry
from extension.platform.models.inbox import InboxEvent
from extension.platform.queue import get_dispatcher
from extension.quality.models.evaluations import Evaluation, QualityForm
from handlers import jobs
from sandbox.app import create_app as create_sandbox
from sandbox.quality import SALES_FORM_ID, SUPPORT_FORM_ID, SURVEY_FORM_ID, forms
from tests.helpers import dumps, signed_headers
from tests.integration.quality.conftest import SANDBOX_BASIC, add_interaction, sandbox_host, snapshot
from tests.unit.quality import genesys_fixtures as fx

EVALUATION_PATH = re.compile(r"^/api/v2/quality/conversations/[^/]+/evaluations/[^/?]+")


@pytest.fixture
def sandbox():
    return create_sandbox(seed=7, now=datetime(2025, 6, 11, 8, tzinfo=UTC)).test_client()


@pytest.fixture
def host(people, sandbox):
    """Requests to the tenant's API and login hosts answered by the sandbox app; the paths."""
    with sandbox_host(sandbox) as calls:
        yield calls


@pytest.fixture
def evaluate(sandbox):
    """Change an evaluation in the sandbox host; returns the notification it published."""

    def change(status: str, answers: dict, *, form_id: str = SUPPORT_FORM_ID, **extra) -> dict:
        body = {"conversationId": "c1", "agentId": "a1", "evaluatorId": "qa1", "formId": form_id,
                "status": status, "answers": answers, **extra}
        response = sandbox.post("/sandbox/control/evaluations", json=body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["notification"]

    return change


@pytest.fixture
def deliver(app, client, tenant, run_jobs):
    """POST notifications signed like the host would, then drain the tenant's inbox."""

    def send(*messages: dict) -> None:
        tenant_id, secret = tenant
        for message in messages:
            body = dumps(message)
            headers = signed_headers(secret, body, msg_id=f"msg_{uuid.uuid4().hex}")
            response = client.post(f"/webhooks/{tenant_id}", data=body, headers=headers)
            assert response.status_code == 202, response.get_data(as_text=True)
        with app.app_context():
            get_dispatcher().enqueue(jobs.drain_inbox, tenant_id)
        run_jobs()

    return send


def ids(form_id: str) -> dict[str, str]:
    """Sandbox ids by role: group and question ids, and "<question>-<option text>" option ids."""
    found = {}
    for gi, group in enumerate(forms()[form_id]["questionGroups"]):
        found[f"g{gi}"] = group["id"]
        for qi, question in enumerate(group["questions"]):
            found[f"g{gi}q{qi}"] = question["id"]
            for option in question["answerOptions"]:
                found[f"g{gi}q{qi}-{option['text']}"] = option["id"]
            for si, sub in enumerate(question.get("multipleSelectOptionQuestions") or []):
                found[f"g{gi}q{qi}s{si}"] = sub["id"]
                for option in sub["answerOptions"]:
                    found[f"g{gi}q{qi}s{si}-{option['builtInType']}"] = option["id"]
    return found


def support_scoring_set(*, greeting: str = "No", total: float = 60.0) -> dict:
    """Support call (SCALED; g0q0 is a read-only text block, not scored).
    Opening (w 40): greeting (1/0), recording (kill) yes → 1/2 with
    greeting "No". Resolution (w 20): resolved (critical) yes 1/1; next steps hidden (shown only
    for "No"), notes unscored. total = 100 * (40*1 + 20*1) / (40*2 + 20*1) = 60;
    critical = 100 * 20*1 / (20*1) = 100; non-critical = 100 * 40*1 / (40*2) = 50."""
    s, got = ids(SUPPORT_FORM_ID), 1 if greeting == "Yes" else 0
    return {
        "totalScore": total, "totalCriticalScore": 100.0,
        "totalNonCriticalScore": 100 * (got + 1) / 2, "maxTotalRawScore": 3.0,
        "maxTotalRawCriticalScore": 1.0, "anyFailedKillQuestions": False,
        "questionGroupScores": [
            fx.gs(s["g0"], 40, total=(got + 1, 2), critical=(0, 0), questions=[
                fx.qs(s["g0q1"], s[f"g0q1-{greeting}"], got),
                fx.qs(s["g0q2"], s["g0q2-Yes"], 1)]),
            fx.gs(s["g1"], 20, total=(1, 1), critical=(1, 1), questions=[
                fx.qs(s["g1q0"], s["g1q0-Yes"], 1),
                fx.qs(s["g1q1"], None, 0, na=True, system=True),
                fx.qs(s["g1q2"], None, 0)]),
        ],
    }


def mirrored(db) -> list[Evaluation]:
    with db.session() as session:
        return list(session.scalars(select(Evaluation).order_by(Evaluation.assigned_at)))


def audits(db, action: str) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                    .order_by(AuditEntry.id)))


def inbox_statuses(db) -> list[str]:
    with db.session() as session:
        return [r.status for r in session.scalars(select(InboxEvent).order_by(InboxEvent.id))]


def test_a_new_host_evaluation_is_mirrored_with_its_form_and_scored(
        db, host, evaluate, deliver, client, token_for):
    deliver(evaluate("FINISHED", support_scoring_set()))
    [evaluation] = mirrored(db)
    assert evaluation.status == "submitted" and evaluation.host_status == "FINISHED"
    assert (evaluation.conversation_id, evaluation.agent_id, evaluation.evaluator_id) == (
        "c1", "a1", "qa1")
    assert evaluation.total_score == pytest.approx(60.0)
    assert evaluation.host_total_score == pytest.approx(60.0)
    assert evaluation.host_version == 1 and evaluation.active_key is None
    with db.session() as session:
        form = session.get(QualityForm, evaluation.form_id)
        assert (form.genesys_form_id, form.published_version) == (SUPPORT_FORM_ID, 1)
    [created] = audits(db, "evaluation.mirrored")
    assert created.actor == "system:genesys"
    assert created.details["host_evaluation_id"] == evaluation.host_evaluation_id
    assert "score_mismatch" not in created.details
    assert [a.actor for a in audits(db, "form.created")] == ["system:genesys"]
    assert any(EVALUATION_PATH.match(path) for path in host)
    assert inbox_statuses(db) == ["done"]
    # not released: the agent does not see it, the supervisor does
    assert client.get("/api/v1/evaluations", headers=token_for("a1")).get_json()["items"] == []
    seen = client.get("/api/v1/evaluations", headers=token_for("sup1")).get_json()["items"]
    assert [e["host_evaluation_id"] for e in seen] == [evaluation.host_evaluation_id]


def test_release_then_read_follow_the_host_and_feed_the_kpis(
        db, host, evaluate, deliver, client, token_for):
    add_interaction(db, "c1")
    deliver(evaluate("FINISHED", support_scoring_set()))
    deliver(evaluate("FINISHED", support_scoring_set(), released=True))
    [evaluation] = mirrored(db)
    assert evaluation.status == "released" and evaluation.released_at is not None
    items = client.get("/api/v1/evaluations", headers=token_for("a1")).get_json()["items"]
    assert [(e["id"], e["status"], e["total_score"]) for e in items] == [
        (evaluation.id, "released", pytest.approx(60.0))]
    with db.session() as session:
        assert session.get(InteractionFact, ("acme", "c1")).qa_score == pytest.approx(60.0)
        rollup = session.scalars(select(KpiRollupDaily).where(KpiRollupDaily.agent_id == "a1")).one()
        assert (rollup.qa_n, rollup.qa_sum) == (1, pytest.approx(60.0))
    [updated] = audits(db, "evaluation.mirror_updated")
    assert (updated.actor, updated.details["from"], updated.details["status"]) == (
        "system:genesys", "submitted", "released")
    deliver(evaluate("FINISHED", support_scoring_set(), released=True, agentHasRead=True))
    assert mirrored(db)[0].status == "acknowledged"
    # Genesys owns the lifecycle: a Coachwire action on the mirror is refused
    url = f"/api/v1/evaluations/{evaluation.id}"
    assert client.post(f"{url}/acknowledge", headers=token_for("a1")).status_code == 409


def test_a_host_retraction_takes_the_score_back_out(db, host, evaluate, deliver):
    add_interaction(db, "c1")
    deliver(evaluate("FINISHED", support_scoring_set(), released=True))
    deliver(evaluate("RETRACTED", support_scoring_set(), released=True))
    assert mirrored(db)[0].status == "retracted"
    with db.session() as session:
        assert session.get(InteractionFact, ("acme", "c1")).qa_score is None


def test_duplicate_and_out_of_order_notifications_change_nothing(
        db, host, evaluate, deliver):
    first = evaluate("INPROGRESS", support_scoring_set())
    second = evaluate("FINISHED", support_scoring_set(greeting="Yes", total=100.0))
    deliver(second)
    before = snapshot(db, Evaluation, AuditEntry)
    fetched = sum(1 for path in host if EVALUATION_PATH.match(path))
    deliver(second, first)  # the same notification again, then the older version late
    assert snapshot(db, Evaluation, AuditEntry) == before
    assert sum(1 for path in host if EVALUATION_PATH.match(path)) == fetched  # not even fetched
    assert inbox_statuses(db) == ["done", "done", "done"]
    [evaluation] = mirrored(db)
    assert (evaluation.status, evaluation.host_version) == ("submitted", 2)
    assert evaluation.total_score == pytest.approx(100.0)


def test_an_unimportable_form_is_an_audited_skip_and_the_event_is_done(
        db, host, evaluate, deliver):
    deliver(evaluate("FINISHED", {"totalScore": 50.0}, form_id=SURVEY_FORM_ID))
    assert mirrored(db) == [] and inbox_statuses(db) == ["done"]
    [skip] = audits(db, "evaluation.mirror_skipped")
    assert skip.actor == "system:genesys" and skip.details["reason"] == "the form cannot be imported"
    assert skip.details["issues"] == [{"field": "/questionGroups/0/questions/0/type",
                                       "message": "a multipleSelectQuestion without "
                                                  "multipleSelectOptionQuestions cannot be imported"}]


def test_a_different_host_score_is_recorded_not_hidden(db, host, evaluate, deliver):
    deliver(evaluate("FINISHED", support_scoring_set(total=72.5)))
    [evaluation] = mirrored(db)
    assert (evaluation.total_score, evaluation.host_total_score) == (
        pytest.approx(60.0), pytest.approx(72.5))
    [created] = audits(db, "evaluation.mirrored")
    assert created.details["score_mismatch"] == {"ours": pytest.approx(60.0),
                                                 "host": pytest.approx(72.5)}


def test_multiple_select_answers_from_the_host_are_mirrored(db, host, evaluate, deliver):
    # Sales follow-up (OFF): offer yes 1/1; checks identity 2 + consent 2 of 5 → 4/5.
    # total = 100 * (1 + 4) / (1 + 5) = 83.33, nothing critical
    s = ids(SALES_FORM_ID)

    def option(index: int, picked: bool, value: int) -> dict:
        kind = "Selected" if picked else "Unselected"
        return {"questionId": s[f"g0q1s{index}"], "answerId": s[f"g0q1s{index}-{kind}"],
                "score": value if picked else 0, "markedNA": False, "systemMarkedNA": False,
                "failedKillQuestion": False}

    checks = {**fx.qs(s["g0q1"], None, 4), "multipleSelectQuestionOptionScores": [
        option(0, True, 2), option(1, False, 1), option(2, True, 2)]}
    answers = {"totalScore": 500 / 6, "totalCriticalScore": 0.0, "totalNonCriticalScore": 500 / 6,
               "maxTotalRawScore": 6.0, "maxTotalRawCriticalScore": 0.0,
               "anyFailedKillQuestions": False, "questionGroupScores": [
                   fx.gs(s["g0"], 1, total=(5, 6), critical=(0, 0), questions=[
                       fx.qs(s["g0q0"], s["g0q0-Yes"], 1), checks])]}
    deliver(evaluate("FINISHED", answers, form_id=SALES_FORM_ID))
    [evaluation] = mirrored(db)
    assert evaluation.answers[s["g0q1"]]["option_ids"] == sorted([s["g0q1s0"], s["g0q1s2"]])
    assert evaluation.total_score == pytest.approx(500 / 6)
    assert evaluation.host_total_score == pytest.approx(500 / 6)
    group = evaluation.scoring["questionGroupScores"][0]
    assert group["questionScores"][1]["multipleSelectQuestionOptionScores"] == \
        checks["multipleSelectQuestionOptionScores"]


def test_the_sandbox_evaluation_and_its_notification_have_the_reference_shapes(sandbox, evaluate):
    from tests.contract.reference import check_model

    message = evaluate("FINISHED", support_scoring_set(), released=True)
    assert check_model(message["eventBody"], "EvaluationQualityV2TopicEvaluationV2", "body") == []
    body = message["eventBody"]
    for expand in ("", "?expand=evaluationForm"):
        response = sandbox.get(f"/api/v2/quality/conversations/c1/evaluations/{body['id']}{expand}",
                               headers={"Authorization": f"Bearer {token(sandbox)}"})
        assert response.status_code == 200, response.get_json()
        assert check_model(response.get_json(), "EvaluationResponse", "evaluation") == []
    assert "questionGroups" in response.get_json()["evaluationForm"]
    other = sandbox.get(f"/api/v2/quality/conversations/c2/evaluations/{body['id']}",
                        headers={"Authorization": f"Bearer {token(sandbox)}"})
    assert other.status_code == 404


def token(sandbox) -> str:
    response = sandbox.post("/oauth/token", data={"grant_type": "client_credentials"},
                            headers={"Authorization": SANDBOX_BASIC})
    return response.get_json()["access_token"]


def test_a_newer_version_with_nothing_changed_is_not_rewritten_or_audited(
        db, host, evaluate, deliver):
    deliver(evaluate("FINISHED", support_scoring_set()))
    before = audits(db, "evaluation.mirrored") + audits(db, "evaluation.mirror_updated")
    deliver(evaluate("FINISHED", support_scoring_set()))  # version 2, same content
    after = audits(db, "evaluation.mirrored") + audits(db, "evaluation.mirror_updated")
    assert [a.id for a in after] == [a.id for a in before]
    [evaluation] = mirrored(db)
    assert (evaluation.host_version, evaluation.status) == (2, "submitted")


def test_a_mirrored_evaluation_is_disputed_in_genesys_and_not_counted_as_coachwire_workload(
        db, host, evaluate, deliver, client, token_for):
    add_interaction(db, "c1")
    deliver(evaluate("INPROGRESS", support_scoring_set()))
    [evaluation] = mirrored(db)
    assert evaluation.evaluator_id == "qa1" and evaluation.status == "in_progress"
    queues = client.get("/api/v1/workload", headers=token_for("mgr")).get_json()
    qa1 = next(row for row in queues["items"] if row["evaluator_id"] == "qa1")
    assert (qa1["open"], qa1["assigned_today"]) == (0, 0)
    deliver(evaluate("FINISHED", support_scoring_set(), released=True))
    before = snapshot(db, Evaluation, AuditEntry)
    response = client.post("/api/v1/disputes", headers=token_for("a1"), json={
        "evaluation_id": evaluation.id,
        "items": [{"question_id": ids(SUPPORT_FORM_ID)["g1q0"], "reason": "I did greet"}]})
    assert response.status_code == 409
    assert "Genesys" in response.get_json()["detail"]
    assert snapshot(db, Evaluation, AuditEntry) == before


# ---------------------------------------------------------------- no host call inside the drain


def post_batch(client, tenant, messages: list[dict]) -> None:
    """One signed batch, as the host delivers a burst; nothing is drained yet."""
    tenant_id, secret = tenant
    body = dumps({"events": messages})
    headers = signed_headers(secret, body, msg_id=f"msg_{uuid.uuid4().hex}")
    response = client.post(f"/webhooks/{tenant_id}", data=body, headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)


def fetch_rows(db) -> list:
    from extension.quality.models.fetches import EvaluationFetch

    with db.session() as session:
        return list(session.scalars(select(EvaluationFetch).order_by(EvaluationFetch.id)))


def test_a_burst_is_recorded_as_due_rows_and_fetched_after_the_drain_commits(
        app, db, client, tenant, host, evaluate, run_jobs):
    """A burst of evaluation notifications used to be fetched from the host inside the drain's
    batch transaction, throttled by the tenant's bucket: the write lock was held for the whole
    burst and conversation events waited behind it. Now the drain makes no host call at all:
    it records one due row per evaluation version (a redelivery adds none) and commits, and
    the conversation events of the same batch are done; the fetches follow in their own job."""
    from connectors.ratelimit import InMemoryTokenBucket
    from extension.platform import hosts
    from extension.platform.models.tenants import Tenant
    from tests.helpers import sentiment

    with app.app_context(), db.session() as session:  # a bucket no other test run shares
        hosts.genesys_for(session.get(Tenant, "acme")).transport._bucket = InMemoryTokenBucket()
    notes = [evaluate("FINISHED", support_scoring_set(), conversationId=f"c{i}")
             for i in range(30)]
    post_batch(client, tenant, [*notes, *(sentiment(f"talk-{i}", -20) for i in range(5))])
    with app.app_context():
        jobs.drain_inbox("acme")
    assert host == []  # not one host request during the drain
    assert set(inbox_statuses(db)) == {"done"} and len(inbox_statuses(db)) == 35
    due = fetch_rows(db)
    assert len(due) == 30 and {row.status for row in due} == {"pending"}
    assert mirrored(db) == []

    post_batch(client, tenant, notes)  # the host delivers the burst again
    with app.app_context():
        jobs.drain_inbox("acme")
    assert host == [] and len(fetch_rows(db)) == 30

    run_jobs()
    # distinct: a token another test run cached in the shared Redis is refused once (401, retry)
    assert len({path for path in host if EVALUATION_PATH.match(path)}) == 30
    assert {(row.status, row.outcome) for row in fetch_rows(db)} == {("done", "created")}
    assert sorted(e.conversation_id for e in mirrored(db)) == sorted(f"c{i}" for i in range(30))
    assert len(audits(db, "evaluation.mirrored")) == 30


def test_a_tenant_whose_host_budget_is_spent_defers_and_does_not_hold_the_worker(
        app, db, client, tenant, host, evaluate, monkeypatch):
    """The mirror job does not sleep on an empty bucket: it puts the row back, re-enqueues
    itself for when the budget allows, and returns at once, so the next tenant's job (globex,
    right after it on the same worker) mirrors without waiting."""
    from connectors.ratelimit import BucketSpec, InMemoryTokenBucket
    from extension.platform import hosts
    from extension.platform.models.tenants import Tenant
    from extension.quality import host_evaluations
    from tests.factories import add_people, add_tenant
    from tests.integration.quality.conftest import PEOPLE

    add_tenant(db, "globex", api_base="https://api.mypurecloud.ie",
               login_base="https://login.mypurecloud.ie")
    add_people(db, "globex", PEOPLE)
    note = evaluate("FINISHED", support_scoring_set())
    post_batch(client, tenant, [note])
    delayed: list[tuple[float, tuple]] = []
    with app.app_context():
        jobs.drain_inbox("acme")
        with db.session() as session:
            host_evaluations.record_due(session, tenant_id="globex",
                                        data=normalized(note)["data"])
            acme = session.get(Tenant, "acme")
        spent = InMemoryTokenBucket(BucketSpec(capacity=1, per_second=0.01))
        assert spent.acquire("genesys:acme") == 0  # the only token: the bucket is now empty
        hosts.genesys_for(acme).transport._bucket = spent
        dispatcher = get_dispatcher()
        monkeypatch.setattr(dispatcher, "enqueue_in",
                            lambda seconds, func, *args: delayed.append((seconds, args)))

        assert host_evaluations.mirror_due("acme") == {"deferred": 1}
        assert not any(EVALUATION_PATH.match(path) for path in host)
        [row] = [r for r in fetch_rows(db) if r.tenant_id == "acme"]
        assert (row.status, row.attempts) == ("pending", 0)
        assert row.next_attempt_at > datetime.now(UTC)
        [(seconds, args)] = delayed
        assert args == ("acme",) and seconds > host_evaluations.HOST_WAIT_LIMIT

        assert host_evaluations.mirror_due("globex") == {"created": 1}
    [evaluation] = mirrored(db)
    assert evaluation.tenant_id == "globex"


def normalized(message: dict) -> dict:
    """The evaluation.changed event the receiver makes of a notification."""
    from handlers import normalize, parse

    [event] = normalize.normalize_all(parse.parse_body(dumps(message)), webhook_id=None)
    return event.to_json()


def test_a_mirror_job_yields_the_worker_after_its_time_slice(
        app, db, client, tenant, host, evaluate, monkeypatch):
    """A 500-evaluation burst ran as 50-row jobs of about 20 s each at the host's 5 requests/s,
    and a booking queued on the same worker waited behind each. A job now also stops when its
    time slice is spent and puts itself back in the queue for the rest."""
    from connectors.ratelimit import InMemoryTokenBucket
    from extension.platform import hosts
    from extension.platform.models.tenants import Tenant
    from extension.quality import host_evaluations

    with app.app_context(), db.session() as session:
        hosts.genesys_for(session.get(Tenant, "acme")).transport._bucket = InMemoryTokenBucket()
    post_batch(client, tenant, [evaluate("FINISHED", support_scoring_set(), conversationId=f"c{i}")
                                for i in range(3)])
    again: list[tuple] = []
    with app.app_context():
        jobs.drain_inbox("acme")
        monkeypatch.setattr(host_evaluations, "TIME_SLICE", 0.0)
        monkeypatch.setattr(get_dispatcher(), "enqueue", lambda func, *args, job_id=None:
                            again.append((func, args)))
        assert host_evaluations.mirror_due("acme") == {"created": 1}
    assert again == [(host_evaluations.mirror_due, ("acme",))]
    assert sorted(row.status for row in fetch_rows(db)) == ["done", "pending", "pending"]
