"""Tariff-engine benchmark: gridtwin vs PySAM Utilityrate5 vs a numpy floor, side by side.

One run, one machine, the same synthetic profiles for every engine:

(a) gridtwin totals for N meter-years on ONE core (tariff compiled once, one IntervalData
    per chunk of meters): meter-years per second of billing time;
(b) PySAM Utilityrate5 "warm" (model built once, only the load replaced) on a per-meter
    loop over the first meters;
(c) a bare numpy floor: price vector built once, bill = energy @ prices + fixed;
(d) agreement of the annual totals, gridtwin vs PySAM (max relative difference);
(e) itemised bills (line tables written to Parquet) for many meter-years on a pool of
    processes (default 2), each generating and billing its own chunks: wall time and
    peak memory (sum of the processes' peak resident memory).

Scenario (the peers' benchmark, expressed as a URDB record that both engines import):
calendar year 2018 (UTC, starts on a Monday as SAM assumes, no leap day), weekdays
23-07 off 0.20, 07-08 mid 0.25, 08-19 peak 0.30, 19-23 mid 0.25 USD/kWh, weekends off,
10.00 USD per month fixed; 35,040 x 15-min kWh per meter-year (and hourly sums).

Every engine runs in its own subprocess with OMP/OPENBLAS/MKL_NUM_THREADS=1, one after
the other (never two engines at once).

usage::

    python bench/bench_tariff.py            # full run -> bench/results/tariff-<date>.json
    python bench/bench_tariff.py --quick    # small smoke run; writes JSON only with --out
"""

from __future__ import annotations

# isort: off
import _harness  # first: pins every engine to one thread before numpy loads

# isort: on
import argparse
import copy
import datetime as dt
import functools
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

YEAR = 2018
N15 = 35_040  # 15-min intervals in 2018
PRICES = (0.20, 0.25, 0.30)  # off, mid, peak [USD/kWh]
WEEKDAY_PERIODS = [0] * 7 + [1] + [2] * 11 + [1] * 4 + [0]  # hour -> URDB period (0-based)
FIXED_PER_MONTH = 10.0  # USD
MEAN_KWH_15 = 0.1  # mean kWh per 15 min of an average meter (~3,500 kWh a year)
TARGET_TOTALS_PER_S = 10_000.0
TARGET_ITEMISED_S = 60.0
TARGET_PEAK_BYTES = 4e9
TARGET_AGREEMENT = 1e-6


def urdb_record() -> dict[str, Any]:
    """The scenario as an OpenEI URDB (API v7/v8) record."""
    return {
        "label": "bench-3band-tou",
        "name": "Benchmark 3-band TOU, 10.00/month fixed",
        "utility": "gridtwin benchmark",
        "sector": "Residential",
        "startdate": 1514764800,
        "energyratestructure": [[{"rate": p, "unit": "kWh"}] for p in PRICES],
        "energyweekdayschedule": [list(WEEKDAY_PERIODS) for _ in range(12)],
        "energyweekendschedule": [[0] * 24 for _ in range(12)],
        "fixedchargefirstmeter": FIXED_PER_MONTH,
        "fixedchargeunits": "$/month",
    }


# --------------------------------------------------------------------------- profiles


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64 finaliser (wrapping uint64 arithmetic on arrays)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


@functools.cache
def _archetypes(seed: int) -> FloatArray:
    """Eight household/small-business shapes over 2018 at 15 min, each of mean 1."""
    rng = np.random.default_rng([seed, 1])
    t = np.arange(N15)
    hour = (t % 96) / 4.0
    day = t // 96
    weekend = (day % 7) >= 5  # 1 January 2018 is a Monday
    out = np.empty((8, N15))
    for k in range(8):
        morning, evening = rng.uniform(6.5, 9.0), rng.uniform(17.5, 21.0)
        shape = (
            rng.uniform(0.15, 0.35)
            + rng.uniform(0.2, 0.6) * np.exp(-((hour - morning) ** 2) / rng.uniform(1, 4))
            + rng.uniform(0.4, 1.0) * np.exp(-((hour - evening) ** 2) / rng.uniform(2, 6))
        )
        if k >= 6:  # small business: a working-day plateau
            shape = shape + np.where(weekend, 0.0, 0.8) * ((hour >= 8) & (hour < 18))
        phase = 15 if k % 2 else 200  # winter (heating) or summer (cooling) maximum
        season = 1.0 + rng.uniform(0.1, 0.4) * np.cos(2 * np.pi * (day - phase) / 365.0)
        week = np.where(weekend, rng.uniform(0.8, 1.3), 1.0)
        a = shape * season * week
        out[k] = a / a.mean()
    return out


