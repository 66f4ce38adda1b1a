"""An output file that cannot be written is refused before any work, naming the option,
with no traceback and nothing half-written (issue 17, cause 4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAT = str(ROOT / "examples" / "heatnet" / "seed-example.yaml")


def _interval_csv(folder: Path) -> str:
    idx = pd.date_range(
        "2019-01-01", "2019-02-01", freq="15min", inclusive="left", tz="Europe/Bratislava"
    )
    path = folder / "d.csv"
    pd.DataFrame(
        {
            "timestamp": idx.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "m0": np.full(len(idx), 0.1),
        }
    ).to_csv(path, index=False)
    return str(path)


def _commands(folder: Path) -> dict[str, list[str]]:
    data = _interval_csv(folder)
    return {
        "bill": ["bill", "--tariff", "sk-urso-0210-2017-dd2", "--data", data, "--format", "csv"],
        "bill-parquet": ["bill", "--tariff", "sk-urso-0210-2017-dd2", "--data", data],
        "norms": ["norms", "past-year", HEAT, "--format", "json"],
        "norms-report": ["norms", "report", HEAT],
    }


@pytest.mark.parametrize("where", ["missing folder", "a folder"])
@pytest.mark.parametrize("command", ["bill", "bill-parquet", "norms", "norms-report"])
def test_an_unwritable_output_is_refused_naming_the_option(
    tmp_path: Path, command: str, where: str
) -> None:
    args = _commands(tmp_path)[command]
    suffix = ".parquet" if command == "bill-parquet" else ".out"
    target = tmp_path / "nowhere" / f"x{suffix}" if where == "missing folder" else tmp_path
    out = subprocess.run(
        [sys.executable, "-m", "gridtwin", *args, "--output", str(target)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    said = out.stdout + out.stderr
    assert out.returncode == 2, said
    assert "Traceback" not in said
    assert "--output" in said
    assert ("does not exist" if where == "missing folder" else "is a folder") in said
    assert not list(tmp_path.glob("**/.*.tmp"))


def test_a_writable_output_is_written_whole(tmp_path: Path) -> None:
    args = _commands(tmp_path)["bill"]
    target = tmp_path / "bills.csv"
    subprocess.run(
        [sys.executable, "-m", "gridtwin", *args, "--output", str(target)], check=True, cwd=tmp_path
    )
    assert pd.read_csv(target)["meter_id"].eq("m0").all()
    assert not list(tmp_path.glob(".*.tmp"))
