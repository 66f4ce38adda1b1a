"""The ``gridtwin`` command line (typer + rich). An adapter: no domain logic here."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import typer
from rich.progress import Progress

from gridtwin._console import bill_panel, comparison_table, console, frame_table
from gridtwin.billing import (
    BillingResult,
    bill,
    bill_band_totals,
    bill_for,
    compare,
    default_periods,
    lines_frame,
)
from gridtwin.errors import GridTwinError, InputError
from gridtwin.heatnet._cli import norms_app
from gridtwin.network._cli_studies import network_app
from gridtwin.quality._cli import quality_app
from gridtwin.tariffs import builtin_tariff_ids, get_tariff
from gridtwin.timeseries import IntervalData

app = typer.Typer(
    help="gridtwin: digital twin of electricity distribution and supply.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
tariffs_app = typer.Typer(help="Built-in and user tariffs.", no_args_is_help=True)
app.add_typer(tariffs_app, name="tariffs")
app.add_typer(network_app, name="network")
app.add_typer(norms_app, name="norms")
app.add_typer(quality_app, name="quality")

Format = Literal["table", "json", "csv"]
FORMAT_HELP = "Output format: table, json or csv."


def _parse_props(props: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in props:
        key, sep, value = item.partition("=")
        if not sep or not key:
            msg = f"--prop {item!r}: write it as name=value (e.g. resident=true)"
            raise InputError(msg)
        low = value.lower()
        if low in ("true", "false"):
            out[key] = low == "true"
        else:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out


def _parse_period(text: str) -> tuple[dt.date, dt.date]:
    start, _sep, end = text.partition(":")
    try:
        return dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        msg = f"--period {text!r}: write it as YYYY-MM-DD:YYYY-MM-DD (end exclusive)"
        raise InputError(msg) from None


def _read_series(items: list[str]) -> dict[str, pd.Series]:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            msg = f"--series {item!r}: write it as NAME=file.csv (columns timestamp,value)"
            raise InputError(msg)
        try:
            frame = pd.read_csv(path)
        except OSError as exc:
            msg = f"--series {name}: cannot read {path}: {exc.strerror}"
            raise InputError(msg) from exc
        if list(frame.columns[:2]) != ["timestamp", "value"]:
            msg = f"{path}: expected columns timestamp,value; found {list(frame.columns)}"
            raise InputError(msg)
        index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], utc=True))
        out[name] = pd.Series(frame["value"].to_numpy(dtype=float), index=index)
    return out


def _emit(result: BillingResult, fmt: Format, output: Path | None, meter: str | None) -> None:
    meters = [result.meter_ids.index(meter)] if meter else range(len(result.meter_ids))
    if output is not None and output.suffix.lower() in (".parquet", ".pq"):
        frame = lines_frame(result)
        if meter:
            frame = frame[frame["meter_id"] == meter]
        tmp = output.with_name(output.name + ".tmp")
        frame.to_parquet(tmp, index=False)
        tmp.replace(output)  # nothing half-written
        console().print(f"wrote {len(frame)} bill lines to {output}")
        return
    if fmt == "csv":
        frame = lines_frame(result)
        if meter:
            frame = frame[frame["meter_id"] == meter]
        text = frame.to_csv(index=False)
    elif fmt == "json":
        bills = [
            bill_for(result, m, p).to_dict() for m in meters for p in range(len(result.periods))
        ]
        text = json.dumps(bills, indent=2, ensure_ascii=False)
    else:
        con = console()
        for m in list(meters)[:20]:
            for p in range(len(result.periods)):
                con.print(bill_panel(bill_for(result, m, p)))
        if len(meters) > 20:
            con.print(f"... {len(meters) - 20} more meters: use --format csv/json or --meter")
        return
    if output:
        output.write_text(text, encoding="utf-8")
        console().print(f"wrote {output}")
    else:
        sys.stdout.write(text)


def _bill_chunked(tariff_id: str, data: IntervalData, chunk: int, **kw: Any) -> BillingResult:
    """Bill many meters in chunks with a progress bar; results concatenated."""
    tariff = get_tariff(tariff_id)
    if data.n_meters <= chunk:
        return bill(tariff, data, **kw)
    parts = []
    with Progress(transient=True) as progress:
        task = progress.add_task("billing", total=data.n_meters)
        for s in range(0, data.n_meters, chunk):
            part = data.select(list(data.meter_ids[s : s + chunk]))
            parts.append(bill(tariff, part, **kw))
            progress.advance(task, part.n_meters)
    first = parts[0]
    return BillingResult(
        tariff=first.tariff,
        meter_ids=data.meter_ids,
        periods=first.periods,
        lines=first.lines,
        quantity=_cat([p.quantity for p in parts]),
        amount=_cat([p.amount for p in parts]),
        applies=_cat([p.applies for p in parts]),
        energy_by_band_kwh=_cat([p.energy_by_band_kwh for p in parts]),
        bands=first.bands,
        max_power_source=lambda: _cat([p.max_power_kw for p in parts]),
        missing_intervals=_cat([p.missing_intervals for p in parts]),
        notes=first.notes,
    )


def _cat(arrays: list[Any]) -> Any:
    return np.concatenate(arrays, axis=0)


def _run(fn: Any) -> None:
    """Run a command body; print GridTwinError cleanly with exit code 2."""
    try:
        fn()
    except GridTwinError as exc:
        console().print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(code=2) from exc


@tariffs_app.command("list")
def tariffs_list(
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
    sets: Annotated[bool, typer.Option(help="Also list component sets.")] = False,
) -> None:
    """List the built-in tariffs with their validity and source."""

    def body() -> None:
        rows = []
        for tid in builtin_tariff_ids(include_sets=sets):
            t = get_tariff(tid)
            start, end = t.validity()
            rows.append(
                {
                    "id": tid,
                    "kind": t.doc.kind,
                    "jurisdiction": t.doc.jurisdiction,
                    "currency": t.currency,
                    "valid_from": str(start),
                    "valid_to": str(end or "open"),
                    "name": t.doc.name,
                    "provisional": "yes" if t.doc.provisional else "",
                }
            )
        frame = pd.DataFrame(rows)
        _print_frame(frame, fmt, "Built-in tariffs")

    _run(body)


def _print_frame(frame: pd.DataFrame, fmt: str, title: str) -> None:
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(frame.to_json(orient="records", indent=2, force_ascii=False) + "\n")
    else:
        console().print(frame_table(frame, title))


@tariffs_app.command("show")
def tariffs_show(
    tariff: str,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Show a tariff (built-in id or file): source, properties, versions and components."""

    def body() -> None:
        t = get_tariff(tariff)
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

    _run(body)


