"""Per-element statistics of a power-flow run and what they count.

:class:`StatisticsSpec` (with its optional :class:`VoltageCheckSpec`) says which voltage
bands, loading limits and customer-voltage counts to keep; :class:`PowerFlowStatistics`
holds them, one entry per element whatever the number of steps, with tables per bus,
line and transformer and the same :class:`PowerFlowSummary` as a full result. They are
built chunk by chunk by :class:`gridtwin.network._accumulator.StatisticsAccumulator`.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._result_layout import (
    BoolArray,
    FloatArray,
    IntArray,
    _no_counts,
    _no_floats,
    _no_ids,
)
from gridtwin.network._summary import _NAN, PowerFlowSummary, _Extreme, _make_summary
from gridtwin.quality import SimulatedVoltageCounts, VoltageLevel, builtin_limit_set_ids

__all__ = ["PowerFlowStatistics", "StatisticsSpec", "VoltageCheckSpec"]


class _StatisticsSource(Protocol):
    """What :meth:`PowerFlowStatistics.from_result` needs of a result: a
    :class:`~gridtwin.network.PowerFlowResult` (named here without importing it, which
    imports this module)."""

    def statistics(self, spec: StatisticsSpec | None = None) -> PowerFlowStatistics:
        """The per-element statistics of the result."""
        ...


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

    Returned by ``simulate(..., keep=KeepSummary())`` (and by
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
    gen_ids: IntArray | None = None
    gen_q_mvar: FloatArray | None = None
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
        cls, result: _StatisticsSource, spec: StatisticsSpec | None = None
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

    def _pick(self, values: FloatArray, steps: IntArray, ids: IntArray, use_max: bool) -> _Extreme:
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
        """Hours of ``steps`` steps of :attr:`step_duration`."""
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
