"""Bad options and price-series files get one clear line naming the option or the row,
exit 2 and no traceback (issue 17: causes 5 and 10, and formats that fell back)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

PUN = "it-offerta-pun-0028"


def _gridtwin(*args: str, cwd: Path) -> tuple[int, str]:
    out = subprocess.run(
        [sys.executable, "-m", "gridtwin", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    return out.returncode, out.stdout + out.stderr


def _rome_data(folder: Path) -> str:
    idx = pd.date_range(
        "2025-01-01", "2025-02-01", freq="15min", inclusive="left", tz="Europe/Rome"
    )
    path = folder / "d.csv"
    pd.DataFrame(
        {
            "timestamp": idx.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "m0": np.full(len(idx), 0.1),
        }
    ).to_csv(path, index=False)
    return str(path)


SERIES = {
    "empty": ("", "the file is empty"),
    "header only": ("timestamp,value\n", "no row of prices"),
    "not a number": (
        "timestamp,value\n2025-01-01T00:00Z,abc\n",
        "row 2: value 'abc' is not a number",
    ),
    "no offset": (
        "timestamp,value\n2025-01-01T00:00Z,1\n2025-01-01T00:00,2\n",
        "row 3: timestamp '2025-01-01T00:00' has no UTC offset",
    ),
    "not a time": (
        "timestamp,value\nsoon+01:00,1\n",
        "row 2: timestamp 'soon+01:00' is not an ISO 8601",
    ),
    "not UTF-8": (b"timestamp,value\n2025-01-01T00:00Z,\xe9\n", "not UTF-8 text (byte 0xe9)"),
}


@pytest.mark.parametrize("case", list(SERIES))
def test_a_bad_price_series_names_the_option_and_row(tmp_path: Path, case: str) -> None:
    content, said = SERIES[case]
    series = tmp_path / "pun.csv"
    if isinstance(content, bytes):
        series.write_bytes(content)
    else:
        series.write_text(content, encoding="utf-8")
    code, text = _gridtwin(
        "bill", "--tariff", PUN, "--data", _rome_data(tmp_path), "--prop", "resident=true",
        "--prop", "contracted_kw=3", "--series", f"PUN={series}", cwd=tmp_path,
    )  # fmt: skip
    assert code == 2, text
    assert "Traceback" not in text
    assert "--series PUN" in text
    assert said in text


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["tariffs", "revision", "--level", "bogus"], "--level: voltage level 'bogus'"),
        (["tariffs", "list", "--format", "xml"], "--format 'xml': use one of table, json, csv"),
        (
            ["bill", "--tariff", "sk-urso-0210-2017-dd2", "--data", "DATA", "--format", "xml"],
            "--format 'xml'",
        ),
    ],
)
def test_a_bad_option_is_named(tmp_path: Path, args: list[str], said: str) -> None:
    data = _rome_data(tmp_path)
    code, text = _gridtwin(*[data if a == "DATA" else a for a in args], cwd=tmp_path)
    assert code == 2, text
    assert "Traceback" not in text
    assert said in text


def test_a_good_level_still_answers(tmp_path: Path) -> None:
    code, text = _gridtwin(
        "tariffs", "revision", "--level", "LV_general", "--format", "csv", cwd=tmp_path
    )
    assert code == 0, text
    assert text.splitlines()[1].startswith("LV_general,winter,off_peak,40.94,38.02")


@pytest.fixture(scope="module")
def net_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    import pandapower as pp
    import pandapower.networks as pn

    path = tmp_path_factory.mktemp("net") / "simple.json"
    pp.to_json(pn.example_simple(), str(path))
    return str(path)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--steps", "5:2"], "--steps '5:2': selects no step"),
        (["--steps", "-1:"], "--steps '-1:': step positions count from 0"),
        (["--steps", "3:9"], "--steps 3:9: selects no step of the 1 the model has"),
        (["--threads", "-5"], "--threads -5: use -1 (sequential), 0 (all cores)"),
        (["--chunk-steps", "0"], "--chunk-steps 0: use 1 or more"),
    ],
)
def test_network_simulate_options_are_checked(
    tmp_path: Path, net_file: str, args: list[str], said: str
) -> None:
    code, text = _gridtwin("network", "simulate", "--net", net_file, *args, cwd=tmp_path)
    assert code == 2, text
    assert "Traceback" not in text
    assert said in text


def test_network_simulate_with_a_good_step_range_runs(tmp_path: Path, net_file: str) -> None:
    code, text = _gridtwin("network", "simulate", "--net", net_file, "--steps", "0:1", cwd=tmp_path)
    assert code == 0, text


def test_norms_characteristic_points_are_bounded(tmp_path: Path) -> None:
    heat = str(Path(__file__).resolve().parents[1] / "examples" / "heatnet" / "seed-example.yaml")
    code, text = _gridtwin("norms", "characteristic", heat, "--points", "100000", cwd=tmp_path)
    assert code == 2, text
    assert "--points 100000: use 2 to 1000" in text
