"""Tests of the network sweep ``bench/sweep_networks.py``.

The pure parts (step windows, comparison, classification, reason keys) are tested in
process; the sweep itself runs the real CLI on tiny pandapower nets (and one SimBench LV
grid) in subprocesses, and a self-check injects an error into pandapower's answer to
prove that a wrong answer is classified ``MISMATCH``. Nothing is asserted on speed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "sweep_networks.py"


@pytest.fixture(scope="module")
def sweep() -> ModuleType:
    """The script as a module (its harness pins thread variables: restored after)."""
    saved = dict(os.environ)
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        return importlib.import_module("sweep_networks")
    finally:
        sys.path.remove(str(SCRIPT.parent))
        os.environ.clear()
        os.environ.update(saved)


def _args(**kw: Any) -> argparse.Namespace:
    return argparse.Namespace(**{"tol_pu": 1e-6, "tol_va_deg": 1e-4, **kw})


def _ref(vm: list[float], va: list[float] | None = None) -> dict[str, Any]:
    return {
        "pp_converged": True,
        "bus": list(range(len(vm))),
        "vm_pu": vm,
        "va_degree": va or [0.0] * len(vm),
    }


def test_windows_start_at_the_largest_and_smallest_load_and_stay_inside(
    sweep: ModuleType,
) -> None:
    load = np.array([5.0, 1.0, 3.0, 9.0, 2.0, 4.0])
    assert sweep.pick_windows(load, ["maxload", "minload"], 2) == [[1, 5]]  # merged
    assert sweep.pick_windows(load, ["maxload"], 1) == [[3, 4]]
    assert sweep.pick_windows(np.array([1.0, 2.0, 3.0, 9.0]), ["maxload"], 3) == [[1, 4]]
    assert sweep.pick_windows(load, ["first", "minload"], 1) == [[0, 2]]  # adjacent: one run
    assert sweep.pick_windows(load, ["first", "maxload"], 2) == [[0, 2], [3, 5]]


def test_compare_counts_buses_gridtwin_left_unsolved_and_wraps_angles(
    sweep: ModuleType,
) -> None:
    ref = _ref([1.0, 0.98, math.nan], [0.0, 179.9, 0.0])  # bus 2 de-energised in pandapower
    got = sweep.compare(ref, {0: 1.0, 1: 0.98 + 2e-7, 2: 0.5}, {0: 0.0, 1: -179.9})
    assert got["compared_buses"] == 2
    assert got["missing_buses"] == 0
    assert got["max_dvm_pu"] == pytest.approx(2e-7)
    assert got["max_dva_degree"] == pytest.approx(0.2)
    missing = sweep.compare(ref, {0: 1.0, 1: math.nan}, {})
    assert missing["missing_buses"] == 1
    assert missing["max_dvm_pu"] == math.inf


def _record(validate: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    sim = {"exit": 0, "steps": steps, "notes": []}
    return {"name": "n", "source": "pandapower", "pp_converged": True, "validate": validate,
            "simulate": [sim]}  # fmt: skip


def test_a_wrong_answer_is_a_mismatch_even_when_validate_refused(sweep: ModuleType) -> None:
    refused = {"exit": 1, "reasons": ["gen.-: PV buses are not supported"], "errors": ["x"]}
    rec = _record(refused, [{"converged": True, "max_dvm_pu": 2e-6, "max_dva_degree": 0.0}])
    sweep.classify(rec, _args())
    assert rec["class"] == "MISMATCH"
    assert rec["disagreement"] == "validate refuses, simulate solves"
    ok = _record({"exit": 0, "reasons": []}, [{"converged": True, "max_dvm_pu": 1e-9,
                                                 "max_dva_degree": 2e-4}])  # fmt: skip
    sweep.classify(ok, _args())
    assert ok["class"] == "MISMATCH"  # the angle is off
    sweep.classify(ok, _args(tol_va_deg=1e-3))
    assert ok["class"] == "match"
    assert "disagreement" not in ok


def test_steps_reported_unconverged_are_refusals_and_unsolved_nets_out_of_scope(
    sweep: ModuleType,
) -> None:
    rec = _record({"exit": 0, "reasons": []}, [{"converged": False}])
    rec["simulate"][0]["notes"] = ["1 step(s) failed from 2016-01-01T00:00:00+00:00: diverged"]
    sweep.classify(rec, _args())
    assert rec["class"] == "refused"
    assert rec["reasons"] == ["not converged (1 step(s)): N step(s) failed from <time>: diverged"]
    rec["pp_converged"] = False
    sweep.classify(rec, _args())
    assert rec["class"] == "out_of_scope"
    assert rec["gridtwin_outcome"] == "refused"


def test_crashes_are_tracebacks_or_undocumented_exit_codes(sweep: ModuleType) -> None:
    def proc(code: int, err: str = "") -> dict[str, Any]:
        return {"exit": code, "timeout": False, "stdout": "", "stderr": err, "seconds": 1.0}

    assert "crash" in sweep.validate_outcome(proc(1, "Traceback (most recent call last):\nX"))
    assert "crash" in sweep.simulate_outcome(proc(1), Path("none"), [], _args())
    assert "crash" in sweep.simulate_outcome(proc(-9), Path("none"), [], _args())
    refused = sweep.simulate_outcome(
        {**proc(2), "stdout": "error: net.json: the network model has 2 error(s):\n gen[0]"},
        Path("none"),
        [],
        _args(),
    )
    assert refused["reason"] == "<file> the network model has N error(s):"


def _run(tmp_path: Path, *extra: str) -> tuple[dict[str, Any], str]:
    out = tmp_path / "sweep.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--work-dir", str(tmp_path), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), proc.stdout


@pytest.mark.slow
def test_sweep_of_tiny_pandapower_nets_matches_and_runs_the_gen_variant(
    tmp_path: Path,
) -> None:
    res, stdout = _run(
        tmp_path,
        "--only",
        "pandapower",
        "--filter",
        "simple_four_bus",
        "--filter",
        "example_simple",
    )
    recs = {r["name"]: r for r in res["records"]}
    assert set(recs) == {"simple_four_bus_system", "example_simple", "example_simple [gen-as-sgen]"}
    four = recs["simple_four_bus_system"]
    assert four["class"] == "match"
    assert four["validate"]["exit"] == 0
    assert four["simulate"][0]["steps"][0]["compared_buses"] == 4
    assert four["max_dvm_pu"] <= 1e-6
    simple = recs["example_simple"]  # a gen: solved by Newton-Raphson on pandapower's case
    assert simple["class"] == "match"
    assert simple["validate"]["exit"] == 0
    assert simple["max_dvm_pu"] <= 1e-6
    variant = recs["example_simple [gen-as-sgen]"]
    assert variant["class"] == "match"
    assert variant["max_dvm_pu"] <= 1e-6
    assert res["summary"]["counts"]["pandapower"] == {"match": 2}
    assert any(s["name"] == "sorted_from_json" for s in res["pandapower_functions_skipped"])
    assert "needs argument(s)" in stdout  # the skipped functions are listed


@pytest.mark.slow
def test_an_injected_error_is_reported_as_mismatch(tmp_path: Path) -> None:
    res, stdout = _run(
        tmp_path, "--only", "pandapower", "--filter", "simple_four_bus", "--no-variants",
        "--inject-error-pu", "1e-5",
    )  # fmt: skip
    (rec,) = res["records"]
    assert rec["class"] == "MISMATCH"
    assert rec["max_dvm_pu"] == pytest.approx(1e-5, rel=1e-3)
    assert "!!! MISMATCH" in stdout


@pytest.mark.slow
def test_sweep_of_a_simbench_lv_grid_compares_the_chosen_steps(tmp_path: Path) -> None:
    res, _ = _run(
        tmp_path, "--only", "simbench", "--filter", "1-LV-rural1--0-sw",
        "--simbench-windows", "maxload,minload", "--simbench-width", "1",
    )  # fmt: skip
    (rec,) = res["records"]
    assert rec["class"] == "match", rec["reasons"]
    assert len(rec["steps"]) == 2
    compared = [s for sim in rec["simulate"] for s in sim["steps"]]
    assert len(compared) == 2
    assert all(s["compared_buses"] == rec["buses"] for s in compared)
    assert rec["max_dvm_pu"] <= 1e-6


def test_validate_and_simulate_naming_different_errors_is_a_disagreement(
    sweep: ModuleType,
) -> None:
    val = {
        "exit": 1,
        "n_errors": 2,
        "errors": ["gen[0].None: PV buses are not supported", "trafo3w[0].None: fixed point only"],
    }
    same = "net.json: the network model has 2 error(s):\n  gen[0]: PV\n  trafo3w[0]: fixed"
    assert sweep.differing_errors(val, same) is None
    fewer = "net.json: the network model has 1 error(s):\n  gen[0]: PV buses"
    assert sweep.differing_errors(val, fewer) == "validate only trafo3w[0]; simulate only -"
    rec = {"pp_converged": True, "validate": {**val, "reasons": ["gen.-: x"]},
           "simulate": [{"exit": 2, "message": fewer, "reason": "r"}]}  # fmt: skip
    sweep.classify(rec, _args())
    assert rec["class"] == "refused"
    assert rec["disagreement"].startswith("validate and simulate name different errors")
