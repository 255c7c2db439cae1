"""Live events and the history sync give the same fact for the same conversation, in either order."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from extension.platform.queue import get_dispatcher
from handlers import jobs
from sandbox.analytics import history, notification_messages
from tests.helpers import dumps, signed_headers
from tests.integration.analytics.sync.conftest import NOW, UNTIL, facts

SYNCED = ("agent_id", "queue_id", "inquiry", "channel", "ended_at", "t_talk_ms", "t_hold_ms", "t_acw_ms",
          "t_handle_ms")


@pytest.fixture
def settings(settings):
    return settings.with_overrides(sentiment_model="vader")


def deliver(client, tenant, messages: list[dict]) -> None:
    tenant_id, secret = tenant
    body = dumps({"events": messages})
    response = client.post(f"/webhooks/{tenant_id}", data=body, headers=signed_headers(secret, body))
    assert response.status_code == 202, response.get_data(as_text=True)


def drain(app, run_jobs, tenant_id: str) -> None:
    with app.app_context():
        get_dispatcher().enqueue(jobs.drain_inbox, tenant_id)
    run_jobs()


def _conversations(sandbox_app):
    world = sandbox_app.extensions["sandbox"].world
    found = [c for c in history(world, NOW - timedelta(days=2), NOW, per_day=8, now=NOW)
             if c.get("conversationEnd")]
    return world, found


def _comparable(db, tenant_id):
    return {cid: {k: v for k, v in f.items() if k not in ("tenant_id", "updated_at", "customer_key")}
            for cid, f in facts(db, tenant_id).items()}


def test_live_then_sync_and_sync_then_live_end_equal(app, client, db, cli, run_jobs, sandbox, host_tenant,
                                                      second_tenant):
    world, conversations = _conversations(sandbox[1])
    messages = [m for c in conversations for m in notification_messages(world, c)]
    sync_args = ("--since", "2d", "--until", UNTIL, "--mode", "query", "--no-people")

    deliver(client, host_tenant, messages)  # live first ...
    drain(app, run_jobs, host_tenant[0])
    live = facts(db, host_tenant[0])
    assert set(live) == {c["conversationId"] for c in conversations}
    assert cli(*sync_args, "--tenant", host_tenant[0]).exit_code == 0  # ... then sync
    after_sync = facts(db, host_tenant[0])
    for conversation_id, fact in live.items():
        assert {k: fact[k] for k in SYNCED} == {k: after_sync[conversation_id][k] for k in SYNCED}
        # the live Genesys events carry the customer's address, so FCR needs no sync
        assert fact["customer_key"] == after_sync[conversation_id]["customer_key"]
    assert sum(f["customer_key"] is not None for f in live.values()) >= len(live) - 2

    assert cli(*sync_args, "--tenant", second_tenant[0]).exit_code == 0  # sync first ...
    deliver(client, second_tenant, messages)  # ... then live
    drain(app, run_jobs, second_tenant[0])
    assert _comparable(db, host_tenant[0]) == _comparable(db, second_tenant[0])
    keys = [f["customer_key"] for f in facts(db, second_tenant[0]).values()]
    assert sum(k is not None for k in keys) >= len(keys) - 2  # anonymous callers have none


def _cloudevent(conversation_id: str, *, ended_at, address: str, inquiry: str, agent: str) -> dict:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "test", "type": "conversation.ended",
            "time": ended_at.isoformat(),
            "data": {"conversation_id": conversation_id, "agent_id": agent, "queue_id": "q1",
                     "channel": "voice", "t_talk_ms": 60000, "t_hold_ms": 0, "t_acw_ms": 10000,
                     "wrapup_code": inquiry, "ended_at": ended_at.isoformat(), "customer_address": address}}


def test_a_live_event_with_the_customer_address_gets_the_same_key_and_fcr_as_sync(app, client, db, cli,
                                                                                  run_jobs, sandbox,
                                                                                  host_tenant):
    _world, conversations = _conversations(sandbox[1])
    assert cli("--since", "2d", "--until", UNTIL, "--tenant", host_tenant[0], "--mode", "query",
               "--no-people").exit_code == 0
    synced = facts(db, host_tenant[0])
    known = next(c for c in conversations if synced[c["conversationId"]]["customer_key"]
                 and synced[c["conversationId"]]["fcr"] is True)
    agent = next(p for p in known["participants"] if p["purpose"] == "agent")
    session = agent["sessions"][0]
    address = session["dnis"] if session["direction"] == "outbound" else (
        session.get("addressFrom") or session.get("ani"))
    fact = synced[known["conversationId"]]
    later = fact["ended_at"] + timedelta(days=2)
    # a repeat contact of the same customer on the same inquiry arrives live
    deliver(client, host_tenant, [_cloudevent("live-repeat", ended_at=later, address=address,
                                              inquiry=fact["inquiry"], agent=fact["agent_id"])])
    drain(app, run_jobs, host_tenant[0])
    now = facts(db, host_tenant[0])
    assert now["live-repeat"]["customer_key"] == fact["customer_key"]
    assert now[known["conversationId"]]["fcr"] is False  # the earlier contact was not resolved
    assert "live-repeat" not in synced
