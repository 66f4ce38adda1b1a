"""A writer killed with SIGKILL mid-ingest loses nothing it acknowledged and leaves no
half-written batch, on every store backend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from gridtwin.store import open_store

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from gridtwin.ingest import Pipeline, PipelineConfig, RawBatch
    from gridtwin.store import MeasurementPoint, open_store

    store = open_store(sys.argv[1], create=True)
    store.add_points([MeasurementPoint(f"p{i}", "p", "kW") for i in range(100)])
    pipe = Pipeline(store, PipelineConfig(flush_rows=5_000, flush_s=0.0))
    ids = np.array([f"p{i}" for i in range(100)] * 50, dtype=object)
    t0 = np.datetime64("2026-01-01", "us")
    minute = np.timedelta64(1, "m")
    k = 0
    while True:
        ts = t0 + (k * 50 + np.repeat(np.arange(50), 100)) * minute
        values = np.full(len(ids), float(k))
        # one value of an unknown point per batch: its reject must share the batch's fate
        batch = RawBatch.build(
            np.append(ids, f"ghost-{k}"), np.append(ts, t0), np.append(values, 1.0)
        )
        pipe.submit(batch, on_durable=lambda k=k: print(f"ack {k}", flush=True))
        k += 1
    """
)
ROWS = 5_000
ACKS_BEFORE_KILL = 15


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_loses_nothing_acknowledged(store_location: str) -> None:
    acked: list[int] = []
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, store_location],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            for line in proc.stdout:
                acked.append(int(line.split()[1]))
                if len(acked) >= ACKS_BEFORE_KILL:
                    break
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
        error = proc.stderr.read()
    assert len(acked) >= ACKS_BEFORE_KILL, f"the writer stopped by itself: {error}"
    assert proc.returncode == -signal.SIGKILL

    store = open_store(store_location)
    try:
        lo, hi = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2030-01-01", tz="UTC")
        values = store.window(None, lo, hi, all_revisions=True)
        per_batch = values.groupby(values["value"].astype(int)).size()
        ghosts = store.rejects()["point_id"].str.removeprefix("ghost-").astype(int)
    finally:
        store.close()
    assert set(acked) <= set(per_batch.index), "an acknowledged batch is missing"
    assert (per_batch == ROWS).all(), f"half-written batches: {per_batch[per_batch != ROWS]}"
    assert set(ghosts) == set(per_batch.index), "rejects and values of a batch were split"
    assert (values["revision"] == 0).all()
