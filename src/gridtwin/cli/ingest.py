"""``gridtwin ingest file|greenbutton|replay|mqtt|modbus``: telemetry into the store.

Every command runs its sources into one :class:`gridtwin.ingest.Pipeline`: values are
checked against the store's points, rejected ones are kept with their reason, and the
rest is written in durable batches. Bulk loads show a progress bar; streams show a live
counter line (received, stored, duplicates, rejected, queue, lag) until Ctrl-C or
``--duration``. While a command runs on an embedded store, its counters are also written
to ``<store>/ingest-status.json`` every half second (``gridtwin store info`` shows them).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridtwin.cli._common import check_choice, console, print_json, run
from gridtwin.cli.store import STATUS_FILE, STORE_OPTION, open_cli_store, parse_utc, safe_location
from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.ingest import IngestCounters, Source
    from gridtwin.store import MeasurementPoint, MeasurementStore

__all__ = ["app"]

app = typer.Typer(help="Telemetry and meter data into the store.", no_args_is_help=True)

FORMAT_HELP = "Summary as text or json."
DURATION_HELP = "Stop after this many seconds (default: run until the input ends or Ctrl-C)."


def _summary_line(c: IngestCounters) -> str:
    rej = ", ".join(f"{k} {v:,}" for k, v in sorted(c.rejected_by_reason.items()))
    return (
        f"received {c.received:,} · stored {c.stored:,} (revisions {c.revisions:,}) · "
        f"duplicates {c.duplicates:,} · rejected {c.rejected:,}{f' ({rej})' if rej else ''} · "
        f"queue {c.queue_rows:,} · lag {c.lag_s:.2f} s (max {c.max_lag_s:.2f} s)"
        + (f" · write errors {c.write_errors}" if c.write_errors else "")
    )


class _StatusFile:
    """The counters of a running ingest beside an embedded store (atomic rewrites)."""

    def __init__(self, store_location: str, command: str) -> None:
        self.path = None if "://" in store_location else Path(store_location) / STATUS_FILE
        self.command = command
        self.started = time.time()
        self.last = 0.0

    def write(self, c: IngestCounters, state: str, force: bool = False) -> None:
        now = time.time()
        if self.path is None or (not force and now - self.last < 0.5):
            return
        self.last = now
        data = {
            "command": self.command,
            "state": state,
            "pid": os.getpid(),
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "updated_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            **c.as_dict(),
        }
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:  # the status is a courtesy; the ingest goes on
            pass


def run_ingest(
    store_location: str | None,
    make_sources: Callable[[MeasurementStore], Sequence[Source]],
    *,
    command: str,
    live: bool,
    fmt: str,
    duration_s: float | None = None,
    points: Callable[[], list[MeasurementPoint]] | None = None,
    progress: Any = None,
) -> None:
    """Open the store, (add ``points``), run the sources into a pipeline, report."""
    from gridtwin.ingest import Pipeline, run_sources

    check_choice(fmt, "--format", ("text", "json"))
    if duration_s is not None and not duration_s > 0:
        msg = f"--duration must be a positive number of seconds, got {duration_s}"
        raise InputError(msg)
    new_points = points() if points is not None else []  # check the input before writing
    store = open_cli_store(store_location)
    status = _StatusFile(str(store_location), command)
    stop = threading.Event()
    timer = threading.Timer(duration_s, stop.set) if duration_s else None
    try:
        if new_points:
            store.add_points(new_points)
        sources = make_sources(store)
        with Pipeline(store) as pipe:
            con = console()
            ticker = _Ticker(con, live and fmt == "text", status)
            if timer is not None:
                timer.daemon = True
                timer.start()
            try:
                with progress if progress is not None else contextlib.nullcontext():
                    counters = run_sources(pipe, sources, stop, on_tick=ticker.tick)
            finally:
                ticker.close()
                status.write(pipe.counters(), "finished", force=True)
    finally:
        if timer is not None:
            timer.cancel()
        store.close()
    _report(counters, fmt, str(store_location), sources)


class _Ticker:
    """The live counter line of streams (and the status file of every ingest)."""

    def __init__(self, con: Any, live: bool, status: _StatusFile) -> None:
        self.status = status
        self.live = None
        if live:
            from rich.live import Live

            self.live = Live("starting ...", console=con, refresh_per_second=4, transient=True)
            self.live.start()

    def tick(self, c: IngestCounters) -> None:
        self.status.write(c, "running")
        if self.live is not None:
            self.live.update(_summary_line(c))

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def _source_counters(sources: Sequence[Source]) -> dict[str, Any]:
    """Each source's own counters (MQTT messages, Modbus polls, ...), where it has them."""
    import dataclasses

    out: dict[str, Any] = {}
    for s in sources:
        counters = getattr(s, "counters", None)
        if callable(counters):
            value = counters()
            is_record = dataclasses.is_dataclass(value) and not isinstance(value, type)
            out[s.name] = dataclasses.asdict(value) if is_record else value
    return out