@functools.cache
def _noise_bank(seed: int) -> FloatArray:
    """A shared bank of multiplicative noise (mean 1); meters read it at their own offset."""
    bank = np.random.default_rng([seed, 2]).lognormal(0.0, 0.35, size=N15 + 65_536)
    return np.asarray(bank / bank.mean(), dtype=np.float64)


def profiles(first: int, n: int, steps_per_hour: int = 4, seed: int = YEAR) -> FloatArray:
    """kWh per interval of meters ``first .. first+n-1`` for 2018, shape (n, 8760 x sph).

    Deterministic per (seed, meter number), whatever the chunking: each meter takes an
    archetype, a size (0.3 to 3 times the mean) and an offset into a noise bank from a
    hash of its number.
    """
    ids = np.arange(first, first + n, dtype=np.uint64) + (np.uint64(seed) << np.uint64(40))
    h1, h2, h3 = (
        _mix(ids),
        _mix(ids ^ np.uint64(0x5851F42D4C957F2D)),
        _mix(ids ^ np.uint64(0x14057B7EF767814F)),
    )
    kind = (h1 % np.uint64(8)).astype(np.int64)
    size = MEAN_KWH_15 * (0.3 + 2.7 * (h2 >> np.uint64(11)).astype(np.float64) / 2.0**53)
    bank = _noise_bank(seed)
    offset = (h3 % np.uint64(len(bank) - N15)).astype(np.int64)
    arche = _archetypes(seed)
    out = np.empty((n, N15))
    for i in range(n):
        row = out[i]
        np.multiply(arche[kind[i]], bank[offset[i] : offset[i] + N15], out=row)
        row *= size[i]
    if steps_per_hour == 4:
        return out
    if steps_per_hour == 1:
        return np.asarray(out.reshape(n, -1, 4).sum(axis=2), dtype=np.float64)
    msg = f"steps_per_hour must be 4 or 1, not {steps_per_hour}"
    raise ValueError(msg)


def make_chunk(chunk: int, chunk_size: int, n_total: int, steps_per_hour: int, seed: int) -> Any:
    """IntervalData of one chunk of meters (picklable with functools.partial)."""
    from gridtwin.timeseries import IntervalData

    first = chunk * chunk_size
    n = min(chunk_size, n_total - first)
    kwh = profiles(first, n, steps_per_hour, seed)
    idx = _index(steps_per_hour)
    return IntervalData(
        idx, kwh, tuple(f"M{first + i:07d}" for i in range(n)), source=f"synthetic chunk {chunk}"
    )


@functools.cache
def _index(steps_per_hour: int) -> Any:
    from gridtwin.timeseries import regular_index

    return regular_index(f"{YEAR}-01-01", 8760 * steps_per_hour, f"{60 // steps_per_hour}min")


