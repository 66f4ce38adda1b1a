"""Condition-based maintenance on a twin's history: indicators, ranking, equipment trends.

The live twin writes every interval's state to the store (``twin:trafo:<i>:loading``,
``twin:line:<i>:loading``, ...). This workflow reads a window of that history for the
elements of an asset register and

- builds each element's condition indicators (:class:`gridtwin.assets.ConditionIndicators`):
  peak and mean loading, intervals above 100 %, and for a transformer the IEC 60076-7 hot
  spot, ageing rate and loss of life (:func:`gridtwin.network.ageing.simulate_thermal`
  over the loading history: cooling ``distribution_onan``, the twin's ambient; each run of
  intervals without a gap starts from its steady state);
- ranks the register's assets (:func:`gridtwin.assets.rank_assets`);
- fits the equipment trends (:mod:`gridtwin.assets.trends`): transformer hot spot (daily
  peak against 120 °C), line and transformer loading (daily peak against 100 %), and a
  generator's output against its expected curve when both are given (daily ratio
  against ``min_output_ratio``), as potential alarms when the limit is near.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridtwin.assets import AssetHealth, AssetRegister, ConditionIndicators, rank_assets
from gridtwin.assets.trends import Trend, daily_peaks, daily_ratio, fit_trend, trend_alarm

if TYPE_CHECKING:
    from gridtwin.alarms import PotentialAlarm
    from gridtwin.store import MeasurementStore

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "AssetRanking",
    "ElementTrend",
    "TrendLimits",
    "condition_indicators",
    "equipment_trends",
    "rank_from_store",
]

#: How much history the indicators read by default [days].
DEFAULT_WINDOW_DAYS = 90.0
#: The cooling mode of the hot spot (as the live twin's).
THERMAL_COOLING = "distribution_onan"
_STEP = pd.Timedelta(minutes=15)


@dataclass(frozen=True)
class TrendLimits:
    """The limits the trends are projected to and how far ahead a warning looks."""

    hot_spot_c: float = 120.0
    loading_percent: float = 100.0
    min_output_ratio: float = 0.8
    horizon_days: float = 30.0


@dataclass(frozen=True)
class AssetRanking:
    """A ranking and where its indicators came from."""

    assets: list[AssetHealth]
    as_of: dt.date
    start_utc: pd.Timestamp | None
    end_utc: pd.Timestamp | None
    register_source: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ElementTrend:
    """One element's trend and its potential alarm (None: no warning)."""

    element: str
    trend: Trend
    alarm: PotentialAlarm | None


def _point(element: str) -> str | None:
    table, index = element.split(":", 1)
    if table in ("trafo", "line"):
        return f"twin:{table}:{index}:loading"
    return None


def _loading_frame(
    store: MeasurementStore, elements: Sequence[str], lo: pd.Timestamp, hi: pd.Timestamp
) -> pd.DataFrame:
    known = {p.point_id for p in store.points()}
    points = {e: p for e in elements if (p := _point(e)) is not None and p in known}
    if not points or hi <= lo:
        return pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC"))
    frame = store.resample(list(points.values()), lo, hi, _STEP, "mean")
    frame = frame.rename(columns={p: e for e, p in points.items()})
    if "ts_utc" in frame.columns:
        frame = frame.set_index("ts_utc")
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC")
    # the window's trailing empty intervals are "not yet", not gaps
    return frame.loc[: frame.dropna(how="all").index.max()] if frame.notna().any().any() else frame


def _hot_spot(loading_percent: pd.Series, ambient_c: float) -> tuple[pd.Series, float]:
    """The IEC 60076-7 hot spot of each interval and the loss of life [h], run by run
    between gaps."""
    from gridtwin.network.ageing import simulate_thermal, thermal_parameters

    k = loading_percent / 100.0
    runs = k.notna().ne(k.notna().shift()).cumsum()
    out = pd.Series(np.nan, index=k.index)
    lol = 0.0
    params = thermal_parameters(THERMAL_COOLING)
    for _, run in k[k.notna()].groupby(runs[k.notna()]):
        res = simulate_thermal(
            run.to_numpy(np.float64)[np.newaxis, :],
            ambient_c,
            params,
            step_min=_STEP.total_seconds() / 60.0,
        )
        out.loc[run.index] = res.hot_spot_c[0]
        lol += float(res.loss_of_life_h[0])
    return out, lol


def _indicators(
    element: str, series: pd.Series, ambient_c: float
) -> tuple[ConditionIndicators, pd.Series | None]:
    s = series.dropna()
    if s.empty:
        return ConditionIndicators(), None
    over = int((s > 100.0).sum())
    days = len(s) * _STEP.total_seconds() / 86400.0
    hot: pd.Series | None = None
    extra: dict[str, float] = {}
    if element.startswith("trafo:"):
        hot, lol_h = _hot_spot(series, ambient_c)
        hours = len(s) * _STEP.total_seconds() / 3600.0
        extra = {
            "max_hot_spot_c": float(hot.max()),
            "loss_of_life_h": lol_h,
            "equivalent_ageing_rate": lol_h / hours,
        }
    ind = ConditionIndicators(
        observed_days=days,
        peak_loading_percent=float(s.max()),
        mean_loading_percent=float(s.mean()),
        overload_intervals=over,
        overload_share_percent=100.0 * over / len(s),
        **extra,
    )
    return ind, hot


