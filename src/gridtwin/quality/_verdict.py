"""From counts to a verdict: :class:`IndicatorEvaluation` and the rule that fills it.

Owns the result of one indicator per point and observation period (counts, shares,
availability, statistics, verdict and the rule text that decided it) and the one
function that turns N, N1, N2 and the expected intervals into shares and verdicts, for
measured aggregates and simulated steps alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.quality._limits import Indicator

__all__ = ["IndicatorEvaluation", "Verdict"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
TimeArray = npt.NDArray[np.datetime64]

Verdict = Literal["pass", "fail", "insufficient data"]


def _rule_texts(ind: Indicator, min_availability_percent: float) -> tuple[str, ...]:
    """Texts for rule codes 0 pass, 1 share fail, 2 maximum fail, 3 insufficient data."""
    cite = f"[{ind.citation}]"
    checks = []
    share_fail = max_fail = ""
    if ind.share_limit is not None:
        s = ind.share_limit
        allowed = f"{100 - s.share_percent:g} %"
        checks.append(
            f"N1/N <= {allowed} (band {s.band_text(ind.unit)} for "
            f"{s.share_percent:g} % of valid intervals)"
        )
        share_fail = (
            f"fail: N1/N > {allowed}: more than {allowed} of valid intervals "
            f"outside {s.band_text(ind.unit)} {cite}"
        )
    if ind.max_limit is not None:
        checks.append(
            f"N2 = 0 (band {ind.max_limit.band_text(ind.unit)} for 100 % of valid intervals)"
        )
        max_fail = (
            f"fail: N2 > 0: a valid interval outside "
            f"{ind.max_limit.band_text(ind.unit)}, allowed for 0 % of the time {cite}"
        )
    return (
        f"pass: {' and '.join(checks)} {cite}",
        share_fail,
        max_fail,
        f"insufficient data: fewer than {min_availability_percent:g} % of the expected "
        "intervals are valid; no verdict",
    )


@dataclass(frozen=True)
class IndicatorEvaluation:
    """Per point and observation period: counts, statistics and verdict of one indicator.

    Arrays of shape (K, n_points) have one row per period ``period_start_utc[k]``.
    Value fields (``max_value`` ...) are in ``value_unit``: ``'percent'`` (of U0 for
    voltage deviation, of U1 for harmonics, of the positive sequence for unbalance, of the
    nominal frequency for EN 50160 frequency), ``'Hz'`` or ``'1'`` (Pst, Plt);
    :meth:`to_frame` names the columns with the unit.

    Attributes
    ----------
    standard, indicator, voltage_level, clause, quantity : str
        What was evaluated, and the clause of the standard.
    value_unit : str
        Unit of the value fields and of the limits.
    basis : str
        What the intervals are: IEC 61000-4-30 aggregates, or simulation steps.
    limits : str
        The limits applied, e.g. ``'95 %: -10 .. +10 %; 100 %: -15 .. +10 %'``.
    share_limit_percent : float
        Share of the N1 band (e.g. 95, 99, 99.5); ``NaN`` if the indicator has only a 100 %
        limit (then ``n1`` is 0 and ``t1_percent`` is ``NaN``).
    min_availability_percent : float
        Availability below which a period gets no verdict [% of expected intervals].
    notes : tuple of str
        Verification status of the limits and other caveats; print them with the result.
    point_ids : tuple of str
    period_start_utc, period_end_utc : pandas.DatetimeIndex, shape (K,)
        Period boundaries (local week or year starts) in UTC, end exclusive.
    n_expected : numpy.ndarray of int, shape (K,)
        Intervals of the grid that start in the period (1008 for a 168-h week of 10-min).
    n_valid, n_flagged, n_missing : numpy.ndarray of int, shape (K, n_points)
        Valid intervals (N), flagged ones (excluded), missing ones (absent or NaN).
    availability_percent : numpy.ndarray, shape (K, n_points)
        ``100 * n_valid / n_expected`` [%].
    n1, n2 : numpy.ndarray of int, shape (K, n_points)
        Valid intervals outside the share band (N1) and outside the 100 % band (N2).
    t1_percent, t2_percent : numpy.ndarray, shape (K, n_points)
        ``100 * N1 / N`` and ``100 * N2 / N`` [%]; ``NaN`` when N = 0 or no such limit.
    max_value, min_value : numpy.ndarray, shape (K, n_points)
        Largest and smallest valid value [value_unit]. For GOST voltage deviation given as
        δU(−), δU(+), ``max_value`` is the largest δU(+) and ``min_value`` is −(largest
        δU(−)).
    p95_value, p05_value : numpy.ndarray, shape (K, n_points)
        95th and 5th percentile of the valid values (type 7, see the module notes).
    worst_value : numpy.ndarray, shape (K, n_points)
        The valid value closest to (or farthest beyond) a limit, relative to the widest band.
    worst_time_utc : numpy.ndarray of datetime64[ns], shape (K, n_points)
        Start (UTC) of the interval of ``worst_value``; ``NaT`` when N = 0.
    verdict : numpy.ndarray of str, shape (K, n_points)
        ``'pass'``, ``'fail'`` or ``'insufficient data'``.
    rule : numpy.ndarray of str, shape (K, n_points)
        The rule that decided the verdict, with the clause.
    """

    standard: str
    indicator: str
    voltage_level: str
    clause: str
    quantity: str
    value_unit: str
    basis: str
    limits: str
    share_limit_percent: float
    min_availability_percent: float
    notes: tuple[str, ...]
    point_ids: tuple[str, ...]
    period_start_utc: pd.DatetimeIndex
    period_end_utc: pd.DatetimeIndex
    n_expected: IntArray
    n_valid: IntArray
    n_flagged: IntArray
    n_missing: IntArray
    availability_percent: FloatArray
    n1: IntArray
    n2: IntArray
    t1_percent: FloatArray
    t2_percent: FloatArray
    max_value: FloatArray
    min_value: FloatArray
    p95_value: FloatArray
    p05_value: FloatArray
    worst_value: FloatArray
    worst_time_utc: TimeArray
    verdict: npt.NDArray[np.str_]
    rule: npt.NDArray[np.str_]

    @property
    def unit_suffix(self) -> str:
        """Suffix naming the unit in :meth:`to_frame` columns (``percent``, ``hz``, ...)."""
        return {"percent": "percent", "Hz": "hz"}.get(self.value_unit, self.indicator)

    def to_frame(self) -> pd.DataFrame:
        """One row per (period, point), columns with units in their names."""
        k, n = self.n_valid.shape
        u = self.unit_suffix
        n1: object = self.n1.ravel()
        if np.isnan(self.share_limit_percent):
            n1 = pd.array([pd.NA] * (k * n), dtype="Int64")
        return pd.DataFrame(
            {
                "standard": self.standard,
                "voltage_level": self.voltage_level,
                "indicator": self.indicator,
                "period_start_utc": self.period_start_utc.repeat(n),
                "period_end_utc": self.period_end_utc.repeat(n),
                "point_id": np.tile(np.asarray(self.point_ids, dtype=object), k),
                "n_expected": np.repeat(self.n_expected, n),
                "n_valid": self.n_valid.ravel(),
                "n_flagged": self.n_flagged.ravel(),
                "n_missing": self.n_missing.ravel(),
                "availability_percent": self.availability_percent.ravel(),
                "n1": n1,
                "n2": self.n2.ravel(),
                "t1_percent": self.t1_percent.ravel(),
                "t2_percent": self.t2_percent.ravel(),
                f"max_{u}": self.max_value.ravel(),
                f"min_{u}": self.min_value.ravel(),
                f"p95_{u}": self.p95_value.ravel(),
                f"p05_{u}": self.p05_value.ravel(),
                f"worst_{u}": self.worst_value.ravel(),
                "worst_time_utc": pd.DatetimeIndex(self.worst_time_utc.ravel()).tz_localize("UTC"),
                "verdict": self.verdict.ravel(),
                "rule": self.rule.ravel(),
            }
        )


def _verdict_codes(
    ind: Indicator,
    n_valid: IntArray,
    n1: IntArray,
    n2: IntArray,
    n_expected: IntArray,
    min_availability_percent: float,
) -> IntArray:
    """0 pass, 1 share rule failed, 2 100 % rule failed, 3 insufficient data (precedence)."""
    code = np.zeros(n_valid.shape, dtype=np.int64)
    if ind.share_limit is not None:
        bp = ind.share_limit.share_basis_points  # integer test of N1 / N <= 1 - share
        code[n1 * 10_000 > (10_000 - bp) * n_valid] = 1
    if ind.max_limit is not None:
        code[n2 > 0] = 2
    code[n_valid * 100.0 < min_availability_percent * n_expected] = 3
    return code


@dataclass(frozen=True)
class _PeriodValues:
    """Per period and point ``(K, n)``: the counts and values an evaluation reports."""

    n_valid: IntArray
    n_flagged: IntArray
    n1: IntArray
    n2: IntArray
    max_value: FloatArray
    min_value: FloatArray
    p95_value: FloatArray
    p05_value: FloatArray
    worst_value: FloatArray
    worst_time_utc: TimeArray


def _indicator_evaluation(
    ind: Indicator,
    bounds: IntArray,
    n_expected: IntArray,
    values: _PeriodValues,
    *,
    min_availability_percent: float,
    basis: str,
    point_ids: tuple[str, ...],
    notes: tuple[str, ...],
) -> IndicatorEvaluation:
    """Shares, availability and the verdict of every period from its counts.

    The one place where N, N1, N2 and the expected intervals become ``t1``, ``t2``,
    availability and a verdict, for measured aggregates, for full simulated series and
    for counts accumulated step block by step block (:class:`SimulatedVoltageCounter`).
    """
    n_valid, n1, n2 = values.n_valid, values.n1, values.n2
    exp2: IntArray = n_expected[:, np.newaxis]
    t1, t2, availability = _shares(ind, values, exp2)
    code = _verdict_codes(ind, n_valid, n1, n2, exp2, min_availability_percent)
    verdicts = np.array(["pass", "fail", "fail", "insufficient data"])
    rules = np.array(_rule_texts(ind, min_availability_percent))
    share = ind.share_limit.share_percent if ind.share_limit is not None else np.nan
    return IndicatorEvaluation(
        standard=ind.standard,
        indicator=ind.name,
        voltage_level=ind.voltage_level,
        clause=ind.clause,
        quantity=ind.quantity,
        value_unit=ind.unit,
        basis=basis,
        limits=ind.limits_text(),
        share_limit_percent=float(share),
        min_availability_percent=min_availability_percent,
        notes=notes,
        point_ids=point_ids,
        period_start_utc=pd.DatetimeIndex(bounds[:-1].astype("datetime64[ns]")).tz_localize("UTC"),
        period_end_utc=pd.DatetimeIndex(bounds[1:].astype("datetime64[ns]")).tz_localize("UTC"),
        n_expected=n_expected,
        n_valid=n_valid,
        n_flagged=values.n_flagged,
        n_missing=exp2 - n_valid - values.n_flagged,
        availability_percent=availability,
        n1=n1,
        n2=n2,
        t1_percent=t1,
        t2_percent=t2,
        max_value=values.max_value,
        min_value=values.min_value,
        p95_value=values.p95_value,
        p05_value=values.p05_value,
        worst_value=values.worst_value,
        worst_time_utc=values.worst_time_utc,
        verdict=verdicts[code],
        rule=rules[code],
    )


def _shares(
    ind: Indicator, values: _PeriodValues, exp2: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``t1``, ``t2`` and availability [%]; NaN without valid intervals or such a limit."""
    n_valid, n1, n2 = values.n_valid, values.n1, values.n2
    with np.errstate(invalid="ignore", divide="ignore"):
        t1 = np.where(n_valid > 0, 100.0 * n1 / n_valid, np.nan)
        t2 = np.where(n_valid > 0, 100.0 * n2 / n_valid, np.nan)
        availability = np.where(exp2 > 0, 100.0 * n_valid / exp2, np.nan)
    if ind.share_limit is None:
        t1[:] = np.nan
    if ind.max_limit is None:
        t2[:] = np.nan
    return t1, t2, availability
