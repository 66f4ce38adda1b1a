"""Italian domestic bills under the built-in library, checked against hand computations.

The expected values are computed here from the published numbers (copied below as
constants, with the file they must match) and from an independent F1/F2/F3 classifier,
never from the engine's own intermediate results. Changing a price in the library makes
these tests fail on purpose: update the constant and its source together.
"""

from __future__ import annotations

import calendar as pycal
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridtwin.billing import BillingResult, bill, bill_for, month_periods
from gridtwin.errors import InputError
from gridtwin.tariffs import get_tariff, tariff_from_dict
from gridtwin.timeseries import IntervalData

TZ = "Europe/Rome"
STEP = pd.Timedelta("15min")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "it"
RESIDENT_3KW = {"resident": True, "contracted_kw": 3.0}

# --- published values, as in src/gridtwin/tariffs/data/it/*.yaml ----------------------
# it-tutela-vulnerabili-2025: PE by quarter (F1, F23), PD+PPE, PCV
PE_Q1 = {"F1": 0.1589, "F23": 0.1397}
PE_Q2_ON = {"F1": 0.1525, "F23": 0.1340}
DISPACCIAMENTO_EUR_PER_KWH = 0.0204
PCV_EUR_PER_YEAR = 41.40
# it-arera-network-domestic, 2025
TRASPORTO_FISSA_EUR_PER_YEAR = 23.04
TRASPORTO_POTENZA_EUR_PER_KW_YEAR = 23.72
TRASPORTO_ENERGIA_EUR_PER_KWH = 0.014730
ASOS_EUR_PER_KWH = 0.029677
ARIM_EUR_PER_KWH = 0.002511
ONERI_FISSA_NON_RESIDENT_EUR_PER_YEAR = 90.642
# it-taxes-domestic
ACCISA_EUR_PER_KWH = 0.0227
IVA = Decimal("0.10")
RAI_EUR_PER_MONTH = {2024: 7.0, 2025: 9.0}
# market offers
FISSA_EUR_PER_KWH, FISSA_EUR_PER_MONTH = 0.136, 18.0
PUN_SPREAD_EUR_PER_KWH, PUN_FEE_EUR_PER_MONTH = 0.028, 22.0
TRIO_EUR_PER_KWH = {"F1": 0.148, "F2": 0.138, "F3": 0.120}
TRIO_EUR_PER_MONTH = 12.0

FIXED_HOLIDAYS = (
    (1, 1),
    (1, 6),
    (4, 25),
    (5, 1),
    (6, 2),
    (8, 15),
    (11, 1),
    (12, 8),
    (12, 25),
    (12, 26),
)
EASTER_MONDAY = {2024: dt.date(2024, 4, 1), 2025: dt.date(2025, 4, 21)}


# --- independent helpers ----------------------------------------------------------------
def local_index(start: str, end: str, step: pd.Timedelta = STEP) -> pd.DatetimeIndex:
    """UTC interval starts covering the local dates [start, end)."""
    first = pd.Timestamp(start).tz_localize(TZ).tz_convert("UTC")
    last = pd.Timestamp(end).tz_localize(TZ).tz_convert("UTC")
    return pd.date_range(first, last, freq=step, inclusive="left")


def reference_bands(idx: pd.DatetimeIndex) -> np.ndarray:
    """F1/F2/F3 of each interval from the delibera 181/06 text, in local wall time."""
    local = idx.tz_convert(TZ)
    hour, dow = local.hour.to_numpy(), local.dayofweek.to_numpy()
    dates = [ts.date() for ts in local]
    hol = {dt.date(y, m, d) for y in {x.year for x in dates} for m, d in FIXED_HOLIDAYS}
    hol |= set(EASTER_MONDAY.values())
    holiday = np.array([d in hol for d in dates])
    weekday, saturday = (dow <= 4) & ~holiday, (dow == 5) & ~holiday
    f1 = weekday & (hour >= 8) & (hour < 19)
    f2 = (weekday & ((hour == 7) | ((hour >= 19) & (hour < 23)))) | (
        saturday & (hour >= 7) & (hour < 23)
    )
    return np.where(f1, "F1", np.where(f2, "F2", "F3"))


def household(
    start: str, end: str, total_kwh: float | list[float], seed: int = 7, step: pd.Timedelta = STEP
) -> IntervalData:
    """A realistic household shape (night base, morning and evening peaks, weekend days,
    winter rise, deterministic noise), scaled to exactly ``total_kwh`` per meter."""
    idx = local_index(start, end, step)
    local = idx.tz_convert(TZ)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
    weekend = local.dayofweek.to_numpy() >= 5
    doy = local.dayofyear.to_numpy()
    shape = (
        0.30
        + 0.55 * np.exp(-((hour - 7.5) ** 2) / 2.0)
        + 1.0 * np.exp(-((hour - 20.5) ** 2) / 4.0)
        + np.where(weekend & (hour > 10) & (hour < 17), 0.35, 0.0)
    )
    shape = shape * (1.0 + 0.22 * np.cos(2.0 * np.pi * (doy - 15) / 365.0))
    totals = np.atleast_1d(np.asarray(total_kwh, dtype=float))
    rng = np.random.default_rng(seed)
    rows = []
    for total in totals:
        noisy = shape * rng.uniform(0.7, 1.3, len(idx))
        rows.append(noisy / noisy.sum() * total)
    return IntervalData(idx, np.vstack(rows), tuple(f"m{i}" for i in range(len(totals))))


