"""Newton-Raphson benchmark: gridtwin's ``solve_newton_steps`` against pandapower's ``runpp``,
per step, on grids with voltage-controlled generators.

One process, one thread (OpenMP / BLAS / numba pinned by ``_harness``), one grid after the
other: pandapower's ``case118`` and SimBench's ``1-EHV-mixed--0-sw`` (338 gens, 7
ext_grids). Every load is scaled per step by a smooth random walk around 1 (a
quarter-hour-like change of about 1 % per step); gens and sgens keep their set-points.

(a) gridtwin, warm: ``solve_newton_steps`` over all steps, each from the previous solution
    (the internal case and the Jacobian pattern are built once; the build is timed apart);
(b) gridtwin, cold: the same with ``warm=False`` (every step from pandapower's DC start);
(c) pandapower ``runpp`` on the first ``--pp-steps`` steps, default options (DC start),
    and again with ``init="results"`` (pandapower's own warm start);
accuracy: largest |dvm| [pu] and |dva| [deg] of (a) against (c) on those steps.

usage::

    python bench/bench_newton.py                 # -> prints JSON
    python bench/bench_newton.py --out bench/results/newton-<date>.json
"""

from __future__ import annotations

# isort: off
import _harness  # first: pins every engine to one thread before numpy loads

# isort: on
import argparse
import copy
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

GRIDS = ("case118", "1-EHV-mixed--0-sw")


def _load(name: str) -> Any:
    import pandapower.networks as pn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name.startswith("case"):
            return getattr(pn, name)()
        import simbench as sb

        return sb.get_simbench_net(name)


def _injections(net: Any, factors: np.ndarray) -> tuple[Any, float, Any, np.ndarray]:
    """The Newton case, the seconds to build it, pandapower's lookups and the per-step
    injections with the loads scaled by ``factors``."""
    from gridtwin.network._fp_case import internal_case
    from gridtwin.network._newton import case_injection, newton_case

    _, ppci, lookups, _ = internal_case(net, "t")
    t0 = time.perf_counter()
    case = newton_case(ppci)
    build_s = time.perf_counter() - t0
    s, _, _ = case_injection(ppci)
    no_load = copy.deepcopy(net)
    no_load.load["scaling"] = 0.0
    s0 = case_injection(internal_case(no_load, "t")[1])[0]
    rows = np.array([s0 + f * (s - s0) for f in factors])
    return case, build_s, lookups, rows


def _pandapower(net: Any, factors: np.ndarray, **kw: Any) -> tuple[float, list[Any]]:
    """Seconds per step of ``runpp`` and the bus results of each step."""
    import pandapower as pp

    work = copy.deepcopy(net)
    scaling = work.load["scaling"].to_numpy().copy()
    res = []
    t0 = time.perf_counter()
    for f in factors:
        work.load["scaling"] = scaling * f
        pp.runpp(work, **kw)
        res.append(work.res_bus[["vm_pu", "va_degree"]].copy())
    return (time.perf_counter() - t0) / len(factors), res


def bench_grid(name: str, steps: int, pp_steps: int, seed: int) -> dict[str, Any]:
    from gridtwin.network._newton import solve_newton_steps

    net = _load(name)
    rng = np.random.default_rng(seed)
    factors = 1.0 + np.cumsum(rng.normal(0.0, 0.01, steps))
    case, build_s, lookups, rows = _injections(net, factors)
    solve_newton_steps(case, rows[:2])  # first-call costs (imports) out of the timing
    t0 = time.perf_counter()
    warm = solve_newton_steps(case, rows)
    warm_s = (time.perf_counter() - t0) / steps
    t0 = time.perf_counter()
    cold = solve_newton_steps(case, rows, warm=False)
    cold_s = (time.perf_counter() - t0) / steps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _pandapower(net, factors[:1])  # numba compilation out of the timing
        pp_s, pp_res = _pandapower(net, factors[:pp_steps])
        pp_warm_s, _ = _pandapower(net, factors[:pp_steps], init="results")
    b = np.asarray(lookups["bus"])[net.bus.index.to_numpy()]
    dvm = dva = 0.0
    for t, r in enumerate(pp_res):
        vm, va = np.abs(warm.v_pu[t])[b], np.angle(warm.v_pu[t], deg=True)[b]
        dvm = max(dvm, float(np.nanmax(np.abs(vm - r.vm_pu.to_numpy()))))
        d = (va - r.va_degree.to_numpy() + 180.0) % 360.0 - 180.0
        dva = max(dva, float(np.nanmax(np.abs(d))))
    return {
        "grid": name,
        "internal_buses": case.n_bus,
        "pv_buses": len(case.pv),
        "steps": steps,
        "case_build_ms": 1e3 * build_s,
        "gridtwin_warm_ms_per_step": 1e3 * warm_s,
        "gridtwin_warm_iterations_mean": float(warm.iterations.mean()),
        "gridtwin_cold_ms_per_step": 1e3 * cold_s,
        "gridtwin_cold_iterations_mean": float(cold.iterations.mean()),
        "converged_all": bool(warm.converged.all() and cold.converged.all()),
        "pandapower_steps": pp_steps,
        "pandapower_runpp_ms_per_step": 1e3 * pp_s,
        "pandapower_runpp_init_results_ms_per_step": 1e3 * pp_warm_s,
        "max_dvm_pu": dvm,
        "max_dva_deg": dva,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=96)
    ap.add_argument("--pp-steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = {
        "machine": _harness.machine(("numpy", "scipy", "pandapower", "simbench")),
        "grids": [bench_grid(g, args.steps, args.pp_steps, args.seed) for g in GRIDS],
    }
    text = json.dumps(out, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
