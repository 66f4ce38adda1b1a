"""Reading aggregated PQ measurements: layouts, units, grid, gaps, flags, errors naming rows."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality import (
    MeasurementSet,
    UnderOverDeviation,
    normalise_voltage_units,
    parse_channel,
    read_measurements,
)

MSK = "Europe/Moscow"


def week(start_local: str = "2025-06-02", tz: str = MSK, step: str = "10min") -> pd.DatetimeIndex:
    start = pd.Timestamp(start_local).tz_localize(tz)
    return pd.date_range(
        start.tz_convert("UTC"),
        (start + pd.Timedelta(days=7)).tz_convert("UTC"),
        freq=step,
        inclusive="left",
    )


def iso(t: pd.DatetimeIndex) -> list[str]:
    return list(t.strftime("%Y-%m-%dT%H:%M:%SZ"))


def long_frame(
    times: pd.DatetimeIndex, points: dict[str, float], phases: str = "abc", unit: str = "V"
) -> pd.DataFrame:
    rows = [
        (s, p, "voltage", ph, v, unit)
        for s in iso(times)
        for p, v in points.items()
        for ph in phases
    ]
    return pd.DataFrame(
        rows, columns=["timestamp", "point_id", "indicator", "phase", "value", "unit"]
    )


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("voltage_a_v", ("voltage", "a", "V")),
        ("U_L2 [kV]", ("voltage", "b", "kV")),
        ("u_ab", ("voltage", "ab", "")),
        ("thd_c_%", ("thd", "c", "percent")),
        ("h5_a", ("harmonic_5", "a", "")),
        ("harmonic_40", ("harmonic_40", "", "")),
        ("u2_percent", ("unbalance_negative_sequence", "", "percent")),
        ("K0U", ("unbalance_zero_sequence", "", "")),
        ("frequency_hz", ("frequency", "", "Hz")),
        ("pst_b", ("pst", "b", "")),
        ("du_minus_a", ("voltage_under_deviation", "a", "")),
    ],
)
def test_parse_channel_reads_quantity_phase_and_unit(name: str, expected: tuple[str, ...]) -> None:
    assert parse_channel(name) == expected


def test_parse_channel_rejects_unknown_names() -> None:
    assert parse_channel("power_kw") is None
    assert parse_channel("h1") is None  # the fundamental is not a harmonic indicator
    assert parse_channel("h51") is None


# --------------------------------------------------------------------------- layouts


def test_long_csv_builds_one_series_per_quantity_with_flags_propagated(tmp_path: Path) -> None:
    t = week()[:6]
    frame = long_frame(t, {"P1": 221.0, "P2": 219.0})
    extra = pd.DataFrame(
        {
            "timestamp": iso(t),
            "point_id": "P1",
            "indicator": "thd",
            "phase": "a",
            "value": 0.03,
            "unit": "pu",
        }
    )
    frame = pd.concat([frame, extra], ignore_index=True)
    frame["flagged"] = ""
    frame.loc[
        (frame["point_id"] == "P1")
        & (frame["phase"] == "b")
        & (frame["timestamp"] == iso(t)[2])
        & (frame["indicator"] == "voltage"),
        "flagged",
    ] = "true"
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    ms = read_measurements(path)
    assert ms.point_ids == ("P1", "P2")
    volt, thd = ms.series["voltage"], ms.series["thd"]
    assert volt.values.shape == (6, 6)
    assert volt.phases == ("a", "b", "c", "a", "b", "c")
    assert thd.values[:, 0].tolist() == [3.0] * 6  # p.u. -> percent
    assert any("multiplied by 100" in n for n in ms.notes)
    # the flag of one value flags that interval at that point for every 10-min quantity
    assert volt.flagged[:, :3].sum(axis=0).tolist() == [1, 1, 1]
    assert not volt.flagged[:, 3:].any()
    assert thd.flagged[:, 0].tolist() == [False, False, True, False, False, False]


def test_wide_csv_with_10s_and_10min_rows_and_empty_cells(tmp_path: Path) -> None:
    t10 = pd.date_range("2025-06-02T00:00Z", periods=2, freq="10min")
    t10s = pd.date_range("2025-06-02T00:00Z", periods=120, freq="10s")
    wide = pd.DataFrame({"timestamp": iso(t10s), "frequency_hz": 50.01})
    volt = pd.DataFrame(
        {
            "timestamp": iso(t10),
            "voltage_l1_v": [230.0, 231.0],
            "voltage_l2_v": [229.0, 228.0],
            "plt": [np.nan, np.nan],
        }
    )
    both = pd.concat([wide, volt], ignore_index=True)
    both["flagged"] = ["1" if i == 61 else "0" for i in range(len(both))]
    path = tmp_path / "site7.csv"
    both.to_csv(path, index=False)
    ms = read_measurements(path)
    assert ms.point_ids == ("site7",)  # no point column: the file stem
    assert sorted(ms.series) == ["frequency", "voltage"]  # empty plt column: no values
    assert ms.series["frequency"].values.shape == (120, 1)
    assert ms.series["voltage"].values[:, 1].tolist() == [229.0, 228.0]
    # a flagged 10-s value flags its 10-min interval, never other 10-s values
    assert ms.series["frequency"].flagged[:, 0].sum() == 1
    assert ms.series["voltage"].flagged[:, 0].tolist() == [False, True]


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    frame = long_frame(week()[:12], {"P1": 220.0})
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    a = read_measurements(tmp_path / "a.csv").series["voltage"]
    b = read_measurements(tmp_path / "a.parquet").series["voltage"]
    assert a.time_utc.equals(b.time_utc)
    np.testing.assert_array_equal(a.values, b.values)


def test_from_frame_and_to_frame_round_trip() -> None:
    t = week()[:3]
    frame = pd.DataFrame(
        {
            "time_utc": t,
            "point_id": "P9",
            "indicator": "pst",
            "phase": "a",
            "value": [0.5, 0.7, 0.9],
        }
    )
    ms = MeasurementSet.from_frame(frame)
    back = ms.to_frame()
    assert back["value"].tolist() == [0.5, 0.7, 0.9]
    assert back["time_utc"].tolist() == list(t)
    assert set(back["indicator"]) == {"pst"}


# --------------------------------------------------------------------------- gaps


def test_gaps_are_reported_as_availability_never_interpolated(tmp_path: Path) -> None:
    t = week()
    frame = long_frame(t, {"P1": 220.0, "P2": 221.0}, phases="a")
    gap = (frame["point_id"] == "P2") & frame["timestamp"].isin(iso(t[300:400]))
    path = tmp_path / "gaps.csv"
    frame[~gap].to_csv(path, index=False)
    ms = read_measurements(path)
    ser = ms.series["voltage"]
    assert np.isnan(ser.values[300:400, 1]).all()  # kept missing, not filled
    av = ms.availability().set_index("point_id")
    assert av.loc["P1", "availability_percent"] == 100.0
    assert av.loc["P2", "n_present"] == 908
    assert av.loc["P2", "n_missing"] == 100
    assert av.loc["P2", "availability_percent"] == pytest.approx(100 * 908 / 1008)
    assert av.loc["P2", "longest_gap_s"] == 100 * 600


# --------------------------------------------------------------------------- units


def test_kv_values_in_a_column_stated_in_volts_are_refused(tmp_path: Path) -> None:
    frame = long_frame(week()[:6], {"P1": 0.229}, unit="V")  # kV numbers, V stated
    path = tmp_path / "kv.csv"
    frame.to_csv(path, index=False)
    ms = read_measurements(path)
    with pytest.raises(DataQualityError, match=r"point P1 voltage phase a: stated in V.*'kV'"):
        normalise_voltage_units(ms, 220.0)


def test_unstated_kv_is_read_from_the_magnitude_with_a_note() -> None:
    t = week()[:4]
    ms = MeasurementSet.from_arrays("voltage", t, np.full((4, 1), 0.231), point_ids=["P1"])
    out = normalise_voltage_units(ms, 230.0)
    assert out.series["voltage"].values[:, 0].tolist() == pytest.approx([231.0] * 4)
    assert any("read as kV" in n for n in out.notes)


def test_stated_kv_and_pu_are_converted() -> None:
    t = week()[:2]
    kv = MeasurementSet.from_arrays(
        "voltage", t, np.full((2, 1), 10.1), point_ids=["M"], phases=("ab",), unit="kV"
    )
    out = normalise_voltage_units(kv, 10000 / np.sqrt(3), 10000.0)
    assert out.series["voltage"].values[0, 0] == pytest.approx(10100.0)
    pu = MeasurementSet.from_arrays("voltage", t, np.full((2, 1), 1.02), point_ids=["L"], unit="pu")
    assert normalise_voltage_units(pu, 230.0).series["voltage"].values[0, 0] == pytest.approx(234.6)


def test_line_voltages_against_a_phase_reference_are_explained() -> None:
    ms = MeasurementSet.from_arrays(
        "voltage", week()[:2], np.full((2, 1), 400.0), point_ids=["P1"], phases=("a",)
    )
    with pytest.raises(DataQualityError, match="line-to-line"):
        normalise_voltage_units(ms, 230.0)


def test_wrong_unit_for_a_percent_quantity_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "thd.csv"
    pd.DataFrame({"timestamp": iso(week()[:2]), "thd_a_hz": [3.0, 3.1]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="thd is in percent but a column states 'Hz'"):
        read_measurements(path)


# --------------------------------------------------------------------------- errors


def test_off_grid_timestamp_names_the_row(tmp_path: Path) -> None:
    frame = long_frame(week()[:4], {"P1": 220.0}, phases="a")
    frame.loc[2, "timestamp"] = "2025-06-01T21:25:00Z"
    path = tmp_path / "offgrid.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataQualityError, match=r"data row 3 \(1-based.*off the 10min UTC grid"):
        read_measurements(path)


def test_end_labels_are_shifted_by_the_quantitys_own_interval(tmp_path: Path) -> None:
    t = week()[1:4]
    path = tmp_path / "end.csv"
    pd.DataFrame({"timestamp": iso(t), "voltage_a": 220.0}).to_csv(path, index=False)
    ms = read_measurements(path, label="end")
    assert ms.series["voltage"].time_utc[0] == week()[0]
    assert any("shifted" in n for n in ms.notes)


def test_plt_must_follow_at_2h_steps(tmp_path: Path) -> None:
    path = tmp_path / "plt.csv"
    stamps = ["2025-06-02T00:00:00Z", "2025-06-02T02:00:00Z", "2025-06-02T03:10:00Z"]
    pd.DataFrame({"timestamp": stamps, "plt_a": [0.5, 0.6, 0.7]}).to_csv(path, index=False)
    with pytest.raises(DataQualityError, match=r"data row 3 .*2h steps"):
        read_measurements(path)


def test_duplicates_name_both_rows(tmp_path: Path) -> None:
    frame = long_frame(week()[:3], {"P1": 220.0}, phases="a")
    frame = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    path = tmp_path / "dup.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataQualityError, match=r"data rows 2, 4 .*duplicate voltage value"):
        read_measurements(path)


@pytest.mark.parametrize("bad", ["NaN", "inf"])
def test_nan_or_inf_written_in_a_file_names_the_row(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "nan.csv"
    values = ["220", "221", bad]
    pd.DataFrame({"timestamp": iso(week()[:3]), "voltage_a": values}).to_csv(path, index=False)
    with pytest.raises(DataQualityError, match=r"data row 3 .*'voltage_a'"):
        read_measurements(path)


def test_negative_value_names_the_row(tmp_path: Path) -> None:
    frame = long_frame(week()[:3], {"P1": 220.0}, phases="a")
    frame.loc[1, "value"] = -220.0
    path = tmp_path / "neg.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataQualityError, match=r"data row 2 .*negative"):
        read_measurements(path)


def test_unknown_columns_and_indicators_are_errors(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    pd.DataFrame({"timestamp": iso(week()[:2]), "power_kw": [1.0, 2.0]}).to_csv(wide, index=False)
    with pytest.raises(InputError, match="column 'power_kw' is not a known quantity"):
        read_measurements(wide)
    long = tmp_path / "long.csv"
    frame = long_frame(week()[:2], {"P1": 220.0}, phases="a")
    frame.loc[1, "indicator"] = "flicker"
    frame.to_csv(long, index=False)
    with pytest.raises(InputError, match=r"data row 2 .*unknown indicator 'flicker'"):
        read_measurements(long)


def test_naive_timestamps_need_a_timezone(tmp_path: Path) -> None:
    path = tmp_path / "local.csv"
    local = ["2025-06-02 00:00", "2025-06-02 00:10"]
    pd.DataFrame({"timestamp": local, "voltage_a": [220.0, 221.0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="Pass timezone="):
        read_measurements(path)
    ms = read_measurements(path, timezone=MSK)
    assert ms.series["voltage"].time_utc[0] == pd.Timestamp("2025-06-01T21:00Z")


def test_bad_flag_text_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "flags.csv"
    pd.DataFrame(
        {"timestamp": iso(week()[:2]), "voltage_a": [220.0, 221.0], "flagged": ["no", "maybe"]}
    ).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"data row 2 .*flag 'maybe'"):
        read_measurements(path)


# --------------------------------------------------------------------------- waveform seam


def test_from_aggregated_adapts_a_waveform_record() -> None:
    t10 = pd.date_range("2025-06-02T00:00Z", periods=3, freq="10min")
    t10s = pd.date_range("2025-06-02T00:00Z", periods=4, freq="10s")
    harm = np.full((3, 3, 11), 0.5)
    agg = SimpleNamespace(
        channel_names=("L1", "L2", "L3"),
        source="rec.cfg",
        time_10min_utc=t10,
        coverage_10min_percent=np.array([100.0, 100.0, 40.0]),
        flags_10min=np.array([False, True, False]),
        u_rms_10min_v=np.full((3, 3), 230.0),
        under_over_10min=UnderOverDeviation(np.zeros((3, 3)), np.full((3, 3), 0.2)),
        thd_10min_percent=np.full((3, 3), 2.0),
        harmonics_10min_percent=harm,
        unbalance_negative_10min_percent=np.full(3, 0.4),
        unbalance_zero_10min_percent=np.full(3, 0.1),
        time_10s_utc=t10s,
        frequency_10s_hz=np.array([50.0, 50.01, np.nan, 49.99]),
        flags_10s=np.zeros(4, dtype=bool),
    )
    ms = MeasurementSet.from_aggregated(agg, point_id="P1")
    assert ms.point_ids == ("P1",)
    v = ms.series["voltage"]
    assert v.phases == ("a", "b", "c")
    assert np.isnan(v.values[2]).all()  # partly covered interval left out
    assert v.flagged[1].all()
    assert set(ms.series) >= {
        "voltage_under_deviation",
        "voltage_over_deviation",
        "thd",
        "harmonic_2",
        "harmonic_10",
        "unbalance_negative_sequence",
        "frequency",
    }
    assert np.isnan(ms.series["frequency"].values[2, 0])
    assert any("partly covered" in n for n in ms.notes)
