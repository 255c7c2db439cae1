"""Labels, impacts, focus and team comparison from rollups equal the domain's over raw records."""

from __future__ import annotations

import math

import pytest

from extension.analytics import ranking
from extension.analytics.domain import kpi_ranking
from extension.analytics.query import Slice
from tests.integration.analytics.conftest import FIRST_DAY, LAST_DAY

AGENTS = ["a00", "a01", "a13", "a36", "a38"]  # a36 clones a00 (ties); a38 has one interaction


@pytest.fixture
def cells(db, loaded):
    with db.session() as session:
        return ranking.cell_sums(session, Slice(tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY))


@pytest.mark.parametrize("agent", AGENTS)
def test_quartile_labels_match_the_domain(cells, records, agent):
    expected = kpi_ranking.quartile_labels_by(records, metric="aes")
    got = {(q["inquiry"], q["channel"]): q["label"] for q in ranking.quartiles(cells, agent)}
    want = {cell: labels[agent] for cell, labels in expected.items() if agent in labels}
    assert got == want


@pytest.mark.parametrize("agent", AGENTS)
def test_top_and_bottom_inquiries_match_the_domain(cells, records, agent):
    mine = [r for r in records if r["agent_id"] == agent]
    peers = [r for r in records if r["agent_id"] != agent]
    want = kpi_ranking.top_bottom_inquiries(mine, peers)
    got = ranking.top_bottom(cells, agent)
    for side in ("top", "bottom"):
        assert [r["inquiry"] for r in got[side]] == [r["inquiry"] for r in want[side]]
        for a, b in zip(got[side], want[side], strict=True):
            assert math.isclose(a["impact"], b["impact"], rel_tol=1e-9, abs_tol=1e-9)
            assert (a["volume"], a["fallback"]) == (b["volume"], b["fallback"])


@pytest.mark.parametrize("agent", AGENTS)
def test_focus_metric_and_team_comparison_match_the_domain(db, loaded, cells, records, agent):
    mine = [r for r in records if r["agent_id"] == agent]
    peers = [r for r in records if r["agent_id"] != agent]
    want = kpi_ranking.focus_metric(kpi_ranking.kpis_by_inquiry(mine),
                                    kpi_ranking.peer_kpis_by_inquiry(peers))
    got = ranking.focus(cells, agent)
    assert {k: v and v["metric"] for k, v in got.items()} == {k: v and v["metric"] for k, v in want.items()}
    team = next(r["team_id"] for r in records if r["agent_id"] == agent)
    members = sorted({r["agent_id"] for r in records if r["team_id"] == team})
    expected = kpi_ranking.compare_with_team(agent, [r for r in records if r["agent_id"] in members])
    with db.session() as session:
        where = Slice(tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY)
        actual = ranking.compare_with_team(session, where, agent, members=members)
    for metric, row in expected.items():
        assert actual[metric]["top_agent"] == row["top_agent"], metric
        for name in ("agent", "team_average", "top_value"):
            if row[name] is None:
                assert actual[metric][name] is None
            else:
                assert math.isclose(actual[metric][name], row[name], rel_tol=1e-9), (metric, name)


@pytest.fixture
def snapshot(db, loaded):
    from extension.analytics import peers as analytics_peers

    with db.session() as session:
        return analytics_peers.build(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY)


