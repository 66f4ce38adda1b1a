"""``/assets`` and ``/assets/trends`` on a real app and store: a twin of the LV feeder
with an asset register, whose store holds three synthetic weeks of state history before
the twin's own first hour (the transformer's evening peak rising into overload). The
ranking puts the transformer first with its reasons; the trend watch gives its early
warning to the alarm system (``/alarms/potential``); a broken register answers 422
naming the file; a twin without a register says so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import AssetsConfig, NetworkSource, TwinConfig, twin_extension
from gridtwin.store import MeasurementBatch, MeasurementPoint, open_store
from tests.service.conftest import (
    ROLES,
    TWIN_CODE,
    Api,
    add_twin_hour,
    add_users,
    issue_tokens,
    make_store,
    running,
    wait_for_state,
)

DAYS = 21
T = pd.date_range("2015-12-10", periods=DAYS * 96, freq="15min", tz="UTC")

REGISTER = """\
source: test register (invented)
assets:
  - {element: trafo:0, type: transformer, year_installed: 1990, rated_life_years: 40,
     maintenance_interval_years: 6, criticality: 5, maintenance: [{date: 2024-05-01}]}
  - {element: line:0, type: line, year_installed: 1990, rated_life_years: 45,
     maintenance_interval_years: 10, maintenance: [{date: 2024-05-01}]}
  - {element: line:99, type: line, year_installed: 2010, rated_life_years: 45,
     maintenance_interval_years: 10}
"""


def add_history(location: str) -> None:
    """Three weeks of the transformer's loading (peak 80 → 110 %) and line 0's (flat)."""
    hour = (T.hour + T.minute / 60).to_numpy()
    cycle = np.sin(np.pi * np.clip(hour - 8, 0, 12) / 12)
    day = (T - T[0]).total_seconds().to_numpy() / 86400.0
    rng = np.random.default_rng(2)
    series = {
        "trafo:0": 35 + (45 + 1.5 * day) * cycle + rng.normal(0, 1.0, len(T)),
        "line:0": 20 + 30 * cycle + rng.normal(0, 1.0, len(T)),
    }
    with open_store(location) as s:
        s.add_points(
            [
                MeasurementPoint(f"twin:{e}:loading", "loading", "%", element=e, source="twin")
                for e in series
            ]
        )
        for e, v in series.items():
            pid = np.full(len(T), f"twin:{e}:loading", dtype=object)
            s.write(MeasurementBatch.build(pid, T.tz_localize(None).to_numpy(), v))


@pytest.fixture(scope="module")
def assets_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("assets-api")
    register = folder / "assets.yaml"
    register.write_text(REGISTER, encoding="utf-8")
    settings = ServiceSettings(store=make_store(folder))
    add_history(settings.store)
    add_twin_hour(settings.store)
    add_users(settings, {r.value: r for r in ROLES})
    twin = TwinConfig(
        network=NetworkSource(simbench=TWIN_CODE),
        grace_s=0.0,
        assets=AssetsConfig(file=str(register), trend_every_s=1.0),
    )
    with running(settings, lifespans=[twin_extension(twin)]) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        wait_for_state(api, intervals=4)
        api.register = register  # type: ignore[attr-defined]
        yield api


def test_the_ranking_puts_the_overloaded_transformer_first(assets_api: Api) -> None:
    r = assets_api.get("/api/v1/assets", as_="viewer")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["configured"]
    assert body["register_source"] == "test register (invented)"
    assert "CNAIM" in body["method"]
    assets = body["assets"]
    assert next(a["element"] for a in assets) == "trafo:0"
    trafo = assets[0]
    assert trafo["rank"] == 1
    assert trafo["indicators"]["overload_intervals"] > 0
    assert trafo["indicators"]["max_hot_spot_c"] > 98
    assert trafo["indicators"]["observed_days"] > DAYS - 0.1
    assert any("intervals above 100 %" in why for why in trafo["reasons"])
    assert body["end_utc"] == "2016-01-01T01:00:00Z"
    # line:99 is not in the model: scored on the register alone, and said
    assert any("line:99" in n for n in body["notes"])
    short = assets_api.get("/api/v1/assets", params={"window_days": 1}, as_="viewer").json()
    t1 = next(a for a in short["assets"] if a["element"] == "trafo:0")
    assert t1["indicators"]["observed_days"] < trafo["indicators"]["observed_days"]


def test_trends_warn_through_the_alarm_system(assets_api: Api) -> None:
    # the watch (every second) hands the warnings to the alarm system by itself
    deadline = time.monotonic() + 30
    while True:
        pot = assets_api.get("/api/v1/alarms/potential", as_="viewer").json()["potential"]
        trend = [p for p in pot if p["rule_id"].startswith("trend-")]
        if trend or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {p["instance_id"] for p in trend} >= {"trend-loading-percent@trafo:0"}
    r = assets_api.get("/api/v1/assets/trends", as_="viewer")
    assert r.status_code == 200, r.text
    body = r.json()
    warned = {(t["element"], t["quantity"]) for t in body["trends"] if t["warning"]}
    assert ("trafo:0", "loading_percent") in warned
    assert ("line:0", "loading_percent") not in warned
    assert {p["element"] for p in body["potential"]} == {e for e, _ in warned}
    first = body["trends"][0]
    assert first["warning"]
    assert "reaches" in first["description"]


def test_a_broken_register_answers_422_naming_the_file(assets_api: Api) -> None:
    path: Path = assets_api.register  # type: ignore[attr-defined]
    good = path.read_text(encoding="utf-8")
    try:
        path.write_text(good.replace("year_installed: 2010", "year_installed: 1800"), "utf-8")
        r = assets_api.get("/api/v1/assets", as_="viewer")
        assert r.status_code == 422
        assert str(path) in r.json()["detail"]
        assert "year_installed" in r.json()["detail"]
    finally:
        path.write_text(good, encoding="utf-8")
    assert assets_api.get("/api/v1/assets", as_="viewer").status_code == 200


def test_a_twin_without_a_register_says_so(module_api: Api) -> None:
    body = module_api.get("/api/v1/assets", as_="viewer").json()
    assert body["configured"] is False
    assert body["assets"] == []
    assert "assets: {file: FILE}" in body["notes"][0]
