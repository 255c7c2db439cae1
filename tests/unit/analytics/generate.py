"""Seeded interaction records for the analytics tests.

40 agents over 30 days around the spring DST change in Europe/London (and a month and quarter
boundary), several inquiries and channels, email without predictions, sparse surveys, an agent
with one interaction, one with none, two agents cloned from others (exact ties everywhere), and
hand-placed records at local midnight on both DST changes and at an ISO-year boundary.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

AGENTS = [f"a{i:02d}" for i in range(40)]
ONE_INTERACTION, NO_INTERACTIONS = "a38", "a39"
CLONES = {"a36": "a00", "a37": "a01"}
TEAMS = ["t1", "t2", "t3", "t4"]
QUEUES = ["q-billing", "q-support", "q-sales"]
INQUIRIES = ["billing", "tech", "sales", "cancel", "moving"]
CHANNELS = ["voice", "chat", "email", "message"]
START = datetime(2025, 3, 15, tzinfo=UTC)
DAYS = 30
# UTC instants whose local (Europe/London) day, week, month or quarter differs from UTC's
EDGE_INSTANTS = [
    datetime(2025, 3, 29, 23, 30, tzinfo=UTC),  # GMT: still 29 March locally
    datetime(2025, 3, 30, 0, 59, tzinfo=UTC),  # just before the spring change
    datetime(2025, 3, 30, 1, 0, tzinfo=UTC),  # 02:00 BST, the first instant of summer time
    datetime(2025, 3, 30, 23, 30, tzinfo=UTC),  # BST: 31 March 00:30 locally
    datetime(2025, 3, 31, 23, 30, tzinfo=UTC),  # BST: 1 April locally, next month and quarter
    datetime(2025, 4, 6, 23, 30, tzinfo=UTC),  # Sunday UTC, Monday locally: next ISO week
    datetime(2025, 10, 25, 23, 30, tzinfo=UTC),  # BST: 26 October 00:30 locally
    datetime(2025, 10, 26, 0, 30, tzinfo=UTC),  # 01:30 BST, before the clocks go back
    datetime(2025, 10, 26, 1, 30, tzinfo=UTC),  # 01:30 GMT, the repeated local hour
    datetime(2025, 10, 26, 23, 30, tzinfo=UTC),  # GMT again: still 26 October
    datetime(2025, 12, 28, 23, 30, tzinfo=UTC),  # Sunday 28 Dec: ISO 2025-W52
    datetime(2025, 12, 31, 23, 30, tzinfo=UTC),  # Wednesday: ISO week 2026-W01
]


def _maybe(rng: random.Random, share: float, value):
    return value if rng.random() < share else None


def _record(rng: random.Random, *, number: int, agent: str, skill: float, ended_at: datetime) -> dict:
    channel = rng.choice(CHANNELS)
    inquiry = rng.choice(INQUIRIES)
    talk = rng.randint(60, 900) * 1000
    hold = rng.choice([0, 0, 0, rng.randint(5, 180)]) * 1000
    acw = rng.randint(10, 240) * 1000
    predicted = channel != "email"
    return {
        "conversation_id": f"c{number:06d}",
        "agent_id": agent,
        "team_id": TEAMS[int(agent[1:]) % len(TEAMS)],
        "queue_id": rng.choice(QUEUES),
        "inquiry": inquiry,
        "channel": channel,
        "ended_at": ended_at,
        "t_talk_ms": talk,
        "t_hold_ms": hold,
        "t_acw_ms": acw,
        "t_handle_ms": None if rng.random() < 0.005 else talk + hold + acw,
        "transferred": rng.random() < 0.12 + (1 - skill) * 0.1,
        "fcr": _maybe(rng, 0.8, rng.random() < 0.6 + skill * 0.3),
        "csat": _maybe(rng, 0.3, rng.randint(1, 5)),
        "nps": _maybe(rng, 0.2, rng.randint(0, 10)),
        "qa_score": _maybe(rng, 0.15, rng.randint(40, 100)),
        "customer_sentiment": _maybe(rng, 0.9, round(rng.uniform(-1, 1), 2)),
        "agent_sentiment": _maybe(rng, 0.8, round(rng.uniform(-0.5, 1), 2)),
        "p_satisfaction": round(rng.uniform(0.3, 1.0) * skill, 2) if predicted else None,
        "p_resolution": round(rng.uniform(0.4, 1.0), 2) if predicted else None,
    }


def generate(seed: int = 7) -> list[dict]:
    """The records; the same seed gives the same list."""
    rng = random.Random(seed)
    records: list[dict] = []
    regular = [a for a in AGENTS if a not in CLONES and a not in (ONE_INTERACTION, NO_INTERACTIONS)]
    skills = {agent: rng.uniform(0.5, 1.0) for agent in AGENTS}
    for day in range(DAYS):
        for agent in regular:
            for _ in range(rng.randint(3, 12)):
                ended = START + timedelta(days=day, seconds=rng.randint(0, 86_399))
                records.append(
                    _record(rng, number=len(records), agent=agent, skill=skills[agent], ended_at=ended)
                )
    for ended in EDGE_INSTANTS:
        for agent in rng.sample(regular, 3):
            records.append(
                _record(rng, number=len(records), agent=agent, skill=skills[agent], ended_at=ended)
            )
    records.append(
        _record(
            rng, number=len(records), agent=ONE_INTERACTION, skill=0.8, ended_at=START + timedelta(days=3)
        )
    )
    for clone, original in CLONES.items():
        for record in [r for r in records if r["agent_id"] == original]:
            records.append(
                {**record, "agent_id": clone, "conversation_id": f"{record['conversation_id']}-{clone}"}
            )
    return records
