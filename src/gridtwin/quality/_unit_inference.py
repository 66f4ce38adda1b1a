"""Guess the unit of voltage values from their magnitude and the nominal voltage.

Owns :func:`infer_voltage_unit` (V, kV, p.u., percent, line-to-line or phase-to-neutral
volts) with its helpers: the scale classes of a median, a robust median of many values
and the fix suggested for each unit in error messages.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError

__all__ = ["VoltageUnit", "infer_voltage_unit"]

FloatArray = npt.NDArray[np.float64]

VoltageUnit = Literal["V", "kV", "pu", "percent", "line_to_line_V", "phase_to_neutral_V", "unknown"]

_SQRT3 = float(np.sqrt(3.0))


def _scale_class(median: float, nominal: float) -> VoltageUnit:
    """The unit a median suggests against a nominal value (see infer_voltage_unit)."""
    ratio = median / nominal
    if 0.7 <= ratio <= 1.3:
        return "V"
    if 0.85 * _SQRT3 <= ratio <= 1.15 * _SQRT3:
        return "line_to_line_V"
    if 0.85 / _SQRT3 <= ratio <= 1.15 / _SQRT3:
        return "phase_to_neutral_V"
    if 0.7 <= ratio * 1000.0 <= 1.3:
        return "kV"
    if 0.7 <= median <= 1.3:
        return "pu"
    if 70.0 <= median <= 130.0:
        return "percent"
    return "unknown"


def _robust_median(values: FloatArray) -> float | None:
    """Median of |finite values| (of at most ~200,000 evenly spaced); None if none."""
    flat = values.ravel()
    if flat.size > 200_000:
        flat = flat[:: flat.size // 100_000]
    flat = np.abs(flat[np.isfinite(flat)])
    return float(np.median(flat)) if flat.size else None


def infer_voltage_unit(values: npt.ArrayLike, nominal_v: float) -> VoltageUnit:
    """Guess the unit of voltage values from their median and the nominal voltage.

    Parameters
    ----------
    values : array_like
        Voltages, any shape; ``NaN`` is ignored.
    nominal_v : float
        The nominal (reference) voltage the values should be close to [V].

    Returns
    -------
    str
        ``'V'`` (median within 0.7..1.3 × nominal), ``'line_to_line_V'`` (about √3 ×
        nominal: line voltages against a phase nominal), ``'phase_to_neutral_V'`` (about
        nominal / √3), ``'kV'`` (about nominal / 1000), ``'pu'`` (median 0.7..1.3),
        ``'percent'`` (median 70..130) or ``'unknown'``. Checked in this order, so a
        nominal near 100 V or 1 V is read as ``'V'``.

    Examples
    --------
    >>> infer_voltage_unit([0.229, 0.231], nominal_v=230.0)
    'kV'
    >>> infer_voltage_unit([99.0, 101.0], nominal_v=230.0)
    'percent'
    """
    if not nominal_v > 0:
        msg = f"infer_voltage_unit: nominal_v must be positive [V], got {nominal_v}"
        raise InputError(msg)
    med = _robust_median(np.asarray(values, dtype=np.float64))
    return "unknown" if med is None else _scale_class(med, float(nominal_v))


_UNIT_FIX: dict[str, str] = {
    "kV": "the values look like kV: multiply them by 1000 (or pass values in V)",
    "pu": (
        "the values look like per-unit: multiply them by the nominal voltage, or use "
        "evaluate_voltage_pu for simulated per-unit voltages"
    ),
    "percent": "the values look like percent of nominal: multiply them by nominal_v / 100",
    "line_to_line_V": (
        "the values look like line-to-line voltages against a phase-to-neutral "
        "nominal: pass nominal_v = the line voltage (e.g. 380 or 400)"
    ),
    "phase_to_neutral_V": (
        "the values look like phase-to-neutral voltages against a "
        "line-to-line nominal: pass nominal_v = the phase voltage"
    ),
    "unknown": "check the unit of the values and nominal_v",
}
