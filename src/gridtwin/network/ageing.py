"""Transformer top-oil and hot-spot temperatures and insulation ageing (IEC 60076-7:2018).

Thermal model of the loading guide for mineral-oil-immersed transformers, vectorised over
many transformers (rows) and time steps (columns):

- **Steady state** for a constant load factor K and ambient θa (clause 8.2, exponential
  equations at t → ∞)::

      θo = θa + Δθor · ((1 + R·K²) / (1 + R))^x
      θh = θo + H·gr · K^y

- **Transient**: the three first-order equations of the difference-equation method
  (clause 8.2.3; an informative annex of the standard works a load-cycle example)::

      Dθo   = Dt / (k11·τo)      · [((1 + K²R)/(1 + R))^x · Δθor − (θo − θa)]
      DΔθh1 = Dt / (k22·τw)      · [k21 · H·gr · K^y − Δθh1]
      DΔθh2 = Dt / (τo / k22)    · [(k21 − 1) · H·gr · K^y − Δθh2]
      θh    = θo + Δθh1 − Δθh2

  Inputs are held constant over each data interval (the interval is labelled by its start,
  see ``docs/conventions.md``). Two solvers:

  ``method="exponential"`` (default)
      exact solution of these linear equations over each interval:
      ``x ← x_ss + (x − x_ss)·exp(−Δt/τ)``. Unconditionally stable for any data step
      (15 min, 1 h) and equal to the difference method in the limit Dt → 0.
  ``method="difference"``
      the standard's explicit difference equations, sub-stepped so that every sub-step
      ``Dt ≤ substep_min``; the standard requires Dt to be small against the smallest time
      constant, so a sub-step longer than half of it is refused. Under constant inputs the n
      Euler sub-steps collapse to ``x ← x_ss + (x − x_ss)·(1 − Dt/τ)^n`` (no inner loop).

- **Ageing** (clause 6.3): relative ageing rate V, eq. (2) for non-thermally upgraded paper,
  eq. (3) for thermally upgraded paper, and loss of life L = ∫ V dt, eq. (4)::

      V = 2^((θh − 98)/6)                                  non-upgraded, V(98 °C) = 1
      V = exp(15000/(110 + 273) − 15000/(θh + 273))        upgraded,     V(110 °C) = 1

Clause and equation numbers are those recalled from the 2005 edition and believed unchanged in
2018; the official 2018 text was not available to check them. The recommended thermal
characteristics per cooling mode are data (``data/iec_60076_7_thermal.yaml``) with a
verification level per row (read in :mod:`gridtwin.network._thermal_parameters`; its
names are re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.network._thermal_parameters import (
    ThermalParameters,
    ThermalTable,
    cooling_modes,
    load_thermal_table,
    thermal_parameters,
    thermal_table,
)
from gridtwin.network._thermal_parameters import Verification as Verification
from gridtwin.timeseries import utc_ns

__all__ = [
    "Method",
    "Paper",
    "SteadyState",
    "ThermalParameters",
    "ThermalResult",
    "ThermalState",
    "ThermalTable",
    "cooling_modes",
    "load_thermal_table",
    "loss_of_life_h",
    "relative_ageing_rate",
    "simulate_thermal",
    "steady_state",
    "thermal_parameters",
    "thermal_table",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Paper = Literal["non_upgraded", "upgraded"]
Method = Literal["exponential", "difference"]

_PAPERS: tuple[str, ...] = ("non_upgraded", "upgraded")
_METHODS: tuple[str, ...] = ("exponential", "difference")
#: Default longest sub-step of the difference method [min]. At 0.5 min the explicit scheme
#: stays within about 0.6 K of the exact solution in the IEC 60076-7 worked example.
DEFAULT_SUBSTEP_MIN = 0.5
#: Time steps whose ultimate values are computed at once (bounds the temporary memory).
_CHUNK_STEPS = 2048


# --------------------------------------------------------------------------- ageing


def _check_paper(paper: str) -> None:
    if paper not in _PAPERS:
        msg = f"paper={paper!r} is not allowed; use one of: {', '.join(_PAPERS)}"
        raise InputError(msg)


def relative_ageing_rate(hot_spot_c: npt.ArrayLike, paper: Paper = "non_upgraded") -> FloatArray:
    """Relative ageing rate V of the winding insulation (IEC 60076-7:2018, 6.3, eqs. (2), (3)).

    Parameters
    ----------
    hot_spot_c : array_like
        Hot-spot temperature θh [°C].
    paper : {'non_upgraded', 'upgraded'}
        Non-thermally upgraded paper: ``V = 2^((θh − 98)/6)`` (V = 1 at 98 °C, doubles every
        6 K). Thermally upgraded paper: ``V = exp(15000/(110 + 273) − 15000/(θh + 273))``
        (V = 1 at 110 °C).

    Returns
    -------
    numpy.ndarray
        V [dimensionless], same shape as ``hot_spot_c``.
    """
    _check_paper(paper)
    theta = np.asarray(hot_spot_c, dtype=np.float64)
    if paper == "non_upgraded":
        return np.asarray(np.exp2((theta - 98.0) / 6.0), dtype=np.float64)
    return np.asarray(
        np.exp(15000.0 / (110.0 + 273.0) - 15000.0 / (theta + 273.0)), dtype=np.float64
    )


def loss_of_life_h(
    hot_spot_c: npt.ArrayLike, step_min: float, paper: Paper = "non_upgraded"
) -> FloatArray:
    """Loss of life L = Σ V·Δt over the last axis (IEC 60076-7:2018, 6.4, eq. (4)).

    Parameters
    ----------
    hot_spot_c : array_like, shape (..., n_steps)
        Hot-spot temperature of each interval (held over the interval) [°C].
    step_min : float
        Interval length Δt [min].
    paper : {'non_upgraded', 'upgraded'}
        Insulation paper (see :func:`relative_ageing_rate`).

    Returns
    -------
    numpy.ndarray, shape (...)
        Loss of life [h] (hours of life consumed at the reference ageing rate).
    """
    if not (math.isfinite(step_min) and step_min > 0):
        msg = f"step_min={step_min!r} must be a positive number of minutes"
        raise InputError(msg)
    v = relative_ageing_rate(hot_spot_c, paper)
    return np.asarray(v.sum(axis=-1) * step_min / 60.0, dtype=np.float64)


# --------------------------------------------------------------------------- states


@dataclass(frozen=True)
class SteadyState:
    """Steady-state temperatures for a constant load and ambient.

    Attributes
    ----------
    top_oil_c : numpy.ndarray
        θo = θa + Δθor·((1 + R·K²)/(1 + R))^x [°C].
    hot_spot_c : numpy.ndarray
        θh = θo + H·gr·K^y [°C].
    """

    top_oil_c: FloatArray
    hot_spot_c: FloatArray


def _params_arrays(
    params: ThermalParameters | Sequence[ThermalParameters], n: int | None
) -> dict[str, FloatArray]:
    seq = [params] if isinstance(params, ThermalParameters) else list(params)
    if not seq or not all(isinstance(p, ThermalParameters) for p in seq):
        msg = "params must be a ThermalParameters or a non-empty sequence of them"
        raise InputError(msg)
    if n is not None and len(seq) not in (1, n):
        msg = f"params has {len(seq)} entries for {n} transformers; give 1 or {n}"
        raise InputError(msg)
    names = (
        "top_oil_rise_k",
        "hot_spot_gradient_k",
        "loss_ratio",
        "oil_exponent",
        "winding_exponent",
        "k11",
        "k21",
        "k22",
        "oil_time_constant_min",
        "winding_time_constant_min",
    )
    return {k: np.array([float(getattr(p, k)) for p in seq], dtype=np.float64) for k in names}


def _ultimate(load: FloatArray, p: dict[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
    """Ultimate top-oil rise and hot-spot gradient for load factors ``load`` (n,) [K]."""
    r = p["loss_ratio"]
    oil = p["top_oil_rise_k"] * ((1.0 + r * load**2) / (1.0 + r)) ** p["oil_exponent"]
    gradient = p["hot_spot_gradient_k"] * load ** p["winding_exponent"]
    return oil, gradient


def steady_state(
    load_factor: npt.ArrayLike, ambient_c: npt.ArrayLike, params: ThermalParameters
) -> SteadyState:
    """Steady-state top-oil and hot-spot temperatures (IEC 60076-7:2018, 8.2).

    Parameters
    ----------
    load_factor : array_like
        Load current / rated current K [dimensionless], >= 0.
    ambient_c : array_like
        Ambient temperature θa [°C]; broadcast against ``load_factor``.
    params : ThermalParameters
        Thermal characteristics.

    Returns
    -------
    SteadyState
        θo and θh [°C] in the broadcast shape.
    """
    k = np.asarray(load_factor, dtype=np.float64)
    ta = np.asarray(ambient_c, dtype=np.float64)
    if np.any(~np.isfinite(k)) or np.any(k < 0):
        msg = "load_factor must be finite and >= 0"
        raise InputError(msg)
    if np.any(~np.isfinite(ta)):
        msg = "ambient_c must be finite"
        raise InputError(msg)
    p = params
    oil = p.top_oil_rise_k * ((1 + p.loss_ratio * k**2) / (1 + p.loss_ratio)) ** p.oil_exponent
    top = np.asarray(ta + oil, dtype=np.float64)
    hot = np.asarray(top + p.hot_spot_gradient_k * k**p.winding_exponent, dtype=np.float64)
    return SteadyState(top_oil_c=top, hot_spot_c=hot)


@dataclass(frozen=True)
class ThermalState:
    """State of the thermal model of ``n`` transformers at one instant.

    Attributes
    ----------
    top_oil_c : numpy.ndarray, shape (n,)
        Top-oil temperature θo [°C].
    delta_h1_k : numpy.ndarray, shape (n,)
        First hot-spot gradient term Δθh1 (winding) [K].
    delta_h2_k : numpy.ndarray, shape (n,)
        Second term Δθh2 (oil flow) [K]; the hot spot is θo + Δθh1 − Δθh2.
    """

    top_oil_c: FloatArray
    delta_h1_k: FloatArray = field(default_factory=lambda: np.zeros(1))
    delta_h2_k: FloatArray = field(default_factory=lambda: np.zeros(1))

    @property
    def hot_spot_c(self) -> FloatArray:
        """θh = θo + Δθh1 − Δθh2 [°C]."""
        return np.asarray(self.top_oil_c + self.delta_h1_k - self.delta_h2_k, dtype=np.float64)

    @classmethod
    def steady(
        cls,
        load_factor: npt.ArrayLike,
        ambient_c: npt.ArrayLike,
        params: ThermalParameters | Sequence[ThermalParameters],
    ) -> ThermalState:
        """Steady state for constant load factors and ambients (one per transformer)."""
        k = np.atleast_1d(np.asarray(load_factor, dtype=np.float64))
        ta = np.atleast_1d(np.asarray(ambient_c, dtype=np.float64))
        p = _params_arrays(params, k.shape[0])
        oil, gradient = _ultimate(k, p)
        return cls(
            top_oil_c=np.asarray(ta + oil, dtype=np.float64),
            delta_h1_k=np.asarray(p["k21"] * gradient, dtype=np.float64),
            delta_h2_k=np.asarray((p["k21"] - 1.0) * gradient, dtype=np.float64),
        )


# --------------------------------------------------------------------------- transient


@dataclass(frozen=True)
class ThermalResult:
    """Temperatures and ageing of ``n`` transformers over ``n_steps`` intervals.

    Temperatures are the state at the **end** of each interval (interval ``k`` starts at
    ``time_utc[k]`` and lasts ``step_min``).

    Attributes
    ----------
    top_oil_c : numpy.ndarray, shape (n, n_steps)
        Top-oil temperature θo [°C].
    hot_spot_c : numpy.ndarray, shape (n, n_steps)
        Hot-spot temperature θh [°C].
    relative_ageing_rate : numpy.ndarray, shape (n, n_steps)
        V at ``hot_spot_c`` [dimensionless].
    loss_of_life_h : numpy.ndarray, shape (n,)
        L = ∫ V dt over the period [h], trapezoidal rule on the interval boundaries (the
        initial state and each interval end).
    equivalent_ageing_rate : numpy.ndarray, shape (n,)
        L divided by the period length [dimensionless].
    max_hot_spot_c : numpy.ndarray, shape (n,)
        Highest θh [°C].
    max_hot_spot_step : numpy.ndarray, shape (n,)
        Interval at whose end the maximum occurs.
    max_hot_spot_utc : pandas.DatetimeIndex or None
        Instant of the maximum (end of that interval, UTC); ``None`` without ``time_utc``.
    final_state : ThermalState
        State after the last interval, to continue a simulation.
    step_min : float
        Data interval [min].
    substeps : int
        Sub-steps per interval (1 for the exponential method).
    method : str
        ``exponential`` or ``difference``.
    paper : str
        Insulation paper used for V.
    time_utc : pandas.DatetimeIndex or None
        Interval starts, as given.
    """

    top_oil_c: FloatArray
    hot_spot_c: FloatArray
    relative_ageing_rate: FloatArray
    loss_of_life_h: FloatArray
    equivalent_ageing_rate: FloatArray
    max_hot_spot_c: FloatArray
    max_hot_spot_step: IntArray
    max_hot_spot_utc: pd.DatetimeIndex | None
    final_state: ThermalState
    step_min: float
    substeps: int
    method: str
    paper: str
    time_utc: pd.DatetimeIndex | None


def _as_matrix(name: str, values: npt.ArrayLike, n: int | None, n_steps: int | None) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1)
    elif arr.ndim != 2:
        msg = f"{name} must be a scalar, 1-D (n_steps,) or 2-D (n_transformers, n_steps)"
        raise InputError(msg)
    if n is not None and n_steps is not None:
        try:
            arr = np.broadcast_to(arr, (n, n_steps))
        except ValueError as exc:
            msg = (
                f"{name} has shape {arr.shape}; expected (n_steps,)=({n_steps},) or "
                f"({n}, {n_steps})"
            )
            raise InputError(msg) from exc
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        row, col = bad[0].tolist()
        msg = (
            f"{name} has a missing or non-finite value at transformer {row}, step {col}; "
            "the thermal model cannot cross a gap: fill or split the series"
        )
        raise DataQualityError(msg)
    return arr


def _step_minutes(n_steps: int, time_utc: pd.DatetimeIndex | None, step_min: float | None) -> float:
    if time_utc is None or len(time_utc) < 2:
        if time_utc is not None and len(time_utc) != n_steps:
            msg = f"time_utc has {len(time_utc)} timestamps for {n_steps} intervals"
            raise InputError(msg)
        if step_min is None:
            msg = "give time_utc (two or more interval starts) or step_min (interval in minutes)"
            raise InputError(msg)
        if not (isinstance(step_min, (int, float)) and math.isfinite(step_min) and step_min > 0):
            msg = f"step_min={step_min!r} must be a positive number of minutes"
            raise InputError(msg)
        return float(step_min)
    idx = pd.DatetimeIndex(time_utc)
    if idx.tz is None:
        msg = "time_utc must be tz-aware (UTC interval starts)"
        raise InputError(msg)
    if len(idx) != n_steps:
        msg = f"time_utc has {len(idx)} timestamps for {n_steps} intervals (columns)"
        raise InputError(msg)
    diffs = np.diff(utc_ns(idx))
    if np.any(diffs <= 0) or np.any(diffs != diffs[0]):
        bad = int(np.flatnonzero((diffs <= 0) | (diffs != diffs[0]))[0]) + 1
        msg = f"time_utc is not a regular increasing axis (first irregular step at {idx[bad]})"
        raise DataQualityError(msg)
    minutes = float(diffs[0]) / 6e10
    if step_min is not None and not math.isclose(step_min, minutes, rel_tol=1e-9):
        msg = f"step_min={step_min!r} disagrees with time_utc ({minutes:g} min); give only one"
        raise InputError(msg)
    return minutes


def simulate_thermal(
    load_factor: npt.ArrayLike,
    ambient_c: npt.ArrayLike,
    params: ThermalParameters | Sequence[ThermalParameters],
    *,
    step_min: float | None = None,
    time_utc: pd.DatetimeIndex | None = None,
    method: Method = "exponential",
    substep_min: float | None = None,
    initial: ThermalState | None = None,
    paper: Paper = "non_upgraded",
) -> ThermalResult:
    """Top-oil and hot-spot temperatures and ageing over a load cycle (IEC 60076-7:2018, 8.2.3).

    Parameters
    ----------
    load_factor : array_like, shape (n_steps,) or (n, n_steps)
        Load factor K (load current / rated current) of each interval [dimensionless].
    ambient_c : array_like
        Ambient temperature θa [°C]: scalar, (n_steps,) shared, or (n, n_steps).
    params : ThermalParameters or sequence of ThermalParameters
        One set for all transformers or one per transformer (row).
    step_min : float, optional
        Interval length Δt [min]; taken from ``time_utc`` when that is given.
    time_utc : pandas.DatetimeIndex, optional
        tz-aware, regular interval starts (e.g. 15-min or hourly data).
    method : {'exponential', 'difference'}
        Exact solution per interval, or the standard's explicit difference equations with
        sub-steps (see the module docstring).
    substep_min : float, optional
        Longest sub-step of the difference method [min]; default
        ``min(0.5 min, smallest time constant / 2)``. A longer sub-step than half the smallest
        time constant (k11·τo, k22·τw, τo/k22) is refused.
    initial : ThermalState, optional
        State at the start of the first interval; default the steady state of the first
        interval's K and θa (the usual assumption of the standard).
    paper : {'non_upgraded', 'upgraded'}
        Insulation paper for the relative ageing rate.

    Returns
    -------
    ThermalResult
        Temperatures (end of each interval), V, loss of life, equivalent ageing rate and the
        maximum hot spot with its time.

    Raises
    ------
    InputError
        Bad shapes, parameters, time axis or sub-step.
    DataQualityError
        NaN or negative load factors, NaN ambients, an irregular time axis.
    """
    if method not in _METHODS:
        msg = f"method={method!r} is not allowed; use one of: {', '.join(_METHODS)}"
        raise InputError(msg)
    _check_paper(paper)
    inputs = _thermal_inputs(load_factor, ambient_c, params, step_min, time_utc)
    decay = _decay(inputs.p, inputs.dt, method, substep_min)
    top, h1, h2 = _initial_state(inputs, params, initial)
    start_hot = top + h1 - h2
    run = _integrate(inputs, decay, top, h1, h2)
    return _thermal_result(run, start_hot, inputs, decay.substeps, method, paper, time_utc)


@dataclass(frozen=True)
class _Inputs:
    """Validated inputs of :func:`simulate_thermal`."""

    k: FloatArray  # load factor K, (n, n_steps)
    amb: FloatArray  # ambient θa [°C], (n, n_steps)
    p: dict[str, FloatArray]  # thermal parameters, (n,) each (see _params_arrays)
    dt: float  # interval Δt [min]

    @property
    def n(self) -> int:
        """Number of transformers."""
        return int(self.k.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of intervals."""
        return int(self.k.shape[1])


