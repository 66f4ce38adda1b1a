"""``gridtwin tariffs list|show|revision``: the built-in and user tariffs."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from gridtwin.cli._common import check_choice, console, frame_text, run
from gridtwin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

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
                    con.print(f"    - {c.id} [{c.kind}, {c.section}] {c.label}")

    run(body)


@app.command("revision")
def tariffs_revision(
    level: Annotated[str | None, typer.Option(help="Voltage level, e.g. LV_general.")] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
    table: Annotated[
        str, typer.Option(help="revision (TOU old/new), private-deal, or system-management")
    ] = "revision",
) -> None:
    """Israeli tariff analysis of 1.2.2015 (seed 003), to the published two decimals."""

    def body() -> None:
        from gridtwin.workflows.tariffs import israel_2015_table

        if table not in ("revision", "private-deal", "system-management"):
            msg = f"--table {table!r}: use revision, private-deal or system-management"
            raise InputError(msg)
        try:
            frame = israel_2015_table(table, level)
        except InputError as exc:
            if level and "voltage level" in str(exc):
                msg = f"--level: {exc}"
                raise InputError(msg) from exc
            raise
        print_frame(frame, fmt, f"Israel 2015: {table}")

    run(body)
