"""The self-contained HTML report: notes, method options, tables, findings, N(G) charts."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from gridtwin.heatnet._format import ASSUMPTION_NOTE
from gridtwin.heatnet._frames import coming_year_frames, past_year_frames
from gridtwin.heatnet._results import ComingYearResult, PastYearResult
from gridtwin.heatnet._svg import _station_svg
from gridtwin.heatnet.schema import NormsInput
from gridtwin.heatnet.station import Station


def _frame_html(frame: pd.DataFrame, digits: int = 1) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            if not math.isfinite(v):
                return "—"
            return f"{v:,.{digits}f}" if abs(v) >= 10 else f"{v:.4g}"
        return "—" if v is None else str(v)

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list_html(items: Sequence[str], cls: str = "") -> str:
    if not items:
        return ""
    attr = f' class="{cls}"' if cls else ""
    return f"<ul{attr}>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def html_report(
    inp: NormsInput,
    stations: Mapping[str, Station],
    past: PastYearResult | None,
    coming: ComingYearResult | None,
) -> str:
    """A self-contained HTML page: inputs' notes, options, tables, findings and N(G) plots."""
    parts = _head_html(inp)
    if past is not None:
        parts += _past_html(past)
    if coming is not None:
        parts += _coming_html(coming)
    parts += _characteristics_html(stations, past, coming)
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


def _head_html(inp: NormsInput) -> list[str]:
    """The page's head and style, title, source, notes and the method options."""
    return [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(inp.title)}</title><style>",
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}",
        "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:13px}",
        "td,th{border:1px solid #bbb;padding:3px 6px;text-align:right}",
        "th{background:#eee}td:first-child,th:first-child{text-align:left}",
        ".warn{color:#a15c00}.note{color:#555;font-size:13px}</style></head><body>",
        f"<h1>{html.escape(inp.title)}</h1>",
        f"<p>Territorial unit: {html.escape(inp.name)}. Source: "
        f"{html.escape(inp.source or 'not given')}.</p>",
        f"<p class='note'>{html.escape(ASSUMPTION_NOTE)} Flows are mass flows in t/h; "
        f"N is the power of the pump units; Э in kWh.</p>",
        _list_html(inp.notes, "note"),
        "<h2>Method options (reconstructed choices)</h2>",
        _frame_html(
            pd.DataFrame(
                [{"option": k, "value": str(v)} for k, v in inp.options.model_dump().items()]
            )
        ),
    ]


def _past_html(past: PastYearResult) -> list[str]:
    """The past year's tables (Table 3), findings and warnings."""
    frames = past_year_frames(past)
    return [
        "<h2>Past year (Table 3)</h2>",
        _frame_html(frames["seasons"]),
        _frame_html(frames["stations"], 0),
        _frame_html(frames["totals"], 0),
        "<h3>Findings (cl. 3.7-3.8)</h3>",
        _list_html(
            [f"station {st.station}: {f}" for st in past.stations for f in st.findings]
            + list(past.findings)
        ),
        _list_html(list(past.warnings), "warn"),
    ]


def _coming_html(coming: ComingYearResult) -> list[str]:
    """The coming year's tables (Tables 4 and 6) and warnings."""
    frames = coming_year_frames(coming)
    return [
        "<h2>Coming year (Tables 4 and 6)</h2>",
        _frame_html(frames["task"], 0),
        _frame_html(frames["seasons"]),
        _frame_html(frames["stations"], 0),
        _list_html(list(coming.warnings), "warn"),
    ]


def _characteristics_html(
    stations: Mapping[str, Station],
    past: PastYearResult | None,
    coming: ComingYearResult | None,
) -> list[str]:
    """A note on the charts and one N(G) chart per station."""
    parts = [
        "<h2>Energy characteristics N(G)</h2><p class='note'>Curves: the pump units' "
        "power from the characteristic (pump curves at their own heads, or measured "
        "points). Markers: the method's operating points without Kсн; where the input "
        "gives heads read off the station's graphs, a point may sit slightly off the "
        "curve. Circle: design (past year); square: actual (past year); triangle: "
        "coming year.</p>"
    ]
    for name, station in stations.items():
        parts.append(f"<div>{_station_svg(name, station, past, coming)}</div>")
    return parts
