"""The fuzzing campaign of issue 17: many corrupted inputs through every reader of the
command line, each run in-process in a worker with a timeout (a hang is a failure).

    nice -n 19 .venv/bin/python bench/fuzz_campaign.py --inputs 20000 --workers 2

Reports per reader: inputs tried, clean errors, correct results (exit 0), tracebacks (by
cause, with one example each), hangs, exit 0 on surely invalid input, and failing exits
without a word. Writes the counts to ``bench/results/fuzz_campaign.json`` (``--out``).
Reproduce one input with ``--replay READER SEED``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz.options import option_args  # noqa: E402

FILE_READERS = (
    "interval_csv", "interval_parquet", "readings_csv", "tariff_yaml", "tariff_json",
    "norms_yaml", "pq_csv", "events_csv", "feeders_csv", "net_json", "series_csv",
)  # fmt: skip
READERS = (*FILE_READERS, "options")
#: Share of the inputs per reader (relative): a pandapower net takes some 30 times longer
#: to load and solve than a CSV file to read, so it gets fewer inputs.
WEIGHTS = dict.fromkeys(READERS, 1.0) | {"net_json": 0.05}


def plan(inputs: int, base_seed: int) -> list[tuple[str, int]]:
    """The jobs: each reader's share of ``inputs``, interleaved so that a campaign cut
    short by its time limit has tried every reader in proportion."""
    total = sum(WEIGHTS.values())
    keyed = []
    for reader in READERS:
        n = max(1, round(inputs * WEIGHTS[reader] / total))
        keyed += [(k / n, reader, base_seed + k) for k in range(n)]
    keyed.sort()
    return [(reader, seed) for _, reader, seed in keyed]


def run_one(reader: str, seed: int, folder: Path, seeds: dict[str, Path]) -> dict[str, Any]:
    """Corrupt the reader's seed with ``seed``, run one of its commands; the outcome."""
    from tests.fuzz.corpus import TARGETS, command_args
    from tests.fuzz.corrupt import corrupt
    from tests.fuzz.outcome import invoke

    rng = random.Random(seed)
    if reader == "options":
        args, invalid, name = option_args(rng, seeds, folder)
    else:
        target = TARGETS[reader]
        m = corrupt(seeds[reader].read_bytes(), target, rng)
        path = folder / f"c_{seeds[reader].name}"
        path.write_bytes(m.data)
        command = rng.choice(target.commands)
        args, invalid, name = command_args(command, path, seeds), m.invalid, m.name
    t0 = time.perf_counter()
    outcome = invoke(args, invalid=invalid)
    return {
        "verdict": outcome.verdict,
        "cause": outcome.cause,
        "mutation": name,
        "args": " ".join(args[:3]),
        "s": round(time.perf_counter() - t0, 3),
        "tail": outcome.output[-600:] if outcome.bad else "",
    }


def _worker(conn: Connection) -> None:
    from tests.fuzz.corpus import write_seeds

    folder = Path(tempfile.mkdtemp(prefix="gridtwin-fuzz-"))
    os.environ["GRIDTWIN_CACHE_DIR"] = str(folder / "cache")
    seeds = write_seeds(folder / "seeds")
    conn.send("ready")
    while True:
        job = conn.recv()
        if job is None:
            return
        reader, seed = job
        conn.send(run_one(reader, seed, folder, seeds))


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used: on a shared machine a niced
    worker may wait minutes for the processor, so a hang is judged by CPU time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Worker:
    """A process running inputs one at a time; killed and replaced on a timeout."""

    def __init__(self, start_s: float = 3600.0) -> None:
        self.conn, child = mp.Pipe()
        self.proc = mp.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()
        if not self.conn.poll(start_s):  # imports and seeds: minutes on a starved machine
            msg = "worker did not start"
            raise RuntimeError(msg)
        self.conn.recv()
        self.job: tuple[str, int] | None = None
        self.started = self.cpu0 = 0.0

    def submit(self, job: tuple[str, int]) -> None:
        self.job, self.started = job, time.monotonic()
        self.cpu0 = cpu_s(self.proc.pid or 0)
        self.conn.send(job)

    def hung(self, timeout_s: float) -> bool:
        """More than ``timeout_s`` of CPU on one input, or 30 times that of wall time."""
        if time.monotonic() - self.started > 30 * timeout_s:
            return True
        return cpu_s(self.proc.pid or 0) - self.cpu0 > timeout_s

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join()