def _report(c: IngestCounters, fmt: str, location: str, sources: Sequence[Source]) -> None:
    notes = [n for s in sources for n in getattr(s, "notes", [])]
    per_source = _source_counters(sources)
    if fmt == "json":
        print_json(
            {"store": safe_location(location), **c.as_dict(), "sources": per_source, "notes": notes}
        )
        return
    con = console()
    con.print(_summary_line(c), highlight=False)
    for name, counters in per_source.items():
        shown = ", ".join(f"{k} {v}" for k, v in counters.items() if v not in (0, "", {}, None, []))
        con.print(f"{name}: {shown}", highlight=False)
    if c.rejected:
        con.print(
            f"[yellow]{c.rejected:,} values rejected: see `gridtwin store rejects --store "
            f"{safe_location(location)}`[/yellow]",
            highlight=False,
        )
    for note in notes:
        con.print(f"[yellow]{note}[/yellow]", highlight=False)


# ----------------------------------------------------------------------- files


def _file_progress(paths: Sequence[Path]) -> tuple[Any, list[Callable[[Any], None]]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=console(),
        transient=False,
    )
    callbacks: list[Callable[[Any], None]] = []
    for path in paths:
        task = bar.add_task(path.name, total=1.0)

        def update(p: Any, task: Any = task) -> None:
            bar.update(task, completed=p.fraction)

        callbacks.append(update)
    return bar, callbacks


@app.command("file")
def ingest_file(
    paths: Annotated[list[Path], typer.Argument(help="CSV, CSV.gz or Parquet files.")],
    store: Annotated[str | None, STORE_OPTION] = None,
    layout: Annotated[str, typer.Option("--layout", help="auto, long or wide.")] = "auto",
    time_column: Annotated[str, typer.Option("--time-column")] = "ts_utc",
    point_column: Annotated[str, typer.Option("--point-column")] = "point_id",
    value_column: Annotated[str, typer.Option("--value-column")] = "value",
    quality_column: Annotated[str, typer.Option("--quality-column")] = "quality",
    source_ts_column: Annotated[str, typer.Option("--source-ts-column")] = "source_ts_utc",
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="IANA zone of timestamps written without an offset."),
    ] = None,
    chunk_rows: Annotated[int, typer.Option("--chunk-rows", min=1)] = 200_000,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "text",
) -> None:
    """Load measurement files (long: point_id, ts_utc, value[, quality]; or wide)."""

    def body() -> None:
        from gridtwin.ingest import FileSource

        check_choice(layout, "--layout", ("auto", "long", "wide"))
        for path in paths:
            if not path.is_file():
                msg = f"{path}: no such file"
                raise InputError(msg)
        bar, callbacks = _file_progress(paths) if fmt == "text" else (None, [None] * len(paths))
        sources = [
            FileSource(
                path,
                layout=layout,  # type: ignore[arg-type]
                time_column=time_column,
                point_column=point_column,
                value_column=value_column,
                quality_column=quality_column,
                source_ts_column=source_ts_column,
                timezone=timezone,
                chunk_rows=chunk_rows,
                progress=cb,
                name=f"file:{path.name}",
            )
            for path, cb in zip(paths, callbacks, strict=True)
        ]
        run_ingest(store, lambda _s: sources, command="file", live=False, fmt=fmt, progress=bar)

    run(body)


# ----------------------------------------------------------------------- Green Button


