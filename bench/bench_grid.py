"""Grid-engine benchmark: gridtwin ``simulate`` vs pandapower ``run_timeseries`` vs bare
power-grid-model, side by side on SimBench grids with their own 15-min profiles.

One run, one machine; every engine runs in its own subprocess with OMP / OPENBLAS / MKL /
NUMBA threads set to 1, one after the other (never two engines at once):

(a) gridtwin ``simulate`` on the LV grid ``1-LV-semiurb4--0-sw`` for the whole year
    (35,136 steps) including line and transformer loadings, full result in memory, one
    core (``threading=-1``), with each method: the fixed point (default),
    power-grid-model's Newton-Raphson and its iterative current;
(b) pandapower ``run_timeseries`` (ConstControl + OutputWriter logging only
    ``res_bus.vm_pu``, ``res_line.loading_percent``, ``res_trafo.loading_percent``) on 96
    and 672 steps, extrapolated linearly to the year;
(c) bare power-grid-model: input converted once, the update dataset of all steps prebuilt
    (structured arrays with ids), ONE ``calculate_power_flow`` over all steps with the
    same output attributes gridtwin requests: the engine without gridtwin's overhead;
(d) the same three on the MV grid ``1-MV-rural--0-sw``;
(e) with ``--big``: the 9,099-bus MV+LV grid ``1-MVLV-semiurb-all-0-sw`` for the year with
    gridtwin streaming (``keep="summary"``, 2 cores via ``threading=0``): wall and CPU
    time, peak memory; a two-week run with the full results streamed to Parquet; loading
    time (SimBench CSV and cache) reported separately; pandapower (96 steps) and bare
    PGM (two weeks, 2 threads) on the same grid, extrapolated;
(f) with ``--oltc``: the MV grid-year with loads x3 (``--oltc-load-factor``) and SimBench's
    on-load tap changers regulated (``autoTap``), gridtwin's fixed point against
    pandapower ``run_timeseries`` with ``DiscreteTapControl`` (672 steps, extrapolated),
    tap positions and voltages compared step by step;
accuracy: max |dvm| of gridtwin (and bare PGM) vs pandapower on the steps pandapower ran.

Loading a SimBench grid from the CSVs in the simbench wheel takes seconds (LV/MV) to
about a minute or two (the 9,099-bus grid); the benchmark caches the loaded net (pickle)
and profiles (.npy) in ``$XDG_CACHE_HOME/gridtwin/simbench`` (``--cache-dir``,
``--no-cache``, ``--refresh-cache``). Loading is never part of an engine's time.

usage::

    python bench/bench_grid.py            # full run -> bench/results/grid-<date>.json
    python bench/bench_grid.py --big      # plus the 9,099-bus grid-year
    python bench/bench_grid.py --quick    # smoke run (a few hundred steps)
"""

from __future__ import annotations

# isort: off
import _harness  # first: pins every engine to one thread before numpy loads

# isort: on
import argparse
import copy
import datetime as dt
import json
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

LV_CODE = "1-LV-semiurb4--0-sw"
MV_CODE = "1-MV-rural--0-sw"
BIG_CODE = "1-MVLV-semiurb-all-0-sw"
YEAR_STEPS = 35_136  # 2016 in quarter hours
#: gridtwin's methods, and the power-grid-model methods run bare
METHODS = ("fixed_point", "newton_raphson", "iterative_current")
PGM_METHODS = ("newton_raphson", "iterative_current")
SHORT = {"fixed_point": "FP", "newton_raphson": "NR", "iterative_current": "IC"}
TARGET_LV_YEAR_S = 1.0
TARGET_SPEEDUP = 100.0
TARGET_BIG_YEAR_S = 60.0
TARGET_DVM_PU = 1e-6
CACHE_FORMAT = 1


