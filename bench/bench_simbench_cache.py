"""The disk cache of SimBench grids: loading uncached vs cached, the formats, the CLI.

In one run, each measure in a fresh subprocess (imports not timed, one thread):

- ``load_simbench(code)`` from SimBench's CSV files (``cache=False``), the first load
  with the cache (a miss: CSV + writing the entry) and the second (a hit), net + profiles;
- the formats for the same net and profiles: ours (Parquet + JSON tables, raw float64
  profiles, hashed), pandapower JSON (``to_json``/``from_json``), pickle (unsafe, for
  reference only), profiles as Parquet and as ``.npy``;
- the wall time of ``gridtwin network validate --simbench CODE`` with an empty cache
  folder (first) and again (second).

The full run writes ``bench/results/simbench-cache-<date>.json``::

    .venv/bin/python bench/bench_simbench_cache.py            # LV + MV (+ --big)
    .venv/bin/python bench/bench_simbench_cache.py --quick    # LV only, JSON only with --out
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import machine, run_worker  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]
GRIDS = ("1-LV-semiurb4--0-sw", "1-MV-rural--0-sw")
BIG = "1-MVLV-semiurb-all-0-sw"
CLI_CODE = "1-LV-semiurb4--0-sw"


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def worker_load(p: dict[str, Any]) -> dict[str, Any]:
    """Time one ``load_simbench`` (imports done before the clock starts)."""
    import pandapower  # noqa: F401
    import simbench  # noqa: F401

    from gridtwin.network import load_simbench

    cache: Any = False if p["cache_dir"] is None else p["cache_dir"]
    t0 = time.perf_counter()
    model = load_simbench(p["code"], cache=cache)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "notes": list(model.notes)}


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def worker_formats(p: dict[str, Any]) -> dict[str, Any]:
    """Write and read the same net and profiles in every format."""
    import pickle

    import numpy as np
    import pandapower as pp
    import pandas as pd

    from gridtwin.network import Profiles, load_simbench
    from gridtwin.network import _simbench_cache as sc

    model = load_simbench(p["code"], cache=p["cache_dir"])
    net, prof = model.net, model.profiles
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=p["cache_dir"]) as tmp:
        d = Path(tmp)
        for sub in ("ours_net", "ours_prof", "parquet", "npy"):
            (d / sub).mkdir()
        pkl = d / "net.pkl"
        out["net: ours (Parquet + JSON, hashed)"] = {
            "write_s": _timed(lambda: sc.write_net(net, d / "ours_net", "x")),
            "read_s": _timed(lambda: sc.read_net(d / "ours_net", "x")),
            "bytes": _size(d / "ours_net"),
        }
        out["net: pandapower JSON"] = {
            "write_s": _timed(lambda: pp.to_json(net, str(d / "net.json"))),
            "read_s": _timed(lambda: pp.from_json(str(d / "net.json"))),
            "bytes": (d / "net.json").stat().st_size,
        }
        out["net: pickle (unsafe, reference)"] = {
            "write_s": _timed(lambda: pkl.write_bytes(pickle.dumps(net))),
            "read_s": _timed(lambda: pickle.loads(pkl.read_bytes())),  # our own file
            "bytes": pkl.stat().st_size,
        }
        frames = prof.frames()

        def write_parquet() -> None:
            for name, f in frames.items():
                f.set_axis(f.columns.astype(str), axis=1).to_parquet(d / "parquet" / name)

        def read_parquet() -> None:
            for name in frames:
                pd.read_parquet(d / "parquet" / name)

        def write_npy() -> None:
            for name, f in frames.items():
                np.save(d / "npy" / f"{name}.npy", f.to_numpy())

        def read_npy() -> None:
            for name in frames:
                np.load(d / "npy" / f"{name}.npy", allow_pickle=False)

        out["profiles: ours (raw float64, hashed)"] = {
            "write_s": _timed(lambda: sc.write_profiles(prof, d / "ours_prof", "x")),
            "read_s": _timed(lambda: sc.read_profiles(d / "ours_prof", "x", Profiles)),
            "bytes": _size(d / "ours_prof"),
        }
        out["profiles: Parquet (pandas)"] = {
            "write_s": _timed(write_parquet),
            "read_s": _timed(read_parquet),
            "bytes": _size(d / "parquet"),
        }
        out["profiles: .npy (no hash)"] = {
            "write_s": _timed(write_npy),
            "read_s": _timed(read_npy),
            "bytes": _size(d / "npy"),
        }
    return out


def _cli_wall(cache_dir: str) -> float:
    env = dict(os.environ, GRIDTWIN_CACHE_DIR=cache_dir)
    run_cli = "import sys; from gridtwin.cli import main; sys.argv[0] = 'gridtwin'; main()"
    cmd = [sys.executable, "-c", run_cli, "network", "validate", "--simbench", CLI_CODE]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, check=False, timeout=600)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        msg = f"validate failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}"
        raise RuntimeError(msg)
    return wall


def measure(grids: tuple[str, ...], reps: int, timeout: float) -> dict[str, Any]:
    """Every timing of one run."""
    script = str(Path(__file__))
    out: dict[str, Any] = {"grids": {}, "formats": {}, "cli": {}}
    for code in grids:
        with tempfile.TemporaryDirectory(prefix="gridtwin-cache-bench-") as cache_dir:
            row: dict[str, Any] = {
                "uncached_s": run_worker(
                    script, "load", {"code": code, "cache_dir": None}, timeout
                )["seconds"],
                "first_with_cache_s": run_worker(
                    script, "load", {"code": code, "cache_dir": cache_dir}, timeout
                )["seconds"],
            }
            hits = [
                run_worker(script, "load", {"code": code, "cache_dir": cache_dir}, timeout)
                for _ in range(reps)
            ]
            row["cached_s"] = sorted(h["seconds"] for h in hits)[len(hits) // 2]
            row["cache_bytes"] = _size(Path(cache_dir))
            row["notes"] = hits[0]["notes"]
            out["grids"][code] = row
            out["formats"][code] = run_worker(
                script, "formats", {"code": code, "cache_dir": cache_dir}, timeout
            )
    with tempfile.TemporaryDirectory(prefix="gridtwin-cache-cli-") as cache_dir:
        first = _cli_wall(cache_dir)
        second = sorted(_cli_wall(cache_dir) for _ in range(reps))[reps // 2]
        out["cli"][f"gridtwin network validate --simbench {CLI_CODE}"] = {
            "first_s": first,
            "second_s": second,
        }
    return out


def table(result: dict[str, Any]) -> str:
    """The printed table."""
    lines = [f"{'grid':<28}{'CSV':>9}{'1st (write)':>13}{'cached':>9}{'speed-up':>10}{'MB':>8}"]
    for code, r in result["grids"].items():
        lines.append(
            f"{code:<28}{r['uncached_s']:>8.2f}s{r['first_with_cache_s']:>12.2f}s"
            f"{r['cached_s']:>8.2f}s{r['uncached_s'] / r['cached_s']:>9.1f}x"
            f"{r['cache_bytes'] / 1e6:>8.1f}"
        )
    for code, fmts in result["formats"].items():
        lines.append(f"\nformats, {code}{'write':>30}{'read':>9}{'MB':>8}")
        for name, f in fmts.items():
            lines.append(
                f"  {name:<46}{f['write_s']:>8.3f}s{f['read_s']:>8.3f}s{f['bytes'] / 1e6:>8.1f}"
            )
    for label, c in result["cli"].items():
        lines.append(f"\n{label}: first {c['first_s']:.2f} s, second {c['second_s']:.2f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (and the ``--worker`` side)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="LV only, one repetition")
    ap.add_argument("--big", action="store_true", help=f"also {BIG} (several minutes)")
    ap.add_argument("--reps", type=int, default=3, help="cached loads and CLI runs (median)")
    ap.add_argument("--out", help="JSON file (full runs: bench/results/simbench-cache-<date>.json)")
    args = ap.parse_args(argv)
    if args.worker:
        fn = {"load": worker_load, "formats": worker_formats}[args.worker]
        print(json.dumps(fn(json.loads(args.params))))
        return 0
    grids = GRIDS[:1] if args.quick else GRIDS + ((BIG,) if args.big else ())
    reps = 1 if args.quick else args.reps
    result = measure(grids, reps, timeout=3600.0)
    text = table(result)
    print(text)
    out = args.out or (
        None
        if args.quick
        else str(ROOT / "bench" / "results" / f"simbench-cache-{dt.date.today()}.json")
    )
    if out:
        payload = {
            "machine": machine(("pandas", "pandapower", "simbench", "pyarrow")),
            "reps": reps,
            **result,
            "table": text,
        }
        Path(out).write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
