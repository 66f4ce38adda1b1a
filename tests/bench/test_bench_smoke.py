"""Smoke test of the tariff benchmark: ``bench/bench_tariff.py --quick`` runs and agrees.

It checks that every engine runs and that the totals agree; it never asserts on speed
(the CI machine is not the benchmark machine).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bench.util import run_quick


@pytest.mark.slow
def test_quick_benchmark_runs_and_totals_agree(tmp_path: Path) -> None:
    pytest.importorskip("PySAM.Utilityrate5")
    out = tmp_path / "quick.json"
    proc = run_quick("bench_tariff.py", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["quick"] is True
    assert set(res["resolutions"]) == {"15min", "hourly"}
    for label, r in res["resolutions"].items():
        assert r["gridtwin"]["meters"] == 400, label
        assert r["pysam"]["meters"] == 10, label
        assert r["agreement_vs_pysam"] <= 1e-6, label
        assert r["agreement_floor_vs_pysam"] <= 1e-6, label
        assert r["agreement_vs_floor_all"] <= 1e-9, label
        assert r["gridtwin"]["per_s"] > 0
        assert r["pysam"]["per_s"] > 0
    it = res["itemised"]
    assert it["meters"] == 400
    assert it["lines"] == 400 * 12 * 4  # 12 months x (3 bands + fixed)
    assert it["parquet_files"] == 4
    assert it["agreement_vs_pysam"] <= 1e-6
    assert it["peak_rss_bytes"] > 0
    assert "gridtwin / PySAM" in proc.stdout
    assert it["out_dir"] is None  # the line tables were removed after measuring
