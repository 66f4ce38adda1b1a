#!/usr/bin/env python3
"""The console's pages: server time of each page's first render on the demo twin, beside
the floor (the health route) in the same run.

What is measured, in one run:

- **server**: the demo service as ``gridtwin serve --demo`` runs it (``create_app`` with
  the demo twin: SimBench's semi-urban LV feeder replayed at 900x, computing a state each
  second meanwhile) under a real uvicorn on 127.0.0.1, in a subprocess, on a fresh
  embedded store; measured once its twin has a state.
- **pages**: every console page route of the app (GET routes of the console's modules
  without path parameters, found in the app itself, so pages added later are included);
  ``/`` only redirects and is left out.
- **first render**: what each page asks the API for when it opens, found by opening it
  in Debian's Chromium (Playwright) as the demo admin and recording its ``/api/v1``
  requests (the alarm stream, which never ends, aside). Without a Chromium only the
  pages' HTML is measured, and the results say so.
- **timing**: from this process (a second process), one request at a time over one
  keep-alive connection: per round and page, the page's HTML and then each of its API
  calls in turn; a page's time is the sum (the browser sends some calls together, so the
  sum is an upper bound). ``GET /api/v1/health`` in the same rounds is the floor.
  Target: each page's first render < 300 ms server time.

Usage::

    python bench/bench_console.py [--rounds 50] [--out bench/results/console-<date>.json]
    python bench/bench_console.py --quick     # 5 rounds, no file unless --out
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, steal_s

PASSWORD = "bench console password 42"
USER = "admin"  # the demo's users: viewer, operator, admin (admin may bill and norm)
TARGET_MS = 300.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ---------------------------------------------------------------------- the server


def serve(params: dict[str, Any]) -> None:
    """The server process: the demo service on 127.0.0.1:<port> until SIGINT."""
    import uvicorn

    from gridtwin.service.app import create_app
    from gridtwin.service.settings import demo_settings
    from gridtwin.service.twin import demo_twin_config, twin_extension

    settings = demo_settings(params["store"], port=params["port"], demo_password=PASSWORD)
    app = create_app(settings, lifespans=[twin_extension(demo_twin_config())])
    uvicorn.run(app, host="127.0.0.1", port=params["port"], log_level="warning")


def _wait_ready(base: str, proc: subprocess.Popen[str], token_out: list[str]) -> None:
    """Until the service answers and its twin has a state; the demo admin's token."""
    import httpx

    deadline = time.monotonic() + 180
    token = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = "the server stopped at start"
            raise RuntimeError(msg)
        try:
            if token is None:
                r = httpx.post(
                    base + "/api/v1/auth/token",
                    json={"username": USER, "password": PASSWORD},
                    timeout=5,
                )
                if r.status_code == 201:
                    token = r.json()["access_token"]
            if token is not None:
                r = httpx.get(
                    base + "/api/v1/twin/state",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=5,
                )
                if r.status_code == 200:
                    token_out.append(token)
                    return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    msg = "the demo twin had no state within 180 s"
    raise RuntimeError(msg)


# ---------------------------------------------------------------------- the pages


def console_pages() -> list[str]:
    """The console's page routes, read from an app: GET, no path parameters, not assets."""
    from fastapi.routing import iter_route_contexts

    from gridtwin.service.app import create_app
    from gridtwin.service.settings import ServiceSettings

    with tempfile.TemporaryDirectory(prefix="gridtwin-bench-routes-") as tmp:
        app = create_app(ServiceSettings(store=tmp))
        pages = []
        for route in iter_route_contexts(app.routes):
            if "GET" not in (route.methods or ()):
                continue
            module = getattr(route.endpoint, "__module__", "")
            if not module.startswith("gridtwin.service.console"):
                continue
            if "{" in route.path or route.path.startswith("/console/") or route.path == "/":
                continue
            if route.path == "/login":
                continue  # the form itself; it asks the API for nothing
            pages.append(route.path)
    return sorted(set(pages))


def chromium() -> str | None:
    import shutil

    for name in ("chromium-headless-shell", "chromium"):
        found = shutil.which(name)
        if found:
            return found
    return None


def discover(base: str, token: str, pages: list[str], settle_s: float) -> dict[str, Any]:
    """Each page's API requests on first render, recorded in Chromium."""
    exe = chromium()
    if exe is None:
        return {"browser": None, "calls": {p: [] for p in pages}}
    from playwright.sync_api import sync_playwright

    calls: dict[str, list[dict[str, Any]]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True)
        try:
            for path in pages:
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                context.add_init_script(
                    f"sessionStorage.setItem('gridtwin.token', {json.dumps(token)})"
                )
                page = context.new_page()
                seen: list[dict[str, Any]] = []

                def record(request: Any, seen: list[dict[str, Any]] = seen) -> None:
                    url = request.url.removeprefix(base)
                    if not url.startswith("/api/v1/") or url.startswith("/api/v1/alarms/stream"):
                        return
                    call = {"method": request.method, "path": url, "body": request.post_data}
                    if call not in seen:
                        seen.append(call)

                page.on("request", record)
                page.goto(base + path)
                page.wait_for_load_state("load")
                page.wait_for_timeout(int(settle_s * 1000))
                calls[path] = seen
                context.close()
        finally:
            browser.close()
    return {"browser": exe, "calls": calls}


# ---------------------------------------------------------------------- the timing


def _percentiles(values_ms: list[float]) -> dict[str, float]:
    ordered = sorted(values_ms)
    q = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else ordered * 99
    )
    return {"p50_ms": q[49], "p99_ms": q[98], "max_ms": ordered[-1], "n": len(ordered)}


