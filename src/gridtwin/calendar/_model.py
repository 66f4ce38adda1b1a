"""Calendars and band schedules as validated data (pydantic models).

A calendar says, for a jurisdiction's local time zone, which *day type* each date has
(weekday names, public holidays from the ``holidays`` package with explicit exclusions
and additions, holiday eves derived from holidays) and which *season* each date is in
(month-day ranges). A band schedule maps (season, day type, time of day on a 15-minute
grid) to a band name such as ``F1`` or ``peak``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

__all__ = [
    "BandRule",
    "CalendarSpec",
    "DerivedSchedule",
    "HolidaySpec",
    "ScheduleSpec",
    "parse_hhmm_range",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RESERVED_DAY_TYPES = ("holiday", "holiday_eve")
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})\.\.(\d{2})-(\d{2})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_hhmm_range(text: str, resolution_min: int = 15) -> tuple[int, int]:
    """Parse ``"HH:MM-HH:MM"`` into minutes ``(start, end)`` of the local day.

    ``end`` may be ``24:00``. A range that wraps past midnight (``"22:00-06:00"``) is
    returned with ``end < start``; callers split it. Both ends must sit on the
    ``resolution_min`` grid.
    """
    m = _RANGE.match(text.strip())
    if not m:
        msg = f"time range {text!r} must look like 'HH:MM-HH:MM' (e.g. '08:00-19:00')"
        raise ValueError(msg)
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or end > 24 * 60 or m2 > 59:
        msg = f"time range {text!r} is not a valid time of day (00:00 to 24:00)"
        raise ValueError(msg)
    if start % resolution_min or end % resolution_min:
        msg = f"time range {text!r} must start and end on a {resolution_min}-minute boundary"
        raise ValueError(msg)
    if start == end:
        msg = f"time range {text!r} is empty"
        raise ValueError(msg)
    return start, end


def parse_month_day_range(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Parse ``"MM-DD..MM-DD"`` (inclusive, may wrap over New Year)."""
    m = _MONTH_DAY.match(text.strip())
    if not m:
        msg = f"season range {text!r} must look like 'MM-DD..MM-DD' (e.g. '12-01..02-29')"
        raise ValueError(msg)
    m1, d1, m2, d2 = (int(g) for g in m.groups())
    for mm, dd in ((m1, d1), (m2, d2)):
        try:
            dt.date(2024, mm, dd)  # 2024 is a leap year: 02-29 is allowed
        except ValueError as exc:
            msg = f"season range {text!r}: {mm:02d}-{dd:02d} is not a day of the year"
            raise ValueError(msg) from exc
    return (m1, d1), (m2, d2)


class HolidaySpec(_Strict):
    """Public holidays of a country, from the ``holidays`` package, made explicit."""

    country: str = Field(description="ISO 3166 code for the `holidays` package, e.g. IT")
    categories: tuple[str, ...] = ("public",)
    exclude_names: tuple[str, ...] = Field(
        default=(), description="holiday names (English) not counted, e.g. regional ones"
    )
    exclude_dates: tuple[dt.date, ...] = ()
    extra_dates: tuple[dt.date, ...] = ()
    derive_eves: bool = Field(
        default=False, description="the calendar day before each holiday is a holiday eve"
    )
    note: str | None = None


