"""Turn measured values into the compared quantity of an indicator, by indicator kind.

One preparer per :data:`~gridtwin.quality._limits.IndicatorKind`: the 10-min r.m.s.
deviation from U0, the GOST δU(−), δU(+) (given, or estimated from 10-min means), the
frequency deviation and non-negative magnitudes. Each checks units and signs and states
the basis of the values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._inputs import _as_2d
from gridtwin.quality._limits import Indicator, IndicatorKind, LimitSet
from gridtwin.quality._under_over import UnderOverDeviation
from gridtwin.quality._unit_inference import _UNIT_FIX, _robust_median, infer_voltage_unit

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Prepared:
    """Compared values (lower and upper view, the same array if one), basis, notes."""

    lo: FloatArray
    hi: FloatArray
    basis: str
    notes: tuple[str, ...] = field(default=())


def _voltage_deviation_percent(
    values: npt.ArrayLike,
    n_times: int,
    ind: Indicator,
    ls: LimitSet,
    nominal_v: float | None,
    check_units: bool,
) -> tuple[FloatArray, float]:
    """Deviation of voltages from U0 [% of U0] and U0 [V], units checked."""
    u0 = nominal_v if nominal_v is not None else ls.nominal_voltage_v(ind.voltage_level)
    if u0 is None:
        msg = (
            f"{ls.id} {ind.voltage_level}: there is no default nominal voltage; pass "
            "nominal_v = the agreed/declared supply voltage U_c [V] (e.g. 10000 for a "
            "10 kV network)"
        )
        raise InputError(msg)
    if not u0 > 0:
        msg = f"nominal_v must be positive [V], got {u0}"
        raise InputError(msg)
    u = _as_2d(values, n_times, "values")
    if check_units:
        unit = infer_voltage_unit(u, u0)
        if unit != "V":
            med = _robust_median(u)
            msg = (
                f"values do not look like volts near nominal_v = {u0:g} V (median "
                f"{med:g}, read as {unit!r}): {_UNIT_FIX[unit]}. Pass check_units=False "
                "to skip this check."
            )
            raise InputError(msg)
    return (u - u0) / u0 * 100.0, float(u0)


def _prepare_rms(
    values: npt.ArrayLike | UnderOverDeviation,
    n_times: int,
    ind: Indicator,
    ls: LimitSet,
    nominal_v: float | None,
    check_units: bool,
) -> _Prepared:
    """10-min r.m.s. voltages as deviation from U0 (EN 50160 rule)."""
    if isinstance(values, UnderOverDeviation):
        msg = (
            f"{ind.citation} evaluates the 10-min mean r.m.s. voltage, not δU(−)/δU(+): "
            "pass the 10-min r.m.s. voltages [V] as values"
        )
        raise InputError(msg)
    d, u0 = _voltage_deviation_percent(values, n_times, ind, ls, nominal_v, check_units)
    return _Prepared(d, d, f"10-min r.m.s. values (IEC 61000-4-30), deviation from U0 = {u0:g} V")


def _prepare_under_over(
    values: npt.ArrayLike | UnderOverDeviation,
    n_times: int,
    ind: Indicator,
    ls: LimitSet,
    nominal_v: float | None,
    check_units: bool,
) -> _Prepared:
    """δU(−), δU(+) given, or estimated from 10-min voltages (GOST rule)."""
    if isinstance(values, UnderOverDeviation):
        under = _as_2d(values.under_percent, n_times, "values.under_percent")
        over = _as_2d(values.over_percent, n_times, "values.over_percent")
        if under.shape != over.shape:
            msg = (
                f"values.under_percent {under.shape} and values.over_percent {over.shape} "
                "must have the same shape"
            )
            raise InputError(msg)
        for name, arr in (("under_percent", under), ("over_percent", over)):
            neg = arr < 0
            if neg.any():
                r, c = np.argwhere(neg)[0]
                msg = (
                    f"values.{name}[{r}, {c}] = {arr[r, c]:g} is negative: δU(−) and "
                    "δU(+) are >= 0 by definition (IEC 61000-4-30 5.12); pass signed "
                    "deviations as 10-min voltages instead"
                )
                raise DataQualityError(msg)
        return _Prepared(
            -under,
            over,
            "10-min under-/over-deviation δU(−), δU(+) (IEC 61000-4-30 5.12, GOST 30804.4.30)",
        )
    d, u0 = _voltage_deviation_percent(values, n_times, ind, ls, nominal_v, check_units)
    note = (
        f"{ind.citation}: δU(−), δU(+) were estimated from 10-min mean voltages "
        "(the deviation of the mean); they are lower bounds of the under-/over-deviation "
        "measured per GOST 30804.4.30, so a pass here is not proof of compliance"
    )
    return _Prepared(
        d,
        d,
        f"10-min mean r.m.s. values, deviation from U0 = {u0:g} V "
        "(δU(−)/δU(+) estimated from the mean)",
        (note,),
    )


def _prepare_frequency(
    values: npt.ArrayLike | UnderOverDeviation,
    n_times: int,
    ind: Indicator,
    ls: LimitSet,
    nominal_v: float | None,
    check_units: bool,
) -> _Prepared:
    """10-s frequencies as deviation from nominal [Hz or % of nominal]."""
    if isinstance(values, UnderOverDeviation):
        msg = "frequency values must be an array of 10-s frequencies [Hz]"
        raise InputError(msg)
    f = _as_2d(values, n_times, "values")
    fn = ls.nominal_frequency_hz
    med = _robust_median(f)
    if check_units and med is not None and not 0.9 * fn <= med <= 1.1 * fn:
        hint = (
            f"they look like deviations: pass absolute frequencies (add the nominal {fn:g} Hz)"
            if med < 0.1 * fn
            else "check the unit (Hz expected)"
        )
        msg = (
            f"values should be 10-s frequencies near {fn:g} Hz but their median is "
            f"{med:g}: {hint}. Pass check_units=False to skip this check."
        )
        raise InputError(msg)
    d = f - fn if ind.unit == "Hz" else (f - fn) / fn * 100.0
    return _Prepared(d, d, f"10-s frequency values (IEC 61000-4-30), deviation from {fn:g} Hz")


def _prepare_magnitude(
    values: npt.ArrayLike | UnderOverDeviation,
    n_times: int,
    ind: Indicator,
    ls: LimitSet,
    nominal_v: float | None,
    check_units: bool,
) -> _Prepared:
    """A non-negative quantity as it is (THD, harmonics, unbalance, flicker)."""
    if isinstance(values, UnderOverDeviation):
        msg = f"{ind.name} values must be an array in {ind.unit}"
        raise InputError(msg)
    x = _as_2d(values, n_times, "values")
    neg = x < 0
    if neg.any():
        r, c = np.argwhere(neg)[0]
        msg = (
            f"values[{r}, {c}] = {x[r, c]:g} is negative; {ind.name} ({ind.quantity}) is "
            "non-negative: check the column and the unit"
        )
        raise DataQualityError(msg)
    return _Prepared(x, x, f"{ind.aggregation} values (IEC 61000-4-30 aggregation)")


_Preparer = Callable[
    [npt.ArrayLike | UnderOverDeviation, int, Indicator, LimitSet, float | None, bool], _Prepared
]
_PREPARERS: dict[IndicatorKind, _Preparer] = {
    "voltage_rms_deviation": _prepare_rms,
    "voltage_under_over_deviation": _prepare_under_over,
    "frequency_deviation": _prepare_frequency,
    "magnitude": _prepare_magnitude,
}
