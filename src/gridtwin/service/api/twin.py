"""``/twin``: the live twin's state (viewer). Answers 404 when the service runs no twin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

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


class ForwardLookOut(OutputModel):
    """The forward look that feeds the potential alarms."""

    enabled: bool = Field(description="Configured and possible (the twin has profiles).")
    reason: str | None = Field(description="Why there is no forward look, if there is none.")
    source: str | None = Field(description="Where the look comes from: profiles.")
    horizon_h: float = Field(description="Hours looked ahead at each refresh.")
    every_intervals: int = Field(description="Intervals between refreshes.")
    load_scale: float = Field(description="Multiplier of the profile loads (replay what-if).")
    anchor: bool = Field(description="Profile loads scaled by the present measured ratio.")
    looks: int = Field(description="Looks computed since the start.")
    last_from_utc: dt.datetime | None = Field(description="Interval of the newest look.")
    last_load_factor: float | None
    last_converged_steps: int | None
    last_compute_ms: float | None
    mean_compute_ms: float | None
    notes: list[str]


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
    forward_look: ForwardLookOut


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
        forward_look=forward_look_out(runtime),
    )


def forward_look_out(runtime: TwinRuntime) -> ForwardLookOut:
    """The forward look's configuration and newest run."""
    cfg = runtime.config.forward_look
    fw = runtime.forward
    last = None if fw is None else fw.latest
    return ForwardLookOut(
        enabled=fw is not None and fw.available,
        reason="disabled in the configuration (forward_look.enabled)" if fw is None else fw.reason,
        source=None if fw is None else fw.source,
        horizon_h=cfg.horizon_h,
        every_intervals=cfg.every_intervals,
        load_scale=1.0 if fw is None else fw.load_scale,
        anchor=cfg.anchor,
        looks=0 if fw is None else fw.looks,
        last_from_utc=None if last is None else last.from_utc.to_pydatetime(),
        last_load_factor=None if last is None else last.load_factor,
        last_converged_steps=None if last is None else last.converged_steps,
        last_compute_ms=None if last is None else 1000.0 * last.compute_s,
        mean_compute_ms=None if fw is None or not fw.looks else 1000.0 * fw.total_s / fw.looks,
        notes=[] if last is None else list(last.notes),
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


class ViolationOut(OutputModel):
    """One value beyond a limit."""

    element: str = Field(description="bus:<i>, line:<i> or trafo:<i>.")
    quantity: str = Field(description="vm_pu, loading_percent or hot_spot_c.")
    value: float
    limit: float
    severity: str = Field(description="violation, or warning (a share band or early level).")
    rule: str = Field(description="What is checked, with the standard's clause or source.")


class ChecksOut(OutputModel):
    """The checks of the newest interval."""

    time_utc: dt.datetime
    standard: str
    violations: list[ViolationOut]
    checked: dict[str, int] = Field(description="Elements checked, by kind.")
    notes: list[str]


@router.get("/checks", summary="The newest interval's checks")
async def twin_checks(user: Viewer, runtime: TwinDep) -> ChecksOut:
    """Customer voltages against the standard's band, line and transformer loading and
    the transformer hot spot of the newest interval (404 before the first)."""
    from gridtwin.workflows.compliance import interval_checks

    s = runtime.latest()
    if s is None:
        msg = "no interval has arrived yet"
        raise NotFoundError(msg)
    res = interval_checks(s, runtime.live.twin.model, runtime.config.standard)
    return ChecksOut(
        time_utc=res.time_utc.to_pydatetime(),
        standard=res.standard,
        violations=[
            ViolationOut(
                element=v.element,
                quantity=v.quantity,
                value=v.value,
                limit=v.limit,
                severity=v.severity,
                rule=v.rule,
            )
            for v in res.violations
        ],
        checked=res.checked,
        notes=list(res.notes),
    )


class CustomerComplianceOut(OutputModel):
    """One customer bus in the week."""

    bus: int
    feeder: str
    voltage_level: str
    n_customers: int
    u0_pu: float = Field(description="The standard's reference voltage in pu of the bus.")
    intervals: int = Field(description="Intervals with a voltage in the week.")
    share_within_5_percent: float | None = Field(description="[%] of intervals within +-5 % of U0.")
    share_within_10_percent: float | None = Field(
        description="[%] of intervals within +-10 % of U0."
    )
    n1: int = Field(description="Intervals outside the standard's share band.")
    n2: int = Field(description="Intervals outside the standard's 100 % band.")
    worst_vm_pu: float | None
    verdict: str = Field(
        description="compliant so far, violated, insufficient data (current week); "
        "compliant, violated, insufficient data (complete week); no data."
    )
    rule: str = Field(description="The rule that decided, with the clause.")


class FeederComplianceOut(OutputModel):
    """One feeder's customer buses together."""

    feeder: str
    customer_buses: int
    customers: int
    share_within_5_percent: float | None
    share_within_10_percent: float | None
    buses_violated: int
    buses_insufficient: int
    verdict: str


class ComplianceOut(OutputModel):
    """The weekly supply-voltage compliance counters of one week."""

    week: str
    standard: str
    timezone: str
    complete: bool
    start_utc: dt.datetime | None
    end_utc: dt.datetime | None
    intervals: int
    intervals_elapsed: int
    intervals_expected: int
    min_intervals: int
    rules: dict[str, str] = Field(description="The standard's rule per voltage level.")
    feeders: list[FeederComplianceOut]
    customers: list[CustomerComplianceOut]
    notes: list[str]


@router.get("/compliance", summary="Weekly supply-voltage compliance")
async def twin_compliance(
    user: Viewer,
    runtime: TwinDep,
    week: Annotated[
        Literal["current", "previous"],
        Query(description="The current week, or the previous complete one."),
    ] = "current",
) -> ComplianceOut:
    """Per customer bus and feeder: intervals counted, shares within +-5 % and +-10 % of
    U0 and the verdict of the twin's standard for the week (local weeks from Monday 00:00
    in the twin's time zone)."""
    if runtime.compliance is None:  # pragma: no cover - the runtime always has them
        msg = "this twin keeps no compliance counters"
        raise NotFoundError(msg)
    rep = runtime.compliance.report(week)
    return ComplianceOut(
        week=rep.week,
        standard=rep.standard,
        timezone=rep.timezone,
        complete=rep.complete,
        start_utc=None if rep.start_utc is None else rep.start_utc.to_pydatetime(),
        end_utc=None if rep.end_utc is None else rep.end_utc.to_pydatetime(),
        intervals=rep.intervals,
        intervals_elapsed=rep.intervals_elapsed,
        intervals_expected=rep.intervals_expected,
        min_intervals=rep.min_intervals,
        rules=rep.rules,
        feeders=[FeederComplianceOut(**vars(f)) for f in rep.feeders],
        customers=[CustomerComplianceOut(**vars(c)) for c in rep.customers],
        notes=list(rep.notes),
    )
