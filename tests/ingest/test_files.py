"""Measurement files as an ingest source: layouts, streaming chunks, per-row rejects."""

from __future__ import annotations

import gzip
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gridtwin.errors import InputError
from gridtwin.ingest import Pipeline, RawBatch
from gridtwin.ingest._files import FileProgress, FileSource
from gridtwin.store import MeasurementPoint, Quality, open_store


class ListSink:
    """A sink that keeps what it is given (no pipeline)."""

    def __init__(self) -> None:
        self.batches: list[RawBatch] = []

    def submit(self, batch: RawBatch, on_durable: Any = None, timeout_s: Any = None) -> None:
        self.batches.append(batch)

    def values(self) -> pd.DataFrame:
        rows = [
            (p, pd.Timestamp(t, tz="UTC"), v, int(q))
            for b in self.batches
            for p, t, v, q in zip(b.point_id, b.ts_utc, b.raw_value, b.quality, strict=True)
        ]
        return pd.DataFrame(rows, columns=["point_id", "ts_utc", "value", "quality"])

    def rejects(self) -> list[tuple[str, str, str, str, str | None]]:
        return [
            r
            for b in self.batches
            for r in zip(
                b.rejects.reason,
                b.rejects.detail,
                b.rejects.source,
                b.rejects.raw,
                b.rejects.point_id,
                strict=True,
            )
        ]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def collect(source: FileSource) -> ListSink:
    sink = ListSink()
    source.run(sink, threading.Event())
    return sink


UTC = pd.Timestamp("2026-01-05T10:00:00Z")


# ---------------------------------------------------------------------- long layout


def test_long_csv_values_timestamps_quality_and_source_time(tmp_path: Path) -> None:
    f = write(
        tmp_path / "m.csv",
        "point_id,ts_utc,value,quality,source_ts_utc\n"
        "feeder.p,2026-01-05T10:00:00Z,12.5,,2026-01-05T10:00:03Z\n"
        "feeder.p,2026-01-05T11:15:00+01:00,13,estimated,\n"
        "bus.vm,2026-01-05T10:00:00.250Z,1.02,questionable|substituted,\n"
        "bus.vm,2026-01-05T10:01:00Z,-1e-3,4,\n",
    )
    sink = collect(FileSource(f))
    got = sink.values()
    assert got["point_id"].tolist() == ["feeder.p", "feeder.p", "bus.vm", "bus.vm"]
    assert got["ts_utc"].tolist() == [
        UTC,
        UTC + pd.Timedelta("15min"),  # +01:00 converted to UTC
        UTC + pd.Timedelta("250ms"),
        UTC + pd.Timedelta("1min"),
    ]
    assert got["value"].tolist() == [12.5, 13.0, 1.02, -0.001]
    assert got["quality"].tolist() == [
        0,
        Quality.ESTIMATED,
        Quality.QUESTIONABLE | Quality.SUBSTITUTED,
        Quality.QUESTIONABLE,
    ]
    src = sink.batches[0].source_ts_utc
    assert src[0] == np.datetime64("2026-01-05T10:00:03", "us")
    assert np.isnat(src[1])
    assert sink.rejects() == []
    assert sink.batches[0].source == f"file:{f}"


