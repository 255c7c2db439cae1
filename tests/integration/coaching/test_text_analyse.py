"""The stable way in: POST /api/v1/text/analyse and `flask text analyse` run items through the
production detectors with the tenant's lists and policy, and refuse bad input naming the field."""

from __future__ import annotations

import json

import pytest

from extension.platform.models.audit import AuditEntry
from extension.platform.models.tenants import Tenant
from tests.factories import add_people, bearer

CARD = "4111 1111 1111 1111"
POLICY = {"version": 1, "rules": [
    {"id": "said-refund", "action": "flag", "description": "the customer asked for a refund",
     "when": {"fact": "transcript", "op": "phrase_present", "value": ["refund"]}}]}
ITEMS = [
    {"id": "u1", "party": "customer", "channel": "chat",
     "text": f"My card {CARD} was charged twice, I'm reporting you to the Financial Ombudsman."},
    {"id": "u2", "party": "agent", "channel": "chat", "text": "This chat is recorded for quality."},
    {"id": "t1", "channel": "voice", "turns": [
        {"speaker": "agent", "text": "Thanks for calling, calls are recorded. Passcode please?"},
        {"speaker": "customer", "text": "Sunflower. I want a refund, my email is jo@example.com."},
        {"speaker": "agent", "text": "Done. Anything else?"}]},
]


@pytest.fixture
def acme(app, db, tenant):
    add_people(db, "acme", [("adm", "admin", None, None), ("s1", "supervisor", "t1", None)])
    with db.session() as session:
        session.get(Tenant, "acme").policy = POLICY
    return "acme"


def test_each_item_goes_through_every_detector_and_the_tenants_policy(app, client, db, acme):
    answer = client.post("/api/v1/text/analyse", json={"items": ITEMS}, headers=bearer(app, "adm", "admin"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    u1, u2, t1 = answer.get_json()["results"]

    assert u1["pii"] == [{"kind": "card", "start": 8, "end": 8 + len(CARD)}]
    assert ITEMS[0]["text"][u1["pii"][0]["start"]:u1["pii"][0]["end"]] == CARD  # original offsets
    assert CARD not in u1["redacted"] and u1["escalation"]["present"] is True
    assert u1["escalation"]["spans"][0]["detail"]["trigger"] == "regulator"
    assert u1["sentiment"]["label"] in ("neg", "neu", "pos")
    assert u2["required"]["recording_disclosure"]["present"] is True
    assert u2["escalation"]["present"] is False

    assert {k: v["present"] for k, v in t1["required"].items()} == {
        "recording_disclosure": True, "identity_verification": True, "closing_offer": True}
    assert [p["kind"] for p in t1["pii"]] == ["email"] and t1["pii"][0]["turn"] == 1
    assert t1["decisions"] == [{"rule": "said-refund", "action": "flag",
                                "reasons": t1["decisions"][0]["reasons"]}]
    assert t1["decisions"][0]["reasons"]
    assert set(t1["parties"]) == {"agent", "customer"} and len(t1["turns"]) == 3
    assert "jo@example.com" not in json.dumps(t1["turns"])
    with db.session() as session:
        actions = [e.action for e in session.query(AuditEntry).filter_by(tenant_id="acme")]
    assert "text.analysed" in actions


def test_another_tenants_policy_is_not_used(app, client, db, acme):
    from tests.factories import add_tenant

    add_tenant(db, "globex")
    add_people(db, "globex", [("adm", "admin", None, None)])
    answer = client.post("/api/v1/text/analyse", json={"items": ITEMS[2:]},
                         headers=bearer(app, "adm", "admin", tenant_id="globex"))
    assert answer.status_code == 200
    assert "said-refund" not in [d["rule"] for d in answer.get_json()["results"][0]["decisions"]]


def test_only_an_admin_may_call_it(app, client, acme):
    answer = client.post("/api/v1/text/analyse", json={"items": ITEMS},
                         headers=bearer(app, "s1", "supervisor"))
    assert answer.status_code == 403


@pytest.mark.parametrize(("items", "field"), [
    ([{"id": "x", "text": "hello"}], "items.0.party"),
    ([{"id": "x", "party": "agent", "text": "hi", "turns": [{"speaker": "agent", "text": "hi"}]}],
     "items.0.text"),
    ([{"id": "x", "turns": [{"speaker": "bot", "text": "hi"}]}], "items.0.turns.0.speaker"),
    ([{"id": "x", "party": "agent", "text": "a" * 5001}], "items.0.text"),
    ([{"id": "x", "party": "agent", "text": "a"}, {"id": "x", "party": "agent", "text": "b"}], "items.1.id"),
    ([{"id": str(i), "party": "agent", "text": "a"} for i in range(501)], "items"),
    ([], "items"),
])
def test_bad_items_are_422_naming_the_field(app, client, db, acme, items, field):
    answer = client.post("/api/v1/text/analyse", json={"items": items}, headers=bearer(app, "adm", "admin"))
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert field in [e["field"] for e in answer.get_json()["errors"]]


def test_the_command_reads_and_writes_json_lines(app, acme, tmp_path):
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n")
    result = app.test_cli_runner().invoke(args=["text", "analyse", "--tenant", "acme", "--in",
                                                str(source), "--out", str(target)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["id"] for r in lines] == ["u1", "u2", "t1"]
    assert lines[2]["decisions"][0]["rule"] == "said-refund"


def test_the_command_names_the_bad_line_and_writes_nothing(app, acme, tmp_path):
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    bad = {"id": "y", "party": "robot", "text": "x"}
    source.write_text(json.dumps(ITEMS[0]) + "\n" + json.dumps(bad) + "\n")
    result = app.test_cli_runner().invoke(args=["text", "analyse", "--tenant", "acme", "--in",
                                                str(source), "--out", str(target)])
    assert result.exit_code != 0 and "line 2" in result.output and "party" in result.output
    assert not target.exists() or target.read_text() == ""
