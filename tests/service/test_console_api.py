"""The API behind the console's alarm history and trends pages: the filters of
``GET /alarms`` and ``GET /alarms/events``, comments with who and when, the shelve limit
the list reports, and ``GET /twin/history`` (an element's stored state against its
limits), on a live twin whose first hour holds one overloaded interval (00:15)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import NetworkSource, TwinConfig, twin_extension
from tests.service.conftest import (
    ROLES,
    TWIN_CODE,
    Api,
    add_users,
    issue_tokens,
    running,
    wait_for_state,
)
from tests.service.test_twin_api import _overloaded_store


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder: Path = tmp_path_factory.mktemp("console-api")
    settings = ServiceSettings(store=_overloaded_store(folder))
    add_users(settings, {r.value: r for r in ROLES})
    config = TwinConfig(network=NetworkSource(simbench=TWIN_CODE), grace_s=0.0)
    with running(settings, lifespans=[twin_extension(config)]) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        wait_for_state(api, intervals=4)
        yield api


def _alarms(api: Api, query: str = "") -> list[dict[str, object]]:
    r = api.get("/api/v1/alarms" + query, as_="viewer")
    assert r.status_code == 200, r.text
    alarms: list[dict[str, object]] = r.json()["alarms"]
    return alarms


def _events(api: Api, query: str = "") -> list[dict[str, object]]:
    r = api.get("/api/v1/alarms/events" + query, as_="viewer")
    assert r.status_code == 200, r.text
    events: list[dict[str, object]] = r.json()["events"]
    return events


def test_the_alarm_list_filters_by_priority_state_and_element(twin: Api) -> None:
    every = _alarms(twin, "?all=true")
    assert len(every) >= 2
    assert twin.get("/api/v1/alarms", as_="viewer").json()["max_shelve_s"] == 28800
    for a in every:
        p, el, st = a["priority"], a["element"], a["state"]
        assert a in _alarms(twin, f"?all=true&priority={p}")
        assert {x["priority"] for x in _alarms(twin, f"?all=true&priority={p}")} == {p}
        assert [x["element"] for x in _alarms(twin, f"?all=true&element={el}")].count(el) >= 1
        assert {x["element"] for x in _alarms(twin, f"?all=true&element={el}")} == {el}
        assert {x["state"] for x in _alarms(twin, f"?state={st}")} == {st}
    priorities = sorted({str(a["priority"]) for a in every})
    both = "&".join(f"priority={p}" for p in priorities)
    assert len(_alarms(twin, f"?all=true&{both}")) == len(every)
    table = str(every[0]["element"]).split(":")[0]
    starting = _alarms(twin, f"?all=true&element={table}:*")
    assert starting
    assert all(str(a["element"]).startswith(table + ":") for a in starting)
    assert _alarms(twin, "?all=true&element=bus:99999") == []
    bad = twin.get("/api/v1/alarms?priority=urgent", as_="viewer")
    assert bad.status_code == 422
    assert "priority" in bad.text


def test_a_comment_is_an_event_with_who_and_when_and_the_filters_find_it(twin: Api) -> None:
    alarm = _alarms(twin)[0]
    iid = str(alarm["instance_id"])
    url = f"/api/v1/alarms/{iid}/comment"
    assert twin.post(url, json={"text": "checked"}, as_="viewer").status_code == 403
    assert twin.post(url, json={"text": ""}, as_="operator").status_code == 422  # text needed
    done = twin.post(url, json={"text": "crew on the way"}, as_="operator")
    assert done.status_code == 200, done.text
    assert done.json()["state"] == alarm["state"]  # a comment changes no state
    (event,) = _events(twin, f"?kind=comment&instance_id={iid}")
    assert event["user"] == "operator"
    assert event["reason"] == "crew on the way"
    assert event["kind"] == "comment"
    when = pd.Timestamp(str(event["time_utc"]))
    assert when.tzinfo is not None
    assert _events(twin, "?kind=comment&by=operator") == [event]
    assert _events(twin, "?kind=comment&by=admin") == []
    # the time window is [since, until)
    at, later = (f"{t:%Y-%m-%dT%H:%M:%S.%fZ}" for t in (when, when + pd.Timedelta("1ms")))
    assert _events(twin, f"?kind=comment&since={at}") == [event]
    assert _events(twin, f"?kind=comment&since={later}") == []
    assert _events(twin, f"?kind=comment&until={at}") == []
    assert _events(twin, f"?kind=comment&until={later}") == [event]
    # the audit log has the request
    entries = twin.get("/api/v1/audit", as_="admin").json()["entries"]
    assert any(e["path"] == url and e["username"] == "operator" for e in entries)


def test_event_filters_by_priority_kind_state_and_element(twin: Api) -> None:
    every = _events(twin, "?limit=10000")
    assert {e["kind"] for e in every} >= {"activated", "cleared"}
    for e in every[:5]:
        for name, value in (("priority", e["priority"]), ("kind", e["kind"])):
            got = _events(twin, f"?limit=10000&{name}={value}")
            assert e in got
            assert {g[name] for g in got} == {value}
        got = _events(twin, f"?limit=10000&state={e['to_state']}")
        assert {g["to_state"] for g in got} == {e["to_state"]}
        got = _events(twin, f"?limit=10000&element={e['element']}")
        assert {g["element"] for g in got} == {e["element"]}
    assert _events(twin, "?kind=activated&kind=cleared&limit=10000") == [
        e for e in every if e["kind"] in ("activated", "cleared")
    ]
    assert twin.get("/api/v1/alarms/events?kind=nonsense", as_="viewer").status_code == 422


def test_shelve_with_a_chosen_duration_or_one_shot_within_the_maximum(twin: Api) -> None:
    alarms = _alarms(twin)
    iid = str(alarms[-1]["instance_id"])
    url = f"/api/v1/alarms/{iid}/shelve"
    too_long = twin.post(url, json={"text": "x", "duration_s": 28801}, as_="operator")
    assert too_long.status_code == 422
    assert "28800" in too_long.json()["detail"]
    ok = twin.post(url, json={"text": "crew on site", "duration_s": 900}, as_="operator")
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["state"] == "shelved"
    assert body["one_shot"] is False
    (ev,) = _events(twin, f"?kind=shelved&instance_id={iid}")
    until = pd.Timestamp(str(body["shelved_until_utc"]))
    assert until - pd.Timestamp(str(ev["time_utc"])) == pd.Timedelta("15min")
    assert _alarms(twin, f"?state=shelved&element={alarms[-1]['element']}")[0]["instance_id"] == iid
    assert twin.post(f"/api/v1/alarms/{iid}/unshelve", json={}, as_="operator").status_code == 200


def _points_values(api: Api, point: str, start: str, end: str) -> list[float | None]:
    r = api.get(f"/api/v1/points/{point}/measurements?start={start}&end={end}", as_="viewer")
    assert r.status_code == 200, r.text
    return [v["value"] for v in r.json()["values"]]


def test_history_of_a_bus_is_its_stored_state_against_the_standards_band(twin: Api) -> None:
    checks = twin.get("/api/v1/twin/checks", as_="viewer").json()
    assert checks["standard"]
    state = twin.get("/api/v1/twin/state", as_="viewer").json()
    bus = max(state["bus_vm_pu"], key=int)  # the feeder's end
    r = twin.get(f"/api/v1/twin/history?element=bus:{bus}", as_="viewer")
    assert r.status_code == 200, r.text
    h = r.json()
    assert h["quantity"] == "vm_pu"
    assert h["unit"] == "pu"
    assert h["forecast"] is None
    est = h["estimated"]
    assert est["point_id"] == f"twin:bus:{bus}:vm"
    assert est["time_utc"] == [
        "2016-01-01T00:00:00Z",
        "2016-01-01T00:15:00Z",
        "2016-01-01T00:30:00Z",
        "2016-01-01T00:45:00Z",
    ]
    assert est["value"] == _points_values(
        twin, f"twin:bus:{bus}:vm", "2016-01-01T00:00Z", "2016-01-01T01:00Z"
    )
    assert est["value"][3] == pytest.approx(state["bus_vm_pu"][bus])
    # the 100 % band of the standard (violation) and its share band or none (warning)
    severities = [lim["severity"] for lim in h["limits"]]
    assert severities[0] == "violation"
    full = h["limits"][0]
    assert full["lower"] < 1.0 < full["upper"]
    assert h["standard"] in full["label"]
    assert "U0" in full["rule"]
    # the overloaded interval is the lowest and the 00:00 one inside the band
    assert min(est["value"]) == est["value"][1]
    assert full["lower"] <= est["value"][0] <= full["upper"]


def test_history_of_an_overloaded_line_shows_it_above_its_rating(twin: Api) -> None:
    states = twin.get("/api/v1/twin/states", as_="viewer").json()["states"]
    assert states[1]["line_loading_max_percent"] > 100
    line = next(
        a["element"]
        for a in _alarms(twin, "?all=true&element=line:*")
        if a["rule_id"] == "line-loading-high"
    )
    h = twin.get(f"/api/v1/twin/history?element={line}", as_="viewer").json()
    assert h["quantity"] == "loading_percent"
    assert h["unit"] == "%"
    assert [(lim["upper"], lim["severity"]) for lim in h["limits"]] == [
        (100.0, "violation"),
        (90.0, "warning"),
    ]
    values = h["estimated"]["value"]
    assert values[1] > 100.0 > values[0]
    trafo = twin.get("/api/v1/twin/history?element=trafo:0", as_="viewer").json()
    assert trafo["limits"][0]["upper"] == 100.0
    assert len(trafo["estimated"]["value"]) == 4


def test_history_windows_measured_points_and_refusals(twin: Api) -> None:
    # a window: [start, end)
    h = twin.get(
        "/api/v1/twin/history?element=bus:3&start=2016-01-01T00:15Z&end=2016-01-01T00:45Z",
        as_="viewer",
    ).json()
    assert h["estimated"]["time_utc"] == ["2016-01-01T00:15:00Z", "2016-01-01T00:30:00Z"]
    # the store's point bus:3:vm (element bus:3, pu) is the measured series of bus 3
    sent = twin.post(
        "/api/v1/measurements",
        json={"items": [{"point_id": "bus:3:vm", "ts": "2016-01-01T00:30Z", "value": 1.01}]},
        as_="operator",
    )
    assert sent.status_code == 200, sent.text
    h = twin.get("/api/v1/twin/history?element=bus:3", as_="viewer").json()
    (measured,) = h["measured"]
    assert measured["point_id"] == "bus:3:vm"
    assert measured["value"] == [1.01]
    assert measured["time_utc"] == ["2016-01-01T00:30:00Z"]
    for element, status, words in (
        ("bus:99999", 404, "no bus 99999"),
        ("load:1", 422, "bus:<index>"),
        ("bus:x", 422, "bus:<index>"),
    ):
        r = twin.get(f"/api/v1/twin/history?element={element}", as_="viewer")
        assert r.status_code == status, r.text
        assert words in r.json()["detail"]
    wide = twin.get(
        "/api/v1/twin/history?element=bus:3&start=2000-01-01T00:00Z&end=2016-01-01T00:00Z",
        as_="viewer",
    )
    assert wide.status_code == 422
    assert "max_query_points" in wide.json()["detail"]
    backwards = twin.get(
        "/api/v1/twin/history?element=bus:3&start=2016-01-02T00:00Z&end=2016-01-01T00:00Z",
        as_="viewer",
    )
    assert backwards.status_code == 422


def test_the_quality_module_refuses_the_twins_15_min_states(twin: Api) -> None:
    """Why the compliance page reports measured points only: the power-quality module
    takes 10-min aggregates, and says so for the twin's 15-min states."""
    rep = twin.get("/api/v1/twin/compliance", as_="viewer").json()
    body = {
        "standard": rep["standard"],
        "timezone": rep["timezone"],
        "point_ids": [f"twin:bus:{rep['customers'][0]['bus']}:vm"],
        "start_utc": rep["start_utc"],
        "end_utc": rep["end_utc"],
    }
    r = twin.post("/api/v1/quality/assessments?format=html", json=body, as_="analyst")
    assert r.status_code == 422
    assert "10min" in r.json()["detail"]
