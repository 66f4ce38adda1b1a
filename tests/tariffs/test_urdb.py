"""Import of OpenEI URDB records: mapping rules, bills on hand-checked data, refusals."""

from __future__ import annotations

import copy
import datetime as dt
import doctest
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gridtwin.billing import bill
from gridtwin.errors import TariffSchemaError, TariffValidityError
from gridtwin.tariffs import _urdb, load_urdb, tariff_from_urdb, urdb_to_mapping
from gridtwin.timeseries import IntervalData, regular_index

WEEKDAY_3BAND = [0] * 7 + [1] + [2] * 11 + [1] * 4 + [0]


def rows(row: list[int]) -> list[list[int]]:
    return [list(row) for _ in range(12)]


def bench_record() -> dict[str, Any]:
    return {
        "label": "bench-3band-tou",
        "name": "Benchmark 3-band TOU",
        "utility": "Bench",
        "sector": "Residential",
        "startdate": 1514764800,
        "energyratestructure": [
            [{"rate": 0.20, "unit": "kWh"}],
            [{"rate": 0.25}],
            [{"rate": 0.28, "adj": 0.02}],
        ],
        "energyweekdayschedule": rows(WEEKDAY_3BAND),
        "energyweekendschedule": rows([0] * 24),
        "fixedchargefirstmeter": 10.0,
        "fixedchargeunits": "$/month",
    }


def flat(rate: float = 0.1, **extra: Any) -> dict[str, Any]:
    return {"label": "flat", "energyratestructure": [[{"rate": rate}]], **extra}


def year_data(
    kwh: float | np.ndarray = 0.25,
    step: str = "15min",
    n_meters: int = 1,
    tz: str = "UTC",
    year: int = 2018,
) -> IntervalData:
    start = pd.Timestamp(f"{year}-01-01").tz_localize(tz)
    end = pd.Timestamp(f"{year + 1}-01-01").tz_localize(tz)
    n = int((end - start) / pd.Timedelta(step))
    idx = regular_index(f"{year}-01-01", n, step, tz=tz)
    values = np.broadcast_to(np.asarray(kwh, dtype=float), (n_meters, n)).copy()
    return IntervalData(idx, values, tuple(f"m{i}" for i in range(n_meters)))


def components(conv: Any) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in conv.mapping["versions"][0]["components"]}


def month_kwh(data: IntervalData) -> np.ndarray:
    month = data.start_utc.month.to_numpy() - 1
    return np.array([data.energy_kwh[:, month == m].sum(axis=1) for m in range(12)]).T


# ----------------------------------------------------------------------------- mapping


def test_bench_record_maps_to_a_tou_calendar_and_bills_exactly() -> None:
    conv = urdb_to_mapping(bench_record())
    cal = conv.mapping["calendar"]
    assert cal["timezone"] == "UTC"
    assert [s["name"] for s in cal["seasons"]] == list(_urdb.MONTHS)
    energy = cal["schedules"]["energy"]
    assert energy["bands"] == ["P1", "P2", "P3"]
    weekday_rule = next(r for r in energy["rules"] if r["day_types"] == ["weekday"])
    assert weekday_rule["seasons"] == list(_urdb.MONTHS)  # equal rows are grouped
    assert weekday_rule["bands"] == {
        "P1": ["00:00-07:00", "23:00-24:00"],
        "P2": ["07:00-08:00", "19:00-23:00"],
        "P3": ["08:00-19:00"],
    }
    comps = components(conv)
    assert comps["energy"]["rates"] == {"P1": 0.20, "P2": 0.25, "P3": pytest.approx(0.30)}
    assert (comps["fixed"]["per"], comps["fixed"]["proration"]) == ("month", "month_days")
    assert conv.ignored == ()
    tariff = tariff_from_urdb(bench_record())
    assert tariff.id == "urdb-bench-3band-tou"
    assert tariff.currency == "USD"
    assert tariff.validity() == (dt.date(2018, 1, 1), None)
    # 1 kWh per hour: weekdays 11 h peak, 5 h mid, 8 h off; weekends 24 h off
    data = year_data(1.0, "1h")
    weekdays = 261  # 2018
    expected = weekdays * (11 * 0.30 + 5 * 0.25 + 8 * 0.20) + 104 * 24 * 0.20 + 120.0
    assert bill(tariff, data).totals().sum() == pytest.approx(expected, rel=1e-12)


