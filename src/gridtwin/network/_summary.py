"""The summary of a power-flow run: extremes with where and when, losses and energy.

:class:`PowerFlowSummary` is what ``summary()`` of both a full result and streamed
statistics returns; :func:`_make_summary` builds it from the extremes either of them
found.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.network._result_layout import BoolArray, FloatArray, IntArray

__all__ = ["PowerFlowSummary"]

#: The one NaN of summaries (equal summaries compare equal: ``nan is nan``).
_NAN = float("nan")
#: (value, element id, time) of an extreme; (NaN, None, None) when there is none.
_Extreme = tuple[float, int | None, pd.Timestamp | None]


@dataclass(frozen=True)
class PowerFlowSummary:
    """Extremes of a :class:`PowerFlowResult` (over converged steps).

    Attributes
    ----------
    steps, converged_steps : int
        Steps simulated and steps that converged.
    first_failed_utc : pandas.Timestamp or None
        First step that did not converge.
    vm_min_pu, vm_max_pu : float
        Lowest and highest bus voltage [pu] (any phase in unbalanced runs).
    vm_min_bus, vm_max_bus : int or None
        Where (pandapower bus index).
    vm_min_time_utc, vm_max_time_utc : pandas.Timestamp or None
        When (step start).
    line_loading_max_percent, trafo_loading_max_percent : float
        Highest loading [%] and where / when (two-winding transformers only).
    p_loss_max_mw : float
        Largest total loss of a step [MW].
    energy_loss_mwh : float
        Sum over converged steps of ``p_loss_mw * step`` [MWh].
    trafo3w_loading_max_percent : float
        Highest loading of a three-winding transformer [%] (NaN without any), kept apart
        from the two-winding transformers' because the element indices belong to another
        table; ``trafo3w_loading_max_trafo3w`` (its ``trafo3w`` index) and
        ``trafo3w_loading_max_time_utc`` say where and when.
    """

    steps: int
    converged_steps: int
    first_failed_utc: pd.Timestamp | None
    vm_min_pu: float
    vm_min_bus: int | None
    vm_min_time_utc: pd.Timestamp | None
    vm_max_pu: float
    vm_max_bus: int | None
    vm_max_time_utc: pd.Timestamp | None
    line_loading_max_percent: float
    line_loading_max_line: int | None
    line_loading_max_time_utc: pd.Timestamp | None
    trafo_loading_max_percent: float
    trafo_loading_max_trafo: int | None
    trafo_loading_max_time_utc: pd.Timestamp | None
    p_loss_max_mw: float
    energy_loss_mwh: float
    trafo3w_loading_max_percent: float = _NAN
    trafo3w_loading_max_trafo3w: int | None = None
    trafo3w_loading_max_time_utc: pd.Timestamp | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (timestamps as ISO strings, NaN as None)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, pd.Timestamp):
                out[key] = value.isoformat()
            elif isinstance(value, float) and np.isnan(value):
                out[key] = None
            else:
                out[key] = value
        return out


def _extreme(arr: FloatArray, ids: IntArray, time: pd.DatetimeIndex, use_max: bool) -> _Extreme:
    """Extreme of a ``(steps, n)`` array with its element id and step time."""
    if arr.size == 0 or np.all(np.isnan(arr)):
        return _NAN, None, None
    flat = np.nanargmax(arr) if use_max else np.nanargmin(arr)
    pos = np.unravel_index(int(flat), arr.shape)
    return float(arr[pos]), int(ids[pos[1]]), pd.Timestamp(time[int(pos[0])])


def _network_totals(
    p_loss_mw: FloatArray, converged: BoolArray, step_duration: pd.Timedelta
) -> tuple[float, float]:
    """Largest loss [MW] and energy lost [MWh] over converged steps."""
    loss = p_loss_mw[converged]
    step_h = step_duration / pd.Timedelta(hours=1)
    return (float(np.max(loss)) if loss.size else _NAN, float(np.sum(loss) * step_h))


def _make_summary(
    res: Any, vmin: _Extreme, vmax: _Extreme, lmax: _Extreme, tmax: _Extreme, t3max: _Extreme
) -> PowerFlowSummary:
    """A :class:`PowerFlowSummary` from the extremes of a result or of its statistics."""
    failed = np.flatnonzero(~res.converged)
    p_loss_max, energy = _network_totals(res.p_loss_mw, res.converged, res.step_duration)
    return PowerFlowSummary(
        steps=res.n_steps,
        converged_steps=int(res.converged.sum()),
        first_failed_utc=pd.Timestamp(res.time_utc[failed[0]]) if len(failed) else None,
        vm_min_pu=vmin[0],
        vm_min_bus=vmin[1],
        vm_min_time_utc=vmin[2],
        vm_max_pu=vmax[0],
        vm_max_bus=vmax[1],
        vm_max_time_utc=vmax[2],
        line_loading_max_percent=lmax[0],
        line_loading_max_line=lmax[1],
        line_loading_max_time_utc=lmax[2],
        trafo_loading_max_percent=tmax[0],
        trafo_loading_max_trafo=tmax[1],
        trafo_loading_max_time_utc=tmax[2],
        p_loss_max_mw=p_loss_max,
        energy_loss_mwh=energy,
        trafo3w_loading_max_percent=t3max[0],
        trafo3w_loading_max_trafo3w=t3max[1],
        trafo3w_loading_max_time_utc=t3max[2],
    )
