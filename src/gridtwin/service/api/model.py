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
import json
import math
from collections import defaultdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from gridtwin.service.api._common import OutputModel
from gridtwin.service.api.twin import TwinDep
from gridtwin.service.deps import StateDep, Viewer

__all__ = ["ModelOut", "TopologyOut", "router", "topology"]

router = APIRouter(prefix="/model", tags=["model"])

BusKind = Literal["slack", "substation", "customer", "junction"]


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
    x: float | None = Field(description="Longitude or easting; null without geodata.")
    y: float | None = Field(description="Latitude or northing; null without geodata.")
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
    has_geodata: bool
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


def _line_route(
    net: Any, i: int, ends: tuple[int, int], xy: dict[int, tuple[float, float]]
) -> list[list[float]] | None:
    if "geo" in net.line.columns:
        geo = _geo(net.line.at[i, "geo"])
        if geo and geo.get("type") == "LineString" and len(geo.get("coordinates", [])) >= 2:
            return [[float(c[0]), float(c[1])] for c in geo["coordinates"]]
    a, b = ends
    if a in xy and b in xy:
        return [list(xy[a]), list(xy[b])]
    return None


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


def _injections(table: Any, prefix: str, points: dict[str, list[str]]) -> list[InjectionOut]:
    has = set(table.columns)
    return [
        InjectionOut(
            id=int(i),
            name=_text(row["name"]) or f"{prefix} {i}",
            bus=int(row["bus"]),
            p_mw=float(row["p_mw"]),
            type=_text(row["type"]) if "type" in has else None,
            profile=_text(row["profile"]) if "profile" in has else None,
            in_service=bool(row["in_service"]),
            point_ids=sorted(points.get(f"{prefix}:{i}", [])),
        )
        for i, row in table.iterrows()
    ]


def topology(net: Any, name: str, points: list[Any]) -> TopologyOut:
    """The topology of a pandapower net, with the measurement points mapped to its
    elements (``MeasurementPoint.element`` = ``<table>:<index>``)."""
    by_element = _points_by_element(points)
    xy = _bus_xy(net)
    kinds = _bus_kinds(net)
    opened = _open_elements(net)
    buses = [
        BusOut(
            id=int(i),
            name=_text(row["name"]) or f"bus {i}",
            vn_kv=float(row["vn_kv"]),
            x=xy[int(i)][0] if int(i) in xy else None,
            y=xy[int(i)][1] if int(i) in xy else None,
            kind=kinds.get(int(i), "junction"),
            in_service=bool(row["in_service"]),
            point_ids=sorted(by_element.get(f"bus:{i}", [])),
        )
        for i, row in net.bus.iterrows()
    ]
    lines = [
        LineOut(
            id=int(i),
            name=_text(row["name"]) or f"line {i}",
            from_bus=int(row["from_bus"]),
            to_bus=int(row["to_bus"]),
            length_km=float(row["length_km"]),
            max_i_ka=float(row["max_i_ka"]),
            parallel=int(row["parallel"]),
            std_type=_text(row["std_type"]),
            in_service=bool(row["in_service"]),
            open=int(i) in opened["l"],
            coordinates=_line_route(net, int(i), (int(row["from_bus"]), int(row["to_bus"])), xy),
            point_ids=sorted(by_element.get(f"line:{i}", [])),
        )
        for i, row in net.line.iterrows()
    ]
    trafos = [
        TrafoOut(
            id=int(i),
            name=_text(row["name"]) or f"trafo {i}",
            hv_bus=int(row["hv_bus"]),
            lv_bus=int(row["lv_bus"]),
            sn_mva=float(row["sn_mva"]),
            vn_hv_kv=float(row["vn_hv_kv"]),
            vn_lv_kv=float(row["vn_lv_kv"]),
            tap_pos=_float(row["tap_pos"]),
            in_service=bool(row["in_service"]),
            open=int(i) in opened["t"],
            point_ids=sorted(by_element.get(f"trafo:{i}", [])),
        )
        for i, row in net.trafo.iterrows()
    ]
    switches = [
        SwitchOut(
            id=int(i),
            bus=int(row["bus"]),
            element_type=str(row["et"]),
            element=int(row["element"]),
            closed=bool(row["closed"]),
            type=_text(row["type"]),
        )
        for i, row in net.switch.iterrows()
    ]
    return TopologyOut(
        name=name,
        has_geodata=bool(xy),
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
    geodata."""
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
    return FeatureCollectionOut(name=topo.name, features=features)


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
    fmt: Annotated[
        Literal["json", "geojson"],
        Query(alias="format", description="json (default) or geojson (RFC 7946)."),
    ] = "json",
) -> TopologyOut | FeatureCollectionOut:
    """Buses with coordinates (null without geodata) and kind; lines, transformers and
    switches with their ends, ratings and state; loads and generators with their bus and
    the measurement points that meter them. ``format=geojson``: a FeatureCollection."""
    model = runtime.live.twin.model

    def build() -> TopologyOut | FeatureCollectionOut:
        topo = topology(model.net, model.name, state.store.points())
        return geojson(topo) if fmt == "geojson" else topo

    return await state.run(build)