@pytest.mark.parametrize("agent", [*AGENTS, "nobody"])
def test_the_peer_snapshot_ranks_exactly_as_the_per_request_sums(cells, snapshot, agent):
    """The cached path (numpy arrays summed once) against the straightforward one (dicts)."""
    assert snapshot.quartiles(agent) == ranking.quartiles(cells, agent)
    want, got = ranking.top_bottom(cells, agent), snapshot.top_bottom(agent)
    for side in ("top", "bottom"):
        assert [r["inquiry"] for r in got[side]] == [r["inquiry"] for r in want[side]]
        for a, b in zip(got[side], want[side], strict=True):
            assert math.isclose(a["impact"], b["impact"], rel_tol=1e-9, abs_tol=1e-12)
            assert (a["volume"], a["fallback"]) == (b["volume"], b["fallback"])
    want_focus, got_focus = ranking.focus(cells, agent), snapshot.focus(agent)
    assert got_focus.keys() == want_focus.keys()
    for inquiry, row in want_focus.items():
        if row is None:
            assert got_focus[inquiry] is None
        else:
            assert got_focus[inquiry]["metric"] == row["metric"]
            assert math.isclose(got_focus[inquiry]["gap"], row["gap"], rel_tol=1e-9)
            assert math.isclose(got_focus[inquiry]["peer_mean"], row["peer_mean"], rel_tol=1e-9)
    # the same figures; sums of floats may differ in the last bit with the order PostgreSQL
    # happens to add the rows in (the two paths aggregate different tables)
    got_rows, want_rows = snapshot.by_inquiry(agent), ranking.by_inquiry(cells, agent)
    assert len(got_rows) == len(want_rows)
    for got_row, want_row in zip(got_rows, want_rows, strict=True):
        assert got_row.keys() == want_row.keys()
        for key, value in want_row.items():
            if isinstance(value, float) and got_row[key] is not None:
                assert math.isclose(got_row[key], value, rel_tol=1e-9, abs_tol=1e-12), key
            else:
                assert got_row[key] == value, key


@pytest.mark.parametrize("agent", AGENTS)
def test_the_snapshots_team_comparison_equals_the_live_one(db, loaded, snapshot, records, agent):
    team = next(r["team_id"] for r in records if r["agent_id"] == agent)
    members = sorted({r["agent_id"] for r in records if r["team_id"] == team} | {"nobody"})
    with db.session() as session:
        live = ranking.compare_with_team(session, Slice(tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY),
                                         agent, members=members)
    got = snapshot.compare_with_team(agent, members)
    for metric, row in live.items():
        assert got[metric]["top_agent"] == row["top_agent"], metric
        for name in ("agent", "team_average", "top_value"):
            if row[name] is None:
                assert got[metric][name] is None, (metric, name)
            else:
                assert math.isclose(got[metric][name], row[name], rel_tol=1e-9), (metric, name)


def test_labels_for_all_agents_match_the_domain(db, loaded, snapshot, records):
    from extension.analytics import peers as analytics_peers

    expected = kpi_ranking.quartile_labels_by(records, metric="aes")
    with db.session() as session:
        lean = analytics_peers.labels_for_all(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY)
    for got in (snapshot.labels_for_all(), lean):
        assert got.keys() == expected.keys()
        for cell, labels in expected.items():
            assert got[cell] == labels, cell


def test_a_build_read_in_small_chunks_pauses_between_them_and_ranks_the_same(db, loaded, snapshot,
                                                                              monkeypatch):
    """The build lets the web worker's other requests run (it pauses between chunks of rows,
    cells and inquiries); reading the rows in chunks changes no figure."""
    from extension.analytics import peers as analytics_peers

    pauses = []
    monkeypatch.setattr(analytics_peers, "_CHUNK_ROWS", 3)
    monkeypatch.setattr(analytics_peers, "_pause", lambda: pauses.append(1))
    with db.session() as session:
        chunked = analytics_peers.build(session, tenant_id=loaded, start=FIRST_DAY, end=LAST_DAY)
    rows = sum(len(cell.block.rows) for cell in snapshot.cells.values())
    assert len(pauses) >= rows // 3 + len(snapshot.cells) + len(snapshot.inquiries)
    assert chunked.cells.keys() == snapshot.cells.keys()
    assert chunked.labels_for_all() == snapshot.labels_for_all()
    for agent in [*AGENTS, "nobody"]:
        assert chunked.quartiles(agent) == snapshot.quartiles(agent)
        assert chunked.top_bottom(agent) == snapshot.top_bottom(agent)
        assert chunked.by_inquiry(agent) == snapshot.by_inquiry(agent)
        assert chunked.focus(agent) == snapshot.focus(agent)
