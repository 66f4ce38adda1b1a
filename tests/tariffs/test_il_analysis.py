"""Reproduce every published number of the 2015 Israeli tariff review (gridtwin seed 003).

Computed values are unrounded floats; they are compared with the printed values after half-up
rounding to the printed number of decimals (two, unless stated).
"""

from __future__ import annotations

import dataclasses
import doctest
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from gridtwin.errors import InputError, TariffError, TariffSchemaError
from gridtwin.tariffs import il_analysis
from gridtwin.tariffs.il_analysis import (
    BANDS,
    SEASONS,
    VOLTAGE_LEVELS,
    IsraelTables,
    SeasonBandTable,
    _load_tables_from_path,
    implied_infrastructure,
    implied_infrastructure_table,
    load_tables_2015,
    present,
    private_deal_price,
    private_deal_table,
    revision_table,
    round_half_up,
    season_band_revision,
    system_management_residual,
    system_management_table,
)

CELLS = [(s, b) for s in SEASONS for b in BANDS]

# Published private-deal column -> computed column of private_deal_table.
PRIVATE_DEAL_COLUMNS = {
    "change_total_percent": "change_total_percent",
    "change_total_agorot_per_kwh": "change_total_agorot_per_kwh",
    "change_discount_percent": "change_discount_percent",
    "change_discount_agorot_per_kwh": "change_discount_agorot_per_kwh",
    "new_total_agorot_per_kwh": "new_total_agorot_per_kwh",
    "new_discount_agorot_per_kwh": "new_discount_agorot_per_kwh",
    "new_generation_cost_agorot_per_kwh": "new_generation_cost_agorot_per_kwh",
    "old_total_agorot_per_kwh": "old_total_agorot_per_kwh",
    "old_discount_agorot_per_kwh": "old_discount_agorot_per_kwh",
    "old_generation_cost_agorot_per_kwh": "old_generation_cost_agorot_per_kwh",
}
SYSTEM_MANAGEMENT_COLUMNS = {  # published column -> (computed column, printed decimals)
    "residual_agorot_per_kwh": ("residual_agorot_per_kwh", 2),
    "tou_agorot_per_kwh": ("tou_agorot_per_kwh", 2),
    "computed_total_agorot_per_kwh": ("computed_total_agorot_per_kwh", 2),
    "generation_tariff_agorot_per_kwh": ("generation_tariff_agorot_per_kwh", 2),
    "losses_factor": ("losses_factor", 4),  # printed as a percent with 2 decimals
}


@pytest.fixture(scope="module")
def tables() -> IsraelTables:
    # IsraelTables is frozen and its mappings are read-only, so sharing it is safe.
    return load_tables_2015()


