"""The Italian built-in tariff library: files, sources, validity, declared properties, and
consistency of the derived values with the published aggregates they come from."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.billing import bill, bill_for
from gridtwin.calendar import get_calendar
from gridtwin.calendar._library import read_data_file
from gridtwin.errors import TariffSchemaError
from gridtwin.tariffs import builtin_tariff_ids, get_tariff, tariff_from_dict
from gridtwin.tariffs._loader import validate_document
from gridtwin.tariffs._schema import (
    EnergyCharge,
    ExciseTax,
    FixedCharge,
    InstalmentCharge,
    PercentTax,
    PowerCharge,
    TariffDocument,
)
from gridtwin.timeseries import IntervalData

TZ = "Europe/Rome"
DATA_DIR = Path(str(resources.files("gridtwin.tariffs") / "data" / "it"))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "it"
SETS = ("it-arera-network-domestic", "it-taxes-domestic", "it-bonus-sociale")
TARIFFS = (
    "it-tutela-vulnerabili-2025",
    "it-offerta-fissa-monoraria-0136",
    "it-offerta-pun-0028",
    "it-offerta-trioraria-esempio",
    "it-offerta-pun-0000",
)


def documents() -> dict[str, TariffDocument]:
    """Every document of the Italian data folder, validated (inheritance resolved)."""
    out = {}
    for path in sorted(DATA_DIR.glob("*.yaml")):
        doc = validate_document(read_data_file(path, TariffSchemaError), str(path))
        out[doc.id] = doc
    return out


def test_library_lists_every_italian_document() -> None:
    ids = set(builtin_tariff_ids(include_sets=True))
    assert set(SETS) | set(TARIFFS) <= ids
    assert set(TARIFFS) <= set(builtin_tariff_ids())
    assert not set(SETS) & set(builtin_tariff_ids())
    assert set(documents()) == set(SETS) | set(TARIFFS)


@pytest.mark.parametrize("doc_id", SETS + TARIFFS)
def test_document_metadata_and_sources(doc_id: str) -> None:
    doc = documents()[doc_id]
    assert doc.jurisdiction == "IT"
    assert doc.currency == "EUR"
    assert doc.language == "it"
    assert doc.customer_class == ("domestic",)
    assert doc.source.title
    assert doc.source.url or doc.source.notes
    assert doc.kind == ("component_set" if doc_id in SETS else "tariff")
    # every value here is either sourced or explained in `provisional`, printed on bills
    assert doc.provisional is not None
    assert len(doc.provisional) > 80
    for version in doc.versions:
        if doc_id in SETS or doc_id == "it-tutela-vulnerabili-2025":
            assert version.source is not None, version.valid_from
            assert version.source.title


@pytest.mark.parametrize("doc_id", SETS + TARIFFS)
def test_versions_are_contiguous(doc_id: str) -> None:
    versions = documents()[doc_id].versions
    for prev, cur in itertools.pairwise(versions):
        assert prev.valid_to == cur.valid_from
    assert versions[-1].valid_to is not None  # stale data never bills an open future


@pytest.mark.parametrize("tariff_id", TARIFFS)
def test_tariffs_cover_2025_and_include_the_regulated_sets(tariff_id: str) -> None:
    tariff = get_tariff(tariff_id)
    assert tariff.validity() == (dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    assert tariff.doc.includes == SETS
    assert tariff.calendar is not None
    assert tariff.calendar.id == "it-arera-181-06"
    assert tariff.timezone == TZ


@pytest.mark.parametrize("doc_id", SETS[:2])
def test_properties_are_declared_with_descriptions(doc_id: str) -> None:
    props = documents()[doc_id].properties
    assert props["resident"].type == "bool"
    assert props["resident"].default is None  # must be given: it changes four lines
    assert "resid" in (props["resident"].description or "")
    assert props["contracted_kw"].type == "number"
    assert props["contracted_kw"].unit == "kW"
    assert props["contracted_kw"].description


def test_tariffs_read_the_set_properties() -> None:
    for tariff_id in TARIFFS:
        assert set(get_tariff(tariff_id).doc.properties) == {
            "resident",
            "contracted_kw",
            "vat_use",
            "canone_rai",
            "bonus_sociale",
            "isee_eur",
            "household_size",
            "figli_a_carico",
        }


def _components(doc_id: str, day: dt.date) -> dict[str, object]:
    doc = documents()[doc_id]
    version = next(
        v for v in doc.versions if v.valid_from <= day and (v.valid_to is None or day < v.valid_to)
    )
    return {c.id: c for c in (*version.components, *version.taxes)}


def test_taxes_values() -> None:
    for day, rai in ((dt.date(2024, 6, 1), 7.0), (dt.date(2025, 6, 1), 9.0)):
        items = _components("it-taxes-domestic", day)
        accisa, iva, canone = items["accisa"], items["iva"], items["canone_rai"]
        assert isinstance(accisa, ExciseTax)
        assert accisa.rate == 0.0227
        assert accisa.unit == "EUR/kWh"
        assert accisa.exemption is not None
        ex = accisa.exemption
        assert (ex.exempt_kwh_per_month, ex.clawback_from_kwh_per_month) == (150, 220)
        assert (ex.clawback_from_kwh_per_month_low_power, ex.low_power_kw) == (150, 1.5)
        assert ex.applies_if.equals == {"resident": True}
        assert ex.applies_if.max == {"contracted_kw": 3.0}
        assert isinstance(iva, PercentTax)
        assert iva.rate_percent == 10
        assert set(iva.base_sections) == {"energy", "network", "system"}
        assert iva.base_components == ("accisa",)
        assert isinstance(canone, InstalmentCharge)
        assert canone.amount == rai
        assert canone.months == tuple(range(1, 11))
        assert canone.section == "other"  # outside the IVA base
        assert canone.applies_if is not None
        assert canone.applies_if.equals == {"resident": True, "canone_rai": "dovuto"}


def test_network_values_2025_q1_and_2026_q1() -> None:
    q1 = _components("it-arera-network-domestic", dt.date(2025, 2, 1))
    assert isinstance(q1["trasporto_quota_fissa"], FixedCharge)
    assert q1["trasporto_quota_fissa"].amount == 23.04
    assert q1["trasporto_quota_fissa"].proration == "year_days"
    assert isinstance(q1["trasporto_quota_potenza"], PowerCharge)
    assert q1["trasporto_quota_potenza"].rate == 23.72
    assert q1["trasporto_quota_potenza"].basis == "contracted"
    assert isinstance(q1["oneri_asos"], EnergyCharge)
    assert isinstance(q1["oneri_arim"], EnergyCharge)
    assert (q1["oneri_asos"].rates, q1["oneri_arim"].rates) == (0.029677, 0.002511)
    assert q1["oneri_asos"].rates + q1["oneri_arim"].rates == pytest.approx(0.032188)
    fixed_nr = q1["oneri_quota_fissa"]
    assert isinstance(fixed_nr, FixedCharge)
    assert fixed_nr.applies_if is not None
    assert fixed_nr.applies_if.equals == {"resident": False}
    q1_2026 = _components("it-arera-network-domestic", dt.date(2026, 2, 1))
    asos, arim = q1_2026["oneri_asos"], q1_2026["oneri_arim"]
    assert isinstance(asos, EnergyCharge)
    assert isinstance(arim, EnergyCharge)
    assert (asos.rates, arim.rates) == (0.028657, 0.001638)  # data-corrections-2026-12
    assert float(asos.rates) + float(arim.rates) == pytest.approx(0.030295, abs=1e-12)  # ARERA
    assert isinstance(q1_2026["oneri_quota_fissa"], FixedCharge)
    assert q1_2026["oneri_quota_fissa"].amount == 88.75
    assert "oneri_asos_arim" not in q1_2026


@pytest.mark.parametrize(
    ("day", "procurement_eur_per_kwh"),
    [
        (dt.date(2025, 2, 1), 0.1664),  # ARERA Q1 2025: 16.64 c/kWh approvvigionamento
        (dt.date(2025, 5, 1), 0.1605),  # ARERA Q2 2025: 16.05 c/kWh
    ],
)
def test_vulnerable_prices_reproduce_arera_aggregates(
    day: dt.date, procurement_eur_per_kwh: float
) -> None:
    """PE at the documented 33 % F1 share plus PD/PPE gives ARERA's published aggregate."""
    items = _components("it-tutela-vulnerabili-2025", day)
    pe, pd_ppe, pcv = items["pe"], items["dispacciamento"], items["pcv"]
    assert isinstance(pe, EnergyCharge)
    assert isinstance(pd_ppe, EnergyCharge)
    assert isinstance(pcv, FixedCharge)
    assert isinstance(pe.rates, dict)
    assert pe.schedule == "F1_F23"
    weighted = 0.33 * pe.rates["F1"] + 0.67 * pe.rates["F23"]
    assert isinstance(pd_ppe.rates, float)
    assert weighted + pd_ppe.rates == pytest.approx(procurement_eur_per_kwh, abs=5e-5)
    assert pe.rates["F1"] / pe.rates["F23"] == pytest.approx(158.32 / 139.152, abs=2e-3)
    assert pcv.amount == pytest.approx(0.0207 * 2000)


