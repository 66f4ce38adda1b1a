"""Count simulated per-unit voltages per observation week, block of steps by block.

Owns :class:`SimulatedVoltageCounter` (the streaming counter, memory ``(K weeks,
n_points)`` whatever the number of steps) and :class:`SimulatedVoltageCounts`, what it
hands to the weekly verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._counting import _extremes
from gridtwin.quality._inputs import _as_2d, _check_timezone, _point_ids, _time_axis
from gridtwin.quality._limits import Indicator, LimitSet, VoltageLevel, get_limit_set
from gridtwin.quality._periods import _periods

__all__ = ["SimulatedVoltageCounter", "SimulatedVoltageCounts", "StandardId"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

StandardId = Literal["GOST 32144-2013", "EN 50160:2010"]


@dataclass(frozen=True)
class SimulatedVoltageCounts:
    """Per observation week and point, what the supply-voltage verdict of simulated
    per-unit voltages needs: counts N, N1, N2 and the extremes with their steps.

    Built step block by step block by :class:`SimulatedVoltageCounter` (e.g. inside a
    streaming time-series power flow), so its memory is ``(K, n_points)`` for ``K`` weeks
    whatever the number of steps; judged by :func:`evaluate_voltage_counts`.

    Attributes
    ----------
    limit_set : LimitSet
        The limits counted against (indicator ``voltage_deviation``).
    voltage_level : {'LV', 'MV'}
    timezone : str
        IANA zone in which the observation weeks are aligned.
    u0_pu : float
        Reference voltage U0 in the simulation's per-unit base [p.u.].
    point_ids : tuple of str
    time_utc : pandas.DatetimeIndex, shape (T,)
        UTC start of every step counted (the time axis, for the expected intervals and
        the times of the extremes).
    period_start_utc, period_end_utc : pandas.DatetimeIndex, shape (K,)
        Observation periods (local weeks) in UTC, end exclusive.
    n_valid, n1, n2 : numpy.ndarray of int64, shape (K, n_points)
        Steps with a finite voltage (N), beyond the share band (N1), beyond the 100 % band
        (N2), by the same rule as :func:`evaluate`.
    max_deviation_percent, min_deviation_percent : numpy.ndarray, shape (K, n_points)
        Largest / smallest valid deviation ``(vm / u0 - 1) * 100`` [% of U0]; NaN when
        N = 0.
    max_step, min_step : numpy.ndarray of int64, shape (K, n_points)
        Position in ``time_utc`` of the first step with that deviation; -1 when N = 0.
    max_vm_pu, min_vm_pu : numpy.ndarray, shape (K, n_points)
        The voltage [p.u.] at those steps.
    notes : tuple of str
        Verification status of the limits, edition and week alignment.
    """

    limit_set: LimitSet
    voltage_level: str
    timezone: str
    u0_pu: float
    point_ids: tuple[str, ...]
    time_utc: pd.DatetimeIndex
    period_start_utc: pd.DatetimeIndex
    period_end_utc: pd.DatetimeIndex
    n_valid: IntArray
    n1: IntArray
    n2: IntArray
    max_deviation_percent: FloatArray
    max_step: IntArray
    max_vm_pu: FloatArray
    min_deviation_percent: FloatArray
    min_step: IntArray
    min_vm_pu: FloatArray
    notes: tuple[str, ...]

    @property
    def standard(self) -> str:
        """Limit-set id, e.g. ``'GOST 32144-2013'``."""
        return self.limit_set.id

    @property
    def indicator(self) -> Indicator:
        """The ``voltage_deviation`` indicator of :attr:`voltage_level`."""
        return self.limit_set.indicator(self.voltage_level, "voltage_deviation")


class SimulatedVoltageCounter:
    """Counts simulated per-unit voltages per observation week, block of steps by block.

    The streaming form of :func:`evaluate_voltage_pu` (which uses it on the whole array):
    the same observation weeks (local time, DST weeks of 167/169 h), the same limits and
    counting rule, memory ``(K weeks, n_points)``.

    Parameters
    ----------
    time_utc : pandas.DatetimeIndex, shape (T,)
        tz-aware UTC start of every step that will be added, strictly increasing.
    standard : str
        ``'GOST 32144-2013'`` or ``'EN 50160:2010'`` (built-in limit sets).
    voltage_level : {'LV', 'MV'}
    timezone : str
        IANA zone in which observation weeks are aligned.
    point_ids : sequence of str
        One id per column of the blocks.
    u0_pu : float
        Reference voltage U0 in the simulation's per-unit base [p.u.].
    week_start : str or pandas.Timestamp, optional
        As in :func:`evaluate`; default the limit set's.
    limit_set : LimitSet, optional
        A user-defined limit set instead of the built-in ``standard``.

    Raises
    ------
    InputError
        Unknown standard, level or zone; naive, empty or unsorted times; bad ``u0_pu``.
    """

    def __init__(
        self,
        time_utc: pd.DatetimeIndex | npt.ArrayLike,
        standard: StandardId | str = "GOST 32144-2013",
        voltage_level: VoltageLevel = "LV",
        *,
        timezone: str,
        point_ids: Sequence[str],
        u0_pu: float = 1.0,
        week_start: str | pd.Timestamp | None = None,
        limit_set: LimitSet | None = None,
    ) -> None:
        ls = limit_set if limit_set is not None else get_limit_set(standard)
        ind = ls.indicator(voltage_level, "voltage_deviation")
        _check_timezone(timezone)
        if not (np.isfinite(u0_pu) and u0_pu > 0):
            msg = f"u0_pu must be positive [p.u.], got {u0_pu}"
            raise InputError(msg)
        t_ns = _time_axis(time_utc)
        ids = tuple(str(p) for p in point_ids)
        ids = _point_ids(ids, len(ids))
        extra = (
            (f"{ind.citation}: δU(−), δU(+) estimated from simulated step voltages",)
            if ind.kind == "voltage_under_over_deviation"
            else ()
        )
        per = _periods(ls, ind, t_ns, timezone, week_start, None, extra)
        self._ls, self._ind, self._timezone = ls, ind, timezone
        self._u0 = float(u0_pu)
        self._ids = ids
        self._t_ns = t_ns
        self._bounds = per.bounds
        self._notes = per.notes
        self._period = (np.searchsorted(per.bounds, t_ns, side="right") - 1).astype(np.int64)
        self._next = 0
        shape = (len(per.bounds) - 1, len(ids))
        self._n_valid = np.zeros(shape, dtype=np.int64)
        self._n1 = np.zeros(shape, dtype=np.int64)
        self._n2 = np.zeros(shape, dtype=np.int64)
        self._max, self._min = np.full(shape, -np.inf), np.full(shape, np.inf)
        self._max_step = np.full(shape, -1, dtype=np.int64)
        self._min_step = np.full(shape, -1, dtype=np.int64)
        self._max_vm, self._min_vm = np.full(shape, np.nan), np.full(shape, np.nan)

    @property
    def n_steps(self) -> int:
        """Steps of the time axis."""
        return len(self._t_ns)

    def add(self, offset: int, vm_pu: npt.ArrayLike) -> None:
        """Count the steps ``offset .. offset + len(vm_pu) - 1``.

        Parameters
        ----------
        offset : int
            Position in ``time_utc`` of the block's first step; blocks come in time order
            and do not overlap.
        vm_pu : array_like, shape (steps, n_points)
            Voltage magnitudes [p.u.]; ``NaN`` marks a step without a result.
        """
        vm = np.asarray(vm_pu, dtype=np.float64)
        vm = _as_2d(vm, vm.shape[0] if vm.ndim else -1, "vm_pu")
        self._add(offset, vm, (vm / self._u0 - 1.0) * 100.0)

    def _add(self, offset: int, vm: FloatArray, d: FloatArray) -> None:
        """Count a block of voltages ``vm`` [p.u.] with their deviations ``d`` [% of U0]."""
        n_rows, n = d.shape
        if n != len(self._ids):
            msg = f"vm_pu has {n} columns but the counter has {len(self._ids)} points"
            raise InputError(msg)
        stop = offset + n_rows
        if offset < self._next or stop > len(self._t_ns):
            msg = (
                f"steps {offset}..{stop - 1}: blocks must follow each other in time order "
                f"within the {len(self._t_ns)} steps of time_utc (next free step {self._next})"
            )
            raise InputError(msg)
        self._next = stop
        if n_rows == 0:
            return
        valid = np.isfinite(d)
        per = self._period[offset:stop]
        cuts = np.flatnonzero(np.diff(per)) + 1
        cols = np.arange(n)
        for s, e in zip((0, *cuts.tolist()), (*cuts.tolist(), n_rows), strict=True):
            k = int(per[s])
            ext = _extremes(d[s:e], d[s:e], valid[s:e], self._ind)
            self._n_valid[k] += ext.n_valid
            self._n1[k] += ext.n1
            self._n2[k] += ext.n2
            for new, row, cur, step, at_vm in (
                (ext.max_m > self._max[k], ext.max_row, self._max, self._max_step, self._max_vm),
                (ext.min_m < self._min[k], ext.min_row, self._min, self._min_step, self._min_vm),
            ):
                j = cols[new]
                r = row[j]
                cur[k, j] = d[s + r, j]
                step[k, j] = offset + s + r
                at_vm[k, j] = vm[s + r, j]

    def counts(self) -> SimulatedVoltageCounts:
        """The counts so far (steps never added count as missing)."""
        has_max, has_min = self._max_step >= 0, self._min_step >= 0
        bounds = self._bounds.astype("datetime64[ns]")
        return SimulatedVoltageCounts(
            limit_set=self._ls,
            voltage_level=self._ind.voltage_level,
            timezone=self._timezone,
            u0_pu=self._u0,
            point_ids=self._ids,
            time_utc=pd.DatetimeIndex(
                self._t_ns.astype("datetime64[ns]"), name="time_utc"
            ).tz_localize("UTC"),
            period_start_utc=pd.DatetimeIndex(bounds[:-1]).tz_localize("UTC"),
            period_end_utc=pd.DatetimeIndex(bounds[1:]).tz_localize("UTC"),
            n_valid=self._n_valid.copy(),
            n1=self._n1.copy(),
            n2=self._n2.copy(),
            max_deviation_percent=np.where(has_max, self._max, np.nan),
            max_step=self._max_step.copy(),
            max_vm_pu=self._max_vm.copy(),
            min_deviation_percent=np.where(has_min, self._min, np.nan),
            min_step=self._min_step.copy(),
            min_vm_pu=self._min_vm.copy(),
            notes=self._notes,
        )
