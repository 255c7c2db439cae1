"""Rollups answer exactly what the raw facts would: kpis_by over the records is the reference."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from extension.analytics import facts as analytics
from extension.analytics.domain.kpis import kpis_by
from extension.analytics.query import Slice, kpi_rows
from tests.integration.analytics.conftest import FIRST_DAY, LAST_DAY

TZ = "Europe/London"
CASES = [((), None), (("agent_id",), None), (("agent_id",), "day"), (("team_id", "channel"), "week"),
         (("queue_id",), "month"), (("inquiry", "channel"), "quarter"), (("channel",), "day")]


def assert_rows_equal(actual: list[dict], expected: list[dict], *, dims: tuple[str, ...]) -> None:
    def keyed(rows):
        return {(*(r[d] for d in dims), r["period_start"]): r for r in rows}

    got, want = keyed(actual), keyed(expected)
    assert got.keys() == want.keys()
    for key, row in want.items():
        for name, value in row.items():
            other = got[key][name]
            if isinstance(value, float) and other is not None:
                assert math.isclose(other, value, rel_tol=1e-9, abs_tol=1e-9), (key, name, other, value)
            else:
                assert other == value, (key, name, other, value)


def _all(tenant_id: str) -> Slice:
    return Slice(tenant_id=tenant_id, start=FIRST_DAY, end=LAST_DAY)


@pytest.mark.parametrize(("dims", "period"), CASES)
def test_rollup_kpis_equal_a_recompute_over_the_raw_records(db, loaded, records, dims, period):
    expected = kpis_by(records, dims=dims, period=period, tz=TZ)
    with db.session() as session:
        actual = kpi_rows(session, _all(loaded), dims=dims, period=period)
    assert_rows_equal(actual, expected, dims=dims)


def test_upserting_the_same_records_again_changes_nothing(db, loaded, records):
    with db.session() as session:
        before = kpi_rows(session, _all(loaded), dims=("agent_id",), period="week")
        counts = analytics.upsert_facts(session, tenant_id=loaded, records=records)
        after = kpi_rows(session, _all(loaded), dims=("agent_id",), period="week")
    assert counts == {"inserted": 0, "updated": 0, "unchanged": len(records)}
    assert after == before


def test_changed_records_move_their_contribution_between_cells(db, loaded, records):
    """An update subtracts the old contribution and adds the new: agent, day, figures all move."""
    rng = random.Random(3)
    changed = {r["conversation_id"]: dict(r) for r in rng.sample(records, 300)}
    for record in changed.values():
        record.update(agent_id=rng.choice(["a00", "a05", "zz-new"]), csat=rng.choice([None, 1, 5]),
                      t_handle_ms=rng.choice([None, 1000, 600_000]), p_resolution=rng.choice([None, 0.5]))
    current = [changed.get(r["conversation_id"], r) for r in records]
    with db.session() as session:
        counts = analytics.upsert_facts(session, tenant_id=loaded, records=list(changed.values()))
        actual = kpi_rows(session, _all(loaded), dims=("agent_id",), period="day")
    assert counts["updated"] == 300
    assert_rows_equal(actual, kpis_by(current, dims=("agent_id",), period="day", tz=TZ), dims=("agent_id",))


def test_rebuild_and_erasure_keep_rollups_equal_to_the_facts(db, loaded, records):
    erased = {r["conversation_id"] for r in records[::7]}
    with db.session() as session:
        assert analytics.delete_facts(session, tenant_id=loaded, conversation_ids=erased) == len(erased)
        left = [r for r in records if r["conversation_id"] not in erased]
        incremental = kpi_rows(session, _all(loaded), dims=("agent_id", "channel"), period="week")
        assert analytics.rebuild_rollups(session, tenant_id=loaded) == len(left)
        rebuilt = kpi_rows(session, _all(loaded), dims=("agent_id", "channel"), period="week")
    expected = kpis_by(left, dims=("agent_id", "channel"), period="week", tz=TZ)
    assert_rows_equal(incremental, expected, dims=("agent_id", "channel"))
    assert_rows_equal(rebuilt, expected, dims=("agent_id", "channel"))


def test_an_interval_counts_whole_tenant_local_days(db, loaded, records):
    """31 March 2025 in London (BST) runs from 30 March 23:00 UTC to 31 March 23:00 UTC."""
    from extension.analytics.domain.kpis import period_start

    day = date(2025, 3, 31)
    expected = [r for r in records if period_start(r["ended_at"], period="day", tz=TZ) == day]
    with db.session() as session:
        rows = kpi_rows(session, Slice(tenant_id=loaded, start=day, end=day))
    assert rows[0]["volume"] == len(expected)
    utc_day = [r for r in records if r["ended_at"].date() == day]
    assert any(r["ended_at"].date() != day for r in expected)
    assert len(utc_day) != len(expected)  # a UTC-date filter would be wrong


def _per_agent_tables(db, tenant_id: str) -> tuple[dict, dict]:
    """(per-agent table rows, the cell table summed per agent-day), both keyed (agent, day)."""
    from sqlalchemy import func, select

    from extension.analytics.models.facts import KpiRollupAgentDaily, KpiRollupDaily
    from extension.analytics.sums import SUM_COLUMNS

    with db.session() as session:
        coarse = {(r.agent_id, r.day): tuple(getattr(r, c) for c in SUM_COLUMNS) for r in session.scalars(
            select(KpiRollupAgentDaily).where(KpiRollupAgentDaily.tenant_id == tenant_id))}
        fine = {(r[0], r[1]): tuple(r[2:]) for r in session.execute(
            select(KpiRollupDaily.agent_id, KpiRollupDaily.day,
                   *(func.sum(getattr(KpiRollupDaily, c)) for c in SUM_COLUMNS))
            .where(KpiRollupDaily.tenant_id == tenant_id)
            .group_by(KpiRollupDaily.agent_id, KpiRollupDaily.day))}
    return coarse, fine


def _same(coarse: dict, fine: dict) -> None:
    assert coarse.keys() == fine.keys()
    for key, values in fine.items():
        for a, b in zip(coarse[key], values, strict=True):
            assert math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9), key


def test_the_per_agent_table_moves_with_every_change_rebuild_and_erasure(db, loaded, records):
    _same(*_per_agent_tables(db, loaded))
    rng = random.Random(5)
    changed = [dict(r, agent_id=rng.choice(["a01", "zz-new", None]), t_handle_ms=rng.choice([None, 9000]))
               for r in rng.sample(records, 200)]
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=loaded, records=changed)
    _same(*_per_agent_tables(db, loaded))
    with db.session() as session:
        gone = [r["conversation_id"] for r in changed]
        analytics.delete_facts(session, tenant_id=loaded, conversation_ids=gone)
    _same(*_per_agent_tables(db, loaded))
    with db.session() as session:
        analytics.rebuild_rollups(session, tenant_id=loaded)
    coarse, fine = _per_agent_tables(db, loaded)
    _same(coarse, fine)
    assert sum(v[0] for v in coarse.values()) == len(records) - len(changed)