@tariffs_app.command("revision")
def tariffs_revision(
    level: Annotated[str | None, typer.Option(help="Voltage level, e.g. LV_general.")] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
    table: Annotated[
        str, typer.Option(help="revision (TOU old/new), private-deal, or system-management")
    ] = "revision",
) -> None:
    """Israeli tariff analysis of 1.2.2015 (seed 003), to the published two decimals."""
    from gridtwin.tariffs import il_analysis as il

    def body() -> None:
        tables = il.load_tables_2015()
        if table == "revision":
            frame = il.revision_table(tables.tou_old_agorot_per_kwh, tables.tou_new_agorot_per_kwh)
            if level:
                frame = pd.DataFrame(frame.xs(level, level="voltage_level", drop_level=False))
        elif table == "private-deal":
            frame = il.private_deal_table(tables, level or "HV_general")
        elif table == "system-management":
            frame = il.system_management_table(tables, level or "LV_general")
        else:
            msg = f"--table {table!r}: use revision, private-deal or system-management"
            raise InputError(msg)
        _print_frame(il.present(frame).reset_index(), fmt, f"Israel 2015: {table}")

    _run(body)


@app.command("bill")
def bill_cmd(
    tariff: Annotated[str, typer.Option(help="Built-in tariff id or a tariff file.")],
    data: Annotated[Path | None, typer.Option(help="Interval data (CSV/Parquet).")] = None,
    readings: Annotated[Path | None, typer.Option(help="Register readings CSV.")] = None,
    pod: Annotated[str | None, typer.Option(help="Point of delivery (with --readings).")] = None,
    period: Annotated[
        list[str] | None,
        typer.Option(help="Billing period START:END (local dates, end exclusive); repeatable."),
    ] = None,
    whole: Annotated[bool, typer.Option(help="One period for all the data.")] = False,
    prop: Annotated[list[str] | None, typer.Option(help="Customer property name=value.")] = None,
    series: Annotated[list[str] | None, typer.Option(help="Price series NAME=file.csv.")] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of naive timestamps.")] = None,
    meter: Annotated[str | None, typer.Option(help="Only this meter.")] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
    output: Annotated[
        Path | None, typer.Option(help="Write to a file (.parquet: the table of all bill lines).")
    ] = None,
    allow_gaps: Annotated[bool, typer.Option(help="Bill despite gaps (marked).")] = False,
) -> None:
    """Bill interval data (or register readings) under a tariff: itemised bills."""
    from gridtwin.ingest import consumption_by_register, read_intervals, read_register_readings

    def body() -> None:
        props = _parse_props(prop or [])
        periods = [_parse_period(p) for p in period or []]
        if readings is not None:
            if pod is None or len(periods) != 1:
                msg = "--readings needs --pod and exactly one --period START:END"
                raise InputError(msg)
            cons = consumption_by_register(read_register_readings(readings), *periods[0], pod=pod)
            result = bill_band_totals(
                get_tariff(tariff),
                cons.energy_kwh_by_band,
                periods[0],
                pod=pod,
                customers=props,
                estimated=cons.estimated,
            )
        elif data is not None:
            d = read_intervals(data, timezone=timezone)
            t = get_tariff(tariff)
            chosen = periods or default_periods(t, d, "whole" if whole else "month")
            result = _bill_chunked(
                tariff,
                d,
                2000,
                periods=chosen,
                customers=props,
                series=_read_series(series or []),
                allow_gaps=allow_gaps,
            )
        else:
            msg = "give --data FILE (interval data) or --readings FILE (register readings)"
            raise InputError(msg)
        _emit(result, fmt, output, meter)  # type: ignore[arg-type]

    _run(body)


