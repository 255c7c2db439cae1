"""Peer snapshots: what one agent is ranked against, summed once per (tenant, interval).

The agent view ranks an agent against every agent of the tenant, per inquiry x channel. Summing
the tenant's rollups on every request costs seconds at ten million interactions, while the
answer for the peers is the same for all agents of the tenant. So one query sums each agent's
vector per cell for the interval, the vectors go into numpy arrays (ints exact, floats as
float64), and every agent's request reads them: quartile labels by binary search over the
sorted AES values, inquiry impact from cell totals minus the agent's own vector, the focus
metric from each inquiry's per-agent KPI arrays.

Each web process keeps the snapshots of recent intervals for ``peer_snapshot_seconds``
(``COACHWIRE_PEER_SNAPSHOT_SECONDS``, default 300; 0 = build per request). A process that
lacks one loads the worker's precomputed snapshot (:mod:`extension.analytics.snapshots`, the
standard ranges of the pages) when it is younger than that bound, and builds it in the request
only otherwise (a custom range, or no worker). The agent view
(all of it, the agent's own KPIs included, so its figures agree) may be that old and never
older, and the response says as of when. The results equal :mod:`extension.analytics.ranking`
(and so the domain functions over raw records); the integration tests check both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from typing import cast as typing_cast

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, Float, Row, case, cast, func, select
from sqlalchemy.orm import Session

from extension.analytics.domain import kpi_ranking
from extension.analytics.domain.kpis import lower_is_better
from extension.analytics.models.facts import KpiRollupDaily
from extension.analytics.sums import FLOAT_COLUMNS, INT_COLUMNS, add, aes_from_sums, summary_from_sums, zero

log = logging.getLogger("coachwire.analytics")
_TIE_DIGITS = 9  # as analytics_ranking: database float sums differ in the last bit
_I = {name: i for i, name in enumerate(INT_COLUMNS)}
_F = {name: i for i, name in enumerate(FLOAT_COLUMNS)}
# focus metrics as (sum column, count column, divisor) so arrays reproduce summary_from_sums
_RATIOS = {"aht_s": ("handle_ms", "timed", 1000.0), "hold_s": ("hold_ms", "hold_n", 1000.0),
           "acw_s": ("acw_ms", "acw_n", 1000.0), "transfer_rate": ("transfer_yes", "transfer_n", None),
           "fcr_rate": ("fcr_yes", "fcr_n", None), "csat": ("csat_sum", "csat_n", None),
           "qa": ("qa_sum", "qa_n", None), "customer_sentiment": ("csent_sum", "csent_n", None)}
assert set(_RATIOS) == set(kpi_ranking.FOCUS_METRICS)


@dataclass
class Block:
    """Per-agent sum vectors of one cell (or one inquiry over its channels)."""

    rows: dict[str, int]
    ints: np.ndarray  # (agents, INT_COLUMNS) int64
    floats: np.ndarray  # (agents, FLOAT_COLUMNS) float64

    def sums(self, agent_id: str) -> dict[str, Any] | None:
        i = self.rows.get(agent_id)
        if i is None:
            return None
        out: dict[str, Any] = dict(zip(INT_COLUMNS, (int(v) for v in self.ints[i]), strict=True))
        out.update(zip(FLOAT_COLUMNS, (float(v) for v in self.floats[i]), strict=True))
        return out

    def column(self, name: str) -> np.ndarray:
        return self.ints[:, _I[name]] if name in _I else self.floats[:, _F[name]]

    def total(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(zip(INT_COLUMNS, (int(v) for v in self.ints.sum(axis=0)), strict=True))
        out.update(zip(FLOAT_COLUMNS, (float(v) for v in self.floats.sum(axis=0)), strict=True))
        return out


@dataclass
class Cell:
    block: Block
    aes: list[float | None]  # per row, as aes_from_sums
    ascending: list[float]  # every agent's AES with a value, rounded, sorted
    total: dict[str, Any]


@dataclass
class Inquiry:
    block: Block
    metrics: dict[str, np.ndarray]  # focus metric -> per-row value (NaN when None)


@dataclass
class PeerSnapshot:
    tenant_id: str
    start: date
    end: date
    as_of: datetime
    cells: dict[tuple, Cell] = field(default_factory=dict)  # (inquiry, channel), ordered
    inquiries: dict[Any, Inquiry] = field(default_factory=dict)

    # ---- what the agent view needs, for one agent -------------------------------------------
    def quartiles(self, agent_id: str) -> list[dict[str, Any]]:
        direction = lower_is_better("aes")
        labels = []
        for (inquiry, channel), cell in self.cells.items():
            i = cell.block.rows.get(agent_id)
            if i is None:
                continue
            value = cell.aes[i]
            label = None if value is None else kpi_ranking.quartile_label(
                round(value, _TIE_DIGITS), cell.ascending, lower_is_better=direction)
            labels.append({"inquiry": inquiry, "channel": channel, "metric": "aes", "value": value,
                           "label": label, "agents": len(cell.aes),
                           "volume": int(cell.block.ints[i, _I["volume"]])})
        return labels

    def top_bottom(self, agent_id: str, *, n: int = 3) -> dict[str, list[dict[str, Any]]]:
        """analytics_ranking.top_bottom: peers of a cell = its total minus the agent's vector."""
        every = {key: cell.block.sums(agent_id) for key, cell in self.cells.items()}
        mine = {key: sums for key, sums in every.items() if sums is not None}
        total = sum(s["volume"] for s in mine.values())
        impacts: dict[Any, dict[str, Any]] = {}
        for (inquiry, channel), sums in mine.items():
            peers = add(dict(self.cells[(inquiry, channel)].total), sums, sign=-1)
            row = impacts.setdefault(inquiry, {"inquiry": inquiry, "impact": 0.0, "volume": 0,
                                               "fallback": None, "compared": False})
            row["volume"] += sums["volume"]
            if not peers["volume"]:
                continue
            own, theirs = aes_from_sums(sums), aes_from_sums(peers)
            if own["value"] is None or theirs["value"] is None or own["fallback"] != theirs["fallback"]:
                continue
            row["impact"] += (own["value"] - theirs["value"]) * sums["volume"] / total
            row["compared"] = True
            row["fallback"] = row["fallback"] or own["fallback"]
        rows = [r for r in impacts.values() if r.pop("compared")]
        ordered = sorted(rows, key=lambda r: (r["impact"], _text(r["inquiry"])))
        top = [r for r in ordered if r["impact"] < 0][:n]
        worse = (r for r in rows if r["impact"] > 0)
        bottom = sorted(worse, key=lambda r: (-r["impact"], _text(r["inquiry"])))
        return {"top": top, "bottom": bottom[:n]}

    def focus(self, agent_id: str) -> dict[Any, dict[str, Any] | None]:
        """kpi_ranking.focus_metric with every other agent of the inquiry as the peers."""
        result: dict[Any, dict[str, Any] | None] = {}
        for inquiry, entry in self.inquiries.items():
            i = entry.block.rows.get(agent_id)
            if i is None:
                continue
            best: dict[str, Any] | None = None
            for metric in kpi_ranking.FOCUS_METRICS:
                gap = _gap(entry.metrics[metric], i, lower=lower_is_better(metric))
                if gap is not None and gap[0] > 0 and (best is None or gap[0] > best["gap"]):
                    best = {"metric": metric, "gap": gap[0], "agent": float(entry.metrics[metric][i]),
                            "peer_mean": gap[1]}
            result[inquiry] = best
        return result

    def by_inquiry(self, agent_id: str) -> list[dict[str, Any]]:
        rows = []
        for inquiry, entry in self.inquiries.items():
            sums = entry.block.sums(agent_id)
            if sums is not None:
                rows.append({"inquiry": inquiry, **summary_from_sums(sums)})
        return rows

    def agent_total(self, agent_id: str) -> dict[str, Any]:
        """The agent's vector over the interval (zeros without interactions): the sum of their
        cells, in the order compare_with_team adds them, so both give the same figures."""
        return self._totals([agent_id]).get(agent_id) or zero()

    def _totals(self, members: list[str]) -> dict[str, dict[str, Any]]:
        totals: dict[str, dict[str, Any]] = {}
        for cell in self.cells.values():
            for member in members:
                sums = cell.block.sums(member)
                if sums is not None:
                    if member in totals:
                        add(totals[member], sums)
                    else:
                        totals[member] = sums
        return totals

    def compare_with_team(self, agent_id: str, members: list[str]) -> dict[str, dict]:
        """analytics_ranking.compare_with_team from the snapshot: each member's vector is the
        sum of their cells (members without interactions in the interval are absent)."""
        per_agent = {member: summary_from_sums(sums) for member, sums in self._totals(members).items()}
        metrics = ("aes", *kpi_ranking.FOCUS_METRICS)
        return {metric: kpi_ranking._compare(agent_id, per_agent, metric) for metric in metrics}

    def labels_for_all(self) -> dict[tuple, dict[str, str]]:
        """Every agent's quartile label in every cell (the weekly batch figure)."""
        direction = lower_is_better("aes")
        out = {}
        for key, cell in self.cells.items():
            out[key] = {agent: kpi_ranking.quartile_label(round(typing_cast(float, cell.aes[i]), _TIE_DIGITS),
                                                          cell.ascending, lower_is_better=direction)
                        for agent, i in cell.block.rows.items() if cell.aes[i] is not None}
        return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _gap(values: np.ndarray, i: int, *, lower: bool) -> tuple[float, float] | None:
    """kpi_ranking._standardized_gap of row ``i`` against all other rows (population std)."""
    value = values[i]
    if np.isnan(value):
        return None
    peers = np.delete(values, i)
    peers = peers[~np.isnan(peers)]
    if len(peers) < 2 or peers.min() == peers.max():
        return None
    mean = float(peers.sum()) / len(peers)
    std = float(np.sqrt(((peers - mean) ** 2).sum() / len(peers)))
    if std == 0:
        return None
    gap = (float(value) - mean) / std
    return (gap if lower else -gap), mean


