"""Forecast quantiles of loads and PV through the batched power flow.

Two runs of the same batch machinery (:func:`gridtwin.network.simulate`, the compiled
fixed point; one call, all scenarios x steps stacked on one time axis):

* :func:`quantile_power_flow`, the **stress band**: scenario ``k`` puts every load at
  its forecast quantile ``q_k`` and every PV unit at ``q_{Q-1-k}`` (loads high with PV
  low, and the reverse). If all loads moved together (comonotone, and PV together against
  them) the voltage of scenario ``k`` would be exactly a quantile of the voltage; real
  loads are less than perfectly dependent, so the band is usually *wider* than the
  voltage's quantiles: read it as a stress band (a bound in practice, not a guarantee:
  quantiles are not sub-additive).
* :func:`sampled_power_flow`, **probabilities**: ``n_samples`` joint scenarios drawn from
  the per-load quantiles with a Gaussian common-factor copula (loads share one factor
  with weight ``rho_load``, PV units one with ``rho_pv``; the factors follow an AR(1)
  over the steps), each sample read through its load's quantile function (linear
  between the levels, linear extrapolation of the outer pair beyond them). The share of
  samples beyond a limit estimates ``P(V < limit)``; its standard error is at most
  ``0.5 / sqrt(n_samples)``.

The time axis handed to the engine is synthetic (``2000-01-01`` onwards, one row per
scenario and step); results are reshaped back to ``(scenario, step, element)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network import (
    Controls,
    NetworkModel,
    PowerFlowOptions,
    PowerFlowResult,
    Profiles,
)

__all__ = [
    "NodalForecast",
    "SamplingSpec",
    "ScenarioEngine",
    "ScenarioFlow",
    "band_setpoints",
    "quantile_power_flow",
    "sample_scenarios",
    "sampled_power_flow",
    "scenario_flow",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_AXIS_START = pd.Timestamp("2000-01-01T00:00Z")


@dataclass(frozen=True)
class NodalForecast:
    """Forecast quantiles of the active power of a net's loads and PV units.

    Attributes
    ----------
    time_utc : DatetimeIndex
        The forecast interval starts (T).
    quantiles : tuple of float
        Increasing levels (Q), strictly between 0 and 1.
    load_ids : ndarray of int
        pandapower load indices (n_load); loads of the net not listed keep their static
        set-point.
    load_p_mw : ndarray, shape (n_load, T, Q)
        Load active power [MW], consumer frame, non-crossing along the last axis.
    sgen_ids : ndarray of int
        pandapower sgen indices (PV) forecast.
    sgen_p_mw : ndarray, shape (n_sgen, T, Q)
        Generation [MW], generator frame.
    """

    time_utc: pd.DatetimeIndex
    quantiles: tuple[float, ...]
    load_ids: IntArray
    load_p_mw: FloatArray
    sgen_ids: IntArray
    sgen_p_mw: FloatArray

    def __post_init__(self) -> None:
        t, q = len(self.time_utc), len(self.quantiles)
        for name, ids, arr in (
            ("load_p_mw", self.load_ids, self.load_p_mw),
            ("sgen_p_mw", self.sgen_ids, self.sgen_p_mw),
        ):
            if arr.shape != (len(ids), t, q):
                msg = (
                    f"NodalForecast.{name} has shape {arr.shape}; expected "
                    f"({len(ids)} elements, {t} steps, {q} quantiles)"
                )
                raise InputError(msg)
            if not np.isfinite(arr).all():
                msg = f"NodalForecast.{name} holds NaN: fill or drop the series first"
                raise InputError(msg)
        levels = np.asarray(self.quantiles)
        if q < 2 or np.any(np.diff(levels) <= 0) or levels[0] <= 0 or levels[-1] >= 1:
            msg = f"NodalForecast.quantiles {self.quantiles}: increasing levels in (0, 1)"
            raise InputError(msg)

    @property
    def n_steps(self) -> int:
        """Forecast steps (T)."""
        return len(self.time_utc)


@dataclass(frozen=True)
class ScenarioFlow:
    """Power-flow results of scenarios x steps.

    Attributes
    ----------
    bus_ids, line_ids, trafo_ids : ndarray of int
    vm_pu : ndarray, shape (S, T, n_bus)
    line_loading_percent : ndarray, shape (S, T, n_line)
    trafo_loading_percent : ndarray, shape (S, T, n_trafo)
    converged : ndarray of bool, shape (S, T)
    steps : ndarray of int
        Positions in the forecast's steps that were run (T of them).
    compute_s : float
        Wall time of the power flow [s] (set-points included).
    sgen_p_mw : ndarray, shape (S, T, n_sgen)
        The PV set-points of each scenario (for curtailment costs).
    p_loss_mw : ndarray, shape (S, T)
        Active losses of lines and transformers [MW].
    """

    bus_ids: IntArray
    line_ids: IntArray
    trafo_ids: IntArray
    vm_pu: FloatArray
    line_loading_percent: FloatArray
    trafo_loading_percent: FloatArray
    converged: npt.NDArray[np.bool_]
    steps: IntArray
    compute_s: float
    sgen_p_mw: FloatArray
    p_loss_mw: FloatArray

    @property
    def n_scenarios(self) -> int:
        """Scenarios (S)."""
        return int(self.vm_pu.shape[0])

    def values(self, quantity: str, table: str) -> tuple[IntArray, FloatArray]:
        """``(ids, values (S, T, n))`` of ``vm_pu`` (bus) or ``loading_percent``."""
        if (quantity, table) == ("vm_pu", "bus"):
            return self.bus_ids, self.vm_pu
        if (quantity, table) == ("loading_percent", "line"):
            return self.line_ids, self.line_loading_percent
        if (quantity, table) == ("loading_percent", "trafo"):
            return self.trafo_ids, self.trafo_loading_percent
        return np.zeros(0, np.int64), np.zeros((*self.vm_pu.shape[:2], 0))


def _q_ratio(net: Any, table: str, ids: IntArray) -> FloatArray:
    """Static ``q_mvar / p_mw`` of the elements (0 where p is 0): the forecast moves q
    with p at the element's own power factor."""
    frame = getattr(net, table)
    p = frame.loc[ids, "p_mw"].to_numpy(dtype=np.float64)
    q = frame.loc[ids, "q_mvar"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(p != 0, q / p, 0.0)
    return np.asarray(ratio, dtype=np.float64)


def _positions(all_ids: pd.Index, ids: IntArray) -> IntArray:
    where = {int(e): i for i, e in enumerate(all_ids)}
    return np.array([where[int(e)] for e in ids], dtype=np.int64)


class ScenarioEngine:
    """The power flow of scenario set-points, validated and built once for a model, its
    controls and a forecast's elements, for batches of up to ``max_scenarios`` x T rows.

    Loads and PV units of the forecast take the scenario's active power and their own
    static ``q/p`` ratio; every other element keeps its static set-point.
    """

    def __init__(
        self,
        model: NetworkModel,
        forecast: NodalForecast,
        max_scenarios: int,
        *,
        options: PowerFlowOptions | None = None,
        controls: Controls | None = None,
    ) -> None:
        from gridtwin.network import BatchPowerFlow

        self.model = model
        self.forecast = forecast
        net = model.net
        rows = max(1, int(max_scenarios)) * forecast.n_steps
        axis = pd.date_range(_AXIS_START, periods=rows, freq="15min", name="time_utc")
        frames: dict[str, pd.DataFrame] = {}
        for table in ("load", "sgen", "storage"):
            frame = getattr(net, table)
            for col in ("p_mw", "q_mvar"):
                static = frame[col].to_numpy(dtype=np.float64) if len(frame) else np.zeros(0)
                values = np.repeat(static[None, :], rows, axis=0)
                frames[f"{table}_{col}"] = pd.DataFrame(values, index=axis, columns=frame.index)
        self._load_pos = _positions(net.load.index, forecast.load_ids)
        self._sgen_pos = _positions(net.sgen.index, forecast.sgen_ids)
        self._load_ratio = _q_ratio(net, "load", forecast.load_ids)
        self._sgen_ratio = _q_ratio(net, "sgen", forecast.sgen_ids)
        self._buffers = {k: np.ascontiguousarray(v.to_numpy()) for k, v in frames.items()}
        template = Profiles(
            time_utc=axis,
            gen_p_mw=pd.DataFrame(index=axis),
            source="early-warning scenarios",
            **frames,
        )
        self.batch = BatchPowerFlow(model, template, options=options, controls=controls)

    @property
    def capacity(self) -> int:
        """Rows a batch may have."""
        return self.batch.capacity

    def run(
        self, load_p_mw: FloatArray, sgen_p_mw: FloatArray, steps: IntArray | None = None
    ) -> ScenarioFlow:
        """Scenarios ``load_p_mw (S, T, n_load)`` and ``sgen_p_mw (S, T, n_sgen)`` of the
        forecast's elements through one batch; ``steps`` are the forecast positions the
        T steps stand for (default all)."""
        t0 = time.perf_counter()
        s, t, _ = load_p_mw.shape
        rows = s * t
        if rows > self.capacity:
            msg = f"{rows} scenario rows exceed the engine's capacity {self.capacity}"
            raise InputError(msg)
        lp = load_p_mw.reshape(rows, -1)
        gp = sgen_p_mw.reshape(rows, -1)
        buf = self._buffers
        buf["load_p_mw"][:rows, self._load_pos] = lp
        buf["load_q_mvar"][:rows, self._load_pos] = lp * self._load_ratio
        buf["sgen_p_mw"][:rows, self._sgen_pos] = gp
        buf["sgen_q_mvar"][:rows, self._sgen_pos] = gp * self._sgen_ratio
        arrays = {k: v[:rows] for k, v in buf.items() if v.shape[1]}
        res = self.batch.solve(arrays, rows)
        return _reshape(res, s, t, steps, time.perf_counter() - t0, sgen_p_mw)


def scenario_flow(
    model: NetworkModel,
    load_p_mw: FloatArray,
    sgen_p_mw: FloatArray,
    forecast: NodalForecast,
    *,
    steps: IntArray | None = None,
    options: PowerFlowOptions | None = None,
    controls: Controls | None = None,
) -> ScenarioFlow:
    """One batched power flow of scenario set-points (a :class:`ScenarioEngine` built for
    this call; keep an engine to run several batches).

    Parameters
    ----------
    model : NetworkModel
    load_p_mw : ndarray, shape (S, T, n_load)
        Active power of ``forecast.load_ids`` per scenario and step [MW].
    sgen_p_mw : ndarray, shape (S, T, n_sgen)
        Active power of ``forecast.sgen_ids`` [MW].
    forecast : NodalForecast
        Which elements the columns are (its own steps need not be T).
    steps : ndarray of int, optional
        The forecast positions the T steps stand for (default ``0 .. T-1``).
    options, controls
        As :func:`gridtwin.network.simulate`.
    """
    s, t, _ = load_p_mw.shape
    per = max(1, -(-s * t // max(1, forecast.n_steps)))
    engine = ScenarioEngine(model, forecast, per, options=options, controls=controls)
    return engine.run(load_p_mw, sgen_p_mw, steps)


def _reshape(
    res: PowerFlowResult,
    s: int,
    t: int,
    steps: IntArray | None,
    compute_s: float,
    sgen_p_mw: FloatArray,
) -> ScenarioFlow:
    vm = res.vm_pu if res.symmetric else res.vm_pu.min(axis=2)
    return ScenarioFlow(
        bus_ids=np.asarray(res.bus_ids, dtype=np.int64),
        line_ids=np.asarray(res.line_ids, dtype=np.int64),
        trafo_ids=np.asarray(res.trafo_ids, dtype=np.int64),
        vm_pu=np.asarray(vm, dtype=np.float64).reshape(s, t, -1),
        line_loading_percent=np.asarray(res.line_loading_percent, np.float64).reshape(s, t, -1),
        trafo_loading_percent=np.asarray(res.trafo_loading_percent, np.float64).reshape(s, t, -1),
        converged=np.asarray(res.converged, dtype=bool).reshape(s, t),
        steps=np.arange(t, dtype=np.int64) if steps is None else np.asarray(steps, np.int64),
        compute_s=compute_s,
        sgen_p_mw=sgen_p_mw,
        p_loss_mw=np.asarray(res.p_loss_mw, dtype=np.float64).reshape(s, t),
    )


def band_setpoints(forecast: NodalForecast) -> tuple[FloatArray, FloatArray]:
    """The stress band's set-points ``(load (Q, T, n_load), sgen (Q, T, n_sgen))``:
    scenario ``k`` has the loads at quantile ``k`` and PV at quantile ``Q-1-k``."""
    lp = np.ascontiguousarray(np.transpose(forecast.load_p_mw, (2, 1, 0)))
    gp = np.ascontiguousarray(np.transpose(forecast.sgen_p_mw[:, :, ::-1], (2, 1, 0)))
    return lp, gp


def quantile_power_flow(
    model: NetworkModel,
    forecast: NodalForecast,
    *,
    options: PowerFlowOptions | None = None,
    controls: Controls | None = None,
    engine: ScenarioEngine | None = None,
) -> ScenarioFlow:
    """The stress band: Q scenarios x T steps in one batch (module docstring).

    Scenario ``k`` has every load at quantile ``k`` and every PV unit at quantile
    ``Q-1-k``; the last scenario is the low-voltage / high-load stress case. ``engine``:
    one built for ``model`` and ``forecast`` (else one is built for this call).
    """
    lp, gp = band_setpoints(forecast)
    if engine is None:
        q = len(forecast.quantiles)
        engine = ScenarioEngine(model, forecast, q, options=options, controls=controls)
    return engine.run(lp, gp)


@dataclass(frozen=True)
class SamplingSpec:
    """How joint scenarios are drawn from per-element quantiles (module docstring).

    Attributes
    ----------
    n_samples : int
        Scenarios per step (standard error of a probability <= 0.5 / sqrt(n)).
    rho_load : float
        Weight of the common factor of the loads (0: independent, 1: comonotone); the
        correlation of two loads' normal scores.
    rho_pv : float
        The same for PV units (one weather: close to 1).
    ar1 : float
        Step-to-step correlation of the common factors.
    seed : int
    """

    n_samples: int = 200
    rho_load: float = 0.5
    rho_pv: float = 0.9
    ar1: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        if not 10 <= self.n_samples <= 5000:
            msg = f"sampling n_samples {self.n_samples}: use 10 to 5000"
            raise InputError(msg)
        for name in ("rho_load", "rho_pv", "ar1"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                msg = f"sampling {name} {v}: use a value in [0, 1]"
                raise InputError(msg)


def _factor(rng: np.random.Generator, s: int, t: int, ar1: float) -> FloatArray:
    """A standard-normal AR(1) common factor, shape (S, T)."""
    e = rng.standard_normal((s, t))
    out = np.empty((s, t))
    out[:, 0] = e[:, 0]
    w = np.sqrt(1.0 - ar1 * ar1)
    for k in range(1, t):
        out[:, k] = ar1 * out[:, k - 1] + w * e[:, k]
    return out


def _inverse(levels: FloatArray, values: FloatArray, u: FloatArray) -> FloatArray:
    """Quantile function of each (element, step) at ``u`` (S, n, T): linear between the
    levels, the outer pair's slope beyond them; ``values`` is (n, T, Q)."""
    q = len(levels)
    j = np.clip(np.searchsorted(levels, u) - 1, 0, q - 2)
    lo = levels[j]
    hi = levels[j + 1]
    n_idx = np.arange(values.shape[0])[None, :, None]
    t_idx = np.arange(values.shape[1])[None, None, :]
    v_lo = values[n_idx, t_idx, j]
    v_hi = values[n_idx, t_idx, j + 1]
    return np.asarray(v_lo + (v_hi - v_lo) * (u - lo) / (hi - lo), dtype=np.float64)


def sample_scenarios(
    forecast: NodalForecast, spec: SamplingSpec, steps: IntArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Joint samples ``(load_p_mw (S, T, n_load), sgen_p_mw (S, T, n_sgen))`` of the
    selected steps (all by default); PV is kept >= 0 and the tails within u in
    [0.005, 0.995]."""
    from scipy.special import ndtr

    pos = np.arange(forecast.n_steps) if steps is None else np.asarray(steps, np.int64)
    s, t = spec.n_samples, forecast.n_steps
    rng = np.random.default_rng(spec.seed)
    levels = np.asarray(forecast.quantiles, dtype=np.float64)
    out = []
    for values, rho in ((forecast.load_p_mw, spec.rho_load), (forecast.sgen_p_mw, spec.rho_pv)):
        n = values.shape[0]
        common = _factor(rng, s, t, spec.ar1)[:, pos]
        own = rng.standard_normal((s, n, len(pos)))
        z = np.sqrt(rho) * common[:, None, :] + np.sqrt(1.0 - rho) * own
        u = np.clip(ndtr(z), 0.005, 0.995)
        x = _inverse(levels, values[:, pos, :], u) if n else np.zeros((s, 0, len(pos)))
        out.append(np.transpose(x, (0, 2, 1)))
    load, pv = out
    return np.ascontiguousarray(load), np.ascontiguousarray(np.maximum(pv, 0.0))


def sampled_power_flow(
    model: NetworkModel,
    forecast: NodalForecast,
    spec: SamplingSpec | None = None,
    *,
    steps: IntArray | None = None,
    options: PowerFlowOptions | None = None,
    controls: Controls | None = None,
    engine: ScenarioEngine | None = None,
) -> ScenarioFlow:
    """``spec.n_samples`` joint scenarios of the selected steps through one batched power
    flow (module docstring)."""
    sp = spec or SamplingSpec()
    load, pv = sample_scenarios(forecast, sp, steps)
    if engine is None:
        return scenario_flow(
            model, load, pv, forecast, steps=steps, options=options, controls=controls
        )
    return engine.run(load, pv, steps)
