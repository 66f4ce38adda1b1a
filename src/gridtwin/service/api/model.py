"""``/model``: the running twin's network model and its topology (viewer).

What a network view needs without holding any logic of its own: the buses with their
coordinates (where the model has geodata: SimBench grids do, as GeoJSON points in
``net.bus.geo``) and their kind, the branches (lines, transformers, switches) with their
ends, ratings and state, and the loads and generators with the measurement points that
meter them. ``?format=geojson`` gives the same as a GeoJSON FeatureCollection (RFC 7946)
for GIS systems. Both answer 404 when the service runs no twin, as ``/twin`` does.

Electrical quantities keep pandapower's units where they come from the model
(``vn_kv``, ``max_i_ka``, ``sn_mva``, ``p_mw``, ``length_km``).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import math
import threading
import weakref
from collections import defaultdict
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field

from gridtwin.service.api._common import OutputModel
from gridtwin.service.api.twin import TwinDep
from gridtwin.service.deps import StateDep, Viewer
from gridtwin.service.twin import START_HOOKS, TwinRuntime

_log = logging.getLogger("gridtwin.service")

__all__ = ["ModelOut", "TopologyOut", "one_line_layout", "router", "topology", "topology_json"]

router = APIRouter(prefix="/model", tags=["model"])

BusKind = Literal["slack", "substation", "customer", "junction"]
Layout = Literal["geodata", "generated", "none"]
_LAYOUT_DOC = (
    "Where the coordinates come from: geodata (the model's own), generated (a one-line "
    "diagram drawn by the service for a model without geodata: x, y in its own units, "
    "not WGS 84) or none."
)


class ModelOut(OutputModel):
    """The twin's network model in figures."""

    name: str
    source: str = Field(description="Where the model came from (simbench:<code>, a file).")
    standard: str = Field(description="Supply-voltage standard the twin judges by.")
    buses: int
    lines: int
    trafos: int
    switches: int
    loads: int
    sgens: int
    ext_grids: int
    nominal_voltages_kv: list[float] = Field(description="The buses' nominal voltages, sorted.")
    frequency_hz: float
    has_geodata: bool = Field(description="Whether the buses have coordinates.")
    profile_start_utc: dt.datetime | None = Field(description="First profile step, if any.")
    profile_steps: int | None
    profile_step_s: float | None
    notes: list[str]


class BusOut(OutputModel):
    """One bus (node) of the model."""

    id: int = Field(description="The bus index in the model (pandapower).")
    name: str
    vn_kv: float
    x: float | None = Field(
        description="Longitude or easting (or the generated layout's x); null without any."
    )
    y: float | None = Field(
        description="Latitude or northing (or the generated layout's y); null without any."
    )
    kind: BusKind = Field(
        description="slack (feeds the grid), substation (a transformer's terminal), "
        "customer (has a load), junction (anything else)."
    )
    in_service: bool
    point_ids: list[str] = Field(description="Measurement points mapped to this bus.")


class LineOut(OutputModel):
    """One line or cable."""

    id: int
    name: str
    from_bus: int
    to_bus: int
    length_km: float
    max_i_ka: float = Field(description="Thermal rating of one system [kA].")
    parallel: int
    std_type: str | None
    in_service: bool
    open: bool = Field(description="An open switch disconnects it at one end.")
    coordinates: list[list[float]] | None = Field(
        description="Its route [[x, y], ...] from the model, else the ends' buses; null "
        "without geodata."
    )
    point_ids: list[str]


class TrafoOut(OutputModel):
    """One two-winding transformer."""

    id: int
    name: str
    hv_bus: int
    lv_bus: int
    sn_mva: float
    vn_hv_kv: float
    vn_lv_kv: float
    tap_pos: float | None
    in_service: bool
    open: bool
    point_ids: list[str]


class SwitchOut(OutputModel):
    """One switch: between a bus and a line (l), a transformer (t) or another bus (b)."""

    id: int
    bus: int
    element_type: Literal["l", "t", "t3", "b"]
    element: int
    closed: bool
    type: str | None


