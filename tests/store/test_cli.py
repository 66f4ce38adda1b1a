"""``gridtwin store ...`` end to end on real stores (typer's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridtwin.cli import app
from gridtwin.cli.store import safe_location
from gridtwin.store import MeasurementBatch, open_store

runner = CliRunner()

POINTS_CSV = """point_id,quantity,unit,element,phase,scale
load.1.p,p,kW,load:1,abc,0.1
bus.1.vm,vm,pu,bus:1,a,
"""


@pytest.fixture
def points_file(tmp_path: Path) -> Path:
    path = tmp_path / "points.csv"
    path.write_text(POINTS_CSV, encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str]:
    out = runner.invoke(app, list(args))
    return out.exit_code, out.output


def test_init_info_points_and_export(tmp_path: Path, points_file: Path) -> None:
    st = str(tmp_path / "st")
    code, text = invoke("store", "init", "--store", st, "--points", str(points_file))
    assert code == 0, text
    assert "2 points" in text
    assert invoke("store", "init", "--store", st)[0] == 0  # idempotent
    s = open_store(st)
    t = np.array(["2026-03-01T00:00", "2026-03-01T00:15"], "datetime64[us]")
    s.write(MeasurementBatch.build(["load.1.p", "bus.1.vm"], t, [5.0, 1.01]))
    s.write(MeasurementBatch.build(["load.1.p"], t[:1], [5.5]))
    s.close()
    code, text = invoke("store", "info", "--store", st, "--format", "json")
    assert code == 0, text
    info = json.loads(text)
    assert (info["points"], info["measurements"], info["revisions"]) == (2, 3, 1)
    assert info["first_ts_utc"] == "2026-03-01T00:00:00.000000Z"
    code, text = invoke("store", "latest", "--store", st, "--points", "load.1.p")
    assert code == 0, text
    assert "load.1.p" in text
    assert "5.5" in text
    out = tmp_path / "m.csv"
    code, text = invoke("store", "export", str(out), "--store", st, "--start", "2026-03-01T00:10Z")
    assert code == 0, text
    df = pd.read_csv(out)
    assert df["point_id"].tolist() == ["bus.1.vm"]
    code, text = invoke(
        "store", "export", str(tmp_path / "m.parquet"), "--store", st, "--all-revisions"
    )
    assert code == 0
    assert "3 measurements" in text
    code, text = invoke("store", "points", "list", "--store", st, "--format", "json")
    assert [p["point_id"] for p in json.loads(text)] == ["bus.1.vm", "load.1.p"]


def test_store_from_the_environment(tmp_path: Path, points_file: Path) -> None:
    st = str(tmp_path / "env-st")
    out = runner.invoke(
        app, ["store", "init", "--points", str(points_file)], env={"GRIDTWIN_STORE": st}
    )
    assert out.exit_code == 0, out.output
    assert (Path(st) / "gridtwin-store.duckdb").is_file()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["store", "info"], "pass --store"),
        (["store", "info", "--store", "{tmp}/none"], "gridtwin store init --store"),
        (["store", "export", "{tmp}/x.txt", "--store", "{tmp}/st"], "--format parquet|csv"),
        (
            ["store", "export", "{tmp}/x.csv", "--store", "{tmp}/st", "--start", "2026-01-01"],
            "--start",
        ),
        (
            ["store", "export", "{tmp}/x.csv", "--store", "{tmp}/st", "--end", "soon"],
            "--end 'soon'",
        ),
        (["store", "latest", "--store", "{tmp}/st", "--points", ","], "--points is empty"),
        (["store", "latest", "--store", "{tmp}/st", "--points", "ghost"], "ghost"),
        (["store", "points", "add", "{tmp}/bad.csv", "--store", "{tmp}/st"], "row 2 (b)"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, args: list[str], expected: str) -> None:
    invoke("store", "init", "--store", str(tmp_path / "st"))
    (tmp_path / "bad.csv").write_text(
        "point_id,quantity,unit\na,p,kW\nb,p,volts\n", encoding="utf-8"
    )
    out = runner.invoke(
        app, [a.replace("{tmp}", str(tmp_path)) for a in args], env={"GRIDTWIN_STORE": ""}
    )
    assert out.exit_code == 2, out.output
    assert "error:" in out.output
    assert expected in out.output
    assert "Traceback" not in out.output


def test_password_is_never_printed() -> None:
    assert safe_location("postgresql://twin:s3cret@db:5432/x") == "postgresql://twin:***@db:5432/x"
    assert safe_location("postgresql://twin@db/x") == "postgresql://twin@db/x"
    assert safe_location("/data/store") == "/data/store"
