"""Calendars as data: day types, holidays and eves, seasons, band schedules (local time, DST)."""

from gridtwin.calendar._calendar import BandAssignment, Calendar
from gridtwin.calendar._library import (
    builtin_calendar_ids,
    calendar_from_dict,
    get_calendar,
    load_calendar,
)
from gridtwin.calendar._model import CalendarSpec

__all__ = [
    "BandAssignment",
    "Calendar",
    "CalendarSpec",
    "builtin_calendar_ids",
    "calendar_from_dict",
    "get_calendar",
    "load_calendar",
]
