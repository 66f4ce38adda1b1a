#!/usr/bin/env python3
"""The service under a mixed load at a fixed request rate, with ingest running, beside
the floor.

What is measured, in one run:

- **server**: ``create_app`` under a real uvicorn (uvloop, httptools) on 127.0.0.1 in a
  subprocess, on an embedded store of ``--points`` points (``load:<i>:p``, kW) holding one
  day of 15-minute values; with ``--background`` (default on) a second ingest pipeline in
  the server writes one value for every point each second (live telemetry, like a replay
  at 900x).
- **load**: a second process (aiohttp) sends ``--rate`` requests per second in total for
  ``--duration`` seconds, open-loop, each at its scheduled time; latency is measured from
  the scheduled time (a slow answer delays nothing and hides nothing: no coordinated
  omission). The mix, as a console and other systems use the API: 45 %
  ``GET /measurements/latest`` of 10 points, 15 % ``GET /points/{id}/measurements`` (a
  day of one point), 10 % ``GET /points``, 5 % ``GET /health`` and 25 %
  ``POST /measurements`` of 10 new values (operator token; ingest by other systems).
- **floor**: the same store calls in one process without HTTP: ``store.latest`` of the
  same 10 points, and the service's ingest path (``ApiIngest.ingest``: checks, durable
  write) of 10 new values, one after the other.

Usage::

    python bench/bench_api.py [--rate 200] [--duration 20] [--out bench/results/...json]
    python bench/bench_api.py --quick      # 50 req/s for 3 s (the smoke test)

Bounded: ``rate * duration`` requests, a 60 s cap after the last one is due.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, steal_s

PASSWORD = "bench password 0123"
T0 = "2026-01-01T00:00:00+00:00"


# ---------------------------------------------------------------------- set-up


def _setup(folder: Path, n_points: int) -> dict[str, Any]:
    """A store with points and a day of values, an operator and its token."""
    import numpy as np

    from gridtwin.service.auth import create_admin, issue_token, open_accounts
    from gridtwin.service.settings import ServiceSettings
    from gridtwin.store import MeasurementBatch, MeasurementPoint, open_store

    location = str(folder / "store")
    with open_store(location, create=True) as store:
        store.add_points(MeasurementPoint(f"load:{i}:p", "p", "kW") for i in range(n_points))
        steps = 96
        ts = np.datetime64("2026-01-01T00:00", "us") + np.arange(steps) * np.timedelta64(15, "m")
        ids = np.repeat(np.array([f"load:{i}:p" for i in range(n_points)], object), steps)
        rng = np.random.default_rng(1)
        store.write(MeasurementBatch.build(ids, np.tile(ts, n_points), rng.random(len(ids))))
    settings = ServiceSettings(store=location)
    create_admin(settings, "bench-admin", PASSWORD)
    from gridtwin.service._accounts import Role

    with open_accounts(settings) as acc:
        acc.create_user("bench-op", Role.operator, PASSWORD)
    token = issue_token(settings, "bench-op", 3600).token
    return {"store": location, "token": token}


def _ten(n_points: int) -> list[str]:
    """Ten point ids spread over the store."""
    return [f"load:{i}:p" for i in range(0, n_points, max(1, n_points // 10))][:10]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ---------------------------------------------------------------------- the server


def _background_ingest(n_points: int) -> Any:
    """An extension: a second pipeline writing one value per point each second."""
    import contextlib

    import numpy as np

    @contextlib.asynccontextmanager
    async def background(state: Any) -> Any:
        from gridtwin.ingest import Pipeline, RawBatch

        stop = threading.Event()
        ids = np.array([f"load:{i}:p" for i in range(n_points)], object)
        counts = {"batches": 0}

        def run() -> None:
            with Pipeline(state.store) as pipe:
                t = np.datetime64("2026-01-02T00:00", "us")
                while not stop.wait(1.0):
                    pipe.submit(RawBatch.build(ids, np.full(n_points, t), np.ones(n_points)))
                    t += np.timedelta64(15, "m")
                    counts["batches"] += 1

        thread = threading.Thread(target=run, name="bench-replay", daemon=True)
        thread.start()
        try:
            yield counts
        finally:
            stop.set()
            thread.join(timeout=30)

    return background


def serve(params: dict[str, Any]) -> None:
    """The server process: uvicorn on 127.0.0.1:<port> until SIGINT."""
    import uvicorn

    from gridtwin.service.app import create_app
    from gridtwin.service.settings import ServiceSettings

    settings = ServiceSettings(
        store=params["store"],
        port=params["port"],
        switch_interval_ms=params["switch_interval_ms"],
    )
    extensions = [_background_ingest(params["points"])] if params["background"] else []
    uvicorn.run(
        create_app(settings, lifespans=extensions),
        host="127.0.0.1",
        port=settings.port,
        log_level="warning",
        access_log=False,
    )


# ---------------------------------------------------------------------- the load


def _percentiles(values_ms: list[float]) -> dict[str, float]:
    if not values_ms:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    ordered = sorted(values_ms)
    q = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else ordered * 99
    )
    return {"p50_ms": q[49], "p99_ms": q[98], "max_ms": ordered[-1]}


#: The mix: (route name, share of the requests).
MIX = (("latest", 0.45), ("window", 0.15), ("points", 0.10), ("health", 0.05), ("ingest", 0.25))


def _schedule(n: int, mix: tuple[tuple[str, float], ...] = MIX) -> list[str]:
    """Route names for ``n`` requests: the mix's shares, interleaved evenly."""
    out: list[str] = []
    credit = dict.fromkeys((name for name, _ in mix), 0.0)
    for _ in range(n):
        for name, share in mix:
            credit[name] += share
        name = max(credit, key=lambda k: credit[k])
        credit[name] -= 1.0
        out.append(name)
    return out


