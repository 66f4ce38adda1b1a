"""Measures against the potential deviations of a forecast day, each checked by power flow.

Candidates (all that the net allows):

* ``tap``: another tap position of each transformer with a tap changer (one and two steps
  either way, within its range), for the whole day (a distribution transformer's
  off-circuit tap changer is set for days, not hours);
* ``transfer``: closing a normally-open switch, so that the feeder beyond it is also fed
  from the other side (the feeder then runs meshed; which section switch to open to make
  it radial again is not searched);
* ``curtail_pv``: PV output capped at 70 % or 50 % of the inverter's rating;
* ``q_u``: a Q(U) characteristic on every PV inverter (cos φ 0.9 at full rating beyond
  0.93 / 1.07 pu; take the grid code's own points).

Each candidate goes through the same assessment as the forecast itself (stress band,
screening, the same samples) and is scored on the (rule, element, step) triples at or
above the threshold: how many of the original ones it removes and how many new ones it
makes; then ranked by findings removed, new deviations, and cost.

Costs (:class:`MeasureCosts`) are project policy figures, not sourced prices: a crew visit
for a tap change or a switching operation, curtailed energy and added losses at a price
per kWh. Change them to the operator's own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from gridtwin.network import (
    Controls,
    NetworkModel,
    PowerFlowOptions,
    ReactivePowerControl,
    from_net,
)
from gridtwin.warning._assess import Assessment, assess
from gridtwin.warning._findings import Finding, Limits
from gridtwin.warning._qpf import NodalForecast, SamplingSpec, ScenarioEngine

__all__ = ["Measure", "MeasureCosts", "propose_measures"]

FloatArray = npt.NDArray[np.float64]
#: Q(U) characteristic of the candidate (as the demo's; a grid code's own points differ).
QU_V_PU = (0.93, 0.97, 1.03, 1.07)
QU_Q_PER_SN = (0.436, 0.0, 0.0, -0.436)
#: PV caps tried, as shares of the inverter rating.
PV_CAPS = (0.7, 0.5)


@dataclass(frozen=True)
class MeasureCosts:
    """Cost figures of the measures (policy, not sourced; module docstring).

    Attributes
    ----------
    tap_change_eur : float
        One change of a tap position (a crew visit: off-circuit tap changers).
    switching_eur : float
        One switching operation at a normally-open point (a crew, or remote).
    curtailed_eur_per_kwh : float
        Compensation for curtailed PV energy.
    losses_eur_per_kwh : float
        Price of added network losses.
    """

    tap_change_eur: float = 200.0
    switching_eur: float = 150.0
    curtailed_eur_per_kwh: float = 0.25
    losses_eur_per_kwh: float = 0.10


@dataclass(frozen=True)
class Measure:
    """A candidate measure and what its power flow showed.

    Attributes
    ----------
    kind : {"tap", "transfer", "curtail_pv", "q_u"}
    description : str
    settings : dict
        What it sets (trafo and tap position, switch, cap, characteristic).
    removed : int
        (rule, element, step) deviations at or above the threshold that it removes.
    remaining : int
        Of those, the ones left.
    new : int
        Deviations it makes where there were none.
    findings_removed : tuple of str
        ``rule_id@element`` of the findings it removes at every step.
    max_probability : float
        The highest probability of any deviation after the measure.
    cost_eur : float
    cost_note : str
    power_flows : int
        Power flows run to check it.
    """

    kind: str
    description: str
    settings: dict[str, Any]
    removed: int
    remaining: int
    new: int
    findings_removed: tuple[str, ...]
    max_probability: float
    cost_eur: float
    cost_note: str
    power_flows: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        out = dict(vars(self))
        out["findings_removed"] = list(self.findings_removed)
        return out


@dataclass(frozen=True)
class _Candidate:
    kind: str
    description: str
    settings: dict[str, Any]
    model: NetworkModel
    forecast: NodalForecast
    controls: Controls
    fixed_cost_eur: float
    fixed_note: str
    same_engine: bool = False


def _taps(
    model: NetworkModel, forecast: NodalForecast, controls: Controls, costs: MeasureCosts
) -> Iterator[_Candidate]:
    trafo = model.net.trafo
    for tid in trafo.index:
        row = trafo.loc[tid]
        pos = row.get("tap_pos", math.nan)
        step = row.get("tap_step_percent", math.nan)
        lo, hi = row.get("tap_min", math.nan), row.get("tap_max", math.nan)
        if any(not np.isfinite(float(x)) for x in (pos, step, lo, hi)) or float(step) == 0:
            continue
        for delta in (-2, -1, 1, 2):
            new = int(pos) + delta
            if not lo <= new <= hi:
                continue
            net = model.copy_net()
            net.trafo.loc[tid, "tap_pos"] = new
            kind = row.get("tap_changer_type", None)
            note = ""
            if kind is None or (isinstance(kind, float) and math.isnan(kind)):
                # pandapower 3 ignores the tap position of a tap changer without a type
                net.trafo["tap_changer_type"] = net.trafo["tap_changer_type"].astype(object)
                net.trafo.loc[tid, "tap_changer_type"] = "Ratio"
                note = " (tap changer type unset in the net: taken as Ratio)"
            changed = from_net(net, name=model.name, source=f"{model.source} (tap {new})")
            yield _Candidate(
                "tap",
                f"transformer {tid}: tap position {int(pos)} -> {new} for the day{note}",
                {"trafo": int(tid), "tap_pos_from": int(pos), "tap_pos": new},
                changed,
                forecast,
                controls,
                costs.tap_change_eur,
                f"one tap change ({costs.tap_change_eur:g} EUR)",
            )


def _transfers(
    model: NetworkModel, forecast: NodalForecast, controls: Controls, costs: MeasureCosts
) -> Iterator[_Candidate]:
    sw = model.net.switch
    if not len(sw):
        return
    open_ones = sw.index[~sw["closed"].astype(bool)]
    for sid in list(open_ones)[:3]:
        net = model.copy_net()
        net.switch.loc[sid, "closed"] = True
        changed = from_net(net, name=model.name, source=f"{model.source} (switch {sid} closed)")
        et, el = str(sw.loc[sid, "et"]), int(sw.loc[sid, "element"])
        yield _Candidate(
            "transfer",
            f"close normally-open switch {sid} (bus {int(sw.loc[sid, 'bus'])} - {et}:{el}): "
            "load transferred to the neighbouring feeder",
            {"switch": int(sid)},
            changed,
            forecast,
            controls,
            costs.switching_eur,
            f"one switching operation ({costs.switching_eur:g} EUR)",
        )


def _pv_rating(model: NetworkModel, forecast: NodalForecast) -> FloatArray:
    sg = model.net.sgen
    sn = sg.loc[forecast.sgen_ids, "sn_mva"].to_numpy(dtype=np.float64)
    p = sg.loc[forecast.sgen_ids, "p_mw"].to_numpy(dtype=np.float64)
    return np.asarray(np.where(np.isfinite(sn) & (sn > 0), sn, p), dtype=np.float64)


def _curtailments(
    model: NetworkModel, forecast: NodalForecast, controls: Controls, costs: MeasureCosts
) -> Iterator[_Candidate]:
    if not len(forecast.sgen_ids) or float(forecast.sgen_p_mw.max(initial=0.0)) <= 0:
        return
    rating = _pv_rating(model, forecast)
    for cap in PV_CAPS:
        limit = cap * rating
        capped = np.minimum(forecast.sgen_p_mw, limit[:, None, None])
        yield _Candidate(
            "curtail_pv",
            f"PV output capped at {cap:.0%} of the inverter rating",
            {"cap_share": cap, "sgens": len(rating)},
            model,
            replace(forecast, sgen_p_mw=capped),
            controls,
            0.0,
            f"curtailed energy at {costs.curtailed_eur_per_kwh:g} EUR/kWh",
            same_engine=True,
        )


def _qu(
    model: NetworkModel, forecast: NodalForecast, controls: Controls, costs: MeasureCosts
) -> Iterator[_Candidate]:
    sg = model.net.sgen
    if not len(forecast.sgen_ids) or controls.reactive_power:
        return
    ok = [int(i) for i in forecast.sgen_ids if float(sg.loc[i, "sn_mva"]) > 0]
    if not ok:
        return
    qu = ReactivePowerControl(sgens=tuple(ok), v_pu=QU_V_PU, q_per_sn=QU_Q_PER_SN)
    yield _Candidate(
        "q_u",
        f"Q(U) on {len(ok)} PV inverters (cos φ 0.9 at full rating beyond "
        f"{QU_V_PU[0]:g} / {QU_V_PU[-1]:g} pu)",
        {"v_pu": list(QU_V_PU), "q_per_sn": list(QU_Q_PER_SN), "sgens": len(ok)},
        model,
        forecast,
        replace(controls, reactive_power=(qu,)),
        0.0,
        f"added losses at {costs.losses_eur_per_kwh:g} EUR/kWh (settings changed remotely)",
    )


def _score(
    base: Assessment, after: Assessment, threshold: float, lim: Limits
) -> tuple[int, int, int, tuple[str, ...], float]:
    before = base.probability >= threshold
    now = after.probability >= threshold
    removed = int((before & ~now).sum())
    remaining = int((before & now).sum())
    new = int((~before & now).sum())
    gone = [
        f"{lim.rule_ids[j]}@{lim.elements[j]}"
        for j in np.flatnonzero(before.any(axis=0)).tolist()
        if not (before[:, j] & now[:, j]).any()
    ]
    return removed, remaining, new, tuple(gone), float(after.probability.max(initial=0.0))


def propose_measures(
    model: NetworkModel,
    forecast: NodalForecast,
    base: Assessment,
    found: Sequence[Finding],
    lim: Limits,
    sampling: SamplingSpec,
    threshold: float,
    *,
    options: PowerFlowOptions | None = None,
    controls: Controls | None = None,
    costs: MeasureCosts | None = None,
    engine: ScenarioEngine | None = None,
) -> list[Measure]:
    """Every applicable candidate checked by power flow, best first (module docstring);
    [] when there is no finding. ``engine``: the base assessment's (reused by the
    candidates that change only set-points)."""
    if not found:
        return []
    ctl = controls or Controls()
    cost = costs or MeasureCosts()
    step_h = float((forecast.time_utc[1] - forecast.time_utc[0]).total_seconds()) / 3600.0
    base_losses = base.losses_mwh(step_h)
    out = []
    for make in (_taps, _transfers, _curtailments, _qu):
        for cand in make(model, forecast, ctl, cost):
            after = assess(
                cand.model,
                cand.forecast,
                lim,
                sampling,
                options=options,
                controls=cand.controls,
                engine=engine if cand.same_engine else None,
            )
            removed, remaining, new, gone, pmax = _score(base, after, threshold, lim)
            eur, note = cand.fixed_cost_eur, cand.fixed_note
            if cand.kind == "curtail_pv":
                cut = float(
                    (forecast.sgen_p_mw - cand.forecast.sgen_p_mw)[
                        :, :, len(forecast.quantiles) // 2
                    ].sum()
                )
                kwh = cut * step_h * 1000.0
                eur = kwh * cost.curtailed_eur_per_kwh
                price = cost.curtailed_eur_per_kwh
                note = f"{kwh:.1f} kWh curtailed (median forecast) x {price:g} EUR/kWh"
            elif cand.kind == "q_u":
                kwh = max(0.0, after.losses_mwh(step_h) - base_losses) * 1000.0
                eur = kwh * cost.losses_eur_per_kwh
                note = f"{kwh:.1f} kWh added losses x {cost.losses_eur_per_kwh:g} EUR/kWh"
            out.append(
                Measure(
                    kind=cand.kind,
                    description=cand.description,
                    settings=cand.settings,
                    removed=removed,
                    remaining=remaining,
                    new=new,
                    findings_removed=gone,
                    max_probability=pmax,
                    cost_eur=round(eur, 2),
                    cost_note=note,
                    power_flows=after.power_flows,
                )
            )
    return sorted(out, key=lambda m: (-len(m.findings_removed), -m.removed + m.new, m.cost_eur))
