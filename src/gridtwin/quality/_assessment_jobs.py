"""The evaluations an assessment runs: one job per measured quantity and limit.

:func:`_jobs` decides which measured quantities are evaluated against which indicator of
the limit set (δU(−) and δU(+) together, the r.m.s. voltage only where the standard judges
it) and notes the others; :func:`_run_job` evaluates a job with
:func:`gridtwin.quality.evaluate`, per reference voltage and in blocks of columns
(:func:`_chunked`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._assessment_tables import _ORDER
from gridtwin.quality._channels import LINE_PHASES, QUANTITIES
from gridtwin.quality._limits import Indicator, LimitSet, VoltageLevel
from gridtwin.quality._measured import evaluate
from gridtwin.quality._measurement_set import MeasurementSet
from gridtwin.quality._series import IndicatorSeries
from gridtwin.quality._under_over import UnderOverDeviation
from gridtwin.quality._verdict import IndicatorEvaluation
from gridtwin.timeseries import utc_ns

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class _Job:
    """One evaluation: a measured quantity against an indicator of the limit set."""

    indicator: Indicator
    measured: str
    series: IndicatorSeries
    other: IndicatorSeries | None = None  # δU(+) with ``series`` = δU(−)


def _jobs(
    ms: MeasurementSet, ls: LimitSet, level: str, isolated: bool, wanted: Sequence[str] | None
) -> tuple[list[_Job], list[str]]:
    """The evaluations to run, and notes on the measured quantities not evaluated."""
    notes: list[str] = []
    jobs: list[_Job] = []
    names = set(ls.indicator_names(level))
    _check_wanted(wanted, names, ls, level)
    has_dev = {"voltage_under_deviation", "voltage_over_deviation"} <= set(ms.series)
    for name, ser in ms.series.items():
        target = QUANTITIES[name].indicator
        if name == "frequency" and isolated:
            target = "frequency_deviation_isolated"
        if wanted is not None and target not in wanted:
            continue
        if target not in names:
            notes.append(f"{name}: not evaluated, {ls.id} has no {target} limit at {level}")
            continue
        ind = ls.indicator(level, target)
        if name in ("voltage_under_deviation", "voltage_over_deviation"):
            if ind.kind != "voltage_under_over_deviation":
                notes.append(
                    f"{name}: not evaluated, {ls.id} judges the 10-min r.m.s. "
                    "voltage, not δU(−)/δU(+)"
                )
                continue
            if not has_dev:
                notes.append(f"{name}: not evaluated, δU(−) and δU(+) are needed together")
                continue
            if name == "voltage_under_deviation":
                jobs.append(
                    _Job(
                        ind,
                        "voltage_under_over_deviation",
                        ser,
                        ms.series["voltage_over_deviation"],
                    )
                )
            continue
        if name == "voltage" and has_dev and ind.kind == "voltage_under_over_deviation":
            notes.append(
                "voltage: judged on the measured δU(−), δU(+) (IEC 61000-4-30 5.12); "
                "the 10-min r.m.s. voltages are shown, not counted"
            )
            continue
        jobs.append(_Job(ind, name, ser))
    return jobs, notes


def _check_wanted(wanted: Sequence[str] | None, names: set[str], ls: LimitSet, level: str) -> None:
    """Every indicator asked for is one of the limit set's at ``level``."""
    if wanted is not None:
        unknown = sorted(set(wanted) - names)
        if unknown:
            msg = (
                f"{ls.id} {level}: unknown indicator(s) {unknown}; available: "
                f"{', '.join(sorted(names, key=lambda x: _ORDER.get(x, 999)))}"
            )
            raise InputError(msg)


def _align(
    a: IndicatorSeries, b: IndicatorSeries
) -> tuple[pd.DatetimeIndex, IntArray, tuple[str, ...], FloatArray, FloatArray, BoolArray]:
    """Put two series on the union of their times and (point, phase) columns."""
    ta, tb = utc_ns(a.time_utc), utc_ns(b.time_utc)
    t = np.union1d(ta, tb)
    keys = sorted(
        {
            *zip(a.point_index.tolist(), a.phases, strict=True),
            *zip(b.point_index.tolist(), b.phases, strict=True),
        }
    )
    col = {k: i for i, k in enumerate(keys)}
    out = []
    fl = np.zeros((len(t), len(keys)), dtype=bool)
    for s, ts in ((a, ta), (b, tb)):
        m = np.full((len(t), len(keys)), np.nan)
        rows = np.searchsorted(t, ts)
        cols = np.array(
            [col[k] for k in zip(s.point_index.tolist(), s.phases, strict=True)], dtype=np.int64
        )
        m[np.ix_(rows, cols)] = s.values
        fl[np.ix_(rows, cols)] |= s.flagged
        out.append(m)
    idx = pd.DatetimeIndex(t.astype("datetime64[ns]")).tz_localize("UTC")
    return (
        idx,
        np.array([k[0] for k in keys], dtype=np.int64),
        tuple(k[1] for k in keys),
        out[0],
        out[1],
        fl,
    )


