"""The Slovak tariffs of the built-in library: ÚRSO 0210/2017/E (DD2, DMP2), levies, taxes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gridtwin.tariffs import Tariff, builtin_tariff_ids, get_tariff, load_tariff
from gridtwin.tariffs._schema import (
    EnergyCharge,
    ExciseTax,
    FixedCharge,
    PercentTax,
    TariffDocument,
)

DD2 = "sk-urso-0210-2017-dd2"
DMP2 = "sk-urso-0210-2017-dmp2"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sk" / "example_two_band_tariff.yaml"


def _levies(tariff: Tariff) -> TariffDocument:
    (doc,) = [d for d in tariff.includes if d.id == "sk-levies-taxes"]
    return doc


def test_library_lists_the_slovak_documents() -> None:
    assert {DD2, DMP2} <= set(builtin_tariff_ids())
    assert "sk-levies-taxes" in builtin_tariff_ids(include_sets=True)
    assert "sk-levies-taxes" not in builtin_tariff_ids()
    assert "sk-example-two-band" not in builtin_tariff_ids(include_sets=True)


@pytest.mark.parametrize(
    ("tariff_id", "cls", "price"),
    [
        (DD2, "household", 41.5221),
        (DMP2, "small_business", 44.6856),
    ],
)
def test_decision_metadata_and_prices(tariff_id: str, cls: str, price: float) -> None:
    t = get_tariff(tariff_id)
    doc = t.doc
    assert doc.kind == "tariff"
    assert doc.jurisdiction == "SK"
    assert doc.currency == "EUR"
    assert doc.language == "sk"
    assert doc.customer_class == (cls,)
    assert t.calendar is not None
    assert t.calendar.id == "sk-urso"
    assert doc.source.edition == "0210/2017/E"
    assert doc.source.published == dt.date(2017, 2, 28)
    assert "Letisko M. R. Štefánika" in doc.source.title
    assert "BTS" in doc.source.title
    assert "0210/2017/E" in doc.source.title
    assert t.validity() == (dt.date(2017, 1, 1), dt.date(2022, 1, 1))
    assert doc.properties["customer_class"].allowed == (cls,)
    assert doc.properties["customer_class"].default == cls
    (version,) = doc.versions
    fee, energy = version.components
    assert isinstance(fee, FixedCharge)
    assert (fee.amount, fee.per, fee.proration, fee.section) == (
        0.65,
        "month",
        "year_days",
        "energy",
    )
    assert isinstance(energy, EnergyCharge)
    assert (energy.unit, energy.schedule, energy.rates) == ("EUR/MWh", "single", {"VT": price})
    assert version.taxes == ()  # the decision's prices exclude taxes: they are included


def test_levies_set_versions() -> None:
    doc = _levies(get_tariff(DD2))
    t = get_tariff(DD2)
    assert doc.kind == "component_set"
    assert doc.language == "sk"

    def njf(day: str) -> float:
        comp = next(
            c
            for c in t.version_at(doc, dt.date.fromisoformat(day)).components
            if c.id == "njf_levy"
        )
        assert isinstance(comp, EnergyCharge)
        assert comp.unit == "EUR/MWh"
        assert isinstance(comp.rates, float)
        return comp.rates

    def vat(day: str) -> PercentTax:
        tax = next(x for x in t.version_at(doc, dt.date.fromisoformat(day)).taxes if x.id == "vat")
        assert isinstance(tax, PercentTax)
        return tax

    assert njf("2017-01-01") == 3.21
    assert njf("2018-06-30") == 3.21
    assert njf("2018-07-01") == 3.27
    assert njf("2021-12-31") == 3.27
    assert vat("2024-12-31").rate_percent == 20.0
    assert vat("2025-01-01").rate_percent == 19.0
    assert vat("2025-01-01").label == "DPH 19 %"
    v = vat("2017-01-01")
    assert v.base_sections == ("energy", "network", "system")
    assert set(v.base_components) == {"njf_levy", "excise"}
    assert [(x.valid_from, x.valid_to) for x in doc.versions] == [
        (dt.date(2017, 1, 1), dt.date(2018, 7, 1)),
        (dt.date(2018, 7, 1), dt.date(2025, 1, 1)),
        (dt.date(2025, 1, 1), None),
    ]
    assert all(x.source is not None for x in doc.versions)


def test_excise_for_non_households_only() -> None:
    doc = _levies(get_tariff(DMP2))
    excise = next(x for x in doc.versions[0].taxes if x.id == "excise")
    assert isinstance(excise, ExciseTax)
    assert (excise.rate, excise.unit) == (1.32, "EUR/MWh")
    assert excise.applies_if is not None
    assert excise.applies_if.not_equals["customer_class"] == "household"
    assert "customer_class" not in excise.applies_if.equals
    assert excise.applies_if.equals["include_levies"] is True


def test_optional_items_have_switches() -> None:
    doc = _levies(get_tariff(DD2))
    for name in ("include_levies", "include_vat"):
        spec = doc.properties[name]
        assert spec.type == "bool"
        assert spec.default is True
    for version in doc.versions:
        for item in (*version.components, *version.taxes):
            assert item.applies_if is not None, item.id
            assert set(item.applies_if.equals) & {"include_levies", "include_vat"}, item.id


def test_sources_are_cited() -> None:
    doc = _levies(get_tariff(DD2))
    text = " ".join(
        [doc.source.title, doc.source.notes or ""]
        + [c.explanation or "" for v in doc.versions for c in (*v.components, *v.taxes)]
    )
    for cite in ("njf.sk", "609/2007", "222/2004", "financnasprava.sk", "as reported by"):
        assert cite in text, cite


def test_eligibility_data_in_the_files() -> None:
    dd2 = get_tariff(DD2).doc.eligibility
    dmp2 = get_tariff(DMP2).doc.eligibility
    assert dd2["distribution_rate"]["required"] == ["D1", "D2"]
    assert dmp2["distribution_rate"] == {
        **dmp2["distribution_rate"],
        "required": ["C2"],
        "voltage_levels": ["LV"],
    }
    assert dmp2["small_business"]["annual_consumption_limit_kwh"] == 30000
    assert dmp2["small_business"]["reference_year_offset"] == 2
    for e in (dd2, dmp2):
        assert e["rate_change"]["min_months_between_changes"] == 12
        assert "seasonal_appliance_use" in e["rate_change"]["not_a_change_of_conditions"]


def test_example_two_band_tariff_is_marked_as_an_example() -> None:
    t = load_tariff(EXAMPLE)
    assert t.doc.provisional is not None
    assert "EXAMPLE" in t.doc.provisional
    assert t.calendar is not None
    assert t.calendar.bands("hdo_example") == ("NT", "VT")
    assert t.calendar.timezone == "Europe/Bratislava"
    assert [i.id for i in t.includes] == ["sk-levies-taxes"]