async def _load(params: dict[str, Any]) -> dict[str, Any]:
    import aiohttp

    base = f"http://127.0.0.1:{params['port']}/api/v1"
    auth = {"Authorization": f"Bearer {params['token']}"}
    points = _ten(params["points"])
    ingest_n = 0

    def request(name: str, i: int) -> tuple[str, str, dict[str, Any]]:
        nonlocal ingest_n
        if name == "latest":
            return "GET", "/measurements/latest", {"params": {"points": ",".join(points)}}
        if name == "window":
            point = points[i % len(points)]
            q = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
            return "GET", f"/points/{point}/measurements", {"params": q}
        if name == "points":
            return "GET", "/points", {}
        if name == "health":
            return "GET", "/health", {}
        # live telemetry from another system: new values, one second apart per request
        ingest_n += 1
        ts = (dt.datetime(2026, 2, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=ingest_n)).isoformat()
        items = [{"point_id": p, "ts": ts, "value": float(i)} for p in points]
        return "POST", "/measurements", {"json": {"items": items}}

    rate, duration = params["rate"], params["duration"]
    mix = ((params["only"], 1.0),) if params.get("only") else MIX
    names = _schedule(int(rate * duration), mix)
    latencies: dict[str, list[float]] = {name: [] for name, _ in mix}
    statuses: dict[str, int] = {}
    errors: list[str] = []
    connector = aiohttp.TCPConnector(limit=128)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        base_url=base + "/", headers=auth, connector=connector, timeout=timeout
    ) as session:
        async with session.get("measurements/latest", params={"points": points[0]}) as r:
            await r.read()  # warm up
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.2

        async def one(i: int, name: str) -> None:
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            method, path, kw = request(name, i)
            try:
                async with session.request(method, path.lstrip("/"), **kw) as r:
                    await r.read()
                    statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
            except Exception as exc:  # counted, the run goes on
                errors.append(type(exc).__name__)
                return
            latencies[name].append((loop.time() - due) * 1000)

        tasks = [asyncio.create_task(one(i, name)) for i, name in enumerate(names)]
        _done, pending = await asyncio.wait(tasks, timeout=duration + 60)
        for t in pending:
            t.cancel()
        elapsed = loop.time() - start
        async with session.get("health") as r:
            health = await r.json()
    every = [x for v in latencies.values() for x in v]
    return {
        "requests": len(names),
        "completed": len(every),
        "timed_out": len(pending),
        "errors": len(errors),
        "statuses": dict(sorted(statuses.items())),
        "achieved_rate_per_s": len(every) / elapsed if elapsed > 0 else 0.0,
        "ingest_requests": health["ingest_requests"],
        "ingest_transactions": health["ingest_transactions"],
        "all": _percentiles(every),
        "routes": {name: {"requests": len(v), **_percentiles(v)} for name, v in latencies.items()},
    }


