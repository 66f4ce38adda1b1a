"""The forecast backtests of docs/forecast.md: a real measured series and SimBench profiles.

- **Taylor** (real: England and Wales demand, half-hourly, summer 2000, shipped by
  pmdarima): the last 28 days held out, each forecast day-ahead as issued at 06:00 local
  the day before; LightGBM (refitted weekly), statsforecast SeasonalNaive and MSTL.
- **SimBench** (representative synthetic profiles, 15 min, 2016): 28 days from
  7 November held out, for the aggregated MV/LV profiles and two single-customer ones.

Writes ``bench/results/forecast-backtest-<date>.json``::

    .venv/bin/python bench/backtest_forecast.py [--only taylor|simbench] [--days 28]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from _harness import machine  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]


def _taylor(days: int) -> dict[str, Any]:
    from gridtwin.forecast import ForecastSpec, to_grid
    from gridtwin.forecast.backtest import backtest
    from gridtwin.forecast.datasets import taylor_demand

    values, start, step = to_grid(taylor_demand().to_frame())
    spec = ForecastSpec(tz="Europe/London", country="GB", subdivision="ENG")
    report = backtest(
        values,
        start,
        step,
        spec,
        days=days,
        methods=("gbm", "sf_seasonal_naive", "sf_mstl"),
        series_ids=["taylor_mw"],
        source="pmdarima load_taylor (real, England and Wales, 2000)",
    )
    return report.to_dict()


def _simbench(days: int) -> dict[str, Any]:
    from gridtwin.forecast import ForecastSpec, to_grid
    from gridtwin.forecast.backtest import backtest
    from gridtwin.forecast.datasets import SIMBENCH_DEFAULT, simbench_profiles

    frame = simbench_profiles()
    values, start, step = to_grid(frame)
    spec = ForecastSpec(tz="Etc/GMT-1", country="DE")
    test = [dt.date(2016, 11, 7) + dt.timedelta(days=i) for i in range(days)]
    report = backtest(
        values,
        start,
        step,
        spec,
        days=test,
        methods=("gbm", "sf_seasonal_naive"),
        series_ids=list(SIMBENCH_DEFAULT),
        source="SimBench 2016 load profiles (representative, not measured)",
    )
    return report.to_dict()


def main() -> None:
    """Run the backtests and write their JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=("taylor", "simbench"))
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": machine(("lightgbm", "statsforecast", "pmdarima"))}
    for name, fn in (("taylor", _taylor), ("simbench", _simbench)):
        if args.only not in (None, name):
            continue
        t0 = time.perf_counter()
        out[name] = fn(args.days)
        out[name]["wall_s"] = time.perf_counter() - t0
        for row in out[name]["metrics"]:
            if row["lead"] == "all":
                print(
                    f"{name:9} {row['method']:18} MAE {row['mae']:.4g}  MASE {row['mase']:.3f}  "
                    f"skill {row['skill_vs_weekly_naive']:+.3f}  rCRPS {row['rcrps']:.4f}"
                )
    path = args.out or ROOT / "bench" / "results" / f"forecast-backtest-{dt.date.today()}.json"
    path.write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
