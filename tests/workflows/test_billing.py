"""Billing workflows: chunked runs equal one call; files are read as the domain reads them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.billing import bill, bill_band_totals, compare
from gridtwin.errors import InputError
from gridtwin.ingest import consumption_by_register, read_register_readings, write_intervals
from gridtwin.tariffs import get_tariff
from gridtwin.workflows import BillingRun, OfferComparison, ReadingsBilling, read_price_series
from gridtwin.workflows.tariffs import israel_2015_table, tariff_catalogue
from tests.billing.util import flat_data

D = dt.date


def test_chunked_billing_with_progress_equals_one_call(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = flat_data("2018-01-01", "2018-03-01", 0.25, n_meters=7, tz="UTC")
    data = type(data)(data.start_utc, data.energy_kwh * rng.uniform(0.5, 2, (7, 1)), data.meter_ids)
    path = tmp_path / "meters.csv"
    write_intervals(data, path)
    seen: list[tuple[int, int]] = []
    chunked = BillingRun("bench-tou3", path, chunk_meters=3).run(
        progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(3, 7), (6, 7), (7, 7)]
    whole = bill(get_tariff("bench-tou3"), data)
    assert chunked.meter_ids == whole.meter_ids
    # one matrix product per chunk: equal to the rounding of the product's blocking
    np.testing.assert_allclose(chunked.amount, whole.amount, rtol=1e-13, atol=0)
    np.testing.assert_allclose(chunked.max_power_kw, whole.max_power_kw, rtol=1e-13, atol=0)
    one = BillingRun("bench-tou3", data, period_kind="whole").run()
    assert len(one.periods) == 1
    assert one.totals().sum() == pytest.approx(whole.totals().sum())


def test_offer_comparison_and_readings(tmp_path: Path) -> None:
    data = flat_data("2025-01-01", "2025-03-01", 0.2, n_meters=2, tz="Europe/Rome")
    offers = ["it-offerta-fissa-monoraria-0136", "it-offerta-trioraria-esempio"]
    props = {"resident": True, "contracted_kw": 3.0}
    ranked = OfferComparison(offers, data, meter="m1", customers=props).run()
    expected = compare([get_tariff(t) for t in offers], data, meter=1, customers=props)
    pd.testing.assert_frame_equal(ranked.table, expected.table)
    readings = tmp_path / "r.csv"
    readings.write_text(
        "pod,register,read_date,value_kwh,kind\n"
        "IT001,F1,2025-01-01,100,actual\nIT001,F2,2025-01-01,50,actual\n"
        "IT001,F3,2025-01-01,80,actual\nIT001,F1,2025-03-01,300,actual\n"
        "IT001,F2,2025-03-01,120,estimated\nIT001,F3,2025-03-01,200,actual\n",
        encoding="utf-8",
    )
    period = (D(2025, 1, 1), D(2025, 3, 1))
    got = ReadingsBilling(offers[1], readings, "IT001", period, props).run()
    cons = consumption_by_register(read_register_readings(readings), *period, pod="IT001")
    want = bill_band_totals(
        get_tariff(offers[1]),
        cons.energy_kwh_by_band,
        period,
        pod="IT001",
        customers=props,
        estimated=cons.estimated,
    )
    np.testing.assert_array_equal(got.amount, want.amount)


def test_price_series_files(tmp_path: Path) -> None:
    good = tmp_path / "pun.csv"
    good.write_text("timestamp,value\n2025-01-01T00:00Z,0.1\n2025-02-01T00:00Z,0.2\n")
    series = read_price_series(good)
    assert series.index.tz is not None
    assert series.tolist() == [0.1, 0.2]
    bad = tmp_path / "bad.csv"
    bad.write_text("time,price\n2025-01-01T00:00Z,0.1\n")
    with pytest.raises(InputError, match="expected columns timestamp,value"):
        read_price_series(bad)
    with pytest.raises(InputError, match="cannot read"):
        read_price_series(tmp_path / "missing.csv")


def test_tariff_catalogue_and_the_israeli_tables() -> None:
    catalogue = tariff_catalogue()
    assert {"bench-tou3", "il-tou-2015", "sk-urso-0210-2017-dd2"} <= set(catalogue["id"])
    assert list(catalogue.columns) == [
        "id",
        "kind",
        "jurisdiction",
        "currency",
        "valid_from",
        "valid_to",
        "name",
        "provisional",
    ]
    assert len(tariff_catalogue(include_sets=True)) > len(catalogue)
    revision = israel_2015_table("revision", "LV_general")
    assert set(revision["voltage_level"]) == {"LV_general"}
    with pytest.raises(InputError, match="use one of revision, generation, infrastructure"):
        israel_2015_table("other")
