"""Supply-voltage check of simulated per-unit voltages of the network twin.

Owns :func:`evaluate_voltage_pu` (a whole array of steps), :func:`evaluate_voltage_counts`
(counts accumulated while streaming) and their result
:class:`SimulatedVoltageEvaluation`: the weekly verdicts of the core evaluation plus a
summary over the whole horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._counting import _quantiles, _worst_is_min
from gridtwin.quality._inputs import _as_2d, _check_grid, _check_timezone, _point_ids, _time_axis
from gridtwin.quality._limits import Indicator, LimitSet, VoltageLevel, get_limit_set
from gridtwin.quality._periods import _min_availability, _n_expected
from gridtwin.quality._sim_counter import (
    SimulatedVoltageCounter,
    SimulatedVoltageCounts,
    StandardId,
)
from gridtwin.quality._unit_inference import _robust_median, _scale_class
from gridtwin.quality._verdict import IndicatorEvaluation, _indicator_evaluation, _PeriodValues
from gridtwin.timeseries import utc_ns

__all__ = ["SimulatedVoltageEvaluation", "evaluate_voltage_counts", "evaluate_voltage_pu"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
TimeArray = npt.NDArray[np.datetime64]

_NS = 1_000_000_000


@dataclass(frozen=True)
class SimulatedVoltageEvaluation:
    """Supply-voltage check of simulated per-unit voltages (network twin).

    Attributes
    ----------
    weekly : IndicatorEvaluation
        The standard's voltage rule per observation week, counted over simulation steps.
    basis : str
        States that the intervals are simulation steps, not IEC 61000-4-30 10-min
        aggregates.
    step_s : float
        Simulation step [s].
    u0_pu : float
        Reference voltage U0 in the simulation's per-unit base.
    band_share_percent : float
        Share of the band below (e.g. 95 for EN 50160 LV, 100 for GOST 32144).
    band_lower_pu, band_upper_pu : float
        The standard's narrowest voltage band [p.u.]; ``NaN`` if unbounded.
    point_ids : tuple of str
    n_steps_valid : numpy.ndarray of int, shape (n_points,)
        Finite voltage values over the whole horizon.
    share_out_of_band_percent : numpy.ndarray, shape (n_points,)
        Share of the valid steps (= of the simulated time) outside the band [%].
    worst_vm_pu : numpy.ndarray, shape (n_points,)
        Voltage of the step farthest beyond (or closest to) the band [p.u.].
    worst_time_utc : numpy.ndarray of datetime64[ns], shape (n_points,)
        Start (UTC) of that step; ``NaT`` if no valid step.
    notes : tuple of str
    """

    weekly: IndicatorEvaluation
    basis: str
    step_s: float
    u0_pu: float
    band_share_percent: float
    band_lower_pu: float
    band_upper_pu: float
    point_ids: tuple[str, ...]
    n_steps_valid: IntArray
    share_out_of_band_percent: FloatArray
    worst_vm_pu: FloatArray
    worst_time_utc: TimeArray
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per point over the whole horizon (see :attr:`weekly` for weeks)."""
        return pd.DataFrame(
            {
                "point_id": list(self.point_ids),
                "n_steps_valid": self.n_steps_valid,
                "band_lower_pu": self.band_lower_pu,
                "band_upper_pu": self.band_upper_pu,
                "share_out_of_band_percent": self.share_out_of_band_percent,
                "worst_vm_pu": self.worst_vm_pu,
                "worst_time_utc": pd.DatetimeIndex(self.worst_time_utc).tz_localize("UTC"),
            }
        )


def _check_pu_scale(vm: FloatArray, u0_pu: float) -> None:
    """Refuse per-unit voltages whose median looks like percent, volts or kV."""
    med = _robust_median(vm)
    if med is None:
        return
    unit = _scale_class(med, u0_pu)
    if unit == "V":
        return
    fix = {"percent": "the values look like percent: divide them by 100"}.get(
        unit, "the values look like volts or kV: divide them by the base voltage"
    )
    msg = (
        f"vm_pu should be per-unit voltages near {u0_pu:g} but the median is {med:g}: "
        f"{fix}. Pass check_units=False to skip this check."
    )
    raise InputError(msg)


