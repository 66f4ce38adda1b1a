"""Power-flow results over time: arrays, frames, long-format Parquet and a summary.

Conventions follow pandapower's ``res_*`` tables: ``vm_pu``, ``va_degree`` (including
transformer phase shifts), line ``i_ka`` is the larger of both ends and
``loading_percent = i_ka / (max_i_ka * df * parallel) * 100``; transformer loading is
current based, ``max(i_hv_ka * vn_hv_kv, i_lv_ka * vn_lv_kv) * sqrt(3) / sn_mva / parallel
/ df * 100`` (pandapower's default ``trafo_loading="current"``). Steps that did not
converge hold NaN everywhere (``p_loss_mw`` included) and ``converged=False``. Buses that
are not energised hold NaN voltages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gridtwin.errors import InputError
from gridtwin.timeseries import utc_ns

__all__ = ["PARQUET_FORMAT_VERSION", "PowerFlowResult", "PowerFlowSummary", "read_parquet"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

PARQUET_FORMAT_VERSION = 1
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
    ("ext_grid_p_mw", "ext_grid", "p_mw", "ext_grid_ids", False),
    ("ext_grid_q_mvar", "ext_grid", "q_mvar", "ext_grid_ids", False),
)


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
        Highest loading [%] and where / when.
    energy_loss_mwh : float
        Sum over converged steps of ``p_loss_mw * step`` [MWh].
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


def _extreme(arr: FloatArray, ids: IntArray, time: pd.DatetimeIndex, use_max: bool) -> tuple[
        float, int | None, pd.Timestamp | None]:
    if arr.size == 0 or np.all(np.isnan(arr)):
        return float("nan"), None, None
    flat = np.nanargmax(arr) if use_max else np.nanargmin(arr)
    pos = np.unravel_index(int(flat), arr.shape)
    return float(arr[pos]), int(ids[pos[1]]), pd.Timestamp(time[int(pos[0])])


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
        Total active loss of lines and transformers [MW].
    converged : numpy.ndarray of bool, shape (T,)
        Whether each step converged; other arrays are NaN where it did not.
    symmetric : bool
        Balanced (True) or unbalanced (False) calculation.
    iterations : numpy.ndarray or None
        Newton-Raphson iterations per step; ``None`` because power-grid-model does not
        report them.
    name : str
        Grid name.
    notes : tuple of str
        Remarks (validation warnings, failed-step messages).
    step_duration : pandas.Timedelta
        Length of one profile step (the interval each row stands for), used for energies;
        the selected steps need not be consecutive.
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
    name: str = "grid"
    notes: tuple[str, ...] = field(default=())
    step_duration: pd.Timedelta = field(default=pd.Timedelta(minutes=15))

    @property
    def n_steps(self) -> int:
        """Number of steps."""
        return len(self.time_utc)

    def _series(self) -> Iterator[tuple[str, str, IntArray, FloatArray]]:
        """(element, quantity, ids, 2-D array) for every stored quantity."""
        for name, element, quantity, ids_name, per_phase in _LAYOUT:
            arr: FloatArray = getattr(self, name)
            ids: IntArray = getattr(self, ids_name)
            if per_phase and not self.symmetric:
                for k, ph in enumerate(PHASES):
                    yield element, _phase_name(quantity, ph), ids, arr[:, :, k]
            else:
                yield element, quantity, ids, arr
        net_ids = np.array([NETWORK_ID], dtype=np.int64)
        yield "network", "p_loss_mw", net_ids, self.p_loss_mw[:, None]
        yield "network", "converged", net_ids, self.converged[:, None].astype(np.float64)

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
                arr, index=self.time_utc, columns=pd.Index(ids, name=f"{element}_id"))
        out["network"] = pd.DataFrame({"p_loss_mw": self.p_loss_mw,
                                       "converged": self.converged}, index=self.time_utc)
        return out

    def summary(self) -> PowerFlowSummary:
        """Minimum/maximum voltage and maximum loadings with where and when."""
        vm = self.vm_pu if self.symmetric else self.vm_pu.reshape(self.n_steps, -1)
        vm_ids = self.bus_ids if self.symmetric else np.repeat(self.bus_ids, 3)
        vmin = _extreme(vm, vm_ids, self.time_utc, use_max=False)
        vmax = _extreme(vm, vm_ids, self.time_utc, use_max=True)
        lmax = _extreme(self.line_loading_percent, self.line_ids, self.time_utc, use_max=True)
        tmax = _extreme(self.trafo_loading_percent, self.trafo_ids, self.time_utc, use_max=True)
        failed = np.flatnonzero(~self.converged)
        step_h = self.step_duration / pd.Timedelta(hours=1)
        loss = self.p_loss_mw[self.converged]
        return PowerFlowSummary(
            steps=self.n_steps, converged_steps=int(self.converged.sum()),
            first_failed_utc=pd.Timestamp(self.time_utc[failed[0]]) if len(failed) else None,
            vm_min_pu=vmin[0], vm_min_bus=vmin[1], vm_min_time_utc=vmin[2],
            vm_max_pu=vmax[0], vm_max_bus=vmax[1], vm_max_time_utc=vmax[2],
            line_loading_max_percent=lmax[0], line_loading_max_line=lmax[1],
            line_loading_max_time_utc=lmax[2],
            trafo_loading_max_percent=tmax[0], trafo_loading_max_trafo=tmax[1],
            trafo_loading_max_time_utc=tmax[2],
            p_loss_max_mw=float(np.max(loss)) if loss.size else float("nan"),
            energy_loss_mwh=float(np.sum(loss) * step_h))

    def _metadata(self) -> dict[bytes, bytes]:
        meta = {"format_version": PARQUET_FORMAT_VERSION, "name": self.name,
                "symmetric": self.symmetric, "notes": list(self.notes),
                "step_duration_s": self.step_duration.total_seconds(),
                "bus_ids": self.bus_ids.tolist(), "line_ids": self.line_ids.tolist(),
                "trafo_ids": self.trafo_ids.tolist(),
                "ext_grid_ids": self.ext_grid_ids.tolist()}
        return {b"gridtwin.powerflow": json.dumps(meta).encode()}

    def chunk_table(self, start: int, stop: int) -> pa.Table:
        """Long-format Arrow table of steps ``[start, stop)`` (see :meth:`write_parquet`)."""
        times = utc_ns(self.time_utc[start:stop])
        parts_t, parts_e, parts_id, parts_q, parts_v = [], [], [], [], []
        for element, quantity, ids, arr in self._series():
            block = arr[start:stop]
            n = block.size
            parts_t.append(np.repeat(times, len(ids)))
            parts_id.append(np.tile(ids, len(times)))
            parts_v.append(block.reshape(-1))
            parts_e.append((element, n))
            parts_q.append((quantity, n))

        def dictionary(parts: list[tuple[str, int]]) -> pa.DictionaryArray:
            names = sorted({p[0] for p in parts})
            codes = np.concatenate([np.full(n, names.index(v), dtype=np.int32)
                                    for v, n in parts])
            return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(names))

        return pa.table({
            "time_utc": pa.array(np.concatenate(parts_t), type=pa.timestamp("ns", tz="UTC")),
            "element": dictionary(parts_e),
            "element_id": pa.array(np.concatenate(parts_id), type=pa.int64()),
            "quantity": dictionary(parts_q),
            "value": pa.array(np.concatenate(parts_v), type=pa.float64()),
        })

    def write_parquet(self, path: str | Path, chunk_steps: int = 2048) -> Path:
        """Write all results as long-format Parquet, one row group per chunk of steps.

        Columns: ``time_utc`` (UTC period start), ``element`` (``bus``, ``line``,
        ``trafo``, ``ext_grid``, ``network``), ``element_id`` (pandapower index; -1 for
        ``network``), ``quantity`` (``vm_pu``, ``loading_percent``, ``p_loss_mw``,
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
        target = Path(path)
        tmp = target.with_name(target.name + ".partial")
        schema = self.chunk_table(0, 0).schema.with_metadata(self._metadata())
        try:
            with pq.ParquetWriter(str(tmp), schema) as writer:
                for start in range(0, self.n_steps, chunk_steps):
                    table = self.chunk_table(start, min(start + chunk_steps, self.n_steps))
                    writer.write_table(table.cast(schema))
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target


def read_parquet(path: str | Path) -> PowerFlowResult:
    """Read a file written by :meth:`PowerFlowResult.write_parquet` back into a result."""
    p = Path(path)
    if not p.is_file():
        msg = f"{p}: no such file"
        raise InputError(msg)
    pf = pq.ParquetFile(str(p))
    raw = (pf.schema_arrow.metadata or {}).get(b"gridtwin.powerflow")
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
    ids = {name: np.asarray(meta[name], dtype=np.int64)
           for name in ("bus_ids", "line_ids", "trafo_ids", "ext_grid_ids")}

    def grid(element_name: str, quantity_name: str, id_list: IntArray) -> FloatArray:
        out = np.full((len(times), len(id_list)), np.nan)
        rows = groups.get(f"{element_name}.{quantity_name}")
        if rows is not None:
            out[t_pos[rows], pd.Index(id_list).get_indexer(ids_col[rows])] = values[rows]
        return out

    fields: dict[str, FloatArray] = {}
    for name, element_name, quantity_name, ids_name, per_phase in _LAYOUT:
        if per_phase and not symmetric:
            fields[name] = np.stack([grid(element_name, _phase_name(quantity_name, ph),
                                          ids[ids_name]) for ph in PHASES], axis=2)
        else:
            fields[name] = grid(element_name, quantity_name, ids[ids_name])
    net_id = np.array([NETWORK_ID], dtype=np.int64)
    return PowerFlowResult(
        time_utc=time_utc, bus_ids=ids["bus_ids"], line_ids=ids["line_ids"],
        trafo_ids=ids["trafo_ids"], ext_grid_ids=ids["ext_grid_ids"],
        vm_pu=fields["vm_pu"], va_degree=fields["va_degree"], line_i_ka=fields["line_i_ka"],
        line_loading_percent=fields["line_loading_percent"],
        line_p_from_mw=fields["line_p_from_mw"], trafo_i_hv_ka=fields["trafo_i_hv_ka"],
        trafo_i_lv_ka=fields["trafo_i_lv_ka"],
        trafo_loading_percent=fields["trafo_loading_percent"],
        ext_grid_p_mw=fields["ext_grid_p_mw"], ext_grid_q_mvar=fields["ext_grid_q_mvar"],
        p_loss_mw=grid("network", "p_loss_mw", net_id)[:, 0],
        converged=grid("network", "converged", net_id)[:, 0] == 1.0,
        symmetric=symmetric, name=str(meta["name"]), notes=tuple(meta["notes"]),
        step_duration=pd.Timedelta(seconds=float(meta["step_duration_s"])))
