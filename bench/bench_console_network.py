#!/usr/bin/env python3
"""The console's network view of a large grid in Chromium: time to the drawn network.

What is measured, in one run:

- **server**: ``create_app`` with a twin of ``--grid`` (default SimBench's
  ``1-MVLV-semiurb-all-0-sw``, 9,099 buses) under a real uvicorn on 127.0.0.1 in a
  subprocess, on a fresh embedded store, with one admin user. The twin gets no telemetry
  (``--replay`` plays the grid's profiles at 90x, so that a state is there to colour).
- **browser**: Debian's Chromium (never a downloaded one) driven by Playwright logs in
  through the login form, then loads ``/network`` ``--runs`` times in the same tab. Per
  load: the time from the navigation's start to the network drawn (the page marks the
  SVG with ``data-drawn-ms``, ``performance.now()`` in the animation frame after the
  drawing; the older page, without that mark, is timed when its first bus circle
  appears), the topology request's duration and its transferred / decoded size (Resource
  Timing), and the first contentful paint of the shell. The first load is the cold one:
  the server builds the topology then (later loads are answered from its cache).

Usage::

    python bench/bench_console_network.py [--grid CODE] [--runs 3] [--out bench/results/...]

Target (issue 13): the 9,099-bus grid's network view < 2 s to first paint in Chromium.
"""

from __future__ import annotations

import argparse
import json
import shutil
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

PASSWORD = "bench password 0123"
BIG = "1-MVLV-semiurb-all-0-sw"
TARGET_MS = 2000.0


def _serve(params: dict[str, Any]) -> None:
    """The server process: uvicorn on 127.0.0.1:<port> with the twin until SIGINT."""
    import uvicorn

    from gridtwin.service.app import create_app
    from gridtwin.service.auth import create_admin
    from gridtwin.service.settings import ServiceSettings
    from gridtwin.service.twin import NetworkSource, ReplayConfig, TwinConfig, twin_extension
    from gridtwin.store import open_store

    with open_store(params["store"], create=True):
        pass
    settings = ServiceSettings(store=params["store"], port=params["port"])
    create_admin(settings, "bench-admin", PASSWORD)
    replay = ReplayConfig(speed=90.0) if params["replay"] else None
    config = TwinConfig(network=NetworkSource(simbench=params["grid"]), replay=replay)
    app = create_app(settings, lifespans=[twin_extension(config)])
    uvicorn.run(app, host="127.0.0.1", port=settings.port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(port: int, proc: subprocess.Popen[str], timeout_s: float) -> float:
    import httpx

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if proc.poll() is not None:
            msg = "the server stopped at start"
            raise RuntimeError(msg)
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    msg = f"the server did not answer within {timeout_s:.0f} s"
    raise RuntimeError(msg)


def _chromium() -> str:
    for name in ("chromium-headless-shell", "chromium"):
        found = shutil.which(name)
        if found:
            return found
    msg = "no chromium-headless-shell or chromium on PATH: run scripts/sysdeps-chromium.sh"
    raise SystemExit(msg)


_READ_TIMINGS = """() => {
  const svg = document.getElementById("network");
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const topo = performance.getEntriesByType("resource")
    .filter((r) => r.name.includes("/model/topology"))[0];
  return {
    drawn_ms: svg.dataset.drawnMs === undefined ? null : Number(svg.dataset.drawnMs),
    now_ms: performance.now(),
    nav_start_ms: nav ? nav.startTime : 0,
    fcp_ms: fcp ? fcp.startTime : null,
    topology_ms: topo ? topo.duration : null,
    topology_transfer_bytes: topo ? topo.transferSize : null,
    topology_decoded_bytes: topo ? topo.decodedBodySize : null,
    elements: svg.querySelectorAll("[data-element]").length,
    svg_nodes: svg.querySelectorAll("*").length,
  };
}"""


def _browse(port: int, runs: int) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{port}"
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url + "/network")
        page.wait_for_url("**/login?next=*")
        page.fill("#username", "bench-admin")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(url + "/network")
        for i in range(runs):
            if i:
                page.goto(url + "/network")
            page.wait_for_selector(
                "svg#network[data-drawn-ms], svg#network circle.bus", timeout=120_000
            )
            t = page.evaluate(_READ_TIMINGS)
            drawn = t["drawn_ms"] if t["drawn_ms"] is not None else t["now_ms"]
            t["first_paint_ms"] = drawn - t["nav_start_ms"]
            t["marked"] = t["drawn_ms"] is not None
            out.append(t)
            print(f"load {i}: {t['first_paint_ms']:.0f} ms to the drawn network", flush=True)
        browser.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=BIG)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--replay", action="store_true", help="replay the profiles at 90x")
    ap.add_argument("--label", default="", help="a word for the results (before, after)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker == "serve":
        _serve(json.loads(args.params))
        return

    port = _free_port()
    steal0 = steal_s()
    with tempfile.TemporaryDirectory(prefix="gridtwin-bench-console-") as folder:
        params = {
            "store": str(Path(folder) / "store"),
            "port": port,
            "grid": args.grid,
            "replay": args.replay,
        }
        cmd = [sys.executable, __file__, "--worker", "serve", "--params", json.dumps(params)]
        proc = subprocess.Popen(cmd, text=True)
        try:
            start_s = _wait_up(port, proc, timeout_s=900)
            print(f"server up in {start_s:.1f} s", flush=True)
            loads = _browse(port, args.runs)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    paints = [r["first_paint_ms"] for r in loads]
    warm = paints[1:] or paints
    result = {
        "benchmark": "console network view, first paint in Chromium",
        "label": args.label,
        "grid": args.grid,
        "machine": machine(("fastapi", "playwright", "pandapower")),
        "steal_s": None if steal0 is None else round((steal_s() or 0) - steal0, 2),
        "server_start_s": round(start_s, 1),
        "loads": loads,
        "cold_first_paint_ms": round(paints[0], 1),
        "warm_first_paint_ms_median": round(statistics.median(warm), 1),
        "target_ms": TARGET_MS,
        "met": max(paints) < TARGET_MS,
    }
    print(json.dumps({k: v for k, v in result.items() if k not in ("loads", "machine")}))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    else:
        name = f"console-network-{args.label or 'run'}-{date.today().isoformat()}.json"
        path = Path(__file__).resolve().parent / "results" / name
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"written {path}")


if __name__ == "__main__":
    main()