# ---- building ------------------------------------------------------------------------------

def build(session: Session, *, tenant_id: str, start: date, end: date) -> PeerSnapshot:
    """Sum every agent's vector per (inquiry, channel) over [start, end] in one query."""
    t = KpiRollupDaily.__table__.c
    dims = (t.inquiry, t.channel, t.agent_id)
    sums: list[ColumnElement[Any]] = [cast(func.sum(t[c]), BigInteger) for c in INT_COLUMNS]
    sums += [cast(func.sum(t[c]), Float) for c in FLOAT_COLUMNS]
    order = []
    for column in dims[:2]:
        order += [case((column == "", 1), else_=0), column]
    query = (select(*dims, *sums)
             .where(t.tenant_id == tenant_id, t.day >= start, t.day <= end)
             .group_by(*dims).having(func.sum(t.volume) > 0).order_by(*order, t.agent_id))
    snapshot = PeerSnapshot(tenant_id=tenant_id, start=start, end=end, as_of=datetime.now(UTC))
    width = len(INT_COLUMNS)
    rows: list[Row[Any]]
    int_parts: list[np.ndarray]
    float_parts: list[np.ndarray]
    rows, int_parts, float_parts = [], [], []
    for part in session.execute(query).partitions(_CHUNK_ROWS):
        rows.extend(part)
        int_parts.append(np.array([r[3:3 + width] for r in part], dtype=np.int64))
        float_parts.append(np.array([r[3 + width:] for r in part], dtype=np.float64))
        _pause()
    if not rows:
        return snapshot
    ints, floats = np.concatenate(int_parts), np.concatenate(float_parts)
    cells: list[tuple] = []
    offsets: list[int] = []
    last = None
    for index, row in enumerate(rows):  # rows of a cell are contiguous (ORDER BY)
        if (row[0], row[1]) != last:
            last = (row[0], row[1])
            cells.append((None if row[0] == "" else row[0], None if row[1] == "" else row[1]))
            offsets.append(index)
    offsets.append(len(rows))
    _pause()
    names, codes = np.unique(np.array([r[2] for r in rows], dtype=str), return_inverse=True)
    return assemble(snapshot, cells, offsets, names, codes, ints, floats)


