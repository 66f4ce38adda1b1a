"""The generated one-line layout of a model without geodata, and the topology answer's
cache and compression: pandapower's MV Oberrhein grid with its coordinates removed, run
as a twin from a file; the generated layout checked against the grid's own tree."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import networkx as nx
import pandapower as pp
import pandapower.networks as pn
import pytest

from gridtwin.service.api.model import _accepts_gzip, one_line_layout, topology
from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import NetworkSource, TwinConfig, twin_extension
from tests.service.conftest import ROLES, Api, add_users, issue_tokens, make_store, running


def _without_geodata() -> Any:
    with warnings.catch_warnings():  # the example file predates pandapower 3's tables
        warnings.simplefilter("ignore", DeprecationWarning)
        net = pn.mv_oberrhein()
    net.bus["geo"] = None
    net.line["geo"] = None
    return net


@pytest.fixture(scope="module")
def net() -> Any:
    return _without_geodata()


@pytest.fixture(scope="module")
def layout_api(tmp_path_factory: pytest.TempPathFactory, net: Any) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("layout")
    path = folder / "oberrhein-no-geodata.json"
    pp.to_json(net, str(path))
    settings = ServiceSettings(store=make_store(folder))
    add_users(settings, {r.value: r for r in ROLES})
    twin = TwinConfig(network=NetworkSource(path=str(path)), grace_s=0.0)
    with running(settings, lifespans=[twin_extension(twin)]) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        yield api


def test_the_one_line_layout_is_the_grids_tree(net: Any) -> None:
    xy = one_line_layout(net)
    assert set(xy) == {int(b) for b in net.bus.index}
    assert len(set(xy.values())) == len(xy)  # no two buses on one spot
    slack = int(net.ext_grid["bus"].iloc[0])
    assert xy[slack][1] == 0.0  # the feed on top
    # every other bus of the slack's part sits one level below a neighbour (its parent)
    graph = nx.Graph()
    graph.add_edges_from(zip(net.line["from_bus"], net.line["to_bus"], strict=True))
    graph.add_edges_from(zip(net.trafo["hv_bus"], net.trafo["lv_bus"], strict=True))
    bb = net.switch[net.switch["et"] == "b"]
    graph.add_edges_from(zip(bb["bus"], bb["element"], strict=True))
    for bus in nx.node_connected_component(graph, slack) - {slack}:
        depth = nx.shortest_path_length(graph, slack, bus)
        assert xy[bus][1] == -depth
        assert any(xy[n][1] == -(depth - 1) for n in graph.neighbors(bus))
    assert one_line_layout(net) == xy  # deterministic


def test_topology_flags_a_generated_layout(net: Any) -> None:
    plain = topology(net, "oberrhein", [])
    assert plain.layout == "none"
    assert all(b.x is None for b in plain.buses)
    topo = topology(net, "oberrhein", [], generate_layout=True)
    assert topo.layout == "generated"
    assert topo.has_geodata is False
    xy = one_line_layout(net)
    assert all((b.x, b.y) == xy[b.id] for b in topo.buses)
    line = topo.lines[0]
    assert line.coordinates == [list(xy[line.from_bus]), list(xy[line.to_bus])]


def test_the_topology_route_draws_a_model_without_geodata(layout_api: Api, net: Any) -> None:
    r = layout_api.get("/api/v1/model/topology?format=geojson", as_="viewer")
    assert r.status_code == 200, r.text
    assert r.headers["content-encoding"] == "gzip"
    doc = r.json()
    assert doc["layout"] == "generated"
    buses = [f for f in doc["features"] if f["properties"]["element"] == "bus"]
    assert len(buses) == len(net.bus)
    assert all(f["geometry"]["type"] == "Point" for f in buses)
    plain = layout_api.get(
        "/api/v1/model/topology", as_="viewer", headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    topo = plain.json()
    assert topo["layout"] == "generated"
    assert topo["has_geodata"] is False
    assert all(b["x"] is not None for b in topo["buses"])


def test_a_point_mapped_anew_is_in_the_next_answer(layout_api: Api) -> None:
    before = layout_api.get("/api/v1/model/topology", as_="viewer").json()
    bus = before["buses"][3]
    assert "u-bus-3" not in bus["point_ids"]
    point = {"point_id": "u-bus-3", "quantity": "vm", "unit": "pu", "element": f"bus:{bus['id']}"}
    made = layout_api.post("/api/v1/points", json=point, as_="analyst")
    assert made.status_code in (200, 201), made.text
    after = layout_api.get("/api/v1/model/topology", as_="viewer").json()
    assert "u-bus-3" in after["buses"][3]["point_ids"]


def test_gzip_is_sent_only_to_clients_that_accept_it() -> None:
    assert _accepts_gzip("gzip, deflate")
    assert _accepts_gzip("br;q=1.0, gzip;q=0.5")
    assert _accepts_gzip("*")
    assert not _accepts_gzip("identity")
    assert not _accepts_gzip("gzip;q=0")
    assert not _accepts_gzip("")
