"""Checks run before any simulation: topology, parameters, supported elements, profiles.

Every finding names the pandapower table, the row index and the column (``None`` when the
whole row or table is concerned) and says how to fix it. :func:`validate` never raises for
data problems; :meth:`ValidationReport.raise_if_errors` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from gridtwin.errors import InputError
from gridtwin.network._model import PROFILE_FIELDS, NetworkModel, Profiles
from gridtwin.network._pgm import ratio_tap_changer, trafo_windings

__all__ = [
    "FIXED_POINT_ONLY_TABLES",
    "UNSUPPORTED_TABLES",
    "Issue",
    "Solver",
    "ValidationReport",
    "validate",
]

#: The engine a model is validated for (see :func:`validate`).
Solver = Literal["pgm", "fixed_point"]

#: Element tables the time-series engine does not model, with the reason.
UNSUPPORTED_TABLES: dict[str, str] = {
    "gen": "voltage-controlled generators (PV buses) are not supported; use an sgen with a "
    "fixed q, or an ext_grid for a slack",
    "impedance": "impedance elements are not supported; use a line or a transformer",
    "ward": "ward equivalents are not supported; replace them with a load and a shunt",
    "xward": "extended ward equivalents are not supported",
    "dcline": "DC lines are not supported",
    "asymmetric_load": "pandapower asymmetric loads are not supported; use a load with a "
    "phase in simulate(..., symmetric=False, load_phases=...)",
    "asymmetric_sgen": "pandapower asymmetric sgens are not supported",
    "motor": "motors are not supported; use a load",
    "svc": "static var compensators are not supported",
    "tcsc": "TCSC elements are not supported",
    "ssc": "static synchronous compensators are not supported",
    "vsc": "VSC converters are not supported",
    "line_dc": "DC lines are not supported",
    "source_dc": "DC sources are not supported",
    "load_dc": "DC loads are not supported",
}

#: Element tables only the fixed-point solver models (``solver="fixed_point"``), with the
#: reason they are refused for power-grid-model.
FIXED_POINT_ONLY_TABLES: dict[str, str] = {
    "trafo3w": "three-winding transformers are simulated by the fixed-point solver only: "
    "use a balanced run with method='auto' or 'fixed_point' (power-grid-model's methods "
    "and unbalanced runs do not support them)",
}

#: Element tables attached to one bus (column ``bus``) that carry power.
_INJECTIONS = ("load", "sgen", "storage", "shunt", "ext_grid")
#: The terminals of a three-winding transformer.
_T3_SIDES = ("hv", "mv", "lv")
_T3_BUSES = tuple(f"{side}_bus" for side in _T3_SIDES)


@dataclass(frozen=True)
class Issue:
    """One finding of :func:`validate`.

    Attributes
    ----------
    table : str
        pandapower table (``bus``, ``line`` ...) or ``profiles``.
    index : int or None
        Row index (element index), ``None`` for the whole table.
    column : str or None
        Column (or profile field such as ``load_p_mw``), ``None`` for the whole row.
    message : str
        What is wrong and how to fix it.
    """

    table: str
    index: int | None
    column: str | None
    message: str

    def where(self) -> str:
        """``table[index].column`` as far as known."""
        out = self.table
        if self.index is not None:
            out += f"[{self.index}]"
        if self.column is not None:
            out += f".{self.column}"
        return out

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    """Errors (the simulation refuses to run) and warnings (it runs; read them).

    Attributes
    ----------
    errors : tuple of Issue
    warnings : tuple of Issue
    source : str
        The model's source, for messages.
    """

    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    source: str = "<memory>"

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.errors

    def raise_if_errors(self, max_listed: int = 10) -> None:
        """Raise :class:`InputError` listing the first errors, if there are any."""
        if not self.errors:
            return
        shown = "\n  ".join(str(e) for e in self.errors[:max_listed])
        more = len(self.errors) - max_listed
        tail = f"\n  ... and {more} more" if more > 0 else ""
        msg = f"{self.source}: the network model has {len(self.errors)} error(s):\n  {shown}{tail}"
        raise InputError(msg)

    def to_frame(self) -> pd.DataFrame:
        """All issues as a table: severity, table, index, column, message."""
        rows = [("error", i.table, i.index, i.column, i.message) for i in self.errors]
        rows += [("warning", i.table, i.index, i.column, i.message) for i in self.warnings]
        return pd.DataFrame(rows, columns=["severity", "table", "index", "column", "message"])

    def __str__(self) -> str:
        lines = [f"{self.source}: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"]
        lines += [f"  error   {i}" for i in self.errors]
        lines += [f"  warning {i}" for i in self.warnings]
        return "\n".join(lines)


class _Collector:
    def __init__(self) -> None:
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def error(self, table: str, index: Any, column: str | None, message: str) -> None:
        self.errors.append(Issue(table, None if index is None else int(index), column, message))

    def warn(self, table: str, index: Any, column: str | None, message: str) -> None:
        self.warnings.append(Issue(table, None if index is None else int(index), column, message))


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df:
        return np.full(len(df), np.nan)
    return np.asarray(pd.to_numeric(df[col], errors="coerce"), dtype=np.float64)


def _in_service(df: pd.DataFrame) -> np.ndarray:
    if "in_service" not in df:
        return np.ones(len(df), dtype=bool)
    return np.asarray(df["in_service"].fillna(False).astype(bool), dtype=bool)


def _check_required(
    c: _Collector, table: str, df: pd.DataFrame, rules: dict[str, str], rows: np.ndarray
) -> None:
    """rules: column -> 'pos' (> 0), 'nonneg' (>= 0) or 'any' (finite)."""
    for col, rule in rules.items():
        v = _num(df, col)
        bad = ~np.isfinite(v)
        what = "is missing (NaN)"
        if rule == "pos":
            bad |= v <= 0
            what = "must be a number > 0"
        elif rule == "nonneg":
            bad |= v < 0
            what = "must be a number >= 0"
        for idx, val in zip(df.index[bad & rows], v[bad & rows], strict=True):
            c.error(
                table,
                idx,
                col,
                f"{what}; found {val}. Set it (or the element's std_type "
                "parameters) before simulating",
            )


def _check_bus_refs(c: _Collector, net: Any) -> None:
    buses = net.bus.index
    refs = {
        "line": ("from_bus", "to_bus"),
        "trafo": ("hv_bus", "lv_bus"),
        "trafo3w": ("hv_bus", "mv_bus", "lv_bus"),
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


def _check_switches(c: _Collector, net: Any) -> None:
    sw = net.switch
    if not len(sw):
        return
    t3 = net["trafo3w"] if "trafo3w" in net else pd.DataFrame(columns=_T3_BUSES)
    known = {"b": net.bus.index, "l": net.line.index, "t": net.trafo.index, "t3": t3.index}
    for idx, et, el, bus, closed, z in zip(
        sw.index,
        sw["et"],
        sw["element"],
        sw["bus"],
        sw["closed"].astype(bool),
        _num(sw, "z_ohm"),
        strict=True,
    ):
        if et not in known:
            c.error("switch", idx, "et", f"unknown switch type {et!r}; use 'b', 'l', 't' or 't3'")
            continue
        if el not in known[et]:
            c.error(
                "switch", idx, "element", f"refers to {et!r} element {el}, which does not exist"
            )
            continue
        if et == "l" and bus not in (net.line.at[el, "from_bus"], net.line.at[el, "to_bus"]):
            c.error("switch", idx, "bus", f"bus {bus} is not an end of line {el}")
        if et == "t" and bus not in (net.trafo.at[el, "hv_bus"], net.trafo.at[el, "lv_bus"]):
            c.error("switch", idx, "bus", f"bus {bus} is not an end of trafo {el}")
        if et == "t3" and bus not in tuple(t3.at[el, col] for col in _T3_BUSES):
            c.error("switch", idx, "bus", f"bus {bus} is not a terminal of trafo3w {el}")
        if et == "b" and closed and np.isfinite(z) and z > 0:
            c.error(
                "switch",
                idx,
                "z_ohm",
                f"a closed bus-bus switch with z_ohm = {z} is not "
                "supported; set z_ohm = 0 or use a line",
            )


def _check_lines(c: _Collector, net: Any) -> None:
    line = net.line
    if not len(line):
        return
    ins = _in_service(line)
    _check_required(
        c,
        "line",
        line,
        {
            "length_km": "pos",
            "r_ohm_per_km": "nonneg",
            "x_ohm_per_km": "nonneg",
            "c_nf_per_km": "nonneg",
            "parallel": "pos",
        },
        ins,
    )
    r, x = _num(line, "r_ohm_per_km"), _num(line, "x_ohm_per_km")
    for idx in line.index[ins & (r == 0) & (x == 0)]:
        c.error("line", idx, "r_ohm_per_km", "zero impedance (r = x = 0); use a bus-bus switch")
    g, cap = _num(line, "g_us_per_km"), _num(line, "c_nf_per_km")
    for idx in line.index[ins & (np.nan_to_num(g) > 0) & (cap == 0)]:
        c.error(
            "line",
            idx,
            "g_us_per_km",
            "shunt conductance without capacitance cannot be modelled; set g_us_per_km = 0",
        )
    imax = _num(line, "max_i_ka") * _num(line, "df")
    for idx in line.index[ins & ~(imax > 0)]:
        c.warn("line", idx, "max_i_ka", "no usable rating (max_i_ka * df); its loading will be NaN")
    vn = net.bus["vn_kv"]
    known = line["from_bus"].isin(vn.index) & line["to_bus"].isin(vn.index)
    v_from = vn.reindex(line["from_bus"]).to_numpy()
    v_to = vn.reindex(line["to_bus"]).to_numpy()
    differ = ins & known.to_numpy() & ~np.isclose(v_from, v_to, rtol=1e-6)
    for idx, a, b in zip(line.index[differ], v_from[differ], v_to[differ], strict=True):
        c.error(
            "line",
            idx,
            "to_bus",
            f"joins buses of {a:g} kV and {b:g} kV; a line cannot "
            "change voltage: model it as a transformer",
        )
    _check_std_types(c, net, "line")


def _check_std_types(c: _Collector, net: Any, table: str) -> None:
    df = net[table]
    if "std_type" not in df:
        return
    known = set(net.std_types.get(table, {}))
    st = df["std_type"]
    unknown = st.notna() & ~st.isin(known)
    for idx, name in zip(df.index[unknown], st[unknown], strict=True):
        c.warn(
            table,
            idx,
            "std_type",
            f"standard type {name!r} is not in net.std_types; the parameters in the table are used",
        )


def _check_trafos(c: _Collector, net: Any) -> None:
    tr = net.trafo
    if not len(tr):
        return
    ins = _in_service(tr)
    _check_required(
        c,
        "trafo",
        tr,
        {
            "sn_mva": "pos",
            "vn_hv_kv": "pos",
            "vn_lv_kv": "pos",
            "vk_percent": "pos",
            "vkr_percent": "nonneg",
            "pfe_kw": "nonneg",
            "i0_percent": "nonneg",
            "parallel": "pos",
        },
        ins,
    )
    vk, vkr = _num(tr, "vk_percent"), _num(tr, "vkr_percent")
    for idx in tr.index[ins & (vkr >= vk)]:
        c.error("trafo", idx, "vkr_percent", "must be below vk_percent")
    g_percent = _num(tr, "pfe_kw") / 1e3 / _num(tr, "sn_mva") * 100
    _check_no_load_current(c, "trafo", tr, _num(tr, "i0_percent"), g_percent, ins)
    _check_taps(c, tr, ins)
    for col in ("leakage_resistance_ratio_hv", "leakage_reactance_ratio_hv"):
        v = _num(tr, col)
        for idx in tr.index[ins & np.isfinite(v) & (np.abs(v - 0.5) > 1e-12)]:
            c.error("trafo", idx, col, "only a symmetric T model (0.5) is supported")
    _w_from, _w_to, _clock, problems = trafo_windings(tr)
    for idx, col, text, is_error in problems:
        if is_error:
            c.error("trafo", idx, col, text)
        else:
            c.warn("trafo", idx, col, text)
    _check_std_types(c, net, "trafo")


def _check_no_load_current(
    c: _Collector,
    table: str,
    df: pd.DataFrame,
    i0_percent: np.ndarray,
    g_percent: np.ndarray,
    ins: np.ndarray,
) -> None:
    """The no-load current must cover the iron losses (``i0 >= pfe / sn``). A shortfall of
    rounding size (pandapower's own standard types have one: 0.63 MVA 20/0.4 kV gives
    0.2619 % against 0.26190 %) is a warning: the magnetising reactance is taken as zero,
    as pandapower does. A larger one (over 1 %) is a data error."""
    with np.errstate(divide="ignore", invalid="ignore"):
        shortfall = (g_percent - i0_percent) / g_percent
    for idx in df.index[ins & (shortfall > 0.01)]:
        c.error(
            table,
            idx,
            "i0_percent",
            "is below the iron-loss share pfe_kw/sn (no magnetising current left); check "
            "i0_percent and pfe_kw",
        )
    for idx in df.index[ins & (shortfall > 0) & (shortfall <= 0.01)]:
        c.warn(
            table,
            idx,
            "i0_percent",
            "is a rounding below the iron-loss share pfe_kw/sn: no magnetising reactance "
            "(as pandapower takes it)",
        )


def _check_trafo3w(c: _Collector, net: Any, solver: Solver) -> None:
    """Three-winding transformers: refused for power-grid-model; for the fixed point (which
    takes pandapower's own model of them) the parameters that model needs."""
    t3 = net.get("trafo3w", None)
    if not isinstance(t3, pd.DataFrame) or not len(t3):
        return
    ins = _in_service(t3)
    if solver != "fixed_point":
        reason = FIXED_POINT_ONLY_TABLES["trafo3w"]
        for idx in t3.index[ins]:
            c.error("trafo3w", idx, None, f"{reason} (or set in_service = False)")
        return
    rules = {f"sn_{side}_mva": "pos" for side in _T3_SIDES}
    rules |= {f"vn_{side}_kv": "pos" for side in _T3_SIDES}
    rules |= {f"vk_{side}_percent": "pos" for side in _T3_SIDES}
    rules |= {f"vkr_{side}_percent": "nonneg" for side in _T3_SIDES}
    rules |= {"pfe_kw": "nonneg", "i0_percent": "nonneg"}
    _check_required(c, "trafo3w", t3, rules, ins)
    for side in _T3_SIDES:
        vk, vkr = _num(t3, f"vk_{side}_percent"), _num(t3, f"vkr_{side}_percent")
        for idx in t3.index[ins & (vkr >= vk)]:
            c.error("trafo3w", idx, f"vkr_{side}_percent", f"must be below vk_{side}_percent")
    # the magnetising branch sits on the loss side's winding (pandapower: default HV)
    loss_side = (
        t3["loss_side"].fillna("hv").astype(str).str.lower().to_numpy()
        if "loss_side" in t3
        else np.full(len(t3), "hv")
    )
    sn_loss = np.select(
        [loss_side == side for side in _T3_SIDES],
        [_num(t3, f"sn_{side}_mva") for side in _T3_SIDES],
        np.nan,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        g_percent = _num(t3, "pfe_kw") / 1e3 / sn_loss * 100
    _check_no_load_current(c, "trafo3w", t3, _num(t3, "i0_percent"), g_percent, ins)
    _check_taps(c, t3, ins, "trafo3w")
    ratio = ratio_tap_changer(t3)
    pos, neutral = _num(t3, "tap_pos"), _num(t3, "tap_neutral")
    off_neutral = np.isfinite(pos) & np.isfinite(neutral) & (pos != neutral)
    tap_side = t3["tap_side"] if "tap_side" in t3 else pd.Series([None] * len(t3), index=t3.index)
    no_side = ~tap_side.isin(list(_T3_SIDES)).to_numpy()
    for idx in t3.index[ins & ratio & off_neutral & no_side]:
        c.error(
            "trafo3w",
            idx,
            "tap_side",
            f"is {tap_side[idx]!r} for a tap off neutral; set the winding the tap acts on "
            "('hv', 'mv' or 'lv')",
        )
    _check_std_types(c, net, "trafo3w")


def _check_taps(c: _Collector, tr: pd.DataFrame, ins: np.ndarray, table: str = "trafo") -> None:
    """Taps as pandapower 3 reads them: active only with tap_changer_type Ratio/Symmetrical
    (``table``: ``trafo`` or ``trafo3w``, whose tap acts on its ``tap_side`` winding)."""
    ratio = ratio_tap_changer(tr)
    kind = (
        tr["tap_changer_type"]
        if "tap_changer_type" in tr
        else pd.Series([None] * len(tr), index=tr.index)
    )
    has_type = kind.notna().to_numpy() & (kind.astype(str) != "").to_numpy()
    pos, neutral = _num(tr, "tap_pos"), _num(tr, "tap_neutral")
    off_neutral = np.isfinite(pos) & np.isfinite(neutral) & (pos != neutral)
    step_deg = np.nan_to_num(_num(tr, "tap_step_degree"))
    for idx in tr.index[ins & ratio & (step_deg != 0)]:
        c.error(
            table,
            idx,
            "tap_step_degree",
            "phase-shifting taps are not supported; set tap_step_degree = 0",
        )
    for idx in tr.index[ins & has_type & ~ratio & off_neutral]:
        c.error(
            table,
            idx,
            "tap_changer_type",
            f"tap changer type {kind[idx]!r} is not "
            "supported off its neutral position; use "
            "'Ratio'",
        )
    for idx in tr.index[ins & ~has_type & off_neutral]:
        c.warn(
            table,
            idx,
            "tap_pos",
            f"tap_pos {pos[tr.index.get_loc(idx)]:g} is ignored "
            "because tap_changer_type is not set (pandapower 3 "
            "does the same); set tap_changer_type = 'Ratio'",
        )
    for idx in tr.index[ins & ratio & ~np.isfinite(_num(tr, "tap_step_percent")) & off_neutral]:
        c.error(table, idx, "tap_step_percent", "is missing for a tap off neutral")
    if "tap_dependency_table" in tr:
        dep = tr["tap_dependency_table"].fillna(False).astype(bool).to_numpy()
        for idx in tr.index[ins & dep & has_type]:
            c.error(
                table, idx, "tap_dependency_table", "tap-dependent impedances are not supported"
            )
    for idx in tr.index[ins & ratio & np.isfinite(pos) & (np.abs(pos - np.round(pos)) > 1e-9)]:
        c.error(table, idx, "tap_pos", "must be a whole tap position")
    if "tap2_pos" in tr:
        pos2, neutral2 = _num(tr, "tap2_pos"), _num(tr, "tap2_neutral")
        active2 = (
            tr["tap2_changer_type"].notna().to_numpy()
            if "tap2_changer_type" in tr
            else np.zeros(len(tr), dtype=bool)
        )
        for idx in tr.index[ins & active2 & np.isfinite(pos2) & (pos2 != neutral2)]:
            c.error(table, idx, "tap2_pos", "a second tap changer is not supported")


def _check_injections(
    c: _Collector, net: Any, prof: Profiles | None, solver: Solver = "pgm"
) -> None:
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
    load = net.load
    if len(load):
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
    eg = net.ext_grid
    ins = _in_service(eg)
    if not ins.any():
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


def _check_unsupported(c: _Collector, net: Any) -> None:
    for table, reason in UNSUPPORTED_TABLES.items():
        df = net.get(table, None)
        if not isinstance(df, pd.DataFrame) or not len(df):
            continue
        for idx in df.index[_in_service(df)]:
            c.error(table, idx, None, f"{reason} (or set in_service = False)")


def _check_topology(c: _Collector, net: Any) -> None:
    bus = net.bus
    n = len(bus)
    if n == 0:
        c.error("bus", None, None, "the net has no buses")
        return
    pos = pd.Series(np.arange(n), index=bus.index)
    bus_ok = pd.Series(_in_service(bus), index=bus.index)
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    sw = net.switch
    open_ends: set[tuple[str, int, int]] = set()
    if len(sw):
        open_sw = sw[~sw["closed"].astype(bool)]
        open_ends = {
            (str(et), int(el), int(b))
            for et, el, b in zip(open_sw["et"], open_sw["element"], open_sw["bus"], strict=True)
        }
        closed_bb = sw[(sw["et"] == "b") & sw["closed"].astype(bool)]
        closed_bb = closed_bb[
            closed_bb["bus"].isin(bus.index) & closed_bb["element"].isin(bus.index)
        ]
        src.append(pos.loc[closed_bb["bus"]].to_numpy())
        dst.append(pos.loc[closed_bb["element"]].to_numpy())
    for table, et, a, b in (
        ("line", "l", "from_bus", "to_bus"),
        ("trafo", "t", "hv_bus", "lv_bus"),
    ):
        df = net[table]
        if not len(df):
            continue
        keep = _in_service(df) & df[a].isin(bus.index).to_numpy() & df[b].isin(bus.index)
        for k, (idx, fa, fb) in enumerate(zip(df.index, df[a], df[b], strict=True)):
            if (et, int(idx), int(fa)) in open_ends or (et, int(idx), int(fb)) in open_ends:
                keep[k] = False
        src.append(pos.loc[df[a][keep]].to_numpy())
        dst.append(pos.loc[df[b][keep]].to_numpy())
    t3 = net.get("trafo3w", None)
    if isinstance(t3, pd.DataFrame) and len(t3):
        # two terminals are joined through the star point unless either end is open
        for a, b in (("hv_bus", "mv_bus"), ("hv_bus", "lv_bus"), ("mv_bus", "lv_bus")):
            keep = _in_service(t3) & t3[a].isin(bus.index).to_numpy() & t3[b].isin(bus.index)
            for k, (idx, fa, fb) in enumerate(zip(t3.index, t3[a], t3[b], strict=True)):
                if ("t3", int(idx), int(fa)) in open_ends or ("t3", int(idx), int(fb)) in open_ends:
                    keep[k] = False
            src.append(pos.loc[t3[a][keep]].to_numpy())
            dst.append(pos.loc[t3[b][keep]].to_numpy())
    s = np.concatenate(src) if src else np.zeros(0, dtype=np.int64)
    d = np.concatenate(dst) if dst else np.zeros(0, dtype=np.int64)
    ok_edge = bus_ok.to_numpy()[s] & bus_ok.to_numpy()[d]
    graph = sp.coo_matrix((np.ones(int(ok_edge.sum())), (s[ok_edge], d[ok_edge])), shape=(n, n))
    _n, label = connected_components(graph, directed=False)
    eg = net.ext_grid
    eg = eg[_in_service(eg) & eg["bus"].isin(bus.index).to_numpy()]
    fed_labels = set(label[pos.loc[eg["bus"]].to_numpy()].tolist())
    fed = np.isin(label, list(fed_labels)) & bus_ok.to_numpy()
    isolated = bus.index[bus_ok.to_numpy() & ~fed]
    if not len(isolated):
        return
    attached: set[int] = set()
    for table in ("load", "sgen", "storage"):
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


def _check_profiles(c: _Collector, net: Any, prof: Profiles) -> None:
    if prof.n_steps == 0:
        c.error("profiles", None, None, "the profiles have no time steps")
        return
    for field, (table, col) in PROFILE_FIELDS.items():
        frame: pd.DataFrame = getattr(prof, field)
        df = net[table] if table in net else pd.DataFrame()
        unknown = frame.columns[~frame.columns.isin(df.index)].tolist()
        for idx in unknown:
            c.error(
                "profiles",
                idx,
                field,
                f"profile column {idx} matches no row of the "
                f"{table} table; drop it or fix the element index",
            )
        if frame.shape[1]:
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
        if not len(df) or table == "gen":
            continue
        ins = _in_service(df)
        missing = df.index[ins & ~df.index.isin(frame.columns)]
        if not len(missing):
            continue
        if col == "p_mw":
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


def validate(
    model: NetworkModel, profiles: Profiles | None = None, *, solver: Solver = "pgm"
) -> ValidationReport:
    """Check a model (and profiles) for what the simulation needs.

    Parameters
    ----------
    model : NetworkModel
        The grid.
    profiles : Profiles, optional
        Profiles to check; defaults to ``model.profiles``. Without profiles only the grid
        is checked.
    solver : {"pgm", "fixed_point"}
        The engine the model is checked for: voltage-dependent (ZIP) loads and
        three-winding transformers (``trafo3w``, with their parameters checked) are
        accepted by the fixed-point solver only (:data:`FIXED_POINT_ONLY_TABLES`).

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
    _check_unsupported(c, net)
    _check_switches(c, net)
    _check_lines(c, net)
    _check_trafos(c, net)
    _check_trafo3w(c, net, solver)
    prof = profiles if profiles is not None else model.profiles
    _check_injections(c, net, prof, solver)
    _check_topology(c, net)
    if prof is not None:
        _check_profiles(c, net, prof)
    return ValidationReport(tuple(c.errors), tuple(c.warnings), model.source)
