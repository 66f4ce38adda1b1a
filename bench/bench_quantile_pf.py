"""Quantile power flow of the LV demo feeder for the next day: 96 steps x 9 quantiles.

Measures, in one run on one machine, the same batch of 864 power flows (every load at its
quantile k, PV at Q-1-k, of a day of SimBench 1-LV-semiurb4--0-sw's profiles times a load
scale, with a spread per quantile level):

* ``engine``: gridtwin's early-warning path, a :class:`gridtwin.warning.ScenarioEngine`
  built once (validation and the solver's network), then set-points written in place and
  solved; median of ``--repeats`` runs, set-points to reshaped results;
* ``simulate``: the same batch through :func:`gridtwin.network.simulate` (validation and
  build at every call);
* ``kernel``: only the fixed point's solve of the prepared batch (the bare kernel: the
  floor of this solver);
* ``pgm_batch``: the same batch through power-grid-model's batch calculation
  (``method="iterative_current"`` and ``"newton_raphson"`` through ``simulate``: our
  conversion included, as a user of power-grid-model would pay it);
* ``sampled``: 200 joint scenarios of the steps the band screens in.

Target (issue 14): 96 x 9 in < 100 ms. Results: ``bench/results/quantile-pf-<date>.json``.

    python bench/bench_quantile_pf.py [--repeats 20] [--load-scale 5] [--output FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import _harness

GRID = "1-LV-semiurb4--0-sw"
SPREAD = np.array([0.7, 0.77, 0.87, 0.95, 1.0, 1.05, 1.13, 1.25, 1.35])
LEVELS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95)
DAY_START = 60 * 96  # 2016-03-01 (UTC): a winter weekday's evening peak


def forecast_of(model: Any, load_scale: float) -> Any:
    from gridtwin.warning import NodalForecast

    prof = model.profiles
    rows = slice(DAY_START, DAY_START + 96)
    load = prof.load_p_mw.iloc[rows].to_numpy().T * load_scale
    pv = prof.sgen_p_mw.iloc[rows].to_numpy().T
    return NodalForecast(
        time_utc=prof.time_utc[rows],
        quantiles=LEVELS,
        load_ids=np.asarray(prof.load_p_mw.columns, dtype=np.int64),
        load_p_mw=load[:, :, None] * SPREAD[None, None, :],
        sgen_ids=np.asarray(prof.sgen_p_mw.columns, dtype=np.int64),
        sgen_p_mw=pv[:, :, None] * SPREAD[None, None, :],
    )


def timed(fn: Any, repeats: int) -> tuple[float, Any]:
    out = fn()  # warm (JIT, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000.0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--load-scale", type=float, default=5.0)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    from gridtwin.network import PowerFlowOptions, load_simbench
    from gridtwin.network._chunks import as_rows
    from gridtwin.warning import (
        SamplingSpec,
        ScenarioEngine,
        band_setpoints,
        quantile_power_flow,
        sampled_power_flow,
    )

    steal0 = _harness.steal_s()
    model = load_simbench(GRID)
    fc = forecast_of(model, args.load_scale)
    t0 = time.perf_counter()
    engine = ScenarioEngine(model, fc, 200)
    build_ms = (time.perf_counter() - t0) * 1000.0
    res: dict[str, Any] = {"build_ms": round(build_ms, 1)}
    ms, band = timed(lambda: quantile_power_flow(model, fc, engine=engine), args.repeats)
    res["engine_ms"] = round(ms, 2)
    ms, _ = timed(lambda: quantile_power_flow(model, fc), max(3, args.repeats // 4))
    res["simulate_ms"] = round(ms, 2)
    eng = engine.batch._engine  # the prepared fixed point: its solve alone
    rows = as_rows(np.arange(9 * 96, dtype=np.int64))
    ms, _ = timed(lambda: eng.solve(rows), args.repeats)
    res["kernel_ms"] = round(ms, 2)
    lp, gp = band_setpoints(fc)
    from gridtwin.warning._qpf import scenario_flow

    for method in ("iterative_current", "newton_raphson"):
        opts = PowerFlowOptions(method=method)  # type: ignore[arg-type]
        ms, pgm = timed(
            lambda o=opts: scenario_flow(model, lp, gp, fc, options=o), max(3, args.repeats // 4)
        )
        res[f"pgm_{method}_ms"] = round(ms, 2)
        res[f"pgm_{method}_max_dv_pu"] = float(np.nanmax(np.abs(pgm.vm_pu - band.vm_pu)))
    steps = np.flatnonzero(band.vm_pu[-1].min(axis=1) < 0.9)
    steps = steps if steps.size else np.arange(16)
    ms, _ = timed(
        lambda: sampled_power_flow(model, fc, SamplingSpec(), steps=steps, engine=engine),
        max(3, args.repeats // 4),
    )
    res["sampled_ms"] = round(ms, 2)
    res["sampled_flows"] = int(200 * steps.size)
    out = {
        "benchmark": "quantile power flow (issue 14)",
        "grid": GRID,
        "steps": 96,
        "quantiles": len(LEVELS),
        "power_flows": 9 * 96,
        "load_scale": args.load_scale,
        "repeats": args.repeats,
        "target_ms": 100,
        "results": res,
        "lowest_vm_pu": float(np.nanmin(band.vm_pu)),
        "machine": _harness.machine(("numpy", "numba", "pandapower", "power-grid-model")),
        "steal_s": None if steal0 is None else round((_harness.steal_s() or 0) - steal0, 2),
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(out, indent=2)
    print(text)
    path = args.output or (
        Path(__file__).parent / "results" / f"quantile-pf-{pd.Timestamp.now('UTC'):%Y-%m-%d}.json"
    )
    path.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
