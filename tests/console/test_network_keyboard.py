"""The keyboard path to any element of a grid drawn by colour class, in Chromium: a
generated LV grid of 3,363 elements (12 feeders of 140 buses, no coordinates: the
service's one-line layout), above the 3,000 up to which each element is its own Tab stop,
as on the 9,099-bus SimBench grid. After the login only keys are pressed: Tab to Find,
type a name, the matches listed, arrow keys and Tab through them, Enter opens the
element's panel and marks it on the drawing.

The grid stands for SimBench's ``1-MVLV-semiurb-all-0-sw`` (a feed transformer, long LV
feeders of named buses and cables) at a third of its size, to keep the test short.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gridtwin.service.app import create_app
from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import NetworkSource, TwinConfig, twin_extension
from tests.console.conftest import Console, Tab, login
from tests.service.conftest import ROLES, add_users, issue_tokens, make_store
from tests.service.test_alarm_stream import LiveServer

FEEDERS, PER_FEEDER = 12, 140


def big_net() -> tuple[Any, dict[str, int]]:
    """The grid and its bus index by name (``F07-N012``: feeder 7, 12th bus)."""
    import pandapower as pp

    net = pp.create_empty_network(name="generated LV grid")
    mv = pp.create_bus(net, vn_kv=20.0, name="MV feed")
    pp.create_ext_grid(net, mv)
    lv = pp.create_bus(net, vn_kv=0.4, name="LV busbar")
    pp.create_transformer(net, mv, lv, std_type="0.63 MVA 20/0.4 kV", name="feed trafo")
    names: dict[str, int] = {}
    for f in range(1, FEEDERS + 1):
        previous = lv
        for n in range(1, PER_FEEDER + 1):
            name = f"F{f:02d}-N{n:03d}"
            bus = pp.create_bus(net, vn_kv=0.4, name=name)
            names[name] = int(bus)
            pp.create_line(net, previous, bus, 0.02, std_type="NAYY 4x150 SE", name=f"{name} cable")
            previous = bus
    for n in range(1, 4):  # the loads the shared test points meter (load:0 .. load:2)
        pp.create_load(net, names[f"F01-N{n:03d}"], p_mw=0.002, name=f"house {n}")
    return net, names


@pytest.fixture(scope="module")
def names() -> dict[str, int]:
    return big_net()[1]


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    import pandapower as pp

    folder: Path = tmp_path_factory.mktemp("big-grid")
    net, _ = big_net()
    path = folder / "generated-lv.json"
    pp.to_json(net, str(path))
    settings = ServiceSettings(store=make_store(folder))
    add_users(settings, {r.value: r for r in ROLES})
    config = TwinConfig(network=NetworkSource(path=str(path)), grace_s=0.0)
    server = LiveServer(create_app(settings, lifespans=[twin_extension(config)]))
    server.start(timeout_s=300)  # loads and lays out the grid first: slow on a loaded VM
    try:
        yield Console(server, issue_tokens(settings, [r.value for r in ROLES]))
    finally:
        server.stop()


def _active(tab: Tab) -> dict[str, Any]:
    found: dict[str, Any] = tab.page.evaluate(
        "() => ({id: document.activeElement.id, element: document.activeElement.dataset.element,"
        " tag: document.activeElement.tagName})"
    )
    return found


def test_find_lists_matches_and_enter_opens_one_with_keys_only(
    console: Console, open_tab: Callable[[], Tab], names: dict[str, int]
) -> None:
    topo = console.api("GET", "/model/topology", "viewer").json()
    drawn = len(topo["buses"]) + len(topo["lines"]) + len(topo["trafos"])
    assert drawn > 3000
    tab = open_tab()
    login(tab, console, "viewer", "/network")
    page = tab.page
    page.wait_for_selector("svg#network[data-mode='classes'] path.dots", state="attached")
    assert page.locator("svg#network [tabindex]").count() == 0  # no element is a Tab stop
    started = time.monotonic()
    for _ in range(40):  # Tab until Find has the focus
        page.keyboard.press("Tab")
        if _active(tab)["id"] == "find-element":
            break
    else:
        pytest.fail("Find is not reachable with Tab")
    page.keyboard.type("f07-n12")  # the buses F07-N120 .. N129 and their cables
    page.locator("#find-count", has_text="20 matches").wait_for()
    listed = page.locator("#find-matches button").evaluate_all(
        "bs => bs.map(b => b.dataset.element)"
    )
    buses = [f"bus:{names[f'F07-N12{d}']}" for d in range(10)]
    cables = [f"line:{names[f'F07-N12{d}'] - 2}" for d in range(10)]  # line i ends at bus i + 2
    assert listed == buses + cables
    # arrow down from Find to the first match, on to the third, back up to the second
    page.keyboard.press("ArrowDown")
    assert _active(tab)["element"] == listed[0]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert _active(tab)["element"] == listed[1]
    page.keyboard.press("Tab")  # the matches are Tab stops too
    assert _active(tab)["element"] == listed[2]
    page.keyboard.press("Escape")  # back to Find, the text kept
    assert _active(tab)["id"] == "find-element"
    assert page.input_value("#find-element") == "f07-n12"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    chosen = _active(tab)["element"]
    assert chosen == listed[1]
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#panel[data-element='{chosen}']")
    elapsed = time.monotonic() - started
    index = int(chosen.split(":")[1])
    name = next(n for n, i in names.items() if i == index)  # a bus (listed before the cables)
    assert page.inner_text("#panel-title") == f"{chosen} - {name}"
    assert page.locator(f"svg#network .mark[data-element='{chosen}']").count() == 1
    # centred: the mark sits in the middle of the zoomed view
    box = page.locator("svg#network").bounding_box()
    mark = page.locator(f"svg#network .mark[data-element='{chosen}']").bounding_box()
    assert box is not None
    assert mark is not None
    assert abs(mark["x"] + mark["width"] / 2 - (box["x"] + box["width"] / 2)) < 0.1 * box["width"]
    assert (
        abs(mark["y"] + mark["height"] / 2 - (box["y"] + box["height"] / 2)) < 0.1 * box["height"]
    )
    # the panel's links are reachable too: the element's trends
    assert page.get_attribute("#panel-trends", "href") == f"/trends?element=bus%3A{index}"
    tab.screenshot("network-keyboard-find")
    assert elapsed < 60, f"the keyboard path took {elapsed:.1f} s"
    assert [e for e in tab.errors if e.startswith("page error")] == []


def test_a_name_matching_nothing_says_so(console: Console, open_tab: Callable[[], Tab]) -> None:
    tab = open_tab()
    login(tab, console, "viewer", "/network")
    page = tab.page
    page.wait_for_selector("svg#network[data-mode='classes']", state="attached")
    page.focus("#find-element")
    page.keyboard.type("nothing-like-this")
    page.locator("#find-count", has_text="no element matches").wait_for()
    assert page.locator("#find-matches button").count() == 0
    page.keyboard.press("ArrowDown")  # nothing to move to: the focus stays
    assert _active(tab)["id"] == "find-element"
    page.fill("#find-element", "F0")  # many: the first 20 listed, the count says so
    page.locator("#find-count", has_text="first 20 listed").wait_for()
    assert page.locator("#find-matches button").count() == 20
