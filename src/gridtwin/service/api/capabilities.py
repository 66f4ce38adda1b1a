"""The existing capabilities for other enterprise systems: bills, norms, power quality,
scenario runs (analyst: they cost CPU), and the bundled tariffs (viewer).

Every route converts JSON to the inputs of the workflow the command line uses
(``gridtwin bill``, ``norms``, ``quality assess``, ``network scenario``) and the result
back; the workflows do the work, in a worker thread (``state.run``). Inputs are bounded
(values per request, days per scenario) and a bad one answers 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import Field, model_validator

from gridtwin.errors import InputError
from gridtwin.service.api._common import (
    InputModel,
    OutputModel,
    UtcTime,
    check_span,
    known_points,
    none_if_nan,
)
from gridtwin.service.api.twin import TwinDep
from gridtwin.service.deps import Analyst, AuditDep, StateDep, Viewer

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.service._state import ServiceState
    from gridtwin.service.twin import TwinRuntime
    from gridtwin.store import ResampleHow
    from gridtwin.timeseries import IntervalData

__all__ = [
    "MAX_BILL_VALUES",
    "MAX_COMPARE_OFFERS",
    "MAX_NORMS_UNITS",
    "MAX_QUALITY_VALUES",
    "MAX_SCENARIO_SPAN_S",
    "router",
]

router = APIRouter(tags=["capabilities"])

#: Interval values one bill may carry inline (a leap year of quarter hours is 35,136).
MAX_BILL_VALUES = 40_000
#: Days one bill may span (a billing period of a year at most).
MAX_BILL_DAYS = 366
#: Offers one comparison may bill.
MAX_COMPARE_OFFERS = 8
#: Rows of power-quality values one assessment may carry inline (a week of 10-min
#: values of 3 phases at 30 points is 90,720).
MAX_QUALITY_VALUES = 100_000
#: Territorial units one norms calculation may sum.
MAX_NORMS_UNITS = 20
#: The longest scenario run on the API (7 days: 672 quarter hours, twice).
MAX_SCENARIO_SPAN_S = 7 * 86_400

Name = Annotated[str, Field(min_length=1, max_length=200)]


# ====================================================================== tariffs


class TariffPropertyOut(OutputModel):
    """A customer property the tariff reads (``customer`` of ``POST /bills``)."""

    name: str
    type: Literal["str", "bool", "number"]
    allowed: list[str] | None = Field(description="The values a str property may take.")
    default: str | bool | float | None = Field(description="None: the bill needs it.")
    description: str | None
    unit: str | None


class TariffOut(OutputModel):
    """One bundled tariff."""

    id: str
    name: str
    jurisdiction: str
    currency: str
    valid_from: str
    valid_to: str = Field(description="End (exclusive), or 'open'.")
    provisional: bool = Field(description="Values not verified against the official text.")
    timezone: str = Field(default="UTC", description="The zone of its local days and hours.")
    properties: list[TariffPropertyOut] = Field(
        default_factory=list, description="The customer properties it reads."
    )


class TariffsOut(OutputModel):
    """The bundled tariffs, by id."""

    tariffs: list[TariffOut]


def _properties(tariff_id: str) -> list[TariffPropertyOut]:
    from gridtwin.tariffs import get_tariff

    return [
        TariffPropertyOut(
            name=name,
            type=p.type,
            allowed=None if p.allowed is None else list(p.allowed),
            default=p.default,
            description=p.description,
            unit=p.unit,
        )
        for name, p in get_tariff(tariff_id).doc.properties.items()
    ]


def _tariffs() -> TariffsOut:
    from gridtwin.tariffs import get_tariff
    from gridtwin.workflows.tariffs import tariff_catalogue

    frame = tariff_catalogue()
    return TariffsOut(
        tariffs=[
            TariffOut(
                id=str(r["id"]),
                name=str(r["name"]),
                jurisdiction=str(r["jurisdiction"]),
                currency=str(r["currency"]),
                valid_from=str(r["valid_from"]),
                valid_to=str(r["valid_to"]),
                provisional=r["provisional"] == "yes",
                timezone=get_tariff(str(r["id"])).timezone,
                properties=_properties(str(r["id"])),
            )
            for r in frame.to_dict("records")
        ]
    )


@router.get("/tariffs", summary="The bundled tariffs")
async def tariffs(user: Viewer, state: StateDep) -> TariffsOut:
    """Ids, names, currencies and validity of the tariffs ``POST /bills`` can use."""
    return await state.run(_tariffs)


# ====================================================================== bills


class IntervalValuesIn(InputModel):
    """Interval values of one meter, one per step from ``start_utc``."""

    start_utc: UtcTime = Field(description="Start of the first interval.")
    step_s: int = Field(default=900, ge=60, le=86_400, description="Interval length [s].")
    energy_kwh: list[float | None] = Field(
        min_length=1,
        max_length=MAX_BILL_VALUES,
        description="Energy per interval [kWh], consumer frame; null marks a gap.",
    )


class _ConsumptionIn(InputModel):
    """One point of delivery's consumption over one billing period (what bills read)."""

    period_start: dt.date = Field(description="First local day of the period.")
    period_end: dt.date = Field(description="Local day after the period (excluded).")
    point_id: Name | None = Field(
        default=None,
        description="A measurement point in the store: energy (kWh per interval) or p "
        "(average kW per interval) over the period.",
    )
    step_s: int = Field(
        default=900, ge=60, le=86_400, description="With point_id: the interval length [s]."
    )
    values: IntervalValuesIn | None = Field(default=None, description="Or the values inline.")
    meter_id: Name = Field(default="pod", description="With values: the meter's name.")
    customer: dict[
        Annotated[str, Field(min_length=1, max_length=100)],
        bool | float | Annotated[str, Field(max_length=200)],
    ] = Field(
        default_factory=dict,
        max_length=50,
        description="Customer properties the tariff reads (e.g. resident: true).",
    )
    allow_gaps: bool = Field(
        default=False, description="Bill despite missing intervals (the bill says so)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.point_id is None) == (self.values is None):
            msg = "give exactly one of point_id (stored values) or values (inline)"
            raise ValueError(msg)
        if self.period_end <= self.period_start:
            msg = "period_end must be after period_start (the end day is excluded)"
            raise ValueError(msg)
        if (self.period_end - self.period_start).days > MAX_BILL_DAYS:
            msg = f"the period may span at most {MAX_BILL_DAYS} days; bill it in parts"
            raise ValueError(msg)
        return self


class BillIn(_ConsumptionIn):
    """A point of delivery billed under a bundled tariff for one period."""

    tariff_id: str = Field(
        min_length=1, max_length=100, description="A bundled tariff (GET /tariffs)."
    )


class CompareIn(_ConsumptionIn):
    """One point of delivery's consumption billed under several bundled offers."""

    tariff_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=2,
        max_length=MAX_COMPARE_OFFERS,
        description="Two or more bundled tariffs of one currency (GET /tariffs), no repeats.",
    )

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if len(set(self.tariff_ids)) != len(self.tariff_ids):
            msg = "tariff_ids: each tariff once"
            raise ValueError(msg)
        return self


