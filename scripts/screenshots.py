#!/usr/bin/env python3
"""The README's screenshots: the console's network view and alarm list on the demo twin.

Starts the demo service (``gridtwin serve --demo``: the semi-urban LV feeder with its
apartments electrified, replayed at 900x) on 127.0.0.1 in a subprocess with a fresh
temporary store, waits until the twin has raised an alarm (or ``--wait-s`` has passed),
logs in through the console's form as the demo operator in Debian's Chromium
(Playwright; never a downloaded browser: run ``scripts/sysdeps-chromium.sh``), and
writes ``network.png`` and ``alarms.png`` at 1280x800 to ``docs/images/``.

Usage::

    .venv/bin/python scripts/screenshots.py [--out docs/images] [--wait-s 150]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def serve(params: dict[str, object]) -> None:
    """The server process: the demo service until SIGINT."""
    import uvicorn

    from gridtwin.service.app import create_app
    from gridtwin.service.settings import demo_settings
    from gridtwin.service.twin import demo_twin_config, twin_extension

    settings = demo_settings(
        str(params["store"]), port=int(str(params["port"])), demo_password=params["password"]
    )
    app = create_app(settings, lifespans=[twin_extension(demo_twin_config())])
    uvicorn.run(app, host="127.0.0.1", port=settings.port, log_level="warning")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _token(base: str, password: str, proc: subprocess.Popen[bytes]) -> str:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("the demo service stopped at start")
        try:
            r = httpx.post(
                base + "/api/v1/auth/token",
                json={"username": "viewer", "password": password},
                timeout=5,
            )
            if r.status_code == 201:
                token: str = r.json()["access_token"]
                return token
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    sys.exit("the demo service did not answer within 120 s")


def _wait_for_alarm(base: str, token: str, wait_s: float) -> int:
    """Until the twin has an open alarm (or ``wait_s`` passed); how many are open."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + wait_s
    n = 0
    while time.monotonic() < deadline:
        r = httpx.get(base + "/api/v1/alarms", headers=headers, timeout=10)
        if r.status_code == 200:
            n = sum(1 for a in r.json()["alarms"] if a["state"] != "normal")
            if n:
                return n
        time.sleep(1.0)
    return n


def shoot(base: str, password: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if exe is None:
        sys.exit("no chromium-headless-shell or chromium on PATH: run scripts/sysdeps-chromium.sh")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            page.goto(base + "/alarms")
            page.wait_for_url("**/login?next=*")
            page.fill("#username", "operator")
            page.fill("#password", password)
            page.click("#login-submit")
            page.wait_for_url(base + "/alarms")
            page.locator("#stream-status", has_text="live").wait_for()
            page.locator("#health dt").first.wait_for()
            page.wait_for_timeout(500)
            written.append(out / "alarms.png")
            page.screenshot(path=str(written[-1]))
            page.click("nav >> text=Network")
            page.locator("svg#network circle.bus[data-vm-pu]").first.wait_for()
            page.wait_for_timeout(500)
            written.append(out / "network.png")
            page.screenshot(path=str(written[-1]))
        finally:
            browser.close()
    return written


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    p.add_argument("--wait-s", type=float, default=150.0, help="longest wait for an alarm")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--params", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker == "server":
        serve(json.loads(args.params))
        return
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="gridtwin-screenshots-") as tmp:
        params = {"store": str(Path(tmp) / "store"), "port": _free_port(), "password": password}
        base = f"http://127.0.0.1:{params['port']}"
        cmd = [sys.executable, __file__, "--worker", "server", "--params", json.dumps(params)]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        try:
            token = _token(base, password, server)
            n = _wait_for_alarm(base, token, args.wait_s)
            print(f"{n} open alarm(s) on the demo twin")
            for path in shoot(base, password, args.out):
                print(f"wrote {path}")
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
