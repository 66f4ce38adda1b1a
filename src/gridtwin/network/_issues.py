"""The vocabulary of validation: the engines a model is checked for and the tables they
refuse, one finding (:class:`Issue`), the report (:class:`ValidationReport`), and the
collector and column checks every check of :mod:`gridtwin.network._validate` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from gridtwin.errors import InputError

__all__ = [
    "FIXED_POINT_ONLY_TABLES",
    "UNSUPPORTED_TABLES",
    "Issue",
    "Solver",
    "ValidationReport",
]

#: The engine a model is validated for (see :func:`validate`): the fixed point on
#: pandapower's own case (balanced), or power-grid-model balanced or unbalanced
#: (:attr:`gridtwin.network.PowerFlowOptions.engine` says which one a run uses).
Solver = Literal["fixed_point", "pgm", "pgm_unbalanced"]

#: Element tables no engine models, with the reason.
UNSUPPORTED_TABLES: dict[str, str] = {
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
_FIXED_POINT_ONLY = (
    "simulated by the fixed-point solver only: use a balanced run with method='auto' or "
    "'fixed_point' (power-grid-model's methods and unbalanced runs do not support them)"
)
FIXED_POINT_ONLY_TABLES: dict[str, str] = {
    "trafo3w": f"three-winding transformers are {_FIXED_POINT_ONLY}",
    "gen": f"voltage-controlled generators (PV buses) are {_FIXED_POINT_ONLY}",
    "xward": f"extended ward equivalents are {_FIXED_POINT_ONLY}",
    "dcline": f"DC lines (a generator pair, as pandapower models them) are {_FIXED_POINT_ONLY}",
    "impedance": f"impedance elements are {_FIXED_POINT_ONLY}",
    "ward": f"ward equivalents are {_FIXED_POINT_ONLY}",
    "motor": f"motors are {_FIXED_POINT_ONLY}",
}


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
    """The errors and warnings the checks of one validation find."""

    def __init__(self) -> None:
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def error(self, table: str, index: Any, column: str | None, message: str) -> None:
        """Record an error at ``table[index].column``."""
        self.errors.append(Issue(table, None if index is None else int(index), column, message))

    def warn(self, table: str, index: Any, column: str | None, message: str) -> None:
        """Record a warning at ``table[index].column``."""
        self.warnings.append(Issue(table, None if index is None else int(index), column, message))


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    """Column ``col`` as floats (non-numbers NaN), all NaN when missing."""
    if col not in df:
        return np.full(len(df), np.nan)
    return np.asarray(pd.to_numeric(df[col], errors="coerce"), dtype=np.float64)


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
