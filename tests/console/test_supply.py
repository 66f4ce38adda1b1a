"""The supply page in Debian's Chromium over a real server (see conftest.py): a bill
rendered with the API's total, offers side by side as ``POST /bills/compare`` ranks them,
a stored point billed, and a viewer refused with the API's reason.

The server here has no twin (the page reads no twin state): a store with one metered
point of delivery, users per role.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from gridtwin.service.app import create_app
from gridtwin.service.settings import ServiceSettings
from gridtwin.store import MeasurementBatch, MeasurementPoint, open_store
from tests.console.conftest import Console, Tab, login
from tests.service.conftest import ROLES, add_users, issue_tokens, make_store
from tests.service.test_alarm_stream import LiveServer

TUTELA = "it-tutela-vulnerabili-2025"
OFFERS = ["it-offerta-fissa-monoraria-0136", "it-offerta-trioraria-esempio"]
STORED = "pod-il:energy"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A server without a twin: a store holding a week of one point of delivery (Israel,
    April 2014, quarter hours in kWh), users per role."""
    folder = tmp_path_factory.mktemp("supply")
    settings = ServiceSettings(store=make_store(folder))
    index = pd.date_range(
        "2014-04-01", "2014-04-08", freq="15min", tz="Asia/Jerusalem", inclusive="left"
    )
    ts = np.asarray(index.tz_convert("UTC").tz_localize(None), dtype="datetime64[us]")
    with open_store(settings.store) as store:
        store.add_points([MeasurementPoint(STORED, "energy", "kWh")])
        values = 0.1 + 0.2 * (index.hour.to_numpy() >= 17)
        store.write(MeasurementBatch.build([STORED] * len(ts), ts, values))
    add_users(settings, {r.value: r for r in ROLES})
    server = LiveServer(create_app(settings))
    server.start()
    try:
        yield Console(server, issue_tokens(settings, [r.value for r in ROLES]))
    finally:
        server.stop()


def _ready(tab: Tab, console: Console, role: str) -> None:
    login(tab, console, role, "/supply")
    tab.page.locator("body[data-ready='yes']").wait_for()


def _fill_tutela(tab: Tab) -> None:
    page = tab.page
    page.select_option("#tariff", TUTELA)
    assert page.input_value("#period-start") == "2025-01-01"  # the tariff's first month
    assert page.input_value("#period-end") == "2025-02-01"
    page.select_option("#prop-resident", "true")
    page.fill("#prop-contracted_kw", "3")
    page.fill("#flat-kwh", "0.12")
    page.click("#fill-flat")
    assert page.input_value("#start-utc") == "2024-12-31T23:00:00Z"  # Rome's midnight
    assert page.inner_text("#values-count") == f"{31 * 96} values"


def _body() -> dict[str, object]:
    return {
        "period_start": "2025-01-01",
        "period_end": "2025-02-01",
        "values": {
            "start_utc": "2024-12-31T23:00:00Z",
            "step_s": 900,
            "energy_kwh": [0.12] * (31 * 96),
        },
        "allow_gaps": False,
    }


def test_a_bill_renders_with_the_total_of_the_api(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    _ready(tab, console, "analyst")
    _fill_tutela(tab)
    t0 = time.monotonic()
    tab.page.click("#bill-submit")
    tab.page.locator("#bill:not([hidden]) #bill-total").wait_for()
    elapsed_s = time.monotonic() - t0
    api = console.api(
        "POST",
        "/bills",
        "analyst",
        json={"tariff_id": TUTELA, **_body(), "customer": {"resident": True, "contracted_kw": 3.0}},
    )
    assert api.status_code == 200, api.text
    want = api.json()
    page = tab.page
    assert page.inner_text("#bill-total") == want["total"]
    assert page.locator("#bill-lines tr").count() == len(want["lines"])
    amounts = page.locator("#bill-lines td.amount").all_inner_texts()
    assert amounts == [ln["amount"] for ln in want["lines"]]
    explanations = page.locator("#bill-lines td.explanation").all_inner_texts()
    assert explanations == [ln["explanation"] for ln in want["lines"]]
    assert sum(Decimal(a) for a in amounts) == Decimal(want["total"])
    assert "EUR" in page.inner_text("#bill-currency")
    tab.screenshot("supply-bill")
    assert elapsed_s < 10
    assert tab.errors == []
    assert tab.failed_responses == []


def test_offers_side_by_side_as_the_api_ranks_them(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    _ready(tab, console, "analyst")
    _fill_tutela(tab)
    page = tab.page
    # only offers in the tariff's currency are offered
    listed = page.locator("#offers input").evaluate_all("xs => xs.map(x => x.value)")
    assert set(OFFERS) <= set(listed)
    assert "il-tou-2015" not in listed
    for offer in OFFERS:
        page.check(f"#offer-{offer}")
    page.click("#compare-submit")
    page.locator("#compare:not([hidden]) #compare-rows tr[data-row='total']").wait_for()
    api = console.api(
        "POST",
        "/bills/compare",
        "analyst",
        json={
            "tariff_ids": [TUTELA, *OFFERS],
            **_body(),
            "customer": {"resident": True, "contracted_kw": 3.0},
        },
    ).json()
    columns = page.locator("#compare-cols th[data-tariff]").evaluate_all(
        "xs => xs.map(x => x.dataset.tariff)"
    )
    assert columns == [o["tariff_id"] for o in api["offers"]]  # cheapest first
    totals = page.locator("#compare-rows tr[data-row='total'] td").all_inner_texts()
    assert totals == [o["total"] for o in api["offers"]]
    assert [Decimal(t) for t in totals] == sorted(Decimal(t) for t in totals)
    extra = page.locator("#compare-rows tr[data-row='extra'] td").all_inner_texts()
    assert extra[0] == "0.00"
    assert page.locator("#compare-bills details").count() == 3
    page.click("#compare-bills details >> nth=0 >> summary")
    tab.screenshot("supply-compare")
    assert tab.errors == []


def test_a_stored_point_is_billed(console: Console, open_tab: Callable[[], Tab]) -> None:
    tab = open_tab()
    _ready(tab, console, "analyst")
    page = tab.page
    page.select_option("#tariff", "il-tou-2015")
    page.check("#source-point")
    page.select_option("#point", STORED)
    page.fill("#period-start", "2014-04-01")
    page.fill("#period-end", "2014-04-08")
    page.select_option("#prop-voltage_level", "LV")
    page.click("#bill-submit")
    page.locator("#bill:not([hidden]) #bill-total").wait_for()
    want = console.api(
        "POST",
        "/bills",
        "analyst",
        json={
            "tariff_id": "il-tou-2015",
            "period_start": "2014-04-01",
            "period_end": "2014-04-08",
            "point_id": STORED,
            "customer": {"voltage_level": "LV"},
        },
    ).json()
    assert page.inner_text("#bill-total") == want["total"]
    assert STORED in page.inner_text("#bill-head")
    assert tab.errors == []


def test_a_viewer_is_refused_and_the_page_says_so(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    _ready(tab, console, "viewer")
    _fill_tutela(tab)
    tab.page.click("#bill-submit")
    message = tab.page.locator("#message")
    message.wait_for(state="visible", timeout=5_000)
    text = message.inner_text()
    assert "Refused (403)" in text
    assert "analyst role" in text  # the API's own reason
    assert tab.page.locator("#bill").is_hidden()
    tab.screenshot("supply-viewer-refused")
    assert tab.failed_responses == [403]
