"""The shape of a pandapower net read from a file, checked before any engine sees it:
the tables and columns the engines read, numbers where numbers belong, ids that fit.

A net someone else wrote (or a damaged file) otherwise fails deep inside pandapower,
power-grid-model or numba with a ``KeyError``, a ``TypeError`` or a typing error that
names none of the file's rows. Each check here names the table, the row and the column.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.errors import InputError

__all__ = ["check_net_shape"]

#: Per table (when it has rows): the columns the engines read; numbers unless listed in
#: :data:`_FLAGS` or :data:`_TEXT`.
REQUIRED: dict[str, tuple[str, ...]] = {
    "bus": ("vn_kv", "in_service"),
    "line": (
        "from_bus", "to_bus", "length_km", "r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km",
        "max_i_ka", "in_service",
    ),
    "trafo": (
        "hv_bus", "lv_bus", "sn_mva", "vn_hv_kv", "vn_lv_kv", "vk_percent", "vkr_percent",
        "pfe_kw", "i0_percent", "in_service",
    ),
    "load": ("bus", "p_mw", "q_mvar", "in_service"),
    "sgen": ("bus", "p_mw", "q_mvar", "in_service"),
    "gen": ("bus", "p_mw", "vm_pu", "in_service"),
    "ext_grid": ("bus", "vm_pu", "in_service"),
    "switch": ("bus", "element", "et", "closed"),
}  # fmt: skip
#: Tables whose index is an element id passed to the engines.
ELEMENTS = (
    *REQUIRED, "trafo3w", "shunt", "ward", "xward", "impedance", "dcline", "storage", "motor",
    "asymmetric_load", "asymmetric_sgen", "svc", "tcsc", "ssc",
)  # fmt: skip
_FLAGS = frozenset({"in_service", "closed"})
_TEXT = frozenset({"et"})
#: power-grid-model's ids are 32-bit integers.
MAX_INDEX = 2**31 - 1


def check_net_shape(net: Any, where: str) -> None:
    """Raise an :class:`InputError` naming ``where`` and the place of the first problem."""
    if "std_types" in net:
        std_types = net["std_types"]
        kinds = std_types.values() if isinstance(std_types, dict) else ()
        if not isinstance(std_types, dict) or not all(isinstance(k, dict) for k in kinds):
            msg = (
                f"{where}: std_types must map element kinds (line, trafo, ...) to mappings of "
                f"types, found {type(std_types).__name__}; remove it or save the net again"
            )
            raise InputError(msg)
    f_hz = net.get("f_hz")
    if not _positive(f_hz):
        msg = f"{where}: f_hz is {f_hz!r}; give the system frequency in Hz (50 or 60)"
        raise InputError(msg)
    sn_mva = net.get("sn_mva", 1.0)
    if not _positive(sn_mva):
        msg = f"{where}: sn_mva is {sn_mva!r}; give the per-unit base power in MVA (e.g. 1)"
        raise InputError(msg)
    for table in _element_tables(net):
        _check_index(net[table], table, where)
    for table, columns in REQUIRED.items():
        frame = net.get(table)
        if not isinstance(frame, pd.DataFrame) or frame.empty:
            continue
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            msg = f"{where}: table {table} has no column(s) {', '.join(missing)}"
            raise InputError(msg)
        for col in columns:
            if col in _FLAGS:
                _check_flags(frame, table, col, where)
            elif col not in _TEXT:
                _check_numbers(frame, table, col, where)


def _element_tables(net: Any) -> list[str]:
    """The net's element tables with rows (their index is the element id the engines
    take)."""
    return [
        name for name in ELEMENTS if isinstance(net.get(name), pd.DataFrame) and not net[name].empty
    ]


def _positive(value: Any) -> bool:
    """Whether ``value`` is a finite number above zero (not a bool)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _check_index(frame: pd.DataFrame, table: str, where: str) -> None:
    index = frame.index
    if not pd.api.types.is_integer_dtype(index.dtype):
        msg = f"{where}: table {table}'s index is not integers ({index.dtype})"
        raise InputError(msg)
    if len(index) and (int(index.max()) > MAX_INDEX or int(index.min()) < 0):
        bad = int(index.max()) if int(index.max()) > MAX_INDEX else int(index.min())
        msg = (
            f"{where}: table {table} has index {bad}, outside 0 to {MAX_INDEX:,} (the "
            "engines' ids are 32-bit); renumber it (pandapower.toolbox.create_continuous_"
            "elements_index)"
        )
        raise InputError(msg)


def _check_flags(frame: pd.DataFrame, table: str, col: str, where: str) -> None:
    """A yes/no column holds true/false (or 1/0): ``"maybe"`` would count as true."""
    values = frame[col]
    if pd.api.types.is_bool_dtype(values.dtype):
        return
    ok = np.array(
        [
            isinstance(v, bool | np.bool_)
            or (type(v) in (int, float) and v in (0, 1))
            or (isinstance(v, np.integer | np.floating) and v in (0, 1))
            for v in values
        ]
    )
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        msg = (
            f"{where}: table {table}, row {frame.index[i]}, column {col}: "
            f"{values.iloc[i]!r} is not true or false"
        )
        raise InputError(msg)
    frame[col] = values.astype(bool)


def _check_numbers(frame: pd.DataFrame, table: str, col: str, where: str) -> None:
    values = frame[col]
    if pd.api.types.is_bool_dtype(values.dtype):
        return
    if pd.api.types.is_numeric_dtype(values.dtype):
        return
    number = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero(number.isna().to_numpy() & values.notna().to_numpy())
    if bad.size:
        row = frame.index[int(bad[0])]
        msg = (
            f"{where}: table {table}, row {row}, column {col}: {values.iloc[int(bad[0])]!r} "
            "is not a number"
        )
        raise InputError(msg)
    frame[col] = number  # numbers written as text ("0.4"): read as the numbers they are