def evaluate_voltage_counts(
    counts: SimulatedVoltageCounts,
    *,
    step: str | pd.Timedelta | None = None,
    min_availability_percent: float | None = None,
) -> SimulatedVoltageEvaluation:
    """Weekly verdicts and horizon summary of simulated voltages from their counts.

    The count-to-verdict rule of :func:`evaluate_voltage_pu` (which calls the same code),
    for counts accumulated while streaming; gives the same verdicts, counts, shares,
    worst values and times. Only the weekly 95th / 5th percentiles, which need every
    value, are NaN (a note says so).

    Parameters
    ----------
    counts : SimulatedVoltageCounts
        From :meth:`SimulatedVoltageCounter.counts`.
    step : str or pandas.Timedelta, optional
        Simulation step; default the smallest spacing of ``counts.time_utc``.
    min_availability_percent : float, optional
        Minimum ``100 * N / N_expected`` for a verdict [%]; default the limit set's.

    Returns
    -------
    SimulatedVoltageEvaluation

    Raises
    ------
    InputError
        Bad availability threshold or step.
    DataQualityError
        Steps off the regular simulation grid.
    """
    t_ns = utc_ns(counts.time_utc)
    step_ns = _simulation_step(step, t_ns)
    _check_sim_grid(t_ns, step_ns)
    min_av = _min_availability(counts.limit_set, min_availability_percent)
    note = (
        "weekly p95/p05 values are not available from step counts (NaN); verdicts, "
        "shares and worst values are exact"
    )
    return _evaluate_counts(counts, t_ns, step_ns, min_av, None, (note,))


def _check_sim_grid(t_ns: IntArray, step_ns: int) -> None:
    """Raise unless the steps lie on a regular grid from the first one."""
    _check_grid(
        t_ns,
        step_ns,
        int(t_ns[0]),
        f"{pd.Timedelta(step_ns)} simulation",
        "simulation steps must be regular (a missing step may be left out or NaN)",
    )


def _evaluate_counts(
    counts: SimulatedVoltageCounts,
    t_ns: IntArray,
    step_ns: int,
    min_availability_percent: float,
    quantiles: tuple[FloatArray, FloatArray] | None,
    extra_notes: tuple[str, ...],
) -> SimulatedVoltageEvaluation:
    """Weekly evaluation and horizon summary from counts (both entry points)."""
    ind = counts.indicator
    bounds = _bounds_of(counts)
    shape = counts.n_valid.shape
    max_v, min_v = counts.max_deviation_percent, counts.min_deviation_percent
    pick_lo = _worst_is_min(max_v, min_v, ind)
    p95, p05 = quantiles if quantiles is not None else (np.full(shape, np.nan),) * 2
    basis = (
        f"simulation steps of {pd.Timedelta(step_ns)} (power-flow snapshots), not "
        "IEC 61000-4-30 10-min aggregates; counts and shares are over steps"
    )
    weekly = _indicator_evaluation(
        ind,
        bounds,
        _n_expected(bounds, int(t_ns[0]), step_ns),
        _PeriodValues(
            n_valid=counts.n_valid,
            n_flagged=np.zeros(shape, dtype=np.int64),
            n1=counts.n1,
            n2=counts.n2,
            max_value=max_v,
            min_value=min_v,
            p95_value=p95,
            p05_value=p05,
            worst_value=np.where(pick_lo, min_v, max_v),
            worst_time_utc=_step_times(t_ns, np.where(pick_lo, counts.min_step, counts.max_step)),
        ),
        min_availability_percent=min_availability_percent,
        basis=basis,
        point_ids=counts.point_ids,
        notes=(*counts.notes, *extra_notes),
    )
    return _horizon_summary(weekly, counts, ind, step_ns, t_ns)