def _thermal_inputs(
    load_factor: npt.ArrayLike,
    ambient_c: npt.ArrayLike,
    params: ThermalParameters | Sequence[ThermalParameters],
    step_min: float | None,
    time_utc: pd.DatetimeIndex | None,
) -> _Inputs:
    """Load factors, ambients and parameters brought to ``n`` transformers, and Δt."""
    k = _as_matrix("load_factor", load_factor, None, None)
    n = k.shape[0]
    if not isinstance(params, ThermalParameters):
        n_params = len(params)
        if n == 1:
            n = max(n_params, 1)
        elif n_params not in (1, n):
            msg = (
                f"params has {n_params} entries for {n} transformers (rows of load_factor); "
                f"give 1 or {n}"
            )
            raise InputError(msg)
    n_steps = k.shape[1]
    k = _as_matrix("load_factor", k, n, n_steps)
    negative = np.argwhere(k < 0)
    if negative.size:
        row, col = negative[0].tolist()
        msg = f"load_factor is negative at transformer {row}, step {col}; K must be >= 0"
        raise DataQualityError(msg)
    amb = _as_matrix("ambient_c", ambient_c, n, n_steps)
    p = _params_arrays(params, n)
    p = {name: np.broadcast_to(v, (n,)) for name, v in p.items()}
    dt = _step_minutes(n_steps, time_utc, step_min)
    return _Inputs(k=k, amb=amb, p=p, dt=dt)


