"""Studies on the network twin: what-if scenarios, N-1 contingencies, hosting capacity.

Each study is one function over a :class:`~gridtwin.workflows.Twin` (or a model) that
returns a typed result; the command line and the demo call them.

* :func:`scenario_study`: the grid today and after a change (electrified apartments,
  rooftop PV), both simulated and checked the same way; :func:`simbench_2034_study`:
  SimBench's own 2034 scenario of a grid.
* :func:`contingency_study`: N-1 of lines and transformers at the stress steps, with
  restoration by the normally-open switch.
* :func:`hosting_study`: the extra PV or load each bus can take before a limit is hit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network import NetworkModel, ReactivePowerControl
from gridtwin.network.checks import CheckReport, compare_checks
from gridtwin.network.contingency import GridLimits, contingency_analysis, hosting_capacity
from gridtwin.network.scenarios import ElectrificationSpec, add_pv, electrify, simbench_pair
from gridtwin.workflows.twin import Steps, Twin, TwinState

__all__ = [
    "PvSpec",
    "ScenarioResult",
    "contingency_study",
    "hosting_study",
    "qu_study",
    "scenario_study",
    "simbench_2034_study",
]


@dataclass(frozen=True)
class PvSpec:
    """Rooftop PV added to a grid.

    Attributes
    ----------
    share : float
        Share of household buses that get a roof, 0..1.
    kwp : float
        Peak power per roof [kWp].
    seed : int
        Random seed of the choice of roofs.
    """

    share: float = 0.5
    kwp: float = 5.0
    seed: int = 0


@dataclass(frozen=True)
class ScenarioResult:
    """A grid before and after a what-if change, checked the same way.

    Attributes
    ----------
    before, after : TwinState
        The twin's state today and with the change.
    comparison : pandas.DataFrame
        Violations and limiting element, one row per case (``case`` = before/after).
    notes : tuple of str
        What the change added.
    """

    before: TwinState
    after: TwinState
    comparison: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    @property
    def after_checks(self) -> CheckReport:
        """The checks of the changed grid."""
        return self.after.checks


def _before_after(
    today: Twin,
    changed: Twin,
    steps: Steps,
    notes: tuple[str, ...],
    before: TwinState | None = None,
) -> ScenarioResult:
    """Run both twins (``today`` only if its state is not given) and compare them."""
    if before is None:
        before = today.run(steps)
    after = changed.run(steps)
    return ScenarioResult(
        before=before,
        after=after,
        comparison=compare_checks(before.checks, after.checks),
        notes=notes,
    )


def scenario_study(
    twin: Twin,
    kind: Literal["electrify", "pv"] = "electrify",
    *,
    electrification: ElectrificationSpec | None = None,
    pv: PvSpec | None = None,
    steps: Steps = None,
    before: TwinState | None = None,
) -> ScenarioResult:
    """Run a twin today and after a what-if change (same options, controls, standard).

    Parameters
    ----------
    twin : Twin
        The grid today.
    kind : {"electrify", "pv"}
        Electrified apartments (``electrification``, default half of them) or rooftop PV
        (``pv``, default :class:`PvSpec`).
    steps : slice or sequence of int, optional
        Profile steps to simulate (default all).
    before : TwinState, optional
        The state of ``twin`` over ``steps`` if already run (it is not run again).

    With tap control on (``twin.controls.taps``), the changed grid regulates the tap
    changers its own net describes.
    """
    if kind == "electrify":
        model, change = electrify(twin.model, electrification or ElectrificationSpec(share=0.5))
    elif kind == "pv":
        spec = pv or PvSpec()
        model, change = add_pv(twin.model, share=spec.share, kwp=spec.kwp, seed=spec.seed)
    else:
        msg = f"scenario kind {kind!r}: use electrify or pv"
        raise InputError(msg)
    changed = replace(twin, model=model, profiles=None)
    if twin.controls.taps:
        changed = changed.with_tap_control()
    return _before_after(twin, changed, steps, tuple(change.notes), before)


def simbench_2034_study(
    code: str, *, tap_control: bool = False, steps: Steps = None, **settings: Any
) -> ScenarioResult:
    """SimBench's own future: a grid today (scenario 0) and in 2034 (scenario 2, with the
    heat pumps, EV chargers, PV and storage SimBench foresees), both run as twins with
    ``settings`` (the other :class:`Twin` attributes) and compared."""
    today, future = (Twin(m, **settings) for m in simbench_pair(code))
    if tap_control:
        today, future = today.with_tap_control(), future.with_tap_control()
    return _before_after(today, future, steps, ("SimBench scenario 2 (2034) of the same grid",))


def qu_study(
    twin: Twin, pv: PvSpec, v_pu: tuple[float, ...], q_per_sn: tuple[float, ...]
) -> tuple[TwinState, TwinState]:
    """Rooftop PV without and with a Q(U) characteristic on the new inverters.

    The characteristic (``v_pu`` [pu], ``q_per_sn`` [-], see
    :class:`~gridtwin.network.ReactivePowerControl`) is applied to every PV unit of the
    changed grid. Returns the states with PV and with PV under Q(U).
    """
    model, _ = add_pv(twin.model, share=pv.share, kwp=pv.kwp, seed=pv.seed)
    sgens = tuple(int(i) for i in model.net.sgen.index[model.net.sgen.type == "PV"])
    qu = ReactivePowerControl(sgens, v_pu, q_per_sn)
    with_pv = replace(twin, model=model, profiles=None)
    controls = replace(twin.controls, reactive_power=(*twin.controls.reactive_power, qu))
    return with_pv.run(), replace(with_pv, controls=controls).run()


def contingency_study(model: NetworkModel, *, restore: bool = True) -> pd.DataFrame:
    """N-1 of every in-service line and transformer at the stress steps (see
    :func:`gridtwin.network.contingency.contingency_analysis`)."""
    return contingency_analysis(model, restore=restore)


def hosting_study(
    model: NetworkModel, kind: Literal["pv", "load"] = "pv", *, vm_max_pu: float = 1.1
) -> pd.DataFrame:
    """Hosting capacity per bus [MW] under the upper voltage limit ``vm_max_pu`` [pu] and
    the grid's loading limits (see :func:`gridtwin.network.contingency.hosting_capacity`)."""
    if kind not in ("pv", "load"):
        msg = f"hosting kind {kind!r}: use pv or load"
        raise InputError(msg)
    return hosting_capacity(model, kind=kind, limits=GridLimits(vm_max_pu=vm_max_pu))
