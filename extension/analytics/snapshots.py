"""Peer snapshots precomputed by the worker, so no request sums a tenant's rollups.

The agent view ranks an agent against every agent of the tenant (:mod:`extension.analytics.peers`).
Summing the peers takes seconds on a large tenant (5.75 s at ten million interactions), so the
periodic job :func:`refresh_all` builds the snapshots of the standard ranges the pages offer
(:data:`STANDARD_DAYS` ending today, tenant-local, and the period before each, for trends and
"improving") for every active tenant and stores them in ``peer_snapshots`` (the database is the
store every web process shares, Redis or not). A web process that lacks a snapshot loads the
stored one (tens of milliseconds: numpy arrays, no pickle) before it would ever build one; only a
custom range, or a stored snapshot older than the staleness bound, is built in the request.

Freshness. ``as_of`` is the moment the stored data was last known to be current: the job reads
the tenant's facts watermark (max ``updated_at`` of its facts: an index lookup) and

- the watermark has not moved since the build: ``as_of`` moves to the check (a cheap UPDATE);
- it moved: the snapshot is rebuilt, at most once per ``rebuild_seconds`` (half the staleness
  bound) so a tenant with live traffic does not keep the worker summing;
- every ``full_seconds`` (an hour) it is rebuilt anyway: deleted facts (retention, a resumed
  erasure) do not move the watermark.

The watermark recorded is at most the build's start minus ``_IN_FLIGHT`` seconds, so a writer
whose transaction was still open during the build moves it again. ``PeerCache`` serves a snapshot
only while ``as_of`` is younger than ``peer_snapshot_seconds`` (the staleness bound); the agent
view's response says ``as_of``.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from extension.analytics import peers
from extension.analytics.models.facts import InteractionFact
from extension.analytics.models.snapshots import StoredPeerSnapshot
from extension.platform.models.tenants import Tenant
from extension.platform.queue import job

log = logging.getLogger("coachwire.analytics")

STANDARD_DAYS = (1, 7, 30, 90)  # last 24 h (today), week, month (the API default), 3 months
REFRESH_SECONDS = 60  # the job's period
FULL_SECONDS = 3600
_IN_FLIGHT = timedelta(seconds=60)
_FORMAT = 3


def standard_ranges(today: date) -> list[tuple[date, date]]:
    """[start, end] of every standard range ending ``today`` and of the period before each."""
    out = []
    for days in STANDARD_DAYS:
        start = today - timedelta(days=days - 1)
        out += [(start, today), (start - timedelta(days=days), start - timedelta(days=1))]
    return out


def local_today(tz: str | None, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(tz or "UTC")).date()


# ---- serialization ---------------------------------------------------------------------------

def dumps(snapshot: peers.PeerSnapshot) -> bytes:
    """The arrays the snapshot was assembled from (peers.assemble), plus each cell's sorted
    AES values, as an .npz of plain arrays (loaded with allow_pickle=False)."""
    cells = list(snapshot.cells)
    agents: list[str] = []
    offsets, ascending_offsets = [0], [0]
    int_parts, float_parts, ascending = [], [], []
    for cell in snapshot.cells.values():
        agents += list(cell.block.rows)  # in row order
        offsets.append(len(agents))
        int_parts.append(cell.block.ints)
        float_parts.append(cell.block.floats)
        ascending += cell.ascending
        ascending_offsets.append(len(ascending))
    width_i, width_f = len(peers.INT_COLUMNS), len(peers.FLOAT_COLUMNS)
    names, codes = np.unique(np.array(agents, dtype=str), return_inverse=True)
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {
        "format": np.array([_FORMAT]), "columns": np.array([*peers.INT_COLUMNS, "|", *peers.FLOAT_COLUMNS]),
        "cell_inquiry": np.array(["" if c[0] is None else c[0] for c in cells], dtype=str),
        "cell_channel": np.array(["" if c[1] is None else c[1] for c in cells], dtype=str),
        "offsets": np.array(offsets, dtype=np.int64), "names": names, "codes": codes.astype(np.int32),
        "floats": np.concatenate(float_parts) if float_parts else np.zeros((0, width_f), np.float64),
        "ascending": np.array(ascending, dtype=np.float64),
        "ascending_offsets": np.array(ascending_offsets, dtype=np.int64)}
    arrays.update(_narrow(np.concatenate(int_parts) if int_parts else np.zeros((0, width_i), np.int64)))
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def loads(payload: bytes, *, tenant_id: str, start: date, end: date,
          as_of: datetime) -> peers.PeerSnapshot | None:
    """The snapshot, or None when it was stored in another layout (a deploy changed the columns)."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        columns = [str(c) for c in data["columns"]]
        if int(data["format"][0]) != _FORMAT or columns != [*peers.INT_COLUMNS, "|", *peers.FLOAT_COLUMNS]:
            return None
        arrays = {name: data[name] for name in ("cell_inquiry", "cell_channel", "offsets", "names", "codes",
                                                "floats", "ascending", "ascending_offsets")}
        arrays["ints"] = _widen(data, len(columns) - len(peers.FLOAT_COLUMNS) - 1)
    cells = [(i or None, c or None) for i, c in zip(arrays["cell_inquiry"].tolist(),
                                                    arrays["cell_channel"].tolist(), strict=True)]
    values, bounds = arrays["ascending"].tolist(), arrays["ascending_offsets"].tolist()
    ascending = [values[bounds[k]:bounds[k + 1]] for k in range(len(cells))]
    snapshot = peers.PeerSnapshot(tenant_id=tenant_id, start=start, end=end, as_of=as_of)
    return peers.assemble(snapshot, cells, arrays["offsets"].tolist(), arrays["names"],
                          arrays["codes"].astype(np.intp), arrays["ints"], arrays["floats"],
                          ascending=ascending)  # pauses between cells: gevent serves others


