"""``gridtwin bill`` for Italian tariffs: the Bolletta 2.0 layout (terminal, JSON, HTML,
PDF), readings over several periods with ricalcoli. Called from :mod:`gridtwin.cli.billing`
when the tariff's language is Italian."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridtwin.cli._common import check_choice, console, write_text
from gridtwin.errors import InputError

if TYPE_CHECKING:
    from rich.table import Table

    from gridtwin.billing import BillingResult, Comparison
    from gridtwin.billing._it_bill import ItalianBill
    from gridtwin.tariffs import Tariff

__all__ = [
    "ItalianOptions",
    "comparison_it_table",
    "emit_italian",
    "interval_bills",
    "is_italian",
    "readings_bills",
]


def is_italian(tariff: Tariff) -> bool:
    """True for tariffs written in Italian (the Bolletta 2.0 layout applies)."""
    return tariff.doc.language == "it" or tariff.doc.jurisdiction == "IT"


@dataclass(frozen=True)
class ItalianOptions:
    """The bill-page options of ``gridtwin bill`` for an Italian tariff."""

    lang: str
    address: str | None
    payment_days: int
    props: dict[str, Any]
    pod: str | None


def interval_bills(
    result: BillingResult, opts: ItalianOptions, meter: str | None
) -> list[ItalianBill]:
    """Interval-data bills of every meter (or one) and period as Bolletta 2.0."""
    from gridtwin.billing import bill_for
    from gridtwin.billing._it_bill import italian_bill
    from gridtwin.workflows.it_bill import monthly_history

    if meter and meter not in result.meter_ids:
        shown = ", ".join(result.meter_ids[:10])
        msg = f"--meter {meter!r}: no such meter in the data; its meter(s): {shown}"
        raise InputError(msg)
    meters = [result.meter_ids.index(meter)] if meter else range(len(result.meter_ids))
    out = []
    for m in meters:
        seen: dict[tuple[dt.date, dt.date], dict[str, float]] = {}
        for p in range(len(result.periods)):
            b = bill_for(result, m, p)
            seen[(b.period_from, b.period_to)] = {"all": b.energy_kwh}
            out.append(
                italian_bill(
                    b,
                    customers=opts.props,
                    language=opts.lang,  # type: ignore[arg-type]
                    pod=opts.pod or b.meter_id,
                    address=opts.address,
                    history=monthly_history(seen),
                    payment_days=opts.payment_days,
                )
            )
    return out


def readings_bills(
    tariff: Tariff,
    readings: Path,
    periods: list[tuple[dt.date, dt.date]],
    opts: ItalianOptions,
) -> list[ItalianBill]:
    """Readings billed period after period, with ricalcoli, as Bolletta 2.0."""
    from gridtwin.billing._it_bill import italian_bill
    from gridtwin.workflows.it_bill import ReadingsBills

    done = ReadingsBills(tariff, readings, opts.pod, periods or None, opts.props).run()
    return [
        italian_bill(
            pb.bill,
            customers=opts.props,
            language=opts.lang,  # type: ignore[arg-type]
            pod=pb.bill.meter_id,
            address=opts.address,
            readings=pb.readings,
            history=pb.history,
            ricalcoli=pb.ricalcoli,
            payment_days=opts.payment_days,
            billed_by_band_kwh=pb.kwh_by_register,
        )
        for pb in done
    ]


def emit_italian(bills: list[ItalianBill], fmt: str, output: Path | None) -> None:
    """Print or write Italian bills: terminal panels, JSON (each bill's lines plus its
    ``bolletta`` view, strict), or an .html/.pdf page."""
    from gridtwin.cli._render_it import bolletta_panel
    from gridtwin.cli._render_it_html import write_bolletta

    check_choice(fmt, "--format", ("table", "json"))
    if output is not None and output.suffix.lower() in (".html", ".htm", ".pdf"):
        write_bolletta(bills, output)
        console().print(f"wrote {len(bills)} bill(s) to {output}")
        return
    if fmt == "json":
        data = [{**b.bill.to_dict(), "bolletta": b.to_dict()} for b in bills]
        write_text(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False), output)
        return
    if output is not None:
        msg = (
            f"--output {output}: an Italian bill is written as .html, .pdf or (--format json) .json"
        )
        raise InputError(msg)
    con = console()
    for b in bills[:20]:
        con.print(bolletta_panel(b))
    if len(bills) > 20:
        con.print(f"... {len(bills) - 20} more bills: use --format json or --output bill.html")


def comparison_it_table(c: Comparison) -> Table:
    """Italian offers ranked: eligible ones numbered, cheapest first; the others after
    them, unnumbered, with the reason."""
    from rich.table import Table

    from gridtwin.cli._render_it import num_it

    p0, p1 = c.periods[0][0], c.periods[-1][1]
    table = Table(title=f"Confronto offerte {p0} → {p1} ({c.currency})")
    for col in ("#", "Offerta", "Nome", "Totale", "Extra vs migliore", "Risparmio", "Note"):
        table.add_column(col, justify="right" if col in ("#", "Totale") else "left")
    rank = 0
    for _, row in c.table.iterrows():
        ok = bool(row["eligible"])
        rank += ok
        table.add_row(
            str(rank) if ok else "–",
            str(row["tariff_id"]),
            str(row["name"]),
            num_it(float(row["total"])),
            num_it(float(row["extra_vs_best"])),
            num_it(float(row["saving_vs_worst"])),
            "" if ok else f"[yellow]{row['note']}[/yellow]",
        )
    return table