@app.command("compare")
def compare_cmd(
    tariff: Annotated[list[str], typer.Option(help="Tariffs/offers to rank; repeatable.")],
    data: Annotated[Path, typer.Option(help="Interval data (CSV/Parquet).")],
    meter: Annotated[str | None, typer.Option(help="Meter to use (default: first).")] = None,
    period: Annotated[list[str] | None, typer.Option(help="Period START:END.")] = None,
    prop: Annotated[list[str] | None, typer.Option(help="Customer property name=value.")] = None,
    series: Annotated[list[str] | None, typer.Option(help="Price series NAME=file.csv.")] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of naive timestamps.")] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """Rank offers for one consumption profile, with the saving of each."""
    from gridtwin.ingest import read_intervals

    def body() -> None:
        d = read_intervals(data, timezone=timezone)
        m = d.meter_ids.index(meter) if meter else 0
        periods = [_parse_period(p) for p in period or []] or None
        c = compare(
            [get_tariff(t) for t in tariff],
            d,
            meter=m,
            periods=periods,
            customers=_parse_props(prop or []),
            series=_read_series(series or []),
        )
        if fmt == "table":
            console().print(comparison_table(c))
            for n in c.notes:
                console().print(f"[yellow]{n}[/yellow]")
        else:
            _print_frame(c.table, fmt, "comparison")

    _run(body)


@app.command("demo")
def demo_cmd() -> None:
    """The main job: bill a year of 15-min data under each built-in tariff."""
    from gridtwin.demo import run_demo

    _run(lambda: run_demo(console()))


def main() -> None:
    """Entry point of the ``gridtwin`` script."""
    app()
