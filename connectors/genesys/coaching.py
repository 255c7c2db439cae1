"""Coaching appointments and the host's slot suggestions (the booking end of automated coaching)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from connectors.genesys.body import compact, interval, query
from connectors.http import Transport

BASE = "/api/v2/coaching"


class CoachingClient:
    def __init__(self, transport: Transport):
        self._t = transport

    def create_appointment(
        self,
        *,
        name: str,
        description: str,
        date_start: datetime,
        length_in_minutes: int,
        attendee_ids: list[str],
        facilitator_id: str | None = None,
        conversation_ids: list[str] | None = None,
        document_ids: list[str] | None = None,
        wfm_schedule: dict[str, Any] | None = None,
        external_links: list[str] | None = None,
        location: str | None = None,
        share_insights_data: bool | None = None,
        add_to_schedule: bool | None = None,
    ) -> dict[str, Any]:
        """POST a CreateCoachingAppointmentRequest; `add_to_schedule=True` puts it on the WFM
        schedule (the only way to insert a single activity). Returns CoachingAppointmentResponse.
        """
        body = compact(
            name=name,
            description=description,
            dateStart=date_start,
            lengthInMinutes=length_in_minutes,
            attendeeIds=attendee_ids,
            facilitatorId=facilitator_id,
            conversationIds=conversation_ids,
            documentIds=document_ids,
            wfmSchedule=wfm_schedule,
            externalLinks=external_links,
            location=location,
            shareInsightsData=share_insights_data,
            addToSchedule=add_to_schedule,
        )
        # Never re-sent blindly: after a 5xx or timeout the caller looks for it first.
        return self._t.request("POST", f"{BASE}/appointments", json=body, create=True)

    def get_appointment(self, appointment_id: str) -> dict[str, Any]:
        return self._t.request("GET", f"{BASE}/appointments/{appointment_id}")

    def list_appointments(
        self,
        user_ids: list[str],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        statuses: list[str] | None = None,
        facilitator_ids: list[str] | None = None,
        page_size: int = 25,
    ) -> Iterator[dict[str, Any]]:
        """Appointments of the given users, optionally those starting in [start, end)."""
        params = query(
            userIds=user_ids,
            interval=interval(start, end) if start else None,
            statuses=statuses,
            facilitatorIds=facilitator_ids,
            pageSize=page_size,
        )
        return self._t.paginate(f"{BASE}/appointments", params)

    def query_slots(
        self,
        *,
        start: datetime,
        end: datetime,
        length_in_minutes: int,
        attendee_ids: list[str],
        facilitator_ids: list[str] | None = None,
        interruptible_appointment_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """POST a CoachingSlotsRequest: suggested slots ranked by staffing difference."""
        body = compact(
            interval=interval(start, end),
            lengthInMinutes=length_in_minutes,
            attendeeIds=attendee_ids,
            facilitatorIds=facilitator_ids,
            interruptibleAppointmentIds=interruptible_appointment_ids,
        )
        return self._t.request("POST", f"{BASE}/scheduleslots/query", json=body)
