"""``gridtwin forecast backtest|run``: probabilistic day-ahead forecasts and their backtests.

The series comes from a CSV/Parquet file (``--file``: a time column with a zone and one
or more value columns), from the store (``--store`` and ``--point``), or from a series a
package ships (``--dataset taylor`` is real measured demand; ``simbench`` profiles are
representative, not measured).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridtwin.cli._common import check_choice, console, print_notes, run, write_text
from gridtwin.cli.store import STORE_OPTION, open_cli_store
from gridtwin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.forecast import ForecastSpec

__all__ = ["app"]

app = typer.Typer(help="Probabilistic load and generation forecasts.", no_args_is_help=True)

DATASETS = ("taylor", "simbench")
FileOpt = Annotated[
    Path | None, typer.Option("--file", help="CSV or Parquet: a time column and value columns.")
]
ColumnOpt = Annotated[
    str | None, typer.Option("--column", help="Value columns, comma-separated (default: all).")
]
TimeColOpt = Annotated[
    str, typer.Option("--time-column", help="The column of interval starts (with a zone).")
]
DataTzOpt = Annotated[
    str | None, typer.Option("--data-tz", help="Zone of naive times in --file (e.g. Europe/Rome).")
]
StoreOpt = Annotated[str | None, STORE_OPTION]
PointOpt = Annotated[
    str | None, typer.Option("--point", help="Store point ids, comma-separated (with --store).")
]
StepOpt = Annotated[str, typer.Option("--step", help="Step of store series (15min, 30min, 1h).")]
DatasetOpt = Annotated[
    str | None, typer.Option("--dataset", help="A shipped series: taylor (real) or simbench.")
]
TzOpt = Annotated[str | None, typer.Option("--tz", help="Local zone of the series (IANA).")]
CountryOpt = Annotated[
    str | None, typer.Option("--country", help="holidays country code (e.g. DE, GB).")
]
SubdivOpt = Annotated[
    str | None, typer.Option("--subdivision", help="holidays subdivision (e.g. ENG).")
]
IssueOpt = Annotated[
    str, typer.Option("--issue-time", help="Local issue time on the day before (HH:MM).")
]
DelayOpt = Annotated[
    float, typer.Option("--delay-s", min=0, help="Seconds after an interval ends until known.")
]
HorizonOpt = Annotated[
    int, typer.Option("--horizon-days", min=1, max=14, help="Days forecast (1: day-ahead).")
]
QuantOpt = Annotated[
    str | None, typer.Option("--quantiles", help="Levels, comma-separated (must hold 0.5).")
]


def _parse_time(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError as exc:
        msg = f"--issue-time {text!r}: give a clock time such as 06:00"
        raise InputError(msg) from exc


def _read_file(path: Path, time_col: str, columns: str | None, data_tz: str | None) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        msg = f"--file {path}: no such file"
        raise InputError(msg)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        msg = f"--file {path}: use a .csv or .parquet file"
        raise InputError(msg)
    frame = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    if time_col not in frame.columns:
        msg = f"--time-column {time_col!r}: {path.name} has columns {list(frame.columns)}"
        raise InputError(msg)
    try:
        times = pd.to_datetime(frame[time_col], utc=data_tz is None)
    except (ValueError, TypeError) as exc:
        msg = f"--time-column {time_col!r}: not times with a zone ({exc})"
        raise InputError(msg) from exc
    if data_tz is not None:
        if getattr(times.dt, "tz", None) is not None:
            msg = f"--data-tz {data_tz}: the times of {path.name} already carry a zone"
            raise InputError(msg)
        try:
            times = times.dt.tz_localize(data_tz, ambiguous="raise", nonexistent="raise")
        except Exception as exc:
            msg = f"--data-tz {data_tz}: the local times are ambiguous or do not exist ({exc})"
            raise InputError(msg) from exc
    wanted = [c.strip() for c in columns.split(",")] if columns else None
    values = frame.drop(columns=[time_col])
    if wanted is not None:
        missing = [c for c in wanted if c not in values.columns]
        if missing:
            msg = f"--column {missing}: {path.name} has columns {list(values.columns)}"
            raise InputError(msg)
        values = values[wanted]
    values = values.select_dtypes("number")
    if values.empty:
        msg = f"--file {path}: no numeric value column"
        raise InputError(msg)
    return values.set_axis(pd.DatetimeIndex(times)).astype(float)


def _read_store(store: str, points: str, step: str) -> pd.DataFrame:
    import pandas as pd

    ids = [p.strip() for p in points.split(",") if p.strip()]
    try:
        td = pd.Timedelta(step)
    except ValueError as exc:
        msg = f"--step {step!r}: give a step such as 15min"
        raise InputError(msg) from exc
    with open_cli_store(store, read_only=True) as s:
        known = {p.point_id for p in s.points()}
        unknown = [p for p in ids if p not in known]
        if unknown:
            msg = f"--point {unknown}: not in the store (see gridtwin store points list)"
            raise InputError(msg)
        info = s.info()
        if info.first_ts_utc is None or info.last_ts_utc is None:
            msg = "--store: the store holds no measurement"
            raise InputError(msg)
        start = pd.Timestamp(info.first_ts_utc).tz_localize("UTC").floor(freq=step)
        end = pd.Timestamp(info.last_ts_utc).tz_localize("UTC") + td
        frame = s.resample(ids, start, end, td, "mean")
    frame.columns = [str(c) for c in frame.columns]
    return frame.dropna(how="all").reindex(pd.date_range(frame.index[0], frame.index[-1], freq=td))


def _series(
    file: Path | None,
    time_col: str,
    column: str | None,
    data_tz: str | None,
    store: str | None,
    point: str | None,
    step: str,
    dataset: str | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The series chosen by the flags and the defaults they imply (zone, country)."""
    given = [x for x in (file, point, dataset) if x is not None]
    if len(given) != 1:
        msg = (
            "give one series: --file PATH, --point ID (with --store), or --dataset taylor|simbench"
        )
        raise InputError(msg)
    if dataset is not None:
        from gridtwin.forecast.datasets import simbench_profiles, taylor_demand

        check_choice(dataset, "--dataset", DATASETS)
        if dataset == "taylor":
            return taylor_demand().to_frame(), {
                "tz": "Europe/London",
                "country": "GB",
                "subdivision": "ENG",
            }
        return simbench_profiles(), {"tz": "Etc/GMT-1", "country": "DE"}
    if file is not None:
        return _read_file(file, time_col, column, data_tz), {}
    if not store:
        msg = "--point needs --store DIR (or GRIDTWIN_STORE)"
        raise InputError(msg)
    assert point is not None
    return _read_store(store, point, step), {}


