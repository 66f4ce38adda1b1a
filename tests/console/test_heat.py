"""The heat-network page in Debian's Chromium over a real server (see conftest.py): the
norms tables of the seed example as ``POST /norms`` computes them, the characteristics
plotted with Plotly from its pip package, the reconstructions flagged, a viewer refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import resources

import httpx
import pytest

from gridtwin.service.app import create_app
from gridtwin.service.settings import ServiceSettings
from tests.console.conftest import Console, Tab, login
from tests.heatnet.util import example_dict
from tests.service.conftest import ROLES, add_users, issue_tokens, make_store
from tests.service.test_alarm_stream import LiveServer

PLOTLY = "/console/static/vendor/plotly.min.js"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A server without a twin (the page reads none), users per role."""
    settings = ServiceSettings(store=make_store(tmp_path_factory.mktemp("heat")))
    add_users(settings, {r.value: r for r in ROLES})
    server = LiveServer(create_app(settings))
    server.start()
    try:
        yield Console(server, issue_tokens(settings, [r.value for r in ROLES]))
    finally:
        server.stop()


def test_plotly_is_served_from_its_pip_package(console: Console) -> None:
    r = httpx.get(console.url + PLOTLY)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    bundled = (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    assert r.content == bundled
    again = httpx.get(console.url + PLOTLY, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    # Plotly adds <style> elements: the heat page allows inline styles, never scripts;
    # the other pages keep the strict policy
    csp = httpx.get(console.url + "/heat").headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "style-src 'self' 'unsafe-inline'" in csp
    strict = httpx.get(console.url + "/supply").headers["content-security-policy"]
    assert "unsafe-inline" not in strict


def test_the_norms_tables_and_the_characteristics_plotted(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    login(tab, console, "analyst", "/heat")
    page = tab.page
    page.locator("body[data-ready='yes']").wait_for(timeout=20_000)
    unit = example_dict()
    past = console.api(
        "POST", "/norms", "analyst", json={"calculation": "past-year", "units": [unit]}
    ).json()
    coming = console.api(
        "POST", "/norms", "analyst", json={"calculation": "coming-year", "units": [unit]}
    ).json()
    # the tables are the API's numbers
    assert float(page.get_attribute("#past-table", "data-total") or "nan") == pytest.approx(
        past["summary"][0]["total_normative_energy_kwh"]
    )
    assert float(page.get_attribute("#coming-table", "data-total") or "nan") == pytest.approx(
        coming["summary"][0]["total_normative_energy_kwh"]
    )
    station_rows = page.locator("#past-rows tr[data-season='all']")
    assert station_rows.count() == len(past["units"][0]["stations"])
    shown = station_rows.locator("td:last-child").all_inner_texts()
    want = [f"{round(s['normative_energy_kwh']):,}" for s in past["units"][0]["stations"]]
    assert shown == want
    seasons = sum(len(s["seasons"]) for s in past["units"][0]["stations"])
    assert page.locator("#past-rows tr:not([data-season='all'])").count() == seasons
    # one plot per pump type and two per station, each drawn by Plotly with its curves
    n_pumps, n_stations = len(unit["pumps"]), len(unit["stations"])
    assert page.get_attribute("#plots", "data-plots") == str(n_pumps + 2 * n_stations)
    plots = page.locator("#plots .js-plotly-plot")
    assert plots.count() == n_pumps + 2 * n_stations
    pump_curves = page.locator("#plot-pump-0 .scatterlayer .trace path.js-line")
    assert pump_curves.count() == 2  # head and efficiency
    d = pump_curves.first.get_attribute("d") or ""
    assert d.count("L") > 10  # a drawn line, not an empty path
    head = page.locator("#plot-station-1-head .scatterlayer .trace")
    assert head.count() >= 4  # joint curve, network curve and marks per season
    assert "network curve" in page.inner_text("#plot-station-1-head")
    # the reconstructions are named
    statuses = page.locator("#flags-rows tr").evaluate_all("rs => rs.map(r => r.dataset.status)")
    assert statuses.count("reconstructed") >= 11
    assert "seed" in statuses
    assert "assumed" in statuses
    assert "assumed" in page.inner_text("#pump-flags")
    tab.screenshot("heat")
    assert tab.errors == []
    assert tab.failed_responses == []


def test_a_viewer_is_refused_and_the_page_says_so(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    login(tab, console, "viewer", "/heat")
    tab.page.locator("body[data-ready='refused']").wait_for(timeout=20_000)
    text = tab.page.inner_text("#message")
    assert "Refused (403)" in text
    assert "analyst role" in text
    assert tab.page.locator("#plots .js-plotly-plot").count() == 0
    assert set(tab.failed_responses) == {403}
