"""Shared harness of the benchmarks: one thread per engine, engines in subprocesses, machine info.

Import this module before numpy: it pins OpenMP/BLAS/MKL/numba to one thread for this
process and, through the environment, for every engine subprocess it starts.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
for _var in THREAD_VARS:  # before numpy is imported, here and in every subprocess
    if "--worker" in sys.argv:  # an engine subprocess: run_worker set its thread count
        os.environ.setdefault(_var, "1")
    else:
        os.environ[_var] = "1"


def run_worker(
    script: str, name: str, params: dict[str, Any], timeout: float, threads: int = 1
) -> dict[str, Any]:
    """Run ``script --worker name`` in a fresh subprocess with ``threads`` OpenMP / BLAS /
    numba threads (one by default); return its last JSON line."""
    env = dict(os.environ, **dict.fromkeys(THREAD_VARS, str(threads)))
    cmd = [
        sys.executable,
        str(Path(script).resolve()),
        "--worker",
        name,
        "--params",
        json.dumps(params),
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        msg = f"worker {name} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        raise RuntimeError(msg)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def steal_s() -> float | None:
    """CPU time the hypervisor gave to others so far, all cores [s] (Linux ``/proc/stat``;
    None elsewhere): a benchmark run on a shared host reports how much it lost."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    if fields[0] != "cpu" or len(fields) < 9:
        return None
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def machine(packages: tuple[str, ...]) -> dict[str, Any]:
    """CPU, cores, versions of Python and ``packages``, git revision and load average."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for dist in ("numpy", *packages):
        try:
            info[dist.replace("-", "_")] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist.replace("-", "_")] = None
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
            check=False,
            timeout=10,
        )
        info["git_head"] = rev.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    if hasattr(os, "getloadavg"):
        info["load_average"] = list(os.getloadavg())
    return info


def pg_server_module() -> Any:
    """``tests/store/pg_server.py`` (the tests' throwaway PostgreSQL server), loaded by
    path: ``with pg_server_module().PgServer() as server: server.url(...)``."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tests" / "store" / "pg_server.py"
    spec = importlib.util.spec_from_file_location("gridtwin_bench_pg_server", path)
    if spec is None or spec.loader is None:
        msg = f"cannot load {path}"
        raise RuntimeError(msg)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
