"""The twin's checks, compliance and forward look through the API: a real service on a
real store holding the electrified LV feeder's afternoon and evening (five times its
load), with the forward look anchored to the measured load."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pandas as pd
import pytest

from gridtwin.ingest import Pipeline, ReplaySource, run_sources
from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import (
    ComplianceConfig,
    ForwardLookConfig,
    NetworkSource,
    TwinConfig,
    twin_extension,
)
from gridtwin.store import open_store
from gridtwin.workflows.telemetry import simbench_replay_frame
from tests.service.conftest import (
    ROLES,
    TWIN_CODE,
    Api,
    add_users,
    issue_tokens,
    make_store,
    running,
    wait_for_state,
)

START = pd.Timestamp("2016-01-01T16:00Z")
INTERVALS = 8  # 16:00 to 17:45, the evening peak


@pytest.fixture(scope="module")
def evening_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("evening")
    settings = ServiceSettings(store=make_store(folder))
    frame, points = simbench_replay_frame(
        TWIN_CODE, start_utc=START, end_utc=START + INTERVALS * pd.Timedelta("15min")
    )
    loads = [c for c in frame.columns if str(c).startswith("load:")]
    frame[loads] = frame[loads] * 5.0
    with open_store(settings.store) as store:
        store.add_points(points)
        with Pipeline(store) as pipe:
            run_sources(pipe, [ReplaySource(frame, speed=float("inf"))], threading.Event())
    add_users(settings, {r.value: r for r in ROLES})
    twin = TwinConfig(
        network=NetworkSource(simbench=TWIN_CODE),
        grace_s=0.0,
        forward_look=ForwardLookConfig(horizon_h=3, every_intervals=2, anchor=True),
        compliance=ComplianceConfig(min_intervals=4),
    )
    with running(settings, lifespans=[twin_extension(twin)]) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        wait_for_state(api, intervals=INTERVALS)
        yield api


def test_checks_name_the_overloaded_line_at_the_peak(evening_api: Api) -> None:
    checks = evening_api.get("/api/v1/twin/checks", as_="viewer").json()
    state = evening_api.get("/api/v1/twin/state", as_="viewer").json()
    assert checks["time_utc"] == state["time_utc"] == "2016-01-01T17:45:00Z"
    worst = max(state["line_loading_percent"], key=state["line_loading_percent"].get)
    (line,) = [v for v in checks["violations"] if v["element"] == f"line:{worst}"]
    assert line["severity"] == "violation"
    assert line["value"] > 130
    assert line["limit"] == 100
    assert line["quantity"] == "loading_percent"
    assert checks["standard"] == "GOST 32144-2013"
    assert checks["checked"]["lines"] == len(state["line_loading_percent"])
    assert any("10-min" in n for n in checks["notes"])


def test_forward_look_and_potential_alarms_say_where_they_come_from(evening_api: Api) -> None:
    info = evening_api.get("/api/v1/twin", as_="viewer").json()["forward_look"]
    assert info["enabled"]
    assert info["source"] == "profiles"
    assert info["reason"] is None
    assert info["horizon_h"] == 3
    assert info["anchor"]
    assert info["last_load_factor"] == pytest.approx(5.0)  # anchored to the measured 5x
    assert info["looks"] == INTERVALS // 2
    assert 0 < info["mean_compute_ms"] < 5000
    pot = evening_api.get("/api/v1/alarms/potential", as_="viewer").json()
    assert pot["source"] == "profiles"
    assert pot["horizon_h"] == 3
    assert pot["look_from_utc"] == "2016-01-01T17:30:00Z"
    for p in pot["potential"]:
        assert p["lead_time_s"] > 0
        assert p["first_active_utc"] > "2016-01-01T17:45:00Z"
    # the forward look saw the peak coming: the alarms that activated during the evening
    # were foreseen (their instances are not potential now: they are active or returned)
    events = evening_api.get("/api/v1/alarms/events", as_="viewer").json()["events"]
    assert any(e["kind"] == "activated" for e in events)


def test_compliance_counts_every_state_and_matches_the_stored_history(evening_api: Api) -> None:
    comp = evening_api.get("/api/v1/twin/compliance", as_="viewer").json()
    assert comp["week"] == "current"
    assert comp["intervals"] == INTERVALS
    assert comp["start_utc"] == "2015-12-28T00:00:00Z"  # Monday 00:00 in UTC (the zone)
    assert comp["intervals_expected"] == 672
    assert not comp["complete"]
    assert "GOST 32144-2013 4.2.2" in comp["rules"]["LV"]
    assert any("10-min" in n for n in comp["notes"])
    (feeder,) = comp["feeders"]
    assert feeder["customer_buses"] == len(comp["customers"])
    # a partial week (the twin started on Friday): too few of the week's intervals
    assert {c["verdict"] for c in comp["customers"]} <= {"insufficient data", "violated"}
    for c in comp["customers"][:6]:
        r = evening_api.get(
            f"/api/v1/points/twin:bus:{c['bus']}:vm/measurements",
            params={"start": "2016-01-01T00:00Z", "end": "2016-01-02T00:00Z"},
            as_="viewer",
        )
        assert r.status_code == 200, r.text
        values = pd.Series([m["value"] for m in r.json()["values"]], dtype=float)
        assert len(values) == c["intervals"] == INTERVALS
        dev = (values / c["u0_pu"] - 1.0).abs()
        assert c["share_within_5_percent"] == pytest.approx(100.0 * (dev <= 0.05).mean())
        assert c["share_within_10_percent"] == pytest.approx(100.0 * (dev <= 0.10).mean())
    previous = evening_api.get("/api/v1/twin/compliance?week=previous", as_="viewer").json()
    assert previous["intervals"] == 0
    assert previous["customers"] == []
    bad = evening_api.get("/api/v1/twin/compliance?week=next", as_="viewer")
    assert bad.status_code == 422
