"""Risk rules: which interactions deserve a reviewer's eyes regardless of chance.

Each rule is a vectorised test over the frame (definitions in ``sampling_plan.RISK_RULES``).
A missing value never fires a rule: an interaction without CSAT is not a low-CSAT interaction.

Handle time is judged against the interaction's own inquiry, because a 20-minute billing dispute
is normal while a 20-minute password reset is not. The band is Tukey's fences over the period's
handle times for that inquiry: ``[Q1 - k*IQR, Q3 + k*IQR]`` with quartiles by linear
interpolation (numpy's default ``percentile`` method). Inquiries with fewer than
``min_inquiry_size`` timed interactions get no band, since quartiles of a handful of calls are noise.

When there are more candidates than the risk quota, candidates are ranked by the sum of the
weights of the rules they fire, ties broken by a seeded random key; ``max_per_agent`` then skips
an agent's candidates beyond the cap so the quota reaches more agents.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from extension.sampling.domain.frame import Frame
from extension.sampling.domain.plan import RiskRule

__all__ = ["inquiry_fences", "pick_risk", "rule_masks"]


def rule_masks(frame: Frame, rules: tuple[RiskRule, ...], *, in_period: np.ndarray) -> list[np.ndarray]:
    """One boolean array per rule, in the plan's rule order."""
    fences: dict[tuple[float, int], tuple[np.ndarray, np.ndarray]] = {}  # long and short share them
    return [_fires(frame, rule, in_period=in_period, fences=fences) for rule in rules]


def _fires(frame: Frame, rule: RiskRule, *, in_period: np.ndarray,
           fences: dict[tuple[float, int], tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    numbers, flags = frame.numbers, frame.flags
    with np.errstate(invalid="ignore"):  # NaN compares False, which is the intended answer
        if rule.id == "negative_sentiment":
            return numbers["customer_sentiment"] <= rule.param("threshold")
        if rule.id == "falling_sentiment":
            return numbers["sentiment_trend"] <= rule.param("threshold")
        if rule.id == "low_csat":
            return numbers["csat"] <= rule.param("threshold")
        if rule.id in ("long_handle_time", "short_handle_time"):
            key = (rule.param("iqr_k"), int(rule.param("min_inquiry_size")))
            if key not in fences:
                fences[key] = inquiry_fences(frame, in_period=in_period, k=key[0], min_size=key[1])
            low, high = fences[key]
            handle, code = numbers["t_handle_ms"], frame.codes["inquiry"]
            fired = handle > high[code] if rule.id == "long_handle_time" else handle < low[code]
            return cast(np.ndarray, fired)
    flag = {"escalation": "escalation", "compliance_miss": "compliance_miss",
            "transfer": "transferred", "repeat_contact": "repeat_contact"}[rule.id]
    return flags[flag].copy()


def inquiry_fences(frame: Frame, *, in_period: np.ndarray, k: float,
                   min_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) Tukey fences per inquiry code; NaN for inquiries below ``min_size``."""
    handle, code = frame.numbers["t_handle_ms"], frame.codes["inquiry"]
    usable = in_period & np.isfinite(handle)
    groups = len(frame.labels["inquiry"])
    by_group = np.argsort(np.where(usable, code, groups).astype(_small(groups + 1)), kind="stable")
    counts = np.bincount(code[usable], minlength=groups)
    values = handle[by_group[: int(counts.sum())]]
    q1, q3 = np.full(groups, np.nan), np.full(groups, np.nan)
    for group, start, count in zip(range(groups), np.cumsum(counts) - counts, counts, strict=True):
        if count >= max(min_size, 1):
            q1[group], q3[group] = np.percentile(values[start:start + count], [25, 75])
    spread = k * (q3 - q1)
    return q1 - spread, q3 + spread


def _small(limit: int) -> type:
    """The narrowest unsigned type for codes below ``limit``: 16-bit keys get numpy's radix sort."""
    return np.uint16 if limit <= 2**16 else np.int64


def pick_risk(frame: Frame, masks: list[np.ndarray], *, rules: tuple[RiskRule, ...],
              eligible: np.ndarray, quota: int, max_per_agent: int | None,
              rng: np.random.Generator) -> np.ndarray:
    """Rows chosen by risk: highest weighted score first, seeded ties, per-agent cap."""
    score = np.zeros(frame.size)
    for rule, mask in zip(rules, masks, strict=True):
        score += rule.weight * mask
    candidates = rng.permutation(np.flatnonzero(eligible & (score > 0)))  # the seeded tie-break
    ranked = candidates[np.argsort(-score[candidates], kind="stable")]
    if max_per_agent is not None:
        agents = len(frame.labels["agent_id"])
        ranked = ranked[_rank_within(frame.codes["agent_id"][ranked].astype(_small(agents))) < max_per_agent]
    return ranked[:quota]


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """For each element, how many earlier elements share its group (0 for the first)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    first = np.ones(len(groups), dtype=bool)
    first[1:] = sorted_groups[1:] != sorted_groups[:-1]
    positions = np.arange(len(groups))
    run_start = np.maximum.accumulate(np.where(first, positions, 0))
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = positions - run_start
    return rank


def fired_bits(masks: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """A bit per rule (bit i = rule i fired) for each row, so reasons can be built per pattern."""
    bits = np.zeros(len(rows), dtype=np.int64)
    for index, mask in enumerate(masks):
        bits |= mask[rows].astype(np.int64) << index
    return bits
