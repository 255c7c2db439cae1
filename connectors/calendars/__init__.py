"""Calendar availability connectors; each offers busy_intervals(email_or_id, start, end)."""

from connectors.calendars.base import BusyCalendar, CalendarUnavailable, Interval
from connectors.calendars.google import GoogleCalendar
from connectors.calendars.graph import GraphCalendar

__all__ = ["BusyCalendar", "CalendarUnavailable", "GoogleCalendar", "GraphCalendar", "Interval"]
