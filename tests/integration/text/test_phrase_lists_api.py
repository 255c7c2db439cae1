"""/api/v1/phrase-lists through HTTP: defaults until a tenant edits, a tenant's own required
statement and prohibited phrase change its analyses only, revert restores the defaults, every
change is audited, bad bodies are 422 naming the field and change nothing, and only QA analysts
and admins may edit."""

from __future__ import annotations

import pytest

from extension.text import interaction_analytics
from extension.text import phrase_lists as service
from extension.text.domain import phrase_lists as lists
from tests.integration.sampling.world import audit_actions

TRAINING = "this call may be recorded for training"
CALL = [{"party": "agent", "text": "Good morning. This call may be recorded for training purposes."},
        {"party": "customer", "text": "OK, my boiler is broken again."},
        {"party": "agent", "text": "Well, that is not in my job description."}]
REQUIRED = {"rules": [{"key": "training_disclosure", "wordings": [TRAINING, "we record calls for training"]}]}
PROHIBITED = {"rules": [{"key": "not_my_job", "wordings": ["not in my job description"], "threshold": 0.9},
                        {"key": "retired", "wordings": ["no can do"], "active": False}]}


@pytest.fixture(autouse=True)
def _fresh_cache():
    service.forget()
    yield
    service.forget()


def _lists(client, headers) -> dict[str, dict]:
    response = client.get("/api/v1/phrase-lists", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["kind"]: item for item in response.get_json()["items"]}


def _analyse(app, db, tenant_id: str, conversation_id: str):
    with app.app_context(), db.session() as session:
        row = interaction_analytics.analyse_and_store(session, tenant_id, conversation_id, CALL, "voice")
        return row.result, row.compliance_miss, row.prohibited_count


def test_a_tenant_without_lists_gets_the_built_in_defaults(client, world, token_for):
    found = _lists(client, token_for("a1", "agent"))
    assert set(found) == set(lists.KINDS)
    assert found["required"]["source"] == "default" and found["required"]["version"] == 0
    assert [r["key"] for r in found["required"]["rules"]] == ["recording_disclosure", "identity_verification",
                                                             "closing_offer"]
    assert found["prohibited"]["rules"][0]["threshold"] == 0.95


def test_an_admin_list_changes_that_tenants_analysis_only(app, client, db, world, token_for):
    admin = token_for("adm", "admin")
    before, _, prohibited_before = _analyse(app, db, "acme", "c-before")
    assert "training_disclosure" not in before["compliance"] and prohibited_before == 0

    put = client.put("/api/v1/phrase-lists/required", json=REQUIRED, headers=admin)
    assert put.status_code == 200, put.get_data(as_text=True)
    assert put.get_json()["source"] == "tenant" and put.get_json()["version"] == 1
    assert put.get_json()["rules"][0]["threshold"] == 0.85 and put.get_json()["rules"][0]["party"] == "agent"
    assert client.put("/api/v1/phrase-lists/prohibited", json=PROHIBITED,
                      headers=token_for("qa1", "qa_analyst")).status_code == 200

    mine, miss, prohibited = _analyse(app, db, "acme", "c-after")
    assert set(mine["compliance"]) == {"training_disclosure"}
    assert mine["compliance"]["training_disclosure"]["present"] is True and miss is False
    assert prohibited == 1 and mine["prohibited"][0]["detail"]["rule"] == "not_my_job"

    theirs, their_miss, their_prohibited = _analyse(app, db, "globex", "c-after")
    assert set(theirs["compliance"]) == {"recording_disclosure", "identity_verification", "closing_offer"}
    assert their_miss is True and their_prohibited == 0  # no identity check; nothing prohibited by default
    assert _lists(client, token_for("adm", "admin", tenant_id="globex"))["required"]["source"] == "default"
    assert audit_actions(db, "acme").count("phrase_lists.updated") == 2
    assert "phrase_lists.updated" not in audit_actions(db, "globex")


