"""The operator console in Debian's Chromium over a real server (see conftest.py).

In file order (one module-wide server): the pages load without console errors; an
overload pushed through ``POST /measurements`` appears in the open alarm list within
2 s of the push; an operator acknowledges an alarm, a viewer's attempt is refused by the
API and the page says so; the network view colours the bus that is out of band.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.console.conftest import Console, Tab, login, wait_live

PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def test_pages_are_html_shells_without_data(console: Console) -> None:
    import httpx

    for path in ("/login", "/alarms", "/network"):
        r = httpx.get(console.url + path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "line-loading" not in r.text
        assert "bus:" not in r.text
    assert httpx.get(console.url + "/", follow_redirects=False).headers["location"] == "/alarms"
    missing = httpx.get(console.url + "/console/static/nothing.js")
    assert missing.status_code == 404
    assert "console.js" in missing.json()["detail"]


def test_each_page_loads_without_console_errors(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    tab.page.goto(console.url + "/login")
    tab.page.wait_for_selector("#login-form")
    tab.screenshot("login")
    login(tab, console, "operator", "/alarms")
    wait_live(tab)
    tab.page.wait_for_selector("#health dt")
    tab.screenshot("alarms-before")
    tab.page.click("nav >> text=Network")
    tab.page.wait_for_selector("svg#network circle.bus.band-ok")
    assert tab.page.locator("svg#network circle.bus").count() > 40
    assert tab.page.locator("svg#network path.line").count() > 40
    tab.screenshot("network-before")
    assert tab.errors == []
    assert tab.failed_responses == []
    # log-out forgets the token: the next page asks for a login again
    tab.page.click("#logout")
    tab.page.wait_for_url("**/login")
    assert tab.page.evaluate("sessionStorage.getItem('gridtwin.token')") is None
    tab.page.goto(console.url + "/network")
    tab.page.wait_for_url("**/login?next=%2Fnetwork")


def test_an_overload_pushed_through_the_api_appears_in_the_alarm_list_within_2s(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    assert console.pushed == []  # the first push of this server (the tests run in file order)
    tab = open_tab()
    login(tab, console, "viewer", "/alarms")
    page = tab.page
    wait_live(tab)
    assert page.locator("#alarm-rows tr").count() == 0
    t0 = time.monotonic()
    console.push_overload()
    page.wait_for_selector("#alarm-rows tr[data-state='unacknowledged']", timeout=10_000)
    elapsed_s = time.monotonic() - t0
    assert elapsed_s < 2.0, f"the alarm took {elapsed_s:.2f} s to appear"
    # sorted by priority (then newest first)
    page.wait_for_timeout(300)  # the list settles once the events of the interval are in
    ranks = [PRIORITY_RANK[p] for p in page.locator("#alarm-rows td.priority").all_inner_texts()]
    assert ranks == sorted(ranks)
    assert len(ranks) >= 2
    listed = set(
        page.locator("#alarm-rows tr").evaluate_all("rs => rs.map(r => r.dataset.instance)")
    )
    api = console.api("GET", "/alarms", "viewer").json()["alarms"]
    assert listed == {a["instance_id"] for a in api if a["state"] != "normal"}
    tab.screenshot("alarms-overload")
    assert tab.errors == []


def test_an_operator_acknowledges_an_alarm(console: Console, open_tab: Callable[[], Tab]) -> None:
    console.ensure_overload()
    tab = open_tab()
    login(tab, console, "operator", "/alarms")
    row = tab.page.locator("#alarm-rows tr[data-state='unacknowledged']").first
    instance = row.get_attribute("data-instance")
    assert instance
    row.locator("button[data-action='acknowledge']").click()
    done = tab.page.locator(f"#alarm-rows tr[data-instance='{instance}']")
    done.and_(tab.page.locator("[data-state='acknowledged']")).wait_for(timeout=5_000)
    assert "acknowledge of" in tab.page.inner_text("#message")
    (alarm,) = [
        a
        for a in console.api("GET", "/alarms", "viewer").json()["alarms"]
        if a["instance_id"] == instance
    ]
    assert alarm["state"] == "acknowledged"
    events = console.api("GET", "/alarms/events", "viewer").json()["events"]
    assert [e["user"] for e in events if e["instance_id"] == instance][-1] == "operator"
    assert tab.errors == []


def test_a_viewer_cannot_acknowledge_and_the_page_says_so(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    console.ensure_overload()
    tab = open_tab()
    login(tab, console, "viewer", "/alarms")
    row = tab.page.locator("#alarm-rows tr[data-state='unacknowledged']").first
    instance = row.get_attribute("data-instance")
    # the page disables the button and says why; the API refuses the request anyway
    button = row.locator("button[data-action='acknowledge']")
    assert button.is_disabled()
    assert "operator role" in (button.get_attribute("title") or "")
    assert "may look but not act" in tab.page.inner_text("#role-hint")
    status = tab.page.evaluate(
        """async (id) => (await fetch('/api/v1/alarms/' + encodeURIComponent(id) + '/acknowledge',
            {method: 'POST', headers: {'Content-Type': 'application/json',
             Authorization: 'Bearer ' + sessionStorage.getItem('gridtwin.token')},
             body: '{}'})).status""",
        instance,
    )
    assert status == 403
    tab.screenshot("alarms-viewer-refused")
    (alarm,) = [
        a
        for a in console.api("GET", "/alarms", "viewer").json()["alarms"]
        if a["instance_id"] == instance
    ]
    assert alarm["state"] == "unacknowledged"
    # the only console errors: Chromium's own line for the refused request
    assert tab.failed_responses == [403]
    assert all("403" in e for e in tab.errors)
    assert len(tab.errors) == 1


def test_the_network_view_colours_the_bus_out_of_band(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    console.ensure_overload()
    checks = console.api("GET", "/twin/checks", "viewer").json()
    low = {
        v["element"]
        for v in checks["violations"]
        if v["quantity"] == "vm_pu" and v["severity"] == "violation"
    }
    assert low  # the overload's feeder end is below the band
    tab = open_tab()
    login(tab, console, "viewer", "/network")
    page = tab.page
    page.wait_for_selector("svg#network circle[data-band='violation']")
    drawn = set(
        page.locator("svg#network circle[data-band='violation']").evaluate_all(
            "cs => cs.map(c => c.dataset.element)"
        )
    )
    assert drawn == low
    bus = sorted(low)[0]
    fill = page.locator(f"svg#network circle[data-element='{bus}']").evaluate(
        "c => getComputedStyle(c).fill"
    )
    assert fill == "rgb(198, 40, 40)"  # the stylesheet's out-of-band red
    alarmed = set(
        page.locator("svg#network .alarmed").evaluate_all("xs => xs.map(x => x.dataset.element)")
    )
    active = {a["element"] for a in console.api("GET", "/alarms", "viewer").json()["alarms"]}
    assert alarmed == active
    assert bus in alarmed
    assert page.locator("svg#network path.line-violation").count() > 0
    tab.screenshot("network-overload")
    assert tab.errors == []
