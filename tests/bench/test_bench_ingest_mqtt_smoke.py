"""Smoke test of the MQTT ingest benchmark: ``bench/bench_ingest_mqtt.py --quick`` stores
every value exactly once through a real Mosquitto and reports the floor; never asserts on
speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_ingest_mqtt.py"


def test_quick_mqtt_ingest_benchmark(tmp_path: Path) -> None:
    if not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("/usr/sbin/mosquitto is missing (run scripts/sysdeps-mosquitto.sh as root)")
    out = tmp_path / "ingest-mqtt.json"
    cmd = [sys.executable, str(SCRIPT), "--quick", "--n", "5000", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text(encoding="utf-8"))
    duck = res["duckdb"]
    assert duck["complete"]
    assert duck["stored"] == duck["rows_in_store"] == res["params"]["n"]
    assert duck["duplicates"] == 0
    assert duck["rejected"] == 0
    assert res["duckdb_floor"]["per_s"] > 0
    assert "ratio gridtwin / floor" in res["table"]
