"""Smoke test of the start-up benchmark: ``bench/bench_startup.py --quick`` runs and reports
every command against the floor; it never asserts on speed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench.util import run_quick


def test_quick_startup_benchmark_reports_every_command(tmp_path: Path) -> None:
    out = tmp_path / "startup.json"
    proc = run_quick("bench_startup.py", out, "--baseline-src", "src", timeout_s=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["floor python -c pass"]["median_s"] > 0
    assert set(res["variants"]) == {"now", "before"}
    for timings in res["variants"].values():
        assert set(timings) == {
            "gridtwin --help",
            "gridtwin tariffs list",
            "gridtwin network --help",
            "import gridtwin.cli (importtime)",
        }
        assert all(t["median_s"] > 0 for t in timings.values())
    assert "speed-up gridtwin --help (before / now)" in res["table"]
