"""Checks that send a series to a simpler forecast (always said in the result), and the
weekly-naive, profile and constant forecasts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gridtwin.forecast._features import Grid, gather, min_lag_days
from gridtwin.forecast._spec import ForecastSpec

__all__ = ["check_series", "constant_forecast", "profile_forecast", "weekly_naive"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def check_series(hist: FloatArray, grid: Grid, spec: ForecastSpec) -> list[str | None]:
    """Why each series cannot take the chosen method (None when it can): ``empty``,
    ``short``, ``gaps`` or ``flat``, with the numbers that decided it."""
    spd = grid.steps_per_day
    n_hist = hist.shape[1]
    recent = hist[:, max(0, n_hist - 28 * spd) :]
    week = hist[:, max(0, n_hist - 7 * spd) :]
    days_with_data = np.sum(np.isfinite(hist).reshape(hist.shape[0], -1), axis=1) / spd
    out: list[str | None] = []
    for i in range(hist.shape[0]):
        finite = np.isfinite(hist[i])
        if not finite.any():
            out.append("empty: no value before the issue time")
            continue
        if days_with_data[i] < spec.min_history_days:
            out.append(
                f"short: {days_with_data[i]:.1f} days of history, {spec.min_history_days} needed"
            )
            continue
        gap_share = float(np.mean(~np.isfinite(recent[i]))) if recent.shape[1] else 1.0
        if gap_share > spec.max_gap_share:
            out.append(
                f"gaps: {gap_share:.0%} of the last 28 days missing "
                f"(more than {spec.max_gap_share:.0%})"
            )
            continue
        w = week[i][np.isfinite(week[i])]
        if w.size == 0 or float(np.ptp(w)) <= 1e-9 * max(1.0, float(np.max(np.abs(w)))):
            out.append("flat: the last 7 days hold one value")
            continue
        out.append(None)
    return out


def constant_forecast(hist: FloatArray, series: IntArray, n_steps: int, n_q: int) -> FloatArray:
    """The last value (all quantiles equal; NaN when the series has none)."""
    out = np.full((len(series), n_steps, n_q), np.nan)
    for r, s in enumerate(series):
        finite = np.flatnonzero(np.isfinite(hist[s]))
        if finite.size:
            out[r] = hist[s, finite[-1]]
    return out


def profile_forecast(
    hist: FloatArray, grid: Grid, spec: ForecastSpec, series: IntArray, pos: IntArray
) -> FloatArray:
    """Empirical quantiles, per local clock time, of the last 28 days available (all of
    those days' values when a clock time has fewer than 3)."""
    n_hist = hist.shape[1]
    spd = grid.steps_per_day
    q = np.asarray(spec.quantiles)
    out = np.full((len(series), len(pos), len(q)), np.nan)
    lagpos = np.column_stack([grid.lag_positions(k)[pos] for k in range(1, 29)])
    for r, s in enumerate(series):
        svec = np.full(lagpos.shape, s, dtype=np.int64)
        vals = gather(hist, svec.ravel(), lagpos.ravel(), np.full(lagpos.size, n_hist)).reshape(
            lagpos.shape
        )
        recent = hist[s, max(0, n_hist - 28 * spd) :]
        recent = recent[np.isfinite(recent)]
        if recent.size == 0:
            continue
        pooled = np.quantile(recent, q)
        enough = np.sum(np.isfinite(vals), axis=1) >= 3
        out[r] = pooled
        if enough.any():
            out[r, enough] = np.nanquantile(vals[enough], q, axis=1).T
    return np.sort(out, axis=2)


def weekly_naive(
    hist: FloatArray, grid: Grid, spec: ForecastSpec, series: IntArray, first_day: int
) -> FloatArray:
    """The value at the same local clock time 7 days before (14, 21, ... when that one
    was not yet available at the issue time or is missing), as every quantile."""
    n_hist = hist.shape[1]
    parts: list[FloatArray] = []
    for h in range(spec.horizon_days):
        pos = grid.positions_of_days(first_day + h, 1)
        k0 = min_lag_days(h, spec.issue_time_local, spec.data_delay_s)
        s = np.repeat(series, len(pos))
        p = np.tile(pos, len(series))
        a = np.full(len(p), n_hist)
        value = np.full(len(p), np.nan)
        for k in range(7 * -(-k0 // 7), 7 * 9, 7):
            missing = ~np.isfinite(value)
            if not missing.any():
                break
            value[missing] = gather(hist, s[missing], grid.lag_positions(k)[p[missing]], a[missing])
        parts.append(value.reshape(len(series), len(pos)))
    point = np.concatenate(parts, axis=1)
    return np.repeat(point[:, :, np.newaxis], len(spec.quantiles), axis=2)
