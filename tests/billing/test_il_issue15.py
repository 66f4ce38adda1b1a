"""Israel (issue 15, seed 003): every table on the CLI, the private deal billing interval
data, Hebrew bills, the validity of the 2015 tariff and the 2015-2022 hour table."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from gridtwin.billing import bill, bill_for
from gridtwin.calendar import get_calendar
from gridtwin.cli import app
from gridtwin.errors import InputError
from gridtwin.ingest import write_intervals
from gridtwin.tariffs import get_tariff
from gridtwin.tariffs.il_analysis import load_tables_2015
from gridtwin.tariffs.il_private_deal import private_deal_mapping, private_deal_tariff
from gridtwin.workflows._israel import ISRAEL_TABLES, israel_level
from tests.billing.util import flat_data

runner = CliRunner()
D = dt.date
JULY = (D(2015, 7, 1), D(2015, 8, 1))


def _table(*args: str) -> list[dict[str, object]]:
    out = runner.invoke(app, ["tariffs", "revision", "--format", "json", *args])
    assert out.exit_code == 0, out.output
    rows: list[dict[str, object]] = json.loads(out.stdout)
    return rows


@pytest.mark.parametrize("table", list(ISRAEL_TABLES))
def test_every_seed_table_prints(table: str) -> None:
    rows = _table("--table", table)
    assert rows
    out = runner.invoke(app, ["tariffs", "revision", "--table", table])  # terminal table
    assert out.exit_code == 0, out.output


def test_published_cells_of_each_table() -> None:
    gen = _table("--table", "generation")[0]
    assert (
        gen["recognised_cost_new_agorot_per_kwh"],
        gen["weighted_tariff_new_agorot_per_kwh"],
    ) == (
        22.21,
        22.54,
    )
    assert gen["recognised_cost_change_percent"] == -8.94  # as published
    ehv = _table("--table", "system-management", "--level", "EHV")
    assert [r["residual_agorot_per_kwh"] for r in ehv[:3]] == [0.29, 0.28, 0.29]
    deal = _table("--table", "private-deal", "--level", "HV")[0]
    assert (deal["new_total_agorot_per_kwh"], deal["new_discount_agorot_per_kwh"]) == (28.59, 1.55)
    costs = {r["id"]: r["cost_million_ils"] for r in _table("--table", "recognised-costs")}
    assert costs["social_tariff"] == 244.924
    assert costs["renewables"] == 819.0
    assert len(costs) == 9


def test_losses_factors_at_the_seeds_precision() -> None:
    lv = _table("--table", "infrastructure", "--level", "LV")[0]
    assert lv["losses_factor_new_percent"] == 105.16  # not 1.05
    assert lv["infrastructure_change_percent"] == 26.53
    hv = _table("--table", "infrastructure", "--level", "HV")[0]
    assert hv["losses_factor_new_percent"] == 102.25
    assert hv["infrastructure_new_agorot_per_kwh"] is None  # not printed by the source
    sm = _table("--table", "system-management", "--level", "LV")[0]
    assert sm["losses_factor_percent"] == 105.16


def test_levels_are_named_as_bill_names_them() -> None:
    assert israel_level("LV") == "LV_general"
    assert israel_level("hv", "bulk") == "HV_bulk"
    assert israel_level("LV_bulk") == "LV_bulk"
    assert israel_level("EHV") == "EHV"
    with pytest.raises(InputError, match="contradict"):
        israel_level("LV_general", "bulk")
    with pytest.raises(InputError, match="use LV, HV or EHV"):
        israel_level("MV")
    out = runner.invoke(
        app,
        ["tariffs", "revision", "--table", "system-management", "--level", "LV", "--group", "bulk"],
    )
    assert out.exit_code == 2
    assert "LV, HV and EHV" in out.stderr


def _deal_by_hand(kwh: dict[str, float], level: str, fraction: float) -> float:
    """kWh per summer band x (TOU - fraction x recognised cost), agorot -> ILS."""
    t = load_tables_2015()
    return sum(
        e
        * (
            t.tou_new_agorot_per_kwh[level].value("summer", b)  # type: ignore[index]
            - fraction * t.generation_cost_new_agorot_per_kwh.value("summer", b)
        )
        / 100.0
        for b, e in kwh.items()
    )


@pytest.mark.parametrize("fraction", [0.07, 0.10, 0.0])
def test_private_deal_bills_interval_data(fraction: float) -> None:
    data = flat_data("2015-07-01", "2015-08-01", 0.25, tz="Asia/Jerusalem")
    deal = private_deal_tariff(fraction)
    result = bill(deal, data, periods=[JULY], customers={"voltage_level": "HV"})
    b = bill_for(result, 0, 0)
    kwh = {
        k.split("/")[1]: v for k, v in b.energy_by_band_kwh.items() if k.startswith("summer") and v
    }
    assert set(kwh) == {"off_peak", "shoulder", "peak"}
    net = _deal_by_hand(kwh, "HV_general", fraction)
    assert float(b.subtotals["energy"]) == pytest.approx(net, abs=0.035)  # 6 lines x half a cent
    assert b.total_unrounded == pytest.approx(net * 1.18, rel=1e-9)  # VAT 18 % in July 2015
    tou = bill_for(
        bill(get_tariff("il-tou-2015"), data, periods=[JULY], customers={"voltage_level": "HV"}),
        0,
        0,
    )
    saving = tou.total_unrounded - b.total_unrounded
    cost = load_tables_2015().generation_cost_new_agorot_per_kwh
    expected = sum(fraction * cost.value("summer", k) * e / 100.0 for k, e in kwh.items()) * 1.18
    assert saving == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_deal_command_compares_with_iec_tou(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write_intervals(flat_data("2015-07-01", "2015-08-01", 0.25, tz="Asia/Jerusalem"), path)
    out = runner.invoke(
        app,
        [
            "tariffs",
            "deal",
            "--data",
            str(path),
            "--prop",
            "voltage_level=EHV",
            "--discount-percent",
            "5",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [r["tariff_id"] for r in rows] == ["il-private-deal-2015-5pct", "il-tou-2015"]
    assert rows[0]["saving_vs_worst"] > 0
    out = runner.invoke(app, ["tariffs", "deal", "--data", str(path), "--discount-percent", "150"])
    assert out.exit_code == 2
    assert "between 0 and 100" in out.stderr


def test_shipped_deal_tariff_is_the_generated_one() -> None:
    text = resources.files("gridtwin.tariffs").joinpath("data", "il", "il_private_deal_2015.yaml")
    assert yaml.safe_load(text.read_text(encoding="utf-8")) == private_deal_mapping(0.07)
    with pytest.raises(InputError, match="--discount-percent"):
        private_deal_mapping(1.5)


def test_hebrew_bill_and_english_on_request(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write_intervals(flat_data("2015-07-01", "2015-08-01", 0.25, tz="Asia/Jerusalem"), path)
    base = ["bill", "--tariff", "il-tou-2015", "--data", str(path), "--prop", "voltage_level=LV"]
    he = runner.invoke(app, base)
    assert he.exit_code == 0, he.output
    assert "קיץ / שפל" in he.stdout
    assert "קיץ / פסגה" in he.stdout
    assert "גבע" in he.stdout
    assert "אנרגיה" in he.stdout  # section title in Hebrew
    en = runner.invoke(app, [*base, "--lang", "en"])
    assert en.exit_code == 0, en.output
    assert "summer / off-peak" in en.stdout
    assert "שפל" not in en.stdout
    assert "Energy" in en.stdout
    bad = runner.invoke(app, [*base, "--lang", "fr"])
    assert bad.exit_code == 2
    assert "it, en, he" in bad.stderr


def test_2015_tariff_does_not_bill_2025(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write_intervals(flat_data("2025-01-01", "2025-02-01", 0.25, tz="Asia/Jerusalem"), path)
    out = runner.invoke(
        app, ["bill", "--tariff", "il-tou-2015", "--data", str(path), "--prop", "voltage_level=LV"]
    )
    assert out.exit_code == 2
    assert "2025-01-01" in out.stderr
    assert "2016-01-01" in out.stderr  # where the tariff ends
    assert out.stdout == ""


def _hours(day: str) -> dict[str, float]:
    q = pd.Timedelta("15min")
    start = pd.Timestamp(day, tz="Asia/Jerusalem")
    idx = pd.date_range(start, start + pd.Timedelta(days=1), freq=q, inclusive="left")
    a = get_calendar("il-tou-2015").assign(idx, q, "tou")
    return a.hours_by_band(q)


def test_hour_table_of_the_two_sources() -> None:
    # transition Sunday-Thursday: peak 06-20, shoulder 20-22 (the assumed 17-20 / 09-17 row is gone)
    assert _hours("2015-03-10") == {"off_peak": 8.0, "shoulder": 2.0, "peak": 14.0}
    assert _hours("2015-03-13") == {"off_peak": 10.0, "shoulder": 14.0, "peak": 0.0}  # Friday
    assert _hours("2015-01-10") == {
        "off_peak": 20.0,
        "shoulder": 2.0,
        "peak": 2.0,
    }  # winter Saturday
    assert _hours("2015-07-11") == {
        "off_peak": 24.0,
        "shoulder": 0.0,
        "peak": 0.0,
    }  # summer Saturday
    assert np.isclose(sum(_hours("2015-12-01").values()), 24.0)