def assemble(snapshot: PeerSnapshot, cells: list[tuple], offsets: list[int], names: np.ndarray,
             codes: np.ndarray, ints: np.ndarray, floats: np.ndarray, *,
             ascending: list[list[float]] | None = None, pause: bool = True) -> PeerSnapshot:
    """Fill ``snapshot`` from the flat rows of the build query, in its ORDER BY order: cell
    ``k`` is ``cells[k]`` (inquiry, channel) over rows ``offsets[k]:offsets[k + 1]``; row ``j``
    is agent ``names[codes[j]]`` (``names`` sorted) with sum vectors ``ints[j]``/``floats[j]``.
    ``ascending`` (each cell's sorted, rounded AES values) when the caller has them already.
    The stored form of a snapshot is exactly these arrays (extension.analytics.snapshots)."""
    wait = _pause if pause else _no_pause
    if not cells:
        return snapshot
    agents = names[codes].tolist()
    aes_all = _aes(ints, floats).tolist()
    by_inquiry: dict[Any, list[tuple[int, int]]] = {}
    for k, cell_key in enumerate(cells):
        wait()
        lo, hi = offsets[k], offsets[k + 1]
        block = Block(rows=dict(zip(agents[lo:hi], range(hi - lo), strict=True)), ints=ints[lo:hi],
                      floats=floats[lo:hi])
        aes = [None if v != v else v for v in aes_all[lo:hi]]  # NaN: no AES
        ordered = (ascending[k] if ascending is not None
                   else sorted(round(v, _TIE_DIGITS) for v in aes if v is not None))
        snapshot.cells[cell_key] = Cell(block=block, aes=aes, ascending=ordered, total=block.total())
        by_inquiry.setdefault(cell_key[0], []).append((lo, hi))
    for inquiry, spans in by_inquiry.items():
        wait()
        indexes = np.concatenate([np.arange(lo, hi) for lo, hi in spans])
        snapshot.inquiries[inquiry] = _inquiry(names, codes[indexes], ints[indexes], floats[indexes])
    return snapshot


