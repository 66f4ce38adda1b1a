"""Rolling-origin backtests: each held-out local day is forecast as it would have been,
from what was available at its issue time, and scored against what was measured.

Every method sees the same cut history (:class:`~gridtwin.forecast.Forecaster` cuts it
at each day's issue time); LightGBM is refitted every ``refit_days`` days on what was
available then. The weekly-naive forecast is always run: MASE's scale and the skill
(``1 - MAE / MAE_weekly_naive``) refer to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.forecast._core import Forecaster, available_count
from gridtwin.forecast._metrics import (
    crps_quantiles,
    mae,
    observed_range,
    pinball,
    seasonal_naive_scale,
)
from gridtwin.forecast._spec import METHODS, ForecastSpec

__all__ = ["BacktestReport", "backtest", "last_days"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BacktestReport:
    """Scores of each method overall and per lead-time bucket.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per ``(method, lead)``: ``lead`` is ``all`` or a bucket such as
        ``18-24h`` (hours after the issue time); columns ``n, mae, rmae, mase, pinball,
        crps, rcrps, skill_vs_weekly_naive`` (means over series).
    days : tuple of datetime.date
        The held-out local days.
    spec : ForecastSpec
    series_ids : tuple of str
    fallbacks : dict
        ``series_id -> reasons`` of every fallback met during the backtest.
    seconds : dict
        Wall time per method.
    """

    table: pd.DataFrame
    days: tuple[dt.date, ...]
    spec: ForecastSpec
    series_ids: tuple[str, ...]
    fallbacks: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def overall(self, method: str) -> dict[str, float]:
        """The ``lead == "all"`` row of ``method``."""
        row = self.table[(self.table["method"] == method) & (self.table["lead"] == "all")]
        if row.empty:
            msg = f"method {method!r} was not backtested"
            raise InputError(msg)
        return {str(k): float(v) for k, v in row.iloc[0].items() if k not in ("method", "lead")}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the table as records, the spec, days, fallbacks and timings."""
        spec = dataclasses.asdict(self.spec)
        spec["issue_time_local"] = self.spec.issue_time_local.isoformat()
        return {
            "source": self.source,
            "series_ids": list(self.series_ids),
            "days": [d.isoformat() for d in self.days],
            "spec": spec,
            "metrics": self.table.replace({np.nan: None}).to_dict(orient="records"),
            "fallbacks": self.fallbacks,
            "seconds": self.seconds,
        }


def last_days(
    start_utc: pd.Timestamp, step: pd.Timedelta, n: int, tz: str, count: int
) -> list[dt.date]:
    """The last ``count`` complete local days of a grid of ``n`` intervals."""
    end = (start_utc + step * n).tz_convert(tz)
    last = end.date() - dt.timedelta(days=1)  # the day holding the end is not complete
    return [last - dt.timedelta(days=i) for i in range(count - 1, -1, -1)]


def _bucket(lead_s: FloatArray) -> npt.NDArray[np.object_]:
    hours = np.floor(lead_s / 3600 / 6) * 6
    return np.array([f"{int(h)}-{int(h) + 6}h" for h in hours], dtype=object)


def _scores(
    frame: pd.DataFrame,
    quantiles: tuple[float, ...],
    scales: dict[str, float],
    naive_mae: dict[str, float],
) -> dict[str, float]:
    qcols = [f"q{q:g}" for q in quantiles]
    per: list[dict[str, float]] = []
    for sid, g in frame.groupby("series_id", sort=False):
        y = g["y"].to_numpy(dtype=np.float64)
        yq = g[qcols].to_numpy(dtype=np.float64)
        p50 = g["q0.5"].to_numpy(dtype=np.float64)
        m = mae(y, p50)
        rng = observed_range(y)
        crps = crps_quantiles(y, yq, quantiles)
        key = str(sid)
        nm = naive_mae.get(key, float("nan"))
        per.append(
            {
                "n": float(np.sum(np.isfinite(y) & np.isfinite(p50))),
                "mae": m,
                "rmae": m / rng if rng > 0 else float("nan"),
                "mase": m / scales[key] if scales.get(key, 0) > 0 else float("nan"),
                "pinball": pinball(y, yq, quantiles),
                "crps": crps,
                "rcrps": crps / rng if rng > 0 else float("nan"),
                "skill_vs_weekly_naive": 1 - m / nm if nm > 0 else float("nan"),
            }
        )
    out = pd.DataFrame(per)
    res = {k: float(out[k].mean()) for k in out.columns if k != "n"}
    res["n"] = float(out["n"].sum())
    return res


