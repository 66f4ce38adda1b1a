#!/usr/bin/env python3
"""Bulk ingest into the embedded store, beside the floor: a plain DuckDB append.

What is measured, in one run on the same data (8,772 points: the loads of SimBench's
1-MVLV-urban-all-0-sw; 15-minute values, random numbers):

- **gridtwin**: :class:`gridtwin.ingest.Pipeline` into :class:`DuckDBStore`: every value
  checked against its point (range, finiteness, time), scaled, de-duplicated by key,
  numbered as a revision where it differs, the newest value per point kept; each batch
  committed durably. Three passes: new data in time order, new data ordered by point
  (each batch spans the whole period: the de-duplication join cannot skip row groups),
  and the first data again (every value a duplicate).
- **floor**: the same rows as Arrow tables appended with ``INSERT INTO ... SELECT`` to a
  plain DuckDB table of the same columns (no checks, no de-duplication), one commit per
  batch, in a fresh database file.
- **latest**: the newest value of all 8,772 points, read right after a write (the
  store keeps the table between writes; median of 20; the read between writes is
  reported too), and the same
  answer computed from the floor's plain table by a window query.

Usage::

    python bench/bench_store_ingest.py [--steps 240] [--out bench/results/...json]

The issue's target: >= 300,000 measurements/s on 2 cores; latest < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from _harness import machine

POINTS = 8_772
STEP = np.timedelta64(15, "m")
T0 = np.datetime64("2016-01-01", "us")


def _batches(steps: int, per_batch: int, by_point: bool, seed: int) -> list[Any]:
    from gridtwin.ingest import RawBatch

    ids = np.array([f"load:{i}:p" for i in range(POINTS)], dtype=object)
    rng = np.random.default_rng(seed)
    if by_point:  # point-major: each batch holds some points over the whole period
        pid = np.repeat(ids, steps)
        ts = T0 + np.tile(np.arange(steps), POINTS) * STEP
    else:  # time-major: each batch holds a few steps of every point
        pid = np.tile(ids, steps)
        ts = T0 + np.repeat(np.arange(steps), POINTS) * STEP
    values = rng.random(len(pid)) * 10.0
    return [
        RawBatch.build(pid[i : i + per_batch], ts[i : i + per_batch], values[i : i + per_batch])
        for i in range(0, len(pid), per_batch)
    ]


def _ingest(store: Any, batches: list[Any]) -> dict[str, Any]:
    from gridtwin.ingest import Pipeline

    n = sum(len(b) for b in batches)
    start = time.perf_counter()
    with Pipeline(store) as pipe:
        for b in batches:
            pipe.submit(b)
        counters = pipe.flush()
    seconds = time.perf_counter() - start
    return {
        "rows": n,
        "seconds": seconds,
        "rows_per_s": n / seconds,
        "stored": counters.stored,
        "duplicates": counters.duplicates,
        "max_lag_s": counters.max_lag_s,
    }


def _floor(folder: Path, batches: list[Any]) -> dict[str, Any]:
    """The same rows appended to a plain DuckDB table (Arrow in, one commit per batch)."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(str(folder / "floor.duckdb"))
    con.execute(
        "CREATE TABLE m (point_key INTEGER, ts_utc TIMESTAMP, value DOUBLE, "
        "quality UTINYINT, source_ts_utc TIMESTAMP, arrival_ts_utc TIMESTAMP)"
    )
    keys = {f"load:{i}:p": i for i in range(POINTS)}
    tables = []
    now = np.datetime64("now", "us")
    for b in batches:  # prepared outside the timing: the floor gets its input ready-made
        tables.append(
            pa.table(
                {
                    "point_key": np.array([keys[p] for p in b.point_id], np.int32),
                    "ts_utc": pa.array(b.ts_utc, pa.timestamp("us")),
                    "value": b.raw_value,
                    "quality": b.quality,
                    "source_ts_utc": pa.array(b.source_ts_utc, pa.timestamp("us")),
                    "arrival_ts_utc": pa.array(np.full(len(b), now), pa.timestamp("us")),
                }
            )
        )
    n = sum(t.num_rows for t in tables)
    start = time.perf_counter()
    for t in tables:
        con.register("chunk", t)
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO m SELECT * FROM chunk")
        con.execute("COMMIT")
        con.unregister("chunk")
    seconds = time.perf_counter() - start
    reads = []
    for _ in range(5):
        t = time.perf_counter()
        con.execute(
            "SELECT point_key, ts_utc, value FROM m QUALIFY row_number() OVER "
            "(PARTITION BY point_key ORDER BY ts_utc DESC) = 1"
        ).df()
        reads.append(time.perf_counter() - t)
    con.close()
    return {
        "rows": n,
        "seconds": seconds,
        "rows_per_s": n / seconds,
        "latest_by_window_query_ms": 1000 * statistics.median(reads),
    }


