"""An output file that cannot be written is refused before any work, naming the option,
with no traceback and nothing half-written (issue 17, cause 4)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.cli_util import gridtwin, month_csv

ROOT = Path(__file__).resolve().parents[1]
HEAT = str(ROOT / "examples" / "heatnet" / "seed-example.yaml")


def _commands(folder: Path) -> dict[str, list[str]]:
    data = month_csv(folder, "2019-01-01", "Europe/Bratislava")
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
    code, said = gridtwin(*args, "--output", str(target), cwd=tmp_path)
    assert code == 2, said
    assert "Traceback" not in said
    assert "--output" in said
    assert ("does not exist" if where == "missing folder" else "is a folder") in said
    assert not list(tmp_path.glob("**/.*.tmp"))


def test_a_writable_output_is_written_whole(tmp_path: Path) -> None:
    args = _commands(tmp_path)["bill"]
    target = tmp_path / "bills.csv"
    code, said = gridtwin(*args, "--output", str(target), cwd=tmp_path)
    assert code == 0, said
    assert pd.read_csv(target)["meter_id"].eq("m0").all()
    assert not list(tmp_path.glob(".*.tmp"))
