"""HTML (and, through a headless Chromium, PDF) of Italian bills as ARERA's Bolletta 2.0.

A self-contained page with A4 print styles: header data, quadro sintetico with the section
explanations, consumption with the 12-month history as an inline SVG bar chart (no
script, so it prints as drawn), readings, bill lines, warnings and notes. The PDF uses the
printer of the power-quality report (:func:`gridtwin.quality.report.write_pdf`).
"""

from __future__ import annotations

import datetime as dt
import html
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gridtwin.billing._it_bill import KIND_NAMES
from gridtwin.cli._render_it import eur, kw_text, num_it

if TYPE_CHECKING:
    from gridtwin.billing._it_bill import ItalianBill

__all__ = ["bolletta_html", "write_bolletta"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:60em}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #2a6;padding-bottom:.1em;margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0} td,th{padding:.2em .6em;text-align:left}
th{background:#eef6f0} td.n{text-align:right;white-space:nowrap}
.quadro td{border-bottom:1px solid #ddd} .expl{color:#555;font-size:.85em}
.total td{font-weight:bold;border-top:2px solid #222}
.warn{color:#a00;font-weight:bold} .note{color:#775;font-size:.9em}
.bill{page-break-after:always}
@page{size:A4;margin:14mm} @media print{body{margin:0}}
"""


def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def _day(d: dt.date) -> str:
    return f"{d:%d/%m/%Y}"


def _header(b: ItalianBill) -> str:
    p = b.bill
    rows = [
        ("pod", b.pod),
        ("address", b.address or b.label("address_missing")),
        ("offer", p.tariff_name),
        ("customer", b.customer_type),
        ("power", kw_text(b.potenza_impegnata_kw, b, "annual_none")),
        ("available", kw_text(b.potenza_disponibile_kw, b)),
        ("voltage", b.voltage),
        ("period", f"{_day(p.period_from)} – {_day(p.period_to - dt.timedelta(days=1))}"),
        ("issued", _day(b.issue_date)),
        ("due", _day(b.due_date)),
    ]
    if p.max_power_kw is not None:
        rows.append(("max_power", f"{num_it(p.max_power_kw, 2, b.language)} kW"))
    cells = "".join(f"<tr><th>{_e(b.label(k))}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table class='header'>{cells}</table>"


def _quadro(b: ItalianBill) -> str:
    lang = b.language
    rows = []
    for row in b.quadro():
        rows.append(
            f"<tr><td>{_e(row.title)}<div class='expl'>{_e(row.explanation)}</div></td>"
            f"<td class='n'>{_e(eur(row.amount, lang))}</td></tr>"
        )
        if row.key == "ricalcoli":
            for r in b.ricalcoli:
                span = f"{_day(r.period_from)}–{_day(r.period_to - dt.timedelta(days=1))}"
                rows.append(
                    f"<tr><td>&nbsp;&nbsp;{_e(b.label('ricalcolo'))} {_e(span)}</td>"
                    f"<td class='n'>{_e(eur(r.amount, lang))}</td></tr>"
                )
    rows.append(
        f"<tr class='total'><td>{_e(b.label('total'))}</td>"
        f"<td class='n'>{_e(eur(b.total_to_pay, lang))}</td></tr>"
    )
    return f"<h2>{_e(b.label('quadro'))}</h2><table class='quadro'>{''.join(rows)}</table>"


def history_svg(history: Sequence[tuple[str, float]], lang: str = "it") -> str:
    """Monthly kWh as an inline SVG bar chart (one bar a month, value on top)."""
    if not history:
        return ""
    w, h, bar = 40 * len(history) + 20, 180, 28
    top = max(k for _m, k in history) or 1.0
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' role='img'>"]
    for i, (month, kwh) in enumerate(history):
        bh = 120 * kwh / top
        x, y = 10 + 40 * i, 140 - bh
        parts.append(
            f"<rect class='bar' x='{x}' y='{y:.1f}' width='{bar}' height='{bh:.1f}' "
            f"fill='#2a6'><title>{_e(month)}: {_e(num_it(kwh, 0, lang))} kWh</title></rect>"
            f"<text x='{x + bar / 2}' y='{y - 3:.1f}' font-size='9' text-anchor='middle'>"
            f"{_e(num_it(kwh, 0, lang))}</text>"
            f"<text x='{x + bar / 2}' y='155' font-size='9' text-anchor='middle'>"
            f"{_e(month[5:])}/{_e(month[2:4])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _consumption(b: ItalianBill) -> str:
    lang = b.language
    bands = " · ".join(f"{k} {num_it(v, 0, lang)} kWh" for k, v in b.consumption_by_band.items())
    annual = (
        b.label("annual_none") if b.annual_kwh is None else f"{num_it(b.annual_kwh, 0, lang)} kWh"
    )
    out = (
        f"<table><tr><th>{_e(b.label('billed'))}</th><td>"
        f"{_e(num_it(b.bill.energy_kwh, 0, lang))} kWh ({_e(bands)})</td></tr>"
        f"<tr><th>{_e(b.label('annual'))}</th><td>{_e(annual)}</td></tr></table>"
    )
    if b.history:
        out += f"<h2>{_e(b.label('history'))}</h2>{history_svg(b.history, lang)}"
    return out


def _readings(b: ItalianBill) -> str:
    if not b.readings:
        return ""
    lang = b.language
    regs = list(b.readings[0].registers)
    head = "".join(f"<th>{_e(r)} (kWh)</th>" for r in regs)
    rows = "".join(
        f"<tr><td>{_day(r.read_date)}</td>"
        + "".join(f"<td class='n'>{_e(num_it(r.registers[g], 0, lang))}</td>" for g in regs)
        + f"<td>{_e(KIND_NAMES[lang].get(r.kind, r.kind))}</td></tr>"
        for r in b.readings
    )
    return (
        f"<h2>{_e(b.label('readings'))}</h2><table><tr><th>{_e(b.label('date'))}</th>"
        f"{head}<th>{_e(b.label('kind'))}</th></tr>{rows}</table>"
    )


def _lines(b: ItalianBill) -> str:
    lang = b.language
    head = "".join(
        f"<th>{_e(b.label(k))}</th>" for k in ("item", "band", "quantity", "unit_price", "amount")
    )
    rows = []
    for ln in b.bill.lines:
        price = "" if ln.unit_price is None else f"{ln.unit_price:.6g} {ln.price_unit}"
        rows.append(
            f"<tr><td>{_e(ln.label)}</td><td>{_e(ln.band or '')}</td>"
            f"<td class='n'>{_e(num_it(ln.quantity, 3, lang))} {_e(ln.quantity_unit)}</td>"
            f"<td class='n'>{_e(price)}</td><td class='n'>{_e(eur(ln.amount, lang))}</td></tr>"
        )
    return f"<h2>{_e(b.label('details'))}</h2><table><tr>{head}</tr>{''.join(rows)}</table>"


def _one(b: ItalianBill) -> str:
    warn = "".join(f"<p class='warn'>{_e(w)}</p>" for w in b.warnings)
    notes = "".join(f"<p class='note'>{_e(n)}</p>" for n in b.bill.notes)
    return (
        f"<section class='bill'><h1>{_e(b.label('title'))}</h1>{_header(b)}{warn}"
        f"{_quadro(b)}{_consumption(b)}{_readings(b)}{_lines(b)}{notes}</section>"
    )


def bolletta_html(bills: Sequence[ItalianBill]) -> str:
    """A self-contained HTML page of one or more bills (one printed page each)."""
    lang = bills[0].language if bills else "it"
    body = "".join(_one(b) for b in bills)
    return (
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<title>{_e(bills[0].label('title') if bills else '')}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )


def write_bolletta(bills: Sequence[ItalianBill], out: Path) -> Path:
    """Write the bills as ``.html`` or ``.pdf`` (by suffix); nothing half-written."""
    from gridtwin.cli._common import writing

    page = bolletta_html(bills)
    if out.suffix.lower() == ".pdf":
        from gridtwin.quality.report import write_pdf

        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "bolletta.html"
            src.write_text(page, encoding="utf-8")
            return write_pdf(src, out)
    with writing(out) as tmp_out:
        Path(tmp_out).write_text(page, encoding="utf-8")
    return out
