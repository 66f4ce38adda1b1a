"""Controllers acting at every step of a time-series power flow.

:class:`Controls` gathers them for :func:`gridtwin.network.simulate`:

* on-load tap changers (:class:`~gridtwin.network.TapControl`; from a net's own description
  with :func:`tap_controls_from_net`),
* Q(U) characteristics of inverters (:class:`~gridtwin.network.ReactivePowerControl`),
  solved with the power flow,
* cos φ(P) characteristics of inverters (:class:`~gridtwin.network.PowerFactorControl`),
  applied to the set-points before any solver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._fp_controls import ReactivePowerControl, TapControl
from gridtwin.network._setpoints import PowerFactorControl

__all__ = ["Controls", "tap_controls_from_net"]


@dataclass(frozen=True)
class Controls:
    """The controllers of a time-series power flow (none by default).

    Attributes
    ----------
    taps : sequence of TapControl
        On-load tap changers that keep a bus voltage in a band (fixed point only; see
        :class:`~gridtwin.network.TapControl` and :func:`tap_controls_from_net`). The tap
        positions per step are in ``trafo_tap_pos`` of the result.
    reactive_power : sequence of ReactivePowerControl
        Q(U) characteristics of sgens (fixed point only; see
        :class:`~gridtwin.network.ReactivePowerControl`). Their reactive power per step is
        in ``sgen_q_mvar`` of the result.
    power_factor : sequence of PowerFactorControl
        cos φ(P) characteristics of sgens: their reactive power follows from the same
        step's active power (every method; see :class:`~gridtwin.network.PowerFactorControl`).

    Raises
    ------
    InputError
        An entry is not of the expected control type.
    """

    taps: Sequence[TapControl] = field(default=())
    reactive_power: Sequence[ReactivePowerControl] = field(default=())
    power_factor: Sequence[PowerFactorControl] = field(default=())

    def __post_init__(self) -> None:
        for name, kind in (
            ("taps", TapControl),
            ("reactive_power", ReactivePowerControl),
            ("power_factor", PowerFactorControl),
        ):
            items = tuple(getattr(self, name) or ())
            bad = [type(c).__name__ for c in items if not isinstance(c, kind)]
            if bad:
                msg = f"Controls.{name}: expected {kind.__name__} objects; got {bad[:3]}"
                raise InputError(msg)
            object.__setattr__(self, name, items)

    @property
    def need_fixed_point(self) -> bool:
        """Tap and Q(U) controls are solved by the fixed point only."""
        return bool(self.taps or self.reactive_power)


def tap_controls_from_net(net: Any, *, tol_pu: float = 1e-3) -> tuple[TapControl, ...]:
    """Tap controls described in a pandapower net.

    * pandapower ``DiscreteTapControl`` objects in ``net.controller`` (in service, on a
      ``trafo``): their ``vm_lower_pu``, ``vm_upper_pu`` and side;
    * SimBench's transformer columns ``autoTap`` (true), ``autoTapSetp`` [pu] and
      ``autoTapSide``: the band of ``DiscreteTapControl.from_tap_step_percent``, i.e.
      set point +- (tap step / 2 + ``tol_pu``).

    A transformer named by both is taken from ``net.controller``.
    """
    found: dict[int, TapControl] = {}
    ctrl = net.get("controller") if hasattr(net, "get") else None
    if isinstance(ctrl, pd.DataFrame) and len(ctrl):
        for _, row in ctrl.iterrows():
            obj = row.get("object")
            if type(obj).__name__ != "DiscreteTapControl" or not bool(row.get("in_service", True)):
                continue
            if getattr(obj, "element", "trafo") != "trafo":
                continue
            index: Any = getattr(obj, "element_index", None)
            if index is None:
                continue
            side: Literal["lv", "hv"] = "hv" if getattr(obj, "side", "lv") == "hv" else "lv"
            lower = float(getattr(obj, "vm_lower_pu", np.nan))
            upper = float(getattr(obj, "vm_upper_pu", np.nan))
            for tid in np.atleast_1d(np.asarray(index)):
                found[int(tid)] = TapControl(int(tid), lower, upper, side)
    tr = net.trafo
    if "autoTap" in tr and "autoTapSetp" in tr:
        auto = pd.to_numeric(tr["autoTap"], errors="coerce").fillna(0).to_numpy() != 0
        for tid in tr.index[auto]:
            if int(tid) in found:
                continue
            setp = float(pd.to_numeric(tr.at[tid, "autoTapSetp"], errors="coerce"))
            step = float(pd.to_numeric(tr.at[tid, "tap_step_percent"], errors="coerce"))
            if not (np.isfinite(setp) and np.isfinite(step)):
                msg = f"trafo {tid}: autoTap without a numeric autoTapSetp / tap_step_percent"
                raise InputError(msg)
            at: Literal["lv", "hv"] = (
                "hv" if str(tr.at[tid, "autoTapSide"]).lower() == "hv" else "lv"
            )
            found[int(tid)] = TapControl.from_set_point(
                int(tid), setp, step, side=at, tol_pu=tol_pu
            )
    return tuple(found[k] for k in sorted(found))
