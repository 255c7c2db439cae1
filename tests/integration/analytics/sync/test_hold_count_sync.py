"""The hold count (``n_hold``) flows from the host's history into facts; live events, which carry
no count, neither invent one nor blank a synced one; auto-scoring reads it from the fact."""

from __future__ import annotations

from datetime import timedelta

from extension.analytics.models.interactions import Interaction
from extension.quality.evaluations import interaction_data
from tests.integration.analytics.sync.conftest import NOW, UNTIL, facts
from tests.integration.analytics.sync.test_sync_cli import _expected

SYNC = ("--since", "2d", "--until", UNTIL, "--mode", "query", "--no-people", "--no-directory")


def _holds(conversation: dict) -> int:
    """The hold segments of the agent whose session ended last (the fact's agent)."""
    def last_end(participant):
        return max(s["segmentEnd"] for x in participant["sessions"] for s in x["segments"]
                   if s["segmentType"] in ("interact", "hold"))
    agents = [p for p in conversation["participants"] if p["purpose"] == "agent"]
    handler = max(agents, key=last_end)
    return sum(s["segmentType"] == "hold" for x in handler["sessions"] for s in x["segments"])


def test_sync_stores_each_conversations_hold_count_and_a_rerun_keeps_it(cli, db, sandbox, host_tenant):
    tenant_id = host_tenant[0]
    assert cli(*SYNC, "--tenant", tenant_id).exit_code == 0
    expected = _expected(sandbox[1], NOW - timedelta(days=2), NOW)
    stored = facts(db, tenant_id)
    assert {cid: f["n_hold"] for cid, f in stored.items()} == {cid: _holds(c) for cid, c in expected.items()}
    assert any(f["n_hold"] for f in stored.values()) and any(f["n_hold"] == 0 for f in stored.values())
    again = cli(*SYNC, "--tenant", tenant_id, "--restart")
    assert again.exit_code == 0 and "0 new, 0 changed" in again.output
    assert facts(db, tenant_id) == stored


def _live_end(app, db, tenant_id: str, fact: dict) -> None:
    """What a user.end event gives the live pipeline (timings, no hold count), merged and finished."""
    from extension.coaching.interactions import BatchContext, apply_ended

    data = {"conversation_id": fact["conversation_id"], "agent_id": fact["agent_id"],
            "queue_id": fact["queue_id"], "channel": fact["channel"], "t_talk_ms": fact["t_talk_ms"],
            "t_hold_ms": fact["t_hold_ms"], "t_acw_ms": fact["t_acw_ms"], "ended_at": fact["ended_at"]}
    with app.app_context(), db.session() as session:
        context = BatchContext(session=session, tenant_id=tenant_id)
        apply_ended(context, data)
        assert context.finish() == {}


def test_live_events_leave_the_count_unknown_and_never_blank_a_synced_one(app, db, cli, sandbox, host_tenant,
                                                                          second_tenant):
    assert cli(*SYNC, "--tenant", second_tenant[0]).exit_code == 0
    synced = facts(db, second_tenant[0])
    held = next(f for f in synced.values() if f["n_hold"])
    _live_end(app, db, host_tenant[0], held)  # known only live
    live = facts(db, host_tenant[0])[held["conversation_id"]]
    assert live["n_hold"] is None and live["t_hold_ms"] == held["t_hold_ms"]
    with app.app_context(), db.session() as session:
        assert session.get(Interaction, (host_tenant[0], held["conversation_id"])).n_hold is None
        assert interaction_data(session, host_tenant[0], held["conversation_id"]).hold_count is None

    _live_end(app, db, second_tenant[0], held)  # synced first, then the live event
    assert facts(db, second_tenant[0])[held["conversation_id"]]["n_hold"] == held["n_hold"]
    with app.app_context(), db.session() as session:
        data = interaction_data(session, second_tenant[0], held["conversation_id"])
    assert data.hold_count == held["n_hold"] > 0
