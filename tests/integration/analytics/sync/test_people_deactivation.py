"""People sync asks the host for inactive and deleted users too, and deactivates them."""

from __future__ import annotations

import requests
from sqlalchemy import select

from extension.platform.models.audit import AuditEntry
from extension.platform.models.people import Person
from handlers.listener_pool import agent_ids


def _set_state(base: str, user_id: str, state: str) -> None:
    answer = requests.post(f"{base}/sandbox/control/users/{user_id}/state", json={"state": state},
                           timeout=5)
    assert answer.status_code == 200, answer.text


def _people(db, tenant_id: str) -> dict[str, Person]:
    with db.session() as session:
        found = session.scalars(select(Person).where(Person.tenant_id == tenant_id)).all()
        session.expunge_all()
    return {p.id: p for p in found}


def _deactivations(db, tenant_id: str) -> list[tuple[str, dict]]:
    with db.session() as session:
        rows = session.scalars(select(AuditEntry).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.action == "person.deactivated")
            .order_by(AuditEntry.subject_id)).all()
        return [(r.subject_id, r.details) for r in rows]


def test_users_the_host_lists_as_inactive_or_deleted_are_deactivated_and_audited(
        app, cli, db, sandbox, host_tenant):
    base = sandbox[0]
    tenant_id = host_tenant[0]
    assert cli("people", "--tenant", tenant_id).exit_code == 0
    agents = sorted(agent_ids(app, tenant_id))
    left, removed, stays = agents[0], agents[1], agents[2]
    _set_state(base, left, "inactive")
    _set_state(base, removed, "deleted")

    result = cli("people", "--tenant", tenant_id)
    assert result.exit_code == 0, result.output
    assert "2 deactivated" in result.output
    people = _people(db, tenant_id)
    assert not people[left].active and not people[removed].active and people[stays].active
    assert _deactivations(db, tenant_id) == sorted([(left, {"host_state": "inactive"}),
                                                    (removed, {"host_state": "deleted"})])
    # their per-agent listener topics go: the listener subscribes active agents only
    assert set(agent_ids(app, tenant_id)) == set(agents) - {left, removed}

    # nothing changed on the host: nothing deactivated or audited again
    again = cli("people", "--tenant", tenant_id)
    assert "0 deactivated" in again.output and len(_deactivations(db, tenant_id)) == 2

    # back on the host: active again, counted as a change
    _set_state(base, left, "active")
    back = cli("people", "--tenant", tenant_id)
    assert "1 changed" in back.output
    assert _people(db, tenant_id)[left].active
    assert left in agent_ids(app, tenant_id)


def test_the_sandbox_lists_users_by_state_as_the_host_does(sandbox):
    base, sandbox_app = sandbox
    world = sandbox_app.extensions["sandbox"].world
    user_id = next(p.id for p in world.people.values() if p.role == "agent")
    _set_state(base, user_id, "deleted")
    token = requests.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("sandbox-client", "sandbox-secret"), timeout=5).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def ids(**params):
        answer = requests.get(f"{base}/api/v2/users", params={"pageSize": 500, **params},
                              headers=headers, timeout=5)
        assert answer.status_code == 200, answer.text
        return {u["id"]: u["state"] for u in answer.json()["entities"]}

    assert user_id not in ids() and user_id not in ids(state="any")
    assert ids(state="deleted") == {user_id: "deleted"}
    assert requests.get(f"{base}/api/v2/users", params={"state": "gone"}, headers=headers,
                        timeout=5).status_code == 400