class BillLineOut(OutputModel):
    """One printed line of the bill (money rounded as printed)."""

    section: str
    component_id: str
    label: str
    band: str | None
    period_from: dt.date
    period_to: dt.date
    quantity: float | None
    quantity_unit: str
    unit_price: float | None
    price_unit: str
    amount: str = Field(description="Decimal string in the currency's minor unit.")
    is_tax: bool
    explanation: str


class BillOut(OutputModel):
    """An itemised bill; money as decimal strings, rounded only where presented."""

    tariff_id: str
    tariff_name: str
    meter_id: str
    period_from: dt.date
    period_to: dt.date
    currency: str
    lines: list[BillLineOut]
    subtotals: dict[str, str]
    tax_bases: dict[str, str]
    total: str = Field(description="The sum of the presented lines.")
    total_unrounded: float | None
    energy_by_band_kwh: dict[str, float | None]
    energy_kwh: float | None
    max_power_kw: float | None
    missing_intervals: int
    notes: list[str]


def _bundled_tariff(tariff_id: str) -> Any:
    """A bundled tariff by id (never a file path: the API reads no server files)."""
    from gridtwin.tariffs import builtin_tariff_ids, get_tariff

    ids = builtin_tariff_ids()
    if tariff_id not in ids:
        msg = f"tariff_id {tariff_id!r} is not a bundled tariff; GET /api/v1/tariffs lists them"
        raise InputError(msg)
    return get_tariff(tariff_id)


def _local_midnight_utc(day: dt.date, zone: str) -> pd.Timestamp:
    import pandas as pd

    return pd.Timestamp(day).tz_localize(zone).tz_convert("UTC")


