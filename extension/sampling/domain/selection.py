"""Intelligent sampling: which interactions QA reviews this period, and why each one.

``select`` runs four components in a fixed order over the period's eligible interactions (those
ending in ``[period_start, period_end)`` and not already sampled), each excluding earlier picks:

1. **risk** -- rows firing the plan's risk rules, highest weighted score first (``sampling_risk``);
   its quota is ``mix.risk`` of the budget, and whatever it cannot spend passes to random;
2. **random** -- the rest of the budget, stratified by ``random.strata`` (agent outermost) with
   proportional integer systematic rounding and time-spread systematic draws (``sampling_alloc``):
   each stratum gets its share rounded down or up, never more, so each agent's random picks stay
   within ``ceil(expected)`` (the cap) and equal their volume share in expectation over seeds;
3. **targeted** -- ``targeted.per_agent`` picks for each active agent on a coaching plan;
4. **fairness** -- top-ups so every active agent (one with an interaction in the period) reaches
   ``min_per_agent``, counting what was already sampled this period.

Targeted and fairness picks come from the agent's own remaining interactions, spread over their
channels by the same rounding (proportional to the agent's volume per channel) and over time
inside a channel. An agent with too few interactions gets them all and a ``shortfall``.

Only the random component is "by chance", so only it carries the proportional cap; risk picks are
bounded by ``risk.max_per_agent``, and targeted and fairness picks are deliberate and reported
separately per agent (``AgentAllocation``). ``Selection.precision`` turns the per-agent totals and
the QA scores into the margin-of-error report (``sampling_stats``).

Deterministic for a given seed and input (same rows, same order): each component draws from its
own stream spawned from the seed, and the agents' order for the rounding is a seeded permutation.
Pass a ``Frame`` (``to_frame``) to run several plans over one month without converting it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

import numpy as np

from extension.sampling.domain.alloc import group_rows, grouped_counts, systematic_positions
from extension.sampling.domain.frame import Frame, epoch_of, to_frame
from extension.sampling.domain.plan import (
    DEFAULT_PLAN,
    InvalidPlan,
    Issue,
    SamplingPlan,
    parse_plan,
    validate_plan,
)
from extension.sampling.domain.reasons import risk_reason_list, stratum_reasons
from extension.sampling.domain.risk import fired_bits, pick_risk, rule_masks
from extension.sampling.domain.stats import AgentPrecision, margin_of_error, precision_table, required_sample

__all__ = [
    "DEFAULT_PLAN",
    "AgentAllocation",
    "AgentPrecision",
    "InvalidPlan",
    "Issue",
    "Pick",
    "SamplingPlan",
    "Selection",
    "margin_of_error",
    "parse_plan",
    "required_sample",
    "select",
    "to_frame",
    "validate_plan",
]

COMPONENTS = ("risk", "random", "targeted", "fairness")
_LONGEST = {"week": timedelta(days=7, hours=1), "month": timedelta(days=31, hours=1)}  # +1 h for DST


class Pick(NamedTuple):
    """One interaction chosen for review. Reasons, in this vocabulary:

    * ``risk:<rule id>`` -- every risk rule the interaction fires (risk picks);
    * ``stratum:agent_id|channel=voice|queue_id=q7`` -- the random pick's stratum; the agent is
      the pick's own ``agent_id``, so it is named but not repeated;
    * ``target:coaching_plan`` -- the agent is on an active coaching plan;
    * ``fairness:minimum`` then ``stratum:channel=chat`` -- a top-up to the per-agent minimum.
    """

    conversation_id: Any
    agent_id: Any
    component: str  # one of COMPONENTS
    reasons: tuple[str, ...]


class AgentAllocation(NamedTuple):
    """Per active agent: volume, picks by component, and the fairness figures."""

    agent_id: Any
    population: int  # interactions ending in the period
    already_sampled: int
    risk: int
    random: int
    targeted: int
    fairness: int
    random_expected: float  # proportional share of the random picks (volume share x random picks)
    random_cap: int  # ceil(random_expected): the most random picks the rounding can give
    shortfall: int  # picks missing from the minimum because the agent has too few interactions

    @property
    def total(self) -> int:
        return self.already_sampled + self.risk + self.random + self.targeted + self.fairness


@dataclass(frozen=True)
class Selection:
    picks: tuple[Pick, ...]  # in input row order
    rows: np.ndarray  # the picks' row indices in the input
    agents: dict[Any, AgentAllocation]
    eligible: int
    budget: int  # risk + random picks the plan pays for
    risk_candidates: int  # eligible rows firing at least one risk rule
    counts: dict[str, int]  # picks per component

    def precision(self, scores: Mapping[Any, Sequence[float]], *, plan: SamplingPlan) -> list[AgentPrecision]:
        """Per-agent margin of error now, once the picks are scored, and the sample needed."""
        counts = {a.agent_id: (a.population, a.total) for a in self.agents.values()}
        return precision_table(counts, scores, margin=plan.margin, confidence=plan.confidence,
                               prior_sd=plan.prior_sd)


def select(interactions: Mapping[str, Any] | Iterable[Any] | Frame, plan: SamplingPlan | dict[str, Any], *,
           seed: int | str, period_start: datetime, period_end: datetime,
           already_sampled: Iterable[Any] | None = None,
           coaching_agents: frozenset[Any] = frozenset()) -> Selection:
    """Choose the period's interactions for review under ``plan`` (see the module docstring)."""
    plan = plan if isinstance(plan, SamplingPlan) else parse_plan(plan)
    frame = interactions if isinstance(interactions, Frame) else to_frame(interactions)
    in_period = _window(frame, plan=plan, start=period_start, end=period_end)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(_entropy(seed)).spawn(5)]
    run = _Run(frame, in_period=in_period, already=in_period & _already_mask(frame, already_sampled),
               rank=streams[0].permutation(len(frame.labels["agent_id"])))
    budget = plan.budget(int(run.eligible.sum()))
    masks = rule_masks(frame, plan.risk_rules, in_period=in_period)
    risk = run.take(pick_risk(frame, masks, rules=plan.risk_rules, eligible=run.eligible,
                              quota=round(budget * plan.risk_share), max_per_agent=plan.risk_max_per_agent,
                              rng=streams[1]))
    random_frame = run.available()
    random = run.take(_random(frame, plan=plan, rows=random_frame, quota=budget - len(risk), rank=run.rank,
                              rng=streams[2]))
    targets = np.zeros(len(run.rank), dtype=np.int64)
    targets[_agent_codes(frame, coaching_agents)] = plan.targeted_per_agent
    targeted = run.take(_per_agent(frame, rows=run.available(), need=targets * run.active(), rank=run.rank,
                                   rng=streams[3]))
    need = run.missing(plan.min_per_agent)
    fairness = run.take(_per_agent(frame, rows=run.available(), need=need, rank=run.rank, rng=streams[4]))

    parts = {"risk": risk, "random": random, "targeted": targeted, "fairness": fairness}
    expected = len(random) * run.volume(random_frame) / max(len(random_frame), 1)
    per_agent = _allocations(run, parts=parts, expected=expected, shortfall=need - run.volume(fairness))
    picks, rows = _picks(frame, plan=plan, parts=parts, masks=masks)
    candidates = int((run.eligible & np.any(masks, axis=0)).sum()) if masks else 0
    return Selection(picks=picks, rows=rows, agents=per_agent, eligible=int(run.eligible.sum()),
                     budget=budget, risk_candidates=candidates,
                     counts={name: len(part) for name, part in parts.items()})


