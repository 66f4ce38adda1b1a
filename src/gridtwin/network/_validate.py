"""Checks run before any simulation: topology, parameters, supported elements, profiles.

Every finding names the pandapower table, the row index and the column (``None`` when the
whole row or table is concerned) and says how to fix it. :func:`validate` never raises for
data problems; :meth:`ValidationReport.raise_if_errors` does.

This module holds :func:`validate` and the checks of references, supported elements,
injections, topology and profiles; the branch checks are in
:mod:`gridtwin.network._validate_branches`, the report and its vocabulary in
:mod:`gridtwin.network._issues` (re-exported here).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gridtwin.network._issues import (
    FIXED_POINT_ONLY_TABLES,
    UNSUPPORTED_TABLES,
    Issue,
    Solver,
    ValidationReport,
    _check_required,
    _Collector,
    _num,
)
from gridtwin.network._model import PROFILE_FIELDS, NetworkModel, Profiles
from gridtwin.network._tables import _in_service
from gridtwin.network._validate_branches import (
    _check_lines,
    _check_switches,
    _check_trafo3w,
    _check_trafos,
)
from gridtwin.network._validate_unbalanced import (
    check_asymmetric_elements,
    check_ideal_source,
    check_trafo_zero_sequence,
)

__all__ = [
    "FIXED_POINT_ONLY_TABLES",
    "UNSUPPORTED_TABLES",
    "Issue",
    "Solver",
    "ValidationReport",
    "validate",
]

#: Element tables attached to one bus (column ``bus``) that carry power.
_INJECTIONS = (
    "load",
    "sgen",
    "storage",
    "shunt",
    "ext_grid",
    "gen",
    "ward",
    "xward",
    "motor",
    "asymmetric_load",
    "asymmetric_sgen",
)


def _check_bus_refs(c: _Collector, net: Any) -> None:
    buses = net.bus.index
    refs = {
        "line": ("from_bus", "to_bus"),
        "trafo": ("hv_bus", "lv_bus"),
        "trafo3w": ("hv_bus", "mv_bus", "lv_bus"),
        "impedance": ("from_bus", "to_bus"),
        "dcline": ("from_bus", "to_bus"),
        "switch": ("bus",),
        **{t: ("bus",) for t in _INJECTIONS},
    }
    for table, cols in refs.items():
        df = net.get(table, None)
        if df is None or not len(df):
            continue
        for col in cols:
            missing = ~df[col].isin(buses)
            for idx, val in zip(df.index[missing], df[col][missing], strict=True):
                c.error(table, idx, col, f"refers to bus {val}, which is not in the bus table")


def _check_setpoints(c: _Collector, net: Any, prof: Profiles | None) -> None:
    """Loads, sgens and storage: a usable scaling, and p/q set unless a profile gives them."""
    for table in ("load", "sgen", "storage"):
        df = net.get(table, None)
        if df is None or not len(df):
            continue
        ins = _in_service(df)
        _check_required(c, table, df, {"scaling": "nonneg"}, ins)
        for col in ("p_mw", "q_mvar"):
            field = f"{table}_{col}"
            profiled = (
                getattr(prof, field).columns
                if prof is not None and field in PROFILE_FIELDS
                else pd.Index([])
            )
            v = _num(df, col)
            bad = ins & ~np.isfinite(v) & ~df.index.isin(profiled)
            for idx in df.index[bad]:
                c.error(table, idx, col, "is NaN and has no profile; set a value")


def _check_load_models(c: _Collector, load: pd.DataFrame, solver: Solver) -> None:
    """Voltage-dependent (ZIP) shares the engine can take, and no delta-connected loads."""
    zip_cols = [
        k
        for k in (
            "const_z_p_percent",
            "const_i_p_percent",
            "const_z_q_percent",
            "const_i_q_percent",
            "const_z_percent",
            "const_i_percent",
        )
        if k in load
    ]
    ins = _in_service(load)
    for col in zip_cols:
        v = np.nan_to_num(_num(load, col))
        if solver == "fixed_point":
            for idx in load.index[ins & ((v < 0) | (v > 100))]:
                c.error("load", idx, col, f"is {v[load.index.get_loc(idx)]:g} %; use 0..100")
            continue
        for idx in load.index[ins & (v != 0)]:
            c.error(
                "load",
                idx,
                col,
                "voltage-dependent (ZIP) loads need the fixed-point solver "
                "(method='fixed_point' or 'auto' in a balanced run); "
                "power-grid-model has constant power only",
            )
    for p_or_q in ("p", "q"):
        z, i = f"const_z_{p_or_q}_percent", f"const_i_{p_or_q}_percent"
        if solver == "fixed_point" and z in load and i in load:
            total = np.nan_to_num(_num(load, z)) + np.nan_to_num(_num(load, i))
            for idx in load.index[ins & (total > 100)]:
                c.error("load", idx, z, f"{z} + {i} exceed 100 %")
    if "type" in load:
        delta = load["type"].astype(str).str.lower().eq("delta").to_numpy()
        for idx in load.index[ins & delta]:
            c.error("load", idx, "type", "delta-connected loads are not supported")


def _check_injections(
    c: _Collector, net: Any, prof: Profiles | None, solver: Solver = "pgm"
) -> None:
    """Set-points, load models, an in-service slack and usable shunts."""
    _check_setpoints(c, net, prof)
    if len(net.load):
        _check_load_models(c, net.load, solver)
    eg = net.ext_grid
    ins = _in_service(eg)
    if not len(_slack_buses(net, solver)):
        c.error(
            "ext_grid",
            None,
            None,
            "no in-service ext_grid: add a slack (ext_grid) at the feeding bus",
        )
    _check_required(c, "ext_grid", eg, {"vm_pu": "pos"}, ins)
    if len(net.shunt):
        _check_required(
            c, "shunt", net.shunt, {"p_mw": "any", "q_mvar": "any"}, _in_service(net.shunt)
        )


#: The columns each table with fixed set-points needs (in service), and their rule.
_STATIC_COLUMNS: dict[str, dict[str, str]] = {
    "gen": {"p_mw": "any", "vm_pu": "pos", "scaling": "nonneg"},
    "ward": {"ps_mw": "any", "qs_mvar": "any", "pz_mw": "any", "qz_mvar": "any"},
    "xward": {
        "ps_mw": "any",
        "qs_mvar": "any",
        "pz_mw": "any",
        "qz_mvar": "any",
        "r_ohm": "nonneg",
        "x_ohm": "any",
        "vm_pu": "pos",
    },
    "dcline": {
        "p_mw": "any",
        "loss_percent": "nonneg",
        "loss_mw": "nonneg",
        "vm_from_pu": "pos",
        "vm_to_pu": "pos",
    },
    "motor": {
        "pn_mech_mw": "nonneg",
        "efficiency_percent": "pos",
        "cos_phi": "pos",
        "loading_percent": "nonneg",
        "scaling": "nonneg",
    },
    "impedance": {
        "rft_pu": "any",
        "xft_pu": "any",
        "rtf_pu": "any",
        "xtf_pu": "any",
        "sn_mva": "pos",
    },
}


def _check_unsupported(c: _Collector, net: Any, solver: Solver) -> None:
    """Tables no engine models, and tables only the fixed point models (with their
    parameters checked there)."""
    refused = dict(UNSUPPORTED_TABLES)
    if solver != "fixed_point":
        refused |= {t: r for t, r in FIXED_POINT_ONLY_TABLES.items() if t != "trafo3w"}
    for table, reason in refused.items():
        df = net.get(table, None)
        if not isinstance(df, pd.DataFrame) or not len(df):
            continue
        for idx in df.index[_in_service(df)]:
            c.error(table, idx, None, f"{reason} (or set in_service = False)")
    if solver != "fixed_point":
        return
    for table, rules in _STATIC_COLUMNS.items():
        df = net.get(table, None)
        if not isinstance(df, pd.DataFrame) or not _in_service(df).any():
            continue
        _check_required(c, table, df, rules, _in_service(df))
        if table not in ("impedance", "gen"):
            c.warn(
                table,
                None,
                None,
                f"{int(_in_service(df).sum())} in-service {table} element(s) keep their "
                "static values at every step (they have no profiles)",
            )


def _open_ends(sw: pd.DataFrame) -> set[tuple[str, int, int]]:
    """``(et, element, bus)`` of every open switch."""
    open_sw = sw[~sw["closed"].astype(bool)]
    return {
        (str(et), int(el), int(b))
        for et, el, b in zip(open_sw["et"], open_sw["element"], open_sw["bus"], strict=True)
    }


def _branch_edges(
    df: pd.DataFrame,
    et: str,
    a: str,
    b: str,
    open_ends: set[tuple[str, int, int]],
    bus: pd.DataFrame,
    pos: pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """Bus positions joined by the in-service rows of ``df`` between columns ``a`` and
    ``b``, unless a switch of type ``et`` is open at either end."""
    keep = _in_service(df) & df[a].isin(bus.index).to_numpy() & df[b].isin(bus.index).to_numpy()
    for k, (idx, fa, fb) in enumerate(zip(df.index, df[a], df[b], strict=True)):
        if (et, int(idx), int(fa)) in open_ends or (et, int(idx), int(fb)) in open_ends:
            keep[k] = False  # a position: keep is a plain array, not a labelled Series
    return pos.loc[df[a][keep]].to_numpy(), pos.loc[df[b][keep]].to_numpy()


def _topology_edges(net: Any, pos: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Bus positions joined by closed bus-bus switches, lines, transformers and (each pair
    of terminals) three-winding transformers."""
    bus = net.bus
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    sw = net.switch
    open_ends: set[tuple[str, int, int]] = set()
    if len(sw):
        open_ends = _open_ends(sw)
        closed_bb = sw[(sw["et"] == "b") & sw["closed"].astype(bool)]
        closed_bb = closed_bb[
            closed_bb["bus"].isin(bus.index) & closed_bb["element"].isin(bus.index)
        ]
        src.append(pos.loc[closed_bb["bus"]].to_numpy())
        dst.append(pos.loc[closed_bb["element"]].to_numpy())
    for table, et, a, b in (
        ("line", "l", "from_bus", "to_bus"),
        ("trafo", "t", "hv_bus", "lv_bus"),
        ("impedance", "-", "from_bus", "to_bus"),  # refused for power-grid-model
    ):
        df = net.get(table, None)
        if not isinstance(df, pd.DataFrame) or not len(df):
            continue
        s, d = _branch_edges(df, et, a, b, open_ends, bus, pos)
        src.append(s)
        dst.append(d)
    t3 = net.get("trafo3w", None)
    if isinstance(t3, pd.DataFrame) and len(t3):
        # two terminals are joined through the star point unless either end is open
        for a, b in (("hv_bus", "mv_bus"), ("hv_bus", "lv_bus"), ("mv_bus", "lv_bus")):
            s, d = _branch_edges(t3, "t3", a, b, open_ends, bus, pos)
            src.append(s)
            dst.append(d)
    s = np.concatenate(src) if src else np.zeros(0, dtype=np.int64)
    d = np.concatenate(dst) if dst else np.zeros(0, dtype=np.int64)
    return s, d


