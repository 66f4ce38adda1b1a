"""Check measured voltages against the reference voltage and convert them to volts.

Owns :func:`normalise_voltage_units`: stated units (V, kV, p.u., percent) are applied,
unstated ones are read from the magnitude with
:func:`~gridtwin.quality._unit_inference.infer_voltage_unit` (and a note says so), and a
stated unit that contradicts the magnitude is an error naming point and phase.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._channels import LINE_PHASES
from gridtwin.quality._measurement_set import MeasurementSet
from gridtwin.quality._series import IndicatorSeries
from gridtwin.quality._unit_inference import infer_voltage_unit

__all__ = ["VoltageUnitArg", "normalise_voltage_units"]

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]

VoltageUnitArg = Literal["auto", "V", "kV", "pu", "percent"]

_SQRT3: Final = float(np.sqrt(3.0))


_FIX: Final[dict[str, str]] = {
    "kV": "the values look like kV: state the unit (name the column voltage_a_kv, or unit kV)",
    "pu": "the values look like per-unit of U0: state the unit pu",
    "percent": "the values look like percent of U0: state the unit percent",
    "line_to_line_V": (
        "the values look like line-to-line voltages: label the phases ab, bc, "
        "ca, or pass nominal_v = the line voltage"
    ),
    "phase_to_neutral_V": (
        "the values look like phase-to-neutral voltages: label the phases "
        "a, b, c, or pass the phase voltage as reference"
    ),
    "unknown": "check the unit of the values and the reference voltage (nominal_v)",
    "V": "",
}


def normalise_voltage_units(
    ms: MeasurementSet,
    nominal_v: float,
    nominal_line_v: float | None = None,
    *,
    voltage_unit: VoltageUnitArg = "auto",
) -> MeasurementSet:
    """Check and convert measured voltages to volts against the reference voltage.

    Parameters
    ----------
    ms : MeasurementSet
    nominal_v : float
        Reference voltage U0 of phase-to-neutral (and unlabelled) channels [V].
    nominal_line_v : float, optional
        U0 of line-to-line channels (ab, bc, ca) [V]; default ``nominal_v * sqrt(3)``.
    voltage_unit : {'auto', 'V', 'kV', 'pu', 'percent'}
        Unit of columns that state none. ``'auto'`` reads it from the magnitude with
        :func:`gridtwin.quality.infer_voltage_unit` and adds a note when it is not V.

    Returns
    -------
    MeasurementSet
        Voltages in V (``unit == 'V'``).

    Raises
    ------
    DataQualityError
        A stated unit contradicts the magnitude (e.g. kV values in a column named ``_v``),
        or the magnitude fits no unit (named: point, phase, median, how to fix).
    """
    ser = ms.series.get("voltage")
    if ser is None:
        return ms
    if not nominal_v > 0:
        msg = f"nominal_v must be positive [V], got {nominal_v}"
        raise InputError(msg)
    line_v = nominal_line_v if nominal_line_v is not None else nominal_v * _SQRT3
    u0 = np.array([line_v if p in LINE_PHASES else nominal_v for p in ser.phases])
    stated = np.array(
        [u or (voltage_unit if voltage_unit != "auto" else "") for u in ser.stated_units],
        dtype=object,
    )
    scale = _stated_scale(stated, u0)
    mat = ser.values * scale if np.any(scale != 1.0) else ser.values
    notes = list(ms.notes)
    med = _column_medians(mat)
    cols = _VoltageColumns(u0, stated, scale, med, _inferred_units(med, u0, stated))
    _refuse_contradictions(ms, ser, cols)
    mat = _convert_unstated(ms, ser, mat, cols, notes)
    new = replace(ser, values=mat, unit="V", stated_units=("V",) * ser.n_columns)
    return replace(ms, series={**ms.series, "voltage": new}, notes=tuple(notes))


@dataclass(frozen=True)
class _VoltageColumns:
    """Per voltage column: reference U0 [V], stated unit, its scale to V, median, read unit."""

    u0: FloatArray
    stated: ObjectArray
    scale: FloatArray
    med: FloatArray
    inferred: ObjectArray


def _stated_scale(stated: ObjectArray, u0: FloatArray) -> FloatArray:
    """Factor from each column's stated unit to V (1 where none or V is stated)."""
    scale = np.ones(len(stated))
    scale[stated == "kV"] = 1000.0
    scale[stated == "pu"] = u0[stated == "pu"]
    scale[stated == "percent"] = u0[stated == "percent"] / 100.0
    return scale


