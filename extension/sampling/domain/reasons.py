"""Reasons as short strings, built once per distinct pattern (thousands of picks, few patterns).

The vocabulary is documented on ``sampling.Pick``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from extension.sampling.domain.frame import Frame
from extension.sampling.domain.plan import RiskRule

__all__ = ["risk_reason_list", "stratum_reasons"]


def risk_reason_list(rules: Sequence[RiskRule], bits: np.ndarray) -> list[tuple[str, ...]]:
    """``("risk:<id>", ...)`` per row from its fired-rule bits (bit i = rules[i]), in plan order."""
    ids = [rule.id for rule in rules]
    cache = {p: tuple(f"risk:{r}" for i, r in enumerate(ids) if p >> i & 1) for p in set(bits.tolist())}
    return [cache[b] for b in bits.tolist()]


def stratum_reasons(frame: Frame, rows: np.ndarray, *, keys: Sequence[str]) -> list[tuple[str, ...]]:
    """``("stratum:agent_id|channel=voice|queue_id=q7",)`` per row. The agent is named, not valued:
    it is the pick's own ``agent_id``, and leaving it out keeps the number of distinct strings small."""
    cache: dict[tuple[int, ...], tuple[str, ...]] = {}
    inner = [k for k in keys if k != "agent_id"]
    head = ["agent_id"] if "agent_id" in keys else []
    codes = np.stack([frame.codes[k][rows] for k in inner], axis=1).tolist() if len(rows) and inner else []
    labels = [frame.label_list(k) for k in inner]
    out = []
    for stratum in map(tuple, codes or [()] * len(rows)):
        if stratum not in cache:
            parts = [f"{k}={names[c]}" for k, names, c in zip(inner, labels, stratum, strict=True)]
            cache[stratum] = ("stratum:" + "|".join(head + parts),)
        out.append(cache[stratum])
    return out
