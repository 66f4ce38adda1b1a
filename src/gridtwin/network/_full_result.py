"""The full result of a time-series power flow (every quantity of every step) and its file.

:class:`PowerFlowResult` keeps ``T x n`` arrays: right for small grids and short spans.
It gives wide frames, a :class:`PowerFlowSummary`, the :class:`PowerFlowStatistics` a
streaming run would have accumulated, and a long-format Parquet file, which
:func:`read_parquet` reads back (also a file streamed by ``simulate(...,
keep=KeepSummary(parquet=...))``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gridtwin.errors import InputError
from gridtwin.network._accumulator import StatisticsAccumulator
from gridtwin.network._result_file import _META_KEY, ParquetStream, file_metadata, long_table
from gridtwin.network._result_layout import (
    _ID_FIELDS,
    _LAYOUT,
    _OPTIONAL_IDS,
    NETWORK_ID,
    PHASES,
    RESULT_FIELDS,
    BoolArray,
    FloatArray,
    IntArray,
    Series,
    _complete_ids,
    _no_ids,
    _no_values,
    _phase_name,
    iter_series,
)
from gridtwin.network._statistics import PowerFlowStatistics, StatisticsSpec
from gridtwin.network._summary import PowerFlowSummary, _extreme, _make_summary

__all__ = ["PowerFlowResult", "read_parquet"]


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
        Transformers under tap control (``simulate(..., controls=Controls(taps=...))``).
    trafo_tap_pos : numpy.ndarray, shape (T, n_controlled), or None
        Their tap position at every step.
    q_control_sgen_ids : numpy.ndarray of int64, or None
        sgens under a Q(U) characteristic (``simulate(...,
        controls=Controls(reactive_power=...))``).
    sgen_q_mvar : numpy.ndarray, shape (T, n_controlled), or None
        Their injected reactive power at every step [Mvar] (positive: supplied).
    gen_ids : numpy.ndarray of int64, or None
        The voltage-controlled generators (``gen``), when the net has some.
    gen_q_mvar : numpy.ndarray, shape (T, n_gen), or None
        Their reactive power at every step [Mvar] (positive: supplied), shared among the
        generators of a bus in proportion to their reactive ranges, as pandapower's
        ``res_gen.q_mvar``; NaN for a generator out of service or at a slack bus (the
        ext_grid's results carry that bus's reactive power).
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
    gen_ids: IntArray | None = None
    gen_q_mvar: FloatArray | None = None
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
        """The element ids of the columns, by id field."""
        return {key: getattr(self, key) for key in _ID_FIELDS}

    def _arrays(self, start: int = 0, stop: int | None = None) -> dict[str, FloatArray]:
        """The :data:`RESULT_FIELDS` arrays of steps ``[start, stop)``."""
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
        """Per-element statistics of this result, as ``simulate(..., keep=KeepSummary())``
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
        """The ``gridtwin.powerflow`` metadata of this result's file."""
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


# --------------------------------------------------------------------- reading


def read_parquet(path: str | Path) -> PowerFlowResult:
    """Read a file written by :meth:`PowerFlowResult.write_parquet` (or streamed by
    ``simulate(..., keep=KeepSummary(parquet=...))``) back into a full result."""
    p = Path(path)
    if not p.is_file():
        msg = f"{p}: no such file"
        raise InputError(msg)
    pf = pq.ParquetFile(str(p))
    meta = _powerflow_metadata(pf, p)
    rows = _LongRows.of(pf.read())
    symmetric = bool(meta["symmetric"])
    ids = _complete_ids(meta)  # files of grids without trafo3w may lack trafo3w_ids
    fields = _wide_fields(rows, ids, symmetric)
    net_id = np.array([NETWORK_ID], dtype=np.int64)
    return PowerFlowResult(
        time_utc=rows.time_utc,
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
        p_loss_mw=rows.grid("network", "p_loss_mw", net_id)[:, 0],
        converged=rows.grid("network", "converged", net_id)[:, 0] == 1.0,
        symmetric=symmetric,
        name=str(meta["name"]),
        notes=tuple(meta["notes"]),
        step_duration=pd.Timedelta(seconds=float(meta["step_duration_s"])),
    )


def _powerflow_metadata(pf: pq.ParquetFile, p: Path) -> dict[str, Any]:
    """The ``gridtwin.powerflow`` metadata of a file (the file's, else the schema's)."""
    raw = (pf.metadata.metadata or {}).get(_META_KEY)
    if raw is None:
        raw = (pf.schema_arrow.metadata or {}).get(_META_KEY)
    if raw is None:
        msg = f"{p}: not a gridtwin power-flow result (no gridtwin.powerflow metadata)"
        raise InputError(msg)
    meta: dict[str, Any] = json.loads(raw)
    return meta


@dataclass(frozen=True)
class _LongRows:
    """The rows of a long-format table, grouped by ``element.quantity``."""

    times: npt.NDArray[Any]  # distinct steps, sorted (datetime64)
    t_pos: IntArray  # step position of each row
    element_ids: Any  # int64 element id of each row (numpy, as pyarrow gives it)
    values: FloatArray
    groups: Mapping[Any, Any]  # "element.quantity" -> row positions

    @classmethod
    def of(cls, table: pa.Table) -> _LongRows:
        """Group the rows of a table read from a result file."""
        time_all = table.column("time_utc").to_numpy()
        times = np.unique(time_all)
        element = table.column("element").to_pandas().astype(str).to_numpy()
        quantity = table.column("quantity").to_pandas().astype(str).to_numpy()
        ids_col = table.column("element_id").to_numpy()
        values = table.column("value").to_numpy()
        t_pos = np.searchsorted(times, time_all)
        key = pd.Series(np.char.add(np.char.add(element.astype(str), "."), quantity.astype(str)))
        groups = key.groupby(key).indices
        return cls(times, t_pos, ids_col, values, groups)

    @property
    def time_utc(self) -> pd.DatetimeIndex:
        """The steps as a UTC index named ``time_utc``."""
        return pd.DatetimeIndex(pd.to_datetime(self.times, utc=True), name="time_utc")

    def grid(self, element_name: str, quantity_name: str, id_list: IntArray) -> FloatArray:
        """One quantity as a ``(steps, len(id_list))`` array; NaN where no row."""
        out = np.full((len(self.times), len(id_list)), np.nan)
        rows = self.groups.get(f"{element_name}.{quantity_name}")
        if rows is not None:
            out[self.t_pos[rows], pd.Index(id_list).get_indexer(self.element_ids[rows])] = (
                self.values[rows]
            )
        return out


def _wide_fields(
    rows: _LongRows, ids: Mapping[str, IntArray], symmetric: bool
) -> dict[str, FloatArray]:
    """Every :data:`_LAYOUT` field as a ``(steps, n[, 3])`` array."""
    fields: dict[str, FloatArray] = {}
    for name, element_name, quantity_name, ids_name, per_phase in _LAYOUT:
        if per_phase and not symmetric:
            fields[name] = np.stack(
                [
                    rows.grid(element_name, _phase_name(quantity_name, ph), ids[ids_name])
                    for ph in PHASES
                ],
                axis=2,
            )
        else:
            fields[name] = rows.grid(element_name, quantity_name, ids[ids_name])
    return fields