def _component_labels(n: int, s: np.ndarray, d: np.ndarray, bus_ok: np.ndarray) -> np.ndarray:
    """Connected component of each bus over the edges between in-service buses."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    ok_edge = bus_ok[s] & bus_ok[d]
    graph = sp.coo_matrix((np.ones(int(ok_edge.sum())), (s[ok_edge], d[ok_edge])), shape=(n, n))
    _n, label = connected_components(graph, directed=False)
    return np.asarray(label)


#: Tables whose elements make an isolated bus an error (they draw or inject power).
_FEEDING = tuple(t for t in _INJECTIONS if t not in ("shunt", "ext_grid"))


def _report_isolated(c: _Collector, net: Any, isolated: pd.Index) -> None:
    """An isolated bus is an error when it feeds in-service loads/sgens/storage, else a
    warning."""
    attached: set[int] = set()
    for table in _FEEDING:
        df = net.get(table, None)
        if df is not None and len(df):
            attached.update(int(b) for b in df["bus"][_in_service(df)])
    for idx in isolated:
        text = (
            "is not connected to any ext_grid through in-service elements and closed "
            "switches; its results will be NaN"
        )
        if int(idx) in attached:
            c.error(
                "bus",
                idx,
                None,
                text + ", but it feeds in-service loads/sgens/storage: "
                "close a switch, connect it, or take it out of "
                "service",
            )
        else:
            c.warn("bus", idx, None, text)


def _slack_buses(net: Any, solver: Solver) -> np.ndarray:
    """Buses of the in-service ext_grids and (for the fixed point, whose Newton-Raphson
    takes them) of the in-service generators with ``slack=True``."""
    eg = net.ext_grid
    buses = [eg["bus"].to_numpy()[_in_service(eg)]]
    gen = net.get("gen", None)
    if solver == "fixed_point" and isinstance(gen, pd.DataFrame) and "slack" in gen:
        is_slack = gen["slack"].fillna(False).astype(bool).to_numpy()
        buses.append(gen["bus"].to_numpy()[_in_service(gen) & is_slack])
    return np.concatenate(buses).astype(np.int64)


def _check_topology(c: _Collector, net: Any, solver: Solver = "fixed_point") -> None:
    """Every in-service bus is connected to an in-service ext_grid (or slack gen)."""
    bus = net.bus
    n = len(bus)
    if n == 0:
        c.error("bus", None, None, "the net has no buses")
        return
    pos = pd.Series(np.arange(n), index=bus.index)
    bus_ok = pd.Series(_in_service(bus), index=bus.index)
    s, d = _topology_edges(net, pos)
    label = _component_labels(n, s, d, bus_ok.to_numpy())
    slack = _slack_buses(net, solver)
    slack = slack[np.isin(slack, bus.index)]
    fed_labels = set(label[pos.loc[slack].to_numpy()].tolist())
    fed = np.isin(label, list(fed_labels)) & bus_ok.to_numpy()
    isolated = bus.index[bus_ok.to_numpy() & ~fed]
    if not len(isolated):
        return
    _report_isolated(c, net, isolated)


def _check_profile_values(
    c: _Collector, prof: Profiles, field: str, table: str, frame: pd.DataFrame, df: pd.DataFrame
) -> None:
    """Columns of one profile frame that match no element, NaN values, and negative sgen
    power."""
    unknown = frame.columns[~frame.columns.isin(df.index)].tolist()
    for idx in unknown:
        c.error(
            "profiles",
            idx,
            field,
            f"profile column {idx} matches no row of the "
            f"{table} table; drop it or fix the element index",
        )
    if not frame.shape[1]:
        return
    values = frame.to_numpy()
    nan_cols = np.isnan(values).any(axis=0)
    for k in np.flatnonzero(nan_cols):
        first = int(np.argmax(np.isnan(values[:, k])))
        c.error(
            table,
            frame.columns[int(k)],
            field,
            f"profile has {int(np.isnan(values[:, k]).sum())} NaN value(s), first "
            f"at {prof.time_utc[first].isoformat()}; fill the gap in the source data",
        )
    if field == "sgen_p_mw" and np.nanmin(values) < 0:
        neg = np.flatnonzero((values < 0).any(axis=0))
        t_min, k_min = np.unravel_index(int(np.nanargmin(values)), values.shape)
        c.warn(
            table,
            None,
            field,
            f"{len(neg)} sgen profile(s) have negative values (consumption in the "
            f"generator frame); the lowest is {values[t_min, k_min]:.6g} MW, sgen "
            f"{frame.columns[int(k_min)]} at {prof.time_utc[int(t_min)].isoformat()}. "
            "They are "
            "simulated as given",
        )


def _check_profile_coverage(
    c: _Collector, field: str, table: str, col: str, frame: pd.DataFrame, df: pd.DataFrame
) -> None:
    """In-service elements without a column: an error for ``p``, a warning for ``q``."""
    ins = _in_service(df)
    missing = df.index[ins & ~df.index.isin(frame.columns)]
    if not len(missing):
        return
    if col == "p_mw" and table != "gen":
        for idx in missing:
            c.error(
                table,
                idx,
                field,
                f"in-service {table} has no {field} profile column; "
                "add one (or take it out of service)",
            )
    else:
        shown = ", ".join(str(i) for i in missing[:10])
        c.warn(
            table,
            None,
            col,
            f"{len(missing)} in-service {table}(s) have no {field} "
            f"profile column (e.g. {shown}); their static {col} is "
            "used at every step",
        )


def _check_profiles(c: _Collector, net: Any, prof: Profiles) -> None:
    """Every profile frame against its element table."""
    if prof.n_steps == 0:
        c.error("profiles", None, None, "the profiles have no time steps")
        return
    for field, (table, col) in PROFILE_FIELDS.items():
        frame: pd.DataFrame = getattr(prof, field)
        df = net[table] if table in net else pd.DataFrame()
        _check_profile_values(c, prof, field, table, frame, df)
        if len(df):
            _check_profile_coverage(c, field, table, col, frame, df)


def validate(
    model: NetworkModel, profiles: Profiles | None = None, *, solver: Solver = "fixed_point"
) -> ValidationReport:
    """Check a model (and profiles) for what the simulation needs.

    Parameters
    ----------
    model : NetworkModel
        The grid.
    profiles : Profiles, optional
        Profiles to check; defaults to ``model.profiles``. Without profiles only the grid
        is checked.
    solver : {"fixed_point", "pgm", "pgm_unbalanced"}
        The engine the model is checked for, as the run will use it
        (:attr:`gridtwin.network.PowerFlowOptions.engine`; the default is the engine of
        the default options, the fixed point): voltage-dependent (ZIP) loads and
        three-winding transformers (``trafo3w``, with their parameters checked) are
        accepted by the fixed-point solver only (:data:`FIXED_POINT_ONLY_TABLES`);
        ``"pgm"`` and ``"pgm_unbalanced"`` are power-grid-model's balanced and unbalanced
        runs.

    Returns
    -------
    ValidationReport
        Errors: isolated buses feeding loads, missing/invalid electrical parameters,
        broken references, unsupported elements, elements without a ``p`` profile,
        profile columns matching no element, NaN profile values, no ext_grid. Warnings:
        isolated empty buses, unknown std types, missing vector groups (Dyn/Yyn assumed),
        missing line ratings, missing ``q`` profiles, negative sgen profile values (SimBench
        has some: plants' own consumption).
    """
    net = model.net
    c = _Collector()
    _check_required(c, "bus", net.bus, {"vn_kv": "pos"}, _in_service(net.bus))
    _check_bus_refs(c, net)
    if c.errors:  # broken references make the remaining checks meaningless
        return ValidationReport(tuple(c.errors), tuple(c.warnings), model.source)
    _check_unsupported(c, net, solver)
    check_asymmetric_elements(c, net, symmetric=solver != "pgm_unbalanced")
    if solver == "pgm_unbalanced":
        check_trafo_zero_sequence(c, net)
        check_ideal_source(c, net)
    _check_switches(c, net)
    _check_lines(c, net, solver)
    _check_trafos(c, net, solver)
    _check_trafo3w(c, net, solver)
    prof = profiles if profiles is not None else model.profiles
    _check_injections(c, net, prof, solver)
    _check_topology(c, net, solver)
    if prof is not None:
        _check_profiles(c, net, prof)
    return ValidationReport(tuple(c.errors), tuple(c.warnings), model.source)