def _bounds_of(counts: SimulatedVoltageCounts) -> IntArray:
    """Period boundaries [ns UTC] of counts: every start and the last end."""
    return np.concatenate([utc_ns(counts.period_start_utc), utc_ns(counts.period_end_utc[-1:])])


def _step_times(t_ns: IntArray, steps: IntArray) -> TimeArray:
    """Start (UTC) of each step position; ``NaT`` where the position is -1."""
    out = np.full(steps.shape, np.datetime64("NaT", "ns"))
    ok = steps >= 0
    out[ok] = t_ns[steps[ok]].astype("datetime64[ns]")
    return out


def _horizon_summary(
    weekly: IndicatorEvaluation,
    counts: SimulatedVoltageCounts,
    ind: Indicator,
    step_ns: int,
    t_ns: IntArray,
) -> SimulatedVoltageEvaluation:
    """Share out of the narrowest band and the worst step over the whole horizon, from
    the weekly counts (the weeks partition the steps; ties go to the earliest step)."""
    n_valid = counts.n_valid.sum(axis=0)
    n_out = (counts.n1 if ind.share_limit is not None else counts.n2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_valid > 0, 100.0 * n_out / n_valid, np.nan)
    cols = np.arange(n_valid.shape[0])
    k_hi = np.where(counts.max_step >= 0, counts.max_deviation_percent, -np.inf).argmax(axis=0)
    k_lo = np.where(counts.min_step >= 0, counts.min_deviation_percent, np.inf).argmin(axis=0)
    max_v = counts.max_deviation_percent[k_hi, cols]
    min_v = counts.min_deviation_percent[k_lo, cols]
    pick_lo = _worst_is_min(max_v, min_v, ind)
    worst_step = np.where(pick_lo, counts.min_step[k_lo, cols], counts.max_step[k_hi, cols])
    worst_vm = np.where(pick_lo, counts.min_vm_pu[k_lo, cols], counts.max_vm_pu[k_hi, cols])
    u0_pu = counts.u0_pu
    band = ind.narrowest_limit
    return SimulatedVoltageEvaluation(
        weekly=weekly,
        basis=weekly.basis,
        step_s=step_ns / _NS,
        u0_pu=float(u0_pu),
        band_share_percent=band.share_percent,
        band_lower_pu=np.nan if band.lower is None else u0_pu * (1 + band.lower / 100),
        band_upper_pu=np.nan if band.upper is None else u0_pu * (1 + band.upper / 100),
        point_ids=weekly.point_ids,
        n_steps_valid=n_valid,
        share_out_of_band_percent=share,
        worst_vm_pu=np.where(worst_step >= 0, worst_vm, np.nan),
        worst_time_utc=_step_times(t_ns, worst_step),
        notes=weekly.notes,
    )


