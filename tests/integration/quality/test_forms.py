"""Forms API: create (draft), validate with JSON Pointers, publish, version on edit, list, roles."""

from __future__ import annotations

import pytest

from extension.platform.models.audit import AuditEntry
from extension.quality.models.evaluations import QualityForm, QualityFormVersion
from tests.integration.quality.conftest import audit_actions, count, form_body, snapshot, yes_no


def test_create_is_a_draft_version_one_with_selectors_and_audit(client, db, people, token_for):
    response = client.post("/api/v1/forms", json=form_body(), headers=token_for("qa1"))
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "draft" and body["latest_version"] == 1 and body["published_version"] is None
    selectors = (body["interaction_type"], body["department"], body["customer_segment"])
    assert selectors == ("voice", "care", "retail")
    assert body["latest"]["document"]["id"] == body["id"]
    assert body["latest"]["document"]["groups"][1]["questions"][0]["auto"]["metric"] == "handle_seconds"
    assert audit_actions(db) == ["form.created"]


@pytest.mark.parametrize(("mutate", "pointer"), [
    (lambda b: b["groups"][1]["questions"][2].update(options=[]), "/groups/1/questions/2/options"),
    (lambda b: b["groups"][0]["questions"].append(yes_no("greet")), "/groups/0/questions/1/id"),
    (lambda b: b["groups"][1]["questions"][0]["auto"]["bands"][0].update(option_id="maybe"),
     "/groups/1/questions/0/auto/bands/0/option_id"),
    (lambda b: b["groups"][1]["questions"][1]["auto"].pop("no"), "/groups/1/questions/1/auto"),
    (lambda b: b["groups"][0].update(weight=-1), "/groups/0/weight"),
])
def test_an_invalid_form_is_422_naming_the_json_pointer_and_stores_nothing(
        client, db, people, token_for, mutate, pointer):
    body = form_body()
    mutate(body)
    response = client.post("/api/v1/forms", json=body, headers=token_for("mgr"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert pointer in [e["field"] for e in response.get_json()["errors"]]
    assert count(db, QualityForm) == 0 and count(db, QualityFormVersion) == 0 and audit_actions(db) == []


@pytest.mark.parametrize(("body", "field"), [
    ({**form_body(), "name": ""}, "name"),
    ({**form_body(), "weight_mode": "HEAVY"}, "weight_mode"),
    ({k: v for k, v in form_body().items() if k != "groups"}, "groups"),
    ({**form_body(), "colour": "blue"}, "colour"),
])
def test_bad_fields_are_422_naming_the_field(client, db, people, token_for, body, field):
    response = client.post("/api/v1/forms", json=body, headers=token_for("mgr"))
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert count(db, QualityForm) == 0


def test_not_json_is_415(client, people, token_for):
    response = client.post("/api/v1/forms", data="name=x", headers=token_for("mgr"))
    assert response.status_code == 415


def test_publish_then_edit_makes_a_new_draft_version_and_keeps_the_published_one(
        client, db, published_form, token_for):
    headers = token_for("mgr")
    edited = form_body(name="Support call v2")
    edited["groups"][0]["questions"].append(yes_no("name_used"))
    response = client.put(f"/api/v1/forms/{published_form}", json=edited, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["latest_version"] == 2 and body["published_version"] == 1
    assert body["latest"]["status"] == "draft"
    # a second publish makes v2 current and supersedes v1
    assert client.post(f"/api/v1/forms/{published_form}/publish", headers=headers).get_json()[
        "published_version"] == 2
    versions = client.get(f"/api/v1/forms/{published_form}/versions", headers=headers).get_json()["items"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "superseded"), (2, "published")]
    assert len(versions[0]["document"]["groups"][0]["questions"]) == 1
    assert audit_actions(db) == ["form.created", "form.published", "form.updated", "form.published"]


def test_an_edit_that_changes_nothing_makes_no_version(client, db, published_form, token_for):
    before = snapshot(db, QualityFormVersion)
    response = client.put(f"/api/v1/forms/{published_form}", json=form_body(), headers=token_for("mgr"))
    assert response.status_code == 200 and response.get_json()["latest_version"] == 1
    assert snapshot(db, QualityFormVersion) == before
    assert audit_actions(db) == ["form.created", "form.published"]


def test_editing_a_draft_replaces_it_in_place(client, db, people, token_for):
    form_id = client.post("/api/v1/forms", json=form_body(), headers=token_for("mgr")).get_json()["id"]
    response = client.put(f"/api/v1/forms/{form_id}", json=form_body(department="sales"),
                          headers=token_for("mgr"))
    assert response.get_json()["latest_version"] == 1 and response.get_json()["department"] == "sales"
    assert count(db, QualityFormVersion) == 1


def test_an_invalid_edit_changes_nothing(client, db, published_form, token_for):
    body = form_body()
    body["groups"][1]["questions"][2]["options"] = []
    before = snapshot(db, QualityForm, QualityFormVersion, AuditEntry)
    response = client.put(f"/api/v1/forms/{published_form}", json=body, headers=token_for("mgr"))
    assert response.status_code == 422
    assert "/groups/1/questions/2/options" in [e["field"] for e in response.get_json()["errors"]]
    assert snapshot(db, QualityForm, QualityFormVersion, AuditEntry) == before


def test_publishing_twice_is_409(client, db, published_form, token_for):
    before = snapshot(db, QualityForm, QualityFormVersion, AuditEntry)
    response = client.post(f"/api/v1/forms/{published_form}/publish", headers=token_for("mgr"))
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert snapshot(db, QualityForm, QualityFormVersion, AuditEntry) == before


def test_list_filters_by_selector_and_pages(client, people, token_for):
    headers = token_for("mgr")
    for i in range(3):
        client.post("/api/v1/forms", json=form_body(name=f"F{i}", department="care" if i else "sales"),
                    headers=headers)
    first = client.get("/api/v1/forms?limit=2", headers=headers).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(f"/api/v1/forms?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [f["name"] for f in first["items"] + rest["items"]] == ["F0", "F1", "F2"]
    assert rest["next_cursor"] is None
    care = client.get("/api/v1/forms?department=care", headers=headers).get_json()["items"]
    assert sorted(f["name"] for f in care) == ["F1", "F2"]
    assert client.get("/api/v1/forms?status=archived", headers=headers).status_code == 400


@pytest.mark.parametrize(("person", "status"), [("a1", 403), ("sup1", 403), ("qa1", 201), ("adm", 201)])
def test_who_may_create_forms(client, people, token_for, person, status):
    assert client.post("/api/v1/forms", json=form_body(), headers=token_for(person)).status_code == status


def test_another_tenants_form_is_not_found(client, db, published_form, other_tenant, token_for):
    headers = token_for("adm", tenant_id=other_tenant)
    before = snapshot(db, QualityForm, QualityFormVersion)
    assert client.get(f"/api/v1/forms/{published_form}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/forms/{published_form}/versions", headers=headers).status_code == 404
    assert client.put(f"/api/v1/forms/{published_form}", json=form_body(), headers=headers).status_code == 404
    assert client.post(f"/api/v1/forms/{published_form}/publish", headers=headers).status_code == 404
    assert client.get("/api/v1/forms", headers=headers).get_json()["items"] == []
    assert snapshot(db, QualityForm, QualityFormVersion) == before
