"""The embedded store answers ``latest`` from memory: it must equal its own table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gridtwin.store import MeasurementBatch, MeasurementPoint, _sql, open_store

N_POINTS = 30


def _table(store: object) -> pd.DataFrame:
    """The durable ``latest`` table, read with SQL (what the store answered before)."""
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