@app.command("greenbutton")
def ingest_greenbutton(
    paths: Annotated[list[Path], typer.Argument(help="Green Button (ESPI) XML files.")],
    store: Annotated[str | None, STORE_OPTION] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="YAML or CSV: series '<usage point>:<reading type>' -> point id (null skips).",
        ),
    ] = None,
    add_points: Annotated[
        bool, typer.Option("--add-points", help="Register the file's points first.")
    ] = False,
    skip_unsupported: Annotated[
        bool,
        typer.Option(
            "--skip-unsupported",
            help="Skip gas, reactive-energy and register series instead of failing.",
        ),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "text",
) -> None:
    """Load Green Button interval data (usage points become measurement points)."""

    def body() -> None:
        from gridtwin.ingest import GreenButtonSource, greenbutton_points

        def points() -> list[MeasurementPoint]:
            out: dict[str, MeasurementPoint] = {}
            for path in paths:
                for p in greenbutton_points(path, mapping, skip_unsupported=skip_unsupported):
                    out[p.point_id] = p
            return list(out.values())

        sources = [
            GreenButtonSource(p, mapping, skip_unsupported=skip_unsupported, name=f"gb:{p.name}")
            for p in paths
        ]
        run_ingest(
            store,
            lambda _s: sources,
            command="greenbutton",
            live=False,
            fmt=fmt,
            points=points if add_points else None,
        )
        skipped = [k for s in sources for k in s.skipped]
        if skipped and fmt == "text":
            console().print(f"skipped series: {', '.join(skipped)}", highlight=False)

    run(body)


# ----------------------------------------------------------------------- replay


def _speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        speed = float("nan")
    if not speed > 0:
        msg = f"--speed {text!r}: give a positive number (900 = 15 minutes per second) or inf"
        raise InputError(msg)
    return speed


