"""Calendars: day types, holidays and eves, seasons, schedules, DST and validation errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gridtwin.calendar import builtin_calendar_ids, calendar_from_dict, get_calendar
from gridtwin.errors import CalendarError, InputError

Q = pd.Timedelta("15min")


def local_day_index(day: str, tz: str, step: str = "15min") -> pd.DatetimeIndex:
    start = pd.Timestamp(day).tz_localize(tz)
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(tz)
    return pd.date_range(
        start.tz_convert("UTC"), end.tz_convert("UTC"), freq=step, inclusive="left"
    )


def minimal(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "t",
        "name": "t",
        "timezone": "Europe/Rome",
        "source": "test",
        "day_types": {"weekday": ["mon", "tue", "wed", "thu", "fri"], "weekend": ["sat", "sun"]},
        "schedules": {
            "s": {
                "bands": ["a", "b"],
                "default": "a",
                "rules": [{"day_types": ["weekday"], "bands": {"b": ["08:00-12:00"]}}],
            }
        },
    }
    base.update(over)
    return base


def test_builtin_calendars_load() -> None:
    ids = builtin_calendar_ids()
    assert {"it-arera-181-06", "il-tou-2015", "sk-urso", "generic-weekday-weekend-utc"} <= set(ids)
    for cid in ids:
        assert get_calendar(cid).schedule_names()


@pytest.mark.parametrize(
    ("day", "n_steps"), [("2025-03-30", 92), ("2025-10-26", 100), ("2025-06-15", 96)]
)
def test_dst_days_are_normal_input(day: str, n_steps: int) -> None:
    cal = get_calendar("it-arera-181-06")
    idx = local_day_index(day, "Europe/Rome")
    assert len(idx) == n_steps
    a = cal.assign(idx, Q, "F123")
    # Sundays: all F3, whatever the length of the day
    assert set(np.asarray(a.bands)[a.codes]) == {"F3"}
    assert a.hours_by_band(Q)["F3"] == n_steps / 4


def test_band_is_read_on_the_local_clock_in_summer_time() -> None:
    cal = get_calendar("it-arera-181-06")
    idx = local_day_index("2025-07-02", "Europe/Rome")  # a Wednesday, UTC+2
    bands = np.asarray(cal.assign(idx, Q, "F123").bands)[cal.assign(idx, Q, "F123").codes]
    local_hours = idx.tz_convert("Europe/Rome").hour
    assert set(bands[(local_hours >= 8) & (local_hours < 19)]) == {"F1"}
    assert bands[local_hours == 7][0] == "F2"
    assert bands[local_hours == 23][0] == "F3"


def test_derived_schedule_merges_bands() -> None:
    cal = get_calendar("it-arera-181-06")
    idx = local_day_index("2025-07-05", "Europe/Rome")  # Saturday: F2 07-23, F3 otherwise
    merged = cal.assign(idx, Q, "F1_F23")
    assert merged.bands == ("F1", "F23")
    assert set(np.asarray(merged.bands)[merged.codes]) == {"F23"}


def test_israeli_holiday_eves_are_derived_and_not_holidays() -> None:
    cal = get_calendar("il-tou-2015")
    hol = cal.holidays(range(2015, 2016))
    eves = cal.holiday_eves(range(2015, 2016))
    assert dt.date(2015, 9, 14) in hol  # Rosh Hashanah, first day
    assert dt.date(2015, 9, 13) in eves  # its eve
    assert dt.date(2015, 9, 15) not in eves  # second day of the holiday is a holiday
    assert not eves & set(hol)
    assert cal.day_type(dt.date(2015, 9, 13)) == "holiday_eve"
    assert cal.day_type(dt.date(2015, 9, 14)) == "holiday"
    assert cal.day_type(dt.date(2015, 9, 18)) == "friday"
    assert cal.day_type(dt.date(2015, 9, 20)) == "sun_thu"


def test_israeli_verified_summer_weekday_hours() -> None:
    cal = get_calendar("il-tou-2015")
    idx = local_day_index("2015-07-07", "Asia/Jerusalem")  # Tuesday in summer
    a = cal.assign(idx, Q, "tou")
    hours = a.hours_by_band(Q)
    assert hours == {"off_peak": 10.0, "shoulder": 7.0, "peak": 7.0}


def test_seasonal_key_crosses_season_and_band() -> None:
    cal = get_calendar("il-tou-2015")
    idx = local_day_index("2015-01-06", "Asia/Jerusalem")
    a = cal.assign_key(idx, Q, "tou@season")
    assert set(np.asarray(a.bands)[a.codes]) <= {
        "winter/off_peak",
        "winter/shoulder",
        "winter/peak",
    }


def test_italian_calendar_excludes_san_francesco_and_patron_saints() -> None:
    cal = get_calendar("it-arera-181-06")
    assert dt.date(2027, 10, 4) not in cal.holidays(range(2027, 2028))
    assert cal.day_type(dt.date(2027, 10, 4)) == "weekday"
    assert cal.day_type(dt.date(2025, 4, 21)) == "holiday"  # Easter Monday
    assert cal.day_type(dt.date(2025, 12, 24)) == "weekday"  # not a holiday
    # Rome's patron saints (29 June) are regional, not counted
    assert cal.day_type(dt.date(2026, 6, 29)) == "weekday"


def test_hourly_data_straddling_a_band_boundary_is_refused() -> None:
    data = minimal(
        schedules={
            "s": {
                "bands": ["a", "b"],
                "default": "a",
                "rules": [{"day_types": ["weekday"], "bands": {"b": ["08:30-12:00"]}}],
            }
        }
    )
    cal = calendar_from_dict(data)
    idx = local_day_index("2025-07-02", "Europe/Rome", "1h")
    with pytest.raises(InputError, match="straddle a band boundary"):
        cal.assign(idx, pd.Timedelta("1h"), "s")


def test_wrapping_range_past_midnight() -> None:
    data = minimal(
        schedules={
            "s": {
                "bands": ["VT", "NT"],
                "default": "VT",
                "rules": [{"day_types": ["weekday", "weekend"], "bands": {"NT": ["22:00-06:00"]}}],
            }
        }
    )
    cal = calendar_from_dict(data)
    idx = local_day_index("2025-07-02", "Europe/Rome")
    assert cal.assign(idx, Q, "s").hours_by_band(Q) == {"VT": 16.0, "NT": 8.0}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"day_types": {"weekday": ["mon", "tue"], "weekend": ["sat", "sun"]}},
            "must cover every weekday",
        ),
        (
            {
                "day_types": {
                    "weekday": ["mon", "tue", "wed", "thu", "fri", "xyz"],
                    "weekend": ["sat", "sun"],
                }
            },
            "'xyz' is not one of",
        ),
        (
            {
                "schedules": {
                    "s": {
                        "bands": ["a"],
                        "default": "a",
                        "rules": [{"day_types": ["weekday"], "bands": {"a": ["08:10-12:00"]}}],
                    }
                }
            },
            "15-minute boundary",
        ),
        ({"schedules": {"s": {"bands": ["a"], "default": "zz", "rules": []}}}, "default band 'zz'"),
        (
            {
                "schedules": {
                    "s": {
                        "bands": ["a"],
                        "default": "a",
                        "rules": [{"day_types": ["holidayz"], "bands": {"a": ["08:00-12:00"]}}],
                    }
                }
            },
            "unknown day type",
        ),
        ({"colour": "blue"}, "colour: unknown field"),
    ],
)
def test_invalid_calendars_name_the_field(patch: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        calendar_from_dict(minimal(**patch), "cal.yaml")


def test_overlapping_bands_are_an_error() -> None:
    data = minimal(
        schedules={
            "s": {
                "bands": ["a", "b"],
                "default": "a",
                "rules": [
                    {
                        "day_types": ["weekday"],
                        "bands": {"a": ["08:00-12:00"], "b": ["11:00-13:00"]},
                    }
                ],
            }
        }
    )
    cal = calendar_from_dict(data)
    with pytest.raises(CalendarError, match="overlaps another band"):
        cal.assign(local_day_index("2025-07-02", "Europe/Rome"), Q, "s")


def test_uncovered_slot_without_default_is_an_error() -> None:
    data = minimal(
        schedules={
            "s": {
                "bands": ["a"],
                "rules": [{"day_types": ["weekday"], "bands": {"a": ["00:00-24:00"]}}],
            }
        }
    )
    cal = calendar_from_dict(data)
    with pytest.raises(CalendarError, match="no band for season all, day type weekend"):
        cal.assign(local_day_index("2025-07-05", "Europe/Rome"), Q, "s")


def test_seasons_must_cover_the_year_once() -> None:
    data = minimal(
        seasons=[
            {"name": "w", "ranges": ["12-01..02-29"]},
            {"name": "s", "ranges": ["03-01..11-15"]},
        ]
    )
    cal = calendar_from_dict(data)
    with pytest.raises(CalendarError, match="11-16 belongs to no season"):
        cal.assign(local_day_index("2025-07-02", "Europe/Rome"), Q, "s")
