"""Terminal rendering (rich) of an Italian bill as ARERA's Bolletta 2.0. Adapter code:
the numbers and texts come from :class:`gridtwin.billing._it_bill.ItalianBill`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from gridtwin.billing._it_bill import KIND_NAMES

if TYPE_CHECKING:
    from decimal import Decimal

    from gridtwin.billing._it_bill import ItalianBill

__all__ = ["bolletta_panel", "eur", "kw_text", "num_it"]


def num_it(x: float, digits: int = 2, lang: str = "it") -> str:
    """A number with Italian separators (1.234,56) or English ones (1,234.56)."""
    text = f"{x:,.{digits}f}"
    if lang != "it":
        return text
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def eur(x: Decimal | float, lang: str = "it") -> str:
    """An amount in euro in the bill's language."""
    return f"{num_it(float(x), 2, lang)} €"


def kw_text(x: float | None, b: ItalianBill, none_key: str = "available_none") -> str:
    """A power in kW, or the page's text for a missing one."""
    return b.label(none_key) if x is None else f"{num_it(x, 1, b.language)} kW"


def _last_day(end_exclusive: dt.date) -> dt.date:
    """The last day of a period given with an exclusive end (bills print inclusive)."""
    return end_exclusive - dt.timedelta(days=1)


def _header(b: ItalianBill) -> Table:
    lang = b.language
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    p = b.bill
    rows = [
        ("pod", b.pod),
        ("address", b.address or b.label("address_missing")),
        ("offer", p.tariff_name),
        ("customer", b.customer_type),
        ("power", kw_text(b.potenza_impegnata_kw, b, "annual_none")),
        ("available", kw_text(b.potenza_disponibile_kw, b)),
        ("voltage", b.voltage),
        (
            "period",
            f"{p.period_from:%d/%m/%Y} – {_last_day(p.period_to):%d/%m/%Y}",
        ),
        ("issued", f"{b.issue_date:%d/%m/%Y}"),
        ("due", f"{b.due_date:%d/%m/%Y}"),
    ]
    for key, value in rows:
        t.add_row(b.label(key), value)
    if p.max_power_kw is not None:
        t.add_row(b.label("max_power"), f"{num_it(p.max_power_kw, 2, lang)} kW")
    return t


def _quadro(b: ItalianBill, explain: bool) -> Table:
    lang = b.language
    t = Table(title=b.label("quadro"), show_header=True, header_style="bold")
    t.add_column(b.label("section"))
    t.add_column(b.label("amount"), justify="right")
    for row in b.quadro():
        t.add_row(row.title, eur(row.amount, lang))
        if explain:
            t.add_row(f"[dim]  {row.explanation}[/dim]", "")
        if row.key == "ricalcoli":
            for r in b.ricalcoli:
                t.add_row(
                    f"  {b.label('ricalcolo')} {r.period_from:%d/%m/%Y}–"
                    f"{_last_day(r.period_to):%d/%m/%Y}",
                    eur(r.amount, lang),
                )
    t.add_row(f"[bold]{b.label('total')}[/bold]", f"[bold]{eur(b.total_to_pay, lang)}[/bold]")
    return t


def _readings(b: ItalianBill) -> Table | None:
    if not b.readings:
        return None
    lang = b.language
    regs = list(b.readings[0].registers)
    t = Table(title=b.label("readings"), header_style="bold")
    t.add_column(b.label("date"))
    for r in regs:
        t.add_column(f"{r} (kWh)", justify="right")
    t.add_column(b.label("kind"))
    for row in b.readings:
        t.add_row(
            f"{row.read_date:%d/%m/%Y}",
            *[num_it(row.registers[r], 0, lang) for r in regs],
            KIND_NAMES[lang].get(row.kind, row.kind),
        )
    return t


def _consumption(b: ItalianBill) -> Table:
    lang = b.language
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    bands = " · ".join(f"{k} {num_it(v, 0, lang)} kWh" for k, v in b.consumption_by_band.items())
    t.add_row(b.label("billed"), f"{num_it(b.bill.energy_kwh, 0, lang)} kWh ({bands})")
    annual = (
        b.label("annual_none") if b.annual_kwh is None else f"{num_it(b.annual_kwh, 0, lang)} kWh"
    )
    t.add_row(b.label("annual"), annual)
    if b.history:
        top = max(k for _m, k in b.history) or 1.0
        for month, kwh in b.history:
            bar = "█" * round(24 * kwh / top)
            t.add_row(f"  {month}", f"{bar} {num_it(kwh, 0, lang)} kWh")
    return t


def _lines(b: ItalianBill) -> Table:
    lang = b.language
    t = Table(title=b.label("details"), header_style="bold")
    for col in ("item", "band", "quantity", "unit_price", "amount"):
        t.add_column(b.label(col), justify="left" if col in ("item", "band") else "right")
    for ln in b.bill.lines:
        price = "" if ln.unit_price is None else f"{ln.unit_price:.6g} {ln.price_unit}"
        t.add_row(
            ln.label,
            ln.band or "",
            f"{num_it(ln.quantity, 3, lang)} {ln.quantity_unit}",
            price,
            eur(ln.amount, lang),
        )
    return t


def bolletta_panel(b: ItalianBill, explain: bool = True) -> Panel:
    """The whole Bolletta 2.0 as a rich panel: header, quadro sintetico (with the section
    explanations), consumption and history, readings, bill lines, warnings and notes."""
    parts: list[object] = [_header(b), _quadro(b, explain), _consumption(b)]
    readings = _readings(b)
    if readings is not None:
        parts.append(readings)
    parts.append(_lines(b))
    if b.warnings:
        parts.append("[bold red]" + "\n".join(b.warnings) + "[/bold red]")
    if b.bill.notes:
        parts.append("[yellow]" + "\n".join(b.bill.notes) + "[/yellow]")
    return Panel(Group(*parts), title=b.label("title"), expand=False)  # type: ignore[arg-type]