def test_every_bad_row_is_a_reject_and_its_neighbours_are_delivered(tmp_path: Path) -> None:
    f = write(
        tmp_path / "bad.csv",
        "point_id,ts_utc,value,quality\n"
        "a,2026-01-05T10:00:00Z,1,\n"  # good
        "a,2026-01-05T10:01:00Z,1;5,\n"  # not a number
        "a,2026-01-05T10:02:00Z,,\n"  # empty value
        ",2026-01-05T10:03:00Z,3,\n"  # empty point id
        "a,yesterday,4,\n"  # not a timestamp
        "a,,5,\n"  # empty timestamp
        "a,2026-01-05 10:06:00,6,\n"  # no offset in a file with offsets
        "a,2026-01-05T10:07:00Z,7,sticky\n"  # unknown quality flag
        "a,2026-01-05T10:08:00Z,8,9\n"  # quality bits out of range
        "a,2026-01-05T10:09:00Z,nan,\n"  # NaN is a number: the pipeline rejects it
        "b,2026-01-05T10:10:00Z,10,\n",  # good
    )
    sink = collect(FileSource(f))
    got = sink.values()
    assert got["point_id"].tolist() == ["a", "a", "b"]
    assert got["value"].iloc[0] == 1.0
    assert np.isnan(got["value"].iloc[1])
    assert got["value"].iloc[2] == 10.0
    rejects = sink.rejects()
    reasons = [r[0] for r in rejects]
    assert reasons == ["malformed"] * 3 + ["bad_timestamp"] * 3 + ["bad_quality"] * 2
    details = [r[1] for r in rejects]
    assert details[0] == (
        f"{f}: data row 2: value '1;5' is not a number (use a dot as decimal separator)"
    )
    assert details[1] == f"{f}: data row 3: empty value"
    assert details[2] == f"{f}: data row 4: empty point id"
    assert "'yesterday' is not an ISO 8601 date-time" in details[3]
    assert details[4] == f"{f}: data row 6: empty timestamp"
    assert "has no UTC offset" in details[5]
    assert "data row 7" in details[5]
    assert "unknown quality flag 'sticky'" in details[6]
    assert "outside 0..7" in details[7]
    assert [r[2] for r in rejects] == [f"file:{f}:{n}" for n in (2, 3, 4, 5, 6, 7, 8, 9)]
    assert rejects[0][3] == "a,2026-01-05T10:01:00Z,1;5,"  # the row as written
    assert rejects[2][4] is None  # no point id to name
    assert rejects[0][4] == "a"


def test_naive_file_needs_a_timezone_and_names_the_row(tmp_path: Path) -> None:
    f = write(
        tmp_path / "local.csv",
        "point_id,ts_utc,value\n"
        "a,2026-03-29 01:30:00,1\n"
        "a,2026-03-29 02:30:00,2\n"  # does not exist in Europe/Rome (DST starts)
        "a,2026-03-29 03:30:00,3\n",
    )
    with pytest.raises(InputError, match=r"local\.csv: data row 1: .*no UTC offset.*--timezone"):
        collect(FileSource(f))
    sink = collect(FileSource(f, timezone="Europe/Rome"))
    got = sink.values()
    assert got["ts_utc"].tolist() == [
        pd.Timestamp("2026-03-29T00:30Z"),
        pd.Timestamp("2026-03-29T01:30Z"),  # 03:30 CEST
    ]
    (reject,) = sink.rejects()
    assert reject[0] == "bad_timestamp"
    assert "does not exist or is ambiguous" in reject[1]
    assert "data row 2" in reject[1]


def test_utc_has_no_dst_every_hour_once(tmp_path: Path) -> None:
    """Around the European DST change a UTC file is plain: 4 hours, 4 distinct values."""
    stamps = pd.date_range("2026-10-25T00:00Z", periods=4, freq="h")
    lines = [f"a,{t:%Y-%m-%dT%H:%M:%SZ},{i}" for i, t in enumerate(stamps)]
    f = write(tmp_path / "utc.csv", "point_id,ts_utc,value\n" + "\n".join(lines) + "\n")
    got = collect(FileSource(f)).values()
    assert got["ts_utc"].tolist() == list(stamps)
    assert got["ts_utc"].is_unique


def test_rows_with_a_wrong_number_of_fields_are_rejects(tmp_path: Path) -> None:
    f = write(
        tmp_path / "fields.csv",
        "point_id,ts_utc,value\n"
        "a,2026-01-05T10:00:00Z\n"  # too few
        "a,2026-01-05T10:00:00Z,1\n"
        "a,2026-01-05T10:01:00Z,2,3\n",  # too many
    )
    sink = collect(FileSource(f))
    assert sink.values()["value"].tolist() == [1.0]
    rejects = sink.rejects()
    assert [r[0] for r in rejects] == ["malformed", "malformed"]
    assert "has 2 fields where the header has 3" in rejects[0][1]
    assert [r[3] for r in rejects] == ["a,2026-01-05T10:00:00Z", "a,2026-01-05T10:01:00Z,2,3"]
    only_bad = write(tmp_path / "only.csv", "point_id,ts_utc,value\nx\n")
    sink = collect(FileSource(only_bad))
    assert len(sink.batches) == 1
    assert len(sink.batches[0]) == 0
    assert sink.rejects()[0][3] == "x"


# ---------------------------------------------------------------------- wide layout


