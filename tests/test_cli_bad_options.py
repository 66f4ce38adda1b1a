"""Bad options and price-series files get one clear line naming the option or the row,
exit 2 and no traceback (issue 17: causes 5 and 10, and formats that fell back)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_util import gridtwin, month_csv

PUN = "it-offerta-pun-0028"


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
    data = month_csv(tmp_path, "2025-01-01", "Europe/Rome")
    code, text = gridtwin(
        "bill", "--tariff", PUN, "--data", data, "--prop", "resident=true",
        "--prop", "contracted_kw=3", "--series", f"PUN={series}", cwd=tmp_path,
    )  # fmt: skip
    assert code == 2, text
    assert "Traceback" not in text
    assert "--series PUN" in text
    assert said in text


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["tariffs", "revision", "--level", "bogus"], "--level 'bogus': use LV, HV or EHV"),
        (["tariffs", "list", "--format", "xml"], "--format 'xml': use one of table, json, csv"),
        (
            ["bill", "--tariff", "sk-urso-0210-2017-dd2", "--data", "DATA", "--format", "xml"],
            "--format 'xml'",
        ),
    ],
)
def test_a_bad_option_is_named(tmp_path: Path, args: list[str], said: str) -> None:
    data = month_csv(tmp_path, "2025-01-01", "Europe/Rome")
    code, text = gridtwin(*[data if a == "DATA" else a for a in args], cwd=tmp_path)
    assert code == 2, text
    assert "Traceback" not in text
    assert said in text


def test_a_good_level_still_answers(tmp_path: Path) -> None:
    code, text = gridtwin(
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
    code, text = gridtwin("network", "simulate", "--net", net_file, *args, cwd=tmp_path)
    assert code == 2, text
    assert "Traceback" not in text
    assert said in text


def test_network_simulate_with_a_good_step_range_runs(tmp_path: Path, net_file: str) -> None:
    code, text = gridtwin("network", "simulate", "--net", net_file, "--steps", "0:1", cwd=tmp_path)
    assert code == 0, text


def test_norms_characteristic_points_are_bounded(tmp_path: Path) -> None:
    heat = str(Path(__file__).resolve().parents[1] / "examples" / "heatnet" / "seed-example.yaml")
    code, text = gridtwin("norms", "characteristic", heat, "--points", "100000", cwd=tmp_path)
    assert code == 2, text
    assert "--points 100000: use 2 to 1000" in text