def _reference_customer_q1() -> IntervalData:
    """2,000 kWh/yr in Q1 2025: each month gets 2000 x days/365 kWh, 33 % of it in F1."""
    start = pd.Timestamp("2025-01-01").tz_localize(TZ).tz_convert("UTC")
    end = pd.Timestamp("2025-04-01").tz_localize(TZ).tz_convert("UTC")
    idx = pd.date_range(start, end, freq="15min", inclusive="left")
    step = pd.Timedelta("15min")
    f1 = get_calendar("it-arera-181-06").assign(idx, step, "F1_F23").codes == 0
    month = idx.tz_convert(TZ).month.to_numpy()
    energy = np.zeros(len(idx))
    for m, days in ((1, 31), (2, 28), (3, 31)):
        kwh = 2000.0 * days / 365
        sel = month == m
        energy[sel & f1] = 0.33 * kwh / (sel & f1).sum()
        energy[sel & ~f1] = 0.67 * kwh / (sel & ~f1).sum()
    return IntervalData(idx, energy, ("cliente-tipo",))


def test_reference_customer_price_close_to_arera_q1_2025() -> None:
    """ARERA: 31.28 c/kWh all taxes included for the vulnerable reference customer (Q1
    2025, canone RAI excluded). The library gets within 1 % (transport values are 2026's,
    the non-energy split is derived): a larger gap means a value was mistyped."""
    data = _reference_customer_q1()
    result = bill(
        get_tariff("it-tutela-vulnerabili-2025"),
        data,
        periods=[(dt.date(2025, 1, 1), dt.date(2025, 4, 1))],
        customers={"resident": True, "contracted_kw": 3.0},
    )
    total = sum(
        result.amount[0, i] for i, s in enumerate(result.lines) if s.component_id != "canone_rai"
    )
    cents_per_kwh = 100 * total / data.energy_kwh.sum()
    assert cents_per_kwh == pytest.approx(31.28, rel=0.01)


