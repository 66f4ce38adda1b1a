"""Smoke test of the grid benchmark: ``bench/bench_grid.py --quick`` runs and agrees.

It checks that every engine runs and that gridtwin and bare power-grid-model agree with
pandapower; it never asserts on speed (the CI machine is not the benchmark machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_grid.py"


@pytest.mark.slow
def test_quick_grid_benchmark_runs_and_agrees_with_pandapower(tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--oltc",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1200,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["quick"] is True
    assert set(res["grids"]) == {"LV", "MV"}
    for label, r in res["grids"].items():
        assert r["gridtwin"]["steps"] == 384, label
        assert r["compared_steps"] == 96, label
        for method, t in r["gridtwin"]["methods"].items():
            assert t["converged_steps"] == 384, (label, method)
            assert t["cpu_s"] > 0
        assert r["pandapower"]["year_s"] > 0
        assert set(r["gridtwin"]["methods"]) == {
            "fixed_point",
            "newton_raphson",
            "iterative_current",
        }
        assert len(r["max_dvm_vs_pandapower"]) == 5  # gridtwin FP, NR, IC; bare PGM NR, IC
        for key, dvm in r["max_dvm_vs_pandapower"].items():
            assert dvm <= 1e-6, (label, key)
    assert "speed-up gridtwin FP vs pandapower" in proc.stdout
    assert res["oltc"]["taps_equal"] is True
    assert res["oltc"]["max_dvm"] <= 1e-6
    assert res["oltc"]["gridtwin"]["tap_operations"] > 0
    assert "gridtwin FP (default) / fastest bare PGM method" in proc.stdout
    assert "max |dvm| gridtwin NR vs pandapower" in proc.stdout
