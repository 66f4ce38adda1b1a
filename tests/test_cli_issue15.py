"""Issue 15: the crashes and confusing messages a new user met on the command line.

Each test failed before its fix. The CLI runs in-process (typer's runner); stdout and
stderr are read separately.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gridtwin.cli import app
from gridtwin.ingest import write_intervals
from tests.billing.util import flat_data

runner = CliRunner()


def _il_file(tmp_path: Path, start: str = "2015-07-01", end: str = "2015-08-01") -> Path:
    path = tmp_path / "il.csv"
    write_intervals(flat_data(start, end, 0.25, tz="Asia/Jerusalem"), path)
    return path


def test_revision_accepts_the_voltage_names_of_bill() -> None:
    # was: KeyError 'LV'
    out = runner.invoke(app, ["tariffs", "revision", "--level", "LV", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert {r["voltage_level"] for r in rows} == {"LV_general"}
    first = rows[0]
    assert (first["season"], first["band"], first["new_agorot_per_kwh"]) == (
        "winter",
        "off_peak",
        38.02,
    )
    out = runner.invoke(
        app, ["tariffs", "revision", "--level", "hv", "--group", "bulk", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    assert {r["voltage_level"] for r in json.loads(out.stdout)} == {"HV_bulk"}
    out = runner.invoke(app, ["tariffs", "revision", "--level", "EHV", "--group", "bulk"])
    assert out.exit_code == 2
    assert "no consumer groups" in out.stderr


def test_hv_system_management_prints_with_implied_infrastructure() -> None:
    # was: an error suggesting a call whose result raised AttributeError when passed on
    out = runner.invoke(
        app,
        [
            "tariffs",
            "revision",
            "--table",
            "system-management",
            "--level",
            "HV",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert len(rows) == 9
    assert all(r["infrastructure_is_implied"] for r in rows)
    winter_off_peak = rows[0]
    assert winter_off_peak["residual_agorot_per_kwh"] == 0.28  # as published
    assert winter_off_peak["infrastructure_agorot_per_kwh"] == 6.81
    assert winter_off_peak["losses_factor_percent"] == 102.25


def test_tariffs_show_prints_prices() -> None:
    # was: components listed without any price
    out = runner.invoke(app, ["tariffs", "show", "il-tou-2015"])
    assert out.exit_code == 0, out.output
    assert "winter: off_peak 38.02, shoulder 60.35, peak 100.52;" in out.stdout
    out = runner.invoke(app, ["tariffs", "show", "sk-urso-0210-2017-dd2"])
    assert "0.65 EUR per month" in out.stdout
    assert "VT 41.5221 EUR/MWh" in out.stdout
    assert "20 % of energy, network, system, njf_levy, excise" in out.stdout


def test_a_missing_property_is_an_error_on_stderr(tmp_path: Path) -> None:
    # was: printed on stdout, mixed into the output a script reads
    out = runner.invoke(
        app,
        ["bill", "--tariff", "il-tou-2015", "--data", str(_il_file(tmp_path)), "--format", "csv"],
    )
    assert out.exit_code == 2
    assert "voltage_level" in out.stderr
    assert out.stdout == ""


def test_gap_message_names_the_cli_flag(tmp_path: Path) -> None:
    stamps = pd.date_range("2015-07-01", periods=8, freq="15min", tz="UTC").delete(3)
    path = _csv(
        tmp_path,
        pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), "m0": 0.1}),
    )
    out = runner.invoke(
        app,
        [
            "bill",
            "--tariff",
            "il-tou-2015",
            "--data",
            str(path),
            "--prop",
            "voltage_level=LV",
            "--period",
            "2015-07-01:2015-07-02",
        ],
    )
    assert out.exit_code == 2
    assert "--allow-gaps" in out.stderr


def _csv(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_timestamp_column_message_says_what_to_do_on_the_command_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, pd.DataFrame({"time": ["2015-07-01T00:00:00Z"], "m0": [0.1]}))
    out = runner.invoke(
        app, ["bill", "--tariff", "il-tou-2015", "--data", str(path), "--prop", "voltage_level=LV"]
    )
    assert out.exit_code == 2
    assert "rename the file's time column to 'timestamp'" in out.stderr


def test_negative_value_message_says_what_to_do_on_the_command_line(tmp_path: Path) -> None:
    stamps = pd.date_range("2015-07-01", periods=4, freq="15min", tz="UTC")
    path = _csv(
        tmp_path,
        pd.DataFrame(
            {"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), "m0": [0.1, -0.2, 0.1, 0.1]}
        ),
    )
    out = runner.invoke(
        app, ["bill", "--tariff", "il-tou-2015", "--data", str(path), "--prop", "voltage_level=LV"]
    )
    assert out.exit_code == 2
    assert "two non-negative columns" in out.stderr
    assert "allow_negative=True" in out.stderr  # the Python way, named as such


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--from", "2019-09-01"], "--conditions-changed"),
    ],
)
def test_rate_change_message_names_the_cli_flags(args: list[str], expected: str) -> None:
    out = runner.invoke(
        app,
        [
            "eligibility",
            "rate-change",
            "sk-urso-0210-2017-dd2",
            "--changed",
            "2019-03-15",
            "--request-date",
            "2019-08-01",
            *args,
        ],
    )
    assert out.exit_code == 2
    assert expected in out.stderr
    assert "tariff sk-urso-0210-2017-dd2" in out.stderr
