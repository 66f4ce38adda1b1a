"""Cross-check gridtwin against NREL PySAM ``Utilityrate5`` on the same URDB records.

Both engines read the same URDB record: gridtwin through :func:`tariff_from_urdb`, PySAM
through ``UtilityRateTools.URDBv8_to_ElectricityRates``. PySAM takes the load as average
kW per step (kWh x steps per hour) for one "typical" year that starts on a Monday and has
no leap day: 2018 is such a year, so calendar months and weekdays agree. Bills are
compared on the annual total (``utility_bill_wo_sys_year1``) and per month
(``year1_monthly_utility_bill_wo_sys``) within 1e-6 relative.
"""

from __future__ import annotations

import calendar
import copy
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from gridtwin.billing import bill
from gridtwin.tariffs import tariff_from_urdb
from gridtwin.timeseries import IntervalData, regular_index

ur = pytest.importorskip("PySAM.Utilityrate5")
urt = pytest.importorskip("PySAM.UtilityRateTools")

FloatArray = npt.NDArray[np.float64]
YEAR = 2018  # 1 January 2018 is a Monday, as SAM assumes; no leap day
RTOL = 1e-6
DAYS = np.array([calendar.monthrange(YEAR, m)[1] for m in range(1, 13)], dtype=float)

WEEKDAY_3BAND = [0] * 7 + [1] + [2] * 11 + [1] * 4 + [0]


def _rows(row: list[int]) -> list[list[int]]:
    """12 equal month rows (distinct lists: PySAM's importer edits rows in place)."""
    return [list(row) for _ in range(12)]


def _months(rows: list[list[int]]) -> list[list[int]]:
    """Month rows as distinct lists."""
    return [list(r) for r in rows]


BENCH_TOU3: dict[str, Any] = {
    "label": "bench-3band-tou",
    "name": "Benchmark 3-band TOU",
    "startdate": 1514764800,
    "energyratestructure": [
        [{"rate": 0.20, "unit": "kWh"}],
        [{"rate": 0.25, "unit": "kWh"}],
        [{"rate": 0.30, "unit": "kWh"}],
    ],
    "energyweekdayschedule": _rows(WEEKDAY_3BAND),
    "energyweekendschedule": _rows([0] * 24),
    "fixedchargefirstmeter": 10.0,
    "fixedchargeunits": "$/month",
}

FLAT_TIERED: dict[str, Any] = {
    "label": "flat-tiered",
    "energyratestructure": [
        [
            {"rate": 0.10, "max": 300, "unit": "kWh"},
            {"rate": 0.13, "adj": 0.01, "max": 700, "unit": "kWh"},
            {"rate": 0.22, "max": 10_000, "unit": "kWh"},
        ]
    ],
    "energyweekdayschedule": _rows([0] * 24),
    "energyweekendschedule": _rows([0] * 24),
    "fixedchargefirstmeter": 7.5,
    "fixedchargeunits": "$/month",
}

# Summer (Jun-Sep) peak 12-20 on weekdays, winter peak 17-21; the same block limits and
# block price steps (+0.04, +0.09) in every period, as SAM requires.
_SUMMER = [0] * 12 + [1] * 8 + [0] * 4
_WINTER = [2] * 17 + [3] * 4 + [2] * 3
TOU_TIERED: dict[str, Any] = {
    "label": "tou-tiered",
    "energyratestructure": [
        [
            {"rate": 0.12, "max": 400, "unit": "kWh"},
            {"rate": 0.16, "max": 900, "unit": "kWh"},
            {"rate": 0.21},
        ],
        [
            {"rate": 0.30, "max": 400, "unit": "kWh"},
            {"rate": 0.34, "max": 900, "unit": "kWh"},
            {"rate": 0.39},
        ],
        [
            {"rate": 0.11, "max": 400, "unit": "kWh"},
            {"rate": 0.15, "max": 900, "unit": "kWh"},
            {"rate": 0.20},
        ],
        [
            {"rate": 0.19, "adj": 0.01, "max": 400, "unit": "kWh"},
            {"rate": 0.24, "max": 900, "unit": "kWh"},
            {"rate": 0.29},
        ],
    ],
    "energyweekdayschedule": _months([_WINTER] * 5 + [_SUMMER] * 4 + [_WINTER] * 3),
    "energyweekendschedule": _months([[0] * 24] * 9 + [[2] * 24] * 3),
    "fixedchargefirstmeter": 12.0,
    "fixedchargeunits": "$/month",
}

DAILY_TIERED: dict[str, Any] = {
    "label": "daily-tiered",
    "energyratestructure": [
        [
            {"rate": 0.09, "max": 10, "unit": "kWh daily"},
            {"rate": 0.17, "max": 20, "unit": "kWh daily"},
            {"rate": 0.25},
        ]
    ],
    "energyweekdayschedule": _rows([0] * 24),
    "energyweekendschedule": _rows([0] * 24),
}