class _Run:
    """Book-keeping for one ``select`` call: what is eligible and what has been taken so far."""

    def __init__(self, frame: Frame, *, in_period: np.ndarray, already: np.ndarray, rank: np.ndarray):
        self.frame, self.in_period, self.already, self.rank = frame, in_period, already, rank
        self.eligible = in_period & ~already
        self.taken = already.copy()

    def take(self, rows: np.ndarray) -> np.ndarray:
        self.taken[rows] = True
        return rows

    def available(self) -> np.ndarray:
        return np.flatnonzero(self.eligible & ~self.taken)

    def volume(self, rows: np.ndarray) -> np.ndarray:
        """Rows per agent code."""
        return np.bincount(self.frame.codes["agent_id"][rows], minlength=len(self.rank))

    def active(self) -> np.ndarray:
        """1 for agents with an interaction in the period, else 0 (per agent code)."""
        return (self.volume(np.flatnonzero(self.in_period)) > 0).astype(np.int64)

    def missing(self, minimum: int) -> np.ndarray:
        """Picks each active agent still lacks to reach ``minimum`` (already sampled ones count)."""
        have = self.volume(np.flatnonzero(self.taken & self.in_period))
        return cast(np.ndarray, np.maximum(minimum - have, 0) * self.active())


def _entropy(seed: int | str) -> int:
    """A non-negative integer seed; strings (e.g. "tenant:2025-06") hash stably."""
    if isinstance(seed, str):
        return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:16], "big")
    if seed < 0:
        raise ValueError("the seed must be non-negative")
    return seed


def _window(frame: Frame, *, plan: SamplingPlan, start: datetime, end: datetime) -> np.ndarray:
    """Rows ending in [start, end); a window longer than the plan's period is refused because the
    per-period minimum would silently apply to a longer stretch."""
    if not start < end:
        raise ValueError("period_start must be before period_end")
    if end - start > _LONGEST[plan.period]:
        raise ValueError(f"the window is longer than one {plan.period}")
    return (frame.ended_s >= epoch_of(start)) & (frame.ended_s < epoch_of(end))


