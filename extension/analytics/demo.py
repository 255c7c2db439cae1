"""A realistic demo tenant's people and interaction facts, seeded and repeatable.

Teams of 12 agents under one supervisor each; per-agent skill; a few agents improving and a few
declining over the period; more traffic on weekdays and mid-morning; an inquiry and channel mix;
email without predicted satisfaction/resolution (its AES falls back to AHT).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

INQUIRIES = (("billing", 0.3), ("tech", 0.25), ("sales", 0.2), ("cancel", 0.1), ("moving", 0.1),
             ("other", 0.05))
CHANNELS = (("voice", 0.55), ("chat", 0.25), ("email", 0.12), ("message", 0.08))
QUEUES = ("q-billing", "q-support", "q-sales")
HOURLY = [0, 0, 0, 0, 0, 0, 1, 3, 6, 9, 10, 9, 7, 7, 8, 8, 7, 5, 3, 2, 1, 1, 0, 0]
TEAM_SIZE = 12


def people(agents: int) -> list[dict]:
    """Agents a0000.. in teams t000.. of 12, each team led by supervisor s000.., one manager."""
    teams = math.ceil(agents / TEAM_SIZE)
    rows = [{"id": f"s{t:03d}", "name": f"Supervisor {t}", "role": "supervisor", "team_id": f"t{t:03d}",
             "supervisor_id": "m000"} for t in range(teams)]
    rows += [{"id": f"a{i:04d}", "name": f"Agent {i}", "role": "agent", "team_id": f"t{i // TEAM_SIZE:03d}",
              "supervisor_id": f"s{i // TEAM_SIZE:03d}"} for i in range(agents)]
    manager = {"id": "m000", "name": "Manager", "role": "manager", "team_id": None, "supervisor_id": None}
    return [*rows, manager]


def _pick(rng: random.Random, weighted) -> str:
    return rng.choices([name for name, _ in weighted], weights=[w for _, w in weighted])[0]


def _drift(rng: random.Random) -> float:
    roll = rng.random()
    return 0.3 if roll < 0.05 else (-0.3 if roll < 0.10 else 0.0)  # improving / declining agents


def interactions(*, agents: int, days: int, seed: int, end: datetime | None = None,
                 per_agent_day: float = 6.0) -> Iterator[dict]:
    """Interaction records (kpis field names) ending on the days before ``end`` (UTC)."""
    rng = random.Random(seed)
    end = (end or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    skills = {i: (rng.uniform(0.55, 1.0), _drift(rng)) for i in range(agents)}
    number = 0
    for day in range(days):
        date0 = start + timedelta(days=day)
        load = per_agent_day * (0.45 if date0.weekday() >= 5 else 1.1)
        for i in range(agents):
            base, drift = skills[i]
            skill = min(1.0, max(0.3, base + drift * day / max(days, 1)))
            for _ in range(_poisson(rng, load)):
                ended = date0 + timedelta(hours=rng.choices(range(24), weights=HOURLY)[0],
                                          seconds=rng.randint(0, 3599))
                number += 1
                yield _record(rng, number=number, agent=i, skill=skill, ended_at=ended, seed=seed)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k, p = k + 1, p * rng.random()
    return k


def _maybe(rng: random.Random, share: float, value):
    return value if rng.random() < share else None


def _record(rng: random.Random, *, number: int, agent: int, skill: float, ended_at: datetime,
            seed: int) -> dict:
    channel, inquiry = _pick(rng, CHANNELS), _pick(rng, INQUIRIES)
    talk = int(rng.lognormvariate(5.6, 0.5) * (1.6 - skill) * 1000)
    hold = rng.choice([0, 0, 0, int(rng.uniform(5, 120) * 1000)])
    acw = int(rng.uniform(10, 120) * (1.5 - skill) * 1000)
    predicted = channel != "email"
    sat = min(1.0, max(0.05, rng.gauss(0.55 + 0.4 * skill, 0.1)))
    res = min(1.0, max(0.05, rng.gauss(0.5 + 0.45 * skill, 0.1)))
    return {
        "conversation_id": f"demo-{seed}-{number:09d}", "agent_id": f"a{agent:04d}",
        "team_id": f"t{agent // TEAM_SIZE:03d}", "queue_id": rng.choice(QUEUES), "inquiry": inquiry,
        "channel": channel, "ended_at": ended_at, "t_talk_ms": talk, "t_hold_ms": hold, "t_acw_ms": acw,
        "t_handle_ms": talk + hold + acw, "transferred": rng.random() < 0.2 - 0.12 * skill,
        "fcr": rng.random() < res if rng.random() < 0.8 else None,
        "csat": max(1, min(5, round(1 + 4 * sat + rng.gauss(0, 0.6)))) if rng.random() < 0.25 else None,
        "nps": max(0, min(10, round(10 * sat + rng.gauss(0, 1.5)))) if rng.random() < 0.15 else None,
        "qa_score": _maybe(rng, 0.1, round(min(100.0, max(30.0, rng.gauss(60 + 35 * skill, 8))), 1)),
        "customer_sentiment": round(max(-1.0, min(1.0, rng.gauss(2 * sat - 1, 0.3))), 2),
        "agent_sentiment": round(max(-1.0, min(1.0, rng.gauss(0.3 + 0.4 * skill, 0.2))), 2),
        "p_satisfaction": round(sat, 3) if predicted else None,
        "p_resolution": round(res, 3) if predicted else None,
    }
