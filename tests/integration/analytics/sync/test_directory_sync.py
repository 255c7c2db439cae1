"""`flask sync directory` and the periodic job against the sandbox host: groups, routing queues
and their members are stored, kept in step with the host, and a run with nothing new writes nothing."""

from __future__ import annotations

from contextlib import contextmanager

from flask import abort, request
from sqlalchemy import event, select

from extension.platform import directory
from extension.platform.models.audit import AuditEntry
from extension.platform.models.directory import Group, GroupMember, Queue, QueueMember
from extension.platform.models.people import Person
from tests.integration.analytics.sync.conftest import UNTIL

TABLES = ("directory_groups", "directory_queues", "group_members", "queue_members")


def _world(sandbox):
    return sandbox[1].extensions["sandbox"].world


def _stored(db, tenant_id: str) -> dict[str, dict]:
    with db.session() as session:
        def rows(model, key):
            return {key(r): {c.name: getattr(r, c.name) for c in model.__table__.columns}
                    for r in session.scalars(select(model).where(model.tenant_id == tenant_id))}
        return {"groups": rows(Group, lambda r: r.id), "queues": rows(Queue, lambda r: r.id),
                "group_members": rows(GroupMember, lambda r: (r.group_id, r.person_id)),
                "queue_members": rows(QueueMember, lambda r: (r.queue_id, r.person_id))}


def _audits(db, tenant_id: str) -> list[dict]:
    with db.session() as session:
        return [e.details for e in session.scalars(select(AuditEntry).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.action == "directory.synced")
            .order_by(AuditEntry.id))]


