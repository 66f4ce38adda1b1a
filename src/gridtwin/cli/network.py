"""``gridtwin network info|validate|simulate``: the grid, its validation, its power flow.

The studies on a simulated grid (``check``, ``scenario``, ``contingency``, ``hosting``)
are in :mod:`gridtwin.cli.studies`, on the same command group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridtwin.cli._common import check_choice, check_output, console, print_json, print_notes, run
from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.network import NetworkModel, PowerFlowOptions
    from gridtwin.workflows import Twin

__all__ = [
    "DEFAULT_CHUNK_STEPS_HELP",
    "EXIT_NOT_CONVERGED",
    "FormatOpt",
    "NetOpt",
    "SimbenchOpt",
    "TapControlOpt",
    "app",
    "check_format",
    "load_model",
    "load_twin",
    "parse_steps",
    "progress_bar",
]

app = typer.Typer(
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
TapControlOpt = Annotated[
    bool,
    typer.Option(
        "--tap-control/--fixed-taps",
        help="Regulate on-load tap changers as the net describes them (SimBench autoTap "
        "columns or pandapower DiscreteTapControl); fixed-point solver.",
    ),
]
ThreadsOpt = Annotated[
    int, typer.Option("--threads", help="solver threads: -1 sequential, 0 all cores.")
]
#: The chunk size a run uses when ``--chunk-steps`` is not given (tested to equal
#: :data:`gridtwin.network.DEFAULT_CHUNK_STEPS`; the network package is not imported here).
DEFAULT_CHUNK_STEPS_HELP = 4096
_METHODS = ("auto", "fixed_point", "iterative_current", "newton_raphson")
MethodOpt = Annotated[
    str,
    typer.Option(
        "--method",
        help="auto (default: fixed_point), fixed_point, iterative_current or newton_raphson.",
    ),
]
#: Exit code of ``simulate`` when steps did not converge (without ``--keep-going``).
EXIT_NOT_CONVERGED = 3


def check_format(fmt: str) -> None:
    """Only table or json."""
    if fmt not in ("table", "json"):
        msg = f"--format {fmt!r}: use table or json"
        raise InputError(msg)


def parse_steps(text: str | None) -> slice | None:
    """``--steps START:END`` as a slice of step positions."""
    if text is None:
        return None
    start, sep, end = text.partition(":")
    try:
        if not sep:
            raise ValueError
        lo, hi = (int(start) if start else None), (int(end) if end else None)
    except ValueError:
        msg = f"--steps {text!r}: write it as START:END (step positions, END excluded), e.g. 0:672"
        raise InputError(msg) from None
    if (lo is not None and lo < 0) or (hi is not None and hi < 0):
        msg = f"--steps {text!r}: step positions count from 0"
        raise InputError(msg)
    if lo is not None and hi is not None and hi <= lo:
        msg = f"--steps {text!r}: selects no step (END must be above START)"
        raise InputError(msg)
    return slice(lo, hi)


def check_steps(steps: slice | None, n_steps: int) -> None:
    """``--steps`` must select at least one of the model's ``n_steps`` steps."""
    if steps is not None and len(range(n_steps)[steps]) == 0:
        msg = (
            f"--steps {steps.start or ''}:{steps.stop or ''}: selects no step of the "
            f"{n_steps:,} the model has (positions 0 to {n_steps - 1:,})"
        )
        raise InputError(msg)


def check_threads(threads: int) -> None:
    """``--threads``: -1 (sequential), 0 (all cores) or a count of threads."""
    if threads < -1:
        msg = f"--threads {threads}: use -1 (sequential), 0 (all cores) or a number of threads"
        raise InputError(msg)


def load_model(simbench_code: str | None, net_file: Path | None) -> NetworkModel:
    """The model of ``--simbench`` or ``--net`` (exactly one)."""
    from gridtwin.workflows.twin import load_network

    if (simbench_code is None) == (net_file is None):
        msg = "give exactly one of --simbench CODE or --net FILE.json"
        raise InputError(msg)
    return load_network(simbench_code=simbench_code, path=net_file)


def load_twin(
    simbench_code: str | None,
    net_file: Path | None,
    *,
    tap_control: bool = False,
    options: PowerFlowOptions | None = None,
    **settings: Any,
) -> Twin:
    """A twin of ``--simbench`` or ``--net`` with the command's settings."""
    from gridtwin.network import PowerFlowOptions
    from gridtwin.workflows import Twin

    twin = Twin(
        load_model(simbench_code, net_file), options=options or PowerFlowOptions(), **settings
    )
    return twin.with_tap_control() if tap_control else twin


@contextmanager
def progress_bar(label: str, disable: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A transient progress bar of steps; yields the ``progress(done, total)`` callback."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        transient=True,
        console=console(),
        disable=disable,
    ) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


