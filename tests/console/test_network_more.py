"""The network view's click-through, highlight and large-grid drawing in Chromium (see
conftest.py): an element clicked (or Enter on it) shows its data, newest value and
measurement points in the side panel, with the link to its trends; ``?highlight=`` opens
one; drawn one path per colour class (as for the 9,099-bus grid), a click at an element
still finds it, and the classes colour the same buses as the checks."""

from __future__ import annotations

from collections.abc import Callable

from tests.console.conftest import Console, Tab, login


def test_clicking_a_bus_shows_its_data_and_points(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    state = console.api("GET", "/twin/state", "viewer").json()
    topo = console.api("GET", "/model/topology", "viewer").json()
    load = topo["loads"][-1]
    bus = f"bus:{load['bus']}"
    tab = open_tab()
    login(tab, console, "viewer", "/network")
    page = tab.page
    page.wait_for_selector("svg#network circle.bus.band-ok")
    page.locator(f"svg#network circle[data-element='{bus}']").click()
    panel = page.locator("#panel")
    panel.wait_for(state="visible")
    assert panel.get_attribute("data-element") == bus
    assert page.inner_text("#panel-title").startswith(bus)
    now = page.inner_text("#panel-now")
    assert f"{state['bus_vm_pu'][str(load['bus'])]:.4f} pu" in now
    points = page.locator("#panel-points a").evaluate_all("as => as.map(a => a.dataset.point)")
    assert f"load:{load['id']}:p" in points  # the bus's load's meter
    href = page.locator(f"#panel-points a[data-point='load:{load['id']}:p']").get_attribute("href")
    assert href == f"/trends?point=load%3A{load['id']}%3Ap"
    trends = page.get_attribute("#panel-trends", "href")
    assert trends == f"/trends?element={bus.replace(':', '%3A')}"
    assert page.locator(f"svg#network .mark[data-element='{bus}']").count() == 1
    tab.screenshot("network-panel-bus")
    # the keyboard: focus a line, Enter
    line = page.locator("svg#network path.line[data-element='line:3']")
    line.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel[data-element='line:3']")
    loading = state["line_loading_percent"]["3"]
    assert f"{loading:.1f} % loading" in page.inner_text("#panel-now")
    assert "max_i_ka" in (page.locator("#panel-data").text_content() or "")
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert tab.errors == []


def test_highlight_opens_the_element(console: Console, open_tab: Callable[[], Tab]) -> None:
    tab = open_tab()
    login(tab, console, "viewer", "/network")
    page = tab.page
    page.goto(console.url + "/network?highlight=trafo:0")  # a link from another page
    page.wait_for_selector("#panel[data-element='trafo:0']")
    assert page.locator("svg#network .mark[data-element='trafo:0']").count() == 1
    assert "sn_mva" in (page.locator("#panel-data").text_content() or "")
    assert tab.errors == []


def test_drawn_by_class_a_click_still_finds_the_element(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    checks = console.api("GET", "/twin/checks", "viewer").json()
    tab = open_tab()
    login(tab, console, "viewer", "/network")
    page = tab.page
    page.goto(console.url + "/network?draw=classes")
    page.wait_for_selector("svg#network[data-drawn-ms][data-mode='classes']")
    page.wait_for_selector("svg#network path.dots.band-ok")
    svg = page.locator("svg#network")
    assert svg.locator("*").count() < 40  # a few paths, not one node per element
    assert svg.locator("circle.bus").count() == 0
    # the classes: as many band-violation dots as buses the checks find out of band
    low = {
        v["element"]
        for v in checks["violations"]
        if v["quantity"] == "vm_pu" and v["severity"] == "violation"
    }
    dots = svg.locator("path.dots.band-violation")
    if low:
        assert dots.get_attribute("d").count("h0") == len(low)
    else:
        assert dots.count() == 0
    # find by id, then click at the mark's place: the hit test finds the same bus
    page.fill("#find-element", "bus:7")
    # the list of matches opens under Find (debounced) and moves the drawing down: wait
    # for it before measuring where the mark is
    page.wait_for_selector("#find-results button[data-element='bus:7']")
    page.press("#find-element", "Enter")
    page.wait_for_selector("#panel[data-element='bus:7']")
    box = page.locator("svg#network .mark[data-element='bus:7']").bounding_box()
    assert box is not None
    page.click("#panel-close")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#panel[data-element='bus:7']")
    tab.screenshot("network-classes")
    # zoom in with the button: the view box narrows
    before = svg.get_attribute("viewBox")
    page.click("#zoom-in")
    after = svg.get_attribute("viewBox")
    assert float(after.split()[2]) < float(before.split()[2])
    assert tab.errors == []
