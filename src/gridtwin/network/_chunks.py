"""Steps and set-points of a time-series power flow, chunk by chunk.

The profiles are never copied whole: a chunk of step positions (:data:`Rows`, a slice when
the positions are consecutive) selects rows of the profile frames through numpy views, and
:class:`Injections` turns them into the set-points of one element table [W], [var]. Every
engine returns a :class:`Chunk` of result fields for the rows it solved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._model import Profiles
from gridtwin.network._options import TrafoModel, ZeroSequence
from gridtwin.network._setpoints import PowerFactorRule

__all__ = [
    "Chunk",
    "EngineOptions",
    "Injections",
    "Rows",
    "as_rows",
    "injections",
    "n_rows",
    "positions",
    "row_positions",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: Profile rows of one chunk: a slice when consecutive, else their positions.
Rows = slice | IntArray


def positions(
    n_steps: int,
    steps: slice | Sequence[int] | npt.NDArray[np.integer] | None,
) -> IntArray:
    """Positions in the profiles of the selected steps (all when ``steps`` is None)."""
    if steps is None:
        return np.arange(n_steps, dtype=np.int64)
    if isinstance(steps, slice):
        return np.arange(n_steps, dtype=np.int64)[steps]
    pos = np.asarray(steps, dtype=np.int64).reshape(-1)
    bad = pos[(pos < 0) | (pos >= n_steps)]
    if bad.size:
        msg = f"steps: position(s) {bad[:5].tolist()} are outside the profiles' 0..{n_steps - 1}"
        raise InputError(msg)
    return pos


def as_rows(pos: IntArray) -> Rows:
    """A slice when the positions are consecutive (row views instead of copies)."""
    if len(pos) and int(pos[-1]) - int(pos[0]) == len(pos) - 1 and np.all(np.diff(pos) == 1):
        return slice(int(pos[0]), int(pos[-1]) + 1)
    return pos


def n_rows(rows: Rows) -> int:
    """Number of steps in ``rows``."""
    return (rows.stop - rows.start) if isinstance(rows, slice) else len(rows)


def row_positions(rows: Rows) -> IntArray:
    """Profile positions of ``rows``."""
    if isinstance(rows, slice):
        return np.arange(rows.start, rows.stop, dtype=np.int64)
    return np.asarray(rows, dtype=np.int64)


class Injections:
    """Set-points of one element table per step [W], [var].

    Profile columns where given, the static ``p_mw`` / ``q_mvar`` elsewhere, times
    ``scaling``. The profile frames are read through numpy views, chunk by chunk.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        p_frame: pd.DataFrame,
        q_frame: pd.DataFrame,
        rule: PowerFactorRule | None = None,
    ):
        index = table.index
        self.rule = rule  # cos φ(P) of sgens: q from the same step's p
        self.n = len(table)
        scaling = table["scaling"].to_numpy(dtype=float) if "scaling" in table else np.ones(self.n)
        self.scale = np.nan_to_num(scaling) * 1e6
        self.parts: list[tuple[FloatArray, IntArray, FloatArray | None, IntArray | None, bool]] = []
        for frame, col in ((p_frame, "p_mw"), (q_frame, "q_mvar")):
            static = (
                np.nan_to_num(table[col].to_numpy(dtype=float))
                if col in table
                else np.zeros(self.n)
            )
            if frame.shape[1] == 0:
                self.parts.append((static, np.zeros(0, dtype=np.int64), None, None, False))
                continue
            cols = index.get_indexer(frame.columns).astype(np.int64)
            keep = np.flatnonzero(cols >= 0)
            values = frame.to_numpy(dtype=np.float64)  # a view of the frame's block
            select = None if len(keep) == len(cols) else keep
            cols = cols[keep]
            identity = len(cols) == self.n and bool(np.all(cols == np.arange(self.n)))
            self.parts.append((static, cols, values, select, identity))

    def fill(self, rows: Rows, p_out: FloatArray, q_out: FloatArray) -> None:
        """Write the set-points of profile rows ``rows`` into ``p_out``, ``q_out``
        (``steps x n``) [W], [var]."""
        for (static, cols, values, select, identity), out in zip(
            self.parts, (p_out, q_out), strict=True
        ):
            if not identity:
                out[:] = static
            if values is not None and len(cols):
                block = values[rows]
                if select is not None:
                    block = block[:, select]
                if identity:
                    out[:] = block
                else:
                    out[:, cols] = block
            out *= self.scale
        if self.rule is not None:
            self.rule.apply(p_out, q_out)


def injections(
    net: Any, prof: Profiles, rule: PowerFactorRule | None = None
) -> dict[str, Injections]:
    """Set-point sources of the loads, sgens and storage units (those present)."""
    out = {
        "load": Injections(net.load, prof.load_p_mw, prof.load_q_mvar),
        "sgen": Injections(net.sgen, prof.sgen_p_mw, prof.sgen_q_mvar, rule),
    }
    storage = net.storage if "storage" in net else None
    if storage is not None and len(storage):
        out["storage"] = Injections(storage, prof.storage_p_mw, prof.storage_q_mvar)
    return out


@dataclass(frozen=True)
class Chunk:
    """Result fields of one chunk of steps and which of them failed."""

    fields: dict[str, FloatArray]
    failed: IntArray
    message: str
    fallback: int
    iterations: IntArray | None = None  # fixed point only
    taps: FloatArray | None = None  # fixed point with tap controls: (steps, n_controlled)
    sgen_q: FloatArray | None = None  # fixed point with Q(U): (steps, n_controlled) [Mvar]
    gen_q: FloatArray | None = None  # Newton-Raphson with gens: (steps, n_gen) [Mvar]


@dataclass(frozen=True)
class EngineOptions:
    """What every chunk of a run shares, for any engine (the resolved
    :class:`~gridtwin.network.PowerFlowOptions` and the run's cos φ(P) rule)."""

    symmetric: bool
    load_phases: Mapping[int, str] | None
    power_factor: PowerFactorRule | None
    zero_sequence: ZeroSequence
    trafo_model: TrafoModel
    error_tolerance_pu: float
    max_iterations: int
    threading: int
    angles: bool
    enforce_q_lims: bool = False
