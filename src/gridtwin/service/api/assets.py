"""``/assets``: the maintenance ranking of the twin's asset register and the equipment
trends (viewer).

``GET /assets`` scores every asset of the register the twin's file names
(``assets.file``) with the simplified CNAIM-style health index of
:mod:`gridtwin.assets` on the condition indicators of the twin's stored state history
(loading, overloads, the IEC 60076-7 hot spot, ageing rate and loss of life) and ranks
them: which to visit first, why, and against the calendar plan. ``GET /assets/trends``
fits the equipment trends now (transformer hot spot and loading, line loading: daily
peaks, Theil–Sen) and gives the early warnings to the alarm system, where
``GET /alarms/potential`` lists them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from gridtwin.service.api._common import OutputModel
from gridtwin.service.api.alarms import PotentialOut, potential_out
from gridtwin.service.api.twin import TwinDep
from gridtwin.service.deps import StateDep, Viewer

if TYPE_CHECKING:
    from gridtwin.service._state import ServiceState
    from gridtwin.service.twin import TwinRuntime

__all__ = ["router"]

router = APIRouter(prefix="/assets", tags=["assets"])


class IndicatorsOut(OutputModel):
    """What the twin's history says about the element (None: not observed)."""

    observed_days: float
    peak_loading_percent: float | None
    mean_loading_percent: float | None
    overload_intervals: int
    overload_share_percent: float
    max_hot_spot_c: float | None
    equivalent_ageing_rate: float | None = Field(
        description="IEC 60076-7 mean relative ageing rate (1: nominal, at 98 °C)."
    )
    loss_of_life_h: float | None = Field(description="IEC 60076-7 loss of life in the window.")


class AssetOut(OutputModel):
    """One asset's health and place in the ranking."""

    rank: int = Field(description="1: visit first (highest risk).")
    calendar_rank: int = Field(description="Its place in the calendar plan (earliest due first).")
    element: str
    type: str
    name: str
    health_score: float = Field(description="0.5 (new) .. 10.")
    health_index: str = Field(description="HI1 (good) .. HI5 (poor).")
    initial_health_score: float = Field(description="From age and expected life alone.")
    age_years: float
    expected_life_years: float
    duty_factor: float
    pof_relative: float = Field(description="Probability of failure relative to a new asset.")
    criticality: float
    risk: float = Field(description="pof_relative x criticality: the ranking key.")
    calendar_due: dt.date = Field(description="The calendar plan's next visit.")
    days_to_calendar_due: int = Field(description="Negative: overdue.")
    advice: str = Field(description="bring forward, as planned or defer.")
    reasons: list[str]
    notes: list[str]
    indicators: IndicatorsOut


class AssetsOut(OutputModel):
    """The ranking."""

    configured: bool = Field(description="The twin's file names an asset register.")
    register_file: str | None
    register_source: str | None
    method: str = Field(description="The health-index method and its simplifications.")
    as_of: dt.date | None
    start_utc: dt.datetime | None = Field(description="Window of the state history read.")
    end_utc: dt.datetime | None
    assets: list[AssetOut]
    notes: list[str]


class TrendOut(OutputModel):
    """One element's trend."""

    element: str
    quantity: str = Field(description="hot_spot_c, loading_percent or output_ratio.")
    n_points: int = Field(description="Days fitted (daily peaks).")
    slope_per_day: float
    slope_low_per_day: float = Field(description="90 % confidence interval, low end.")
    slope_high_per_day: float
    fitted_last: float = Field(description="The trend line at the last day.")
    last_utc: dt.datetime
    limit: float
    direction: str
    time_to_limit_s: float | None = Field(description="None: not heading for the limit.")
    limit_utc: dt.datetime | None
    warning: bool
    description: str


class TrendsOut(OutputModel):
    """The equipment trends of the twin's transformers and lines."""

    window_days: float
    horizon_days: float
    trends: list[TrendOut]
    potential: list[PotentialOut] = Field(description="The warnings, as potential alarms.")
    notes: list[str]