def _narrow(ints: np.ndarray) -> dict[str, np.ndarray]:
    """Each int column in the smallest dtype that holds it (most are counts): a third of the
    bytes to fetch, and the sums stay exact."""
    out = {}
    for k in range(ints.shape[1]):
        column = ints[:, k]
        low, high = (int(column.min()), int(column.max())) if len(column) else (0, 0)
        out[f"int_{k}"] = column.astype(np.result_type(np.min_scalar_type(low), np.min_scalar_type(high)))
    return out


def _widen(data, width: int) -> np.ndarray:
    return np.column_stack([data[f"int_{k}"].astype(np.int64) for k in range(width)]).reshape(-1, width)


def _payload(session: Session, tenant_id: str, start: date, end: date) -> bytes | None:
    """The stored bytes; on PostgreSQL in binary format (a text-format bytea arrives hex-encoded:
    twice the bytes and a decode, three times slower for a large tenant's snapshot)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw: Any = connection.connection.driver_connection
        with raw.cursor(binary=True) as cursor:
            cursor.execute("SELECT payload FROM peer_snapshots WHERE tenant_id = %s AND start_day = %s "
                           "AND end_day = %s", (tenant_id, start, end))
            row = cursor.fetchone()
        return None if row is None else bytes(row[0])
    return session.scalar(select(StoredPeerSnapshot.payload).where(
        StoredPeerSnapshot.tenant_id == tenant_id, StoredPeerSnapshot.start_day == start,
        StoredPeerSnapshot.end_day == end))


# ---- the store -------------------------------------------------------------------------------

def load(session: Session, *, tenant_id: str, start: date, end: date) -> peers.PeerSnapshot | None:
    as_of = stored_as_of(session, tenant_id=tenant_id, start=start, end=end)
    payload = None if as_of is None else _payload(session, tenant_id, start, end)
    if as_of is None or payload is None:
        return None
    return loads(payload, tenant_id=tenant_id, start=start, end=end, as_of=as_of)


def stored_as_of(session: Session, *, tenant_id: str, start: date, end: date) -> datetime | None:
    """When the stored snapshot was last known current; None without one in this layout."""
    return session.scalar(select(StoredPeerSnapshot.as_of).where(
        StoredPeerSnapshot.tenant_id == tenant_id, StoredPeerSnapshot.start_day == start,
        StoredPeerSnapshot.end_day == end, StoredPeerSnapshot.layout == _FORMAT))


def watermark(session: Session, tenant_id: str) -> datetime | None:
    """max(updated_at) of the tenant's facts (ix_interaction_facts_tenant_updated)."""
    value = session.scalar(select(func.max(InteractionFact.updated_at))
                           .where(InteractionFact.tenant_id == tenant_id))
    if isinstance(value, str):  # SQLite may answer max() as text
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def save(session: Session, snapshot: peers.PeerSnapshot, *, mark: datetime | None) -> None:
    """Store (or replace) the snapshot; ``mark`` is the watermark read before its build began."""
    recorded = None if mark is None else min(mark, snapshot.as_of - _IN_FLIGHT)
    _where(session, snapshot.tenant_id, snapshot.start, snapshot.end, delete(StoredPeerSnapshot))
    session.add(StoredPeerSnapshot(tenant_id=snapshot.tenant_id, start_day=snapshot.start,
                                   end_day=snapshot.end, as_of=snapshot.as_of, built_at=snapshot.as_of,
                                   watermark=recorded, layout=_FORMAT, payload=dumps(snapshot)))
    session.flush()


