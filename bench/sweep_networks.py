"""Sweep of every network pandapower ships and every SimBench grid through gridtwin's CLI.

Each network is solved by pandapower (``runpp``: default options for convergence, then
``tolerance_mva=1e-10`` for the reference) in a worker subprocess, and run through the
real command line as a new user would::

    gridtwin network validate --net F --format json          (or --simbench CODE)
    gridtwin network simulate --net F --format json --output R.parquet [--steps A:B]

Every bus pandapower energised is compared (``vm_pu``, ``va_degree``) and the run is
classified ``match``, ``MISMATCH`` (a wrong answer that looks right), ``refused`` (also
simulate's exit 3: steps not converged),
``crash``, ``timeout``, ``out_of_scope`` (pandapower does not converge) or ``skipped``.
Networks: the functions of ``pandapower.networks`` callable without arguments (plus
``EXTRA_VARIANTS``), saved with ``to_json`` and solved as a snapshot; every SimBench code
on a few steps of its profiles (windows from the steps of the largest / smallest total
load). With ``--variants`` a net with gens is also run with each gen replaced by an sgen
at pandapower's solved p and q. bench/README.md ("Network sweep") has the details::

    python bench/sweep_networks.py --only pandapower       # ~1 h on the shared 2-core VM
    python bench/sweep_networks.py --only simbench --filter=-0-sw --exclude=-all-
    python bench/sweep_networks.py --merge a.json b.json --out c.json

Records are written as each network finishes; ``--append`` resumes a stopped run.
"""

from __future__ import annotations

# isort: off
import _harness  # first: pins every solver to one thread before numpy loads

# isort: on
import argparse
import concurrent.futures as cf
import datetime as dt
import inspect
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

#: Keyword variants run besides each function's defaults (name suffix from the kwargs).
EXTRA_VARIANTS: dict[str, list[dict[str, Any]]] = {
    "create_cigre_network_mv": [{"with_der": "pv_wind"}, {"with_der": "all"}],
    "mv_oberrhein": [{"scenario": "generation"}],
    "ieee_european_lv_asymmetric": [{"scenario": "off_peak_1"}],
}
#: Source text that marks a network function as fetching its data over the network.
DOWNLOAD_MARKERS = ("urlretrieve", "urlopen", "requests.get", "download(")
#: Exit codes the CLI documents: 0 ok, 1 validate found errors, 2 a refused input.
VALIDATE_EXITS = (0, 1, 2)
SIMULATE_EXITS = (0, 2, 3)  # 3: steps did not converge (their results are NaN)
TIGHT_TOLERANCE_MVA = 1e-10


