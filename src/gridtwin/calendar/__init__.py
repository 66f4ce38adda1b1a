"""Calendars as data: day types, holidays and eves, seasons, band schedules (local time, DST)."""

from gridtwin.calendar._calendar import BandAssignment, Calendar
from gridtwin.calendar._library import (
    builtin_calendar_ids,
    calendar_from_dict,
    get_calendar,
    load_calendar,
)
from gridtwin.calendar._model import CalendarSpec
from gridtwin.calendar._table import calendar_with_schedule, schedule_from_table

__all__ = [
    "BandAssignment",
    "Calendar",
    "CalendarSpec",
    "builtin_calendar_ids",
    "calendar_from_dict",
    "calendar_with_schedule",
    "get_calendar",
    "load_calendar",
    "schedule_from_table",
]
