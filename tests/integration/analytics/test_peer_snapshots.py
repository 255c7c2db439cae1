"""The worker precomputes the pages' standard peer snapshots; a fresh process loads them instead
of summing the peers in its first request; they are rebuilt when facts change, per tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from extension.analytics import facts as analytics
from extension.analytics import peers, snapshots
from extension.analytics.models.snapshots import StoredPeerSnapshot
from extension.analytics.peers import PeerCache
from extension.platform.worker import periodic_jobs
from tests.unit.analytics.generate import DAYS, START

TODAY = (START + timedelta(days=DAYS - 1)).date()  # the generated facts' last day: every standard
# range ending "today" holds data
QUARTER = (TODAY - timedelta(days=89), TODAY)
SPAN = {"from": QUARTER[0].isoformat(), "to": QUARTER[1].isoformat()}


@pytest.fixture(autouse=True)
def _no_in_flight_margin(monkeypatch):
    """Facts written a moment ago would otherwise count as possibly in flight for a minute."""
    monkeypatch.setattr(snapshots, "_IN_FLIGHT", timedelta(0))


def _refresh(db, tenant_id, *, staleness=300.0, now=None):
    with db.session() as session:
        return snapshots.refresh_tenant(session, tenant_id, tz="Europe/London", staleness=staleness,
                                        today=TODAY, now=now)


@pytest.fixture
def no_builds(monkeypatch):
    """Fail any attempt to sum the peers (the request must load the stored snapshot)."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(kwargs)
        raise AssertionError("the peers were summed on the request path")

    monkeypatch.setattr(peers, "build", refuse)
    return calls


def _agent_view(client, headers, agent="a01", span=None):
    response = client.get(f"/api/v1/agents/{agent}/performance", headers=headers, query_string=span or SPAN)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_job_is_registered_as_a_periodic_job(app):
    assert (snapshots.refresh_all, snapshots.REFRESH_SECONDS) in periodic_jobs(app)


def test_the_job_stores_every_standard_range_and_its_previous_period(db, loaded):
    counts = _refresh(db, loaded)
    assert counts["built"] == 2 * len(snapshots.STANDARD_DAYS) == 8
    with db.session() as session:
        stored = set(session.execute(select(StoredPeerSnapshot.start_day, StoredPeerSnapshot.end_day)
                                     .where(StoredPeerSnapshot.tenant_id == loaded)))
    assert stored == set(snapshots.standard_ranges(TODAY))
    assert (TODAY, TODAY) in stored and QUARTER in stored
    assert (QUARTER[0] - timedelta(days=90), QUARTER[0] - timedelta(days=1)) in stored


def test_a_fresh_process_answers_from_the_stored_snapshot_without_summing(app, client, db, loaded,
                                                                          token_for, monkeypatch):
    _refresh(db, loaded)
    headers = token_for("mgr", "manager")
    fresh_build = PeerCache(ttl_seconds=0)
    app.extensions["coachwire.peers"] = fresh_build
    expected = {agent: _agent_view(client, headers, agent) for agent in ("a01", "a13", "a36")}
    assert fresh_build.builds == 3

    calls = []
    monkeypatch.setattr(peers, "build", lambda *a, **k: calls.append(k) or pytest.fail("summed"))
    new_process = app.extensions["coachwire.peers"] = PeerCache(ttl_seconds=300)
    for agent, answer in expected.items():
        loaded_answer = _agent_view(client, headers, agent)
        for key in ("quartiles", "impact", "inquiries", "kpis", "team"):
            assert loaded_answer[key] == answer[key], (agent, key)
    assert calls == [] and new_process.builds == 0
    assert new_process.loads == 1  # one load for the interval, then the process keeps it


def test_a_loaded_snapshot_equals_a_fresh_build(db, loaded):
    _refresh(db, loaded)
    with db.session() as session:
        for start, end in snapshots.standard_ranges(TODAY)[::2]:  # the current periods
            stored = snapshots.load(session, tenant_id=loaded, start=start, end=end)
            built = peers.build(session, tenant_id=loaded, start=start, end=end)
            assert stored is not None and list(stored.cells) == list(built.cells)
            assert stored.labels_for_all() == built.labels_for_all()
            members = sorted({a for c in built.cells.values() for a in c.block.rows})
            assert members, (start, end)
            for agent in members[::5]:
                assert stored.quartiles(agent) == built.quartiles(agent)
                assert stored.top_bottom(agent) == built.top_bottom(agent)
                assert stored.focus(agent) == built.focus(agent)
                assert stored.by_inquiry(agent) == built.by_inquiry(agent)
                team = members[:12]
                assert stored.compare_with_team(agent, team) == built.compare_with_team(agent, team)


