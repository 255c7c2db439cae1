"""Builders for sampling tests: single records for worked examples, seeded columnar months."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from extension.sampling.domain.selection import DEFAULT_PLAN

MONTH_START = datetime(2025, 6, 1, tzinfo=UTC)
MONTH_END = datetime(2025, 7, 1, tzinfo=UTC)
CHANNELS = np.array(["voice", "chat", "email"])


def record(n: int, **overrides: Any) -> dict[str, Any]:
    """An unremarkable interaction: no risk rule fires on it."""
    base = {
        "conversation_id": f"c{n}", "agent_id": "a1", "channel": "voice", "queue_id": "q1",
        "inquiry": "billing", "ended_at": MONTH_START + timedelta(hours=1 + n),
        "t_handle_ms": 300_000, "transferred": False, "repeat_contact": False, "csat": 4,
        "customer_sentiment": 0.2, "sentiment_trend": 0.0, "escalation": False, "compliance_miss": False,
    }
    return {**base, **overrides}


def plan(**changes: Any) -> dict[str, Any]:
    """The default plan with top-level keys replaced (deep-copied so tests never share state)."""
    doc = copy.deepcopy(DEFAULT_PLAN)
    doc.update(copy.deepcopy(changes))
    return doc


def random_only(*, rate: float = 0.02, minimum: int = 0, per_agent: int = 0) -> dict[str, Any]:
    """A plan with only the random component, for proportionality checks."""
    return plan(mix={"risk": 0.0, "random": 1.0}, budget={"rate": rate}, min_per_agent=minimum,
                targeted={"per_agent": per_agent})


def month(*, size: int, agents: int, seed: int, queues: int = 12,
          inquiries: int = 20) -> dict[str, np.ndarray]:
    """A seeded month of interactions as columnar arrays, with uneven agent volumes."""
    rng = np.random.default_rng(seed)
    weights = rng.gamma(2.0, 1.0, agents)
    agent = rng.choice(agents, size=size, p=weights / weights.sum())
    inquiry = rng.integers(0, inquiries, size)
    typical = rng.uniform(120_000, 900_000, inquiries)
    seconds = rng.integers(0, int((MONTH_END - MONTH_START).total_seconds()), size)
    csat = np.where(rng.random(size) < 0.3, rng.integers(1, 6, size), np.nan)
    return {
        "conversation_id": np.arange(size),
        "agent_id": agent,
        "channel": CHANNELS[rng.choice(3, size=size, p=[0.6, 0.3, 0.1])],
        "queue_id": (agent * 7 + rng.integers(0, 3, size)) % queues,
        "inquiry": inquiry,
        "ended_at": np.datetime64(MONTH_START.replace(tzinfo=None), "s") + seconds.astype("timedelta64[s]"),
        "t_handle_ms": typical[inquiry] * rng.lognormal(0.0, 0.45, size),
        "transferred": rng.random(size) < 0.08,
        "repeat_contact": rng.random(size) < 0.1,
        "csat": csat,
        "customer_sentiment": np.clip(rng.normal(0.1, 0.35, size), -1, 1),
        "sentiment_trend": np.clip(rng.normal(0.0, 0.3, size), -2, 2),
        "escalation": rng.random(size) < 0.02,
        "compliance_miss": rng.random(size) < 0.03,
    }
