"""Whether to book an automated coaching appointment for one agent, and what to link to it.

Coaching follows a pattern, not a single bad call: it needs ``min_flags`` flagged interactions
within ``window_days``. Two fatigue guards keep automation humane: no new appointment while one
is still pending, and at most ``max_per_agent_per_week`` automated ones per ISO week in the
tenant's time zone (the week the agent lives in, not UTC's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from extension.coaching.domain.timewindows import iso_week

__all__ = ["Appt", "Decision", "Flag", "decide_appointment", "recognition_balance"]

PENDING_STATUSES = {"Scheduled", "InProgress"}


@dataclass(frozen=True)
class Flag:
    conversation_id: str
    at: datetime


@dataclass(frozen=True)
class Appt:
    created_at: datetime
    date_start: datetime
    status: str  # Genesys appointment status: Scheduled, InProgress, Completed, InvalidSchedule


@dataclass(frozen=True)
class Decision:
    action: str  # "book" | "wait" | "rate_limited" | "pending_exists"
    conversation_ids: list[str]  # flags to link; filled only when action is "book"
    reason: dict[str, Any] = field(default_factory=dict)


def decide_appointment(
    *,
    flags: list[Flag],
    automated_appointments: list[Appt],
    now: datetime,
    settings: Mapping[str, Any],
    tz: str,
) -> Decision:
    """Book, wait, or hold back, from the agent's unlinked flags and automated appointments.

    Order matters: once the weekly cap is used, every new flag that week is held back by it
    ("rate_limited", audited), whatever the count; otherwise too few flags means "wait"; a
    pending appointment blocks a new one; only then is there something to book.
    """
    recent = _flags_in_window(flags, now=now, days=settings["window_days"])
    reason = {"flags_in_window": len(recent), "min_flags": settings["min_flags"]}
    this_week = _created_this_week(automated_appointments, now=now, tz=tz)
    cap = settings["max_per_agent_per_week"]
    reason |= {"this_week": this_week, "cap": cap}
    if recent and this_week >= cap:
        return Decision("rate_limited", [], reason)
    if len(recent) < settings["min_flags"]:
        return Decision("wait", [], reason)
    pending = [a for a in automated_appointments if _is_pending(a, now)]
    if pending:
        return Decision("pending_exists", [], reason | {"pending": len(pending)})
    return Decision("book", _unique_ids(recent), reason)


def _flags_in_window(flags: list[Flag], *, now: datetime, days: int) -> list[Flag]:
    """Flags in the last ``days`` (ending now), oldest first, so links read chronologically."""
    since = now - timedelta(days=days)
    return sorted((f for f in flags if since <= f.at <= now), key=lambda f: f.at)


def _is_pending(appt: Appt, now: datetime) -> bool:
    """InProgress is pending; Scheduled only while its start is ahead (stale ones don't block)."""
    if appt.status not in PENDING_STATUSES:
        return False
    # No start yet means it is still being booked: that is pending too.
    return appt.status == "InProgress" or appt.date_start is None or appt.date_start > now


def _created_this_week(appts: list[Appt], *, now: datetime, tz: str) -> int:
    week = iso_week(now, tz=tz)
    return sum(iso_week(a.created_at, tz=tz) == week for a in appts)


def _unique_ids(flags: list[Flag]) -> list[str]:
    return list(dict.fromkeys(f.conversation_id for f in flags))


def recognition_balance(recognitions: int, corrective: int) -> dict[str, Any]:
    """Positive-to-corrective ratio for display, so supervisors see whether praise keeps pace.

    ``ratio`` is None when there was no corrective action (an undefined, not infinite, ratio).
    """
    if recognitions < 0 or corrective < 0:
        raise ValueError("counts cannot be negative")
    total = recognitions + corrective
    return {
        "recognitions": recognitions,
        "corrective": corrective,
        "ratio": round(recognitions / corrective, 2) if corrective else None,
        "label": f"{recognitions}:{corrective}",
        "positive_share": round(recognitions / total, 2) if total else None,
    }
