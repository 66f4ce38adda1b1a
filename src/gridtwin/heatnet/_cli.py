"""``gridtwin norms ...`` commands (typer + rich). An adapter: no rules here.

Mounted by :mod:`gridtwin.cli` as ``app.add_typer(norms_app, name="norms")``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gridtwin.errors import GridTwinError, InputError
from gridtwin.heatnet.method import (
    ComingYearResult,
    PastYearResult,
    coming_year,
    past_year,
    territorial_totals,
)
from gridtwin.heatnet.report import (
    characteristic_frame,
    coming_year_frames,
    coming_year_renderable,
    frame_renderable,
    html_report,
    method_csv,
    past_year_frames,
    past_year_renderable,
    territorial_frame,
    territorial_renderable,
    to_json,
    write_text_atomic,
)
from gridtwin.heatnet.schema import NormsInput, load_input

__all__ = ["norms_app"]

norms_app = typer.Typer(
    help="Normative electricity use of heat-network pumping stations "
    "(past year, coming year, characteristics, report).",
    no_args_is_help=True,
)

FilesArg = Annotated[
    list[Path],
    typer.Argument(
        help="Input file(s), .yaml or .toml; one per territorial unit (several are summed, "
        "cl. 4.4).",
        show_default=False,
    ),
]
FileArg = Annotated[Path, typer.Argument(help="Input file, .yaml or .toml.", show_default=False)]
FormatOpt = Annotated[str, typer.Option("--format", help="Output format: table, json or csv.")]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", help="Write the json or csv output to this file instead of the terminal."
    ),
]


def _console() -> Console:
    con = Console()
    if not con.is_terminal:
        con = Console(width=max(140, con.width))
    return con


def _run(fn: Callable[[], None]) -> None:
    """Run a command body; print GridTwinError cleanly with exit code 2."""
    try:
        fn()
    except GridTwinError as exc:
        Console(stderr=False).print(
            f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True
        )
        raise typer.Exit(code=2) from exc


def _check_format(fmt: str, output: Path | None) -> None:
    if fmt not in ("table", "json", "csv"):
        msg = f"--format {fmt!r}: use table, json or csv"
        raise InputError(msg)
    if output is not None and fmt == "table":
        msg = "--output writes json or csv; add --format json or --format csv"
        raise InputError(msg)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        write_text_atomic(output, text)
        _console().print(f"wrote {output}", highlight=False)


def _load_all(files: list[Path]) -> list[NormsInput]:
    inputs = [load_input(f) for f in files]
    names = [i.name for i in inputs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if len(inputs) > 1 and dupes:
        msg = (
            f"territorial unit(s) {', '.join(dupes)} appear in more than one file; give each "
            f"file its own territorial_unit"
        )
        raise InputError(msg)
    return inputs


@norms_app.command("past-year")
def past_year_cmd(files: FilesArg, fmt: FormatOpt = "table", output: OutputOpt = None) -> None:
    """Past year: Эр, ΣЭн, Gф, Эном, Кр and the comparison with metered use (Table 3)."""

    def body() -> None:
        _check_format(fmt, output)
        results: list[PastYearResult] = [past_year(inp) for inp in _load_all(files)]
        totals = (
            territorial_totals([(r.territorial_unit, r, None) for r in results])
            if len(results) > 1
            else None
        )
        if fmt == "json":
            payload = (
                results[0].to_dict()
                if totals is None
                else {
                    "units": [r.to_dict() for r in results],
                    "territorial_totals": territorial_frame(totals).to_dict("records"),
                }
            )
            _emit(to_json(payload), output)
        elif fmt == "csv":
            _emit(method_csv(past_year_frames(r)["method"] for r in results), output)
        else:
            con = _console()
            for r in results:
                con.print(past_year_renderable(r))
            if totals is not None:
                con.print(territorial_renderable(totals))

    _run(body)


@norms_app.command("coming-year")
def coming_year_cmd(files: FilesArg, fmt: FormatOpt = "table", output: OutputOpt = None) -> None:
    """Coming year: the task ε (9), Nпр (11) and the normative Эн,пр (10) per station."""

    def body() -> None:
        _check_format(fmt, output)
        pairs: list[tuple[PastYearResult | None, ComingYearResult]] = []
        for inp in _load_all(files):
            past = past_year(inp) if inp.past_year is not None else None
            pairs.append((past, coming_year(inp, past)))
        totals = (
            territorial_totals([(c.territorial_unit, p, c) for p, c in pairs])
            if len(pairs) > 1
            else None
        )
        if fmt == "json":
            payload = (
                pairs[0][1].to_dict()
                if totals is None
                else {
                    "units": [c.to_dict() for _, c in pairs],
                    "territorial_totals": territorial_frame(totals).to_dict("records"),
                }
            )
            _emit(to_json(payload), output)
        elif fmt == "csv":
            _emit(method_csv(coming_year_frames(c)["method"] for _, c in pairs), output)
        else:
            con = _console()
            for _, c in pairs:
                con.print(coming_year_renderable(c))
            if totals is not None:
                con.print(territorial_renderable(totals))

    _run(body)


@norms_app.command("characteristic")
def characteristic_cmd(
    file: FileArg,
    station: Annotated[str | None, typer.Option("--station", help="Only this station.")] = None,
    season: Annotated[str | None, typer.Option("--season", help="winter or summer.")] = None,
    points: Annotated[int, typer.Option("--points", help="Flows per regime.")] = 21,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
) -> None:
    """The stations' energy characteristic N(G) (pump units, without Kсн) at spread flows."""

    def body() -> None:
        _check_format(fmt, output)
        inp = load_input(file)
        frame = characteristic_frame(inp.build_stations(), station, season, points)
        if fmt == "json":
            _emit(to_json(frame.to_dict("records")), output)
        elif fmt == "csv":
            _emit(str(frame.to_csv(index=False, float_format="%.10g")), output)
        else:
            _console().print(
                frame_renderable(
                    frame, f"{inp.title}: energy characteristic N(G), pump units without Kсн"
                )
            )

    _run(body)


@norms_app.command("report")
def report_cmd(
    file: FileArg,
    output: Annotated[
        Path, typer.Option("--output", help="HTML file to write.", show_default=False)
    ],
) -> None:
    """An HTML report: tables, findings and each station's N(G) with its operating points."""

    def body() -> None:
        inp = load_input(file)
        stations = inp.build_stations()
        past = past_year(inp, stations) if inp.past_year is not None else None
        coming = coming_year(inp, past, stations) if inp.coming_year is not None else None
        write_text_atomic(output, html_report(inp, stations, past, coming))
        _console().print(f"wrote {output}", highlight=False)

    _run(body)
