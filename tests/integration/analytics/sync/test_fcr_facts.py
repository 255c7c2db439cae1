"""FCR on stored facts: contacts in any order and batch split, rollups equal to a pandas recompute."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select

from extension.analytics import facts as analytics
from extension.analytics import fcr
from extension.analytics.models.facts import InteractionFact, KpiRollupDaily

TZ = "Europe/London"
START = datetime(2025, 3, 20, tzinfo=UTC)  # the spring DST change (30 March) is inside
KEYS = [f"{i:064x}" for i in range(12)]
INQUIRIES = ["billing", "tech"]


def _record(cid: str, ended_at: datetime, *, key: str | None, inquiry: str | None, agent: str) -> dict:
    return {"conversation_id": cid, "agent_id": agent, "queue_id": "q1", "inquiry": inquiry,
            "channel": "voice", "ended_at": ended_at, "t_talk_ms": 1000, "t_hold_ms": 0, "t_acw_ms": 500,
            "t_handle_ms": 1500, "transferred": False, "customer_key": key}


def generate(seed: int = 3, count: int = 400) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(count):
        ended = START + timedelta(seconds=rng.randint(0, 30 * 86400))
        records.append(_record(f"c{i:04d}", ended, key=rng.choice([*KEYS, None]),
                               inquiry=rng.choice([*INQUIRIES, None]) if rng.random() < 0.1
                               else rng.choice(INQUIRIES), agent=rng.choice(["a1", "a2", "a3"])))
    # boundaries: a repeat at exactly 7 days, one 1 ms later, and pairs around local midnight
    edge = datetime(2025, 3, 29, 23, 59, 59, tzinfo=UTC)  # 23:59:59 GMT, the next contact is in BST
    records += [
        _record("e-exact-1", START + timedelta(days=2), key="edge-a", inquiry="billing", agent="a1"),
        _record("e-exact-2", START + timedelta(days=9), key="edge-a", inquiry="billing", agent="a2"),
        _record("e-after-1", START + timedelta(days=3), key="edge-b", inquiry="billing", agent="a1"),
        _record("e-after-2", START + timedelta(days=10, milliseconds=1), key="edge-b", inquiry="billing",
                agent="a2"),
        _record("e-mid-1", edge, key="edge-c", inquiry="tech", agent="a3"),
        _record("e-mid-2", edge + timedelta(days=7), key="edge-c", inquiry="tech", agent="a3"),
        _record("e-mid-3", edge + timedelta(days=7, seconds=2), key="edge-c", inquiry="tech", agent="a1"),
        _record("e-tie-b", START + timedelta(days=5), key="edge-d", inquiry="tech", agent="a1"),
        _record("e-tie-a", START + timedelta(days=5), key="edge-d", inquiry="tech", agent="a2"),
    ]
    return records


def expected_fcr(records: list[dict], *, now: datetime, days: int) -> pd.DataFrame:
    """The rule read plainly with pandas: next contact of the same customer and inquiry."""
    df = pd.DataFrame(records)
    df["ended_at"] = pd.to_datetime(df["ended_at"], utc=True)
    df = df.sort_values(["customer_key", "inquiry", "ended_at", "conversation_id"])
    window = pd.Timedelta(days=days)
    next_end = df.groupby(["customer_key", "inquiry"], dropna=False)["ended_at"].shift(-1)
    keyed = df["customer_key"].notna() & df["inquiry"].notna()
    repeat = keyed & next_end.notna() & ((next_end - df["ended_at"]) <= window)
    passed = keyed & (pd.Timestamp(now) >= df["ended_at"] + window)
    df["fcr"] = None
    df.loc[passed, "fcr"] = True
    df.loc[repeat, "fcr"] = False
    df["day"] = df["ended_at"].dt.tz_convert(TZ).dt.date
    return df.set_index("conversation_id")


def stored(db, tenant_id: str) -> dict[str, bool | None]:
    with db.session() as session:
        return dict(session.execute(select(InteractionFact.conversation_id, InteractionFact.fcr)
                                    .where(InteractionFact.tenant_id == tenant_id)).all())


def rollup_sums(db, tenant_id: str) -> dict:
    r = KpiRollupDaily
    with db.session() as session:
        rows = session.execute(select(r.day, r.agent_id, func.sum(r.fcr_n), func.sum(r.fcr_yes),
                                      func.sum(r.volume))
                               .where(r.tenant_id == tenant_id).group_by(r.day, r.agent_id)).all()
    return {(day, agent): (int(n), int(yes), int(volume)) for day, agent, n, yes, volume in rows
            if int(volume) or int(n)}


def expected_sums(df: pd.DataFrame) -> dict:
    known = df["fcr"].notna()
    frame = pd.DataFrame({"day": df["day"], "agent": df["agent_id"], "n": known.astype(int),
                          "yes": (df["fcr"] == True).astype(int), "volume": 1})  # noqa: E712
    grouped = frame.groupby(["day", "agent"]).sum()
    return {key: (int(row.n), int(row.yes), int(row.volume)) for key, row in grouped.iterrows()}


def check(db, tenant_id, records, *, now, days=7):
    want = expected_fcr(records, now=now, days=days)
    got = stored(db, tenant_id)
    assert set(got) == set(want.index)
    wrong = {cid: (got[cid], want.at[cid, "fcr"]) for cid in got if got[cid] is not want.at[cid, "fcr"]}
    assert not wrong
    assert rollup_sums(db, tenant_id) == expected_sums(want)
    return want


def _store(db, tenant_id, records, *, now, batch):
    for start in range(0, len(records), batch):
        with db.session() as session:
            analytics.upsert_facts(session, tenant_id=tenant_id, records=records[start:start + batch],
                                   now=now)


@pytest.mark.parametrize(("order_seed", "batch"), [(None, 1000), (1, 37), (2, 1)])
def test_any_arrival_order_gives_the_rule_and_exact_rollups(db, tenant, order_seed, batch):
    tenant_id = tenant[0]
    records = generate()
    arriving = records[:] if order_seed is None else random.Random(order_seed).sample(records, len(records))
    if batch == 1:
        edges = [r for r in arriving if r["conversation_id"].startswith("e-")]
        arriving = [r for r in arriving if not r["conversation_id"].startswith("e-")][:120] + edges
    now = START + timedelta(days=20)  # some windows have passed, the later ones have not
    _store(db, tenant_id, arriving, now=now, batch=batch)
    want = check(db, tenant_id, arriving, now=now)
    assert want["fcr"].isna().sum() > 0 and (want["fcr"] == False).sum() > 0  # noqa: E712
    assert want.at["e-exact-1", "fcr"] is False and want.at["e-after-1", "fcr"] is True
    assert want.at["e-mid-1", "fcr"] is False and want.at["e-tie-a", "fcr"] is False


def test_finalising_settles_due_contacts_and_keeps_rollups_exact(db, tenant):
    tenant_id = tenant[0]
    records = generate(seed=9)
    early = START + timedelta(days=12)
    _store(db, tenant_id, records, now=early, batch=100)
    check(db, tenant_id, records, now=early)
    later = START + timedelta(days=31)
    with db.session() as session:
        settled = fcr.finalize(session, tenant_id=tenant_id, now=later)
    assert settled > 0
    check(db, tenant_id, records, now=later)
    with db.session() as session:
        assert fcr.finalize(session, tenant_id=tenant_id, now=later) == 0


def test_updates_that_move_a_contact_rejudge_old_and_new_neighbours(db, tenant):
    tenant_id = tenant[0]
    records = generate(seed=4)
    now = START + timedelta(days=45)
    _store(db, tenant_id, records, now=now, batch=200)
    rng = random.Random(8)
    moved = {r["conversation_id"]: dict(r) for r in rng.sample(records, 60)}
    for record in moved.values():
        record.update(customer_key=rng.choice([*KEYS, None]), inquiry=rng.choice(INQUIRIES),
                      ended_at=record["ended_at"] + timedelta(hours=rng.randint(-100, 100)))
    with db.session() as session:
        counts = analytics.upsert_facts(session, tenant_id=tenant_id, records=list(moved.values()), now=now)
    assert counts["inserted"] == 0 and counts["updated"] + counts["unchanged"] == 60
    check(db, tenant_id, [moved.get(r["conversation_id"], r) for r in records], now=now)


def test_erasing_a_repeat_gives_the_earlier_contact_back_its_resolution(db, tenant):
    tenant_id = tenant[0]
    records = generate(seed=6)
    now = START + timedelta(days=45)
    _store(db, tenant_id, records, now=now, batch=500)
    assert stored(db, tenant_id)["e-exact-1"] is False
    erased = {"e-exact-2"} | {r["conversation_id"] for r in records[:400:5]}
    with db.session() as session:
        analytics.delete_facts(session, tenant_id=tenant_id, conversation_ids=erased)
    left = [r for r in records if r["conversation_id"] not in erased]
    check(db, tenant_id, left, now=datetime.now(UTC))  # erasure judges with the clock
    assert stored(db, tenant_id)["e-exact-1"] is True


def test_a_new_window_rejudges_every_contact(db, tenant):
    tenant_id = tenant[0]
    records = generate(seed=12)
    now = START + timedelta(days=60)
    _store(db, tenant_id, records, now=now, batch=500)
    check(db, tenant_id, records, now=now)
    with db.session() as session:
        changed = fcr.set_window_days(session, tenant_id=tenant_id, days=2, now=now)
    assert changed > 0
    check(db, tenant_id, records, now=now, days=2)
    with db.session() as session:
        assert fcr.window_days(session, tenant_id) == 2
        with pytest.raises(ValueError):
            fcr.set_window_days(session, tenant_id=tenant_id, days=0, now=now)


def test_facts_without_a_key_keep_the_fcr_they_are_given(db, tenant):
    tenant_id = tenant[0]
    record = _record("plain", START, key=None, inquiry="billing", agent="a1")
    record.pop("customer_key")
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=tenant_id, records=[{**record, "fcr": True}], now=START)
    assert stored(db, tenant_id) == {"plain": True}
    assert rollup_sums(db, tenant_id)[(START.date(), "a1")] == (1, 1, 1)


def test_a_record_without_the_key_field_keeps_the_stored_key(db, tenant):
    tenant_id = tenant[0]
    first = _record("k", START, key="kk", inquiry="billing", agent="a1")
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=tenant_id, records=[first], now=START)
        update = {k: v for k, v in first.items() if k != "customer_key"}
        analytics.upsert_facts(session, tenant_id=tenant_id, records=[{**update, "t_talk_ms": 5}], now=START)
        fact = session.get(InteractionFact, (tenant_id, "k"))
        assert (fact.customer_key, fact.t_talk_ms) == ("kk", 5)