def _stored_energy(
    state: ServiceState, body: _ConsumptionIn, tariff: Any
) -> tuple[pd.DatetimeIndex, Any, str]:
    """The point's energy per interval [kWh] over the period (NaN where nothing)."""
    import pandas as pd

    from gridtwin.store import quantities

    (pid,) = known_points(state.store, [str(body.point_id)])
    point = next(p for p in state.store.points() if p.point_id == pid)
    if point.quantity not in ("energy", "p"):
        msg = (
            f"point_id {pid!r} measures {point.quantity!r}; a bill needs an energy point "
            "(kWh per interval) or an active-power point p (kW)"
        )
        raise InputError(msg)
    start = _local_midnight_utc(body.period_start, tariff.timezone)
    end = _local_midnight_utc(body.period_end, tariff.timezone)
    check_span(start, end, body.step_s, state.settings.max_query_points)
    step = pd.Timedelta(seconds=body.step_s)
    how: ResampleHow = "sum" if point.quantity == "energy" else "mean"
    frame = state.store.resample([pid], start, end, step, how)
    factor = quantities()[point.quantity].units[point.unit]  # to kWh or kW
    values = frame[pid].to_numpy(dtype=float) * factor
    if point.quantity == "p":
        values = values * body.step_s / 3600.0  # average kW over the interval -> kWh
    index = pd.DatetimeIndex(frame.index)
    if index.tz is None:
        index = index.tz_localize("UTC")
    return index, values, pid


def _consumption(state: ServiceState, body: _ConsumptionIn, tariff: Any) -> IntervalData:
    """The body's consumption (inline, or the stored point's in ``tariff``'s local days)."""
    import numpy as np
    import pandas as pd

    from gridtwin.timeseries import IntervalData

    if body.values is not None:
        v = body.values
        index = pd.date_range(
            pd.Timestamp(v.start_utc), periods=len(v.energy_kwh), freq=f"{v.step_s}s"
        )
        values = np.array([np.nan if x is None else x for x in v.energy_kwh], dtype=float)
        meter = body.meter_id
    else:
        index, values, meter = _stored_energy(state, body, tariff)
    return IntervalData(index, values, (meter,), source="request")


def _bill(state: ServiceState, body: BillIn) -> BillOut:
    from gridtwin.billing import bill_for
    from gridtwin.workflows.billing import BillingRun

    tariff = _bundled_tariff(body.tariff_id)
    data = _consumption(state, body, tariff)
    job = BillingRun(
        tariff,
        data,
        periods=[(body.period_start, body.period_end)],
        customers=dict(body.customer),
        allow_gaps=body.allow_gaps,
    )
    result = job.run()
    return _bill_out(bill_for(result, 0, 0).to_dict())


def _bill_out(d: dict[str, Any]) -> BillOut:
    lines = [
        BillLineOut(
            **{k: ln[k] for k in BillLineOut.model_fields if k not in ("quantity", "unit_price")},
            quantity=none_if_nan(ln["quantity"]),
            unit_price=none_if_nan(ln["unit_price"]),
        )
        for ln in d["lines"]
    ]
    return BillOut(
        tariff_id=d["tariff_id"],
        tariff_name=d["tariff_name"],
        meter_id=d["meter_id"],
        period_from=d["period_from"],
        period_to=d["period_to"],
        currency=d["currency"],
        lines=lines,
        subtotals={str(k): str(v) for k, v in d["subtotals"].items()},
        tax_bases={str(k): str(v) for k, v in d["tax_bases"].items()},
        total=str(d["total"]),
        total_unrounded=none_if_nan(d["total_unrounded"]),
        energy_by_band_kwh={str(k): none_if_nan(v) for k, v in d["energy_by_band_kwh"].items()},
        energy_kwh=none_if_nan(d["energy_kwh"]),
        max_power_kw=none_if_nan(d["max_power_kw"]),
        missing_intervals=int(d["missing_intervals"]),
        notes=[str(n) for n in d["notes"]],
    )


@router.post("/bills", summary="Bill a point of delivery under a bundled tariff")
async def bills(user: Analyst, state: StateDep, audit: AuditDep, body: BillIn) -> BillOut:
    """The itemised bill of one period (the library's ``BillingRun``, as ``gridtwin bill``):
    of a measurement point's stored values, or of interval values given inline. Gaps are
    an error naming the time unless ``allow_gaps``."""
    audit.obj = f"tariff={body.tariff_id}"
    audit.detail = f"point={body.point_id}" if body.point_id else f"meter={body.meter_id}"
    return await state.run(_bill, state, body)


