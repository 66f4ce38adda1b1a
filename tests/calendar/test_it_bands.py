"""ARERA time bands F1/F2/F3 (delibera 181/06) on the built-in calendar ``it-arera-181-06``.

Every expectation is computed twice: by hand-counted numbers (days of the week and the
holiday list of the month, worked out in the comments) and by an independent classifier
written here from the rule text, evaluated in real Italian local time (DST included).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gridtwin.calendar import get_calendar

TZ = "Europe/Rome"
STEP = pd.Timedelta("15min")
STEP_H = 0.25

# ARERA's closed list: ten fixed dates plus Easter Monday (Lunedì dell'Angelo).
FIXED_HOLIDAYS = (
    (1, 1),
    (1, 6),
    (4, 25),
    (5, 1),
    (6, 2),
    (8, 15),
    (11, 1),
    (12, 8),
    (12, 25),
    (12, 26),
)
EASTER_MONDAY = {
    2024: dt.date(2024, 4, 1),
    2025: dt.date(2025, 4, 21),
    2026: dt.date(2026, 4, 6),
    2027: dt.date(2027, 3, 29),
}


def arera_holidays(year: int) -> set[dt.date]:
    """The ARERA holiday list of one year (independent of the `holidays` package)."""
    return {dt.date(year, m, d) for m, d in FIXED_HOLIDAYS} | {EASTER_MONDAY[year]}


def reference_bands(start_utc: pd.DatetimeIndex) -> np.ndarray:
    """F1/F2/F3 of each interval start, from the 181/06 rule text, in local wall time."""
    local = start_utc.tz_convert(TZ)
    hour = local.hour.to_numpy()
    dow = local.dayofweek.to_numpy()
    dates = [ts.date() for ts in local]
    years = {d.year for d in dates}
    hol_dates = set().union(*(arera_holidays(y) for y in years))
    holiday = np.array([d in hol_dates for d in dates])
    weekday = (dow <= 4) & ~holiday
    saturday = (dow == 5) & ~holiday
    f1 = weekday & (hour >= 8) & (hour < 19)
    f2 = (weekday & ((hour == 7) | ((hour >= 19) & (hour < 23)))) | (
        saturday & (hour >= 7) & (hour < 23)
    )
    return np.where(f1, "F1", np.where(f2, "F2", "F3"))


def local_range(start: str, end: str, step: pd.Timedelta = STEP) -> pd.DatetimeIndex:
    """UTC interval starts covering local dates [start, end)."""
    first = pd.Timestamp(start).tz_localize(TZ).tz_convert("UTC")
    last = pd.Timestamp(end).tz_localize(TZ).tz_convert("UTC")
    return pd.date_range(first, last, freq=step, inclusive="left")


def engine_bands(idx: pd.DatetimeIndex, schedule: str = "F123") -> np.ndarray:
    assignment = get_calendar("it-arera-181-06").assign(idx, STEP, schedule)
    return np.asarray(assignment.bands, dtype=object)[assignment.codes]


def engine_hours(start: str, end: str) -> dict[str, float]:
    idx = local_range(start, end)
    return get_calendar("it-arera-181-06").assign(idx, STEP, "F123").hours_by_band(STEP)


def reference_hours(start: str, end: str) -> dict[str, float]:
    bands = reference_bands(local_range(start, end))
    return {b: float((bands == b).sum() * STEP_H) for b in ("F1", "F2", "F3")}


# (month, F1, F2, F3) hours in real local time. Worked out by hand:
# Jan 2025: 23 weekdays - 1 Jan, 6 Jan = 21 working days; 4 Saturdays. F1 = 21 x 11 = 231,
#   F2 = 21 x 5 + 4 x 16 = 169, F3 = 744 - 400 = 344.
# Mar 2025: 21 working days, 5 Saturdays: 231 / 185 / 744 - 416 = 328, minus the hour
#   skipped on Sunday 30 March (02:00 -> 03:00) = 327.
# Apr 2025: 22 weekdays - Easter Monday 21, Fri 25 = 20; 4 Saturdays: 220 / 164 / 336.
# Oct 2025: 23 working days, 4 Saturdays: 253 / 179 / 744 - 432 = 312, plus the hour
#   repeated on Sunday 26 October (03:00 -> 02:00) = 313.
# Dec 2025: 23 weekdays - 8, 25, 26 Dec = 20; 4 Saturdays: 220 / 164 / 360.
MONTHS_2025 = [
    ("2025-01-01", "2025-02-01", 231, 169, 344),
    ("2025-03-01", "2025-04-01", 231, 185, 327),
    ("2025-04-01", "2025-05-01", 220, 164, 336),
    ("2025-10-01", "2025-11-01", 253, 179, 313),
    ("2025-12-01", "2026-01-01", 220, 164, 360),
]


@pytest.mark.parametrize(("start", "end", "f1_h", "f2_h", "f3_h"), MONTHS_2025)
def test_month_hours_by_band(start: str, end: str, f1_h: float, f2_h: float, f3_h: float) -> None:
    hours = engine_hours(start, end)
    assert hours == {"F1": f1_h, "F2": f2_h, "F3": f3_h}
    assert hours == reference_hours(start, end)


def test_dst_hour_changes_only_f3() -> None:
    """March loses one F3 hour and October gains one, compared with clock-hour counting."""
    march = engine_hours("2025-03-01", "2025-04-01")
    october = engine_hours("2025-10-01", "2025-11-01")
    assert sum(march.values()) == 31 * 24 - 1
    assert sum(october.values()) == 31 * 24 + 1
    assert march["F3"] == 31 * 24 - march["F1"] - march["F2"] - 1
    assert october["F3"] == 31 * 24 - october["F1"] - october["F2"] + 1


def test_whole_year_2025() -> None:
    """2025: 261 weekdays - 10 weekday holidays = 251; 52 Saturdays - 1 Nov = 51.

    F1 = 251 x 11 = 2761, F2 = 251 x 5 + 51 x 16 = 2071, F3 = 8760 - 4832 = 3928 (the two
    DST hours cancel over the year).
    """
    hours = engine_hours("2025-01-01", "2026-01-01")
    assert hours == {"F1": 2761.0, "F2": 2071.0, "F3": 3928.0}
    assert hours == reference_hours("2025-01-01", "2026-01-01")


@pytest.mark.parametrize("year", [2024, 2026, 2027])
def test_other_years_match_reference(year: int) -> None:
    start, end = f"{year}-01-01", f"{year + 1}-01-01"
    assert engine_hours(start, end) == reference_hours(start, end)


def test_every_interval_matches_reference_2025() -> None:
    idx = local_range("2025-01-01", "2026-01-01")
    got = engine_bands(idx)
    want = reference_bands(idx)
    mismatch = np.nonzero(got != want)[0]
    assert mismatch.size == 0, f"first mismatch at {idx[mismatch[0]].tz_convert(TZ)}"


@pytest.mark.parametrize(
    "day",
    [
        "2025-04-21",  # Easter Monday
        "2025-04-25",  # Liberazione (Friday)
        "2025-06-02",  # Festa della Repubblica (Monday)
        "2025-08-15",  # Ferragosto (Friday)
        "2025-11-01",  # Ognissanti (Saturday: F3 instead of F2 all day)
        "2025-12-08",  # Immacolata (Monday)
        "2025-12-26",  # Santo Stefano (Friday)
        "2026-04-06",  # Easter Monday 2026
        "2025-01-06",  # Epifania (Monday)
    ],
)
def test_national_holidays_are_f3_all_day(day: str) -> None:
    d = dt.date.fromisoformat(day)
    idx = local_range(day, (d + dt.timedelta(days=1)).isoformat())
    assert set(engine_bands(idx)) == {"F3"}
    assert set(engine_bands(idx, "F1_F23")) == {"F23"}


def _band_at(local: str, schedule: str = "F123") -> str:
    ts = pd.Timestamp(local).tz_localize(TZ).tz_convert("UTC")
    return str(engine_bands(pd.DatetimeIndex([ts]), schedule)[0])


def test_christmas_eve_is_a_working_day() -> None:
    """24 Dec 2025 is a Wednesday and not on the ARERA list: normal weekday bands."""
    assert _band_at("2025-12-24 07:30") == "F2"
    assert _band_at("2025-12-24 10:00") == "F1"
    assert _band_at("2025-12-24 18:45") == "F1"
    assert _band_at("2025-12-24 21:00") == "F2"
    assert _band_at("2025-12-24 23:15") == "F3"


def test_san_francesco_2027_is_f1_under_181_06() -> None:
    """4 Oct 2027 (Monday) is a civil holiday from 2026 but not on ARERA's 181/06 list."""
    assert dt.date(2027, 10, 4).weekday() == 0
    assert _band_at("2027-10-04 03:00") == "F3"
    assert _band_at("2027-10-04 07:30") == "F2"
    assert _band_at("2027-10-04 12:00") == "F1"
    assert _band_at("2027-10-04 12:00", "F1_F23") == "F1"
    assert dt.date(2027, 10, 4) not in get_calendar("it-arera-181-06").holidays(range(2027, 2028))


