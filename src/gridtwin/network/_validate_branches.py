"""Validation of the branches: switches, lines, two- and three-winding transformers and
their tap changers (parameters present and usable, references consistent).

Each check appends its findings to the collector of :func:`gridtwin.network.validate`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gridtwin.network._issues import (
    FIXED_POINT_ONLY_TABLES,
    Solver,
    _check_required,
    _Collector,
    _num,
)
from gridtwin.network._tables import _in_service, ratio_tap_changer, trafo_windings

__all__: list[str] = []

#: The terminals of a three-winding transformer.
_T3_SIDES = ("hv", "mv", "lv")
_T3_BUSES = tuple(f"{side}_bus" for side in _T3_SIDES)


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


def _check_lines(c: _Collector, net: Any, solver: Solver = "fixed_point") -> None:
    """Lines: parameters present and usable. The fixed point (pandapower's own branch
    model) also takes a negative series reactance (series capacitors), a negative
    capacitance and a negative resistance (network equivalents), as MATPOWER cases have
    them; the last with a warning."""
    line = net.line
    if not len(line):
        return
    ins = _in_service(line)
    signed = "any" if solver == "fixed_point" else "nonneg"
    _check_required(
        c,
        "line",
        line,
        {
            "length_km": "pos",
            "r_ohm_per_km": signed,
            "x_ohm_per_km": signed,
            "c_nf_per_km": signed,
            "parallel": "pos",
        },
        ins,
    )
    r, x = _num(line, "r_ohm_per_km"), _num(line, "x_ohm_per_km")
    for idx in line.index[ins & (r < 0)]:
        c.warn(
            "line",
            idx,
            "r_ohm_per_km",
            "is negative: not a physical line (a network equivalent?); solved as given, "
            "as pandapower does",
        )
    for idx in line.index[ins & (r == 0) & (x == 0)]:
        c.error("line", idx, "r_ohm_per_km", "zero impedance (r = x = 0); use a bus-bus switch")
    g, cap = _num(line, "g_us_per_km"), _num(line, "c_nf_per_km")
    for idx in line.index[ins & (np.nan_to_num(g) > 0) & (cap == 0) & (solver != "fixed_point")]:
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


def _check_trafos(c: _Collector, net: Any, solver: Solver = "fixed_point") -> None:
    """Two-winding transformers. The fixed point takes pandapower's own model of them, so
    it also takes what pandapower solves: a negative short-circuit voltage (series
    compensation in MATPOWER cases), a negative no-load current (taken as its magnitude,
    as pandapower does) and any phase shift."""
    tr = net.trafo
    if not len(tr):
        return
    ins = _in_service(tr)
    fixed_point = solver == "fixed_point"
    _check_required(
        c,
        "trafo",
        tr,
        {
            "sn_mva": "pos",
            "vn_hv_kv": "pos",
            "vn_lv_kv": "pos",
            "vk_percent": "any" if fixed_point else "pos",
            "vkr_percent": "any" if fixed_point else "nonneg",
            "pfe_kw": "nonneg",
            "i0_percent": "any" if fixed_point else "nonneg",
            "parallel": "pos",
        },
        ins,
    )
    vk, vkr, i0 = _num(tr, "vk_percent"), _num(tr, "vkr_percent"), _num(tr, "i0_percent")
    for idx in tr.index[ins & (vk == 0)]:
        c.error("trafo", idx, "vk_percent", "is 0: a transformer needs an impedance")
    for idx in tr.index[ins & (vk > 0) & (vkr >= vk)]:
        c.error("trafo", idx, "vkr_percent", "must be below vk_percent")
    for idx in tr.index[ins & (vk < 0) & (vkr >= np.abs(vk))]:
        c.error("trafo", idx, "vkr_percent", "must be below |vk_percent|")
    for idx in tr.index[ins & (vkr < 0)]:
        c.warn(
            "trafo",
            idx,
            "vkr_percent",
            "is negative: not a physical transformer (a network equivalent?); solved as "
            "given, as pandapower does",
        )
    for idx in tr.index[ins & (i0 < 0)]:
        c.warn(
            "trafo",
            idx,
            "i0_percent",
            f"is negative ({i0[tr.index.get_loc(idx)]:g} %); pandapower takes its magnitude "
            "as an inductive no-load current, and so does the fixed point",
        )
    g_percent = _num(tr, "pfe_kw") / 1e3 / _num(tr, "sn_mva") * 100
    _check_no_load_current(c, "trafo", tr, np.abs(i0), g_percent, ins)
    _check_taps(c, tr, ins, "trafo", solver)
    for col in ("leakage_resistance_ratio_hv", "leakage_reactance_ratio_hv"):
        v = _num(tr, col)
        for idx in tr.index[ins & np.isfinite(v) & (np.abs(v - 0.5) > 1e-12)]:
            c.error("trafo", idx, col, "only a symmetric T model (0.5) is supported")
    _w_from, _w_to, _clock, problems = trafo_windings(tr)
    for idx, col, text, is_error in problems:
        if fixed_point and col == "shift_degree":
            continue  # pandapower's balanced model takes any phase shift
        if is_error:
            c.error("trafo", idx, col, text)
        elif solver == "pgm_unbalanced":  # the winding types matter to unbalanced runs only
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
    """The no-load current should cover the iron losses (``i0 >= pfe / sn``). When it
    does not, pandapower takes the magnetising reactance as zero and solves (its own
    standard type 0.63 MVA 20/0.4 kV is a rounding short: 0.2619 % against 0.26190 %;
    ``mv_oberrhein`` has larger shortfalls): so does gridtwin, with a warning."""
    with np.errstate(divide="ignore", invalid="ignore"):
        shortfall = (g_percent - i0_percent) / g_percent
    for idx in df.index[ins & (shortfall > 0)]:
        k = df.index.get_loc(idx)
        c.warn(
            table,
            idx,
            "i0_percent",
            f"({i0_percent[k]:.6g} %) is below the iron-loss share pfe_kw/sn "
            f"({g_percent[k]:.6g} %): the magnetising reactance is taken as zero, as "
            "pandapower does; check i0_percent and pfe_kw",
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


def _check_taps(
    c: _Collector,
    tr: pd.DataFrame,
    ins: np.ndarray,
    table: str = "trafo",
    solver: Solver = "pgm",
) -> None:
    """Taps as pandapower 3 reads them: active only with tap_changer_type Ratio/Symmetrical
    (``table``: ``trafo`` or ``trafo3w``, whose tap acts on its ``tap_side`` winding).
    The fixed point takes phase-shifting taps of two-winding transformers (``Ideal``, or
    ``tap_step_degree``) as pandapower models them."""
    shifters = solver == "fixed_point" and table == "trafo"
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
    ideal = kind.isin(["Ideal"]).to_numpy() & shifters
    for idx in tr.index[ins & ratio & (step_deg != 0) & (not shifters)]:
        c.error(
            table,
            idx,
            "tap_step_degree",
            "phase-shifting taps are simulated by the fixed point only (a balanced run, "
            "method auto or fixed_point); or set tap_step_degree = 0",
        )
    for idx in tr.index[ins & has_type & ~ratio & ~ideal & off_neutral]:
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