def _spec(
    defaults: dict[str, Any],
    tz: str | None,
    country: str | None,
    subdivision: str | None,
    issue_time: str,
    delay_s: float,
    horizon_days: int,
    quantiles: str | None,
) -> ForecastSpec:
    from gridtwin.forecast import DEFAULT_QUANTILES, ForecastSpec

    try:
        levels = tuple(float(q) for q in quantiles.split(",")) if quantiles else DEFAULT_QUANTILES
    except ValueError as exc:
        msg = f"--quantiles {quantiles!r}: give numbers such as 0.1,0.5,0.9"
        raise InputError(msg) from exc
    zone = tz or defaults.get("tz") or "UTC"
    _check_zone(zone)
    return ForecastSpec(
        tz=zone,
        country=country or defaults.get("country"),
        subdivision=subdivision or defaults.get("subdivision"),
        quantiles=levels,
        horizon_days=horizon_days,
        issue_time_local=_parse_time(issue_time),
        data_delay_s=delay_s,
    )


def _check_zone(zone: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"--tz {zone!r}: not an IANA zone (e.g. Europe/Berlin)"
        raise InputError(msg) from exc


@app.command("backtest")
def backtest_cmd(
    file: FileOpt = None,
    column: ColumnOpt = None,
    time_column: TimeColOpt = "ts_utc",
    data_tz: DataTzOpt = None,
    store: StoreOpt = None,
    point: PointOpt = None,
    step: StepOpt = "15min",
    dataset: DatasetOpt = None,
    tz: TzOpt = None,
    country: CountryOpt = None,
    subdivision: SubdivOpt = None,
    issue_time: IssueOpt = "06:00",
    delay_s: DelayOpt = 0.0,
    horizon_days: HorizonOpt = 1,
    quantiles: QuantOpt = None,
    days: Annotated[int, typer.Option("--days", min=1, help="Held-out days (the last ones).")] = 28,
    methods: Annotated[
        str, typer.Option("--methods", help="gbm, weekly_naive, sf_seasonal_naive, sf_mstl.")
    ] = "gbm,sf_seasonal_naive",
    output: Annotated[Path | None, typer.Option("--output", help="Write the JSON here.")] = None,
) -> None:
    """Rolling-origin backtest over the last --days days: MAE, rMAE, MASE, pinball, rCRPS."""

    def body() -> None:
        from gridtwin.forecast import METHODS, to_grid
        from gridtwin.forecast.backtest import backtest

        chosen = [m.strip() for m in methods.split(",") if m.strip()]
        for m in chosen:
            check_choice(m, "--methods", METHODS)
        frame, defaults = _series(file, time_column, column, data_tz, store, point, step, dataset)
        spec = _spec(
            defaults, tz, country, subdivision, issue_time, delay_s, horizon_days, quantiles
        )
        values, start, grid_step = to_grid(frame)
        report = backtest(
            values,
            start,
            grid_step,
            spec,
            days=days,
            methods=chosen,
            series_ids=[str(c) for c in frame.columns],
            source=str(file or point or dataset),
        )
        _print_table(report.table)
        notes = [f"{sid}: {len(r)} fallbacks, first {r[0]}" for sid, r in report.fallbacks.items()]
        print_notes(notes)
        if output is not None:
            write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n", output)

    run(body)


def _print_table(table: pd.DataFrame) -> None:
    from rich.table import Table

    out = Table(title="backtest (means over series; skill = 1 - MAE / MAE of weekly naive)")
    for col in table.columns:
        out.add_column(str(col), justify="left" if col in ("method", "lead") else "right")
    for row in table.itertuples(index=False):
        out.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    console().print(out)


@app.command("run")
def run_cmd(
    output: Annotated[Path, typer.Argument(help="File to write (.csv, .parquet or .json).")],
    file: FileOpt = None,
    column: ColumnOpt = None,
    time_column: TimeColOpt = "ts_utc",
    data_tz: DataTzOpt = None,
    store: StoreOpt = None,
    point: PointOpt = None,
    step: StepOpt = "15min",
    dataset: DatasetOpt = None,
    tz: TzOpt = None,
    country: CountryOpt = None,
    subdivision: SubdivOpt = None,
    issue_time: IssueOpt = "06:00",
    delay_s: DelayOpt = 0.0,
    horizon_days: HorizonOpt = 1,
    quantiles: QuantOpt = None,
    day: Annotated[
        str | None,
        typer.Option("--day", help="First local day forecast (default: the day after the data)."),
    ] = None,
    method: Annotated[str, typer.Option("--method", help="gbm or a baseline.")] = "gbm",
) -> None:
    """Quantile forecasts of the next local day(s), with each series' method and fallback."""

    def body() -> None:
        import dataclasses

        import pandas as pd

        from gridtwin.forecast import METHODS, Forecaster, to_grid

        check_choice(method, "--method", METHODS)
        suffix = output.suffix.lower()
        check_choice(suffix or "(none)", "the output's suffix", (".csv", ".parquet", ".json"))
        if not output.parent.is_dir():
            msg = f"{output}: directory {output.parent} does not exist"
            raise InputError(msg)
        frame, defaults = _series(file, time_column, column, data_tz, store, point, step, dataset)
        spec = _spec(
            defaults, tz, country, subdivision, issue_time, delay_s, horizon_days, quantiles
        )
        spec = dataclasses.replace(spec, method=method)  # type: ignore[arg-type]
        values, start, grid_step = to_grid(frame)
        if day is None:
            end = (start + grid_step * values.shape[1]).tz_convert(spec.tz)
            first = end.date() + dt.timedelta(days=1)
        else:
            try:
                first = dt.date.fromisoformat(day)
            except ValueError as exc:
                msg = f"--day {day!r}: give a date YYYY-MM-DD"
                raise InputError(msg) from exc
        ids = [str(c) for c in frame.columns]
        res = Forecaster(spec).predict(values, start, grid_step, first, ids)
        table = res.frame()
        table["ts_utc"] = pd.DatetimeIndex(table["ts_utc"]).strftime("%Y-%m-%dT%H:%M:%SZ")
        tmp = output.with_name(f".{output.name}.tmp")
        if suffix == ".parquet":
            table.to_parquet(tmp, index=False)
        elif suffix == ".csv":
            table.to_csv(tmp, index=False)
        else:
            tmp.write_text(table.to_json(orient="records", indent=2) + "\n", encoding="utf-8")
        tmp.replace(output)
        con = console()
        con.print(
            f"forecast of {first} ({spec.horizon_days} day(s)) issued {res.issue_utc}, data "
            f"until {res.available_until_utc}: {len(ids)} series, {len(res.time_utc)} steps, "
            f"quantiles {', '.join(f'{q:g}' for q in spec.quantiles)}; wrote {output}",
            highlight=False,
        )
        print_notes(list(res.notes))

    run(body)
