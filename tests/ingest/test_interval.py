"""Tests of reading and writing interval meter data (gridtwin.ingest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import DataQualityError, InputError
from gridtwin.ingest import read_intervals, write_intervals
from gridtwin.timeseries import IntervalData

ROME = "Europe/Rome"
HEADER = "timestamp,meter_id,energy_kwh"


def write_lines(path: Path, lines: list[str]) -> Path:
    """Write text lines (header first) to ``path``."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def local_day(day: str, freq: str = "15min") -> pd.DatetimeIndex:
    """Return the interval starts of one local Europe/Rome day (tz-aware)."""
    start = pd.Timestamp(day)
    end = start + pd.Timedelta(days=1)  # next local midnight (23, 24 or 25 hours later)
    return pd.date_range(
        start.tz_localize(ROME), end.tz_localize(ROME), freq=freq, inclusive="left"
    )


def long_lines(
    stamps: list[str], meters: tuple[str, ...] = ("m1",), values: list[float] | None = None
) -> list[str]:
    """Return a long-layout CSV (header + rows), meter-major, values 0, 1, 2, ..."""
    vals = values if values is not None else [float(i) for i in range(len(stamps))]
    rows = [f"{t},{m},{v}" for m in meters for t, v in zip(stamps, vals, strict=True)]
    return [HEADER, *rows]


def naive(index: pd.DatetimeIndex) -> list[str]:
    """Local clock times without offset, as a meter would write them."""
    return list(index.strftime("%Y-%m-%d %H:%M:%S"))


def zulu(index: pd.DatetimeIndex) -> list[str]:
    """UTC ISO strings with ``Z``."""
    return list(index.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"))


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".csv.gz"])
def test_round_trip_keeps_values_gaps_ids_and_axis(tmp_path: Path, suffix: str) -> None:
    index = pd.date_range("2024-02-28T22:00Z", periods=8, freq="15min")
    energy = np.array(
        [[1.0, 2.0, np.nan, np.nan, 5.0, 6.0, 7.0, 8.0], [0.5, -0.25, 0.0, 1.5, 2.5, 3.5, 4.5, 5.5]]
    )
    data = IntervalData(index, energy, ("007", "IT001E1"), "mem")
    path = tmp_path / f"out{suffix}"
    write_intervals(data, path)
    back = read_intervals(path, allow_negative=True)
    assert back.meter_ids == ("007", "IT001E1")
    assert back.start_utc.equals(index)
    np.testing.assert_array_equal(back.energy_kwh, energy)
    assert any("2 missing interval(s)" in n and "'007'" in n for n in back.notes)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left


def test_written_csv_is_long_layout_with_utc_z_start_labels(tmp_path: Path) -> None:
    index = pd.date_range("2024-01-01T00:00Z", periods=2, freq="1h")
    path = tmp_path / "out.csv"
    write_intervals(IntervalData(index, np.array([[1.0, 2.0]]), ("a",)), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].replace('"', "") == HEADER
    assert lines[1].replace('"', "") == "2024-01-01T00:00:00Z,a,1"


def test_write_to_missing_directory_raises(tmp_path: Path) -> None:
    data = IntervalData(
        pd.date_range("2024-01-01", periods=2, freq="1h", tz="UTC"), np.array([[1.0, 2.0]]), ("a",)
    )
    with pytest.raises(InputError, match="does not exist"):
        write_intervals(data, tmp_path / "nope" / "out.csv")


# --------------------------------------------------------------------------- DST and time zones


@pytest.mark.parametrize(
    ("day", "n_steps", "first_utc", "end_utc"),
    [
        ("2024-03-31", 92, "2024-03-30T23:00Z", "2024-03-31T22:00Z"),
        ("2024-10-27", 100, "2024-10-26T22:00Z", "2024-10-27T23:00Z"),
    ],
)
def test_rome_dst_days_from_naive_local_times(
    tmp_path: Path, day: str, n_steps: int, first_utc: str, end_utc: str
) -> None:
    stamps = naive(local_day(day))
    assert len(stamps) == n_steps
    path = write_lines(tmp_path / "d.csv", long_lines(stamps, ("m1", "m2")))
    data = read_intervals(path, timezone=ROME)
    assert data.n_steps == n_steps
    assert data.start_utc[0] == pd.Timestamp(first_utc)
    assert data.end_utc == pd.Timestamp(end_utc)
    # the value order must follow true time: the first 02:xx pass is CEST, the second CET
    np.testing.assert_array_equal(data.energy_kwh, np.tile(np.arange(n_steps), (2, 1)))
    assert not data.missing_mask().any()