def _window(
    store: MeasurementStore, end_utc: pd.Timestamp | None, window_days: float
) -> tuple[pd.Timestamp, pd.Timestamp]:
    if end_utc is None:
        latest = store.latest([p.point_id for p in store.points() if p.source == "twin"])
        end_utc = (
            pd.Timestamp(latest["ts_utc"].max()) + _STEP
            if len(latest)
            else pd.Timestamp.now(tz="UTC").floor("15min")
        )
    end = pd.Timestamp(end_utc).tz_convert("UTC").floor("15min")
    return end - pd.Timedelta(days=window_days), end


def condition_indicators(
    store: MeasurementStore,
    elements: Sequence[str],
    start_utc: pd.Timestamp,
    end_utc: pd.Timestamp,
    *,
    ambient_c: float = 20.0,
) -> tuple[dict[str, ConditionIndicators], dict[str, pd.Series]]:
    """Each element's indicators over ``[start_utc, end_utc)`` from the twin's stored
    state (elements without stored state are left out), and the transformers' hot-spot
    series (for the trends)."""
    frame = _loading_frame(store, elements, start_utc, end_utc)
    out: dict[str, ConditionIndicators] = {}
    hot: dict[str, pd.Series] = {}
    for element in frame.columns:
        ind, h = _indicators(str(element), frame[element], ambient_c)
        if ind.observed_days > 0:
            out[str(element)] = ind
        if h is not None:
            hot[str(element)] = h
    return out, hot


def rank_from_store(
    register: AssetRegister,
    store: MeasurementStore | None,
    *,
    as_of: dt.date | None = None,
    end_utc: pd.Timestamp | None = None,
    window_days: float = DEFAULT_WINDOW_DAYS,
    ambient_c: float = 20.0,
) -> AssetRanking:
    """Rank the register's assets with indicators from the twin's history in ``store``
    (the ``window_days`` up to ``end_utc``, default the newest stored state); without a
    store, from the register alone. ``as_of`` (the date the register's ages and plan are
    counted to) defaults to today (UTC)."""
    notes: list[str] = []
    indicators: dict[str, ConditionIndicators] = {}
    lo = hi = None
    if store is not None:
        lo, hi = _window(store, end_utc, window_days)
        elements = [a.element for a in register.assets]
        indicators, _ = condition_indicators(store, elements, lo, hi, ambient_c=ambient_c)
        if not indicators:
            notes.append(
                "the store holds no twin state of the register's elements in "
                f"{lo.isoformat()} .. {hi.isoformat()}: indicators from the register only"
            )
    else:
        notes.append("no store: indicators from the register only (age, failures, plan)")
    # the register's dates are the calendar's (today), whatever the timeline of the twin's
    # data (the demo replays 2016): the ranking is as of today unless told otherwise
    day = as_of or dt.datetime.now(dt.UTC).date()
    return AssetRanking(
        assets=rank_assets(register, indicators, day),
        as_of=day,
        start_utc=lo,
        end_utc=hi,
        register_source=register.source,
        notes=notes,
    )


def equipment_trends(
    store: MeasurementStore,
    elements: Sequence[str],
    *,
    end_utc: pd.Timestamp | None = None,
    window_days: float = DEFAULT_WINDOW_DAYS,
    ambient_c: float = 20.0,
    limits: TrendLimits | None = None,
    generators: Mapping[str, tuple[pd.Series, pd.Series]] | None = None,
) -> list[ElementTrend]:
    """The trends of ``elements`` over the window (see the module docstring): hot spot
    and loading daily peaks of transformers, loading daily peaks of lines, and for each
    ``generators[element] = (measured, expected)`` the daily output ratio. Warnings
    first (soonest first), then the rest by element."""
    lim = limits or TrendLimits()
    lo, hi = _window(store, end_utc, window_days)
    frame = _loading_frame(store, elements, lo, hi)
    _, hot = condition_indicators(
        store, [e for e in elements if e.startswith("trafo:")], lo, hi, ambient_c=ambient_c
    )
    horizon_s = lim.horizon_days * 86400.0
    now = hi.to_pydatetime()
    found: list[ElementTrend] = []

    def add(element: str, series: pd.Series, quantity: str, limit: float, rising: bool) -> None:
        trend = fit_trend(
            series,
            quantity=quantity,
            limit=limit,
            direction="rising" if rising else "falling",
            horizon_s=horizon_s,
        )
        if trend is not None:
            found.append(ElementTrend(element, trend, trend_alarm(trend, element, now_utc=now)))

    for element in frame.columns:
        col = frame[element]
        add(
            str(element),
            daily_peaks(col.index, col.to_numpy()),
            "loading_percent",
            lim.loading_percent,
            True,
        )
    for element, h in hot.items():
        add(element, daily_peaks(h.index, h.to_numpy()), "hot_spot_c", lim.hot_spot_c, True)
    for element, (measured, expected) in (generators or {}).items():
        both = pd.concat([measured.rename("m"), expected.rename("e")], axis=1)
        add(
            element,
            daily_ratio(both.index, both["m"], both["e"]),
            "output_ratio",
            lim.min_output_ratio,
            False,
        )
    found.sort(
        key=lambda t: (
            not t.trend.warning,
            t.trend.time_to_limit_s if t.trend.warning else 0.0,
            t.element,
            t.trend.quantity,
        )
    )
    return found