def flat_months(year: int, monthly_kwh: list[list[float]]) -> IntervalData:
    """Meters consuming a given amount in each month of ``year``, spread evenly."""
    idx = local_index(f"{year}-01-01", f"{year + 1}-01-01")
    month = idx.tz_convert(TZ).month.to_numpy()
    counts = np.bincount(month, minlength=13)
    rows = [
        np.asarray(per_month, dtype=float)[month - 1] / counts[month] for per_month in monthly_kwh
    ]
    return IntervalData(idx, np.vstack(rows), tuple(f"m{i}" for i in range(len(rows))))


def money(x: float | Decimal) -> Decimal:
    """Half-up rounding to cents, as printed on a bill."""
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def excise_taxable(c_kwh: float, resident: bool, contracted_kw: float, share: float = 1.0) -> float:
    """Taxable kWh of one month (TUA Tabella A, CIP 15/1993 claw-back), pro-rated share."""
    if not resident or contracted_kw > 3.0:
        return c_kwh
    exempt = 150.0 * share
    clawback_from = (150.0 if contracted_kw <= 1.5 else 220.0) * share
    if c_kwh <= clawback_from:
        return max(0.0, c_kwh - exempt)
    return c_kwh - max(0.0, exempt - (c_kwh - clawback_from))


def line_index(result: BillingResult, component_id: str, period: int | None = None) -> list[int]:
    return [
        i
        for i, s in enumerate(result.lines)
        if s.component_id == component_id and (period is None or s.period == period)
    ]


def total_of(
    result: BillingResult, component_id: str, meter: int = 0, what: str = "amount"
) -> float:
    arr = result.amount if what == "amount" else result.quantity
    return float(sum(arr[meter, i] for i in line_index(result, component_id)))


# --- 1. full-year bill of the ARERA reference customer, every line by hand -----------------
def _expected_month(
    month: int, kwh: dict[str, float]
) -> dict[tuple[str, str | None], tuple[float, float]]:
    """(component, band) -> (quantity, unrounded amount) for one 2025 monthly bill."""
    days = pycal.monthrange(2025, month)[1]
    total = kwh["F1"] + kwh["F23"]
    pe = PE_Q1 if month <= 3 else PE_Q2_ON
    out: dict[tuple[str, str | None], tuple[float, float]] = {
        ("pe", "F1"): (kwh["F1"], kwh["F1"] * pe["F1"]),
        ("pe", "F23"): (kwh["F23"], kwh["F23"] * pe["F23"]),
        ("dispacciamento", None): (total, total * DISPACCIAMENTO_EUR_PER_KWH),
        ("pcv", None): (days, PCV_EUR_PER_YEAR * days / 365),
        ("trasporto_quota_fissa", None): (days, TRASPORTO_FISSA_EUR_PER_YEAR * days / 365),
        ("trasporto_quota_potenza", None): (
            3.0,
            3.0 * TRASPORTO_POTENZA_EUR_PER_KW_YEAR * days / 365,
        ),
        ("trasporto_quota_energia", None): (total, total * TRASPORTO_ENERGIA_EUR_PER_KWH),
        ("oneri_asos", None): (total, total * ASOS_EUR_PER_KWH),
        ("oneri_arim", None): (total, total * ARIM_EUR_PER_KWH),
    }
    if month <= 10:
        out[("canone_rai", None)] = (1.0, RAI_EUR_PER_MONTH[2025])
    taxable = excise_taxable(total, resident=True, contracted_kw=3.0)
    if taxable > 0:
        out[("accisa", None)] = (taxable, taxable * ACCISA_EUR_PER_KWH)
    return out


