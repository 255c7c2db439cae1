"""Silence and over-talk ratios from utterance timings (voice only; chat has no timing).

Both are shares of the conversation's span, first word to last: silence is time when nobody
speaks, over-talk is time when both parties speak at once. Either is None unless every
agent/customer utterance carries ``offset_ms`` and ``duration_ms``: a partial timeline would
invent silences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from extension.text.domain.spans import PARTIES, Utterance


def timing_ratios(utterances: Sequence[Utterance]) -> dict[str, float | None]:
    spoken = [u for u in utterances if u.party in PARTIES]
    if not spoken or any(u.offset_ms is None or u.duration_ms is None for u in spoken):
        return {"silence_ratio": None, "overtalk_ratio": None}
    # Past the check above every offset and duration is set: the casts only tell the type checker.
    intervals = {party: _merge([(cast(int, u.offset_ms),
                                 cast(int, u.offset_ms) + max(0, cast(int, u.duration_ms)))
                                for u in spoken if u.party == party]) for party in PARTIES}
    start = min(cast(int, u.offset_ms) for u in spoken)
    end = max(cast(int, u.offset_ms) + cast(int, u.duration_ms) for u in spoken)
    span = end - start
    if span <= 0:
        return {"silence_ratio": None, "overtalk_ratio": None}
    anyone = _merge(intervals["agent"] + intervals["customer"])
    both = _intersect(intervals["agent"], intervals["customer"])
    return {
        "silence_ratio": round(1 - _length(anyone) / span, 4),
        "overtalk_ratio": round(_length(both) / span, 4),
    }


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersect(left: list[tuple[int, int]], right: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlap of two merged interval lists, by a two-pointer walk."""
    result, i, j = [], 0, 0
    while i < len(left) and j < len(right):
        start, end = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if start < end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def _length(intervals: list[tuple[int, int]]) -> int:
    return sum(end - start for start, end in intervals)
