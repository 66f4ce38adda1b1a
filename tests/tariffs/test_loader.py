"""Tariff files: validation errors name the file and field; inheritance; library."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtwin.errors import InputError, TariffSchemaError
from gridtwin.tariffs import builtin_tariff_ids, get_tariff, load_tariff
from tests.billing.util import comp, tariff


def test_every_builtin_tariff_loads_and_cites_a_source() -> None:
    ids = builtin_tariff_ids(include_sets=True)
    assert {"bench-tou3", "il-tou-2015", "il-vat"} <= set(ids)
    for tid in ids:
        t = get_tariff(tid)
        assert t.doc.source.title
        assert t.doc.versions[0].valid_from


def test_unknown_field_is_named() -> None:
    with pytest.raises(TariffSchemaError, match=r"test.yaml: versions.0.components.0.energy.ratez"):
        tariff([comp("e", "energy", unit="EUR/kWh", ratez=0.1)])


def test_wrong_type_is_named() -> None:
    with pytest.raises(TariffSchemaError, match=r"components.0.fixed.amount"):
        tariff([comp("f", "fixed", "other", amount="ten", per="month")])


def test_currency_of_units_must_match() -> None:
    with pytest.raises(TariffSchemaError, match="agorot/kWh' is in ILS"):
        tariff([comp("e", "energy", unit="agorot/kWh", rates=1.0)])


def test_schedule_and_band_references_are_checked() -> None:
    with pytest.raises(TariffSchemaError, match="has no band schedule 'nope'"):
        tariff([comp("e", "energy", unit="EUR/kWh", schedule="nope", rates={"VT": 1.0})])
    with pytest.raises(TariffSchemaError, match=r"missing \['NT'\]"):
        tariff([comp("e", "energy", unit="EUR/kWh", schedule="vtnt", rates={"VT": 1.0})])


def test_conditions_must_use_declared_properties() -> None:
    with pytest.raises(TariffSchemaError, match="does not declare under `properties`"):
        tariff(
            [
                comp(
                    "e",
                    "energy",
                    unit="EUR/kWh",
                    rates=0.1,
                    applies_if={"equals": {"resident": True}},
                )
            ]
        )


def test_overlapping_versions_are_refused() -> None:
    versions = [
        {"valid_from": "2020-01-01", "components": []},
        {"valid_from": "2021-01-01", "components": []},
    ]
    with pytest.raises(TariffSchemaError, match="give versions\\[0\\] a valid_to"):
        tariff([], versions=versions)


def test_inherit_changes_unknown_id_is_named() -> None:
    versions = [
        {
            "valid_from": "2020-01-01",
            "valid_to": "2021-01-01",
            "components": [comp("e", "energy", unit="EUR/kWh", rates=0.1)],
        },
        {"valid_from": "2021-01-01", "inherit": True, "changes": {"x": {"rates": 1}}},
    ]
    with pytest.raises(TariffSchemaError, match=r"unknown component id\(s\) \['x'\]"):
        tariff([], versions=versions)


@pytest.mark.parametrize(
    ("first", "second", "said"),
    [
        ("a version", {"valid_from": "2021-01-01", "inherit": True}, "which is not a mapping"),
        (None, {"valid_from": "2021-01-01", "inherit": True, "changes": [1]}, "found list"),
        (None, {"valid_from": "2021-01-01", "inherit": True, "changes": {"e": 3}}, "found int"),
        (None, {"valid_from": "2021-01-01", "inherit": True, "add_components": 5}, "lists"),
    ],
)
def test_inherit_from_what_is_not_a_mapping_is_named(
    first: object, second: dict[str, object], said: str
) -> None:
    """Fuzzed tariffs found these raising AttributeError and TypeError."""
    good = {
        "valid_from": "2020-01-01",
        "valid_to": "2021-01-01",
        "components": [comp("e", "energy", unit="EUR/kWh", rates=0.1)],
    }
    with pytest.raises(TariffSchemaError, match=said):
        tariff([], versions=[good if first is None else first, second])


def test_tiers_must_end_open_and_increase() -> None:
    with pytest.raises(TariffSchemaError, match="only the last tier"):
        tariff(
            [
                comp(
                    "e",
                    "energy",
                    unit="EUR/kWh",
                    tiers=[{"up_to_kwh": 10, "rate": 0.1}, {"up_to_kwh": 20, "rate": 0.2}],
                )
            ]
        )


def test_load_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: gridtwin.tariff/1\nid: [unclosed\n", encoding="utf-8")
    with pytest.raises(TariffSchemaError, match=r"bad.yaml: not valid YAML"):
        load_tariff(bad)
    with pytest.raises(TariffSchemaError, match="cannot read file"):
        load_tariff(tmp_path / "missing.yaml")
    other = tmp_path / "t.json"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(TariffSchemaError, match="unknown file type"):
        load_tariff(other)


def test_toml_tariff(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        """
schema = "gridtwin.tariff/1"
id = "toml-test"
name = "TOML tariff"
jurisdiction = "SK"
currency = "EUR"
calendar = "sk-urso"
[source]
title = "test"
[[versions]]
valid_from = 2020-01-01
[[versions.components]]
id = "e"
kind = "energy"
section = "energy"
label = "Energy"
unit = "EUR/MWh"
rates = 41.5221
""",
        encoding="utf-8",
    )
    t = load_tariff(path)
    assert t.id == "toml-test"
    assert t.timezone == "Europe/Bratislava"


def test_yaml_off_is_a_string_not_a_boolean(tmp_path: Path) -> None:
    # YAML 1.1 would read `off` as False; band names like off/on must stay strings
    t = get_tariff("bench-tou3")
    assert t.calendar is not None
    assert t.calendar.bands("tou3") == ("off", "mid", "peak")


def test_calendar_reference_with_a_switching_table(tmp_path: Path) -> None:
    import datetime as dt
    import shutil

    import yaml

    from gridtwin.billing import bill
    from tests.billing.util import flat_data

    examples = Path(__file__).resolve().parents[2] / "examples" / "sk"
    shutil.copy(examples / "hdo_switching_example.csv", tmp_path / "hdo.csv")
    inline = load_tariff(examples / "example_two_band_tariff.yaml")
    data = yaml.safe_load((examples / "example_two_band_tariff.yaml").read_text("utf-8"))
    data["calendar"] = {"base": "sk-urso", "schedule_tables": {"hdo_example": "hdo.csv"}}
    path = tmp_path / "two_band.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    by_table = load_tariff(path)
    assert by_table.calendar is not None
    assert "hdo_example" in by_table.calendar.schedule_names()
    meters = flat_data("2021-03-01", "2021-04-01", 0.1)
    period = [(dt.date(2021, 3, 1), dt.date(2021, 4, 1))]
    props = {"customer_class": "household"}
    a = bill(inline, meters, periods=period, customers=props).totals()
    b = bill(by_table, meters, periods=period, customers=props).totals()
    assert a == pytest.approx(b, rel=1e-12)
    data["calendar"]["schedule_tables"] = {"hdo_example": "missing.csv"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises((InputError, TariffSchemaError), match=r"missing\.csv"):
        load_tariff(path)


def test_a_tariff_file_changed_on_disk_is_read_again(tmp_path: Path) -> None:
    """A long-running service asks for the same path again and again: it must get the
    prices the file holds now, not the ones it held at the first question."""
    import os
    import shutil

    import yaml

    examples = Path(__file__).resolve().parents[2] / "examples" / "sk"
    shutil.copy(examples / "hdo_switching_example.csv", tmp_path / "hdo_switching_example.csv")
    path = tmp_path / "two_band.yaml"
    text = (examples / "example_two_band_tariff.yaml").read_text("utf-8")
    path.write_text(text, encoding="utf-8")
    first = get_tariff(str(path))
    assert get_tariff(str(path)) is first  # unchanged: kept
    data = yaml.safe_load(text)
    data["name"] = "renamed on disk"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    st = path.stat()  # a later modification time, whatever the clock's resolution
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = get_tariff(str(path))
    assert again is not first
    assert again.doc.name == "renamed on disk"