def pandapower_cases() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The callable network functions of ``pandapower.networks`` (name, factory, kwargs)
    and the skipped ones with the reason."""
    import pandapower.networks as pn

    cases: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for name, fn in sorted(inspect.getmembers(pn, inspect.isfunction)):
        if not fn.__module__.startswith("pandapower.networks"):
            continue
        params = inspect.signature(fn).parameters.values()
        required = [
            p.name
            for p in params
            if p.default is inspect.Parameter.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if required:
            skipped.append({"name": name, "reason": f"needs argument(s) {', '.join(required)}"})
            continue
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError):
            source = ""
        if any(m in source for m in DOWNLOAD_MARKERS):
            skipped.append({"name": name, "reason": "downloads its data"})
            continue
        cases.append({"name": name, "factory": name, "kwargs": {}})
        for kwargs in EXTRA_VARIANTS.get(name, []):
            suffix = ",".join(f"{k}={v}" for k, v in kwargs.items())
            cases.append({"name": f"{name}({suffix})", "factory": name, "kwargs": kwargs})
    return cases, skipped


def simbench_codes() -> list[str]:
    """Every SimBench code the installed wheel knows."""
    import simbench as sb

    return list(sb.collect_all_simbench_codes())


def select(names: list[str], filters: list[str], excludes: list[str]) -> list[str]:
    """Names containing any of ``filters`` (all without) and none of ``excludes``."""
    keep = [n for n in names if not filters or any(f in n for f in filters)]
    return [n for n in keep if not any(x in n for x in excludes)]


def _runpp(net: Any) -> tuple[bool, str | None]:
    """pandapower ``runpp`` with default options: converged, error text."""
    import pandapower as pp

    try:
        pp.runpp(net)
    except Exception as exc:  # LoadflowNotConverged and whatever a foreign net raises
        return False, f"{type(exc).__name__}: {str(exc)[:300]}"
    return bool(net.converged), None


def _reference(net: Any, start: Any = None) -> dict[str, Any]:
    """Run pandapower on ``net`` (default options, then ``tolerance_mva=1e-10``); the bus
    voltages of the tightest converged run (``net`` keeps that run's results). Where the
    default run fails and ``start`` (a ``res_bus`` frame) is given, pandapower starts from
    it (``init="results"``): the gen variant starts from the original net's solution."""
    import copy

    import pandapower as pp

    converged, error = _runpp(net)
    out: dict[str, Any] = {"pp_converged": converged, "pp_error": error, "tolerance": None}
    init = "auto"
    if not converged and start is not None:
        net.res_bus = start.copy()
        try:
            pp.runpp(net, init="results")
            converged = out["pp_converged"] = bool(net.converged)
            init = out["pp_init"] = "results"
        except Exception:  # the default run's error stays the reason
            pass
    if not converged:
        return out
    out["tolerance"] = "default"
    tight = copy.deepcopy(net)
    try:
        pp.runpp(tight, tolerance_mva=TIGHT_TOLERANCE_MVA, init=init)
        if tight.converged:
            for table in ("res_bus", "res_gen", "res_ext_grid"):
                net[table] = tight[table]
            out["tolerance"] = f"{TIGHT_TOLERANCE_MVA:g} MVA"
    except Exception:  # the default run's results stay the reference
        pass
    res = net.res_bus
    out["bus"] = [int(i) for i in res.index]
    out["vm_pu"] = [float(v) for v in res.vm_pu.to_numpy()]
    out["va_degree"] = [float(v) for v in res.va_degree.to_numpy()]
    return out


def gen_as_sgen(net: Any) -> Any | None:
    """A copy of a solved net with each in-service gen replaced by an sgen at the p and q
    pandapower solved (a slack gen by an ext_grid at its solved voltage); None without
    in-service gens."""
    import copy

    import pandapower as pp

    gens = net.gen[net.gen.in_service.astype(bool)] if "gen" in net else None
    if gens is None or gens.empty:
        return None
    out = copy.deepcopy(net)
    for g, row in gens.iterrows():
        bus = int(row.bus)
        if bool(row.get("slack", False)):
            pp.create_ext_grid(
                out,
                bus,
                vm_pu=float(net.res_bus.vm_pu.at[bus]),
                va_degree=float(net.res_bus.va_degree.at[bus]),
                name=f"slack gen {g}",
            )
            continue
        pp.create_sgen(
            out,
            bus,
            p_mw=float(net.res_gen.p_mw.at[g]),
            q_mvar=float(net.res_gen.q_mvar.at[g]),
            name=f"gen {g}",
        )
    out.gen = out.gen.drop(index=gens.index)
    for table in [t for t in out if isinstance(t, str) and t.startswith("res_")]:
        out[table] = out[table].iloc[0:0]
    return out


def _variant(net: Any, workdir: Path) -> dict[str, Any] | None:
    """Save the gen-as-sgen variant of a solved net and solve it with pandapower."""
    import numpy as np
    import pandapower as pp

    var = gen_as_sgen(net)
    if var is None:
        return None
    path = workdir / "variant.json"
    pp.to_json(var, str(path))
    ref = _reference(var, start=net.res_bus[["vm_pu", "va_degree", "p_mw", "q_mvar"]])
    out: dict[str, Any] = {"net_file": str(path), "ref": ref, "gens": len(net.gen)}
    if ref["pp_converged"]:
        orig = net.res_bus.vm_pu.reindex(ref["bus"]).to_numpy()
        diff = np.abs(np.asarray(ref["vm_pu"]) - orig)
        out["dvm_vs_original_pp"] = float(np.nanmax(diff)) if np.isfinite(diff).any() else None
    return out


def worker_pandapower(params: dict[str, Any]) -> dict[str, Any]:
    """Build one ``pandapower.networks`` net, save it, solve it (and its gen variant)."""
    import pandapower as pp
    import pandapower.networks as pn

    workdir = Path(params["workdir"])
    t0 = time.perf_counter()
    try:
        net = getattr(pn, params["factory"])(**params["kwargs"])
    except Exception as exc:
        return {"build_error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    path = workdir / "net.json"
    pp.to_json(net, str(path))
    ref = _reference(net)
    out: dict[str, Any] = {
        "net_file": str(path),
        "buses": len(net.bus),
        "in_service_gens": int(net.gen.in_service.astype(bool).sum()) if "gen" in net else 0,
        "ref": ref,
    }
    if params["variants"] and ref["pp_converged"]:
        out["variant"] = _variant(net, workdir)
    out["seconds"] = time.perf_counter() - t0
    (workdir / "ref.json").write_text(json.dumps(out), encoding="utf-8")
    return {"ref_file": str(workdir / "ref.json")}


def pick_windows(total_load: Any, anchors: list[str], width: int) -> list[list[int]]:
    """Step windows ``[start, end)`` of ``width`` steps from each anchor (the step of the
    largest / smallest total load, or ``first``), merged where they overlap."""
    import numpy as np

    n = len(total_load)
    starts = []
    for anchor in anchors:
        pos = {"maxload": np.argmax, "minload": np.argmin}.get(anchor)
        start = int(pos(total_load)) if pos is not None else 0
        starts.append(max(0, min(start, n - width)))
    windows: list[list[int]] = []
    for s in sorted(set(starts)):
        if windows and s <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], min(s + width, n))
        else:
            windows.append([s, min(s + width, n)])
    return windows


