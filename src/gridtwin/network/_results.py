"""Power-flow results over time: arrays, frames, long-format Parquet, a summary, and
per-element statistics that can be accumulated chunk by chunk (streaming).

Conventions follow pandapower's ``res_*`` tables: ``vm_pu``, ``va_degree`` (including
transformer phase shifts), line ``i_ka`` is the larger of both ends and
``loading_percent = i_ka / (max_i_ka * df * parallel) * 100``; transformer loading is
current based, ``max(i_hv_ka * vn_hv_kv, i_lv_ka * vn_lv_kv) * sqrt(3) / sn_mva / parallel
/ df * 100`` (pandapower's default ``trafo_loading="current"``); a three-winding
transformer's (``trafo3w``, balanced fixed-point runs only) is the largest of
``i_<side>_ka * vn_<side>_kv * sqrt(3) / sn_<side>_mva * 100`` over its HV, MV and LV
terminals, as pandapower's ``res_trafo3w.loading_percent``. Steps that did not
converge hold NaN everywhere (``p_loss_mw`` included) and ``converged=False``. Buses that
are not energised hold NaN voltages.

Two result types:

* :class:`PowerFlowResult` keeps every quantity of every step (``T x n`` arrays): right for
  small grids and short spans.
* :class:`PowerFlowStatistics` keeps, per element, running statistics (extremes with the
  step they occurred, steps outside voltage bands or above loading limits) plus a few
  per-step network series; its memory does not grow with ``T x n``. It is what
  ``simulate(..., keep="summary")`` returns for large grids, usually together with the full
  results streamed to Parquet. With :attr:`StatisticsSpec.voltage_check` it also counts
  the customer voltages per observation week (``n_weeks x n_customers`` integers), enough
  for ``gridtwin.network.check`` to give the GOST 32144-2013 / EN 50160:2010 verdicts.
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gridtwin.errors import InputError
from gridtwin.quality import (
    SimulatedVoltageCounter,
    SimulatedVoltageCounts,
    VoltageLevel,
    builtin_limit_set_ids,
)
from gridtwin.timeseries import utc_ns

__all__ = [
    "PARQUET_FORMAT_VERSION",
    "PowerFlowResult",
    "PowerFlowStatistics",
    "PowerFlowSummary",
    "StatisticsSpec",
    "VoltageCheckSpec",
    "read_parquet",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
#: One chunk of results: field name (``vm_pu`` ..., ``p_loss_mw``) -> ``(steps, n[, 3])``.
ChunkArrays = Mapping[str, FloatArray]
#: (element, quantity, ids, 2-D array ``steps x len(ids)``) of one long-format series.
Series = tuple[str, str, IntArray, FloatArray]

PARQUET_FORMAT_VERSION = 1
#: The one NaN of summaries (equal summaries compare equal: ``nan is nan``).
_NAN = float("nan")
PHASES = ("a", "b", "c")
NETWORK_ID = -1
#: Rows per Parquet row group when streaming (bounds the memory of one write).
PARQUET_GROUP_ROWS = 1 << 21
_META_KEY = b"gridtwin.powerflow"
# dictionary-encode the repetitive key columns only (values are random floats)
_WRITE_OPTIONS: dict[str, Any] = {
    "use_dictionary": ["time_utc", "element", "element_id", "quantity"],
    "compression": "snappy",
    "write_statistics": ["time_utc", "element_id"],
}

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


@dataclass(frozen=True)
class PowerFlowSummary:
    """Extremes of a :class:`PowerFlowResult` (over converged steps).

    Attributes
    ----------
    steps, converged_steps : int
        Steps simulated and steps that converged.
    first_failed_utc : pandas.Timestamp or None
        First step that did not converge.
    vm_min_pu, vm_max_pu : float
        Lowest and highest bus voltage [pu] (any phase in unbalanced runs).
    vm_min_bus, vm_max_bus : int or None
        Where (pandapower bus index).
    vm_min_time_utc, vm_max_time_utc : pandas.Timestamp or None
        When (step start).
    line_loading_max_percent, trafo_loading_max_percent : float
        Highest loading [%] and where / when (two-winding transformers only).
    p_loss_max_mw : float
        Largest total loss of a step [MW].
    energy_loss_mwh : float
        Sum over converged steps of ``p_loss_mw * step`` [MWh].
    trafo3w_loading_max_percent : float
        Highest loading of a three-winding transformer [%] (NaN without any), kept apart
        from the two-winding transformers' because the element indices belong to another
        table; ``trafo3w_loading_max_trafo3w`` (its ``trafo3w`` index) and
        ``trafo3w_loading_max_time_utc`` say where and when.
    """

    steps: int
    converged_steps: int
    first_failed_utc: pd.Timestamp | None
    vm_min_pu: float
    vm_min_bus: int | None
    vm_min_time_utc: pd.Timestamp | None
    vm_max_pu: float
    vm_max_bus: int | None
    vm_max_time_utc: pd.Timestamp | None
    line_loading_max_percent: float
    line_loading_max_line: int | None
    line_loading_max_time_utc: pd.Timestamp | None
    trafo_loading_max_percent: float
    trafo_loading_max_trafo: int | None
    trafo_loading_max_time_utc: pd.Timestamp | None
    p_loss_max_mw: float
    energy_loss_mwh: float
    trafo3w_loading_max_percent: float = _NAN
    trafo3w_loading_max_trafo3w: int | None = None
    trafo3w_loading_max_time_utc: pd.Timestamp | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (timestamps as ISO strings, NaN as None)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, pd.Timestamp):
                out[key] = value.isoformat()
            elif isinstance(value, float) and np.isnan(value):
                out[key] = None
            else:
                out[key] = value
        return out


def _extreme(
    arr: FloatArray, ids: IntArray, time: pd.DatetimeIndex, use_max: bool
) -> tuple[float, int | None, pd.Timestamp | None]:
    if arr.size == 0 or np.all(np.isnan(arr)):
        return _NAN, None, None
    flat = np.nanargmax(arr) if use_max else np.nanargmin(arr)
    pos = np.unravel_index(int(flat), arr.shape)
    return float(arr[pos]), int(ids[pos[1]]), pd.Timestamp(time[int(pos[0])])


def _network_totals(
    p_loss_mw: FloatArray, converged: BoolArray, step_duration: pd.Timedelta
) -> tuple[float, float]:
    """Largest loss [MW] and energy lost [MWh] over converged steps."""
    loss = p_loss_mw[converged]
    step_h = step_duration / pd.Timedelta(hours=1)
    return (float(np.max(loss)) if loss.size else _NAN, float(np.sum(loss) * step_h))


# --------------------------------------------------------------------- long format


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


def long_table(time_utc: pd.DatetimeIndex, series: Iterable[Series]) -> pa.Table:
    """Long-format Arrow table (``time_utc, element, element_id, quantity, value``)."""
    times = utc_ns(time_utc)
    parts_t, parts_e, parts_id, parts_q, parts_v = [], [], [], [], []
    for element, quantity, ids, block in series:
        n = block.size
        parts_t.append(np.repeat(times, len(ids)))
        parts_id.append(np.tile(ids, len(times)))
        parts_v.append(block.reshape(-1))
        parts_e.append((element, n))
        parts_q.append((quantity, n))

    def dictionary(parts: list[tuple[str, int]]) -> pa.DictionaryArray:
        names = sorted({p[0] for p in parts})
        codes = np.concatenate([np.full(n, names.index(v), dtype=np.int32) for v, n in parts])
        return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(names))

    return pa.table(
        {
            "time_utc": pa.array(np.concatenate(parts_t), type=pa.timestamp("ns", tz="UTC")),
            "element": dictionary(parts_e),
            "element_id": pa.array(np.concatenate(parts_id), type=pa.int64()),
            "quantity": dictionary(parts_q),
            "value": pa.array(np.concatenate(parts_v), type=pa.float64()),
        }
    )


def file_metadata(
    *,
    name: str,
    symmetric: bool,
    notes: Sequence[str],
    step_duration: pd.Timedelta,
    ids: Mapping[str, IntArray],
) -> dict[str, Any]:
    """The ``gridtwin.powerflow`` metadata of a result file (JSON-able)."""
    meta: dict[str, Any] = {
        "format_version": PARQUET_FORMAT_VERSION,
        "name": name,
        "symmetric": symmetric,
        "notes": list(notes),
        "step_duration_s": step_duration.total_seconds(),
    }
    for key, values in _complete_ids(ids).items():
        meta[key] = values.tolist()
    return meta


class ParquetStream:
    """Writes a long-format result file block by block; the file appears when complete.

    Rows go to ``<path>.partial``; :meth:`close` stores the final metadata (notes known
    only at the end, e.g. failed steps) and renames the file, :meth:`abort` deletes it.
    The metadata given at opening is also stored in the Arrow schema; the file's
    key-value metadata holds the final version (what :func:`read_parquet` reads).

    Parameters
    ----------
    path : str or Path
        Target file.
    metadata : dict
        :func:`file_metadata` as known at the start.
    ids : mapping
        Element ids of the columns (``bus_ids`` ...).
    symmetric : bool
        Balanced result.
    """

    def __init__(
        self,
        path: str | Path,
        metadata: Mapping[str, Any],
        ids: Mapping[str, IntArray],
        symmetric: bool,
    ) -> None:
        self.target = Path(path)
        self.tmp = self.target.with_name(self.target.name + ".partial")
        self.ids = _complete_ids(ids)
        self.symmetric = symmetric
        phases = 1 if symmetric else 3
        self.rows_per_step = (
            sum(
                len(self.ids[ids_name]) * (phases if per_phase else 1)
                for _n, _e, _q, ids_name, per_phase in _LAYOUT
            )
            + 2
        )
        empty = {name: _empty_chunk(name, self.ids, symmetric) for name in RESULT_FIELDS}
        self.schema = long_table(
            pd.DatetimeIndex([], tz="UTC"),
            iter_series(empty, np.zeros(0, dtype=bool), self.ids, symmetric),
        ).schema
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            str(self.tmp), self.schema.with_metadata(_encode(metadata)), **_WRITE_OPTIONS
        )

    def write(
        self,
        time_utc: pd.DatetimeIndex,
        arrays: ChunkArrays,
        converged: BoolArray,
        group_steps: int | None = None,
    ) -> None:
        """Append a block of steps (row groups of about :data:`PARQUET_GROUP_ROWS` rows)."""
        if self._writer is None:
            msg = f"{self.target}: the Parquet stream is closed"
            raise InputError(msg)
        n = len(time_utc)
        step = group_steps or max(1, PARQUET_GROUP_ROWS // max(self.rows_per_step, 1))
        for start in range(0, n, step):
            sl = slice(start, min(start + step, n))
            part = {name: arrays[name][sl] for name in RESULT_FIELDS}
            table = long_table(
                time_utc[sl], iter_series(part, converged[sl], self.ids, self.symmetric)
            )
            self._writer.write_table(table.cast(self.schema), row_group_size=max(table.num_rows, 1))

    def close(self, metadata: Mapping[str, Any]) -> Path:
        """Store the final metadata, close and move the file into place."""
        if self._writer is None:
            return self.target
        try:
            self._writer.add_key_value_metadata(_encode(metadata))
            self._writer.close()
            self._writer = None
            self.tmp.replace(self.target)
        except BaseException:
            self.abort()
            raise
        return self.target

    def abort(self) -> None:
        """Close and delete the partial file."""
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            finally:
                self.tmp.unlink(missing_ok=True)
        else:
            self.tmp.unlink(missing_ok=True)


def _encode(metadata: Mapping[str, Any]) -> dict[bytes, bytes]:
    return {_META_KEY: json.dumps(dict(metadata)).encode()}


def _empty_chunk(name: str, ids: Mapping[str, IntArray], symmetric: bool) -> FloatArray:
    if name == "p_loss_mw":
        return np.zeros(0)
    _n, _e, _q, ids_name, per_phase = next(row for row in _LAYOUT if row[0] == name)
    ph = (3,) if per_phase and not symmetric else ()
    return np.zeros((0, len(ids[ids_name]), *ph))


# --------------------------------------------------------------------- full result


def _no_ids() -> IntArray:
    return np.zeros(0, dtype=np.int64)


def _no_values() -> FloatArray:
    return np.zeros((0, 0))


def _no_floats() -> FloatArray:
    return np.zeros(0)


def _no_counts() -> IntArray:
    return np.zeros((0, 0), dtype=np.int64)


_Extreme = tuple[float, int | None, pd.Timestamp | None]


def _make_summary(
    res: Any, vmin: _Extreme, vmax: _Extreme, lmax: _Extreme, tmax: _Extreme, t3max: _Extreme
) -> PowerFlowSummary:
    """A :class:`PowerFlowSummary` from the extremes of a result or of its statistics."""
    failed = np.flatnonzero(~res.converged)
    p_loss_max, energy = _network_totals(res.p_loss_mw, res.converged, res.step_duration)
    return PowerFlowSummary(
        steps=res.n_steps,
        converged_steps=int(res.converged.sum()),
        first_failed_utc=pd.Timestamp(res.time_utc[failed[0]]) if len(failed) else None,
        vm_min_pu=vmin[0],
        vm_min_bus=vmin[1],
        vm_min_time_utc=vmin[2],
        vm_max_pu=vmax[0],
        vm_max_bus=vmax[1],
        vm_max_time_utc=vmax[2],
        line_loading_max_percent=lmax[0],
        line_loading_max_line=lmax[1],
        line_loading_max_time_utc=lmax[2],
        trafo_loading_max_percent=tmax[0],
        trafo_loading_max_trafo=tmax[1],
        trafo_loading_max_time_utc=tmax[2],
        p_loss_max_mw=p_loss_max,
        energy_loss_mwh=energy,
        trafo3w_loading_max_percent=t3max[0],
        trafo3w_loading_max_trafo3w=t3max[1],
        trafo3w_loading_max_time_utc=t3max[2],
    )


@dataclass(frozen=True)
class PowerFlowResult:
    """Results of a time-series power flow, one row per step.

    Arrays are ``(T, n)`` with ``T = len(time_utc)``; in unbalanced results (``symmetric``
    False) the fields marked *per phase* are ``(T, n, 3)`` for phases a, b, c.

    Attributes
    ----------
    time_utc : pandas.DatetimeIndex
        UTC period start of each step.
    bus_ids, line_ids, trafo_ids, ext_grid_ids : numpy.ndarray of int64
        pandapower indices of the columns.
    vm_pu : numpy.ndarray
        Bus voltage magnitude [pu] (per phase, phase-to-neutral, when unbalanced).
    va_degree : numpy.ndarray
        Bus voltage angle [degree] including transformer shifts (per phase).
    line_i_ka : numpy.ndarray
        Line current, larger of both ends [kA] (per phase).
    line_loading_percent : numpy.ndarray
        Line loading [%] relative to ``max_i_ka * df * parallel`` (largest phase).
    line_p_from_mw : numpy.ndarray
        Active power into the line at its from bus [MW] (all phases).
    trafo_i_hv_ka, trafo_i_lv_ka : numpy.ndarray
        Transformer currents at the HV and LV terminals [kA] (per phase).
    trafo_loading_percent : numpy.ndarray
        Transformer loading [%], pandapower's current-based definition (largest phase).
    ext_grid_p_mw, ext_grid_q_mvar : numpy.ndarray
        Power supplied by each ext_grid [MW], [Mvar].
    p_loss_mw : numpy.ndarray, shape (T,)
        Total active loss of lines and two- and three-winding transformers [MW].
    converged : numpy.ndarray of bool, shape (T,)
        Whether each step converged; other arrays are NaN where it did not.
    symmetric : bool
        Balanced (True) or unbalanced (False) calculation.
    iterations : numpy.ndarray of int64, shape (T,), or None
        Fixed-point iterations per step (``method="fixed_point"``; -1 where it did not
        converge, whether Newton-Raphson then solved the step or not); ``None`` with
        power-grid-model's methods, which do not report them.
    tap_trafo_ids : numpy.ndarray of int64, or None
        Transformers under tap control (``simulate(..., tap_controls=...)``).
    trafo_tap_pos : numpy.ndarray, shape (T, n_controlled), or None
        Their tap position at every step.
    q_control_sgen_ids : numpy.ndarray of int64, or None
        sgens under a Q(U) characteristic (``simulate(..., reactive_controls=...)``).
    sgen_q_mvar : numpy.ndarray, shape (T, n_controlled), or None
        Their injected reactive power at every step [Mvar] (positive: supplied).
    name : str
        Grid name.
    notes : tuple of str
        Remarks (validation warnings, failed-step messages).
    step_duration : pandas.Timedelta
        Length of one profile step (the interval each row stands for), used for energies;
        the selected steps need not be consecutive.
    trafo3w_ids : numpy.ndarray of int64
        pandapower indices of the three-winding transformers (``net.trafo3w``; only
        balanced fixed-point runs simulate them, other results have none). Default none.
    trafo3w_i_hv_ka, trafo3w_i_mv_ka, trafo3w_i_lv_ka : numpy.ndarray
        Their currents at the HV, MV and LV terminals [kA] (``(T, n_trafo3w)``;
        ``(T, 0, 3)`` in unbalanced results), as pandapower's ``res_trafo3w``.
    trafo3w_loading_percent : numpy.ndarray
        Their loading [%]: the largest of ``i_<side>_ka * vn_<side>_kv * sqrt(3) /
        sn_<side>_mva * 100`` (pandapower's ``res_trafo3w.loading_percent``).
    """

    time_utc: pd.DatetimeIndex
    bus_ids: IntArray
    line_ids: IntArray
    trafo_ids: IntArray
    ext_grid_ids: IntArray
    vm_pu: FloatArray
    va_degree: FloatArray
    line_i_ka: FloatArray
    line_loading_percent: FloatArray
    line_p_from_mw: FloatArray
    trafo_i_hv_ka: FloatArray
    trafo_i_lv_ka: FloatArray
    trafo_loading_percent: FloatArray
    ext_grid_p_mw: FloatArray
    ext_grid_q_mvar: FloatArray
    p_loss_mw: FloatArray
    converged: BoolArray
    symmetric: bool = True
    iterations: IntArray | None = None
    tap_trafo_ids: IntArray | None = None
    trafo_tap_pos: FloatArray | None = None
    q_control_sgen_ids: IntArray | None = None
    sgen_q_mvar: FloatArray | None = None
    name: str = "grid"
    notes: tuple[str, ...] = field(default=())
    step_duration: pd.Timedelta = field(default=pd.Timedelta(minutes=15))
    trafo3w_ids: IntArray = field(default_factory=_no_ids)
    trafo3w_i_hv_ka: FloatArray = field(default_factory=_no_values)
    trafo3w_i_mv_ka: FloatArray = field(default_factory=_no_values)
    trafo3w_i_lv_ka: FloatArray = field(default_factory=_no_values)
    trafo3w_loading_percent: FloatArray = field(default_factory=_no_values)

    def __post_init__(self) -> None:
        # results without three-winding transformers: (T, 0) arrays, as simulate gives
        object.__setattr__(self, "trafo3w_ids", np.asarray(self.trafo3w_ids, dtype=np.int64))
        for name, _e, _q, ids_name, per_phase in _LAYOUT:
            if ids_name not in _OPTIONAL_IDS:
                continue
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            ph = (3,) if per_phase and not self.symmetric else ()
            shape = (self.n_steps, len(getattr(self, ids_name)), *ph)
            if arr.size == 0 and arr.shape != shape:
                arr = np.zeros(shape)
            object.__setattr__(self, name, arr)

    @property
    def n_steps(self) -> int:
        """Number of steps."""
        return len(self.time_utc)

    def _ids(self) -> dict[str, IntArray]:
        return {key: getattr(self, key) for key in _ID_FIELDS}

    def _arrays(self, start: int = 0, stop: int | None = None) -> dict[str, FloatArray]:
        sl = slice(start, stop)
        return {name: getattr(self, name)[sl] for name in RESULT_FIELDS}

    def _series(self) -> Iterator[Series]:
        """(element, quantity, ids, 2-D array) for every stored quantity."""
        return iter_series(self._arrays(), self.converged, self._ids(), self.symmetric)

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Wide frames: ``"bus.vm_pu"`` -> DataFrame (time x bus ids) ..., plus ``"network"``.

        Unbalanced results split per-phase quantities as pandapower does
        (``"bus.vm_a_pu"``, ``"line.i_b_ka"`` ...). ``"network"`` has the columns
        ``p_loss_mw`` and ``converged``.
        """
        out: dict[str, pd.DataFrame] = {}
        for element, quantity, ids, arr in self._series():
            if element == "network":
                continue
            out[f"{element}.{quantity}"] = pd.DataFrame(
                arr, index=self.time_utc, columns=pd.Index(ids, name=f"{element}_id")
            )
        out["network"] = pd.DataFrame(
            {"p_loss_mw": self.p_loss_mw, "converged": self.converged}, index=self.time_utc
        )
        return out

    def summary(self) -> PowerFlowSummary:
        """Minimum/maximum voltage and maximum loadings with where and when."""
        vm = self.vm_pu if self.symmetric else self.vm_pu.reshape(self.n_steps, -1)
        vm_ids = self.bus_ids if self.symmetric else np.repeat(self.bus_ids, 3)
        vmin = _extreme(vm, vm_ids, self.time_utc, use_max=False)
        vmax = _extreme(vm, vm_ids, self.time_utc, use_max=True)
        lmax = _extreme(self.line_loading_percent, self.line_ids, self.time_utc, use_max=True)
        tmax = _extreme(self.trafo_loading_percent, self.trafo_ids, self.time_utc, use_max=True)
        t3max = _extreme(
            self.trafo3w_loading_percent, self.trafo3w_ids, self.time_utc, use_max=True
        )
        return _make_summary(self, vmin, vmax, lmax, tmax, t3max)

    def statistics(self, spec: StatisticsSpec | None = None) -> PowerFlowStatistics:
        """Per-element statistics of this result, as ``simulate(..., keep="summary")``
        would have accumulated them (see :class:`PowerFlowStatistics`)."""
        acc = StatisticsAccumulator(
            spec or StatisticsSpec(),
            self._ids(),
            self.symmetric,
            self.n_steps,
            time_utc=self.time_utc,
        )
        acc.add(0, self._arrays(), self.converged)
        return acc.finish(
            self.time_utc, name=self.name, notes=self.notes, step_duration=self.step_duration
        )

    def _metadata(self) -> dict[str, Any]:
        return file_metadata(
            name=self.name,
            symmetric=self.symmetric,
            notes=self.notes,
            step_duration=self.step_duration,
            ids=self._ids(),
        )

    def chunk_table(self, start: int, stop: int) -> pa.Table:
        """Long-format Arrow table of steps ``[start, stop)`` (see :meth:`write_parquet`)."""
        return long_table(
            self.time_utc[start:stop],
            iter_series(
                self._arrays(start, stop), self.converged[start:stop], self._ids(), self.symmetric
            ),
        )

    def write_parquet(self, path: str | Path, chunk_steps: int = 2048) -> Path:
        """Write all results as long-format Parquet, one row group per chunk of steps.

        Columns: ``time_utc`` (UTC period start), ``element`` (``bus``, ``line``,
        ``trafo``, ``trafo3w``, ``ext_grid``, ``network``), ``element_id`` (pandapower
        index; -1 for ``network``), ``quantity`` (``vm_pu``, ``loading_percent``, ``p_loss_mw``,
        ``converged`` as 1.0/0.0 ...), ``value``. The file is written to a temporary
        name and renamed when complete, so a failure leaves no half-written file.

        Parameters
        ----------
        path : str or Path
            Target file.
        chunk_steps : int
            Steps per row group; bounds the memory used while writing.
        """
        if chunk_steps < 1:
            msg = f"chunk_steps must be >= 1; got {chunk_steps}"
            raise InputError(msg)
        meta = self._metadata()
        stream = ParquetStream(path, meta, self._ids(), self.symmetric)
        try:
            for start in range(0, self.n_steps, chunk_steps):
                stop = min(start + chunk_steps, self.n_steps)
                stream.write(
                    self.time_utc[start:stop],
                    self._arrays(start, stop),
                    self.converged[start:stop],
                    group_steps=chunk_steps,
                )
        except BaseException:
            stream.abort()
            raise
        return stream.close(meta)


# --------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class VoltageCheckSpec:
    """Customer buses whose voltage a streaming run counts per observation week, for one
    supply-voltage standard and time zone (see ``gridtwin.network.checks``).

    Build it with :func:`gridtwin.network.checks.voltage_check_spec` (the customer buses
    and reference voltages that ``check`` uses) rather than by hand.

    Attributes
    ----------
    standard : str
        ``'GOST 32144-2013'`` or ``'EN 50160:2010'``.
    timezone : str
        IANA zone in which the observation weeks are aligned, e.g. ``'Europe/Berlin'``.
    bus_ids : tuple of int
        pandapower indices of the customer buses.
    voltage_levels : tuple of {'LV', 'MV'}
        Level of each bus (chooses the standard's limits).
    u0_pu : tuple of float
        Reference voltage U0 of each bus in the grid's per-unit base [p.u.] (e.g. 0.95 for
        380 V on a 0.4 kV base).
    """

    standard: str
    timezone: str
    bus_ids: tuple[int, ...]
    voltage_levels: tuple[VoltageLevel, ...]
    u0_pu: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.standard not in builtin_limit_set_ids():
            msg = (
                f"voltage check: unknown standard {self.standard!r}; use one of "
                f"{list(builtin_limit_set_ids())}"
            )
            raise InputError(msg)
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"voltage check: unknown time zone {self.timezone!r} (IANA name expected)"
            raise InputError(msg) from exc
        buses = tuple(int(b) for b in self.bus_ids)
        levels = tuple(self.voltage_levels)
        u0 = tuple(float(x) for x in self.u0_pu)
        if not len(buses) == len(levels) == len(u0):
            msg = (
                f"voltage check: {len(buses)} bus ids, {len(levels)} voltage levels and "
                f"{len(u0)} u0_pu values; give one of each per bus"
            )
            raise InputError(msg)
        if len(set(buses)) != len(buses):
            msg = "voltage check: bus_ids must be unique"
            raise InputError(msg)
        bad = sorted({lv for lv in levels if lv not in ("LV", "MV")})
        if bad:
            msg = f"voltage check: voltage levels must be 'LV' or 'MV'; got {bad}"
            raise InputError(msg)
        if not all(np.isfinite(x) and x > 0 for x in u0):
            msg = "voltage check: u0_pu must be positive and finite [p.u.]"
            raise InputError(msg)
        object.__setattr__(self, "bus_ids", buses)
        object.__setattr__(self, "voltage_levels", levels)
        object.__setattr__(self, "u0_pu", u0)

    def groups(self) -> tuple[tuple[VoltageLevel, float, tuple[int, ...]], ...]:
        """``(level, u0_pu, bus ids)`` per distinct level and U0, in order of appearance."""
        out: dict[tuple[VoltageLevel, float], list[int]] = {}
        for bus, level, u0 in zip(self.bus_ids, self.voltage_levels, self.u0_pu, strict=True):
            out.setdefault((level, u0), []).append(bus)
        return tuple((level, u0, tuple(b)) for (level, u0), b in out.items())


@dataclass(frozen=True)
class StatisticsSpec:
    """What :class:`PowerFlowStatistics` counts besides the extremes.

    Attributes
    ----------
    voltage_bands_pu : tuple of (float, float)
        Voltage bands ``(low, high)`` [pu of the bus's nominal voltage]; per band and bus
        the steps with a voltage below ``low`` and above ``high`` are counted (any phase
        in unbalanced runs). Default ±10 % (EN 50160 / GOST 32144 wide band on the
        grid's own base).
    loading_limits_percent : tuple of float
        Loading limits [%]; per limit and line / transformer the steps with a loading
        strictly above it are counted.
    trafo_series : bool
        Also keep every transformer's loading at every step (``T x n_trafo``; needed for
        the IEC 60076-7 thermal model, small because there are few transformers).
    voltage_check : VoltageCheckSpec or None
        Also count the customer voltages per observation week for the weekly
        supply-voltage verdicts of ``gridtwin.network.check`` (``n_weeks x n_customers``
        counts and extremes; see :func:`gridtwin.network.checks.check_statistics_spec`).
    """

    voltage_bands_pu: tuple[tuple[float, float], ...] = ((0.9, 1.1),)
    loading_limits_percent: tuple[float, ...] = (100.0,)
    trafo_series: bool = True
    voltage_check: VoltageCheckSpec | None = None

    def __post_init__(self) -> None:
        bands = tuple((float(lo), float(hi)) for lo, hi in self.voltage_bands_pu)
        for lo, hi in bands:
            if not (np.isfinite(lo) and np.isfinite(hi) and 0.0 <= lo < hi):
                msg = f"voltage band ({lo}, {hi}) pu: need 0 <= low < high, both finite"
                raise InputError(msg)
        limits = tuple(float(x) for x in self.loading_limits_percent)
        if not all(np.isfinite(x) and x >= 0.0 for x in limits):
            msg = f"loading limits must be finite and >= 0 %; got {limits}"
            raise InputError(msg)
        if self.voltage_check is not None and not isinstance(self.voltage_check, VoltageCheckSpec):
            msg = (
                "voltage_check must be a VoltageCheckSpec (see "
                f"gridtwin.network.checks.voltage_check_spec); got {type(self.voltage_check)}"
            )
            raise InputError(msg)
        object.__setattr__(self, "voltage_bands_pu", bands)
        object.__setattr__(self, "loading_limits_percent", limits)


@dataclass(frozen=True)
class PowerFlowStatistics:
    """Per-element statistics of a time-series power flow, accumulated step chunk by chunk.

    Returned by ``simulate(..., keep="summary")`` (and by
    :meth:`PowerFlowResult.statistics`). Per-element arrays have one entry per element
    (``(n_bands, n)`` / ``(n_limits, n)`` for the counts), whatever the number of steps;
    only the network series (``converged``, ``p_loss_mw``, ``ext_grid_*`` and, with
    :attr:`StatisticsSpec.trafo_series`, ``trafo_loading_percent``) have one row per step.
    Failed steps and de-energised buses (NaN in a full result) are left out of every
    statistic. A ``*_step`` array gives the position in ``time_utc`` of the first step
    at which the extreme occurred (-1 when the element never had a value); the extreme
    itself is NaN then.

    Attributes
    ----------
    time_utc : pandas.DatetimeIndex
        UTC period start of each simulated step.
    bus_ids, line_ids, trafo_ids, ext_grid_ids : numpy.ndarray of int64
        pandapower indices, in the order of the per-element arrays.
    spec : StatisticsSpec
        Voltage bands and loading limits counted.
    converged : numpy.ndarray of bool, shape (T,)
        Whether each step converged.
    p_loss_mw : numpy.ndarray, shape (T,)
        Total active loss of lines and transformers [MW] (NaN where not converged).
    ext_grid_p_mw, ext_grid_q_mvar : numpy.ndarray, shape (T, n_ext_grid)
        Power supplied by each ext_grid [MW], [Mvar].
    trafo_loading_percent : numpy.ndarray, shape (T, n_trafo), or None
        Transformer loading at every step [%] (``spec.trafo_series``).
    vm_min_pu, vm_max_pu : numpy.ndarray, shape (n_bus,)
        Lowest / highest voltage of each bus [pu] (over phases when unbalanced).
    vm_min_step, vm_max_step : numpy.ndarray of int64, shape (n_bus,)
        When (position in ``time_utc``).
    vm_mean_pu : numpy.ndarray, shape (n_bus,)
        Mean voltage over the steps with a value [pu] (mean of the phases when
        unbalanced).
    vm_valid_steps : numpy.ndarray of int64, shape (n_bus,)
        Steps at which the bus had a voltage (converged and energised).
    vm_steps_below, vm_steps_above : numpy.ndarray of int64, shape (n_bands, n_bus)
        Steps with a voltage below ``low`` / above ``high`` of each band (any phase).
    line_loading_max_percent : numpy.ndarray, shape (n_line,)
        Highest loading of each line [%]; ``line_loading_max_step`` when.
    line_i_max_ka : numpy.ndarray, shape (n_line,)
        Highest current of each line [kA] (larger end, largest phase).
    line_steps_above : numpy.ndarray of int64, shape (n_limits, n_line)
        Steps with a loading above each limit.
    trafo_loading_max_percent, trafo_loading_max_step, trafo_steps_above : numpy.ndarray
        The same for transformers.
    trafo3w_ids : numpy.ndarray of int64
        pandapower indices of the three-winding transformers (default none).
    trafo3w_loading_max_percent, trafo3w_loading_max_step, trafo3w_steps_above : numpy.ndarray
        The same for three-winding transformers (``(n_trafo3w,)``, ``(n_trafo3w,)``,
        ``(n_limits, n_trafo3w)``; no loading series is kept for them).
    symmetric : bool
        Balanced (True) or unbalanced calculation.
    name : str
        Grid name.
    notes : tuple of str
        Remarks (validation warnings, failed-step messages).
    step_duration : pandas.Timedelta
        Length of one profile step (for energies and hours).
    line_first_above_step : numpy.ndarray of int64, shape (n_limits, n_line), or None
        First step (position in ``time_utc``) with a loading above each limit; -1 never.
    voltage_counts : tuple of gridtwin.quality.SimulatedVoltageCounts
        With :attr:`StatisticsSpec.voltage_check`: per group of customer buses (one
        voltage level and U0) the weekly counts N, N1, N2 and extremes, judged by
        :func:`gridtwin.quality.evaluate_voltage_counts`; empty otherwise.
    tap_trafo_ids : numpy.ndarray of int64, or None
        Transformers under tap control (``simulate(..., tap_controls=...)``).
    trafo_tap_pos : numpy.ndarray, shape (T, n_controlled), or None
        Their tap position at every step.
    q_control_sgen_ids : numpy.ndarray of int64, or None
        sgens under a Q(U) characteristic (``simulate(..., reactive_controls=...)``).
    sgen_q_mvar : numpy.ndarray, shape (T, n_controlled), or None
        Their injected reactive power at every step [Mvar] (positive: supplied).
    """

    time_utc: pd.DatetimeIndex
    bus_ids: IntArray
    line_ids: IntArray
    trafo_ids: IntArray
    ext_grid_ids: IntArray
    spec: StatisticsSpec
    converged: BoolArray
    p_loss_mw: FloatArray
    ext_grid_p_mw: FloatArray
    ext_grid_q_mvar: FloatArray
    trafo_loading_percent: FloatArray | None
    vm_min_pu: FloatArray
    vm_min_step: IntArray
    vm_max_pu: FloatArray
    vm_max_step: IntArray
    vm_mean_pu: FloatArray
    vm_valid_steps: IntArray
    vm_steps_below: IntArray
    vm_steps_above: IntArray
    line_loading_max_percent: FloatArray
    line_loading_max_step: IntArray
    line_i_max_ka: FloatArray
    line_steps_above: IntArray
    trafo_loading_max_percent: FloatArray
    trafo_loading_max_step: IntArray
    trafo_steps_above: IntArray
    symmetric: bool = True
    name: str = "grid"
    notes: tuple[str, ...] = field(default=())
    step_duration: pd.Timedelta = field(default=pd.Timedelta(minutes=15))
    line_first_above_step: IntArray | None = None
    voltage_counts: tuple[SimulatedVoltageCounts, ...] = field(default=())
    tap_trafo_ids: IntArray | None = None
    trafo_tap_pos: FloatArray | None = None
    q_control_sgen_ids: IntArray | None = None
    sgen_q_mvar: FloatArray | None = None
    trafo3w_ids: IntArray = field(default_factory=_no_ids)
    trafo3w_loading_max_percent: FloatArray = field(default_factory=_no_floats)
    trafo3w_loading_max_step: IntArray = field(default_factory=_no_ids)
    trafo3w_steps_above: IntArray = field(default_factory=_no_counts)

    def __post_init__(self) -> None:
        # statistics without three-winding transformers: one empty row per limit
        n_lim, n_t3 = len(self.spec.loading_limits_percent), len(self.trafo3w_ids)
        if self.trafo3w_steps_above.size == 0 and self.trafo3w_steps_above.shape != (n_lim, n_t3):
            object.__setattr__(self, "trafo3w_steps_above", np.zeros((n_lim, n_t3), np.int64))

    @property
    def n_steps(self) -> int:
        """Number of steps."""
        return len(self.time_utc)

    @classmethod
    def from_result(
        cls, result: PowerFlowResult, spec: StatisticsSpec | None = None
    ) -> PowerFlowStatistics:
        """The statistics of a full (in-memory) result."""
        return result.statistics(spec)

    def time_at(self, steps: IntArray) -> pd.DatetimeIndex:
        """Timestamps of step positions (``*_step`` arrays); NaT for -1."""
        pos = np.asarray(steps, dtype=np.int64)
        out = (
            self.time_utc[np.where(pos >= 0, pos, 0)]
            if len(self.time_utc)
            else pd.DatetimeIndex(np.full(pos.shape, np.datetime64("NaT", "ns")), tz="UTC")
        )
        return pd.DatetimeIndex(out.where(pos >= 0), name="time_utc")

    def summary(self) -> PowerFlowSummary:
        """The same :class:`PowerFlowSummary` as the full result's ``summary()``."""
        vmin = self._pick(self.vm_min_pu, self.vm_min_step, self.bus_ids, use_max=False)
        vmax = self._pick(self.vm_max_pu, self.vm_max_step, self.bus_ids, use_max=True)
        lmax = self._pick(
            self.line_loading_max_percent, self.line_loading_max_step, self.line_ids, use_max=True
        )
        tmax = self._pick(
            self.trafo_loading_max_percent,
            self.trafo_loading_max_step,
            self.trafo_ids,
            use_max=True,
        )
        t3max = self._pick(
            self.trafo3w_loading_max_percent,
            self.trafo3w_loading_max_step,
            self.trafo3w_ids,
            use_max=True,
        )
        return _make_summary(self, vmin, vmax, lmax, tmax, t3max)

    def _pick(
        self, values: FloatArray, steps: IntArray, ids: IntArray, use_max: bool
    ) -> tuple[float, int | None, pd.Timestamp | None]:
        """The extreme over elements; ties go to the earliest step, then the first column
        (the order a row-major scan of the full ``T x n`` array would find)."""
        ok = steps >= 0
        if not ok.any():
            return _NAN, None, None
        best = values[ok].max() if use_max else values[ok].min()
        cand = np.flatnonzero(ok & (values == best))
        j = int(cand[np.argmin(steps[cand])])
        return float(values[j]), int(ids[j]), pd.Timestamp(self.time_utc[int(steps[j])])

    def _hours(self, steps: IntArray) -> FloatArray:
        return np.asarray(steps * (self.step_duration / pd.Timedelta(hours=1)), dtype=float)

    def bus_table(self) -> pd.DataFrame:
        """Per bus (index ``bus``): extremes with their time, mean, valid steps, and per band
        ``steps_below_<low>_pu`` / ``steps_above_<high>_pu``."""
        cols: dict[str, Any] = {
            "vm_min_pu": self.vm_min_pu,
            "vm_min_time_utc": self.time_at(self.vm_min_step),
            "vm_max_pu": self.vm_max_pu,
            "vm_max_time_utc": self.time_at(self.vm_max_step),
            "vm_mean_pu": self.vm_mean_pu,
            "valid_steps": self.vm_valid_steps,
        }
        for k, (lo, hi) in enumerate(self.spec.voltage_bands_pu):
            cols[f"steps_below_{lo:g}_pu"] = self.vm_steps_below[k]
            cols[f"steps_above_{hi:g}_pu"] = self.vm_steps_above[k]
        return pd.DataFrame(cols, index=pd.Index(self.bus_ids, name="bus"))

    def line_table(self) -> pd.DataFrame:
        """Per line (index ``line``): highest loading and current with time, and per limit
        ``steps_above_<limit>_percent`` and ``hours_above_<limit>_percent``."""
        cols: dict[str, Any] = {
            "loading_max_percent": self.line_loading_max_percent,
            "loading_max_time_utc": self.time_at(self.line_loading_max_step),
            "i_max_ka": self.line_i_max_ka,
        }
        for k, lim in enumerate(self.spec.loading_limits_percent):
            cols[f"steps_above_{lim:g}_percent"] = self.line_steps_above[k]
            cols[f"hours_above_{lim:g}_percent"] = self._hours(self.line_steps_above[k])
        return pd.DataFrame(cols, index=pd.Index(self.line_ids, name="line"))

    def trafo_table(self) -> pd.DataFrame:
        """Per transformer (index ``trafo``): highest loading with time, and per limit
        ``steps_above_<limit>_percent`` and ``hours_above_<limit>_percent``."""
        cols: dict[str, Any] = {
            "loading_max_percent": self.trafo_loading_max_percent,
            "loading_max_time_utc": self.time_at(self.trafo_loading_max_step),
        }
        for k, lim in enumerate(self.spec.loading_limits_percent):
            cols[f"steps_above_{lim:g}_percent"] = self.trafo_steps_above[k]
            cols[f"hours_above_{lim:g}_percent"] = self._hours(self.trafo_steps_above[k])
        return pd.DataFrame(cols, index=pd.Index(self.trafo_ids, name="trafo"))

    def trafo3w_table(self) -> pd.DataFrame:
        """Per three-winding transformer (index ``trafo3w``): highest loading with time,
        and per limit ``steps_above_<limit>_percent`` and ``hours_above_<limit>_percent``."""
        cols: dict[str, Any] = {
            "loading_max_percent": self.trafo3w_loading_max_percent,
            "loading_max_time_utc": self.time_at(self.trafo3w_loading_max_step),
        }
        for k, lim in enumerate(self.spec.loading_limits_percent):
            cols[f"steps_above_{lim:g}_percent"] = self.trafo3w_steps_above[k]
            cols[f"hours_above_{lim:g}_percent"] = self._hours(self.trafo3w_steps_above[k])
        return pd.DataFrame(cols, index=pd.Index(self.trafo3w_ids, name="trafo3w"))


def _running_extreme(
    cur: FloatArray, cur_step: IntArray, block: FloatArray, offset: int, use_max: bool
) -> None:
    """Fold a ``(steps, n)`` block into running extremes; NaN never wins, and an equal
    later value does not replace an earlier one."""
    if block.shape[0] == 0 or block.shape[1] == 0:
        return
    v = np.fmax.reduce(block, axis=0) if use_max else np.fmin.reduce(block, axis=0)
    better = np.flatnonzero((v > cur) if use_max else (v < cur))  # NaN compares False
    if better.size == 0:
        return
    sub = block[:, better]  # no all-NaN column here: its extreme is a number
    k = np.nanargmax(sub, axis=0) if use_max else np.nanargmin(sub, axis=0)
    cur[better] = v[better]
    cur_step[better] = offset + k


class StatisticsAccumulator:
    """Builds a :class:`PowerFlowStatistics` from consecutive blocks of steps.

    Parameters
    ----------
    spec : StatisticsSpec
        Bands and limits to count.
    ids : mapping
        ``bus_ids``, ``line_ids``, ``trafo_ids``, ``ext_grid_ids`` and (optional,
        default none) ``trafo3w_ids``.
    symmetric : bool
        Balanced result (unbalanced blocks carry a phase axis).
    n_steps : int
        Total number of steps (sizes the network series).
    time_utc : pandas.DatetimeIndex, optional
        UTC period start of every step (``n_steps`` long), for statistics that are kept
        per calendar period (needed with :attr:`StatisticsSpec.voltage_check`).

    Raises
    ------
    InputError
        A voltage check without ``time_utc`` or with buses that are not in ``bus_ids``.
    """

    def __init__(
        self,
        spec: StatisticsSpec,
        ids: Mapping[str, IntArray],
        symmetric: bool,
        n_steps: int,
        *,
        time_utc: pd.DatetimeIndex | None = None,
    ) -> None:
        self.spec = spec
        self.time_utc = time_utc
        self.ids = _complete_ids(ids)
        self.symmetric = symmetric
        nb, nl = len(self.ids["bus_ids"]), len(self.ids["line_ids"])
        nt, ne = len(self.ids["trafo_ids"]), len(self.ids["ext_grid_ids"])
        n_band, n_lim = len(spec.voltage_bands_pu), len(spec.loading_limits_percent)
        self.converged = np.zeros(n_steps, dtype=bool)
        self.p_loss_mw = np.full(n_steps, np.nan)
        self.ext_grid_p_mw = np.full((n_steps, ne), np.nan)
        self.ext_grid_q_mvar = np.full((n_steps, ne), np.nan)
        self.trafo_series = np.full((n_steps, nt), np.nan) if spec.trafo_series else None
        self.vm_min, self.vm_min_step = np.full(nb, np.inf), np.full(nb, -1, dtype=np.int64)
        self.vm_max, self.vm_max_step = np.full(nb, -np.inf), np.full(nb, -1, dtype=np.int64)
        self.vm_sum, self.vm_n = np.zeros(nb), np.zeros(nb, dtype=np.int64)
        self.vm_below = np.zeros((n_band, nb), dtype=np.int64)
        self.vm_above = np.zeros((n_band, nb), dtype=np.int64)
        self.line_max, self.line_step = np.full(nl, -np.inf), np.full(nl, -1, dtype=np.int64)
        self.line_i_max = np.full(nl, -np.inf)
        self.line_above = np.zeros((n_lim, nl), dtype=np.int64)
        self.trafo_max, self.trafo_step = np.full(nt, -np.inf), np.full(nt, -1, dtype=np.int64)
        self.trafo_above = np.zeros((n_lim, nt), dtype=np.int64)
        n3 = len(self.ids["trafo3w_ids"])
        self.t3_max, self.t3_step = np.full(n3, -np.inf), np.full(n3, -1, dtype=np.int64)
        self.t3_above = np.zeros((n_lim, n3), dtype=np.int64)
        self.line_first = np.full((n_lim, nl), -1, dtype=np.int64)
        self.voltage_counters = self._voltage_counters(n_steps)

    def _voltage_counters(self, n_steps: int) -> list[tuple[IntArray, SimulatedVoltageCounter]]:
        """One weekly counter per (level, U0) group of the voltage check, with its columns."""
        vc = self.spec.voltage_check
        if vc is None or n_steps == 0:
            return []
        if self.time_utc is None or len(self.time_utc) != n_steps:
            msg = (
                "StatisticsSpec.voltage_check counts per observation week and needs the UTC "
                f"start of each of the {n_steps} steps: pass time_utc="
            )
            raise InputError(msg)
        pos = pd.Index(self.ids["bus_ids"]).get_indexer(pd.Index(vc.bus_ids))
        if (pos < 0).any():
            unknown = [b for b, p in zip(vc.bus_ids, pos, strict=True) if p < 0]
            msg = (
                f"StatisticsSpec.voltage_check: bus id(s) {unknown[:5]} are not buses of "
                "the grid; build it with gridtwin.network.checks.voltage_check_spec(model)"
            )
            raise InputError(msg)
        col = dict(zip(vc.bus_ids, pos.tolist(), strict=True))
        return [
            (
                np.array([col[b] for b in buses], dtype=np.int64),
                SimulatedVoltageCounter(
                    self.time_utc,
                    vc.standard,
                    level,
                    timezone=vc.timezone,
                    point_ids=[str(b) for b in buses],
                    u0_pu=u0,
                ),
            )
            for level, u0, buses in vc.groups()
        ]

    def add(self, offset: int, arrays: ChunkArrays, converged: BoolArray) -> None:
        """Fold in the steps ``offset .. offset + len(converged) - 1``."""
        n = len(converged)
        sl = slice(offset, offset + n)
        self.converged[sl] = converged
        self.p_loss_mw[sl] = arrays["p_loss_mw"]
        self.ext_grid_p_mw[sl] = arrays["ext_grid_p_mw"]
        self.ext_grid_q_mvar[sl] = arrays["ext_grid_q_mvar"]
        if self.trafo_series is not None:
            self.trafo_series[sl] = arrays["trafo_loading_percent"]
        vm = arrays["vm_pu"]
        if self.symmetric:
            vmin = vmax = vmean = vm
            i_line = arrays["line_i_ka"]
        else:
            vmin, vmax = np.fmin.reduce(vm, axis=2), np.fmax.reduce(vm, axis=2)
            vmean = vm.mean(axis=2)
            i_line = np.fmax.reduce(arrays["line_i_ka"], axis=2)
        _running_extreme(self.vm_min, self.vm_min_step, vmin, offset, use_max=False)
        _running_extreme(self.vm_max, self.vm_max_step, vmax, offset, use_max=True)
        self.vm_n += (~np.isnan(vmean)).sum(axis=0)
        self.vm_sum += np.nansum(vmean, axis=0)
        for k, (lo, hi) in enumerate(self.spec.voltage_bands_pu):
            self.vm_below[k] += (vmin < lo).sum(axis=0)
            self.vm_above[k] += (vmax > hi).sum(axis=0)
        line = arrays["line_loading_percent"]
        _running_extreme(self.line_max, self.line_step, line, offset, use_max=True)
        _running_extreme(
            self.line_i_max, np.zeros(i_line.shape[1], dtype=np.int64), i_line, offset, use_max=True
        )
        trafo = arrays["trafo_loading_percent"]
        _running_extreme(self.trafo_max, self.trafo_step, trafo, offset, use_max=True)
        t3 = arrays["trafo3w_loading_percent"] if len(self.t3_max) else None
        if t3 is not None:
            _running_extreme(self.t3_max, self.t3_step, t3, offset, use_max=True)
        for k, lim in enumerate(self.spec.loading_limits_percent):
            above = line > lim
            self.line_above[k] += above.sum(axis=0)
            self.trafo_above[k] += (trafo > lim).sum(axis=0)
            if t3 is not None:
                self.t3_above[k] += (t3 > lim).sum(axis=0)
            first = above.any(axis=0) & (self.line_first[k] < 0)
            if first.any():
                self.line_first[k, first] = offset + above[:, first].argmax(axis=0)
        for cols, counter in self.voltage_counters:
            # the customer's voltage is its lowest phase (as the full-result check)
            counter.add(offset, vm[:, cols] if self.symmetric else vm[:, cols, :].min(axis=2))

    def finish(
        self,
        time_utc: pd.DatetimeIndex,
        *,
        name: str,
        notes: Sequence[str],
        step_duration: pd.Timedelta,
    ) -> PowerFlowStatistics:
        """The statistics (extremes never reached become NaN with step -1)."""

        def final(values: FloatArray, steps: IntArray) -> FloatArray:
            return np.where(steps >= 0, values, np.nan)

        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.vm_n > 0, self.vm_sum / np.maximum(self.vm_n, 1), np.nan)
        return PowerFlowStatistics(
            time_utc=pd.DatetimeIndex(time_utc, name="time_utc"),
            bus_ids=self.ids["bus_ids"],
            line_ids=self.ids["line_ids"],
            trafo_ids=self.ids["trafo_ids"],
            ext_grid_ids=self.ids["ext_grid_ids"],
            spec=self.spec,
            converged=self.converged,
            p_loss_mw=self.p_loss_mw,
            ext_grid_p_mw=self.ext_grid_p_mw,
            ext_grid_q_mvar=self.ext_grid_q_mvar,
            trafo_loading_percent=self.trafo_series,
            vm_min_pu=final(self.vm_min, self.vm_min_step),
            vm_min_step=self.vm_min_step,
            vm_max_pu=final(self.vm_max, self.vm_max_step),
            vm_max_step=self.vm_max_step,
            vm_mean_pu=mean,
            vm_valid_steps=self.vm_n,
            vm_steps_below=self.vm_below,
            vm_steps_above=self.vm_above,
            line_loading_max_percent=final(self.line_max, self.line_step),
            line_loading_max_step=self.line_step,
            line_i_max_ka=np.where(np.isneginf(self.line_i_max), np.nan, self.line_i_max),
            line_steps_above=self.line_above,
            trafo_loading_max_percent=final(self.trafo_max, self.trafo_step),
            trafo_loading_max_step=self.trafo_step,
            trafo_steps_above=self.trafo_above,
            symmetric=self.symmetric,
            name=name,
            notes=tuple(notes),
            step_duration=step_duration,
            line_first_above_step=self.line_first,
            voltage_counts=tuple(counter.counts() for _cols, counter in self.voltage_counters),
            trafo3w_ids=self.ids["trafo3w_ids"],
            trafo3w_loading_max_percent=final(self.t3_max, self.t3_step),
            trafo3w_loading_max_step=self.t3_step,
            trafo3w_steps_above=self.t3_above,
        )


