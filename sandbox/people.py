"""The org's people, teams and queues: plain data built from the seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sandbox.ids import new_id

FIRST = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Leo",
         "Freya", "Oscar", "Lily", "Harry", "Grace", "Jack", "Sophie", "Theo", "Ella", "Finn",
         "Chloe", "Henry", "Ruby", "Alfie", "Zara", "Samir", "Priya", "Tomasz", "Lucia", "Kofi"]
LAST = ["Smith", "Jones", "Patel", "Taylor", "Brown", "Khan", "Wilson", "Evans", "Nowak",
        "Garcia", "Okafor", "Murphy", "Walsh", "Chen", "Singh", "Hughes", "Byrne", "Silva"]
TEAM_NAMES = ["Team Aurora", "Team Borealis", "Team Cirrus"]
QUEUES = [("Billing", "voice"), ("Technical Support", "voice"), ("Sales Chat", "chat"),
          ("Customer Care Digital", "message")]


@dataclass
class Person:
    id: str
    name: str
    email: str
    role: str  # agent | supervisor | integration
    team_id: str | None = None
    skill: float = 0.8  # 0..1, drives how often the agent's tone is negative
    struggling: bool = False
    state: str = "active"  # active | inactive | deleted (the users endpoints' `state`)


@dataclass
class Team:
    id: str
    name: str
    supervisor_id: str
    agent_ids: list[str] = field(default_factory=list)


@dataclass
class Queue:
    id: str
    name: str
    media_type: str


def build_people(rng: random.Random) -> tuple[dict[str, Person], list[Team], list[Queue]]:
    names = _unique_names(rng, 60)
    people: dict[str, Person] = {}
    teams = [_build_team(rng, number, names, people) for number in (1, 2, 3)]
    _mark_struggling(rng, teams, people)
    queues = [Queue(id=new_id(rng), name=name, media_type=media) for name, media in QUEUES]
    integration = Person(id=new_id(rng), name="Coachwire Integration",
                         email="integration@sandbox.test", role="integration")
    people[integration.id] = integration
    return people, teams, queues


def _unique_names(rng: random.Random, count: int) -> list[str]:
    pool = [f"{first} {last}" for first in FIRST for last in LAST]
    return rng.sample(pool, count)


def _build_team(rng: random.Random, number: int, names: list[str],
                people: dict[str, Person]) -> Team:
    supervisor = Person(id=new_id(rng), name=names.pop(), email=f"sup{number}@sandbox.test",
                        role="supervisor")
    team = Team(id=new_id(rng), name=TEAM_NAMES[number - 1], supervisor_id=supervisor.id)
    supervisor.team_id = team.id
    people[supervisor.id] = supervisor
    for index in range(rng.randint(8, 12)):
        agent = Person(id=new_id(rng), name=names.pop(), role="agent", team_id=team.id,
                       email=f"agent{number}{index + 1:02d}@sandbox.test",
                       skill=round(rng.uniform(0.6, 0.97), 2))
        people[agent.id] = agent
        team.agent_ids.append(agent.id)
    return team


def _mark_struggling(rng: random.Random, teams: list[Team], people: dict[str, Person]) -> None:
    """Two agents in different teams struggle, so coaching triggers have someone to find."""
    for team in rng.sample(teams, 2):
        agent = people[rng.choice(team.agent_ids)]
        agent.struggling = True
        agent.skill = round(rng.uniform(0.15, 0.3), 2)