def test_revert_restores_the_defaults_and_is_audited_with_before_and_after(app, client, db, world, token_for):
    from sqlalchemy import select

    from extension.platform.models.audit import AuditEntry

    admin = token_for("adm", "admin")
    assert client.put("/api/v1/phrase-lists/required", json=REQUIRED, headers=admin).status_code == 200
    assert "training_disclosure" in _analyse(app, db, "acme", "c1")[0]["compliance"]
    reverted = client.delete("/api/v1/phrase-lists/required", headers=admin)
    assert reverted.status_code == 200
    assert reverted.get_json()["source"] == "default" and reverted.get_json()["version"] == 2
    assert set(_analyse(app, db, "acme", "c2")[0]["compliance"]) == {"recording_disclosure",
                                                                     "identity_verification",
                                                                     "closing_offer"}
    with db.session() as session:
        details = [a.details for a in session.scalars(select(AuditEntry).where(
            AuditEntry.tenant_id == "acme", AuditEntry.action == "phrase_lists.updated")
            .order_by(AuditEntry.id))]
    assert details[0]["before"] == {"source": "default"}
    assert details[0]["after"]["keys"] == ["training_disclosure"]
    assert details[1]["before"]["source"] == "tenant" and details[1]["after"] == {"source": "default"}
    again = client.delete("/api/v1/phrase-lists/required", headers=admin)
    assert again.status_code == 200 and audit_actions(db, "acme").count("phrase_lists.updated") == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"rules": [{"key": "x", "wordings": ["  "]}]}, "rules.0.wordings.0"),
    ({"rules": [{"key": "x", "wordings": [""]}]}, "rules.0.wordings.0"),
    ({"rules": [{"key": "x", "wordings": []}]}, "rules.0.wordings"),
    ({"rules": [{"key": "x", "wordings": ["a b"]}, {"key": "x", "wordings": ["c d"]}]}, "rules.1.key"),
    ({"rules": [{"key": "x", "wordings": ["a b"], "threshold": 1.5}]}, "rules.0.threshold"),
    ({"rules": [{"key": "x", "wordings": ["a b"], "threshold": 0.1}]}, "rules.0.threshold"),
    ({"rules": [{"key": "x", "wordings": ["a" * (lists.MAX_WORDING_CHARS + 1)]}]}, "rules.0.wordings.0"),
    ({"rules": [{"key": "x", "wordings": ["a b", "A  b"]}]}, "rules.0.wordings.1"),
    ({"rules": [{"key": f"k{i}", "wordings": ["a b"]} for i in range(lists.MAX_RULES + 1)]}, "rules"),
    ({"rules": [{"key": "x", "wordings": ["a b"], "party": "bot"}]}, "rules.0.party"),
    ({"rules": [{"key": "has space", "wordings": ["a b"]}]}, "rules.0.key"),
    ({"rules": [{"key": "x", "wordings": ["a b"], "colour": "red"}]}, "rules.0.colour"),
    ({"rules": [{"key": "x", "wordings": ["(call|chat recorded"]}]}, "rules.0.wordings.0"),
    ({"rules": [{"key": "x", "wordings": ["((call|chat)) recorded"]}]}, "rules.0.wordings.0"),
    ({}, "rules"),
])
def test_a_bad_body_is_422_naming_the_field_and_changes_nothing(client, db, world, token_for, body, field):
    admin = token_for("adm", "admin")
    response = client.put("/api/v1/phrase-lists/prohibited", json=body, headers=admin)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert _lists(client, admin)["prohibited"]["source"] == "default"
    assert "phrase_lists.updated" not in audit_actions(db, "acme")


def test_an_unknown_kind_is_404_and_a_non_json_body_415(client, world, token_for):
    admin = token_for("adm", "admin")
    assert client.put("/api/v1/phrase-lists/escalation", json=REQUIRED, headers=admin).status_code == 404
    assert client.delete("/api/v1/phrase-lists/nope", headers=admin).status_code == 404
    assert client.put("/api/v1/phrase-lists/required", data="x", headers=admin).status_code == 415


@pytest.mark.parametrize(("person", "role", "status"), [
    ("a1", "agent", 403), ("sup1", "supervisor", 403), ("mgr", "manager", 403),
    ("qa1", "qa_analyst", 200), ("adm", "admin", 200)])
def test_only_qa_analysts_and_admins_may_edit_while_everyone_reads(client, db, world, token_for,
                                                                  person, role, status):
    headers = token_for(person, role)
    assert client.get("/api/v1/phrase-lists", headers=headers).status_code == 200
    assert client.put("/api/v1/phrase-lists/required", json=REQUIRED, headers=headers).status_code == status
    assert client.delete("/api/v1/phrase-lists/required", headers=headers).status_code == status
    expected = 2 if status == 200 else 0
    assert audit_actions(db, "acme").count("phrase_lists.updated") == expected


def test_another_tenants_edit_and_revert_leave_this_tenants_lists_alone(client, db, world, token_for):
    acme, globex = token_for("adm", "admin"), token_for("adm", "admin", tenant_id="globex")
    assert client.put("/api/v1/phrase-lists/required", json=REQUIRED, headers=acme).status_code == 200
    assert client.delete("/api/v1/phrase-lists/required", headers=globex).status_code == 200
    assert client.put("/api/v1/phrase-lists/prohibited", json=PROHIBITED, headers=globex).status_code == 200
    mine = _lists(client, acme)
    assert mine["required"]["source"] == "tenant" and mine["prohibited"]["source"] == "default"
    assert audit_actions(db, "acme").count("phrase_lists.updated") == 1
