"""Forecast scores: MAE, rMAE, MASE, pinball loss, CRPS from quantiles, rCRPS.

Definitions (docs/forecast.md cites their sources):

- **MAE** of the median (P50): ``mean |y - q50|``.
- **rMAE**: MAE divided by the range of the observations, ``P99(y) - P1(y)`` (OpenSTEF's
  relative MAE divides by the observed range; we use the same robust range as rCRPS).
- **MASE** (Hyndman & Koehler 2006): MAE on the test targets divided by the in-sample MAE
  of the seasonal-naive forecast with a one-week season on the training history.
- **pinball loss** of quantile level ``tau``: ``mean(max(tau * (y - q), (tau - 1) * (y - q)))``,
  averaged over the quantile levels.
- **CRPS** from quantiles: twice the mean pinball loss over the quantile levels (the
  quantile decomposition of the CRPS, as ``scoringrules.crps_quantile`` computes it and
  OpenSTEF's ``rcrps`` uses).
- **rCRPS**: CRPS divided by ``P99(y) - P1(y)`` (OpenSTEF's relative CRPS).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError

__all__ = [
    "crps_quantiles",
    "mae",
    "mase",
    "observed_range",
    "pinball",
    "rcrps",
    "rmae",
    "seasonal_naive_scale",
]

FloatArray = npt.NDArray[np.float64]


def _pairs(y: npt.ArrayLike, yhat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    obs = np.asarray(y, dtype=np.float64)
    pred = np.asarray(yhat, dtype=np.float64)
    if pred.shape[: obs.ndim] != obs.shape:
        msg = f"forecast shape {pred.shape} does not match the observations' {obs.shape}"
        raise InputError(msg)
    return obs, pred


def _finite(obs: FloatArray, pred: FloatArray) -> npt.NDArray[np.bool_]:
    ok = np.isfinite(obs)
    if pred.ndim > obs.ndim:
        rest = np.all(np.isfinite(pred), axis=tuple(range(obs.ndim, pred.ndim)))
        return np.asarray(ok & rest, dtype=np.bool_)
    return np.asarray(ok & np.isfinite(pred), dtype=np.bool_)


def mae(y: npt.ArrayLike, yhat: npt.ArrayLike) -> float:
    """Mean absolute error over the pairs where both are finite (NaN when none are)."""
    obs, pred = _pairs(y, yhat)
    ok = _finite(obs, pred)
    if not ok.any():
        return float("nan")
    return float(np.mean(np.abs(obs[ok] - pred[ok])))


def observed_range(y: npt.ArrayLike, low: float = 0.01, high: float = 0.99) -> float:
    """``P_high(y) - P_low(y)`` of the finite observations (linear interpolation)."""
    obs = np.asarray(y, dtype=np.float64)
    obs = obs[np.isfinite(obs)]
    if obs.size == 0:
        return float("nan")
    return float(np.quantile(obs, high) - np.quantile(obs, low))


def rmae(y: npt.ArrayLike, yhat: npt.ArrayLike) -> float:
    """MAE divided by the observed range ``P99 - P1`` (NaN when the range is 0)."""
    rng = observed_range(y)
    return mae(y, yhat) / rng if rng > 0 else float("nan")


def seasonal_naive_scale(history: npt.ArrayLike, season_steps: int) -> float:
    """In-sample MAE of the seasonal-naive forecast: ``mean |x[t] - x[t - m]|``."""
    x = np.asarray(history, dtype=np.float64)
    if x.shape[-1] <= season_steps:
        msg = (
            f"MASE needs more than one season ({season_steps} steps) of training history; "
            f"got {x.shape[-1]}"
        )
        raise InputError(msg)
    diff = np.abs(x[..., season_steps:] - x[..., :-season_steps])
    diff = diff[np.isfinite(diff)]
    return float(np.mean(diff)) if diff.size else float("nan")


def mase(y: npt.ArrayLike, yhat: npt.ArrayLike, scale: float) -> float:
    """MAE divided by ``scale`` (see :func:`seasonal_naive_scale`)."""
    return mae(y, yhat) / scale if scale > 0 else float("nan")


def _levels(quantiles: Sequence[float], n: int) -> FloatArray:
    q = np.asarray(quantiles, dtype=np.float64)
    if q.ndim != 1 or q.size != n or np.any((q <= 0) | (q >= 1)):
        msg = f"quantile levels {list(quantiles)} must be {n} values strictly between 0 and 1"
        raise InputError(msg)
    return q


def pinball(y: npt.ArrayLike, yq: npt.ArrayLike, quantiles: Sequence[float]) -> float:
    """Mean pinball (quantile) loss over samples and quantile levels.

    ``yq`` has one more axis than ``y``: the quantile levels, in the order of
    ``quantiles``.
    """
    obs, pred = _pairs(y, yq)
    if pred.ndim != obs.ndim + 1:
        msg = "quantile forecasts need one more axis than the observations (the levels)"
        raise InputError(msg)
    tau = _levels(quantiles, pred.shape[-1])
    ok = _finite(obs, pred)
    if not ok.any():
        return float("nan")
    err = obs[ok][..., np.newaxis] - pred[ok]
    loss = np.maximum(tau * err, (tau - 1.0) * err)
    return float(np.mean(loss))


def crps_quantiles(y: npt.ArrayLike, yq: npt.ArrayLike, quantiles: Sequence[float]) -> float:
    """CRPS approximated from quantile forecasts: twice the mean pinball loss."""
    return 2.0 * pinball(y, yq, quantiles)


def rcrps(y: npt.ArrayLike, yq: npt.ArrayLike, quantiles: Sequence[float]) -> float:
    """CRPS divided by the observed range ``P99 - P1`` (OpenSTEF's rCRPS)."""
    rng = observed_range(y)
    return crps_quantiles(y, yq, quantiles) / rng if rng > 0 else float("nan")