@pytest.mark.parametrize(("day", "n_steps"), [("2024-03-31", 92), ("2024-10-27", 100)])
def test_rome_dst_days_from_utc_z_strings(tmp_path: Path, day: str, n_steps: int) -> None:
    index = local_day(day)
    path = write_lines(tmp_path / "d.csv", long_lines(zulu(index)))
    data = read_intervals(path)
    assert data.n_steps == n_steps
    assert data.start_utc.equals(index.tz_convert("UTC"))
    np.testing.assert_array_equal(data.energy_kwh[0], np.arange(n_steps))


def test_offsets_give_the_same_instants_as_z(tmp_path: Path) -> None:
    index = local_day("2024-10-27")
    with_offset = [t.isoformat() for t in index]  # ...+02:00 then ...+01:00
    data = read_intervals(write_lines(tmp_path / "d.csv", long_lines(with_offset)))
    assert data.start_utc.equals(index.tz_convert("UTC"))


def test_ambiguous_local_rows_out_of_order_raise(tmp_path: Path) -> None:
    stamps = naive(local_day("2024-10-27"))
    # rows 9-16 are 02:00..02:45 CEST, rows 13-16 02:00..02:45 CET; interleave the passes
    fold = stamps[8:16]
    stamps[8:16] = [fold[0], fold[4], fold[1], fold[5], fold[2], fold[6], fold[3], fold[7]]
    path = write_lines(tmp_path / "d.csv", long_lines(stamps))
    with pytest.raises(DataQualityError, match=r"data rows 9, 10, 11.*offset.*UTC") as err:
        read_intervals(path, timezone=ROME)
    assert "d.csv" in str(err.value)


def test_ambiguous_local_rows_of_a_single_pass_raise(tmp_path: Path) -> None:
    stamps = naive(local_day("2024-10-27"))
    del stamps[12:16]  # the CET pass of 02:xx is missing: the CEST pass cannot be told apart
    path = write_lines(tmp_path / "d.csv", long_lines(stamps))
    with pytest.raises(DataQualityError, match="cannot be told apart"):
        read_intervals(path, timezone=ROME)


def test_nonexistent_local_time_raises_naming_the_row(tmp_path: Path) -> None:
    stamps = naive(local_day("2024-03-31"))
    stamps.insert(8, "2024-03-31 02:15:00")  # clocks jump from 02:00 to 03:00
    path = write_lines(tmp_path / "d.csv", long_lines(stamps))
    with pytest.raises(DataQualityError, match=r"data row 9 \(1-based.*does not exist"):
        read_intervals(path, timezone=ROME)


def test_naive_times_without_timezone_raise(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.csv", long_lines(naive(local_day("2024-01-10"))))
    with pytest.raises(InputError, match="timezone="):
        read_intervals(path)


def test_mixed_offset_and_naive_timestamps_raise(tmp_path: Path) -> None:
    stamps = zulu(local_day("2024-01-10"))
    stamps[5] = "2024-01-10 04:15:00"
    path = write_lines(tmp_path / "d.csv", long_lines(stamps))
    with pytest.raises(InputError, match=r"mix UTC offsets.*data row 6 "):
        read_intervals(path, timezone=ROME)


def test_unparseable_timestamp_raises_naming_the_row(tmp_path: Path) -> None:
    stamps = naive(local_day("2024-01-10"))
    stamps[3] = "10/01/2024 00:45"
    path = write_lines(tmp_path / "d.csv", long_lines(stamps))
    with pytest.raises(InputError, match=r"data row 4 .*not an ISO 8601"):
        read_intervals(path, timezone=ROME)


def test_label_end_shifts_to_interval_starts(tmp_path: Path) -> None:
    index = local_day("2024-10-27")
    path = write_lines(tmp_path / "d.csv", long_lines(naive(index + pd.Timedelta("15min"))))
    data = read_intervals(path, timezone=ROME, label="end")
    assert data.start_utc.equals(index.tz_convert("UTC"))
    np.testing.assert_array_equal(data.energy_kwh[0], np.arange(100))


def test_leap_day_hourly(tmp_path: Path) -> None:
    index = pd.date_range("2024-02-28T00:00Z", "2024-03-01T23:00Z", freq="1h")
    data = read_intervals(write_lines(tmp_path / "d.csv", long_lines(zulu(index))))
    assert data.n_steps == 72
    assert data.step == pd.Timedelta("1h")


# --------------------------------------------------------------------------- steps and grid


@pytest.mark.parametrize(("freq", "periods"), [("1min", 1440), ("1h", 48), ("5min", 300)])
def test_step_is_inferred(tmp_path: Path, freq: str, periods: int) -> None:
    index = pd.date_range("2024-06-01T00:00Z", periods=periods, freq=freq)
    data = read_intervals(write_lines(tmp_path / "d.csv", long_lines(zulu(index))))
    assert data.step == pd.Timedelta(freq)
    assert data.n_steps == periods


def test_step_argument_allows_a_single_timestamp(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "d.csv", [HEADER, "2024-06-01T00:00:00Z,a,1", "2024-06-01T00:00:00Z,b,2"]
    )
    with pytest.raises(InputError, match="pass step="):
        read_intervals(path)
    data = read_intervals(path, step="30min", unit="kWh")
    assert data.n_steps == 1
    assert data.meter_ids == ("a", "b")


def test_step_below_one_minute_is_rejected(tmp_path: Path) -> None:
    index = pd.date_range("2024-06-01T00:00Z", periods=4, freq="15min")
    path = write_lines(tmp_path / "d.csv", long_lines(zulu(index)))
    with pytest.raises(InputError, match="1-minute minimum"):
        read_intervals(path, step="30s")


def test_off_grid_timestamp_raises_naming_the_row(tmp_path: Path) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=10, freq="15min"))
    stamps[6] = "2024-06-01T01:37:00Z"
    path = write_lines(tmp_path / "d.csv", long_lines(stamps))
    with pytest.raises(DataQualityError, match=r"data row 7 .*01:37:00.*off the 15-minute grid"):
        read_intervals(path)