class OfferOut(OutputModel):
    """One offer of a comparison: its place, its total against the others, its bill."""

    rank: int = Field(description="1 for the cheapest.")
    tariff_id: str
    tariff_name: str
    total: str = Field(description="The bill's total (decimal string, as printed).")
    extra_vs_best: float = Field(description="What it costs more than the cheapest.")
    saving_vs_worst: float = Field(description="What it saves against the dearest.")
    bill: BillOut


class CompareOut(OutputModel):
    """Offers ranked for one consumption, cheapest first, each with its itemised bill."""

    currency: str
    meter_id: str
    period_from: dt.date
    period_to: dt.date
    energy_kwh: float | None
    offers: list[OfferOut]
    notes: list[str] = Field(description="Each offer's notes, prefixed with its id.")


def _compare(state: ServiceState, body: CompareIn) -> CompareOut:
    from gridtwin.billing import bill_for, compare
    from gridtwin.workflows.billing import BillingRun

    tariffs = [_bundled_tariff(t) for t in body.tariff_ids]
    data = _consumption(state, body, tariffs[0])
    period = (body.period_start, body.period_end)
    customers = dict(body.customer)
    ranking = compare(
        tariffs, data, periods=[period], customers=customers, allow_gaps=body.allow_gaps
    )
    by_id = {t.id: t for t in tariffs}
    offers: list[OfferOut] = []
    for rank, row in enumerate(ranking.table.to_dict("records"), start=1):
        tariff = by_id[str(row["tariff_id"])]
        props = {k: v for k, v in customers.items() if k in tariff.doc.properties}
        result = BillingRun(
            tariff, data, periods=[period], customers=props, allow_gaps=body.allow_gaps
        ).run()
        one = _bill_out(bill_for(result, 0, 0).to_dict())
        offers.append(
            OfferOut(
                rank=rank,
                tariff_id=one.tariff_id,
                tariff_name=one.tariff_name,
                total=one.total,
                extra_vs_best=round(float(row["extra_vs_best"]), 6),
                saving_vs_worst=round(float(row["saving_vs_worst"]), 6),
                bill=one,
            )
        )
    first = offers[0].bill
    return CompareOut(
        currency=ranking.currency,
        meter_id=first.meter_id,
        period_from=first.period_from,
        period_to=first.period_to,
        energy_kwh=first.energy_kwh,
        offers=offers,
        notes=list(ranking.notes),
    )


@router.post("/bills/compare", summary="Compare offers: one consumption under several tariffs")
async def bills_compare(
    user: Analyst, state: StateDep, audit: AuditDep, body: CompareIn
) -> CompareOut:
    """The same consumption (a stored point or inline values, as ``POST /bills``) billed
    under two or more bundled offers of one currency and ranked cheapest first (the
    library's ``compare``, as ``gridtwin compare``), with each offer's itemised bill."""
    audit.obj = "tariffs=" + ",".join(body.tariff_ids)
    audit.detail = f"point={body.point_id}" if body.point_id else f"meter={body.meter_id}"
    return await state.run(_compare, state, body)


# ====================================================================== norms


class NormsIn(InputModel):
    """Pumping-station norms of one or more territorial units (summed, cl. 4.4)."""

    calculation: Literal["past-year", "coming-year"] = Field(
        description="past-year (actual and normative use, reserves) or coming-year (the "
        "task and the normative), as `gridtwin norms past-year|coming-year`."
    )
    units: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_NORMS_UNITS,
        description="One input per territorial unit, as the .yaml/.toml input files "
        "(title, options, pumps, stations, past_year and/or coming_year; see "
        "examples/heatnet/seed-example.yaml).",
    )


class NormsUnitOut(OutputModel):
    """The headline figures of one territorial unit."""

    title: str
    territorial_unit: str
    year: int | None
    total_normative_energy_kwh: float | None
    total_calculated_energy_kwh: float | None = Field(description="Past year only.")
    total_nominal_energy_kwh: float | None = Field(description="Past year only.")
    reserves_factor: float | None
    task: float | None = Field(description="Coming year only: the task ε.")
    warnings: list[str]


class NormsOut(OutputModel):
    """The norms: headline figures, and each unit's full result (as the CLI's JSON)."""

    calculation: str
    summary: list[NormsUnitOut]
    units: list[dict[str, Any]] = Field(description="The full result of each unit.")
    territorial_totals: list[dict[str, Any]] | None = Field(
        description="The sums over the units (several units only)."
    )