@pytest.mark.parametrize(
    ("local", "band"),
    [
        ("2025-01-07 07:59", "F2"),
        ("2025-01-07 08:00", "F1"),
        ("2025-01-07 18:59", "F1"),
        ("2025-01-07 19:00", "F2"),
        ("2025-01-07 22:59", "F2"),
        ("2025-01-07 23:00", "F3"),
        ("2025-01-07 06:59", "F3"),
        ("2025-01-11 06:59", "F3"),
        ("2025-01-11 07:00", "F2"),
        ("2025-01-11 12:00", "F2"),
        ("2025-01-11 23:00", "F3"),
        ("2025-01-12 12:00", "F3"),
    ],
)
def test_band_boundaries(local: str, band: str) -> None:
    ts = pd.Timestamp(local).floor("15min")
    assert _band_at(str(ts)) == band


def test_dst_days_have_23_and_25_hours_of_f3() -> None:
    """Both 2025 DST changes fall on Sundays, so every hour of those days is F3."""
    spring = local_range("2025-03-30", "2025-03-31")
    autumn = local_range("2025-10-26", "2025-10-27")
    assert len(spring) * STEP_H == 23
    assert len(autumn) * STEP_H == 25
    assert set(engine_bands(spring)) == {"F3"}
    assert set(engine_bands(autumn)) == {"F3"}


def test_f23_and_f0_are_unions_of_f123() -> None:
    idx = local_range("2025-01-01", "2025-03-01")
    f123 = engine_bands(idx)
    assert np.array_equal(engine_bands(idx, "F1_F23"), np.where(f123 == "F1", "F1", "F23"))
    assert set(engine_bands(idx, "F0")) == {"F0"}