def _no_pause() -> None:
    pass


# A large tenant's build is about 0.6 s of CPU at 5,000 agents (82,000 agent x cell rows). The
# web server's gevent worker runs one greenlet at a time, so that whole stretch held up every
# other request of the process, webhooks included: 0.49-0.58 s with nothing else running. The
# build therefore reads its rows in chunks and pauses between chunks, cells and inquiries; the
# longest hold measured 72-77 ms after this (a garbage collection inside one chunk). The pause
# is a real sleep, not sleep(0): gevent's sleep(0) resumes the caller without running the
# event loop, so sockets and timers would still wait. Under threads it costs ~0.1 ms a pause.
_CHUNK_ROWS = 5000


def _pause() -> None:
    time.sleep(0.0001)


_AES_COLUMNS = ("scored", "scored_handle_ms", "timed", "handle_ms")


def labels_for_all(session: Session, *, tenant_id: str, start: date,
                   end: date) -> dict[tuple, dict[str, str]]:
    """Every agent's AES quartile label in every inquiry x channel cell (the weekly batch):
    :meth:`PeerSnapshot.labels_for_all` summing only the five columns AES needs."""
    t = KpiRollupDaily.__table__.c
    dims = (t.inquiry, t.channel, t.agent_id)
    query = (select(*dims, *(cast(func.sum(t[c]), BigInteger) for c in _AES_COLUMNS),
                    cast(func.sum(t.expected), Float))
             .where(t.tenant_id == tenant_id, t.day >= start, t.day <= end)
             .group_by(*dims).having(func.sum(t.volume) > 0))
    rows = session.execute(query).all()
    if not rows:
        return {}
    ints = np.zeros((len(rows), len(INT_COLUMNS)), dtype=np.int64)
    floats = np.zeros((len(rows), len(FLOAT_COLUMNS)), dtype=np.float64)
    narrow = np.array([r[3:7] for r in rows], dtype=np.int64)
    for k, column in enumerate(_AES_COLUMNS):
        ints[:, _I[column]] = narrow[:, k]
    floats[:, _F["expected"]] = [r[7] for r in rows]
    values = _aes(ints, floats)
    cells: dict[tuple, list[tuple[str, float]]] = {}
    for row, value in zip(rows, values.tolist(), strict=True):
        if value == value:  # not NaN: agents without an AES get no label
            key = (None if row[0] == "" else row[0], None if row[1] == "" else row[1])
            cells.setdefault(key, []).append((row[2], round(value, _TIE_DIGITS)))
    direction = lower_is_better("aes")
    out = {}
    for key, entries in cells.items():
        ascending = sorted(v for _, v in entries)
        out[key] = {agent: kpi_ranking.quartile_label(v, ascending, lower_is_better=direction)
                    for agent, v in entries}
    return out