class InjectionOut(OutputModel):
    """A load or a static generator at a bus."""

    id: int
    name: str
    bus: int
    p_mw: float = Field(description="The model's own set-point (not a measurement).")
    type: str | None
    profile: str | None
    in_service: bool
    point_ids: list[str] = Field(description="Measurement points that meter it.")


class TopologyOut(OutputModel):
    """The model's elements and how they connect."""

    name: str
    has_geodata: bool = Field(description="Whether the model has its own coordinates.")
    layout: Layout = Field(description=_LAYOUT_DOC)
    buses: list[BusOut]
    lines: list[LineOut]
    trafos: list[TrafoOut]
    switches: list[SwitchOut]
    loads: list[InjectionOut]
    sgens: list[InjectionOut]


class GeometryOut(OutputModel):
    """A GeoJSON geometry: a Point or a LineString."""

    type: Literal["Point", "LineString"]
    coordinates: list[float] | list[list[float]]


class FeatureOut(OutputModel):
    """A GeoJSON Feature: one element, its geometry (null without geodata) and its data."""

    type: Literal["Feature"] = "Feature"
    id: str = Field(description="<table>:<index>, e.g. bus:12, line:3.")
    geometry: GeometryOut | None
    properties: dict[str, Any]


class FeatureCollectionOut(OutputModel):
    """The topology as a GeoJSON FeatureCollection (RFC 7946)."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    name: str
    layout: Layout = Field(description=_LAYOUT_DOC)
    features: list[FeatureOut]


# ---------------------------------------------------------------------- reading the net


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    f = float(value)
    return None if math.isnan(f) else f


def _geo(value: Any) -> dict[str, Any] | None:
    """A GeoJSON geometry from a pandapower ``geo`` cell (a JSON string or a mapping)."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _bus_xy(net: Any) -> dict[int, tuple[float, float]]:
    """Bus index -> (x, y) from ``net.bus.geo`` (pandapower 3) or ``net.bus_geodata``."""
    out: dict[int, tuple[float, float]] = {}
    if "geo" in net.bus.columns:
        for i, cell in net.bus["geo"].items():
            geo = _geo(cell)
            if geo and geo.get("type") == "Point":
                x, y = geo["coordinates"][:2]
                out[int(i)] = (float(x), float(y))
    old = getattr(net, "bus_geodata", None)
    if not out and old is not None and len(old) and {"x", "y"} <= set(old.columns):
        for i, row in old.iterrows():
            x, y = _float(row["x"]), _float(row["y"])
            if x is not None and y is not None:
                out[int(i)] = (x, y)
    return out