def _names(calls: list[dict[str, Any]]) -> list[str]:
    """``METHOD path`` of each call, numbered where one path is asked more than once."""
    plain = [f"{c['method']} {c['path']}" for c in calls]
    return [
        f"{n} #{plain[:i].count(n) + 1}" if plain.count(n) > 1 else n for i, n in enumerate(plain)
    ]


def measure(
    base: str, token: str, calls: dict[str, list[dict[str, Any]]], rounds: int
) -> dict[str, Any]:
    import httpx

    auth = {"Authorization": f"Bearer {token}"}
    shells: dict[str, list[float]] = {p: [] for p in calls}
    api: dict[str, dict[str, list[float]]] = {p: {} for p in calls}
    totals: dict[str, list[float]] = {p: [] for p in calls}
    floor: list[float] = []
    statuses: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=60) as client:

        def timed(method: str, path: str, body: str | None = None, headers: Any = None) -> float:
            h = dict(headers or {})
            if body is not None:
                h["Content-Type"] = "application/json"
            t = time.perf_counter()
            r = client.request(method, path, content=body, headers=h)
            elapsed = (time.perf_counter() - t) * 1000
            statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1
            return elapsed

        for path, page_calls in calls.items():  # warm-up: one round, not counted
            timed("GET", path)
            for c in page_calls:
                timed(c["method"], c["path"], c["body"], auth)
        for _ in range(rounds):
            floor.append(timed("GET", "/api/v1/health"))
            for path, page_calls in calls.items():
                total = timed("GET", path)
                shells[path].append(total)
                for name, c in zip(_names(page_calls), page_calls, strict=True):
                    ms = timed(c["method"], c["path"], c["body"], auth)
                    api[path].setdefault(name, []).append(ms)
                    total += ms
                totals[path].append(total)
    pages = {}
    for path in calls:
        t = _percentiles(totals[path])
        pages[path] = {
            "first_render": t,
            "meets_target": t["p99_ms"] < TARGET_MS,
            "html": _percentiles(shells[path]),
            "api_calls": {k: _percentiles(v) for k, v in api[path].items()},
        }
    return {"floor_health": _percentiles(floor), "pages": pages, "statuses": statuses}


# ---------------------------------------------------------------------- main


def run(args: argparse.Namespace) -> dict[str, Any]:
    script = str(Path(__file__).resolve())
    pages = console_pages()
    with tempfile.TemporaryDirectory(prefix="gridtwin-bench-console-") as tmp:
        params = {"store": str(Path(tmp) / "store"), "port": _free_port()}
        base = f"http://127.0.0.1:{params['port']}"
        cmd = [sys.executable, script, "--worker", "server", "--params", json.dumps(params)]
        server = subprocess.Popen(cmd, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            token: list[str] = []
            _wait_ready(base, server, token)
            found = discover(base, token[0], pages, args.settle_s)
            steal0 = steal_s()
            timing = measure(base, token[0], found["calls"], args.rounds)
            steal1 = steal_s()
        finally:
            server.send_signal(signal.SIGINT)
            try:
                _, err = server.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                _, err = server.communicate()
        if server.returncode not in (0, -signal.SIGINT):
            msg = f"the server failed ({server.returncode}): {(err or '')[-2000:]}"
            raise RuntimeError(msg)
    return {
        "benchmark": "console",
        "date": date.today().isoformat(),
        "quick": args.quick,
        "machine": machine(("fastapi", "uvicorn", "jinja2", "playwright", "plotly")),
        "twin": "demo (SimBench 1-LV-semiurb4--0-sw, replayed at 900x)",
        "rounds": args.rounds,
        "target_ms": TARGET_MS,
        "pages_found": pages,
        "browser": found["browser"],
        "first_render_calls": {p: _names(cs) for p, cs in found["calls"].items()},
        **timing,
        "steal_s": None if steal0 is None or steal1 is None else steal1 - steal0,
    }


def _table(res: dict[str, Any]) -> str:
    f = res["floor_health"]
    lines = [
        f"{res['rounds']} rounds, one request at a time; floor GET /api/v1/health p50/p99 "
        f"{f['p50_ms']:.2f}/{f['p99_ms']:.2f} ms; statuses {res['statuses']}; CPU stolen "
        f"by the host {res.get('steal_s') or 0:.1f} s"
        + ("" if res["browser"] else "; NO CHROMIUM: the pages' HTML only"),
        f"{'page':<10} {'calls':>5} {'html p50':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8}  < {res['target_ms']:.0f} ms",
    ]
    for path, p in res["pages"].items():
        t, h = p["first_render"], p["html"]
        lines.append(
            f"{path:<10} {len(p['api_calls']):>5} {h['p50_ms']:9.2f} {t['p50_ms']:8.2f} "
            f"{t['p99_ms']:8.2f} {t['max_ms']:8.2f}  {'yes' if p['meets_target'] else 'NO'}"
        )
        for call, c in p["api_calls"].items():
            lines.append(f"    {call[:60]:<60} p50 {c['p50_ms']:7.2f}  p99 {c['p99_ms']:7.2f}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=50, help="requests of each page and call")
    p.add_argument("--settle-s", type=float, default=3.0, help="wait after a page loads [s]")
    p.add_argument("--quick", action="store_true", help="5 rounds; no file unless --out")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--params", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker == "server":
        serve(json.loads(args.params))
        return
    if args.quick:
        args.rounds = 5
    res = run(args)
    res["table"] = _table(res)
    print(res["table"])
    out = args.out
    if out is None and not args.quick:
        out = Path(__file__).resolve().parent / "results" / f"console-{res['date']}.json"
    if out is not None:
        out.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
