"""The store contract (``gridtwin.store.MeasurementStore``), on every backend for real."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import InputError, StoreError
from gridtwin.store import (
    MeasurementBatch,
    MeasurementPoint,
    MeasurementStore,
    Quality,
    RejectBatch,
)
from tests.store.conftest import POINTS

T0 = np.datetime64("2026-03-01T00:00", "us")
Q = np.timedelta64(15, "m")
UTC = "UTC"


def ts(*steps: int) -> np.ndarray:
    return T0 + np.array(steps) * Q


def batch(ids: list[str], steps: list[int], values: list[float], **kw: object) -> MeasurementBatch:
    return MeasurementBatch.build(ids, ts(*steps), values, **kw)  # type: ignore[arg-type]


def day(store: MeasurementStore, **kw: object) -> pd.DataFrame:
    return store.window(
        None, pd.Timestamp("2026-03-01", tz=UTC), pd.Timestamp("2026-03-02", tz=UTC), **kw
    )


# ----------------------------------------------------------------------- points


def test_points_round_trip_and_update(store: MeasurementStore) -> None:
    assert store.points() == sorted(POINTS, key=lambda p: p.point_id)
    changed = MeasurementPoint("load.1.p", "p", "kW", element="load:1", scale=2.0)
    assert store.add_points([changed]) == 1
    assert {p.point_id: p for p in store.points()}["load.1.p"].scale == 2.0


def test_changing_the_unit_of_a_point_with_values_is_refused(store: MeasurementStore) -> None:
    store.add_points([MeasurementPoint("load.2.p", "p", "kW", element="load:2")])  # no values
    store.write(batch(["load.1.p"], [0], [1.0]))
    with pytest.raises(InputError, match=r"load\.1\.p.*kW.*MW"):
        store.add_points([MeasurementPoint("load.1.p", "p", "MW")])


def test_points_persist_after_reopen(open_fresh: Callable[..., MeasurementStore]) -> None:
    s = open_fresh()
    s.add_points(POINTS)
    s.write(batch(["load.1.p"], [0], [1.5]))
    s.close()
    again = open_fresh()
    assert len(again.points()) == len(POINTS)
    assert again.latest()["value"].tolist() == [1.5]


# ----------------------------------------------------------------------- keys, revisions


def test_duplicate_is_not_a_second_row(store: MeasurementStore) -> None:
    r1 = store.write(batch(["load.1.p", "bus.3.vm"], [0, 0], [1.0, 1.01]))
    r2 = store.write(batch(["load.1.p", "bus.3.vm"], [0, 0], [1.0, 1.01]))
    assert (r1.stored, r1.duplicates) == (2, 0)
    assert (r2.stored, r2.duplicates, r2.revisions) == (0, 2, 0)
    assert len(day(store, all_revisions=True)) == 2


def test_a_different_value_is_a_revision_never_an_overwrite(store: MeasurementStore) -> None:
    store.write(batch(["load.1.p"], [0], [1.0]))
    report = store.write(batch(["load.1.p"], [0], [1.2]))
    assert (report.stored, report.revisions) == (1, 1)
    all_rev = day(store, all_revisions=True)
    assert all_rev["value"].tolist() == [1.0, 1.2]
    assert all_rev["revision"].tolist() == [0, 1]
    newest = day(store)
    assert newest["value"].tolist() == [1.2]
    assert store.latest()["revision"].tolist() == [1]


def test_redelivered_old_value_is_a_duplicate_of_its_revision(store: MeasurementStore) -> None:
    store.write(batch(["load.1.p"], [0], [1.0]))
    store.write(batch(["load.1.p"], [0], [1.2]))
    report = store.write(batch(["load.1.p"], [0], [1.0]))  # the broker sends the first again
    assert (report.stored, report.duplicates) == (0, 1)
    assert day(store)["value"].tolist() == [1.2]


def test_duplicates_and_revisions_inside_one_batch(store: MeasurementStore) -> None:
    report = store.write(
        batch(["load.1.p"] * 4 + ["bus.3.vm"], [0, 0, 0, 1, 0], [1.0, 1.0, 3.0, 2.0, 1.0])
    )
    assert (report.stored, report.duplicates, report.revisions) == (4, 1, 1)
    got = day(store, all_revisions=True)
    assert got[got.point_id == "load.1.p"][["value", "revision"]].values.tolist() == [
        [1.0, 0],
        [3.0, 1],
        [2.0, 0],
    ]


def test_late_and_out_of_order_values_are_accepted(store: MeasurementStore) -> None:
    store.write(batch(["load.1.p"], [5], [5.0]))
    store.write(batch(["load.1.p", "load.1.p"], [3, 1], [3.0, 1.0]))
    got = day(store)
    assert got["value"].tolist() == [1.0, 3.0, 5.0]
    latest = store.latest()
    assert latest["value"].tolist() == [5.0]  # a late value is not the newest
    assert latest["ts_utc"].iloc[0] == pd.Timestamp(ts(5)[0], tz=UTC)


def test_a_revision_of_the_newest_time_updates_latest(store: MeasurementStore) -> None:
    store.write(batch(["load.1.p", "load.1.p"], [1, 2], [1.0, 2.0]))
    store.write(batch(["load.1.p"], [2], [2.5]))
    assert store.latest()[["value", "revision"]].values.tolist() == [[2.5, 1]]


def test_write_many_reports_each_item_as_if_written_in_turn(store: MeasurementStore) -> None:
    rej = RejectBatch()
    rej.add("malformed", "no value", source="test")
    items = [
        (batch(["load.1.p", "load.1.p"], [0, 1], [1.0, 2.0]), None),
        (batch(["load.1.p", "bus.3.vm"], [0, 0], [1.0, 1.01]), None),  # a duplicate of item 0
        (batch(["load.1.p", "load.1.p"], [1, 1], [2.5, 2.5]), rej),  # a revision, repeated
        (MeasurementBatch.build([], np.array([], "datetime64[us]"), []), None),
    ]
    reports = store.write_many(items)
    got = [(r.stored, r.duplicates, r.revisions, r.rejected) for r in reports]
    assert got == [(2, 0, 0, 0), (1, 1, 0, 0), (1, 1, 1, 1), (0, 0, 0, 0)]
    rows = day(store, all_revisions=True)
    load = rows[rows.point_id == "load.1.p"][["value", "revision"]].values.tolist()
    assert load == [[1.0, 0], [2.0, 0], [2.5, 1]]
    assert store.latest()[["point_id", "value"]].values.tolist() == [
        ["bus.3.vm", 1.01],
        ["load.1.p", 2.5],
    ]
    assert len(store.rejects()) == 1


def test_write_many_of_new_values_stores_each_item_whole(store: MeasurementStore) -> None:
    items = [(batch(["load.1.p", "bus.3.vm"], [k, k], [float(k), 1.0]), None) for k in range(5)]
    reports = store.write_many(items)
    assert [(r.stored, r.duplicates) for r in reports] == [(2, 0)] * 5
    assert store.write_many([]) == []
    again = store.write_many(items[:2])  # the same again: duplicates only
    assert [(r.stored, r.duplicates) for r in again] == [(0, 2)] * 2
    assert len(day(store)) == 10


def test_unknown_point_refuses_the_whole_write(store: MeasurementStore) -> None:
    rej = RejectBatch()
    rej.add("malformed", "x", source="test")
    with pytest.raises(StoreError, match="nope"):
        store.write(batch(["load.1.p", "nope"], [0, 0], [1.0, 2.0]), rej)
    assert day(store).empty
    assert store.rejects().empty
    assert store.info().measurements == 0


def test_many_rows_with_half_seen_before(store: MeasurementStore) -> None:
    n = 20_000
    ids = np.where(np.arange(n) % 2 == 0, "load.1.p", "bus.3.vm")
    steps = np.arange(n) // 2
    vals = np.arange(n, dtype=float) % 7 / 10 + 0.5
    store.write(MeasurementBatch.build(ids[: n // 2], T0 + steps[: n // 2] * Q, vals[: n // 2]))
    vals2 = vals.copy()
    vals2[: n // 4] += 0.01  # the first quarter revised, the second quarter repeated
    report = store.write(MeasurementBatch.build(ids, T0 + steps * Q, vals2))
    assert report.duplicates == n // 4
    assert report.revisions == n // 4
    assert report.stored == n // 4 + n // 2
    assert store.info().measurements == n // 2 + n // 4 + n // 2


# ----------------------------------------------------------------------- what is kept


def test_quality_source_time_and_arrival_are_kept(store: MeasurementStore) -> None:
    src = np.array(["2026-03-01T00:00:07"], "datetime64[us]")
    arrival = np.array(["2026-03-01T00:00:09"], "datetime64[us]")
    q = Quality.ESTIMATED | Quality.QUESTIONABLE
    store.write(
        batch(["load.1.p"], [0], [1.0], quality=[int(q)], source_ts_utc=src, arrival_ts_utc=arrival)
    )
    row = store.latest().iloc[0]
    assert Quality(int(row["quality"])) == q
    assert row["source_ts_utc"] == pd.Timestamp("2026-03-01T00:00:07", tz=UTC)
    assert row["arrival_ts_utc"] == pd.Timestamp("2026-03-01T00:00:09", tz=UTC)


def test_rejects_are_kept_with_their_reason(store: MeasurementStore) -> None:
    rej = RejectBatch()
    rej.add("out_of_range", "value 9 pu", source="mqtt:t/1", raw='{"v": 9}', point_id="bus.3.vm")
    rej.add("malformed", "not JSON", source="mqtt:t/2", raw="{{")
    report = store.write(batch(["load.1.p"], [0], [1.0]), rej)
    assert report.rejected == 2
    got = store.rejects()
    assert sorted(got["reason"]) == ["malformed", "out_of_range"]
    assert set(got["raw"]) == {'{"v": 9}', "{{"}
    assert store.info().rejects == 2


def test_latest_for_a_subset_and_for_points_without_values(store: MeasurementStore) -> None:
    store.write(batch(["load.1.p", "bus.3.vm"], [0, 1], [1.0, 1.02]))
    got = store.latest(["bus.3.vm", "meter.9.e"])
    assert got["point_id"].tolist() == ["bus.3.vm"]
    with pytest.raises(StoreError, match="ghost"):
        store.latest(["ghost"])


def test_held_latest_values_equal_latest_or_are_not_there(store: MeasurementStore) -> None:
    """``latest_held`` is an answer from memory or None; when it answers, it is what
    ``latest`` says (the embedded store holds them once read or written)."""
    store.write(batch(["load.1.p", "bus.3.vm", "load.1.p"], [0, 1, 3], [1.0, 1.02, 4.0]))
    store.write(batch(["load.1.p"], [3], [5.0]))  # a revision of the newest time
    want = store.latest(["bus.3.vm", "load.1.p", "meter.9.e"])
    held = store.latest_held(["bus.3.vm", "load.1.p", "meter.9.e"])
    if store.backend == "postgresql":
        assert held is None
        return
    assert held is not None
    assert held.point_id == want["point_id"].tolist() == ["bus.3.vm", "load.1.p"]
    np.testing.assert_array_equal(held.value, want["value"].to_numpy())
    np.testing.assert_array_equal(held.revision, [0, 1])
    np.testing.assert_array_equal(
        held.ts_utc, want["ts_utc"].dt.tz_convert(None).to_numpy("datetime64[us]")
    )
    np.testing.assert_array_equal(held.quality, want["quality"].to_numpy())
    with pytest.raises(StoreError, match="ghost"):
        store.latest_held(["ghost"])


# ----------------------------------------------------------------------- reads


def test_window_is_half_open_and_needs_aware_times(store: MeasurementStore) -> None:
    store.write(batch(["load.1.p"] * 3, [0, 1, 2], [0.0, 1.0, 2.0]))
    start = pd.Timestamp(ts(1)[0], tz=UTC)
    got = store.window(["load.1.p"], start, start + pd.Timedelta("15min"))
    assert got["value"].tolist() == [1.0]
    with pytest.raises(InputError, match="time zone"):
        store.window(None, pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-02"))


def test_resample_to_the_model_step(store: MeasurementStore) -> None:
    # 5-minute values for 30 minutes, one interval left empty
    steps = [0, 1, 2, 3, 4, 5, 6, 7, 8]  # x 5 min below
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    five = T0 + np.array(steps) * np.timedelta64(5, "m")
    keep = [0, 1, 2, 6, 7, 8]  # 15-30 min empty
    store.write(MeasurementBatch.build(["load.1.p"] * 6, five[keep], [values[k] for k in keep]))
    start = pd.Timestamp(T0, tz=UTC)
    end = start + pd.Timedelta("45min")
    mean = store.resample(["load.1.p", "bus.3.vm"], start, end, pd.Timedelta("15min"))
    assert mean.index.tolist() == list(pd.date_range(start, periods=3, freq="15min"))
    assert mean.columns.tolist() == ["load.1.p", "bus.3.vm"]
    np.testing.assert_array_equal(mean["load.1.p"].to_numpy(), [2.0, np.nan, 8.0])
    assert mean["bus.3.vm"].isna().all()
    last = store.resample(["load.1.p"], start, end, pd.Timedelta("15min"), how="last")
    np.testing.assert_array_equal(last["load.1.p"].to_numpy(), [3.0, np.nan, 9.0])
    total = store.resample(["load.1.p"], start, end, pd.Timedelta("15min"), how="sum")
    np.testing.assert_array_equal(total["load.1.p"].to_numpy(), [6.0, np.nan, 24.0])
    with pytest.raises(InputError, match="median"):
        store.resample(["load.1.p"], start, end, pd.Timedelta("15min"), how="median")  # type: ignore[arg-type]


def test_resample_uses_the_newest_revision(store: MeasurementStore) -> None:
    store.write(batch(["load.1.p", "load.1.p"], [0, 1], [1.0, 3.0]))
    store.write(batch(["load.1.p"], [0], [5.0]))
    start = pd.Timestamp(T0, tz=UTC)
    got = store.resample(["load.1.p"], start, start + pd.Timedelta("30min"), pd.Timedelta("30min"))
    assert got["load.1.p"].tolist() == [4.0]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_round_trip(store: MeasurementStore, tmp_path: Path, fmt: str) -> None:
    store.write(batch(["load.1.p", "bus.3.vm", "load.1.p"], [0, 0, 1], [1.0, 1.02, 2.0]))
    store.write(batch(["load.1.p"], [0], [1.1]))
    out = tmp_path / f"m.{fmt}"
    assert store.export(out, fmt) == 3  # type: ignore[arg-type]
    df = pd.read_parquet(out) if fmt == "parquet" else pd.read_csv(out)
    assert sorted(df["value"]) == [1.02, 1.1, 2.0]
    assert store.export(out, fmt, all_revisions=True, point_ids=["load.1.p"]) == 3  # type: ignore[arg-type]
    with pytest.raises(InputError, match="does not exist"):
        store.export(tmp_path / "no" / "m.csv", "csv")
    assert not list((tmp_path).glob(".m.*"))  # no temporary file left


def test_info_counts(store: MeasurementStore) -> None:
    store.write(batch(["load.1.p", "load.1.p"], [0, 4], [1.0, 2.0]))
    store.write(batch(["load.1.p"], [4], [2.5]))
    info = store.info()
    assert (info.points, info.measurements, info.revisions) == (4, 3, 1)
    assert info.first_ts_utc == ts(0)[0]
    assert info.last_ts_utc == ts(4)[0]


def test_read_only_store_refuses_writes(open_fresh: Callable[..., MeasurementStore]) -> None:
    s = open_fresh()
    s.add_points(POINTS)
    s.write(batch(["load.1.p"], [0], [1.0]))
    s.close()
    ro = open_fresh(read_only=True)
    assert ro.latest()["value"].tolist() == [1.0]
    with pytest.raises(StoreError, match="read-only"):
        ro.write(batch(["load.1.p"], [1], [1.0]))


def test_a_closed_store_says_so(store: MeasurementStore) -> None:
    store.write(batch(["load.1.p"], [0], [1.0]))
    assert len(store.latest()) == 1  # read once (the embedded store keeps it)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.latest()
    store.close()  # idempotent


def test_window_rows_are_the_window_as_arrays(store: MeasurementStore) -> None:
    # two points, a revision of one value, a NaN value and a value with a source time:
    # the arrays hold exactly the frame's rows, newest revision only unless asked
    store.write(batch(["load.1.p"] * 3 + ["bus.3.vm"], [0, 1, 2, 1], [0.0, 1.0, 2.0, 0.98]))
    store.write(batch(["load.1.p"], [1], [1.5]))  # a revision
    start = pd.Timestamp(ts(0)[0], tz=UTC)
    end = start + pd.Timedelta("1h")
    for all_revisions in (False, True):
        frame = store.window(None, start, end, all_revisions=all_revisions)
        rows = store.window_rows(None, start, end, all_revisions=all_revisions)
        assert len(rows) == len(frame) == (5 if all_revisions else 4)
        assert rows.point_id == frame["point_id"].tolist()
        assert rows.ts_utc.dtype == np.dtype("datetime64[us]")
        expected = frame["ts_utc"].dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
        np.testing.assert_array_equal(rows.ts_utc, expected)
        np.testing.assert_array_equal(rows.value, frame["value"].to_numpy(dtype=float))
        np.testing.assert_array_equal(rows.revision, frame["revision"].to_numpy())
        np.testing.assert_array_equal(rows.quality, frame["quality"].to_numpy())
    newest = store.window_rows(["load.1.p"], start, end)
    assert newest.value.tolist() == [0.0, 1.5, 2.0]
    assert newest.revision.tolist() == [0, 1, 0]