@pytest.mark.parametrize("tariff_id", TARIFFS)
@pytest.mark.parametrize("resident", [True, False])
def test_every_tariff_bills_a_month_with_provisional_note(tariff_id: str, resident: bool) -> None:
    start = pd.Timestamp("2025-03-01").tz_localize(TZ).tz_convert("UTC")
    idx = pd.date_range(start, periods=31 * 24, freq="1h")
    data = IntervalData(idx, np.full(len(idx), 0.25), ("m",))
    series = {"PUN": pd.Series([120.0], index=pd.DatetimeIndex([start]))}
    result = bill(
        get_tariff(tariff_id),
        data,
        periods=[(dt.date(2025, 3, 1), dt.date(2025, 3, 31))],
        customers={"resident": resident, "contracted_kw": 3.0},
        series=series,
    )
    b = bill_for(result, 0, 0)
    assert b.total > 0
    assert b.language == "it"
    assert b.section_title("network") == "Spesa per il trasporto e la gestione del contatore"
    assert any(n.startswith("Provisional tariff data") for n in b.notes)
    ids = {ln.component_id for ln in b.lines}
    assert ("canone_rai" in ids) == resident
    assert ("oneri_quota_fissa" in ids) == (not resident)


def test_unknown_component_in_inherited_version_is_rejected() -> None:
    """Guards the `inherit` + `changes` form the Italian files rely on."""
    data = {
        "schema": "gridtwin.tariff/1",
        "id": "t",
        "name": "t",
        "jurisdiction": "IT",
        "currency": "EUR",
        "source": {"title": "t"},
        "includes": ["it-taxes-domestic"],
        "versions": [
            {
                "valid_from": "2025-01-01",
                "valid_to": "2025-04-01",
                "components": [
                    {
                        "id": "e",
                        "kind": "energy",
                        "section": "energy",
                        "label": "E",
                        "unit": "EUR/kWh",
                        "rates": 0.1,
                    }
                ],
            },
            {"valid_from": "2025-04-01", "inherit": True, "changes": {"pe": {"rates": 0.2}}},
        ],
    }
    with pytest.raises(TariffSchemaError, match="unknown component id"):
        tariff_from_dict(data)