def _packaged_yaml() -> dict[str, Any]:
    text = (resources.files("gridtwin.tariffs") / "data" / "il" / "tables_2015.yaml").read_text(
        encoding="utf-8"
    )
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _write_yaml(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "tables_broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _mismatches(computed: pd.DataFrame, level: str, tables: IsraelTables) -> list[str]:
    """Cells of a computed private-deal table that do not reproduce the published one."""
    out = []
    for (season, band), row in tables.published.private_deal[level].items():
        for published_col, computed_col in PRIVATE_DEAL_COLUMNS.items():
            got = round_half_up(float(computed.loc[(season, band), computed_col]))
            if got != getattr(row, published_col):
                out.append(f"{season}/{band}/{published_col}")
    return out


# --- loading and provenance --------------------------------------------------------------


def test_source_citation(tables: IsraelTables) -> None:
    src = tables.source
    assert src.decisions == (929, 930)
    assert src.meeting == 452
    assert src.meeting_date == "2015-01-21"
    assert src.effective_from == "2015-02-01"
    assert "April 2014" in src.old_tables
    assert "Erdinast" in src.transcribed_from
    assert any("930" in url for url in src.urls)


def test_tables_have_every_level_and_cell(tables: IsraelTables) -> None:
    for state in (tables.tou_old_agorot_per_kwh, tables.tou_new_agorot_per_kwh):
        assert tuple(state) == VOLTAGE_LEVELS
        for table in state.values():
            assert [(s, b) for s, b, _ in table.cells()] == CELLS
    assert tables.tou_new_agorot_per_kwh["HV_general"].value("winter", "off_peak") == 30.14
    assert tables.generation_cost_new_agorot_per_kwh.value("winter", "off_peak") == 22.21
    assert tables.generation_tariff_new_agorot_per_kwh.value("winter", "off_peak") == 22.54


def test_hv_infrastructure_is_not_invented(tables: IsraelTables) -> None:
    hv = tables.infrastructure["1-7.4"]
    assert hv.consumer_voltage_level == "HV_general"
    assert hv.infrastructure_old_agorot_per_kwh is None
    assert hv.infrastructure_new_agorot_per_kwh is None
    assert hv.losses_factor_old is None
    assert hv.losses_factor_new is not None
    assert hv.losses_factor_new.value("winter", "off_peak") == pytest.approx(1.0225)
    assert "not printed" in hv.note


def test_tables_are_immutable(tables: IsraelTables) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        tables.published = tables.published  # type: ignore[misc]
    with pytest.raises(TypeError):
        tables.tou_new_agorot_per_kwh["EHV"] = tables.tou_old_agorot_per_kwh["EHV"]  # type: ignore[index]


def test_module_doctests() -> None:
    result = doctest.testmod(il_analysis, raise_on_error=False, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


# --- published table 1-5.2 revision (5 levels x 9 cells) ---------------------------------


@pytest.mark.parametrize("level", VOLTAGE_LEVELS)
@pytest.mark.parametrize(("season", "band"), CELLS)
def test_tou_revision_percent(tables: IsraelTables, level: str, season: str, band: str) -> None:
    table = revision_table(tables.tou_old_agorot_per_kwh, tables.tou_new_agorot_per_kwh)
    got = round_half_up(float(table.loc[(level, season, band), "change_percent"]))
    assert got == tables.published.tou_change_percent[level].value(season, band)  # type: ignore[index]


def test_revision_table_shape_and_change(tables: IsraelTables) -> None:
    table = revision_table(tables.tou_old_agorot_per_kwh, tables.tou_new_agorot_per_kwh)
    assert table.shape == (45, 4)
    assert list(table.index.names) == ["voltage_level", "season", "band"]
    assert list(table.columns) == [
        "old_agorot_per_kwh",
        "new_agorot_per_kwh",
        "change_agorot_per_kwh",
        "change_percent",
    ]
    row = table.loc[("EHV", "winter", "off_peak")]
    assert row["change_agorot_per_kwh"] == pytest.approx(27.18 - 31.45)
    assert present(table).loc[("EHV", "winter", "off_peak"), "change_percent"] == -13.58


# --- published generation and infrastructure revisions (tables 6.3 and 7) ----------------


def test_generation_revision_percent(tables: IsraelTables) -> None:
    pub = tables.published
    for old, new, expected in (
        (
            tables.generation_cost_old_agorot_per_kwh,
            tables.generation_cost_new_agorot_per_kwh,
            pub.generation_cost_change_percent,
        ),
        (
            tables.generation_tariff_old_agorot_per_kwh,
            tables.generation_tariff_new_agorot_per_kwh,
            pub.generation_tariff_change_percent,
        ),
    ):
        frame = present(season_band_revision(old, new))
        for season, band, value in expected.cells():
            assert frame.loc[(season, band), "change_percent"] == value, (season, band)


@pytest.mark.parametrize("table_id", ["1-7.2", "3-7.4"])
def test_infrastructure_revision_percent(tables: IsraelTables, table_id: str) -> None:
    infra = tables.infrastructure[table_id]
    pairs = (
        (
            infra.infrastructure_old_agorot_per_kwh,
            infra.infrastructure_new_agorot_per_kwh,
            tables.published.infrastructure_change_percent[table_id],
        ),
        (
            infra.losses_factor_old,
            infra.losses_factor_new,
            tables.published.losses_factor_change_percent[table_id],
        ),
    )
    for old, new, expected in pairs:
        assert old is not None
        assert new is not None
        frame = present(season_band_revision(old, new))
        for season, band, value in expected.cells():
            assert frame.loc[(season, band), "change_percent"] == value, (season, band)


# --- published private-deal tables (section 10), every column -----------------------------


@pytest.mark.parametrize("level", ["HV_general", "EHV"])
@pytest.mark.parametrize(("season", "band"), CELLS)
def test_private_deal_row(tables: IsraelTables, level: str, season: str, band: str) -> None:
    discount = tables.published.private_deal_discount_fraction
    computed = private_deal_table(tables, level, discount_fraction=discount)
    published = tables.published.private_deal[level][(season, band)]  # type: ignore[index]
    for published_col, computed_col in PRIVATE_DEAL_COLUMNS.items():
        got = round_half_up(float(computed.loc[(season, band), computed_col]))
        assert got == getattr(published, published_col), published_col


@pytest.mark.parametrize("level", ["HV_general", "EHV"])
def test_private_deal_display_column_is_rounded_tou(tables: IsraelTables, level: str) -> None:
    # The seed's spreadsheet shows the new TOU with one decimal, the old TOU with two
    # decimals below 100 and one decimal above (column width); the totals use full values.
    for (season, band), row in tables.published.private_deal[level].items():  # type: ignore[index]
        new_tou = tables.tou_new_agorot_per_kwh[level].value(season, band)  # type: ignore[index]
        old_tou = tables.tou_old_agorot_per_kwh[level].value(season, band)  # type: ignore[index]
        assert row.new_tou_display_agorot_per_kwh == round_half_up(new_tou, 1)
        assert row.old_tou_display_agorot_per_kwh == round_half_up(
            old_tou, 2 if old_tou < 100 else 1
        )


def test_private_deal_trap_displayed_tou_does_not_reproduce(tables: IsraelTables) -> None:
    row = tables.published.private_deal["HV_general"][("winter", "off_peak")]
    assert row.new_tou_display_agorot_per_kwh == 30.1
    assert round_half_up(private_deal_price(30.14, 22.21)) == row.new_total_agorot_per_kwh == 28.59
    assert round_half_up(private_deal_price(row.new_tou_display_agorot_per_kwh, 22.21)) == 28.55


def test_private_deal_with_weighted_generation_tariff_does_not_reproduce(
    tables: IsraelTables,
) -> None:
    # The discount is on the recognised cost (1-6.3.1); the weighted tariff (1-6.3.2) is wrong.
    for level in ("HV_general", "EHV"):
        right = private_deal_table(tables, level)
        wrong = private_deal_table(tables, level, generation_cost_basis="weighted_tariff")
        assert _mismatches(right, level, tables) == []
        bad = _mismatches(wrong, level, tables)
        assert len(bad) >= 9 * 4, bad  # every row's totals and discounts differ
        assert "winter/off_peak/new_total_agorot_per_kwh" in bad


def test_private_deal_price_values() -> None:
    assert round_half_up(private_deal_price(27.18, 22.21)) == 25.63
    assert round_half_up(private_deal_price(34.07, 24.39)) == 32.36
    assert private_deal_price(30.0, 20.0, discount_fraction=0.0) == 30.0
    assert private_deal_price(30.0, 20.0, discount_fraction=0.1) == pytest.approx(28.0)


# --- published system-management tables (section 9) ---------------------------------------


@pytest.mark.parametrize("level", ["LV_general", "EHV"])
@pytest.mark.parametrize(("season", "band"), CELLS)
def test_system_management_row(tables: IsraelTables, level: str, season: str, band: str) -> None:
    computed = system_management_table(tables, level)
    published = tables.published.system_management[level][(season, band)]  # type: ignore[index]
    expected_table = tables.published.system_management_infrastructure_table[level]  # type: ignore[index]
    assert tables.infrastructure_for(level).table_id == expected_table
    assert not computed.loc[(season, band), "infrastructure_is_implied"]
    for published_col, (computed_col, decimals) in SYSTEM_MANAGEMENT_COLUMNS.items():
        got = round_half_up(float(computed.loc[(season, band), computed_col]), decimals)
        assert got == round_half_up(getattr(published, published_col), decimals), published_col


def test_system_management_sign(tables: IsraelTables) -> None:
    # The seed prints (infrastructure + losses x generation) - TOU; its numbers are TOU - (...).
    assert round_half_up(system_management_residual(38.02, 14.02, 1.0516, 22.54)) == 0.30
    for level in ("LV_general", "EHV"):
        residual = system_management_table(tables, level)["residual_agorot_per_kwh"]
        assert ((residual > 0.26) & (residual < 0.31)).all()


def test_system_management_hv_needs_infrastructure(tables: IsraelTables) -> None:
    with pytest.raises(TariffError, match=r"1-7\.4.*implied_infrastructure_rates") as err:
        system_management_table(tables, "HV_general")
    # The call the message suggests works (it used to suggest one whose result raised
    # AttributeError when passed on), and reproduces the published HV residuals.
    call = re.search(
        r"(gridtwin\.tariffs\.il_analysis\.implied_infrastructure_rates\([^)]*\))", str(err.value)
    )
    assert call is not None
    rates = eval(
        call.group(1), {"gridtwin": __import__("gridtwin.tariffs.il_analysis"), "tables": tables}
    )
    computed = system_management_table(tables, "HV_general", infrastructure_agorot_per_kwh=rates)
    published = tables.published.system_management["HV_general"]
    for (season, band), row in published.items():
        got = round_half_up(float(computed.loc[(season, band), "residual_agorot_per_kwh"]))
        assert got == row.residual_agorot_per_kwh, (season, band)
    # The frame of implied_infrastructure_table is accepted as well.
    frame = implied_infrastructure_table(tables, "HV_general")
    assert system_management_table(tables, "HV_general", frame)["infrastructure_is_implied"].all()


def test_hv_implied_infrastructure_is_consistent(tables: IsraelTables) -> None:
    implied = implied_infrastructure_table(tables, "HV_general")
    col = implied["implied_infrastructure_agorot_per_kwh"]
    assert round_half_up(float(col[("winter", "off_peak")])) == 6.81
    assert round_half_up(float(col[("summer", "peak")])) == 15.81
    # Assume table 1-7.4 is printed to two decimals, like 1-7.2 and 3-7.4: a two-decimal
    # rate must then reproduce every published HV residual and total of section 9.
    at_print_precision = SeasonBandTable.from_nested(
        {s: {b: round_half_up(float(col[(s, b)])) for b in BANDS} for s in SEASONS}
    )
    computed = system_management_table(
        tables, "HV_general", infrastructure_agorot_per_kwh=at_print_precision
    )
    assert computed["infrastructure_is_implied"].all()
    for (season, band), published in tables.published.system_management["HV_general"].items():
        for published_col, (computed_col, decimals) in SYSTEM_MANAGEMENT_COLUMNS.items():
            got = round_half_up(float(computed.loc[(season, band), computed_col]), decimals)
            expected = round_half_up(getattr(published, published_col), decimals)
            assert got == expected, (season, band, published_col)


def test_implied_infrastructure_recovers_printed_tables(tables: IsraelTables) -> None:
    # Where the 7.x table is printed, the implied rate equals it within the total's rounding.
    for level, table_id in (("LV_general", "3-7.4"), ("EHV", "1-7.2")):
        implied = implied_infrastructure_table(tables, level)
        printed = tables.infrastructure[table_id].infrastructure_new_agorot_per_kwh
        assert printed is not None
        for season, band, value in printed.cells():
            got = float(implied.loc[(season, band), "implied_infrastructure_agorot_per_kwh"])
            assert got == pytest.approx(value, abs=0.005 + 1e-9)
    assert implied_infrastructure(26.89, 1.0111, 22.54) == pytest.approx(4.099806)


# --- errors ------------------------------------------------------------------------------


def test_unknown_voltage_level_lists_allowed_values(tables: IsraelTables) -> None:
    with pytest.raises(InputError, match=r"'MV'.*EHV, HV_bulk, HV_general, LV_bulk, LV_general"):
        private_deal_table(tables, "MV")
    with pytest.raises(InputError, match="allowed values"):
        revision_table(
            {"MV": tables.tou_old_agorot_per_kwh["EHV"]},
            {"MV": tables.tou_new_agorot_per_kwh["EHV"]},
        )
    with pytest.raises(InputError, match="allowed values are: EHV, HV_general, LV_general"):
        system_management_table(tables, "HV_bulk")


def test_revision_table_needs_same_levels(tables: IsraelTables) -> None:
    with pytest.raises(InputError, match="different voltage levels"):
        revision_table(
            {"EHV": tables.tou_old_agorot_per_kwh["EHV"]},
            {"LV_bulk": tables.tou_new_agorot_per_kwh["LV_bulk"]},
        )


def test_argument_errors(tables: IsraelTables) -> None:
    with pytest.raises(InputError, match="season"):
        tables.generation_cost_new_agorot_per_kwh.value("spring", "peak")
    with pytest.raises(InputError, match="between 0 and 1"):
        private_deal_price(30.0, 20.0, discount_fraction=7.0)
    with pytest.raises(InputError, match="finite"):
        system_management_residual(float("nan"), 1.0, 1.0, 1.0)
    with pytest.raises(InputError, match="missing"):
        SeasonBandTable.from_nested({"winter": {"peak": 1.0}})


def test_round_half_up() -> None:
    assert round_half_up(28.585) == 28.59
    assert round_half_up(-3.775) == -3.78
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(87.96, 1) == 88.0
    with pytest.raises(InputError):
        round_half_up(1.0, -1)


def test_present_does_not_modify_input(tables: IsraelTables) -> None:
    frame = private_deal_table(tables, "HV_general")
    shown = present(frame)
    assert frame.loc[("winter", "off_peak"), "new_total_agorot_per_kwh"] == pytest.approx(28.5853)
    assert shown.loc[("winter", "off_peak"), "new_total_agorot_per_kwh"] == 28.59


# --- malformed data files ----------------------------------------------------------------


def test_packaged_file_loads_through_path_loader(tmp_path: Path) -> None:
    loaded = _load_tables_from_path(_write_yaml(tmp_path, _packaged_yaml()))
    assert loaded == load_tables_2015()


def test_malformed_value_names_file_and_field(tmp_path: Path) -> None:
    data = _packaged_yaml()
    data["tou_agorot_per_kwh"]["new"]["EHV"]["winter"]["peak"] = "82,13"
    path = _write_yaml(tmp_path, data)
    with pytest.raises(TariffSchemaError) as info:
        _load_tables_from_path(path)
    message = str(info.value)
    assert str(path) in message
    assert "tou_agorot_per_kwh.new.EHV.winter.peak" in message
    assert "not a number" in message


def test_missing_value_names_file_and_field(tmp_path: Path) -> None:
    data = _packaged_yaml()
    del data["generation"]["recognised_cost_agorot_per_kwh"]["new"]["summer"]["shoulder"]
    path = _write_yaml(tmp_path, data)
    with pytest.raises(
        TariffSchemaError,
        match=r"recognised_cost_agorot_per_kwh\.new\.summer\.shoulder' is missing",
    ):
        _load_tables_from_path(path)


def test_published_row_with_wrong_length(tmp_path: Path) -> None:
    data = _packaged_yaml()
    data["published"]["private_deal"]["tables"]["EHV"]["rows"]["summer"]["peak"].pop()
    with pytest.raises(TariffSchemaError, match=r"private_deal\.tables\.EHV\.rows\.summer\.peak"):
        _load_tables_from_path(_write_yaml(tmp_path, data))


def test_unknown_key_and_bad_marker(tmp_path: Path) -> None:
    data = _packaged_yaml()
    data["tou_agorot_per_kwh"]["new"]["EHV"]["winter"]["mid_peak"] = 1.0
    with pytest.raises(TariffSchemaError, match="unknown keys"):
        _load_tables_from_path(_write_yaml(tmp_path, data))
    data = _packaged_yaml()
    data["infrastructure"]["1-7.4"]["infrastructure_agorot_per_kwh"]["new"] = "unknown"
    with pytest.raises(TariffSchemaError, match="not_printed"):
        _load_tables_from_path(_write_yaml(tmp_path, data))


def test_invalid_yaml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("tou_agorot_per_kwh: [1, 2\n", encoding="utf-8")
    with pytest.raises(TariffSchemaError, match="not valid YAML"):
        _load_tables_from_path(path)
    with pytest.raises(TariffSchemaError, match="cannot read"):
        _load_tables_from_path(tmp_path / "absent.yaml")