# --------------------------------------------------------------------------- gaps and quality


def test_gaps_are_nan_and_reported_never_zero_filled(tmp_path: Path) -> None:
    index = pd.date_range("2024-06-01T00:00Z", periods=8, freq="15min")
    stamps = zulu(index)
    lines = [HEADER] + [f"{t},a,1.0" for t in stamps]
    lines += [f"{t},b,2.0" for i, t in enumerate(stamps) if i not in (2, 3, 5)]
    data = read_intervals(write_lines(tmp_path / "d.csv", lines))
    b = data.energy_kwh[data.meter_ids.index("b")]
    assert np.isnan(b[[2, 3, 5]]).all()
    assert np.nansum(b) == pytest.approx(10.0)
    note = next(n for n in data.notes if n.startswith("meter 'b'"))
    assert "3 missing interval(s)" in note
    assert "2024-06-01T00:30:00+00:00" in note


def test_meters_with_different_spans_are_aligned_on_the_union(tmp_path: Path) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=6, freq="1h"))
    lines = [HEADER] + [f"{t},early,1" for t in stamps[:4]] + [f"{t},late,2" for t in stamps[2:]]
    data = read_intervals(write_lines(tmp_path / "d.csv", lines))
    assert data.n_steps == 6
    np.testing.assert_array_equal(data.missing_mask(), [[0, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 0]])


@pytest.mark.parametrize(("second_value", "word"), [("1.0", "identical"), ("3.5", "conflicting")])
def test_duplicate_rows_raise_naming_file_and_rows(
    tmp_path: Path, second_value: str, word: str
) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=4, freq="15min"))
    lines = [HEADER] + [f"{t},a,1.0" for t in stamps] + [f"{stamps[1]},a,{second_value}"]
    path = write_lines(tmp_path / "dups.csv", lines)
    with pytest.raises(
        DataQualityError,
        match=rf"data rows 2, 5 \(1-based, header excluded\), "
        rf"{word}",
    ) as err:
        read_intervals(path)
    assert "dups.csv" in str(err.value)


@pytest.mark.parametrize("bad", ["NaN", "", "nan", "inf"])
def test_nan_or_empty_value_raises_naming_the_row(tmp_path: Path, bad: str) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=4, freq="15min"))
    lines = [HEADER] + [f"{t},a,{bad if i == 2 else '1.0'}" for i, t in enumerate(stamps)]
    with pytest.raises(DataQualityError, match=r"data row 3 .*NaN"):
        read_intervals(write_lines(tmp_path / "d.csv", lines))


def test_negative_value_raises_unless_allowed(tmp_path: Path) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=4, freq="15min"))
    lines = [HEADER] + [f"{t},a,{-0.5 if i == 1 else 1.0}" for i, t in enumerate(stamps)]
    path = write_lines(tmp_path / "d.csv", lines)
    with pytest.raises(DataQualityError, match=r"data row 2 .*negative.*allow_negative=True"):
        read_intervals(path)
    data = read_intervals(path, allow_negative=True)
    assert data.energy_kwh[0, 1] == -0.5


