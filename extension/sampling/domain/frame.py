"""Interactions as one columnar frame: dense integer codes, epoch seconds, NaN for missing numbers.

``select`` accepts either records (dicts or objects with the fields below) or a columnar mapping
of equal-length arrays. Everything downstream is vectorised over this frame, so the conversion is
the only per-record Python work and the columnar path skips it.

Speed note: identifier columns (agent, channel, queue, inquiry) given as integer arrays are coded
in O(n) with a lookup table; string or object columns go through a dict (about 0.25 s per million
rows per column). A shell loading a month should therefore pass database surrogate keys or
dictionary codes where it has them and map labels back for display.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np

__all__ = ["CATEGORICAL", "FLAGS", "NUMBERS", "Frame", "epoch_of", "factorize", "to_frame"]

CATEGORICAL = ("agent_id", "channel", "queue_id", "inquiry")
NUMBERS = ("t_handle_ms", "csat", "customer_sentiment", "sentiment_trend")
FLAGS = ("transferred", "repeat_contact", "escalation", "compliance_miss")
REQUIRED = ("conversation_id", "agent_id", "ended_at")


@dataclass(frozen=True)
class Frame:
    """Columns of one batch of interactions; row i is the same interaction in every column."""

    size: int
    conversation_id: np.ndarray
    codes: dict[str, np.ndarray]  # dense 0..k-1 codes per categorical column
    labels: dict[str, np.ndarray]  # code -> the caller's value, in sorted order
    ended_s: np.ndarray  # int64 seconds since the Unix epoch, UTC
    numbers: dict[str, np.ndarray]  # float64, NaN where the value is unknown
    flags: dict[str, np.ndarray]  # bool, False where unknown

    def label_list(self, column: str) -> list[Any]:
        """Labels as plain Python values (numpy scalars unwrapped), for building output."""
        return cast(list[Any], self.labels[column].tolist())


def to_frame(interactions: Mapping[str, Any] | Iterable[Any]) -> Frame:
    """A ``Frame`` from a columnar mapping (fast path) or an iterable of records."""
    columns = interactions if isinstance(interactions, Mapping) else _columns_from_records(interactions)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ValueError(f"interactions lack the column(s) {', '.join(missing)}")
    size = len(columns["conversation_id"])
    coded = {name: factorize(_column(columns, name, size)) for name in CATEGORICAL}
    return Frame(
        size=size,
        conversation_id=np.asarray(columns["conversation_id"]),
        codes={name: codes for name, (codes, _) in coded.items()},
        labels={name: labels for name, (_, labels) in coded.items()},
        ended_s=_epoch_seconds(columns["ended_at"]),
        numbers={name: _floats(columns.get(name), size) for name in NUMBERS},
        flags={name: _bools(columns.get(name), size) for name in FLAGS},
    )


def _columns_from_records(records: Iterable[Any]) -> dict[str, list[Any]]:
    names = (*REQUIRED, *CATEGORICAL[1:], *NUMBERS, *FLAGS)
    rows = list(records)
    return {name: [_field(row, name) for row in rows] for name in names}


def _field(record: Any, name: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def _column(columns: Mapping[str, Any], name: str, size: int) -> np.ndarray:
    values = columns.get(name)
    if values is None:
        return np.zeros(size, dtype=np.int64)  # an absent stratum key puts everyone in one stratum
    array = np.asarray(values)
    if len(array) != size:
        raise ValueError(f"column {name!r} has {len(array)} rows, expected {size}")
    return array


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels) with ``labels[codes] == values``; labels sorted so codes do not depend on
    row order. Compact integer ranges use a lookup table (O(n)), low-cardinality strings a binary
    search over the labels seen in a probe, anything else a dict."""
    if values.dtype.kind in "iub" and len(values):
        return _factorize_ints(values.astype(np.int64) if values.dtype.kind == "b" else values)
    if values.dtype.kind == "U" and len(values):
        found = _factorize_few_strings(values)
        if found is not None:
            return found
    return _factorize_any(values)


def _factorize_ints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    low, high = int(values.min()), int(values.max())
    if high - low > 4 * len(values) + 1024:
        labels, codes = np.unique(values, return_inverse=True)
        return codes.reshape(-1), labels
    present = np.zeros(high - low + 1, dtype=bool)
    present[values - low] = True
    lookup = np.cumsum(present) - 1
    return lookup[values - low], np.flatnonzero(present) + low


def _factorize_few_strings(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Channels and the like: a strided probe finds the labels; None when the probe missed some."""
    probe = np.unique(values[:: max(1, len(values) // 20_000)])
    if len(probe) > 256:
        return None
    codes = np.searchsorted(probe, values)
    np.minimum(codes, len(probe) - 1, out=codes)
    return (codes, probe) if np.array_equal(probe[codes], values) else None


def _factorize_any(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    table: dict[Any, int] = {}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in values.tolist()), dtype=np.int64,
                        count=len(values))
    first_seen = list(table)
    order = sorted(range(len(first_seen)), key=lambda i: _sort_key(first_seen[i]))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    labels = np.empty(len(order), dtype=object)
    labels[:] = [first_seen[i] for i in order]
    return rank[codes] if len(codes) else codes, labels


def _sort_key(value: Any) -> tuple[bool, str]:
    return (value is None, str(value))


def _epoch_seconds(values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind == "M":
        return array.astype("datetime64[s]").astype(np.int64)
    if array.dtype.kind == "O" or not len(array):
        return np.fromiter((_to_epoch(v) for v in array.tolist()), dtype=np.int64, count=len(array))
    raise TypeError("ended_at must be datetime64 values or datetime objects")


def _to_epoch(moment: Any) -> int:
    """Seconds since the epoch; a naive datetime is taken as UTC (the store keeps UTC)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"ended_at must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds: float = moment.timestamp()
    return math.floor(seconds)


def _floats(values: Any, size: int) -> np.ndarray:
    if values is None:
        return np.full(size, np.nan)
    array = np.asarray(values)
    if array.dtype.kind == "O":
        array = np.array([np.nan if v is None else v for v in array.tolist()], dtype=float)
    return array.astype(np.float64, copy=False)


def _bools(values: Any, size: int) -> np.ndarray:
    if values is None:
        return np.zeros(size, dtype=bool)
    array = np.asarray(values)
    if array.dtype.kind == "O":
        array = np.array([bool(v) for v in array.tolist()], dtype=bool)
    return array.astype(bool, copy=False)


def epoch_of(moment: datetime) -> int:
    """``period_start``/``period_end`` in the frame's unit (naive means UTC, as for ``ended_at``)."""
    return _to_epoch(moment)
