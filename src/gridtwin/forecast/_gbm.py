"""LightGBM quantile models over one or many series (a global model: rows of every series
scaled by their own recent level), one model per quantile level and horizon day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gridtwin.forecast._features import Grid, gather, lag_days, window_stat
from gridtwin.forecast._spec import ForecastSpec

__all__ = ["GbmModel", "fit_gbm", "predict_gbm"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class GbmModel:
    """Boosters per horizon day (outer) and quantile level (inner), and their features."""

    boosters: tuple[tuple[Any, ...], ...]
    feature_names: tuple[str, ...]
    lags: tuple[tuple[int, ...], ...]
    trained_rows: tuple[int, ...]


def _features(
    hist: FloatArray,
    grid: Grid,
    cal: dict[str, FloatArray],
    series: IntArray,
    pos: IntArray,
    available: IntArray,
    lags: tuple[int, ...],
) -> tuple[FloatArray, FloatArray, FloatArray, list[str]]:
    """Feature matrix of target rows ``(series, pos)``, each row's scale and reference.

    Values are divided by the row's scale (mean absolute value of the week before its
    availability position); the models learn the scaled target minus the reference (the
    mean of the same clock time on the same weekday 1-4 weeks before, else the week's
    mean, plus the change of the weekly mean over the last week).
    """
    spd = grid.steps_per_day
    scale = window_stat(hist, series, available, 7 * spd, absolute=True)
    cols: list[FloatArray] = []
    names: list[str] = []
    weekly: list[FloatArray] = []
    for k in lags:
        col = gather(hist, series, grid.lag_positions(k)[pos], available) / scale
        cols.append(col)
        names.append(f"lag_{k}d")
        if k % 7 == 0:
            weekly.append(col)
    stack = np.vstack(weekly)
    count = np.sum(np.isfinite(stack), axis=0)
    total = np.nansum(stack, axis=0)
    weekly_mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    cols.append(weekly_mean)
    names.append("weekly_lags_mean")
    mean_7d = window_stat(hist, series, available, 7 * spd) / scale
    cols.append(mean_7d)
    names.append("mean_7d")
    mean_1d = window_stat(hist, series, available, spd) / scale
    cols.append(mean_1d)
    names.append("mean_1d")
    cols.append(mean_1d - window_stat(hist, series, available - 7 * spd, spd) / scale)
    names.append("change_1d_vs_week_before")
    cols.append(gather(hist, series, available - 1, available) / scale)
    names.append("last")
    for name, values in cal.items():
        cols.append(values[pos])
        names.append(name)
    # the reference: the weekly lags' mean, moved by how much the last week's level
    # changed from the week before (the trees learn what is left)
    base = np.where(np.isfinite(weekly_mean), weekly_mean, mean_7d)
    week_before = window_stat(hist, series, available - 7 * spd, 7 * spd) / scale
    ref = base + np.nan_to_num(mean_7d - week_before)
    return np.column_stack(cols).astype(np.float32), scale, ref, names


def _train_rows(
    hist: FloatArray, grid: Grid, spec: ForecastSpec, series_ok: IntArray, h: int
) -> tuple[IntArray, IntArray, IntArray]:
    n_hist = hist.shape[1]
    spd = grid.steps_per_day
    first = max(0, n_hist - spec.max_history_days * spd)
    cand = np.arange(first, n_hist, dtype=np.int64)
    avail = grid.available_positions(
        grid.local_day[cand], h + 1, spec.issue_time_local, spec.data_delay_s
    )
    keep = avail >= 7 * spd
    cand, avail = cand[keep], avail[keep]
    total = len(cand) * len(series_ok)
    rng = np.random.default_rng(spec.seed + h)
    want = min(total, int(spec.max_train_rows * 1.2))
    pick = rng.choice(total, size=want, replace=False) if want < total else np.arange(total)
    s = series_ok[pick // max(len(cand), 1)]
    j = pick % max(len(cand), 1)
    p, a = cand[j], avail[j]
    ok = np.isfinite(hist[s, p])
    s, p, a = s[ok], p[ok], a[ok]
    if len(s) > spec.max_train_rows:
        s, p, a = s[: spec.max_train_rows], p[: spec.max_train_rows], a[: spec.max_train_rows]
    return s, p, a


def fit_gbm(
    hist: FloatArray,
    grid: Grid,
    cal: dict[str, FloatArray],
    spec: ForecastSpec,
    series_ok: IntArray,
) -> GbmModel:
    """Train the quantile models on rows whose targets and features were all available
    at each row's own issue time (the history given ends at the real issue time)."""
    import lightgbm as lgb

    boosters: list[tuple[Any, ...]] = []
    all_lags: list[tuple[int, ...]] = []
    rows: list[int] = []
    names: list[str] = []
    for h in range(spec.horizon_days):
        lags = lag_days(h, spec.issue_time_local, spec.data_delay_s)
        s, p, a = _train_rows(hist, grid, spec, series_ok, h)
        x, scale, ref, names = _features(hist, grid, cal, s, p, a, lags)
        y = hist[s, p] / scale - ref
        good = np.isfinite(y) & (scale > 0)
        x, y = x[good], y[good]
        # OpenMP threads only pay on large fits (and cost much on a busy machine)
        threads = spec.n_jobs if len(y) >= 50_000 else 1
        # binned once, shared by the models of every quantile level
        data = lgb.Dataset(
            x, label=y, feature_name=names, free_raw_data=True, params={"max_bin": 63}
        ).construct()
        per_q = []
        for q in spec.quantiles:
            params = {
                "objective": "quantile",
                "alpha": q,
                "learning_rate": spec.learning_rate,
                "num_leaves": spec.num_leaves,
                "min_data_in_leaf": 40,
                "feature_fraction": 0.9,
                "bagging_fraction": 0.8,
                "bagging_freq": 1,
                "force_col_wise": True,
                "num_threads": threads,
                "seed": spec.seed,
                "verbose": -1,
            }
            per_q.append(lgb.train(params, data, num_boost_round=spec.num_boost_round))
        boosters.append(tuple(per_q))
        all_lags.append(lags)
        rows.append(len(y))
    return GbmModel(tuple(boosters), tuple(names), tuple(all_lags), tuple(rows))


def predict_gbm(
    model: GbmModel,
    hist: FloatArray,
    grid: Grid,
    cal: dict[str, FloatArray],
    spec: ForecastSpec,
    series: IntArray,
    first_day: int,
) -> FloatArray:
    """Quantiles ``(len(series), n_target_steps, n_quantiles)``, sorted along the levels."""
    n_hist = hist.shape[1]
    out: list[FloatArray] = []
    for h in range(spec.horizon_days):
        pos_day = grid.positions_of_days(first_day + h, 1)
        s = np.repeat(series, len(pos_day))
        p = np.tile(pos_day, len(series))
        a = grid.available_positions(
            grid.local_day[p], h + 1, spec.issue_time_local, spec.data_delay_s
        )
        a = np.minimum(a, n_hist)
        x, scale, ref, _ = _features(hist, grid, cal, s, p, a, model.lags[h])
        pred = np.column_stack(
            [
                b.predict(x, num_threads=1 if len(x) < 50_000 else spec.n_jobs)
                for b in model.boosters[h]
            ]
        )
        pred = (np.sort(pred, axis=1) + ref[:, np.newaxis]) * scale[:, np.newaxis]
        out.append(pred.reshape(len(series), len(pos_day), -1))
    return np.concatenate(out, axis=1)