def test_non_numeric_value_raises_naming_row_and_column(tmp_path: Path) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=4, freq="15min"))
    lines = [HEADER] + [f"{t},a,{'1,5' if i == 3 else '1.0'}" for i, t in enumerate(stamps)]
    path = write_lines(tmp_path / "d.csv", lines)
    with pytest.raises(InputError, match=r"d\.csv"):
        read_intervals(path)
    lines[4] = f'{stamps[3]},a,"abc"'
    with pytest.raises(InputError, match=r"data row 4 .*'energy_kwh'.*'abc' is not a number"):
        read_intervals(write_lines(path, lines))


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("column", "unit", "raw", "kwh"),
    [
        ("power_kw", "kW", 4.0, 1.0),  # 4 kW over 15 min
        ("power_w", "W", 2000.0, 0.5),  # 2 kW over 15 min
        ("energy_wh", "Wh", 250.0, 0.25),
        ("energy_mwh", "MWh", 0.002, 2.0),
        ("energy_kwh", "kWh", 1.25, 1.25),
    ],
)
def test_units_are_converted_to_kwh_per_interval(
    tmp_path: Path, column: str, unit: str, raw: float, kwh: float
) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=4, freq="15min"))
    lines = [f"timestamp,meter_id,{column}"] + [f"{t},a,{raw}" for t in stamps]
    data = read_intervals(write_lines(tmp_path / "d.csv", lines), value_column=column, unit=unit)
    np.testing.assert_allclose(data.energy_kwh, kwh)


def test_hourly_kw_equals_kwh(tmp_path: Path) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=3, freq="1h"))
    lines = ["timestamp,meter_id,p_kw"] + [f"{t},a,3.0" for t in stamps]
    data = read_intervals(write_lines(tmp_path / "d.csv", lines), value_column="p_kw", unit="kW")
    np.testing.assert_allclose(data.energy_kwh, 3.0)


def test_column_unit_contradicting_the_unit_argument_raises(tmp_path: Path) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=2, freq="15min"))
    lines = ["timestamp,meter_id,power_kw"] + [f"{t},a,3.0" for t in stamps]
    path = write_lines(tmp_path / "d.csv", lines)
    with pytest.raises(InputError, match=r"'power_kw' says kW.*unit='kWh'.*unit='kW'"):
        read_intervals(path, value_column="power_kw", unit="kWh")


def test_unknown_unit_raises(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown unit 'kwh/h'"):
        read_intervals(tmp_path / "d.csv", unit="kwh/h")


# --------------------------------------------------------------------------- layouts and files


def test_wide_and_long_layouts_give_the_same_data(tmp_path: Path) -> None:
    stamps = zulu(local_day("2024-03-31", "1h"))
    wide = ["timestamp,m1,m2"] + [f"{t},{i},{10 * i}" for i, t in enumerate(stamps)]
    long = [HEADER] + [f"{t},m1,{i}" for i, t in enumerate(stamps)]
    long += [f"{t},m2,{10 * i}" for i, t in enumerate(stamps)]
    a = read_intervals(write_lines(tmp_path / "w.csv", wide))
    b = read_intervals(write_lines(tmp_path / "l.csv", long), layout="long")
    assert a.meter_ids == b.meter_ids == ("m1", "m2")
    assert a.n_steps == 23
    assert a.start_utc.equals(b.start_utc)
    np.testing.assert_array_equal(a.energy_kwh, b.energy_kwh)


def test_wide_local_times_with_dst_and_duplicate_rows(tmp_path: Path) -> None:
    stamps = naive(local_day("2024-10-27", "1h"))
    wide = ["timestamp,m1"] + [f"{t},{i}" for i, t in enumerate(stamps)]
    data = read_intervals(write_lines(tmp_path / "w.csv", wide), timezone=ROME)
    assert data.n_steps == 25
    np.testing.assert_array_equal(data.energy_kwh[0], np.arange(25))
    wide.append(f"{stamps[5]},99")
    with pytest.raises(DataQualityError, match=r"data rows 6, 26 .*conflicting"):
        read_intervals(write_lines(tmp_path / "w.csv", wide), timezone=ROME)


def test_wide_empty_cell_is_bad_data(tmp_path: Path) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=3, freq="1h"))
    wide = ["timestamp,m1,m2", f"{stamps[0]},1,2", f"{stamps[1]},1,", f"{stamps[2]},1,2"]
    with pytest.raises(DataQualityError, match=r"data row 2 .*column 'm2'"):
        read_intervals(write_lines(tmp_path / "w.csv", wide))