def worker_simbench(params: dict[str, Any]) -> dict[str, Any]:
    """Load one SimBench grid with its profiles; pick the steps; solve them with
    pandapower (profile values written into the net) and save the gen variant."""
    import copy

    import numpy as np
    import simbench as sb

    workdir = Path(params["workdir"])
    t0 = time.perf_counter()
    net = sb.get_simbench_net(params["code"])
    prof = sb.get_absolute_values(net, profiles_instead_of_study_cases=True)
    load_s = time.perf_counter() - t0
    frames = {key: df for key, df in prof.items() if df.shape[1] > 0}
    lp = frames.get(("load", "p_mw"))
    if lp is None:
        total = np.zeros(1)
    else:
        live = net.load.loc[lp.columns]
        weight = (live.scaling * live.in_service.astype(float)).to_numpy()
        total = lp.to_numpy() @ weight
    windows = pick_windows(total, params["anchors"], params["width"])
    refs: dict[str, Any] = {}
    variant = None
    for start, end in windows:
        for step in range(start, end):
            snap = copy.deepcopy(net)
            for (table, col), df in frames.items():
                snap[table].loc[df.columns, col] = df.iloc[step].to_numpy()
            refs[str(step)] = _reference(snap)
            if params["variants"] and variant is None and refs[str(step)]["pp_converged"]:
                variant = _variant(snap, workdir)
                if variant is not None:
                    variant["step"] = step
    out = {
        "buses": len(net.bus),
        "in_service_gens": int(net.gen.in_service.astype(bool).sum()),
        "steps_in_profiles": len(total),
        "windows": windows,
        "refs": refs,
        "variant": variant,
        "load_s": load_s,
        "seconds": time.perf_counter() - t0,
    }
    (workdir / "ref.json").write_text(json.dumps(out), encoding="utf-8")
    return {"ref_file": str(workdir / "ref.json")}


WORKERS = {"pandapower": worker_pandapower, "simbench": worker_simbench}


class Budget:
    """The time left of one network's ``--timeout`` [s]."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()


def run_proc(cmd: list[str], budget: Budget) -> dict[str, Any]:
    """Run ``cmd``; exit code, output, seconds; ``timeout`` when the budget runs out."""
    left = budget.left()
    t0 = time.perf_counter()
    if left <= 0:
        return {"exit": None, "timeout": True, "stdout": "", "stderr": "", "seconds": 0.0}
    env = dict(os.environ, _TYPER_STANDARD_TRACEBACK="1", NO_COLOR="1", COLUMNS="200")
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=left, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        return {
            "exit": None,
            "timeout": True,
            "stdout": _text(exc.stdout),
            "stderr": _text(exc.stderr),
            "seconds": time.perf_counter() - t0,
        }
    return {
        "exit": proc.returncode,
        "timeout": False,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "seconds": time.perf_counter() - t0,
    }


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def gridtwin_cmd() -> list[str]:
    """The installed ``gridtwin`` console script beside this interpreter (else ``-m``)."""
    script = Path(sys.executable).with_name("gridtwin")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gridtwin"]


def run_worker(kind: str, params: dict[str, Any], budget: Budget) -> dict[str, Any]:
    """This script's pandapower worker in a subprocess; its result (or what went wrong)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind]
    cmd += ["--params", json.dumps(params)]
    proc = run_proc(cmd, budget)
    if proc["timeout"]:
        return {"timeout": True, "seconds": proc["seconds"]}
    if proc["exit"] != 0:
        return {"worker_error": _last_line(proc["stderr"]), "seconds": proc["seconds"]}
    line = json.loads(proc["stdout"].strip().splitlines()[-1])
    if "ref_file" not in line:
        return {**line, "seconds": proc["seconds"]}
    ref = json.loads(Path(line["ref_file"]).read_text(encoding="utf-8"))
    return {**ref, "worker_s": proc["seconds"]}


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:500] if lines else ""


def normalise(message: str) -> str:
    """A refusal message reduced to a reason key: its first clause, numbers and paths out."""
    text = message.strip().splitlines()[0] if message.strip() else ""
    text = re.sub(r"\S+\.(json|parquet)\b:?", "<file>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d[T ][\d:.]+([+-]\d\d:\d\d|Z)?", "<time>", text)
    text = re.sub(r"'[^']*'", "'..'", text)
    text = re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "N", text)
    text = text.split(";")[0].strip()
    return text[:110]


def validate_outcome(proc: dict[str, Any]) -> dict[str, Any]:
    """validate's exit, its errors (table, column, message) and reason keys."""
    out: dict[str, Any] = {"exit": proc["exit"], "seconds": round(proc["seconds"], 2)}
    if proc["timeout"]:
        return {**out, "timeout": True}
    if _is_crash(proc, VALIDATE_EXITS):
        return {**out, "crash": _crash_text(proc)}
    if proc["exit"] == 2:
        msg = _error_text(proc["stdout"] + proc["stderr"])
        return {**out, "message": msg, "reasons": [f"load: {normalise(msg)}"]}
    try:
        items = json.loads(proc["stdout"])
    except json.JSONDecodeError:
        return {**out, "crash": "validate --format json printed no JSON"}
    errors = [i for i in items if i["severity"] == "error"]
    out["n_errors"] = len(errors)
    out["n_warnings"] = len(items) - len(errors)
    out["errors"] = [f"{i['table']}[{i['index']}].{i['column']}: {i['message']}" for i in errors][
        :20
    ]
    reasons = {f"{i['table']}.{i['column'] or '-'}: {normalise(i['message'])}" for i in errors}
    out["reasons"] = sorted(reasons)
    if (proc["exit"] == 1) != bool(errors):
        out["crash"] = f"validate exit {proc['exit']} with {len(errors)} error(s) in its JSON"
    return out


