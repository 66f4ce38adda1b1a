"""``gridtwin store init|info|points|latest|rejects|export``: the measurement store.

``--store`` names the store: a data directory (the embedded DuckDB store) or a
``postgresql://`` URL (the server store). It defaults to ``$GRIDTWIN_STORE``. Give a
PostgreSQL password through ``PGPASSWORD`` or ``~/.pgpass``, never in the URL on a shared
machine: the URL is printed without it either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridtwin.cli._common import (
    check_choice,
    check_output,
    console,
    frame_text,
    print_json,
    run,
    write_text,
)
from gridtwin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.store import MeasurementStore

__all__ = ["STORE_OPTION", "app", "open_cli_store", "parse_utc", "safe_location"]

app = typer.Typer(help="The measurement store of the live twin.", no_args_is_help=True)
points_app = typer.Typer(help="Measurement points.", no_args_is_help=True)
app.add_typer(points_app, name="points")

STORE_HELP = (
    "The store: a data directory (embedded) or a postgresql:// URL (server). "
    "Default: $GRIDTWIN_STORE."
)
STORE_OPTION = typer.Option("--store", envvar="GRIDTWIN_STORE", help=STORE_HELP)
#: Written beside an embedded store by ``gridtwin ingest`` while it runs.
STATUS_FILE = "ingest-status.json"


def safe_location(location: str) -> str:
    """A store location fit to print: a URL without its password."""
    if "://" not in location or "@" not in location:
        return location
    scheme, rest = location.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else location


def open_cli_store(
    store: str | None, *, create: bool = False, read_only: bool = False
) -> MeasurementStore:
    """Open the store named by ``--store``; errors in the words of the CLI."""
    from gridtwin.store import open_store

    if not store:
        msg = "no store given: pass --store DIR (or a postgresql:// URL), or set GRIDTWIN_STORE"
        raise InputError(msg)
    return open_store(store, create=create, read_only=read_only)


def parse_utc(text: str | None, option: str) -> pd.Timestamp | None:
    """An ISO-8601 time with a zone (``2026-03-01T00:00Z``); the option named on error."""
    import pandas as pd

    if text is None:
        return None
    try:
        t = pd.Timestamp(text)
    except ValueError as exc:
        msg = f"{option} {text!r} is not an ISO-8601 time (e.g. 2026-03-01T00:00Z)"
        raise InputError(msg) from exc
    if t.tzinfo is None:
        msg = f"{option} {text!r} has no time zone; add Z for UTC or an offset such as +01:00"
        raise InputError(msg)
    return t.tz_convert("UTC")


@app.command("init")
def store_init(
    store: Annotated[str | None, STORE_OPTION] = None,
    points: Annotated[
        Path | None, typer.Option("--points", help="CSV or YAML file of points to add.")
    ] = None,
) -> None:
    """Create a store (a data directory or a PostgreSQL schema); idempotent."""

    def body() -> None:
        from gridtwin.store import read_points

        new = read_points(points) if points is not None else []  # check before creating
        with open_cli_store(store, create=True) as s:
            if new:
                s.add_points(new)
            info = s.info()
        console().print(
            f"store ready: {safe_location(str(store))} ({info.backend}, {info.points} points, "
            f"{info.measurements:,} measurements)"
        )

    run(body)


def _status(store: str) -> dict[str, Any] | None:
    path = Path(store) / STATUS_FILE
    if "://" in store or not path.is_file():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


@app.command("info")
def store_info(
    store: Annotated[str | None, STORE_OPTION] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Counts, time span and the last ingest's counters."""

    def body() -> None:
        check_choice(fmt, "--format", ("table", "json"))
        with open_cli_store(store, read_only=True) as s:
            info = s.info()
        data = {
            "backend": info.backend,
            "location": safe_location(str(store)),
            "points": info.points,
            "measurements": info.measurements,
            "revisions": info.revisions,
            "rejects": info.rejects,
            "first_ts_utc": None if info.first_ts_utc is None else f"{info.first_ts_utc}Z",
            "last_ts_utc": None if info.last_ts_utc is None else f"{info.last_ts_utc}Z",
            "schema_version": info.schema_version,
            "ingest": _status(str(store)),
        }
        if fmt == "json":
            print_json(data)
            return
        con = console()
        for key, value in data.items():
            if key != "ingest":
                shown = f"{value:,}" if isinstance(value, int) else value
                con.print(f"{key:>15}: {shown}", highlight=False)
        ing = _status(str(store))
        if ing:
            rej = ing.get("rejected_by_reason") or {}
            con.print(
                f"{'last ingest':>15}: {ing.get('command')} {ing.get('state')} at "
                f"{ing.get('updated_utc')}: received {ing.get('received', 0):,}, stored "
                f"{ing.get('stored', 0):,}, duplicates {ing.get('duplicates', 0):,}, rejected "
                f"{ing.get('rejected', 0):,} {rej or ''}, max lag {ing.get('max_lag_s', 0):.2f} s",
                highlight=False,
            )

    run(body)


