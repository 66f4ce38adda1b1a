"""Evaluate power-quality indicators per observation week against a limit set.

One core evaluation serves two callers:

- :func:`evaluate` — measured aggregates (10-s frequency, 10-min voltage, THD, unbalance,
  Pst; 2-h Plt) on the IEC 61000-4-30 UTC grid, with IEC 61000-4-30 flags;
- :func:`evaluate_voltage_pu` — simulated per-unit voltages of the network twin at any
  regular step (e.g. 15-min power-flow steps).

Counting rule (vendor counter definitions of the EN 50160 weekly evaluation, applied to
GOST 32144-2013 too). For each point and observation period:

- ``N``  = valid intervals: a value is present, finite and not flagged;
- ``N1`` = valid intervals outside the *share* band (e.g. the 95 % band);
- ``N2`` = valid intervals outside the 100 % band;
- the period passes when ``N2 = 0`` and ``N1 / N <= 1 - share`` (e.g. 5 %).

A value exactly at a limit is inside; a value within a relative 1e-9 of a limit counts as
at the limit, so that floating-point round-off in ``(U - U0) / U0 * 100`` never decides a
verdict.

Flags (IEC 61000-4-30 flagging concept): an interval overlapping a dip, swell or
interruption is flagged; it is counted in ``n_flagged`` and excluded from ``N``, ``N1``,
``N2`` and the statistics, so that one event is judged once, as an event.

Gaps: intervals absent from ``time_utc`` or given as ``NaN`` are missing; they are never
interpolated. ``availability_percent = 100 * N / N_expected``, where ``N_expected`` is the
number of grid intervals whose start lies in the period (1008 ten-minute intervals in a
168-h week, 1002 in a 167-h week and 1014 in a 169-h week). A period whose availability
is below ``min_availability_percent`` (default 90 %, from the limit set) gets the verdict
``'insufficient data'``. Neither GOST 32144-2013, EN 50160:2010 nor IEC 61000-4-30 fixes a
minimum; with 90 % the missing part (at most 10 %, 100 ten-minute intervals) is still only
about twice the 5 % allowance, while a verdict on, say, half a week would say little about
the other half. The threshold is a parameter.

Observation weeks are aligned in local time (``timezone``), by default on Monday 00:00
(the limit set's ``week_start``; the standards, in the sources available, fix no
weekday), so a week can last 167 or 169 hours across a DST change. An interval belongs
to the period in which it *starts*. The EN 50160 interconnected-system frequency rule is
counted over a local calendar year.

The 95th percentile (``p95_value``) and 5th percentile (``p05_value``) are reported for
information only; the verdict is decided by counts. They use linear interpolation between
order statistics (Hyndman & Fan type 7, numpy's default ``'linear'``): with the ``N``
valid values sorted, ``x_(h)`` at ``h = (N - 1) q`` (0-based), interpolated linearly.

Where the parts live (this module re-exports them):

- :mod:`~gridtwin.quality._under_over` — δU(−), δU(+) from 10/12-cycle values;
- :mod:`~gridtwin.quality._unit_inference` — the unit of voltage values;
- :mod:`~gridtwin.quality._inputs` — checks of times, grids, arrays, flags and ids;
- :mod:`~gridtwin.quality._periods` — observation weeks/years and expected intervals;
- :mod:`~gridtwin.quality._counting` — N, N1, N2, extremes and percentiles of a block;
- :mod:`~gridtwin.quality._verdict` — :class:`IndicatorEvaluation` and the verdict rule;
- :mod:`~gridtwin.quality._prepare` — measured values to the compared quantity;
- :mod:`~gridtwin.quality._measured` — :func:`evaluate` of measured aggregates;
- :mod:`~gridtwin.quality._sim_counter` — :class:`SimulatedVoltageCounter` (streaming);
- :mod:`~gridtwin.quality._simulated` — :func:`evaluate_voltage_pu`,
  :func:`evaluate_voltage_counts`.
"""

from __future__ import annotations

from gridtwin.quality._measured import evaluate
from gridtwin.quality._sim_counter import SimulatedVoltageCounter, SimulatedVoltageCounts
from gridtwin.quality._simulated import (
    SimulatedVoltageEvaluation,
    evaluate_voltage_counts,
    evaluate_voltage_pu,
)
from gridtwin.quality._under_over import UnderOverDeviation, under_over_deviation
from gridtwin.quality._unit_inference import VoltageUnit, infer_voltage_unit
from gridtwin.quality._verdict import IndicatorEvaluation, Verdict

__all__ = [
    "IndicatorEvaluation",
    "SimulatedVoltageCounter",
    "SimulatedVoltageCounts",
    "SimulatedVoltageEvaluation",
    "UnderOverDeviation",
    "Verdict",
    "VoltageUnit",
    "evaluate",
    "evaluate_voltage_counts",
    "evaluate_voltage_pu",
    "infer_voltage_unit",
    "under_over_deviation",
]