def test_wide_csv_empty_cells_are_gaps_bad_cells_and_rows_rejects(tmp_path: Path) -> None:
    f = write(
        tmp_path / "wide.csv",
        "load:1:p,time,load:2:p\n"
        "1.5,2026-01-05T10:00:00Z,2.5\n"
        ",2026-01-05T10:15:00Z,3.5\n"  # gap in load:1:p
        "4.5,2026-01-05T10:30:00Z,oops\n"  # bad cell
        "5.5,not a time,6.5\n"  # bad row
        "nan,2026-01-05T10:45:00Z,\n",  # NaN and empty: gaps of the matrix
    )
    sink = collect(FileSource(f, time_column="time"))
    got = sink.values()
    assert list(zip(got["point_id"], got["value"], strict=True)) == [
        ("load:1:p", 1.5),
        ("load:2:p", 2.5),
        ("load:2:p", 3.5),
        ("load:1:p", 4.5),
    ]
    assert got["ts_utc"].iloc[3] == UTC + pd.Timedelta("30min")
    rejects = sink.rejects()
    assert [r[0] for r in rejects] == ["bad_timestamp", "malformed"]
    row_bad = next(r for r in rejects if r[0] == "bad_timestamp")
    assert "data row 4" in row_bad[1]
    assert row_bad[3] == "5.5,not a time,6.5"
    cell_bad = next(r for r in rejects if r[0] == "malformed")
    assert cell_bad[4] == "load:2:p"
    assert "column 'load:2:p': value 'oops'" in cell_bad[1]


# ---------------------------------------------------------------------- parquet


def test_parquet_long_typed_columns_and_nulls(tmp_path: Path) -> None:
    ts = pd.date_range("2026-01-05T10:00Z", periods=3, freq="min")
    table = pa.table(
        {
            "point_id": pa.array(["a", None, "a"]),
            "ts_utc": pa.array(ts, pa.timestamp("ns", tz="UTC")),
            "value": pa.array([1.0, 2.0, None]),
        }
    )
    f = tmp_path / "m.parquet"
    pq.write_table(table, f)
    sink = collect(FileSource(f))
    got = sink.values()
    assert got["ts_utc"].tolist() == [ts[0]]
    rejects = sink.rejects()
    assert [r[1] for r in rejects] == [f"{f}: row 2: empty point id", f"{f}: row 3: empty value"]


def test_parquet_naive_timestamps_need_a_timezone(tmp_path: Path) -> None:
    ts = pd.date_range("2026-01-05T10:00", periods=2, freq="min")
    f = tmp_path / "naive.parquet"
    pq.write_table(pa.table({"ts_utc": pa.array(ts), "p1": [1.0, 2.0]}), f)
    with pytest.raises(InputError, match="without time zone"):
        collect(FileSource(f))
    got = collect(FileSource(f, timezone="UTC")).values()
    assert got["ts_utc"].tolist() == list(ts.tz_localize("UTC"))


# ---------------------------------------------------------------------- streaming


