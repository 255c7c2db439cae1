"""The in-memory org: built once from a seed, then mutated only under `World.lock`.

Everything random comes from one `random.Random(seed)` consumed in a fixed order, so ids and
content are identical for a given seed; only dates depend on `now` (the current ISO week)."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sandbox.ids import new_id
from sandbox.people import Person, Queue, Team, build_people
from sandbox.schedules import ActivityCode, Shift, build_activity_codes, build_week
from sandbox.staffing import (
    GROUP_MIX,
    forecast_groups,
    on_queue_headcount,
    peak_for,
    required_curve,
)
from sandbox.timeutil import week_start_of

TIME_ZONE = "Europe/London"


@dataclass
class WeekPlan:
    monday: date  # the first day of the BU week (its startDayOfWeek; a Monday by default)
    reference: datetime  # that day 00:00 in the business unit's zone, as UTC
    schedule_id: str
    forecast_id: str
    shifts: dict[str, list[Shift]]
    forecast: list[dict]  # ForecastPlanningGroupData
    first_week: date | None = None  # weekDate of the schedule/forecast holding this week
    week_count: int = 1  # weekCount of that schedule/forecast

    @property
    def schedule_week(self) -> date:
        return self.first_week or self.monday

    @property
    def week_number(self) -> int:
        return (self.monday - self.schedule_week).days // 7


@dataclass
class Busy:
    start: datetime
    end: datetime
    subject: str
    status: str = "busy"


@dataclass
class World:
    seed: int
    created: datetime
    org_id: str
    division_id: str
    bu_id: str
    mu_id: str
    tz: ZoneInfo
    people: dict[str, Person]
    teams: list[Team]
    queues: list[Queue]
    codes: dict[str, ActivityCode]
    planning_groups: dict[str, str]
    wrapup_codes: dict[str, str]  # inquiry name -> wrap-up code id
    weeks: dict[date, WeekPlan] = field(default_factory=dict)
    calendars: dict[str, list[Busy]] = field(default_factory=dict)
    appointments: dict[str, dict] = field(default_factory=dict)
    recognitions: dict[str, dict] = field(default_factory=dict)
    conversations: dict[str, dict] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    start_day: str = "Monday"  # the BU's startDayOfWeek

    @property
    def agents(self) -> list[Person]:
        return [p for p in self.people.values() if p.role == "agent"]

    @property
    def supervisors(self) -> list[Person]:
        return [p for p in self.people.values() if p.role == "supervisor"]

    @property
    def integration_user(self) -> Person:
        return next(p for p in self.people.values() if p.role == "integration")

    def team_of(self, user_id: str) -> Team | None:
        person = self.people.get(user_id)
        return next((t for t in self.teams if person and t.id == person.team_id), None)

    def supervisor_of(self, agent_id: str) -> Person | None:
        team = self.team_of(agent_id)
        return self.people[team.supervisor_id] if team else None

    def week_for(self, when: datetime) -> WeekPlan | None:
        return self.weeks.get(week_start_of(when.astimezone(self.tz).date(), self.start_day))

    def shifts_of(self, user_id: str) -> list[Shift]:
        return [s for week in self.weeks.values() for s in week.shifts.get(user_id, [])]


INQUIRIES = ["Billing dispute", "Technical fault", "Cancellation request", "Order status",
             "Account update"]


def build_world(*, seed: int = 7, now: datetime | None = None, start_day: str = "Monday",
                time_zone: str = TIME_ZONE, schedule_weeks: int = 1) -> World:
    """The org. Its business unit's weeks start on `start_day` in `time_zone`; this week and
    the next are scheduled, by one schedule (and forecast) per `schedule_weeks` weeks."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    people, teams, queues = build_people(rng)
    world = World(seed=seed, created=now, org_id=new_id(rng), division_id=new_id(rng),
                  bu_id=new_id(rng), mu_id=new_id(rng), tz=ZoneInfo(time_zone), people=people,
                  teams=teams, queues=queues, codes=build_activity_codes(rng),
                  planning_groups={media: new_id(rng) for media in GROUP_MIX},
                  wrapup_codes={name: new_id(rng) for name in INQUIRIES}, start_day=start_day)
    this_week = week_start_of(now.astimezone(world.tz).date(), start_day)
    for first in (this_week, this_week + timedelta(days=7)):
        world.weeks[first] = _build_plan(rng, world, first)
    if schedule_weeks > 1:  # one schedule and forecast (ids of the first week) span them all
        head = world.weeks[this_week]
        for plan in world.weeks.values():
            plan.schedule_id, plan.forecast_id = head.schedule_id, head.forecast_id
            plan.first_week, plan.week_count = this_week, schedule_weeks
    world.calendars = {s.email: _busy_blocks(rng, world, s) for s in world.supervisors}
    return world


def _build_plan(rng: random.Random, world: World, monday: date) -> WeekPlan:
    reference = datetime.combine(monday, time(0), tzinfo=world.tz).astimezone(UTC)
    agent_ids = [a.id for a in world.agents]
    shifts = build_week(rng, monday=monday, agent_ids=agent_ids, tz=world.tz, codes=world.codes)
    peak = peak_for(on_queue_headcount(shifts, reference=reference))
    required = required_curve(reference=reference, tz=world.tz, peak_required=peak)
    return WeekPlan(monday=monday, reference=reference, schedule_id=new_id(rng),
                    forecast_id=new_id(rng), shifts=shifts,
                    forecast=forecast_groups(required, world.planning_groups))


def _busy_blocks(rng: random.Random, world: World, supervisor: Person) -> list[Busy]:
    """A daily 09:00 stand-up plus one to three meetings a day, some tentative."""
    blocks = []
    for monday in world.weeks:
        for offset in range(5):
            day = monday + timedelta(days=offset)
            blocks.append(_local_block(world, day, 9 * 60, 30, "Team stand-up"))
            for _ in range(rng.randint(1, 3)):
                start = rng.choice(range(10 * 60, 17 * 60, 30))
                block = _local_block(world, day, start, rng.choice([30, 60]), "Meeting")
                block.status = "tentative" if rng.random() < 0.2 else "busy"
                blocks.append(block)
    return sorted(blocks, key=lambda b: b.start)


def _local_block(world: World, day: date, minute: int, length: int, subject: str) -> Busy:
    start = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=world.tz)
    return Busy(start=start.astimezone(UTC),
                end=(start + timedelta(minutes=length)).astimezone(UTC), subject=subject)