def evaluate_voltage_pu(
    vm_pu: npt.ArrayLike,
    time_utc: pd.DatetimeIndex | npt.ArrayLike,
    standard: StandardId | str = "GOST 32144-2013",
    voltage_level: VoltageLevel = "LV",
    *,
    timezone: str,
    point_ids: Sequence[str] | None = None,
    step: str | pd.Timedelta | None = None,
    u0_pu: float = 1.0,
    week_start: str | pd.Timestamp | None = None,
    min_availability_percent: float | None = None,
    limit_set: LimitSet | None = None,
    check_units: bool = True,
) -> SimulatedVoltageEvaluation:
    """Check simulated per-unit voltages against a standard's supply-voltage rule.

    Uses the same limits (indicator ``voltage_deviation``) and the same core evaluation as
    :func:`evaluate`, with simulation steps in place of 10-min aggregates. The steps are
    counted by :class:`SimulatedVoltageCounter` and judged by the code of
    :func:`evaluate_voltage_counts`, so a streamed count gives the same result.

    Parameters
    ----------
    vm_pu : array_like, shape (T, n_points)
        Voltage magnitudes [p.u.] per step (e.g. pandapower ``res_bus.vm_pu``); ``NaN``
        marks a step without a result (gap).
    time_utc : pandas.DatetimeIndex, shape (T,)
        tz-aware step starts (UTC) on a regular grid (gaps allowed).
    standard : str
        ``'GOST 32144-2013'`` or ``'EN 50160:2010'`` (built-in limit sets).
    voltage_level : {'LV', 'MV'}
    timezone : str
        IANA zone in which observation weeks are aligned.
    point_ids : sequence of str, optional
    step : str or pandas.Timedelta, optional
        Simulation step; default the smallest spacing of ``time_utc``.
    u0_pu : float
        The reference voltage U0 expressed in the simulation's per-unit base [p.u.], e.g.
        380 / 400 = 0.95 when the network's LV base is 0.4 kV and U0 is 380 V.
    week_start, min_availability_percent
        As in :func:`evaluate`.
    limit_set : LimitSet, optional
        A user-defined limit set to use instead of the built-in ``standard``.
    check_units : bool
        Refuse values that look like percent or volts.

    Returns
    -------
    SimulatedVoltageEvaluation

    Notes
    -----
    The deviation is ``(vm_pu / u0_pu - 1) * 100`` [% of U0]. A simulated step is a
    snapshot, not a 10-min aggregate of 10/12-cycle values (IEC 61000-4-30), so the
    GOST 32144-2013 δU(−), δU(+) are estimated from it; ``basis`` says so.
    """
    ls = limit_set if limit_set is not None else get_limit_set(standard)
    ls.indicator(voltage_level, "voltage_deviation")
    _check_timezone(timezone)
    if not u0_pu > 0:
        msg = f"u0_pu must be positive [p.u.], got {u0_pu}"
        raise InputError(msg)
    t_ns = _time_axis(time_utc)
    step_ns = _simulation_step(step, t_ns)
    _check_sim_grid(t_ns, step_ns)
    if point_ids is None and isinstance(vm_pu, pd.DataFrame):
        point_ids = [str(c) for c in vm_pu.columns]
    vm = _as_2d(vm_pu, len(t_ns), "vm_pu")
    if check_units:
        _check_pu_scale(vm, u0_pu)
    min_av = _min_availability(ls, min_availability_percent)
    d = (vm / u0_pu - 1.0) * 100.0
    counter = SimulatedVoltageCounter(
        time_utc,
        voltage_level=voltage_level,
        timezone=timezone,
        point_ids=_point_ids(point_ids, d.shape[1]),
        u0_pu=u0_pu,
        week_start=week_start,
        limit_set=ls,
    )
    counter._add(0, vm, d)
    counts = counter.counts()
    quantiles = _period_quantiles(d, t_ns, _bounds_of(counts), counts.n_valid)
    return _evaluate_counts(counts, t_ns, step_ns, min_av, quantiles, ())


def _period_quantiles(
    d: FloatArray, t_ns: IntArray, bounds: IntArray, n_valid: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Weekly 95th and 5th percentiles of the deviations (information only).

    They need every value, so they come from the whole array, period by period.
    """
    starts = np.searchsorted(t_ns, bounds[:-1], side="left")
    ends = np.searchsorted(t_ns, bounds[1:], side="left")
    p95, p05 = np.full(n_valid.shape, np.nan), np.full(n_valid.shape, np.nan)
    for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        if e > s:
            block = d[s:e]
            p95[k], p05[k] = _quantiles(block, np.isfinite(block), n_valid[k], (0.95, 0.05))
    return p95, p05


def _simulation_step(step: str | pd.Timedelta | None, t_ns: IntArray) -> int:
    """The simulation step [ns]: given, or the smallest spacing of the steps."""
    if step is not None:
        step_ns = int(pd.Timedelta(step).value)
    elif len(t_ns) >= 2:
        step_ns = int(np.diff(t_ns).min())
    else:
        msg = "a single timestamp does not define the simulation step: pass step='15min'"
        raise InputError(msg)
    if step_ns <= 0:
        msg = f"step must be positive, got {pd.Timedelta(step_ns)}"
        raise InputError(msg)
    return step_ns