def _aes(ints: np.ndarray, floats: np.ndarray) -> np.ndarray:
    """aes_from_sums per row (NaN for None) with the same float operations in the same order."""
    scored, expected = ints[:, _I["scored"]], floats[:, _F["expected"]]
    timed = ints[:, _I["timed"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        weighted = ints[:, _I["scored_handle_ms"]].astype(np.float64) / 1000.0 / expected
        aht = ints[:, _I["handle_ms"]].astype(np.float64) / 1000.0 / timed
    return np.where(scored > 0, np.where(expected > 0, weighted, np.nan), np.where(timed > 0, aht, np.nan))


def _inquiry(names: np.ndarray, codes: np.ndarray, ints: np.ndarray, floats: np.ndarray) -> Inquiry:
    """One inquiry: the agents' vectors summed over channels, and their focus-metric arrays.
    Agents in name order (``names`` is sorted, so code order is name order)."""
    order = np.argsort(codes, kind="stable")  # an agent's rows stay in row order
    grouped = codes[order]
    starts = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
    present = grouped[starts]
    # each agent's few rows (one per channel) added one after the other, in row order, as a
    # loop of analytics_sums.add would: the float sums are the same to the last bit
    summed_ints = np.add.reduceat(ints[order], starts, axis=0)
    summed_floats = np.add.reduceat(floats[order], starts, axis=0)
    block = Block(rows={name: k for k, name in enumerate(names[present].tolist())}, ints=summed_ints,
                  floats=summed_floats)
    metrics = {}
    for metric, (total, count, divisor) in _RATIOS.items():
        numerator, denominator = block.column(total).astype(np.float64), block.column(count)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = numerator / denominator
            if divisor is not None:
                values = values / divisor
        metrics[metric] = np.where(denominator > 0, values, np.nan)
    return Inquiry(block=block, metrics=metrics)


# ---- the per-process cache -----------------------------------------------------------------

class PeerCache:
    """Recent snapshots of one process, by (tenant, start, end); one builder per key at a time.

    A snapshot is never served once it is ``ttl_seconds`` old, counted from the moment its
    build began (its ``as_of`` is taken after that), so ``as_of`` is at most that old in
    every answer. A miss first tries the worker's stored snapshot (``snapshots.load``; its age
    counts from its ``as_of``) and builds only when there is none young enough. With a
    ``session_factory``, a request that finds a snapshot past ``refresh_share`` of its life
    (default 0.8) gets it at once while one background thread loads a newer stored one or sums
    its successor; a request that finds it past the bound waits for a fresh build, as the
    first request of an interval does. ``clock`` (default time.monotonic) is for tests.
    """

    def __init__(self, ttl_seconds: float, *, max_entries: int = 8, session_factory=None,
                 refresh_share: float = 0.8, clock=None) -> None:
        self.ttl, self.max_entries = ttl_seconds, max_entries
        self.refresh_after = ttl_seconds * refresh_share
        self.session_factory = session_factory
        self._clock = clock
        self._entries: OrderedDict[tuple, tuple[float, PeerSnapshot]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}
        self._refreshing: dict[tuple, threading.Thread] = {}
        self.builds = 0
        self.loads = 0  # snapshots taken from the worker's store (extension.analytics.snapshots)

    def get(self, session: Session, *, tenant_id: str, start: date, end: date) -> PeerSnapshot:
        if self.ttl <= 0:
            self.builds += 1
            return build(session, tenant_id=tenant_id, start=start, end=end)
        key = (tenant_id, start, end)
        hit, age = self._lookup(key)
        if hit is not None and age < self.ttl:
            if age >= self.refresh_after and self.session_factory is not None:
                self._refresh_in_background(key)
            return hit
        with self._lock:
            builder = self._building.setdefault(key, threading.Lock())
        with builder:  # concurrent requests for the same interval wait for one build
            hit, age = self._lookup(key)
            if hit is not None and age < self.ttl:
                return hit
            stored = self._load_stored(session, key)
            if stored is not None:
                return stored
            return self._build_and_store(session, key)

    def _load_stored(self, session: Session, key: tuple, *,
                     newer_than: datetime | None = None) -> PeerSnapshot | None:
        """The worker's snapshot of the interval (extension.analytics.snapshots) if it is
        younger than the bound (and than ``newer_than``), kept in this process from then on."""
        from extension.analytics import snapshots

        tenant_id, start, end = key
        as_of = snapshots.stored_as_of(session, tenant_id=tenant_id, start=start, end=end)
        if as_of is None or (newer_than is not None and as_of <= newer_than):
            return None
        age = (datetime.now(UTC) - as_of).total_seconds()
        if age >= self.ttl:
            return None
        snapshot = snapshots.load(session, tenant_id=tenant_id, start=start, end=end)
        if snapshot is None:
            return None
        with self._lock:
            self.loads += 1
        return self._store(key, self._now() - max(age, 0.0), snapshot, built=False)

    def _now(self) -> float:
        return (self._clock or time.monotonic)()

    def _build_and_store(self, session: Session, key: tuple) -> PeerSnapshot:
        tenant_id, start, end = key
        began = self._now()  # before the build: its age bounds the age of as_of
        return self._store(key, began, build(session, tenant_id=tenant_id, start=start, end=end))


    def _store(self, key: tuple, began: float, snapshot: PeerSnapshot, *, built: bool = True) -> PeerSnapshot:
        with self._lock:
            self.builds += built
            self._entries[key] = (began, snapshot)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return snapshot

    def _refresh_in_background(self, key: tuple) -> None:
        with self._lock:
            running = self._refreshing.get(key)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(target=self._refresh, args=(key,), daemon=True,
                                      name=f"peer-snapshot-{key[0]}")
            self._refreshing[key] = thread
        thread.start()

    def _refresh(self, key: tuple) -> None:
        try:
            with self.session_factory() as session:
                hit, _age = self._lookup(key)
                if self._load_stored(session, key, newer_than=None if hit is None else hit.as_of) is None:
                    self._build_and_store(session, key)
        except Exception:  # the stale snapshot stays; the next request tries again
            log.exception("peer snapshot refresh failed tenant=%s", key[0])

    def wait_for_refreshes(self, timeout: float = 30.0) -> None:
        """Tests: block until background refreshes are done."""
        for thread in list(self._refreshing.values()):
            thread.join(timeout)

    def _lookup(self, key: tuple) -> tuple[PeerSnapshot | None, float]:
        """The stored snapshot and its age in seconds (since its build began)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None, 0.0
            self._entries.move_to_end(key)
            return entry[1], self._now() - entry[0]
