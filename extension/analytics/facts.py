"""Analytics storage: idempotent fact upserts with incremental daily rollup maintenance.

``upsert_facts`` is the one write path (live events, history sync, demo data). For each batch
it loads the stored facts, and for every fact that changed subtracts the old row's contribution
from its rollup cell and adds the new one, then writes facts and rollup deltas with one
``INSERT .. ON CONFLICT`` each. Re-sending an unchanged record changes nothing.

Concurrency: on PostgreSQL the stored facts are read ``FOR UPDATE`` and rollups are updated as
``col = col + delta``, so two workers never lose each other's deltas; two workers inserting the
same brand-new conversation at once make one of them fail on the primary key and its job retry
(and then see the row). SQLite serialises writers (BEGIN IMMEDIATE), so the same holds there.

First-contact resolution: a fact with a ``customer_key`` gets its ``fcr`` from the domain rule
(extension.analytics.domain.fcr) over its customer's contacts, never from the record; storing a contact
also re-judges the customer's other contacts, and every fact whose value moves is written with
its rollup delta in the same statements (services.fcr). Facts without a key keep the ``fcr``
their record gives (demo data, hosts that report resolution themselves).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from extension.analytics import fcr as fcr_service
from extension.analytics.domain.kpis import period_start
from extension.analytics.models.facts import InteractionFact, KpiRollupAgentDaily, KpiRollupDaily
from extension.analytics.sums import DIMENSIONS, SUM_COLUMNS, add, bucket_starts, contribution, zero
from extension.platform.models._types import utcnow
from extension.platform.tenants import tenant_timezone

FACT_FIELDS = (
    "agent_id", "team_id", "queue_id", "inquiry", "channel", "ended_at", "t_talk_ms", "t_hold_ms",
    "t_acw_ms", "t_handle_ms", "transferred", "fcr", "csat", "nps", "qa_score", "customer_sentiment",
    "agent_sentiment", "p_satisfaction", "p_resolution", "customer_key", "n_hold",
)
_CHUNK = 500  # ids per IN (...) lookup; well under every engine's bind-parameter limit
_facts = cast(Table, InteractionFact.__table__)
_rollups = cast(Table, KpiRollupDaily.__table__)
_agent_rollups = cast(Table, KpiRollupAgentDaily.__table__)


def fact_row(record: Mapping[str, Any], *, tenant_id: str, tz: str) -> dict[str, Any]:
    """A record (kpis' field names) as a fact row, with its day in the tenant's zone."""
    row = {name: record.get(name) for name in FACT_FIELDS}
    row.update(tenant_id=tenant_id, conversation_id=record["conversation_id"],
               local_day=period_start(record["ended_at"], period="day", tz=tz))
    return row


def rollup_key(fact: Mapping[str, Any]) -> tuple:
    # '' stands for "unknown": primary-key columns cannot hold NULL
    return (fact["local_day"], *(fact[d] or "" for d in DIMENSIONS))


def upsert_facts(session: Session, *, tenant_id: str, records: Iterable[Mapping[str, Any]],
                 tz: str | None = None, now: datetime | None = None) -> dict[str, int]:
    """Store records as facts and move the rollups by the difference. Returns counts (of the
    given records; contacts re-judged for FCR are written too but not counted).

    A record without a ``customer_key`` field keeps the stored key; ``now`` (default: the
    clock) decides which FCR windows have passed."""
    tz = tz or tenant_timezone(session, tenant_id)
    records = list(records)
    rows = {r["conversation_id"]: fact_row(r, tenant_id=tenant_id, tz=tz) for r in records}
    given_key = {r["conversation_id"] for r in records if "customer_key" in r}
    fcr_service.lock_keys(session, tenant_id, (row["customer_key"] for row in rows.values()))
    stored = _load_facts(session, tenant_id=tenant_id, ids=sorted(rows))
    for conversation_id, row in rows.items():
        old = stored.get(conversation_id)
        if conversation_id not in given_key and row["customer_key"] is None and old is not None:
            row["customer_key"] = old["customer_key"]
    counted = set(rows)
    fcr_service.judge_groups(session, tenant_id=tenant_id, rows=rows, stored=stored,
                             now=now or utcnow())
    return store_rows(session, tenant_id=tenant_id, rows=rows, stored=stored, counted=counted)


def store_rows(session: Session, *, tenant_id: str, rows: Mapping[str, dict[str, Any]],
               stored: Mapping[str, dict[str, Any]], counted: set[str] | None = None) -> dict[str, int]:
    """Write fact rows whose values differ from ``stored`` and move their rollup cells."""
    deltas: dict[tuple, dict[str, Any]] = {}
    changed, counts = [], {"inserted": 0, "updated": 0, "unchanged": 0}
    for conversation_id, row in rows.items():
        old = stored.get(conversation_id)
        if old is not None and all(old[k] == row[k] for k in (*FACT_FIELDS, "local_day")):
            if counted is None or conversation_id in counted:
                counts["unchanged"] += 1
            continue
        if old is not None:
            add(deltas.setdefault(rollup_key(old), zero()), contribution(old), sign=-1)
        add(deltas.setdefault(rollup_key(row), zero()), contribution(row))
        if counted is None or conversation_id in counted:
            counts["updated" if old is not None else "inserted"] += 1
        changed.append(row)
    _write_facts(session, changed)
    apply_deltas(session, tenant_id=tenant_id, deltas=deltas)
    return counts


def stored_facts(session: Session, *, tenant_id: str, ids: list[str]) -> dict[str, dict]:
    """The stored facts of these conversations, keyed by conversation id (for merging)."""
    return _load_facts(session, tenant_id=tenant_id, ids=ids)


def _load_facts(session: Session, *, tenant_id: str, ids: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    locking = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(ids), _CHUNK):
        query = select(_facts).where(_facts.c.tenant_id == tenant_id,
                                     _facts.c.conversation_id.in_(ids[start:start + _CHUNK]))
        if locking:
            query = query.with_for_update()
        found.update((row.conversation_id, dict(row._mapping)) for row in session.execute(query))
    return found


def _insert(session: Session, table):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _write_facts(session: Session, rows: list[dict]) -> None:
    if not rows:
        return
    stmt = _insert(session, _facts)
    updates = {name: stmt.excluded[name] for name in (*FACT_FIELDS, "local_day", "updated_at")}
    stmt = stmt.on_conflict_do_update(index_elements=["tenant_id", "conversation_id"], set_=updates)
    now = utcnow()
    session.execute(stmt, [{**row, "updated_at": now} for row in rows])


def apply_deltas(session: Session, *, tenant_id: str, deltas: Mapping[tuple, Mapping[str, Any]]) -> None:
    """Add each delta vector to its rollup cell, creating the cell when it is new."""
    rows = [_rollup_row(tenant_id, key, delta) for key, delta in deltas.items() if any(delta.values())]
    if not rows:
        return
    _upsert_sums(session, _rollups, rows)
    per_agent: dict[tuple, dict[str, Any]] = {}
    for (day, agent_id, *_cell), delta in deltas.items():  # the coarser per-agent table, same deltas
        add(per_agent.setdefault((day, agent_id or ""), zero()), delta)
    _upsert_sums(session, _agent_rollups, [
        {"tenant_id": tenant_id, "day": day, "agent_id": agent_id, **bucket_starts(day), **delta}
        for (day, agent_id), delta in sorted(per_agent.items()) if any(delta.values())])


def _upsert_sums(session: Session, table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={c: table.c[c] + stmt.excluded[c] for c in SUM_COLUMNS})
    session.execute(stmt, rows)


def _rollup_row(tenant_id: str, key: tuple, delta: Mapping[str, Any]) -> dict[str, Any]:
    day, *dims = key
    return {"tenant_id": tenant_id, "day": day, **dict(zip(DIMENSIONS, dims, strict=True)),
            **bucket_starts(day), **delta}


def rebuild_rollups(session: Session, *, tenant_id: str, tz: str | None = None) -> int:
    """Recompute a tenant's rollups from its facts (after a time-zone change, or to repair)."""
    tz = tz or tenant_timezone(session, tenant_id)
    session.execute(delete(_rollups).where(_rollups.c.tenant_id == tenant_id))
    session.execute(delete(_agent_rollups).where(_agent_rollups.c.tenant_id == tenant_id))
    deltas: dict[tuple, dict[str, Any]] = {}
    moved, count = [], 0
    query = select(_facts).where(_facts.c.tenant_id == tenant_id).execution_options(yield_per=5000)
    for row in session.execute(query).all():
        fact = dict(row._mapping)
        day = period_start(fact["ended_at"], period="day", tz=tz)
        if day != fact["local_day"]:
            moved.append({"cid": fact["conversation_id"], "day": day})
            fact["local_day"] = day
        add(deltas.setdefault(rollup_key(fact), zero()), contribution(fact))
        count += 1
    if moved:
        session.execute(_facts.update().where(_facts.c.tenant_id == tenant_id,
                                              _facts.c.conversation_id == bindparam("cid"))
                        .values(local_day=bindparam("day")), moved)
    apply_deltas(session, tenant_id=tenant_id, deltas=deltas)
    return count


def delete_facts(session: Session, *, tenant_id: str, conversation_ids: Iterable[str]) -> int:
    """Erase facts (retention, subject erasure) and take their contribution out of the rollups."""
    stored = _load_facts(session, tenant_id=tenant_id, ids=sorted(set(conversation_ids)))
    deltas: dict[tuple, dict[str, Any]] = {}
    for fact in stored.values():
        add(deltas.setdefault(rollup_key(fact), zero()), contribution(fact), sign=-1)
    keys = [(tenant_id, cid) for cid in stored]
    for start in range(0, len(keys), _CHUNK):
        session.execute(delete(_facts).where(
            tuple_(_facts.c.tenant_id, _facts.c.conversation_id).in_(keys[start:start + _CHUNK])))
    apply_deltas(session, tenant_id=tenant_id, deltas=deltas)
    customer_keys = {fact["customer_key"] for fact in stored.values() if fact.get("customer_key")}
    if customer_keys:  # an erased repeat contact no longer counts against the customer's earlier ones
        fcr_service.rejudge(session, tenant_id=tenant_id, keys=customer_keys)
    return len(stored)