def test_hour_ranges_cover_every_hour_once() -> None:
    row = [1, 1, 0, 0, 2, 2, 2, 0, 1] + [0] * 14 + [1]
    ranges = {p: _urdb._hour_ranges(row, p) for p in range(3)}
    assert ranges[1] == ["00:00-02:00", "08:00-09:00", "23:00-24:00"]
    assert ranges[2] == ["04:00-07:00"]
    hours = sorted(h for rs in ranges.values() for r in rs for h in range(int(r[:2]), int(r[6:8])))
    assert hours == list(range(24))


def test_seasonal_schedules_group_equal_months() -> None:
    rec = bench_record()
    summer = [0] * 12 + [2] * 8 + [1] * 4
    rec["energyweekdayschedule"] = (
        [list(WEEKDAY_3BAND)] * 5 + [summer] * 4 + [list(WEEKDAY_3BAND)] * 3
    )
    rules = urdb_to_mapping(rec).mapping["calendar"]["schedules"]["energy"]["rules"]
    weekday = [r for r in rules if r["day_types"] == ["weekday"]]
    assert [r["seasons"] for r in weekday] == [
        ["jan", "feb", "mar", "apr", "may", "oct", "nov", "dec"],
        ["jun", "jul", "aug", "sep"],
    ]
    tariff = tariff_from_urdb(rec)
    data = year_data(1.0, "1h")
    res = bill(tariff, data)
    june = res.totals()[0, 5]
    # June 2018: 21 weekdays (12 h off, 8 h peak, 4 h mid), 9 weekend days
    assert june == pytest.approx(21 * (12 * 0.2 + 8 * 0.3 + 4 * 0.25) + 9 * 24 * 0.2 + 10.0)


def test_single_period_gives_a_flat_price_without_schedule() -> None:
    conv = urdb_to_mapping(flat(0.1))
    comp = components(conv)["energy"]
    assert comp["rates"] == 0.1
    assert "schedule" not in comp
    assert conv.mapping["calendar"]["schedules"] == {}
    assert any("single period applies at all hours" in n for n in conv.notes)


def test_single_used_period_of_many_needs_no_schedule() -> None:
    rec = flat(0.1, energyweekdayschedule=rows([1] * 24), energyweekendschedule=rows([1] * 24))
    rec["energyratestructure"].append([{"rate": 0.3}])
    comps = components(urdb_to_mapping(rec))
    assert comps["energy"]["rates"] == 0.3


def test_monthly_tiers() -> None:
    rec = flat(
        energyratestructure=[
            [
                {"rate": 0.1, "max": 300, "unit": "kWh"},
                {"rate": 0.15, "max": 700, "unit": "kWh"},
                {"rate": 0.2, "max": 99999, "unit": "kWh"},
            ]
        ]
    )
    comp = components(urdb_to_mapping(rec))["energy"]
    assert comp["tiers"] == [
        {"up_to_kwh": 300, "rate": 0.1},
        {"up_to_kwh": 700, "rate": 0.15},
        {"up_to_kwh": None, "rate": 0.2},
    ]
    assert comp["tier_period"] == "month"
    data = year_data(1.0, "1h")  # 744 kWh in January
    jan = bill(tariff_from_urdb(rec), data).totals()[0, 0]
    assert jan == pytest.approx(300 * 0.1 + 400 * 0.15 + 44 * 0.2)


def test_daily_tiers_scale_with_the_days_of_the_month() -> None:
    rec = flat(energyratestructure=[[{"rate": 0.1, "max": 20, "unit": "kWh daily"}, {"rate": 0.3}]])
    comp = components(urdb_to_mapping(rec))["energy"]
    assert comp["tier_period"] == "day"
    data = year_data(1.0, "1h")  # 24 kWh per day
    totals = bill(tariff_from_urdb(rec), data).totals()[0]
    assert totals[1] == pytest.approx(28 * (20 * 0.1 + 4 * 0.3))  # February: 28 days


