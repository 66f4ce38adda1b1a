"""The ``store`` fixture: every contract test runs on each backend for real.

``duckdb``: a fresh data directory per test. ``postgresql``: a fresh database on a
throwaway PostgreSQL server started by ``tests/store/pg_server.py`` on loopback (skipped,
with the reason, where the server cannot start).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gridtwin.store import MeasurementPoint, MeasurementStore, open_store

BACKENDS = ["duckdb", "postgresql"]

try:  # the PostgreSQL fixtures live beside this file
    from tests.store.pg_server import pg_server, pg_url  # noqa: F401
except ImportError:  # pragma: no cover - until the server helper exists
    pass

POINTS = [
    MeasurementPoint("load.1.p", "p", "kW", element="load:1"),
    MeasurementPoint("load.2.p", "p", "MW", element="load:2"),
    MeasurementPoint("bus.3.vm", "vm", "pu", element="bus:3", phase="a"),
    MeasurementPoint("meter.9.e", "energy", "kWh", source="greenbutton"),
]


@pytest.fixture(params=BACKENDS)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh store lives: a directory, or a fresh PostgreSQL database URL."""
    if request.param == "duckdb":
        return str(tmp_path / "store")
    try:
        url: str = request.getfixturevalue("pg_url")
    except pytest.FixtureLookupError:
        pytest.skip("the PostgreSQL test server helper (tests/store/pg_server.py) is missing")
    return url


@pytest.fixture
def open_fresh(store_location: str) -> Iterator[Callable[..., MeasurementStore]]:
    """Opens the test's store (created on first use); closes every open at the end."""
    opened: list[MeasurementStore] = []

    def _open(read_only: bool = False) -> MeasurementStore:
        s = open_store(store_location, create=not read_only, read_only=read_only)
        opened.append(s)
        return s

    yield _open
    for s in opened:
        s.close()


@pytest.fixture
def store(open_fresh: Callable[..., MeasurementStore]) -> MeasurementStore:
    """A fresh store with :data:`POINTS`."""
    s = open_fresh()
    s.add_points(POINTS)
    return s
