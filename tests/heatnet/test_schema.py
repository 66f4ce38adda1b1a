"""Input files: loading YAML/TOML and precise errors that name the file and the field."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gridtwin.errors import InputError
from gridtwin.heatnet import coming_year, input_from_dict, load_input, past_year
from tests.heatnet.util import EXAMPLE, example_dict

Edit = Callable[[dict[str, Any]], None]


def _fails(edit: Edit, pattern: str, run: bool = False) -> str:
    data = example_dict()
    edit(data)
    with pytest.raises(InputError) as info:
        _load_and_run(data, run)
    message = str(info.value)
    assert message.startswith("net.yaml: "), message
    assert re.search(pattern, message), message
    return message


def _load_and_run(data: dict[str, Any], run: bool) -> None:
    inp = input_from_dict(data, "net.yaml")
    if run:
        past_year(inp)


def _set(path: str, value: Any) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


def _delete(path: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        del node[last]

    return edit


def test_example_loads_from_yaml_and_toml(tmp_path: Path) -> None:
    inp = load_input(EXAMPLE)
    assert inp.where == str(EXAMPLE)
    assert set(inp.stations) == {"I", "II", "III"}
    toml = tmp_path / "small.toml"
    toml.write_text(
        """
title = "toml case"
[pumps.A]
motor_efficiency = 0.95
head = {form = "points", flow_m3_per_h = [200, 600, 1000], head_m = [90, 80, 60]}
efficiency = {form = "points", flow_m3_per_h = [200, 600, 1000], efficiency = [0.6, 0.8, 0.7]}
[stations.S.regimes]
winter = {A = 1}
[past_year]
first_year = true
hours_h = {winter = 4000}
[past_year.stations.S.winter]
design_flow_t_per_h = 500
actual_flow_t_per_h = 600
""",
        encoding="utf-8",
    )
    result = past_year(load_input(toml))
    assert result.total_normative_energy_kwh == result.total_nominal_energy_kwh


def test_unreadable_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        load_input(tmp_path / "missing.yaml")
    bad = tmp_path / "x.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="unknown file type"):
        load_input(bad)


def test_unknown_field() -> None:
    _fails(
        _set("past_year.stations.I.winter.design_flow", 5.0),
        r"past_year\.stations\.I\.winter\.design_flow: unknown field",
    )


def test_pump_efficiency_outside_unit_interval() -> None:
    _fails(
        _set("pumps.СЭ-1250-70.efficiency", {"form": "constant", "value": 82}),
        r"pumps\.СЭ-1250-70\.efficiency\.constant\.value: Input should be less than or "
        r"equal to 1",
    )
    _fails(
        _set("pumps.СЭ-1250-70.efficiency", {"value": 0.8}),
        r"pumps\.СЭ-1250-70\.efficiency: missing 'form'; give form: points, fit, "
        r"nominal_parabola or constant",
    )
    _fails(
        _set("pumps.СЭ-1250-70.efficiency", {"form": "table", "value": 0.8}),
        r"pumps\.СЭ-1250-70\.efficiency: Input tag 'table' .* does not match any of the "
        r"expected tags",
    )
    _fails(
        _set("pumps.СЭ-1250-70.motor_efficiency", 0.0),
        r"pumps\.СЭ-1250-70\.motor_efficiency: Input should be greater than or equal to 0.01",
    )
    _fails(
        _set(
            "pumps.СЭ-1250-70.efficiency",
            {"form": "points", "flow_m3_per_h": [500, 1000], "efficiency": [0.7, 1.2]},
        ),
        r"pumps\.СЭ-1250-70\.efficiency\.points\.efficiency\.1: Input should be less",
    )


def test_allowance_and_auxiliary_factor_ranges() -> None:
    _fails(
        _set("past_year.operating_allowance", 1.25),
        r"past_year\.operating_allowance: Input should be less than or equal to 1\.2",
    )
    _fails(
        _set("past_year.operating_allowance", 0.95),
        r"past_year\.operating_allowance: Input should be greater than or equal to 1",
    )
    _fails(
        _set("past_year.auxiliary_factor", 1.06),
        r"past_year\.auxiliary_factor: Input should be less than or equal to 1\.05",
    )
    _fails(
        _set("coming_year.auxiliary_factor", 1.1),
        r"coming_year\.auxiliary_factor: Input should be less than or equal to 1\.05",
    )
    _fails(
        _set("past_year.stations.II.operating_allowance", 1.3),
        r"past_year\.stations\.II\.operating_allowance: Input should be less",
    )


def test_auxiliaries_given_twice() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["past_year"]["stations"]["I"].update(auxiliary_factor=1.02, auxiliary_energy_kwh=100.0)

    _fails(edit, r"past_year\.stations\.I: .*either as auxiliary_factor .* not both")


def test_season_without_hours() -> None:
    _fails(
        _delete("past_year.hours_h.summer"),
        r"past_year: hours_h\.summer: missing; station\(s\) II, III have summer data",
    )
    _fails(
        _set("past_year.hours_h.winter", 0),
        r"past_year\.hours_h\.winter: Input should be greater than 0",
    )
    _fails(_delete("coming_year.hours_h.winter"), r"coming_year: hours_h\.winter: missing")


def test_missing_network_totals_when_formula_6_is_needed() -> None:
    _fails(
        _delete("past_year.network_flow_t_per_h.winter"),
        r"past_year: network_flow_t_per_h\.winter: missing; station\(s\) I, II, III have no "
        r"actual_flow_t_per_h in winter .* formula \(6\)",
    )

    def with_meters(data: dict[str, Any]) -> None:
        del data["past_year"]["network_flow_t_per_h"]
        for st in data["past_year"]["stations"].values():
            for season in ("winter", "summer"):
                if season in st:
                    st[season]["actual_flow_t_per_h"] = st[season]["design_flow_t_per_h"]

    data = example_dict()
    with_meters(data)
    assert past_year(input_from_dict(data, "net.yaml")).reserves_factor < 0.0  # lower heads


def test_flow_outside_a_pump_curve() -> None:
    _fails(
        _set("past_year.stations.I.winter.design_flow_t_per_h", 3000),
        r"past_year\.stations\.I\.winter\.design_flow_t_per_h = 3000 t/h: pump СЭ-1250-70 "
        r"would run at 3000 m³/h, outside its curve \[500, 1625\] m³/h",
        run=True,
    )
    data = example_dict()
    data["coming_year"]["stations"]["III"]["summer"]["flow_t_per_h"] = 200
    with pytest.raises(
        InputError,
        match=r"coming_year\.stations\.III\.summer\.flow_t_per_h = "
        r"200 t/h: pump СЭ-800-100 would run at 200 m³/h",
    ):
        coming_year(input_from_dict(data, "net.yaml"))


def test_past_year_needs_last_years_reserves_and_task() -> None:
    _fails(_delete("past_year.reserves_factor"), r"past_year: reserves_factor: missing")
    _fails(_delete("past_year.task"), r"past_year: .*task: missing")
    _fails(_set("past_year.task", 1.5), r"past_year\.task: Input should be less than or equal")


def test_cross_references() -> None:
    _fails(
        _set("stations.I.regimes.winter", {"СЭ-1250-75": 1}),
        r"net\.yaml: stations\.I\.regimes\.winter: unknown pump type 'СЭ-1250-75'",
    )
    _fails(
        _set("past_year.stations.IV", {"winter": {"design_flow_t_per_h": 100}}),
        r"past_year\.stations\.IV: unknown station",
    )
    _fails(
        _set("past_year.stations.I.summer", {"design_flow_t_per_h": 100}),
        r"stations\.I\.regimes\.summer: missing; past_year\.stations\.I has summer data",
    )
    _fails(
        _set("stations.I.regimes.winter", {"СЭ-1250-70": 0}),
        r"stations\.I\.regimes\.winter.*greater than or equal to 1",
    )


def test_coming_year_task_or_saving() -> None:
    _fails(_set("coming_year.task", 0.2), r"coming_year: give exactly one of task")
    _fails(_delete("coming_year.planned_saving_kwh"), r"coming_year: give exactly one of task")


def test_tabulated_points_must_be_consistent() -> None:
    _fails(
        _set(
            "pumps.СЭ-1250-70.head",
            {"form": "points", "flow_m3_per_h": [500, 400], "head_m": [90, 80]},
        ),
        r"pumps\.СЭ-1250-70\.head\.points: .*flow_m3_per_h must strictly increase",
    )
    _fails(
        _set(
            "pumps.СЭ-1250-70.head",
            {"form": "points", "flow_m3_per_h": [500, 1000, 1500], "head_m": [90, 80]},
        ),
        r"flow_m3_per_h has 3 values but head_m has 2",
    )
    _fails(
        _set("pumps.СЭ-1250-70.flow_range_m3_per_h", [1600, 500]),
        r"pumps\.СЭ-1250-70: .*low < high",
    )


def test_typos_far_outside_any_station_are_named() -> None:
    """Fuzzed inputs overflowed deep in the arithmetic (OverflowError, LinAlgError,
    infinite energies): bounds far outside any real station name the field instead."""
    _fails(
        _set("stations.I.regimes.winter", {"СЭ-1250-70": 2**63}),
        r"stations\.I\.regimes\.winter\..*: Input should be less than or equal to 1000",
    )
    _fails(
        _set("pumps.СЭ-1250-70.head.shutoff_head_m", 1e308),
        r"shutoff_head_m: Input should be less than or equal to 10000",
    )
    _fails(
        _set("past_year.hours_h.winter", 1e308),
        r"past_year\.hours_h\.winter: Input should be less than or equal to 8784",
    )
    _fails(
        _set("pumps.СЭ-1250-70.efficiency", {"form": "constant", "value": 1e-308}),
        r"efficiency\.constant\.value: Input should be greater than or equal to 0\.01",
    )