# long: one loop over days and methods; the scoring is split out
def backtest(
    values: FloatArray,
    start_utc: pd.Timestamp,
    step: pd.Timedelta,
    spec: ForecastSpec,
    *,
    days: Sequence[dt.date] | int = 28,
    methods: Sequence[str] = ("gbm", "sf_seasonal_naive"),
    refit_days: int = 7,
    series_ids: Sequence[str] | None = None,
    source: str = "",
) -> BacktestReport:
    """Backtest ``methods`` (plus ``weekly_naive``) over held-out local days.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_series, n_steps)
        The series on one regular UTC grid starting at ``start_utc``; NaN for gaps.
    spec : ForecastSpec
        The forecast (its ``method`` is replaced by each of ``methods`` in turn).
    days : int or sequence of datetime.date
        The held-out first forecast days, or how many of the last complete days.
    refit_days : int
        LightGBM is refitted on the first day and then every ``refit_days`` days.
    """
    if values.ndim == 1:
        values = values[np.newaxis, :]
    ids = (
        tuple(series_ids) if series_ids is not None else tuple(f"s{i}" for i in range(len(values)))
    )
    bad = [m for m in methods if m not in METHODS]
    if bad:
        msg = f"methods {bad}: use some of {', '.join(METHODS)}"
        raise InputError(msg)
    if refit_days < 1:
        msg = f"refit_days {refit_days}: use 1 or more"
        raise InputError(msg)
    if isinstance(days, int):
        n_days = days
        test = last_days(start_utc, step, values.shape[1], spec.tz, n_days + spec.horizon_days - 1)
        test = test[: len(test) - spec.horizon_days + 1]
    else:
        test = sorted(days)
    if not test:
        msg = "no held-out day to backtest: give at least one day"
        raise InputError(msg)
    first_issue = spec.issue_utc(test[0]) - pd.Timedelta(seconds=spec.data_delay_s)
    n_train = available_count(start_utc, step, values.shape[1], first_issue)
    season = 7 * int(pd.Timedelta(days=1) / step)
    scales = {ids[i]: seasonal_naive_scale(values[i, :n_train], season) for i in range(len(ids))}
    all_methods = ["weekly_naive", *[m for m in methods if m != "weekly_naive"]]
    frames: dict[str, pd.DataFrame] = {}
    seconds: dict[str, float] = {}
    fallbacks: dict[str, list[str]] = {}
    index = pd.date_range(start_utc, periods=values.shape[1], freq=step)
    for method in all_methods:
        mspec = dataclasses.replace(spec, method=method)  # type: ignore[arg-type]
        fc = Forecaster(mspec)
        parts = []
        t0 = time.perf_counter()
        for k, day in enumerate(test):
            if method == "gbm" and k % refit_days == 0:
                fc.fit(values, start_utc, step, day)
            res = fc.predict(values, start_utc, step, day, ids)
            frame = res.frame()
            pos = index.get_indexer(pd.DatetimeIndex(frame["ts_utc"]))
            y = np.full(len(frame), np.nan)
            inside = pos >= 0
            rows = np.repeat(np.arange(len(ids)), len(res.time_utc))
            y[inside] = values[rows[inside], pos[inside]]
            frame["y"] = y
            frame["day"] = day
            parts.append(frame)
            for sid, reason in zip(res.series_ids, res.fallbacks, strict=True):
                if reason is not None:
                    fallbacks.setdefault(sid, []).append(f"{day}: {reason}")
        seconds[method] = time.perf_counter() - t0
        frames[method] = pd.concat(parts, ignore_index=True)
    naive = frames["weekly_naive"]
    rows_out: list[dict[str, Any]] = []
    naive_all = {str(s): mae(g["y"], g["q0.5"]) for s, g in naive.groupby("series_id")}
    for method, frame in frames.items():
        frame["lead"] = _bucket(frame["lead_s"].to_numpy(dtype=np.float64))
        naive_lead = _bucket(naive["lead_s"].to_numpy(dtype=np.float64))
        rows_out.append(
            {"method": method, "lead": "all", **_scores(frame, spec.quantiles, scales, naive_all)}
        )
        for lead, g in frame.groupby("lead", sort=True):
            ref = naive[naive_lead == lead]
            ref_mae = {str(s): mae(r["y"], r["q0.5"]) for s, r in ref.groupby("series_id")}
            rows_out.append(
                {"method": method, "lead": lead, **_scores(g, spec.quantiles, scales, ref_mae)}
            )
    table = pd.DataFrame(rows_out)
    order = [
        "method",
        "lead",
        "n",
        "mae",
        "rmae",
        "mase",
        "pinball",
        "crps",
        "rcrps",
        "skill_vs_weekly_naive",
    ]
    return BacktestReport(
        table=table[order],
        days=tuple(test),
        spec=spec,
        series_ids=ids,
        fallbacks=fallbacks,
        seconds=seconds,
        source=source,
    )
