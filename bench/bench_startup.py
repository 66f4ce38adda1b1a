"""Start-up time of the command line, against the interpreter's own start (the floor).

Every command is a fresh process, run ``--reps`` times one after the other; the median and
the fastest wall time are reported, and the ratio of the median to the floor
(``python -c pass``). With ``--baseline-src`` an older checkout's ``src`` directory is timed
in the same run, under the same interpreter and packages, for a before/after figure, e.g.::

    git worktree add /tmp/gridtwin-before <commit>
    .venv/bin/python bench/bench_startup.py --baseline-src /tmp/gridtwin-before/src

It also reports the cumulative import time of ``gridtwin.cli`` (``python -X importtime``).
The full run writes ``bench/results/startup-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _harness import machine  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]
#: Command lines timed (arguments after ``gridtwin``).
COMMANDS: dict[str, list[str]] = {
    "gridtwin --help": ["--help"],
    "gridtwin tariffs list": ["tariffs", "list"],
    "gridtwin network --help": ["network", "--help"],
}
_RUN_CLI = "import sys; from gridtwin.cli import main; sys.argv[0] = 'gridtwin'; main()"


def _time(cmd: list[str], env: dict[str, str], reps: int) -> dict[str, float]:
    """Median and fastest wall time of ``cmd`` over ``reps`` runs [s]."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            msg = f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}"
            raise RuntimeError(msg)
    return {"median_s": statistics.median(times), "min_s": min(times)}


def _env(src: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if src is not None:  # an older checkout's package ahead of the installed one
        env["PYTHONPATH"] = str(src)
    return env


def _import_time_s(env: dict[str, str]) -> float:
    """Cumulative import time of ``gridtwin.cli`` [s]."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import gridtwin.cli"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == "gridtwin.cli":
            return int(parts[1]) / 1e6
    msg = "gridtwin.cli not in the import-time report"
    raise RuntimeError(msg)


def measure(reps: int, baseline_src: Path | None) -> dict[str, Any]:
    """Every timing of one run."""
    floor = _time([sys.executable, "-c", "pass"], _env(None), reps)
    variants = {"now": None} if baseline_src is None else {"now": None, "before": baseline_src}
    out: dict[str, Any] = {"floor python -c pass": floor, "variants": {}}
    for name, src in variants.items():
        env = _env(ROOT / "src" if src is None else src)
        timings = {
            label: _time([sys.executable, "-c", _RUN_CLI, *args], env, reps)
            for label, args in COMMANDS.items()
        }
        timings["import gridtwin.cli (importtime)"] = {"median_s": _import_time_s(env)}
        out["variants"][name] = timings
    return out


def table(result: dict[str, Any]) -> str:
    """The printed table: median [s], fastest [s] and median / floor."""
    floor = result["floor python -c pass"]["median_s"]
    lines = [f"{'measure':<52}{'median':>10}{'fastest':>10}{'/ floor':>10}", "-" * 82]
    lines.append(f"{'python -c pass (floor)':<52}{floor:>9.3f}s{'':>10}{1.0:>9.1f}x")
    for variant, timings in result["variants"].items():
        for label, t in timings.items():
            fastest = f"{t['min_s']:>9.3f}s" if "min_s" in t else f"{'':>10}"
            lines.append(
                f"{f'[{variant}] {label}':<52}{t['median_s']:>9.3f}s{fastest}"
                f"{t['median_s'] / floor:>9.1f}x"
            )
    if "before" in result["variants"]:
        for label in COMMANDS:
            before = result["variants"]["before"][label]["median_s"]
            now = result["variants"]["now"][label]["median_s"]
            lines.append(f"{f'speed-up {label} (before / now)':<52}{before / now:>9.1f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=7, help="runs of each command (median)")
    ap.add_argument("--quick", action="store_true", help="two runs each (smoke test)")
    ap.add_argument("--baseline-src", type=Path, help="src/ of an older checkout to time too")
    ap.add_argument("--out", help="JSON result file (full runs: bench/results/startup-<date>.json)")
    args = ap.parse_args(argv)
    reps = 2 if args.quick else args.reps
    result = measure(reps, args.baseline_src)
    text = table(result)
    print(text)
    out = args.out or (
        None if args.quick else str(ROOT / "bench" / "results" / f"startup-{dt.date.today()}.json")
    )
    if out:
        payload = {
            "machine": machine(("typer", "rich", "pandas")),
            "reps": reps,
            "baseline_src": None if args.baseline_src is None else str(args.baseline_src),
            **result,
            "table": text,
        }
        Path(out).write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
