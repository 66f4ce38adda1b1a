"""The command line, end to end through files (typer's runner, real files in tmp_path)."""

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


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    write_intervals(flat_data("2018-01-01", "2018-03-01", 0.25, n_meters=2, tz="UTC"), path)
    return path


def test_tariffs_list_and_show() -> None:
    out = runner.invoke(app, ["tariffs", "list", "--format", "json"])
    assert out.exit_code == 0, out.output
    ids = {row["id"] for row in json.loads(out.output)}
    assert {"bench-tou3", "il-tou-2015"} <= ids
    out = runner.invoke(app, ["tariffs", "show", "il-tou-2015"])
    assert out.exit_code == 0
    assert "provisional" in out.output
    assert "il-vat" in out.output


def test_bill_json_and_csv(data_file: Path, tmp_path: Path) -> None:
    out = runner.invoke(
        app,
        [
            "bill",
            "--tariff",
            "bench-tou3",
            "--data",
            str(data_file),
            "--whole",
            "--format",
            "json",
            "--meter",
            "m1",
        ],
    )
    assert out.exit_code == 0, out.output
    bills = json.loads(out.output)
    assert len(bills) == 1
    # 59 days x 24 kWh/day; January and February 2018 weekday/weekend hours
    assert bills[0]["energy_kwh"] == pytest.approx(59 * 24)
    assert bills[0]["total"] == str(sum(float(ln["amount"]) for ln in bills[0]["lines"]))[:7]
    target = tmp_path / "lines.csv"
    out = runner.invoke(
        app,
        [
            "bill",
            "--tariff",
            "bench-tou3",
            "--data",
            str(data_file),
            "--format",
            "csv",
            "--output",
            str(target),
        ],
    )
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(target)
    assert set(frame["meter_id"]) == {"m0", "m1"}
    assert set(frame["period_from"]) == {"2018-01-01", "2018-02-01"}  # monthly by default


def test_bill_table_shows_explanations(data_file: Path) -> None:
    out = runner.invoke(
        app,
        [
            "bill",
            "--tariff",
            "bench-tou3",
            "--data",
            str(data_file),
            "--period",
            "2018-01-01:2018-02-01",
            "--meter",
            "m0",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "TOTAL" in out.output
    assert "band's price" in out.output


def test_bill_errors_exit_2_with_a_message(data_file: Path) -> None:
    out = runner.invoke(app, ["bill", "--tariff", "no-such-tariff", "--data", str(data_file)])
    assert out.exit_code == 2
    assert "unknown tariff 'no-such-tariff'" in out.output
    out = runner.invoke(
        app,
        [
            "bill",
            "--tariff",
            "bench-tou3",
            "--data",
            str(data_file),
            "--period",
            "2018-01-01-2018-02-01",
        ],
    )
    assert out.exit_code == 2
    assert "YYYY-MM-DD:YYYY-MM-DD" in out.output
    out = runner.invoke(app, ["bill", "--tariff", "bench-tou3"])
    assert out.exit_code == 2
    assert "give --data FILE" in out.output


def test_compare(data_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "flat.yaml"
    other.write_text(
        """
schema: gridtwin.tariff/1
id: flat-usd
name: Flat 0.24
jurisdiction: none
currency: USD
source: {title: test}
versions:
  - valid_from: 2000-01-01
    components:
      - {id: e, kind: energy, section: energy, label: Energy, unit: USD/kWh, rates: 0.24}
""",
        encoding="utf-8",
    )
    out = runner.invoke(
        app,
        [
            "compare",
            "--tariff",
            "bench-tou3",
            "--tariff",
            str(other),
            "--data",
            str(data_file),
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert rows[0]["total"] <= rows[1]["total"]
    assert {r["tariff_id"] for r in rows} == {"bench-tou3", "flat-usd"}


def test_revision_table_reproduces_the_seed() -> None:
    out = runner.invoke(app, ["tariffs", "revision", "--level", "HV_general", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    first = rows[0]
    assert (first["season"], first["band"]) == ("winter", "off_peak")
    assert first["old_agorot_per_kwh"] == pytest.approx(34.07)
    assert first["new_agorot_per_kwh"] == pytest.approx(30.14)
    assert first["change_percent"] == pytest.approx(-11.54)


@pytest.mark.slow
def test_demo_runs() -> None:
    out = runner.invoke(app, ["demo"])
    assert out.exit_code == 0, out.output
    assert "TOTAL" in out.output
    assert "Rooftop PV, without and with Q(U)" in out.output
    assert "the same replay again: stored 0, duplicates 7,968" in out.output


def test_bill_lines_to_parquet(data_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "lines.parquet"
    out = runner.invoke(
        app, ["bill", "--tariff", "bench-tou3", "--data", str(data_file), "--output", str(target)]
    )
    assert out.exit_code == 0, out.output
    frame = pd.read_parquet(target)
    assert set(frame["meter_id"]) == {"m0", "m1"}
    assert frame["amount_presented"].sum() == pytest.approx(frame["amount"].sum(), abs=0.05)
    assert not (tmp_path / "lines.parquet.tmp").exists()