def load(params: dict[str, Any]) -> None:
    """The load process: prints one JSON line."""
    print(json.dumps(asyncio.run(_load(params))))


# ---------------------------------------------------------------------- the floor


def floor(params: dict[str, Any]) -> dict[str, Any]:
    """The same store calls in-process, without HTTP."""
    import numpy as np

    from gridtwin.ingest import RawBatch
    from gridtwin.service._ingest import ApiIngest
    from gridtwin.store import open_store

    points = _ten(params["points"])
    n = max(20, int(params["rate"] * params["duration"]) // 4)
    with open_store(params["store"], threads=1) as store:  # as the service opens it
        lat = []
        for _ in range(n):
            t = time.perf_counter()
            store.latest(points)
            lat.append((time.perf_counter() - t) * 1000)
        ingest = ApiIngest(store, 30.0)
        ing = []
        t0 = np.datetime64("2026-03-01T00:00", "us")
        try:
            for i in range(n):
                ts = np.full(len(points), t0 + np.timedelta64(i, "s"))
                raw = RawBatch.build(points, ts, np.full(len(points), float(i)))
                t = time.perf_counter()
                ingest.ingest(raw)
                ing.append((time.perf_counter() - t) * 1000)
        finally:
            ingest.close()
    return {"calls": n, "latest": _percentiles(lat), "ingest": _percentiles(ing)}


# ---------------------------------------------------------------------- main


def _worker(script: str, mode: str, params: dict[str, Any], **kw: Any) -> subprocess.Popen[str]:
    cmd = [sys.executable, script, "--worker", mode, "--params", json.dumps(params)]
    return subprocess.Popen(cmd, text=True, **kw)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_up(port: int, proc: subprocess.Popen[str], timeout_s: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = "the server stopped at start"
            raise RuntimeError(msg)
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    msg = "the server did not start in time"
    raise RuntimeError(msg)


def run(args: argparse.Namespace) -> dict[str, Any]:
    script = str(Path(__file__).resolve())
    with tempfile.TemporaryDirectory(prefix="gridtwin-bench-api-") as tmp:
        setup = _setup(Path(tmp), args.points)
        params = {
            **setup,
            "port": _free_port(),
            "points": args.points,
            "rate": args.rate,
            "duration": args.duration,
            "background": not args.no_background,
            "only": args.only,
            "switch_interval_ms": args.switch_interval_ms,
        }
        server = _worker(script, "server", params, stderr=subprocess.PIPE)
        try:
            _wait_up(params["port"], server)
            cpu0, steal0 = _cpu_s(server.pid), steal_s()
            loader = _worker(script, "load", params, stdout=subprocess.PIPE)
            out, _ = loader.communicate(timeout=2 * (args.duration + 60))
            server_cpu_s = _cpu_s(server.pid) - cpu0
            steal1 = steal_s()
            if loader.returncode != 0:
                msg = f"the load process failed ({loader.returncode})"
                raise RuntimeError(msg)
            http = json.loads(out.strip().splitlines()[-1])
            # the server's CPU time per answered request (the background ingest included):
            # what the rate costs, whatever else the machine is doing
            http["server_cpu_s"] = server_cpu_s
            http["server_cpu_ms_per_request"] = 1000 * server_cpu_s / max(1, http["completed"])
            # CPU the host gave to other machines meanwhile (a shared host's noise)
            http["steal_s"] = None if steal0 is None or steal1 is None else steal1 - steal0
        finally:
            server.send_signal(signal.SIGINT)
            try:
                _, err = server.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                _, err = server.communicate()
        if server.returncode != 0:
            msg = f"the server failed ({server.returncode}): {err[-2000:]}"
            raise RuntimeError(msg)
        floor_result = floor(params)
    return {
        "benchmark": "api",
        "date": date.today().isoformat(),
        "quick": args.quick,
        "machine": machine(("fastapi", "uvicorn", "uvloop", "httptools", "aiohttp", "duckdb")),
        "points": args.points,
        "rate_per_s": args.rate,
        "duration_s": args.duration,
        "background_ingest": params["background"],
        "switch_interval_ms": args.switch_interval_ms,
        "values_per_request": 10,
        "mix": {args.only: 1.0} if args.only else dict(MIX),
        "http": http,
        "floor_in_process": floor_result,
    }


def _table(res: dict[str, Any]) -> str:
    h, f = res["http"], res["floor_in_process"]
    lines = [
        f"{res['rate_per_s']:g} req/s for {res['duration_s']:g} s, switch interval "
        f"{res['switch_interval_ms']:g} ms "
        f"(achieved {h['achieved_rate_per_s']:.1f}/s; {h['completed']}/{h['requests']} "
        f"answered, statuses {h['statuses']}, errors {h['errors']}; server CPU "
        f"{h['server_cpu_ms_per_request']:.2f} ms per request; {h['ingest_requests']} ingest "
        f"requests in {h['ingest_transactions']} transactions; CPU stolen by the host "
        f"{h.get('steal_s') or 0:.1f} s)",
        f"{'route':<34} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}",
        f"{'all':<34} {h['completed']:>6} {h['all']['p50_ms']:8.2f} "
        f"{h['all']['p99_ms']:8.2f} {h['all']['max_ms']:8.2f}",
    ]
    labels = {
        "latest": "GET /measurements/latest (10)",
        "window": "GET /points/{id}/measurements",
        "points": "GET /points",
        "health": "GET /health",
        "ingest": "POST /measurements (10)",
    }
    for name, r in h["routes"].items():
        lines.append(
            f"{labels[name]:<34} {r['requests']:>6} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} "
            f"{r['max_ms']:8.2f}"
        )
    lines.append(
        f"floor in-process: latest p50/p99 {f['latest']['p50_ms']:.2f}/"
        f"{f['latest']['p99_ms']:.2f} ms; ingest one at a time p50/p99 "
        f"{f['ingest']['p50_ms']:.2f}/{f['ingest']['p99_ms']:.2f} ms"
    )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=200.0, help="requests per second in total")
    p.add_argument("--duration", type=float, default=20.0, help="seconds")
    p.add_argument("--points", type=int, default=1000)
    p.add_argument("--no-background", action="store_true", help="no concurrent ingest")
    p.add_argument(
        "--only", choices=[name for name, _ in MIX], default=None, help="one route, not the mix"
    )
    p.add_argument(
        "--switch-interval-ms",
        type=float,
        default=1.0,
        help="the service's GRIDTWIN_SWITCH_INTERVAL_MS (Python's default is 5)",
    )
    p.add_argument("--quick", action="store_true", help="50 req/s for 3 s, 200 points")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--params", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker == "server":
        serve(json.loads(args.params))
        return
    if args.worker == "load":
        load(json.loads(args.params))
        return
    if args.quick:
        args.rate, args.duration, args.points = 50.0, 3.0, 200
    res = run(args)
    res["table"] = _table(res)
    print(res["table"])
    out = args.out
    if out is None and not args.quick:
        out = Path(__file__).resolve().parent / "results" / f"api-{res['date']}.json"
    if out is not None:
        out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