@contextmanager
def _writes(db):
    """Every INSERT/UPDATE/DELETE sent to a directory table while the block runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        head = statement.lstrip().split(None, 1)[0].upper()
        if head in ("INSERT", "UPDATE", "DELETE") and any(t in statement for t in TABLES):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_groups_queues_and_members_are_stored_and_a_second_run_writes_nothing(cli, db, sandbox, host_tenant):
    tenant_id, world = host_tenant[0], _world(sandbox)
    result = cli("directory", "--tenant", tenant_id)
    assert result.exit_code == 0, result.output
    stored = _stored(db, tenant_id)
    assert {g: (r["name"], r["type"], r["visibility"], r["member_count"], r["active"])
            for g, r in stored["groups"].items()} == {
        t.id: (t.name, "official", "public", len(t.agent_ids), True) for t in world.teams}
    assert set(stored["group_members"]) == {(t.id, a) for t in world.teams for a in t.agent_ids}
    assert {q: (r["name"], r["division_id"], r["division_name"], r["active"])
            for q, r in stored["queues"].items()} == {
        q.id: (q.name, world.division_id, "Home", True) for q in world.queues}
    assert set(stored["queue_members"]) == {(q.id, a.id) for q in world.queues for a in world.agents}
    assert all(m["joined"] is True for m in stored["queue_members"].values())
    members = len(stored["group_members"]) + len(stored["queue_members"])
    assert f"+{members} -0" in result.output and f"{len(world.queues)} created" in result.output
    assert _audits(db, tenant_id) == [{
        "groups": {"seen": len(world.teams), "created": len(world.teams), "updated": 0, "deactivated": 0},
        "queues": {"seen": len(world.queues), "created": len(world.queues), "updated": 0, "deactivated": 0},
        "group_members": {"added": len(stored["group_members"]), "removed": 0, "updated": 0},
        "queue_members": {"added": len(stored["queue_members"]), "removed": 0, "updated": 0}}]

    with _writes(db) as writes:
        again = cli("directory", "--tenant", tenant_id)
    assert again.exit_code == 0, again.output
    assert "directory unchanged" in again.output
    assert writes == []
    assert _stored(db, tenant_id) == stored
    assert len(_audits(db, tenant_id)) == 1


def test_what_the_host_drops_is_deactivated_or_removed_and_changes_are_counted(cli, db, sandbox, host_tenant):
    tenant_id, world = host_tenant[0], _world(sandbox)
    assert cli("directory", "--tenant", tenant_id).exit_code == 0
    gone_team, shrunk_team = world.teams[0], world.teams[1]
    left = shrunk_team.agent_ids[0]
    with world.lock:
        world.teams.remove(gone_team)
        shrunk_team.agent_ids.remove(left)
        world.queues[0].name = "Renamed queue"
        gone_queue = world.queues.pop()
    result = cli("directory", "--tenant", tenant_id)
    assert result.exit_code == 0, result.output
    stored = _stored(db, tenant_id)
    assert stored["groups"][gone_team.id]["active"] is False
    assert stored["groups"][shrunk_team.id]["member_count"] == len(shrunk_team.agent_ids)
    assert not [k for k in stored["group_members"] if k[0] == gone_team.id]
    assert (shrunk_team.id, left) not in stored["group_members"]
    assert stored["queues"][world.queues[0].id]["name"] == "Renamed queue"
    assert stored["queues"][gone_queue.id]["active"] is False
    assert not [k for k in stored["queue_members"] if k[0] == gone_queue.id]
    latest = _audits(db, tenant_id)[-1]
    assert latest["groups"] == {"seen": len(world.teams), "created": 0, "updated": 1, "deactivated": 1}
    assert latest["queues"] == {"seen": len(world.queues), "created": 0, "updated": 1, "deactivated": 1}
    assert latest["group_members"]["removed"] == len(gone_team.agent_ids) + 1
    assert latest["queue_members"]["removed"] == len(world.agents)
    # a deactivated queue that comes back is active again
    with world.lock:
        world.queues.append(gone_queue)
    assert cli("directory", "--tenant", tenant_id).exit_code == 0
    assert _stored(db, tenant_id)["queues"][gone_queue.id]["active"] is True


def test_a_host_error_part_way_leaves_the_stored_directory_as_it_was(cli, db, sandbox, host_tenant):
    tenant_id, world, app = host_tenant[0], _world(sandbox), sandbox[1]
    failing = {"on": False}

    @app.before_request
    def refuse_queue_members():
        if failing["on"] and request.path.endswith("/members") and "/routing/queues/" in request.path:
            abort(403)

    assert cli("directory", "--tenant", tenant_id).exit_code == 0
    before, audits = _stored(db, tenant_id), len(_audits(db, tenant_id))
    with world.lock:
        world.teams[0].name = "Would be renamed"
    failing["on"] = True
    with _writes(db) as writes:
        result = cli("directory", "--tenant", tenant_id)
    assert result.exit_code == 1
    assert "directory sync stopped: the host failed" in result.output
    assert writes == [] and _stored(db, tenant_id) == before and len(_audits(db, tenant_id)) == audits


def test_the_default_sync_run_also_syncs_the_directory_unless_told_not_to(cli, db, sandbox, host_tenant,
                                                                          second_tenant):
    args = ("--since", "1d", "--until", UNTIL, "--mode", "query")
    plain = cli(*args, "--tenant", host_tenant[0])
    assert plain.exit_code == 0, plain.output
    assert "users" in plain.output and "queues (" in plain.output
    assert _stored(db, host_tenant[0])["queues"]
    skipped = cli(*args, "--tenant", second_tenant[0], "--no-directory")
    assert skipped.exit_code == 0, skipped.output
    assert "queues" not in skipped.output and _stored(db, second_tenant[0])["queues"] == {}


def test_the_periodic_job_syncs_people_and_directory_of_every_active_tenant(app, db, sandbox, host_tenant,
                                                                            second_tenant):
    world = _world(sandbox)
    with app.app_context():
        result = directory.sync_all()
    assert set(result) == {host_tenant[0], second_tenant[0]}
    for tenant_id in result:
        assert "queues (" in result[tenant_id]
        stored = _stored(db, tenant_id)
        assert set(stored["queues"]) == {q.id for q in world.queues}
        with db.session() as session:
            people = set(session.scalars(select(Person.id).where(Person.tenant_id == tenant_id)))
        assert people == set(world.people)
    with app.app_context():
        again = directory.sync_all()
    assert all(line.startswith("directory unchanged") for line in again.values()), again


def test_reconcile_lists_the_groups_and_queues_that_differ_and_changes_nothing(cli, db, sandbox, host_tenant):
    tenant_id, world = host_tenant[0], _world(sandbox)
    args = ("reconcile", "--since", "1d", "--until", UNTIL, "--tenant", tenant_id, "--directory")
    assert cli("directory", "--tenant", tenant_id).exit_code == 0
    clean = cli(*args)
    assert clean.exit_code == 0, clean.output
    assert f"{tenant_id}: directory matches the host" in clean.output
    with world.lock:
        gone = world.teams.pop(0)
        world.teams[0].agent_ids.pop()
        world.queues[1].name = "Renamed"
    before = _stored(db, tenant_id)
    with _writes(db) as writes:
        result = cli(*args)
    assert result.exit_code == 0, result.output
    assert f"group missing there: {gone.id}" in result.output
    assert f"group differing: {world.teams[0].id}" in result.output
    assert f"queue differing: {world.queues[1].id}" in result.output
    assert f"{tenant_id}: directory 3 differences" in result.output
    assert writes == [] and _stored(db, tenant_id) == before
    plain = cli("reconcile", "--since", "1d", "--until", UNTIL, "--tenant", tenant_id)
    assert "directory" not in plain.output