def run(steps: int, per_batch: int) -> dict[str, Any]:
    """The whole comparison; a JSON-able result."""
    from dataclasses import replace

    from gridtwin.store import MeasurementBatch, MeasurementPoint, open_store

    time_major = _batches(steps, per_batch, by_point=False, seed=1)
    point_major = _batches(steps, per_batch, by_point=True, seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        floor = _floor(folder, time_major)
        results: dict[str, Any] = {}
        for name, batches in (("time_major", time_major), ("point_major", point_major)):
            store = open_store(folder / name, create=True)
            store.add_points(MeasurementPoint(f"load:{i}:p", "p", "kW") for i in range(POINTS))
            results[name] = _ingest(store, batches)
            if name == "time_major":
                results["all_duplicates"] = _ingest(store, batches)
                fresh, cached = [], []
                one = MeasurementBatch.build(
                    ["load:0:p"], [np.datetime64("2017-01-01", "us")], [1.0]
                )
                for k in range(20):
                    # a write first: the store reads its newest-value table again
                    store.write(replace(one, value=np.array([float(k)])))
                    t = time.perf_counter()
                    latest = store.latest()
                    fresh.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    store.latest()
                    cached.append(time.perf_counter() - t)
                results["latest_ms"] = 1000 * statistics.median(fresh)
                results["latest_cached_ms"] = 1000 * statistics.median(cached)
                results["latest_points"] = len(latest)
            store.close()
    ratio = results["time_major"]["rows_per_s"] / floor["rows_per_s"]
    return {
        "benchmark": "store bulk ingest (embedded DuckDB)",
        "date": date.today().isoformat(),
        "points": POINTS,
        "steps": steps,
        "rows_per_batch": per_batch,
        "gridtwin": results,
        "floor_plain_duckdb_append": floor,
        "ratio_gridtwin_to_floor": ratio,
        "machine": machine(("duckdb", "pyarrow", "pandas")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=240, help="15-minute steps per point")
    parser.add_argument("--batch", type=int, default=500_000, help="rows per batch")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON result here")
    args = parser.parse_args()
    result = run(args.steps, args.batch)
    g, f = result["gridtwin"], result["floor_plain_duckdb_append"]
    print(f"rows: {g['time_major']['rows']:,} ({POINTS:,} points x {args.steps} steps)")
    for name in ("time_major", "point_major", "all_duplicates"):
        print(f"gridtwin {name:>15}: {g[name]['rows_per_s']:>12,.0f} rows/s")
    print(f"floor (plain append):     {f['rows_per_s']:>12,.0f} rows/s")
    print(f"ratio gridtwin/floor:     {result['ratio_gridtwin_to_floor']:.2f}")
    print(
        f"latest of {g['latest_points']:,} points: {g['latest_ms']:.1f} ms after a write, "
        f"{g['latest_cached_ms']:.2f} ms between writes "
        f"(window query on the plain table: {f['latest_by_window_query_ms']:.1f} ms)"
    )
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