def big_long_csv(path: Path, n: int) -> pd.DataFrame:
    ts = pd.Timestamp("2026-01-01T00:00Z") + pd.to_timedelta(np.arange(n) // 10, unit="min")
    frame = pd.DataFrame(
        {
            "point_id": [f"p{i % 10}" for i in range(n)],
            "ts_utc": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "value": np.arange(n) * 0.5,
        }
    )
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            frame.to_csv(fh, index=False)
    else:
        frame.to_csv(path, index=False)
    return frame


@pytest.mark.parametrize("name", ["big.csv", "big.csv.gz"])
def test_big_csv_streams_in_chunks_with_progress(tmp_path: Path, name: str) -> None:
    n = 60_000
    big_long_csv(tmp_path / name, n)
    seen: list[FileProgress] = []
    sink = collect(FileSource(tmp_path / name, chunk_rows=7_000, progress=seen.append))
    sizes = [len(b) for b in sink.batches]
    assert sizes == [7_000] * 8 + [4_000]
    got = np.concatenate([b.raw_value for b in sink.batches])
    np.testing.assert_array_equal(got, np.arange(n) * 0.5)
    assert [p.rows_done for p in seen] == [7_000 * k for k in range(1, 9)] + [n]
    assert all(p.total_rows is None for p in seen)
    assert seen[-1].bytes_done == seen[-1].total_bytes == (tmp_path / name).stat().st_size
    assert seen[-1].fraction == 1.0


def test_parquet_streams_by_row_groups_with_total_rows(tmp_path: Path) -> None:
    n = 30_000
    frame = pd.DataFrame(
        {
            "ts_utc": pd.date_range("2026-01-01T00:00Z", periods=n, freq="s"),
            "a": np.arange(n, dtype=float),
            "b": -np.arange(n, dtype=float),
        }
    )
    f = tmp_path / "wide.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), f, row_group_size=4_000)
    seen: list[FileProgress] = []
    sink = collect(FileSource(f, chunk_rows=10_000, progress=seen.append))  # 5,000 rows
    assert [len(b) for b in sink.batches] == [10_000] * 6
    assert seen[-1].rows_done == seen[-1].total_rows == n
    got = sink.values()
    assert got.loc[got["point_id"] == "b", "value"].tolist() == list(-np.arange(n, dtype=float))


def test_stop_ends_the_file_between_chunks(tmp_path: Path) -> None:
    big_long_csv(tmp_path / "big.csv", 5_000)
    stop = threading.Event()
    sink = ListSink()

    class StoppingSink(ListSink):
        def submit(self, batch: RawBatch, on_durable: Any = None, timeout_s: Any = None) -> None:
            sink.batches.append(batch)
            stop.set()

    FileSource(tmp_path / "big.csv", chunk_rows=1_000).run(StoppingSink(), stop)
    assert len(sink.batches) == 1


# ---------------------------------------------------------------------- errors


def test_file_errors_name_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        collect(FileSource(tmp_path / "none.csv"))
    with pytest.raises(InputError, match="unknown file type"):
        collect(FileSource(write(tmp_path / "m.txt", "x")))
    with pytest.raises(InputError, match=r"no time column 'ts_utc'.*--time-column"):
        collect(FileSource(write(tmp_path / "a.csv", "t,a\n2026-01-01T00:00Z,1\n")))
    with pytest.raises(InputError, match=r"long layout needs .*\['value'\] missing"):
        collect(FileSource(write(tmp_path / "b.csv", "point_id,ts_utc,v\na,2026-01-01Z,1\n")))
    with pytest.raises(InputError, match="repeats column name"):
        collect(FileSource(write(tmp_path / "c.csv", "ts_utc,a,a\n")))
    with pytest.raises(InputError, match="is empty"):
        collect(FileSource(write(tmp_path / "d.csv", "")))
    with pytest.raises(InputError, match="unknown time zone"):
        FileSource(tmp_path / "d.csv", timezone="Mars/Olympus")
    good = b"a,2026-01-01T00:00:00Z,1\n" * 2000
    (tmp_path / "e.csv").write_bytes(b"point_id,ts_utc,value\n" + good + b"\xff\xfe,x,1\n")
    with pytest.raises(InputError, match="cannot read as CSV"):
        collect(FileSource(tmp_path / "e.csv"))
    assert collect(FileSource(write(tmp_path / "f.csv", "point_id,ts_utc,value\n"))).batches == []


# ---------------------------------------------------------------------- end to end


def test_file_to_store_through_the_pipeline(tmp_path: Path) -> None:
    f = write(
        tmp_path / "m.csv",
        "point_id,ts_utc,value\n"
        "feeder.p,2026-01-05T10:00:00Z,125\n"
        "feeder.p,2026-01-05T10:01:00Z,x\n"  # malformed (source)
        "ghost,2026-01-05T10:00:00Z,1\n"  # unknown point (pipeline)
        "bus.vm,2026-01-05T10:00:00Z,inf\n"  # not finite (pipeline)
        "bus.vm,2026-01-05T10:01:00Z,1.01\n"
        "bus.vm,2026-01-05T10:01:00Z,1.01\n",  # duplicate
    )
    store = open_store(tmp_path / "st", create=True)
    try:
        store.add_points(
            [
                MeasurementPoint("feeder.p", "p", "kW", scale=0.1),
                MeasurementPoint("bus.vm", "vm", "pu"),
            ]
        )
        with Pipeline(store) as pipe:
            FileSource(f).run(pipe, threading.Event())
            counters = pipe.flush()
        assert counters.stored == 2
        assert counters.duplicates == 1
        assert counters.rejected_by_reason == {
            "malformed": 1,
            "unknown_point": 1,
            "not_finite": 1,
        }
        got = store.window(None, UTC, UTC + pd.Timedelta("1h"))
        assert got[["point_id", "value"]].values.tolist() == [["bus.vm", 1.01], ["feeder.p", 12.5]]
        rejects = store.rejects()
        bad = rejects[rejects["reason"] == "malformed"].iloc[0]
        assert bad["source"] == f"file:{f}:2"
        assert bad["raw"] == "feeder.p,2026-01-05T10:01:00Z,x"
    finally:
        store.close()
