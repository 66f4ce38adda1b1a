"""The figures of a power-quality report, as plotly JSON (no plotly import needed).

Data for the figures (:func:`_voltage_columns`, :func:`_bands_v`, :func:`_valid_values`,
:func:`_hourly_envelope`) and the figures themselves: the voltage band envelope
(:func:`_envelope_figure`) and the histogram of 10-min voltages (:func:`_histogram_figure`),
both with the limit bands in V. Flagged intervals are left out, as in the evaluation.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.quality._channels import LINE_PHASES
from gridtwin.quality._series import IndicatorSeries
from gridtwin.quality.assessment import Assessment
from gridtwin.timeseries import utc_ns

FloatArray = npt.NDArray[np.float64]

_NS_HOUR: Final = 3600 * 1_000_000_000
_WIDTH: Final = 760
_HEIGHT: Final = 340
_BAND_COLOURS: Final = {"share": "#e67e22", "max": "#c0392b"}


def _voltage_columns(
    ser: IndicatorSeries, a: Assessment, pid: str
) -> tuple[npt.NDArray[np.int64], float]:
    """Columns of a point's voltages to plot (phase-to-neutral if any, else line) and U0."""
    try:
        p = a.measurements.point_ids.index(pid)
    except ValueError:
        return np.zeros(0, dtype=np.int64), float("nan")
    mine = ser.point_index == p
    line = np.array([ph in LINE_PHASES for ph in ser.phases], dtype=bool)
    phase_cols = np.flatnonzero(mine & ~line)
    if phase_cols.size:
        return phase_cols, float(a.nominal_v or np.nan)
    return np.flatnonzero(mine & line), float(a.nominal_line_v or np.nan)


def _bands_v(limits: pd.DataFrame, u0: float) -> list[dict[str, Any]]:
    """Limit bands of the voltage indicator in V around U0 ``u0``."""
    row = limits[limits["indicator"] == "voltage_deviation"].iloc[0]
    out = []
    for kind, share, lo, hi in (
        ("share", row["share_percent"], row["share_lower"], row["share_upper"]),
        ("max", 100.0, row["max_lower"], row["max_upper"]),
    ):
        if np.isnan(lo) and np.isnan(hi):
            continue
        out.append(
            {
                "band": kind,
                "share_percent": float(share),
                "lower_v": None if np.isnan(lo) else round(u0 * (1 + lo / 100.0), 6),
                "upper_v": None if np.isnan(hi) else round(u0 * (1 + hi / 100.0), 6),
                "citation": str(row["citation"]),
            }
        )
    return out


def _valid_values(ser: IndicatorSeries, cols: npt.NDArray[np.int64]) -> FloatArray:
    """Finite, unflagged values of ``cols`` [V]."""
    v = ser.values[:, cols]
    ok = np.isfinite(v) & ~ser.flagged[:, cols]
    return np.asarray(v[ok], dtype=np.float64)


def _hourly_envelope(
    ser: IndicatorSeries, cols: npt.NDArray[np.int64], timezone: str
) -> pd.DataFrame:
    """Minimum, mean and maximum per UTC hour of the valid values of ``cols`` [V]."""
    v = ser.values[:, cols]
    ok = np.isfinite(v) & ~ser.flagged[:, cols]
    hour = utc_ns(ser.time_utc) // _NS_HOUR
    rows = np.repeat(np.arange(v.shape[0]), v.shape[1]).reshape(v.shape)[ok]
    frame = pd.DataFrame({"h": hour[rows], "v": v[ok]})
    if frame.empty:
        return pd.DataFrame(columns=["hour_local", "min_v", "mean_v", "max_v"])
    g = frame.groupby("h")["v"].agg(["min", "mean", "max"])
    start = pd.DatetimeIndex((g.index.to_numpy() * _NS_HOUR).astype("datetime64[ns]"))
    local = start.tz_localize("UTC").tz_convert(timezone)
    return pd.DataFrame(
        {
            "hour_local": local.strftime("%Y-%m-%d %H:%M").to_numpy(),
            "min_v": g["min"].to_numpy(),
            "mean_v": g["mean"].to_numpy(),
            "max_v": g["max"].to_numpy(),
        }
    )


def _band_traces(bands: list[dict[str, Any]], x: list[Any]) -> list[dict[str, Any]]:
    """Horizontal dashed lines at the band edges [V] over ``x``."""
    traces = []
    for b in bands:
        label = f"{b['share_percent']:g} % band"
        for edge in ("lower_v", "upper_v"):
            if b[edge] is None:
                continue
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": x,
                    "y": [b[edge]] * len(x),
                    "name": f"{label} {edge.split('_')[0]} {b[edge]:g} V",
                    "meta": {
                        "limit": b["band"],
                        "edge": edge,
                        "value_v": b[edge],
                        "citation": b["citation"],
                    },
                    "line": {"color": _BAND_COLOURS[b["band"]], "dash": "dash", "width": 1.5},
                }
            )
    return traces


