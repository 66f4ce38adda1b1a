"""``gridtwin network shortcircuit|protection`` on a hand-made net saved as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
from typer.testing import CliRunner

from gridtwin.cli import app
from tests.network.test_protection import two_feeder_net

runner = CliRunner()


def _net_file(tmp_path: Path) -> Path:
    path = tmp_path / "net.json"
    pp.to_json(two_feeder_net(), str(path))
    return path


def test_shortcircuit_both_engines_json(tmp_path: Path) -> None:
    out = runner.invoke(
        app,
        ["network", "shortcircuit", "--net", str(_net_file(tmp_path)), "--engine", "both",
         "--format", "json", "--output", str(tmp_path / "sc.csv")],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    rows = next(v for k, v in data.items() if k.startswith("Short-circuit"))
    assert len(rows) == 5
    assert abs(rows[4]["ik3_max_ka_pp"] - rows[4]["ik3_max_ka_pgm"]) < 1e-4
    assert "largest relative difference" in data["notes"][0]
    assert (tmp_path / "sc.csv").read_text().startswith("bus,")


def test_shortcircuit_bad_engine(tmp_path: Path) -> None:
    out = runner.invoke(
        app, ["network", "shortcircuit", "--net", str(_net_file(tmp_path)), "--engine", "dss"]
    )
    assert out.exit_code != 0
    assert "--engine" in out.output


def test_protection_with_devices_file(tmp_path: Path) -> None:
    devices = tmp_path / "devices.yaml"
    devices.write_text("line:0: {rating_a: 160}\nline:1: {rating_a: 63}\n")
    out = runner.invoke(
        app,
        ["network", "protection", "--net", str(_net_file(tmp_path)), "--devices",
         str(devices), "--format", "json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    rows = {r["feeder"]: r for r in json.loads(out.output)["Feeder protection"]}
    assert rows["line:0"]["i_n_a"] == 160
    assert rows["line:1"]["i_n_a"] == 63
    # 63 A gG: I_max(5 s) = 320 A, still above the weak feeder's far-end current
    assert rows["line:1"]["disconnection_ok"] is False
    assert rows["line:0"]["disconnection_ok"] is True


def test_protection_bad_devices_file(tmp_path: Path) -> None:
    devices = tmp_path / "devices.yaml"
    devices.write_text("line:0: {rating_a: 160, colour: red}\n")
    out = runner.invoke(
        app, ["network", "protection", "--net", str(_net_file(tmp_path)), "--devices", str(devices)]
    )
    assert out.exit_code != 0
    assert "colour" in out.output


def test_outage_cli_trench() -> None:
    out = runner.invoke(
        app,
        ["network", "outage", "--simbench", "1-LV-rural1--0-sw", "--lines", "2,6",
         "--repair-h", "4", "--format", "json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    summary = data["Outage outage"][0]
    assert summary["customers_lost"] == 9
    assert summary["customer_minutes_lost"] == 9 * 240
    assert len(data["Lost loads"]) == 9


def test_outage_cli_bad_ids() -> None:
    out = runner.invoke(
        app, ["network", "outage", "--simbench", "1-LV-rural1--0-sw", "--lines", "2;6"]
    )
    assert out.exit_code != 0
    assert "--lines" in out.output
