"""The early-warning page in Chromium (see conftest.py), on the shared server: the next
day's potential deviations and the checked measures exactly as ``GET /warnings`` gives
them, each element linked to its trend. (A day whose forecast peak breaks the band, with
its measure, is tested through the API in ``tests/service/test_warnings_api.py``.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.console.conftest import Console, Tab, login


@pytest.fixture(scope="module")
def console(shared_console: Console) -> Console:
    return shared_console


def test_the_page_lists_the_apis_warnings_and_measures(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    # the first request computes the day (seconds when quiet, minutes on a busy machine)
    rep = console.api("GET", "/warnings", "viewer", timeout=600).json()
    tab = open_tab()
    login(tab, console, "viewer", "/warnings")
    page = tab.page
    page.locator("#warnings-summary", has_text=f"day {rep['day']}").wait_for()
    summary = page.inner_text("#warnings-summary")
    assert f"day {rep['day']}" in summary
    assert f"{len(rep['warnings'])} potential deviation(s)" in summary
    assert page.inner_text("#warning-count") == str(len(rep["warnings"]))
    rows = page.locator("#warning-rows tr")
    assert rows.count() == len(rep["warnings"])
    for k, w in enumerate(rep["warnings"]):
        cells = rows.nth(k).locator("td").all_inner_texts()
        assert cells[2] == w["element"]
        assert cells[3] == w["rule_id"]
        assert float(cells[5]) == pytest.approx(w["probability"], abs=5e-3)
        link = rows.nth(k).locator("a").get_attribute("href")
        assert link == f"/trends?element={w['element'].replace(':', '%3A')}"
        expected = w["measure"]["description"] if w["measure"] else "none of the checked"
        assert expected in cells[9]
    assert page.locator("#measure-rows tr").count() == len(rep["measures"])
    kinds = page.locator("#measure-rows tr").evaluate_all("rs => rs.map(r => r.dataset.kind)")
    assert kinds == [m["kind"] for m in rep["measures"]]
    assert tab.errors == []
    assert tab.failed_responses == []
    tab.screenshot("warnings")
