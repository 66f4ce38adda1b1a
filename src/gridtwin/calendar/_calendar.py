"""Evaluate calendars: day types, seasons and band codes for a UTC interval index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import holidays as holidays_pkg
import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.calendar._model import (
    WEEKDAYS,
    CalendarSpec,
    DerivedSchedule,
    HolidaySpec,
    ScheduleSpec,
    parse_hhmm_range,
    parse_month_day_range,
)
from gridtwin.errors import CalendarError, InputError

__all__ = ["BandAssignment", "Calendar"]

IntArray = npt.NDArray[np.int64]


def _holiday_dates(spec: HolidaySpec, years: range) -> dict[dt.date, str]:
    """Holiday dates with names, after the explicit exclusions and additions."""
    try:
        cal: Any = holidays_pkg.country_holidays(
            spec.country, years=list(years), categories=spec.categories, language="en_US"
        )
    except (NotImplementedError, KeyError, ValueError) as exc:
        msg = f"holidays: country {spec.country!r} / categories {spec.categories} unknown: {exc}"
        raise CalendarError(msg) from exc
    out: dict[dt.date, str] = {}
    for day, name in sorted(cal.items()):
        if any(ex.lower() in name.lower() for ex in spec.exclude_names):
            continue
        if day in spec.exclude_dates:
            continue
        out[day] = name
    for day in spec.extra_dates:
        if day.year in years:
            out.setdefault(day, "extra holiday (calendar file)")
    return out


@dataclass(frozen=True)
class BandAssignment:
    """Band of every interval of an index under one schedule.

    Attributes
    ----------
    codes : numpy.ndarray of int64, shape (n_steps,)
        Index into ``bands`` for each interval.
    bands : tuple of str
        Band names.
    """

    codes: IntArray
    bands: tuple[str, ...]

    def hours_by_band(self, step: pd.Timedelta) -> dict[str, float]:
        """Hours spent in each band [h]."""
        counts = np.bincount(self.codes, minlength=len(self.bands))
        hours = step / pd.Timedelta(hours=1)
        return {b: float(c * hours) for b, c in zip(self.bands, counts, strict=True)}


class Calendar:
    """A jurisdiction's calendar, ready to evaluate (built from a :class:`CalendarSpec`)."""

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self._weekday_type: list[str] = [""] * 7
        for name, days in spec.day_types.items():
            for d in days:
                self._weekday_type[WEEKDAYS.index(d)] = name
        names = list(spec.day_types)
        if spec.holidays is not None:
            names.append("holiday")
            if spec.holidays.derive_eves:
                names.append("holiday_eve")
        self.day_type_names: tuple[str, ...] = tuple(names)
        self.season_names: tuple[str, ...] = tuple(s.name for s in spec.seasons) or ("all",)
        self._luts: dict[str, tuple[npt.NDArray[np.int64], int]] = {}

    @property
    def id(self) -> str:
        """Calendar id."""
        return self.spec.id

    @property
    def timezone(self) -> str:
        """IANA time zone of the jurisdiction."""
        return self.spec.timezone

    # ----------------------------------------------------------------- holidays
    def holidays(self, years: range) -> dict[dt.date, str]:
        """Holiday dates (with names) counted by this calendar in ``years``."""
        if self.spec.holidays is None:
            return {}
        return _holiday_dates(self.spec.holidays, years)

    def holiday_eves(self, years: range) -> set[dt.date]:
        """Holiday eves: the day before each holiday that is not a holiday itself."""
        if self.spec.holidays is None or not self.spec.holidays.derive_eves:
            return set()
        hol = self.holidays(range(years.start, years.stop + 1))
        eves = {d - dt.timedelta(days=1) for d in hol}
        return {d for d in eves if d not in hol and d.year in years}

    def day_type(self, day: dt.date) -> str:
        """Day type of one date (holiday > holiday eve > weekday mapping)."""
        return self.day_type_names[int(self.day_type_codes([day])[0])]

    def day_type_codes(self, days: list[dt.date]) -> IntArray:
        """Day-type code (index into ``day_type_names``) of each date."""
        if not days:
            return np.zeros(0, dtype=np.int64)
        years = range(min(d.year for d in days), max(d.year for d in days) + 1)
        hol = self.holidays(years)
        eves = self.holiday_eves(years)
        index = {n: i for i, n in enumerate(self.day_type_names)}
        out = np.empty(len(days), dtype=np.int64)
        for i, d in enumerate(days):
            if d in hol:
                out[i] = index["holiday"]
            elif d in eves:
                out[i] = index["holiday_eve"]
            else:
                out[i] = index[self._weekday_type[d.weekday()]]
        return out

    # ------------------------------------------------------------------ seasons
    @cached_property
    def _season_of_doy(self) -> IntArray:
        """Season code for each (month, day) of a leap year, as a 13 x 32 table."""
        table = np.full((13, 32), -1, dtype=np.int64)
        if not self.spec.seasons:
            table[1:, 1:] = 0
            return table
        days = pd.date_range("2024-01-01", "2024-12-31", freq="D")
        for code, season in enumerate(self.spec.seasons):
            for r in season.ranges:
                (m1, d1), (m2, d2) = parse_month_day_range(r)
                key = days.month * 100 + days.day
                lo, hi = m1 * 100 + d1, m2 * 100 + d2
                inside = (key >= lo) & (key <= hi) if lo <= hi else (key >= lo) | (key <= hi)
                for mm, dd in zip(days.month[inside], days.day[inside], strict=True):
                    if table[mm, dd] not in (-1, code):
                        msg = (
                            f"calendar {self.id}: {mm:02d}-{dd:02d} is in two seasons "
                            f"({self.season_names[table[mm, dd]]} and {season.name})"
                        )
                        raise CalendarError(msg)
                    table[mm, dd] = code
        valid = np.zeros((13, 32), dtype=bool)
        valid[days.month, days.day] = True
        holes = np.argwhere(valid & (table < 0))
        if len(holes):
            mm, dd = holes[0]
            msg = f"calendar {self.id}: {mm:02d}-{dd:02d} belongs to no season"
            raise CalendarError(msg)
        return table

    def season_codes(self, months: IntArray, days: IntArray) -> IntArray:
        """Season code of each (month, day)."""
        return self._season_of_doy[months, days]

    # ---------------------------------------------------------------- schedules
    def schedule_names(self) -> tuple[str, ...]:
        """Names of the band schedules of this calendar."""
        return tuple(self.spec.schedules)

    def bands(self, schedule: str) -> tuple[str, ...]:
        """Band names of a schedule."""
        spec = self._schedule(schedule)
        if isinstance(spec, DerivedSchedule):
            return tuple(dict.fromkeys(spec.band_map.values()))
        return spec.bands

    def _schedule(self, name: str) -> ScheduleSpec | DerivedSchedule:
        try:
            return self.spec.schedules[name]
        except KeyError:
            msg = (
                f"calendar {self.id} has no band schedule {name!r}; "
                f"it has {list(self.spec.schedules)}"
            )
            raise CalendarError(msg) from None

    def _lut(self, name: str) -> tuple[npt.NDArray[np.int64], int]:
        """Band lookup table [season, day type, slot] and the slot length in minutes."""
        if name in self._luts:
            return self._luts[name]
        spec = self._schedule(name)
        if isinstance(spec, DerivedSchedule):
            base_lut, res = self._lut(spec.derived_from)
            base = self._schedule(spec.derived_from)
            if not isinstance(base, ScheduleSpec):  # the schema forbids chains
                msg = f"schedule {name}: derived_from must name a rules schedule"
                raise CalendarError(msg)
            new_bands = self.bands(name)
            remap = np.array([new_bands.index(spec.band_map[b]) for b in base.bands])
            result = (remap[base_lut], res)
        else:
            result = (self._build_lut(name, spec), spec.resolution_min)
        self._luts[name] = result
        return result

    def _build_lut(self, name: str, spec: ScheduleSpec) -> npt.NDArray[np.int64]:
        n_slots = 24 * 60 // spec.resolution_min
        lut = np.full(
            (len(self.season_names), len(self.day_type_names), n_slots), -1, dtype=np.int64
        )
        for rule in spec.rules:
            seasons = (
                [self.season_names.index(s) for s in rule.seasons]
                if rule.seasons
                else list(range(len(self.season_names)))
            )
            dtypes = [
                self.day_type_names.index(t) for t in rule.day_types if t in self.day_type_names
            ]
            for band, ranges in rule.bands.items():
                code = spec.bands.index(band)
                for r in ranges:
                    start, end = parse_hhmm_range(r, spec.resolution_min)
                    spans = [(start, end)] if end > start else [(start, 1440), (0, end)]
                    for a, b in spans:
                        sl = slice(a // spec.resolution_min, b // spec.resolution_min)
                        region = lut[np.ix_(seasons, dtypes)][..., sl]
                        clash = (region >= 0) & (region != code)
                        if clash.any():
                            msg = (
                                f"calendar {self.id}, schedule {name}: band {band} at {r} "
                                "overlaps another band on the same day type and season"
                            )
                            raise CalendarError(msg)
                        for s in seasons:
                            lut[s, dtypes, sl] = code
        if (lut < 0).any():
            if spec.default is None:
                s, t, slot = np.argwhere(lut < 0)[0]
                minute = int(slot) * spec.resolution_min
                msg = (
                    f"calendar {self.id}, schedule {name}: no band for season "
                    f"{self.season_names[s]}, day type {self.day_type_names[t]} at "
                    f"{minute // 60:02d}:{minute % 60:02d}; add a rule or a default band"
                )
                raise CalendarError(msg)
            lut[lut < 0] = spec.bands.index(spec.default)
        return lut

    def assign_key(
        self, start_utc: pd.DatetimeIndex, step: pd.Timedelta, key: str
    ) -> BandAssignment:
        """Like :meth:`assign`; ``"name@season"`` crosses bands with seasons.

        The crossed bands are named ``"season/band"`` (e.g. ``"winter/peak"``).
        """
        name, _, suffix = key.partition("@")
        plain = self.assign(start_utc, step, name)
        if suffix != "season":
            return plain
        _, season = self.local_parts(start_utc)
        nb = len(plain.bands)
        names = tuple(f"{s}/{b}" for s in self.season_names for b in plain.bands)
        return BandAssignment(codes=season * nb + plain.codes, bands=names)

    def assign(
        self, start_utc: pd.DatetimeIndex, step: pd.Timedelta, schedule: str
    ) -> BandAssignment:
        """Band of each interval ``[start, start + step)`` under ``schedule``.

        The band is read at the local clock time of each interval's start (so DST days
        of 23 or 25 hours are handled). An interval longer than the schedule's time grid
        must lie in one band; otherwise :class:`InputError` asks for finer data.
        """
        lut, res_min = self._lut(schedule)
        codes = self._codes_at(start_utc, lut, res_min)
        res = pd.Timedelta(minutes=res_min)
        if step > res:
            last = self._codes_at(start_utc + (step - pd.Timedelta(minutes=1)), lut, res_min)
            straddle = np.nonzero(last != codes)[0]
            if len(straddle):
                at = start_utc[straddle[0]].tz_convert(self.timezone)
                msg = (
                    f"{len(straddle)} interval(s) of {step} straddle a band boundary of "
                    f"schedule {schedule} (first at {at.isoformat()}); supply data at "
                    f"{res_min}-minute resolution or finer"
                )
                raise InputError(msg)
        return BandAssignment(codes=codes, bands=self.bands(schedule))

    def local_parts(self, start_utc: pd.DatetimeIndex) -> tuple[IntArray, IntArray]:
        """(day-type code, season code) of the local date of each timestamp."""
        local = start_utc.tz_convert(self.timezone)
        dates = local.normalize().tz_localize(None)
        uniq, inverse = np.unique(dates.values, return_inverse=True)
        uniq_idx = pd.DatetimeIndex(uniq)
        days = [d.date() for d in uniq_idx]
        dtype_u = self.day_type_codes(days)
        season_u = self.season_codes(uniq_idx.month.to_numpy(), uniq_idx.day.to_numpy())
        return dtype_u[inverse], season_u[inverse]

    def _codes_at(
        self, start_utc: pd.DatetimeIndex, lut: npt.NDArray[np.int64], res_min: int
    ) -> IntArray:
        local = start_utc.tz_convert(self.timezone)
        minute = local.hour.to_numpy() * 60 + local.minute.to_numpy()
        slot = minute // res_min
        dtype_c, season_c = self.local_parts(start_utc)
        return np.asarray(lut[season_c, dtype_c, slot], dtype=np.int64)
