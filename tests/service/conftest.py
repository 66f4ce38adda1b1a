"""The real app on a real DuckDB store in tmp_path, driven in-process over httpx.

:class:`Api` runs the app's lifespan and an ``httpx.AsyncClient`` over
``httpx.ASGITransport`` in an anyio portal (an event loop in a thread), so tests stay
plain functions and an app can live for a whole module. Nothing is mocked: the store, the
accounts database, argon2 and the ingest pipeline are the real ones.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pandas as pd
import pytest
from anyio.abc import TaskStatus
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from gridtwin.service._accounts import Accounts, Role
from gridtwin.service.app import create_app
from gridtwin.service.settings import ServiceSettings
from gridtwin.store import MeasurementPoint, open_store

PASSWORD = "correct horse battery staple"
POINTS = [
    MeasurementPoint("load:1:p", "p", "kW", element="load:1"),
    MeasurementPoint("load:2:p", "p", "kW", element="load:2", min_value=0.0, max_value=50.0),
    MeasurementPoint("bus:3:vm", "vm", "pu", element="bus:3"),
    MeasurementPoint("site/edge/meter", "energy", "kWh", scale=0.001),
]
ROLES = [Role.viewer, Role.operator, Role.analyst, Role.admin]


class Api:
    """A running app and a client of it (see the module docstring)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._stack = contextlib.ExitStack()
        self.portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())
        self._stop: anyio.Event | None = None
        self._task, _ = self.portal.start_task(self._serve)
        self.tokens: dict[str, str] = {}

    async def _serve(self, *, task_status: TaskStatus[None]) -> None:
        self._stop = anyio.Event()
        async with (
            self.app.router.lifespan_context(self.app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url="http://test"
            ) as client,
        ):
            self.client = client
            task_status.started()
            await self._stop.wait()

    def request(
        self, method: str, url: str, *, as_: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """``method url`` as the user ``as_`` (its token from :attr:`tokens`), or anonymous."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        call = functools.partial(self.client.request, method, url, headers=headers, **kwargs)
        response: httpx.Response = self.portal.call(call)
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def login(self, username: str, password: str = PASSWORD, **extra: Any) -> str:
        """Log in through the API; the token."""
        r = self.post(
            "/api/v1/auth/token", json={"username": username, "password": password, **extra}
        )
        assert r.status_code == 201, r.text
        token: str = r.json()["access_token"]
        self.tokens[username] = token
        return token

    @property
    def state(self) -> Any:
        return self.app.state.service

    def close(self) -> None:
        if self._stop is not None:
            self.portal.call(self._stop.set)
        self._task.result(timeout=30)
        self._stack.close()


def make_store(folder: Path) -> str:
    """A fresh embedded store with :data:`POINTS`; its location."""
    location = str(folder / "store")
    with open_store(location, create=True) as store:
        store.add_points(POINTS)
    return location


def add_users(settings: ServiceSettings, names: dict[str, Role]) -> None:
    """Users with :data:`PASSWORD` (before the app starts)."""
    with Accounts.open(settings.accounts_path) as accounts:
        for name, role in names.items():
            accounts.create_user(name, role, PASSWORD)


def issue_tokens(settings: ServiceSettings, names: list[str]) -> dict[str, str]:
    """Tokens straight from the accounts database (no argon2 login per test)."""
    with Accounts.open(settings.accounts_path) as accounts:
        return {n: accounts.issue_token(n, 3600).token for n in names}


@contextlib.contextmanager
def running(settings: ServiceSettings, **kwargs: Any) -> Iterator[Api]:
    """The app of ``settings``, running."""
    api = Api(create_app(settings, **kwargs))
    try:
        yield api
    finally:
        api.close()


#: The twin of the module-wide app: SimBench's LV feeder, fed with its first hour.
TWIN_CODE = "1-LV-semiurb4--0-sw"


def add_twin_hour(location: str) -> None:
    """The first hour of :data:`TWIN_CODE`'s load profiles, as measurements."""
    import threading

    from gridtwin.ingest import Pipeline, ReplaySource, run_sources
    from gridtwin.workflows.telemetry import simbench_replay_frame

    frame, points = simbench_replay_frame(TWIN_CODE, end_utc=pd.Timestamp("2016-01-01T01:00Z"))
    with open_store(location) as store:
        store.add_points(points)
        with Pipeline(store) as pipe:
            run_sources(pipe, [ReplaySource(frame, speed=float("inf"))], threading.Event())


def wait_for_state(api: Api, intervals: int = 1, timeout_s: float = 60.0) -> None:
    """Until the twin has updated ``intervals`` intervals (the hour in the store has 4:
    after them the twin is idle and writes nothing more)."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        r = api.get("/api/v1/twin", as_="viewer")
        if r.status_code == 200 and r.json()["intervals_updated"] >= intervals:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the twin did not update {intervals} intervals within a minute")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def module_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app for a module, with a user per role (named after the role) and tokens,
    and a live twin of an LV feeder whose first hour of measurements is in the store."""
    from gridtwin.service.twin import NetworkSource, TwinConfig, twin_extension

    folder = tmp_path_factory.mktemp("service")
    settings = ServiceSettings(store=make_store(folder))
    add_twin_hour(settings.store)
    add_users(settings, {r.value: r for r in ROLES})
    twin = TwinConfig(network=NetworkSource(simbench=TWIN_CODE), grace_s=0.0)
    with running(settings, lifespans=[twin_extension(twin)]) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        wait_for_state(api, intervals=4)
        yield api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A fresh app for one test, with a user per role and tokens."""
    settings = ServiceSettings(store=make_store(tmp_path))
    add_users(settings, {r.value: r for r in ROLES})
    with running(settings) as a:
        a.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        yield a
