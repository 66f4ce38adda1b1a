"""Billing from register readings, and offer comparison."""

from __future__ import annotations

import datetime as dt

import pytest

from gridtwin.billing import bill, bill_band_totals, bill_for, compare
from gridtwin.calendar import get_calendar
from gridtwin.errors import InputError
from gridtwin.tariffs import get_tariff, tariff_from_dict
from tests.billing.util import comp, flat_data, tariff

D = dt.date


def it_tariff(schedule: str, rates: dict[str, float]) -> object:
    return tariff_from_dict(
        {
            "schema": "gridtwin.tariff/1",
            "id": f"it-{schedule}",
            "name": schedule,
            "jurisdiction": "IT",
            "currency": "EUR",
            "source": {"title": "test"},
            "calendar": "it-arera-181-06",
            "versions": [
                {
                    "valid_from": "2020-01-01",
                    "components": [
                        comp("pe", "energy", unit="EUR/kWh", schedule=schedule, rates=rates),
                        comp("pcv", "fixed", "energy", amount=73.0, per="year"),
                    ],
                }
            ],
        }
    )


def test_f123_readings_billed_on_f1_f23_prices() -> None:
    t = it_tariff("F1_F23", {"F1": 0.2, "F23": 0.1})
    r = bill_band_totals(
        t,
        {"F1": 100.0, "F2": 50.0, "F3": 150.0},  # type: ignore[arg-type]
        (D(2025, 1, 1), D(2025, 3, 1)),
        pod="IT001E",
        estimated=True,
    )
    b = bill_for(r, 0)
    amounts = {ln.band: float(ln.amount) for ln in b.lines if ln.component_id == "pe"}
    assert amounts == {"F1": 20.0, "F23": 20.0}
    fixed = next(ln for ln in b.lines if ln.component_id == "pcv")
    assert float(fixed.amount) == pytest.approx(round(59 * 73.0 / 365, 2))
    assert b.energy_by_band_kwh == {"F1": 100.0, "F23": 200.0}
    assert any("ESTIMATED" in n for n in b.notes)


def test_readings_that_do_not_match_the_bands_are_refused() -> None:
    t = it_tariff("F123", {"F1": 0.2, "F2": 0.15, "F3": 0.1})
    with pytest.raises(InputError, match="do not match the bands"):
        bill_band_totals(
            t,
            {"F1": 100.0, "F23": 50.0},  # type: ignore[arg-type]
            (D(2025, 1, 1), D(2025, 2, 1)),
        )
    with pytest.raises(InputError, match="finite and >= 0"):
        bill_band_totals(
            t,
            {"F1": -1.0, "F2": 0.0, "F3": 0.0},  # type: ignore[arg-type]
            (D(2025, 1, 1), D(2025, 2, 1)),
        )


def test_readings_equal_interval_billing_for_flat_prices() -> None:
    t = tariff(
        [
            comp("e", "energy", unit="EUR/MWh", rates=41.5221),
            comp("fee", "fixed", "other", amount=0.65, per="month"),
        ]
    )
    data = flat_data("2020-01-01", "2020-03-01", 0.1)
    kwh = float(data.energy_kwh.sum())
    a = bill(t, data, periods=[(D(2020, 1, 1), D(2020, 3, 1))]).totals()[0, 0]
    b = bill_band_totals(t, {"total": kwh}, (D(2020, 1, 1), D(2020, 3, 1))).totals()[0, 0]
    assert a == pytest.approx(b, rel=1e-12)


def test_seasonal_prices_need_interval_data() -> None:
    t = get_tariff("il-tou-2015")
    with pytest.raises(InputError, match="cannot be billed from register readings"):
        bill_band_totals(
            t,
            {"off_peak": 1.0, "shoulder": 1.0, "peak": 1.0},
            (D(2015, 3, 1), D(2015, 4, 1)),
            customers={"voltage_level": "LV"},
        )


def test_compare_ranks_offers_with_savings() -> None:
    cheap = tariff([comp("e", "energy", unit="EUR/kWh", rates=0.10)], id="cheap")
    dear = tariff([comp("e", "energy", unit="EUR/kWh", rates=0.12)], id="dear")
    data = flat_data("2021-01-01", "2021-02-01", 0.25)  # 744 kWh
    c = compare([dear, cheap], data, periods=[(D(2021, 1, 1), D(2021, 2, 1))])
    assert list(c.table["tariff_id"]) == ["cheap", "dear"]
    assert c.table["saving_vs_worst"].iloc[0] == pytest.approx(744 * 0.02)
    assert c.table["extra_vs_best"].iloc[1] == pytest.approx(744 * 0.02)


def test_compare_refuses_mixed_currencies() -> None:
    data = flat_data("2021-01-01", "2021-01-02")
    with pytest.raises(InputError, match="different currencies"):
        compare(
            [get_tariff("bench-tou3"), tariff([comp("e", "energy", unit="EUR/kWh", rates=0.1)])],
            data,
        )


def test_italian_calendar_is_used_by_it_tariffs() -> None:
    t = it_tariff("F123", {"F1": 0.3, "F2": 0.2, "F3": 0.1})
    assert t.calendar is get_calendar("it-arera-181-06")  # type: ignore[attr-defined]
