"""``/twin``: the live twin's state (viewer). Answers 404 when the service runs no twin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from gridtwin.errors import NotFoundError
from gridtwin.service.api._common import OutputModel
from gridtwin.service.auth import get_state
from gridtwin.service.deps import Viewer
from gridtwin.service.twin import TwinRuntime
from gridtwin.workflows.live import LiveState

__all__ = ["TwinDep", "router"]

router = APIRouter(prefix="/twin", tags=["twin"])


async def _runtime(request: Request) -> TwinRuntime:
    runtime = get_state(request).extras.get("twin")
    if not isinstance(runtime, TwinRuntime):
        msg = "this service runs no twin: start it with `gridtwin serve TWIN.yaml` or `--demo`"
        raise NotFoundError(msg)
    return runtime


TwinDep = Annotated[TwinRuntime, Depends(_runtime)]


class TwinOut(OutputModel):
    """The twin and how it runs."""

    name: str
    network: str
    standard: str
    step_s: float
    buses: int
    lines: int
    trafos: int
    loads: int
    metered_loads: int = Field(description="Loads with a measurement point for p.")
    intervals_updated: int
    latest_interval_utc: dt.datetime | None
    replay_speed: float | None = Field(description="Data seconds per wall second, if replayed.")
    errors: list[str] = Field(description="Background parts that stopped, with the reason.")


class StateSummaryOut(OutputModel):
    """One interval's state in figures."""

    time_utc: dt.datetime
    method: str = Field(
        description="power_flow (every load metered), state_estimation (partial metering), "
        "or pseudo_power_flow (not observable: profile values)."
    )
    metered_loads: int
    loads: int
    converged: bool
    update_ms: float
    vm_min_pu: float
    vm_max_pu: float
    line_loading_max_percent: float | None
    trafo_loading_max_percent: float | None
    chi2_passed: bool | None = Field(description="State estimation: the chi-square test.")
    bad_data: list[str] = Field(description="Readings removed as bad data.")
    notes: list[str]


class StateOut(StateSummaryOut):
    """One interval's state, element by element."""

    bus_vm_pu: dict[str, float] = Field(description="Bus index -> voltage magnitude [pu].")
    line_loading_percent: dict[str, float]
    trafo_loading_percent: dict[str, float]


class StatesOut(OutputModel):
    """Recent states, oldest first."""

    states: list[StateSummaryOut]


def _max(values: object) -> float | None:
    import pandas as pd

    s = pd.Series(values, dtype=float).dropna()
    return None if s.empty else float(s.max())


def _summary(s: LiveState) -> StateSummaryOut:
    return StateSummaryOut(
        time_utc=s.time_utc.to_pydatetime(),
        method=s.method,
        metered_loads=s.metered_loads,
        loads=s.loads,
        converged=s.converged,
        update_ms=1000.0 * s.update_s,
        vm_min_pu=float(s.vm_pu.min()),
        vm_max_pu=float(s.vm_pu.max()),
        line_loading_max_percent=_max(s.line_loading_percent),
        trafo_loading_max_percent=_max(s.trafo_loading_percent),
        chi2_passed=s.chi2_passed,
        bad_data=list(s.bad_data),
        notes=list(s.notes),
    )


def _values(series: object) -> dict[str, float]:
    import pandas as pd

    s = pd.Series(series, dtype=float).dropna()
    return {str(k): float(v) for k, v in s.items()}


@router.get("", summary="The twin and how it runs")
async def twin_info(user: Viewer, runtime: TwinDep) -> TwinOut:
    """Names, sizes, the newest interval and the background parts' errors."""
    net = runtime.live.twin.model.net
    latest = runtime.latest()
    cfg = runtime.config
    return TwinOut(
        name=cfg.name,
        network=cfg.network.simbench or cfg.network.path or "",
        standard=cfg.standard,
        step_s=runtime.live.step.total_seconds(),
        buses=len(net.bus),
        lines=len(net.line),
        trafos=len(net.trafo),
        loads=len(net.load),
        metered_loads=len(runtime.live.points.p),
        intervals_updated=0 if runtime.runner is None else len(runtime.runner.states),
        latest_interval_utc=None if latest is None else latest.time_utc.to_pydatetime(),
        replay_speed=None if cfg.replay is None else cfg.replay.speed,
        errors=list(runtime.errors),
    )


@router.get("/state", summary="The newest interval's state")
async def twin_state(user: Viewer, runtime: TwinDep) -> StateOut:
    """Bus voltages and branch loadings of the newest interval (404 before the first)."""
    s = runtime.latest()
    if s is None:
        msg = "no interval has arrived yet"
        raise NotFoundError(msg)
    return StateOut(
        **_summary(s).model_dump(),
        bus_vm_pu=_values(s.vm_pu),
        line_loading_percent=_values(s.line_loading_percent),
        trafo_loading_percent=_values(s.trafo_loading_percent),
    )


@router.get("/states", summary="Recent states in figures")
async def twin_states(
    user: Viewer,
    runtime: TwinDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Newest N states.")] = 96,
) -> StatesOut:
    """The newest states kept in memory (the full history is in the store: points
    ``twin:bus:<i>:vm``, ``twin:line:<i>:loading``)."""
    return StatesOut(states=[_summary(s) for s in runtime.recent(limit)])