def _envelope_figure(
    env: pd.DataFrame, bands: list[dict[str, Any]], u0: float, title: str, timezone: str
) -> dict[str, Any]:
    """Hourly minimum, mean and maximum with the limit bands [V]."""
    x = env["hour_local"].tolist()
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": _nums(env["min_v"]),
            "name": "hourly minimum",
            "line": {"color": "#2471a3", "width": 1},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": _nums(env["max_v"]),
            "name": "hourly maximum",
            "fill": "tonexty",
            "fillcolor": "rgba(36,113,163,0.15)",
            "line": {"color": "#2471a3", "width": 1},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": _nums(env["mean_v"]),
            "name": "hourly mean",
            "line": {"color": "#1b2631", "width": 1.5},
        },
        *_band_traces(bands, x if x else [None]),
    ]
    return {
        "data": data,
        "layout": {
            "title": {"text": f"{title} (U0 = {u0:g} V)"},
            "width": _WIDTH,
            "height": _HEIGHT,
            "xaxis": {"title": {"text": f"local time ({timezone}), hour start"}},
            "yaxis": {"title": {"text": "10-min r.m.s. voltage [V]"}},
            "legend": {"orientation": "h", "y": -0.25},
            "margin": {"l": 60, "r": 20, "t": 50},
        },
    }


def _histogram_figure(
    values: FloatArray, bands: list[dict[str, Any]], u0: float, title: str
) -> dict[str, Any]:
    """Histogram of the valid 10-min voltages with the limit lines of ``bands``."""
    counts, edges = _histogram(values, bands)
    centres = ((edges[:-1] + edges[1:]) / 2).tolist()
    top = int(counts.max()) if counts.size else 1
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "x": _round(centres),
            "y": counts.tolist(),
            "width": float(edges[1] - edges[0]) if counts.size else 1.0,
            "name": "10-min values (valid, not flagged)",
            "marker": {"color": "#5d6d7e"},
        },
        *_limit_lines(bands, top),
    ]
    return {
        "data": data,
        "layout": {
            "title": {"text": f"{title}: {values.size} values (U0 = {u0:g} V)"},
            "width": _WIDTH,
            "height": _HEIGHT,
            "bargap": 0,
            "xaxis": {"title": {"text": "10-min r.m.s. voltage [V]"}},
            "yaxis": {"title": {"text": "number of 10-min intervals"}},
            "legend": {"orientation": "h", "y": -0.25},
            "margin": {"l": 60, "r": 20, "t": 50},
        },
    }


def _histogram(
    values: FloatArray, bands: list[dict[str, Any]]
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Counts and edges of 60 bins spanning the values and the band edges [V]."""
    edges_v = [b[k] for b in bands for k in ("lower_v", "upper_v") if b[k] is not None]
    if values.size:
        lo = min(float(values.min()), *edges_v) if edges_v else float(values.min())
        hi = max(float(values.max()), *edges_v) if edges_v else float(values.max())
        counts, edges = np.histogram(values, bins=60, range=(lo - 0.5, hi + 0.5))
    else:
        counts, edges = np.zeros(0, dtype=np.int64), np.zeros(1)
    return counts, edges


def _limit_lines(bands: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    """Vertical dashed lines at the band edges [V], from 0 to ``top``."""
    data: list[dict[str, Any]] = []
    for b in bands:
        for edge in ("lower_v", "upper_v"):
            if b[edge] is None:
                continue
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": [b[edge], b[edge]],
                    "y": [0, top],
                    "name": f"{b['share_percent']:g} % band {edge.split('_')[0]} {b[edge]:g} V",
                    "meta": {
                        "limit": b["band"],
                        "edge": edge,
                        "value_v": b[edge],
                        "citation": b["citation"],
                    },
                    "line": {"color": _BAND_COLOURS[b["band"]], "dash": "dash"},
                }
            )
    return data


def _nums(s: pd.Series) -> list[float | None]:
    """Values rounded to 4 decimals, None where not finite."""
    return [None if not np.isfinite(v) else round(float(v), 4) for v in s.to_numpy()]


def _round(xs: list[float]) -> list[float]:
    """Values rounded to 4 decimals."""
    return [round(float(x), 4) for x in xs]
