"""Chunked billing (in-process and on a pool of processes) matches one big billing run."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.billing import bill
from gridtwin.billing._batch import bill_chunks
from gridtwin.errors import InputError
from gridtwin.tariffs import get_tariff
from gridtwin.timeseries import IntervalData, regular_index

N_STEPS = 96 * 59  # January and February 2018, 15 min


def make(chunk: int, size: int = 3) -> IntervalData:
    """Deterministic data of meters chunk*size .. chunk*size+size-1."""
    rng = np.random.default_rng(chunk)
    idx = regular_index("2018-01-01", N_STEPS, "15min")
    ids = tuple(f"m{chunk * size + i}" for i in range(size))
    return IntervalData(idx, rng.uniform(0.0, 0.5, (size, N_STEPS)), ids)


def test_in_process_chunks_equal_one_run() -> None:
    tariff = get_tariff("bench-tou3")
    res = bill_chunks(tariff, make, 3)
    whole = IntervalData(
        make(0).start_utc,
        np.vstack([make(i).energy_kwh for i in range(3)]),
        tuple(m for i in range(3) for m in make(i).meter_ids),
    )
    np.testing.assert_allclose(res.totals(), bill(tariff, whole).totals(), rtol=1e-12)
    assert res.meter_ids() == whole.meter_ids
    assert res.n_meters == 9
    assert res.n_lines == 0
    assert res.peak_rss_bytes() > 0
    assert all(c.path is None for c in res.chunks)


def test_pool_writes_line_tables(tmp_path: Path) -> None:
    maker = functools.partial(make, size=2)
    res = bill_chunks("bench-tou3", maker, [2, 0, 1], processes=2, out_dir=tmp_path)
    assert [c.chunk for c in res.chunks] == [2, 0, 1]
    local = bill_chunks("bench-tou3", maker, [2, 0, 1])
    np.testing.assert_allclose(res.totals(), local.totals(), rtol=1e-12)
    files = sorted(tmp_path.glob("lines-*.parquet"))
    assert len(files) == 3
    frame = pd.concat([pd.read_parquet(f) for f in files])
    assert len(frame) == res.n_lines == 6 * 2 * 4  # meters x months x (3 bands + fixed)
    by_meter = frame.groupby("meter_id")["amount"].sum()
    np.testing.assert_allclose(
        by_meter.loc[list(res.meter_ids())].to_numpy(), res.totals().sum(axis=1), rtol=1e-12
    )
    assert res.peak_rss_bytes() > max(c.max_rss_bytes for c in res.chunks)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="at least 1"):
        bill_chunks("bench-tou3", make, 1, processes=0)
    with pytest.raises(InputError, match="not a directory"):
        bill_chunks("bench-tou3", make, 1, out_dir=tmp_path / "missing")
