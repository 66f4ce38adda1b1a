"""Power-quality reports per point of delivery and per feeder: JSON, HTML with plots, PDF.

:func:`build_report` turns an :class:`~gridtwin.quality.assessment.Assessment` into a
:class:`QualityReport`:

- **JSON** (:meth:`QualityReport.to_dict`) for other systems: header (standard, edition,
  level, U0, week alignment), limits, per point the verdict, the indicator table, the
  availability and the events, per feeder the summary, potential deviations, notes;
- **HTML** (:meth:`QualityReport.to_html`), self-contained and offline: plotly.js is
  embedded from the ``plotly`` package. Per point: the voltage band envelope (minimum,
  mean and maximum of the 10-min values per hour, all phases, with the limit bands in V),
  a histogram of the 10-min values with the limit lines, the events table (an empty table
  when there are none), the indicator verdict table with the standard and clause. Per
  feeder: the points and their verdicts and the feeder's envelope. Every figure's data is
  also embedded as JSON (``<script type="application/json" class="figure">``), so a
  system can read the plotted numbers without running JavaScript;
- **PDF** (:func:`write_pdf`): the HTML printed by a headless Chromium (Debian's
  ``chromium-headless-shell`` or ``chromium``). Without one, open the HTML in any browser
  and print it to PDF: the report has print styles (A4, no page break inside a figure).

Flagged intervals (dips, swells, interruptions; IEC 61000-4-30 4.7) are left out of the
envelope and the histogram, as they are left out of the evaluation.
"""

from __future__ import annotations

import html
import importlib
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._potential import PotentialDeviations
from gridtwin.quality.assessment import Assessment, records
from gridtwin.quality.measurements import LINE_PHASES, IndicatorSeries
from gridtwin.timeseries import utc_ns

__all__ = ["BROWSERS", "QualityReport", "build_report", "find_browser", "write_pdf"]

FloatArray = npt.NDArray[np.float64]
PlotlyJs = Literal["inline", "file"]

