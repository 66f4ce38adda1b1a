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

This module owns the :class:`QualityReport`, :func:`build_report` and the PDF printing; the
figures are built in ``_report_figures`` and the HTML blocks and page in ``_report_html``.
"""

from __future__ import annotations

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
from gridtwin.quality._report_figures import (
    _bands_v,
    _envelope_figure,
    _histogram_figure,
    _hourly_envelope,
    _valid_values,
    _voltage_columns,
)
from gridtwin.quality._report_html import (
    _CSS,
    _PAGE,
    _RENDER,
    _availability_table,
    _e,
    _events_table,
    _Figures,
    _fmt,
    _frame_table,
    _kv_table,
    _plotly_js,
    _verdict_badge,
    _verdict_table,
    _verdict_td,
)
from gridtwin.quality._report_indicators import _failing_indicator_figures
from gridtwin.quality.assessment import Assessment, records

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
        body.append("<h2 class='points'>Points of delivery</h2>")
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
        """Standard, edition, level, reference voltage, and the limits applied."""
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
        """One row per point: feeder, verdict, failed indicators, availability."""
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
        """A point's section: figures, verdicts, events, data availability."""
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
        for name, fig in _failing_indicator_figures(a, pid):
            parts.append(figs.add(name, fig))
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
        """Points per feeder (``'(no feeder)'`` for the others), by feeder name."""
        groups: dict[str, list[str]] = {}
        for pid in self.assessment.points["point_id"]:
            groups.setdefault(self.feeders.get(str(pid), "(no feeder)"), []).append(str(pid))
        return dict(sorted(groups.items()))

    def _feeder_rows(self) -> list[dict[str, Any]]:
        """Per feeder: worst verdict, number of points and of failing points."""
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
        """A feeder's section: verdict, envelope of all its points, its points."""
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
        """The potential deviations of the network twin."""
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
    notes = list(assessment.notes)
    chosen, selection_notes = _chosen_points(assessment.points, point_ids, max_points)
    notes += selection_notes
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


def _chosen_points(
    pts: pd.DataFrame, point_ids: Sequence[str] | None, max_points: int
) -> tuple[list[str], list[str]]:
    """Points with a full section (given, all, or failing first), and a note if cut."""
    known = [str(p) for p in pts["point_id"]]
    if point_ids is not None:
        unknown = [p for p in point_ids if p not in set(known)]
        if unknown:
            msg = (
                f"build_report: unknown point(s) {unknown[:5]}; the assessment has "
                f"{', '.join(known[:5])}{' ...' if len(known) > 5 else ''}"
            )
            raise InputError(msg)
        return [str(p) for p in point_ids], []
    if len(known) <= max_points:
        return known, []
    rank = pts["verdict"].map({"fail": 0, "insufficient data": 1, "pass": 2})
    chosen = [
        str(p)
        for p in pts.assign(r=rank).sort_values("r", kind="stable")["point_id"].head(max_points)
    ]
    note = f"{len(known)} points: sections for {max_points} (failing first); the summary lists all"
    return chosen, [note]


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file (never half-written)."""
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
        raise InputError(_no_browser_message(out))
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp.pdf")
    args = _print_args(exe, src, tmp)
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


def _no_browser_message(out: Path) -> str:
    """What to install, or how to print the HTML by hand."""
    return (
        f"{out}: no headless Chromium found to print the PDF (tried "
        f"{', '.join(BROWSERS)} and $GRIDTWIN_BROWSER). Install Debian's "
        "chromium-headless-shell (apt-get install chromium-headless-shell), or write "
        "the report as .html, open it in a browser and print it to PDF (Ctrl+P, "
        "'Save as PDF'; the report has A4 print styles)"
    )


def _print_args(exe: str, src: Path, tmp: Path) -> list[str]:
    """Command line printing ``src`` to the PDF ``tmp`` with a headless Chromium."""
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
    return args
