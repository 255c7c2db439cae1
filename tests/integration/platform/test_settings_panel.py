"""The admin's settings panel: people and roles through the same audited role change as the API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extension.platform.models.audit import AuditEntry
from extension.platform.models.people import Person
from tests.factories import add_people, add_tenant, panel_session

FRAME = {"Sec-Fetch-Dest": "iframe", "Accept": "text/html"}
PEOPLE = [("adm", "admin", None, None), ("s1", "supervisor", "t1", None),
          ("a1", "agent", "t1", "s1"), ("a2", "agent", "t1", "s1")]


@pytest.fixture
def acme(app, db):
    add_tenant(db, "acme")
    add_people(db, "acme", PEOPLE, name={"a1": "Ann Able", "a2": "Bob Baker", "s1": "Sue Super",
                                         "adm": "Ada Admin"}.get)
    return "acme"


def _role(db, person_id: str) -> tuple[str, str]:
    with db.session() as session:
        person = session.get(Person, ("acme", person_id))
        return person.role, person.role_source


def test_an_admin_sees_every_person_and_can_search(app, client, acme):
    panel_session(app, client, "adm")
    html = client.get("/t/acme/panels/settings", headers=FRAME).get_data(as_text=True)
    assert all(name in html for name in ("Ann Able", "Bob Baker", "Sue Super", "Ada Admin"))
    found = client.get("/t/acme/panels/settings?q=bob", headers=FRAME).get_data(as_text=True)
    assert "Bob Baker" in found and "Ann Able" not in found and "1 person" in found


def test_only_admins_open_it(app, client, acme):
    panel_session(app, client, "s1")
    assert client.get("/t/acme/panels/settings", headers=FRAME).status_code == 403


def test_naming_a_qa_analyst_is_an_audited_override(app, client, db, acme):
    headers = panel_session(app, client, "adm")
    answer = client.post("/t/acme/panels/settings/people/a1/role", data={"role": "qa_analyst"},
                         headers=headers)
    assert answer.status_code == 200 and "Role set to QA analyst" in answer.get_data(as_text=True)
    assert _role(db, "a1") == ("qa_analyst", "override")
    back = client.post("/t/acme/panels/settings/people/a1/role", data={"role": "mapped"}, headers=headers)
    assert back.status_code == 200 and _role(db, "a1") == ("qa_analyst", "mapped")
    with db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == "acme")).all()
    assert actions.count("person.role_set") == 2


def test_the_last_admin_cannot_demote_themselves(app, client, db, acme):
    headers = panel_session(app, client, "adm")
    answer = client.post("/t/acme/panels/settings/people/adm/role", data={"role": "agent"},
                         headers=headers)
    assert answer.status_code == 409 and "last Coachwire admin" in answer.get_data(as_text=True)
    assert _role(db, "adm")[0] == "admin"


def test_a_change_without_the_csrf_token_changes_nothing(app, client, db, acme):
    headers = panel_session(app, client, "adm")
    del headers["X-CSRF-Token"]
    answer = client.post("/t/acme/panels/settings/people/a1/role", data={"role": "manager"},
                         headers=headers)
    assert answer.status_code == 403 and _role(db, "a1") == ("agent", "mapped")


@pytest.mark.parametrize("query", ["role=boss", "page=0", "page=x", "q=" + "x" * 201])
def test_bad_parameters_are_a_400_page(app, client, acme, query):
    panel_session(app, client, "adm")
    assert client.get(f"/t/acme/panels/settings?{query}", headers=FRAME).status_code == 400


def test_a_bad_role_or_another_tenants_person_changes_nothing(app, client, db, acme):
    add_tenant(db, "globex")
    add_people(db, "globex", [("g1", "agent", None, None)])
    headers = panel_session(app, client, "adm")
    assert client.post("/t/acme/panels/settings/people/a1/role", data={"role": "boss"},
                       headers=headers).status_code == 400
    assert client.post("/t/acme/panels/settings/people/g1/role", data={"role": "admin"},
                       headers=headers).status_code == 404
    assert _role(db, "a1") == ("agent", "mapped")
