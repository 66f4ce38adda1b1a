"""Multi-element outages: a substation bus, a common trench (several lines), any set.

Beyond single N-1 (:mod:`gridtwin.network.contingency`): the elements of one event go out
together; the loads that lose supply (no path to an in-service external grid through
closed switches) are counted, normally-open switches are closed one at a time while that
re-supplies more of them (greedy), and what stays lost waits for repair.

Consequences, with stated restoration times (defaults: switching 1 h, repair 8 h):

- ``lost_p_mw``: the largest total demand of the unsupplied loads over the profile steps
  considered (the stress steps of the year by default);
- ``unrestorable_p_mw``: the same for the loads switching cannot re-supply;
- ``customers_lost`` / ``customers_unrestored`` (one customer per load element, the
  grain of the data), ``customer_minutes_lost = restored · switching_min + unrestored ·
  repair_h · 60``; ``energy_not_supplied_mwh`` = mean demand of the lost loads over the
  steps × their interruption time.

The restored configuration is not checked for overloads or voltages here (run
:func:`gridtwin.network.contingency.contingency_analysis` for N-1 with violations).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._model import NetworkModel
from gridtwin.network.contingency import _loads_at, _restore, _supplied_buses, stress_steps

__all__ = ["OutageResult", "multi_outage"]


@dataclass(frozen=True)
class OutageResult:
    """Consequences of one multi-element outage (module docstring for the fields).

    Attributes
    ----------
    name : str
        The event's name.
    summary : dict
        ``loads_lost, customers_lost, lost_p_mw, switches_closed, customers_restored,
        customers_unrestored, unrestorable_p_mw, customer_minutes_lost,
        energy_not_supplied_mwh, switching_min, repair_h``.
    loads : pandas.DataFrame
        Per lost load: ``load, bus, peak_p_mw, restored`` (bool).
    notes : tuple of str
        Assumptions.
    """

    name: str
    summary: dict[str, Any]
    loads: pd.DataFrame
    notes: tuple[str, ...]


def _take_out(net: Any, buses: Sequence[int], lines: Sequence[int], trafos: Sequence[int]) -> None:
    for table, ids in (("bus", buses), ("line", lines), ("trafo", trafos)):
        frame = getattr(net, table)
        unknown = [i for i in ids if i not in frame.index]
        if unknown:
            msg = f"outage: {table} {unknown} not in the net; give existing {table} indices"
            raise InputError(msg)
        frame.loc[list(ids), "in_service"] = False


def multi_outage(
    model: NetworkModel,
    *,
    buses: Sequence[int] = (),
    lines: Sequence[int] = (),
    trafos: Sequence[int] = (),
    name: str = "outage",
    steps: Sequence[int] | None = None,
    switching_min: float = 60.0,
    repair_h: float = 8.0,
    restore: bool = True,
) -> OutageResult:
    """Take buses, lines and transformers out together and count what is lost.

    Parameters
    ----------
    model : NetworkModel
        The grid with profiles (the demand of the lost loads comes from them).
    buses, lines, trafos : sequence of int
        pandapower indices of the elements of the event (e.g. a substation busbar, the
        cables of one trench).
    name : str
        Name of the event in the result.
    steps : sequence of int, optional
        Profile steps for the demand (default: the stress steps of the year).
    switching_min : float
        Time to restore supply by switching [min] (default 60).
    repair_h : float
        Time to repair for what switching cannot restore [h] (default 8).
    restore : bool
        Try normally-open switches.
    """
    if not (buses or lines or trafos):
        msg = "outage: give at least one of buses, lines, trafos"
        raise InputError(msg)
    for field, value in (("switching_min", switching_min), ("repair_h", repair_h)):
        if not (math.isfinite(value) and value >= 0):
            msg = f"{field}={value!r} must be a non-negative time"
            raise InputError(msg)
    if model.profiles is None:
        msg = f"{model.name}: an outage study needs profiles (load a SimBench grid)"
        raise InputError(msg)
    net = copy.deepcopy(model.net)
    _take_out(net, buses, lines, trafos)
    in_service = set(net.bus.index[net.bus["in_service"].astype(bool)])
    lost = _loads_at(model.net, (in_service - _supplied_buses(net)) | set(buses))
    closed: list[int] = []
    restored = np.zeros(len(lost), dtype=bool)
    while restore and len(lost) and not restored.all():
        trial, sw, _ = _restore(net, lost[~restored])
        if sw is None:
            break
        net = trial
        closed.append(sw)
        supplied = _supplied_buses(net)
        restored = np.isin(net.load.loc[lost, "bus"], list(supplied)) & ~np.isin(
            net.load.loc[lost, "bus"], list(buses)
        )
    steps = list(steps) if steps is not None else stress_steps(model).tolist()
    demand = model.profiles.load_p_mw.iloc[steps]
    cols = [c for c in lost if c in demand.columns]
    scale = model.net.load.loc[cols, "scaling"].to_numpy(dtype=float) if cols else 0.0
    p = demand[cols] * scale
    peak = p.max(axis=0) if cols else pd.Series(dtype=float)
    unrest = [c for c, r in zip(lost, restored, strict=True) if not r and c in demand.columns]
    rest = [c for c, r in zip(lost, restored, strict=True) if r and c in demand.columns]
    mean = p.mean(axis=0) if cols else pd.Series(dtype=float)
    ens = float(mean[rest].sum()) * switching_min / 60.0 + float(mean[unrest].sum()) * repair_h
    summary = {
        "loads_lost": len(lost),
        "customers_lost": len(lost),
        "lost_p_mw": float(p.sum(axis=1).max()) if cols else 0.0,
        "switches_closed": closed,
        "customers_restored": int(restored.sum()),
        "customers_unrestored": int((~restored).sum()),
        "unrestorable_p_mw": float(p[unrest].sum(axis=1).max()) if unrest else 0.0,
        "customer_minutes_lost": float(
            restored.sum() * switching_min + (~restored).sum() * repair_h * 60.0
        ),
        "energy_not_supplied_mwh": ens,
        "switching_min": switching_min,
        "repair_h": repair_h,
    }
    loads = pd.DataFrame(
        {
            "load": lost,
            "bus": model.net.load.loc[lost, "bus"].to_numpy(dtype=int),
            "peak_p_mw": [float(peak.get(c, math.nan)) for c in lost],
            "restored": restored,
        }
    )
    notes = (
        f"{name}: buses {list(buses)}, lines {list(lines)}, trafos {list(trafos)} out together",
        f"restoration: switching {switching_min:g} min, repair {repair_h:g} h (assumed); one "
        "customer per load element; restored configuration not checked for violations",
        f"demand over {len(steps)} profile steps",
    )
    return OutageResult(name, summary, loads, notes)
