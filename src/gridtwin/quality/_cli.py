"""``gridtwin quality ...`` commands (typer + rich). An adapter: no domain logic here.

Mount it in :mod:`gridtwin.cli` with::

    from gridtwin.quality._cli import quality_app
    app.add_typer(quality_app, name="quality")

Commands:

- ``assess FILE``: weekly verdicts per point and indicator (table, json or csv);
- ``events FILE``: the events of a file from a registered event source (``flags``: the
  flagged intervals the instrument recorded; detectors register more sources);
- ``report FILE --output report.html|.json|.pdf``: the report per point and feeder.

Errors (:class:`gridtwin.errors.GridTwinError`) print one line and exit with code 2;
``assess --check`` exits with code 1 when a point fails.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from gridtwin._console import console, frame_table
from gridtwin.errors import GridTwinError, InputError
from gridtwin.quality.assessment import (
    Assessment,
    assess,
    event_sources,
    events_frame,
    find_events,
    records,
)
from gridtwin.quality.measurements import MeasurementSet, read_measurements
from gridtwin.quality.report import build_report

__all__ = ["quality_app"]

quality_app = typer.Typer(
    help="Power quality: weekly assessment of aggregated measurements (GOST 32144-2013, "
    "EN 50160:2010), events and reports.",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path,
    typer.Argument(
        help="Aggregated measurements, CSV or Parquet (long: timestamp, point_id, indicator, "
        "phase, value; or wide: one column per quantity and phase)."
    ),
]
StandardOpt = Annotated[
    str,
    typer.Option(
        "--standard",
        help="Built-in limit set (GOST 32144-2013, EN 50160:2010) or a limit-set YAML/TOML file.",
    ),
]
LevelOpt = Annotated[str, typer.Option("--voltage-level", help="LV or MV.")]
NominalOpt = Annotated[
    float | None,
    typer.Option(
        "--nominal-v",
        help="U0 of phase-to-neutral channels [V]; default the standard's LV "
        "nominal (220 V GOST, 230 V EN). Required at MV (or --nominal-line-v).",
    ),
]
NominalLineOpt = Annotated[
    float | None,
    typer.Option("--nominal-line-v", help="U0 of line-to-line channels (ab, bc, ca) [V]."),
]
TimezoneOpt = Annotated[
    str,
    typer.Option(
        "--timezone",
        help="IANA zone: observation weeks are aligned in it; also the zone of "
        "timestamps without a UTC offset.",
    ),
]
WeekStartOpt = Annotated[
    str | None,
    typer.Option(
        "--week-start",
        help="Local start of observation weeks, e.g. 'mon 00:00' or "
        "'2025-06-02T10:00+03:00' (campaign start).",
    ),
]
UnitOpt = Annotated[
    str,
    typer.Option(
        "--voltage-unit", help="Unit of voltage columns that state none: auto, V, kV, pu, percent."
    ),
]
LabelOpt = Annotated[
    str,
    typer.Option(
        "--label", help="Timestamps label interval 'start' (default) or 'end' (many instruments)."
    ),
]
LayoutOpt = Annotated[str, typer.Option("--layout", help="auto, long or wide.")]
EventsOpt = Annotated[
    Path | None,
    typer.Option(
        "--events",
        help="Event table CSV (point_id, start_utc, end_utc, kind, ...): the "
        "intervals it overlaps are flagged and excluded.",
    ),
]
IsolatedOpt = Annotated[
    bool, typer.Option("--isolated", help="Judge frequency against the isolated-system limits.")
]
FormatOpt = Annotated[str, typer.Option("--format", help="Output format: table, json or csv.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", help="Write to this file.")]

_FORMATS = ("table", "json", "csv")
_MAX_ROWS = 50


def _run(fn: Callable[[], None]) -> None:
    """Run a command body; print GridTwinError cleanly with exit code 2."""
    try:
        fn()
    except GridTwinError as exc:
        console().print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(code=2) from exc


def _check_choice(value: str, option: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        msg = f"{option} {value!r}: use one of {', '.join(choices)}"
        raise InputError(msg)


def _read(file: Path, timezone: str, label: str, layout: str) -> MeasurementSet:
    _check_choice(label, "--label", ("start", "end"))
    _check_choice(layout, "--layout", ("auto", "long", "wide"))
    return read_measurements(
        file,
        timezone=timezone,
        label=label,  # type: ignore[arg-type]
        layout=layout,  # type: ignore[arg-type]
    )


def _week_start(text: str | None, timezone: str) -> str | pd.Timestamp | None:
    """'mon 00:00' as is; a date-time (campaign start) as a Timestamp in ``timezone``."""
    if text is None or re.match(r"^\s*[a-z]{3}\s+\d{2}:\d{2}\s*$", text.lower()):
        return text
    try:
        ts = pd.Timestamp(text)
    except ValueError as exc:
        msg = (
            f"--week-start {text!r}: write a weekday and local time ('mon 00:00') or an "
            "ISO date-time (2025-06-04T00:00+03:00)"
        )
        raise InputError(msg) from exc
    return ts.tz_convert(timezone) if ts.tzinfo else ts.tz_localize(timezone)


def _read_events(path: Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except OSError as exc:
        msg = f"--events {path}: cannot read ({exc.strerror})"
        raise InputError(msg) from exc
    for col in ("duration_s", "extreme_percent"):
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col].replace("", None), errors="coerce")
    return events_frame(frame, where=str(path))


def _assess(
    file: Path,
    standard: str,
    voltage_level: str,
    nominal_v: float | None,
    nominal_line_v: float | None,
    timezone: str,
    week_start: str | None,
    voltage_unit: str,
    label: str,
    layout: str,
    events: Path | None,
    isolated: bool,
) -> Assessment:
    _check_choice(voltage_level, "--voltage-level", ("LV", "MV"))
    _check_choice(voltage_unit, "--voltage-unit", ("auto", "V", "kV", "pu", "percent"))
    ms = _read(file, timezone, label, layout)
    return assess(
        ms,
        standard,
        timezone=timezone,
        voltage_level=voltage_level,  # type: ignore[arg-type]
        nominal_v=nominal_v,
        nominal_line_v=nominal_line_v,
        voltage_unit=voltage_unit,  # type: ignore[arg-type]
        events=_read_events(events),
        week_start=_week_start(week_start, timezone),
        isolated_system=isolated,
    )


def _emit_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    if not output.parent.is_dir():
        msg = f"--output {output}: directory {output.parent} does not exist"
        raise InputError(msg)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)  # nothing half-written
    console().print(f"wrote {output}")


def _print_notes(notes: tuple[str, ...] | list[str]) -> None:
    con = console()
    for note in notes:
        con.print(f"[yellow]{note}[/yellow]", markup=True, highlight=False)


def _show(frame: pd.DataFrame, title: str) -> None:
    shown = frame.head(_MAX_ROWS)
    text = shown.assign(
        **{
            c: shown[c].astype(str)
            for c in shown.columns
            if isinstance(shown[c].dtype, pd.DatetimeTZDtype)
        }
    )
    console().print(frame_table(text, title))
    if len(frame) > _MAX_ROWS:
        console().print(f"... {len(frame) - _MAX_ROWS} more rows: use --format csv or json")


@quality_app.command("assess")
def assess_cmd(
    file: FileArg,
    standard: StandardOpt = "GOST 32144-2013",
    voltage_level: LevelOpt = "LV",
    nominal_v: NominalOpt = None,
    nominal_line_v: NominalLineOpt = None,
    timezone: TimezoneOpt = "UTC",
    week_start: WeekStartOpt = None,
    voltage_unit: UnitOpt = "auto",
    label: LabelOpt = "start",
    layout: LayoutOpt = "auto",
    events: EventsOpt = None,
    isolated: IsolatedOpt = False,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit with code 1 when a point fails.")
    ] = False,
) -> None:
    """Weekly verdict per point and indicator (N, N1, N2 counts, GOST/EN limits)."""
    failing = 0

    def body() -> None:
        nonlocal failing
        _check_choice(fmt, "--format", _FORMATS)
        a = _assess(
            file,
            standard,
            voltage_level,
            nominal_v,
            nominal_line_v,
            timezone,
            week_start,
            voltage_unit,
            label,
            layout,
            events,
            isolated,
        )
        failing = int((a.points["verdict"] == "fail").sum())
        if fmt == "json":
            _emit_text(json.dumps(a.to_dict(), indent=2, ensure_ascii=False) + "\n", output)
        elif fmt == "csv":
            _emit_text(a.table.to_csv(index=False), output)
        else:
            _show(a.points, f"{a.standard} {a.voltage_level}: verdict per point")
            cols = [
                "point_id",
                "period_start_utc",
                "indicator",
                "verdict",
                "worst_phase",
                "n_valid",
                "n_flagged",
                "availability_percent",
                "n1",
                "n2",
                "t1_percent",
                "max_value",
                "min_value",
                "value_unit",
                "clause",
            ]
            rows = a.table if len(a.table) <= _MAX_ROWS else a.table[a.table["verdict"] != "pass"]
            _show(rows[cols], "indicators" + ("" if rows is a.table else " not passing"))
            _print_notes(a.notes)

    _run(body)
    if check and failing:
        raise typer.Exit(code=1)


@quality_app.command("events")
def events_cmd(
    file: FileArg,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="Event source: 'flags' (flagged intervals in the file) or a registered detector.",
        ),
    ] = "flags",
    timezone: TimezoneOpt = "UTC",
    label: LabelOpt = "start",
    layout: LayoutOpt = "auto",
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
) -> None:
    """List the events (flagged intervals) present in a measurement file."""

    def body() -> None:
        _check_choice(fmt, "--format", _FORMATS)
        _check_choice(source, "--source", event_sources())
        ms = _read(file, timezone, label, layout)
        ev = find_events(ms, source)
        if fmt == "json":
            _emit_text(
                json.dumps(
                    {"source": source, "file": str(file), "events": records(ev)},
                    indent=2,
                    ensure_ascii=False,
                )
                + "\n",
                output,
            )
        elif fmt == "csv":
            _emit_text(ev.to_csv(index=False), output)
        else:
            if ev.empty:
                console().print(f"no events in {file} (source {source!r})")
                return
            _show(ev, f"events in {file} (source {source!r})")

    _run(body)


def _read_feeders(path: Path | None) -> dict[str, str] | None:
    if path is None:
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except OSError as exc:
        msg = f"--feeders {path}: cannot read ({exc.strerror})"
        raise InputError(msg) from exc
    if not {"point_id", "feeder"} <= set(frame.columns):
        msg = f"--feeders {path}: expected columns point_id,feeder; found {list(frame.columns)}"
        raise InputError(msg)
    return dict(zip(frame["point_id"], frame["feeder"], strict=True))


@quality_app.command("report")
def report_cmd(
    file: FileArg,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            help="Report file: .html (plots, offline), .json or .pdf (needs a "
            "headless Chromium; else print the HTML to PDF).",
        ),
    ],
    standard: StandardOpt = "GOST 32144-2013",
    voltage_level: LevelOpt = "LV",
    nominal_v: NominalOpt = None,
    nominal_line_v: NominalLineOpt = None,
    timezone: TimezoneOpt = "UTC",
    week_start: WeekStartOpt = None,
    voltage_unit: UnitOpt = "auto",
    label: LabelOpt = "start",
    layout: LayoutOpt = "auto",
    events: EventsOpt = None,
    isolated: IsolatedOpt = False,
    point: Annotated[
        list[str] | None,
        typer.Option("--point", help="Only these points get a section; repeatable."),
    ] = None,
    feeders: Annotated[
        Path | None,
        typer.Option("--feeders", help="CSV point_id,feeder: adds a section per feeder."),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    max_points: Annotated[
        int, typer.Option("--max-points", help="Most point sections (failing first).")
    ] = 100,
) -> None:
    """Write the power-quality report per point and feeder (HTML with plots, JSON, PDF)."""

    def body() -> None:
        a = _assess(
            file,
            standard,
            voltage_level,
            nominal_v,
            nominal_line_v,
            timezone,
            week_start,
            voltage_unit,
            label,
            layout,
            events,
            isolated,
        )
        rep = build_report(
            a, point_ids=point, feeders=_read_feeders(feeders), title=title, max_points=max_points
        )
        rep.write(output)
        summary = {str(k): int(v) for k, v in a.points["verdict"].value_counts().items()}
        console().print(
            f"wrote {output}: {len(a.points)} point(s), "
            + ", ".join(f"{v} {k}" for k, v in summary.items())
        )

    _run(body)