@app.command("info")
def info_cmd(simbench: SimbenchOpt = None, net: NetOpt = None, fmt: FormatOpt = "table") -> None:
    """Summarise a grid: elements, voltage levels, installed power, profile span."""

    def body() -> None:
        from rich.table import Table

        from gridtwin.cli._render import kv_table

        check_format(fmt)
        summary = load_twin(simbench, net).info().to_dict()
        if fmt == "json":
            print_json(summary)
            return
        rows = {
            k: v for k, v in summary.items() if k not in ("element_counts", "in_service_counts")
        }
        rows["voltage_levels_kv"] = ", ".join(f"{v:g}" for v in summary["voltage_levels_kv"])
        con = console()
        con.print(kv_table(f"Network {summary['name']}", rows))
        counts = Table(title="Elements")
        counts.add_column("table")
        counts.add_column("rows", justify="right")
        counts.add_column("in service", justify="right")
        for table, n in summary["element_counts"].items():
            counts.add_row(table, str(n), str(summary["in_service_counts"].get(table, "")))
        con.print(counts)

    run(body)


@app.command("validate")
def validate_cmd(
    simbench: SimbenchOpt = None,
    net: NetOpt = None,
    fmt: FormatOpt = "table",
    method: MethodOpt = "auto",
) -> None:
    """Check a grid and its profiles for the method simulate would use (--method); exit
    code 1 when there are errors."""
    report_errors = 0

    def body() -> None:
        nonlocal report_errors
        from rich.table import Table

        from gridtwin.network import PowerFlowOptions

        check_format(fmt)
        check_choice(method, "--method", _METHODS)
        options = PowerFlowOptions(method=method)  # type: ignore[arg-type]
        twin = load_twin(simbench, net, options=options)
        model, report = twin.model, twin.validate()
        report_errors = len(report.errors)
        if fmt == "json":
            print_json(
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

    run(body)
    if report_errors:
        raise typer.Exit(code=1)


@app.command("simulate")
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
        int,
        typer.Option("--chunk-steps", help="Steps per chunk (at most; fewer on large grids)."),
    ] = DEFAULT_CHUNK_STEPS_HELP,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail at the first step that does not converge.")
    ] = False,
    threads: ThreadsOpt = -1,
    method: MethodOpt = "auto",
    tap_control: TapControlOpt = False,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going",
            help="Exit 0 even when steps did not converge (they are NaN in the results).",
        ),
    ] = False,
    enforce_q_lims: Annotated[
        bool,
        typer.Option(
            "--enforce-q-lims",
            help="Voltage-controlled generators (gen) hold their reactive limits, as "
            "pandapower's runpp(enforce_q_lims=True).",
        ),
    ] = False,
) -> None:
    """Balanced time-series power flow over the grid's profiles; prints the extremes.

    A --net file has no profiles: one snapshot at the net's own set-points is solved.
    Exit code 3 when steps did not converge (unless --keep-going), 2 on bad input.
    """
    failed_steps = 0

    def body() -> None:
        nonlocal failed_steps
        import numpy as np

        from gridtwin.cli._render import kv_table
        from gridtwin.network import PowerFlowOptions

        check_format(fmt)
        check_choice(method, "--method", _METHODS)
        check_output(output)
        check_threads(threads)
        if chunk_steps < 1:
            msg = f"--chunk-steps {chunk_steps}: use 1 or more"
            raise InputError(msg)
        step_slice = parse_steps(steps)
        options = PowerFlowOptions(
            method=method,  # type: ignore[arg-type]
            chunk_steps=chunk_steps,
            strict=strict,
            threading=threads,
            enforce_q_lims=enforce_q_lims,
        )
        twin = load_twin(simbench, net, tap_control=tap_control, options=options)
        check_steps(step_slice, twin.n_steps)
        with progress_bar("power flow", disable=fmt == "json") as advance:
            result = twin.simulate(step_slice, parquet=output, progress=advance)
        summary = result.summary().to_dict()
        failed_steps = int(summary["steps"]) - int(summary["converged_steps"])
        if result.trafo_tap_pos is not None and result.tap_trafo_ids is not None:
            moves = np.abs(np.diff(result.trafo_tap_pos, axis=0)).sum(axis=0)
            for tid, n_moves in zip(result.tap_trafo_ids, moves, strict=True):
                summary[f"trafo {int(tid)} tap operations"] = int(n_moves)
        if fmt == "json":
            print_json(
                {
                    "summary": summary,
                    "notes": list(result.notes),
                    "output": None if output is None else str(output),
                }
            )
            return
        con = console()
        con.print(kv_table(f"Power flow {twin.model.name}", summary))
        print_notes(result.notes)
        if output is not None:
            con.print(f"wrote {output}")

    run(body)
    if failed_steps and not keep_going:
        typer.echo(  # on standard error: standard output may carry the JSON
            f"error: {failed_steps} step(s) did not converge (see the notes); their "
            "results are NaN. Pass --keep-going to accept that, --strict to stop at the "
            "first one.",
            err=True,
        )
        raise typer.Exit(code=EXIT_NOT_CONVERGED)