def _already_mask(frame: Frame, already_sampled: Iterable[Any] | None) -> np.ndarray:
    ids = set(already_sampled or ())
    if not ids:
        return np.zeros(frame.size, dtype=bool)
    kind = frame.conversation_id.dtype.kind
    if kind in "iu":  # ids of another type cannot match an integer column
        integers: list[Any] = [i for i in ids if isinstance(i, int | np.integer)]
        return np.isin(frame.conversation_id, integers)
    if kind == "U":
        return np.isin(frame.conversation_id, [i for i in ids if isinstance(i, str)])
    return np.fromiter((c in ids for c in frame.conversation_id.tolist()), dtype=bool, count=frame.size)


def _agent_codes(frame: Frame, agent_ids: Iterable[Any]) -> np.ndarray:
    code_of = {label: code for code, label in enumerate(frame.label_list("agent_id"))}
    return np.array([code_of[a] for a in agent_ids if a in code_of], dtype=np.int64)


def _random(frame: Frame, *, plan: SamplingPlan, rows: np.ndarray, quota: int, rank: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    """Random component: proportional systematic rounding over strata (see ``sampling_alloc``)."""
    keys = [rank[frame.codes["agent_id"]], *(frame.codes[k] for k in plan.strata[1:])]
    ordered, sizes = group_rows(rows, keys=keys, time=frame.ended_s)
    starts = np.cumsum(sizes) - sizes
    counts = grouped_counts(sizes, group=np.zeros(len(sizes), dtype=np.int64),
                            totals=np.array([quota]), rng=rng)
    return cast(np.ndarray, ordered[systematic_positions(starts, sizes=sizes, counts=counts, rng=rng)])


def _per_agent(frame: Frame, *, rows: np.ndarray, need: np.ndarray, rank: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """``need[agent]`` picks from each agent's rows, spread over channels, then queues and time."""
    agents = frame.codes["agent_id"]
    rows = rows[need[agents[rows]] > 0]
    by_rank = rank[agents]
    ordered, sizes = group_rows(rows, keys=[by_rank, frame.codes["channel"]], time=frame.ended_s)
    starts = np.cumsum(sizes) - sizes
    group = by_rank[ordered[starts]]
    totals = np.zeros(len(rank), dtype=np.int64)
    totals[rank] = need  # group index is the agent's rank
    available = np.bincount(group, weights=sizes, minlength=len(rank)).astype(np.int64)
    counts = grouped_counts(sizes, group=group, totals=np.minimum(totals, available), rng=rng)
    return cast(np.ndarray, ordered[systematic_positions(starts, sizes=sizes, counts=counts, rng=rng)])


def _allocations(run: _Run, *, parts: dict[str, np.ndarray], expected: np.ndarray,
                 shortfall: np.ndarray) -> dict[Any, AgentAllocation]:
    """One ``AgentAllocation`` per active agent, keyed by the caller's agent id."""
    population = run.volume(np.flatnonzero(run.in_period))
    columns = [population, run.volume(np.flatnonzero(run.already)),
               *(run.volume(parts[name]) for name in COMPONENTS),
               expected, np.ceil(expected - 1e-9).astype(np.int64), shortfall]
    active = np.flatnonzero(population)
    labels = run.frame.label_list("agent_id")
    rows = zip(*(column[active].tolist() for column in columns), strict=True)
    return {labels[code]: AgentAllocation(labels[code], *row) for code, row in zip(active.tolist(), rows,
                                                                                   strict=True)}


def _picks(frame: Frame, *, plan: SamplingPlan, parts: dict[str, np.ndarray],
           masks: list[np.ndarray]) -> tuple[tuple[Pick, ...], np.ndarray]:
    """Picks in row order, each with its reasons; reason tuples are shared per pattern."""
    risk_reasons = risk_reason_list(plan.risk_rules, fired_bits(masks, parts["risk"])) if masks else []
    reasons: list[tuple[str, ...]] = [
        *risk_reasons,
        *stratum_reasons(frame, parts["random"], keys=plan.strata),
        *[("target:coaching_plan",)] * len(parts["targeted"]),
        *[("fairness:minimum", *r) for r in stratum_reasons(frame, parts["fairness"], keys=("channel",))],
    ]
    components = [name for name in COMPONENTS for _ in range(len(parts[name]))]
    order = np.argsort(np.concatenate([parts[name] for name in COMPONENTS]), kind="stable")
    rows = np.concatenate([parts[name] for name in COMPONENTS]).astype(np.int64)[order]
    labels = frame.label_list("agent_id")
    agents = [labels[code] for code in frame.codes["agent_id"][rows].tolist()]
    positions = order.tolist()
    picks = tuple(map(Pick, frame.conversation_id[rows].tolist(), agents,
                      [components[i] for i in positions], [reasons[i] for i in positions]))
    return picks, rows
