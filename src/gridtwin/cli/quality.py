"""``gridtwin quality ...`` commands: an adapter over
:class:`gridtwin.workflows.QualityAssessment`.

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
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from gridtwin.cli._common import check_choice, check_output, console, print_notes, run, write_text
from gridtwin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.quality import Assessment
    from gridtwin.workflows.quality import QualityAssessment, WaveformOptions

__all__ = ["app"]

app = typer.Typer(
    help="Power quality: weekly assessment of aggregated measurements (GOST 32144-2013, "
    "EN 50160:2010), events and reports.",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path,
    typer.Argument(
        help="Aggregated measurements, CSV or Parquet (long: timestamp, point_id, indicator, "
        "phase, value; or wide: one column per quantity and phase), or a COMTRADE record "
        "(.cfg with its .dat, or .cff) processed to IEC 61000-4-30 aggregates."
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
ChannelOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--channel",
        help="COMTRADE: analog channel id to use (1 or 3, in L1, L2, L3 order); repeatable. "
        "Default: the channels in V or kV.",
    ),
]
ChannelUnitOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--unit",
        help="COMTRADE: NAME=V or NAME=kV for a channel whose CFG unit is empty or unusual; "
        "repeatable.",
    ),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="COMTRADE: text encoding of the CFG (e.g. cp1251, gbk, latin-1); default UTF-8, "
        "else detected.",
    ),
]
FrequencyOpt = Annotated[
    float, typer.Option("--frequency", help="COMTRADE: nominal frequency, 50 or 60 [Hz].")
]
OrderOpt = Annotated[
    int | None,
    typer.Option(
        "--max-harmonic-order",
        help="COMTRADE: highest harmonic order; default what the sample rate resolves, at most 40.",
    ),
]
FormatOpt = Annotated[str, typer.Option("--format", help="Output format: table, json or csv.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", help="Write to this file.")]

T = TypeVar("T")
_FORMATS = ("table", "json", "csv")
_MAX_ROWS = 50


def _week_start(text: str | None, timezone: str) -> str | pd.Timestamp | None:
    """'mon 00:00' as is; a date-time (campaign start) as a Timestamp in ``timezone``."""
    import pandas as pd

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
    try:
        return ts.tz_convert(timezone) if ts.tzinfo else ts.tz_localize(timezone)
    except (LookupError, ValueError) as exc:  # pytz's UnknownTimeZoneError is a KeyError
        msg = f"--timezone {timezone!r}: unknown time zone; use an IANA name ('Europe/Moscow')"
        raise InputError(msg) from exc


def _flagged(option: str, path: Path | None, read: Callable[[Path], T]) -> T | None:
    """Read the file of ``option``; its errors name the option."""
    if path is None:
        return None
    try:
        return read(path)
    except InputError as exc:
        msg = f"{option} {exc}"
        raise InputError(msg) from exc


def _waveform_options(
    channels: list[str] | None,
    units: list[str] | None,
    encoding: str | None,
    frequency: float,
    order: int | None,
) -> WaveformOptions:
    """The COMTRADE options checked (``--unit NAME=V``, 50 or 60 Hz)."""
    from gridtwin.workflows.quality import WaveformOptions

    given: dict[str, str] = {}
    for item in units or []:
        name, sep, unit = item.partition("=")
        if not sep or not name.strip() or not unit.strip():
            msg = f"--unit {item!r}: write NAME=V or NAME=kV (a channel id and its unit)"
            raise InputError(msg)
        given[name.strip()] = unit.strip()
    if frequency not in (50.0, 60.0):
        msg = f"--frequency {frequency:g}: use 50 or 60"
        raise InputError(msg)
    if order is not None and not 2 <= order <= 50:
        msg = f"--max-harmonic-order {order}: use 2..50"
        raise InputError(msg)
    return WaveformOptions(
        channels=tuple(channels) if channels else None,
        units=given,
        encoding=encoding,
        nominal_frequency_hz=frequency,
        max_harmonic_order=order,
    )


def _job(
    file: Path,
    *,
    standard: str = "GOST 32144-2013",
    voltage_level: str = "LV",
    nominal_v: float | None = None,
    nominal_line_v: float | None = None,
    timezone: str = "UTC",
    week_start: str | None = None,
    voltage_unit: str = "auto",
    label: str = "start",
    layout: str = "auto",
    events: Path | None = None,
    isolated: bool = False,
    waveform: WaveformOptions | None = None,
) -> QualityAssessment:
    """The workflow's description of the assessment, the options checked."""
    from gridtwin.workflows.quality import QualityAssessment, WaveformOptions, read_event_table

    check_choice(label, "--label", ("start", "end"))
    check_choice(layout, "--layout", ("auto", "long", "wide"))
    check_choice(voltage_level, "--voltage-level", ("LV", "MV"))
    check_choice(voltage_unit, "--voltage-unit", ("auto", "V", "kV", "pu", "percent"))
    return QualityAssessment(
        file,
        standard=standard,
        voltage_level=voltage_level,  # type: ignore[arg-type]
        nominal_v=nominal_v,
        nominal_line_v=nominal_line_v,
        timezone=timezone,
        week_start=_week_start(week_start, timezone),
        voltage_unit=voltage_unit,  # type: ignore[arg-type]
        label=label,  # type: ignore[arg-type]
        layout=layout,  # type: ignore[arg-type]
        events=_flagged("--events", events, read_event_table),
        isolated=isolated,
        waveform=waveform if waveform is not None else WaveformOptions(),
    )