class SeasonSpec(_Strict):
    """A named season: one or more inclusive month-day ranges."""

    name: str
    ranges: tuple[str, ...]

    @field_validator("ranges")
    @classmethod
    def _check_ranges(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for r in value:
            parse_month_day_range(r)
        return value


class BandRule(_Strict):
    """Hours of bands on some day types (and seasons)."""

    day_types: tuple[str, ...]
    seasons: tuple[str, ...] | None = None
    bands: dict[str, tuple[str, ...]] = Field(
        description="band name -> list of 'HH:MM-HH:MM' local-time ranges"
    )
    status: Literal["verified", "secondary", "unverified"] = "verified"
    source: str | None = None


class ScheduleSpec(_Strict):
    """A band schedule: rules on a time grid; unassigned slots get ``default``."""

    description: str | None = None
    resolution_min: int = 15
    bands: tuple[str, ...]
    default: str | None = None
    rules: tuple[BandRule, ...]

    @model_validator(mode="after")
    def _check(self) -> ScheduleSpec:
        if 60 % self.resolution_min:
            msg = f"resolution_min={self.resolution_min} must divide 60"
            raise ValueError(msg)
        if self.default is not None and self.default not in self.bands:
            msg = f"default band {self.default!r} is not one of bands {list(self.bands)}"
            raise ValueError(msg)
        for i, rule in enumerate(self.rules):
            for band, ranges in rule.bands.items():
                if band not in self.bands:
                    msg = f"rules[{i}]: band {band!r} is not one of bands {list(self.bands)}"
                    raise ValueError(msg)
                for r in ranges:
                    parse_hhmm_range(r, self.resolution_min)
        return self


class DerivedSchedule(_Strict):
    """A schedule made by merging bands of another one (e.g. F23 = F2 + F3)."""

    description: str | None = None
    derived_from: str
    band_map: dict[str, str]


def _schedule_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "derived" if "derived_from" in value else "rules"
    return "derived" if isinstance(value, DerivedSchedule) else "rules"


AnySchedule = Annotated[
    Annotated[ScheduleSpec, Tag("rules")] | Annotated[DerivedSchedule, Tag("derived")],
    Discriminator(_schedule_kind),
]


class CalendarSpec(_Strict):
    """A jurisdiction's calendar: time zone, day types, holidays, seasons, schedules."""

    id: str
    name: str
    timezone: str
    source: str
    day_types: dict[str, tuple[str, ...]] = Field(
        description="day-type name -> weekday names (mon..sun) it covers"
    )
    holidays: HolidaySpec | None = None
    seasons: tuple[SeasonSpec, ...] = ()
    schedules: dict[str, AnySchedule] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> CalendarSpec:
        seen: dict[str, str] = {}
        for name, days in self.day_types.items():
            if name in RESERVED_DAY_TYPES:
                msg = f"day type {name!r} is reserved for holidays; pick another name"
                raise ValueError(msg)
            for d in days:
                if d not in WEEKDAYS:
                    msg = f"day_types.{name}: {d!r} is not one of {list(WEEKDAYS)}"
                    raise ValueError(msg)
                if d in seen:
                    msg = f"weekday {d!r} is in both day types {seen[d]!r} and {name!r}"
                    raise ValueError(msg)
                seen[d] = name
        missing = [d for d in WEEKDAYS if d not in seen]
        if missing:
            msg = f"day_types must cover every weekday; missing {missing}"
            raise ValueError(msg)
        known_types = set(self.day_types) | set(RESERVED_DAY_TYPES)
        season_names = {s.name for s in self.seasons}
        for sname, sched in self.schedules.items():
            if isinstance(sched, DerivedSchedule):
                base = self.schedules.get(sched.derived_from)
                if not isinstance(base, ScheduleSpec):
                    msg = (
                        f"schedules.{sname}: derived_from {sched.derived_from!r} must name "
                        "a (non-derived) schedule of this calendar"
                    )
                    raise ValueError(msg)
                unmapped = [b for b in base.bands if b not in sched.band_map]
                if unmapped:
                    msg = f"schedules.{sname}: band_map misses bands {unmapped}"
                    raise ValueError(msg)
                continue
            for i, rule in enumerate(sched.rules):
                bad = [t for t in rule.day_types if t not in known_types]
                if bad:
                    msg = (
                        f"schedules.{sname}.rules[{i}]: unknown day type(s) {bad}; "
                        f"known: {sorted(known_types)}"
                    )
                    raise ValueError(msg)
                bad_s = [s for s in (rule.seasons or ()) if s not in season_names]
                if bad_s:
                    msg = (
                        f"schedules.{sname}.rules[{i}]: unknown season(s) {bad_s}; "
                        f"known: {sorted(season_names)}"
                    )
                    raise ValueError(msg)
        return self