#: Executables tried, in order, to print a report to PDF (env ``GRIDTWIN_BROWSER`` first).
BROWSERS: Final = (
    "chromium-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)
_NS_HOUR: Final = 3600 * 1_000_000_000
_WIDTH: Final = 760
_HEIGHT: Final = 340
_BAND_COLOURS: Final = {"share": "#e67e22", "max": "#c0392b"}


@dataclass(frozen=True)
class QualityReport:
    """A report over the points of an assessment (see the module notes).

    Attributes
    ----------
    assessment : Assessment
    point_ids : tuple of str
        Points with a full section (figures and tables).
    feeders : mapping str -> str
        Point -> feeder; empty if no feeder mapping was given.
    potential : PotentialDeviations or None
    title : str
    generated_utc : pandas.Timestamp
    notes : tuple of str
    """

    assessment: Assessment
    point_ids: tuple[str, ...]
    feeders: Mapping[str, str]
    potential: PotentialDeviations | None
    title: str
    generated_utc: pd.Timestamp
    notes: tuple[str, ...] = field(default=())

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """The report for other systems (no figures; see :meth:`to_html`)."""
        a = self.assessment
        verdicts = dict(zip(a.points["point_id"], a.points["verdict"], strict=True))
        groups = [
            {str(k): g for k, g in frame.groupby("point_id", sort=False)}
            for frame in (a.table, a.availability, a.events)
        ]
        empty = [frame.iloc[:0] for frame in (a.table, a.availability, a.events)]
        points = []
        for pid in self.point_ids:
            table, avail, events = (g.get(pid, e) for g, e in zip(groups, empty, strict=True))
            points.append(
                {
                    "point_id": pid,
                    "feeder": self.feeders.get(pid),
                    "verdict": verdicts[pid],
                    "indicators": records(table),
                    "availability": records(avail),
                    "events": records(events),
                    "voltage_bands_v": self._bands(pid),
                }
            )
        return {
            "title": self.title,
            "generated_utc": self.generated_utc.isoformat(),
            "standard": a.standard,
            "edition": a.edition,
            "voltage_level": a.voltage_level,
            "timezone": a.timezone,
            "nominal_v": a.nominal_v,
            "nominal_line_v": a.nominal_line_v,
            "limits": records(a.limits),
            "summary": records(a.points),
            "points": points,
            "feeders": self._feeder_rows(),
            "potential_deviations": (
                None if self.potential is None else records(self.potential.table)
            ),
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    # ------------------------------------------------------------------ HTML

    def to_html(self, plotlyjs: PlotlyJs = "inline") -> str:
        """The self-contained HTML report.

        Parameters
        ----------
        plotlyjs : {'inline', 'file'}
            Embed plotly.js (about 4.8 MB, works offline) or refer to a
            ``plotly.min.js`` next to the HTML file (written by :meth:`write`).
        """
        a = self.assessment
        figs = _Figures()
        body = [f"<h1>{_e(self.title)}</h1>", self._header_html(), self._summary_html()]
        if self.feeders:
            body.append("<h2>Feeders</h2>")
            for feeder, pids in self._feeder_groups().items():
                body.append(self._feeder_html(feeder, pids, figs))
        body.append("<h2>Points of delivery</h2>")
        for pid in self.point_ids:
            body.append(self._point_html(pid, figs))
        if self.potential is not None:
            body.append(self._potential_html())
        body.append(
            "<h2>Notes</h2><ul class='notes'>"
            + "".join(f"<li>{_e(n)}</li>" for n in self.notes)
            + "</ul>"
        )
        script = (
            f"<script>{_plotly_js()}</script>"
            if plotlyjs == "inline"
            else '<script src="plotly.min.js"></script>'
        )
        return _PAGE.format(
            title=_e(self.title),
            css=_CSS,
            plotly=script,
            body="\n".join(body),
            render=_RENDER,
            standard=_e(f"{a.standard} ({a.voltage_level})"),
        )

    def write(self, path: str | Path, plotlyjs: PlotlyJs = "inline") -> Path:
        """Write ``.html``, ``.json`` or ``.pdf`` (by suffix); nothing is half-written.

        Raises
        ------
        InputError
            Unknown suffix, missing directory, no browser for PDF (the message says how
            to print the HTML instead).
        """
        out = Path(path)
        if not out.parent.is_dir():
            msg = f"{out}: directory {out.parent} does not exist; create it first"
            raise InputError(msg)
        suffix = out.suffix.lower()
        if suffix == ".json":
            _atomic_write(out, self.to_json())
        elif suffix in (".html", ".htm"):
            _atomic_write(out, self.to_html(plotlyjs))
            if plotlyjs == "file":
                _atomic_write(out.parent / "plotly.min.js", _plotly_js())
        elif suffix == ".pdf":
            with tempfile.TemporaryDirectory() as tmp:
                page = Path(tmp) / "report.html"
                page.write_text(self.to_html("inline"), encoding="utf-8")
                write_pdf(page, out)
        else:
            msg = f"{out}: unknown report type {suffix!r}; use .html, .json or .pdf"
            raise InputError(msg)
        return out

    # ------------------------------------------------------------------ parts

    def _bands(self, pid: str) -> list[dict[str, Any]]:
        """Limit bands of the voltage indicator in V for the point's channels."""
        ser = self.assessment.measurements.series.get("voltage")
        if ser is None or "voltage_deviation" not in set(self.assessment.limits["indicator"]):
            return []
        cols, u0 = _voltage_columns(ser, self.assessment, pid)
        if not cols.size:
            return []
        return _bands_v(self.assessment.limits, u0)

    def _header_html(self) -> str:
        a = self.assessment
        refs = [
            f"U0 = {a.nominal_v:g} V (phase-to-neutral)" if a.nominal_v else "",
            f"{a.nominal_line_v:g} V (line-to-line)" if a.nominal_line_v else "",
        ]
        rows = [
            ("Standard", a.standard),
            ("Edition", a.edition),
            ("Voltage level", a.voltage_level),
            ("Reference voltage", ", ".join(r for r in refs if r)),
            ("Observation weeks", f"aligned in {a.timezone}"),
            ("Generated", self.generated_utc.isoformat()),
        ]
        lim = a.limits
        cited = "".join(
            f"<tr><td>{_e(r['indicator'])}</td><td>{_e(r['citation'])}</td>"
            f"<td>{_e(r['limits'])}</td><td>{_e(r['aggregation'])}</td>"
            f"<td>{_e(r['verification'])}</td></tr>"
            for _, r in lim.iterrows()
        )
        return (
            _kv_table(rows, "header")
            + "<h3>Limits applied</h3><table class='limits'><thead><tr><th>Indicator</th>"
            "<th>Standard and clause</th><th>Limits</th><th>Interval</th>"
            f"<th>Verification</th></tr></thead><tbody>{cited}</tbody></table>"
        )

    def _summary_html(self) -> str:
        pts = self.assessment.points
        rows = "".join(
            f"<tr><td>{_e(r['point_id'])}</td><td>{_e(self.feeders.get(r['point_id'], ''))}"
            f"</td>{_verdict_td(str(r['verdict']))}<td>{_e(r['failed_indicators'])}</td>"
            f"<td>{_e(r['insufficient_indicators'])}</td>"
            f"<td>{_fmt(r['min_availability_percent'])}</td></tr>"
            for _, r in pts.iterrows()
        )
        return (
            "<h2>Summary</h2><table class='summary'><thead><tr><th>Point</th><th>Feeder"
            "</th><th>Verdict</th><th>Failed indicators</th><th>Insufficient data</th>"
            f"<th>Min availability [%]</th></tr></thead><tbody>{rows}</tbody></table>"
        )

    def _point_html(self, pid: str, figs: _Figures) -> str:
        a = self.assessment
        parts = [
            f"<section class='point' id='point-{_e(pid)}'>",
            f"<h3>Point {_e(pid)} {_verdict_badge(a.verdict(pid))}</h3>",
        ]
        if self.feeders.get(pid):
            parts.append(f"<p>Feeder: {_e(self.feeders[pid])}</p>")
        ser = a.measurements.series.get("voltage")
        if ser is not None and "voltage_deviation" in set(a.limits["indicator"]):
            cols, u0 = _voltage_columns(ser, a, pid)
            if cols.size:
                bands = _bands_v(a.limits, u0)
                env = _hourly_envelope(ser, cols, a.timezone)
                parts.append(
                    figs.add(
                        f"envelope-{pid}",
                        _envelope_figure(
                            env, bands, u0, f"Voltage band envelope, point {pid}", a.timezone
                        ),
                    )
                )
                parts.append(
                    figs.add(
                        f"histogram-{pid}",
                        _histogram_figure(
                            _valid_values(ser, cols), bands, u0, f"10-min voltages, point {pid}"
                        ),
                    )
                )
        parts.append(
            "<h4>Indicator verdicts</h4>" + _verdict_table(a.table[a.table["point_id"] == pid])
        )
        parts.append("<h4>Events</h4>" + _events_table(a.events[a.events["point_id"] == pid]))
        parts.append(
            "<h4>Data availability</h4>"
            + _availability_table(a.availability[a.availability["point_id"] == pid])
        )
        parts.append("</section>")
        return "\n".join(parts)

    def _feeder_groups(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for pid in self.assessment.points["point_id"]:
            groups.setdefault(self.feeders.get(str(pid), "(no feeder)"), []).append(str(pid))
        return dict(sorted(groups.items()))

    def _feeder_rows(self) -> list[dict[str, Any]]:
        if not self.feeders:
            return []
        pts = self.assessment.points.set_index("point_id")
        out = []
        for feeder, pids in self._feeder_groups().items():
            verdicts = [str(pts.loc[p, "verdict"]) for p in pids]
            worst = max(verdicts, key=lambda v: ("pass", "insufficient data", "fail").index(v))
            out.append(
                {
                    "feeder": feeder,
                    "verdict": worst,
                    "n_points": len(pids),
                    "n_fail": verdicts.count("fail"),
                    "points": pids,
                }
            )
        return out

    def _feeder_html(self, feeder: str, pids: list[str], figs: _Figures) -> str:
        a = self.assessment
        row = next(r for r in self._feeder_rows() if r["feeder"] == feeder)
        parts = [
            f"<section class='feeder'><h3>Feeder {_e(feeder)} "
            f"{_verdict_badge(str(row['verdict']))}</h3>",
            f"<p>{row['n_points']} point(s), {row['n_fail']} failing.</p>",
        ]
        ser = a.measurements.series.get("voltage")
        if ser is not None and "voltage_deviation" in set(a.limits["indicator"]):
            sel = [(c, u) for p in pids for c, u in [_voltage_columns(ser, a, p)] if c.size]
            if sel:
                cols = np.concatenate([c for c, _ in sel])
                u0 = sel[0][1]
                if all(u == u0 for _, u in sel):
                    env = _hourly_envelope(ser, cols, a.timezone)
                    parts.append(
                        figs.add(
                            f"feeder-envelope-{feeder}",
                            _envelope_figure(
                                env,
                                _bands_v(a.limits, u0),
                                u0,
                                f"Voltage band envelope, feeder {feeder} (all its points)",
                                a.timezone,
                            ),
                        )
                    )
        sub = a.points[a.points["point_id"].isin(pids)]
        rows = "".join(
            f"<tr><td><a href='#point-{_e(r['point_id'])}'>{_e(r['point_id'])}</a></td>"
            f"{_verdict_td(str(r['verdict']))}<td>{_e(r['failed_indicators'])}</td></tr>"
            for _, r in sub.iterrows()
        )
        parts.append(
            "<table class='feeder-points'><thead><tr><th>Point</th><th>Verdict</th>"
            f"<th>Failed indicators</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        parts.append("</section>")
        return "\n".join(parts)

    def _potential_html(self) -> str:
        pot = self.potential
        if pot is None:  # pragma: no cover - guarded by the caller
            return ""
        cols = [
            "point_id",
            "feeder",
            "direction",
            "first_time_utc",
            "last_time_utc",
            "worst_time_utc",
            "worst_vm_pu",
            "worst_deviation_percent",
            "hours_out",
            "band",
            "clause",
            "cause",
        ]
        return f"<h2>Potential deviations (forecast)</h2><p>{_e(pot.basis)}</p>" + _frame_table(
            pot.table, cols, "potential"
        )


# --------------------------------------------------------------------------- building


def build_report(
    assessment: Assessment,
    *,
    point_ids: Sequence[str] | None = None,
    feeders: Mapping[str, str] | None = None,
    potential: PotentialDeviations | None = None,
    title: str | None = None,
    max_points: int = 100,
    generated_utc: pd.Timestamp | None = None,
) -> QualityReport:
    """Build a report from an assessment.

    Parameters
    ----------
    assessment : Assessment
        From :func:`gridtwin.quality.assessment.assess`.
    point_ids : sequence of str, optional
        Points with a full section; default all, or the failing ones first when there
        are more than ``max_points``.
    feeders : mapping point -> feeder, optional
        Adds a section per feeder.
    potential : PotentialDeviations, optional
        Potential deviations of the network twin to list.
    title : str, optional
    max_points : int
        Most point sections when ``point_ids`` is not given (the summary lists all).
    generated_utc : pandas.Timestamp, optional
        Time stamp printed in the report (default now).

    Raises
    ------
    InputError
        Unknown point ids.
    """
    pts = assessment.points
    known = [str(p) for p in pts["point_id"]]
    notes = list(assessment.notes)
    if point_ids is not None:
        unknown = [p for p in point_ids if p not in set(known)]
        if unknown:
            msg = (
                f"build_report: unknown point(s) {unknown[:5]}; the assessment has "
                f"{', '.join(known[:5])}{' ...' if len(known) > 5 else ''}"
            )
            raise InputError(msg)
        chosen = [str(p) for p in point_ids]
    elif len(known) <= max_points:
        chosen = known
    else:
        rank = pts["verdict"].map({"fail": 0, "insufficient data": 1, "pass": 2})
        chosen = [
            str(p)
            for p in pts.assign(r=rank).sort_values("r", kind="stable")["point_id"].head(max_points)
        ]
        notes.append(
            f"{len(known)} points: sections for {max_points} (failing first); the summary lists all"
        )
    stamp = generated_utc if generated_utc is not None else pd.Timestamp.now(tz="UTC")
    if potential is not None:
        notes += [n for n in potential.notes if n not in notes]
    return QualityReport(
        assessment=assessment,
        point_ids=tuple(chosen),
        feeders=dict(feeders or {}),
        potential=potential,
        title=title or f"Power quality report: {assessment.standard} {assessment.voltage_level}",
        generated_utc=stamp,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- data


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
    edges_v = [b[k] for b in bands for k in ("lower_v", "upper_v") if b[k] is not None]
    if values.size:
        lo = min(float(values.min()), *edges_v) if edges_v else float(values.min())
        hi = max(float(values.max()), *edges_v) if edges_v else float(values.max())
        counts, edges = np.histogram(values, bins=60, range=(lo - 0.5, hi + 0.5))
    else:
        counts, edges = np.zeros(0, dtype=np.int64), np.zeros(1)
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
        }
    ]
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


def _nums(s: pd.Series) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 4) for v in s.to_numpy()]


def _round(xs: list[float]) -> list[float]:
    return [round(float(x), 4) for x in xs]


# --------------------------------------------------------------------------- HTML parts


class _Figures:
    """Numbers figures and renders their placeholders with embedded JSON."""

    def __init__(self) -> None:
        self.n = 0

    def add(self, name: str, fig: dict[str, Any]) -> str:
        self.n += 1
        fid = f"fig-{self.n}"
        text = json.dumps(fig, ensure_ascii=False, allow_nan=False).replace("</", "<\\/")
        return (
            f"<div class='plot' id='{fid}' data-name='{_e(name)}'></div>"
            f"<script type='application/json' class='figure' data-target='{fid}' "
            f"data-name='{_e(name)}'>{text}</script>"
        )


def _e(x: object) -> str:
    return html.escape("" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x))


