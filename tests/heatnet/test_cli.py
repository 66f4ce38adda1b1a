"""``gridtwin norms`` commands through typer's runner (norms_app, real example files)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from gridtwin.cli.norms import app as norms_app
from tests.heatnet.util import EXAMPLE, VARIANT, example_dict

runner = CliRunner()


def test_past_year_table() -> None:
    out = runner.invoke(norms_app, ["past-year", str(EXAMPLE)])
    assert out.exit_code == 0, out.output
    assert "Кр (8)" in out.output
    assert "0.1176" in out.output
    assert "11,856,459" in out.output  # ΣЭр
    assert "reference values under those" in out.output


def test_past_year_json_and_csv() -> None:
    out = runner.invoke(norms_app, ["past-year", str(EXAMPLE), "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["reserves_factor"] == pytest.approx(0.1175731, abs=1e-7)
    assert data["options"]["flow_correction_law"] == "cube"
    assert [s["station"] for s in data["stations"]] == ["I", "II", "III"]
    out = runner.invoke(norms_app, ["past-year", str(EXAMPLE), "--format", "csv"])
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(io.StringIO(out.output), keep_default_na=False)
    kr = frame[frame["symbol"] == "Кр"]
    assert kr["value"].iloc[0] == pytest.approx(0.1175731, abs=1e-7)
    flows = frame[(frame["symbol"] == "Gф") & (frame["station"] == "II")]
    assert list(flows["formula"]) == ["(6)", "(6)"]
    assert flows["value"].tolist() == pytest.approx([2684.0, 900 * 12 / 11])


def test_several_files_are_summed_by_territorial_unit(tmp_path: Path) -> None:
    out = runner.invoke(norms_app, ["coming-year", str(EXAMPLE), str(VARIANT), "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    units = data["units"]
    total = data["territorial_totals"][-1]
    assert total["territorial_unit"] == "TOTAL"
    assert total["coming_normative_energy_kwh"] == pytest.approx(
        sum(u["total_normative_energy_kwh"] for u in units)
    )
    out = runner.invoke(norms_app, ["past-year", str(EXAMPLE), str(EXAMPLE)])
    assert out.exit_code == 2
    assert "appear in more than one file" in out.output


def test_coming_year_table_and_output_file(tmp_path: Path) -> None:
    out = runner.invoke(norms_app, ["coming-year", str(EXAMPLE)])
    assert out.exit_code == 0, out.output
    assert "ΣЭн,пр (4.3) = 12,998,382 kWh" in out.output
    target = tmp_path / "coming.csv"
    out = runner.invoke(
        norms_app, ["coming-year", str(EXAMPLE), "--format", "csv", "--output", str(target)]
    )
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(target, keep_default_na=False)
    assert set(frame["table"].astype(str)) == {"4", "6"}
    eps = frame[frame["symbol"] == "ε"]["value"].iloc[0]
    assert eps == pytest.approx(0.37165, abs=1e-5)
    out = runner.invoke(norms_app, ["coming-year", str(EXAMPLE), "--output", str(target)])
    assert out.exit_code == 2
    assert "--output writes json or csv" in out.output


def test_characteristic() -> None:
    out = runner.invoke(
        norms_app,
        [
            "characteristic",
            str(EXAMPLE),
            "--station",
            "II",
            "--season",
            "summer",
            "--points",
            "5",
            "--format",
            "csv",
        ],
    )
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(io.StringIO(out.output))
    assert len(frame) == 5
    assert set(frame["regime"]) == {"1×СЭ-1250-140"}
    # N = G·H/(367·0.82·0.95) on the curve H = 164.7 − 1.423e-5·G²
    g = frame["flow_t_per_h"]
    expected = g * (164.7 - 1.423e-5 * g**2) / (367 * 0.82 * 0.95)
    assert frame["power_kw"].tolist() == pytest.approx(expected.tolist(), rel=1e-9)
    out = runner.invoke(norms_app, ["characteristic", str(EXAMPLE), "--station", "IV"])
    assert out.exit_code == 2
    assert "--station 'IV': unknown" in out.output
    out = runner.invoke(
        norms_app, ["characteristic", str(EXAMPLE), "--station", "I", "--season", "summer"]
    )
    assert out.exit_code == 2
    assert "station I: no summer characteristic" in out.output
    out = runner.invoke(norms_app, ["characteristic", str(EXAMPLE), "--station", "I"])
    assert out.exit_code == 0, out.output
    assert "1×СЭ-1250-70" in out.output


def test_report_html_with_a_plot_per_station(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    out = runner.invoke(norms_app, ["report", str(VARIANT), "--output", str(target)])
    assert out.exit_code == 0, out.output
    text = target.read_text(encoding="utf-8")
    svgs = re.findall(r"<svg.*?</svg>", text, re.S)
    assert len(svgs) == 3
    station_ii = next(s for s in svgs if "Station II" in s)
    assert station_ii.count("<polyline") == 2  # winter and summer N(G)
    assert station_ii.count("<circle") == 2 + 1  # design points + legend
    assert station_ii.count("<rect") == 1 + 2 + 1  # frame + actual points + legend
    assert "Past year (Table 3)" in text
    assert "Coming year (Tables 4 and 6)" in text
    assert "formula (7) cube" in text


def test_errors_exit_2_naming_the_field(tmp_path: Path) -> None:
    data = example_dict()
    data["past_year"]["auxiliary_factor"] = 1.08
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = runner.invoke(norms_app, ["past-year", str(bad)])
    assert out.exit_code == 2
    assert f"{bad}: past_year.auxiliary_factor: Input should be less than or equal to 1.05" in (
        out.output.replace("\n", "")
    )
    out = runner.invoke(norms_app, ["past-year", str(EXAMPLE), "--format", "xml"])
    assert out.exit_code == 2
    assert "--format 'xml'" in out.output
