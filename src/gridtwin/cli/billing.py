"""``gridtwin bill`` and ``gridtwin compare``: itemised bills and offer rankings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridtwin.cli._common import check_choice, check_output, console, run, write_text, writing
from gridtwin.cli.tariffs import FORMAT_HELP, print_frame
from gridtwin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.billing import BillingResult
    from gridtwin.workflows.billing import BillingRun

__all__ = ["register"]


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
    from gridtwin.workflows.billing import read_price_series

    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            msg = f"--series {item!r}: write it as NAME=file.csv (columns timestamp,value)"
            raise InputError(msg)
        column = None
        if not Path(path).exists() and ":" in path:  # NAME=file.csv:column
            path, _colon, column = path.rpartition(":")
        try:
            out[name] = read_price_series(path, column)
        except InputError as exc:
            msg = f"--series {name}: {exc}"
            raise InputError(msg) from exc
    return out


def _emit(
    result: BillingResult,
    fmt: str,
    output: Path | None,
    meter: str | None,
    lang: str | None = None,
) -> None:
    from gridtwin.billing import bill_for as _bill_for
    from gridtwin.billing import lines_frame
    from gridtwin.billing._band_names import in_language
    from gridtwin.cli._render import bill_panel

    def bill_for(res: BillingResult, m: int, p: int) -> Any:
        return in_language(_bill_for(res, m, p), lang)

    if meter and meter not in result.meter_ids:
        ids = result.meter_ids
        shown = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
        msg = f"--meter {meter!r}: no such meter in the data; its {len(ids)} meter(s): {shown}"
        raise InputError(msg)
    meters = [result.meter_ids.index(meter)] if meter else range(len(result.meter_ids))
    if output is not None and output.suffix.lower() in (".parquet", ".pq"):
        frame = lines_frame(result)
        if meter:
            frame = frame[frame["meter_id"] == meter]
        with writing(output) as tmp:  # nothing half-written
            frame.to_parquet(tmp, index=False)
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
        text = json.dumps(bills, indent=2, ensure_ascii=False, allow_nan=False)
    else:
        con = console()
        for m in list(meters)[:20]:
            for p in range(len(result.periods)):
                con.print(bill_panel(bill_for(result, m, p)))
        if len(meters) > 20:
            con.print(f"... {len(meters) - 20} more meters: use --format csv/json or --meter")
        return
    write_text(text, output)


def _bill_with_progress(job: BillingRun) -> BillingResult:
    """Run a billing job; a progress bar appears once it reports a first chunk of meters
    (jobs of one chunk show none)."""
    from rich.progress import Progress

    bar: Progress | None = None
    task: Any = None

    def advance(done: int, total: int) -> None:
        nonlocal bar, task
        if bar is None:
            bar = Progress(transient=True)
            bar.start()
            task = bar.add_task("billing", total=total)
        bar.update(task, completed=done, total=total)

    try:
        result = job.run(progress=advance)
    finally:
        if bar is not None:
            bar.stop()
    return result


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
    series: Annotated[
        list[str] | None, typer.Option(help="Price series NAME=file.csv[:column].")
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of naive timestamps.")] = None,
    meter: Annotated[str | None, typer.Option(help="Only this meter.")] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
    output: Annotated[
        Path | None, typer.Option(help="Write to a file (.parquet: the table of all bill lines).")
    ] = None,
    allow_gaps: Annotated[bool, typer.Option(help="Bill despite gaps (marked).")] = False,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Bill language: it, en or he (default: the tariff's)."),
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="Supply address printed on an Italian bill.")
    ] = None,
    payment_days: Annotated[
        int, typer.Option(help="Italian bill: days from issue to due date (offer's terms).")
    ] = 20,
) -> None:
    """Bill interval data (or register readings) under a tariff: itemised bills.

    Italian tariffs print as ARERA's Bolletta 2.0 (quadro sintetico, readings, history,
    ricalcoli; --output bill.html or bill.pdf for the page); their --readings may span
    several periods (one per pair of reading dates by default)."""

    def body() -> None:
        from gridtwin.billing._band_names import check_language
        from gridtwin.workflows.billing import BillingRun, ReadingsBilling

        check_choice(fmt, "--format", ("table", "json", "csv"))
        check_language(lang)
        check_output(output)
        props = _parse_props(prop or [])
        periods = [_parse_period(p) for p in period or []]
        italian = _italian_options(tariff, fmt, output, lang, address, payment_days, props, pod)
        if italian is not None and readings is not None:
            from gridtwin.cli._bill_it import emit_italian, readings_bills
            from gridtwin.tariffs import get_tariff

            t = get_tariff(tariff)
            emit_italian(readings_bills(t, readings, periods, italian), fmt, output)
            return
        result: BillingResult
        if readings is not None:
            if pod is None or len(periods) != 1:
                msg = "--readings needs --pod and exactly one --period START:END"
                raise InputError(msg)
            result = ReadingsBilling(tariff, readings, pod, periods[0], props).run()
        elif data is not None:
            job = BillingRun(
                tariff,
                data,
                timezone=timezone,
                periods=periods or None,
                period_kind="whole" if whole else "month",
                customers=props,
                series=_read_series(series or []),
                allow_gaps=allow_gaps,
            )
            result = _bill_with_progress(job)
        else:
            msg = "give --data FILE (interval data) or --readings FILE (register readings)"
            raise InputError(msg)
        if italian is not None:
            from gridtwin.cli._bill_it import emit_italian, interval_bills

            emit_italian(interval_bills(result, italian, meter), fmt, output)
            return
        _emit(result, fmt, output, meter, lang)

    run(body)


def compare_cmd(
    tariff: Annotated[list[str], typer.Option(help="Tariffs/offers to rank; repeatable.")],
    data: Annotated[Path | None, typer.Option(help="Interval data (CSV/Parquet).")] = None,
    meter: Annotated[str | None, typer.Option(help="Meter to use (default: first).")] = None,
    period: Annotated[list[str] | None, typer.Option(help="Period START:END.")] = None,
    prop: Annotated[list[str] | None, typer.Option(help="Customer property name=value.")] = None,
    series: Annotated[
        list[str] | None, typer.Option(help="Price series NAME=file.csv[:column].")
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of naive timestamps.")] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
    readings: Annotated[
        Path | None, typer.Option(help="Register readings CSV (Italian offers).")
    ] = None,
    pod: Annotated[str | None, typer.Option(help="Point of delivery (with --readings).")] = None,
    vulnerable: Annotated[
        bool, typer.Option(help="Vulnerable customer (may take the Italian tutela offer).")
    ] = False,
) -> None:
    """Rank offers for one consumption profile, with the saving of each.

    Italian offers can be compared from register readings (--readings) as well, PUN
    offers use the bundled monthly PUN unless --series is given, and the eligibility of
    each offer is shown."""

    def body() -> None:
        from gridtwin.cli._render import comparison_table
        from gridtwin.workflows.billing import OfferComparison

        check_choice(fmt, "--format", ("table", "json", "csv"))
        if _compare_italian(tariff, data, readings, pod, meter, timezone, vulnerable,
                            period, prop, series, fmt):  # fmt: skip
            return
        if data is None:
            msg = "give --data FILE (interval data); --readings is for Italian offers"
            raise InputError(msg)
        c = OfferComparison(
            tariff,
            data,
            meter=meter,
            timezone=timezone,
            periods=[_parse_period(p) for p in period or []] or None,
            customers=_parse_props(prop or []),
            series=_read_series(series or []),
        ).run()
        if fmt == "table":
            console().print(comparison_table(c))
            for n in c.notes:
                console().print(f"[yellow]{n}[/yellow]")
        else:
            print_frame(c.table, fmt, "comparison")

    run(body)


def _italian_options(
    tariff: str,
    fmt: str,
    output: Path | None,
    lang: str | None,
    address: str | None,
    payment_days: int,
    props: dict[str, Any],
    pod: str | None,
) -> Any:
    """The Bolletta 2.0 options when the tariff is Italian and the output is a bill page
    (terminal, JSON, HTML, PDF); None otherwise (CSV/Parquet lines, other tariffs)."""
    from gridtwin.cli._bill_it import ItalianOptions, is_italian
    from gridtwin.tariffs import get_tariff

    if fmt == "csv" or (output is not None and output.suffix.lower() in (".parquet", ".pq")):
        return None
    if not is_italian(get_tariff(tariff)):
        if address is not None:
            msg = "--address is for Italian tariffs (the Bolletta 2.0 layout)"
            raise InputError(msg)
        return None  # --lang: the bill's band names and titles (e.g. he/en for Israel)
    check_choice(lang or "it", "--lang", ("it", "en"))
    return ItalianOptions(lang or "it", address, payment_days, props, pod)


def _compare_italian(
    tariffs: list[str],
    data: Path | None,
    readings: Path | None,
    pod: str | None,
    meter: str | None,
    timezone: str | None,
    vulnerable: bool,
    period: list[str] | None,
    prop: list[str] | None,
    series: list[str] | None,
    fmt: str,
) -> bool:
    """Compare Italian offers (readings or data, bundled PUN, eligibility); False when
    the offers are not Italian."""
    from gridtwin.cli._bill_it import comparison_it_table, is_italian
    from gridtwin.tariffs import get_tariff
    from gridtwin.workflows.it_compare import ItalianComparison

    loaded = [get_tariff(t) for t in tariffs]
    if not all(is_italian(t) for t in loaded):
        return False
    if data is not None and readings is not None:
        msg = "give --data or --readings, not both"
        raise InputError(msg)
    c = ItalianComparison(
        loaded,
        data,
        readings,
        pod=pod,
        meter=meter,
        timezone=timezone,
        vulnerable=vulnerable,
        periods=[_parse_period(p) for p in period or []] or None,
        customers=_parse_props(prop or []),
        series=_read_series(series or []),
    ).run()
    if fmt == "table":
        console().print(comparison_it_table(c))
        for n in c.notes:
            console().print(f"[yellow]{n}[/yellow]")
    else:
        print_frame(c.table, fmt, "comparison")
    return True


def register(app: typer.Typer) -> None:
    """Add ``bill`` and ``compare`` to the top-level command."""
    app.command("bill")(bill_cmd)
    app.command("compare")(compare_cmd)
