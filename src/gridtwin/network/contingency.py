"""N-1 contingencies with restoration by switching, and hosting capacity per bus.

Both run the batch power flow (:func:`gridtwin.network.simulate`) on *snapshots*: the
steps of the year that stress the grid most (maximum load; maximum PV with low load).
The input model is never changed.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._full_result import PowerFlowResult
from gridtwin.network._model import NetworkModel, Profiles, from_net
from gridtwin.network._timeseries import simulate

__all__ = ["GridLimits", "contingency_analysis", "hosting_capacity", "stress_steps"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class GridLimits:
    """Operating limits used to call a state a violation.

    Attributes
    ----------
    vm_min_pu, vm_max_pu : float
        Voltage band [pu] (default ±10 %: GOST 32144-2013 / EN 50160 slow variations).
    line_loading_max_percent, trafo_loading_max_percent : float
        Loading limits [%] (the transformer limit also applies to three-winding
        transformers).
    """

    vm_min_pu: float = 0.9
    vm_max_pu: float = 1.1
    line_loading_max_percent: float = 100.0
    trafo_loading_max_percent: float = 100.0

    def violations(self, result: PowerFlowResult) -> list[str]:
        """Human-readable violations of a result (element and worst value)."""
        out: list[str] = []
        vm = np.nan_to_num(result.vm_pu, nan=1.0)
        for name, arr, ids, limit, high in (
            ("bus vm_pu low", vm, result.bus_ids, self.vm_min_pu, False),
            ("bus vm_pu high", vm, result.bus_ids, self.vm_max_pu, True),
            (
                "line loading",
                result.line_loading_percent,
                result.line_ids,
                self.line_loading_max_percent,
                True,
            ),
            (
                "trafo loading",
                result.trafo_loading_percent,
                result.trafo_ids,
                self.trafo_loading_max_percent,
                True,
            ),
            (
                "trafo3w loading",
                result.trafo3w_loading_percent,
                result.trafo3w_ids,
                self.trafo_loading_max_percent,
                True,
            ),
        ):
            if arr.size == 0:
                continue
            worst = np.nanmax(arr, axis=0) if high else np.nanmin(arr, axis=0)
            bad = worst > limit if high else worst < limit
            out += [f"{name} {int(i)}: {w:.4g}" for i, w in zip(ids[bad], worst[bad], strict=True)]
        return out


def stress_steps(model: NetworkModel, kind: Literal["load", "pv", "both"] = "both") -> IntArray:
    """Profile positions of the maximum net load and of the maximum net export."""
    prof = _profiles(model)
    load = prof.load_p_mw.sum(axis=1).to_numpy()
    gen = prof.sgen_p_mw.sum(axis=1).to_numpy() if prof.sgen_p_mw.shape[1] else 0 * load
    net_load = load - gen
    steps = []
    if kind in ("load", "both"):
        steps.append(int(np.argmax(net_load)))
    if kind in ("pv", "both"):
        steps.append(int(np.argmin(net_load)))
    return np.unique(np.asarray(steps, dtype=np.int64))


def _profiles(model: NetworkModel) -> Profiles:
    if model.profiles is None:
        msg = f"{model.name}: this analysis needs profiles (load a SimBench grid)"
        raise InputError(msg)
    return model.profiles


def _supplied_buses(net: Any) -> set[int]:
    """Buses connected to an in-service external grid through closed switches."""
    import networkx as nx
    import pandapower.topology as top

    graph = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
    roots = net.ext_grid.loc[net.ext_grid["in_service"].astype(bool), "bus"].tolist()
    supplied: set[int] = set()
    for root in roots:
        if root in graph:
            supplied |= set(nx.node_connected_component(graph, root))
    return supplied


def _loads_at(net: Any, buses: set[int]) -> IntArray:
    load = net.load[net.load["in_service"].astype(bool)]
    return np.asarray(load.index[load["bus"].isin(buses)], dtype=np.int64)


def _deenergise(net: Any, buses: set[int]) -> None:
    """Take unsupplied buses and everything on them out of service (in place, on a copy)."""
    if not buses:
        return
    idx = list(buses)
    net.bus.loc[idx, "in_service"] = False
    for table in ("load", "sgen", "storage"):
        frame = getattr(net, table)
        if len(frame):
            frame.loc[frame["bus"].isin(idx), "in_service"] = False
    for table, cols in (("line", ("from_bus", "to_bus")), ("trafo", ("hv_bus", "lv_bus"))):
        frame = getattr(net, table)
        mask = frame[cols[0]].isin(idx) | frame[cols[1]].isin(idx)
        frame.loc[mask, "in_service"] = False
    t3 = net.get("trafo3w", None)
    if isinstance(t3, pd.DataFrame) and len(t3):
        # a side at a lost bus is cut by pandapower itself; all sides lost: out of service
        lost = t3["hv_bus"].isin(idx) & t3["mv_bus"].isin(idx) & t3["lv_bus"].isin(idx)
        t3.loc[lost, "in_service"] = False


@dataclass
class _Outcome:
    element: str
    index: int
    name: str
    loads_lost: int
    lost_p_mw: float
    restored_by_switch: int | None
    loads_restored: int
    loads_still_lost: int
    violations: list[str] = field(default_factory=list)
    new_violations: list[str] = field(default_factory=list)
    converged: bool = True


def _restore(net: Any, lost_loads: IntArray) -> tuple[Any, int | None, int]:
    """Close the open switch that re-supplies the most lost loads (a copy of ``net``)."""
    best: tuple[int, int | None, Any] = (0, None, net)
    open_sw = net.switch.index[
        ~net.switch["closed"].astype(bool) & net.switch["et"].isin(["b", "l"])
    ]
    for sw in open_sw:
        trial = copy.deepcopy(net)
        trial.switch.at[sw, "closed"] = True
        supplied = _supplied_buses(trial)
        back = int(np.isin(trial.load.loc[lost_loads, "bus"], list(supplied)).sum())
        if back > best[0]:
            best = (back, int(sw), trial)
    return best[2], best[1], best[0]


def contingency_analysis(
    model: NetworkModel,
    *,
    elements: Sequence[str] = ("line", "trafo"),
    steps: Sequence[int] | None = None,
    limits: GridLimits | None = None,
    restore: bool = True,
) -> pd.DataFrame:
    """N-1: take each in-service line and transformer out, restore by switching, check.

    ``elements`` may also name ``"trafo3w"`` (three-winding transformers, not in the
    default): the outage takes the whole unit out (all three windings).

    For each outage: the loads that lose supply (not connected to an external grid
    through closed switches), the normally-open switch whose closing re-supplies the most
    of them (if ``restore``), the loads still lost, and the violations of the power flow
    at the stress ``steps`` that the base case does not have.

    Returns
    -------
    pandas.DataFrame
        One row per outage: ``element, index, name, loads_lost, lost_p_mw,
        restored_by_switch, loads_restored, loads_still_lost, converged, new_violations``.
    """
    limits = limits or GridLimits()
    prof = _profiles(model)
    steps = list(steps) if steps is not None else stress_steps(model).tolist()
    base = simulate(model, steps=steps)
    base_violations = set(limits.violations(base))
    rows = []
    for element in elements:
        if element not in ("line", "trafo", "trafo3w"):
            msg = f"contingency element {element!r}: use 'line', 'trafo' or 'trafo3w'"
            raise InputError(msg)
        table = getattr(model.net, element)
        for idx in table.index[table["in_service"].astype(bool)]:
            net = model.copy_net()
            getattr(net, element).at[idx, "in_service"] = False
            out = _outage(model, net, element, int(idx), prof, steps, limits, restore)
            out.new_violations = sorted(set(out.violations) - base_violations)
            rows.append(out)
    frame = pd.DataFrame([o.__dict__ for o in rows])
    return frame.drop(columns=["violations"]) if len(frame) else frame


def _outage(
    model: NetworkModel,
    net: Any,
    element: str,
    idx: int,
    prof: Profiles,
    steps: Sequence[int],
    limits: GridLimits,
    restore: bool,
) -> _Outcome:
    in_service = set(net.bus.index[net.bus["in_service"].astype(bool)])
    lost_buses = in_service - _supplied_buses(net)
    lost = _loads_at(net, lost_buses)
    peak = prof.load_p_mw.iloc[list(steps)]
    lost_p = (
        float(peak[[c for c in lost if c in peak.columns]].sum(axis=1).max()) if len(lost) else 0.0
    )
    switch: int | None = None
    restored = 0
    if len(lost) and restore:
        net, switch, restored = _restore(net, lost)
    still = set(net.bus.index[net.bus["in_service"].astype(bool)]) - _supplied_buses(net)
    _deenergise(net, still)
    name = str(getattr(model.net, element).at[idx, "name"])
    outcome = _Outcome(
        element, idx, name, len(lost), lost_p, switch, restored, len(lost) - restored
    )
    case = from_net(net, prof, name=f"{model.name} N-1 {element} {idx}", source=model.source)
    result = simulate(case, steps=list(steps))
    outcome.converged = bool(result.converged.all())
    outcome.violations = limits.violations(result)
    return outcome


def hosting_capacity(
    model: NetworkModel,
    *,
    kind: Literal["pv", "load"] = "pv",
    buses: Sequence[int] | None = None,
    steps: Sequence[int] | None = None,
    limits: GridLimits | None = None,
    max_mw: float = 2.0,
    tolerance_mw: float = 0.001,
) -> pd.DataFrame:
    """Largest extra PV (or load) per bus before any limit is violated [MW].

    Every candidate bus gets its own block of scenario rows (one per stress step), all
    solved in one batch per bisection round, so buses are independent of each other.

    Returns
    -------
    pandas.DataFrame
        ``bus, hosting_mw, limiting`` (the first limit violated just above the capacity,
        or ``"none up to max_mw"``).
    """
    limits = limits or GridLimits()
    prof = _profiles(model)
    net = model.copy_net()
    if buses is None:
        buses = [
            int(b)
            for b in net.bus.index[net.bus["in_service"].astype(bool)]
            if b not in set(net.ext_grid["bus"]) and net.bus.at[b, "vn_kv"] < 1.0
        ] or [int(b) for b in net.bus.index if b not in set(net.ext_grid["bus"])]
    steps = (
        list(steps)
        if steps is not None
        else stress_steps(model, "pv" if kind == "pv" else "load").tolist()
    )
    import pandapower as pp

    added = [
        int(pp.create_sgen(net, b, p_mw=0.0) if kind == "pv" else pp.create_load(net, b, p_mw=0.0))
        for b in buses
    ]
    lo = np.zeros(len(buses))
    hi = np.full(len(buses), max_mw)
    ok_hi, why_hi = _feasible(model, net, prof, steps, added, kind, hi, limits)
    limiting = np.where(ok_hi, f"none up to {max_mw:g} MW", why_hi).astype(object)
    active = ~ok_hi
    while active.any() and np.max(hi[active] - lo[active]) > tolerance_mw:
        mid = np.where(active, (lo + hi) / 2.0, lo)
        ok, why = _feasible(model, net, prof, steps, added, kind, mid, limits)
        lo = np.where(active & ok, mid, lo)
        hi = np.where(active & ~ok, mid, hi)
        limiting = np.where(active & ~ok, why, limiting)
    capacity = np.where(ok_hi, max_mw, lo)
    return pd.DataFrame({"bus": buses, "hosting_mw": capacity, "limiting": limiting})


def _feasible(
    model: NetworkModel,
    net: Any,
    prof: Profiles,
    steps: Sequence[int],
    added: list[int],
    kind: str,
    mw: npt.NDArray[np.float64],
    limits: GridLimits,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.object_]]:
    """Power flow of every bus block at its candidate MW; feasibility and first limit."""
    n_b, n_s = len(added), len(steps)
    res = simulate(_hosting_case(model, net, prof, steps, added, kind, mw))
    ok = np.ones(n_b, dtype=bool)
    why = np.full(n_b, "", dtype=object)
    for b in range(n_b):
        first = _first_limit(res, slice(b * n_s, (b + 1) * n_s), limits)
        if first is not None:
            ok[b] = False
            why[b] = first
    return ok, why


def _hosting_case(
    model: NetworkModel,
    net: Any,
    prof: Profiles,
    steps: Sequence[int],
    added: list[int],
    kind: str,
    mw: npt.NDArray[np.float64],
) -> NetworkModel:
    """One block of the stress steps per candidate bus, its added element at ``mw[b]``."""
    n_b, n_s = len(added), len(steps)
    time = pd.date_range("2000-01-01", periods=n_b * n_s, freq="15min", tz="UTC")
    frames = {}
    for name, frame in prof.frames().items():
        block = frame.iloc[list(steps)].to_numpy()
        frames[name] = pd.DataFrame(np.tile(block, (n_b, 1)), index=time, columns=frame.columns)
    extra = np.zeros((n_b * n_s, n_b))
    for b in range(n_b):
        extra[b * n_s : (b + 1) * n_s, b] = mw[b]
    key = "sgen_p_mw" if kind == "pv" else "load_p_mw"
    qkey = "sgen_q_mvar" if kind == "pv" else "load_q_mvar"
    frames[key] = pd.concat([frames[key], pd.DataFrame(extra, index=time, columns=added)], axis=1)
    frames[qkey] = pd.concat(
        [frames[qkey], pd.DataFrame(0.0 * extra, index=time, columns=added)], axis=1
    )
    return from_net(
        net, Profiles.from_frames(time, source="hosting", **frames), name=f"{model.name} hosting"
    )


def _first_limit(res: PowerFlowResult, rows: slice, limits: GridLimits) -> str | None:
    """The first limit the steps ``rows`` violate (``"voltage high at bus 7"``), or None."""
    checks = (
        ("not converged", ~res.converged[rows], None),
        ("voltage high", res.vm_pu[rows] > limits.vm_max_pu, res.bus_ids),
        ("voltage low", res.vm_pu[rows] < limits.vm_min_pu, res.bus_ids),
        (
            "line loading",
            res.line_loading_percent[rows] > limits.line_loading_max_percent,
            res.line_ids,
        ),
        (
            "trafo loading",
            res.trafo_loading_percent[rows] > limits.trafo_loading_max_percent,
            res.trafo_ids,
        ),
        (
            "trafo3w loading",
            res.trafo3w_loading_percent[rows] > limits.trafo_loading_max_percent,
            res.trafo3w_ids,
        ),
    )
    for label, bad, ids in checks:
        if np.any(bad):
            if ids is not None:
                col = int(np.argwhere(bad)[0][1])
                return (
                    f"{label} at {'bus' if 'voltage' in label else label.split()[0]}"
                    f" {int(ids[col])}"
                )
            return label
    return None
