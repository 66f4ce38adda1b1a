"""``gridtwin network`` commands through typer's runner (network_app, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest
from typer.testing import CliRunner

from gridtwin.cli.network import app as network_app
from gridtwin.network import read_parquet
from tests.network.util import LV_CODE, MV_CODE, feature_net, simbench_model

runner = CliRunner()


@pytest.fixture
def net_file(tmp_path: Path) -> Path:
    path = tmp_path / "feature.json"
    pp.to_json(feature_net(), str(path))
    return path


@pytest.fixture
def cached_simbench(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads SimBench through the session cache (saves 5 s per invocation)."""
    monkeypatch.setattr(
        "gridtwin.workflows.twin.load_simbench",
        lambda code, profiles=True, **_: simbench_model(code),
    )


def test_info_table_and_json(net_file: Path) -> None:
    out = runner.invoke(network_app, ["info", "--net", str(net_file)])
    assert out.exit_code == 0, out.output
    assert "voltage_levels_kv" in out.output
    assert "20, 0.4" in out.output
    out = runner.invoke(network_app, ["info", "--net", str(net_file), "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["element_counts"]["trafo"] == 2
    assert data["profile_steps"] == 0


def test_validate_exit_codes(net_file: Path, tmp_path: Path) -> None:
    out = runner.invoke(network_app, ["validate", "--net", str(net_file), "--format", "json"])
    assert out.exit_code == 0, out.output
    issues = json.loads(out.output)
    assert {"severity": "warning", "table": "bus", "index": 7, "column": None} in [
        {k: i[k] for k in ("severity", "table", "index", "column")} for i in issues
    ]
    net = feature_net()
    net.line.loc[0, "r_ohm_per_km"] = np.nan
    bad = tmp_path / "bad.json"
    pp.to_json(net, str(bad))
    out = runner.invoke(network_app, ["validate", "--net", str(bad)])
    assert out.exit_code == 1
    assert "line[0].r_ohm_per_km" in out.output


def test_simulate_snapshot_to_parquet(net_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "res.parquet"
    out = runner.invoke(
        network_app,
        ["simulate", "--net", str(net_file), "--output", str(target), "--format", "json"],
    )
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)["summary"]
    assert summary["steps"] == 1
    assert summary["converged_steps"] == 1
    assert read_parquet(target).n_steps == 1


def test_simulate_simbench_week(cached_simbench: None) -> None:
    out = runner.invoke(network_app, ["simulate", "--simbench", LV_CODE, "--steps", "0:672"])
    assert out.exit_code == 0, out.output
    assert "vm_min_pu" in out.output
    assert "672" in out.output


def test_simulate_with_tap_control(cached_simbench: None) -> None:
    args = ["simulate", "--simbench", MV_CODE, "--steps", "0:96", "--format", "json"]
    out = runner.invoke(network_app, [*args, "--tap-control"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)["summary"]
    assert {"trafo 0 tap operations", "trafo 1 tap operations"} <= set(summary)
    fixed = json.loads(runner.invoke(network_app, args).output)["summary"]
    assert "trafo 0 tap operations" not in fixed


def test_usage_errors(net_file: Path) -> None:
    out = runner.invoke(network_app, ["simulate", "--net", str(net_file), "--steps", "x"])
    assert out.exit_code == 2
    assert "START:END" in out.output
    out = runner.invoke(network_app, ["info"])
    assert out.exit_code == 2
    assert "exactly one of --simbench" in out.output
    out = runner.invoke(network_app, ["info", "--net", str(net_file), "--format", "csv"])
    assert out.exit_code == 2
