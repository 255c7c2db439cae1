"""The interaction widget: KPIs, sentiment per party, flags and why, compliance found/missing;
"Add to coaching" makes exactly one manual flag and one audit row naming the actor, a second
click changes nothing, a post without the CSRF token is refused and changes nothing; an agent
sees only their own conversations (404 otherwise), an unknown id is a 404 page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from extension.analytics import facts as analytics
from extension.analytics.models.interactions import Interaction
from extension.coaching.models import Flag
from extension.platform import csrf
from extension.platform.models.audit import AuditEntry
from extension.text import interaction_analytics
from tests.factories import add_people, panel_session

FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site", "Accept": "text/html"}
ENDED = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)
TRANSCRIPT = [
    {"party": "agent", "offset_ms": 0, "duration_ms": 4000,
     "text": "Thanks for calling, this call may be recorded. How can I help?"},
    {"party": "customer", "offset_ms": 4500, "duration_ms": 4000,
     "text": "This is awful, I have been waiting for weeks and nobody helps me."},
    {"party": "agent", "offset_ms": 9000, "duration_ms": 3000, "text": "I am sorry, let me fix that now."},
]


@pytest.fixture
def world(app, db, tenant):
    tenant_id = tenant[0]
    add_people(db, tenant_id, [("a1", "agent", "t1", "s1"), ("a2", "agent", "t2", "s2"),
                               ("s1", "supervisor", "t1", None), ("s2", "supervisor", "t2", None)],
               name=lambda pid: f"Person {pid}")
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=tenant_id, records=[
            {"conversation_id": "conv-1", "agent_id": "a1", "team_id": "t1", "queue_id": "q-billing",
             "inquiry": "billing", "channel": "voice", "ended_at": ENDED, "t_handle_ms": 312000,
             "t_talk_ms": 250000, "t_hold_ms": 40000, "t_acw_ms": 22000, "transferred": True,
             "fcr": False, "csat": 2.0, "customer_sentiment": -0.6, "agent_sentiment": 0.3},
            {"conversation_id": "conv-2", "agent_id": "a2", "team_id": "t2", "channel": "chat",
             "ended_at": ENDED, "t_handle_ms": 100000}])
        session.add(Interaction(tenant_id=tenant_id, conversation_id="conv-1", agent_id="a1", channel="voice",
                                ended_at=ENDED, transcript=TRANSCRIPT, outcomes=["low-csat"]))
        session.add(Flag(tenant_id=tenant_id, conversation_id="conv-1", agent_id="a1", rule_id="low-csat",
                         action="flag", at=ENDED, reasons=["customer_sentiment -0.60 < -0.5"]))
    with app.app_context(), db.session() as session:
        interaction_analytics.analyse_and_store(session, tenant_id, "conv-1", TRANSCRIPT, "voice")
    return tenant_id


def manual_flags(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(Flag.id)).where(Flag.rule_id == "manual")) or 0


def manual_audits(db) -> list[AuditEntry]:
    with db.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "interaction.flagged"))
        return [a for a in rows if (a.details or {}).get("rule") == "manual"]


def test_the_widget_shows_kpis_sentiment_flags_and_compliance(app, client, world):
    panel_session(app, client, "s1")
    answer = client.get("/t/acme/panels/interactions/conv-1", headers=FRAME)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    kpis = re.search(r'data-testid="kpis">(.*?)</dl>', page, re.S).group(1)
    for shown in ("<dd>312</dd>", "<dd>250</dd>", "<dd>40</dd>", "<dd>22</dd>", "Transferred</dt><dd>yes",
                  "first contact</dt><dd>no", "<dd>2</dd>", "billing", "voice"):
        assert shown in kpis, (shown, kpis)
    sentiment = re.search(r'data-testid="sentiment">(.*?)</table>', page, re.S).group(1)
    assert "negative (-0.60)" in sentiment and "positive (0.30)" in sentiment
    assert "low-csat" in page and "customer_sentiment -0.60 &lt; -0.5" in page
    compliance = re.search(r'data-testid="compliance">(.*?)</ul>', page, re.S).group(1)
    assert "Found" in compliance or "Missing" in compliance
    assert 'data-testid="add-to-coaching"' in page


def test_add_to_coaching_makes_one_flag_and_one_audit_row_and_a_second_click_changes_nothing(
        app, client, db, world):
    headers = panel_session(app, client, "s1")
    first = client.post("/t/acme/panels/interactions/conv-1/coaching", headers=headers)
    part = first.get_data(as_text=True)
    assert first.status_code == 200 and "<html" not in part
    assert 'data-testid="coaching-confirmation"' in part and "Added to coaching:" in part
    assert manual_flags(db) == 1
    audits = manual_audits(db)
    assert len(audits) == 1 and audits[0].actor == "s1" and audits[0].subject_id == "conv-1"
    assert audits[0].details["agent_id"] == "a1"
    again = client.post("/t/acme/panels/interactions/conv-1/coaching", headers=headers)
    assert again.status_code == 200 and "Already in coaching" in again.get_data(as_text=True)
    assert manual_flags(db) == 1 and len(manual_audits(db)) == 1
    with db.session() as session:
        flag = session.scalar(select(Flag).where(Flag.rule_id == "manual"))
        assert (flag.agent_id, flag.action, flag.conversation_id) == ("a1", "flag", "conv-1")
    page = client.get("/t/acme/panels/interactions/conv-1", headers=FRAME).get_data(as_text=True)
    assert 'data-testid="in-coaching"' in page and 'data-testid="add-to-coaching"' not in page


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(app, client, db, world):
    headers = panel_session(app, client, "s1")
    forged = {k: v for k, v in headers.items() if k != csrf.HEADER}
    assert client.post("/t/acme/panels/interactions/conv-1/coaching", headers=forged).status_code == 403
    cross = {**headers, "Sec-Fetch-Site": "cross-site"}
    assert client.post("/t/acme/panels/interactions/conv-1/coaching", headers=cross).status_code == 403
    assert manual_flags(db) == 0 and manual_audits(db) == []


def test_an_agent_sees_only_their_own_conversation_and_cannot_add_to_coaching(app, client, db, world):
    headers = panel_session(app, client, "a1")
    own = client.get("/t/acme/panels/interactions/conv-1", headers=FRAME)
    assert own.status_code == 200 and 'data-testid="add-to-coaching"' not in own.get_data(as_text=True)
    assert client.get("/t/acme/panels/interactions/conv-2", headers=FRAME).status_code == 404
    assert client.post("/t/acme/panels/interactions/conv-1/coaching", headers=headers).status_code == 403
    assert manual_flags(db) == 0


def test_a_supervisor_of_another_team_gets_a_404(app, client, db, world):
    headers = panel_session(app, client, "s2")
    assert client.get("/t/acme/panels/interactions/conv-1", headers=FRAME).status_code == 404
    assert client.post("/t/acme/panels/interactions/conv-1/coaching", headers=headers).status_code == 404
    assert manual_flags(db) == 0


def test_an_unknown_conversation_is_a_404_page(app, client, world):
    panel_session(app, client, "s1")
    answer = client.get("/t/acme/panels/interactions/nope", headers=FRAME)
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    assert "nope" in answer.get_data(as_text=True)


def test_the_genesys_widget_url_leads_to_the_conversation_keeping_the_language(app, client, world):
    panel_session(app, client, "s1")
    answer = client.get("/t/acme/panels/interaction", headers=FRAME,
                        query_string={"gcConversationId": "conv-1", "gcLangTag": "de-DE"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/t/acme/panels/interactions/conv-1?gcLangTag=de-DE"
    page = client.get(answer.headers["Location"], headers=FRAME).get_data(as_text=True)
    assert "Zum Coaching hinzufügen" in page and "Bearbeitungszeit" in page
    missing = client.get("/t/acme/panels/interaction", headers=FRAME)
    assert missing.status_code == 400 and "gcConversationId" in missing.get_data(as_text=True)
