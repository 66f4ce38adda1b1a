"""Smoke test of ``bench/bench_estimation.py --quick``: it runs, estimates close to the true
state and writes its JSON; it never asserts on speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bench.util import run_quick


@pytest.mark.slow
def test_quick_estimation_benchmark_runs(tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    proc = run_quick("bench_estimation.py", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text(encoding="utf-8"))
    lv = res["grids"]["LV"]
    assert lv["intervals"] == 5
    assert lv["gridtwin"]["median_ms"] > 0
    assert lv["floor_pgm_se"]["median_ms"] > 0
    assert lv["max_vm_error_pu"] < 0.01
    assert lv["dof_last"] > 0