DAY_FIXED_MINIMUM: dict[str, Any] = {
    "label": "day-fixed-minimum",
    "energyratestructure": [[{"rate": 0.10}], [{"rate": 0.18}]],
    "energyweekdayschedule": _rows([0] * 16 + [1] * 5 + [0] * 3),
    "energyweekendschedule": _rows([0] * 24),
    "fixedchargefirstmeter": 0.6,
    "fixedchargeunits": "$/day",
    "mincharge": 45.0,
    "minchargeunits": "$/month",
}

DAY_MINIMUM: dict[str, Any] = {
    "label": "day-minimum",
    "energyratestructure": [[{"rate": 0.14}]],
    "energyweekdayschedule": _rows([0] * 24),
    "energyweekendschedule": _rows([0] * 24),
    "fixedchargefirstmeter": 120.0,
    "fixedchargeunits": "$/year",
    "mincharge": 1.0,
    "minchargeunits": "$/day",
}

DEMAND: dict[str, Any] = {
    "label": "demand",
    "energyratestructure": [[{"rate": 0.08}], [{"rate": 0.12}]],
    "energyweekdayschedule": _rows([0] * 8 + [1] * 12 + [0] * 4),
    "energyweekendschedule": _rows([0] * 24),
    "flatdemandstructure": [[{"rate": 4.0}], [{"rate": 6.5, "adj": 0.5}]],
    "flatdemandmonths": [0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0],
    "demandratestructure": [[{"rate": 0.0}], [{"rate": 9.0}], [{"rate": 3.0}]],
    "demandweekdayschedule": _months(
        [[0] * 12 + [1] * 6 + [0] * 6] * 6 + [[2] * 10 + [1] * 8 + [2] * 6] * 6
    ),
    "demandweekendschedule": _rows([0] * 24),
    "fixedchargefirstmeter": 25.0,
    "fixedchargeunits": "$/month",
}