@app.command("replay")
def ingest_replay(
    store: Annotated[str | None, STORE_OPTION] = None,
    simbench: Annotated[
        str | None, typer.Option("--simbench", help="Play a SimBench grid's load/sgen profiles.")
    ] = None,
    from_store: Annotated[
        str | None, typer.Option("--from-store", help="Play what another store holds.")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="From (ISO-8601, zone).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Up to, excluded.")] = None,
    points_opt: Annotated[
        str | None, typer.Option("--points", help="Comma-separated point ids (--from-store).")
    ] = None,
    unit: Annotated[str, typer.Option("--unit", help="kW or MW (--simbench).")] = "kW",
    speed: Annotated[
        str, typer.Option("--speed", help="Data seconds per wall second (900) or inf.")
    ] = "900",
    shift_to_now: Annotated[
        bool, typer.Option("--shift-to-now", help="Stamp the first step with the time now.")
    ] = False,
    loop: Annotated[bool, typer.Option("--loop", help="Start again at the end.")] = False,
    chunk_steps: Annotated[int, typer.Option("--chunk-steps", min=1)] = 1,
    duration: Annotated[float | None, typer.Option("--duration", help=DURATION_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "text",
) -> None:
    """Play stored or SimBench profiles as live telemetry at a chosen speed."""

    def body() -> None:
        from gridtwin.ingest import ReplaySource

        if (simbench is None) == (from_store is None):
            msg = "give exactly one of --simbench CODE or --from-store STORE"
            raise InputError(msg)
        rate = _speed(speed)
        if simbench is not None:
            frame, new_points = _simbench_frame(simbench, unit, start, end)
        else:
            frame, new_points = _store_frame(str(from_store), points_opt, start, end)
        source = ReplaySource(
            frame, speed=rate, shift_to_now=shift_to_now, loop=loop, chunk_steps=chunk_steps
        )
        run_ingest(
            store,
            lambda _s: [source],
            command="replay",
            live=True,
            fmt=fmt,
            duration_s=duration,
            points=lambda: new_points,
        )

    run(body)


def _simbench_frame(
    code: str, unit: str, start: str | None, end: str | None
) -> tuple[Any, list[MeasurementPoint]]:
    from gridtwin.workflows.telemetry import simbench_replay_frame

    check_choice(unit, "--unit", ("kW", "MW"))
    return simbench_replay_frame(
        code,
        unit="kW" if unit == "kW" else "MW",
        start_utc=parse_utc(start, "--start"),
        end_utc=parse_utc(end, "--end"),
    )


def _store_frame(
    location: str, points: str | None, start: str | None, end: str | None
) -> tuple[Any, list[MeasurementPoint]]:
    from gridtwin.ingest import frame_from_store

    lo, hi = parse_utc(start, "--start"), parse_utc(end, "--end")
    if lo is None or hi is None:
        msg = "--from-store needs --start and --end"
        raise InputError(msg)
    src = open_cli_store(location, read_only=True)
    try:
        known = {p.point_id: p for p in src.points()}
        ids = list(known) if points is None else [p.strip() for p in points.split(",")]
        missing = [p for p in ids if p not in known]
        if missing:
            msg = f"--points: {', '.join(missing[:5])} not in the store {location}"
            raise InputError(msg)
        frame = frame_from_store(src, ids, lo, hi)
    finally:
        src.close()
    return frame, [known[p] for p in ids]


# ----------------------------------------------------------------------- MQTT

MQTT_PASSWORD_ENV = "GRIDTWIN_MQTT_PASSWORD"


@app.command("mqtt")
def ingest_mqtt(
    store: Annotated[str | None, STORE_OPTION] = None,
    host: Annotated[str, typer.Option("--host", help="Broker host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Broker port (8883 with TLS).")] = 1883,
    topic: Annotated[
        list[str] | None, typer.Option("--topic", help="Topic filter (repeatable; json).")
    ] = None,
    payload: Annotated[str, typer.Option("--payload", help="json or sparkplug.")] = "json",
    topic_template: Annotated[
        str | None,
        typer.Option("--topic-template", help="e.g. 'twin/{point_id}': the point from the topic."),
    ] = None,
    group: Annotated[str | None, typer.Option("--group", help="Sparkplug group id.")] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping", help="YAML: Sparkplug '<group>/<edge>[/<device>]/<metric>' -> point id."
        ),
    ] = None,
    skip_unmapped: Annotated[
        bool, typer.Option("--skip-unmapped", help="Skip Sparkplug metrics not in --mapping.")
    ] = False,
    client_id: Annotated[
        str,
        typer.Option(
            "--client-id",
            help="Persistent session: unacknowledged messages are redelivered after a restart.",
        ),
    ] = "",
    clean_start: Annotated[bool, typer.Option("--clean-start", help="Drop the session.")] = False,
    username: Annotated[
        str | None,
        typer.Option(
            "--username", help=f"User name; the password comes from ${MQTT_PASSWORD_ENV}."
        ),
    ] = None,
    tls: Annotated[bool, typer.Option("--tls", help="Connect with TLS.")] = False,
    ca_file: Annotated[str | None, typer.Option("--ca-file")] = None,
    cert_file: Annotated[str | None, typer.Option("--cert-file")] = None,
    key_file: Annotated[str | None, typer.Option("--key-file")] = None,
    qos: Annotated[int, typer.Option("--qos", help="0 or 1.")] = 1,
    mqtt_version: Annotated[str, typer.Option("--mqtt-version", help="5 or 3.1.1.")] = "5",
    batch_messages: Annotated[int, typer.Option("--batch-messages", min=1)] = 200,
    batch_ms: Annotated[float, typer.Option("--batch-ms", min=0)] = 50.0,
    duration: Annotated[float | None, typer.Option("--duration", help=DURATION_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "text",
) -> None:
    """Subscribe to a broker and store what arrives (QoS 1: acknowledged once stored)."""

    def body() -> None:
        from gridtwin.ingest._mqtt import MqttConfig, MqttJsonSource
        from gridtwin.ingest._sparkplug import SparkplugSource

        check_choice(payload, "--payload", ("json", "sparkplug"))
        check_choice(mqtt_version, "--mqtt-version", ("5", "3.1.1"))
        if payload == "sparkplug" and not group:
            msg = "--payload sparkplug needs --group (the Sparkplug group id)"
            raise InputError(msg)
        if payload == "json" and not (topic or topic_template):
            msg = "give --topic FILTER (repeatable) or --topic-template 'prefix/{point_id}'"
            raise InputError(msg)
        config = MqttConfig(
            host=host,
            port=port,
            topics=tuple(topic or ()),
            qos=qos,
            client_id=client_id,
            clean_start=clean_start,
            username=username,
            password=os.environ.get(MQTT_PASSWORD_ENV) or None,
            tls=tls,
            tls_ca_file=ca_file,
            tls_cert_file=cert_file,
            tls_key_file=key_file,
            protocol="5" if mqtt_version == "5" else "3.1.1",
            batch_max_messages=batch_messages,
            batch_max_s=batch_ms / 1000.0,
            topic_template=topic_template,
        )
        source: Source
        if payload == "sparkplug":
            source = SparkplugSource(
                config,
                str(group),
                mapping=_sparkplug_mapping(mapping),
                unmapped="skip" if skip_unmapped else "default",
            )
        else:
            source = MqttJsonSource(config)
        run_ingest(
            store, lambda _s: [source], command="mqtt", live=True, fmt=fmt, duration_s=duration
        )

    run(body)


def _sparkplug_mapping(path: Path | None) -> dict[str, str] | None:
    from gridtwin._datafile import read_data_file

    if path is None:
        return None
    data = read_data_file(path, InputError)
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        msg = f"{path}: the point id of {bad[0]!r} must be text (metric path: point id)"
        raise InputError(msg)
    return {str(k): str(v) for k, v in data.items()}


# ----------------------------------------------------------------------- Modbus, IEC 104


def _quiet_protocol_logs() -> None:
    """pymodbus and c104 log every failed connection at ERROR; the counters say it."""
    import logging

    for name in ("pymodbus", "c104"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@app.command("modbus")
def ingest_modbus(
    register_map: Annotated[
        Path, typer.Option("--map", help="YAML register map (devices, registers, scaling).")
    ],
    store: Annotated[str | None, STORE_OPTION] = None,
    add_points: Annotated[
        bool,
        typer.Option("--add-points", help="Declare the points the map describes before polling."),
    ] = False,
    once: Annotated[
        bool, typer.Option("--once", help="Poll every device once and stop (check a map).")
    ] = False,
    duration: Annotated[float | None, typer.Option("--duration", help=DURATION_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "text",
) -> None:
    """Poll Modbus TCP devices and store their registers as measurements."""

    def body() -> None:
        from gridtwin.ingest._modbus import ModbusSource, load_register_map

        _quiet_protocol_logs()
        parsed = load_register_map(register_map)
        source = ModbusSource(parsed, name=f"modbus:{register_map.name}")
        chosen: Source = _OnceSource(source) if once else source
        try:
            run_ingest(
                store,
                lambda _s: [chosen],
                command="modbus",
                live=not once,
                fmt=fmt,
                duration_s=duration,
                points=parsed.points if add_points else None,
            )
        finally:
            source.close()

    run(body)


class _OnceSource:
    """A Modbus source that polls once (``--once``)."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.name = source.name

    def run(self, sink: Any, stop: threading.Event) -> None:
        self.source.poll_once(sink)

    def counters(self) -> Any:
        return self.source.counters()


@app.command("iec104")
def ingest_iec104(
    ioa_map: Annotated[
        Path, typer.Option("--map", help="YAML map of stations and their IOAs -> point ids.")
    ],
    store: Annotated[str | None, STORE_OPTION] = None,
    duration: Annotated[float | None, typer.Option("--duration", help=DURATION_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "text",
) -> None:
    """Take IEC 60870-5-104 measured values (needs the optional c104 package)."""

    def body() -> None:
        import importlib.util

        from gridtwin.ingest._iec104 import Iec104Source, load_iec104_map

        if importlib.util.find_spec("c104") is None:
            msg = "IEC 60870-5-104 needs the c104 package (GPL-3.0): pip install 'gridtwin[iec104]'"
            raise InputError(msg)
        _quiet_protocol_logs()
        source = Iec104Source(load_iec104_map(ioa_map), name=f"iec104:{ioa_map.name}")
        run_ingest(
            store, lambda _s: [source], command="iec104", live=True, fmt=fmt, duration_s=duration
        )

    run(body)