def test_tou_tiers_with_equal_steps_split_into_tou_and_block_adders() -> None:
    rec = bench_record()
    rec["energyratestructure"] = [
        [{"rate": 0.20, "max": 500, "unit": "kWh"}, {"rate": 0.26}],
        [{"rate": 0.25, "max": 500, "unit": "kWh"}, {"rate": 0.31}],
        [{"rate": 0.30, "max": 500, "unit": "kWh"}, {"rate": 0.36}],
    ]
    comps = components(urdb_to_mapping(rec))
    assert comps["energy"]["rates"] == {"P1": 0.20, "P2": 0.25, "P3": 0.30}
    tiers = comps["energy_tiers"]["tiers"]
    assert tiers[0] == {"up_to_kwh": 500, "rate": 0.0}
    assert tiers[1]["rate"] == pytest.approx(0.06)
    data = year_data(1.0, "1h")
    res = bill(tariff_from_urdb(rec), data)
    plain = bill(tariff_from_urdb(bench_record()), data)
    extra = np.maximum(month_kwh(data) - 500, 0) * 0.06
    np.testing.assert_allclose(res.totals(), plain.totals() + extra, rtol=1e-12)


def test_tou_tiers_with_different_limits_are_refused_or_billed_at_first_tier() -> None:
    rec = bench_record()
    rec["energyratestructure"] = [
        [{"rate": 0.20, "max": 500, "unit": "kWh"}, {"rate": 0.26}],
        [{"rate": 0.25, "max": 800, "unit": "kWh"}, {"rate": 0.31}],
        [{"rate": 0.30}],
    ]
    with pytest.raises(TariffSchemaError, match=r"`energyratestructure`.*not supported"):
        tariff_from_urdb(rec)
    conv = urdb_to_mapping(rec, strict=False)
    assert len(conv.ignored) == 1
    assert conv.ignored[0].startswith("energyratestructure")
    assert "first-tier price" in conv.ignored[0]
    assert "energy_tiers" not in components(conv)
    tariff = tariff_from_urdb(rec, strict=False)
    assert "NOT BILLED" in (tariff.doc.description or "")
    data = year_data(1.0, "1h")
    plain = bill(tariff_from_urdb(bench_record()), data).totals()
    np.testing.assert_allclose(bill(tariff, data).totals(), plain, rtol=1e-12)


def test_tiers_in_unused_periods_do_not_matter() -> None:
    rec = bench_record()
    rec["energyratestructure"].append([{"rate": 0.5, "max": 10, "unit": "kWh/kW"}, {"rate": 0.6}])
    assert "energy_tiers" not in components(urdb_to_mapping(rec))


def test_fuel_adjustments_are_monthly_adders() -> None:
    adj = [0.01 * (m + 1) for m in range(12)]
    rec = flat(0.1, fueladjustmentsmonthly=adj)
    comps = components(urdb_to_mapping(rec))
    assert comps["fuel_adjustment"]["schedule"] == "months"
    data = year_data(1.0, "1h")
    res = bill(tariff_from_urdb(rec), data)
    expected = month_kwh(data)[0] * (0.1 + np.array(adj))
    np.testing.assert_allclose(res.totals()[0], expected, rtol=1e-12)
    assert "fuel_adjustment" not in components(
        urdb_to_mapping(flat(0.1, fueladjustmentsmonthly=[0] * 12))
    )


# --------------------------------------------------------------------- fixed, minimum


@pytest.mark.parametrize(
    ("units", "convention", "jan", "year"),
    [
        ("$/month", "actual", 3.0, 36.0),
        ("$/year", "actual", 0.25, 3.0),
        ("$/day", "actual", 93.0, 1095.0),
        ("$/day", "sam", 3.0 * 365 / 12, 1095.0),
    ],
)
def test_fixed_charge_units(units: str, convention: Any, jan: float, year: float) -> None:
    rec = flat(0.0, fixedchargefirstmeter=3.0, fixedchargeunits=units)
    res = bill(tariff_from_urdb(rec, day_convention=convention), year_data(0.0, "1h"))
    assert res.totals()[0, 0] == pytest.approx(jan)
    assert res.totals().sum() == pytest.approx(year)