# --------------------------------------------------------------------- reading


def read_parquet(path: str | Path) -> PowerFlowResult:
    """Read a file written by :meth:`PowerFlowResult.write_parquet` (or streamed by
    ``simulate(..., output=...)``) back into a full result."""
    p = Path(path)
    if not p.is_file():
        msg = f"{p}: no such file"
        raise InputError(msg)
    pf = pq.ParquetFile(str(p))
    raw = (pf.metadata.metadata or {}).get(_META_KEY)
    if raw is None:
        raw = (pf.schema_arrow.metadata or {}).get(_META_KEY)
    if raw is None:
        msg = f"{p}: not a gridtwin power-flow result (no gridtwin.powerflow metadata)"
        raise InputError(msg)
    meta = json.loads(raw)
    table = pf.read()
    time_all = table.column("time_utc").to_numpy()
    times = np.unique(time_all)
    time_utc = pd.DatetimeIndex(pd.to_datetime(times, utc=True), name="time_utc")
    element = table.column("element").to_pandas().astype(str).to_numpy()
    quantity = table.column("quantity").to_pandas().astype(str).to_numpy()
    ids_col = table.column("element_id").to_numpy()
    values = table.column("value").to_numpy()
    t_pos = np.searchsorted(times, time_all)
    key = pd.Series(np.char.add(np.char.add(element.astype(str), "."), quantity.astype(str)))
    groups = key.groupby(key).indices
    symmetric = bool(meta["symmetric"])
    ids = _complete_ids(meta)  # files of grids without trafo3w may lack trafo3w_ids

    def grid(element_name: str, quantity_name: str, id_list: IntArray) -> FloatArray:
        out = np.full((len(times), len(id_list)), np.nan)
        rows = groups.get(f"{element_name}.{quantity_name}")
        if rows is not None:
            out[t_pos[rows], pd.Index(id_list).get_indexer(ids_col[rows])] = values[rows]
        return out

    fields: dict[str, FloatArray] = {}
    for name, element_name, quantity_name, ids_name, per_phase in _LAYOUT:
        if per_phase and not symmetric:
            fields[name] = np.stack(
                [
                    grid(element_name, _phase_name(quantity_name, ph), ids[ids_name])
                    for ph in PHASES
                ],
                axis=2,
            )
        else:
            fields[name] = grid(element_name, quantity_name, ids[ids_name])
    net_id = np.array([NETWORK_ID], dtype=np.int64)
    return PowerFlowResult(
        time_utc=time_utc,
        bus_ids=ids["bus_ids"],
        line_ids=ids["line_ids"],
        trafo_ids=ids["trafo_ids"],
        ext_grid_ids=ids["ext_grid_ids"],
        vm_pu=fields["vm_pu"],
        va_degree=fields["va_degree"],
        line_i_ka=fields["line_i_ka"],
        line_loading_percent=fields["line_loading_percent"],
        line_p_from_mw=fields["line_p_from_mw"],
        trafo_i_hv_ka=fields["trafo_i_hv_ka"],
        trafo_i_lv_ka=fields["trafo_i_lv_ka"],
        trafo_loading_percent=fields["trafo_loading_percent"],
        ext_grid_p_mw=fields["ext_grid_p_mw"],
        ext_grid_q_mvar=fields["ext_grid_q_mvar"],
        trafo3w_ids=ids["trafo3w_ids"],
        trafo3w_i_hv_ka=fields["trafo3w_i_hv_ka"],
        trafo3w_i_mv_ka=fields["trafo3w_i_mv_ka"],
        trafo3w_i_lv_ka=fields["trafo3w_i_lv_ka"],
        trafo3w_loading_percent=fields["trafo3w_loading_percent"],
        p_loss_mw=grid("network", "p_loss_mw", net_id)[:, 0],
        converged=grid("network", "converged", net_id)[:, 0] == 1.0,
        symmetric=symmetric,
        name=str(meta["name"]),
        notes=tuple(meta["notes"]),
        step_duration=pd.Timedelta(seconds=float(meta["step_duration_s"])),
    )
