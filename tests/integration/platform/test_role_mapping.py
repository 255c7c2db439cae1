"""The role mapping applied where the host speaks: at people sync (GET /api/v2/users with the
authorization and groups expands, reporting lines from each user's manager) and at sign-in
(users/me), against the sandbox host; an admin's override survives both; the stored role is
what every request reads."""

from __future__ import annotations

from sqlalchemy import select

from extension.platform import people
from extension.platform.models.audit import AuditEntry
from extension.platform.models.people import Person
from tests.factories import bearer
from tests.integration.platform.test_sso import HOME, agent, host, sbx, sign_in, supervisor

__all__ = ["host", "sbx"]  # fixtures used by name below


def _admin(app, db) -> dict[str, str]:
    """A Coachwire admin of the sandbox tenant (set by an override, not on the host)."""
    with db.session() as session:
        session.add(Person(tenant_id="sbx", id="coachwire-admin", name="Admin", role="admin",
                           role_source="override"))
    return bearer(app, "coachwire-admin", "admin", tenant_id="sbx")


def _roles(db) -> dict[str, tuple[str, str]]:
    with db.session() as session:
        return {p.id: (p.role, p.role_source)
                for p in session.scalars(select(Person).where(Person.tenant_id == "sbx"))}


def _mapped(db) -> list[dict]:
    with db.session() as session:
        return [{**e.details, "subject": e.subject_id} for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "person.role_mapped")
            .order_by(AuditEntry.id))]


def _sync(app):
    with app.app_context():
        return people.sync_now(app.extensions["coachwire.db"], "sbx")


def test_the_default_mapping_at_sync_makes_supervisors_of_people_with_reports(db, sbx):
    stored = _roles(db)
    for person in sbx.supervisors:
        assert stored[person.id] == ("supervisor", "mapped")
    for person in sbx.agents:
        assert stored[person.id] == ("agent", "mapped")


def test_a_tenants_mapping_by_group_applies_at_the_next_sync_audited(app, client, db, sbx):
    headers = _admin(app, db)
    team = sbx.team_of(agent(sbx).id)
    mapping = {"rules": [{"role": "qa_analyst", "when": {"groups": [team.name.upper()]}},
                         {"role": "supervisor", "when": {"direct_reports": True}}]}
    assert client.put("/api/v1/role-mapping", json=mapping, headers=headers).status_code == 200
    assert _roles(db)[agent(sbx).id] == ("agent", "mapped")  # nothing changes before the sync
    result = _sync(app)
    stored = _roles(db)
    members = set(team.agent_ids) | {team.supervisor_id}
    assert result["remapped"] == len(members)
    for pid in members:
        assert stored[pid] == ("qa_analyst", "mapped")
    other = next(a for a in sbx.agents if a.id not in members)
    assert stored[other.id] == ("agent", "mapped")
    audited = {row["subject"]: row for row in _mapped(db)}
    assert set(audited) == members
    assert audited[agent(sbx).id] == {"from": "agent", "to": "qa_analyst", "rule": 0,
                                      "via": "sync", "default_mapping": False,
                                      "subject": agent(sbx).id}
    assert _sync(app)["remapped"] == 0  # a second sync changes nothing
    # the QA analyst is named: the people API lists them by role
    listed = client.get("/api/v1/people?role=qa_analyst", headers=headers).json["items"]
    assert {p["id"] for p in listed} == members


def test_sign_in_applies_the_mapping_to_what_users_me_says(app, client, db, sbx):
    headers = _admin(app, db)
    mapping = {"rules": [{"role": "manager", "when": {"host_roles": ["supervisor"],
                                                      "permissions": ["analytics:*"]}}]}
    assert client.put("/api/v1/role-mapping", json=mapping, headers=headers).status_code == 200
    person = supervisor(sbx)
    sign_in(client, person.id)
    assert "(Manager)" in client.get(HOME, follow_redirects=True).get_data(as_text=True)
    assert _roles(db)[person.id] == ("manager", "mapped")
    assert _mapped(db)[-1] == {"from": "supervisor", "to": "manager", "rule": 0, "via": "sign_in",
                               "default_mapping": False, "subject": person.id}
    with db.session() as session:
        signed = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "sso.signed_in")).one()
        assert signed.details["role"] == "manager"
    # an agent matches no rule: the default
    sign_in(client, agent(sbx).id)
    assert "(Agent)" in client.get(HOME, follow_redirects=True).get_data(as_text=True)


def test_an_admins_override_survives_sync_and_sign_in(app, client, db, sbx):
    headers = _admin(app, db)
    person = agent(sbx)
    answer = client.put(f"/api/v1/people/{person.id}/role", json={"role": "qa_analyst"},
                        headers=headers)
    assert answer.status_code == 200
    _sync(app)
    assert _roles(db)[person.id] == ("qa_analyst", "override")
    sign_in(client, person.id)
    assert "(QA analyst)" in client.get(HOME, follow_redirects=True).get_data(as_text=True)
    assert _roles(db)[person.id] == ("qa_analyst", "override")
    assert [row for row in _mapped(db) if row["subject"] == person.id] == []
    # handed back to the mapping: the next sign-in maps them again
    assert client.delete(f"/api/v1/people/{person.id}/role", headers=headers).status_code == 200
    sign_in(client, person.id)
    assert "(Agent)" in client.get(HOME, follow_redirects=True).get_data(as_text=True)
    assert _roles(db)[person.id] == ("agent", "mapped")


def test_the_stored_role_counts_on_every_request_not_the_one_at_sign_in(app, client, db, sbx):
    headers = _admin(app, db)
    person = supervisor(sbx)
    sign_in(client, person.id, "/t/sbx/panels/settings")
    assert client.get("/t/sbx/panels/settings").status_code == 403
    client.put(f"/api/v1/people/{person.id}/role", json={"role": "admin"}, headers=headers)
    assert client.get("/t/sbx/panels/settings").status_code == 200


def test_sign_in_reads_direct_reports_from_users_me_before_any_sync_knows_them(app, client, db,
                                                                               sbx):
    """A new team lead: the host already lists their reports (users/me?expand=directreports),
    the stored reporting lines do not yet."""
    person = supervisor(sbx)
    with db.session() as session:
        for row in session.scalars(select(Person).where(Person.supervisor_id == person.id)):
            row.supervisor_id = None
        session.get(Person, ("sbx", person.id)).role = "agent"
    sign_in(client, person.id)
    assert "(Supervisor)" in client.get(HOME, follow_redirects=True).get_data(as_text=True)
    assert _mapped(db)[-1]["via"] == "sign_in"