def test_fixed_charge_without_units_is_monthly_with_a_note() -> None:
    conv = urdb_to_mapping(flat(0.1, fixedchargefirstmeter=3.0))
    assert components(conv)["fixed"]["per"] == "month"
    assert any("fixedchargeunits" in n for n in conv.notes)
    assert "fixedchargeunits" in (conv.mapping["description"] or "")


def test_legacy_fixed_monthly_charge() -> None:
    assert components(urdb_to_mapping(flat(0.1, fixedmonthlycharge=4.0)))["fixed"]["amount"] == 4.0
    with pytest.raises(TariffSchemaError, match="fixedmonthlycharge"):
        urdb_to_mapping(
            flat(0.1, fixedmonthlycharge=4.0, fixedchargefirstmeter=5.0, fixedchargeunits="$/month")
        )


def test_monthly_minimum_tops_up_energy_and_fixed() -> None:
    rec = flat(
        0.1,
        fixedchargefirstmeter=5.0,
        fixedchargeunits="$/month",
        mincharge=60.0,
        minchargeunits="$/month",
    )
    data = year_data(1.0, "1h")  # January 74.4 + 5; February 67.2 + 5 ... all above 60
    low = year_data(0.5, "1h")  # January 37.2 + 5 -> 60
    t = tariff_from_urdb(rec)
    assert bill(t, data).totals()[0, 0] == pytest.approx(79.4)
    res = bill(t, low)
    assert res.totals()[0, 0] == pytest.approx(60.0)
    line = next(i for i, s in enumerate(res.lines) if s.component_id == "minimum")
    assert res.amount[0, line] == pytest.approx(60.0 - 42.2)


def test_day_minimum_uses_365_12_days_per_month_with_a_note() -> None:
    conv = urdb_to_mapping(flat(0.1, mincharge=2.0, minchargeunits="$/day"))
    assert components(conv)["minimum"]["amount"] == pytest.approx(2.0 * 365 / 12)
    assert any("$/day" in n for n in conv.notes)


# ----------------------------------------------------------------------------- demand


def test_flat_demand_by_month_and_tou_demand() -> None:
    rec = flat(
        0.0,
        flatdemandstructure=[[{"rate": 4.0}], [{"rate": 6.0, "adj": 1.0}]],
        flatdemandmonths=[0] * 5 + [1] * 4 + [0] * 3,
        demandratestructure=[[{"rate": 0.0}], [{"rate": 10.0}]],
        demandweekdayschedule=rows([0] * 12 + [1] * 6 + [0] * 6),
        demandweekendschedule=rows([0] * 24),
    )
    comps = components(urdb_to_mapping(rec))
    assert comps["demand_flat_2"]["bands"] == ["F2"]
    assert comps["demand_d2"]["bands"] == ["D2"]
    assert "demand_d1" not in comps  # zero price: no line
    data = year_data(0.25, "15min")  # 1 kW all the time
    idx = data.start_utc
    energy = data.energy_kwh.copy()
    spike_jan = (idx.month == 1) & (idx.day == 6) & (idx.hour == 3)  # Saturday night: 3 kW
    spike_jul = (idx.month == 7) & (idx.day == 3) & (idx.hour == 14)  # Tuesday peak: 2 kW
    energy[0, spike_jan] = 0.75
    energy[0, spike_jul] = 0.5
    res = bill(tariff_from_urdb(rec), IntervalData(idx, energy, data.meter_ids))
    totals = res.totals()[0]
    assert totals[0] == pytest.approx(3.0 * 4.0 + 1.0 * 10.0)
    assert totals[6] == pytest.approx(2.0 * 7.0 + 2.0 * 10.0)
    assert totals[2] == pytest.approx(1.0 * 4.0 + 1.0 * 10.0)