def band_of_step(steps_per_hour: int) -> npt.NDArray[np.int64]:
    """URDB period (0 off, 1 mid, 2 peak) of every interval of 2018."""
    n = 8760 * steps_per_hour
    hour = (np.arange(n) // steps_per_hour) % 24
    weekday = (np.arange(n) // (24 * steps_per_hour)) % 7 < 5
    return np.where(weekday, np.asarray(WEEKDAY_PERIODS)[hour], 0)


# ---------------------------------------------------------------------------- workers


def worker_gridtwin(p: dict[str, Any]) -> dict[str, Any]:
    """(a) gridtwin totals on one core, chunk by chunk."""
    from gridtwin.billing._batch import bill_chunks
    from gridtwin.tariffs import tariff_from_urdb

    t0 = time.perf_counter()
    tariff = tariff_from_urdb(urdb_record())
    compile_s = time.perf_counter() - t0
    n, size, sph = p["meters"], p["chunk"], p["steps_per_hour"]
    maker = functools.partial(
        make_chunk, chunk_size=size, n_total=n, steps_per_hour=sph, seed=p["seed"]
    )
    make_chunk(0, min(size, n), min(size, n), sph, p["seed"])  # warm caches (not timed)
    res = bill_chunks(tariff, maker, -(-n // size), processes=1)
    bill_s = sum(c.bill_s for c in res.chunks)
    annual = res.totals().sum(axis=1)
    return {
        "engine": "gridtwin",
        "meters": res.n_meters,
        "chunk": size,
        "compile_s": compile_s,
        "bill_s": bill_s,
        "make_s": sum(c.make_s for c in res.chunks),
        "per_s": res.n_meters / bill_s,
        "peak_rss_bytes": res.peak_rss_bytes(),
        "annual_check": annual[: p["check"]].tolist(),
        "annual_sum": float(annual.sum()),
    }


def worker_floor(p: dict[str, Any]) -> dict[str, Any]:
    """(c) numpy floor: one matrix-vector product per chunk plus the fixed charge."""
    n, size, sph = p["meters"], p["chunk"], p["steps_per_hour"]
    t0 = time.perf_counter()
    prices = np.asarray(PRICES)[band_of_step(sph)]
    compile_s = time.perf_counter() - t0
    total_s = 0.0
    annual = []
    for first in range(0, n, size):
        kwh = profiles(first, min(size, n - first), sph, p["seed"])
        t1 = time.perf_counter()
        bills = kwh @ prices + 12 * FIXED_PER_MONTH
        total_s += time.perf_counter() - t1
        annual.append(bills)
    out = np.concatenate(annual)
    return {
        "engine": "numpy-floor",
        "meters": n,
        "chunk": size,
        "compile_s": compile_s,
        "bill_s": total_s,
        "per_s": n / total_s,
        "annual_check": out[: p["check"]].tolist(),
        "annual_sum": float(out.sum()),
    }


def worker_pysam(p: dict[str, Any]) -> dict[str, Any]:
    """(b) PySAM Utilityrate5 warm: model and tariff built once, the load replaced per meter."""
    import PySAM
    from PySAM import Utilityrate5, UtilityRateTools

    n, sph = p["meters"], p["steps_per_hour"]
    kwh = profiles(0, n, sph, p["seed"])
    t0 = time.perf_counter()
    model = Utilityrate5.new()
    # the URDB conversion edits the schedule rows in place: give it a copy
    rates = UtilityRateTools.URDBv8_to_ElectricityRates(copy.deepcopy(urdb_record()))
    model.ElectricityRates.assign(rates)
    model.ElectricityRates.rate_escalation = (0.0,)
    model.Lifetime.assign(
        {"analysis_period": 1, "inflation_rate": 0.0, "system_use_lifetime_output": 0}
    )
    model.SystemOutput.degradation = (0.0,)
    model.SystemOutput.gen = (0.0,) * kwh.shape[1]
    compile_s = time.perf_counter() - t0
    annual = []
    t1 = time.perf_counter()
    for row in kwh:
        model.Load.load = tuple((row * sph).tolist())  # average kW of each step
        model.execute(0)
        annual.append(model.Outputs.utility_bill_wo_sys_year1)
    bill_s = time.perf_counter() - t1
    return {
        "engine": "pysam-warm",
        "version": getattr(PySAM, "__version__", "?"),
        "meters": n,
        "compile_s": compile_s,
        "bill_s": bill_s,
        "per_s": n / bill_s,
        "annual_check": annual,
    }


def worker_itemised(p: dict[str, Any]) -> dict[str, Any]:
    """(e) itemised bills on a pool: generate, bill, write Parquet line tables."""
    from gridtwin.billing._batch import bill_chunks
    from gridtwin.tariffs import tariff_from_urdb

    n, size = p["meters"], p["chunk"]
    out_dir = Path(p["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=False)
    try:
        maker = functools.partial(
            make_chunk, chunk_size=size, n_total=n, steps_per_hour=4, seed=p["seed"]
        )
        t0 = time.perf_counter()
        res = bill_chunks(
            tariff_from_urdb(urdb_record()),
            maker,
            -(-n // size),
            processes=p["processes"],
            out_dir=out_dir,
        )
        wall = time.perf_counter() - t0
        files = sorted(out_dir.glob("*.parquet"))
        nbytes = sum(f.stat().st_size for f in files)
        annual = res.totals().sum(axis=1)
    finally:
        if not p["keep"]:
            shutil.rmtree(out_dir, ignore_errors=True)
    return {
        "engine": "gridtwin-itemised",
        "meters": res.n_meters,
        "chunk": size,
        "processes": p["processes"],
        "wall_s": wall,
        "pool_wall_s": res.wall_s,
        "make_s": sum(c.make_s for c in res.chunks),
        "bill_s": sum(c.bill_s for c in res.chunks),
        "write_s": sum(c.write_s for c in res.chunks),
        "per_s": res.n_meters / wall,
        "lines": res.n_lines,
        "parquet_files": len(files),
        "parquet_bytes": nbytes,
        "peak_rss_bytes": res.peak_rss_bytes(),
        "worker_pids": len({c.pid for c in res.chunks}),
        "annual_check": annual[: p["check"]].tolist(),
        "annual_sum": float(annual.sum()),
        "out_dir": str(out_dir) if p["keep"] else None,
    }


WORKERS = {
    "gridtwin": worker_gridtwin,
    "floor": worker_floor,
    "pysam": worker_pysam,
    "itemised": worker_itemised,
}


def run_worker(name: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one engine of this script in a fresh one-thread subprocess."""
    return _harness.run_worker(__file__, name, params, timeout)


# ----------------------------------------------------------------------- orchestrator


def max_rel_diff(a: list[float], b: list[float]) -> float:
    x, y = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(x - y) / np.abs(y))) if len(y) else float("nan")


def machine() -> dict[str, Any]:
    """Machine and versions for the results file."""
    return _harness.machine(("gridtwin", "nrel-pysam"))


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def _row(label: str, value: str, target: str = "", status: str = "") -> str:
    return f"{label:<50} {value:>16} {target:>10}  {status}".rstrip()


def _status(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(res: dict[str, Any]) -> str:
    """The side-by-side table with ratios and targets."""
    rows = [_row("measure", "value", "target", "status"), "-" * 86]
    for label, r in res["resolutions"].items():
        g, s, f = r["gridtwin"], r["pysam"], r["floor"]
        main = label == "15min"
        rows.append(
            _row(
                f"[{label}] gridtwin totals, 1 core, {g['meters']:,} m-y",
                f"{fmt_rate(g['per_s'])} m-y/s",
                f">= {TARGET_TOTALS_PER_S:,.0f}" if main else "",
                _status(g["per_s"] >= TARGET_TOTALS_PER_S) if main else "",
            )
        )
        rows.append(
            _row(
                f"[{label}] PySAM UR5 warm loop, 1 core, {s['meters']:,} m-y",
                f"{fmt_rate(s['per_s'])} m-y/s",
            )
        )
        rows.append(
            _row(f"[{label}] numpy floor (E @ p + fixed), 1 core", f"{fmt_rate(f['per_s'])} m-y/s")
        )
        rows.append(_row(f"[{label}] ratio gridtwin / PySAM", f"{r['ratio_vs_pysam']:.1f}x"))
        rows.append(_row(f"[{label}] ratio gridtwin / numpy floor", f"{r['ratio_vs_floor']:.3f}"))
        rows.append(
            _row(
                f"[{label}] max rel. diff of annual totals vs PySAM",
                f"{r['agreement_vs_pysam']:.2e}",
                "<= 1e-06",
                _status(r["agreement_vs_pysam"] <= TARGET_AGREEMENT),
            )
        )
    it = res.get("itemised")
    if it:
        rows.append(
            _row(
                f"itemised {it['meters']:,} m-y, {it['processes']} processes, wall",
                f"{it['wall_s']:.1f} s",
                "< 60 s",
                _status(it["wall_s"] < TARGET_ITEMISED_S),
            )
        )
        rows.append(
            _row(
                "itemised peak memory (sum of processes' max RSS)",
                f"{it['peak_rss_bytes'] / 1e9:.2f} GB",
                "< 4 GB",
                _status(it["peak_rss_bytes"] < TARGET_PEAK_BYTES),
            )
        )
        rows.append(
            _row(
                "itemised lines written to Parquet",
                f"{it['lines']:,}",
                "",
                f"({it['parquet_bytes'] / 1e6:.0f} MB)",
            )
        )
        rows.append(
            _row(
                "itemised CPU: generate / bill / lines+Parquet",
                f"{it['make_s']:.1f}/{it['bill_s']:.1f}/{it['write_s']:.1f} s",
            )
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (CI smoke test)")
    ap.add_argument("--meters", type=int, help="meter-years for (a) and (c)")
    ap.add_argument("--chunk", type=int, help="meters per IntervalData chunk")
    ap.add_argument("--pysam-meters", type=int, help="meters for PySAM (b) and (d)")
    ap.add_argument("--itemised", type=int, help="meter-years for (e); 0 skips it")
    ap.add_argument("--itemised-chunk", type=int, help="meters per chunk in (e)")
    ap.add_argument("--processes", type=int, default=2, help="processes for (e)")
    ap.add_argument("--resolutions", default="15min,hourly", help="15min and/or hourly")
    ap.add_argument("--seed", type=int, default=YEAR)
    ap.add_argument(
        "--out", help="JSON result file (full runs default to bench/results/tariff-<date>.json)"
    )
    ap.add_argument(
        "--keep-lines",
        action="store_true",
        help="keep the Parquet line tables of (e) (bench/results/*.tmp)",
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](json.loads(args.params))))
        return 0
    quick = args.quick
    meters = args.meters or (400 if quick else 20_000)
    chunk = args.chunk or (100 if quick else 1_000)
    n_sam = args.pysam_meters or (10 if quick else 200)
    n_item = args.itemised if args.itemised is not None else (400 if quick else 100_000)
    item_chunk = args.itemised_chunk or (100 if quick else 1_000)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    res: dict[str, Any] = {
        "benchmark": "gridtwin tariff engine vs PySAM Utilityrate5 vs numpy floor",
        "date": dt.date.today().isoformat(),
        "quick": quick,
        "seed": args.seed,
        "scenario": "2018 UTC, 3-band TOU 0.20/0.25/0.30 USD/kWh + 10 USD/month (URDB record)",
        "machine": machine(),
        "resolutions": {},
        "targets": {
            "totals_per_s_one_core": TARGET_TOTALS_PER_S,
            "itemised_100k_wall_s": TARGET_ITEMISED_S,
            "itemised_peak_bytes": TARGET_PEAK_BYTES,
            "agreement_rel": TARGET_AGREEMENT,
        },
    }
    timeout = 120 if quick else 1800
    for label in [r.strip() for r in args.resolutions.split(",") if r.strip()]:
        sph = {"15min": 4, "hourly": 1}[label]
        base = {"steps_per_hour": sph, "seed": args.seed, "check": n_sam}
        print(f"[{label}] gridtwin totals: {meters} meter-years ...", flush=True)
        g = run_worker("gridtwin", {**base, "meters": meters, "chunk": chunk}, timeout)
        print(f"[{label}] PySAM warm loop: {n_sam} meter-years ...", flush=True)
        s = run_worker("pysam", {**base, "meters": n_sam}, timeout)
        print(f"[{label}] numpy floor: {meters} meter-years ...", flush=True)
        f = run_worker("floor", {**base, "meters": meters, "chunk": chunk}, timeout)
        res["resolutions"][label] = {
            "gridtwin": g,
            "pysam": s,
            "floor": f,
            "ratio_vs_pysam": g["per_s"] / s["per_s"],
            "ratio_vs_floor": g["per_s"] / f["per_s"],
            "agreement_vs_pysam": max_rel_diff(g["annual_check"], s["annual_check"]),
            "agreement_floor_vs_pysam": max_rel_diff(f["annual_check"], s["annual_check"]),
            "agreement_vs_floor_all": abs(g["annual_sum"] - f["annual_sum"]) / f["annual_sum"],
        }
    if n_item:
        print(f"itemised: {n_item} meter-years on {args.processes} processes ...", flush=True)
        it = run_worker(
            "itemised",
            {
                "meters": n_item,
                "chunk": item_chunk,
                "processes": args.processes,
                "seed": args.seed,
                "check": n_sam,
                "keep": args.keep_lines,
                "out_dir": str(RESULTS / f"itemised-{stamp}.tmp"),
            },
            timeout,
        )
        res["itemised"] = it
        ref = res["resolutions"].get("15min", {}).get("pysam")
        if ref:
            it["agreement_vs_pysam"] = max_rel_diff(it["annual_check"], ref["annual_check"])
    for r in res["resolutions"].values():
        for key in ("gridtwin", "pysam", "floor"):
            r[key].pop("annual_check", None)
    if res.get("itemised"):
        res["itemised"].pop("annual_check", None)
    table = report(res)
    res["table"] = table.splitlines()
    print()
    print(table)
    out = args.out or (None if quick else str(RESULTS / f"tariff-{res['date']}.json"))
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
