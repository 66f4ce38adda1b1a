"""The billing engine: every component kind, periods, versions, customers, bad input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gridtwin.billing import bill, bill_for, default_periods
from gridtwin.errors import DataQualityError, InputError, TariffValidityError
from tests.billing.util import comp, flat_data, tariff

D = dt.date


def test_year_days_proration_is_the_slovak_rule() -> None:
    t = tariff([comp("fee", "fixed", "other", amount=0.65, per="month")])
    data = flat_data("2019-12-01", "2020-03-01")
    r = bill(t, data, periods=[(D(2019, 12, 1), D(2020, 1, 1)), (D(2020, 1, 1), D(2020, 3, 1))])
    totals = r.totals()[0]
    assert totals[0] == pytest.approx(31 * 7.8 / 365, rel=1e-12)
    assert totals[1] == pytest.approx(60 * 7.8 / 366, rel=1e-12)


def test_month_days_proration_charges_whole_months_exactly() -> None:
    t = tariff([comp("fee", "fixed", "other", amount=10.0, per="month", proration="month_days")])
    data = flat_data("2024-01-01", "2024-03-16")
    r = bill(t, data, periods=[(D(2024, 1, 1), D(2024, 3, 16))])
    assert r.totals()[0, 0] == pytest.approx(10 + 10 + 10 * 15 / 31, rel=1e-12)


def test_band_energy_and_night_band() -> None:
    t = tariff(
        [comp("e", "energy", unit="EUR/MWh", schedule="vtnt", rates={"VT": 100.0, "NT": 50.0})]
    )
    data = flat_data("2021-06-01", "2021-06-02", 0.25)  # 1 kW all day
    r = bill(t, data, periods=[(D(2021, 6, 1), D(2021, 6, 2))])
    b = bill_for(r, 0)
    amounts = {ln.band: float(ln.amount) for ln in b.lines}
    assert amounts == {"VT": 1.60, "NT": 0.40}  # 16 kWh x 0.1, 8 kWh x 0.05
    assert b.energy_by_band_kwh == {"VT": 16.0, "NT": 8.0}
    assert b.max_power_kw == pytest.approx(1.0)


def test_monthly_tiers() -> None:
    tiers = [{"up_to_kwh": 100, "rate": 0.1}, {"up_to_kwh": 200, "rate": 0.2}, {"rate": 0.5}]
    t = tariff([comp("e", "energy", unit="EUR/kWh", tiers=tiers, tier_period="month")])
    # June 2021: 30 days x 24 h x 0.5 kW = 360 kWh -> 100 x .1 + 100 x .2 + 160 x .5
    data = flat_data("2021-06-01", "2021-07-01", 0.125)
    r = bill(t, data, periods=[(D(2021, 6, 1), D(2021, 7, 1))])
    assert r.totals()[0, 0] == pytest.approx(10 + 20 + 80)
    # a half month pro-rates the limits: 15 days, 180 kWh: 50 x .1 + 50 x .2 + 80 x .5
    r = bill(t, data, periods=[(D(2021, 6, 1), D(2021, 6, 16))])
    assert r.totals()[0, 0] == pytest.approx(5 + 10 + 40)


def test_daily_tiers_scale_with_days() -> None:
    tiers = [{"up_to_kwh": 10, "rate": 0.1}, {"rate": 0.3}]
    t = tariff([comp("e", "energy", unit="EUR/kWh", tiers=tiers, tier_period="day")])
    data = flat_data("2021-06-01", "2021-06-11", 0.125)  # 12 kWh/day, 10 days
    r = bill(t, data, periods=[(D(2021, 6, 1), D(2021, 6, 11))])
    assert r.totals()[0, 0] == pytest.approx(100 * 0.1 + 20 * 0.3)


def test_demand_charge_uses_monthly_maximum_and_bands() -> None:
    t = tariff(
        [
            comp("d", "demand", "network", rate=5.0),
            comp("dn", "demand", "network", rate=1.0, schedule="vtnt", bands=["NT"]),
        ]
    )
    data = flat_data("2021-06-01", "2021-08-01", 0.25)
    energy = data.energy_kwh.copy()
    local = data.start_utc.tz_convert("Europe/Bratislava")
    energy[0, (local.month == 6) & (local.day == 10) & (local.hour == 12)] = 1.0  # 4 kW, VT
    energy[0, (local.month == 7) & (local.day == 3) & (local.hour == 23)] = 0.5  # 2 kW, NT
    data = type(data)(data.start_utc, energy, data.meter_ids)
    r = bill(t, data, periods=[(D(2021, 6, 1), D(2021, 8, 1))])
    lines = {ln.component_id: ln for ln in bill_for(r, 0).lines}
    assert float(lines["d"].amount) == pytest.approx(5 * 4 + 5 * 2)
    assert float(lines["dn"].amount) == pytest.approx(1 * 1 + 1 * 2)
    assert lines["d"].quantity == pytest.approx(4.0)


def test_power_charge_on_available_power_and_per_meter_properties() -> None:
    t = tariff(
        [comp("p", "power", "network", rate=24.0, per="year", basis="available")],
        properties={"contracted_kw": {"type": "number", "unit": "kW"}},
    )
    data = flat_data("2023-01-01", "2024-01-01", n_meters=2)
    r = bill(
        t, data, periods=[(D(2023, 1, 1), D(2024, 1, 1))], customers={"contracted_kw": [3.0, 6.0]}
    )
    np.testing.assert_allclose(r.totals()[:, 0], [3.3 * 24, 6.6 * 24])


def test_conditions_select_lines_per_meter() -> None:
    props = {"resident": {"type": "bool"}}
    t = tariff(
        [
            comp("e", "energy", unit="EUR/kWh", rates=0.1),
            comp(
                "nonres",
                "fixed",
                "system",
                amount=36.5,
                per="year",
                applies_if={"equals": {"resident": False}},
            ),
        ],
        properties=props,
    )
    data = flat_data("2023-01-01", "2023-01-11", n_meters=2)
    r = bill(
        t, data, periods=[(D(2023, 1, 1), D(2023, 1, 11))], customers={"resident": [True, False]}
    )
    assert [ln.component_id for ln in bill_for(r, 0).lines] == ["e"]
    assert [ln.component_id for ln in bill_for(r, 1).lines] == ["e", "nonres"]
    assert r.totals()[1, 0] - r.totals()[0, 0] == pytest.approx(1.0)


def test_minimum_discount_and_vat_on_presented_lines() -> None:
    t = tariff(
        [
            comp("e", "energy", unit="EUR/kWh", rates=0.1),
            comp("min", "minimum", amount=30.0, of_sections=["energy"]),
            comp("disc", "discount", "other", percent=10.0, of_components=["e", "min"]),
        ],
        taxes=[
            comp("vat", "percent", "taxes", rate_percent=20.0, base_sections=["energy", "other"])
        ],
    )
    data = flat_data("2023-04-01", "2023-05-01", 0.01)  # 28.8 kWh -> 2.88 EUR
    r = bill(t, data, periods=[(D(2023, 4, 1), D(2023, 5, 1))])
    b = bill_for(r, 0)
    lines = {ln.component_id: ln.amount for ln in b.lines}
    assert float(lines["min"]) == pytest.approx(27.12)
    assert float(lines["disc"]) == pytest.approx(-3.00)
    assert float(lines["vat"]) == pytest.approx(5.40)
    assert b.total == sum(lines.values())
    assert float(b.total) == pytest.approx(32.40)


def test_vat_is_computed_on_the_sum_of_rounded_lines() -> None:
    t = tariff(
        [
            comp("a", "fixed", "other", amount=0.005, per="day"),
            comp("b", "fixed", "other", amount=0.005, per="day"),
        ],
        taxes=[comp("vat", "percent", "taxes", rate_percent=10.0, base_sections=["other"])],
    )
    data = flat_data("2023-04-01", "2023-04-02")
    b = bill_for(bill(t, data, periods=[(D(2023, 4, 1), D(2023, 4, 2))]), 0)
    amounts = [str(ln.amount) for ln in b.lines]
    assert amounts == ["0.01", "0.01", "0.00"]  # VAT on 0.02 presented -> 0.002 -> 0.00
    assert str(b.total) == "0.02"


def test_indexed_energy_with_hourly_series_and_spread() -> None:
    t = tariff(
        [
            comp(
                "pun",
                "indexed_energy",
                series="PUN",
                series_unit="EUR/MWh",
                multiplier=1.0,
                spread=0.028,
                spread_unit="EUR/kWh",
            )
        ]
    )
    data = flat_data("2024-01-01", "2024-01-03", 0.25)
    hours = pd.date_range(data.start_utc[0], periods=48, freq="1h")
    prices = pd.Series(np.arange(48, dtype=float) * 10.0, index=hours)
    r = bill(t, data, periods=[(D(2024, 1, 1), D(2024, 1, 3))], series={"PUN": prices})
    expected = float((prices.to_numpy() / 1000.0 + 0.028).sum() * 1.0)  # 1 kWh per hour
    assert r.totals()[0, 0] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InputError, match="needs the price series 'PUN'"):
        bill(t, data, periods=[(D(2024, 1, 1), D(2024, 1, 3))])
    with pytest.raises(InputError, match="does not cover every billed interval"):
        bill(t, data, periods=[(D(2024, 1, 1), D(2024, 1, 3))], series={"PUN": prices[:24]})


def test_versions_split_a_period_and_inherit_changes() -> None:
    versions = [
        {
            "valid_from": "2018-01-01",
            "valid_to": "2018-07-01",
            "components": [
                comp("e", "energy", unit="EUR/MWh", rates=3.21),
                comp("fee", "fixed", "other", amount=1.0, per="day"),
            ],
        },
        {"valid_from": "2018-07-01", "inherit": True, "changes": {"e": {"rates": 3.27}}},
    ]
    t = tariff([], versions=versions)
    data = flat_data("2018-06-01", "2018-08-01", 0.25)  # 24 kWh/day
    r = bill(t, data, periods=[(D(2018, 6, 1), D(2018, 8, 1))])
    b = bill_for(r, 0)
    seg = {(ln.component_id, ln.period_from): float(ln.amount) for ln in b.lines}
    assert seg[("e", D(2018, 6, 1))] == pytest.approx(round(30 * 24 * 3.21e-3, 2))
    assert seg[("e", D(2018, 7, 1))] == pytest.approx(round(31 * 24 * 3.27e-3, 2))
    assert seg[("fee", D(2018, 7, 1))] == pytest.approx(31.0)


def test_multi_meter_batch_equals_one_by_one() -> None:
    t = tariff(
        [
            comp("e", "energy", unit="EUR/MWh", schedule="vtnt", rates={"VT": 100.0, "NT": 50.0}),
            comp("fee", "fixed", "other", amount=0.65, per="month"),
        ]
    )
    rng = np.random.default_rng(3)
    base = flat_data("2020-01-01", "2020-04-01", n_meters=5)
    energy = rng.uniform(0, 1, size=base.energy_kwh.shape)
    data = type(base)(base.start_utc, energy, base.meter_ids)
    batch = bill(t, data).totals()
    for m in range(5):
        single = bill(t, data.select([data.meter_ids[m]])).totals()
        np.testing.assert_allclose(batch[m], single[0], rtol=1e-12)


def test_default_periods_are_calendar_months_of_whole_local_days() -> None:
    t = tariff([comp("e", "energy", unit="EUR/kWh", rates=0.1)])
    data = flat_data("2021-01-15", "2021-03-10")
    assert default_periods(t, data) == [
        (D(2021, 1, 15), D(2021, 2, 1)),
        (D(2021, 2, 1), D(2021, 3, 1)),
        (D(2021, 3, 1), D(2021, 3, 10)),
    ]
    assert default_periods(t, data, "whole") == [(D(2021, 1, 15), D(2021, 3, 10))]


def test_gaps_are_errors_or_marked_never_filled() -> None:
    t = tariff([comp("e", "energy", unit="EUR/kWh", rates=0.1)])
    data = flat_data("2021-01-01", "2021-01-03", 0.25)
    energy = data.energy_kwh.copy()
    energy[0, 10:14] = np.nan
    gappy = type(data)(data.start_utc, energy, data.meter_ids)
    with pytest.raises(DataQualityError, match="4 missing interval"):
        bill(t, gappy)
    r = bill(t, gappy, allow_gaps=True)
    b = bill_for(r, 0)
    assert b.missing_intervals == 4
    assert any("INCOMPLETE" in n for n in b.notes)
    assert b.energy_kwh == pytest.approx(48 - 1.0)


def test_negative_consumption_is_refused_with_meter_and_time() -> None:
    t = tariff([comp("e", "energy", unit="EUR/kWh", rates=0.1)])
    data = flat_data("2021-01-01", "2021-01-02", 0.25)
    energy = data.energy_kwh.copy()
    energy[0, 5] = -0.1
    with pytest.raises(
        DataQualityError, match=r"negative consumption .* meter m0 at 2021-01-01T00:15"
    ):
        bill(t, type(data)(data.start_utc, energy, data.meter_ids))


def test_periods_outside_validity_or_data_are_refused() -> None:
    versions = [
        {
            "valid_from": "2017-01-01",
            "valid_to": "2022-01-01",
            "components": [comp("e", "energy", unit="EUR/kWh", rates=0.1)],
        }
    ]
    t = tariff([], versions=versions)
    data = flat_data("2021-12-01", "2022-02-01")
    with pytest.raises(TariffValidityError, match="outside the validity"):
        bill(t, data, periods=[(D(2021, 12, 1), D(2022, 2, 1))])
    with pytest.raises(InputError, match="not covered by the data"):
        bill(t, data, periods=[(D(2021, 11, 1), D(2021, 12, 15))])
    with pytest.raises(InputError, match="overlaps the previous one"):
        bill(
            t, data, periods=[(D(2021, 12, 1), D(2021, 12, 10)), (D(2021, 12, 5), D(2021, 12, 20))]
        )


def test_customer_properties_are_checked() -> None:
    props = {"voltage_level": {"type": "str", "allowed": ["LV", "HV"]}}
    t = tariff(
        [
            comp(
                "e",
                "energy",
                unit="EUR/kWh",
                rates=0.1,
                applies_if={"equals": {"voltage_level": "LV"}},
            )
        ],
        properties=props,
    )
    data = flat_data("2021-01-01", "2021-01-02")
    with pytest.raises(InputError, match="needs customer property 'voltage_level'"):
        bill(t, data)
    with pytest.raises(InputError, match="'MV' is not allowed"):
        bill(t, data, customers={"voltage_level": "MV"})
    with pytest.raises(InputError, match="does not read customer property"):
        bill(t, data, customers={"voltage_level": "LV", "colour": "red"})
    with pytest.raises(InputError, match="has 3 values for 1 meters"):
        bill(t, data, customers={"voltage_level": ["LV", "LV", "HV"]})


def test_dst_day_is_billed_with_its_real_length() -> None:
    t = tariff([comp("e", "energy", unit="EUR/kWh", rates=1.0)])
    data = flat_data("2021-10-31", "2021-11-01", 0.25)  # 25-hour day in Bratislava
    assert data.n_steps == 100
    assert bill(t, data).totals()[0, 0] == pytest.approx(25.0)
