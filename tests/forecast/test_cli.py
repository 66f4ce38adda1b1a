"""``gridtwin forecast run|backtest`` through real files and a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gridtwin.cli import app
from tests.forecast.util import load_series

runner = CliRunner()


@pytest.fixture(scope="module")
def series_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fc") / "load.csv"
    s = load_series("2024-01-01", 35)
    frame = pd.DataFrame(
        {"ts_utc": s.index.strftime("%Y-%m-%dT%H:%M:%SZ"), "feeder_kw": s.to_numpy()}
    )
    frame.to_csv(path, index=False)
    return path


def test_run_writes_quantiles_of_the_next_day(series_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc.csv"
    res = runner.invoke(
        app,
        [
            "forecast",
            "run",
            str(out),
            "--file",
            str(series_file),
            "--tz",
            "Europe/Berlin",
            "--country",
            "DE",
            "--method",
            "weekly_naive",
            "--quantiles",
            "0.1,0.5,0.9",
        ],
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert len(table) == 96
    assert list(table.columns[-3:]) == ["q0.1", "q0.5", "q0.9"]
    assert table["ts_utc"].iloc[0] == "2024-02-05T23:00:00Z"  # local 6 Feb 00:00
    assert "forecast of 2024-02-06" in res.output


def test_backtest_prints_and_writes_json(series_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "bt.json"
    res = runner.invoke(
        app,
        [
            "forecast",
            "backtest",
            "--file",
            str(series_file),
            "--tz",
            "Europe/Berlin",
            "--days",
            "3",
            "--methods",
            "weekly_naive,sf_seasonal_naive",
            "--output",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "rcrps" in res.output
    data = json.loads(out.read_text())
    methods = {row["method"] for row in data["metrics"]}
    assert methods == {"weekly_naive", "sf_seasonal_naive"}
    assert len(data["days"]) == 3
    assert data["spec"]["tz"] == "Europe/Berlin"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "missing.csv"], "--file missing.csv: no such file"),
        (["--time-column", "when"], "--time-column 'when'"),
        (["--tz", "Mars/Olympus"], "--tz 'Mars/Olympus'"),
        (["--method", "prophet"], "--method 'prophet'"),
        (["--quantiles", "0.1,0.9"], "include 0.5"),
        (["--issue-time", "6 am"], "--issue-time '6 am'"),
        (["--dataset", "taylor"], "give one series"),
    ],
)
def test_bad_input_is_named_by_its_flag(
    series_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    base = ["forecast", "run", str(tmp_path / "fc.csv")]
    if "--file" not in args:
        base += ["--file", str(series_file)]
    res = runner.invoke(app, base + args)
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_run_reads_a_store_point(tmp_path: Path) -> None:
    import numpy as np

    from gridtwin.store import MeasurementBatch, MeasurementPoint, open_store

    s = load_series("2024-01-01", 21)
    store_dir = tmp_path / "store"
    with open_store(store_dir, create=True) as st:
        st.add_points([MeasurementPoint("feeder1.p", "p", "kW")])
        st.write(
            MeasurementBatch.build(
                np.full(len(s), "feeder1.p", dtype=object),
                s.index.tz_localize(None).to_numpy(),
                s.to_numpy(),
            )
        )
    out = tmp_path / "fc.json"
    res = runner.invoke(
        app,
        [
            "forecast",
            "run",
            str(out),
            "--store",
            str(store_dir),
            "--point",
            "feeder1.p",
            "--tz",
            "Europe/Berlin",
            "--method",
            "weekly_naive",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(out.read_text())
    assert len(rows) == 96
    assert rows[0]["series_id"] == "feeder1.p"
    res = runner.invoke(
        app, ["forecast", "run", str(out), "--store", str(store_dir), "--point", "nope"]
    )
    assert res.exit_code == 2
    assert "--point ['nope']" in res.output