def one_line_layout(net: Any) -> dict[int, tuple[float, float]]:
    """Generated coordinates for a net without geodata: a one-line (tree) diagram.

    Each connected part of the grid (lines, transformers, bus-bus switches, open or not)
    is drawn as the tree of a breadth-first search from its external grid (else its
    lowest bus): ``y`` is minus the depth, ``x`` the leaves' order of a depth-first walk,
    a parent centred over its children; the parts side by side. Deterministic (neighbours
    in index order). pandapower's ``create_generic_coordinates`` does the same with
    igraph or graphviz, neither of which the project depends on.

    Returns
    -------
    dict of int to (float, float)
        Bus index -> (x, y) in units of one leaf spacing and one level.
    """
    import networkx as nx

    graph: nx.Graph[int] = nx.Graph()
    graph.add_nodes_from(sorted(int(b) for b in net.bus.index))
    edges: list[tuple[int, int]] = []
    for table, cols in (
        ("line", ("from_bus", "to_bus")),
        ("trafo", ("hv_bus", "lv_bus")),
        ("trafo3w", ("hv_bus", "mv_bus")),
        ("trafo3w", ("hv_bus", "lv_bus")),
        ("impedance", ("from_bus", "to_bus")),
    ):
        frame = net.get(table, None)
        if isinstance(frame, pd.DataFrame) and len(frame) and set(cols) <= set(frame.columns):
            edges += zip(frame[cols[0]].astype(int), frame[cols[1]].astype(int), strict=True)
    sw = net.switch
    if len(sw):
        bb = sw[sw["et"] == "b"]
        edges += zip(bb["bus"].astype(int), bb["element"].astype(int), strict=True)
    graph.add_edges_from(sorted((min(a, b), max(a, b)) for a, b in edges if a != b))
    slack = {int(b) for b in net.ext_grid["bus"]} if len(net.ext_grid) else set()
    out: dict[int, tuple[float, float]] = {}
    offset = 0.0
    for part in sorted(nx.connected_components(graph), key=min):
        roots = sorted(part & slack) or [min(part)]
        children: dict[int, list[int]] = {n: [] for n in part}
        depth = {roots[0]: 0}
        for parent, kids in nx.bfs_successors(graph, roots[0]):
            children[parent] = sorted(kids)
            for k in kids:
                depth[k] = depth[parent] + 1
        order: list[int] = []  # depth-first pre-order, iterative (feeders can be deep)
        stack = [roots[0]]
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(reversed(children[node]))
        x: dict[int, float] = {}
        leaf = 0
        for node in order:
            if not children[node]:
                x[node] = offset + leaf
                leaf += 1
        for node in reversed(order):
            kids = children[node]
            if kids:
                x[node] = (x[kids[0]] + x[kids[-1]]) / 2.0
        for node in order:
            out[node] = (x[node], -float(depth[node]))
        offset += leaf + 1
    return out


