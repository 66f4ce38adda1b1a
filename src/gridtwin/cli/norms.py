"""``gridtwin norms ...`` commands: an adapter over :class:`gridtwin.workflows.NormsCalculation`
(pumping-station norms of district-heating networks, seed 002)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridtwin.cli._common import check_output, console, run
from gridtwin.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["app"]

app = typer.Typer(
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
    return console(min_width=140)


#: Most flows per regime of ``norms characteristic`` (a curve is smooth long before).
MAX_CURVE_POINTS = 1_000


def _check_format(fmt: str, output: Path | None) -> None:
    if fmt not in ("table", "json", "csv"):
        msg = f"--format {fmt!r}: use table, json or csv"
        raise InputError(msg)
    if output is not None and fmt == "table":
        msg = "--output writes json or csv; add --format json or --format csv"
        raise InputError(msg)
    check_output(output)


def _emit(text: str, output: Path | None) -> None:
    from gridtwin.heatnet.report import write_text_atomic

    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        write_text_atomic(output, text)
        _console().print(f"wrote {output}", highlight=False)


@app.command("past-year")
def past_year_cmd(files: FilesArg, fmt: FormatOpt = "table", output: OutputOpt = None) -> None:
    """Past year: Эр, ΣЭн, Gф, Эном, Кр and the comparison with metered use (Table 3)."""

    def body() -> None:
        from gridtwin.cli._norms_render import past_year_renderable, territorial_renderable
        from gridtwin.heatnet.report import method_csv, past_year_frames, territorial_frame, to_json
        from gridtwin.workflows.norms import NormsCalculation

        _check_format(fmt, output)
        norms = NormsCalculation(files).past_year()
        results, totals = norms.results, norms.totals
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

    run(body)


@app.command("coming-year")
def coming_year_cmd(files: FilesArg, fmt: FormatOpt = "table", output: OutputOpt = None) -> None:
    """Coming year: the task ε (9), Nпр (11) and the normative Эн,пр (10) per station."""

    def body() -> None:
        from gridtwin.cli._norms_render import coming_year_renderable, territorial_renderable
        from gridtwin.heatnet.report import (
            coming_year_frames,
            method_csv,
            territorial_frame,
            to_json,
        )
        from gridtwin.workflows.norms import NormsCalculation

        _check_format(fmt, output)
        norms = NormsCalculation(files).coming_year()
        pairs, totals = norms.results, norms.totals
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

    run(body)


@app.command("characteristic")
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
        from gridtwin.cli._norms_render import frame_renderable
        from gridtwin.heatnet.report import to_json
        from gridtwin.workflows.norms import NormsCalculation

        _check_format(fmt, output)
        if not 2 <= points <= MAX_CURVE_POINTS:
            msg = f"--points {points}: use 2 to {MAX_CURVE_POINTS} flows per regime"
            raise InputError(msg)
        title, frame = NormsCalculation([file]).characteristic(station, season, points)
        if fmt == "json":
            _emit(to_json(frame.to_dict("records")), output)
        elif fmt == "csv":
            _emit(str(frame.to_csv(index=False, float_format="%.10g")), output)
        else:
            _console().print(
                frame_renderable(
                    frame, f"{title}: energy characteristic N(G), pump units without Kсн"
                )
            )

    run(body)


@app.command("report")
def report_cmd(
    file: FileArg,
    output: Annotated[
        Path, typer.Option("--output", help="HTML file to write.", show_default=False)
    ],
) -> None:
    """An HTML report: tables, findings and each station's N(G) with its operating points."""

    def body() -> None:
        from gridtwin.heatnet.report import write_text_atomic
        from gridtwin.workflows.norms import NormsCalculation

        check_output(output)
        write_text_atomic(output, NormsCalculation([file]).report_html())
        _console().print(f"wrote {output}", highlight=False)

    run(body)
