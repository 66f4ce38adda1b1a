"""The energy characteristic N(G) as an inline SVG chart with the operating points.

No plotting library: polylines for each season's N(G) of the running pump units, markers
for the design (circle), actual (square) and coming-year (triangle) points, and a legend.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gridtwin.heatnet._results import ComingYearResult, PastYearResult
from gridtwin.heatnet.station import SeasonCharacteristic, Station

_COLOURS = {"winter": "#1f5fa8", "summer": "#d9661f"}
_W, _H = 640, 400
_ML, _MR, _MT, _MB = 70, 150, 30, 50


def _nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "design":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="white" stroke="{colour}" '
            f'stroke-width="2"/>'
        )
    if kind == "actual":
        return (
            f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{colour}" '
            f'stroke="{colour}"/>'
        )
    return (
        f'<polygon points="{x:.1f},{y - 6:.1f} {x - 6:.1f},{y + 5:.1f} {x + 6:.1f},'
        f'{y + 5:.1f}" fill="white" stroke="{colour}" stroke-width="2"/>'
    )


_PW, _PH = _W - _ML - _MR, _H - _MT - _MB


@dataclass(frozen=True)
class _Axes:
    """Data ranges of the plot area: flow G [t/h] across, power N [kW] up."""

    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float

    def sx(self, g: float) -> float:
        """The x pixel of a flow [t/h]."""
        return _ML + (g - self.x_lo) / (self.x_hi - self.x_lo) * _PW

    def sy(self, n: float) -> float:
        """The y pixel of a power [kW]."""
        return _MT + _PH - (n - self.y_lo) / (self.y_hi - self.y_lo) * _PH


def svg_characteristic(
    title: str,
    curves: Mapping[str, Sequence[tuple[float, float]]],
    points: Sequence[tuple[str, str, float, float]],
) -> str:
    """An SVG chart of N(G) curves with operating points.

    Parameters
    ----------
    title : str
        Chart title.
    curves : mapping season -> [(flow [t/h], power [kW]), ...]
        The characteristic per season (polylines).
    points : sequence of (kind, season, flow [t/h], power [kW])
        ``kind`` is ``design``, ``actual`` or ``coming``.
    """
    xs = [g for c in curves.values() for g, _ in c] + [p[2] for p in points]
    xs = [g for c in curves.values() for g, _ in c] + [p[2] for p in points]
    ys = [n for c in curves.values() for _, n in c] + [p[3] for p in points]
    if not xs:
        return ""
    axes = _Axes(0.0, max(xs) * 1.05, 0.0, max(ys) * 1.1)
    out = _svg_frame(title, axes)
    for season, curve in curves.items():
        if len(curve) < 2:
            continue
        pts = " ".join(f"{axes.sx(g):.1f},{axes.sy(n):.1f}" for g, n in curve)
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{_COLOURS.get(season, "#333")}"'
            f' stroke-width="2"/>'
        )
    for kind, season, g, n in points:
        out.append(_marker(kind, axes.sx(g), axes.sy(n), _COLOURS.get(season, "#333")))
    out += _svg_legend(curves, points)
    out.append("</svg>")
    return "\n".join(out)


def _svg_frame(title: str, axes: _Axes) -> list[str]:
    """The SVG's opening, title, plot area, grid with tick labels and axis titles."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" font-family="sans-serif" font-size="12">',
        f'<text x="{_ML}" y="18" font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{_ML}" y="{_MT}" width="{_PW}" height="{_PH}" fill="none" stroke="#444"/>',
    ]
    for t in _nice_ticks(axes.x_lo, axes.x_hi):
        x = axes.sx(t)
        out.append(f'<line x1="{x:.1f}" y1="{_MT}" x2="{x:.1f}" y2="{_MT + _PH}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{_MT + _PH + 16}" text-anchor="middle">{t:g}</text>')
    for t in _nice_ticks(axes.y_lo, axes.y_hi):
        y = axes.sy(t)
        out.append(f'<line x1="{_ML}" y1="{y:.1f}" x2="{_ML + _PW}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{_ML - 6}" y="{y + 4:.1f}" text-anchor="end">{t:g}</text>')
    out.append(f'<text x="{_ML + _PW / 2:.1f}" y="{_H - 10}" text-anchor="middle">G, t/h</text>')
    out.append(
        f'<text x="16" y="{_MT + _PH / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {_MT + _PH / 2:.1f})">N, kW</text>'
    )
    return out


def _svg_legend(
    curves: Mapping[str, Sequence[tuple[float, float]]],
    points: Sequence[tuple[str, str, float, float]],
) -> list[str]:
    """The legend right of the plot: one line per season, one marker per kind of point."""
    out = []
    ly = _MT + 10
    lx = _ML + _PW + 15
    for season in curves:
        colour = _COLOURS.get(season, "#333")
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 20}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2"/><text x="{lx + 26}" y="{ly + 4}">{season} N(G)</text>'
        )
        ly += 20
    for kind, label in (
        ("design", "design Gр"),
        ("actual", "actual Gф"),
        ("coming", "coming year Gпр"),
    ):
        if any(p[0] == kind for p in points):
            out.append(_marker(kind, lx + 10, ly, "#333"))
            out.append(f'<text x="{lx + 26}" y="{ly + 4}">{label}</text>')
            ly += 20
    return out


def _curve(char: SeasonCharacteristic, flows: Sequence[float]) -> list[tuple[float, float]]:
    lo, hi = char.flow_range_t_per_h()
    if flows:
        lo, hi = max(lo, 0.5 * min(flows)), min(hi, 1.3 * max(flows))
    lo = max(lo, 0.05 * hi)
    out = []
    for i in range(81):
        g = lo + (hi - lo) * i / 80
        n = float(char.power_curve_kw(g)[0])
        if math.isfinite(n):
            out.append((g, n))
    return out


def _station_svg(
    name: str, station: Station, past: PastYearResult | None, coming: ComingYearResult | None
) -> str:
    points: list[tuple[str, str, float, float]] = []
    if past is not None:
        for st in past.stations:
            if st.station == name:
                for r in st.seasons:
                    points.append(
                        ("design", r.season, r.design_flow_t_per_h, r.design_unit_power_kw)
                    )
                    points.append(
                        ("actual", r.season, r.actual_flow_t_per_h, r.nominal_unit_power_kw)
                    )
    if coming is not None:
        for cs in coming.stations:
            if cs.station == name:
                for c in cs.seasons:
                    points.append(("coming", c.season, c.flow_t_per_h, c.unit_power_kw))
    curves: dict[str, list[tuple[float, float]]] = {}
    for season, char in station.seasons.items():
        flows = [p[2] for p in points if p[1] == season]
        curves[season] = _curve(char, flows)
    return svg_characteristic(f"Station {name}: N(G) of the running pump units", curves, points)
