"""The asset register: YAML and CSV read alike; every error names file, row and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gridtwin.assets import demo_register_path, load_register
from gridtwin.errors import InputError

YAML = """\
source: test register (invented)
assets:
  - element: trafo:0
    type: transformer
    year_installed: 1986
    rated_life_years: 40
    maintenance_interval_years: 6
    criticality: 3
    maintenance:
      - {date: 2019-05-14, kind: inspection}
      - {date: 2013-04-02, kind: inspection}
    failures:
      - {date: 2021-01-20, kind: bushing flashover}
  - element: line:4
    type: line
    year_installed: 2001
    rated_life_years: 45
    maintenance_interval_years: 10
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_a_yaml_register(tmp_path: Path) -> None:
    reg = load_register(write(tmp_path, "r.yaml", YAML))
    assert [a.element for a in reg.assets] == ["trafo:0", "line:4"]
    t = reg.by_element()["trafo:0"]
    assert t.last_maintenance() == dt.date(2019, 5, 14)
    assert len(t.failures) == 1
    assert t.criticality == 3
    assert reg.by_element()["line:4"].last_maintenance() is None
    assert reg.source == "test register (invented)"


def test_a_csv_register_reads_like_the_yaml(tmp_path: Path) -> None:
    text = (
        "element,type,year_installed,rated_life_years,maintenance_interval_years,"
        "last_maintenance,failures,last_failure,criticality\n"
        "trafo:0,transformer,1986,40,6,2019-05-14,2,2021-01-20,3\n"
        "line:4,line,2001,45,10,,,,\n"
    )
    reg = load_register(write(tmp_path, "r.csv", text))
    t = reg.by_element()["trafo:0"]
    assert t.last_maintenance() == dt.date(2019, 5, 14)
    assert len(t.failures) == 2
    assert reg.by_element()["line:4"].failures == ()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            YAML.replace("year_installed: 2001", "year_installed: 1850"),
            "asset 2 (line:4): year_installed",
        ),
        (YAML.replace("type: line", "type: transformer"), "asset 2 (line:4): field type"),
        (
            YAML.replace(
                "element: line:4\n    type: line", "element: trafo:0\n    type: transformer"
            ),
            "asset 2: field element: trafo:0 is already asset 1",
        ),
        (YAML.replace("element: line:4", "element: cable-4"), "not an element id"),
        (
            YAML.replace("rated_life_years: 45", "rated_life_years: 45\n    colour: red"),
            "colour: unknown field",
        ),
        (
            YAML.replace("{date: 2019-05-14", "{date: 2019-15-14"),
            "month must be in 1..12",
        ),
    ],
)
def test_yaml_errors_name_the_file_the_asset_and_the_field(
    tmp_path: Path, text: str, needle: str
) -> None:
    path = write(tmp_path, "r.yaml", text)
    with pytest.raises(InputError) as exc:
        load_register(path)
    assert str(path) in str(exc.value)
    assert needle in str(exc.value)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("trafo:0,transformer,1986,40,6,,x,,\n", "row 1: field failures"),
        (
            "trafo:0,transformer,1986,40,6,,,,\nline:1,line,2001,45,10,,2,,\n",
            "row 2: field last_failure",
        ),
        ("trafo:0,transformer,19x6,40,6,,,,\n", "asset 1 (trafo:0): year_installed"),
    ],
)
def test_csv_errors_name_the_row_and_field(tmp_path: Path, body: str, needle: str) -> None:
    head = (
        "element,type,year_installed,rated_life_years,maintenance_interval_years,"
        "last_maintenance,failures,last_failure,criticality\n"
    )
    path = write(tmp_path, "r.csv", head + body)
    with pytest.raises(InputError) as exc:
        load_register(path)
    assert str(path) in str(exc.value)
    assert needle in str(exc.value)


def test_a_csv_header_without_a_needed_column(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "element,type,year_installed\ntrafo:0,transformer,1990\n")
    with pytest.raises(InputError, match=r"missing column.*rated_life_years"):
        load_register(path)


def test_the_demo_register_loads() -> None:
    reg = load_register(demo_register_path())
    assert any(a.type == "transformer" for a in reg.assets)
    assert "invented" in reg.source
