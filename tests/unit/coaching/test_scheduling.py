"""Slot finding: inside on-queue time, off peak, highest surplus, free for the supervisor."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from extension.coaching.domain.scheduling import (
    NoSlot,
    SlotChoice,
    SlotRequest,
    choose_from_host_slots,
    choose_from_staffing,
)
from extension.coaching.domain.staffing import Interval

TZ = "Europe/London"  # BST (UTC+1) until Sunday 2025-10-26 01:00 UTC, then GMT
QUARTER = timedelta(minutes=15)


def t(day, hour, minute=0):
    """An instant in UTC on a day of October 2025."""
    return datetime(2025, 10, day, hour, minute, tzinfo=UTC)


def activity(start, end, category="OnQueueWork", **extra):
    return {"start": start, "end": end, "category": category, **extra}


def staffing(first, last, *, surplus=None, required=None, default_surplus=2, default_required=10):
    """Quarter-hour intervals from ``first`` to ``last``, with per-start overrides."""
    surplus, required = surplus or {}, required or {}
    intervals, start = [], first
    while start < last:
        need = required.get(start, default_required)
        spare = surplus.get(start, default_surplus)
        intervals.append(Interval(start, start + QUARTER, need + spare, need, spare))
        start += QUARTER
    return intervals


# Monday 2025-10-20, shift 09:00-17:00 London = 08:00-16:00 UTC, with a break and a meal.
MONDAY_SHIFT = [
    activity(t(20, 8), t(20, 10)),
    activity(t(20, 10), t(20, 10, 15), "Break"),
    activity(t(20, 10, 15), t(20, 12)),
    activity(t(20, 12), t(20, 12, 30), "Meal"),
    activity(t(20, 12, 30), t(20, 16)),
]
SPIKE = {t(20, 15, 45): 30}  # one busy interval, so the 0.99 quantile leaves the rest usable


def request(**changes):
    base = SlotRequest(
        activities=MONDAY_SHIFT,
        agent_busy=[],
        supervisor_busy=[],
        now=t(20, 7),
        tz=TZ,
        horizon_days=5,
        length_minutes=30,
        peak_quantile=0.99,
    )
    return replace(base, **changes)


def monday(**overrides):
    return staffing(
        t(20, 8), t(20, 16), required=SPIKE | overrides.pop("required", {}), **overrides
    )


def overlaps(choice, start, end):
    return choice.start < end and start < choice.end


# ---------------------------------------------------------------- computed staffing


def test_prefers_the_highest_surplus_after_taking_the_agent_off():
    choice = choose_from_staffing(request(), monday(surplus={t(20, 13): 6, t(20, 13, 15): 6}))
    assert isinstance(choice, SlotChoice)
    assert (choice.start, choice.end, choice.surplus) == (t(20, 13), t(20, 13, 30), 5)
    assert choice.reason["source"] == "computed"
    assert choice.reason["chosen_surplus"] == 5


def test_ties_go_to_the_earliest_slot():
    choice = choose_from_staffing(request(), monday())
    assert (choice.start, choice.surplus) == (t(20, 8), 1)


def test_never_overlaps_breaks_or_meals_even_when_they_look_quiet():
    quiet = {t(20, 9, 45): 9, t(20, 10): 9, t(20, 11, 45): 9, t(20, 12): 9, t(20, 12, 15): 9}
    choice = choose_from_staffing(request(), monday(surplus=quiet))
    assert not overlaps(choice, t(20, 10), t(20, 10, 15))
    assert not overlaps(choice, t(20, 12), t(20, 12, 30))
    assert choice.surplus == 1
    assert choice.reason["rejected"]["outside_shift"] >= 4


def test_avoids_existing_appointments_and_coaching_on_the_schedule():
    quiet = {t(20, 13): 9, t(20, 13, 15): 9, t(20, 14): 8, t(20, 14, 15): 8}
    shift = [
        *MONDAY_SHIFT,
        activity(t(20, 14), t(20, 14, 30), "Meeting", externalActivityType="Coaching"),
    ]
    req = request(activities=shift, agent_busy=[(t(20, 13), t(20, 13, 30))])
    choice = choose_from_staffing(req, monday(surplus=quiet))
    assert not overlaps(choice, t(20, 13), t(20, 14, 30))


def test_queue_work_tagged_as_coaching_is_not_available():
    shift = [
        activity(t(20, 8), t(20, 9)),
        activity(t(20, 9), t(20, 10), externalActivityType="Coaching"),
    ]
    choice = choose_from_staffing(
        request(activities=shift), monday(surplus={t(20, 9): 9, t(20, 9, 15): 9})
    )
    assert choice.end <= t(20, 9)


def test_skips_slots_the_supervisor_is_busy_for():
    quiet = {t(20, 13): 6, t(20, 13, 15): 6, t(20, 14): 5, t(20, 14, 15): 5}
    busy = [{"start": "2025-10-20T13:00:00Z", "end": "2025-10-20T13:30:00Z"}]
    choice = choose_from_staffing(request(supervisor_busy=busy), monday(surplus=quiet))
    assert (choice.start, choice.surplus) == (t(20, 14), 4)
    assert choice.reason["rejected"]["supervisor_busy"] == 1


def test_never_picks_intervals_at_or_above_the_peak_quantile():
    afternoon = {t(20, 13) + i * QUARTER: 20 for i in range(12)}
    plenty = dict.fromkeys(afternoon, 8)
    staff = staffing(t(20, 8), t(20, 16), required=afternoon, surplus=plenty, default_surplus=1)
    choice = choose_from_staffing(request(peak_quantile=0.8), staff)
    assert choice.reason["peak_threshold"] == 20
    assert choice.end <= t(20, 13)
    assert choice.surplus == 0
    assert choice.reason["rejected"]["peak"] > 0


def test_never_takes_the_last_spare_agent_off_the_queue():
    staff = monday(default_surplus=0)
    outcome = choose_from_staffing(request(), staff)
    assert isinstance(outcome, NoSlot)
    assert outcome.reason["rejected"]["peak"] == outcome.reason["candidates"] - sum(
        n for k, n in outcome.reason["rejected"].items() if k != "peak"
    )
    assert outcome.reason["chosen_surplus"] is None


def test_flat_forecast_has_no_peak_so_a_slot_is_chosen():
    # When need never varies there is no peak to avoid; surplus alone ranks the slots.
    outcome = choose_from_staffing(request(peak_quantile=0.8), staffing(t(20, 8), t(20, 16)))
    assert isinstance(outcome, SlotChoice)
    assert outcome.reason["rejected"]["peak"] == 0


def test_starts_on_a_quarter_hour_after_now():
    choice = choose_from_staffing(request(now=t(20, 12, 40)), monday())
    assert choice.start == t(20, 12, 45)
    assert choice.reason["rejected"]["outside_horizon"] > 0


def test_slots_without_staffing_data_are_not_guessed():
    staff = staffing(t(20, 8), t(20, 12), required={t(20, 8): 30}, default_surplus=2)
    staff += staffing(
        t(20, 12, 30), t(20, 16), required={t(20, 15, 45): 30}, surplus={t(20, 13): 9}
    )
    late_morning = [activity(t(20, 11), t(20, 13))]  # queue time across the 12:00-12:30 gap
    outcome = choose_from_staffing(request(activities=late_morning), staff)
    assert (outcome.start, outcome.surplus) == (t(20, 11), 1)
    assert outcome.reason["rejected"]["no_staffing_data"] == 1  # 11:45-12:15 spans the gap


# ---------------------------------------------------------------- horizon, weekend, DST

FRIDAY_NOW = t(24, 15)  # Friday 16:00 BST
WEEKEND_SHIFTS = [
    activity(t(24, 8), t(24, 16)),  # Friday 09:00-17:00 BST
    activity(t(24, 23), t(25, 0)),  # Friday 23:00 UTC is already Saturday 00:00 BST
    activity(t(25, 10), t(25, 12)),  # Saturday
    activity(t(27, 9), t(27, 17)),  # Monday 09:00-17:00 GMT, after the clocks went back
    activity(t(27, 23), t(28, 0)),  # Monday 23:00 GMT, still Monday locally
    activity(t(28, 0), t(28, 1)),  # Tuesday
]


def weekend_staffing():
    return [
        *staffing(t(24, 8), t(24, 16), required={t(24, 15, 45): 30}),
        *staffing(t(24, 23), t(25, 0), default_surplus=9),
        *staffing(t(25, 10), t(25, 12), default_surplus=9),
        *staffing(t(27, 9), t(27, 17), default_surplus=3, required={t(27, 12): 30}),
        *staffing(t(27, 23), t(28, 0), default_surplus=5),
        *staffing(t(28, 0), t(28, 1), default_surplus=9),
    ]


def test_horizon_counts_business_days_and_skips_the_weekend_across_dst():
    req = request(activities=WEEKEND_SHIFTS, now=FRIDAY_NOW, horizon_days=2)
    choice = choose_from_staffing(req, weekend_staffing())
    assert (choice.start, choice.surplus) == (t(27, 23), 4)
    assert choice.reason["horizon_end"] == "2025-10-28T00:00:00+00:00"  # Tuesday midnight GMT
    # Friday's past slots, the Friday-night (local Saturday), Saturday and Tuesday candidates.
    assert choice.reason["rejected"]["outside_horizon"] >= 4 + 8 + 4


def test_a_one_day_horizon_stays_on_friday():
    req = request(activities=WEEKEND_SHIFTS, now=FRIDAY_NOW, horizon_days=1)
    choice = choose_from_staffing(req, weekend_staffing())
    assert (choice.start, choice.end, choice.surplus) == (t(24, 15), t(24, 15, 30), 1)


def test_holidays_are_not_business_days():
    req = request(
        activities=WEEKEND_SHIFTS,
        now=FRIDAY_NOW,
        horizon_days=2,
        holidays=frozenset({t(27, 12).date()}),
    )
    choice = choose_from_staffing(req, weekend_staffing())
    assert choice.start == t(28, 0)  # Monday is skipped, so Tuesday joins the horizon


# ---------------------------------------------------------------- host-suggested slots


def host_slot(start, difference, length=30):
    return {"dateStart": start, "lengthInMinutes": length, "staffingDifference": difference}


def test_host_slots_use_the_hosts_staffing_difference_and_share_the_filters():
    slots = [
        host_slot("2025-10-20T09:00:00Z", 2.0),
        host_slot("2025-10-20T12:00:00Z", 9.0),  # over the meal
        host_slot("2025-10-20T13:05:00Z", 8.0),  # not on a quarter hour
        host_slot("2025-10-20T14:00:00Z", -1.0),  # under-staffed after the move: peak
        host_slot("2025-10-20T15:00:00Z", 4.0),  # supervisor busy
        host_slot("2025-10-20T11:00:00Z", 3.0),
        {"dateStart": "2025-10-20T08:00:00Z", "lengthInMinutes": 30},  # no staffing figure
    ]
    req = request(supervisor_busy=[(t(20, 15), t(20, 16))])
    choice = choose_from_host_slots(req, slots)
    assert (choice.start, choice.end, choice.surplus) == (t(20, 11), t(20, 11, 30), 3.0)
    assert choice.reason["source"] == "host_slots"
    assert choice.reason["candidates"] == 7
    assert choice.reason["rejected"] == {
        "misaligned": 1,
        "outside_horizon": 0,
        "outside_shift": 1,
        "no_staffing_data": 1,
        "peak": 1,
        "supervisor_busy": 1,
    }


def test_host_slots_respect_the_forecast_peak_when_staffing_is_known():
    slots = [host_slot(t(20, 15, 30), 6.0), host_slot(t(20, 9), 1.0)]
    without = choose_from_host_slots(request(), slots)
    assert without.start == t(20, 15, 30)
    with_staffing = choose_from_host_slots(request(), slots, staffing=monday())
    assert with_staffing.start == t(20, 9)
    assert with_staffing.reason["rejected"]["peak"] == 1


def test_no_host_slot_usable_yields_no_slot_with_reasons():
    outcome = choose_from_host_slots(request(), [host_slot("2025-10-20T10:00:00Z", 5.0)])
    assert isinstance(outcome, NoSlot)
    assert outcome.reason["rejected"]["outside_shift"] == 1
    assert outcome.reason["source"] == "host_slots"
