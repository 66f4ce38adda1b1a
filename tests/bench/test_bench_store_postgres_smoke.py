"""Smoke test of the PostgreSQL store benchmark: ``bench/bench_store_postgres.py --quick``
runs against a throwaway server and reports gridtwin and the COPY floor; it never asserts
on speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.store.pg_server import PgServer, pg_server  # the fixture, one server per worker

__all__ = ["pg_server"]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_store_postgres.py"


def test_quick_postgres_store_benchmark_reports_both_sides(
    pg_server: PgServer, tmp_path: Path
) -> None:
    out = tmp_path / "pg.json"
    name = pg_server.create_database("bench")
    try:
        proc = subprocess.run(
            [
                sys.executable,
                str(SCRIPT),
                "--quick",
                "--url",
                pg_server.url(name),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
            check=False,
        )
    finally:
        pg_server.drop_database(name)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["quick"] is True
    assert res["rows"] == 20_000
    assert res["gridtwin"]["rows_per_s"] > 0
    assert res["floor_copy"]["rows_per_s"] > 0
    assert res["ratio_gridtwin_to_floor"] > 0
    assert res["duplicate_batch"]["duplicates"] == res["duplicate_batch"]["rows"]
    assert res["floor_copy_primary_key"]["rows_per_s"] > 0
    assert res["revision_batch"]["revisions"] == res["revision_batch"]["rows"]
    assert res["latest"]["points"] == 500
    assert "gridtwin / floor" in proc.stdout
