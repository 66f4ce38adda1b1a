"""The line and transformer parts of :func:`gridtwin.network.checks.check`.

Lines: the loading ratio I / I_z against the cable's own rating (pandapower ``max_i_ka x
df x parallel``) or a given one (e.g. IEC 60364-5-52, :mod:`gridtwin.network.ratings`),
hours above the limit and a warning level, and the first time above the limit.
Transformers: highest loading, hours above 100 % and the IEC 60076-7 hot spot and ageing
(:mod:`gridtwin.network.ageing`); three-winding transformers get loading and hours only.
Each table comes from a full result or, with what they cannot give stated in notes,
from streamed statistics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._cable_loading import _step_hours, cable_loading_check, loading_ratio
from gridtwin.network._full_result import PowerFlowResult
from gridtwin.network._model import NetworkModel
from gridtwin.network._statistics import PowerFlowStatistics
from gridtwin.network.ageing import simulate_thermal, thermal_parameters

__all__: list[str] = []

FloatArray = npt.NDArray[np.float64]


def _line_ratings(
    model: NetworkModel, line_ids: npt.NDArray[np.int64], ratings_a: Mapping[int, float] | None
) -> tuple[FloatArray, list[str], npt.NDArray[np.bool_]]:
    """Rating [A] of each line, its source, and whether it was given (else the own)."""
    line = model.net.line.loc[line_ids]
    own = (line["max_i_ka"] * 1000.0 * line["df"] * line["parallel"]).to_numpy()
    given = ratings_a or {}
    unknown = [i for i in given if i not in line.index]
    if unknown:
        msg = f"cable ratings given for unknown line id(s) {unknown[:5]}"
        raise InputError(msg)
    rating = np.array([given.get(int(i), own[k]) for k, i in enumerate(line_ids)], dtype=float)
    is_given = np.array([int(i) in given for i in line_ids], dtype=bool)
    source = [
        "given (e.g. IEC 60364-5-52 corrected)"
        if g
        else "cable's own rating (max_i_ka x df x parallel)"
        for g in is_given
    ]
    return rating, source, is_given


def _lines(
    model: NetworkModel,
    result: PowerFlowResult,
    ratings_a: Mapping[int, float] | None,
    warn_ratio: float,
) -> pd.DataFrame:
    rating, source, _given = _line_ratings(model, result.line_ids, ratings_a)
    current = result.line_i_ka * 1000.0
    if not result.symmetric:
        current = np.nanmax(current, axis=2)
    chk = cable_loading_check(
        current.T,
        rating,
        warn_ratio,
        time_utc=result.time_utc,
        step_h=result.step_duration / pd.Timedelta(hours=1),
    )
    return pd.DataFrame(
        {
            "line": result.line_ids,
            "rating_a": rating,
            "rating_source": source,
            "max_loading_ratio": chk.max_ratio,
            "hours_above_limit": chk.hours_above_limit,
            "hours_above_warn": chk.hours_above_warn,
            "status": chk.status,
            "first_above_limit_utc": chk.first_above_limit_utc,
        }
    )


def _limit_index(limits: tuple[float, ...], percent: float) -> int | None:
    for k, lim in enumerate(limits):
        if math.isclose(lim, percent, rel_tol=1e-9):
            return k
    return None


def _lines_from_statistics(
    model: NetworkModel,
    stats: PowerFlowStatistics,
    ratings_a: Mapping[int, float] | None,
    warn_ratio: float,
) -> tuple[pd.DataFrame, list[str]]:
    """The line table from the per-line statistics (see :func:`check` for what differs)."""
    if not (isinstance(warn_ratio, (int, float)) and 0 < warn_ratio <= 1):
        msg = f"warn_ratio={warn_ratio!r} must be in (0, 1]"
        raise InputError(msg)
    rating, source, given = _line_ratings(model, stats.line_ids, ratings_a)
    hours = _step_hours(stats.n_steps, stats.time_utc, stats.step_duration / pd.Timedelta(hours=1))
    # max over steps of I / I_z = (max I) / I_z exactly (a monotone map of each value)
    max_ratio = loading_ratio(stats.line_i_max_ka * 1000.0, rating)
    status = np.where(max_ratio > 1.0, "alarm", np.where(max_ratio > warn_ratio, "warning", "ok"))
    limits = stats.spec.loading_limits_percent
    k_lim, k_warn = _limit_index(limits, 100.0), _limit_index(limits, 100.0 * warn_ratio)
    nan = np.full(len(stats.line_ids), np.nan)
    above_limit = (
        nan if k_lim is None else np.where(given, np.nan, stats.line_steps_above[k_lim] * hours)
    )
    above_warn = (
        nan if k_warn is None else np.where(given, np.nan, stats.line_steps_above[k_warn] * hours)
    )
    first_step = np.full(len(stats.line_ids), -1, dtype=np.int64)
    if k_lim is not None and stats.line_first_above_step is not None:
        first_step = np.where(given, -1, stats.line_first_above_step[k_lim])
    notes = _statistics_line_notes(stats, given, first_step, (k_lim, k_warn), warn_ratio)
    frame = pd.DataFrame(
        {
            "line": stats.line_ids,
            "rating_a": rating,
            "rating_source": source,
            "max_loading_ratio": max_ratio,
            "hours_above_limit": above_limit,
            "hours_above_warn": above_warn,
            "status": status.astype(np.str_),
            "first_above_limit_utc": pd.DatetimeIndex(stats.time_at(first_step), name=None),
        }
    )
    return frame, notes


def _statistics_line_notes(
    stats: PowerFlowStatistics,
    given: npt.NDArray[np.bool_],
    first_step: npt.NDArray[np.int64],
    limit_rows: tuple[int | None, int | None],
    warn_ratio: float,
) -> list[str]:
    """What the line table from statistics rests on, and what it lacks."""
    k_lim, k_warn = limit_rows
    notes = [
        "lines from statistics: max_loading_ratio and status from the highest current; "
        "hours above limit / warn and the first time above the limit are counted on the "
        "simulated loading_percent against StatisticsSpec.loading_limits_percent (own "
        "rating only)"
    ]
    missing = []
    if k_lim is None:
        missing.append("100 %")
    if k_warn is None:
        missing.append(f"{100.0 * warn_ratio:g} % (warn_ratio)")
    if missing:
        notes.append(
            f"lines: StatisticsSpec.loading_limits_percent lacks {' and '.join(missing)}: "
            "the matching hours (and first time above the limit) are NaN/NaT; use "
            "check_statistics_spec(model, warn_ratio=...)"
        )
    if given.any() and len(stats.line_ids):
        notes.append(
            f"lines: {int(given.sum())} line(s) with a given rating: hours above limit / warn "
            "and the first time above the limit are not available from statistics (NaN/NaT)"
        )
    if first_step.size and k_lim is not None and stats.line_first_above_step is None:
        notes.append("lines: the statistics do not keep the first step above a limit (NaT)")
    return notes


_TRAFO_COLUMNS = [
    "element",
    "trafo",
    "max_loading_percent",
    "hours_above_limit",
    "max_hot_spot_c",
    "max_hot_spot_utc",
    "loss_of_life_h",
    "equivalent_ageing_rate",
    "cooling",
    "ambient_c",
]


def _transformers(
    trafo_ids: npt.NDArray[np.int64],
    loading_percent: FloatArray | None,
    time_utc: pd.DatetimeIndex,
    ambient_c: float | FloatArray,
    cooling: str,
    hours_above_limit: FloatArray,
    max_loading_percent: FloatArray | None = None,
) -> pd.DataFrame:
    """IEC 60076-7 ageing from the loading series ``(T, n_trafo)`` [%]; without a series
    only the highest loading (``max_loading_percent``) is known and the rest is NaN."""
    if len(trafo_ids) == 0:
        return pd.DataFrame(columns=_TRAFO_COLUMNS)
    if loading_percent is None:
        ambient = np.broadcast_to(np.asarray(ambient_c, dtype=float), (len(time_utc),))
        return _loading_only_rows(
            "trafo",
            trafo_ids,
            max_loading_percent,
            hours_above_limit,
            cooling,
            float(np.mean(ambient)),
        )
    k = np.nan_to_num(loading_percent, nan=0.0).T / 100.0
    ambient = np.broadcast_to(np.asarray(ambient_c, dtype=float), (k.shape[1],))
    th = simulate_thermal(
        k, np.broadcast_to(ambient, k.shape), thermal_parameters(cooling), time_utc=time_utc
    )
    return pd.DataFrame(
        {
            "element": "trafo",
            "trafo": trafo_ids,
            "max_loading_percent": np.nanmax(loading_percent, axis=0),
            "hours_above_limit": hours_above_limit,
            "max_hot_spot_c": th.max_hot_spot_c,
            "max_hot_spot_utc": th.max_hot_spot_utc,
            "loss_of_life_h": th.loss_of_life_h,
            "equivalent_ageing_rate": th.equivalent_ageing_rate,
            "cooling": cooling,
            "ambient_c": float(np.mean(ambient)),
        }
    )


def _trafo3w_rows(
    ids: npt.NDArray[np.int64],
    max_loading_percent: FloatArray,
    hours_above_limit: FloatArray,
    ambient_c: float | FloatArray,
) -> pd.DataFrame:
    """Rows of the three-winding transformers: loading only, no IEC 60076-7 ageing."""
    if len(ids) == 0:
        return pd.DataFrame(columns=_TRAFO_COLUMNS)
    return _loading_only_rows(
        "trafo3w", ids, max_loading_percent, hours_above_limit, None, float(np.mean(ambient_c))
    )


def _loading_only_rows(
    element: str,
    ids: npt.NDArray[np.int64],
    max_loading_percent: FloatArray | None,
    hours_above_limit: FloatArray,
    cooling: str | None,
    ambient_c: float,
) -> pd.DataFrame:
    """Transformer rows with the highest loading and hours above the limit only; the
    thermal columns are NaN (no loading series, or no thermal model for the element)."""
    nan = np.full(len(ids), np.nan)
    return pd.DataFrame(
        {
            "element": element,
            "trafo": ids,
            "max_loading_percent": max_loading_percent,
            "hours_above_limit": hours_above_limit,
            "max_hot_spot_c": nan,
            "max_hot_spot_utc": pd.DatetimeIndex([pd.NaT] * len(ids), tz="UTC"),
            "loss_of_life_h": nan,
            "equivalent_ageing_rate": nan,
            "cooling": cooling,
            "ambient_c": ambient_c,
        }
    )


def _stacked(two: pd.DataFrame, three: pd.DataFrame) -> pd.DataFrame:
    """Two- then three-winding transformer rows (no concatenation with an empty frame)."""
    if not len(three):
        return two
    if not len(two):
        return three.reset_index(drop=True)
    return pd.concat([two, three], ignore_index=True)


def _hours_above_100(
    result: PowerFlowResult | PowerFlowStatistics,
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Hours above 100 % loading of each transformer and three-winding transformer."""
    step_h = _step_hours(
        result.n_steps, result.time_utc, result.step_duration / pd.Timedelta(hours=1)
    )
    if isinstance(result, PowerFlowResult):
        return (
            (result.trafo_loading_percent > 100.0).sum(axis=0) * step_h,
            (result.trafo3w_loading_percent > 100.0).sum(axis=0) * step_h,
            [],
        )
    k = _limit_index(result.spec.loading_limits_percent, 100.0)
    if k is None:
        notes = []
        if len(result.trafo_ids) or len(result.trafo3w_ids):
            notes.append(
                "transformers: StatisticsSpec.loading_limits_percent lacks 100 %: "
                "hours_above_limit is NaN; use check_statistics_spec(model)"
            )
        return (
            np.full(len(result.trafo_ids), np.nan),
            np.full(len(result.trafo3w_ids), np.nan),
            notes,
        )
    return (
        result.trafo_steps_above[k] * step_h,
        result.trafo3w_steps_above[k] * step_h,
        [],
    )