def test_unchanged_facts_confirm_the_snapshot_and_new_facts_rebuild_it(db, loaded, records):
    _refresh(db, loaded)
    later = datetime.now(UTC) + timedelta(seconds=1)
    again = _refresh(db, loaded, now=later)
    assert again["built"] == 0 and again["confirmed"] == 8
    with db.session() as session:
        assert session.scalar(select(func.min(StoredPeerSnapshot.as_of))) == later
        before = snapshots.load(session, tenant_id=loaded, start=TODAY, end=TODAY)
    assert before is not None

    new = dict(records[-1], conversation_id="c-new-today", agent_id="a01", team_id="t0",
               ended_at=datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC))
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=loaded, records=[new])
    # changed, but rebuilt less than half the staleness bound ago: kept for the next run
    assert _refresh(db, loaded)["kept"] == 8
    rebuilt = _refresh(db, loaded, staleness=0)
    assert rebuilt["built"] == 8
    with db.session() as session:
        after = snapshots.load(session, tenant_id=loaded, start=TODAY, end=TODAY)
        fresh = peers.build(session, tenant_id=loaded, start=TODAY, end=TODAY)
    assert after is not None
    assert after.agent_total("a01")["volume"] == before.agent_total("a01")["volume"] + 1
    assert after.agent_total("a01") == fresh.agent_total("a01")


def test_a_snapshot_past_the_staleness_bound_is_not_served(db, loaded):
    _refresh(db, loaded)
    with db.session() as session:
        session.execute(update(StoredPeerSnapshot).values(as_of=datetime.now(UTC) - timedelta(seconds=301)))
    cache = PeerCache(ttl_seconds=300)
    with db.session() as session:
        snapshot = cache.get(session, tenant_id=loaded, start=QUARTER[0], end=QUARTER[1])
    assert cache.loads == 0 and cache.builds == 1
    assert datetime.now(UTC) - snapshot.as_of < timedelta(seconds=60)


def test_a_custom_range_is_still_built_in_the_request(db, loaded):
    _refresh(db, loaded)
    cache = PeerCache(ttl_seconds=300)
    with db.session() as session:
        cache.get(session, tenant_id=loaded, start=QUARTER[0] + timedelta(days=3), end=QUARTER[1])
    assert (cache.loads, cache.builds) == (0, 1)


def test_ranges_no_longer_standard_are_dropped(db, loaded):
    _refresh(db, loaded)
    with db.session() as session:
        counts = snapshots.refresh_tenant(session, loaded, tz="Europe/London", staleness=300.0,
                                          today=TODAY + timedelta(days=1))
    # yesterday's "last 24 h" is today's "period before": kept; the other seven move on a day
    assert (counts["dropped"], counts["built"], counts["confirmed"]) == (7, 7, 1)


def test_tenants_are_isolated(app, db, loaded, other_tenant, records):
    theirs = [dict(r, conversation_id=f"g-{r['conversation_id']}") for r in records[-400:]]
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=other_tenant, records=theirs)
    with app.app_context():
        result = snapshots.refresh_all(now=datetime.combine(TODAY, datetime.min.time(), UTC)
                                       + timedelta(hours=12))
    assert set(result) >= {loaded, other_tenant}
    cache = PeerCache(ttl_seconds=300)
    with db.session() as session:
        ours = snapshots.load(session, tenant_id=loaded, start=QUARTER[0], end=QUARTER[1])
        mine_built = peers.build(session, tenant_id=loaded, start=QUARTER[0], end=QUARTER[1])
        other = cache.get(session, tenant_id=other_tenant, start=QUARTER[0], end=QUARTER[1])
        other_built = peers.build(session, tenant_id=other_tenant, start=QUARTER[0], end=QUARTER[1])
    assert ours is not None and other is not None
    assert ours.labels_for_all() == mine_built.labels_for_all()
    assert other.labels_for_all() == other_built.labels_for_all() != mine_built.labels_for_all()
    assert other.tenant_id == other_tenant and cache.loads == 1


def test_stored_snapshots_of_another_layout_are_ignored(db, loaded, monkeypatch):
    with db.session() as session:
        built = peers.build(session, tenant_id=loaded, start=QUARTER[0], end=QUARTER[1])
    now = datetime.now(UTC)
    current = snapshots.loads(snapshots.dumps(built), tenant_id=loaded, start=QUARTER[0], end=QUARTER[1],
                              as_of=now)
    assert current is not None and current.labels_for_all() == built.labels_for_all()
    monkeypatch.setattr(snapshots, "_FORMAT", 99)
    older = snapshots.dumps(built)
    monkeypatch.setattr(snapshots, "_FORMAT", 3)
    assert snapshots.loads(older, tenant_id=loaded, start=QUARTER[0], end=QUARTER[1], as_of=now) is None


def test_no_stored_snapshot_without_a_job_run(db, loaded):
    cache = PeerCache(ttl_seconds=300)
    with db.session() as session:
        cache.get(session, tenant_id=loaded, start=QUARTER[0], end=QUARTER[1])
    assert (cache.loads, cache.builds) == (0, 1)


def test_a_snapshot_stored_in_an_older_layout_is_rebuilt_not_served(db, loaded):
    """After a deploy that changes the payload's layout: requests build, the job rebuilds."""
    _refresh(db, loaded)
    with db.session() as session:
        session.execute(update(StoredPeerSnapshot).values(layout=snapshots._FORMAT - 1))
    cache = PeerCache(ttl_seconds=300)
    with db.session() as session:
        cache.get(session, tenant_id=loaded, start=QUARTER[0], end=QUARTER[1])
    assert (cache.loads, cache.builds) == (0, 1)
    assert _refresh(db, loaded)["built"] == 8
    fresh = PeerCache(ttl_seconds=300)
    with db.session() as session:
        fresh.get(session, tenant_id=loaded, start=QUARTER[0], end=QUARTER[1])
    assert (fresh.loads, fresh.builds) == (1, 0)