def _norms(body: NormsIn) -> NormsOut:
    from gridtwin.heatnet.report import territorial_frame
    from gridtwin.heatnet.schema import input_from_dict
    from gridtwin.workflows.norms import NormsCalculation

    inputs = [input_from_dict(u, f"units[{i}]") for i, u in enumerate(body.units)]
    calc = NormsCalculation(inputs)
    summary: list[NormsUnitOut] = []
    full: list[dict[str, Any]] = []
    if body.calculation == "past-year":
        past = calc.past_year()
        totals = past.totals
        for r in past.results:
            full.append(r.to_dict())
            summary.append(
                NormsUnitOut(
                    title=r.title,
                    territorial_unit=r.territorial_unit,
                    year=r.year,
                    total_normative_energy_kwh=none_if_nan(r.total_normative_energy_kwh),
                    total_calculated_energy_kwh=none_if_nan(r.total_calculated_energy_kwh),
                    total_nominal_energy_kwh=none_if_nan(r.total_nominal_energy_kwh),
                    reserves_factor=none_if_nan(r.reserves_factor),
                    task=None,
                    warnings=list(r.warnings),
                )
            )
    else:
        coming = calc.coming_year()
        totals = coming.totals
        for _, c in coming.results:
            full.append(c.to_dict())
            summary.append(
                NormsUnitOut(
                    title=c.title,
                    territorial_unit=c.territorial_unit,
                    year=c.year,
                    total_normative_energy_kwh=none_if_nan(c.total_normative_energy_kwh),
                    total_calculated_energy_kwh=None,
                    total_nominal_energy_kwh=None,
                    reserves_factor=none_if_nan(c.reserves_factor),
                    task=none_if_nan(c.task.task),
                    warnings=list(c.warnings),
                )
            )
    rows = None
    if totals is not None:
        rows = [_finite(r) for r in territorial_frame(totals).to_dict("records")]
    return NormsOut(
        calculation=body.calculation, summary=summary, units=full, territorial_totals=rows
    )


def _finite(row: dict[Any, Any]) -> dict[str, Any]:
    return {
        str(k): (None if isinstance(v, float) and not math.isfinite(v) else v)
        for k, v in row.items()
    }


@router.post("/norms", summary="Pumping-station norms (district heating)")
async def norms(user: Analyst, state: StateDep, audit: AuditDep, body: NormsIn) -> NormsOut:
    """The normative electricity use of heat-network pumping stations (the library's
    ``NormsCalculation``, as ``gridtwin norms``); an input error names the unit
    (``units[i]``) and the field."""
    audit.obj = f"norms={body.calculation}"
    audit.detail = f"units={len(body.units)}"
    return await state.run(_norms, body)


# ====================================================================== power quality


class QualityValueIn(InputModel):
    """One aggregated value (IEC 61000-4-30: 10-min voltage, THD, ...; 10-s frequency)."""

    time_utc: UtcTime = Field(description="Interval start, on the quantity's UTC grid.")
    point_id: Name = "inline"
    indicator: str = Field(
        min_length=1,
        max_length=40,
        description="voltage, frequency, thd, h5, u2, pst, plt, ... (may carry a phase "
        "and unit, e.g. voltage_a_v).",
    )
    phase: str = Field(default="", max_length=4, description="a, b, c, ab, bc, ca or empty.")
    value: float = Field(ge=-1e9, le=1e9)
    flagged: bool = False


class QualityIn(InputModel):
    """A supply-voltage assessment of stored or inline aggregated values."""

    standard: Literal["GOST 32144-2013", "EN 50160:2010"] = "GOST 32144-2013"
    voltage_level: Literal["LV", "MV"] = "LV"
    nominal_v: float | None = Field(
        default=None, gt=0, le=1e6, description="U0 of phase-to-neutral channels [V]."
    )
    nominal_line_v: float | None = Field(
        default=None, gt=0, le=1e6, description="U0 of line-to-line channels [V]."
    )
    timezone: str = Field(
        default="UTC", min_length=1, max_length=64, description="Zone of the weeks."
    )
    isolated: bool = Field(default=False, description="Isolated-system frequency limits.")
    point_ids: list[Name] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Measurement points in the store: voltage (u, V or kV; vm, pu) or "
        "frequency (f, Hz), their values taken as aggregates on the IEC grid.",
    )
    start_utc: UtcTime | None = Field(default=None, description="With point_ids.")
    end_utc: UtcTime | None = Field(default=None, description="With point_ids (excluded).")
    values: list[QualityValueIn] | None = Field(
        default=None, min_length=1, max_length=MAX_QUALITY_VALUES, description="Or inline."
    )

    @model_validator(mode="after")
    def _one_source(self) -> QualityIn:
        if (self.point_ids is None) == (self.values is None):
            msg = "give exactly one of point_ids (stored values) or values (inline)"
            raise ValueError(msg)
        if self.point_ids is not None and (self.start_utc is None or self.end_utc is None):
            msg = "point_ids needs start_utc and end_utc"
            raise ValueError(msg)
        return self


