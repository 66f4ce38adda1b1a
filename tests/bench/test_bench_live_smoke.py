"""Smoke test of ``bench/bench_live.py --quick``: every part runs and reports (no speed
is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bench.util import run_quick


@pytest.mark.slow
def test_quick_live_benchmark_reports_every_part(tmp_path: Path) -> None:
    out = tmp_path / "live.json"
    proc = run_quick("bench_live.py", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["full_metering"]["methods"] == ["power_flow"]
    assert res["half_metering"]["methods"] == ["state_estimation"]
    for key in ("floor_step_power_flow", "floor_bare_pgm_state_estimation", "one_step_simulate"):
        assert res[key]["median_ms"] > 0
    assert res["buses"] > 0