def test_flat_demand_all_year_needs_no_schedule() -> None:
    comps = components(
        urdb_to_mapping(flat(0.0, flatdemandstructure=[[{"rate": 4.0}]], flatdemandmonths=[0] * 12))
    )
    assert "schedule" not in comps["demand_flat"]


# ------------------------------------------------------------------------ time zone


def test_schedules_are_read_on_the_local_clock() -> None:
    rec = flat(
        0.0,
        energyratestructure=[[{"rate": 0.0}], [{"rate": 1.0}]],
        energyweekdayschedule=rows([0] * 12 + [1] + [0] * 11),
        energyweekendschedule=rows([0] * 12 + [1] + [0] * 11),
    )
    tz = "America/New_York"
    tariff = tariff_from_urdb(rec, timezone=tz)
    assert tariff.timezone == tz
    data = year_data(0.0, "1h", tz=tz)
    energy = data.energy_kwh.copy()
    energy[0, data.start_utc.hour == 17] = 1.0  # 12:00 EST (priced), 13:00 EDT (free)
    res = bill(tariff, IntervalData(data.start_utc, energy, data.meter_ids))
    local = data.start_utc.tz_convert(tz)
    expected = float(((data.start_utc.hour == 17) & (local.hour == 12)).sum())
    assert res.totals().sum() == pytest.approx(expected)
    assert 100 < expected < 200


# ------------------------------------------------------------- validity, metadata


def test_start_and_end_dates_bound_the_version() -> None:
    rec = flat(0.1, startdate=1546300800, enddate="2019-07-01")
    tariff = tariff_from_urdb(rec)
    assert tariff.validity() == (dt.date(2019, 1, 1), dt.date(2019, 7, 1))
    with pytest.raises(TariffValidityError):
        bill(tariff, year_data(1.0, "1h", year=2018))


def test_metadata_is_kept_and_attrs_are_noted() -> None:
    rec = bench_record() | {
        "uri": "https://apps.openei.org/USURDB/rate/view/abc",
        "eiaid": 14328,
        "description": "Residential time of use.",
        "approved": False,
        "peakkwcapacitymax": 20,
        "energyattrs": [{"Power Cost Adjustment": "varies"}],
        "is_default": True,
        "voltagecategory": "Secondary",
    }
    tariff = tariff_from_urdb(rec)
    desc = tariff.doc.description or ""
    assert desc.startswith("Residential time of use.")
    assert "peakkwcapacitymax=20" in desc
    assert "Power Cost Adjustment" in desc
    assert tariff.doc.source.url == rec["uri"]
    assert tariff.doc.customer_class == ("Residential",)
    assert tariff.doc.provisional


def test_the_record_is_not_modified() -> None:
    rec = bench_record()
    before = copy.deepcopy(rec)
    tariff_from_urdb(rec)
    assert rec == before


# ------------------------------------------------------------------------- refusals

UNSUPPORTED: list[tuple[dict[str, Any], str]] = [
    (
        {"coincidentratestructure": [[{"rate": 3.0}]], "coincidentrateschedule": rows([0] * 24)},
        "coincidentratestructure",
    ),
    ({"lookbackpercent": 0.8, "lookbackrange": 11}, "lookbackpercent"),
    ({"demandratchetpercentage": [0.35] * 12}, "demandratchetpercentage"),
    ({"demandwindow": 15}, "demandwindow"),
    ({"demandreactivepowercharge": 2.7}, "demandreactivepowercharge"),
    ({"demandunits": "kVA"}, "demandunits"),
    ({"fixedchargeeaaddl": 3.0}, "fixedchargeeaaddl"),
    ({"annualmincharge": 100.0}, "annualmincharge"),
    ({"mincharge": 100.0, "minchargeunits": "$/year"}, "minchargeunits"),
    (
        {
            "flatdemandstructure": [[{"rate": 3.0, "max": 50}, {"rate": 5.0}]],
            "flatdemandmonths": [0] * 12,
        },
        r"flatdemandstructure\[0\]",
    ),
    ({"flatdemandstructure": [[{"rate": 3.0}]], "flatdemandunit": "kVA"}, "flatdemandunit"),
    ({"demandratestructure": [[{"rate": 3.0}]], "demandrateunit": "hp"}, "demandrateunit"),
    (
        {"energyratestructure": [[{"rate": 0.1, "sell": 0.05}]]},
        r"energyratestructure\[0\]\[0\]\.sell",
    ),
    (
        {"energyratestructure": [[{"rate": 0.1, "max": 200, "unit": "kWh/kW"}, {"rate": 0.2}]]},
        r"energyratestructure\.unit",
    ),
    (
        {
            "energyratestructure": [
                [
                    {"rate": 0.1, "max": 200, "unit": "kWh"},
                    {"rate": 0.2, "max": 400, "unit": "kWh daily"},
                    {"rate": 0.3},
                ]
            ]
        },
        r"energyratestructure\.unit",
    ),
    (
        {"energyratestructure": [[{"rate": 0.1, "surcharge": 1}]]},
        r"energyratestructure\[0\]\[0\]\.surcharge",
    ),
    ({"some_new_field": 1}, "some_new_field"),
]


