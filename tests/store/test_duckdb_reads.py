"""The embedded store's fast reads must equal what SQL says: ``latest`` from memory
against its own table, windows ordered and reduced with numpy against SQL's ordering and
window function."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gridtwin.store import MeasurementBatch, MeasurementPoint, _sql, open_store

N_POINTS = 30


def _table(store: object) -> pd.DataFrame:
    """The durable ``latest`` table, read with SQL (what the store answered before), once
    the journal is applied."""
    store.flush()  # type: ignore[attr-defined]
    return store._frame(  # type: ignore[attr-defined]
        f"SELECT p.point_id, {_sql.VALUE_COLS} FROM latest l "
        "JOIN points p USING (point_key) ORDER BY p.point_id"
    )


def test_latest_from_memory_equals_the_table_through_revisions_and_late_data(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(7)
    ids = np.array([f"p{i:02d}" for i in range(N_POINTS)], object)
    t0 = np.datetime64("2026-03-01T00:00", "us")
    location = str(tmp_path / "store")
    with open_store(location, create=True) as store:
        store.add_points(MeasurementPoint(str(i), "p", "kW") for i in ids)
        assert store.latest().empty
        for round_ in range(25):
            items = []
            for _ in range(int(rng.integers(1, 4))):
                n = int(rng.integers(1, 40))
                # a few times, so that values repeat (duplicates), change (revisions) and
                # arrive late (older than the newest)
                ts = t0 + rng.integers(0, 12, n) * np.timedelta64(15, "m")
                src = np.where(rng.random(n) < 0.3, np.datetime64("NaT", "us"), ts)
                batch = MeasurementBatch.build(
                    rng.choice(ids[: 10 + round_], n),
                    ts,
                    rng.integers(0, 3, n).astype(float),
                    quality=rng.integers(0, 4, n),
                    source_ts_utc=src,
                )
                items.append((batch, None))
            store.write_many(items)
            got = store.latest()
            pd.testing.assert_frame_equal(got, _table(store))
            few = sorted(rng.choice(ids, 5, replace=False))
            want = _table(store)
            want = want[want.point_id.isin(few)].reset_index(drop=True)
            pd.testing.assert_frame_equal(store.latest(few), want)
        final = store.latest()
        assert final["revision"].max() > 0  # revisions happened
    with open_store(location) as again:  # read from the table at the first question
        pd.testing.assert_frame_equal(again.latest(), final)


def test_the_fast_write_path_keeps_the_latest_table_right(tmp_path: Path) -> None:
    """Batches of only new values (the live case) take the fast path: rows in place of
    the upsert. Its cases: points without a value yet, several times of one point in a
    batch, and older values filling a gap before the newest values were ever read (then
    memory cannot tell, and the table must not go back in time)."""
    ids = np.array([f"q{i}" for i in range(6)], object)
    t0 = np.datetime64("2026-03-01T00:00", "us")
    step = np.timedelta64(15, "m")
    location = str(tmp_path / "store")
    newest: dict[str, tuple[np.datetime64, float]] = {}

    def write(store: object, pids: list[str], k: list[int], value: float) -> None:
        ts = t0 + np.asarray(k) * step
        store.write(MeasurementBatch.build(np.array(pids, object), ts, np.full(len(k), value)))  # type: ignore[attr-defined]
        for pid, t in zip(pids, ts, strict=True):
            if pid not in newest or t > newest[pid][0]:
                newest[pid] = (t, value)

    def check(store: object) -> None:
        table = _table(store).set_index("point_id")
        assert sorted(table.index) == sorted(newest)
        for pid, (t, value) in newest.items():
            assert table.loc[pid, "ts_utc"] == pd.Timestamp(t, tz="UTC"), pid
            assert table.loc[pid, "value"] == value, pid
            assert table.loc[pid, "revision"] == 0

    with open_store(location, create=True) as store:
        store.add_points(MeasurementPoint(str(i), "p", "kW") for i in ids)
        write(store, ["q0", "q1"], [10, 10], 1.0)  # nothing stored: fast, new points
        write(store, ["q0", "q0", "q2"], [11, 12, 11], 2.0)  # two times of q0 in one batch
        check(store)
    with open_store(location) as store:  # the newest values not read yet
        write(store, ["q0", "q3"], [3, 3], 3.0)  # older than q0's newest, in a gap
        check(store)
        assert store.latest().set_index("point_id").loc["q0", "value"] == 2.0
        write(store, ["q0", "q1", "q4"], [13, 11, 13], 4.0)  # memory now: all newer
        check(store)
        pd.testing.assert_frame_equal(store.latest(), _table(store))
        assert (
            len(
                store.window(
                    None, pd.Timestamp(t0, tz="UTC"), pd.Timestamp(t0 + 20 * step, tz="UTC")
                )
            )
            == 10
        )


def _sql_window(store: object, lo: pd.Timestamp, hi: pd.Timestamp, newest: bool) -> pd.DataFrame:
    """The window in SQL alone: join, window function, ORDER BY (the reference)."""
    qualify = (
        "QUALIFY m.revision = max(m.revision) OVER (PARTITION BY m.point_key, m.ts_utc)"
        if newest
        else ""
    )
    return store._frame(  # type: ignore[attr-defined]
        "SELECT p.point_id, m.ts_utc, m.value, m.quality, m.revision, m.source_ts_utc, "
        "m.arrival_ts_utc FROM measurements m JOIN points p USING (point_key) "
        f"WHERE m.ts_utc >= ? AND m.ts_utc < ? {qualify} "
        "ORDER BY p.point_id, m.ts_utc, m.revision",
        [lo.tz_convert(None).to_pydatetime(), hi.tz_convert(None).to_pydatetime()],
    )


def test_windows_equal_sql_through_revisions_late_data_and_point_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    # ids whose order differs from their keys' (keys follow creation)
    ids = np.array([f"z{i}" for i in range(5)] + [f"a{i}" for i in range(5)], object)
    t0 = np.datetime64("2026-03-01T00:00", "us")
    with open_store(str(tmp_path / "store"), create=True) as store:
        store.add_points(MeasurementPoint(str(i), "p", "kW") for i in ids)
        for _ in range(15):
            n = int(rng.integers(1, 30))
            ts = t0 + rng.integers(0, 16, n) * np.timedelta64(15, "m")
            src = np.where(rng.random(n) < 0.5, np.datetime64("NaT", "us"), ts)
            store.write(
                MeasurementBatch.build(
                    rng.choice(ids, n),
                    ts,
                    rng.integers(0, 3, n).astype(float),
                    quality=rng.integers(0, 4, n),
                    source_ts_utc=src,
                )
            )
        lo = pd.Timestamp("2026-03-01T01:00", tz="UTC")
        hi = pd.Timestamp("2026-03-01T03:00", tz="UTC")
        for newest in (True, False):
            got = store.window(None, lo, hi, all_revisions=not newest)
            want = _sql_window(store, lo, hi, newest)
            assert len(got) > 10
            pd.testing.assert_frame_equal(got, want)
            few = ["a3", "z1", "z4"]
            got = store.window(few, lo, hi, all_revisions=not newest)
            pd.testing.assert_frame_equal(got, want[want.point_id.isin(few)].reset_index(drop=True))
            one = store.window(["a0"], lo, hi, all_revisions=not newest)
            pd.testing.assert_frame_equal(one, want[want.point_id == "a0"].reset_index(drop=True))
        assert store.window(None, lo, hi, all_revisions=True)["revision"].max() > 0
        empty = store.window(["a1"], hi + pd.Timedelta("1D"), hi + pd.Timedelta("2D"))
        assert empty.empty
        assert list(empty.columns) == list(got.columns)