def test_parquet_with_native_timestamps(tmp_path: Path) -> None:
    index = local_day("2024-10-27")
    frame = pd.DataFrame({"ts": index, "meter_id": 7, "value": np.arange(100.0)})
    frame.to_parquet(tmp_path / "aware.parquet")
    data = read_intervals(tmp_path / "aware.parquet", timestamp_column="ts", value_column="value")
    assert data.meter_ids == ("7",)
    assert data.start_utc.equals(index.tz_convert("UTC"))
    frame["ts"] = index.tz_localize(None)
    frame.to_parquet(tmp_path / "naive.parquet")
    local = read_intervals(
        tmp_path / "naive.parquet", timestamp_column="ts", value_column="value", timezone=ROME
    )
    np.testing.assert_array_equal(local.energy_kwh, data.energy_kwh)


def test_missing_column_raises_naming_file_and_columns(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.csv", ["time,meter_id,energy_kwh", "2024-01-01T00:00Z,a,1"])
    with pytest.raises(InputError, match=r"d.csv: no timestamp column 'timestamp'.*'time'"):
        read_intervals(path)
    path = write_lines(tmp_path / "d.csv", ["timestamp,meter_id,kwh", "2024-01-01T00:00Z,a,1"])
    with pytest.raises(InputError, match=r"\['energy_kwh'\] are missing.*value_column="):
        read_intervals(path)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("d.xlsx", "x", "unknown file type"),
        ("d.parquet", "not parquet", "cannot read as Parquet"),
        ("d.csv", "", "cannot read a CSV header"),
        ("d.csv", HEADER + "\n", "no data rows"),
    ],
)
def test_unreadable_files_raise_input_error(
    tmp_path: Path, name: str, content: str, match: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        read_intervals(path)


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope.csv: file not found"):
        read_intervals(tmp_path / "nope.csv")


def test_unknown_timezone_raises(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown time zone 'Europe/Roma'"):
        read_intervals(tmp_path / "d.csv", timezone="Europe/Roma")


def test_time_major_local_rows_resolve_the_fold_per_meter(tmp_path: Path) -> None:
    stamps = naive(local_day("2024-10-27"))
    lines = [HEADER] + [f"{t},{m},{i}" for i, t in enumerate(stamps) for m in ("a", "b")]
    data = read_intervals(write_lines(tmp_path / "d.csv", lines), timezone=ROME)
    assert data.meter_ids == ("a", "b")
    np.testing.assert_array_equal(data.energy_kwh, np.tile(np.arange(100), (2, 1)))


def test_empty_meter_id_raises_naming_the_row(tmp_path: Path) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=3, freq="1h"))
    lines = [HEADER, f"{stamps[0]},a,1", f"{stamps[1]},,1", f"{stamps[2]},a,1"]
    with pytest.raises(InputError, match=r"data row 2 .*empty meter id"):
        read_intervals(write_lines(tmp_path / "d.csv", lines))


def test_a_far_off_date_is_caught_before_allocating_the_axis(tmp_path: Path) -> None:
    lines = [HEADER] + [f"2024-01-01T00:0{i}:00Z,a,1" for i in range(3)]
    lines.append("2204-01-01T00:00:00Z,a,1")  # typo for 2024
    with pytest.raises(DataQualityError, match=r"is a date wrong\?.*data row 4"):
        read_intervals(write_lines(tmp_path / "d.csv", lines))


def test_wide_missing_rows_are_gaps(tmp_path: Path) -> None:
    stamps = zulu(pd.date_range("2024-06-01T00:00Z", periods=5, freq="1h"))
    wide = ["timestamp,m1,m2"] + [f"{t},1,2" for i, t in enumerate(stamps) if i != 2]
    data = read_intervals(write_lines(tmp_path / "w.csv", wide))
    assert data.n_steps == 5
    np.testing.assert_array_equal(data.missing_mask(), [[0, 0, 1, 0, 0], [0, 0, 1, 0, 0]])
    assert any("2 missing interval(s) in 2 meter(s)" in n for n in data.notes)


def test_a_value_cell_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    """The error reporter read the column as text and failed itself (pyarrow's
    ArrowInvalid) on bytes that are not UTF-8: the cell is named instead."""
    path = tmp_path / "bytes.csv"
    path.write_bytes(
        b"timestamp,m1\n2026-01-01T00:00Z,0.1\n2026-01-01T00:15Z,0.1\xff\n2026-01-01T00:30Z,0.2\n"
    )
    with pytest.raises(InputError, match=r"data row 2 .* column 'm1': .* not UTF-8 text"):
        read_intervals(path)