@dataclass(frozen=True)
class _RunSettings:
    """What every evaluation of one assessment shares."""

    ls: LimitSet
    level: VoltageLevel
    timezone: str
    week_start: str | pd.Timestamp | None
    min_av: float | None
    u0: float | None  # U0 of phase-to-neutral channels [V]
    u0_line: float | None  # U0 of line-to-line channels [V]

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`evaluate` common to every block."""
        return {
            "timezone": self.timezone,
            "voltage_level": self.level,
            "week_start": self.week_start,
            "min_availability_percent": self.min_av,
        }


def _run_job(
    job: _Job, run: _RunSettings
) -> list[tuple[IndicatorEvaluation, tuple[IntArray, tuple[str, ...]]]]:
    """Evaluate one job; voltages once per reference voltage (phase and line channels)."""
    ser = job.series
    if job.other is not None:
        t, pidx, phases, under, over, fl = _align(ser, job.other)
        ev = _chunked(UnderOverDeviation(under, over), fl, t, job.indicator.name, None, run)
        return [(ev, (pidx, phases))]
    if job.measured != "voltage":
        ev = _chunked(ser.values, ser.flagged, ser.time_utc, job.indicator.name, None, run)
        return [(ev, (ser.point_index, ser.phases))]
    out = []
    line = np.array([p in LINE_PHASES for p in ser.phases], dtype=bool)
    for mask, ref in ((~line, run.u0), (line, run.u0_line)):
        cols = np.flatnonzero(mask)
        if not cols.size:
            continue
        whole = cols.size == ser.n_columns
        ev = _chunked(
            ser.values if whole else ser.values[:, cols],
            ser.flagged if whole else ser.flagged[:, cols],
            ser.time_utc,
            job.indicator.name,
            ref,
            run,
        )
        out.append((ev, (ser.point_index[cols], tuple(ser.phases[c] for c in cols))))
    return out


_CHUNK_COLUMNS: Final = 2048
#: Per-column arrays of an :class:`IndicatorEvaluation`, joined across blocks.
_JOINED_FIELDS: Final = (
    "n_valid",
    "n_flagged",
    "n_missing",
    "availability_percent",
    "n1",
    "n2",
    "t1_percent",
    "t2_percent",
    "max_value",
    "min_value",
    "p95_value",
    "p05_value",
    "worst_value",
    "worst_time_utc",
    "verdict",
    "rule",
)


def _chunked(
    values: FloatArray | UnderOverDeviation,
    flagged: BoolArray,
    time_utc: pd.DatetimeIndex,
    name: str,
    nominal: float | None,
    run: _RunSettings,
) -> IndicatorEvaluation:
    """:func:`evaluate` in blocks of columns (cache-friendly), joined into one result.

    Units were checked by :func:`normalise_voltage_units`, so ``check_units`` is off.
    """
    n = flagged.shape[1]
    kw = run.kwargs()

    def block(s: int) -> FloatArray | UnderOverDeviation:
        if isinstance(values, UnderOverDeviation):
            return UnderOverDeviation(
                values.under_percent[:, s : s + _CHUNK_COLUMNS],
                values.over_percent[:, s : s + _CHUNK_COLUMNS],
            )
        return values[:, s : s + _CHUNK_COLUMNS]

    parts = [
        evaluate(
            block(s),
            time_utc,
            name,
            run.ls,
            flags=flagged[:, s : s + _CHUNK_COLUMNS],
            nominal_v=nominal,
            point_ids=[str(i) for i in range(s, min(n, s + _CHUNK_COLUMNS))],
            check_units=name != "voltage_deviation",
            **kw,
        )
        for s in range(0, n, _CHUNK_COLUMNS)
    ]
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    joined: dict[str, Any] = {
        f: np.concatenate([getattr(p, f) for p in parts], axis=1) for f in _JOINED_FIELDS
    }
    return replace(first, point_ids=tuple(p for part in parts for p in part.point_ids), **joined)
