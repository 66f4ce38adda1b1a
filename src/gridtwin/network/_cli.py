"""``gridtwin network ...`` commands (typer + rich). An adapter: no domain logic here.

Mounted by :mod:`gridtwin.cli` as ``app.add_typer(network_app, name="network")``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gridtwin._console import console
from gridtwin.errors import GridTwinError, InputError
from gridtwin.network._cim import CGMES_SUFFIXES, load_cgmes
from gridtwin.network._controls import Controls, tap_controls_from_net
from gridtwin.network._model import (
    NetworkModel,
    info,
    load_pandapower_json,
    load_simbench,
    static_profiles,
)
from gridtwin.network._options import (
    DEFAULT_CHUNK_STEPS,
    KeepFull,
    Method,
    PowerFlowOptions,
)
from gridtwin.network._timeseries import simulate
from gridtwin.network._validate import validate

__all__ = ["network_app"]

network_app = typer.Typer(
    help="The network twin: grid summary, validation, time-series power flow.", no_args_is_help=True
)

SimbenchOpt = Annotated[
    str | None,
    typer.Option(
        "--simbench", help="SimBench code, e.g. 1-LV-semiurb4--0-sw (grid + its 2016 profiles)."
    ),
]
NetOpt = Annotated[
    Path | None,
    typer.Option("--net", help="pandapower JSON net (pandapower.to_json) or a CGMES zip/xml."),
]
FormatOpt = Annotated[str, typer.Option("--format", help="Output format: table or json.")]


def _run(fn: Callable[[], None]) -> None:
    """Run a command body; print GridTwinError cleanly with exit code 2."""
    try:
        fn()
    except GridTwinError as exc:
        console().print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(code=2) from exc


def _load(
    simbench_code: str | None,
    net_file: Path | None,
    profiles: bool = True,
) -> NetworkModel:
    if simbench_code is not None and net_file is None:
        return load_simbench(simbench_code, profiles=profiles)
    if net_file is not None and simbench_code is None:
        if net_file.suffix.lower() in CGMES_SUFFIXES:
            return load_cgmes(net_file)
        return load_pandapower_json(net_file)
    msg = "give exactly one of --simbench CODE or --net FILE.json"
    raise InputError(msg)


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        msg = f"--format {fmt!r}: use table or json"
        raise InputError(msg)


def _parse_steps(text: str | None) -> slice | None:
    if text is None:
        return None
    start, sep, end = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return slice(int(start) if start else None, int(end) if end else None)
    except ValueError:
        msg = f"--steps {text!r}: write it as START:END (step positions, END excluded), e.g. 0:672"
        raise InputError(msg) from None


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


def _kv_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("item", style="bold")
    table.add_column("value")
    for key, value in rows.items():
        table.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
    return table


@network_app.command("info")
def info_cmd(simbench: SimbenchOpt = None, net: NetOpt = None, fmt: FormatOpt = "table") -> None:
    """Summarise a grid: elements, voltage levels, installed power, profile span."""

    def body() -> None:
        _check_format(fmt)
        summary = info(_load(simbench, net)).to_dict()
        if fmt == "json":
            _print_json(summary)
            return
        rows = {
            k: v for k, v in summary.items() if k not in ("element_counts", "in_service_counts")
        }
        rows["voltage_levels_kv"] = ", ".join(f"{v:g}" for v in summary["voltage_levels_kv"])
        con = console()
        con.print(_kv_table(f"Network {summary['name']}", rows))
        counts = Table(title="Elements")
        counts.add_column("table")
        counts.add_column("rows", justify="right")
        counts.add_column("in service", justify="right")
        for table, n in summary["element_counts"].items():
            counts.add_row(table, str(n), str(summary["in_service_counts"].get(table, "")))
        con.print(counts)

    _run(body)


@network_app.command("validate")
def validate_cmd(
    simbench: SimbenchOpt = None, net: NetOpt = None, fmt: FormatOpt = "table"
) -> None:
    """Check a grid and its profiles; exit code 1 when there are errors."""
    report_errors = 0

    def body() -> None:
        nonlocal report_errors
        _check_format(fmt)
        model = _load(simbench, net)
        report = validate(model)
        report_errors = len(report.errors)
        if fmt == "json":
            _print_json(
                [
                    {
                        "severity": sev,
                        "table": i.table,
                        "index": i.index,
                        "column": i.column,
                        "message": i.message,
                    }
                    for sev, items in (("error", report.errors), ("warning", report.warnings))
                    for i in items
                ]
            )
            return
        table = Table(
            title=f"Validation of {model.name}: {len(report.errors)} error(s), "
            f"{len(report.warnings)} warning(s)"
        )
        for col in ("severity", "where", "message"):
            table.add_column(col)
        for sev, items in (
            ("[red]error[/red]", report.errors),
            ("[yellow]warning[/yellow]", report.warnings),
        ):
            for item in items:
                table.add_row(sev, item.where(), item.message)
        console().print(table)

    _run(body)
    if report_errors:
        raise typer.Exit(code=1)


TapControlOpt = Annotated[
    bool,
    typer.Option(
        "--tap-control/--fixed-taps",
        help="Regulate on-load tap changers as the net describes them (SimBench autoTap "
        "columns or pandapower DiscreteTapControl); fixed-point solver.",
    ),
]


@network_app.command("simulate")
def simulate_cmd(
    simbench: SimbenchOpt = None,
    net: NetOpt = None,
    steps: Annotated[
        str | None,
        typer.Option(
            "--steps", help="Step positions START:END (END excluded), e.g. 0:672 for a week."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write all results as long-format Parquet.")
    ] = None,
    fmt: FormatOpt = "table",
    chunk_steps: Annotated[
        int, typer.Option("--chunk-steps", help="Steps per power-grid-model batch.")
    ] = DEFAULT_CHUNK_STEPS,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail at the first step that does not converge.")
    ] = False,
    threads: Annotated[
        int, typer.Option("--threads", help="solver threads: -1 sequential, 0 all cores.")
    ] = -1,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="auto (default: fixed_point), fixed_point, iterative_current or newton_raphson.",
        ),
    ] = "auto",
    tap_control: TapControlOpt = False,
) -> None:
    """Balanced time-series power flow over the grid's profiles; prints the extremes.

    A --net file has no profiles: one snapshot at the net's own set-points is solved.
    """

    def body() -> None:
        _check_format(fmt)
        methods: dict[str, Method] = {
            "auto": "auto",
            "fixed_point": "fixed_point",
            "iterative_current": "iterative_current",
            "newton_raphson": "newton_raphson",
        }
        if method not in methods:
            msg = f"--method {method!r}: use one of {', '.join(methods)}"
            raise InputError(msg)
        chosen = methods[method]
        step_slice = _parse_steps(steps)
        model = _load(simbench, net)
        if model.profiles is None:
            model = model.with_profiles(static_profiles(model))
        with Progress(
            TextColumn("power flow"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"),
            TimeElapsedColumn(),
            transient=True,
            console=console(),
            disable=fmt == "json",
        ) as bar:
            task = bar.add_task("power flow", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = simulate(
                model,
                steps=step_slice,
                options=PowerFlowOptions(
                    method=chosen, chunk_steps=chunk_steps, strict=strict, threading=threads
                ),
                controls=Controls(taps=tap_controls_from_net(model.net) if tap_control else ()),
                keep=KeepFull(parquet=output),
                progress=advance,
            )
        summary = result.summary().to_dict()
        if result.trafo_tap_pos is not None and result.tap_trafo_ids is not None:
            moves = np.abs(np.diff(result.trafo_tap_pos, axis=0)).sum(axis=0)
            for tid, n_moves in zip(result.tap_trafo_ids, moves, strict=True):
                summary[f"trafo {int(tid)} tap operations"] = int(n_moves)
        if fmt == "json":
            _print_json(
                {
                    "summary": summary,
                    "notes": list(result.notes),
                    "output": None if output is None else str(output),
                }
            )
            return
        con = console()
        con.print(_kv_table(f"Power flow {model.name}", summary))
        for note in result.notes:
            con.print(f"[yellow]{note}[/yellow]", markup=True, highlight=False)
        if output is not None:
            con.print(f"wrote {output}")

    _run(body)
