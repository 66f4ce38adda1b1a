"""Checks for unbalanced runs and asymmetric elements (pandapower's ``asymmetric_load`` and
``asymmetric_sgen``), free of any solver library.

The functions take the collector of a validation (:class:`~gridtwin.network._issues.
_Collector`) and the net; :func:`gridtwin.network.validate` calls them (the asymmetric
tables for every run, the transformer zero sequence for unbalanced runs).
:func:`zero_sequence_problems` is also what the power-grid-model converter refuses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.network._issues import _Collector, _num
from gridtwin.network._tables import WINDING_CODES, _in_service, trafo_windings

__all__ = [
    "ASYMMETRIC_TABLES",
    "PHASE_P_COLUMNS",
    "PHASE_Q_COLUMNS",
    "ZERO_SEQUENCE_COLUMNS",
    "check_asymmetric_elements",
    "check_ideal_source",
    "check_trafo_zero_sequence",
    "zero_sequence_mapped",
    "zero_sequence_problems",
]

#: pandapower tables with per-phase set-points (no profile fields: static at every step).
ASYMMETRIC_TABLES = ("asymmetric_load", "asymmetric_sgen")
#: Their per-phase set-point columns.
PHASE_P_COLUMNS = ("p_a_mw", "p_b_mw", "p_c_mw")
PHASE_Q_COLUMNS = ("q_a_mvar", "q_b_mvar", "q_c_mvar")
#: pandapower's zero-sequence transformer columns.
ZERO_SEQUENCE_COLUMNS = ("vk0_percent", "vkr0_percent", "mag0_percent", "mag0_rx", "si0_hv_partial")

#: Vector groups whose zero sequence the unbalanced run takes from the net (winding codes).
_MAPPED = {
    (WINDING_CODES["delta"], WINDING_CODES["wye_n"]),  # Dyn
    (WINDING_CODES["wye_n"], WINDING_CODES["wye_n"]),  # YNyn
    (WINDING_CODES["wye_n"], WINDING_CODES["delta"]),  # YNd
}

#: One problem: (row index, column, message).
Problem = tuple[int, str, str]


def zero_sequence_mapped(trafo: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Rows whose zero sequence comes from the net's data (Dyn, YNd, YNyn)."""
    w_from, w_to, _, _ = trafo_windings(trafo)
    pairs = zip(w_from.tolist(), w_to.tolist(), strict=True)
    return np.array([p in _MAPPED for p in pairs], dtype=bool)


def zero_sequence_problems(trafo: pd.DataFrame, rows: npt.NDArray[np.bool_]) -> list[Problem]:
    """Zero-sequence data an unbalanced run cannot use, among ``rows``.

    Magnetising data (``mag0_percent``) needs ``mag0_rx`` and ``si0_hv_partial`` (as in
    pandapower's ``runpp_3ph``), ``mag0_percent > 0`` and ``0 <= si0_hv_partial <= 1``;
    a given ``vk0_percent`` must exceed ``vkr0_percent``.
    """
    vk0, vkr0, mag0, rx, si0 = (_num(trafo, col) for col in ZERO_SEQUENCE_COLUMNS)
    has_mag = np.isfinite(mag0)
    fix = (
        "set it (pandapower's usual values: mag0_percent = 100, mag0_rx = 0, "
        "si0_hv_partial = 0.9) or clear mag0_percent to take the positive sequence's "
        "magnetising data"
    )
    checks = (
        (
            "mag0_percent",
            has_mag & (mag0 <= 0),
            "must be > 0 (the zero-sequence magnetising impedance in % of the leakage's); " + fix,
        ),
        ("mag0_rx", has_mag & ~np.isfinite(rx), "is missing while mag0_percent is given; " + fix),
        (
            "si0_hv_partial",
            has_mag & ~np.isfinite(si0),
            "is missing while mag0_percent is given; " + fix,
        ),
        (
            "si0_hv_partial",
            (si0 < 0) | (si0 > 1),
            "must lie in 0..1 (the HV winding's share of the zero-sequence leakage)",
        ),
        ("vkr0_percent", (vk0 > 1e-8) & (vkr0 >= vk0), "must be below vk0_percent"),
    )
    out: list[Problem] = []
    for col, bad, text in checks:
        values = _num(trafo, col)
        for idx, val in zip(trafo.index[bad & rows], values[bad & rows], strict=True):
            out.append((int(idx), col, f"{text}; found {val}"))
    return out


