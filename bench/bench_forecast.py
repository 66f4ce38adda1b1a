"""Day-ahead forecasts of 1,000 series of 15-min data with a year of history.

The series are SimBench's 2016 load profiles (active power), each scaled and given its own
multiplicative noise (seeded), so that 1,000 differ. Timed in one run, data loading
excluded:

- gridtwin's forecaster (LightGBM quantile models, one global model per quantile level,
  11 levels, trained on a seeded sample of rows; checks and fallbacks included), issued at
  06:00 the day before for 30 December 2016;
- statsforecast's own ``SeasonalNaive`` (one-week season, with its 90 % interval) on the
  same 1,000 series cut at the same issue time: the floor.

Both use at most two threads. The run writes ``bench/results/forecast-<date>.json``::

    .venv/bin/python bench/bench_forecast.py [--series 1000] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from _harness import machine, steal_s  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2016, 12, 30)


def _series(n: int) -> Any:
    import numpy as np
    import simbench as sb

    load = sb.get_all_simbench_profiles(0)["load"]
    cols = [c for c in load.columns if c.endswith("_pload")]
    base = load[cols].to_numpy(dtype=np.float64).T
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(cols), n)
    scale = rng.uniform(5, 500, n)[:, None]
    noise = np.exp(0.1 * rng.standard_normal((n, base.shape[1])))
    return np.ascontiguousarray(base[pick] * scale * noise)


def main() -> None:
    """Time both forecasters on the same series and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import numpy as np
    import pandas as pd

    from gridtwin.forecast import Forecaster, ForecastSpec, available_count, mae

    values = _series(args.series)
    start = pd.Timestamp("2016-01-01 00:00", tz="Etc/GMT-1").tz_convert("UTC")
    step = pd.Timedelta("15min")
    spec = ForecastSpec(tz="Etc/GMT-1", country="DE", n_jobs=2)
    import lightgbm  # noqa: F401  (imports are not timed)
    import statsforecast  # noqa: F401

    steal0 = steal_s()
    t0 = time.perf_counter()
    res = Forecaster(spec).predict(values, start, step, DAY)
    gbm_s = time.perf_counter() - t0

    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    n_hist = available_count(start, step, values.shape[1], spec.issue_utc(DAY))
    index = pd.date_range(start, periods=values.shape[1], freq=step)
    pos = index.get_indexer(res.time_utc)
    t0 = time.perf_counter()
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(len(values)), n_hist),
            "ds": np.tile(index[:n_hist].tz_localize(None), len(values)),
            "y": values[:, :n_hist].reshape(-1),
        }
    )
    horizon = int(pos.max()) - n_hist + 1
    fc = StatsForecast(models=[SeasonalNaive(season_length=672)], freq="15min", n_jobs=2).forecast(
        df=frame, h=horizon, level=[90]
    )
    sf_s = time.perf_counter() - t0
    steal1 = steal_s()
    naive = fc["SeasonalNaive"].to_numpy().reshape(len(values), horizon)[:, pos - n_hist]
    truth = values[:, pos]
    out = {
        "machine": machine(("lightgbm", "statsforecast", "numpy", "pandas")),
        "series": len(values),
        "history_days": n_hist / 96,
        "forecast_day": DAY.isoformat(),
        "steps": len(pos),
        "quantiles": list(spec.quantiles),
        "gridtwin_gbm_s": gbm_s,
        "statsforecast_seasonal_naive_s": sf_s,
        "methods": sorted(set(res.methods)),
        "fallbacks": sum(r is not None for r in res.fallbacks),
        "mae_gbm_mean": float(np.mean([mae(truth[i], res.median[i]) for i in range(len(values))])),
        "mae_seasonal_naive_mean": float(
            np.mean([mae(truth[i], naive[i]) for i in range(len(values))])
        ),
        "steal_s": None if steal0 is None or steal1 is None else steal1 - steal0,
    }
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=2))
    path = args.out or ROOT / "bench" / "results" / f"forecast-{dt.date.today()}.json"
    path.write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
