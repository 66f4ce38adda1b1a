"""The assets page in Chromium (see conftest.py), on a server of its own whose twin has
the demo grid's example register and three synthetic weeks of state history (the
transformer's peak rising into overload, as in tests/service/test_assets_api.py): the
ranking as the API gives it, its links to the trends and network pages, the advice
filter, and the trends table with the transformer's early warning."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from gridtwin.assets import demo_register_path
from gridtwin.service.app import create_app
from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import AssetsConfig, NetworkSource, TwinConfig, twin_extension
from tests.console.conftest import Console, Tab, login
from tests.service.conftest import (
    ROLES,
    TWIN_CODE,
    add_twin_hour,
    add_users,
    issue_tokens,
    make_store,
)
from tests.service.test_alarm_stream import LiveServer
from tests.service.test_assets_api import add_history


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("assets-console")
    settings = ServiceSettings(store=make_store(folder))
    add_history(settings.store)
    add_twin_hour(settings.store)
    add_users(settings, {r.value: r for r in ROLES})
    config = TwinConfig(
        network=NetworkSource(simbench=TWIN_CODE),
        grace_s=0.0,
        assets=AssetsConfig(file=str(demo_register_path()), trends=False),
    )
    server = LiveServer(create_app(settings, lifespans=[twin_extension(config)]))
    server.start()
    try:
        result = Console(server, issue_tokens(settings, [r.value for r in ROLES]))
        deadline = time.monotonic() + 60
        while result.intervals() < 4:
            if time.monotonic() > deadline:
                pytest.fail("the twin did not update the first hour")
            time.sleep(0.05)
        yield result
    finally:
        server.stop()


def test_the_ranking_and_the_trends(console: Console, open_tab: Callable[[], Tab]) -> None:
    rep = console.api("GET", "/assets", "viewer").json()
    assert rep["configured"]
    assert len(rep["assets"]) == 44
    tab = open_tab()
    login(tab, console, "viewer", "/assets")
    page = tab.page
    page.locator("#asset-rows tr").first.wait_for()
    assert page.locator("#asset-rows tr").count() == len(rep["assets"])
    shown = page.locator("#asset-rows tr").evaluate_all(
        "rs => rs.map(r => [r.dataset.element, Number(r.dataset.rank), r.dataset.hi])"
    )
    assert shown == [[a["element"], a["rank"], a["health_index"]] for a in rep["assets"]]
    first = rep["assets"][0]
    row = page.locator(f"#asset-rows tr[data-element='{first['element']}']")
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "1"
    assert first["advice"] in cells[10]
    assert first["reasons"][0] in cells[11]
    link = row.locator("a").first
    assert link.get_attribute("href") == f"/trends?element={first['element']}"
    assert "CNAIM" in page.inner_text("#assets-method")
    # the advice filter
    page.select_option("#advice-select", "defer")
    assert page.locator("#asset-rows tr").count() == sum(
        a["advice"] == "defer" for a in rep["assets"]
    )
    # the trends, evaluated on demand: the transformer's early warning
    page.click("#trends-show")
    page.locator(
        "#trend-rows tr[data-element='trafo:0'][data-quantity='loading_percent']"
    ).wait_for()
    warn = page.locator("#trend-rows tr[data-element='trafo:0'][data-quantity='loading_percent']")
    assert warn.get_attribute("data-warning") == "true"
    assert "early warning" in warn.inner_text()
    tab.screenshot("assets")
    assert tab.errors == []
    assert tab.failed_responses == []