class QualityPointOut(OutputModel):
    """The verdict of one point over the weeks assessed."""

    point_id: str
    verdict: str
    n_indicators: int | None
    n_weeks: int | None
    failed_indicators: str | None
    insufficient_indicators: str | None
    min_availability_percent: float | None


class QualityOut(OutputModel):
    """The weekly assessment: per point, and per point, week and indicator."""

    standard: str
    edition: str
    voltage_level: str
    timezone: str
    nominal_v: float | None
    nominal_line_v: float | None
    points: list[QualityPointOut]
    table: list[dict[str, Any]] = Field(
        description="Per point, week and indicator: verdict, counts N, N1, N2, "
        "availability, statistics in value_unit, clause."
    )
    limits: list[dict[str, Any]]
    notes: list[str]


#: Store quantity -> (quality indicator, its unit text).
_PQ_QUANTITY = {"u": "voltage", "vm": "voltage", "f": "frequency"}
_PQ_UNIT = {"V": "v", "kV": "kv", "pu": "pu", "Hz": "hz"}


def _stored_pq(state: ServiceState, body: QualityIn) -> pd.DataFrame:
    import pandas as pd

    if body.point_ids is None or body.start_utc is None or body.end_utc is None:
        msg = "point_ids needs start_utc and end_utc"
        raise InputError(msg)
    ids = known_points(state.store, body.point_ids)
    points = {p.point_id: p for p in state.store.points() if p.point_id in ids}
    for pid in ids:
        if points[pid].quantity not in _PQ_QUANTITY:
            msg = (
                f"point_ids: {pid!r} measures {points[pid].quantity!r}; power quality "
                "assesses voltage (u, vm) and frequency (f) points"
            )
            raise InputError(msg)
    step = 10 if any(points[p].quantity == "f" for p in ids) else 600
    check_span(body.start_utc, body.end_utc, step, state.settings.max_query_points, per="point")
    long = state.store.window(ids, pd.Timestamp(body.start_utc), pd.Timestamp(body.end_utc))
    if long.empty:
        msg = "point_ids: no stored values between start_utc and end_utc"
        raise InputError(msg)
    pts = long["point_id"].map(points)
    return pd.DataFrame(
        {
            "time_utc": long["ts_utc"],
            "point_id": long["point_id"].astype(str),
            "indicator": [f"{_PQ_QUANTITY[p.quantity]}_{_PQ_UNIT[p.unit]}" for p in pts],
            "phase": ["" if p.phase in ("abc", "n") else p.phase for p in pts],
            "value": long["value"].astype(float),
        }
    )


def _quality_job(state: ServiceState, body: QualityIn) -> Any:
    import pandas as pd

    from gridtwin.workflows.quality import QualityAssessment

    if body.values is not None:
        frame = pd.DataFrame([v.model_dump() for v in body.values])
        frame["time_utc"] = pd.to_datetime(frame["time_utc"], utc=True)
    else:
        frame = _stored_pq(state, body)
    return QualityAssessment(
        frame,
        standard=body.standard,
        voltage_level=body.voltage_level,
        nominal_v=body.nominal_v,
        nominal_line_v=body.nominal_line_v,
        timezone=body.timezone,
        isolated=body.isolated,
    )


def _quality(state: ServiceState, body: QualityIn) -> QualityOut:
    d = _quality_job(state, body).run().to_dict()
    return QualityOut(
        standard=d["standard"],
        edition=d["edition"],
        voltage_level=d["voltage_level"],
        timezone=d["timezone"],
        nominal_v=d["nominal_v"],
        nominal_line_v=d["nominal_line_v"],
        points=[
            QualityPointOut(**{k: p.get(k) for k in QualityPointOut.model_fields})
            for p in d["points"]
        ],
        table=d["table"],
        limits=d["limits"],
        notes=[str(n) for n in d["notes"]],
    )