def _ranking(state: ServiceState, runtime: TwinRuntime, window_days: float | None) -> AssetsOut:
    from gridtwin.assets import HEALTH_METHOD
    from gridtwin.service._assets import twin_register
    from gridtwin.workflows.assets import rank_from_store

    cfg = runtime.config.assets
    reg = twin_register(cfg.file)
    if reg is None:
        return AssetsOut(
            configured=False,
            register_file=None,
            register_source=None,
            method=HEALTH_METHOD,
            as_of=None,
            start_utc=None,
            end_utc=None,
            assets=[],
            notes=["the twin's file names no asset register: add assets: {file: FILE}"],
        )
    out = rank_from_store(
        reg,
        state.store,
        window_days=window_days or cfg.window_days,
        ambient_c=float(runtime.live.twin.ambient_c),
    )
    net = runtime.live.twin.model.net
    missing = [a.element for a in reg.assets if a.index() not in getattr(net, a.table()).index]
    notes = list(out.notes)
    if missing:
        notes.append(
            f"not in the twin's model (scored on the register alone): {', '.join(missing)}"
        )
    return AssetsOut(
        configured=True,
        register_file=cfg.file,
        register_source=reg.source,
        method=HEALTH_METHOD,
        as_of=out.as_of,
        start_utc=None if out.start_utc is None else out.start_utc.to_pydatetime(),
        end_utc=None if out.end_utc is None else out.end_utc.to_pydatetime(),
        assets=[
            AssetOut(
                rank=h.rank,
                calendar_rank=h.calendar_rank,
                element=h.element,
                type=h.type,
                name=h.name,
                health_score=h.health_score,
                health_index=h.health_index,
                initial_health_score=h.initial_health_score,
                age_years=h.age_years,
                expected_life_years=h.expected_life_years,
                duty_factor=h.duty_factor,
                pof_relative=h.pof_relative,
                criticality=h.criticality,
                risk=h.risk,
                calendar_due=h.calendar_due,
                days_to_calendar_due=h.days_to_calendar_due,
                advice=h.advice,
                reasons=h.reasons,
                notes=h.notes,
                indicators=IndicatorsOut.model_validate(vars(h.indicators)),
            )
            for h in out.assets
        ],
        notes=notes,
    )


def _trends(state: ServiceState, runtime: TwinRuntime) -> TrendsOut:
    from gridtwin.service._assets import model_elements, refresh_trends

    cfg = runtime.config.assets
    found = refresh_trends(
        state.store,
        runtime.alarms,
        model_elements(runtime.live.twin.model.net),
        window_days=cfg.window_days,
        horizon_days=cfg.trend_horizon_days,
        ambient_c=float(runtime.live.twin.ambient_c),
    )
    notes = [] if found else ["no element has enough stored daily peaks for a trend (5 days)"]
    return TrendsOut(
        window_days=cfg.window_days,
        horizon_days=cfg.trend_horizon_days,
        trends=[
            TrendOut(
                element=t.element,
                quantity=t.trend.quantity,
                n_points=t.trend.n_points,
                slope_per_day=t.trend.slope_per_day,
                slope_low_per_day=t.trend.slope_low_per_day,
                slope_high_per_day=t.trend.slope_high_per_day,
                fitted_last=t.trend.fitted_last,
                last_utc=t.trend.last_utc,
                limit=t.trend.limit,
                direction=t.trend.direction,
                time_to_limit_s=t.trend.time_to_limit_s,
                limit_utc=t.trend.limit_utc,
                warning=t.trend.warning,
                description=t.trend.describe(),
            )
            for t in found
        ],
        potential=[potential_out(p) for p in (t.alarm for t in found) if p is not None],
        notes=notes,
    )


@router.get("", response_model=AssetsOut, summary="The maintenance ranking of the assets")
async def list_assets(
    user: Viewer,
    state: StateDep,
    runtime: TwinDep,
    window_days: Annotated[
        float | None,
        Query(gt=0, le=366, description="History read [days]; default the twin's window_days."),
    ] = None,
) -> AssetsOut:
    """Every asset of the twin's register with its health index (simplified CNAIM-style,
    see ``method``), condition indicators from the twin's state history, the reasons and
    the calendar plan, ranked: visit the first first. Without a register: an empty list
    and a note."""
    return await state.run(_ranking, state, runtime, window_days)


@router.get("/trends", response_model=TrendsOut, summary="Equipment trends and early warnings")
async def list_trends(user: Viewer, state: StateDep, runtime: TwinDep) -> TrendsOut:
    """The trends of every transformer (hot spot, loading) and line (loading) over the
    stored history (daily peaks, Theil–Sen), evaluated now; a limit projected within the
    horizon is an early warning, also listed by ``GET /alarms/potential``."""
    return await state.run(_trends, state, runtime)
