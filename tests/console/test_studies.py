"""The studies page in Chromium (see conftest.py): an analyst runs a scenario and the
network is coloured by the API's answer (failing before, after, both); hosting capacity
colours the chosen buses; a viewer is refused by the API and the page says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.console.conftest import Console, Tab, login

DAY = {"start": "2016-06-23T09:00", "start_utc": "2016-06-23T09:00:00Z"}


def _study_of(page: Any) -> dict[str, str]:
    """Element id -> its colour class on the page's drawing (per-element mode)."""
    elements = page.locator("svg#network [data-study]").evaluate_all(
        "xs => xs.map(x => [x.dataset.element, x.dataset.study])"
    )
    return {e: s for e, s in elements}


def test_an_analyst_runs_a_scenario_and_sees_it_on_the_network(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    body = {
        "kind": "pv",
        "share": 1.0,
        "pv_kwp": 30.0,
        "start_utc": DAY["start_utc"],
        "end_utc": "2016-06-23T15:00:00Z",
    }
    headers = {"Authorization": f"Bearer {console.tokens['analyst']}"}
    with httpx.Client(base_url=console.server.base, timeout=httpx.Timeout(180.0)) as c:
        want = c.post("/studies/scenario", json=body, headers=headers)
    assert want.status_code == 200, want.text
    answer = want.json()
    tab = open_tab()
    login(tab, console, "analyst", "/studies")
    page = tab.page
    page.wait_for_selector("svg#network[data-drawn-ms]")
    page.select_option("#scenario-kind", "pv")
    page.fill("#scenario-share", "1")
    page.fill("#scenario-kwp", "30")
    page.fill("#scenario-start", DAY["start"])
    page.fill("#scenario-hours", "6")
    page.click("#scenario-run")
    page.wait_for_selector("svg#network[data-study='scenario']", timeout=180_000)
    assert "scenario done" in page.inner_text("#study-status")
    drawn = _study_of(page)

    def failing(case: str) -> set[str]:
        c = answer[case]
        return (
            {f"bus:{i}" for i in c["failing_buses"]}
            | {f"line:{i}" for i in c["overloaded_lines"]}
            | {f"trafo:{i}" for i in c["hot_trafos"]}
        )

    before, after = failing("before"), failing("after")
    assert {e for e, s in drawn.items() if s == "new"} == after - before
    assert {e for e, s in drawn.items() if s == "both"} == after & before
    assert {e for e, s in drawn.items() if s == "gone"} == before - after
    assert after  # 30 kWp on every roof on a sunny June day: cables overloaded
    result = page.inner_text("#study-result")
    assert f"{answer['after']['vm_min_pu']:.4f}" in result
    tab.screenshot("studies-scenario")
    assert tab.errors == []


def test_hosting_capacity_colours_the_chosen_buses(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    login(tab, console, "analyst", "/studies")
    page = tab.page
    page.wait_for_selector("svg#network[data-drawn-ms]")
    page.fill("#hosting-buses", "3, 7, 20")
    page.click("#hosting-run")
    page.wait_for_selector("svg#network[data-study='hosting']", timeout=180_000)
    drawn = _study_of(page)
    chosen = {e: s for e, s in drawn.items() if s.startswith("host-")}
    assert set(chosen) == {"bus:3", "bus:7", "bus:20"}
    assert page.locator("#study-result tbody tr").count() == 3
    tab.screenshot("studies-hosting")
    assert tab.errors == []


def test_a_viewer_is_refused_and_the_page_says_so(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    login(tab, console, "viewer", "/studies")
    page = tab.page
    message = page.locator("#message")
    message.wait_for(state="visible")
    assert "analyst role" in message.inner_text()
    page.wait_for_selector("svg#network[data-drawn-ms]")
    page.fill("#scenario-start", DAY["start"])
    page.click("#scenario-run")
    page.locator("#message", has_text="Refused (403)").wait_for(timeout=10_000)
    assert "analyst role or higher" in message.inner_text()  # the API's own reason
    assert "not run" in page.inner_text("#study-status")
    tab.screenshot("studies-viewer-refused")
    assert tab.failed_responses == [403]
