"""``gridtwin tariffs list|show|revision|deal``: the built-in and user tariffs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridtwin.cli._common import check_choice, console, frame_text, run
from gridtwin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.tariffs import Tariff

__all__ = ["FORMAT_HELP", "app", "print_frame"]

app = typer.Typer(help="Built-in and user tariffs.", no_args_is_help=True)

FORMAT_HELP = "Output format: table, json or csv."


def print_frame(frame: pd.DataFrame, fmt: str, title: str) -> None:
    """A frame as CSV, JSON records or a terminal table."""
    from gridtwin.cli._render import frame_table

    check_choice(fmt, "--format", ("table", "json", "csv"))
    if fmt in ("csv", "json"):
        sys.stdout.write(frame_text(frame, fmt))
    else:
        console().print(frame_table(frame, title))


@app.command("list")
def tariffs_list(
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
    sets: Annotated[bool, typer.Option(help="Also list component sets.")] = False,
) -> None:
    """List the built-in tariffs with their validity and source."""

    def body() -> None:
        from gridtwin.workflows.tariffs import tariff_catalogue

        print_frame(tariff_catalogue(include_sets=sets), fmt, "Built-in tariffs")

    run(body)


@app.command("show")
def tariffs_show(
    tariff: str,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Show a tariff (built-in id or file): source, properties, versions and components."""

    def body() -> None:
        from gridtwin.cli._tariff_prices import component_prices
        from gridtwin.workflows.tariffs import load_tariff

        t = load_tariff(tariff)
        if fmt == "json":
            docs = [d.model_dump(mode="json", by_alias=True) for d in t.documents()]
            sys.stdout.write(json.dumps(docs, indent=2, ensure_ascii=False) + "\n")
            return
        con = console()
        for doc in t.documents():
            con.print(f"[bold]{doc.name}[/bold] ({doc.id}, {doc.kind}, {doc.currency})")
            con.print(f"  source: {doc.source.title} {doc.source.url or ''}")
            if doc.provisional:
                con.print(f"  [yellow]provisional: {doc.provisional}[/yellow]")
            for name, spec in doc.properties.items():
                con.print(
                    f"  property {name} ({spec.type}): {spec.description or ''} "
                    f"allowed={spec.allowed} default={spec.default}"
                )
            for v in doc.versions:
                con.print(f"  version {v.valid_from} → {v.valid_to or 'open'}")
                for c in (*v.components, *v.taxes):
                    con.print(
                        f"    - {c.id} [{c.kind}, {c.section}] {c.label}",
                        markup=False,
                        highlight=False,
                    )
                    con.print(
                        f"      {component_prices(c, doc.currency)}",
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )

    run(body)


@app.command("revision")
def tariffs_revision(
    level: Annotated[
        str | None,
        typer.Option(help="Voltage level: LV, HV or EHV (as `bill` takes it), or e.g. LV_general."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
    table: Annotated[
        str,
        typer.Option(
            help="revision (1-5.2), generation (6.3.x), infrastructure (7.x), "
            "system-management (section 9), private-deal (section 10), recognised-costs (II)"
        ),
    ] = "revision",
    group: Annotated[
        str | None, typer.Option(help="Consumer group at LV/HV: general (default) or bulk.")
    ] = None,
    discount_percent: Annotated[
        float,
        typer.Option(help="Private deal: share of the recognised generation cost off the TOU [%]."),
    ] = 7.0,
) -> None:
    """Israeli tariff analysis of 1.2.2015 (seed 003), to the published two decimals."""

    def body() -> None:
        from gridtwin.workflows.tariffs import israel_2015_table

        frame = israel_2015_table(table, level, group, discount_percent)
        print_frame(frame, fmt, f"Israel 2015: {table}")

    run(body)


@app.command("deal")
def tariffs_deal(
    data: Annotated[Path, typer.Option(help="Interval data (CSV/Parquet), Israeli consumption.")],
    prop: Annotated[
        list[str] | None,
        typer.Option(help="Customer property name=value: voltage_level=HV (and consumer_group)."),
    ] = None,
    discount_percent: Annotated[
        float,
        typer.Option(help="Share of the recognised generation cost off the TOU [%] (seed: 7)."),
    ] = 7.0,
    period: Annotated[list[str] | None, typer.Option(help="Period START:END; repeatable.")] = None,
    meter: Annotated[str | None, typer.Option(help="Meter to use (default: first).")] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of naive timestamps.")] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """Bill interval data at the Israeli private-deal price and compare it with IEC's TOU.

    The deal price is the TOU rate (table 1-5.2) less --discount-percent of the recognised
    IEC generation cost (table 1-6.3.1), as in section 10 of seed 003.
    """

    def body() -> None:
        from gridtwin.cli._render import comparison_table
        from gridtwin.cli.eligibility import _period, _props
        from gridtwin.tariffs.il_private_deal import private_deal_tariff
        from gridtwin.workflows.billing import OfferComparison

        check_choice(fmt, "--format", ("table", "json", "csv"))
        if not 0.0 <= discount_percent <= 100.0:
            msg = f"--discount-percent {discount_percent}: give a share between 0 and 100"
            raise InputError(msg)
        deal = private_deal_tariff(discount_percent / 100.0)
        c = OfferComparison(
            [load_tariff_id("il-tou-2015"), deal],
            data,
            meter=meter,
            timezone=timezone,
            periods=[_period(p) for p in period or []] or None,
            customers=_props(prop or []),
        ).run()
        if fmt == "table":
            console().print(comparison_table(c))
            for n in c.notes:
                console().print(f"[yellow]{n}[/yellow]")
        else:
            print_frame(c.table, fmt, "private deal vs IEC TOU")

    run(body)


def load_tariff_id(tariff_id: str) -> Tariff:
    """A built-in tariff by id (imported lazily)."""
    from gridtwin.workflows.tariffs import load_tariff

    return load_tariff(tariff_id)
