"""The per-step result fields, the element ids of their columns, and the long-format series.

One table, :data:`_LAYOUT`, says for every array field of a power-flow result which
element and quantity it holds, which ids label its columns and whether unbalanced
results keep it per phase. The full result, the streamed statistics and the Parquet
files all read their fields from it; :func:`iter_series` turns a block of steps into
the ``(element, quantity, ids, values)`` series of the long format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "NETWORK_ID",
    "PHASES",
    "RESULT_FIELDS",
    "BoolArray",
    "ChunkArrays",
    "FloatArray",
    "IntArray",
    "Series",
    "iter_series",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
#: One chunk of results: field name (``vm_pu`` ..., ``p_loss_mw``) -> ``(steps, n[, 3])``.
ChunkArrays = Mapping[str, FloatArray]
#: (element, quantity, ids, 2-D array ``steps x len(ids)``) of one long-format series.
Series = tuple[str, str, IntArray, FloatArray]

PHASES = ("a", "b", "c")
NETWORK_ID = -1

#: (field, element, quantity, ids field, per-phase in unbalanced results)
_LAYOUT: tuple[tuple[str, str, str, str, bool], ...] = (
    ("vm_pu", "bus", "vm_pu", "bus_ids", True),
    ("va_degree", "bus", "va_degree", "bus_ids", True),
    ("line_i_ka", "line", "i_ka", "line_ids", True),
    ("line_loading_percent", "line", "loading_percent", "line_ids", False),
    ("line_p_from_mw", "line", "p_from_mw", "line_ids", False),
    ("trafo_i_hv_ka", "trafo", "i_hv_ka", "trafo_ids", True),
    ("trafo_i_lv_ka", "trafo", "i_lv_ka", "trafo_ids", True),
    ("trafo_loading_percent", "trafo", "loading_percent", "trafo_ids", False),
    ("trafo3w_i_hv_ka", "trafo3w", "i_hv_ka", "trafo3w_ids", True),
    ("trafo3w_i_mv_ka", "trafo3w", "i_mv_ka", "trafo3w_ids", True),
    ("trafo3w_i_lv_ka", "trafo3w", "i_lv_ka", "trafo3w_ids", True),
    ("trafo3w_loading_percent", "trafo3w", "loading_percent", "trafo3w_ids", False),
    ("ext_grid_p_mw", "ext_grid", "p_mw", "ext_grid_ids", False),
    ("ext_grid_q_mvar", "ext_grid", "q_mvar", "ext_grid_ids", False),
)
#: The per-step array fields of a result (besides ``converged``); the fixed-point kernel
#: writes its outputs in this order.
RESULT_FIELDS: tuple[str, ...] = (*(row[0] for row in _LAYOUT), "p_loss_mw")
_ID_FIELDS = ("bus_ids", "line_ids", "trafo_ids", "trafo3w_ids", "ext_grid_ids")
#: Id fields that may be missing (results of grids and files without such elements).
_OPTIONAL_IDS = ("trafo3w_ids",)


def _complete_ids(ids: Mapping[str, Any]) -> dict[str, IntArray]:
    """Every id field of :data:`_ID_FIELDS` as int64 arrays; optional ones default empty."""
    return {
        key: np.asarray(
            ids[key] if (key in ids or key not in _OPTIONAL_IDS) else (), dtype=np.int64
        )
        for key in _ID_FIELDS
    }


def _phase_name(quantity: str, phase: str) -> str:
    """``vm_pu`` -> ``vm_a_pu``, ``i_hv_ka`` -> ``i_hv_a_ka`` (pandapower 3ph naming)."""
    stem, _sep, unit = quantity.rpartition("_")
    return f"{stem}_{phase}_{unit}"


def iter_series(
    arrays: ChunkArrays, converged: BoolArray, ids: Mapping[str, IntArray], symmetric: bool
) -> Iterator[Series]:
    """The long-format series of a block of steps, in file order.

    Parameters
    ----------
    arrays : mapping
        Field name -> array with the steps first (see :data:`RESULT_FIELDS`).
    converged : numpy.ndarray of bool
        Per step.
    ids : mapping
        ``bus_ids``, ``line_ids``, ``trafo_ids``, ``ext_grid_ids`` and (optional,
        default none) ``trafo3w_ids``.
    symmetric : bool
        Balanced result (unbalanced per-phase fields are split into ``_a``/``_b``/``_c``).
    """
    ids = _complete_ids(ids)
    for name, element, quantity, ids_name, per_phase in _LAYOUT:
        arr = arrays[name]
        if per_phase and not symmetric:
            for k, ph in enumerate(PHASES):
                yield element, _phase_name(quantity, ph), ids[ids_name], arr[:, :, k]
        else:
            yield element, quantity, ids[ids_name], arr
    net_ids = np.array([NETWORK_ID], dtype=np.int64)
    yield "network", "p_loss_mw", net_ids, arrays["p_loss_mw"][:, None]
    yield "network", "converged", net_ids, converged[:, None].astype(np.float64)


def _empty_chunk(name: str, ids: Mapping[str, IntArray], symmetric: bool) -> FloatArray:
    """A zero-step block of field ``name`` (gives the schema of an empty table)."""
    if name == "p_loss_mw":
        return np.zeros(0)
    _n, _e, _q, ids_name, per_phase = next(row for row in _LAYOUT if row[0] == name)
    ph = (3,) if per_phase and not symmetric else ()
    return np.zeros((0, len(ids[ids_name]), *ph))


# --------------------------------------------------------------------- empty defaults


def _no_ids() -> IntArray:
    """No element ids (default of optional id fields)."""
    return np.zeros(0, dtype=np.int64)


def _no_values() -> FloatArray:
    """A ``(0, 0)`` array (default of optional per-step fields)."""
    return np.zeros((0, 0))


def _no_floats() -> FloatArray:
    """No values (default of optional per-element statistics)."""
    return np.zeros(0)


def _no_counts() -> IntArray:
    """A ``(0, 0)`` count array (default of optional per-limit counts)."""
    return np.zeros((0, 0), dtype=np.int64)
