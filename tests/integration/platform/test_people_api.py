"""/api/v1/people, one person's role and the role mapping, through HTTP with bearer tokens:
tenant scope, role checks, paging and search, validation problems naming the field, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extension.platform import roles
from extension.platform.models.audit import AuditEntry
from extension.platform.models.people import Person
from tests.factories import add_people, add_tenant, bearer

# (id, role, team, supervisor)
ACME = [("boss", "admin", None, None), ("sup", "supervisor", "t1", None),
        ("a1", "agent", "t1", "sup"), ("a2", "agent", "t1", "sup"), ("b1", "agent", "t2", None),
        ("qa", "qa_analyst", None, None)]
NAMES = {"boss": "Ada Boss", "sup": "Sam Super", "a1": "Alice Agent", "a2": "Bob Agent",
         "b1": "Carol_100%", "qa": "Quinn Analyst"}


@pytest.fixture
def world(app, db):
    for tenant in ("acme", "globex"):
        add_tenant(db, tenant)
        add_people(db, tenant, ACME, name=lambda pid: NAMES[pid])
    with db.session() as session:
        for p in session.scalars(select(Person)):
            p.email = f"{p.id}@{p.tenant_id}.example"
    return app


def _ids(answer) -> list[str]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [item["id"] for item in answer.json["items"]]


def _audit(db, action: str, tenant_id: str = "acme") -> list[AuditEntry]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.action == action).order_by(AuditEntry.id)))


# --- listing --------------------------------------------------------------------------------

def test_admins_list_the_tenant_by_name(client, world):
    answer = client.get("/api/v1/people", headers=bearer(world, "boss", "admin"))
    assert _ids(answer) == ["boss", "a1", "a2", "b1", "qa", "sup"]
    first = answer.json["items"][0]
    assert first == {**first, "name": "Ada Boss", "email": "boss@acme.example", "role": "admin",
                     "role_source": "mapped", "team_id": None, "active": True}


def test_a_supervisor_sees_their_team_and_an_agent_nobody(client, world):
    assert _ids(client.get("/api/v1/people", headers=bearer(world, "sup", "supervisor"))) == [
        "a1", "a2", "sup"]
    refused = client.get("/api/v1/people", headers=bearer(world, "a1", "agent"))
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert client.get("/api/v1/people").status_code == 401


def test_search_and_filters(client, world):
    headers = bearer(world, "qa", "qa_analyst")
    assert _ids(client.get("/api/v1/people?q=AGENT", headers=headers)) == ["a1", "a2"]
    assert _ids(client.get("/api/v1/people?q=b1@acme", headers=headers)) == ["b1"]
    # LIKE wildcards are plain characters
    assert _ids(client.get("/api/v1/people?q=_100%25", headers=headers)) == ["b1"]
    assert _ids(client.get("/api/v1/people?q=%25", headers=headers)) == ["b1"]
    assert _ids(client.get("/api/v1/people?role=agent", headers=headers)) == ["a1", "a2", "b1"]
    assert _ids(client.get("/api/v1/people?team_id=t1&role=supervisor", headers=headers)) == ["sup"]
    bad = client.get("/api/v1/people?role=wizard&limit=0", headers=headers)
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json["errors"]} == {"role", "limit"}


def test_paging_and_inactive_people(client, db, world):
    headers = bearer(world, "boss", "admin")
    first = client.get("/api/v1/people?limit=4", headers=headers)
    assert _ids(first) == ["boss", "a1", "a2", "b1"]
    second = client.get(f"/api/v1/people?limit=4&cursor={first.json['next_cursor']}", headers=headers)
    assert _ids(second) == ["qa", "sup"] and second.json["next_cursor"] is None
    with db.session() as session:
        session.get(Person, ("acme", "b1")).active = False
    assert "b1" not in _ids(client.get("/api/v1/people", headers=headers))
    assert "b1" in _ids(client.get("/api/v1/people?include_inactive=true", headers=headers))


# --- one person's role ----------------------------------------------------------------------

def test_an_admin_names_a_qa_analyst_audited_and_the_stored_role_counts_at_once(client, db, world):
    answer = client.put("/api/v1/people/b1/role", json={"role": "qa_analyst"},
                        headers=bearer(world, "boss", "admin"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["role"] == "qa_analyst" and answer.json["role_source"] == "override"
    [entry] = _audit(db, "person.role_set")
    assert entry.actor == "person:boss" and entry.subject_id == "b1"
    assert entry.details == {"from": "agent", "to": "qa_analyst", "source_from": "mapped",
                             "source": "override"}
    # the token still says agent; the stored role is what counts
    assert client.get("/api/v1/people", headers=bearer(world, "b1", "agent")).status_code == 200
    with db.session() as session:  # globex's b1 is untouched
        assert session.get(Person, ("globex", "b1")).role == "agent"


def test_handing_a_role_back_to_the_mapping(client, db, world):
    headers = bearer(world, "boss", "admin")
    client.put("/api/v1/people/b1/role", json={"role": "manager"}, headers=headers)
    answer = client.delete("/api/v1/people/b1/role", headers=headers)
    assert answer.status_code == 200
    assert (answer.json["role"], answer.json["role_source"]) == ("manager", "mapped")
    assert len(_audit(db, "person.role_set")) == 2


def test_role_changes_are_for_admins_and_checked(client, db, world):
    assert client.put("/api/v1/people/b1/role", json={"role": "admin"},
                      headers=bearer(world, "sup", "supervisor")).status_code == 403
    headers = bearer(world, "boss", "admin")
    bad = client.put("/api/v1/people/b1/role", json={"role": "wizard"}, headers=headers)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "role"
    missing = client.put("/api/v1/people/b1/role", json={}, headers=headers)
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "role"
    assert client.put("/api/v1/people/b1/role", data="role=admin",
                      headers=headers).status_code == 415
    assert client.put("/api/v1/people/nobody/role", json={"role": "agent"},
                      headers=headers).status_code == 404
    assert _audit(db, "person.role_set") == []


def test_another_tenants_person_is_not_found(client, db, world):
    with db.session() as session:
        session.add(Person(tenant_id="globex", id="only-globex", name="G", role="agent"))
    answer = client.put("/api/v1/people/only-globex/role", json={"role": "admin"},
                        headers=bearer(world, "boss", "admin"))
    assert answer.status_code == 404
    with db.session() as session:
        assert session.get(Person, ("globex", "only-globex")).role == "agent"


def test_the_last_admin_cannot_be_demoted(client, db, world):
    headers = bearer(world, "boss", "admin")
    refused = client.put("/api/v1/people/boss/role", json={"role": "agent"}, headers=headers)
    assert refused.status_code == 409
    client.put("/api/v1/people/qa/role", json={"role": "admin"}, headers=headers)
    assert client.put("/api/v1/people/boss/role", json={"role": "agent"},
                      headers=headers).status_code == 200
    # boss is an agent now: the stored role counts, whatever the token says
    assert client.put("/api/v1/people/boss/role", json={"role": "admin"},
                      headers=headers).status_code == 403


# --- the role mapping -----------------------------------------------------------------------

MAPPING = {"rules": [{"role": "admin", "when": {"host_roles": ["Coachwire Admin"]}},
                     {"role": "qa_analyst", "when": {"groups": ["QA"],
                                                     "permissions": ["quality:evaluation:*"]}},
                     {"role": "supervisor", "when": {"direct_reports": True}}],
           "default": "agent"}


def test_the_default_mapping_is_shown_and_replaced_audited(client, db, world):
    headers = bearer(world, "boss", "admin")
    shown = client.get("/api/v1/role-mapping", headers=headers)
    assert shown.status_code == 200
    assert shown.json == {**roles.DEFAULT_MAPPING, "is_default": True}
    saved = client.put("/api/v1/role-mapping", json=MAPPING, headers=headers)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.json == {**MAPPING, "is_default": False}
    assert client.get("/api/v1/role-mapping", headers=headers).json == saved.json
    [entry] = _audit(db, "roles.mapping_updated")
    assert entry.actor == "person:boss" and entry.details["to"] == MAPPING
    assert entry.details["from"] == roles.DEFAULT_MAPPING
    reset = client.delete("/api/v1/role-mapping", headers=headers)
    assert reset.json["is_default"] is True and len(_audit(db, "roles.mapping_updated")) == 2
    # globex never had a mapping of its own
    assert client.get("/api/v1/role-mapping", headers=bearer(
        world, "boss", "admin", tenant_id="globex")).json["is_default"] is True


@pytest.mark.parametrize(("body", "field"), [
    ({}, "rules"),
    ({"rules": [{"role": "wizard", "when": {"direct_reports": True}}]}, "rules.0.role"),
    ({"rules": [{"role": "admin", "when": {}}]}, "rules.0.when._schema"),
    ({"rules": [{"role": "admin"}]}, "rules.0.when"),
    ({"rules": [{"role": "admin", "when": {"permissions": ["not a permission"]}}]},
     "rules.0.when.permissions.0"),
    ({"rules": [{"role": "admin", "when": {"groups": []}}]}, "rules.0.when.groups"),
    ({"rules": [{"role": "admin", "when": {"direct_reports": "maybe"}}]},
     "rules.0.when.direct_reports"),
    ({"rules": [{"role": "admin", "when": {"colour": ["red"]}}]}, "rules.0.when.colour"),
    ({"rules": [], "default": "wizard"}, "default"),
    ({"rules": [{"role": "agent", "when": {"direct_reports": False}}] * 51}, "rules"),
])
def test_a_bad_mapping_is_a_problem_naming_the_field(client, db, world, body, field):
    answer = client.put("/api/v1/role-mapping", json=body, headers=bearer(world, "boss", "admin"))
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in answer.json["errors"]}
    assert _audit(db, "roles.mapping_updated") == []


def test_only_admins_see_or_change_the_mapping(client, world):
    for who, role in (("sup", "supervisor"), ("qa", "qa_analyst")):
        headers = bearer(world, who, role)
        assert client.get("/api/v1/role-mapping", headers=headers).status_code == 403
        assert client.put("/api/v1/role-mapping", json=MAPPING, headers=headers).status_code == 403
    headers = bearer(world, "boss", "admin")
    assert client.put("/api/v1/role-mapping", data="x", headers=headers).status_code == 415
    assert client.put("/api/v1/role-mapping", json=[1], headers=headers).status_code == 400


def test_the_openapi_document_names_the_people_endpoints(client, world):
    spec = client.get("/api/v1/openapi.json").json
    people = spec["paths"]["/api/v1/people"]["get"]
    assert people["x-permission"] == "people.read"
    assert {p["name"] for p in people["parameters"]} >= {"q", "role", "team_id", "limit", "cursor"}
    role = spec["paths"]["/api/v1/people/{person_id}/role"]
    assert set(role) == {"put", "delete"} and role["put"]["x-permission"] == "roles.write"
    assert "409" in role["put"]["responses"] and "requestBody" in role["put"]
    assert set(spec["paths"]["/api/v1/role-mapping"]) == {"get", "put", "delete"}


def test_the_first_admin_comes_from_the_cli(world, db):
    runner = world.test_cli_runner()
    named = runner.invoke(args=["people", "set-role", "acme", "b1", "admin"])
    assert named.exit_code == 0, named.output
    assert "b1: admin (override)" in named.output
    [entry] = _audit(db, "person.role_set")
    assert entry.actor == "system:cli" and entry.details["to"] == "admin"
    back = runner.invoke(args=["people", "set-role", "acme", "b1", "mapped"])
    assert back.exit_code == 0 and "b1: admin (mapped)" in back.output
    assert runner.invoke(args=["people", "set-role", "acme", "nobody", "admin"]).exit_code == 1
    assert runner.invoke(args=["people", "set-role", "nope", "b1", "admin"]).exit_code == 1
    assert runner.invoke(args=["people", "set-role", "acme", "b1", "wizard"]).exit_code == 2


def test_the_openapi_document_names_both_ways_in(client, world):
    spec = client.get("/api/v1/openapi.json").json
    schemes = spec["components"]["securitySchemes"]
    assert schemes["panelSession"] == {**schemes["panelSession"], "type": "apiKey", "in": "cookie",
                                       "name": "__Host-coachwire"}
    assert spec["paths"]["/api/v1/people"]["get"]["security"] == [{"bearerAuth": []},
                                                                  {"panelSession": []}]