@pytest.mark.parametrize(("extra", "field"), UNSUPPORTED, ids=[f for _, f in UNSUPPORTED])
def test_unsupported_fields_are_refused_by_name(extra: dict[str, Any], field: str) -> None:
    rec = flat(0.1) | extra
    with pytest.raises(TariffSchemaError, match=rf"URDB field `{field}`: .*not supported"):
        tariff_from_urdb(rec)


@pytest.mark.parametrize(("extra", "field"), UNSUPPORTED, ids=[f for _, f in UNSUPPORTED])
def test_unsupported_fields_are_listed_when_not_strict(extra: dict[str, Any], field: str) -> None:
    rec = flat(0.1) | extra
    conv = urdb_to_mapping(rec, strict=False)
    name = field.replace("\\", "")
    assert any(item.startswith(name) for item in conv.ignored), conv.ignored
    tariff = tariff_from_urdb(rec, strict=False)
    assert name in (tariff.doc.description or "")
    bill(tariff, year_data(0.25, "1h"))  # still bills what it can


def test_zero_valued_ratchets_and_empty_fields_are_accepted() -> None:
    rec = flat(
        0.1,
        demandratchetpercentage=[0] * 12,
        lookbackpercent=0,
        demandwindow=None,
        coincidentratestructure=[],
        fixedchargeeaaddl=0,
    )
    assert urdb_to_mapping(rec).ignored == ()


MALFORMED: list[tuple[dict[str, Any], str]] = [
    ({"energyratestructure": {"rate": 0.1}}, "energyratestructure"),
    ({"energyratestructure": [[{"adj": None}]]}, r"energyratestructure\[0\]\[0\]"),
    ({"energyratestructure": [[{"rate": "abc"}]]}, r"energyratestructure\[0\]\[0\]\.rate"),
    (
        {"energyratestructure": [[{"rate": 0.1}, {"rate": 0.2}]]},
        r"energyratestructure\[0\]\[0\]\.max",
    ),
    (
        {
            "energyratestructure": [
                [{"rate": 0.1, "max": 300}, {"rate": 0.2, "max": 200}, {"rate": 0.3}]
            ]
        },
        r"energyratestructure\[0\]\[1\]\.max",
    ),
    ({"energyratestructure": [[{"rate": 0.1}], [{"rate": 0.2}]]}, "energyweekdayschedule"),
    (
        {
            "energyratestructure": [[{"rate": 0.1}], [{"rate": 0.2}]],
            "energyweekdayschedule": rows([0] * 24),
        },
        "energyweekendschedule",
    ),
    (
        {
            "energyratestructure": [[{"rate": 0.1}], [{"rate": 0.2}]],
            "energyweekdayschedule": rows([0] * 23 + [2]),
            "energyweekendschedule": rows([0] * 24),
        },
        r"energyweekdayschedule\[0\]\[23\]",
    ),
    (
        {
            "energyratestructure": [[{"rate": 0.1}], [{"rate": 0.2}]],
            "energyweekdayschedule": rows([0] * 24)[:11],
            "energyweekendschedule": rows([0] * 24),
        },
        "energyweekdayschedule",
    ),
    ({"fixedchargefirstmeter": 3.0, "fixedchargeunits": "$/kWh"}, "fixedchargeunits"),
    ({"mincharge": 3.0, "minchargeunits": "$/week"}, "minchargeunits"),
    ({"flatdemandstructure": [[{"rate": 3.0}], [{"rate": 4.0}]]}, "flatdemandmonths"),
    (
        {"flatdemandstructure": [[{"rate": 3.0}]], "flatdemandmonths": [1] * 12},
        r"flatdemandmonths\[0\]",
    ),
    ({"startdate": "yesterday"}, "startdate"),
]


