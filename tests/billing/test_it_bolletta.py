"""Italian bills as ARERA's Bolletta 2.0 (issue 15, Italy): the crashes, the quadro
sintetico, readings and ricalcoli, bonus sociale and canone RAI, offer comparison.

The readings files are written here; they reproduce the traits of the bill in seed 001
(a domestic resident 3 kW supply read by band F1/F2/F3, with effettiva and stimata
readings, the layout of the Enel facsimile of the Switcho guide)."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridtwin.billing import bill, bill_band_totals, bill_for
from gridtwin.billing._it_bill import italian_bill, potenza_disponibile_kw
from gridtwin.cli import app
from gridtwin.cli._render_it_html import bolletta_html
from gridtwin.tariffs import get_tariff
from gridtwin.timeseries import IntervalData
from gridtwin.workflows.billing import read_price_series
from gridtwin.workflows.it_bill import ReadingsBills
from gridtwin.workflows.it_compare import ItalianComparison, bundled_series, readings_profile

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
FIXA = "it-offerta-fissa-monoraria-0136"
TRIO = "it-offerta-trioraria-esempio"
RES3 = {"resident": True, "contracted_kw": 3.0}
D = dt.date


def _readings(path: Path, rows: list[tuple[str, float, float, float, str]]) -> Path:
    """A readings CSV of POD IT001E00000001: (date, F1, F2, F3 index, kind) per row."""
    lines = ["pod,register,read_date,value_kwh,kind"]
    for day, f1, f2, f3, kind in rows:
        for reg, v in (("F1", f1), ("F2", f2), ("F3", f3)):
            lines.append(f"IT001E00000001,{reg},{day},{v},{kind}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: Jan actual, Feb and Mar estimated (too low), Apr actual: a conguaglio on the April bill.
CONGUAGLIO = [
    ("2025-01-01", 1000.0, 800.0, 1500.0, "actual"),
    ("2025-02-01", 1060.0, 850.0, 1590.0, "estimated"),
    ("2025-03-01", 1120.0, 900.0, 1680.0, "estimated"),
    ("2025-04-01", 1270.0, 1030.0, 1900.0, "actual"),
]


# --- the crashes -------------------------------------------------------------------------
def test_the_bundled_pun_file_reads_as_a_series_despite_its_comments() -> None:
    s = read_price_series(ROOT / "src/gridtwin/tariffs/data/it/pun.csv")
    assert len(s) == 24
    assert s.iloc[12] == 143.03  # January 2025
    f1 = read_price_series(ROOT / "src/gridtwin/tariffs/data/it/pun.csv", "F1")
    assert f1[pd.Timestamp("2025-01-01T00:00+01:00")] == 158.32


def test_the_shipped_monthly_pun_example_reads_as_a_series() -> None:
    path = ROOT / "examples/it/pun_monthly_2024_2025.csv"
    s = read_price_series(path)
    assert s.iloc[0] == 99.16
    assert len(s) == 24
    f3 = read_price_series(path, "pun_f3_eur_per_mwh")
    assert len(f3) == 23  # December 2024 has no band values
    assert f3.iloc[-1] == 104.52


@pytest.mark.parametrize(
    "series",
    ["src/gridtwin/tariffs/data/it/pun.csv", "examples/it/pun_monthly_2024_2025.csv"],
)
def test_compare_accepts_the_shipped_pun_files(tmp_path: Path, series: str) -> None:
    data = tmp_path / "d.csv"
    idx = pd.date_range("2025-01-01", "2025-02-01", freq="1h", tz="Europe/Rome", inclusive="left")
    pd.DataFrame(
        {"timestamp": idx.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"), "m0": 0.3}
    ).to_csv(data, index=False)
    out = runner.invoke(
        app,
        [
            "compare",
            "--tariff",
            "it-offerta-pun-0028",
            "--tariff",
            FIXA,
            "--data",
            str(data),
            "--series",
            f"PUN={ROOT / series}",
            "--prop",
            "resident=true",
            "--prop",
            "contracted_kw=3",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    pun = next(r for r in rows if r["tariff_id"] == "it-offerta-pun-0028")
    assert pun["total"] > 0


def test_a_readings_bill_has_no_nan_and_no_max_power(tmp_path: Path) -> None:
    path = _readings(tmp_path / "r.csv", CONGUAGLIO[:2])
    out = runner.invoke(
        app,
        [
            "bill",
            "--tariff",
            FIXA,
            "--readings",
            str(path),
            "--pod",
            "IT001E00000001",
            "--prop",
            "resident=true",
            "--prop",
            "contracted_kw=3",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "NaN" not in out.output
    bills = json.loads(out.output, parse_constant=lambda c: pytest.fail(f"JSON has {c}"))
    assert bills[0]["max_power_kw"] is None
    table = runner.invoke(
        app,
        [
            "bill",
            "--tariff",
            FIXA,
            "--readings",
            str(path),
            "--pod",
            "IT001E00000001",
            "--prop",
            "resident=true",
            "--prop",
            "contracted_kw=3",
        ],
    )
    assert table.exit_code == 0, table.output
    assert "nan" not in table.output.lower()
    assert "Potenza massima" not in table.output


def test_a_non_italian_readings_bill_has_no_nan(tmp_path: Path) -> None:
    b = bill_for(
        bill_band_totals(
            get_tariff(FIXA), {"F0": 100.0}, (D(2025, 1, 1), D(2025, 2, 1)), customers=RES3
        ),
        0,
    )
    assert b.max_power_kw is None
    text = json.dumps(b.to_dict(), allow_nan=False)
    assert '"max_power_kw": null' in text


# --- the Bolletta 2.0 layout -------------------------------------------------------------
def _month_bill(**props: object) -> object:
    t = get_tariff(FIXA)
    r = bill_band_totals(
        t,
        {"F1": 90.0, "F2": 60.0, "F3": 120.0},
        (D(2025, 3, 1), D(2025, 4, 1)),
        customers={**RES3, **props},
    )
    return bill_for(r, 0, 0)


def test_the_quadro_sintetico_has_five_sections_and_sums_to_the_total() -> None:
    b = italian_bill(_month_bill(), customers=RES3, pod="IT001E00000001")  # type: ignore[arg-type]
    rows = b.quadro()
    assert [r.key for r in rows] == ["energy", "network", "system", "taxes", "canone"]
    assert rows[0].title == "Spesa per la materia energia"
    assert rows[4].amount == Decimal("9.00")  # canone RAI 2025, March instalment
    assert sum(r.amount for r in rows) == b.total_to_pay == b.bill.total
    # IVA is 10 % of energy + network + system + accisa: the canone is outside it
    iva = next(ln for ln in b.bill.lines if ln.component_id == "iva")
    base = sum(r.amount for r in rows[:3]) + next(
        ln.amount for ln in b.bill.lines if ln.component_id == "accisa"
    )
    assert iva.amount == (base * Decimal("0.10")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert b.potenza_disponibile_kw == pytest.approx(3.3)
    assert b.customer_type == "domestico residente"
    assert b.due_date == D(2025, 4, 21)


def test_potenza_disponibile_follows_the_arera_rule() -> None:
    assert potenza_disponibile_kw(4.5) == pytest.approx(4.95)
    assert potenza_disponibile_kw(30.0) == pytest.approx(33.0)
    assert potenza_disponibile_kw(40.0) is None  # above 30 kW the distributor decides


def test_canone_rai_exemptions_and_bonus_sociale() -> None:
    plain = _month_bill()
    for exemption in ("esente_over75", "esente_senza_tv"):
        b = _month_bill(canone_rai=exemption)
        assert not any(ln.component_id == "canone_rai" for ln in b.lines)  # type: ignore[attr-defined]
        assert b.total == plain.total - Decimal("9.00")  # type: ignore[attr-defined]
    with_bonus = _month_bill(bonus_sociale=True, isee_eur=8000.0, household_size=3.0)
    bonus = [ln for ln in with_bonus.lines if ln.component_id.startswith("bonus")]  # type: ignore[attr-defined]
    assert [ln.component_id for ln in bonus] == ["bonus_sociale_3_4"]
    assert bonus[0].amount == Decimal(str(round(-219.00 * 31 / 365, 2)))
    iva = {ln.component_id: ln.amount for ln in with_bonus.lines if ln.is_tax}  # type: ignore[attr-defined]
    assert iva == {ln.component_id: ln.amount for ln in plain.lines if ln.is_tax}  # type: ignore[attr-defined]
    it = italian_bill(with_bonus, customers=RES3)  # type: ignore[arg-type]
    assert [r.key for r in it.quadro()][-1] == "bonus"
    too_rich = _month_bill(bonus_sociale=True, isee_eur=12000.0, household_size=3.0)
    assert not any(ln.component_id.startswith("bonus") for ln in too_rich.lines)  # type: ignore[attr-defined]
    warned = italian_bill(too_rich, customers={**RES3, "bonus_sociale": True})  # type: ignore[arg-type]
    assert any("ISEE" in w for w in warned.warnings)
    big_family = _month_bill(
        bonus_sociale=True, isee_eur=18000.0, household_size=6.0, figli_a_carico=4.0
    )
    assert [ln.component_id for ln in big_family.lines if ln.section == "other"] == [  # type: ignore[attr-defined]
        "canone_rai",
        "bonus_sociale_famiglia_numerosa",
    ]


def test_a_measured_peak_above_the_available_power_is_warned() -> None:
    idx = pd.date_range(
        "2025-03-01", "2025-04-01", freq="15min", tz="Europe/Rome", inclusive="left"
    )
    energy = np.full(len(idx), 0.05)
    energy[100] = 1.0  # 4 kW for 15 minutes
    data = IntervalData(idx.tz_convert("UTC"), energy[np.newaxis, :], ("m0",))
    b = bill_for(bill(get_tariff(FIXA), data, customers=RES3), 0, 0)
    it = italian_bill(b, customers=RES3)
    assert it.bill.max_power_kw == pytest.approx(4.0)
    assert any("supera la potenza disponibile" in w for w in it.warnings)
    calm = italian_bill(b, customers={**RES3, "contracted_kw": 4.5})
    assert calm.warnings == ()


def test_english_on_request_and_the_terminal_page(tmp_path: Path) -> None:
    path = _readings(tmp_path / "r.csv", CONGUAGLIO)
    base = [
        "bill",
        "--tariff",
        FIXA,
        "--readings",
        str(path),
        "--prop",
        "resident=true",
        "--prop",
        "contracted_kw=3",
    ]
    it = runner.invoke(app, base)
    assert it.exit_code == 0, it.output
    for text in (
        "Quadro sintetico",
        "Spesa per oneri di sistema",
        "Potenza disponibile",
        "3,3 kW",
        "Canone di abbonamento alla televisione",
        "Dettaglio letture",
        "stimata",
        "effettiva",
        "Ricalcolo periodo 01/01/2025–31/01/2025",
        "Totale da pagare",
        "IT001E00000001",
    ):
        assert text in it.output, text
    en = runner.invoke(app, [*base, "--lang", "en"])
    assert en.exit_code == 0, en.output
    for text in ("Total to pay", "Available power", "3.3 kW", "estimated"):
        assert text in en.output, text
    assert "Totale da pagare" not in en.output


# --- readings, ricalcoli, history -------------------------------------------------------
def test_an_actual_reading_recomputes_the_estimated_periods(tmp_path: Path) -> None:
    path = _readings(tmp_path / "r.csv", CONGUAGLIO)
    bills = ReadingsBills(FIXA, path, customers=RES3).run()
    assert [(b.bill.period_from, b.bill.period_to) for b in bills] == [
        (D(2025, 1, 1), D(2025, 2, 1)),
        (D(2025, 2, 1), D(2025, 3, 1)),
        (D(2025, 3, 1), D(2025, 4, 1)),
    ]
    assert bills[0].ricalcoli == ()
    assert bills[1].ricalcoli == ()
    last = bills[2]
    assert [(r.period_from, r.period_to) for r in last.ricalcoli] == [
        (D(2025, 1, 1), D(2025, 2, 1)),
        (D(2025, 2, 1), D(2025, 3, 1)),
    ]
    # 90 days between the actual readings; January has 31 of them
    jan = last.ricalcoli[0]
    assert jan.billed_kwh == {"F1": 60.0, "F2": 50.0, "F3": 90.0}
    assert jan.corrected_kwh["F1"] == pytest.approx(270.0 * 31 / 90)
    assert jan.amount > 0  # the estimates were too low
    corrected_total = sum(sum(r.corrected_kwh.values()) for r in last.ricalcoli)
    assert corrected_total + last.bill.energy_kwh == pytest.approx(270.0 + 230.0 + 400.0)
    # each ricalcolo is the difference of the two bills of that period
    again = bill_for(
        bill_band_totals(
            get_tariff(FIXA), jan.corrected_kwh, (D(2025, 1, 1), D(2025, 2, 1)), customers=RES3
        ),
        0,
    )
    assert jan.corrected_total == again.total
    it = italian_bill(
        last.bill,
        customers=RES3,
        ricalcoli=last.ricalcoli,
        readings=last.readings,
        history=last.history,
    )
    assert it.quadro()[-1].key == "ricalcoli"
    assert it.total_to_pay == last.bill.total + sum(r.amount for r in last.ricalcoli)
    assert [r.kind for r in it.readings] == ["actual", "estimated", "estimated", "actual"]
    assert sum(k for _m, k in it.history) == pytest.approx(900.0)
    assert it.annual_kwh is None  # three months of history


def test_a_year_of_readings_gives_the_annual_consumption(tmp_path: Path) -> None:
    rows = [
        (f"{2025 + (m // 12)}-{m % 12 + 1:02d}-01", 100.0 * m, 80.0 * m, 150.0 * m, "actual")
        for m in range(13)
    ]
    path = _readings(tmp_path / "r.csv", rows)
    bills = ReadingsBills(TRIO, path, customers=RES3).run()
    assert len(bills) == 12
    last = bills[-1]
    it = italian_bill(last.bill, customers=RES3, history=last.history)
    assert len(it.history) == 12
    assert it.annual_kwh == pytest.approx(12 * 330.0)
    page = bolletta_html([it])
    assert page.count("class='bar'") == 12
    assert "Consumo annuo" in page
    assert "3.960 kWh" in page


def test_html_and_pdf_pages(tmp_path: Path) -> None:
    path = _readings(tmp_path / "r.csv", CONGUAGLIO)
    target = tmp_path / "bolletta.html"
    out = runner.invoke(
        app,
        [
            "bill",
            "--tariff",
            FIXA,
            "--readings",
            str(path),
            "--prop",
            "resident=true",
            "--prop",
            "contracted_kw=3",
            "--address",
            "Via Roma 1, Torino",
            "--output",
            str(target),
        ],
    )
    assert out.exit_code == 0, out.output
    page = target.read_text(encoding="utf-8")
    assert page.count("<section class='bill'>") == 3
    assert "Via Roma 1, Torino" in page
    assert "Ricalcolo periodo" in page
    assert "<svg" in page
    assert "nan" not in page.lower().replace("nanna", "")


def test_a_bill_pdf_is_printed_when_a_browser_is_there(tmp_path: Path) -> None:
    from gridtwin.quality.report import find_browser

    if find_browser() is None:
        pytest.skip("no headless Chromium on this machine")
    path = _readings(tmp_path / "r.csv", CONGUAGLIO[:2])
    target = tmp_path / "bolletta.pdf"
    out = runner.invoke(
        app,
        [
            "bill",
            "--tariff",
            FIXA,
            "--readings",
            str(path),
            "--prop",
            "resident=true",
            "--prop",
            "contracted_kw=3",
            "--output",
            str(target),
        ],
    )
    assert out.exit_code == 0, out.output
    assert target.read_bytes()[:4] == b"%PDF"


# --- the offer comparison ----------------------------------------------------------------
SEED_OFFERS = [
    "it-offerta-fissa-monoraria-0136",
    "it-offerta-pun-0028",
    "it-offerta-pun-0000",
    "it-tutela-vulnerabili-2025",
]


def test_readings_rebuild_the_band_totals_hour_by_hour(tmp_path: Path) -> None:
    path = _readings(tmp_path / "r.csv", CONGUAGLIO)
    data, periods = readings_profile(path)
    assert periods[0] == (D(2025, 1, 1), D(2025, 2, 1))
    assert data.energy_kwh.sum() == pytest.approx(270.0 + 230.0 + 400.0)
    b = bill_for(bill(get_tariff(TRIO), data, customers=RES3), 0, 0)
    assert b.energy_by_band_kwh == pytest.approx({"F1": 60.0, "F2": 50.0, "F3": 90.0})


def test_offers_are_ranked_from_readings_with_eligibility(tmp_path: Path) -> None:
    path = _readings(tmp_path / "r.csv", CONGUAGLIO)
    c = ItalianComparison(SEED_OFFERS, readings=path, customers=RES3).run()
    table = c.table
    assert set(table["tariff_id"]) == set(SEED_OFFERS)
    assert list(table["eligible"]) == [True, True, True, False]
    assert table["tariff_id"].iloc[-1] == "it-tutela-vulnerabili-2025"
    assert "vulnerabili" in table["note"].iloc[-1]
    assert list(table["total"].iloc[:3]) == sorted(table["total"].iloc[:3])
    assert table["extra_vs_best"].iloc[0] == 0.0
    assert any("bundled monthly PUN" in n for n in c.notes)
    vulnerable = ItalianComparison(
        SEED_OFFERS, readings=path, customers=RES3, vulnerable=True
    ).run()
    assert vulnerable.table["eligible"].all()
    # the market offers carry the same regulated lines as the tutela
    totals = dict(zip(table["tariff_id"], table["total"], strict=True))
    assert all(math.isfinite(v) and v > 0 for v in totals.values())


def test_pun_offers_are_priced_with_the_bundled_pun(tmp_path: Path) -> None:
    t = get_tariff("it-offerta-pun-0000")
    series, notes = bundled_series([t])
    assert set(series) == {"PUN"}
    assert notes
    idx = pd.date_range("2025-01-01", "2025-02-01", freq="1h", tz="Europe/Rome", inclusive="left")
    data = IntervalData(idx.tz_convert("UTC"), np.full((1, len(idx)), 0.5), ("m0",))
    b = bill_for(bill(t, data, customers=RES3, series=series), 0, 0)
    pun = next(ln for ln in b.lines if ln.component_id == "energia_pun")
    assert float(pun.amount) == pytest.approx(744 * 0.5 * 0.14303, abs=0.01)
    hourly = bundled_series([], {})[0]
    assert hourly == {}


def test_the_hourly_pun_by_band_takes_each_hour_s_band() -> None:
    from gridtwin.workflows.it_compare import _pun_by_band_hourly, _pun_frame

    s = _pun_by_band_hourly(_pun_frame())
    rome = s.index.tz_convert("Europe/Rome")
    wed_noon = s[(rome.date == D(2025, 1, 8)) & (rome.hour == 12)]
    sunday = s[(rome.date == D(2025, 1, 12)) & (rome.hour == 12)]
    saturday = s[(rome.date == D(2025, 1, 11)) & (rome.hour == 12)]
    assert list(wed_noon) == [158.32]
    assert list(sunday) == [128.54]
    assert list(saturday) == [151.61]


def test_compare_from_readings_on_the_command_line(tmp_path: Path) -> None:
    path = _readings(tmp_path / "r.csv", CONGUAGLIO)
    args = [
        "compare",
        *[a for o in SEED_OFFERS for a in ("--tariff", o)],
        "--readings",
        str(path),
        "--prop",
        "resident=true",
        "--prop",
        "contracted_kw=3",
    ]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "│ – │ it-tutela" in out.output  # shown, not ranked
    assert "2024-01 to 2025-12" in out.output  # the bundled PUN
    rows = json.loads(runner.invoke(app, [*args, "--format", "json"]).output)
    assert [r["tariff_id"] for r in rows][-1] == "it-tutela-vulnerabili-2025"
    assert rows[-1]["eligible"] is False
    assert rows[-1]["note"].startswith("solo clienti vulnerabili")


def test_one_period_asked_for_still_carries_the_earlier_ricalcoli(tmp_path: Path) -> None:
    path = _readings(tmp_path / "r.csv", CONGUAGLIO)
    whole = ReadingsBills(FIXA, path, customers=RES3).run()[-1]
    (march,) = ReadingsBills(
        FIXA, path, periods=[(D(2025, 3, 1), D(2025, 4, 1))], customers=RES3
    ).run()
    assert march.ricalcoli == whole.ricalcoli
    assert len(march.ricalcoli) == 2
    assert march.bill.total == whole.bill.total
    assert not any("ESTIMATED" in n for n in march.bill.notes)  # its start was corrected
    # 31 of the 90 days between the actual readings of 1 January and 1 April
    assert march.kwh_by_register == pytest.approx(
        {"F1": 93.0, "F2": 230 * 31 / 90, "F3": 400 * 31 / 90}
    )
    out = runner.invoke(
        app,
        [
            "bill",
            "--tariff",
            FIXA,
            "--readings",
            str(path),
            "--period",
            "2025-03-01:2025-04-01",
            "--prop",
            "resident=true",
            "--prop",
            "contracted_kw=3",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    (doc,) = json.loads(out.output)
    assert [r["period_from"] for r in doc["bolletta"]["ricalcoli"]] == ["2025-01-01", "2025-02-01"]
    assert set(doc["bolletta"]["billed_kwh_by_band"]) == {"F1", "F2", "F3"}