def _is_crash(proc: dict[str, Any], exits: tuple[int, ...]) -> bool:
    return proc["exit"] not in exits or "Traceback (most recent call last)" in (
        proc["stdout"] + proc["stderr"]
    )


def _crash_text(proc: dict[str, Any]) -> str:
    return f"exit {proc['exit']}: {_last_line(proc['stderr']) or _last_line(proc['stdout'])}"


def _error_text(text: str) -> str:
    """The CLI's one-line ``error: ...`` message (with the lines it continues on)."""
    idx = text.find("error:")
    return text[idx + len("error:") :].strip()[:1500] if idx >= 0 else text.strip()[:1500]


def read_bus_results(path: Path) -> dict[str, Any]:
    """Bus vm/va per step (in time order) and each step's converged flag from the Parquet."""
    import numpy as np
    import pandas as pd

    df = pd.read_parquet(path)
    df["element"] = df["element"].astype(str)
    df["quantity"] = df["quantity"].astype(str)
    times = sorted(df["time_utc"].unique())
    bus = df[df["element"] == "bus"]
    out: dict[str, Any] = {"steps": len(times), "vm": [], "va": [], "converged": []}
    conv = df[(df["element"] == "network") & (df["quantity"] == "converged")]
    conv_by_time = dict(zip(conv["time_utc"], conv["value"], strict=False))
    for t in times:
        at = bus[bus["time_utc"] == t]
        for q, key in (("vm_pu", "vm"), ("va_degree", "va")):
            sel = at[at["quantity"] == q]
            out[key].append(dict(zip(sel["element_id"].astype(int), sel["value"], strict=False)))
        out["converged"].append(bool(conv_by_time.get(t, np.nan) == 1.0))
    return out


def compare(
    ref: dict[str, Any], got_vm: dict[int, float], got_va: dict[int, float]
) -> dict[str, Any]:
    """max |dvm| [pu] and |dva| [degree] over the buses pandapower energised; buses
    pandapower solved but gridtwin left NaN/absent count as ``missing`` (|dvm| = inf)."""
    dvm = dva = 0.0
    missing = compared = 0
    for bus, vm, va in zip(ref["bus"], ref["vm_pu"], ref["va_degree"], strict=True):
        if not math.isfinite(vm):
            continue
        compared += 1
        g = got_vm.get(bus, math.nan)
        if not math.isfinite(g):
            missing += 1
            continue
        dvm = max(dvm, abs(g - vm))
        ga = got_va.get(bus, math.nan)
        if math.isfinite(va) and math.isfinite(ga):
            dva = max(dva, abs((ga - va + 180.0) % 360.0 - 180.0))
    return {
        "max_dvm_pu": math.inf if missing else dvm,
        "max_dva_degree": dva,
        "compared_buses": compared,
        "missing_buses": missing,
    }


