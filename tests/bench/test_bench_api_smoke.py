"""Smoke test of the API benchmark: ``bench/bench_api.py --quick`` starts a real uvicorn,
loads it from a second process and measures the in-process floor; it never asserts on
speed, only that every part ran and reported."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench.util import run_quick


def test_quick_api_benchmark_reports_http_and_floor(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    proc = run_quick("bench_api.py", out, timeout_s=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["quick"] is True
    assert res["rate_per_s"] == 50.0
    http = res["http"]
    assert http["requests"] == 150
    assert http["completed"] == 150
    assert http["errors"] == 0
    assert http["statuses"] == {"200": 150}
    assert 0 < http["all"]["p50_ms"] <= http["all"]["p99_ms"] <= http["all"]["max_ms"]
    routes = http["routes"]
    assert set(routes) == {"latest", "window", "points", "health", "ingest"}
    assert sum(r["requests"] for r in routes.values()) == 150
    assert abs(routes["ingest"]["requests"] - 0.25 * 150) <= 1  # the mix's share
    # every ingest request was written, in at most as many transactions
    assert http["ingest_requests"] == routes["ingest"]["requests"]
    assert 0 < http["ingest_transactions"] <= http["ingest_requests"]
    assert http["server_cpu_ms_per_request"] > 0
    for route in ("latest", "ingest"):
        floor = res["floor_in_process"][route]
        assert 0 < floor["p50_ms"] <= floor["p99_ms"]
    assert "GET /measurements/latest" in proc.stdout
