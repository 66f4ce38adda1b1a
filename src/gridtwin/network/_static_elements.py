"""Elements the balanced power flow counts as constant power at their bus, with fixed
set-points and no profile: ward and extended ward equivalents (their ``ps_mw``,
``qs_mvar``), motors, and pandapower's asymmetric loads and sgens (the sum of their three
phases, as pandapower's balanced ``runpp`` takes them).

:func:`static_elements` writes each as a small table the fixed point stacks after the
loads, sgens and storage units (columns ``bus``, ``p_mw``, ``q_mvar``, ``scaling``,
``in_service``, consumer frame before ``sign``). Their impedance parts (a ward's ``pz_mw``,
``qz_mvar``, an extended ward's internal voltage source) are in pandapower's admittance
model already.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gridtwin.network._tables import _col, _in_service

__all__ = ["STATIC_TABLES", "static_elements", "with_dcline_gens"]

#: Tables with fixed set-points, with their sign in the consumer frame.
STATIC_TABLES: tuple[tuple[str, float], ...] = (
    ("ward", 1.0),
    ("xward", 1.0),
    ("motor", 1.0),
    ("asymmetric_load", 1.0),
    ("asymmetric_sgen", -1.0),
)


def _frame(
    df: pd.DataFrame, p_mw: np.ndarray, q_mvar: np.ndarray, scaling: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "bus": df["bus"].to_numpy(dtype=np.int64),
            "p_mw": p_mw,
            "q_mvar": q_mvar,
            "scaling": scaling,
            "in_service": _in_service(df),
        },
        index=df.index,
    )


def _motor_pq(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A motor's electrical demand as pandapower computes it [MW], [Mvar]:
    ``p = pn_mech / efficiency * loading``, ``q`` from ``cos_phi``."""
    load = _col(df, "loading_percent", 100.0) / 100.0
    with np.errstate(invalid="ignore", divide="ignore"):
        p_mw = _col(df, "pn_mech_mw") / _col(df, "efficiency_percent") * 100.0 * load
        q_mvar = np.sqrt((p_mw / _col(df, "cos_phi")) ** 2 - p_mw**2)
    return p_mw, q_mvar


def static_elements(net: Any) -> dict[str, tuple[pd.DataFrame, float]]:
    """Each non-empty table of :data:`STATIC_TABLES` as ``(frame, sign)`` (see the
    module docstring)."""
    out: dict[str, tuple[pd.DataFrame, float]] = {}
    for table, sign in STATIC_TABLES:
        df = net.get(table, None)
        if not isinstance(df, pd.DataFrame) or not len(df):
            continue
        ones = np.ones(len(df))
        if table.endswith("ward"):
            frame = _frame(df, _col(df, "ps_mw", 0.0), _col(df, "qs_mvar", 0.0), ones)
        elif table == "motor":
            p_mw, q_mvar = _motor_pq(df)
            frame = _frame(df, p_mw, q_mvar, _col(df, "scaling", 1.0))
        else:
            p_mw = np.sum([_col(df, f"p_{ph}_mw", 0.0) for ph in "abc"], axis=0)
            q_mvar = np.sum([_col(df, f"q_{ph}_mvar", 0.0) for ph in "abc"], axis=0)
            frame = _frame(df, p_mw, q_mvar, _col(df, "scaling", 1.0))
        out[table] = (frame, sign)
    return out


def with_dcline_gens(net: Any) -> Any:
    """The net with each in-service DC line (``dcline``) as the pair of voltage-controlled
    generators pandapower's ``runpp`` makes of it (``p_mw`` drawn at the sending end, less
    ``loss_percent`` and ``loss_mw`` fed in at the receiving end, each end at its
    ``vm_*_pu`` within its reactive limits), appended after the net's own ``gen`` rows;
    the net itself when it has none. ``net`` is not changed."""
    dcline = net.get("dcline", None)
    if not isinstance(dcline, pd.DataFrame) or not _in_service(dcline).any():
        return net
    from pandapower.auxiliary import _add_dcline_gens

    work = net.__class__(dict(net))  # a shallow copy; only its gen table is replaced
    work["gen"] = net["gen"].copy()
    work["dcline"] = dcline[_in_service(dcline)]
    _add_dcline_gens(work)
    work["dcline"] = dcline.iloc[:0]
    return work