def simulate_outcome(
    proc: dict[str, Any], parquet: Path, refs: list[dict[str, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    """simulate's exit and, when it solved, the comparison step by step with ``refs``."""
    out: dict[str, Any] = {"exit": proc["exit"], "seconds": round(proc["seconds"], 2)}
    if proc["timeout"]:
        return {**out, "timeout": True}
    if _is_crash(proc, SIMULATE_EXITS):
        return {**out, "crash": _crash_text(proc)}
    if proc["exit"] == 2:
        msg = _error_text(proc["stdout"] + proc["stderr"])
        return {**out, "message": msg, "reason": normalise(msg)}
    try:
        notes = json.loads(proc["stdout"]).get("notes", [])
        got = read_bus_results(parquet)
    except (OSError, ValueError) as exc:
        return {**out, "crash": f"simulate exit 0 but its output is unreadable: {exc}"}
    out["notes"] = notes
    if got["steps"] != len(refs):
        return {**out, "crash": f"{got['steps']} step(s) in the Parquet, {len(refs)} asked"}
    cmp_steps = []
    for k, ref in enumerate(refs):
        if not got["converged"][k]:
            cmp_steps.append({"converged": False})
            continue
        if not ref["pp_converged"]:  # nothing to compare with
            cmp_steps.append({"converged": True, "pp_converged": False})
            continue
        ref = _injected(ref, args.inject_error_pu)
        cmp_steps.append({"converged": True, **compare(ref, got["vm"][k], got["va"][k])})
    out["steps"] = cmp_steps
    return out


def _injected(ref: dict[str, Any], error_pu: float) -> dict[str, Any]:
    """The reference with ``error_pu`` added at its first energised bus (a self-check that
    a wrong answer is classified MISMATCH)."""
    if not error_pu:
        return ref
    vm = list(ref["vm_pu"])
    k = next((i for i, v in enumerate(vm) if math.isfinite(v)), None)
    if k is not None:
        vm[k] += error_pu
    return {**ref, "vm_pu": vm}


def run_cli(
    rec: dict[str, Any],
    source: list[str],
    windows: list[list[int] | None],
    refs: list[list[dict[str, Any]]],
    budget: Budget,
    workdir: Path,
    args: argparse.Namespace,
) -> None:
    """``validate`` once and ``simulate`` per step window of one network; fill ``rec``."""
    cli = [*gridtwin_cmd(), "network"]
    rec["validate"] = validate_outcome(
        run_proc([*cli, "validate", *source, "--format", "json"], budget)
    )
    rec["simulate"] = []
    for k, (window, window_refs) in enumerate(zip(windows, refs, strict=True)):
        parquet = workdir / f"result-{k}.parquet"
        cmd = [*cli, "simulate", *source, "--format", "json", "--output", str(parquet)]
        if window is not None:
            cmd += ["--steps", f"{window[0]}:{window[1]}"]
        sim = simulate_outcome(run_proc(cmd, budget), parquet, window_refs, args)
        sim["window"] = window
        rec["simulate"].append(sim)
        if "steps" not in sim:  # refused, crashed or timed out: other windows would repeat it
            break
    classify(rec, args)


def _worst(sims: list[dict[str, Any]], key: str) -> float | None:
    values = [
        s[key]
        for sim in sims
        for s in sim.get("steps", [])
        if s.get("converged") and s.get(key) is not None
    ]
    return max(values) if values else None


def gridtwin_outcome(rec: dict[str, Any], args: argparse.Namespace) -> tuple[str, list[str]]:
    """What gridtwin did with one network: class and reasons."""
    val, sims = rec["validate"], rec["simulate"]
    crashes = [f"validate {val['crash']}"] if "crash" in val else []
    crashes += [f"simulate {s['crash']}" for s in sims if "crash" in s]
    if crashes:
        return "crash", crashes
    if val.get("timeout") or any(s.get("timeout") for s in sims):
        return "timeout", ["time budget exhausted"]
    dvm, dva = _worst(sims, "max_dvm_pu"), _worst(sims, "max_dva_degree")
    if (dvm is not None and dvm > args.tol_pu) or (dva is not None and dva > args.tol_va_deg):
        return "MISMATCH", [f"max |dvm| {dvm:.3g} pu, max |dva| {dva:.3g} degree"]
    reasons: list[str] = list(val.get("reasons", []))
    for sim in sims:
        if "reason" in sim and not reasons:
            reasons.append(f"simulate: {sim['reason']}")
        failed = [s for s in sim.get("steps", []) if not s.get("converged", True)]
        if failed:
            note = normalise(" ".join(sim.get("notes", [])[-1:]))
            reasons.append(f"not converged ({len(failed)} step(s)): {note}")
    if reasons:
        return "refused", reasons
    if not any(s.get("steps") for s in sims):
        return "crash", ["simulate solved nothing and said nothing"]
    return "match", []


def classify(rec: dict[str, Any], args: argparse.Namespace) -> None:
    """Set ``class``, ``reasons``, the worst deviations and validate/simulate agreement."""
    outcome, reasons = gridtwin_outcome(rec, args)
    rec["max_dvm_pu"] = _worst(rec["simulate"], "max_dvm_pu")
    rec["max_dva_degree"] = _worst(rec["simulate"], "max_dva_degree")
    rec["gridtwin_outcome"] = outcome
    rec["class"] = outcome if rec["pp_converged"] else "out_of_scope"
    rec["reasons"] = reasons
    val, sims = rec["validate"], rec["simulate"]
    validate_refuses = val.get("exit") in (1, 2) and "crash" not in val
    solved = any(s.get("exit") == 0 and s.get("steps") for s in sims)
    rec.pop("disagreement", None)
    if validate_refuses and solved:
        rec["disagreement"] = "validate refuses, simulate solves"
    elif val.get("exit") == 0 and sims and sims[0].get("exit") == 2:
        rec["disagreement"] = "validate passes, simulate refuses"
    elif val.get("exit") == 1 and sims and "message" in sims[0]:
        differ = differing_errors(val, sims[0]["message"])
        if differ:
            rec["disagreement"] = f"validate and simulate name different errors: {differ}"


def differing_errors(val: dict[str, Any], message: str) -> str | None:
    """The elements only validate or only simulate calls wrong (``table[index]``), when
    both lists are complete in the record; None when they agree or cannot be compared."""
    listed = re.findall(r"^\s+(\w+\[\d+\]):", message, flags=re.MULTILINE)
    count = re.search(r"has (\d+) error\(s\)", message)
    errors = val.get("errors", [])
    if not count or int(count.group(1)) != len(listed) or len(errors) != val.get("n_errors"):
        return None
    from_validate = {e.split(".", 1)[0].split(":", 1)[0] for e in errors}
    only_v, only_s = sorted(from_validate - set(listed)), sorted(set(listed) - from_validate)
    if not only_v and not only_s:
        return None
    return f"validate only {', '.join(only_v) or '-'}; simulate only {', '.join(only_s) or '-'}"


def _base_record(name: str, source: str) -> dict[str, Any]:
    return {"name": name, "source": source, "buses": None, "pp_converged": False}


def _reference_failed(rec: dict[str, Any], w: dict[str, Any]) -> bool:
    """Fill ``rec`` when the pandapower side could not give a reference."""
    if w.get("timeout"):
        rec.update({"class": "timeout", "reasons": ["pandapower side: time budget exhausted"]})
    elif "build_error" in w:
        rec.update({"class": "skipped", "reasons": [f"cannot build: {w['build_error']}"]})
    elif "worker_error" in w:
        rec.update({"class": "skipped", "reasons": [f"pandapower side: {w['worker_error']}"]})
    else:
        return False
    return True


def _ref_fields(rec: dict[str, Any], ref: dict[str, Any]) -> None:
    rec["pp_converged"] = ref["pp_converged"]
    rec["pp_error"] = ref["pp_error"]
    rec["reference_tolerance"] = ref["tolerance"]


def _variant_record(
    name: str, source: str, variant: dict[str, Any], args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    """Run the gen-as-sgen variant of a net through the CLI."""
    t0 = time.perf_counter()
    rec = _base_record(name, source)
    rec["buses"] = len(variant["ref"].get("bus", []))
    rec["gens_replaced"] = variant["gens"]
    rec["variant_pp_dvm_vs_original"] = variant.get("dvm_vs_original_pp")
    _ref_fields(rec, variant["ref"])
    budget = Budget(args.timeout)
    run_cli(rec, ["--net", variant["net_file"]], [None], [[variant["ref"]]], budget, workdir, args)
    rec["seconds"] = {"cli": round(time.perf_counter() - t0, 2)}
    return rec


def sweep_pandapower(case: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    """One ``pandapower.networks`` net (and its gen variant): records."""
    t0 = time.perf_counter()
    rec = _base_record(case["name"], "pandapower")
    workdir = Path(tempfile.mkdtemp(prefix="sweep-", dir=args.work_dir))
    try:
        budget = Budget(args.timeout)
        params = {**case, "workdir": str(workdir), "variants": args.variants}
        w = run_worker("pandapower", params, budget)
        if _reference_failed(rec, w):
            return [rec]
        rec["buses"], rec["in_service_gens"] = w["buses"], w["in_service_gens"]
        _ref_fields(rec, w["ref"])
        t_ref = time.perf_counter() - t0
        run_cli(rec, ["--net", w["net_file"]], [None], [[w["ref"]]], budget, workdir, args)
        rec["seconds"] = {"reference": round(t_ref, 2), "total": 0.0}
        records = [rec]
        if w.get("variant"):
            name = f"{case['name']} [gen-as-sgen]"
            records.append(
                _variant_record(name, "pandapower:gen-as-sgen", w["variant"], args, workdir)
            )
        rec["seconds"]["total"] = round(time.perf_counter() - t0, 2)
        return records
    finally:
        if not args.keep_files:
            shutil.rmtree(workdir, ignore_errors=True)


def sweep_simbench(code: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """One SimBench grid on its chosen steps (and its gen variant at one step): records."""
    t0 = time.perf_counter()
    rec = _base_record(code, "simbench")
    workdir = Path(tempfile.mkdtemp(prefix="sweep-", dir=args.work_dir))
    try:
        budget = Budget(args.timeout)
        params = {
            "code": code,
            "workdir": str(workdir),
            "variants": args.variants,
            "anchors": args.simbench_windows.split(","),
            "width": args.simbench_width,
        }
        w = run_worker("simbench", params, budget)
        if _reference_failed(rec, w):
            return [rec]
        windows: list[list[int] | None] = list(w["windows"])
        refs = [[w["refs"][str(s)] for s in range(a, b)] for a, b in w["windows"]]
        flat = [r for rs in refs for r in rs]
        rec.update({"buses": w["buses"], "in_service_gens": w["in_service_gens"]})
        rec["steps"] = [s for a, b in w["windows"] for s in range(a, b)]
        rec["pp_converged"] = any(r["pp_converged"] for r in flat)
        rec["pp_failed_steps"] = [
            s for s, r in zip(rec["steps"], flat, strict=True) if not r["pp_converged"]
        ]
        rec["reference_tolerance"] = sorted({str(r["tolerance"]) for r in flat})
        t_ref = time.perf_counter() - t0
        run_cli(rec, ["--simbench", code], windows, refs, budget, workdir, args)
        rec["seconds"] = {"reference": round(t_ref, 2), "load": round(w["load_s"], 2)}
        records = [rec]
        if w.get("variant"):
            name = f"{code} [gen-as-sgen @{w['variant']['step']}]"
            records.append(
                _variant_record(name, "simbench:gen-as-sgen", w["variant"], args, workdir)
            )
        rec["seconds"]["total"] = round(time.perf_counter() - t0, 2)
        return records
    finally:
        if not args.keep_files:
            shutil.rmtree(workdir, ignore_errors=True)


CLASSES = ("match", "MISMATCH", "refused", "crash", "timeout", "out_of_scope", "skipped")


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by source and class, refusal reasons, and the cases to fix."""
    by_source: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    for rec in records:
        by_source[rec["source"]][rec["class"]] += 1
        if rec["class"] in ("refused", "skipped"):
            for reason in rec.get("reasons", []):
                reasons[rec["source"]][reason] += 1

    def pick(cond: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": r["name"],
                "class": r["class"],
                "max_dvm_pu": r.get("max_dvm_pu"),
                "reasons": r.get("reasons", []),
                "disagreement": r.get("disagreement"),
                "validate_errors": r.get("validate", {}).get("errors", [])[:3],
                "simulate_message": next(
                    (s["message"][:600] for s in r.get("simulate", []) if "message" in s), None
                ),
            }
            for r in records
            if cond(r)
        ]

    return {
        "counts": {src: dict(c) for src, c in sorted(by_source.items())},
        "refusal_reasons": {src: dict(c.most_common()) for src, c in sorted(reasons.items())},
        "mismatch": pick(lambda r: r["class"] == "MISMATCH"),
        "crash": pick(lambda r: r["class"] == "crash" or r.get("gridtwin_outcome") == "crash"),
        "timeout": pick(lambda r: r["class"] == "timeout"),
        "disagreement": pick(lambda r: r.get("disagreement")),
        "out_of_scope": pick(lambda r: r["class"] == "out_of_scope"),
        "not_converged": pick(
            lambda r: (
                r["class"] == "refused"
                and any(x.startswith("not converged") for x in r.get("reasons", []))
            )
        ),
    }


def report(summary: dict[str, Any], skipped_functions: list[dict[str, Any]]) -> str:
    """The printed summary: counts, reasons, the lists to fix."""
    lines = ["", "Sweep of networks through gridtwin's CLI", ""]
    header = f"{'source':26}" + "".join(f"{c:>13}" for c in CLASSES) + f"{'total':>8}"
    lines += [header, "-" * len(header)]
    for src, counts in summary["counts"].items():
        row = f"{src:26}" + "".join(f"{counts.get(c, 0):>13}" for c in CLASSES)
        lines.append(row + f"{sum(counts.values()):>8}")
    for src, reasons in summary["refusal_reasons"].items():
        lines += [
            "",
            f"refused / skipped by reason ({src}; a net counts under each of its reasons):",
        ]
        lines += [f"  {n:4}  {reason}" for reason, n in reasons.items()]
    titles = {
        "mismatch": "!!! MISMATCH: gridtwin answered, and wrongly !!!",
        "crash": "crash (traceback or undocumented exit)",
        "timeout": "timeout",
        "disagreement": "validate and simulate disagree",
        "out_of_scope": "out of scope: pandapower runpp does not converge",
        "not_converged": "gridtwin reports steps not converged where pandapower converged",
    }
    for key, title in titles.items():
        if summary[key]:
            lines += ["", f"{title}: {len(summary[key])}"]
            for item in summary[key]:
                what = item["disagreement"] if key == "disagreement" else "; ".join(item["reasons"])
                dvm = item["max_dvm_pu"]
                lines.append(
                    f"  {item['name']}: {what[:300]}" + (f" (dvm {dvm:.3g})" if dvm else "")
                )
    if skipped_functions:
        lines += ["", "pandapower.networks functions not called:"]
        lines += [f"  {s['name']}: {s['reason']}" for s in skipped_functions]
    return "\n".join(lines)


def _print_record(rec: dict[str, Any]) -> None:
    dvm = rec.get("max_dvm_pu")
    secs = rec.get("seconds", {}).get("total") or rec.get("seconds", {}).get("cli") or 0.0
    flag = "!!! " if rec["class"] == "MISMATCH" else ""
    reason = "; ".join(rec.get("reasons", []))[:100]
    dvm_text = f"{dvm:9.2e}" if dvm is not None else " " * 9
    print(
        f"{flag}{rec['class']:12} {rec['name'][:48]:48} {dvm_text} {secs:7.1f}s  {reason}",
        flush=True,
    )


def _jobs(args: argparse.Namespace) -> tuple[list[tuple[str, Any]], list[dict[str, Any]]]:
    """The networks to run (kind, case) and the pandapower functions skipped."""
    jobs: list[tuple[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    if args.only in (None, "pandapower"):
        cases, skipped = pandapower_cases()
        names = set(select([c["name"] for c in cases], args.filter, args.exclude))
        jobs += [("pandapower", c) for c in cases if c["name"] in names]
    if args.only in (None, "simbench"):
        jobs += [("simbench", c) for c in select(simbench_codes(), args.filter, args.exclude)]
    return jobs, skipped


#: Command-line options: flag, argparse settings (help text last).
OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("--only", {"choices": ("pandapower", "simbench"), "help": "one source only"}),
    ("--filter", {"action": "append", "default": [], "help": "names containing SUBSTR"}),
    ("--exclude", {"action": "append", "default": [], "help": "drop names with SUBSTR"}),
    ("--timeout", {"type": float, "default": 900.0, "help": "seconds per network"}),
    ("--jobs", {"type": int, "default": 1, "help": "networks at a time"}),
    ("--variants", {"action": argparse.BooleanOptionalAction, "default": True,
                    "help": "also run nets with gens replaced by sgens at pandapower's p, q"}),
    ("--simbench-windows", {"default": "maxload,minload",
                            "help": "window starts: maxload, minload and/or first"}),
    ("--simbench-width", {"type": int, "default": 2, "help": "steps per window"}),
    ("--tol-pu", {"type": float, "default": 1e-6, "help": "largest |dvm| of a match [pu]"}),
    ("--tol-va-deg", {"type": float, "default": 1e-4, "help": "largest |dva| [degree]"}),
    ("--out", {"help": "JSON file (default bench/results/sweep-networks-<date>.json)"}),
    ("--append", {"action": "store_true", "help": "keep --out's records, skip their nets"}),
    ("--list", {"action": "store_true", "help": "list the networks and exit"}),
    ("--work-dir", {"default": None, "help": "where the temporary files go"}),
    ("--keep-files", {"action": "store_true", "help": "keep the temporary files"}),
    ("--inject-error-pu", {"type": float, "default": 0.0,
                           "help": "self-check: add this to pandapower's vm at one bus"}),
    ("--merge", {"nargs": "+", "metavar": "FILE",
                 "help": "join result files into --out, re-classified; later files win"}),
    ("--worker", {"help": argparse.SUPPRESS}),
    ("--params", {"help": argparse.SUPPRESS}),
]  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    for flag, kwargs in OPTIONS:
        ap.add_argument(flag, **kwargs)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](json.loads(args.params))))
        return 0
    if args.merge:
        return merge(args)
    if args.work_dir is not None:
        Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    jobs, skipped = _jobs(args)
    if args.list:
        for kind, case in jobs:
            print(kind, case["name"] if isinstance(case, dict) else case)
        for s in skipped:
            print("skipped", s["name"], "-", s["reason"])
        return 0
    date = dt.date.today().isoformat()
    out = Path(args.out or RESULTS / f"sweep-networks-{date}.json")
    res: dict[str, Any] = {"records": []}
    if args.append and out.exists():
        res = json.loads(out.read_text(encoding="utf-8"))
        done = {r["name"] for r in res["records"]}
        jobs = [(k, c) for k, c in jobs if (c["name"] if isinstance(c, dict) else c) not in done]
    res.update(
        {
            "benchmark": "sweep of pandapower.networks and SimBench through the gridtwin CLI",
            "date": date,
            "machine": _harness.machine(("pandapower", "simbench", "power-grid-model")),
            "options": {k: v for k, v in vars(args).items() if k not in ("worker", "params")},
            "pandapower_functions_skipped": skipped,
        }
    )
    print(f"{len(jobs)} network(s) to run, {args.jobs} at a time -> {out}", flush=True)
    lock = threading.Lock()
    t0 = time.perf_counter()

    def one(kind: str, case: Any) -> list[dict[str, Any]]:
        try:
            if kind == "pandapower":
                return sweep_pandapower(case, args)
            return sweep_simbench(case, args)
        except Exception as exc:  # a defect of this script: keep sweeping, say so
            name = case["name"] if isinstance(case, dict) else case
            rec = _base_record(name, kind)
            rec.update({"class": "skipped", "reasons": [f"sweep error: {exc!r}"[:300]]})
            return [rec]

    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(one, kind, case) for kind, case in jobs]
        for fut in cf.as_completed(futures):
            for rec in fut.result():
                _print_record(rec)
                with lock:
                    res["records"].append(rec)
                    _write(out, res)
    res["run_seconds"] = round(time.perf_counter() - t0, 1)
    res["summary"] = summarise(res["records"])
    text = report(res["summary"], skipped)
    res["table"] = text.splitlines()
    _write(out, res)
    print(text)
    print(f"\nresults: {out}")
    return 0


def merge(args: argparse.Namespace) -> int:
    """Merge result files (``--merge``) into ``--out``, re-classified, with a summary."""
    records: dict[str, dict[str, Any]] = {}
    res: dict[str, Any] = {}
    parts = []
    for name in args.merge:
        part = json.loads(Path(name).read_text(encoding="utf-8"))
        res = {**part, **res} if res else part
        keys = ("options", "run_seconds", "machine", "date")
        parts.append({"file": name, **{k: part.get(k) for k in keys}})
        for rec in part["records"]:
            if "validate" in rec and "simulate" in rec:
                classify(rec, args)
            records[rec["name"]] = rec
    res["records"] = list(records.values())
    res["merged_from"] = parts  # each part's own options: the runs may differ
    res["options"] = {**res.get("options", {}), "tol_pu": args.tol_pu}
    res["options"]["tol_va_deg"] = args.tol_va_deg
    res["summary"] = summarise(res["records"])
    skipped = res.get("pandapower_functions_skipped", [])
    text = report(res["summary"], skipped)
    res["table"] = text.splitlines()
    out = Path(args.out or RESULTS / f"sweep-networks-{dt.date.today().isoformat()}.json")
    _write(out, res)
    print(text)
    print(f"\nresults: {out}")
    return 0


def _write(out: Path, res: dict[str, Any]) -> None:
    """Write the results atomically (a partial run stays readable)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(res, indent=1, default=str, allow_nan=True) + "\n", encoding="utf-8")
    tmp.replace(out)


if __name__ == "__main__":
    sys.exit(main())
