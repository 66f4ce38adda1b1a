"""Accumulating :class:`PowerFlowStatistics` from consecutive blocks of steps (streaming).

:class:`StatisticsAccumulator` folds each chunk of a time-series power flow into running
extremes (with the step they occurred), counts above limits and outside voltage bands,
the per-step network series and, with :attr:`StatisticsSpec.voltage_check`, the weekly
customer-voltage counters; :meth:`StatisticsAccumulator.finish` returns the statistics.
Its memory does not grow with ``T x n``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._result_layout import (
    BoolArray,
    ChunkArrays,
    FloatArray,
    IntArray,
    _complete_ids,
)
from gridtwin.network._statistics import PowerFlowStatistics, StatisticsSpec
from gridtwin.quality import SimulatedVoltageCounter

__all__ = ["StatisticsAccumulator"]


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