def _where(session: Session, tenant_id: str, start: date, end: date, statement) -> None:
    session.execute(statement.where(StoredPeerSnapshot.tenant_id == tenant_id,
                                    StoredPeerSnapshot.start_day == start, StoredPeerSnapshot.end_day == end))


def refresh_tenant(session: Session, tenant_id: str, *, tz: str | None, staleness: float,
                   now: datetime | None = None, today: date | None = None) -> dict[str, int]:
    """Bring the tenant's standard snapshots up to date; drop the ones no longer standard.
    ``today`` (tenant-local, default: from ``now``) is for tests."""
    checked = now or datetime.now(UTC)
    ranges = standard_ranges(today or local_today(tz, checked))
    mark = watermark(session, tenant_id)
    rebuild_after = timedelta(seconds=max(staleness / 2, 0))
    s = StoredPeerSnapshot
    stored = {(r.start_day, r.end_day): r for r in session.execute(
        select(s.start_day, s.end_day, s.built_at, s.watermark, s.layout).where(s.tenant_id == tenant_id))}
    counts = {"built": 0, "confirmed": 0, "kept": 0, "dropped": 0}
    for start, end in stored:
        if (start, end) not in ranges:
            _where(session, tenant_id, start, end, delete(s))
            counts["dropped"] += 1
    for start, end in ranges:
        row = stored.get((start, end))
        unchanged = row is not None and row.layout == _FORMAT and (
            row.watermark == mark if mark is None or row.watermark is None else mark <= row.watermark)
        if row is not None and unchanged and checked - row.built_at < timedelta(seconds=FULL_SECONDS):
            _where(session, tenant_id, start, end, update(s).values(as_of=checked))
            counts["confirmed"] += 1
            continue
        if (row is not None and not unchanged and row.layout == _FORMAT
                and checked - row.built_at < rebuild_after):
            counts["kept"] += 1  # changed, but rebuilt recently: the next run rebuilds it
            continue
        mark = watermark(session, tenant_id)  # read before the build, as the build's own start
        save(session, peers.build(session, tenant_id=tenant_id, start=start, end=end), mark=mark)
        session.commit()  # each snapshot visible as soon as it is built
        counts["built"] += 1
    return counts


@job(queue="default", retries=0, timeout=1800)
def refresh_all(now: datetime | None = None) -> dict[str, dict[str, int]]:
    """The periodic job: every active tenant's standard snapshots, one transaction per tenant."""
    from extension.platform.context import settings
    from extension.platform.db import get_db

    staleness = float(settings().peer_snapshot_seconds)
    db = get_db()
    with db.session() as session:
        tenants = list(session.execute(select(Tenant.id, Tenant.timezone).where(Tenant.status == "active")))
    result = {}
    for tenant_id, tz in tenants:
        try:
            with db.session() as session:
                result[tenant_id] = refresh_tenant(session, tenant_id, tz=tz, staleness=staleness, now=now)
        except Exception:  # one tenant's failure does not stop the others; the next run retries
            log.exception("peer snapshot refresh failed tenant=%s", tenant_id)
    return result