def _points_by_element(points: list[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for p in points:
        if p.element:
            out[str(p.element)].append(p.point_id)
    return out


def _open_elements(net: Any) -> dict[str, set[int]]:
    """Lines and transformers that an open switch disconnects."""
    out: dict[str, set[int]] = {"l": set(), "t": set()}
    sw = net.switch
    if len(sw):
        opened = sw[~sw["closed"].astype(bool)]
        for et, element in zip(opened["et"], opened["element"], strict=True):
            if et in out:
                out[str(et)].add(int(element))
    return out


def _bus_kinds(net: Any) -> dict[int, BusKind]:
    kinds: dict[int, BusKind] = {}
    for b in net.load["bus"]:
        kinds[int(b)] = "customer"
    for col in ("hv_bus", "lv_bus"):
        for b in net.trafo[col]:
            kinds[int(b)] = "substation"
    for b in net.ext_grid["bus"]:
        kinds[int(b)] = "slack"
    return kinds


def _column(table: Any, name: str) -> list[Any]:
    """A column as a Python list (None where the table has no such column)."""
    if name in table.columns:
        return list(table[name].tolist())
    return [None] * len(table)


def _ids(table: Any) -> list[int]:
    return [int(i) for i in table.index]


def _injections(table: Any, prefix: str, points: dict[str, list[str]]) -> list[InjectionOut]:
    return [
        InjectionOut(
            id=i,
            name=_text(name) or f"{prefix} {i}",
            bus=int(bus),
            p_mw=float(p_mw),
            type=_text(kind),
            profile=_text(profile),
            in_service=bool(ins),
            point_ids=sorted(points.get(f"{prefix}:{i}", [])),
        )
        for i, name, bus, p_mw, kind, profile, ins in zip(
            _ids(table),
            _column(table, "name"),
            _column(table, "bus"),
            _column(table, "p_mw"),
            _column(table, "type"),
            _column(table, "profile"),
            _column(table, "in_service"),
            strict=True,
        )
    ]


def _line_routes(net: Any, xy: dict[int, tuple[float, float]], geodata: bool) -> list[Any]:
    """Each line's route [[x, y], ...]: its own (with geodata), else its ends' buses."""
    routes: list[Any] = []
    own = _column(net.line, "geo") if geodata else [None] * len(net.line)
    for cell, a, b in zip(
        own, _column(net.line, "from_bus"), _column(net.line, "to_bus"), strict=True
    ):
        geo = _geo(cell)
        if geo and geo.get("type") == "LineString" and len(geo.get("coordinates", [])) >= 2:
            routes.append([[float(c[0]), float(c[1])] for c in geo["coordinates"]])
        elif int(a) in xy and int(b) in xy:
            routes.append([list(xy[int(a)]), list(xy[int(b)])])
        else:
            routes.append(None)
    return routes


def _bus_rows(
    net: Any, xy: dict[int, tuple[float, float]], by_element: dict[str, list[str]]
) -> list[BusOut]:
    """The topology's buses: name, voltage, place, kind and measurement points."""
    kinds = _bus_kinds(net)
    bus = net.bus
    return [
        BusOut(
            id=i,
            name=_text(bname) or f"bus {i}",
            vn_kv=float(vn),
            x=xy[i][0] if i in xy else None,
            y=xy[i][1] if i in xy else None,
            kind=kinds.get(i, "junction"),
            in_service=bool(ins),
            point_ids=sorted(by_element.get(f"bus:{i}", [])),
        )
        for i, bname, vn, ins in zip(
            _ids(bus),
            _column(bus, "name"),
            _column(bus, "vn_kv"),
            _column(bus, "in_service"),
            strict=True,
        )
    ]


def _line_rows(
    net: Any,
    xy: dict[int, tuple[float, float]],
    geodata: bool,
    opened: dict[str, set[int]],
    by_element: dict[str, list[str]],
) -> list[LineOut]:
    """The topology's lines: ends, rating, route, switch state and measurement points."""
    ln = net.line
    return [
        LineOut(
            id=i,
            name=_text(lname) or f"line {i}",
            from_bus=int(a),
            to_bus=int(b),
            length_km=float(length),
            max_i_ka=float(imax),
            parallel=int(par),
            std_type=_text(std),
            in_service=bool(ins),
            open=i in opened["l"],
            coordinates=route,
            point_ids=sorted(by_element.get(f"line:{i}", [])),
        )
        for i, lname, a, b, length, imax, par, std, ins, route in zip(
            _ids(ln),
            _column(ln, "name"),
            _column(ln, "from_bus"),
            _column(ln, "to_bus"),
            _column(ln, "length_km"),
            _column(ln, "max_i_ka"),
            _column(ln, "parallel"),
            _column(ln, "std_type"),
            _column(ln, "in_service"),
            _line_routes(net, xy, geodata),
            strict=True,
        )
    ]


def _trafo_rows(
    net: Any, opened: dict[str, set[int]], by_element: dict[str, list[str]]
) -> list[TrafoOut]:
    """The topology's transformers: ends, ratings, tap, switch state, points."""
    tr = net.trafo
    return [
        TrafoOut(
            id=i,
            name=_text(tname) or f"trafo {i}",
            hv_bus=int(hv),
            lv_bus=int(lv),
            sn_mva=float(sn),
            vn_hv_kv=float(vhv),
            vn_lv_kv=float(vlv),
            tap_pos=_float(tap),
            in_service=bool(ins),
            open=i in opened["t"],
            point_ids=sorted(by_element.get(f"trafo:{i}", [])),
        )
        for i, tname, hv, lv, sn, vhv, vlv, tap, ins in zip(
            _ids(tr),
            _column(tr, "name"),
            _column(tr, "hv_bus"),
            _column(tr, "lv_bus"),
            _column(tr, "sn_mva"),
            _column(tr, "vn_hv_kv"),
            _column(tr, "vn_lv_kv"),
            _column(tr, "tap_pos"),
            _column(tr, "in_service"),
            strict=True,
        )
    ]


def _switch_rows(net: Any) -> list[SwitchOut]:
    """The topology's switches."""
    sw = net.switch
    return [
        SwitchOut(
            id=i,
            bus=int(b),
            element_type=str(et),
            element=int(el),
            closed=bool(closed),
            type=_text(kind),
        )
        for i, b, et, el, closed, kind in zip(
            _ids(sw),
            _column(sw, "bus"),
            _column(sw, "et"),
            _column(sw, "element"),
            _column(sw, "closed"),
            _column(sw, "type"),
            strict=True,
        )
    ]


def topology(
    net: Any, name: str, points: list[Any], *, generate_layout: bool = False
) -> TopologyOut:
    """The topology of a pandapower net, with the measurement points mapped to its
    elements (``MeasurementPoint.element`` = ``<table>:<index>``).

    Without geodata the buses have no coordinates, unless ``generate_layout``: then they
    get those of :func:`one_line_layout` and ``layout`` says ``generated``.
    """
    by_element = _points_by_element(points)
    xy = _bus_xy(net)
    layout: Layout = "geodata" if xy else "none"
    if not xy and generate_layout and len(net.bus):
        xy = one_line_layout(net)
        layout = "generated"
    opened = _open_elements(net)
    buses = _bus_rows(net, xy, by_element)
    lines = _line_rows(net, xy, layout == "geodata", opened, by_element)
    trafos = _trafo_rows(net, opened, by_element)
    switches = _switch_rows(net)
    return TopologyOut(
        name=name,
        has_geodata=layout == "geodata",
        layout=layout,
        buses=buses,
        lines=lines,
        trafos=trafos,
        switches=switches,
        loads=_injections(net.load, "load", by_element),
        sgens=_injections(net.sgen, "sgen", by_element),
    )


def geojson(topo: TopologyOut) -> FeatureCollectionOut:
    """The topology as GeoJSON: buses, loads and sgens as points (at their bus), lines
    as their routes, transformers between their two buses; null geometry without
    coordinates. A generated layout (``layout``) is not in WGS 84 but in its own units."""
    xy = {b.id: (b.x, b.y) for b in topo.buses if b.x is not None and b.y is not None}

    def point(bus: int) -> GeometryOut | None:
        return GeometryOut(type="Point", coordinates=list(xy[bus])) if bus in xy else None

    features: list[FeatureOut] = []
    for b in topo.buses:
        props = b.model_dump(exclude={"x", "y"}) | {"element": "bus"}
        features.append(FeatureOut(id=f"bus:{b.id}", geometry=point(b.id), properties=props))
    for ln in topo.lines:
        geom = (
            None
            if ln.coordinates is None
            else GeometryOut(type="LineString", coordinates=ln.coordinates)
        )
        props = ln.model_dump(exclude={"coordinates"}) | {"element": "line"}
        features.append(FeatureOut(id=f"line:{ln.id}", geometry=geom, properties=props))
    for t in topo.trafos:
        ends = [list(xy[b]) for b in (t.hv_bus, t.lv_bus) if b in xy]
        geom = GeometryOut(type="LineString", coordinates=ends) if len(ends) == 2 else None
        props = t.model_dump() | {"element": "trafo"}
        features.append(FeatureOut(id=f"trafo:{t.id}", geometry=geom, properties=props))
    for table, items in (("load", topo.loads), ("sgen", topo.sgens)):
        for inj in items:
            props = inj.model_dump() | {"element": table}
            features.append(
                FeatureOut(id=f"{table}:{inj.id}", geometry=point(inj.bus), properties=props)
            )
    return FeatureCollectionOut(name=topo.name, layout=topo.layout, features=features)


# ---------------------------------------------------------------------- the answer's cache

#: Per model (by identity; the twin's model is never mutated, and its entry goes with it):
#: format -> (the points' mapping, JSON, gzip).
_ANSWERS: dict[int, dict[str, tuple[Any, bytes, bytes]]] = {}
_ANSWERS_LOCK = threading.Lock()
_BUILD_LOCK = threading.Lock()  # one build at a time: a request waits for the start's


def _slot(model: Any) -> dict[str, tuple[Any, bytes, bytes]]:
    key = id(model)
    with _ANSWERS_LOCK:
        slot = _ANSWERS.get(key)
        if slot is None:
            slot = _ANSWERS[key] = {}
            weakref.finalize(model, _ANSWERS.pop, key, None)
        return slot


def _warm_topology(runtime: TwinRuntime, state: Any) -> None:
    """Build the network view's topology answer in the background when a twin starts, so
    that the first page load finds it ready (the 9,099-bus grid's takes seconds); a
    failure is only logged (the route builds it again and reports)."""
    model = runtime.live.twin.model

    def build() -> None:
        try:
            topology_json(model, state.store.points(), "geojson")
        except Exception:
            _log.exception("building the topology answer at start failed")

    threading.Thread(target=build, name="twin-topology", daemon=True).start()


START_HOOKS.append(_warm_topology)


def topology_json(model: Any, points: list[Any], fmt: str) -> tuple[bytes, bytes]:
    """The topology answer of ``model`` as JSON and as gzip, built once per model, format
    and mapping of the measurement points to elements (a point mapped anew rebuilds it)."""
    key = tuple((p.point_id, p.element) for p in points if p.element)
    slot = _slot(model)
    hit = slot.get(fmt)
    if hit is not None and hit[0] == key:
        return hit[1], hit[2]
    with _BUILD_LOCK:
        hit = slot.get(fmt)  # built meanwhile (by the twin's start)?
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        topo = topology(model.net, model.name, points, generate_layout=True)
        doc: TopologyOut | FeatureCollectionOut = geojson(topo) if fmt == "geojson" else topo
        raw = doc.model_dump_json().encode()
        packed = gzip.compress(raw, compresslevel=6)
        slot[fmt] = (key, raw, packed)
    return raw, packed


def _accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (named or ``*``, not ``q=0``)."""
    for item in header.split(","):
        coding, *params = (part.strip().lower() for part in item.split(";"))
        if coding not in ("gzip", "*"):
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


# ---------------------------------------------------------------------- routes


@router.get("", summary="The twin's network model in figures")
async def model_info(user: Viewer, runtime: TwinDep) -> ModelOut:
    """Name, source, standard, element counts, nominal voltages, frequency, profiles."""
    model = runtime.live.twin.model
    net = model.net
    prof = model.profiles
    step_s = None
    if prof is not None and prof.n_steps >= 2:
        step_s = prof.step.total_seconds()
    return ModelOut(
        name=model.name,
        source=model.source,
        standard=runtime.live.twin.standard,
        buses=len(net.bus),
        lines=len(net.line),
        trafos=len(net.trafo),
        switches=len(net.switch),
        loads=len(net.load),
        sgens=len(net.sgen),
        ext_grids=len(net.ext_grid),
        nominal_voltages_kv=sorted({float(v) for v in net.bus["vn_kv"]}),
        frequency_hz=float(getattr(net, "f_hz", 50.0) or 50.0),
        has_geodata=bool(_bus_xy(net)),
        profile_start_utc=None if prof is None else prof.time_utc[0].to_pydatetime(),
        profile_steps=None if prof is None else prof.n_steps,
        profile_step_s=step_s,
        notes=list(model.notes),
    )


@router.get(
    "/topology",
    summary="The model's buses, branches, loads and generators",
    response_model=TopologyOut | FeatureCollectionOut,
)
async def model_topology(
    user: Viewer,
    runtime: TwinDep,
    state: StateDep,
    request: Request,
    fmt: Annotated[
        Literal["json", "geojson"],
        Query(alias="format", description="json (default) or geojson (RFC 7946)."),
    ] = "json",
) -> Response:
    """Buses with coordinates and kind; lines, transformers and switches with their ends,
    ratings and state; loads and generators with their bus and the measurement points
    that meter them. ``format=geojson``: a FeatureCollection. A model without geodata
    gets a generated one-line layout (``layout: generated``). Built once per model (and
    mapping of points), sent gzip-compressed to clients that accept it."""
    model = runtime.live.twin.model

    def build() -> tuple[bytes, bytes]:
        return topology_json(model, state.store.points(), fmt)

    raw, packed = await state.run(build)
    headers = {"Vary": "Accept-Encoding"}
    if _accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="application/json", headers=headers)
    return Response(raw, media_type="application/json", headers=headers)
