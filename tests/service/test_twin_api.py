"""The live twin through the API: state, alarms raised by a real overload in the store,
operator actions with roles, events with who, the audit log, and the alarm log kept
across a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import (
    ALARM_LOG,
    NetworkSource,
    TwinConfig,
    load_twin_config,
    twin_extension,
)
from gridtwin.store import MeasurementBatch, open_store
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

T0 = pd.Timestamp("2016-01-01T00:00Z")


def _overloaded_store(folder: Path) -> str:
    """The first hour of the feeder, with one household at 250 kW at 00:15."""
    location = make_store(folder)
    add_twin_hour(location)
    with open_store(location) as store:
        load = max(p.element for p in store.points() if p.element and p.element.startswith("load:"))
        ts = np.array(
            [(T0 + pd.Timedelta("15min")).tz_localize(None).to_datetime64()], "datetime64[us]"
        )
        store.write(MeasurementBatch.build([f"{load}:p"], ts, [250.0]))
    return location


@pytest.fixture
def twin_api(tmp_path: Path) -> Iterator[tuple[Api, ServiceSettings]]:
    settings = ServiceSettings(store=_overloaded_store(tmp_path))
    add_users(settings, {r.value: r for r in ROLES})
    config = TwinConfig(network=NetworkSource(simbench=TWIN_CODE), grace_s=0.0)
    with running(settings, lifespans=[twin_extension(config)]) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        wait_for_state(api, intervals=4)
        yield api, settings


def test_state_and_alarms_of_an_overload(twin_api: tuple[Api, ServiceSettings]) -> None:
    api, _ = twin_api
    info = api.get("/api/v1/twin", as_="viewer").json()
    assert info["metered_loads"] == info["loads"] > 0
    assert info["latest_interval_utc"] == "2016-01-01T00:45:00Z"
    states = api.get("/api/v1/twin/states", as_="viewer").json()["states"]
    assert [s["method"] for s in states] == ["power_flow"] * 4
    overloaded = states[1]
    assert overloaded["line_loading_max_percent"] > 100
    assert states[0]["line_loading_max_percent"] < 100
    full = api.get("/api/v1/twin/state", as_="viewer").json()
    assert len(full["bus_vm_pu"]) == 44
    alarms = api.get("/api/v1/alarms", as_="viewer").json()["alarms"]
    assert alarms, "the overload must leave alarms to acknowledge"
    # the overload lasted one interval: the alarms returned, unacknowledged
    assert {a["state"] for a in alarms} == {"returned_unacknowledged"}
    assert any(a["rule_id"] == "line-loading-high" for a in alarms)
    health = api.get("/api/v1/alarms/health?window_s=3600", as_="viewer").json()
    (main,) = health["positions"]
    assert main["alarms"] == sum(a["activation_count"] for a in alarms)
    assert main["max_per_10min"] >= 1
    assert health["priority_target_percent"]["low"] == 80
    assert api.get("/api/v1/alarms/health?window_s=0", as_="viewer").status_code == 422


def test_operator_actions_need_their_role_and_are_recorded(
    twin_api: tuple[Api, ServiceSettings],
) -> None:
    api, settings = twin_api
    alarms = api.get("/api/v1/alarms", as_="viewer").json()["alarms"]
    first, second = alarms[0]["instance_id"], alarms[1]["instance_id"]
    url = f"/api/v1/alarms/{first}/acknowledge"
    assert api.post(url, json={}, as_="viewer").status_code == 403
    done = api.post(url, json={"text": "seen, crew informed"}, as_="operator")
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "normal"  # acknowledging a returned alarm clears it
    again = api.post(url, json={}, as_="operator")
    assert again.status_code == 422
    assert "nothing to acknowledge" in again.json()["detail"]
    shelve = f"/api/v1/alarms/{second}/shelve"
    assert api.post(shelve, json={"duration_s": 600}, as_="operator").status_code == 422  # reason
    ok = api.post(shelve, json={"duration_s": 600, "text": "crew on site"}, as_="operator")
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "shelved"
    too_long = api.post(
        f"/api/v1/alarms/{alarms[2]['instance_id']}/shelve",
        json={"duration_s": 10 * 24 * 3600, "text": "forever"},
        as_="operator",
    )
    assert too_long.status_code == 422
    oos = f"/api/v1/alarms/{alarms[2]['instance_id']}/remove-from-service"
    assert api.post(oos, json={"text": "sensor replaced"}, as_="operator").status_code == 403
    assert api.post(oos, json={"text": "sensor replaced"}, as_="admin").status_code == 200
    assert (
        api.post("/api/v1/alarms/nothing/acknowledge", json={}, as_="operator").status_code == 404
    )
    events = api.get("/api/v1/alarms/events", as_="viewer").json()["events"]
    by_user = {(e["user"], e["kind"]) for e in events}
    assert {
        ("operator", "acknowledged"),
        ("operator", "shelved"),
        ("admin", "removed_from_service"),
        ("system", "activated"),
        ("system", "cleared"),
    } <= by_user
    entries = api.get("/api/v1/audit", as_="admin").json()["entries"]
    acted = [(e["username"], e["outcome"]) for e in entries if e["path"] == url]
    assert acted == [("operator", "rejected"), ("operator", "ok"), ("viewer", "denied")]
    # the alarm log is on disk beside the accounts
    log = Path(settings.accounts_path).parent / ALARM_LOG
    assert log.is_file()
    assert len(log.read_text().splitlines()) == len(events)


def test_alarms_survive_a_restart(tmp_path: Path) -> None:
    settings = ServiceSettings(store=_overloaded_store(tmp_path))
    add_users(settings, {r.value: r for r in ROLES})
    config = TwinConfig(network=NetworkSource(simbench=TWIN_CODE), grace_s=0.0)
    with running(settings, lifespans=[twin_extension(config)]) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        wait_for_state(api, intervals=4)
        before = api.get("/api/v1/alarms", as_="viewer").json()["alarms"]
        api.post(f"/api/v1/alarms/{before[0]['instance_id']}/acknowledge", json={}, as_="operator")
        before = api.get("/api/v1/alarms?all=true", as_="viewer").json()["alarms"]
    with running(settings, lifespans=[twin_extension(config)]) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        after = api.get("/api/v1/alarms?all=true", as_="viewer").json()["alarms"]
    # every alarm that ever changed is restored from the log with its state; the others
    # are created again, normal, by the next evaluation
    changed = {a["instance_id"]: a["state"] for a in before if a["last_change_utc"]}
    restored = {a["instance_id"]: a["state"] for a in after}
    assert changed
    assert {k: restored.get(k) for k in changed} == changed


def test_twin_config_file_errors_name_the_field(tmp_path: Path) -> None:
    from gridtwin.errors import InputError

    path = tmp_path / "twin.yaml"
    path.write_text("network: {simbench: x, path: y}\nstandard: GOST\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_twin_config(path)
    text = str(err.value)
    assert "twin.yaml" in text
    assert "standard" in text
    assert "exactly one of simbench" in text
    path.write_text("network: {path: net.json}\nalarm_rules: rules.yaml\n", encoding="utf-8")
    cfg = load_twin_config(path)
    assert cfg.network.path == str(tmp_path / "net.json")
    assert cfg.alarm_rules == str(tmp_path / "rules.yaml")
