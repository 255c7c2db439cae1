"""Allocation without luck: how many picks each stratum gets, and which rows inside it.

Counts use *integer systematic rounding* (also called controlled or Cox rounding). Lay the strata
end to end in a fixed order, so stratum i covers ``[S_{i-1}, S_i)`` of the cumulative sizes, and
draw one integer offset ``u`` uniformly from ``[0, N)``. Stratum i receives

    count_i = floor((n * S_i + u) / N) - floor((n * S_{i-1} + u) / N)

which, with ``e_i = n * s_i / N`` its proportional share, guarantees

* ``count_i`` is ``floor(e_i)`` or ``ceil(e_i)``, and the counts sum to exactly ``n``;
* the same holds for any run of consecutive strata -- so, with agents outermost in the order,
  each agent's total is within one of their volume share (the per-agent cap ``ceil(e_agent)``);
* ``E[count_i] = e_i`` exactly, so over seeds every stratum's expected share is its volume share.

Largest-remainder rounding has the first two properties but is deterministic, which biases
small strata toward whichever side their remainder falls; iid draws have the third but let an
agent collect several times their share by chance. The arithmetic is in integers, so there is
no floating drift in the totals.

Inside a stratum of ``s`` rows sorted by time, ``k`` rows are taken by systematic sampling with
a random start: positions ``floor((v + j) * s / k)`` for ``j < k`` and ``v`` uniform on [0, 1).
Each row's inclusion probability is exactly ``k / s`` and the picks are spread across the period
instead of bunching on a busy day.
"""

from __future__ import annotations

from typing import cast

import numpy as np

__all__ = ["group_rows", "grouped_counts", "systematic_positions"]


def grouped_counts(sizes: np.ndarray, *, group: np.ndarray, totals: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Per-stratum counts: ``totals[g]`` spread over group g's strata by systematic rounding.

    ``sizes`` are the stratum sizes in their fixed order, ``group`` each stratum's group index
    (non-decreasing, groups contiguous); a single group is the plain case.
    """
    sizes = sizes.astype(np.int64)
    group_sizes = np.bincount(group, weights=sizes, minlength=len(totals)).astype(np.int64)
    offsets = _offsets(group_sizes, rng)
    cumulative = np.cumsum(sizes)
    group_base = np.concatenate(([0], np.cumsum(group_sizes)))[:-1]
    upper = cumulative - group_base[group]
    lower = upper - sizes
    total, offset, denominator = totals[group].astype(np.int64), offsets[group], group_sizes[group]
    denominator = np.maximum(denominator, 1)
    return cast(np.ndarray, (total * upper + offset) // denominator - (total * lower + offset) // denominator)


def _offsets(group_sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform integer in [0, N_g) per group (0 for an empty group)."""
    return cast(np.ndarray, np.floor(rng.random(len(group_sizes)) * group_sizes).astype(np.int64))


def systematic_positions(starts: np.ndarray, *, sizes: np.ndarray, counts: np.ndarray,
                         rng: np.random.Generator) -> np.ndarray:
    """Indices into a sorted row array: ``counts[i]`` rows evenly spaced inside stratum i."""
    counts = np.minimum(counts, sizes)
    owner = np.repeat(np.arange(len(counts)), counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    start_fraction = rng.random(len(counts))
    step = sizes / np.maximum(counts, 1)
    position = np.floor((start_fraction[owner] + within) * step[owner]).astype(np.int64)
    return cast(np.ndarray, starts[owner] + np.minimum(position, sizes[owner] - 1))


def group_rows(rows: np.ndarray, *, keys: list[np.ndarray],
               time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows grouped into strata, stratum sizes): strata ordered by ``keys`` (outermost first,
    non-negative integer codes), rows inside a stratum in time order.

    A counting sort rather than a comparison sort: the keys are packed into one integer, mapped
    to dense stratum numbers (order-preserving) and grouped with numpy's 16-bit radix sort, which
    keeps the time order established first. Rows already in time order (a query ordered by
    ``ended_at``) skip the time sort.
    """
    if not len(rows):
        return rows, np.zeros(0, dtype=np.int64)
    moments = time[rows]
    if np.any(moments[1:] < moments[:-1]):
        rows = rows[np.argsort(moments, kind="stable")]
    stratum = _dense(_pack([k[rows] for k in keys]))
    ordered = rows[_stable_order(stratum)]
    return ordered, np.bincount(stratum)


def _pack(columns: list[np.ndarray]) -> np.ndarray:
    """Columns packed into one int64 with the first column most significant (when they fit)."""
    widths = [max(1, int(c.max()).bit_length()) for c in columns]
    if sum(widths) > 62:
        return np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)[1].reshape(-1)
    packed = np.zeros(len(columns[0]), dtype=np.int64)
    for column, width in zip(columns, widths, strict=True):
        packed = (packed << width) | column.astype(np.int64)
    return packed


def _dense(values: np.ndarray) -> np.ndarray:
    """Order-preserving dense numbering 0..k-1 of non-negative integers."""
    high = int(values.max())
    if high > 4 * len(values) + 1024:
        return np.unique(values, return_inverse=True)[1].reshape(-1)
    present = np.zeros(high + 1, dtype=bool)
    present[values] = True
    return cast(np.ndarray, (np.cumsum(present) - 1)[values])


def _stable_order(values: np.ndarray) -> np.ndarray:
    """Stable argsort of dense non-negative integers by 16-bit radix passes (least significant first)."""
    if int(values.max()) < 2**16:
        return np.argsort(values.astype(np.uint16), kind="stable")
    if int(values.max()) < 2**32:
        low = np.argsort((values & 0xFFFF).astype(np.uint16), kind="stable")
        return low[np.argsort((values[low] >> 16).astype(np.uint16), kind="stable")]
    return np.argsort(values, kind="stable")
