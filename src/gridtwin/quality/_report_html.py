"""HTML building blocks of a power-quality report, and its page.

Escaping and number formatting (:func:`_e`, :func:`_fmt`), verdict cells and badges, the
tables (verdicts, events, availability, any frame), the figure placeholders with their
embedded JSON (:class:`_Figures`), plotly.js from the installed ``plotly`` package
(:func:`_plotly_js`, imported when a page is rendered), and the page template with its
print styles (:data:`_PAGE`, :data:`_CSS`, :data:`_RENDER`).
"""

from __future__ import annotations

import html
import importlib
import json
from typing import Any, Final

import numpy as np
import pandas as pd

from gridtwin.errors import InputError


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
    """HTML-escaped text ('' for None and NaN)."""
    return html.escape("" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x))


def _fmt(x: object, digits: int = 2) -> str:
    """A cell as text: numbers with ``digits`` decimals, times as ISO 8601."""
    if x is None or x is pd.NA or x is pd.NaT:
        return ""
    if isinstance(x, float | np.floating):
        return "" if not np.isfinite(x) else f"{float(x):.{digits}f}"
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    return _e(x)


def _verdict_td(v: str) -> str:
    """A table cell coloured by the verdict."""
    cls = {"pass": "pass", "fail": "fail"}.get(v, "nodata")
    return f"<td class='verdict {cls}'>{_e(v)}</td>"


def _verdict_badge(v: str) -> str:
    """A badge coloured by the verdict."""
    cls = {"pass": "pass", "fail": "fail"}.get(v, "nodata")
    return f"<span class='badge {cls}'>{_e(v)}</span>"


def _kv_table(rows: list[tuple[str, str]], cls: str) -> str:
    """A two-column table of (name, value) rows."""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table class='{cls}'><tbody>{body}</tbody></table>"


#: Column heads of the indicator verdict table.
_VERDICT_HEAD: Final = (
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


def _verdict_table(frame: pd.DataFrame) -> str:
    """The indicator verdict table of one point (rows of :attr:`Assessment.table`)."""
    return (
        "<table class='verdicts'><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in _VERDICT_HEAD)
        + "</tr></thead><tbody>"
        + "".join(_verdict_row(r) for _, r in frame.iterrows())
        + "</tbody></table>"
    )


def _verdict_row(r: pd.Series) -> str:
    """One row of the verdict table."""
    cells = [
        _fmt(r["period_start_utc"]),
        _e(r["indicator"]),
        _e(f"{r['clause']}"),
        _e(r["limits"]),
    ]
    return (
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


def _frame_table(frame: pd.DataFrame, cols: list[str], cls: str, empty: str = "none") -> str:
    """A table of ``cols`` of a frame (a row saying ``empty`` if none)."""
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
    """The events of one point."""
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
    """The data availability of one point."""
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
h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
table.verdicts, table.events, table.availability, table.potential { width: 100%; }
table.verdicts td, table.events td, table.availability td, table.potential td {
  overflow-wrap: anywhere;
}
table.verdicts td:last-child { min-width: 14em; }
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  body { margin: 0; font-size: 9px; }
  table.verdicts, table.events, table.availability, table.potential { font-size: 8px; }
  th, td { padding: 1px 3px; }
  thead { display: table-header-group; }
  tr, .plot, table.header, table.limits, table.summary { break-inside: avoid; }
  .plot { zoom: 0.66; display: inline-block; vertical-align: top; }
  .modebar-container { display: none; }
  section.point, h2.points { break-before: page; }
  h2.points + section.point { break-before: auto; }
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
