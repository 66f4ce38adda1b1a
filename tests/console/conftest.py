"""The console in a real browser: Debian's Chromium driven by Playwright, a real uvicorn on
127.0.0.1 serving the app with a live twin of an LV feeder (its first hour in the store).

The browser is the system's ``chromium-headless-shell`` or ``chromium`` (installed by
``scripts/sysdeps-chromium.sh``), never one Playwright downloads; without either the
tests skip and say why. Screenshots go to ``build/screenshots/`` (not committed).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gridtwin.service.app import create_app
from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import NetworkSource, TwinConfig, twin_extension
from tests.service.conftest import (
    PASSWORD,
    ROLES,
    TWIN_CODE,
    add_twin_hour,
    add_users,
    issue_tokens,
    make_store,
)
from tests.service.test_alarm_stream import LiveServer

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}


def chromium_path() -> str | None:
    """The system's headless Chromium, if there is one."""
    for name in ("chromium-headless-shell", "chromium"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Console:
    """The running service and API tokens per role (for pushing data, checking results)."""

    server: LiveServer
    tokens: dict[str, str]
    pushed: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def api(self, method: str, path: str, role: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        with httpx.Client(base_url=self.server.base, timeout=httpx.Timeout(20.0)) as c:
            return c.request(method, path, headers=headers, **kwargs)

    def intervals(self) -> int:
        n: int = self.api("GET", "/twin", "viewer").json()["intervals_updated"]
        return n

    def push_overload(self, ts: str = "2016-01-01T01:00Z", hot_kw: float = 450.0) -> None:
        """The next interval's load measurements through ``POST /measurements`` (operator),
        with the last household at ``hot_kw``: its cables overload and its customers'
        voltage falls below the band (0.84 pu against 0.855 at 450 kW)."""
        latest = self.api("GET", "/measurements/latest", "viewer").json()["values"]
        loads = [v["point_id"] for v in latest if v["point_id"].startswith("load:")]
        hot = max(loads, key=lambda p: int(p.split(":")[1]))
        items = [
            {
                "point_id": v["point_id"],
                "ts": ts,
                "value": hot_kw if v["point_id"] == hot else v["value"],
            }
            for v in latest
            if v["value"] is not None and v["point_id"].startswith(("load:", "sgen:"))
        ]
        sent = self.api("POST", "/measurements", "operator", json={"items": items})
        assert sent.status_code == 200, sent.text
        assert sent.json()["stored"] == len(items), sent.text
        self.pushed.append(ts)

    def ensure_overload(self, timeout_s: float = 30.0) -> None:
        """The overload pushed once, and the twin's state of it computed."""
        if not self.pushed:
            self.push_overload()
        deadline = time.monotonic() + timeout_s
        while self.intervals() < 5:
            if time.monotonic() > deadline:
                pytest.fail("the twin did not update the pushed interval")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("console")
    settings = ServiceSettings(store=make_store(folder))
    add_twin_hour(settings.store)
    add_users(settings, {r.value: r for r in ROLES})
    config = TwinConfig(network=NetworkSource(simbench=TWIN_CODE), grace_s=0.0)
    server = LiveServer(create_app(settings, lifespans=[twin_extension(config)]))
    server.start()
    try:
        result = Console(server, issue_tokens(settings, [r.value for r in ROLES]))
        deadline = time.monotonic() + 60
        while result.intervals() < 4:
            if time.monotonic() > deadline:
                pytest.fail("the twin did not update the first hour")
            time.sleep(0.05)
        yield result
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        pytest.skip(
            "no chromium-headless-shell or chromium on PATH: run scripts/sysdeps-chromium.sh"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Tab:
    """A page of a fresh browser context and what its console reported."""

    page: Any
    errors: list[str] = field(default_factory=list)
    failed_responses: list[int] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def open_tab(browser: Any, console: Console) -> Iterator[Callable[[], Tab]]:
    """Opens tabs (each its own context: its own session storage) at 1280x800."""
    contexts: list[Any] = []

    def opener() -> Tab:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        tab = Tab(context.new_page())
        tab.page.on(
            "console",
            lambda m: tab.errors.append(f"console: {m.text}") if m.type == "error" else None,
        )
        tab.page.on("pageerror", lambda e: tab.errors.append(f"page error: {e}"))
        tab.page.on(
            "response", lambda r: tab.failed_responses.append(r.status) if r.status >= 400 else None
        )
        return tab

    yield opener
    for context in contexts:
        context.close()


def login(tab: Tab, console: Console, role: str, path: str = "/alarms") -> None:
    """Open ``path``: without a token the page sends to the login form; log in as ``role``."""
    page = tab.page
    page.goto(console.url + path)
    page.wait_for_url("**/login?next=*")
    page.fill("#username", role)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(console.url + path)
    # locator waits, not wait_for_function: the pages' CSP forbids the eval it polls with
    page.locator("#who", has_text=f"{role} (").wait_for()


def wait_live(tab: Tab) -> None:
    """Until the page's alarm stream is connected."""
    tab.page.locator("#stream-status", has_text=re.compile(r"^live$")).wait_for()


#: The rule that latches on the shared server (``shared_console``).
LATCHING_RULE = "line-loading-high"
#: A power-quality meter of the shared server (no element: the twin does not use it).
PQ_POINT = "pq:feeder-end:u"


def add_pq_day(location: str) -> None:
    """:data:`PQ_POINT`: 10-min phase voltages [V] of 2015-12-31 (the day before the twin's
    hour), 230 V but one interval at 190 V (below GOST/EN's -10 % band)."""
    import numpy as np
    import pandas as pd

    from gridtwin.store import MeasurementBatch, MeasurementPoint, open_store

    ts = pd.date_range("2015-12-31", periods=144, freq="10min").to_numpy("datetime64[us]")
    values = np.full(len(ts), 230.0)
    values[60] = 190.0
    with open_store(location) as store:
        store.add_points([MeasurementPoint(PQ_POINT, "u", "V", description="PQ meter")])
        store.write(MeasurementBatch.build([PQ_POINT] * len(ts), ts, values))


@pytest.fixture(scope="session")
def shared_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """One server for the test files that do not need a fresh one each (the alarm
    history, trends and compliance pages): a module takes it by overriding ``console``
    (``def console(shared_console): return shared_console``), so ``open_tab`` uses it too.
    Its tests push the overload once (:meth:`Console.ensure_overload`) and check what
    they add, not the server's whole history. Its line-overload rule latches
    (:data:`LATCHING_RULE`)."""
    from importlib import resources

    import yaml

    folder = tmp_path_factory.mktemp("shared-console")
    settings = ServiceSettings(store=make_store(folder))
    add_twin_hour(settings.store)
    add_users(settings, {r.value: r for r in ROLES})
    # the built-in rules, with the line overload latching (a latched alarm to reset)
    rules = yaml.safe_load(
        (resources.files("gridtwin.alarms") / "data" / "default-rules.yaml").read_text()
    )
    for rule in rules["rules"]:
        if rule["id"] == LATCHING_RULE:
            rule["latching"] = True
    rules_path = folder / "rules.yaml"
    add_pq_day(settings.store)
    rules_path.write_text(yaml.safe_dump(rules))
    config = TwinConfig(
        network=NetworkSource(simbench=TWIN_CODE), grace_s=0.0, alarm_rules=str(rules_path)
    )
    server = LiveServer(create_app(settings, lifespans=[twin_extension(config)]))
    server.start()
    try:
        result = Console(server, issue_tokens(settings, [r.value for r in ROLES]))
        deadline = time.monotonic() + 90
        while result.intervals() < 4:
            if time.monotonic() > deadline:
                pytest.fail("the twin did not update the first hour")
            time.sleep(0.05)
        result.ensure_overload()
        yield result
    finally:
        server.stop()