@dataclass(frozen=True)
class _LoadingOptions:
    """The line and transformer options of :func:`gridtwin.network.checks.check`."""

    cable_ratings_a: Mapping[int, float] | None
    warn_ratio: float
    ambient_c: float | FloatArray
    cooling: str


def _loading_tables(
    model: NetworkModel,
    result: PowerFlowResult | PowerFlowStatistics,
    options: _LoadingOptions,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The line table, the transformer table (two- then three-winding) and their notes."""
    ambient_c, cooling = options.ambient_c, options.cooling
    notes: list[str] = []
    hours_2w, hours_3w, hour_notes = _hours_above_100(result)
    if isinstance(result, PowerFlowStatistics):
        lines, line_notes = _lines_from_statistics(
            model, result, options.cable_ratings_a, options.warn_ratio
        )
        notes += line_notes
        trafos = _transformers(
            result.trafo_ids,
            result.trafo_loading_percent,
            result.time_utc,
            ambient_c,
            cooling,
            hours_2w,
            max_loading_percent=result.trafo_loading_max_percent,
        )
        t3_max = result.trafo3w_loading_max_percent
        if result.trafo_loading_percent is None and len(result.trafo_ids):
            notes.append(
                "transformers: the statistics keep no loading series "
                "(StatisticsSpec.trafo_series=False): only the highest loading; hot spot "
                "and ageing are NaN"
            )
    else:
        lines = _lines(model, result, options.cable_ratings_a, options.warn_ratio)
        trafos = _transformers(
            result.trafo_ids,
            result.trafo_loading_percent,
            result.time_utc,
            ambient_c,
            cooling,
            hours_2w,
        )
        t3_max = np.fmax.reduce(result.trafo3w_loading_percent, axis=0)  # NaN: never loaded
    trafos = _stacked(trafos, _trafo3w_rows(result.trafo3w_ids, t3_max, hours_3w, ambient_c))
    notes += hour_notes
    if len(result.trafo3w_ids):
        notes.append(
            "transformers: three-winding transformers (element 'trafo3w'): highest loading "
            "and hours above 100 % only; IEC 60076-7 hot spot and ageing are computed for "
            "two-winding transformers only (NaN)"
        )
    notes.append(
        f"transformers: IEC 60076-7 {cooling}, ambient {np.mean(ambient_c):.1f} °C, "
        "load factor = simulated loading / 100"
    )
    return lines, trafos, notes