@points_app.command("add")
def points_add(
    file: Annotated[Path, typer.Argument(help="CSV or YAML file of points.")],
    store: Annotated[str | None, STORE_OPTION] = None,
) -> None:
    """Add points from a file, or update those with the same point_id."""

    def body() -> None:
        from gridtwin.store import read_points

        new = read_points(file)
        with open_cli_store(store) as s:
            n = s.add_points(new)
        console().print(f"{n} points added or updated")

    run(body)


@points_app.command("list")
def points_list(
    store: Annotated[str | None, STORE_OPTION] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
) -> None:
    """Every point of the store."""

    def body() -> None:
        import dataclasses

        import pandas as pd

        check_choice(fmt, "--format", ("csv", "json"))
        with open_cli_store(store, read_only=True) as s:
            rows = [dataclasses.asdict(p) for p in s.points()]
        write_text(frame_text(pd.DataFrame(rows), fmt), None)

    run(body)


def _frame_out(df: pd.DataFrame, fmt: str) -> None:
    out = df.copy()
    for col in ("ts_utc", "source_ts_utc", "arrival_ts_utc"):
        if col in out.columns:
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    write_text(frame_text(out, fmt), None)


@app.command("latest")
def store_latest(
    store: Annotated[str | None, STORE_OPTION] = None,
    points: Annotated[
        str | None, typer.Option("--points", help="Comma-separated point ids (default: all).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
) -> None:
    """The newest value of each point."""

    def body() -> None:
        check_choice(fmt, "--format", ("csv", "json"))
        with open_cli_store(store, read_only=True) as s:
            df = s.latest(_ids(points))
        _frame_out(df, fmt)

    run(body)


@app.command("rejects")
def store_rejects(
    store: Annotated[str | None, STORE_OPTION] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N rejects.")] = 20,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
) -> None:
    """The newest rejected inputs with their reasons."""

    def body() -> None:
        check_choice(fmt, "--format", ("csv", "json"))
        with open_cli_store(store, read_only=True) as s:
            df = s.rejects(limit)
        _frame_out(df, fmt)

    run(body)


def _ids(points: str | None) -> list[str] | None:
    if points is None:
        return None
    ids = [p.strip() for p in points.split(",") if p.strip()]
    if not ids:
        msg = "--points is empty; give comma-separated point ids"
        raise InputError(msg)
    return ids


@app.command("export")
def store_export(
    output: Annotated[Path, typer.Argument(help="The file to write (.parquet or .csv).")],
    store: Annotated[str | None, STORE_OPTION] = None,
    points: Annotated[
        str | None, typer.Option("--points", help="Comma-separated point ids (default: all).")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="From (ISO-8601 with zone).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Up to, excluded.")] = None,
    all_revisions: Annotated[
        bool, typer.Option("--all-revisions", help="Every revision, not only the newest.")
    ] = False,
    fmt: Annotated[
        str | None, typer.Option("--format", help="parquet or csv (default: from the suffix).")
    ] = None,
) -> None:
    """Export measurements to a Parquet or CSV file."""

    def body() -> None:
        check_output(output, "OUTPUT")
        chosen = fmt or {".parquet": "parquet", ".csv": "csv"}.get(output.suffix.lower(), "")
        if not chosen:
            msg = f"{output}: cannot tell the format from the suffix; pass --format parquet|csv"
            raise InputError(msg)
        check_choice(chosen, "--format", ("parquet", "csv"))
        lo, hi = parse_utc(start, "--start"), parse_utc(end, "--end")
        with open_cli_store(store, read_only=True) as s:
            n = s.export(
                output,
                chosen,  # type: ignore[arg-type]
                point_ids=_ids(points),
                start_utc=lo,
                end_utc=hi,
                all_revisions=all_revisions,
            )
        console().print(f"wrote {n:,} measurements to {output}")

    run(body)
