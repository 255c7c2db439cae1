"""Peer snapshots are summed once per interval and process while fresh, and rebuilt after."""

from __future__ import annotations

from datetime import date

import pytest

from extension.analytics.peers import PeerCache, build
from tests.integration.analytics.conftest import FIRST_DAY, LAST_DAY, RANGE


@pytest.fixture
def cache(app):
    cache = app.extensions["coachwire.peers"] = PeerCache(ttl_seconds=3600)
    return cache


def _agent_view(client, headers, agent="a01", **span):
    response = client.get(f"/api/v1/agents/{agent}/performance", headers=headers,
                          query_string=span or RANGE)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_agents_of_one_interval_share_one_snapshot(client, loaded, token_for, cache):
    headers = token_for("mgr", "manager")
    first = _agent_view(client, headers, "a01")
    second = _agent_view(client, headers, "a13")
    assert cache.builds == 1
    assert first["peers_as_of"] == second["peers_as_of"]
    shorter = {"from": FIRST_DAY.isoformat(), "to": date(2025, 6, 30).isoformat()}
    _agent_view(client, headers, "a01", **shorter)
    assert cache.builds == 2


def test_a_cached_answer_equals_a_fresh_one(client, loaded, token_for, cache, app):
    headers = token_for("mgr", "manager")
    _agent_view(client, headers, "a00")
    cached = _agent_view(client, headers, "a36")
    app.extensions["coachwire.peers"] = PeerCache(ttl_seconds=0)
    fresh = _agent_view(client, headers, "a36")
    for key in ("quartiles", "impact", "inquiries", "kpis", "team"):
        assert cached[key] == fresh[key], key


def test_an_expired_snapshot_is_rebuilt(db, loaded, monkeypatch):
    cache, clock = PeerCache(ttl_seconds=60), [1000.0]
    monkeypatch.setattr("extension.analytics.peers.time.monotonic", lambda: clock[0])
    with db.session() as session:
        one = cache.get(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY)
        clock[0] += 59
        assert cache.get(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY) is one
        clock[0] += 2
        assert cache.get(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY) is not one
    assert cache.builds == 2


def test_the_cache_keeps_a_bounded_number_of_intervals(db, loaded):
    cache = PeerCache(ttl_seconds=3600, max_entries=2)
    with db.session() as session:
        for day in (1, 2, 3):
            cache.get(session, tenant_id=loaded, start=date(2025, 3, day), end=LAST_DAY)
        assert len(cache._entries) == 2
        cache.get(session, tenant_id=loaded, start=date(2025, 3, 1), end=LAST_DAY)
    assert cache.builds == 4  # the oldest was evicted, so it was summed again


def test_another_tenant_never_reads_this_tenants_snapshot(db, loaded, other_tenant):
    cache = PeerCache(ttl_seconds=3600)
    with db.session() as session:
        ours = cache.get(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY)
        theirs = cache.get(session, tenant_id=other_tenant, start=FIRST_DAY, end=LAST_DAY)
    assert ours.cells and not theirs.cells


def test_an_ageing_snapshot_is_served_while_its_successor_is_summed(db, loaded):
    """Refresh ahead: past 80 % of its life the old figures answer at once, one background
    build replaces them, and the request after that sees the new snapshot."""
    clock = [1000.0]
    cache = PeerCache(ttl_seconds=60, session_factory=db.session, clock=lambda: clock[0])

    def get():  # one short session per request, as the web does
        with db.session() as session:
            return cache.get(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY)

    first = get()
    clock[0] += 50
    stale = get()
    assert stale is first  # served at once, not rebuilt in the request
    get()  # a second request while (or after) the refresh runs starts no second one
    cache.wait_for_refreshes()
    fresh = get()
    assert fresh is not first and cache.builds == 2  # exactly one background rebuild
    assert fresh.quartiles("a01") == first.quartiles("a01")


def test_a_snapshot_past_its_bound_is_never_served_even_with_a_background_builder(db, loaded, monkeypatch):
    """peers_as_of is at most ttl old: a request that finds the snapshot expired (no request
    came while it aged) waits for a fresh one instead of getting the old figures."""
    cache, clock = PeerCache(ttl_seconds=300, session_factory=db.session), [1000.0]
    monkeypatch.setattr("extension.analytics.peers.time.monotonic", lambda: clock[0])
    with db.session() as session:
        first = cache.get(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY)
        clock[0] += 362
        second = cache.get(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY)
    cache.wait_for_refreshes()
    assert second is not first and second.as_of > first.as_of
    assert cache.builds == 2


def test_the_age_counts_from_the_start_of_the_build(db, loaded, monkeypatch):
    """A slow build does not extend its snapshot's life: the bound runs from before the sum."""
    cache, clock = PeerCache(ttl_seconds=60), [1000.0]
    monkeypatch.setattr("extension.analytics.peers.time.monotonic", lambda: clock[0])
    real_build = build

    def slow_build(*args, **kwargs):
        clock[0] += 20  # the sum takes 20 s
        return real_build(*args, **kwargs)

    monkeypatch.setattr("extension.analytics.peers.build", slow_build)
    with db.session() as session:
        first = cache.get(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY)
        clock[0] += 45  # 65 s after the build began, 45 s after it ended
        assert cache.get(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY) is not first
