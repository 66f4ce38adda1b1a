"""Figures of the failing indicators other than voltage (THD, harmonics, unbalance,
flicker, frequency) in a power-quality report.

:func:`_failing_indicator_figures` gives, for one point, a figure per indicator that fails
in some week: its valid values per phase over time (as judged: frequency as its deviation
from the nominal) with the limit lines of the limit set. Long series (10-s frequency) are
drawn as the minimum and maximum of blocks so a week stays about 2,000 points a trace.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._report_figures import _HEIGHT, _WIDTH
from gridtwin.quality.assessment import Assessment, resolve_limit_set

FloatArray = npt.NDArray[np.float64]

_MAX_POINTS: Final = 2016
_COLOURS: Final = ("#2471a3", "#239b56", "#b9770e", "#7d3c98")
_LIMIT_COLOURS: Final = {"share": "#e67e22", "max": "#c0392b"}


def _failing_indicator_figures(a: Assessment, pid: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, figure) per failing non-voltage indicator of point ``pid``."""
    rows = a.table[(a.table["point_id"] == pid) & (a.table["verdict"] == "fail")]
    out = []
    for ind in dict.fromkeys(rows["indicator"]):
        if ind == "voltage_deviation":
            continue
        fig = _indicator_figure(a, pid, str(ind))
        if fig is not None:
            out.append((f"indicator-{ind}-{pid}", fig))
    return out


def _indicator_figure(a: Assessment, pid: str, ind: str) -> dict[str, Any] | None:
    """The values of one indicator of one point with its limit lines (None if unknown)."""
    measured = a.detail.loc[a.detail["indicator"] == ind, "measured"]
    lim = a.limits[a.limits["indicator"] == ind]
    if measured.empty or lim.empty or pid not in a.measurements.point_ids:
        return None
    ser = a.measurements.series.get(str(measured.iloc[0]))
    if ser is None:
        return None
    cols = np.flatnonzero(ser.point_index == a.measurements.point_ids.index(pid))
    values = ser.values[:, cols].astype(np.float64)
    values = np.where(ser.flagged[:, cols], np.nan, values)
    row = lim.iloc[0]
    unit = str(row["value_unit"])
    if ind.startswith("frequency"):
        judged = _frequency_as_judged(values, a.standard, unit)
        if judged is None:
            return None
        values = judged
    x = pd.DatetimeIndex(ser.time_utc).tz_convert(a.timezone)
    data = []
    for k, c in enumerate(cols):
        label = ser.phases[c] or ind
        for what, t, v in _thinned(x, values[:, k]):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": t,
                    "y": v,
                    "name": f"{label}{what}",
                    "line": {"color": _COLOURS[k % len(_COLOURS)], "width": 1},
                }
            )
    data += _limit_traces(row, x)
    return {
        "data": data,
        "layout": {
            "title": {"text": f"{ind} at point {pid} ({row['citation']}): failing"},
            "width": _WIDTH,
            "height": _HEIGHT,
            "xaxis": {"title": {"text": f"local time ({a.timezone})"}},
            "yaxis": {"title": {"text": f"{ind} [{unit}]"}},
            "legend": {"orientation": "h", "y": -0.25},
            "margin": {"l": 60, "r": 20, "t": 50},
        },
    }


def _frequency_as_judged(values: FloatArray, standard: str, unit: str) -> FloatArray | None:
    """10-s frequencies as deviations from the nominal (Hz, or % of the nominal)."""
    try:
        fn = resolve_limit_set(standard).nominal_frequency_hz
    except InputError:
        return None
    dev = values - fn
    return np.asarray(100.0 * dev / fn if unit == "percent" else dev, dtype=np.float64)


def _thinned(x: pd.DatetimeIndex, v: FloatArray) -> list[tuple[str, list[str], list[float | None]]]:
    """The series as one trace, or as block minimum and maximum when long."""
    if v.size <= _MAX_POINTS:
        return [("", _times(x), _nums(v))]
    block = int(np.ceil(v.size / _MAX_POINTS))
    n = v.size // block * block
    b = v[:n].reshape(-1, block)
    t = x[:n:block]
    with np.errstate(all="ignore"):
        ok = np.isfinite(b).any(axis=1)
        lo = np.where(ok, np.nanmin(np.where(np.isfinite(b), b, np.inf), axis=1), np.nan)
        hi = np.where(ok, np.nanmax(np.where(np.isfinite(b), b, -np.inf), axis=1), np.nan)
    return [(" (block minimum)", _times(t), _nums(lo)), (" (block maximum)", _times(t), _nums(hi))]


def _limit_traces(row: pd.Series, x: pd.DatetimeIndex) -> list[dict[str, Any]]:
    """Dashed horizontal lines at the limit edges over the span of ``x``."""
    if x.empty:
        return []
    ends = _times(x[[0, -1]])
    out = []
    for band, share, keys in (
        ("share", row["share_percent"], ("share_lower", "share_upper")),
        ("max", 100.0, ("max_lower", "max_upper")),
    ):
        for key in keys:
            value = float(row[key])
            if not np.isfinite(value):
                continue
            out.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": ends,
                    "y": [value, value],
                    "name": f"{float(share):g} % limit {value:g}",
                    "meta": {"limit": band, "edge": key, "value": value},
                    "line": {"color": _LIMIT_COLOURS[band], "dash": "dash", "width": 1.5},
                }
            )
    return out


def _times(x: pd.DatetimeIndex) -> list[str]:
    """Local times as text for plotly."""
    return [str(s) for s in x.strftime("%Y-%m-%d %H:%M:%S")]


def _nums(v: FloatArray) -> list[float | None]:
    """Values rounded to 4 decimals, None where not finite."""
    return [None if not np.isfinite(z) else round(float(z), 4) for z in v]
