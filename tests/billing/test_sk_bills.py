"""Bills under the Slovak supply tariffs of ÚRSO 0210/2017/E with levies and taxes.

Expected values are computed here from the decision's rules (I.9 pro-rating: each started
day costs 1/365, in a leap year 1/366, of twelve monthly fees) and its prices, not read
back from the engine.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from gridtwin.billing import Bill, BillingResult, bill, bill_for
from gridtwin.calendar import get_calendar
from gridtwin.calendar._table import calendar_with_schedule, schedule_from_table
from gridtwin.errors import InputError, TariffValidityError
from gridtwin.tariffs import Tariff, get_tariff, load_tariff, tariff_from_dict
from gridtwin.timeseries import IntervalData, regular_index

TZ = "Europe/Bratislava"
DD2 = "sk-urso-0210-2017-dd2"
DMP2 = "sk-urso-0210-2017-dmp2"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sk"
YEARLY_FEE = 12 * 0.65  # EUR: twelve monthly fees of 0.6500 EUR
NO_TAXES = {"include_levies": False, "include_vat": False}


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _data(
    start: str, end: str, kwh_per_step: float | np.ndarray = 1.0, step: str = "1h"
) -> IntervalData:
    """Data from local midnight of ``start`` to local midnight of ``end`` (DST-aware)."""
    t0 = pd.Timestamp(start).tz_localize(TZ)
    t1 = pd.Timestamp(end).tz_localize(TZ)
    n = int((t1 - t0) / pd.Timedelta(step))
    energy = np.broadcast_to(np.asarray(kwh_per_step, dtype=float), (n,)).copy()
    return IntervalData(regular_index(t0, n, step), energy, ("om-1",))


def _bill(
    tariff: str | Tariff, start: str, end: str, kwh: float | np.ndarray = 1.0, **props: Any
) -> tuple[BillingResult, Bill]:
    t = get_tariff(tariff) if isinstance(tariff, str) else tariff
    result = bill(t, _data(start, end, kwh), periods=[(_d(start), _d(end))], customers=props)
    return result, bill_for(result, 0)


def _amount(result: BillingResult, component: str, segment_start: str | None = None) -> float:
    """Unrounded amount of one component (in one segment) for meter 0."""
    cols = [
        i
        for i, s in enumerate(result.lines)
        if s.component_id == component
        and (segment_start is None or s.segment_start == _d(segment_start))
    ]
    assert cols, f"no line {component} {segment_start}"
    return float(result.amount[0, cols].sum())


def _money(x: Decimal | float) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _lines(b: Bill, component: str) -> list[Any]:
    return [ln for ln in b.lines if ln.component_id == component]


# ----------------------------------------------------------------- pro-rating (I.9)
def test_full_non_leap_year_costs_twelve_monthly_fees() -> None:
    result, b = _bill(DD2, "2019-01-01", "2020-01-01", **NO_TAXES)
    assert _amount(result, "monthly_fee") == pytest.approx(7.80, rel=1e-12)
    (fee,) = _lines(b, "monthly_fee")
    assert fee.amount == Decimal("7.80")
    assert fee.quantity == 365.0


def test_one_started_day() -> None:
    result, b = _bill(DD2, "2017-05-10", "2017-05-11", **NO_TAXES)
    assert _amount(result, "monthly_fee") == pytest.approx(YEARLY_FEE / 365, rel=1e-12)
    (fee,) = _lines(b, "monthly_fee")
    assert fee.quantity == 1.0
    assert fee.unit_price == pytest.approx(0.0213698630, rel=1e-9)
    assert fee.amount == Decimal("0.02")


def test_february_of_a_leap_year() -> None:
    result, b = _bill(DD2, "2020-02-01", "2020-03-01", **NO_TAXES)
    expected = 29 * YEARLY_FEE / 366
    assert _amount(result, "monthly_fee") == pytest.approx(expected, rel=1e-12)
    # not the monthly fee itself, nor the non-leap day fraction
    assert abs(_amount(result, "monthly_fee") - 0.65) > 0.03
    assert abs(_amount(result, "monthly_fee") - 29 * YEARLY_FEE / 365) > 1e-3
    assert _lines(b, "monthly_fee")[0].amount == Decimal("0.62")


def test_period_across_new_year_uses_each_years_day_fraction() -> None:
    result, _ = _bill(DD2, "2019-12-15", "2020-01-15", **NO_TAXES)
    expected = 17 * YEARLY_FEE / 365 + 14 * YEARLY_FEE / 366
    assert _amount(result, "monthly_fee") == pytest.approx(expected, rel=1e-12)
    assert abs(_amount(result, "monthly_fee") - 31 * YEARLY_FEE / 365) > 1e-4


def test_full_leap_year_also_costs_twelve_monthly_fees() -> None:
    result, _ = _bill(DD2, "2020-01-01", "2021-01-01", **NO_TAXES)
    assert _amount(result, "monthly_fee") == pytest.approx(7.80, rel=1e-12)


# -------------------------------------------------------------------------- energy
def test_energy_price_per_mwh() -> None:
    rng = np.random.default_rng(7)
    kwh = np.round(rng.uniform(0.0, 2.0, size=30 * 24), 3)  # April 2019, no DST change
    result, b = _bill(DD2, "2019-04-01", "2019-05-01", kwh, **NO_TAXES)
    total_kwh = float(np.sum(kwh))
    assert _amount(result, "energy") == pytest.approx(41.5221 * total_kwh / 1000, rel=1e-12)
    (line,) = _lines(b, "energy")
    assert line.band == "VT"
    assert line.quantity == pytest.approx(total_kwh, rel=1e-12)
    assert line.unit_price == pytest.approx(0.0415221, rel=1e-15)
    assert line.amount == _money(Decimal("41.5221") * Decimal(str(total_kwh)) / 1000)


# ---------------------------------------------------- DD2 household with levies, VAT
def test_dd2_household_bill_splits_at_the_njf_change() -> None:
    """June at 0.5 kWh/h (360 kWh), July at 1 kWh/h (744 kWh); NJF 3.21 -> 3.27 on 1 July."""
    kwh = np.r_[np.full(30 * 24, 0.5), np.full(31 * 24, 1.0)]
    result, b = _bill(DD2, "2018-06-01", "2018-08-01", kwh)
    assert b.language == "sk"
    segments = {"2018-06-01": (30, 360.0, 0.00321), "2018-07-01": (31, 744.0, 0.00327)}
    total = Decimal(0)
    for start, (days, kwh_seg, njf) in segments.items():
        lines = [ln for ln in b.lines if ln.period_from == _d(start)]
        by_id = {ln.component_id: ln for ln in lines}
        # households pay no excise (zákon 609/2007 § 7(1)(j))
        assert sorted(by_id) == ["energy", "monthly_fee", "njf_levy", "vat"]
        assert by_id["njf_levy"].unit_price == pytest.approx(njf, rel=1e-15)
        assert by_id["njf_levy"].quantity == pytest.approx(kwh_seg)
        assert by_id["njf_levy"].section == "taxes"
        fee = _money(days * Decimal("7.80") / 365)
        energy = _money(Decimal(str(kwh_seg)) * Decimal("0.0415221"))
        levy = _money(Decimal(str(kwh_seg)) * Decimal(str(njf)))
        assert by_id["monthly_fee"].amount == fee
        assert by_id["energy"].amount == energy
        assert by_id["njf_levy"].amount == levy
        assert by_id["vat"].unit_price == 20.0
        assert by_id["vat"].amount == _money((fee + energy + levy) * Decimal("0.20"))
        total += fee + energy + levy + by_id["vat"].amount
    assert _amount(result, "njf_levy", "2018-06-01") == pytest.approx(360 * 0.00321, rel=1e-12)
    assert _amount(result, "njf_levy", "2018-07-01") == pytest.approx(744 * 0.00327, rel=1e-12)
    assert b.total == total
    # the concrete figures, for the record
    assert [ln.amount for ln in b.lines if ln.component_id == "vat"] == [
        Decimal("3.35"),
        Decimal("6.80"),
    ]


def test_levies_and_vat_are_optional() -> None:
    _, with_all = _bill(DD2, "2019-04-01", "2019-05-01")
    _, no_levies = _bill(DD2, "2019-04-01", "2019-05-01", include_levies=False)
    _, bare = _bill(DD2, "2019-04-01", "2019-05-01", **NO_TAXES)
    ids = [{ln.component_id for ln in b.lines} for b in (with_all, no_levies, bare)]
    assert ids == [
        {"monthly_fee", "energy", "njf_levy", "vat"},
        {"monthly_fee", "energy", "vat"},
        {"monthly_fee", "energy"},
    ]
    vat = _lines(no_levies, "vat")[0]
    assert vat.amount == _money((bare.total) * Decimal("0.2"))


# --------------------------------------------------------- DMP2 small business, excise
def test_dmp2_small_business_bill_with_excise() -> None:
    """March 2019 has 743 hours in Bratislava (DST on the 31st): 743 kWh at 1 kWh/h."""
    result, b = _bill(DMP2, "2019-03-01", "2019-04-01")
    by_id = {ln.component_id: ln for ln in b.lines}
    assert sorted(by_id) == ["energy", "excise", "monthly_fee", "njf_levy", "vat"]
    assert by_id["excise"].quantity == pytest.approx(743.0)
    assert by_id["excise"].unit_price == pytest.approx(0.00132, rel=1e-15)
    assert by_id["excise"].is_tax
    assert _amount(result, "excise") == pytest.approx(743 * 0.00132, rel=1e-12)
    fee = _money(31 * Decimal("7.80") / 365)
    energy = _money(743 * Decimal("0.0446856"))
    levy = _money(743 * Decimal("0.00327"))
    excise = _money(743 * Decimal("0.00132"))
    assert [by_id[k].amount for k in ("monthly_fee", "energy", "njf_levy", "excise")] == [
        fee,
        energy,
        levy,
        excise,
    ]
    vat = _money((fee + energy + levy + excise) * Decimal("0.20"))
    assert by_id["vat"].amount == vat
    assert b.total == fee + energy + levy + excise + vat == Decimal("44.72")


def test_excise_needs_levies_switched_on() -> None:
    _, b = _bill(DMP2, "2019-03-01", "2019-04-01", include_levies=False)
    assert not _lines(b, "excise")
    assert not _lines(b, "njf_levy")


def test_customer_class_is_checked_by_the_tariff() -> None:
    with pytest.raises(InputError, match="customer_class='small_business' is not allowed"):
        _bill(DD2, "2019-03-01", "2019-04-01", customer_class="small_business")
    with pytest.raises(InputError, match="customer_class='household' is not allowed"):
        _bill(DMP2, "2019-03-01", "2019-04-01", customer_class="household")


def test_no_bill_after_the_decision_expires() -> None:
    with pytest.raises(TariffValidityError, match=r"2022-01-01"):
        _bill(DD2, "2021-12-01", "2022-01-02")
    _, b = _bill(DD2, "2021-12-01", "2022-01-01")
    assert b.period_to == _d("2022-01-01")


# -------------------------------------------------------- two bands (example tariff)
def test_two_band_example_bills_vt_and_nt() -> None:
    """Mon 13 May to Mon 20 May 2019 at 1 kWh/h: NT = 5 x 10 h + 2 x 12 h = 74 kWh."""
    tariff = load_tariff(EXAMPLES / "example_two_band_tariff.yaml")
    data = _data("2019-05-13", "2019-05-20", 0.25, step="15min")
    result = bill(tariff, data, periods=[(_d("2019-05-13"), _d("2019-05-20"))], customers=NO_TAXES)
    b = bill_for(result, 0)
    energy = {ln.band: ln for ln in _lines(b, "energy")}
    assert energy["NT"].quantity == pytest.approx(74.0)
    assert energy["VT"].quantity == pytest.approx(94.0)
    assert energy["NT"].amount == _money(74 * Decimal("0.030"))
    assert energy["VT"].amount == _money(94 * Decimal("0.050"))
    assert b.energy_by_band_kwh == pytest.approx({"NT": 74.0, "VT": 94.0})
    assert any("EXAMPLE" in n for n in b.notes)


def test_two_band_example_with_the_table_built_calendar() -> None:
    """Same bill when the calendar comes from the CSV through calendar_with_schedule."""
    path = EXAMPLES / "example_two_band_tariff.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    cal = calendar_with_schedule(
        get_calendar("sk-urso"),
        "hdo_example",
        schedule_from_table(EXAMPLES / "hdo_switching_example.csv"),
    )
    raw["calendar"] = cal.spec.model_dump()
    from_table = tariff_from_dict(raw, str(path))
    inline = load_tariff(path)
    data = _data("2019-03-25", "2019-04-08", 0.25, step="15min")  # spans the DST change
    periods = [(_d("2019-03-25"), _d("2019-04-08"))]
    a = bill(inline, data, periods=periods)
    b = bill(from_table, data, periods=periods)
    assert np.array_equal(a.amount, b.amount)
    assert bill_for(b, 0).energy_by_band_kwh["NT"] > 0


def test_vat_19_percent_from_2025() -> None:
    tariff = load_tariff(EXAMPLES / "example_two_band_tariff.yaml")
    data = _data("2024-12-01", "2025-02-01", 0.25, step="15min")
    b = bill_for(bill(tariff, data, periods=[(_d("2024-12-01"), _d("2025-02-01"))]), 0)
    vat = {ln.period_from: ln for ln in _lines(b, "vat")}
    assert vat[_d("2024-12-01")].unit_price == 20.0
    assert vat[_d("2025-01-01")].unit_price == 19.0
    assert vat[_d("2025-01-01")].label == "DPH 19 %"
    base = sum(
        (
            ln.amount
            for ln in b.lines
            if ln.period_from == _d("2025-01-01") and ln.component_id != "vat"
        ),
        Decimal(0),
    )
    assert vat[_d("2025-01-01")].amount == _money(base * Decimal("0.19"))