@dataclass(frozen=True)
class _Decay:
    """How much of the distance to the ultimate value remains after one interval, per
    equation (top oil, Δθh1, Δθh2), and the sub-steps that gave it."""

    substeps: int
    oil: FloatArray
    h1: FloatArray
    h2: FloatArray


def _decay(p: dict[str, FloatArray], dt: float, method: str, substep_min: float | None) -> _Decay:
    """``exp(−Δt/τ)`` (exponential) or ``(1 − Dt/τ)^n`` over ``n`` sub-steps (difference)."""
    tau_oil = p["k11"] * p["oil_time_constant_min"]
    tau_h1 = p["k22"] * p["winding_time_constant_min"]
    tau_h2 = p["oil_time_constant_min"] / p["k22"]
    if method == "exponential":
        if substep_min is not None:
            msg = "substep_min applies to method='difference' only; omit it"
            raise InputError(msg)
        return _Decay(1, np.exp(-dt / tau_oil), np.exp(-dt / tau_h1), np.exp(-dt / tau_h2))
    substeps = _substeps(dt, float(np.min(np.concatenate([tau_oil, tau_h1, tau_h2]))), substep_min)
    h = dt / substeps
    return _Decay(
        substeps,
        (1.0 - h / tau_oil) ** substeps,
        (1.0 - h / tau_h1) ** substeps,
        (1.0 - h / tau_h2) ** substeps,
    )