def _inferred_units(med: FloatArray, u0: FloatArray, stated: ObjectArray) -> ObjectArray:
    """The unit each column's median reads as (:func:`infer_voltage_unit`)."""
    ratio = med / u0
    # one infer_voltage_unit call per group of columns with the same stated unit,
    # reference and magnitude class; each column judged by its own median
    key = np.round(np.log2(np.where(ratio > 0, ratio, 1e-12)) * 4).astype(np.int64)
    groups = pd.DataFrame({"stated": stated.astype(str), "u0": u0, "key": key})
    inferred = np.empty(len(med), dtype=object)
    for idx in groups.groupby(["stated", "u0", "key"]).indices.values():
        cols = np.asarray(idx)
        u0_g = u0[cols[0]]
        found = [
            infer_voltage_unit([float(m)], float(u0_g)) for m in (med[cols].min(), med[cols].max())
        ]
        if found[0] == found[1]:
            inferred[cols] = found[0]
        else:
            inferred[cols] = [infer_voltage_unit([float(m)], float(u0_g)) for m in med[cols]]
    return inferred


def _refuse_contradictions(ms: MeasurementSet, ser: IndicatorSeries, cols: _VoltageColumns) -> None:
    """Raise for the first column whose magnitude is not volts and cannot be read as a unit."""
    stated, inferred, med = cols.stated, cols.inferred, cols.med
    has = np.isfinite(med)
    for c in np.flatnonzero(has & (inferred != "V")):
        unit = str(inferred[c])
        where = (
            f"{ms.source}: point {ms.point_ids[ser.point_index[c]]} voltage phase "
            f"{ser.phases[c] or '-'}"
        )
        if stated[c] == "" and unit in ("kV", "pu", "percent"):
            continue
        said = f"stated in {stated[c]}" if stated[c] else "with no stated unit"
        msg = (
            f"{where}: {said}, the values (median {med[c] / cols.scale[c]:g}) do not look like "
            f"volts near U0 = {cols.u0[c]:g} V (read as {unit!r}): {_FIX[unit]}"
        )
        raise DataQualityError(msg)


def _convert_unstated(
    ms: MeasurementSet,
    ser: IndicatorSeries,
    mat: FloatArray,
    cols: _VoltageColumns,
    notes: list[str],
) -> FloatArray:
    """Convert columns without a stated unit read as kV, p.u. or % to V; note each unit."""
    u0, inferred = cols.u0, cols.inferred
    auto = np.isfinite(cols.med) & (cols.stated == "") & (inferred != "V")
    for unit in ("kV", "pu", "percent"):
        sel = np.flatnonzero(auto & (inferred == unit))
        if not sel.size:
            continue
        f = {"kV": np.full(sel.size, 1000.0), "pu": u0[sel], "percent": u0[sel] / 100}[unit]
        mat = mat.copy() if mat is ser.values else mat
        mat[:, sel] *= f
        pts = sorted({ms.point_ids[ser.point_index[c]] for c in sel})
        notes.append(
            f"voltage of {len(pts)} point(s) ({', '.join(pts[:5])}"
            f"{' ...' if len(pts) > 5 else ''}) stated no unit and was read as "
            f"{unit} from its magnitude (infer_voltage_unit) and converted to V"
        )
    return mat


def _column_medians(mat: FloatArray) -> FloatArray:
    """Median of |value| per column from about 100 evenly spaced rows (NaN if none)."""
    sub = np.sort(np.abs(mat[:: max(1, mat.shape[0] // 96)]), axis=0)  # NaN sort last
    out = np.full(mat.shape[1], np.nan)
    count = np.isfinite(sub).sum(axis=0)
    ok = count > 0
    if ok.any():
        cols = np.flatnonzero(ok)
        lo, hi = (count[ok] - 1) // 2, count[ok] // 2
        out[ok] = 0.5 * (sub[lo, cols] + sub[hi, cols])
    rest = np.flatnonzero(~ok & np.isfinite(mat).any(axis=0))
    for c in rest:
        col = mat[:, c]
        out[c] = float(np.median(np.abs(col[np.isfinite(col)])))
    return out
