"""`make run`'s history: the demo loads the sandbox host's last 90 days through the product's
history sync, which fills facts for the synced people, and precomputes the peer snapshots."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from extension.analytics import snapshots
from extension.analytics.models.facts import InteractionFact
from extension.platform.models.people import Person
from sandbox.analytics import history
from scripts import demo
from tests.integration.analytics.sync.conftest import NOW


def test_the_demo_history_fills_facts_for_the_synced_people(app, db, sandbox, host_tenant):
    from extension.platform import people

    tenant_id = host_tenant[0]
    with app.app_context():
        people.sync_now(db, tenant_id)
    chunks = []

    def chunk_done(_counts) -> None:
        chunks.append(demo.team_facts(app, tenant_id, days=30, now=NOW))

    counts = demo.sync_history(app, tenant_id, base=sandbox[0], days=90, per_day=40, end=NOW,
                               on_chunk=chunk_done)
    assert counts.inserted > 2500 and counts.chunks == len(chunks) >= 3
    assert chunks[0] > 0  # newest first: the home page's last 30 days hold facts after one chunk

    with db.session() as session:
        staff = dict(session.execute(select(Person.id, Person.role)
                                     .where(Person.tenant_id == tenant_id)).all())
        agents = {pid for pid, role in staff.items() if role == "agent"}
        recent = dict(session.execute(
            select(InteractionFact.agent_id, func.count()).where(
                InteractionFact.tenant_id == tenant_id,
                InteractionFact.ended_at >= NOW - timedelta(days=30))
            .group_by(InteractionFact.agent_id)).all())
        oldest = session.scalar(select(func.min(InteractionFact.ended_at))
                                .where(InteractionFact.tenant_id == tenant_id))
        teams = set(session.scalars(select(Person.team_id).where(
            Person.tenant_id == tenant_id, Person.role == "supervisor", Person.team_id.is_not(None))))
    # the agents the host's last 30 days name (ended conversations), from the sandbox world
    world = sandbox[1].extensions["sandbox"].world
    named = {p["userId"] for c in history(world, NOW - timedelta(days=30), NOW, per_day=40, now=NOW)
             if c.get("conversationEnd") for p in c["participants"] if p["purpose"] == "agent"}
    assert agents and set(recent) <= set(staff)  # every fact's agent is a synced person
    assert set(recent) == named and len(named) >= 0.9 * len(agents), agents - set(recent)
    assert oldest is not None and NOW - oldest > timedelta(days=85)
    assert teams and demo.team_facts(app, tenant_id, days=30, now=NOW) >= len(teams)

    built = demo.precompute_snapshots(app, tenant_id, today=NOW.date())
    assert built["built"] == 2 * len(snapshots.STANDARD_DAYS)
    with db.session() as session:
        quarter = snapshots.load(session, tenant_id=tenant_id, start=NOW.date() - timedelta(days=89),
                                 end=NOW.date())
    assert quarter is not None
    assert {agent for cell in quarter.cells.values() for agent in cell.block.rows} >= set(recent)