def check_trafo_zero_sequence(c: _Collector, net: Any) -> None:
    """Unbalanced runs: zero-sequence data of in-service Dyn, YNd and YNyn transformers
    that cannot be used are errors (other vector groups keep power-grid-model's own zero
    sequence, and missing data its defaults: both are said in the result's notes)."""
    tr = net.trafo
    if not len(tr):
        return
    rows = _in_service(tr) & zero_sequence_mapped(tr)
    for idx, col, text in zero_sequence_problems(tr, rows):
        c.error("trafo", idx, col, text)


def _check_asymmetric_rows(
    c: _Collector, net: Any, table: str, df: pd.DataFrame, *, symmetric: bool
) -> None:
    """Bus references, set-points, scaling and connection type of one table."""
    ins = _in_service(df)
    missing_bus = ~df["bus"].isin(net.bus.index).to_numpy()
    for idx, val in zip(df.index[missing_bus], df["bus"][missing_bus], strict=True):
        c.error(table, idx, "bus", f"refers to bus {val}, which is not in the bus table")
    for col in (*PHASE_P_COLUMNS, *PHASE_Q_COLUMNS):
        bad = ~np.isfinite(_num(df, col)) & ins
        for idx in df.index[bad]:
            c.error(table, idx, col, "is missing (NaN); set the phase's set-point (0 if none)")
    scaling = _num(df, "scaling") if "scaling" in df else np.ones(len(df))
    for idx in df.index[ins & ~(np.isfinite(scaling) & (scaling >= 0))]:
        c.error(table, idx, "scaling", "must be a number >= 0")
    kind = df["type"].astype(str).str.lower() if "type" in df else pd.Series("wye", df.index)
    for idx, val in kind[ins & ~kind.isin(["wye", "delta"]).to_numpy()].items():
        c.error(table, idx, "type", f"must be 'wye' or 'delta'; found {val!r}")
    if not symmetric:
        for idx in kind.index[ins & (kind == "delta").to_numpy()]:
            c.error(
                table,
                idx,
                "type",
                "delta connection in an unbalanced run: power-grid-model connects each "
                "phase of an asymmetric load or generator to neutral. Set type='wye' if "
                "the powers are phase-to-neutral, or run balanced (the sum of the phases, "
                "as pandapower's runpp)",
            )


def check_asymmetric_elements(c: _Collector, net: Any, *, symmetric: bool) -> None:
    """``asymmetric_load`` and ``asymmetric_sgen``: errors for unusable rows, and a
    warning per table that they keep their static set-points at every step.

    Parameters
    ----------
    c : _Collector
        The validation's collector.
    net : pandapowerNet
        The grid.
    symmetric : bool
        The run is balanced (each element then counts with the sum of its phases, as in
        pandapower's ``runpp``; delta and wye alike) or unbalanced (per phase, wye only).
    """
    for table in ASYMMETRIC_TABLES:
        df = net.get(table, None)
        if df is None or not len(df):
            continue
        _check_asymmetric_rows(c, net, table, df, symmetric=symmetric)
        n_on = int(_in_service(df).sum())
        if n_on:
            how = "the sum of the phases" if symmetric else "per phase"
            c.warn(
                table,
                None,
                None,
                f"{n_on} in service; asymmetric elements have no profile fields: their "
                f"p_a_mw .. q_c_mvar times scaling ({how}) are used at every step. Model "
                "a time-varying one as loads with load_phases (unbalanced) or loads/sgens "
                "with profiles",
            )


def check_ideal_source(c: _Collector, net: Any) -> None:
    """Unbalanced runs: the ext_grid is an ideal source in every sequence, while pandapower's
    ``runpp_3ph`` gives it the negative- and zero-sequence impedance of its short-circuit
    power. A warning per ext_grid that has one (a weaker grid means more unbalance than
    the run shows)."""
    eg = net.ext_grid
    if not len(eg) or "s_sc_max_mva" not in eg:
        return
    s_sc = _num(eg, "s_sc_max_mva")
    for idx in eg.index[_in_service(eg) & np.isfinite(s_sc) & (s_sc > 0)]:
        c.warn(
            "ext_grid",
            idx,
            "s_sc_max_mva",
            f"({s_sc[eg.index.get_loc(idx)]:g} MVA) is not used: the unbalanced run takes the "
            "ext_grid as an ideal source in the negative and zero sequence (pandapower's "
            "runpp_3ph puts this short-circuit impedance behind it; about 2e-6 pu on its "
            "IEEE European LV feeder at 10 GVA, more on a weaker grid)",
        )
