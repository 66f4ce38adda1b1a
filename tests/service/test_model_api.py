"""The twin's model and topology through the API: the demo LV feeder's buses with their
coordinates, branches, loads with their measurement points, GeoJSON; checked against the
model loaded by the library and the store's points."""

from __future__ import annotations

import json
from typing import Any

import pandapower as pp
import pytest

from gridtwin.service.api.model import topology
from gridtwin.workflows.twin import load_network
from tests.service.conftest import TWIN_CODE, Api


@pytest.fixture(scope="module")
def net() -> Any:
    return load_network(simbench_code=TWIN_CODE, profiles=False).net


def test_model_figures_match_the_library(module_api: Api, net: Any) -> None:
    r = module_api.get("/api/v1/model", as_="viewer")
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["name"] == TWIN_CODE
    assert m["source"] == f"simbench:{TWIN_CODE}"
    assert m["standard"] == "GOST 32144-2013"
    assert (m["buses"], m["lines"], m["trafos"], m["loads"], m["sgens"], m["switches"]) == (
        len(net.bus),
        len(net.line),
        len(net.trafo),
        len(net.load),
        len(net.sgen),
        len(net.switch),
    )
    assert m["buses"] == 44
    assert m["nominal_voltages_kv"] == [0.4, 20.0]
    assert m["frequency_hz"] == 50.0
    assert m["has_geodata"] is True
    assert m["profile_start_utc"] == "2016-01-01T00:00:00Z"
    assert m["profile_steps"] == 35_136
    assert m["profile_step_s"] == 900.0


def test_topology_of_the_demo_feeder(module_api: Api, net: Any) -> None:
    r = module_api.get("/api/v1/model/topology", as_="viewer")
    assert r.status_code == 200, r.text
    topo = r.json()
    assert topo["has_geodata"] is True
    buses = {b["id"]: b for b in topo["buses"]}
    assert sorted(buses) == sorted(int(i) for i in net.bus.index)  # as many as the model
    for i, cell in net.bus["geo"].items():  # every bus at its own coordinates
        x, y = json.loads(cell)["coordinates"]
        assert (buses[int(i)]["x"], buses[int(i)]["y"]) == (x, y)
    trafo = net.trafo.iloc[0]
    assert buses[int(trafo["lv_bus"])]["kind"] == "substation"
    assert buses[int(net.ext_grid["bus"].iloc[0])]["kind"] == "slack"
    load_buses = {int(b) for b in net.load["bus"]} - {int(trafo["lv_bus"])}
    assert {b for b, v in buses.items() if v["kind"] == "customer"} == load_buses
    # lines: ends, ratings and routes drawn between their buses (SimBench has no routes)
    assert len(topo["lines"]) == len(net.line) == 42
    line = topo["lines"][0]
    src = net.line.loc[line["id"]]
    assert (line["from_bus"], line["to_bus"]) == (int(src["from_bus"]), int(src["to_bus"]))
    assert line["max_i_ka"] == pytest.approx(float(src["max_i_ka"]))
    assert line["coordinates"] == [
        [buses[line["from_bus"]]["x"], buses[line["from_bus"]]["y"]],
        [buses[line["to_bus"]]["x"], buses[line["to_bus"]]["y"]],
    ]
    assert all(not ln["open"] for ln in topo["lines"])  # every switch of the feeder closed
    assert len(topo["switches"]) == len(net.switch)
    assert topo["trafos"][0]["sn_mva"] == pytest.approx(0.4)
    # loads carry the store's points that meter them (the replay's load:<i>:p)
    listed = module_api.get("/api/v1/points", as_="viewer").json()["points"]
    store_points = {p["point_id"] for p in listed}
    loads = topo["loads"]
    assert len(loads) == len(net.load) == 41
    for ld in loads:
        assert f"load:{ld['id']}:p" in ld["point_ids"]
        assert set(ld["point_ids"]) <= store_points
        assert ld["bus"] == int(net.load.at[ld["id"], "bus"])


def test_topology_as_geojson(module_api: Api, net: Any) -> None:
    r = module_api.get("/api/v1/model/topology?format=geojson", as_="viewer")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["type"] == "FeatureCollection"
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for f in doc["features"]:
        assert f["type"] == "Feature"
        by_kind.setdefault(f["properties"]["element"], []).append(f)
    assert len(by_kind["bus"]) == len(net.bus)
    assert len(by_kind["line"]) == len(net.line)
    assert len(by_kind["load"]) == len(net.load)
    bus0 = next(f for f in by_kind["bus"] if f["id"] == f"bus:{int(net.bus.index[0])}")
    assert bus0["geometry"] == {
        "type": "Point",
        "coordinates": json.loads(net.bus["geo"].iloc[0])["coordinates"],
    }
    assert all(f["geometry"]["type"] == "LineString" for f in by_kind["line"])
    assert all(len(f["geometry"]["coordinates"]) == 2 for f in by_kind["line"])


def test_a_model_without_geodata_and_with_an_open_switch() -> None:
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, 20.0, name="feed")
    b1 = pp.create_bus(net, 20.0)
    b2 = pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, b0)
    ln = pp.create_line(net, b0, b1, 1.5, "NA2XS2Y 1x95 RM/25 12/20 kV")
    ln2 = pp.create_line(net, b1, b2, 0.5, "NA2XS2Y 1x95 RM/25 12/20 kV")
    pp.create_switch(net, b1, ln2, et="l", closed=False)
    pp.create_load(net, b1, p_mw=0.2)
    topo = topology(net, "mini", [])
    assert topo.has_geodata is False
    assert [(b.x, b.y) for b in topo.buses] == [(None, None)] * 3
    assert [b.kind for b in topo.buses] == ["slack", "customer", "junction"]
    lines = {line.id: line for line in topo.lines}
    assert lines[ln].open is False
    assert lines[ln2].open is True
    assert lines[ln].coordinates is None
    assert topo.loads[0].point_ids == []


def test_the_routes_on_the_twin_answer_404_without_one(api: Api) -> None:
    for url in ("/api/v1/model", "/api/v1/model/topology"):
        r = api.get(url, as_="viewer")
        assert r.status_code == 404
        assert "runs no twin" in r.json()["detail"]
    body = {"kind": "pv", "start_utc": "2016-06-01T00:00Z", "end_utc": "2016-06-02T00:00Z"}
    r = api.post("/api/v1/studies/scenario", json=body, as_="analyst")
    assert r.status_code == 404
    assert "runs no twin" in r.json()["detail"]


def test_model_routes_need_a_token(module_api: Api) -> None:
    assert module_api.get("/api/v1/model/topology").status_code == 401