def _quality_html(state: ServiceState, body: QualityIn) -> str:
    _, report = _quality_job(state, body).report()
    html: str = report.to_html()
    return html


def _quality_pdf(state: ServiceState, body: QualityIn) -> bytes:
    from gridtwin.service.api._quality_pdf import html_to_pdf

    return html_to_pdf(_quality_html(state, body))


@router.post(
    "/quality/assessments",
    summary="Assess supply-voltage quality (GOST 32144 / EN 50160)",
    response_model=QualityOut,
    responses={
        200: {
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "The assessment (JSON), or with format=html|pdf the report.",
        }
    },
)
async def quality_assessment(
    user: Analyst,
    state: StateDep,
    audit: AuditDep,
    body: QualityIn,
    fmt: Annotated[
        Literal["json", "html", "pdf"],
        Query(
            alias="format",
            description="json (default), html (the report, offline) or pdf (the same "
            "report printed by the server's headless Chromium; 503 without one).",
        ),
    ] = "json",
) -> QualityOut | HTMLResponse | Response:
    """The weekly verdicts per point and indicator (the library's ``QualityAssessment``,
    as ``gridtwin quality assess``); ``format=html``: the report of ``gridtwin quality
    report``, with its plots; ``format=pdf``: that report as PDF (``--output .pdf``)."""
    audit.obj = f"quality={body.standard}"
    audit.detail = "inline" if body.values is not None else f"points={len(body.point_ids or [])}"
    if fmt == "html":
        return HTMLResponse(await state.run(_quality_html, state, body))
    if fmt == "pdf":
        pdf = await state.run(_quality_pdf, state, body)
        disposition = {"Content-Disposition": 'attachment; filename="quality-report.pdf"'}
        return Response(pdf, media_type="application/pdf", headers=disposition)
    return await state.run(_quality, state, body)


# ====================================================================== scenario


class ScenarioIn(InputModel):
    """A what-if on the running twin's model over a period of its profiles."""

    kind: Literal["electrify", "pv"] = Field(
        description="electrify (electric stoves, heat pumps, EV chargers in apartments) "
        "or pv (rooftop PV)."
    )
    start_utc: UtcTime = Field(description="Start of the period (the model's profile time).")
    end_utc: UtcTime = Field(description=f"End, excluded; at most {MAX_SCENARIO_SPAN_S} s on.")
    share: float = Field(
        default=0.5, ge=0, le=1, description="Share of households (or buses for pv)."
    )
    stove_kw: float = Field(default=6.0, ge=0, le=100)
    heat_pump_kw: float = Field(default=3.0, ge=0, le=100)
    ev_kw: float = Field(default=3.7, ge=0, le=100)
    pv_kwp: float = Field(default=5.0, gt=0, le=1000, description="PV per roof [kWp].")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Random seed.")

    @model_validator(mode="after")
    def _period(self) -> ScenarioIn:
        if self.end_utc <= self.start_utc:
            msg = "end_utc must be after start_utc"
            raise ValueError(msg)
        span_s = (self.end_utc - self.start_utc).total_seconds()
        if span_s > MAX_SCENARIO_SPAN_S:
            msg = (
                f"the period spans {span_s:,.0f} s; the API runs at most "
                f"{MAX_SCENARIO_SPAN_S:,} s (7 days): shorten it, or use "
                "`gridtwin network scenario` for longer runs"
            )
            raise ValueError(msg)
        return self


class CaseOut(OutputModel):
    """The grid in one case (before or after the change), over the period."""

    case: Literal["before", "after"]
    steps: int
    converged_steps: int
    vm_min_pu: float | None
    vm_max_pu: float | None
    line_loading_max_percent: float | None
    trafo_loading_max_percent: float | None
    customer_buses_failing: int
    lines_overloaded: int
    trafos_hot_spot_above_98c: int
    violations: int = Field(description="The sum of the counts above.")
    limiting_element: str
    failing_buses: list[int] = Field(description="Customer buses failing the standard.")
    overloaded_lines: list[int]
    hot_trafos: list[int]


class ScenarioOut(OutputModel):
    """The twin's grid before and after the change, checked the same way."""

    kind: str
    model: str
    standard: str
    start_utc: dt.datetime
    end_utc: dt.datetime
    before: CaseOut
    after: CaseOut
    notes: list[str] = Field(description="What the change added; the runs' notes.")