def profiles(n_meters: int, steps_per_hour: int, seed: int = 7) -> FloatArray:
    """Synthetic kWh per interval, (n_meters, 8760 x steps_per_hour), from 15-min values."""
    n = 8760 * 4
    hour = (np.arange(n) // 4) % 24 + (np.arange(n) % 4) / 4.0
    day = np.arange(n) // 96
    shape = (
        0.2 + 0.5 * np.exp(-((hour - 8.0) ** 2) / 5.0) + 0.8 * np.exp(-((hour - 19.0) ** 2) / 7.0)
    )
    season = 1.0 + 0.35 * np.cos(2.0 * np.pi * (day - 200) / 365.0)
    rng = np.random.default_rng(seed)
    out = np.empty((n_meters, n))
    for i in range(n_meters):
        scale = rng.uniform(0.3, 2.5)
        out[i] = scale * shape * season * rng.gamma(4.0, 0.25, size=n) / 4.0
    if steps_per_hour == 4:
        return out
    return out.reshape(n_meters, -1, 4).sum(axis=2)


def gridtwin_monthly(record: dict[str, Any], kwh: FloatArray, **kw: Any) -> FloatArray:
    """Monthly totals (n_meters, 12) of gridtwin for the record."""
    idx = regular_index(f"{YEAR}-01-01", kwh.shape[1], f"{60 // (kwh.shape[1] // 8760)}min")
    data = IntervalData(idx, kwh, tuple(f"m{i}" for i in range(kwh.shape[0])))
    result = bill(tariff_from_urdb(record, **kw), data)
    return result.totals()


def pysam_monthly(record: dict[str, Any], kwh: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(annual totals (n,), monthly bills (n, 12)) of PySAM Utilityrate5 for the record."""
    sph = kwh.shape[1] // 8760
    model = ur.new()
    # URDBv8_to_ElectricityRates shifts the schedule matrices in place: give it a copy
    model.ElectricityRates.assign(urt.URDBv8_to_ElectricityRates(copy.deepcopy(record)))
    model.ElectricityRates.rate_escalation = (0.0,)
    model.Lifetime.assign(
        {"analysis_period": 1, "inflation_rate": 0.0, "system_use_lifetime_output": 0}
    )
    model.SystemOutput.degradation = (0.0,)
    model.SystemOutput.gen = (0.0,) * kwh.shape[1]
    annual, monthly = [], []
    for row in kwh:
        model.Load.load = tuple((row * sph).tolist())
        model.execute(0)
        annual.append(model.Outputs.utility_bill_wo_sys_year1)
        monthly.append(model.Outputs.year1_monthly_utility_bill_wo_sys)
    return np.array(annual), np.array(monthly)


def assert_agree(ours: FloatArray, theirs: FloatArray) -> None:
    """Relative agreement within RTOL (on values of order of a bill)."""
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=0.0)


@pytest.fixture(scope="module")
def kwh15() -> FloatArray:
    return profiles(3, 4)


@pytest.fixture(scope="module")
def kwh60(kwh15: FloatArray) -> FloatArray:
    return kwh15.reshape(3, -1, 4).sum(axis=2)


@pytest.mark.parametrize("resolution", ["15min", "hourly"])
@pytest.mark.parametrize(
    "record", [BENCH_TOU3, FLAT_TIERED, TOU_TIERED, DAILY_TIERED, DEMAND], ids=lambda r: r["label"]
)
def test_monthly_and_annual_bills_agree(
    record: dict[str, Any], resolution: str, kwh15: FloatArray, kwh60: FloatArray
) -> None:
    kwh = kwh15 if resolution == "15min" else kwh60
    ours = gridtwin_monthly(record, kwh)
    annual, monthly = pysam_monthly(record, kwh)
    assert_agree(ours, monthly)
    assert_agree(ours.sum(axis=1), annual)


def test_tiers_are_reached(kwh15: FloatArray) -> None:
    """The tiered cases really cross their blocks (otherwise they test little)."""
    monthly_kwh = np.add.reduceat(kwh15, np.r_[0, np.cumsum(DAYS[:-1] * 96)].astype(int), axis=1)
    assert (monthly_kwh > 900).any()
    assert (monthly_kwh < 300).any()
    daily = monthly_kwh / DAYS
    assert (daily > 20).any()
    assert (daily < 10).any()


def test_bench_record_reproduces_the_peer_reference_value() -> None:
    """The peers' scenario total for their meter 0 profile shape is reproduced by both."""
    kwh = profiles(1, 4, seed=11)
    weekday = np.tile(np.repeat(WEEKDAY_3BAND, 4), 365).reshape(365, 96)
    is_weekday = (np.arange(365) % 7) < 5
    band = np.where(is_weekday[:, None], weekday, 0).ravel()
    expected = float(kwh[0] @ np.array([0.20, 0.25, 0.30])[band]) + 120.0
    annual, _ = pysam_monthly(BENCH_TOU3, kwh)
    assert gridtwin_monthly(BENCH_TOU3, kwh).sum() == pytest.approx(expected, rel=1e-12)
    assert annual[0] == pytest.approx(expected, rel=1e-9)


def test_day_fixed_with_minimum_sam_convention_agrees_monthly(kwh15: FloatArray) -> None:
    """$/day fixed as 365/12 days per month (PySAM's convention) + a binding minimum."""
    kwh = kwh15 * np.where(np.arange(kwh15.shape[1]) // 96 < 151, 1.0, 0.08)  # low from June
    ours = gridtwin_monthly(DAY_FIXED_MINIMUM, kwh, day_convention="sam")
    annual, monthly = pysam_monthly(DAY_FIXED_MINIMUM, kwh)
    assert (np.isclose(monthly, 45.0)).any(), "the minimum should bind in some months"
    assert_agree(ours, monthly)
    assert_agree(ours.sum(axis=1), annual)


def test_day_fixed_actual_days_differs_from_sam_only_by_day_count(kwh15: FloatArray) -> None:
    """Per calendar day: each month differs by 0.6 x (days - 365/12) unless the minimum binds;
    the annual fixed charge is the same (365 days x 0.6)."""
    kwh = kwh15 * np.where(np.arange(kwh15.shape[1]) // 96 < 151, 1.0, 0.08)
    ours = gridtwin_monthly(DAY_FIXED_MINIMUM, kwh)
    _, monthly = pysam_monthly(DAY_FIXED_MINIMUM, kwh)
    record = dict(DAY_FIXED_MINIMUM)
    del record["mincharge"], record["minchargeunits"]
    ours_pre = gridtwin_monthly(record, kwh)
    _, sam_pre = pysam_monthly(record, kwh)
    assert_agree(ours_pre - 0.6 * DAYS, sam_pre - 0.6 * 365.0 / 12.0)
    assert_agree(ours_pre.sum(axis=1), sam_pre.sum(axis=1))
    assert_agree(ours, np.maximum(ours_pre, 45.0))
    assert_agree(monthly, np.maximum(sam_pre, 45.0))


def test_day_minimum_and_year_fixed_agree_monthly(kwh15: FloatArray) -> None:
    kwh = kwh15 * 0.3
    ours = gridtwin_monthly(DAY_MINIMUM, kwh)
    annual, monthly = pysam_monthly(DAY_MINIMUM, kwh)
    assert np.isclose(monthly, 365 / 12).any(), "the minimum should bind in some months"
    assert not np.isclose(monthly, 365 / 12).all()
    assert_agree(ours, monthly)
    assert_agree(ours.sum(axis=1), annual)