# --- the PUN example series ---------------------------------------------------------------
def test_pun_example_series() -> None:
    frame = pd.read_csv(EXAMPLES / "pun_monthly_2024_2025.csv")
    starts = pd.to_datetime(frame["month_start"], utc=True).dt.tz_convert(TZ)
    expected = pd.date_range("2024-01-01", "2025-12-01", freq="MS", tz=TZ)
    assert list(starts) == list(expected)  # local month starts, DST offsets right
    # CET months: Jan-Mar and Nov-Dec 2024, Jan-Mar and Nov-Dec 2025
    assert frame["month_start"].str.endswith("+01:00").sum() == 10
    pun = frame["pun_eur_per_mwh"]
    assert pun.between(50, 250).all()
    assert pun.iloc[12] == 143.03  # January 2025 (GME via ASM Energia / ARERA)
    assert pun.iloc[:12].mean() == pytest.approx(108.4, abs=0.5)  # 2024 mean about 108
    bands = frame.dropna(subset=["pun_f1_eur_per_mwh"])
    assert len(bands) == 23  # every month but December 2024
    assert (frame["status"] == "final").all()
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for key in frame["source"].unique():
        assert re.search(rf"\| `{re.escape(key)}` \|", readme), key


def test_packaged_pun_series_matches_the_example() -> None:
    """data/it/pun.csv (read by `gridtwin demo`) repeats the example's values, single
    band and per band, and flags what rests on one source."""
    example = pd.read_csv(EXAMPLES / "pun_monthly_2024_2025.csv")
    packaged = pd.read_csv(DATA_DIR / "pun.csv", comment="#")
    n = len(example)
    assert len(packaged) == n == 24
    assert list(packaged["timestamp"]) == list(example["month_start"])
    assert list(packaged["value"]) == list(example["pun_eur_per_mwh"])
    for band in ("F1", "F2", "F3"):
        col = f"pun_{band.lower()}_eur_per_mwh"
        assert packaged[band].fillna(-1).tolist() == example[col].fillna(-1).tolist()
    assert packaged["value"].iloc[-1] == 115.49  # GME final, not the month-to-date 119.00
    assert "PROVISIONAL" in (DATA_DIR / "pun.csv").read_text(encoding="utf-8")


def test_packaged_pun_series_bills_the_whole_of_2025() -> None:
    """A monthly series covers its last month up to local midnight of 31 December."""
    frame = pd.read_csv(DATA_DIR / "pun.csv", comment="#")
    pun = pd.Series(
        frame["value"].to_numpy(dtype=float),
        index=pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], utc=True)),
    )
    start = pd.Timestamp("2025-01-01").tz_localize(TZ).tz_convert("UTC")
    end = pd.Timestamp("2026-01-01").tz_localize(TZ).tz_convert("UTC")
    idx = pd.date_range(start, end, freq="15min", inclusive="left")
    data = IntervalData(idx, np.full(len(idx), 0.05), ("m",))
    result = bill(
        get_tariff("it-offerta-pun-0028"),
        data,
        periods=[(dt.date(2025, 1, 1), dt.date(2026, 1, 1))],
        customers={"resident": True, "contracted_kw": 3.0},
        series={"PUN": pun},
    )
    month = idx.tz_convert(TZ).month.to_numpy()
    want = sum(
        0.05 * (month == m + 1).sum() * (frame["value"][12 + m] / 1000 + 0.028) for m in range(12)
    )
    got = sum(
        result.amount[0, i] for i, s in enumerate(result.lines) if s.component_id == "energia_pun"
    )
    assert got == pytest.approx(want, rel=1e-12)