@pytest.mark.parametrize(("extra", "field"), MALFORMED, ids=[f for _, f in MALFORMED])
def test_malformed_records_name_the_field(extra: dict[str, Any], field: str) -> None:
    rec = flat(0.1) | extra
    with pytest.raises(TariffSchemaError, match=rf"URDB record flat: URDB field `{field}`"):
        urdb_to_mapping(rec, strict=False)


def test_unknown_time_zone_and_convention() -> None:
    with pytest.raises(TariffSchemaError, match="unknown time zone 'Mars/Base'"):
        urdb_to_mapping(flat(0.1), timezone="Mars/Base")
    with pytest.raises(TariffSchemaError, match="day_convention"):
        urdb_to_mapping(flat(0.1), day_convention="weekly")  # type: ignore[arg-type]


def test_not_a_mapping() -> None:
    with pytest.raises(TariffSchemaError, match="expected a JSON object"):
        urdb_to_mapping([1, 2])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- files


def test_load_urdb_single_record_and_api_answer(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(bench_record()))
    assert load_urdb(one).id == "urdb-bench-3band-tou"
    many = tmp_path / "many.json"
    other = flat(0.1) | {"label": "other"}
    many.write_text(json.dumps({"items": [bench_record(), other]}))
    assert load_urdb(many, label="other").id == "urdb-other"
    with pytest.raises(TariffSchemaError, match=r"2 records; choose one with label=.*other"):
        load_urdb(many)
    with pytest.raises(TariffSchemaError, match="no record with label 'nope'"):
        load_urdb(many, label="nope")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TariffSchemaError, match=r"bad\.json: not valid JSON"):
        load_urdb(bad)
    with pytest.raises(TariffSchemaError, match="cannot read file"):
        load_urdb(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"items": [flat(0.1) | {"label": "x", "demandwindow": 30}]}))
    with pytest.raises(TariffSchemaError, match=r"broken\.json: URDB field `demandwindow`"):
        load_urdb(broken)


def test_docstring_examples() -> None:
    result = doctest.testmod(_urdb, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


# --------------------------------------------------- issue 15: metadata read as metadata
# Each record below reproduces a trait seen in real URDB records in public repositories:
# `demandunits: "kW"` (23 of the 37 records of the issue), `dgrules` (15), `energytoulabels`
# (3) and camel-case spellings of known fields.


def test_metadata_fields_are_read_as_metadata() -> None:
    record = flat(0.1) | {
        "label": "meta",
        "demandunits": "kW",
        "dgrules": "Net Metering",
        "energytoulabels": ["Off-Peak", "On-Peak"],
    }
    imported = urdb_to_mapping(record)  # strict by default
    assert any("dgrules 'Net Metering'" in n and "not billed" in n for n in imported.notes)
    with pytest.raises(TariffSchemaError, match=r"demandunits.*kVA"):
        urdb_to_mapping(flat(0.1) | {"label": "x", "demandunits": "kVA"})


def test_camel_case_fields_are_the_urdb_fields() -> None:
    plain = flat(0.1) | {"label": "c"}
    camel = {
        ("energyRateStructure" if k == "energyratestructure" else k): v for k, v in plain.items()
    }
    assert "energyratestructure" not in camel
    assert urdb_to_mapping(camel).mapping == urdb_to_mapping(plain).mapping
    clash = plain | {"energyRateStructure": [[{"rate": 0.2}]]}
    with pytest.raises(TariffSchemaError, match="given twice"):
        urdb_to_mapping(clash)
