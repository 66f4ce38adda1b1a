"""statsforecast's baselines on the same cut history: SeasonalNaive (one-week season) and
MSTL (daily and weekly seasons) with an AutoETS trend, their intervals read as quantiles."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.forecast._features import Grid
from gridtwin.forecast._spec import ForecastSpec

__all__ = ["sf_forecast"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _freq(step: pd.Timedelta) -> str:
    """The step as a pandas frequency string (``15min``)."""
    return f"{int(step.total_seconds() // 60)}min"


def _levels(quantiles: tuple[float, ...]) -> list[int]:
    return sorted({round(abs(2 * q - 1) * 100) for q in quantiles if q != 0.5})


def sf_forecast(
    hist: FloatArray,
    grid: Grid,
    spec: ForecastSpec,
    series: IntArray,
    target_pos: IntArray,
    method: str,
) -> FloatArray:
    """Quantiles ``(len(series), len(target_pos), n_q)`` from statsforecast, fitted on the
    history before the issue time (gaps interpolated linearly: statsforecast refuses NaN)."""
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS, SeasonalNaive

    spd = grid.steps_per_day
    n_hist = hist.shape[1]
    keep_days = 8 * 7 if method == "sf_mstl" else 2 * 7
    lo = max(0, n_hist - keep_days * spd)
    block = pd.DataFrame(hist[series, lo:n_hist].T).interpolate(limit_direction="both")
    ds = grid.times_utc[lo:n_hist].tz_localize(None)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(len(series)), n_hist - lo),
            "ds": np.tile(ds, len(series)),
            "y": block.to_numpy().T.reshape(-1),
        }
    )
    model: MSTL | SeasonalNaive
    if method == "sf_mstl":
        model = MSTL(season_length=[spd, 7 * spd], trend_forecaster=AutoETS(model="ZZN"))
        name = "MSTL"
    else:
        model = SeasonalNaive(season_length=7 * spd)
        name = "SeasonalNaive"
    horizon = int(target_pos.max()) - n_hist + 1
    levels = _levels(spec.quantiles)
    jobs = spec.n_jobs if len(series) >= 200 else 1
    sf = StatsForecast(models=[model], freq=_freq(grid.step), n_jobs=jobs)
    fc = sf.forecast(df=frame, h=horizon, level=levels)
    out = np.empty((len(series), len(target_pos), len(spec.quantiles)))
    rel = target_pos - n_hist
    for j, q in enumerate(spec.quantiles):
        if q == 0.5:
            col = name
        else:
            lev = round(abs(2 * q - 1) * 100)
            col = f"{name}-{'lo' if q < 0.5 else 'hi'}-{lev}"
        values = fc[col].to_numpy(dtype=np.float64).reshape(len(series), horizon)
        out[:, :, j] = values[:, rel]
    return np.sort(out, axis=2)