def _extreme(values: Any, how: Literal["min", "max"]) -> float | None:
    import numpy as np

    arr = np.asarray(values, dtype=float)
    if arr.size == 0 or np.all(np.isnan(arr)):
        return None
    return float(np.nanmin(arr) if how == "min" else np.nanmax(arr))


def _case(label: Literal["before", "after"], s: Any) -> CaseOut:
    from gridtwin.network import PowerFlowResult

    checks = s.checks
    v = s.violations
    pf = s.power_flow
    if isinstance(pf, PowerFlowResult):
        vm_min, vm_max = _extreme(pf.vm_pu, "min"), _extreme(pf.vm_pu, "max")
        line_max = _extreme(pf.line_loading_percent, "max")
        trafo_max = _extreme(pf.trafo_loading_percent, "max")
    else:
        vm_min = _extreme(checks.voltage["worst_vm_pu"], "min")
        vm_max = _extreme(checks.voltage["worst_vm_pu"], "max")
        line_max = _extreme(checks.lines["max_loading_ratio"] * 100.0, "max")
        trafo_max = _extreme(checks.transformers["max_loading_percent"], "max")
    tr = checks.transformers
    counts = {
        k: int(v.get(k, 0))
        for k in ("customer_buses_failing", "lines_overloaded", "trafos_hot_spot_above_98c")
    }
    return CaseOut(
        case=label,
        steps=s.n_steps,
        converged_steps=s.converged_steps,
        vm_min_pu=vm_min,
        vm_max_pu=vm_max,
        line_loading_max_percent=line_max,
        trafo_loading_max_percent=trafo_max,
        **counts,
        violations=sum(int(x) for x in v.values()),
        limiting_element=s.limiting_element,
        failing_buses=sorted(
            int(b) for b in checks.voltage.loc[checks.voltage["verdict"] == "fail", "bus"]
        ),
        overloaded_lines=sorted(
            int(i) for i in checks.lines.loc[checks.lines["status"] == "alarm", "line"]
        ),
        hot_trafos=sorted(int(i) for i in tr.loc[tr["max_hot_spot_c"] > 98, "trafo"]),
    )


def _scenario(runtime: TwinRuntime, body: ScenarioIn) -> ScenarioOut:
    import numpy as np
    import pandas as pd

    from gridtwin.network.scenarios import ElectrificationSpec
    from gridtwin.workflows.studies import PvSpec, scenario_study

    twin = runtime.live.twin
    prof = twin.profiles if twin.profiles is not None else twin.model.profiles
    if prof is None:
        msg = "the twin's model has no profiles to run a scenario over (start_utc, end_utc)"
        raise InputError(msg)
    t = prof.time_utc
    pos = np.flatnonzero((t >= pd.Timestamp(body.start_utc)) & (t < pd.Timestamp(body.end_utc)))
    if pos.size == 0:
        msg = (
            f"start_utc/end_utc: the model's profiles cover {t[0].isoformat()} to "
            f"{t[-1].isoformat()} (step starts); choose a period inside them"
        )
        raise InputError(msg)
    result = scenario_study(
        twin,
        body.kind,
        electrification=ElectrificationSpec(
            share=body.share,
            stove_kw=body.stove_kw,
            heat_pump_kw=body.heat_pump_kw,
            ev_kw=body.ev_kw,
            seed=body.seed,
        ),
        pv=PvSpec(share=body.share, kwp=body.pv_kwp, seed=body.seed),
        steps=slice(int(pos[0]), int(pos[-1]) + 1),
    )
    return ScenarioOut(
        kind=body.kind,
        model=twin.model.name,
        standard=twin.standard,
        start_utc=t[int(pos[0])].to_pydatetime(),
        end_utc=(t[int(pos[-1])] + prof.step).to_pydatetime(),
        before=_case("before", result.before),
        after=_case("after", result.after),
        notes=[*result.notes, *result.after.notes],
    )


@router.post("/studies/scenario", summary="A what-if scenario on the twin's model")
async def scenario(
    user: Analyst, state: StateDep, audit: AuditDep, runtime: TwinDep, body: ScenarioIn
) -> ScenarioOut:
    """The twin's grid today and after electrified apartments or rooftop PV over a period
    of its profiles (at most 7 days here), both checked against the twin's standard (the
    library's ``scenario_study``, as ``gridtwin network scenario``)."""
    audit.obj = f"scenario={body.kind}"
    audit.detail = f"{body.start_utc.isoformat()}/{body.end_utc.isoformat()}"
    return await state.run(_scenario, runtime, body)
