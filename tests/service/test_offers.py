"""Offer comparison through the API (``POST /bills/compare``) and the tariffs' customer
properties (``GET /tariffs``), cross-checked against ``POST /bills`` and the library's
``compare`` on the same consumption."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gridtwin.billing import compare
from gridtwin.service.settings import ServiceSettings
from gridtwin.store import MeasurementBatch, MeasurementPoint
from gridtwin.tariffs import get_tariff
from gridtwin.timeseries import IntervalData
from tests.service.conftest import ROLES, Api, add_users, issue_tokens, make_store, running

IT = [
    "it-offerta-fissa-monoraria-0136",
    "it-offerta-trioraria-esempio",
    "it-tutela-vulnerabili-2025",
]
JAN = {"period_start": "2025-01-01", "period_end": "2025-02-01"}
CUSTOMER = {"resident": True, "contracted_kw": 3.0}


@pytest.fixture(scope="module")
def offers_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An app without a twin, a user per role."""
    folder: Path = tmp_path_factory.mktemp("offers")
    settings = ServiceSettings(store=make_store(folder))
    add_users(settings, {r.value: r for r in ROLES})
    with running(settings) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        yield api


@pytest.fixture(scope="module")
def january() -> IntervalData:
    """January 2025 in Rome, quarter hours, more in the evening than at night."""
    index = pd.date_range(
        "2025-01-01", "2025-02-01", freq="15min", tz="Europe/Rome", inclusive="left"
    )
    hours = index.hour.to_numpy()
    rng = np.random.default_rng(3)
    energy = (
        0.05 + 0.25 * ((hours >= 18) & (hours < 23)) + rng.uniform(0, 0.05, len(index))
    ).round(3)
    return IntervalData(index.tz_convert("UTC"), energy[None, :], ("pod-it",))


def _inline(data: IntervalData) -> dict[str, Any]:
    return {
        "start_utc": data.start_utc[0].isoformat(),
        "step_s": 900,
        "energy_kwh": [float(x) for x in data.energy_kwh[0]],
    }


def test_compare_ranks_the_offers_with_the_bills_of_post_bills(
    offers_api: Api, january: IntervalData
) -> None:
    body = {"tariff_ids": IT, **JAN, "values": _inline(january), "customer": CUSTOMER}
    r = offers_api.post("/api/v1/bills/compare", json=body, as_="analyst")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["currency"] == "EUR"
    assert [o["rank"] for o in got["offers"]] == [1, 2, 3]
    assert {o["tariff_id"] for o in got["offers"]} == set(IT)
    totals = [Decimal(o["total"]) for o in got["offers"]]
    assert totals == sorted(totals)
    assert totals[0] < totals[-1]  # the offers differ on this profile
    for offer in got["offers"]:
        single = {
            "tariff_id": offer["tariff_id"],
            **JAN,
            "values": _inline(january),
            "customer": {
                k: v
                for k, v in CUSTOMER.items()
                if k in get_tariff(offer["tariff_id"]).doc.properties
            },
        }
        one = offers_api.post("/api/v1/bills", json=single, as_="analyst")
        assert one.status_code == 200, one.text
        assert offer["bill"] == one.json()  # the same itemised bill, line by line
        assert offer["total"] == one.json()["total"]
        assert float(offer["extra_vs_best"]) == pytest.approx(
            float(totals[offer["rank"] - 1] - totals[0])
        )
    library = compare(
        [get_tariff(t) for t in IT],
        january,
        periods=[(dt.date(2025, 1, 1), dt.date(2025, 2, 1))],
        customers=CUSTOMER,
    )
    assert list(library.table["tariff_id"]) == [o["tariff_id"] for o in got["offers"]]
    assert list(library.table["total"]) == pytest.approx([float(t) for t in totals])
    assert got["energy_kwh"] == pytest.approx(float(january.energy_kwh.sum()))


def test_compare_of_a_stored_point_with_a_gap(offers_api: Api, january: IntervalData) -> None:
    store = offers_api.state.store
    point = MeasurementPoint("pod-it:energy", "energy", "kWh")
    store.add_points([point])
    keep = np.ones(january.n_steps, dtype=bool)
    keep[10:14] = False
    ts = np.asarray(january.start_utc[keep].tz_localize(None), dtype="datetime64[us]")
    values = january.energy_kwh[0][keep]
    store.write(MeasurementBatch.build([point.point_id] * len(ts), ts, values))
    body = {"tariff_ids": IT[:2], **JAN, "point_id": point.point_id, "customer": CUSTOMER}
    refused = offers_api.post("/api/v1/bills/compare", json=body, as_="analyst")
    assert refused.status_code == 422, refused.text
    r = offers_api.post("/api/v1/bills/compare", json=body | {"allow_gaps": True}, as_="analyst")
    assert r.status_code == 200, r.text
    assert all(o["bill"]["missing_intervals"] == 4 for o in r.json()["offers"])
    assert r.json()["meter_id"] == point.point_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tariff_ids": ["il-tou-2015", "sk-urso-0210-2017-dd2"]}, "currenc"),
        ({"tariff_ids": [IT[0], IT[0]]}, "tariff_ids"),
        ({"tariff_ids": [IT[0]]}, "tariff_ids"),
        ({"tariff_ids": [IT[0], "../x.yaml"]}, "tariff_id"),
    ],
)
def test_a_bad_comparison_is_refused_naming_the_field(
    offers_api: Api, january: IntervalData, change: dict[str, Any], field: str
) -> None:
    body = {"tariff_ids": IT, **JAN, "values": _inline(january), "customer": CUSTOMER} | change
    r = offers_api.post("/api/v1/bills/compare", json=body, as_="analyst")
    assert r.status_code == 422, r.text
    assert field in r.text


def test_compare_needs_the_analyst_role(offers_api: Api) -> None:
    body = {
        "tariff_ids": IT,
        **JAN,
        "values": {"start_utc": "2025-01-01T00:00Z", "energy_kwh": [1]},
    }
    assert offers_api.post("/api/v1/bills/compare", json=body, as_="operator").status_code == 403
    assert offers_api.post("/api/v1/bills/compare", json=body).status_code == 401


def test_tariffs_list_the_customer_properties_they_read(offers_api: Api) -> None:
    r = offers_api.get("/api/v1/tariffs", as_="viewer")
    assert r.status_code == 200
    tariffs = {t["id"]: t for t in r.json()["tariffs"]}
    props = {p["name"]: p for p in tariffs["it-tutela-vulnerabili-2025"]["properties"]}
    assert props["contracted_kw"]["type"] == "number"
    assert props["contracted_kw"]["unit"] == "kW"
    assert props["contracted_kw"]["default"] is None  # a bill needs it
    assert props["vat_use"]["allowed"] == ["domestic", "other"]
    il = {p["name"] for p in tariffs["il-tou-2015"]["properties"]}
    assert il == set(get_tariff("il-tou-2015").doc.properties)
