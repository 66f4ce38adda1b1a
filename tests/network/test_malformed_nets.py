"""Malformed pandapower nets (issue 17's fuzzing: missing columns, null fields, huge ids,
text in number columns) are refused naming the table, row and column, on `validate` and
`simulate`, never a traceback from pandapower, power-grid-model or numba."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def simple(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import pandapower as pp
    import pandapower.networks as pn

    path = tmp_path_factory.mktemp("nets") / "simple.json"
    pp.to_json(pn.example_simple(), str(path))
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _table(name: str, change: Callable[[dict[str, Any]], None]) -> Edit:
    def edit(net: dict[str, Any]) -> None:
        frame = json.loads(net["_object"][name]["_object"])
        change(frame)
        net["_object"][name]["_object"] = json.dumps(frame)

    return edit


def _drop_column(frame: dict[str, Any], column: str) -> None:
    i = frame["columns"].index(column)
    frame["columns"].pop(i)
    for row in frame["data"]:
        row.pop(i)


def _set_cell(frame: dict[str, Any], column: str, value: Any) -> None:
    frame["data"][0][frame["columns"].index(column)] = value


def _set_top(key: str, value: Any) -> Edit:
    def edit(net: dict[str, Any]) -> None:
        net["_object"][key] = value

    return edit


def _set_index(frame: dict[str, Any]) -> None:
    frame["index"][0] = 2**62


CASES: dict[str, tuple[Edit, str]] = {
    "std_types null": (_set_top("std_types", None), "std_types must map element kinds"),
    "f_hz null": (_set_top("f_hz", None), "f_hz is None; give the system frequency"),
    "bus without vn_kv": (
        _table("bus", lambda f: _drop_column(f, "vn_kv")),
        "table bus has no column(s) vn_kv",
    ),
    "line without r": (
        _table("line", lambda f: _drop_column(f, "r_ohm_per_km")),
        "table line has no column(s) r_ohm_per_km",
    ),
    "bus index 2^62": (_table("bus", _set_index), "table bus has index 4611686018427387904"),
    "text in p_mw": (
        _table("load", lambda f: _set_cell(f, "p_mw", "abc")),
        "table load, row 0, column p_mw: 'abc' is not a number",
    ),
}


@pytest.mark.parametrize("command", ["validate", "simulate"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_malformed_net_is_named(
    tmp_path: Path, simple: dict[str, Any], case: str, command: str
) -> None:
    edit, said = CASES[case]
    net = copy.deepcopy(simple)
    edit(net)
    path = tmp_path / "net.json"
    path.write_text(json.dumps(net))
    out = subprocess.run(
        [sys.executable, "-m", "gridtwin", "network", command, "--net", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 2, text
    assert "Traceback" not in text
    assert said in text


def test_numbers_written_as_text_are_read_as_numbers(
    tmp_path: Path, simple: dict[str, Any]
) -> None:
    from gridtwin.network import load_pandapower_json

    net = copy.deepcopy(simple)
    _table("load", lambda f: _set_cell(f, "p_mw", "0.5"))(net)
    path = tmp_path / "net.json"
    path.write_text(json.dumps(net))
    model = load_pandapower_json(path)
    assert model.net.load["p_mw"].iloc[0] == 0.5
