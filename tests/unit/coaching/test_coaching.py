"""Booking decisions for automated coaching and the recognition balance."""

from datetime import UTC, datetime, timedelta

import pytest

from extension.coaching.domain.pattern import Appt, Decision, Flag, decide_appointment, recognition_balance
from extension.coaching.domain.policies import DEFAULT_POLICY

SETTINGS = DEFAULT_POLICY["coaching"]
NOW = datetime(2025, 10, 22, 12, 0, tzinfo=UTC)  # Wednesday
TZ = "Europe/London"


def decide(flags, appts=(), *, now=NOW, settings=SETTINGS, tz=TZ):
    return decide_appointment(
        flags=list(flags), automated_appointments=list(appts), now=now, settings=settings, tz=tz
    )


def flag(conversation_id, days_ago, *, now=NOW):
    return Flag(conversation_id, now - timedelta(days=days_ago))


def test_one_flag_is_not_a_pattern():
    decision = decide([flag("c1", 1)])
    assert decision == Decision("wait", [], {"flags_in_window": 1, "min_flags": 2,
                                             "this_week": 0, "cap": 1})


def test_a_new_flag_after_this_weeks_booking_is_rate_limited_even_alone():
    # The fourth negative call of a week: one unlinked flag, but the weekly cap is what holds
    # it back, and that is what the audit trail must say.
    booked = Appt(created_at=NOW - timedelta(hours=2), date_start=None, status="Scheduled")
    decision = decide([flag("c4", 0.1)], appts=[booked])
    assert decision.action == "rate_limited"
    assert decision.reason["this_week"] == 1


def test_a_booking_in_progress_without_a_start_counts_as_pending():
    last_week = Appt(created_at=NOW - timedelta(days=8), date_start=None, status="Scheduled")
    decision = decide([flag("c1", 1), flag("c2", 2)], appts=[last_week])
    assert decision.action == "pending_exists"


def test_two_flags_in_the_window_book_and_link_all_of_them_oldest_first():
    decision = decide([flag("c2", 1), flag("c1", 3), flag("c3", 0.5)])
    assert decision.action == "book"
    assert decision.conversation_ids == ["c1", "c2", "c3"]


def test_flags_outside_the_window_do_not_count():
    assert decide([flag("c1", 1), flag("old", 7.01)]).action == "wait"
    assert decide([flag("c1", 1), flag("edge", 7)]).conversation_ids == ["edge", "c1"]


def test_future_flags_are_ignored():
    assert decide([flag("c1", 1), flag("later", -1)]).action == "wait"


def test_same_conversation_flagged_twice_is_linked_once():
    decision = decide([flag("c1", 2), flag("c1", 1), flag("c2", 1)])
    assert decision.conversation_ids == ["c1", "c2"]


def test_a_scheduled_appointment_in_the_future_blocks_a_new_one():
    pending = Appt(
        created_at=NOW - timedelta(days=9), date_start=NOW + timedelta(days=1), status="Scheduled"
    )
    decision = decide([flag("c1", 1), flag("c2", 2)], [pending])
    assert decision.action == "pending_exists"
    assert decision.conversation_ids == []


def test_an_appointment_in_progress_is_pending_even_though_it_started():
    running = Appt(
        created_at=NOW - timedelta(days=9),
        date_start=NOW - timedelta(minutes=10),
        status="InProgress",
    )
    assert decide([flag("c1", 1), flag("c2", 2)], [running]).action == "pending_exists"


@pytest.mark.parametrize("status", ["Completed", "InvalidSchedule"])
def test_finished_appointments_do_not_block(status):
    done = Appt(
        created_at=NOW - timedelta(days=9), date_start=NOW + timedelta(days=1), status=status
    )
    assert decide([flag("c1", 1), flag("c2", 2)], [done]).action == "book"


def test_stale_scheduled_appointment_in_the_past_does_not_block():
    stale = Appt(
        created_at=NOW - timedelta(days=9), date_start=NOW - timedelta(days=2), status="Scheduled"
    )
    assert decide([flag("c1", 1), flag("c2", 2)], [stale]).action == "book"


def test_one_automated_appointment_per_iso_week():
    this_week = Appt(
        created_at=NOW - timedelta(days=2), date_start=NOW - timedelta(days=1), status="Completed"
    )
    decision = decide([flag("c1", 1), flag("c2", 0.5)], [this_week])
    assert decision.action == "rate_limited"
    assert decision.reason["this_week"] == 1 and decision.reason["cap"] == 1


def test_weekly_cap_is_configurable():
    this_week = Appt(
        created_at=NOW - timedelta(days=2), date_start=NOW - timedelta(days=1), status="Completed"
    )
    settings = SETTINGS | {"max_per_agent_per_week": 2}
    assert decide([flag("c1", 1), flag("c2", 0.5)], [this_week], settings=settings).action == "book"


# Monday 2025-10-20 00:30 BST is Sunday 23:30 UTC: UTC and London disagree on the week.
MONDAY_0030_LONDON = datetime(2025, 10, 19, 23, 30, tzinfo=UTC)


def test_week_boundary_uses_tenant_time_zone_new_week_allows_booking():
    sunday_evening = Appt(
        created_at=datetime(2025, 10, 19, 22, 0, tzinfo=UTC),  # Sunday 23:00 in London
        date_start=datetime(2025, 10, 19, 22, 15, tzinfo=UTC),
        status="Completed",
    )
    flags = [flag("c1", 1, now=MONDAY_0030_LONDON), flag("c2", 2, now=MONDAY_0030_LONDON)]
    assert decide(flags, [sunday_evening], now=MONDAY_0030_LONDON).action == "book"
    # Judged in UTC both instants fall on Sunday, the same ISO week: the guard would fire.
    assert (
        decide(flags, [sunday_evening], now=MONDAY_0030_LONDON, tz="UTC").action == "rate_limited"
    )


def test_week_boundary_uses_tenant_time_zone_same_local_week_is_limited():
    just_after_midnight = Appt(
        created_at=datetime(2025, 10, 19, 23, 15, tzinfo=UTC),  # Monday 00:15 in London
        date_start=datetime(2025, 10, 20, 8, 0, tzinfo=UTC),
        status="Completed",
    )
    later_monday = datetime(2025, 10, 20, 10, 0, tzinfo=UTC)
    flags = [flag("c1", 1, now=later_monday), flag("c2", 2, now=later_monday)]
    assert decide(flags, [just_after_midnight], now=later_monday).action == "rate_limited"
    assert decide(flags, [just_after_midnight], now=later_monday, tz="UTC").action == "book"


def test_recognition_balance_ratio_and_label():
    assert recognition_balance(6, 2) == {
        "recognitions": 6,
        "corrective": 2,
        "ratio": 3.0,
        "label": "6:2",
        "positive_share": 0.75,
    }


def test_recognition_balance_without_corrective_actions_has_no_ratio():
    assert recognition_balance(4, 0)["ratio"] is None
    assert recognition_balance(0, 0)["positive_share"] is None


def test_recognition_balance_rejects_negative_counts():
    with pytest.raises(ValueError):
        recognition_balance(-1, 2)
