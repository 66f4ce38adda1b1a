"""State estimation per interval: gridtwin's ``StateEstimator.estimate`` against the floor.

For each grid the true state of ``--intervals`` consecutive quarter hours (from noon of
day 30 of the SimBench year) is a PGM power flow of the SimBench profiles. Readings:
every second load metered (p, q and the voltage of its bus; sigma 0.5 kW / 0.5 kvar /
0.002 pu), every sgen metered, every transformer's LV flow (sigma max(1 kW, 0.5 %)) and
LV busbar voltage; seeded Gaussian noise within sigma. The other loads take
pseudo-measurements: their profile value one day earlier, sigma 50 % (floor 1 kW), as
the live twin would.

Timed per interval:

* **gridtwin**: ``StateEstimator.estimate`` (estimator built once; per interval the
  readings are validated, the sensors updated in place, PGM's Newton-Raphson estimator
  run, residuals, chi-square test and normalised residuals computed; at most one
  bad-data round, ``max_removals=1``).
  On the 9,099-bus grid ``r_N`` is computed only on an alarm, for the 500 largest
  weighted residuals (``normalized_residuals="on_alarm"``, ``rn_max_rows=500``); on the
  LV feeder every interval, for every reading.
* **floor**: PGM's ``calculate_state_estimation`` alone on the same model with the same
  sensor values (model and sensors already in place): what any wrapper must pay.

Median and p99 over the intervals, build times, the largest voltage error against the
true state, and the alarms. Targets (issue 12): LV p99 <= 100 ms, 9,099-bus <= 2 s.

    .venv/bin/python bench/bench_estimation.py              # LV and the 9,099-bus grid
    .venv/bin/python bench/bench_estimation.py --quick --out x.json   # LV, 5 intervals
"""

from __future__ import annotations

# isort: off
import _harness  # first: pins every engine to one thread before numpy loads

# isort: on
import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

GRIDS = {"LV": "1-LV-semiurb4--0-sw", "MVLV": "1-MVLV-semiurb-all-0-sw"}
START = 30 * 96 + 48  # day 30, 12:00
SV, SP = 0.002, 5e-4


def true_states(model: Any, steps: np.ndarray) -> dict[str, np.ndarray]:
    """PGM power flow of the profiles at ``steps``: bus vm, load/sgen p, q, trafo LV flows."""
    from power_grid_model import ComponentType as Ct
    from power_grid_model import PowerGridModel

    from gridtwin.network import build_pgm_network

    net, prof = model.net, model.profiles
    g = build_pgm_network(net)
    pgm = PowerGridModel(g.input_data, system_frequency=g.f_hz)
    scale_l = net.load["scaling"].to_numpy(dtype=float)
    lp = prof.load_p_mw[net.load.index].to_numpy()[steps] * scale_l * 1e6
    lq = prof.load_q_mvar[net.load.index].to_numpy()[steps] * scale_l * 1e6
    update: dict[Any, Any] = {
        Ct.sym_load: {
            "id": np.broadcast_to(g.ids["load"].pgm_id, lp.shape).copy(),
            "p_specified": lp,
            "q_specified": lq,
        }
    }
    if len(net.sgen):
        scale_s = net.sgen["scaling"].to_numpy(dtype=float)
        sp_ = prof.sgen_p_mw[net.sgen.index].to_numpy()[steps] * scale_s * 1e6
        update[Ct.sym_gen] = {
            "id": np.broadcast_to(g.ids["sgen"].pgm_id, sp_.shape).copy(),
            "p_specified": sp_,
            "q_specified": np.zeros_like(sp_),
        }
    out = pgm.calculate_power_flow(update_data=update, error_tolerance=1e-10)
    n_l, n_s = len(net.load), len(net.sgen)
    res = {
        "vm": out[Ct.node]["u_pu"],
        "load_p": out[Ct.sym_load]["p"][:, :n_l] / 1e6,
        "load_q": out[Ct.sym_load]["q"][:, :n_l] / 1e6,
        "trafo_p": out[Ct.transformer]["p_to"] / 1e6,
        "trafo_q": out[Ct.transformer]["q_to"] / 1e6,
        "pseudo_p": prof.load_p_mw[net.load.index].to_numpy()[steps - 96] * scale_l,
        "pseudo_q": prof.load_q_mvar[net.load.index].to_numpy()[steps - 96] * scale_l,
    }
    if n_s:
        res["sgen_p"] = out[Ct.sym_gen]["p"][:, :n_s] / 1e6
        res["sgen_q"] = out[Ct.sym_gen]["q"][:, :n_s] / 1e6
    return res


