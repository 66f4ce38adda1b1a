"""Terminal rendering (rich) of bills, comparisons and tables. Adapter code: no rules here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.billing import Bill, Comparison

__all__ = ["bill_panel", "comparison_table", "frame_table", "kv_table"]


def _num(x: float, digits: int = 2) -> str:
    return f"{x:,.{digits}f}"


def bill_panel(b: Bill, explain: bool = True) -> Panel:
    """An itemised bill as a rich panel: sections, lines, subtotals, total, explanations."""
    from gridtwin.billing._band_names import band_name
    from gridtwin.tariffs._schema import SECTIONS

    table = Table(show_header=True, header_style="bold", expand=False, pad_edge=False)
    for col, justify in (
        ("Item", "left"),
        ("Band", "left"),
        ("Quantity", "right"),
        ("Unit price", "right"),
        (f"Amount {b.currency}", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    split = len({(ln.period_from, ln.period_to) for ln in b.lines}) > 1
    explanations: list[str] = []
    for section in SECTIONS:
        lines = [ln for ln in b.lines if ln.section == section]
        if not lines:
            continue
        table.add_row(f"[bold]{b.section_title(section)}[/bold]", "", "", "", "")
        for ln in lines:
            price = "" if ln.unit_price is None else f"{ln.unit_price:.6g} {ln.price_unit}"
            label = f"  {ln.label}"
            if split:
                label += f" ({ln.period_from:%d.%m.%Y}–{ln.period_to:%d.%m.%Y})"
            table.add_row(
                label,
                band_name(ln.band, b.language),
                f"{_num(ln.quantity, 3)} {ln.quantity_unit}",
                price,
                _num(float(ln.amount)),
            )
            if ln.explanation and ln.explanation not in explanations:
                explanations.append(f"{ln.label}: {ln.explanation}")
        table.add_row(
            "",
            "",
            "",
            "[italic]subtotal[/italic]",
            f"[italic]{_num(float(b.subtotals.get(section, 0)))}[/italic]",
        )
    table.add_row("[bold]TOTAL[/bold]", "", "", "", f"[bold]{b.total:,}[/bold]")
    bands = ", ".join(f"{k} {_num(v, 1)} kWh" for k, v in b.energy_by_band_kwh.items())
    header = (
        f"[bold]{b.tariff_name}[/bold] ({b.tariff_id})\nmeter {b.meter_id} · "
        f"{b.period_from} → {b.period_to} (end exclusive) · consumption "
        f"{_num(b.energy_kwh, 1)} kWh ({bands})"
    )
    if b.max_power_kw is not None:  # absent from register readings
        header += f" · max power {_num(b.max_power_kw, 2)} kW"
    parts: list[object] = [header, table]
    if explain and explanations:
        parts.append("[dim]" + "\n".join(explanations) + "[/dim]")
    if b.notes:
        parts.append("[yellow]" + "\n".join(b.notes) + "[/yellow]")
    return Panel(Group(*parts), title="Bill", expand=False)  # type: ignore[arg-type]


def comparison_table(c: Comparison) -> Table:
    """Offers ranked cheapest first with the saving against the most expensive."""
    p0, p1 = c.periods[0][0], c.periods[-1][1]
    table = Table(title=f"Offer comparison {p0} → {p1} ({c.currency})")
    for col in ("#", "Tariff", "Name", "Total", "Extra vs best", "Saving vs worst"):
        table.add_column(col, justify="right" if col not in ("Tariff", "Name") else "left")
    for i, row in c.table.iterrows():
        table.add_row(
            str(int(str(i)) + 1),
            str(row["tariff_id"]),
            str(row["name"]),
            _num(row["total"]),
            _num(row["extra_vs_best"]),
            _num(row["saving_vs_worst"]),
        )
    return table


def frame_table(frame: pd.DataFrame, title: str = "", digits: int = 2) -> Table:
    """Any small DataFrame as a rich table (floats with ``digits`` decimals)."""
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col), justify="right" if frame[col].dtype.kind in "fi" else "left")
    for _, row in frame.iterrows():
        table.add_row(*[_cell(v, digits) for v in row])
    return table


def _cell(v: object, digits: int) -> str:
    """A table cell: floats with ``digits`` decimals, a missing value (NaN) as a dash."""
    if isinstance(v, float):
        return "—" if v != v else f"{v:.{digits}f}"
    return str(v)


def kv_table(title: str, rows: dict[str, object]) -> Table:
    """Items and values as a two-column table (floats with 6 significant digits)."""
    table = Table(title=title, show_header=False)
    table.add_column("item", style="bold")
    table.add_column("value")
    for key, value in rows.items():
        table.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
    return table