def _substeps(dt: float, smallest: float, substep_min: float | None) -> int:
    """Sub-steps per interval of the difference method (each at most ``substep_min``)."""
    limit = smallest / 2.0
    if substep_min is None:
        substep_min = min(DEFAULT_SUBSTEP_MIN, limit)
    if not (
        isinstance(substep_min, (int, float)) and math.isfinite(substep_min) and substep_min > 0
    ):
        msg = f"substep_min={substep_min!r} must be a positive number of minutes"
        raise InputError(msg)
    if substep_min > limit:
        msg = (
            f"substep_min={substep_min:g} min is longer than half the smallest time "
            f"constant ({smallest:g} min); the difference equations need Dt <= "
            f"{limit:g} min: lower substep_min or use method='exponential'"
        )
        raise InputError(msg)
    return max(1, math.ceil(dt / substep_min - 1e-9))


def _initial_state(
    inputs: _Inputs,
    params: ThermalParameters | Sequence[ThermalParameters],
    initial: ThermalState | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """θo, Δθh1 and Δθh2 at the start, ``(n,)`` each (own copies): the given state, or
    the steady state of the first interval."""
    n = inputs.n
    if initial is None:
        state = ThermalState.steady(
            inputs.k[:, 0],
            inputs.amb[:, 0],
            params if isinstance(params, ThermalParameters) else list(params),
        )
        top = np.broadcast_to(state.top_oil_c, (n,)).copy()
        h1 = np.broadcast_to(state.delta_h1_k, (n,)).copy()
        h2 = np.broadcast_to(state.delta_h2_k, (n,)).copy()
        return top, h1, h2
    try:
        top = np.broadcast_to(np.asarray(initial.top_oil_c, dtype=np.float64), (n,)).copy()
        h1 = np.broadcast_to(np.asarray(initial.delta_h1_k, dtype=np.float64), (n,)).copy()
        h2 = np.broadcast_to(np.asarray(initial.delta_h2_k, dtype=np.float64), (n,)).copy()
    except ValueError as exc:
        msg = f"initial state does not fit {n} transformers (give scalars or shape ({n},))"
        raise InputError(msg) from exc
    return top, h1, h2


@dataclass(frozen=True)
class _Run:
    """Temperatures at the end of each interval, ``(n, n_steps)``, and the final state."""

    top_oil_c: FloatArray
    hot_spot_c: FloatArray
    final_state: ThermalState


def _integrate(
    inputs: _Inputs, decay: _Decay, top: FloatArray, h1: FloatArray, h2: FloatArray
) -> _Run:
    """Step the three equations through every interval from the state (θo, Δθh1, Δθh2)."""
    n, n_steps, k, amb, p = inputs.n, inputs.n_steps, inputs.k, inputs.amb, inputs.p
    a_oil, a_h1, a_h2 = decay.oil, decay.h1, decay.h2
    # Time-major work arrays keep every per-step update on contiguous memory.
    top_t = np.empty((n_steps, n), dtype=np.float64)
    hot_t = np.empty((n_steps, n), dtype=np.float64)
    b_oil, b_h1, b_h2 = 1.0 - a_oil, 1.0 - a_h1, 1.0 - a_h2
    k21 = p["k21"]
    for lo in range(0, n_steps, _CHUNK_STEPS):
        hi = min(lo + _CHUNK_STEPS, n_steps)
        # Ultimate values of the whole chunk at once; x ← a·x + (1 − a)·x_ss per step.
        oil_rise, gradient = _ultimate(np.ascontiguousarray(k[:, lo:hi].T), p)
        top_ss_b = (amb[:, lo:hi].T + oil_rise) * b_oil
        h1_ss_b = k21 * gradient * b_h1
        h2_ss_b = (k21 - 1.0) * gradient * b_h2
        for j in range(hi - lo):
            top = top * a_oil + top_ss_b[j]
            h1 = h1 * a_h1 + h1_ss_b[j]
            h2 = h2 * a_h2 + h2_ss_b[j]
            top_t[lo + j] = top
            hot_t[lo + j] = top + h1 - h2
    top_out = np.ascontiguousarray(top_t.T)
    hot_out = np.ascontiguousarray(hot_t.T)
    del top_t, hot_t
    final = ThermalState(top_oil_c=top.copy(), delta_h1_k=h1.copy(), delta_h2_k=h2.copy())
    return _Run(top_oil_c=top_out, hot_spot_c=hot_out, final_state=final)


def _thermal_result(
    run: _Run,
    start_hot: FloatArray,
    inputs: _Inputs,
    substeps: int,
    method: str,
    paper: Paper,
    time_utc: pd.DatetimeIndex | None,
) -> ThermalResult:
    """Ageing (trapezoidal over the interval boundaries) and the maximum hot spot of a run."""
    dt, n_steps, hot_out = inputs.dt, inputs.n_steps, run.hot_spot_c
    v = relative_ageing_rate(hot_out, paper)
    v_start = relative_ageing_rate(start_hot, paper)
    v_prev = np.concatenate([v_start[:, None], v[:, :-1]], axis=1)
    life_h = ((v_prev + v) / 2.0).sum(axis=1) * dt / 60.0
    period_h = n_steps * dt / 60.0
    step_max = hot_out.argmax(axis=1).astype(np.int64)
    max_utc = None
    if time_utc is not None:
        ends = pd.DatetimeIndex(time_utc).tz_convert("UTC") + pd.Timedelta(minutes=dt)
        max_utc = ends[step_max]
    return ThermalResult(
        top_oil_c=run.top_oil_c,
        hot_spot_c=hot_out,
        relative_ageing_rate=v,
        loss_of_life_h=np.asarray(life_h, dtype=np.float64),
        equivalent_ageing_rate=np.asarray(life_h / period_h, dtype=np.float64),
        max_hot_spot_c=hot_out.max(axis=1),
        max_hot_spot_step=step_max,
        max_hot_spot_utc=max_utc,
        final_state=run.final_state,
        step_min=dt,
        substeps=substeps,
        method=method,
        paper=paper,
        time_utc=None if time_utc is None else pd.DatetimeIndex(time_utc),
    )
