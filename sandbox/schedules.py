"""Published WFM schedules: staggered 8-hour shifts, Monday to Friday, 15-minute aligned,
with a break, a meal, another break and sometimes a meeting. Activities inside a shift are
contiguous and never overlap, like a published Genesys schedule."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sandbox.ids import new_id

SHIFT_MINUTES = 480
# (category, name, paid); the order fixes the id sequence for a seed.
ACTIVITY_CODES = [("OnQueueWork", "On Queue Work", True), ("Break", "Break", True),
                  ("Meal", "Meal", False), ("Meeting", "Team Meeting", True),
                  ("Training", "Coaching", True), ("OffQueueWork", "Off Queue Work", True),
                  ("TimeOff", "Time Off", True), ("Unavailable", "Unavailable", False)]
COACHING_CODE = "Coaching"  # name of the code used for appointments added to schedules


@dataclass
class Activity:
    start: datetime  # UTC
    minutes: int
    category: str
    code_id: str
    description: str
    paid: bool = True
    external_id: str | None = None
    external_type: str | None = None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass
class Shift:
    id: str
    start: datetime
    minutes: int
    activities: list[Activity] = field(default_factory=list)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass
class ActivityCode:
    id: str
    name: str
    category: str
    paid: bool


def build_activity_codes(rng: random.Random) -> dict[str, ActivityCode]:
    """Keyed by name; 'Coaching' is the code appointments with addToSchedule land on."""
    codes = [ActivityCode(new_id(rng), name, category, paid)
             for category, name, paid in ACTIVITY_CODES]
    return {code.name: code for code in codes}


def build_week(rng: random.Random, *, monday: date, agent_ids: list[str], tz: ZoneInfo,
               codes: dict[str, ActivityCode]) -> dict[str, list[Shift]]:
    """Each agent keeps a home start time for the week (staggered 07:00-11:00), jittered daily."""
    week: dict[str, list[Shift]] = {}
    for index, agent_id in enumerate(agent_ids):
        home = 7 * 60 + (index * 30) % (4 * 60 + 30)
        week[agent_id] = [_build_shift(rng, day=monday + timedelta(days=offset), home=home,
                                       tz=tz, codes=codes) for offset in range(5)]
    return week


def _build_shift(rng: random.Random, *, day: date, home: int, tz: ZoneInfo,
                 codes: dict[str, ActivityCode]) -> Shift:
    start_minute = home + rng.choice([-30, -15, 0, 0, 0, 15, 30])
    local = datetime.combine(day, time(start_minute // 60, start_minute % 60), tzinfo=tz)
    shift = Shift(id=new_id(rng), start=local.astimezone(ZoneInfo("UTC")), minutes=SHIFT_MINUTES)
    blocks = _off_queue_blocks(rng)
    shift.activities = _fill_on_queue(shift, blocks, codes)
    return shift


def _off_queue_blocks(rng: random.Random) -> list[tuple[int, int, str]]:
    """(offset minutes, length, code name) for everything that is not on-queue work."""
    blocks = [(120 + rng.choice([-15, 0, 15]), 15, "Break"),
              (240 + rng.choice([-30, -15, 0, 15]), 30, "Meal"),
              (375 + rng.choice([-15, 0, 15]), 15, "Break")]
    if rng.random() < 0.25:
        blocks.append((rng.choice([45, 60, 180, 315, 420]), rng.choice([30, 45]), "Team Meeting"))
    return _drop_clashes(sorted(blocks))


def _drop_clashes(blocks: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    kept: list[tuple[int, int, str]] = []
    for block in blocks:
        if not kept or block[0] >= kept[-1][0] + kept[-1][1]:
            kept.append(block)
    return kept


def _fill_on_queue(shift: Shift, blocks: list[tuple[int, int, str]],
                   codes: dict[str, ActivityCode]) -> list[Activity]:
    activities, cursor = [], 0
    for offset, length, name in [*blocks, (shift.minutes, 0, "")]:
        if offset > cursor:
            activities.append(make_activity(shift.start + timedelta(minutes=cursor),
                                            offset - cursor, codes["On Queue Work"]))
        if length:
            activities.append(make_activity(shift.start + timedelta(minutes=offset), length,
                                            codes[name]))
        cursor = offset + length
    return activities


def make_activity(start: datetime, minutes: int, code: ActivityCode, **extra) -> Activity:
    return Activity(start=start, minutes=minutes, category=code.category, code_id=code.id,
                    description=code.name, paid=code.paid, **extra)


def insert_activity(shift: Shift, new: Activity) -> bool:
    """Carve `new` out of one on-queue activity; False (nothing changed) when it does not fit
    entirely inside on-queue work, since Genesys would not overwrite breaks or meals."""
    for index, current in enumerate(shift.activities):
        if current.category != "OnQueueWork":
            continue
        if current.start <= new.start and new.end <= current.end:
            pieces = _split(current, new)
            shift.activities[index:index + 1] = pieces
            return True
    return False


def _split(current: Activity, new: Activity) -> list[Activity]:
    before = int((new.start - current.start).total_seconds() // 60)
    after = int((current.end - new.end).total_seconds() // 60)
    pieces = []
    if before:
        pieces.append(_clone(current, current.start, before))
    pieces.append(new)
    if after:
        pieces.append(_clone(current, new.end, after))
    return pieces


def _clone(activity: Activity, start: datetime, minutes: int) -> Activity:
    return Activity(start=start, minutes=minutes, category=activity.category,
                    code_id=activity.code_id, description=activity.description,
                    paid=activity.paid)
