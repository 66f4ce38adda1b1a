"""Dips, swells and interruptions from the r.m.s. series of a measurement file
(``quality events --source rms``), thresholds of the standard as data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridtwin.cli import app
from gridtwin.errors import InputError
from gridtwin.quality._rms_events import rms_thresholds

runner = CliRunner()


def week_csv(path: Path) -> None:
    """P1: a 30-min dip to 80 % of 230 V on phase a, a 10-min swell to 115 % on phase c,
    a 20-min interruption on all phases (1 V); P2 steady."""
    t = pd.date_range("2025-06-02T00:00Z", periods=1008, freq="10min")
    v = np.full((1008, 3), 230.0)
    v[100:103, 0] = 184.0
    v[300, 2] = 264.5
    v[500:502, :] = 1.0
    frames = [
        pd.DataFrame(
            {
                "timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "point_id": pid,
                "voltage_a_v": x[:, 0],
                "voltage_b_v": x[:, 1],
                "voltage_c_v": x[:, 2],
            }
        )
        for pid, x in (("P1", v), ("P2", np.full((1008, 3), 231.0)))
    ]
    pd.concat(frames).to_csv(path, index=False)


def test_events_from_rms_series(tmp_path: Path) -> None:
    week_csv(tmp_path / "w.csv")
    res = runner.invoke(
        app,
        ["quality", "events", str(tmp_path / "w.csv"), "--source", "rms",
         "--standard", "EN 50160:2010", "--format", "json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    ev = json.loads(res.output)["events"]
    kinds = [(e["point_id"], e["kind"], e["duration_s"]) for e in ev]
    assert ("P1", "dip", 1800.0) in kinds
    assert ("P1", "swell", 600.0) in kinds
    assert ("P1", "interruption", 1200.0) in kinds
    assert not [e for e in ev if e["point_id"] == "P2"]
    dip = next(e for e in ev if e["kind"] == "dip" and e["duration_s"] == 1800.0)
    assert dip["extreme_percent"] == pytest.approx(80.0)
    assert dip["source"] == "rms"
    assert "a lower bound" in dip["detail"]


def test_thresholds_are_data() -> None:
    th = rms_thresholds("EN 50160:2010")
    assert (th.dip_percent, th.swell_percent, th.interruption_percent) == (90.0, 110.0, 5.0)
    with pytest.raises(InputError, match=r"no r\.m\.s\. event thresholds for 'X'"):
        rms_thresholds("X")
