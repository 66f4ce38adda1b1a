"""What the fuzzing campaign of issue 17 found, each pinned by a hand-written input that
reproduces it (the campaign's seed and corruption are named): a clear error naming the
place, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fuzz.corpus import write_seeds
from tests.fuzz.outcome import invoke


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_seeds(tmp_path_factory.mktemp("found-seeds"))


def _refused(args: list[str], said: str) -> None:
    out = invoke(args)
    assert out.verdict == "clean", (out.verdict, out.cause, out.output[-2000:])
    assert out.exit_code == 2
    assert said in " ".join(out.output.split()), out.output


def test_a_pq_value_cell_that_is_not_utf8_is_named(tmp_path: Path, seeds: dict[str, Path]) -> None:
    """Campaign seed 17000054 (encoding:badbyte): pyarrow's ArrowInvalid escaped from the
    function that names the bad number."""
    text = seeds["pq_csv"].read_bytes()
    lines = text.split(b"\n")
    cells = lines[3].split(b",")
    cells[2] = b"22\xe90.5"  # u_a of data row 3
    lines[3] = b",".join(cells)
    path = tmp_path / "pq.csv"
    path.write_bytes(b"\n".join(lines))
    _refused(
        ["quality", "assess", str(path), "--timezone", "Europe/Moscow"],
        "data row 3 (1-based, header excluded), column 'u_a': '22\ufffd0.5' holds bytes "
        "that are not UTF-8 text",
    )


@pytest.mark.parametrize("command", [["tariffs", "show"], ["norms", "past-year"]])
def test_a_field_nested_hundreds_deep_is_refused(
    tmp_path: Path, seeds: dict[str, Path], command: list[str]
) -> None:
    """Campaign seed 17000087 (a free-form field replaced by 990 nested lists): under the
    old limit of 1,000 the file was parsed and ``copy.deepcopy`` hit RecursionError."""
    name = "tariff_yaml" if command[0] == "tariffs" else "norms_yaml"
    path = tmp_path / "deep.yaml"
    text = seeds[name].read_text(encoding="utf-8")
    path.write_text(text + "\nextra: " + "[" * 990 + "1" + "]" * 990 + "\n", encoding="utf-8")
    _refused([*command, str(path)], "nested too deeply to read (more than 100")


@pytest.mark.parametrize(
    ("value", "said"),
    [("x", "sn_mva is 'x'; give the per-unit base power"), (0, "sn_mva is 0"), (True, "True")],
)
def test_a_net_base_power_that_is_not_a_positive_number_is_named(
    tmp_path: Path, seeds: dict[str, Path], value: object, said: str
) -> None:
    """Campaign seed 17000333 (net:top:sn_mva=x): a TypeError in the admittance model."""
    net = json.loads(seeds["net_json"].read_text(encoding="utf-8"))
    net["_object"]["sn_mva"] = value
    path = tmp_path / "net.json"
    path.write_text(json.dumps(net), encoding="utf-8")
    _refused(["network", "validate", "--net", str(path)], said)


def test_errors_go_to_standard_error(tmp_path: Path) -> None:
    """A refusal is said on standard error, so a pipe of the output never holds it."""
    from click.testing import CliRunner

    from tests.fuzz.outcome import _command

    res = CliRunner().invoke(_command(), ["tariffs", "show", str(tmp_path / "none.yaml")])
    assert res.exit_code == 2
    assert "error:" in res.stderr
    assert res.stdout == ""


def test_an_unknown_zone_with_a_campaign_start_is_named(seeds: dict[str, Path]) -> None:
    """Campaign seed 1419 (options): ``--week-start`` as a date-time with an unknown
    ``--timezone`` raised pytz's UnknownTimeZoneError."""
    _refused(
        ["quality", "assess", str(seeds["pq_csv"]), "--timezone", "Nowhere/Land",
         "--week-start", "2025-06-02T00:00+03:00"],
        "--timezone 'Nowhere/Land': unknown time zone",
    )  # fmt: skip


def test_a_price_beyond_any_price_is_named(tmp_path: Path, seeds: dict[str, Path]) -> None:
    """Campaign seed 1562 (cell '1e308' in --series): billed at exit 0 with amounts of
    10^305 EUR."""
    lines = seeds["series_csv"].read_text(encoding="utf-8").splitlines()
    lines[13] = lines[13].split(",")[0] + ",1e308"
    path = tmp_path / "pun.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _refused(
        ["bill", "--tariff", "it-offerta-pun-0028", "--data", str(seeds["interval_it"]),
         "--series", f"PUN={path}", "--prop", "resident=true", "--prop", "contracted_kw=3"],
        "--series PUN: " + f"{path}: row 14: value '1e308' is beyond any price",
    )  # fmt: skip


def test_a_negative_id_in_any_element_table_is_named(
    tmp_path: Path, seeds: dict[str, Path]
) -> None:
    """Campaign seed 1309 (net:index:shunt=-1): only the tables the engines' columns are
    checked in had their ids checked; the shunt's -1 went through at exit 0."""
    net = json.loads(seeds["net_json"].read_text(encoding="utf-8"))
    frame = json.loads(net["_object"]["shunt"]["_object"])
    frame["index"][0] = -1
    net["_object"]["shunt"]["_object"] = json.dumps(frame)
    path = tmp_path / "net.json"
    path.write_text(json.dumps(net), encoding="utf-8")
    _refused(["network", "validate", "--net", str(path)], "table shunt has index -1")


def _net_with(seeds: dict[str, Path], tmp_path: Path, table: str, col: str, value: object) -> str:
    net = json.loads(seeds["net_json"].read_text(encoding="utf-8"))
    frame = json.loads(net["_object"][table]["_object"])
    i = frame["columns"].index(col)
    for row in frame["data"]:
        row[i] = value
    net["_object"][table]["_object"] = json.dumps(frame)
    net["_object"][table]["dtype"].pop(col, None)  # as a hand-written net has none
    path = tmp_path / "net.json"
    path.write_text(json.dumps(net), encoding="utf-8")
    return str(path)


def test_impedances_too_small_to_factorise_are_named(
    tmp_path: Path, seeds: dict[str, Path]
) -> None:
    """Issue 17's singular factorisation: lines of 1e-300 ohm/km passed every check and
    SuperLU's ordering step raised "Factor is exactly singular"."""
    path = _net_with(seeds, tmp_path, "line", "x_ohm_per_km", 1e-300)
    net = json.loads(Path(path).read_text(encoding="utf-8"))
    frame = json.loads(net["_object"]["line"]["_object"])
    i = frame["columns"].index("r_ohm_per_km")
    for row in frame["data"]:
        row[i] = 1e-300
    net["_object"]["line"]["_object"] = json.dumps(frame)
    Path(path).write_text(json.dumps(net), encoding="utf-8")
    _refused(
        ["network", "simulate", "--net", path],
        "the admittance matrix is singular (Factor is exactly singular)",
    )


def test_a_yes_no_cell_that_is_neither_is_named(tmp_path: Path, seeds: dict[str, Path]) -> None:
    """``in_service: "maybe"`` in a table without a dtype map counted as in service."""
    path = _net_with(seeds, tmp_path, "load", "in_service", "maybe")
    _refused(
        ["network", "validate", "--net", path],
        "table load, row 0, column in_service: 'maybe' is not true or false",
    )