@pytest.fixture(scope="module")
def reference_year() -> tuple[IntervalData, BillingResult]:
    data = household("2025-01-01", "2026-01-01", 2000.0)
    periods = month_periods(dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    result = bill(
        get_tariff("it-tutela-vulnerabili-2025"), data, periods=periods, customers=RESIDENT_3KW
    )
    return data, result


def test_reference_profile_is_2000_kwh(reference_year: tuple[IntervalData, BillingResult]) -> None:
    data, _ = reference_year
    assert data.energy_kwh.sum() == pytest.approx(2000.0, rel=1e-12)
    assert len(data.start_utc) == 365 * 96


@pytest.mark.parametrize("month", range(1, 13))
def test_reference_year_every_line_by_hand(
    reference_year: tuple[IntervalData, BillingResult], month: int
) -> None:
    data, result = reference_year
    period = month - 1
    in_month = data.start_utc.tz_convert(TZ).month == month
    bands = reference_bands(data.start_utc)
    e = data.energy_kwh[0]
    kwh = {
        "F1": float(e[in_month & (bands == "F1")].sum()),
        "F23": float(e[in_month & (bands != "F1")].sum()),
    }
    expected = _expected_month(month, kwh)

    got = {
        (s.component_id, s.band): (float(result.quantity[0, i]), float(result.amount[0, i]))
        for i, s in enumerate(result.lines)
        if s.period == period and result.applies[0, i]
    }
    iva = got.pop(("iva", None))
    assert set(got) == set(expected)
    for key, (qty, amount) in expected.items():
        assert got[key][0] == pytest.approx(qty, rel=1e-9, abs=1e-9), key
        assert got[key][1] == pytest.approx(amount, rel=1e-9, abs=1e-9), key

    # presented bill: each line rounded half-up, VAT on the presented base
    b = bill_for(result, 0, period)
    assert (b.period_from, b.period_to) == (
        dt.date(2025, month, 1),
        (dt.date(2025, month, 1) + dt.timedelta(days=32)).replace(day=1),
    )
    printed = {(ln.component_id, ln.band): ln.amount for ln in b.lines}
    for key, (_, amount) in expected.items():
        assert printed[key] == money(amount), key
    base = sum(
        (money(a) for (cid, _), (_, a) in expected.items() if cid not in ("canone_rai",)),
        Decimal("0"),
    )
    assert iva[0] == pytest.approx(
        sum(a for (cid, _), (_, a) in expected.items() if cid != "canone_rai"), rel=1e-12
    )
    assert b.tax_bases["iva"] == base
    assert printed[("iva", None)] == money(base * IVA)

    sections = {
        "energy": ["pe", "dispacciamento", "pcv"],
        "network": ["trasporto_quota_fissa", "trasporto_quota_potenza", "trasporto_quota_energia"],
        "system": ["oneri_asos", "oneri_arim"],
        "taxes": ["accisa", "iva"],
        "other": ["canone_rai"],
    }
    for section, ids in sections.items():
        want = sum((amt for (cid, _), amt in printed.items() if cid in ids), Decimal("0"))
        assert b.subtotals.get(section, Decimal("0")) == want, section
    assert b.total == sum(printed.values(), Decimal("0"))
    assert b.total == sum(b.subtotals.values(), Decimal("0"))
    assert Decimal(str(result.presented_totals()[0, period])) == b.total
    assert b.energy_by_band_kwh == pytest.approx(kwh, rel=1e-12)
    assert any("Provisional tariff data" in n for n in b.notes)


def test_printed_vat_base_is_the_sum_of_printed_base_lines(
    reference_year: tuple[IntervalData, BillingResult],
) -> None:
    """The printed IVA base is what the printed IVA is 10 % of (in April 2025 the rounded
    unrounded base would differ from the sum of the printed lines by 0.01)."""
    _, result = reference_year
    for period in range(12):
        b = bill_for(result, 0, period)
        base = sum(
            (
                ln.amount
                for ln in b.lines
                if ln.section in ("energy", "network", "system") or ln.component_id == "accisa"
            ),
            Decimal("0"),
        )
        assert b.tax_bases["iva"] == base, period


def test_reference_year_totals(reference_year: tuple[IntervalData, BillingResult]) -> None:
    """Year totals: 10 RAI instalments, every quarter's PE applied to its own months."""
    _, result = reference_year
    assert total_of(result, "canone_rai") == pytest.approx(90.0)
    assert total_of(result, "canone_rai", what="quantity") == pytest.approx(10.0)
    assert total_of(result, "pcv") == pytest.approx(PCV_EUR_PER_YEAR, rel=1e-12)
    assert total_of(result, "trasporto_quota_potenza") == pytest.approx(
        3 * TRASPORTO_POTENZA_EUR_PER_KW_YEAR, rel=1e-12
    )
    assert total_of(result, "oneri_quota_fissa") == 0.0
    q1_prices = {
        result.lines[i].unit_price for i in line_index(result, "pe") if result.lines[i].period < 3
    }
    later_prices = {
        result.lines[i].unit_price for i in line_index(result, "pe") if result.lines[i].period >= 3
    }
    assert q1_prices == set(PE_Q1.values())
    assert later_prices == set(PE_Q2_ON.values())


# --- 2. the excise relief -------------------------------------------------------------------
MONTHLY_C = [0, 150, 151, 220, 221, 300, 369, 370, 400]
# hand-computed taxable kWh of a whole month
TAXABLE_RESIDENT_3KW = [0, 0, 1, 70, 72, 230, 368, 370, 400]
TAXABLE_RESIDENT_1_5KW = [0, 0, 2, 140, 142, 300, 369, 370, 400]
PROFILES = [(True, 3.0), (True, 3.5), (False, 3.0), (True, 1.5)]


def _excise_run(start: str, end: str) -> tuple[BillingResult, list[tuple[float, bool, float]]]:
    cases = [(c, res, kw) for res, kw in PROFILES for c in MONTHLY_C]
    idx = local_index(start, end)
    energy = np.vstack([np.full(len(idx), c / len(idx)) for c, _, _ in cases])
    data = IntervalData(idx, energy, tuple(f"m{i}" for i in range(len(cases))))
    result = bill(
        get_tariff("it-tutela-vulnerabili-2025"),
        data,
        periods=[(dt.date.fromisoformat(start), dt.date.fromisoformat(end))],
        customers={"resident": [c[1] for c in cases], "contracted_kw": [c[2] for c in cases]},
    )
    return result, cases


def test_excise_whole_month_thresholds() -> None:
    result, cases = _excise_run("2025-01-01", "2025-02-01")
    (li,) = line_index(result, "accisa")
    taxable = result.quantity[:, li]
    expected = {
        (True, 3.0): TAXABLE_RESIDENT_3KW,
        (True, 3.5): MONTHLY_C,
        (False, 3.0): MONTHLY_C,
        (True, 1.5): TAXABLE_RESIDENT_1_5KW,
    }
    for m, (c, res, kw) in enumerate(cases):
        want = expected[(res, kw)][MONTHLY_C.index(c)]
        assert taxable[m] == pytest.approx(want, abs=1e-9), (c, res, kw)
        assert taxable[m] == pytest.approx(excise_taxable(c, res, kw), abs=1e-9)
        assert result.amount[m, li] == pytest.approx(want * ACCISA_EUR_PER_KWH, abs=1e-9)


def test_excise_clawback_formula_above_220() -> None:
    """taxable = C - max(0, 150 - (C - 220)) for a resident 3 kW supply above 220 kWh."""
    result, cases = _excise_run("2025-01-01", "2025-02-01")
    (li,) = line_index(result, "accisa")
    for m, (c, res, kw) in enumerate(cases):
        if res and kw == 3.0 and c > 220:
            assert result.quantity[m, li] == pytest.approx(c - max(0, 150 - (c - 220)))


def test_excise_partial_month_prorates_thresholds() -> None:
    """28 days of January: exempt 150 x 28/31 kWh, claw-back from 220 x 28/31 kWh."""
    result, cases = _excise_run("2025-01-01", "2025-01-29")
    (li,) = line_index(result, "accisa")
    share = 28 / 31
    for m, (c, res, kw) in enumerate(cases):
        assert result.quantity[m, li] == pytest.approx(
            excise_taxable(c, res, kw, share), abs=1e-9
        ), (c, res, kw)
    resident_3kw = {
        c: result.quantity[m, li] for m, (c, res, kw) in enumerate(cases) if res and kw == 3.0
    }
    assert resident_3kw[150] == pytest.approx(150 - 150 * 28 / 31)  # 14.516 kWh
    assert resident_3kw[221] == pytest.approx(221 - (150 * share - (221 - 220 * share)))
    assert resident_3kw[400] == pytest.approx(400)


@pytest.mark.parametrize(
    ("annual_kwh", "taxable_kwh"),
    [
        (1800.0, 0.0),  # 150 kWh a month: all exempt
        (1812.0, 12.0),  # 151 kWh a month: 1 kWh a month taxed
        (2640.0, 840.0),  # 220 kWh a month: 70 kWh taxed, relief intact
        (3600.0, 2760.0),  # 300 kWh a month: 230 kWh taxed
        (4440.0, 4440.0),  # 370 kWh a month: relief gone
        (5000.0, 5000.0),
    ],
)
def test_excise_annual_thresholds_flat_consumption(annual_kwh: float, taxable_kwh: float) -> None:
    data = flat_months(2025, [[annual_kwh / 12] * 12])
    result = bill(
        get_tariff("it-tutela-vulnerabili-2025"),
        data,
        periods=[(dt.date(2025, 1, 1), dt.date(2026, 1, 1))],
        customers=RESIDENT_3KW,
    )
    assert total_of(result, "accisa", what="quantity") == pytest.approx(taxable_kwh, abs=1e-6)
    assert total_of(result, "accisa") == pytest.approx(taxable_kwh * ACCISA_EUR_PER_KWH, abs=1e-8)


# --- 3. VAT base and canone RAI --------------------------------------------------------------
def test_vat_base_includes_excise_excludes_rai() -> None:
    data = flat_months(2025, [[300.0] * 12])
    result = bill(
        get_tariff("it-tutela-vulnerabili-2025"),
        data,
        periods=[(dt.date(2025, 2, 1), dt.date(2025, 3, 1))],
        customers=RESIDENT_3KW,
    )
    (li_iva,) = line_index(result, "iva")
    by_id = {s.component_id: result.amount[0, i] for i, s in enumerate(result.lines)}
    base = sum(
        result.amount[0, i]
        for i, s in enumerate(result.lines)
        if s.section in ("energy", "network", "system")
    )
    assert by_id["accisa"] > 0
    assert by_id["canone_rai"] == 9.0
    assert result.quantity[0, li_iva] == pytest.approx(base + by_id["accisa"], rel=1e-12)
    assert result.amount[0, li_iva] == pytest.approx(0.10 * (base + by_id["accisa"]))

    b = bill_for(result, 0, 0)
    printed = {ln.component_id: ln.amount for ln in b.lines if ln.band is None}
    want_base = (
        b.subtotals["energy"] + b.subtotals["network"] + b.subtotals["system"] + printed["accisa"]
    )
    assert b.tax_bases["iva"] == want_base
    assert printed["iva"] == money(want_base * IVA)
    assert b.subtotals["other"] == Decimal("9.00")


@pytest.mark.parametrize(
    ("start", "end", "instalments"),
    [
        ("2025-01-01", "2026-01-01", 10),
        ("2025-01-01", "2025-03-01", 2),  # bimonthly Jan-Feb
        ("2025-11-01", "2026-01-01", 0),  # bimonthly Nov-Dec
        ("2025-01-15", "2025-03-15", 2),  # 1 Feb and 1 Mar are billed, 1 Jan is not
        ("2025-10-01", "2025-12-01", 1),
    ],
)
def test_canone_rai_instalments_2025(start: str, end: str, instalments: int) -> None:
    data = flat_months(2025, [[200.0] * 12, [200.0] * 12])
    result = bill(
        get_tariff("it-tutela-vulnerabili-2025"),
        data,
        periods=[(dt.date.fromisoformat(start), dt.date.fromisoformat(end))],
        customers={"resident": [True, False], "contracted_kw": 3.0},
    )
    assert total_of(result, "canone_rai", 0, "quantity") == instalments
    assert total_of(result, "canone_rai", 0) == pytest.approx(9.0 * instalments)
    assert total_of(result, "canone_rai", 1) == 0.0
    assert not any(result.applies[1, i] for i in line_index(result, "canone_rai"))


def test_canone_rai_monthly_bills_sum_to_90_eur() -> None:
    data = flat_months(2025, [[180.0] * 12])
    result = bill(
        get_tariff("it-tutela-vulnerabili-2025"),
        data,
        periods=month_periods(dt.date(2025, 1, 1), dt.date(2026, 1, 1)),
        customers=RESIDENT_3KW,
    )
    per_month = [total_of_period(result, "canone_rai", p) for p in range(12)]
    assert per_month == [9.0] * 10 + [0.0, 0.0]


def total_of_period(result: BillingResult, component_id: str, period: int) -> float:
    return float(sum(result.amount[0, i] for i in line_index(result, component_id, period)))


def _test_tariff_2024() -> dict[str, object]:
    """A user tariff of 2024 that includes the built-in Italian tax set."""
    return {
        "schema": "gridtwin.tariff/1",
        "id": "test-it-2024",
        "name": "test 2024",
        "jurisdiction": "IT",
        "currency": "EUR",
        "language": "it",
        "source": {"title": "test"},
        "calendar": "it-arera-181-06",
        "includes": ["it-taxes-domestic"],
        "versions": [
            {
                "valid_from": "2024-01-01",
                "valid_to": "2025-01-01",
                "components": [
                    {
                        "id": "energia",
                        "kind": "energy",
                        "section": "energy",
                        "label": "Energia",
                        "unit": "EUR/kWh",
                        "rates": 0.10,
                    }
                ],
            }
        ],
    }


def test_canone_rai_2024_is_70_eur() -> None:
    tariff = tariff_from_dict(_test_tariff_2024())
    data = flat_months(2024, [[200.0] * 12])
    result = bill(
        tariff, data, periods=[(dt.date(2024, 1, 1), dt.date(2025, 1, 1))], customers=RESIDENT_3KW
    )
    assert total_of(result, "canone_rai") == pytest.approx(70.0)
    assert {result.lines[i].unit_price for i in line_index(result, "canone_rai")} == {7.0}
    # 2024 is a leap year: the excise relief still works month by month
    assert total_of(result, "accisa", what="quantity") == pytest.approx(12 * 50.0)


# --- 4. indexed offer and offer comparison ------------------------------------------------------
def pun_monthly() -> pd.Series:
    frame = pd.read_csv(EXAMPLES / "pun_monthly_2024_2025.csv")
    index = pd.DatetimeIndex(pd.to_datetime(frame["month_start"], utc=True))
    return pd.Series(frame["pun_eur_per_mwh"].to_numpy(dtype=float), index=index)


PUN_2025_EUR_PER_MWH = [
    143.03,
    150.36,
    120.55,
    99.85,
    93.58,
    111.78,
    113.13,
    108.79,
    109.08,
    111.04,
    117.09,
]


@pytest.fixture(scope="module")
def eleven_months() -> IntervalData:
    return household("2025-01-01", "2025-12-01", 2000.0 * 334 / 365, seed=11)


def test_indexed_offer_monthly_pun_by_hand(eleven_months: IntervalData) -> None:
    data = eleven_months
    periods = month_periods(dt.date(2025, 1, 1), dt.date(2025, 12, 1))
    result = bill(
        get_tariff("it-offerta-pun-0028"),
        data,
        periods=periods,
        customers=RESIDENT_3KW,
        series={"PUN": pun_monthly()},
    )
    month = data.start_utc.tz_convert(TZ).month.to_numpy()
    for p, pun in enumerate(PUN_2025_EUR_PER_MWH):
        kwh = float(data.energy_kwh[0, month == p + 1].sum())
        (li,) = line_index(result, "energia_pun", p)
        assert result.quantity[0, li] == pytest.approx(kwh, rel=1e-12)
        assert result.amount[0, li] == pytest.approx(
            kwh * (pun / 1000 + PUN_SPREAD_EUR_PER_KWH), rel=1e-12
        )
        (lf,) = line_index(result, "quota_fissa", p)
        assert result.amount[0, lf] == pytest.approx(PUN_FEE_EUR_PER_MONTH)


def test_indexed_offer_hourly_pun_by_hand() -> None:
    """Hourly prices with 15-minute data: each quarter hour takes its hour's price."""
    data = household("2025-01-01", "2025-02-01", 170.0, seed=3)
    hours = pd.date_range(data.start_utc[0], data.end_utc, freq="1h", inclusive="left")
    local_hour = hours.tz_convert(TZ).hour.to_numpy()
    prices = 100.0 + 60.0 * np.sin(np.pi * local_hour / 24.0) + 0.01 * np.arange(len(hours))
    series = pd.Series(prices, index=hours.tz_convert(TZ))
    result = bill(
        get_tariff("it-offerta-pun-0028"),
        data,
        periods=[(dt.date(2025, 1, 1), dt.date(2025, 2, 1))],
        customers=RESIDENT_3KW,
        series={"PUN": series},
    )
    hour_of_interval = np.arange(len(data.start_utc)) // 4
    want = float(
        (data.energy_kwh[0] * (prices[hour_of_interval] / 1000 + PUN_SPREAD_EUR_PER_KWH)).sum()
    )
    assert total_of(result, "energia_pun") == pytest.approx(want, rel=1e-12)
    flat = float(data.energy_kwh[0].sum()) * (prices.mean() / 1000 + PUN_SPREAD_EUR_PER_KWH)
    assert total_of(result, "energia_pun") != pytest.approx(flat, rel=1e-6)


def test_indexed_offer_needs_the_pun_series(eleven_months: IntervalData) -> None:
    with pytest.raises(InputError, match="PUN"):
        bill(
            get_tariff("it-offerta-pun-0028"),
            eleven_months,
            periods=[(dt.date(2025, 1, 1), dt.date(2025, 2, 1))],
            customers=RESIDENT_3KW,
        )


def _energy_section_by_hand(tariff_id: str, data: IntervalData) -> float:
    e = data.energy_kwh[0]
    local = data.start_utc.tz_convert(TZ)
    month = local.month.to_numpy()
    bands = reference_bands(data.start_utc)
    if tariff_id == "it-offerta-fissa-monoraria-0136":
        return float(e.sum()) * FISSA_EUR_PER_KWH + 11 * FISSA_EUR_PER_MONTH
    if tariff_id == "it-offerta-pun-0028":
        return (
            sum(
                float(e[month == m + 1].sum()) * (pun / 1000 + PUN_SPREAD_EUR_PER_KWH)
                for m, pun in enumerate(PUN_2025_EUR_PER_MWH)
            )
            + 11 * PUN_FEE_EUR_PER_MONTH
        )
    if tariff_id == "it-offerta-trioraria-esempio":
        return (
            sum(float(e[bands == b].sum()) * p for b, p in TRIO_EUR_PER_KWH.items())
            + 11 * TRIO_EUR_PER_MONTH
        )
    q1 = month <= 3
    pe = sum(
        float(e[sel & (bands == "F1")].sum()) * prices["F1"]
        + float(e[sel & (bands != "F1")].sum()) * prices["F23"]
        for sel, prices in ((q1, PE_Q1), (~q1, PE_Q2_ON))
    )
    return pe + float(e.sum()) * DISPACCIAMENTO_EUR_PER_KWH + PCV_EUR_PER_YEAR * 334 / 365


OFFERS = [
    "it-tutela-vulnerabili-2025",
    "it-offerta-fissa-monoraria-0136",
    "it-offerta-pun-0028",
    "it-offerta-trioraria-esempio",
]


def test_offer_comparison(eleven_months: IntervalData) -> None:
    data = eleven_months
    periods = month_periods(dt.date(2025, 1, 1), dt.date(2025, 12, 1))
    totals, regulated = {}, {}
    for tariff_id in OFFERS:
        result = bill(
            get_tariff(tariff_id),
            data,
            periods=periods,
            customers=RESIDENT_3KW,
            series={"PUN": pun_monthly()},
        )
        energy = sum(
            result.amount[0, i] for i, s in enumerate(result.lines) if s.section == "energy"
        )
        assert energy == pytest.approx(_energy_section_by_hand(tariff_id, data), rel=1e-12)
        totals[tariff_id] = float(result.presented_totals()[0].sum())
        bills = [bill_for(result, 0, p) for p in range(len(periods))]
        regulated[tariff_id] = tuple(
            (b.subtotals["network"], b.subtotals["system"], b.subtotals.get("other")) for b in bills
        )
    # network, system charges and the canone are the same whatever the offer
    assert len(set(regulated.values())) == 1
    by_hand = sorted(OFFERS, key=lambda t: _energy_section_by_hand(t, data))
    assert sorted(OFFERS, key=totals.__getitem__) == by_hand
    assert by_hand == [
        "it-tutela-vulnerabili-2025",
        "it-offerta-trioraria-esempio",
        "it-offerta-fissa-monoraria-0136",
        "it-offerta-pun-0028",
    ]
    # the monorario fixed price beats PUN + 0.028 whenever the kWh-weighted PUN exceeds
    # 0.136 - 0.028 - (22 - 18) x 11 / kWh
    kwh = float(data.energy_kwh.sum())
    month = data.start_utc.tz_convert(TZ).month.to_numpy()
    weighted_pun = (
        sum(
            float(data.energy_kwh[0, month == m + 1].sum()) * p / 1000
            for m, p in enumerate(PUN_2025_EUR_PER_MWH)
        )
        / kwh
    )
    assert weighted_pun > FISSA_EUR_PER_KWH - PUN_SPREAD_EUR_PER_KWH - 4 * 11 / kwh


# --- 5. properties: splitting a period -------------------------------------------------------
PER_KWH_IDS = ("pe", "dispacciamento", "trasporto_quota_energia", "oneri_asos", "oneri_arim")
FIXED_IDS = {
    "pcv": PCV_EUR_PER_YEAR,
    "trasporto_quota_fissa": TRASPORTO_FISSA_EUR_PER_YEAR,
    "trasporto_quota_potenza": 3 * TRASPORTO_POTENZA_EUR_PER_KW_YEAR,
}
YEAR_START = dt.date(2025, 1, 1)
_SPLIT_DATA: dict[str, IntervalData] = {}


def split_data() -> IntervalData:
    if "year" not in _SPLIT_DATA:
        _SPLIT_DATA["year"] = household("2025-01-01", "2026-01-01", 2000.0, seed=5)
    return _SPLIT_DATA["year"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=st.integers(0, 362), gap1=st.integers(1, 200), gap2=st.integers(1, 200))
def test_split_period_keeps_per_kwh_lines_and_adds_fixed_by_days(
    a: int, gap1: int, gap2: int
) -> None:
    start = YEAR_START + dt.timedelta(days=a)
    mid = min(start + dt.timedelta(days=gap1), dt.date(2025, 12, 31))
    end = min(mid + dt.timedelta(days=gap2), dt.date(2026, 1, 1))
    if not start < mid < end:
        return
    tariff, data = get_tariff("it-tutela-vulnerabili-2025"), split_data()
    whole = bill(tariff, data, periods=[(start, end)], customers=RESIDENT_3KW)
    parts = bill(tariff, data, periods=[(start, mid), (mid, end)], customers=RESIDENT_3KW)
    for cid in PER_KWH_IDS:
        assert abs(total_of(whole, cid) - total_of(parts, cid)) <= 1e-9, cid
    for cid, per_year in FIXED_IDS.items():
        first = float(sum(parts.amount[0, i] for i in line_index(parts, cid, 0)))
        second = float(sum(parts.amount[0, i] for i in line_index(parts, cid, 1)))
        assert first == pytest.approx(per_year * (mid - start).days / 365, abs=1e-9)
        assert second == pytest.approx(per_year * (end - mid).days / 365, abs=1e-9)
        assert abs(total_of(whole, cid) - (first + second)) <= 1e-9, cid
    assert total_of(whole, "canone_rai") == total_of(parts, "canone_rai")


@settings(max_examples=25, deadline=None)
@given(a=st.integers(0, 284), gap1=st.integers(1, 40), gap2=st.integers(1, 40))
def test_split_period_month_prorated_fee_is_additive(a: int, gap1: int, gap2: int) -> None:
    """The offers' monthly fee accrues per day of each month (month_days).

    The period stays inside 2025 (the data and the tariff's validity): 284 + 40 + 40 < 365.
    """
    start = YEAR_START + dt.timedelta(days=a)
    mid, end = start + dt.timedelta(days=gap1), start + dt.timedelta(days=gap1 + gap2)
    tariff, data = get_tariff("it-offerta-fissa-monoraria-0136"), split_data()
    whole = bill(tariff, data, periods=[(start, end)], customers=RESIDENT_3KW)
    parts = bill(tariff, data, periods=[(start, mid), (mid, end)], customers=RESIDENT_3KW)
    want = sum(
        FISSA_EUR_PER_MONTH / pycal.monthrange(d.year, d.month)[1]
        for d in (start + dt.timedelta(days=k) for k in range((end - start).days))
    )
    assert total_of(whole, "quota_fissa") == pytest.approx(want, abs=1e-9)
    assert abs(total_of(whole, "quota_fissa") - total_of(parts, "quota_fissa")) <= 1e-9
    assert abs(total_of(whole, "energia") - total_of(parts, "energia")) <= 1e-9


# --- 6. customer properties select the lines ------------------------------------------------------
def test_resident_and_power_select_lines() -> None:
    customers = {"resident": [True, True, False, True], "contracted_kw": [3.0, 4.5, 3.0, 1.5]}
    data = flat_months(2025, [[250.0] * 12] * 4)
    result = bill(
        get_tariff("it-tutela-vulnerabili-2025"),
        data,
        periods=[(dt.date(2025, 3, 1), dt.date(2025, 4, 1))],
        customers=customers,
    )
    applies = {s.component_id: result.applies[:, i] for i, s in enumerate(result.lines)}
    assert applies["oneri_quota_fissa"].tolist() == [False, False, True, False]
    assert applies["canone_rai"].tolist() == [True, True, False, True]
    taxable = result.quantity[:, line_index(result, "accisa")[0]]
    # 250 kWh: resident 3 kW keeps 150 - 30 = 120 kWh exempt; 1.5 kW keeps 150 - 100 = 50
    assert taxable.tolist() == pytest.approx([130.0, 250.0, 250.0, 200.0])
    power = result.quantity[:, line_index(result, "trasporto_quota_potenza")[0]]
    assert power.tolist() == [3.0, 4.5, 3.0, 1.5]
    days = 31
    (lf,) = line_index(result, "oneri_quota_fissa")
    assert result.amount[2, lf] == pytest.approx(ONERI_FISSA_NON_RESIDENT_EUR_PER_YEAR * days / 365)
    # residents and non-residents pay the same per-kWh oneri in 2025 (see the set's note)
    (la,) = line_index(result, "oneri_asos")
    assert result.amount[:, la].tolist() == pytest.approx([250 * ASOS_EUR_PER_KWH] * 4)


def test_non_resident_bill_has_no_rai_and_full_excise() -> None:
    data = flat_months(2025, [[100.0] * 12])
    result = bill(
        get_tariff("it-offerta-fissa-monoraria-0136"),
        data,
        periods=[(dt.date(2025, 1, 1), dt.date(2025, 3, 1))],
        customers={"resident": False, "contracted_kw": 3.0},
    )
    b = bill_for(result, 0, 0)
    ids = {ln.component_id for ln in b.lines}
    assert "canone_rai" not in ids
    assert "other" not in b.subtotals
    assert "oneri_quota_fissa" in ids
    accisa = next(ln for ln in b.lines if ln.component_id == "accisa")
    assert accisa.quantity == pytest.approx(200.0)


def test_missing_resident_property_is_a_clear_error() -> None:
    data = flat_months(2025, [[100.0] * 12])
    with pytest.raises(InputError, match=r"needs customer property 'resident'.*residence"):
        bill(
            get_tariff("it-tutela-vulnerabili-2025"),
            data,
            periods=[(dt.date(2025, 1, 1), dt.date(2025, 2, 1))],
            customers={"contracted_kw": 3.0},
        )
    with pytest.raises(InputError, match="contracted_kw"):
        bill(
            get_tariff("it-tutela-vulnerabili-2025"),
            data,
            periods=[(dt.date(2025, 1, 1), dt.date(2025, 2, 1))],
            customers={"resident": True},
        )
    with pytest.raises(InputError, match="does not read customer property"):
        bill(
            get_tariff("it-tutela-vulnerabili-2025"),
            data,
            periods=[(dt.date(2025, 1, 1), dt.date(2025, 2, 1))],
            customers={"resident": True, "contracted_kw": 3.0, "residente": True},
        )


def test_vat_22_percent_for_other_uses() -> None:
    """IVA is 10 % for domestic uses and 22 % for other uses, on the same base."""
    start = pd.Timestamp("2025-04-01").tz_localize("Europe/Rome").tz_convert("UTC")
    end = pd.Timestamp("2025-05-01").tz_localize("Europe/Rome").tz_convert("UTC")
    idx = pd.date_range(start, end, freq="15min", inclusive="left")
    data = IntervalData(idx, np.full((1, len(idx)), 0.1), ("m",))
    tariff = get_tariff("it-offerta-fissa-monoraria-0136")
    period = [(dt.date(2025, 4, 1), dt.date(2025, 5, 1))]
    results = {}
    for use in ("domestic", "other"):
        b = bill_for(
            bill(
                tariff,
                data,
                periods=period,
                customers={"resident": False, "contracted_kw": 4.5, "vat_use": use},
            ),
            0,
        )
        taxes = {ln.component_id: ln for ln in b.lines if ln.section == "taxes"}
        results[use] = taxes
    assert "iva" in results["domestic"]
    assert "iva_22" not in results["domestic"]
    assert "iva_22" in results["other"]
    assert "iva" not in results["other"]
    base = results["domestic"]["iva"].quantity
    assert results["other"]["iva_22"].quantity == pytest.approx(base)
    assert float(results["other"]["iva_22"].amount) == pytest.approx(round(base * 0.22, 2))
