"""Band schedules from a DSO's VT/NT switching table (gridtwin.calendar._table)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.calendar import Calendar, calendar_from_dict, get_calendar
from gridtwin.calendar._table import calendar_with_schedule, schedule_from_table
from gridtwin.errors import CalendarError, InputError
from gridtwin.tariffs import load_tariff
from gridtwin.timeseries import regular_index

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CSV = ROOT / "examples" / "sk" / "hdo_switching_example.csv"
EXAMPLE_TARIFF = ROOT / "examples" / "sk" / "example_two_band_tariff.yaml"
TZ = "Europe/Bratislava"
STEP = pd.Timedelta("15min")
HEADER = "day_type,band,start,end\n"
# a complete table for the sk-urso day types (weekday, saturday, sunday)
WEEKEND = (
    "saturday,NT,00:00,08:00\nsaturday,VT,08:00,24:00\n"
    "sunday,NT,00:00,08:00\nsunday,VT,08:00,24:00\n"
)


def _write(tmp_path: Path, body: str, name: str = "hdo.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _example_calendar() -> Calendar:
    return calendar_with_schedule(get_calendar("sk-urso"), "hdo", schedule_from_table(EXAMPLE_CSV))


def _local_day(
    cal: Calendar, day: str, schedule: str = "hdo"
) -> tuple[pd.DatetimeIndex, np.ndarray, tuple[str, ...]]:
    start = pd.Timestamp(day).tz_localize(TZ)
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(TZ)
    n = int((end - start) / STEP)
    idx = regular_index(start, n, STEP)
    a = cal.assign(idx, STEP, schedule)
    return idx, a.codes, a.bands


def _hours(cal: Calendar, day: str) -> dict[str, float]:
    _idx, codes, bands = _local_day(cal, day)
    counts = np.bincount(codes, minlength=len(bands))
    return {b: float(c) / 4 for b, c in zip(bands, counts, strict=True)}


def _band_at(cal: Calendar, local: str) -> str:
    ts = pd.Timestamp(local).tz_localize(TZ).tz_convert("UTC")
    a = cal.assign(pd.DatetimeIndex([ts, ts + STEP]), STEP, "hdo")
    return a.bands[int(a.codes[0])]


# ------------------------------------------------------------------ the example table
def test_example_table_is_labelled_as_an_example() -> None:
    head = EXAMPLE_CSV.read_text(encoding="utf-8").splitlines()[:3]
    assert "EXAMPLE ONLY" in head[0]
    assert "NOT" in head[0]
    assert "real" in head[1]


def test_example_table_rules() -> None:
    spec = schedule_from_table(EXAMPLE_CSV)
    assert spec.bands == ("NT", "VT")
    assert spec.default is None
    assert spec.resolution_min == 15
    weekday = next(r for r in spec.rules if r.day_types == ("weekday",))
    assert weekday.bands == {
        "NT": ("22:00-06:00", "13:00-15:00"),
        "VT": ("06:00-13:00", "15:00-22:00"),
    }
    assert weekday.seasons is None
    assert weekday.status == "unverified"
    assert weekday.source is not None
    assert "hdo_switching_example.csv" in weekday.source
    assert "lines 16, 17, 18, 19" in weekday.source


@pytest.mark.parametrize(
    ("day", "nt", "vt"),
    [
        ("2019-05-15", 10.0, 14.0),  # Wednesday
        ("2019-05-17", 10.0, 14.0),  # Friday
        ("2019-05-18", 12.0, 12.0),  # Saturday
        ("2019-05-19", 12.0, 12.0),  # Sunday
    ],
)
def test_vt_nt_hours_per_day(day: str, nt: float, vt: float) -> None:
    assert _hours(_example_calendar(), day) == {"NT": nt, "VT": vt}


@pytest.mark.parametrize(
    ("local", "band"),
    [
        ("2019-05-15 05:45", "NT"),
        ("2019-05-15 06:00", "VT"),
        ("2019-05-15 12:45", "VT"),
        ("2019-05-15 13:00", "NT"),
        ("2019-05-15 14:45", "NT"),
        ("2019-05-15 15:00", "VT"),
        ("2019-05-15 21:45", "VT"),
        ("2019-05-15 22:00", "NT"),
        ("2019-05-15 23:45", "NT"),
        ("2019-05-15 00:00", "NT"),
        # Friday night is weekday NT until midnight, then Saturday's own table applies
        ("2019-05-17 23:45", "NT"),
        ("2019-05-18 06:45", "NT"),
        ("2019-05-18 07:00", "VT"),
        ("2019-05-18 12:00", "NT"),
        ("2019-05-18 20:45", "VT"),
        ("2019-05-18 21:00", "NT"),
    ],
)
def test_band_at_local_times(local: str, band: str) -> None:
    assert _band_at(_example_calendar(), local) == band


def test_dst_spring_day_has_23_hours() -> None:
    # 31 March 2019, a Sunday: 02:00-03:00 local does not exist, and it is NT in the table
    hours = _hours(_example_calendar(), "2019-03-31")
    assert hours == {"NT": 11.0, "VT": 12.0}
    assert sum(hours.values()) == 23.0


def test_dst_autumn_day_has_25_hours() -> None:
    # 27 October 2019, a Sunday: 02:00-03:00 local happens twice, both times NT
    cal = _example_calendar()
    hours = _hours(cal, "2019-10-27")
    assert hours == {"NT": 13.0, "VT": 12.0}
    idx, codes, bands = _local_day(cal, "2019-10-27")
    local = idx.tz_convert(TZ)
    twice = np.nonzero(local.hour == 2)[0]
    assert len(twice) == 8
    assert {bands[c] for c in codes[twice]} == {"NT"}


def test_example_tariff_calendar_matches_the_table() -> None:
    """The inline schedule of the example tariff is the example table, slot for slot."""
    inline = load_tariff(EXAMPLE_TARIFF).calendar
    assert inline is not None
    from_table = _example_calendar()
    idx = regular_index("2019-01-01", 365 * 96, STEP, tz=TZ)
    a = inline.assign(idx, STEP, "hdo_example")
    b = from_table.assign(idx, STEP, "hdo")
    names_a = np.asarray(a.bands)[a.codes]
    names_b = np.asarray(b.bands)[b.codes]
    assert (names_a == names_b).all()
    assert set(names_a.tolist()) == {"NT", "VT"}


def test_input_calendar_is_not_changed() -> None:
    base = get_calendar("sk-urso")
    before = base.schedule_names()
    new = calendar_with_schedule(base, "hdo_x", schedule_from_table(EXAMPLE_CSV))
    assert base.schedule_names() == before
    assert new.schedule_names() == (*before, "hdo_x")
    assert new.id == base.id
    assert new.timezone == TZ


# --------------------------------------------------------------------- table features
def test_frame_gives_the_same_schedule() -> None:
    frame = pd.read_csv(EXAMPLE_CSV, comment="#", dtype=str)
    a = schedule_from_table(frame)
    b = schedule_from_table(EXAMPLE_CSV)
    assert a.bands == b.bands
    assert [(r.day_types, r.bands) for r in a.rules] == [(r.day_types, r.bands) for r in b.rules]
    assert a.rules[0].source is not None
    assert "rows 0, 1, 2, 3" in a.rules[0].source


def test_end_midnight_written_as_0000(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER + "weekday,VT,06:00,22:00\nweekday,NT,22:00,00:00\n"
        "weekday,NT,00:00,06:00\n" + WEEKEND,
    )
    spec = schedule_from_table(path)
    assert spec.rules[0].bands["NT"] == ("22:00-24:00", "00:00-06:00")


def test_default_band_fills_uncovered_times(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "weekday,VT,06:00,22:00\n")
    with pytest.raises(CalendarError, match="no row gives a band for weekday"):
        schedule_from_table(path)
    spec = schedule_from_table(path, default="NT")
    assert spec.bands == ("VT", "NT")
    assert spec.default == "NT"
    cal = calendar_with_schedule(get_calendar("sk-urso"), "hdo", spec)
    assert _hours(cal, "2019-05-15") == {"VT": 16.0, "NT": 8.0}
    assert _hours(cal, "2019-05-18") == {"VT": 0.0, "NT": 24.0}


def test_resolution(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "weekday,VT,06:10,22:00\nweekday,NT,22:00,06:10\n" + WEEKEND)
    with pytest.raises(
        CalendarError,
        match=r"line 2, field `start`: 06:10 is not on the "
        r"table's 15-minute grid",
    ):
        schedule_from_table(path)
    assert schedule_from_table(path, resolution_min=5).resolution_min == 5
    with pytest.raises(InputError, match="resolution_min=7"):
        schedule_from_table(path, resolution_min=7)


def test_seasons(tmp_path: Path) -> None:
    cal = calendar_from_dict(
        {
            "id": "sk-seasons-test",
            "name": "test",
            "timezone": TZ,
            "source": "test",
            "day_types": {
                "weekday": ["mon", "tue", "wed", "thu", "fri"],
                "weekend": ["sat", "sun"],
            },
            "seasons": [
                {"name": "winter", "ranges": ["10-01..03-31"]},
                {"name": "summer", "ranges": ["04-01..09-30"]},
            ],
        }
    )
    body = (
        "day_type,band,start,end,season\n"
        "weekday,NT,22:00,06:00,\n"  # every season
        "weekday,VT,06:00,22:00,summer\n"
        "weekday,VT,06:00,12:00,winter\n"
        "weekday,NT,12:00,14:00,winter\n"
        "weekday,VT,14:00,22:00,winter\n"
        "weekend,NT,00:00,24:00,\n"
    )
    spec = schedule_from_table(_write(tmp_path, body))
    new = calendar_with_schedule(cal, "hdo", spec)
    assert _hours(new, "2019-07-10") == {"NT": 8.0, "VT": 16.0}
    assert _hours(new, "2019-01-09") == {"NT": 10.0, "VT": 14.0}
    assert _hours(new, "2019-01-12") == {"NT": 24.0, "VT": 0.0}
    # a season-specific row may not overlap an all-season row
    bad = body + "weekday,VT,05:00,06:00,winter\n"
    with pytest.raises(
        CalendarError,
        match=r"line 8: VT 05:00-06:00 on weekday, season "
        r"winter overlaps line 2 \(NT 22:00-06:00\)",
    ):
        schedule_from_table(_write(tmp_path, bad))
    # each season named in the table must be covered for each day type
    gap = body.replace("weekday,NT,12:00,14:00,winter\n", "")
    with pytest.raises(CalendarError, match="weekday, season winter from 12:00 to 14:00"):
        schedule_from_table(_write(tmp_path, gap))


# ----------------------------------------------------------------------------- errors
def test_overlap_names_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "weekday,NT,22:00,06:00\nweekday,VT,05:00,22:00\n" + WEEKEND)
    with pytest.raises(CalendarError) as info:
        schedule_from_table(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "line 3: VT 05:00-22:00 on weekday overlaps line 2 (NT 22:00-06:00) at 05:00" in msg
    assert "shorten or remove" in msg


def test_overlap_of_the_same_band_is_an_error_too(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER + "weekday,NT,22:00,06:00\nweekday,NT,21:00,23:00\n"
        "weekday,VT,06:00,21:00\n" + WEEKEND,
    )
    with pytest.raises(CalendarError, match=r"line 3: NT 21:00-23:00 .* at 22:00"):
        schedule_from_table(path)


def test_uncovered_time_is_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER + "weekday,NT,22:00,06:00\nweekday,VT,06:00,13:00\n"
        "weekday,VT,15:00,22:00\n" + WEEKEND,
    )
    with pytest.raises(
        CalendarError,
        match=r"hdo.csv: no row gives a band for weekday from "
        r"13:00 to 15:00; add a row .* default=",
    ):
        schedule_from_table(path)


@pytest.mark.parametrize(
    ("row", "field", "fragment"),
    [
        ("weekday,NT,22:00,25:00", "end", "not a time of day"),
        ("weekday,NT,22:00,6", "end", "is not a time; write HH:MM"),
        ("weekday,NT,22:60,06:00", "start", "not a time of day"),
        ("weekday,NT,24:00,06:00", "start", "24:00 is the end of the day"),
        ("weekday,NT,06:00,06:00", "end", "is empty; for a whole day"),
        ("Weekday,NT,22:00,06:00", "day_type", "not a day-type name"),
        ("weekday,V T,22:00,06:00", "band", "not a band name"),
        ("weekday,,22:00,06:00", "band", "not a band name"),
    ],
)
def test_bad_field(tmp_path: Path, row: str, field: str, fragment: str) -> None:
    path = _write(tmp_path, "# comment line\n" + HEADER + "weekday,VT,06:00,22:00\n" + row + "\n")
    with pytest.raises(CalendarError) as info:
        schedule_from_table(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}, line 4, field `{field}`")
    assert fragment in msg


def test_bad_season_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "day_type,band,start,end,season\nweekday,NT,00:00,24:00,Winter\n")
    with pytest.raises(CalendarError, match=r"line 2, field `season`: 'Winter'"):
        schedule_from_table(path)


def test_wrong_number_of_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "weekday,NT,22:00\n")
    with pytest.raises(CalendarError, match=r"hdo.csv, line 2: 3 field\(s\) for 4 columns"):
        schedule_from_table(path)


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (
            "day_type,band,start,ende\n",
            r"unknown column\(s\) \['ende'\].*missing column\(s\) "
            r"\['end'\]",
        ),
        ("day_type,band,start,end,tariff\n", r"unknown column\(s\) \['tariff'\]"),
        ("day_type,band,start,end,end\n", r"column\(s\) \['end'\] appear more than once"),
    ],
)
def test_bad_header(tmp_path: Path, header: str, fragment: str) -> None:
    with pytest.raises(CalendarError, match=fragment):
        schedule_from_table(_write(tmp_path, header + "weekday,NT,00:00,24:00,x\n"))


def test_empty_tables(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="the switching table is empty"):
        schedule_from_table(_write(tmp_path, "# only a comment\n\n"))
    with pytest.raises(CalendarError, match="has a header but no rows"):
        schedule_from_table(_write(tmp_path, HEADER))
    with pytest.raises(CalendarError, match="cannot read the switching table"):
        schedule_from_table(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="path_or_frame must be a CSV path"):
        schedule_from_table(42)  # type: ignore[arg-type]


def test_frame_errors_name_the_row() -> None:
    frame = pd.DataFrame(
        {
            "day_type": ["weekday", "weekday"],
            "band": ["NT", "VT"],
            "start": ["00:00", "6:00x"],
            "end": ["06:00", "24:00"],
        },
        index=["a", "b"],
    )
    with pytest.raises(CalendarError, match=r"<switching table frame>, row 'b', field `start`"):
        schedule_from_table(frame)


def test_calendar_without_the_tables_day_type(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "workday,NT,00:00,24:00\n")
    with pytest.raises(CalendarError) as info:
        calendar_with_schedule(get_calendar("sk-urso"), "hdo", schedule_from_table(path))
    msg = str(info.value)
    assert "day type 'workday'" in msg
    assert f"{path}, line 2" in msg
    assert "weekday" in msg  # lists the calendar's day types


def test_holiday_rows_need_a_calendar_with_holidays(tmp_path: Path) -> None:
    path = _write(
        tmp_path, HEADER + "weekday,NT,00:00,24:00\n" + WEEKEND + "holiday,NT,00:00,24:00\n"
    )
    with pytest.raises(CalendarError, match="sk-urso counts no holidays"):
        calendar_with_schedule(get_calendar("sk-urso"), "hdo", schedule_from_table(path))


def test_season_rows_need_a_calendar_with_seasons(tmp_path: Path) -> None:
    path = _write(tmp_path, "day_type,band,start,end,season\nweekday,NT,00:00,24:00,winter\n")
    with pytest.raises(CalendarError, match="defines no seasons: leave the season column empty"):
        calendar_with_schedule(get_calendar("sk-urso"), "hdo", schedule_from_table(path))


def test_day_type_missing_from_the_table(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "weekday,NT,00:00,24:00\n")
    spec = schedule_from_table(path)  # complete for the day types it lists
    with pytest.raises(CalendarError, match=r"no band for saturday \(season all\) at 00:00"):
        calendar_with_schedule(get_calendar("sk-urso"), "hdo", spec)


def test_schedule_name_taken() -> None:
    base = get_calendar("sk-urso")
    spec = schedule_from_table(EXAMPLE_CSV)
    with pytest.raises(CalendarError, match="already has a schedule 'single'"):
        calendar_with_schedule(base, "single", spec)
    replaced = calendar_with_schedule(base, "single", spec, replace=True)
    assert replaced.bands("single") == ("NT", "VT")
    assert base.bands("single") == ("VT",)
    with pytest.raises(CalendarError, match="schedule name 'HDO 1'"):
        calendar_with_schedule(base, "HDO 1", spec)