def readings(net: Any, truth: dict[str, np.ndarray], t: int, rng: np.random.Generator) -> Any:
    """The interval's readings and pseudo-measurements (module docstring)."""
    from gridtwin.network.estimation import (
        FlowReadings,
        Measurements,
        PowerReadings,
        VoltageReadings,
        pseudo_readings,
    )

    loads = net.load.index.to_numpy()
    metered = np.arange(len(loads)) % 2 == 0
    bus_pos = {int(b): k for k, b in enumerate(net.bus.index)}
    vb = np.unique(np.r_[net.trafo.lv_bus.to_numpy(), net.load.bus.to_numpy()[metered]])
    vpos = [bus_pos[int(b)] for b in vb]
    n_m, n_s, n_t = int(metered.sum()), len(net.sgen), len(net.trafo)
    tp, tq = truth["trafo_p"][t], truth["trafo_q"][t]
    st = np.maximum(1e-3, 0.005 * np.hypot(tp, tq))
    m = Measurements(
        vm=VoltageReadings(
            vb, truth["vm"][t, vpos] + rng.normal(0, SV, len(vb)), np.full(len(vb), SV)
        ),
        load=PowerReadings(
            loads[metered],
            truth["load_p"][t, metered] + rng.normal(0, SP, n_m),
            truth["load_q"][t, metered] + rng.normal(0, SP, n_m),
            np.full(n_m, SP),
            np.full(n_m, SP),
        ),
        sgen=PowerReadings(
            net.sgen.index,
            truth["sgen_p"][t] + rng.normal(0, SP, n_s),
            truth["sgen_q"][t] + rng.normal(0, SP, n_s),
            np.full(n_s, SP),
            np.full(n_s, SP),
        )
        if n_s
        else None,
        trafo=FlowReadings(
            net.trafo.index,
            np.full(n_t, "lv"),
            tp + rng.normal(0, 1, n_t) * st,
            tq + rng.normal(0, 1, n_t) * st,
            st,
            st,
        ),
    )
    pseudo = Measurements(
        load=pseudo_readings(
            loads[~metered], truth["pseudo_p"][t, ~metered], truth["pseudo_q"][t, ~metered]
        )
    )
    return m, pseudo


def floor_se(pgm: Any, o: Any, methods: Any, diverge: type[Exception]) -> None:
    """Bare PGM estimation on the model as gridtwin left it: Newton-Raphson, and the
    iterative linear method where it diverges (gridtwin's fallback, same settings)."""
    try:
        pgm.calculate_state_estimation(
            symmetric=True,
            calculation_method=methods.newton_raphson,
            error_tolerance=o.error_tolerance_pu,
            max_iterations=o.max_iterations,
        )
    except diverge:
        pgm.calculate_state_estimation(
            symmetric=True,
            calculation_method=methods.iterative_linear,
            error_tolerance=o.fallback_tolerance_pu,
            max_iterations=max(o.max_iterations, 100),
        )


def run_grid(code: str, n: int, seed: int) -> dict[str, Any]:  # long: one timed scenario
    from power_grid_model import CalculationMethod
    from power_grid_model.errors import IterationDiverge  # type: ignore[attr-defined]

    from gridtwin.network import load_simbench
    from gridtwin.network.estimation import EstimationOptions, StateEstimator

    t0 = time.perf_counter()
    model = load_simbench(code)
    load_s = time.perf_counter() - t0
    net = model.net
    steps = START + np.arange(n)
    truth = true_states(model, steps)
    t0 = time.perf_counter()
    big = len(net.bus) > 1000
    opts = EstimationOptions(
        max_removals=1,
        normalized_residuals="on_alarm" if big else "always",
        rn_max_rows=500 if big else None,
    )
    est = StateEstimator(net, opts)
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    gt, floor, err = [], [], []
    alarms = removed = fallbacks = 0
    o = est.options
    for t in range(n):
        m, pseudo = readings(net, truth, t, rng)
        t0 = time.perf_counter()
        res = est.estimate(m, pseudo)
        gt.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        floor_se(est._pgm, o, CalculationMethod, IterationDiverge)  # sensors in place
        floor.append(time.perf_counter() - t0)
        err.append(float(np.nanmax(np.abs(res.vm_pu - truth["vm"][t]))))
        alarms += int(not res.test.passed or bool(res.removed))
        removed += len(res.removed)
        fallbacks += int(any("Newton-Raphson did not converge" in x for x in res.notes))

    def stats(x: list[float]) -> dict[str, float]:
        a = np.asarray(x) * 1e3
        return {"median_ms": float(np.median(a)), "p99_ms": float(np.percentile(a, 99))}

    return {
        "code": code,
        "buses": len(net.bus),
        "loads": len(net.load),
        "intervals": n,
        "load_s": load_s,
        "estimator_build_s": build_s,
        "gridtwin": stats(gt),
        "floor_pgm_se": stats(floor),
        "max_vm_error_pu": float(np.max(err)),
        "dof_last": int(res.test.dof),
        "alarms": alarms,
        "readings_removed": removed,
        "iterative_linear_fallbacks": fallbacks,
        "options": {
            "normalized_residuals": opts.normalized_residuals,
            "rn_max_rows": opts.rn_max_rows,
            "max_removals": opts.max_removals,
            "method": opts.method,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="LV only, 5 intervals")
    ap.add_argument("--intervals", type=int, default=50)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--grid", choices=sorted(GRIDS), action="append", help="only these grids")
    ap.add_argument("--out", type=Path, default=None, help="JSON path (default bench/results/)")
    args = ap.parse_args()
    n = 5 if args.quick else args.intervals
    grids = {"LV": GRIDS["LV"]} if args.quick else GRIDS
    if args.grid:
        grids = {k: GRIDS[k] for k in args.grid}
    out: dict[str, Any] = {
        "benchmark": "estimation",
        "quick": args.quick,
        "machine": _harness.machine(("power-grid-model", "pandapower", "scipy")),
        "grids": {},
    }
    for label, code in grids.items():
        r = run_grid(code, n, args.seed)
        out["grids"][label] = r
        print(
            f"{label:5s} {r['buses']:6d} buses  gridtwin median "
            f"{r['gridtwin']['median_ms']:8.1f} ms"
            f"  p99 {r['gridtwin']['p99_ms']:8.1f} ms | floor median "
            f"{r['floor_pgm_se']['median_ms']:7.1f} ms p99 {r['floor_pgm_se']['p99_ms']:7.1f} ms"
            f" | max |dvm| {r['max_vm_error_pu']:.4f} pu, alarms {r['alarms']}/{n}",
            flush=True,
        )
    path = args.out
    if path is None:
        path = ROOT / "bench" / "results" / f"estimation-{dt.date.today().isoformat()}.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
