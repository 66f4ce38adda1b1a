"""PostgreSQL store write rate against a plain binary COPY of the same rows (the floor).

On one throwaway PostgreSQL server (``tests/store/pg_server.py``: initdb in a temporary
directory, loopback, ``fsync`` and ``synchronous_commit`` on, as in production), in one
run:

- **gridtwin**: ``PostgresStore.write`` of N measurements in batches (default 500,000 in
  batches of 50,000 over 8,772 points, every key new), each batch one durable transaction
  (binary COPY into a temporary table, one INSERT ... SELECT that drops duplicates and
  numbers revisions, into the indexed ``measurements`` table);
- **floor**: the same rows, encoded by the same numpy encoder, binary-COPYed into a plain
  table without index, one transaction per batch: what the server allows to append them;
- extras: a batch written again (all duplicates) and ``latest()`` of every point.

The ratio gridtwin / floor is the figure (target: gridtwin >= 30,000 measurements/s).
The full run writes ``bench/results/store-postgres-<date>.json``.

::

    .venv/bin/python bench/bench_store_postgres.py            # full run (~1 min)
    .venv/bin/python bench/bench_store_postgres.py --quick    # smoke run, JSON only with --out
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# isort: off
from _harness import machine, pg_server_module  # type: ignore[import-not-found]  # before numpy

# isort: on
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _batches(n_rows: int, batch_rows: int, n_points: int) -> list[Any]:
    """Live-like batches: every point, one 15-min step after the other; all keys new."""
    from gridtwin.store import MeasurementBatch

    ids = np.array([f"bench:{i:05d}" for i in range(n_points)], dtype=object)
    t0 = np.datetime64("2025-01-01T00:00", "us")
    rng = np.random.default_rng(11)
    out = []
    for start in range(0, n_rows, batch_rows):
        j = np.arange(start, min(start + batch_rows, n_rows))
        ts = t0 + (j // n_points) * np.timedelta64(15, "m")
        out.append(
            MeasurementBatch.build(
                ids[j % n_points],
                ts,
                rng.normal(10.0, 3.0, len(j)),
                quality=np.zeros(len(j), np.uint8),
                source_ts_utc=ts + np.timedelta64(2, "s"),
                arrival_ts_utc=ts + np.timedelta64(3, "s"),
            )
        )
    return out


def _floor(url: str, store: Any, batches: list[Any], *, indexed: bool = False) -> float:
    """Seconds to encode and binary-COPY every batch into a plain table, one commit each
    (``indexed``: the table has a primary key on (point_key, ts_utc))."""
    import psycopg

    from gridtwin.store._postgres import _TEMP_IN, _copy_payload

    table_sql = _TEMP_IN.replace(
        "CREATE TEMP TABLE IF NOT EXISTS gridtwin_in", "CREATE TABLE floor"
    )
    table_sql = table_sql.replace("ON COMMIT DELETE ROWS", "").rstrip().rstrip(")")
    table_sql += ", PRIMARY KEY (point_key, ts_utc))" if indexed else ")"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SET synchronous_commit = on")
        con.execute("DROP TABLE IF EXISTS floor")
        con.execute(table_sql)
        elapsed = 0.0
        for b in batches:
            t = time.perf_counter()
            keys = store._point_keys(b.point_id)
            payload = _copy_payload(b, keys)
            with (
                con.transaction(),
                con.cursor() as cur,
                cur.copy("COPY floor FROM STDIN (FORMAT BINARY)") as cp,
            ):
                cp.write(payload)
            elapsed += time.perf_counter() - t
        con.execute("DROP TABLE floor")
    return elapsed


def _gridtwin(store: Any, batches: list[Any]) -> tuple[float, int]:
    """Seconds to write every batch through ``PostgresStore.write``; rows stored."""
    elapsed, stored = 0.0, 0
    for b in batches:
        t = time.perf_counter()
        report = store.write(b)
        elapsed += time.perf_counter() - t
        stored += report.stored
    return elapsed, stored


def measure(url: str, n_rows: int, batch_rows: int, n_points: int) -> dict[str, Any]:
    """Every figure of one run on the database at ``url`` (schema created there)."""
    from gridtwin.store import MeasurementBatch, MeasurementPoint
    from gridtwin.store._postgres import PostgresStore

    batches = _batches(n_rows, batch_rows, n_points)
    with PostgresStore.open(url, create=True) as store:
        store.add_points(MeasurementPoint(f"bench:{i:05d}", "p", "kW") for i in range(n_points))
        floor_s = _floor(url, store, batches)
        floor_pk_s = _floor(url, store, batches, indexed=True)
        ours_s, stored = _gridtwin(store, batches)
        if stored != n_rows:
            msg = f"stored {stored} of {n_rows} rows"
            raise RuntimeError(msg)
        t = time.perf_counter()
        dup = store.write(batches[-1])
        dup_s = time.perf_counter() - t
        last = batches[-1]
        changed = MeasurementBatch.build(
            last.point_id,
            last.ts_utc,
            last.value + 1.0,
            last.quality,
            last.source_ts_utc,
            last.arrival_ts_utc,
        )
        t = time.perf_counter()
        rev = store.write(changed)
        rev_s = time.perf_counter() - t
        latest = []
        for _ in range(5):
            t = time.perf_counter()
            rows = len(store.latest())
            latest.append(time.perf_counter() - t)
        layout = store.layout
        server = store._con.info.server_version
    return {
        "rows": n_rows,
        "batch_rows": batch_rows,
        "points": n_points,
        "layout": layout,
        "postgresql_server_version": server,
        "gridtwin": {"seconds": ours_s, "rows_per_s": n_rows / ours_s},
        "floor_copy": {"seconds": floor_s, "rows_per_s": n_rows / floor_s},
        "floor_copy_primary_key": {"seconds": floor_pk_s, "rows_per_s": n_rows / floor_pk_s},
        "ratio_gridtwin_to_floor": floor_s / ours_s,
        "ratio_gridtwin_to_floor_primary_key": floor_pk_s / ours_s,
        "duplicate_batch": {
            "rows": len(batches[-1]),
            "duplicates": dup.duplicates,
            "rows_per_s": len(batches[-1]) / dup_s,
        },
        "revision_batch": {
            "rows": len(changed),
            "revisions": rev.revisions,
            "rows_per_s": len(changed) / rev_s,
        },
        "latest": {"points": rows, "median_s": statistics.median(latest), "min_s": min(latest)},
    }


def table(r: dict[str, Any]) -> str:
    """The printed summary."""
    return "\n".join(
        [
            f"{r['rows']:,} measurements in batches of {r['batch_rows']:,} over "
            f"{r['points']:,} points (layout: {r['layout']})",
            f"{'measure':<44}{'rows/s':>14}{'seconds':>10}",
            "-" * 68,
            f"{'gridtwin PostgresStore.write':<44}{r['gridtwin']['rows_per_s']:>14,.0f}"
            f"{r['gridtwin']['seconds']:>10.2f}",
            f"{'floor: binary COPY into a plain table':<44}{r['floor_copy']['rows_per_s']:>14,.0f}"
            f"{r['floor_copy']['seconds']:>10.2f}",
            f"{'floor with a primary key (point, time)':<44}"
            f"{r['floor_copy_primary_key']['rows_per_s']:>14,.0f}"
            f"{r['floor_copy_primary_key']['seconds']:>10.2f}",
            f"{'gridtwin / floor':<44}{r['ratio_gridtwin_to_floor']:>14.2f}",
            f"{'gridtwin / floor with primary key':<44}"
            f"{r['ratio_gridtwin_to_floor_primary_key']:>14.2f}",
            f"{'a batch again (all duplicates)':<44}{r['duplicate_batch']['rows_per_s']:>14,.0f}",
            f"{'a batch again, new values (all revisions)':<44}"
            f"{r['revision_batch']['rows_per_s']:>14,.0f}",
            f"latest() of {r['latest']['points']:,} points: median "
            f"{r['latest']['median_s'] * 1000:.1f} ms, "
            f"fastest {r['latest']['min_s'] * 1000:.1f} ms",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=500_000, help="measurements written")
    ap.add_argument("--batch", type=int, default=50_000, help="measurements per write")
    ap.add_argument("--points", type=int, default=8_772, help="measurement points")
    ap.add_argument("--quick", action="store_true", help="20,000 rows (smoke test)")
    ap.add_argument("--url", help="use this (empty) database instead of a throwaway server")
    ap.add_argument(
        "--out", help="JSON result (full runs: bench/results/store-postgres-<date>.json)"
    )
    args = ap.parse_args(argv)
    rows, batch, points = (
        (20_000, 5_000, 500) if args.quick else (args.rows, args.batch, args.points)
    )
    if args.url:
        result = measure(args.url, rows, batch, points)
    else:
        pg = pg_server_module()
        with pg.PgServer() as server:
            result = measure(server.url(server.create_database("bench")), rows, batch, points)
    text = table(result)
    print(text)
    out = args.out or (
        None
        if args.quick
        else str(ROOT / "bench" / "results" / f"store-postgres-{dt.date.today()}.json")
    )
    if out:
        payload = {
            "machine": machine(("psycopg", "psycopg-binary", "pandas")),
            "quick": args.quick,
            **result,
            "table": text,
        }
        Path(out).write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