# ----------------------------------------------------------------------- SimBench cache


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gridtwin/simbench`` (``~/.cache/...`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gridtwin" / "simbench"


def _cache_path(cache_dir: Path, code: str) -> Path:
    import simbench

    return cache_dir / f"{code}-simbench{simbench.__version__}-v{CACHE_FORMAT}"


def load_model(
    code: str, cache_dir: str | None, refresh: bool = False
) -> tuple[Any, dict[str, Any]]:
    """A SimBench grid with its profiles, from the cache when possible.

    The cache holds the pandapower net (pickle; only ever read from our own cache
    directory) and one ``.npy`` per profile frame. Returns the model and timings.
    """
    import pandas as pd

    from gridtwin.network import NetworkModel, Profiles, load_simbench, simbench_time_index

    info: dict[str, Any] = {"code": code}
    path = _cache_path(Path(cache_dir), code) if cache_dir else None
    if path is not None and path.is_dir() and not refresh:
        t0 = time.perf_counter()
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        with (path / "net.pkl").open("rb") as fh:
            net = pickle.load(fh)  # our own cache file, never downloaded
        idx = simbench_time_index(int(meta["n_steps"]))
        frames = {}
        for name in meta["fields"]:
            values = np.load(path / f"{name}.npy")
            cols = np.load(path / f"{name}.cols.npy")
            frames[name] = pd.DataFrame(values, index=idx, columns=pd.Index(cols))
        prof = Profiles.from_frames(idx, source=f"simbench:{code}", **frames)
        model = NetworkModel(net=net, profiles=prof, name=code, source=f"simbench:{code}")
        info.update(load_source="cache", cache_load_s=time.perf_counter() - t0)
        return model, info
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_simbench(code)
    info.update(load_source="simbench CSV", simbench_load_s=time.perf_counter() - t0)
    if path is not None:
        t0 = time.perf_counter()
        _write_cache(path, model)
        info["cache_write_s"] = time.perf_counter() - t0
    return model, info


def _write_cache(path: Path, model: Any) -> None:
    prof = model.profiles
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    fields = []
    for name, frame in prof.frames().items():
        if frame.shape[1] == 0:
            continue
        np.save(tmp / f"{name}.npy", np.ascontiguousarray(frame.to_numpy(dtype=np.float64)))
        np.save(tmp / f"{name}.cols.npy", np.asarray(frame.columns, dtype=np.int64))
        fields.append(name)
    with (tmp / "net.pkl").open("wb") as fh:
        pickle.dump(model.net, fh, protocol=pickle.HIGHEST_PROTOCOL)
    (tmp / "meta.json").write_text(
        json.dumps({"n_steps": prof.n_steps, "fields": fields}), encoding="utf-8"
    )
    shutil.rmtree(path, ignore_errors=True)
    tmp.replace(path)


# ----------------------------------------------------------------------- measuring


def timed(fn: Callable[[], Any], reps: int) -> tuple[dict[str, Any], Any]:
    """Median wall and CPU time of ``reps`` calls (the box is shared: CPU time is the
    steadier figure), and the last call's value."""
    walls, cpus, out = [], [], None
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return {
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "walls_s": walls,
        "cpus_s": cpus,
        "reps": reps,
    }, out


def proc_status() -> dict[str, int]:
    """VmRSS / VmHWM [bytes] of this process (Linux)."""
    out: dict[str, int] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux ``clear_refs`` 5); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def save_array(out_dir: str, name: str, arr: FloatArray) -> str:
    path = Path(out_dir) / f"{name}.npy"
    np.save(path, arr)
    return str(path)


# ----------------------------------------------------------------------- workers


def worker_gridtwin(p: dict[str, Any]) -> dict[str, Any]:
    """(a)/(d) gridtwin simulate, full result in memory, one core."""
    from gridtwin.network import PowerFlowOptions, simulate

    model, load = load_model(p["code"], p["cache_dir"])
    n = p["steps"] or model.profiles.n_steps
    sel = slice(0, n)
    simulate(model, steps=slice(0, 96))  # warm-up (imports, first-touch), not timed
    out: dict[str, Any] = {
        "engine": "gridtwin",
        "code": p["code"],
        "steps": n,
        "n_bus": len(model.net.bus),
        "load": load,
        "methods": {},
    }
    for method in p["methods"]:

        def run(m: Any = method) -> Any:
            return simulate(model, steps=sel, options=PowerFlowOptions(method=m))

        t, res = timed(run, p["reps"])
        s = res.summary()
        t.update(
            converged_steps=s.converged_steps,
            vm_min_pu=s.vm_min_pu,
            line_loading_max_percent=s.line_loading_max_percent,
            us_per_step=1e6 * t["cpu_s"] / n,
            vm_file=save_array(
                p["out_dir"], f"gridtwin-{p['code']}-{method}", res.vm_pu[: p["compare"]]
            ),
        )
        out["methods"][method] = t
    out["peak_rss_bytes"] = proc_status().get("VmHWM")
    return out


def worker_pgm(p: dict[str, Any]) -> dict[str, Any]:
    """(c) bare power-grid-model: one batch call over all steps, update prebuilt."""
    from power_grid_model import (
        CalculationMethod,
        ComponentType,
        DatasetType,
        PowerGridModel,
        initialize_array,
    )

    from gridtwin.network import build_pgm_network

    model, load = load_model(p["code"], p["cache_dir"])
    net, prof = model.net, model.profiles
    n = p["steps"] or prof.n_steps
    t0 = time.perf_counter()
    g = build_pgm_network(net)
    pgm = PowerGridModel(g.input_data, system_frequency=g.f_hz)

    def frame(field: str, table: Any) -> FloatArray:
        df = getattr(prof, field).reindex(columns=table.index)
        base = np.nan_to_num(table[field.split("_", 1)[1]].to_numpy(dtype=float))
        vals = np.where(np.isnan(df.to_numpy()[:n]), base, df.to_numpy()[:n])
        return np.asarray(vals * table["scaling"].to_numpy(dtype=float) * 1e6)

    update: dict[Any, Any] = {}
    ld = initialize_array(
        DatasetType.update, ComponentType.sym_load, (n, len(g.input_data[ComponentType.sym_load]))
    )
    ld["id"] = g.input_data[ComponentType.sym_load]["id"]
    ld["p_specified"] = frame("load_p_mw", net.load)
    ld["q_specified"] = frame("load_q_mvar", net.load)
    update[ComponentType.sym_load] = ld
    if len(net.sgen):
        sg = initialize_array(DatasetType.update, ComponentType.sym_gen, (n, len(net.sgen)))
        sg["id"] = g.input_data[ComponentType.sym_gen]["id"]
        sg["p_specified"] = frame("sgen_p_mw", net.sgen)
        sg["q_specified"] = frame("sgen_q_mvar", net.sgen)
        update[ComponentType.sym_gen] = sg
    prep_s = time.perf_counter() - t0
    spec: dict[Any, Any] = {
        ComponentType.node: ["u_pu", "u_angle", "energized"],
        ComponentType.source: ["p", "q"],
        ComponentType.line: ["i_from", "i_to", "p_from", "p_to", "loading"],
        ComponentType.transformer: ["i_from", "i_to", "p_from", "p_to", "loading"],
    }
    spec = {k: v for k, v in spec.items() if k in g.input_data}
    methods = {
        "newton_raphson": CalculationMethod.newton_raphson,
        "iterative_current": CalculationMethod.iterative_current,
    }
    warm = {k: v[:96] for k, v in update.items()}
    pgm.calculate_power_flow(update_data=warm, output_component_types=spec)
    out: dict[str, Any] = {
        "engine": "power-grid-model",
        "code": p["code"],
        "steps": n,
        "threading": p["threading"],
        "prepare_s": prep_s,
        "load": load,
        "methods": {},
    }
    for method in p["methods"]:

        def run(m: str = method) -> Any:
            return pgm.calculate_power_flow(
                update_data=update,
                output_component_types=spec,
                threading=p["threading"],
                calculation_method=methods[m],
                error_tolerance=1e-10,
                max_iterations=30,
            )

        t, res = timed(run, p["reps"])
        node = res[ComponentType.node]
        vm = np.where(
            node["energized"][: p["compare"]].astype(bool), node["u_pu"][: p["compare"]], np.nan
        )
        t.update(
            us_per_step=1e6 * t["wall_s" if p["threading"] != -1 else "cpu_s"] / n,
            vm_file=save_array(p["out_dir"], f"pgm-{p['code']}-{method}", vm),
        )
        out["methods"][method] = t
    return out


def _relabel(df: Any, index: Any) -> Any:
    """pandapower 3.5.6's fast OutputWriter path labels columns 0..n-1 by position."""
    if list(df.columns) == list(range(len(index))) and list(index) != list(range(len(index))):
        df = df.copy()
        df.columns = index
    return df.reindex(columns=index)


def worker_pandapower(p: dict[str, Any]) -> dict[str, Any]:
    """(b) pandapower run_timeseries on the first steps, extrapolated."""
    import pandapower as pp
    from pandapower.control import ConstControl
    from pandapower.timeseries import DFData, OutputWriter, run_timeseries

    from gridtwin.network import PROFILE_FIELDS

    warnings.simplefilter("ignore")
    model, load = load_model(p["code"], p["cache_dir"])
    prof = model.profiles
    net0 = model.copy_net()

    def prepare(n: int) -> tuple[Any, Any]:
        net = copy.deepcopy(net0)
        for field, (table, col) in PROFILE_FIELDS.items():
            frame = getattr(prof, field)
            if table == "gen" or frame.shape[1] == 0 or table not in net or not len(net[table]):
                continue
            data = frame.iloc[:n].reset_index(drop=True)
            cols = [int(c) for c in data.columns]
            data.columns = cols
            ConstControl(
                net,
                element=table,
                variable=col,
                element_index=cols,
                data_source=DFData(data),
                profile_name=cols,
            )
        ow = OutputWriter(
            net,
            time_steps=range(n),
            output_path=None,
            log_variables=[
                ("res_bus", "vm_pu"),
                ("res_line", "loading_percent"),
                ("res_trafo", "loading_percent"),
            ],
        )
        return net, ow

    pp.runpp(copy.deepcopy(net0))
    net, _ = prepare(4)
    run_timeseries(net, time_steps=range(4), verbose=False)  # numba JIT, not timed
    out: dict[str, Any] = {
        "engine": "pandapower",
        "version": pp.__version__,
        "code": p["code"],
        "load": load,
        "runs": {},
    }
    vm = None
    for n, reps in zip(p["steps_list"], p["reps_list"], strict=True):
        walls, cpus = [], []
        for _ in range(reps):
            net, ow = prepare(n)  # controller set-up not timed
            c0, t0 = time.process_time(), time.perf_counter()
            run_timeseries(net, time_steps=range(n), verbose=False)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            vm = _relabel(ow.output["res_bus.vm_pu"], net.bus.index).to_numpy()
        out["runs"][str(n)] = {
            "steps": n,
            "reps": reps,
            "wall_s": statistics.median(walls),
            "cpu_s": statistics.median(cpus),
            "walls_s": walls,
            "ms_per_step": 1e3 * statistics.median(cpus) / n,
        }
    longest = max(p["steps_list"])
    r = out["runs"][str(longest)]
    out["extrapolated_from"] = longest
    out["year_s"] = r["cpu_s"] / longest * prof.n_steps
    out["year_wall_s"] = r["wall_s"] / longest * prof.n_steps
    if vm is not None:
        out["vm_file"] = save_array(p["out_dir"], f"pandapower-{p['code']}", vm)
    return out


def worker_big(p: dict[str, Any]) -> dict[str, Any]:
    """(e) the 9,099-bus grid with gridtwin streaming on 2 cores."""
    from gridtwin.network import KeepSummary, PowerFlowOptions, simulate

    model, load = load_model(p["code"], p["cache_dir"], refresh=p.get("refresh", False))
    if load["load_source"] != "cache" and p["cache_dir"]:
        model, again = load_model(p["code"], p["cache_dir"])  # time the cache too
        load["cache_load_s"] = again["cache_load_s"]
    n = p["steps"] or model.profiles.n_steps
    simulate(
        model, steps=slice(0, 8), options=PowerFlowOptions(method=p["method"])
    )  # warm-up, not timed
    before = proc_status()
    reset = reset_peak_rss()
    output = Path(p["out_dir"]) / "big.parquet" if p["parquet"] else None
    c0, t0 = time.process_time(), time.perf_counter()
    stats = simulate(
        model,
        steps=slice(0, n),
        options=PowerFlowOptions(method=p["method"], threading=p["threading"]),
        keep=KeepSummary(parquet=output),
    )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    after = proc_status()
    s = stats.summary()
    out: dict[str, Any] = {
        "engine": "gridtwin-streaming",
        "code": p["code"],
        "steps": n,
        "method": p["method"],
        "threading": p["threading"],
        "n_bus": len(model.net.bus),
        "n_line": len(model.net.line),
        "n_load": len(model.net.load),
        "load": load,
        "wall_s": wall,
        "cpu_s": cpu,
        "us_per_step": 1e6 * wall / n,
        "rss_before_bytes": before.get("VmRSS"),
        "peak_rss_bytes": after.get("VmHWM"),
        "peak_reset": reset,
        "converged_steps": s.converged_steps,
        "vm_min_pu": s.vm_min_pu,
        "vm_max_pu": s.vm_max_pu,
        "line_loading_max_percent": s.line_loading_max_percent,
        "energy_loss_mwh": s.energy_loss_mwh,
        "retained_bytes": int(
            sum(v.nbytes for v in vars(stats).values() if isinstance(v, np.ndarray))
        ),
        "profile_bytes": int(sum(f.to_numpy().nbytes for f in model.profiles.frames().values())),
        "full_result_bytes": int(
            n
            * 8
            * (
                2 * len(model.net.bus)
                + 3 * len(model.net.line)
                + 3 * len(model.net.trafo)
                + 2 * len(model.net.ext_grid)
                + 2
            )
        ),
    }
    if output is not None:
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(output).metadata
        out.update(
            parquet_rows=meta.num_rows,
            parquet_row_groups=meta.num_row_groups,
            parquet_bytes=output.stat().st_size,
        )
        output.unlink()
    if p["compare"]:
        res = simulate(
            model, steps=slice(0, p["compare"]), options=PowerFlowOptions(method=p["method"])
        )
        out["vm_file"] = save_array(p["out_dir"], f"gridtwin-{p['code']}-{p['method']}", res.vm_pu)
    return out


def _oltc_profiles(model: Any, n: int, factor: float) -> Any:
    """The first ``n`` steps with every load multiplied by ``factor``."""
    from gridtwin.network import Profiles

    prof = model.profiles
    frames = {
        name: frame.iloc[:n] * (factor if name.startswith("load") else 1.0)
        for name, frame in prof.frames().items()
        if frame.shape[1]
    }
    return Profiles.from_frames(prof.time_utc[:n], **frames)


def worker_oltc(p: dict[str, Any]) -> dict[str, Any]:
    """(f) SimBench's on-load tap changers (autoTap) regulated through the year, loads
    scaled so that they act: gridtwin's fixed point or pandapower's run_timeseries with
    DiscreteTapControl (first steps, extrapolated)."""
    from gridtwin.network import Controls, simulate, tap_controls_from_net

    warnings.simplefilter("ignore")
    model, _ = load_model(p["code"], p["cache_dir"])
    controls = tap_controls_from_net(model.net)
    n = p["steps"] or model.profiles.n_steps
    prof = _oltc_profiles(model, n, p["load_factor"])
    out: dict[str, Any] = {"engine": p["engine"], "steps": n, "controls": len(controls)}
    if p["engine"] == "gridtwin":
        simulate(
            model, _oltc_profiles(model, 96, p["load_factor"]), controls=Controls(taps=controls)
        )
        t, res = timed(lambda: simulate(model, prof, controls=Controls(taps=controls)), p["reps"])
        taps = res.trafo_tap_pos
        out.update(t)
        out["tap_operations"] = int(np.abs(np.diff(taps, axis=0)).sum())
        out["positions_used"] = sorted({int(x) for x in np.unique(taps)})
        out["vm_file"] = save_array(p["out_dir"], "oltc-gridtwin-vm", res.vm_pu[: p["compare"]])
        out["tap_file"] = save_array(p["out_dir"], "oltc-gridtwin-tap", taps[: p["compare"]])
        return out
    from pandapower.control import ConstControl, DiscreteTapControl
    from pandapower.timeseries import DFData, OutputWriter, run_timeseries

    net = model.copy_net()
    net.trafo.loc[[c.trafo for c in controls], "tap_changer_type"] = "Ratio"
    for c in controls:
        DiscreteTapControl(net, c.trafo, c.vm_lower_pu, c.vm_upper_pu, side=c.side)
    for name, frame in prof.frames().items():
        table, _, column = name.partition("_")
        data = frame.reset_index(drop=True)
        cols = [int(x) for x in data.columns]
        data.columns = cols
        ConstControl(
            net, table, column, element_index=cols, data_source=DFData(data), profile_name=cols
        )
    ow = OutputWriter(
        net,
        time_steps=range(n),
        output_path=None,
        log_variables=[("res_bus", "vm_pu"), ("trafo", "tap_pos")],
    )
    c0, t0 = time.process_time(), time.perf_counter()
    run_timeseries(net, time_steps=range(n), calculate_voltage_angles=True, verbose=False)
    out.update(wall_s=time.perf_counter() - t0, cpu_s=time.process_time() - c0)
    vm = _relabel(ow.output["res_bus.vm_pu"], net.bus.index).to_numpy()
    taps = ow.output["trafo.tap_pos"][[c.trafo for c in controls]].to_numpy()
    out["vm_file"] = save_array(p["out_dir"], "oltc-pandapower-vm", vm)
    out["tap_file"] = save_array(p["out_dir"], "oltc-pandapower-tap", taps)
    return out


WORKERS = {
    "gridtwin": worker_gridtwin,
    "pgm": worker_pgm,
    "pandapower": worker_pandapower,
    "big": worker_big,
    "oltc": worker_oltc,
}


def run_worker(
    name: str, params: dict[str, Any], timeout: float, threads: int = 1
) -> dict[str, Any]:
    """Run one engine of this script in a fresh subprocess (one thread by default)."""
    return _harness.run_worker(__file__, name, params, timeout, threads)


# ----------------------------------------------------------------------- orchestrator


def max_dvm(a_file: str, b_file: str) -> float:
    """Largest |vm_a - vm_b| [pu] over the common steps (buses without voltage skipped)."""
    a, b = np.load(a_file), np.load(b_file)
    n = min(len(a), len(b))
    d = np.abs(a[:n] - b[:n])
    return float(np.nanmax(d)) if np.isfinite(d).any() else float("nan")


def machine() -> dict[str, Any]:
    """Machine and versions for the results file."""
    return _harness.machine(("gridtwin", "pandapower", "power-grid-model", "simbench", "numba"))


def _row(label: str, value: str, target: str = "", status: str = "") -> str:
    return f"{label:<58} {value:>14} {target:>10}  {status}".rstrip()


def _status(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def grid_rows(label: str, r: dict[str, Any], lv: bool) -> list[str]:
    g, b, pp_ = r["gridtwin"], r["pgm"], r["pandapower"]
    n = g["steps"]
    year = n == YEAR_STEPS  # targets are judged on whole years only

    def status(ok: bool) -> str:
        return _status(ok) if year else ""

    rows = [f"[{label}] {g['code']}, {g['n_bus']} buses, {n:,} steps, one core"]
    for m in METHODS:
        if m not in g["methods"]:
            continue
        t = g["methods"][m]
        rows.append(
            _row(
                f"  gridtwin simulate {SHORT[m]} (full result, loadings)",
                f"{t['cpu_s']:.2f} s ({t['wall_s']:.2f})",
                f"< {TARGET_LV_YEAR_S:g} s" if lv else "",
                status(t["cpu_s"] < TARGET_LV_YEAR_S) if lv else "",
            )
        )
    for m in PGM_METHODS:
        if m in b["methods"]:
            t = b["methods"][m]
            rows.append(
                _row(
                    f"  bare power-grid-model {SHORT[m]} (one batch call)",
                    f"{t['cpu_s']:.2f} s ({t['wall_s']:.2f})",
                )
            )
    rows.append(
        _row(
            f"  pandapower run_timeseries ({pp_['extrapolated_from']} steps, extrapolated)",
            f"{pp_['year_s'] * n / YEAR_STEPS:.1f} s",
        )
    )
    for m in METHODS:
        if m not in g["methods"]:
            continue
        sp = r["speedup_vs_pandapower"][m]
        rows.append(
            _row(
                f"  speed-up gridtwin {SHORT[m]} vs pandapower",
                f"{sp:.0f}x",
                f">= {TARGET_SPEEDUP:g}x",
                status(sp >= TARGET_SPEEDUP),
            )
        )
    for m in METHODS:
        if m in r["ratio_vs_pgm"]:
            q = r["ratio_vs_pgm"][m]
            rows.append(
                _row(
                    f"  gridtwin / bare PGM time, {SHORT[m]} (same method)",
                    f"{q:.2f}",
                    "<= 1",
                    status(q <= 1.0),
                )
            )
    if "ratio_fp_vs_fastest_pgm" in r:
        q = r["ratio_fp_vs_fastest_pgm"]
        rows.append(
            _row(
                "  gridtwin FP (default) / fastest bare PGM method",
                f"{q:.2f}",
                "<= 1",
                status(q <= 1.0),
            )
        )
    for key, dv in r["max_dvm_vs_pandapower"].items():
        rows.append(
            _row(
                f"  max |dvm| {key} vs pandapower ({r['compared_steps']} steps)",
                f"{dv:.1e} pu",
                f"<= {TARGET_DVM_PU:g}",
                _status(dv <= TARGET_DVM_PU),
            )
        )
    return rows


def big_rows(r: dict[str, Any]) -> list[str]:
    y = r["year"]
    rows = [
        f"[big] {y['code']}, {y['n_bus']} buses, {y['n_load']} loads, {y['steps']:,} steps, 2 cores"
    ]
    load = y["load"]
    if "simbench_load_s" in load:
        rows.append(
            _row(
                "  loading grid + profiles from SimBench CSV (not timed below)",
                f"{load['simbench_load_s']:.0f} s",
            )
        )
    if "cache_load_s" in load:
        rows.append(
            _row("  loading from the cache (pickle + .npy)", f"{load['cache_load_s']:.1f} s")
        )
    ok = y["wall_s"] < TARGET_BIG_YEAR_S and y["steps"] == YEAR_STEPS
    rows.append(
        _row(
            f"  gridtwin streaming {SHORT[y['method']]} (summary, no Parquet), wall",
            f"{y['wall_s']:.1f} s",
            f"< {TARGET_BIG_YEAR_S:g} s",
            _status(ok),
        )
    )
    rows.append(_row("  ... CPU time (both cores)", f"{y['cpu_s']:.1f} s"))
    inc = (y["peak_rss_bytes"] or 0) - (y["rss_before_bytes"] or 0)
    rows.append(
        _row(
            f"  peak RSS (process; the input profiles alone {y['profile_bytes'] / 1e9:.1f} GB)",
            f"{y['peak_rss_bytes'] / 1e9:.2f} GB",
        )
    )
    rows.append(_row("  peak RSS increase during simulate (year)", f"{inc / 1e9:.2f} GB"))
    s = r.get("short")
    if s:
        inc_s = (s["peak_rss_bytes"] or 0) - (s["rss_before_bytes"] or 0)
        rows.append(
            _row(f"  peak RSS increase, {s['steps']:,} steps + Parquet", f"{inc_s / 1e9:.2f} GB")
        )
        rows.append(
            _row(
                f"  {s['steps']:,} steps with full results streamed to Parquet",
                f"{s['wall_s']:.1f} s",
                "",
                f"({s['parquet_rows'] / 1e6:.0f} M rows, {s['parquet_bytes'] / 1e9:.2f} GB)",
            )
        )
        rows.append(
            _row("  ... extrapolated to the year", f"{s['wall_s'] / s['steps'] * YEAR_STEPS:.0f} s")
        )
    rows.append(
        _row(
            "  retained statistics (year) / full T x n result would be",
            f"{y['retained_bytes'] / 1e6:.0f} MB",
            "",
            f"/ {y['full_result_bytes'] / 1e9:.0f} GB",
        )
    )
    if "pgm" in r:
        b = r["pgm"]
        pgm_method = next(iter(b["methods"]))
        m = b["methods"][pgm_method]
        rows.append(
            _row(
                f"  bare PGM {SHORT[pgm_method]}, 2 threads, {b['steps']:,} steps -> year",
                f"{m['wall_s'] / b['steps'] * YEAR_STEPS:.0f} s",
            )
        )
        rows.append(_row("  gridtwin / bare PGM time", f"{r['ratio_vs_pgm']:.2f}"))
    if "pandapower" in r:
        pp_ = r["pandapower"]
        rows.append(
            _row(
                f"  pandapower run_timeseries ({pp_['extrapolated_from']} steps) -> year, one core",
                f"{pp_['year_s']:.0f} s",
            )
        )
        rows.append(
            _row(
                "  speed-up gridtwin (2 cores) vs pandapower (1 core)",
                f"{pp_['year_s'] / y['wall_s']:.0f}x",
            )
        )
    if "max_dvm_vs_pandapower" in r:
        dv = r["max_dvm_vs_pandapower"]
        rows.append(
            _row(
                f"  max |dvm| gridtwin vs pandapower ({r['compared_steps']} steps)",
                f"{dv:.1e} pu",
                f"<= {TARGET_DVM_PU:g}",
                _status(dv <= TARGET_DVM_PU),
            )
        )
    return rows


def report(res: dict[str, Any]) -> str:
    rows = [
        _row("measure (CPU s per grid-year, wall in brackets)", "value", "target", "status"),
        "-" * 92,
    ]
    for label, r in res["grids"].items():
        rows += grid_rows(label, r, lv=label == "LV")
    if res.get("big"):
        rows += big_rows(res["big"])
    if res.get("oltc"):
        rows += oltc_rows(res["oltc"])
    return "\n".join(rows)


def oltc_rows(r: dict[str, Any]) -> list[str]:
    g, pp_ = r["gridtwin"], r["pandapower"]
    rows = [
        f"[OLTC] {r['code']}, loads x{r['load_factor']:g}, {g['controls']} tap controls "
        f"(SimBench autoTap), {g['steps']:,} steps, one core"
    ]
    rows.append(_row("  gridtwin FP with tap control", f"{g['cpu_s']:.2f} s ({g['wall_s']:.2f})"))
    rows.append(
        _row(
            f"  pandapower + DiscreteTapControl ({pp_['steps']} steps, extrapolated)",
            f"{r['pandapower_year_s']:.0f} s",
        )
    )
    rows.append(_row("  speed-up gridtwin vs pandapower", f"{r['speedup']:.0f}x"))
    rows.append(
        _row(
            f"  tap positions equal to pandapower ({pp_['steps']} steps)",
            "yes" if r["taps_equal"] else "no",
            "",
            _status(r["taps_equal"]),
        )
    )
    rows.append(
        _row(
            f"  max |dvm| vs pandapower ({pp_['steps']} steps)",
            f"{r['max_dvm']:.1e} pu",
            f"<= {TARGET_DVM_PU:g}",
            _status(r["max_dvm"] <= TARGET_DVM_PU),
        )
    )
    rows.append(
        _row("  tap operations over the steps (all transformers)", f"{g['tap_operations']}")
    )
    return rows


def bench_oltc(
    n: int | None, pp_steps: int, factor: float, cache_dir: str | None, out_dir: str, timeout: float
) -> dict[str, Any]:
    base = {
        "code": MV_CODE,
        "cache_dir": cache_dir,
        "out_dir": out_dir,
        "load_factor": factor,
        "compare": pp_steps,
        "reps": 1 if n else 3,
    }
    print(f"{MV_CODE}: gridtwin with tap control ...", flush=True)
    g = run_worker("oltc", {**base, "engine": "gridtwin", "steps": n}, timeout)
    print(f"{MV_CODE}: pandapower with DiscreteTapControl, {pp_steps} steps ...", flush=True)
    pp_ = run_worker("oltc", {**base, "engine": "pandapower", "steps": pp_steps}, timeout)
    year = pp_["cpu_s"] / pp_steps * g["steps"]
    taps_g, taps_p = np.load(g["tap_file"]), np.load(pp_["tap_file"])
    return {
        "code": MV_CODE,
        "load_factor": factor,
        "gridtwin": g,
        "pandapower": pp_,
        "pandapower_year_s": year,
        "speedup": year / g["cpu_s"],
        "taps_equal": bool(np.array_equal(taps_g[:pp_steps], taps_p)),
        "max_dvm": max_dvm(g["vm_file"], pp_["vm_file"]),
    }


def bench_grid(
    code: str,
    n: int | None,
    pp_steps: list[int],
    pp_reps: list[int],
    reps: int,
    cache_dir: str | None,
    out_dir: str,
    timeout: float,
) -> dict[str, Any]:
    compare = max(pp_steps)
    base = {
        "code": code,
        "steps": n,
        "cache_dir": cache_dir,
        "out_dir": out_dir,
        "compare": compare,
        "methods": list(METHODS),
        "reps": reps,
    }
    print(f"{code}: gridtwin ...", flush=True)
    g = run_worker("gridtwin", base, timeout)
    print(f"{code}: bare power-grid-model ...", flush=True)
    b = run_worker("pgm", {**base, "methods": list(PGM_METHODS), "threading": -1}, timeout)
    print(f"{code}: pandapower {pp_steps} steps ...", flush=True)
    pp_ = run_worker("pandapower", {**base, "steps_list": pp_steps, "reps_list": pp_reps}, timeout)
    n_steps = g["steps"]
    pp_time = pp_["year_s"] * n_steps / YEAR_STEPS
    out: dict[str, Any] = {
        "gridtwin": g,
        "pgm": b,
        "pandapower": pp_,
        "compared_steps": compare,
        "speedup_vs_pandapower": {},
        "ratio_vs_pgm": {},
        "max_dvm_vs_pandapower": {},
    }
    for m in METHODS:
        out["speedup_vs_pandapower"][m] = pp_time / g["methods"][m]["cpu_s"]
        out["max_dvm_vs_pandapower"][f"gridtwin {SHORT[m]}"] = max_dvm(
            g["methods"][m]["vm_file"], pp_["vm_file"]
        )
    for m in PGM_METHODS:
        out["ratio_vs_pgm"][m] = g["methods"][m]["cpu_s"] / b["methods"][m]["cpu_s"]
        out["max_dvm_vs_pandapower"][f"bare PGM {SHORT[m]}"] = max_dvm(
            b["methods"][m]["vm_file"], pp_["vm_file"]
        )
    fastest = min(b["methods"][m]["cpu_s"] for m in PGM_METHODS)
    out["ratio_fp_vs_fastest_pgm"] = g["methods"]["fixed_point"]["cpu_s"] / fastest
    return out


def bench_big(
    args: argparse.Namespace, cache_dir: str | None, out_dir: str, timeout: float
) -> dict[str, Any]:
    n = args.big_steps
    base = {
        "code": BIG_CODE,
        "cache_dir": cache_dir,
        "out_dir": out_dir,
        "method": args.big_method,
        "threading": 0,
    }
    cores = os.cpu_count() or 1
    print(f"{BIG_CODE}: gridtwin streaming, {n or YEAR_STEPS} steps ...", flush=True)
    y = run_worker(
        "big",
        {**base, "steps": n, "parquet": False, "compare": 96, "refresh": args.refresh_cache},
        timeout,
        threads=cores,
    )
    out: dict[str, Any] = {"year": y, "compared_steps": 96}
    short = min(args.big_short_steps, y["steps"])
    if short:
        print(f"{BIG_CODE}: gridtwin streaming {short} steps + Parquet ...", flush=True)
        out["short"] = run_worker(
            "big", {**base, "steps": short, "parquet": True, "compare": 0}, timeout, threads=cores
        )
    pgm_method = args.big_method if args.big_method in PGM_METHODS else "iterative_current"
    print(f"{BIG_CODE}: bare power-grid-model {short or 1344} steps, 2 threads ...", flush=True)
    out["pgm"] = run_worker(
        "pgm",
        {
            "code": BIG_CODE,
            "steps": short or 1344,
            "cache_dir": cache_dir,
            "out_dir": out_dir,
            "compare": 96,
            "methods": [pgm_method],
            "reps": 1,
            "threading": 0,
        },
        timeout,
    )
    b = out["pgm"]["methods"][pgm_method]
    out["ratio_vs_pgm"] = (y["wall_s"] / y["steps"]) / (b["wall_s"] / out["pgm"]["steps"])
    print(f"{BIG_CODE}: pandapower 96 steps ...", flush=True)
    out["pandapower"] = run_worker(
        "pandapower",
        {
            "code": BIG_CODE,
            "cache_dir": cache_dir,
            "out_dir": out_dir,
            "steps_list": [96],
            "reps_list": [1],
        },
        timeout,
    )
    out["max_dvm_vs_pandapower"] = max_dvm(y["vm_file"], out["pandapower"]["vm_file"])
    return out


def _strip_files(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_files(v) for k, v in obj.items() if k != "vm_file"}
    if isinstance(obj, list):
        return [_strip_files(v) for v in obj]
    return obj


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few hundred steps (smoke test)")
    ap.add_argument("--steps", type=int, help="steps for gridtwin and bare PGM (default: year)")
    ap.add_argument("--reps", type=int, help="repeats of each timed run (median)")
    ap.add_argument("--grids", default="LV,MV", help="LV and/or MV")
    ap.add_argument("--big", action="store_true", help="also the 9,099-bus MV+LV grid-year")
    ap.add_argument(
        "--oltc", action="store_true", help="also the MV grid-year with its tap changers regulated"
    )
    ap.add_argument(
        "--oltc-load-factor", type=float, default=3.0, help="load scaling of the OLTC run"
    )
    ap.add_argument("--big-steps", type=int, default=None, help="steps of the big run")
    ap.add_argument(
        "--big-short-steps",
        type=int,
        default=1344,
        help="steps of the big run with Parquet output (0 skips it)",
    )
    ap.add_argument("--big-method", default="fixed_point", choices=METHODS)
    ap.add_argument(
        "--cache-dir",
        default=None,
        help="SimBench cache (default: $XDG_CACHE_HOME/gridtwin/simbench)",
    )
    ap.add_argument("--no-cache", action="store_true", help="always load from SimBench CSV")
    ap.add_argument(
        "--refresh-cache",
        action="store_true",
        help="reload the big grid from SimBench CSV (timed) and rewrite its cache",
    )
    ap.add_argument(
        "--out", help="JSON result file (full runs default to bench/results/grid-<date>.json)"
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](json.loads(args.params))))
        return 0
    quick = args.quick
    n = args.steps or (384 if quick else None)
    reps = args.reps or (1 if quick else 3)
    pp_steps, pp_reps = ([96], [1]) if quick else ([96, 672], [3, 3])
    cache_dir = None if args.no_cache else (args.cache_dir or str(default_cache_dir()))
    codes = {"LV": LV_CODE, "MV": MV_CODE}
    res: dict[str, Any] = {
        "benchmark": "gridtwin simulate vs pandapower run_timeseries vs bare power-grid-model",
        "date": dt.date.today().isoformat(),
        "quick": quick,
        "machine": machine(),
        "targets": {
            "lv_year_s": TARGET_LV_YEAR_S,
            "speedup_vs_pandapower": TARGET_SPEEDUP,
            "big_year_s": TARGET_BIG_YEAR_S,
            "max_dvm_pu": TARGET_DVM_PU,
        },
        "grids": {},
    }
    timeout = 900 if quick else 3600
    with tempfile.TemporaryDirectory(prefix="bench-grid-") as out_dir:
        for label in [x.strip() for x in args.grids.split(",") if x.strip()]:
            res["grids"][label] = bench_grid(
                codes[label], n, pp_steps, pp_reps, reps, cache_dir, out_dir, timeout
            )
        if args.big:
            res["big"] = bench_big(args, cache_dir, out_dir, timeout)
        if args.oltc:
            res["oltc"] = bench_oltc(
                n, 96 if quick else 672, args.oltc_load_factor, cache_dir, out_dir, timeout
            )
        res = _strip_files(res)
    table = report(res)
    res["table"] = table.splitlines()
    print()
    print(table)
    out = args.out or (None if quick else str(RESULTS / f"grid-{res['date']}.json"))
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
