"""Interaction text analytics: redaction before storage, offsets into the stored text, the STA
adapter end to end, the read endpoint's scope, and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from extension.analytics.models.interactions import Interaction
from extension.platform.models.audit import AuditEntry
from extension.text import interaction_analytics
from extension.text.api import schemas as qm_schemas
from extension.text.models import InteractionTextAnalytics
from tests.integration.sampling.world import add_facts, audit_actions, count, fact

CARD, EMAIL, PHONE = "4111 1111 1111 1111", "jane.doe@example.com", "+44 20 7946 0958"
TRANSCRIPT = [
    {"party": "agent", "offset_ms": 0, "duration_ms": 4000,
     "text": "Thanks for calling, this call may be recorded. Can you confirm your date of birth?"},
    {"party": "customer", "text": f"Sure. My card is {CARD} and my email is {EMAIL}.", "offset_ms": 4500,
     "duration_ms": 5000},
    {"party": "customer", "text": f"Call me on {PHONE}. This is awful, I want to speak to a manager!",
     "offset_ms": 9000, "duration_ms": 4000},
    {"party": "agent", "text": "Calm down, that's not my problem. Anything else?", "offset_ms": 12500,
     "duration_ms": 2000},
]
GENESYS = {"conversationId": "c0002", "communicationId": "m1", "transcripts": [{"phrases": [
    {"text": "Hello, this call is being recorded.", "startTimeMs": 1790000000000,
     "duration": {"milliseconds": 2000}, "participantPurpose": "internal"},
    {"text": "I will cancel my subscription if this goes on.", "startTimeMs": 1790000003000,
     "duration": {"milliseconds": 3000}, "participantPurpose": "external"},
]}]}


@pytest.fixture
def analysed(world, db, app):
    add_facts(db, "acme", [fact(1, agent="a1", day=date(2026, 10, 5)),
                           fact(2, agent="a3", day=date(2026, 10, 5))])
    with app.app_context(), db.session() as session:
        interaction_analytics.analyse_and_store(session, "acme", "c0001", TRANSCRIPT, "voice", actor="qa1")
        interaction_analytics.analyse_and_store(session, "acme", "c0002", GENESYS, "voice")
        interaction_analytics.analyse_and_store(session, "globex", "c0001", TRANSCRIPT[:1], "voice")
    return "acme"


def test_nothing_raw_reaches_the_database(db, analysed):
    with db.session() as session:
        stored = json.dumps([r.result for r in session.scalars(select(InteractionTextAnalytics))])
        audits = json.dumps([a.details for a in session.scalars(select(AuditEntry))])
    for raw in (CARD, EMAIL, PHONE, "4111111111111111", "jane.doe", "7946 0958"):
        assert raw not in stored and raw not in audits
    assert "[CARD]" in stored and "[EMAIL]" in stored and "[PHONE]" in stored
    assert "interaction.text_analysed" in audit_actions(db)


def test_the_stored_result_has_every_detector_with_offsets_into_the_redacted_text(client, analysed,
                                                                                  token_for):
    response = client.get("/api/v1/interactions/c0001/analytics", headers=token_for("qa2", "qa_analyst"))
    assert response.status_code == 200
    body = response.get_json()
    assert not qm_schemas.InteractionTextAnalyticsOut().validate(body)
    texts = [u["text"] for u in body["utterances"]]

    def covers(span):
        return texts[span["utterance"]][span["start"]:span["end"]] == span["text"]

    assert {s["kind"] for s in body["pii"]} == {"card", "email", "phone"}
    assert all(covers(s) for s in body["pii"])
    assert body["compliance"]["recording_disclosure"]["present"]
    assert body["compliance"]["identity_verification"]["present"]
    assert all(covers(s) for c in body["compliance"].values() for s in c["spans"])
    assert body["escalation"]["present"] and all(covers(s) for s in body["escalation"]["spans"])
    assert body["escalation"]["spans"][0]["detail"]["trigger"] == "manager"
    # one prohibited span per utterance and rule (the best wording match)
    assert [s["text"].lower() for s in body["prohibited"]] == ["that's not my problem"]
    assert all(covers(s) for s in body["prohibited"])
    assert all(covers(s) for k in body["key_phrases"] for s in k["spans"]) and body["key_phrases"]
    parties = {u["party"] for u in body["sentiment"]["utterances"]}
    assert parties == {"agent", "customer"} and body["sentiment"]["customer"] is not None
    # agent 0-4000 and 12500-14500, customer 4500-9500 and 9000-13000 over 14500 ms:
    # 500 ms nobody speaks (4000-4500), 500 ms both (12500-13000)
    assert body["timing"] == {"silence_ratio": round(500 / 14500, 4),
                              "overtalk_ratio": round(500 / 14500, 4)}
    assert body["summary"]["escalation"] and body["summary"]["prohibited_count"] == 1
    assert not body["summary"]["compliance_miss"] and body["agent_id"] == "a1"


def test_a_genesys_sta_document_is_adapted_then_analysed(client, analysed, token_for):
    body = client.get("/api/v1/interactions/c0002/analytics", headers=token_for("mgr", "manager")).get_json()
    assert [u["party"] for u in body["utterances"]] == ["agent", "customer"]
    assert [u["offset_ms"] for u in body["utterances"]] == [0, 3000]
    assert body["escalation"]["spans"][0]["detail"]["trigger"] == "cancel"
    assert body["compliance"]["recording_disclosure"]["present"]
    assert not body["compliance"]["identity_verification"]["present"] and body["summary"]["compliance_miss"]
    assert body["timing"]["silence_ratio"] == round(1000 / 6000, 4)


@pytest.mark.parametrize(("person", "role", "status"), [
    ("a1", "agent", 200), ("a2", "agent", 403), ("sup1", "supervisor", 200), ("sup2", "supervisor", 403),
    ("qa1", "qa_analyst", 200), ("mgr", "manager", 200), ("adm", "admin", 200)])
def test_who_may_read_an_interaction(client, analysed, token_for, person, role, status):
    response = client.get("/api/v1/interactions/c0001/analytics", headers=token_for(person, role))
    assert response.status_code == status


def test_other_tenants_and_unknown_interactions_are_not_found(client, analysed, token_for):
    # globex has its own c0001 (agent a1 there too): acme's must not leak and vice versa
    globex = client.get("/api/v1/interactions/c0001/analytics", headers=token_for("mgr", "manager",
                                                                                  tenant_id="globex"))
    assert globex.status_code == 200 and len(globex.get_json()["utterances"]) == 1
    assert client.get("/api/v1/interactions/c0002/analytics",
                      headers=token_for("mgr", "manager", tenant_id="globex")).status_code == 404
    unknown = client.get("/api/v1/interactions/nope/analytics", headers=token_for("mgr", "manager"))
    assert unknown.status_code == 404


def test_the_cli_analyses_stored_transcripts_since_a_moment(app, db, world):
    old, new = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 20, tzinfo=UTC)
    with db.session() as session:
        for cid, updated in (("c0101", old), ("c0102", new)):
            session.add(Interaction(tenant_id="acme", conversation_id=cid, agent_id="a1", channel="chat",
                                    transcript=[{"party": "customer", "text": f"mail me at {EMAIL}"},
                                                {"party": "agent", "text": "Sure, I will."}],
                                    outcomes=[], updated_at=updated))
        session.add(Interaction(tenant_id="acme", conversation_id="c0103", agent_id="a1", outcomes=[]))
    runner = app.test_cli_runner()
    cutoff = (new - timedelta(days=1)).isoformat()
    since = runner.invoke(args=["quality", "analyse", "acme", "--since", cutoff])
    assert since.exit_code == 0, since.output
    assert "analysed 1 interaction(s)" in since.output and count(db, InteractionTextAnalytics) == 1
    everything = runner.invoke(args=["quality", "analyse", "acme"])
    assert "analysed 2 interaction(s)" in everything.output and count(db, InteractionTextAnalytics) == 2
    with db.session() as session:
        row = session.get(InteractionTextAnalytics, ("acme", "c0101"))
        assert row.channel == "chat" and EMAIL not in json.dumps(row.result)
    assert runner.invoke(args=["quality", "analyse", "nobody"]).exit_code != 0
    assert runner.invoke(args=["quality", "analyse", "acme", "--since", "yesterday"]).exit_code == 2


def test_a_transcript_arriving_through_the_pipeline_is_analysed_after_the_batch(app, client, db, world,
                                                                               tenant, run_jobs):
    """The drain commits the transcript, then queues the full analysis on its own queue."""
    from extension.platform.queue import get_dispatcher
    from handlers import jobs
    from tests.helpers import dumps, signed_headers, transcript, user_end

    lines = [("agent", "Thanks for calling, this call may be recorded."),
             ("customer", "My card is 4111 1111 1111 1111 and I want to speak to a manager.")]
    body = dumps({"events": [user_end("live-t1", "a1"), transcript("live-t1", lines)]})
    response = client.post("/webhooks/acme", data=body, headers=signed_headers(tenant[1], body))
    assert response.status_code == 202, response.get_data(as_text=True)
    with app.app_context():
        get_dispatcher().enqueue(jobs.drain_inbox, "acme")
    run_jobs()
    run_jobs()  # the analysis job the drain queued after its commit
    with db.session() as session:
        row = session.get(InteractionTextAnalytics, ("acme", "live-t1"))
        assert row is not None and row.escalation is True
        stored = json.dumps(row.result)
        actors = set(session.scalars(select(AuditEntry.actor).where(
            AuditEntry.action == "interaction.text_analysed")))
    assert "4111" not in stored  # redacted before it was stored
    assert actors == {"system:pipeline"}
