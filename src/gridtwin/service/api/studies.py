"""``/studies/contingency`` and ``/studies/hosting``: N-1 and hosting capacity (analyst).

The library's :func:`~gridtwin.workflows.studies.contingency_study` and
:func:`~gridtwin.workflows.studies.hosting_study` (``gridtwin network contingency`` and
``hosting``) on the running twin's model, at the steps of its profiles that stress the
grid most (largest net load, largest net export). Both run the power flow many times, so
the API bounds them before it starts: a request over the limits below is a 422 that
names the limit and the command line for the large case, and one study runs at a time
(a second one meanwhile is a 409). The model is cut to its stress steps first, so that no
run copies a year of profiles.

(The what-if scenarios, ``/studies/scenario``, are in :mod:`.capabilities`.)
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING, Any, Final, Literal

from fastapi import APIRouter
from pydantic import Field

from gridtwin.errors import InputError
from gridtwin.service._accounts import ConflictError
from gridtwin.service.api._common import InputModel, OutputModel
from gridtwin.service.api.twin import TwinDep
from gridtwin.service.deps import Analyst, AuditDep, StateDep

if TYPE_CHECKING:
    from gridtwin.network import NetworkModel
    from gridtwin.service.twin import TwinRuntime

__all__ = ["MAX_HOSTING_CASES", "MAX_OUTAGES", "MAX_STUDY_BUSES", "router", "study_limit"]

router = APIRouter(prefix="/studies", tags=["studies"])

#: N-1: at most this many outages per request (each is a power flow of the grid).
MAX_OUTAGES: Final = 120
#: Either study: grids of at most this many buses.
MAX_STUDY_BUSES: Final = 3000
#: Hosting capacity: candidate buses x grid buses per request (each bisection round
#: solves one copy of the grid per candidate).
MAX_HOSTING_CASES: Final = 150_000
_BUSY = threading.Lock()


def study_limit(kind: Literal["contingency", "hosting"], buses: int, cases: int) -> str | None:
    """Why a study of ``cases`` outages (N-1) or candidate buses (hosting) on a grid of
    ``buses`` buses would run too long for a request, or None when it is within bounds."""
    cli = f"`gridtwin network {kind}`"
    if buses > MAX_STUDY_BUSES:
        return (
            f"the twin's grid has {buses:,} buses; the API runs {kind} studies on grids of "
            f"at most {MAX_STUDY_BUSES:,}: use {cli} for this one"
        )
    if kind == "contingency" and cases > MAX_OUTAGES:
        return (
            f"elements: {cases:,} outages; the API runs at most {MAX_OUTAGES} per request: "
            f"name fewer element tables, or use {cli}"
        )
    if kind == "hosting" and cases * buses > MAX_HOSTING_CASES:
        most = max(1, MAX_HOSTING_CASES // max(buses, 1))
        return (
            f"buses: {cases:,} candidate buses on a grid of {buses:,}; the API takes at most "
            f"{most:,} here: name fewer in buses, or use {cli}"
        )
    return None


class ContingencyIn(InputModel):
    """N-1 of the twin's grid."""

    elements: list[Literal["line", "trafo", "trafo3w"]] = Field(
        default=["line", "trafo"],
        min_length=1,
        max_length=3,
        description="The tables whose in-service elements are taken out one at a time.",
    )
    restore: bool = Field(
        default=True, description="Close the normally-open switch that re-supplies most."
    )


class OutageOut(OutputModel):
    """One outage and what follows from it."""

    element: str = Field(description="The element out, <table>:<index> (e.g. line:5).")
    name: str
    loads_lost: int = Field(description="Loads without supply after the outage.")
    lost_p_mw: float = Field(description="Their largest load at the stress steps [MW].")
    restored_by_switch: int | None = Field(description="The switch closed to restore, if any.")
    loads_restored: int
    loads_still_lost: int
    converged: bool
    new_violations: list[str] = Field(description="Limits violated that the base case keeps.")


class ContingencyOut(OutputModel):
    """N-1 of the twin's grid at its stress steps."""

    model: str
    stress_steps_utc: list[dt.datetime] = Field(description="The profile steps studied.")
    outages: list[OutageOut]
    with_new_violations: int = Field(description="Outages that violate a new limit.")
    with_lost_load: int = Field(description="Outages that leave loads without supply.")


class HostingIn(InputModel):
    """Hosting capacity of the twin's grid per bus."""

    kind: Literal["pv", "load"] = Field(default="pv", description="Extra PV or extra load.")
    vm_max_pu: float = Field(default=1.1, ge=1.0, le=1.2, description="Upper voltage limit.")
    buses: list[int] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Candidate buses (default: every in-service LV bus but the slack's).",
    )


class BusCapacityOut(OutputModel):
    """The extra power one bus can take."""

    element: str = Field(description="bus:<index>.")
    hosting_mw: float = Field(description="Largest extra PV or load before a limit [MW].")
    limiting: str = Field(description="The limit hit just above it.")


class HostingOut(OutputModel):
    """Hosting capacity per bus at the grid's stress step."""

    model: str
    kind: Literal["pv", "load"]
    vm_max_pu: float
    stress_steps_utc: list[dt.datetime]
    buses: list[BusCapacityOut]
    lowest_mw: float | None = Field(description="The smallest capacity, the grid's bottleneck.")


def _stress_model(model: NetworkModel, kind: Literal["load", "pv", "both"]) -> tuple[Any, Any]:
    """The model cut to its stress steps (a profile of two or one steps) and their times."""
    from gridtwin.network._model import Profiles, from_net
    from gridtwin.network.contingency import stress_steps

    if model.profiles is None:
        msg = f"{model.name}: the twin's model has no profiles to find its stress steps in"
        raise InputError(msg)
    steps = stress_steps(model, kind).tolist()
    prof = model.profiles
    times = prof.time_utc[steps]
    frames = {name: frame.iloc[steps] for name, frame in prof.frames().items()}
    cut = Profiles.from_frames(times, source=f"{prof.source} (stress steps)", **frames)
    small = from_net(model.net, cut, name=model.name, source=model.source)
    return small, [t.to_pydatetime() for t in times]