def campaign(
    inputs: int, workers: int, timeout_s: float, base_seed: int, max_s: float
) -> dict[str, Any]:
    """Run ``inputs`` corrupted inputs spread over the readers (:data:`WEIGHTS`); stop
    starting new ones after ``max_s`` seconds."""
    jobs = plan(inputs, base_seed)
    jobs.reverse()
    t0 = time.monotonic()
    stop = signal.signal(signal.SIGTERM, lambda *_: setattr(sys, "fuzz_stop", True))
    pool = [Worker() for _ in range(workers)]
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    done = 0
    for w in pool:
        if jobs:
            w.submit(jobs.pop())
    while any(w.job for w in pool):
        for i, w in enumerate(pool):
            if w.job is None:
                continue
            if w.conn.poll(0.05):
                try:
                    results[w.job[0]].append({"seed": w.job[1], **w.conn.recv()})
                except EOFError:  # the worker died (a crash of the process itself)
                    results[w.job[0]].append({"seed": w.job[1], "verdict": "crash"})
                    w.kill()
                    pool[i] = w = Worker()
                done += 1
            elif w.hung(timeout_s):
                results[w.job[0]].append({"seed": w.job[1], "verdict": "hang"})
                w.kill()
                pool[i] = w = Worker()
                done += 1
            else:
                continue
            w.job = None
            if jobs and (time.monotonic() - t0 > max_s or getattr(sys, "fuzz_stop", False)):
                print(f"time limit: {len(jobs)} inputs not started", flush=True)
                jobs.clear()
            if jobs:
                w.submit(jobs.pop())
            if done % 100 == 0:
                print(f"{done}/{inputs} in {time.monotonic() - t0:.0f} s", flush=True)
    signal.signal(signal.SIGTERM, stop)
    for w in pool:
        w.conn.send(None)
        w.proc.join(5)
        w.kill()
    return summarise(results, time.monotonic() - t0, timeout_s)


def summarise(
    results: dict[str, list[dict[str, Any]]], wall_s: float, timeout_s: float
) -> dict[str, Any]:
    """Counts per reader, tracebacks by cause with one example each."""
    readers: dict[str, Any] = {}
    for reader, rows in sorted(results.items()):
        verdicts = Counter(r["verdict"] for r in rows)
        causes: dict[str, dict[str, Any]] = {}
        for r in rows:
            if r["verdict"] not in ("ok", "clean"):
                key = f"{r['verdict']}: {r.get('cause', '')}"
                ex = causes.setdefault(key, {"count": 0, "seed": r["seed"], "example": r})
                ex["count"] += 1
        readers[reader] = {
            "tried": len(rows),
            "mean_s": round(sum(r.get("s", 0.0) for r in rows) / max(len(rows), 1), 3),
            "correct_results": verdicts["ok"],
            "clean_errors": verdicts["clean"],
            "tracebacks": verdicts["traceback"],
            "hangs": verdicts["hang"],
            "exit0_on_invalid": verdicts["exit0_invalid"],
            "silent_failures": verdicts["silent"],
            "process_crashes": verdicts["crash"],
            "failures_by_cause": causes,
        }
    total = {
        k: sum(r[k] for r in readers.values())
        for k in ("tried", "correct_results", "clean_errors", "tracebacks", "hangs",
                  "exit0_on_invalid", "silent_failures", "process_crashes")
    }  # fmt: skip
    return {
        "wall_s": round(wall_s, 1),
        "timeout_s": timeout_s,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "total": total,
        "readers": readers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0, help="CPU seconds per input")
    parser.add_argument("--seed", type=int, default=17_000_000)
    parser.add_argument("--max-minutes", type=float, default=600.0, help="stop starting inputs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/fuzz_campaign.json")
    parser.add_argument("--replay", nargs=2, metavar=("READER", "SEED"))
    args = parser.parse_args()
    if args.replay:
        from tests.fuzz.corpus import write_seeds

        folder = Path(tempfile.mkdtemp(prefix="gridtwin-fuzz-"))
        seeds = write_seeds(folder / "seeds")
        print(json.dumps(run_one(args.replay[0], int(args.replay[1]), folder, seeds), indent=2))
        return
    report = campaign(args.inputs, args.workers, args.timeout, args.seed, 60 * args.max_minutes)
    report["planned_inputs"] = args.inputs
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    print(json.dumps(report["total"], indent=1))
    for reader, r in report["readers"].items():
        counts = (
            f"ok {r['correct_results']:6}  clean {r['clean_errors']:6}  tb {r['tracebacks']:4}  "
            f"hang {r['hangs']}  exit0-invalid {r['exit0_on_invalid']}  silent "
            f"{r['silent_failures']}"
        )
        print(f"{reader:18} {r['mean_s']:.2f} s  tried {r['tried']:6}  {counts}")
        for cause, ex in r["failures_by_cause"].items():
            print(f"    {ex['count']:5}  {cause}  (seed {ex['seed']}: {ex['example']['mutation']})")


if __name__ == "__main__":
    main()
