"""``gridtwin network check|scenario|contingency|hosting`` through the main CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gridtwin.cli import app

runner = CliRunner()
LV = "1-LV-semiurb4--0-sw"


def test_network_check_json() -> None:
    out = runner.invoke(
        app, ["network", "check", "--simbench", LV, "--steps", "0:1344", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["Violations"][0]["customer_buses_failing"] == 0
    buses = data["Customer buses (worst first)"]
    assert sum(b["n_customers"] for b in buses) == 41  # every load is a customer
    assert len(buses) == 39  # two buses serve two loads each
    assert any("simulation steps" in n for n in data["notes"])
    streamed = runner.invoke(
        app,
        ["network", "check", "--simbench", LV, "--steps", "0:1344", "--stream", "--format", "json"],
    )
    assert streamed.exit_code == 0, streamed.output
    s_data = json.loads(streamed.output)
    assert s_data["Violations"] == data["Violations"]
    for full_bus, s_bus in zip(buses, s_data["Customer buses (worst first)"], strict=True):
        assert (s_bus["bus"], s_bus["verdict"]) == (full_bus["bus"], full_bus["verdict"])
        assert s_bus["worst_vm_pu"] == pytest.approx(full_bus["worst_vm_pu"], abs=1e-12)


def test_network_scenario_electrify_shows_before_and_after() -> None:
    out = runner.invoke(
        app,
        [
            "network",
            "scenario",
            "--simbench",
            LV,
            "--steps",
            "0:672",
            "--kind",
            "electrify",
            "--share",
            "1.0",
            "--ev-kw",
            "11",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)["Before and after"]
    assert [r["case"] for r in rows] == ["before", "after"]
    assert rows[1]["lines_overloaded"] >= rows[0]["lines_overloaded"]


def test_network_hosting_writes_csv(tmp_path: Path) -> None:
    target = tmp_path / "hc.csv"
    out = runner.invoke(
        app, ["network", "hosting", "--simbench", LV, "--output", str(target), "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(target)
    assert (frame["hosting_mw"] > 0).all()
    assert frame["limiting"].str.len().gt(0).all()


def test_network_bad_kind_is_an_error() -> None:
    out = runner.invoke(app, ["network", "scenario", "--simbench", LV, "--kind", "nuclear"])
    assert out.exit_code == 2
    assert "use electrify, pv or simbench-2034" in out.output


@pytest.mark.slow
def test_network_contingency_radial_lv() -> None:
    out = runner.invoke(app, ["network", "contingency", "--simbench", LV, "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)["N-1 contingencies"]
    assert len(rows) == 43  # 42 lines + 1 transformer
    trafo = next(r for r in rows if r["element"] == "trafo")
    assert trafo["loads_lost"] == 41  # the single transformer feeds every customer


def test_network_check_with_tap_control_streamed() -> None:
    args = ["network", "check", "--simbench", "1-MV-rural--0-sw", "--steps", "0:1344"]
    out = runner.invoke(app, [*args, "--stream", "--tap-control", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["Violations"][0]["customer_buses_failing"] == 0
    assert len(data["Transformers"]) == 2


def test_network_scenario_with_tap_control() -> None:
    args = ["network", "scenario", "--simbench", "1-MV-rural--0-sw", "--steps", "0:672"]
    out = runner.invoke(app, [*args, "--kind", "electrify", "--share", "1.0", "--tap-control"])
    assert out.exit_code == 0, out.output
    assert "Before and after" in out.output