def _run_exclusive(fn: Any, *args: Any) -> Any:
    if not _BUSY.acquire(blocking=False):
        msg = "another study is running on this service; try again when it has finished"
        raise ConflictError(msg)
    try:
        return fn(*args)
    finally:
        _BUSY.release()


def _contingency(runtime: TwinRuntime, body: ContingencyIn) -> ContingencyOut:
    from gridtwin.workflows.studies import contingency_study

    model = runtime.live.twin.model
    net = model.net
    tables = list(dict.fromkeys(body.elements))
    outages = 0
    for table in tables:
        frame = net.get(table, None)
        if frame is not None and len(frame):
            outages += int(frame["in_service"].astype(bool).sum())
    why = study_limit("contingency", len(net.bus), outages)
    if why is not None:
        raise InputError(why)
    small, times = _stress_model(model, "both")
    from gridtwin.network.contingency import contingency_analysis

    if tables == ["line", "trafo"] and body.restore:
        frame = contingency_study(small)
    else:
        frame = contingency_analysis(small, elements=tables, restore=body.restore)
    rows = [] if frame is None or not len(frame) else frame.to_dict("records")
    out = [
        OutageOut(
            element=f"{r['element']}:{int(r['index'])}",
            name=str(r["name"]),
            loads_lost=int(r["loads_lost"]),
            lost_p_mw=float(r["lost_p_mw"]),
            restored_by_switch=None
            if r["restored_by_switch"] is None or r["restored_by_switch"] != r["restored_by_switch"]
            else int(r["restored_by_switch"]),
            loads_restored=int(r["loads_restored"]),
            loads_still_lost=int(r["loads_still_lost"]),
            converged=bool(r["converged"]),
            new_violations=[str(v) for v in r["new_violations"]],
        )
        for r in rows
    ]
    return ContingencyOut(
        model=model.name,
        stress_steps_utc=times,
        outages=out,
        with_new_violations=sum(1 for o in out if o.new_violations),
        with_lost_load=sum(1 for o in out if o.loads_still_lost),
    )


def _hosting(runtime: TwinRuntime, body: HostingIn) -> HostingOut:
    import math

    from gridtwin.network.contingency import GridLimits, hosting_capacity

    model = runtime.live.twin.model
    net = model.net
    if body.buses is not None:
        unknown = sorted(set(body.buses) - {int(b) for b in net.bus.index})
        if unknown:
            msg = f"buses: no bus {unknown[0]} in the twin's model (it has {len(net.bus)})"
            raise InputError(msg)
        slack = sorted(set(body.buses) & {int(b) for b in net.ext_grid["bus"]})
        if slack:
            msg = f"buses: bus {slack[0]} feeds the grid (an external grid): leave it out"
            raise InputError(msg)
        candidates = len(set(body.buses))
    else:
        lv = net.bus[net.bus["in_service"].astype(bool) & (net.bus["vn_kv"] < 1.0)]
        candidates = len(lv) or len(net.bus)
    why = study_limit("hosting", len(net.bus), candidates)
    if why is not None:
        raise InputError(why)
    small, times = _stress_model(model, "pv" if body.kind == "pv" else "load")
    frame = hosting_capacity(
        small,
        kind=body.kind,
        buses=None if body.buses is None else sorted(set(body.buses)),
        steps=list(range(len(times))),
        limits=GridLimits(vm_max_pu=body.vm_max_pu),
    )
    buses = [
        BusCapacityOut(element=f"bus:{int(b)}", hosting_mw=float(mw), limiting=str(lim))
        for b, mw, lim in zip(frame["bus"], frame["hosting_mw"], frame["limiting"], strict=True)
    ]
    finite = [b.hosting_mw for b in buses if math.isfinite(b.hosting_mw)]
    return HostingOut(
        model=model.name,
        kind=body.kind,
        vm_max_pu=body.vm_max_pu,
        stress_steps_utc=times,
        buses=buses,
        lowest_mw=min(finite) if finite else None,
    )


@router.post("/contingency", summary="N-1 of the twin's grid at its stress steps")
async def contingency(
    user: Analyst, state: StateDep, audit: AuditDep, runtime: TwinDep, body: ContingencyIn
) -> ContingencyOut:
    """Each in-service line and transformer (``elements``) out in turn: the loads that
    lose supply, the normally-open switch that restores most of them (``restore``), and
    the limits violated at the stress steps that the intact grid keeps. Bounded: at most
    120 outages on a grid of at most 3,000 buses (else 422: use ``gridtwin network
    contingency``); one study at a time (else 409)."""
    audit.obj = "study=contingency"
    return await state.run(_run_exclusive, _contingency, runtime, body)


@router.post("/hosting", summary="Hosting capacity per bus of the twin's grid")
async def hosting(
    user: Analyst, state: StateDep, audit: AuditDep, runtime: TwinDep, body: HostingIn
) -> HostingOut:
    """The extra PV (or load) each candidate bus can take at the grid's stress step before
    a voltage (``vm_max_pu``) or loading limit is violated, by bisection. Bounded:
    candidates x buses at most 150,000 on a grid of at most 3,000 buses (else 422: name
    fewer ``buses`` or use ``gridtwin network hosting``); one study at a time (else 409)."""
    audit.obj = f"study=hosting-{body.kind}"
    return await state.run(_run_exclusive, _hosting, runtime, body)
