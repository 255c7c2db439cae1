"""GET /api/v1/queues and /api/v1/groups after a directory sync from the sandbox host: leads see
the tenant's, an agent only their own memberships; paging, filters and bad queries."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from extension.platform.auth import tokens
from extension.platform.models.people import Person
from tests.integration.analytics.sync.conftest import UNTIL


@pytest.fixture
def synced(app, cli, db, sandbox, host_tenant):
    """The sandbox org's people and directory in tenant sbx; one supervisor made an admin."""
    tenant_id, world = host_tenant[0], sandbox[1].extensions["sandbox"].world
    assert cli("people", "--tenant", tenant_id).exit_code == 0
    assert cli("directory", "--tenant", tenant_id).exit_code == 0
    admin = world.teams[0].supervisor_id
    with db.session() as session:
        session.execute(update(Person).where(Person.tenant_id == tenant_id, Person.id == admin)
                        .values(role="admin"))
    return tenant_id, world, admin


def _get(app, client, tenant_id: str, person_id: str, role: str, url: str):
    token = tokens.issue(app.config["SECRET_KEY"], tenant_id=tenant_id, person_id=person_id, role=role)
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def _all(app, client, tenant_id, person_id, role, url) -> list[dict]:
    items, cursor = [], None
    while True:
        paged = url + ("&" if "?" in url else "?") + "limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = _get(app, client, tenant_id, person_id, role, paged)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_an_admin_pages_through_every_queue_and_group_of_the_tenant(app, client, synced):
    tenant_id, world, admin = synced
    queues = _all(app, client, tenant_id, admin, "admin", "/api/v1/queues")
    assert [q["id"] for q in queues] == [q.id for q in sorted(world.queues, key=lambda q: (q.name, q.id))]
    assert all(q["division"] == {"id": world.division_id, "name": "Home"} and q["active"] for q in queues)
    assert queues[0]["member_count"] == len(world.agents)
    groups = _all(app, client, tenant_id, admin, "admin", "/api/v1/groups")
    assert {g["id"]: (g["name"], g["type"], g["member_count"]) for g in groups} == {
        t.id: (t.name, "official", len(t.agent_ids)) for t in world.teams}


def test_a_supervisor_sees_the_tenant_and_may_filter_by_person(app, client, synced):
    tenant_id, world, _ = synced
    team = world.teams[1]
    agent = team.agent_ids[0]
    body = _get(app, client, tenant_id, team.supervisor_id, "supervisor", "/api/v1/groups").get_json()
    assert len(body["items"]) == len(world.teams)
    mine = _get(app, client, tenant_id, team.supervisor_id, "supervisor",
                f"/api/v1/groups?person_id={agent}").get_json()
    assert [g["id"] for g in mine["items"]] == [team.id]
    missing = _get(app, client, tenant_id, team.supervisor_id, "supervisor",
                   "/api/v1/queues?person_id=nobody")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_an_agent_sees_only_the_queues_and_groups_they_belong_to(app, client, synced):
    tenant_id, world, _ = synced
    team = world.teams[2]
    agent, other = team.agent_ids[0], world.teams[0].agent_ids[0]
    groups = _get(app, client, tenant_id, agent, "agent", "/api/v1/groups").get_json()["items"]
    assert [g["id"] for g in groups] == [team.id]
    queues = _get(app, client, tenant_id, agent, "agent", "/api/v1/queues").get_json()["items"]
    assert {q["id"] for q in queues} == {q.id for q in world.queues}
    own = _get(app, client, tenant_id, agent, "agent", f"/api/v1/groups?person_id={agent}")
    assert [g["id"] for g in own.get_json()["items"]] == [team.id]
    theirs = _get(app, client, tenant_id, agent, "agent", f"/api/v1/groups?person_id={other}")
    assert theirs.status_code == 403 and theirs.mimetype == "application/problem+json"


def test_a_queue_the_host_dropped_is_listed_only_on_request(app, client, cli, synced):
    tenant_id, world, admin = synced
    with world.lock:
        gone = world.queues.pop()
    assert cli("directory", "--tenant", tenant_id).exit_code == 0
    listed = _get(app, client, tenant_id, admin, "admin", "/api/v1/queues").get_json()["items"]
    assert gone.id not in {q["id"] for q in listed}
    everything = _get(app, client, tenant_id, admin, "admin",
                      "/api/v1/queues?include_inactive=true").get_json()["items"]
    assert {q["id"]: q["active"] for q in everything}[gone.id] is False
    assert len(everything) == len(listed) + 1


@pytest.mark.parametrize(("query", "field"), [("limit=0", "limit"), ("limit=abc", "limit"),
                                              ("include_inactive=maybe", "include_inactive"),
                                              ("cursor=not-a-cursor", "cursor")])
def test_bad_queries_are_problems_naming_the_field(app, client, synced, query, field):
    tenant_id, _, admin = synced
    for url in ("/api/v1/queues", "/api/v1/groups"):
        response = _get(app, client, tenant_id, admin, "admin", f"{url}?{query}")
        assert response.status_code == 400 and response.mimetype == "application/problem+json"
        assert field in [e["field"] for e in response.get_json()["errors"]]


def test_without_a_token_nothing_is_listed(client, synced):
    for url in ("/api/v1/queues", "/api/v1/groups"):
        response = client.get(url)
        assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_per_queue_kpis_carry_the_synced_queue_name(app, client, cli, synced):
    from extension.analytics.api import schemas

    tenant_id, world, admin = synced
    assert cli("--since", "2d", "--until", UNTIL, "--tenant", tenant_id, "--mode", "query",
               "--no-people", "--no-directory").exit_code == 0
    url = "/api/v1/metrics?dims=queue_id&from=2025-06-09&to=2025-06-11"
    body = _get(app, client, tenant_id, admin, "admin", url).get_json()
    assert not schemas.MetricsPage().validate(body)
    names = {q.id: q.name for q in world.queues}
    assert body["items"] and all(item["queue_name"] == names[item["queue_id"]] for item in body["items"])
    by_agent = _get(app, client, tenant_id, admin, "admin", url.replace("queue_id", "agent_id")).get_json()
    assert by_agent["items"] and all("queue_name" not in item for item in by_agent["items"])


def test_the_openapi_document_describes_both_lists(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, page in (("/api/v1/queues", "QueuesPage"), ("/api/v1/groups", "GroupsPage")):
        get = document["paths"][path]["get"]
        assert {p["name"] for p in get["parameters"]} >= {"limit", "cursor", "include_inactive", "person_id"}
        assert page in document["components"]["schemas"]