def _fmt(x: object, digits: int = 2) -> str:
    if x is None or x is pd.NA or x is pd.NaT:
        return ""
    if isinstance(x, float | np.floating):
        return "" if not np.isfinite(x) else f"{float(x):.{digits}f}"
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    return _e(x)


def _verdict_td(v: str) -> str:
    cls = {"pass": "pass", "fail": "fail"}.get(v, "nodata")
    return f"<td class='verdict {cls}'>{_e(v)}</td>"


def _verdict_badge(v: str) -> str:
    cls = {"pass": "pass", "fail": "fail"}.get(v, "nodata")
    return f"<span class='badge {cls}'>{_e(v)}</span>"


def _kv_table(rows: list[tuple[str, str]], cls: str) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table class='{cls}'><tbody>{body}</tbody></table>"


def _verdict_table(frame: pd.DataFrame) -> str:
    head = (
        "Week start (UTC)",
        "Indicator",
        "Standard and clause",
        "Limits",
        "Verdict",
        "Worst phase",
        "N",
        "N flagged",
        "Availability [%]",
        "N1",
        "N2",
        "T1 [%]",
        "T2 [%]",
        "Max",
        "Min",
        "95 %",
        "Unit",
        "Worst at (UTC)",
        "Rule",
    )
    rows = []
    for _, r in frame.iterrows():
        cells = [
            _fmt(r["period_start_utc"]),
            _e(r["indicator"]),
            _e(f"{r['clause']}"),
            _e(r["limits"]),
        ]
        rows.append(
            "<tr>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + _verdict_td(str(r["verdict"]))
            + "".join(
                f"<td>{c}</td>"
                for c in (
                    _e(r["worst_phase"]),
                    _fmt(r["n_valid"]),
                    _fmt(r["n_flagged"]),
                    _fmt(r["availability_percent"]),
                    _fmt(r["n1"]),
                    _fmt(r["n2"]),
                    _fmt(r["t1_percent"]),
                    _fmt(r["t2_percent"]),
                    _fmt(r["max_value"], 3),
                    _fmt(r["min_value"], 3),
                    _fmt(r["p95_value"], 3),
                    _e(r["value_unit"]),
                    _fmt(r["worst_time_utc"]),
                    _e(r["rule"]),
                )
            )
            + "</tr>"
        )
    return (
        "<table class='verdicts'><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _frame_table(frame: pd.DataFrame, cols: list[str], cls: str, empty: str = "none") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    if frame.empty:
        body = f"<tr class='empty'><td colspan='{len(cols)}'>{_e(empty)}</td></tr>"
    else:
        body = "".join(
            "<tr>" + "".join(f"<td>{_fmt(r[c], 3)}</td>" for c in cols) + "</tr>"
            for _, r in frame.iterrows()
        )
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _events_table(frame: pd.DataFrame) -> str:
    cols = [
        "kind",
        "start_utc",
        "end_utc",
        "duration_s",
        "phase",
        "extreme_percent",
        "source",
        "detail",
    ]
    return _frame_table(frame, cols, "events", "no events in the data")


def _availability_table(frame: pd.DataFrame) -> str:
    cols = [
        "indicator",
        "phase",
        "first_utc",
        "last_utc",
        "n_expected",
        "n_present",
        "n_missing",
        "n_flagged",
        "availability_percent",
        "longest_gap_s",
    ]
    return _frame_table(frame, cols, "availability", "no data")


def _plotly_js() -> str:
    """plotly.js from the installed ``plotly`` package (offline)."""
    try:
        offline = importlib.import_module("plotly.offline")
    except ModuleNotFoundError as exc:
        msg = (
            "HTML reports need the plotly package for its plotly.js (offline): "
            "pip install plotly==7.1.0, or write the report as .json"
        )
        raise InputError(msg) from exc
    return str(offline.get_plotlyjs())


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- PDF


def find_browser() -> str | None:
    """Path of a headless Chromium to print PDF (``GRIDTWIN_BROWSER`` or :data:`BROWSERS`)."""
    env = os.environ.get("GRIDTWIN_BROWSER")
    if env:
        return shutil.which(env) or (env if Path(env).is_file() else None)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def write_pdf(
    html_path: str | Path,
    pdf_path: str | Path,
    *,
    browser: str | None = None,
    timeout_s: float = 180.0,
) -> Path:
    """Print an HTML report to PDF with a headless Chromium (offline).

    Parameters
    ----------
    html_path, pdf_path : str or Path
    browser : str, optional
        Executable; default :func:`find_browser`.
    timeout_s : float
        Time allowed to render [s].

    Raises
    ------
    InputError
        No browser found (the message says how to install one or print by hand), or
        the browser failed; the PDF is then not written.
    """
    src, out = Path(html_path).resolve(), Path(pdf_path)
    exe = browser or find_browser()
    if exe is None:
        msg = (
            f"{out}: no headless Chromium found to print the PDF (tried "
            f"{', '.join(BROWSERS)} and $GRIDTWIN_BROWSER). Install Debian's "
            "chromium-headless-shell (apt-get install chromium-headless-shell), or write "
            "the report as .html, open it in a browser and print it to PDF (Ctrl+P, "
            "'Save as PDF'; the report has A4 print styles)"
        )
        raise InputError(msg)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp.pdf")
    args = [
        exe,
        "--headless",
        "--disable-gpu",
        "--no-pdf-header-footer",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=20000",
        f"--print-to-pdf={tmp}",
        src.as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with a sandbox
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)
        if proc.returncode != 0 or not tmp.is_file() or tmp.read_bytes()[:4] != b"%PDF":
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            msg = (
                f"{out}: {exe} could not print {src} to PDF (exit {proc.returncode}: "
                f"{' | '.join(tail)}); open the HTML in a browser and print it to PDF"
            )
            raise InputError(msg)
        tmp.replace(out)
    except subprocess.TimeoutExpired as exc:
        msg = f"{out}: {exe} did not finish printing within {timeout_s:g} s"
        raise InputError(msg) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return out


# --------------------------------------------------------------------------- page


_CSS: Final = """
body { font-family: system-ui, sans-serif; font-size: 13px; margin: 1.5em; color: #1b2631; }
h1 { font-size: 20px; } h2 { font-size: 17px; border-bottom: 1px solid #aab; }
h3 { font-size: 15px; } h4 { font-size: 13px; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .4em 0 1em; }
th, td { border: 1px solid #ccd; padding: 2px 6px; text-align: left; vertical-align: top; }
thead th { background: #eef1f5; }
td.verdict.pass, .badge.pass { background: #d5f5e3; }
td.verdict.fail, .badge.fail { background: #fadbd8; font-weight: bold; }
td.verdict.nodata, .badge.nodata { background: #fcf3cf; }
.badge { padding: 1px 8px; border-radius: 8px; font-size: 12px; }
tr.empty td { color: #7f8c8d; font-style: italic; }
.plot { width: 760px; height: 340px; margin: .5em 0; }
section.point, section.feeder { margin-bottom: 2em; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { margin: 0; font-size: 10px; }
  .plot, table { break-inside: avoid; }
  .modebar-container { display: none; }
  section.point { break-before: page; }
}
"""

_RENDER: Final = """
<script>
for (const node of document.querySelectorAll('script.figure')) {
  const fig = JSON.parse(node.textContent);
  const target = document.getElementById(node.dataset.target);
  Plotly.newPlot(target, fig.data, fig.layout, {displaylogo: false, responsive: false});
}
</script>
"""

_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="gridtwin.quality.report">
<meta name="standard" content="{standard}">
<title>{title}</title>
<style>{css}</style>
{plotly}
</head>
<body>
{body}
{render}
</body>
</html>
"""