def _show(frame: pd.DataFrame, title: str) -> None:
    import pandas as pd

    from gridtwin.cli._render import frame_table

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


def _print_assessment(a: Assessment) -> None:
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
    print_notes(a.notes)


@app.command("assess")
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
    channel: ChannelOpt = None,
    unit: ChannelUnitOpt = None,
    encoding: EncodingOpt = None,
    frequency: FrequencyOpt = 50.0,
    max_harmonic_order: OrderOpt = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit with code 1 when a point fails.")
    ] = False,
) -> None:
    """Weekly verdict per point and indicator (N, N1, N2 counts, GOST/EN limits)."""
    failing = 0

    def body() -> None:
        nonlocal failing
        check_choice(fmt, "--format", _FORMATS)
        a = _job(
            file,
            standard=standard,
            voltage_level=voltage_level,
            nominal_v=nominal_v,
            nominal_line_v=nominal_line_v,
            timezone=timezone,
            week_start=week_start,
            voltage_unit=voltage_unit,
            label=label,
            layout=layout,
            events=events,
            isolated=isolated,
            waveform=_waveform_options(channel, unit, encoding, frequency, max_harmonic_order),
        ).run()
        failing = int((a.points["verdict"] == "fail").sum())
        if fmt == "json":
            write_text(json.dumps(a.to_dict(), indent=2, ensure_ascii=False) + "\n", output)
        elif fmt == "csv":
            write_text(a.table.to_csv(index=False), output)
        else:
            _print_assessment(a)

    run(body)
    if check and failing:
        raise typer.Exit(code=1)


@app.command("events")
def events_cmd(
    file: FileArg,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="Event source: 'flags' (flagged intervals in the file), 'rms' (dips, swells "
            "and interruptions from the r.m.s. values, thresholds of --standard) or a "
            "registered detector.",
        ),
    ] = "flags",
    standard: StandardOpt = "GOST 32144-2013",
    voltage_level: LevelOpt = "LV",
    nominal_v: NominalOpt = None,
    nominal_line_v: NominalLineOpt = None,
    timezone: TimezoneOpt = "UTC",
    label: LabelOpt = "start",
    layout: LayoutOpt = "auto",
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    channel: ChannelOpt = None,
    unit: ChannelUnitOpt = None,
    encoding: EncodingOpt = None,
    frequency: FrequencyOpt = 50.0,
) -> None:
    """List the events of a measurement file or COMTRADE record (flags, or from r.m.s.)."""

    def body() -> None:
        from gridtwin.quality import event_sources
        from gridtwin.quality.assessment import records

        check_choice(fmt, "--format", _FORMATS)
        check_choice(source, "--source", (*event_sources(), "rms"))
        ev = _job(
            file,
            standard=standard,
            voltage_level=voltage_level,
            nominal_v=nominal_v,
            nominal_line_v=nominal_line_v,
            timezone=timezone,
            label=label,
            layout=layout,
            waveform=_waveform_options(channel, unit, encoding, frequency, None),
        ).find_events(source)
        if fmt == "json":
            write_text(
                json.dumps(
                    {"source": source, "file": str(file), "events": records(ev)},
                    indent=2,
                    ensure_ascii=False,
                )
                + "\n",
                output,
            )
        elif fmt == "csv":
            write_text(ev.to_csv(index=False), output)
        else:
            if ev.empty:
                console().print(f"no events in {file} (source {source!r})")
                return
            _show(ev, f"events in {file} (source {source!r})")

    run(body)


@app.command("report")
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
    channel: ChannelOpt = None,
    unit: ChannelUnitOpt = None,
    encoding: EncodingOpt = None,
    frequency: FrequencyOpt = 50.0,
    max_harmonic_order: OrderOpt = None,
) -> None:
    """Write the power-quality report per point and feeder (HTML with plots, JSON, PDF)."""

    def body() -> None:
        from gridtwin.workflows.quality import read_feeder_map

        check_output(output)
        if max_points < 1:
            msg = f"--max-points {max_points}: use 1 or more"
            raise InputError(msg)
        job = _job(
            file,
            standard=standard,
            voltage_level=voltage_level,
            nominal_v=nominal_v,
            nominal_line_v=nominal_line_v,
            timezone=timezone,
            week_start=week_start,
            voltage_unit=voltage_unit,
            label=label,
            layout=layout,
            events=events,
            isolated=isolated,
            waveform=_waveform_options(channel, unit, encoding, frequency, max_harmonic_order),
        )
        a, rep = job.report(
            point_ids=point,
            feeders=_flagged("--feeders", feeders, read_feeder_map),
            title=title,
            max_points=max_points,
        )
        rep.write(output)
        summary = {str(k): int(v) for k, v in a.points["verdict"].value_counts().items()}
        console().print(
            f"wrote {output}: {len(a.points)} point(s), "
            + ", ".join(f"{v} {k}" for k, v in summary.items())
        )

    run(body)
