"""The alarm list's actions and the alarm history in Chromium (see conftest.py), on the
shared server with the pushed overload: buttons a viewer may not use are disabled and
the API still refuses them; an operator's comment appears in the history with who and
when; shelving for a chosen duration and one-shot; the history's filters are the API's;
a latched alarm is reset (the shared server's line overload latches)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from tests.console.conftest import LATCHING_RULE, Console, Tab, login, wait_live


@pytest.fixture(scope="module")
def console(shared_console: Console) -> Console:
    return shared_console


def _alarm(console: Console, instance: str) -> dict[str, Any]:
    r = console.api("GET", "/alarms", "viewer", params={"all": "true"})
    (alarm,) = [a for a in r.json()["alarms"] if a["instance_id"] == instance]
    return alarm


def _events(console: Console, **params: str) -> list[dict[str, Any]]:
    r = console.api("GET", "/alarms/events", "viewer", params={"limit": "10000", **params})
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


def _voltage_row(tab: Tab, n: int = 0) -> Any:
    """The n-th open, unshelved alarm of a customer-voltage rule (not the latching line
    rule)."""
    rows = tab.page.locator(
        "#alarm-rows tr[data-instance]:not([data-state='shelved'])", has_text="customer-voltage"
    )
    rows.first.wait_for()
    return rows.nth(n)


def test_a_viewer_sees_disabled_buttons_and_the_api_still_refuses(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    login(tab, console, "viewer", "/alarms")
    page = tab.page
    wait_live(tab)
    page.locator("#alarm-rows tr[data-instance]").first.wait_for()
    buttons = page.locator("#alarm-rows button")
    assert buttons.count() > 0
    assert all(b.is_disabled() for b in buttons.all())
    assert "operator role" in (buttons.first.get_attribute("title") or "")
    assert page.locator("#role-hint").is_visible()
    instance = page.locator("#alarm-rows tr[data-instance]").first.get_attribute("data-instance")
    # the same request with the page's own token: the API refuses it
    status = page.evaluate(
        """async (id) => (await fetch('/api/v1/alarms/' + encodeURIComponent(id) + '/comment', {
            method: 'POST',
            headers: {'Content-Type': 'application/json',
                      Authorization: 'Bearer ' + sessionStorage.getItem('gridtwin.token')},
            body: JSON.stringify({text: 'viewer was here'})})).status""",
        instance,
    )
    assert status == 403
    assert _events(console, kind="comment", by="viewer") == []
    tab.screenshot("alarms-viewer-disabled")
    assert tab.failed_responses == [403]
    assert all("403" in e for e in tab.errors)


def test_an_operators_comment_appears_in_the_history_with_who_and_when(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    login(tab, console, "operator", "/alarms")
    page = tab.page
    row = _voltage_row(tab)
    instance = row.get_attribute("data-instance")
    assert instance
    row.locator("button[data-action='comment']").click()
    form = page.locator(f"tr.alarm-form[data-for='{instance}']")
    form.locator("input[name='text']").fill("crew sent to the feeder end")
    form.locator("input[name='text']").press("Enter")
    page.locator("#message", has_text=f"comment of {instance} done").wait_for(timeout=5_000)
    (event,) = _events(console, kind="comment", instance_id=instance)
    assert event["user"] == "operator"
    # the element links to the alarm's history
    page.locator(f"#alarm-rows tr[data-instance='{instance}'] a").click()
    page.wait_for_url("**/alarms/history?instance_id=*")
    line = page.locator("#hist-event-rows tr[data-kind='comment']")
    line.wait_for(timeout=5_000)
    assert line.locator("td.who").inner_text() == "operator"
    assert line.locator("td.text").inner_text() == "crew sent to the feeder end"
    when = pd.Timestamp(line.locator("td.when").inner_text(), tz="UTC")
    assert when == pd.Timestamp(event["time_utc"]).floor("min")
    shown = page.locator("#hist-event-rows tr").count()
    assert shown == len(_events(console, instance_id=instance))
    tab.screenshot("alarm-history-comment")
    assert tab.errors == []
    assert tab.failed_responses == []


def test_shelve_one_shot_then_for_a_chosen_duration(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    tab = open_tab()
    login(tab, console, "operator", "/alarms")
    page = tab.page
    row = _voltage_row(tab)
    instance = str(row.get_attribute("data-instance"))
    assert _alarm(console, instance)["condition_active"]
    # one-shot (the condition is active); the durations offered stop at the maximum
    row.locator("button[data-action='shelve']").click()
    form = page.locator(f"tr.alarm-form[data-for='{instance}']")
    offered = form.locator("select option").evaluate_all("os => os.map(o => Number(o.value))")
    assert max(offered) == 28800
    form.locator("input[type='checkbox']").check()
    form.locator("input[name='text']").fill("until it clears")
    form.locator("button[data-action='shelve-submit']").click()
    shelved = page.locator(f"#alarm-rows tr[data-instance='{instance}'][data-state='shelved']")
    shelved.locator("td.state", has_text="one-shot").wait_for()
    assert _alarm(console, instance)["one_shot"] is True
    shelved.locator("button[data-action='unshelve']").click()
    page.locator(
        f"#alarm-rows tr[data-instance='{instance}']:not([data-state='shelved'])"
    ).wait_for()
    # then for a chosen 2 h
    row = page.locator(f"#alarm-rows tr[data-instance='{instance}']")
    row.locator("button[data-action='shelve']").click()
    form = page.locator(f"tr.alarm-form[data-for='{instance}']")
    form.locator("select").select_option("7200")
    form.locator("input[name='text']").fill("switching in progress")
    form.locator("button[data-action='shelve-submit']").click()
    page.locator(f"#alarm-rows tr[data-instance='{instance}'][data-state='shelved']").wait_for()
    alarm = _alarm(console, instance)
    assert alarm["one_shot"] is False
    ev = _events(console, kind="shelved", instance_id=instance)[-1]
    until = pd.Timestamp(alarm["shelved_until_utc"]) - pd.Timestamp(ev["time_utc"])
    assert until == pd.Timedelta("2h")
    assert ev["user"] == "operator"
    assert ev["reason"] == "switching in progress"
    tab.screenshot("alarms-shelved")
    assert tab.errors == []


def test_the_history_filters_are_the_apis(console: Console, open_tab: Callable[[], Tab]) -> None:
    tab = open_tab()
    login(tab, console, "viewer", "/alarms/history")
    page = tab.page
    page.locator("#hist-event-rows tr").first.wait_for()
    page.check("input[name='priority'][value='high']")
    page.select_option("select[name='kind']", "activated")
    page.fill("input[name='since']", "2016-01-01T00:30")
    page.focus("#apply-filters")
    page.keyboard.press("Enter")
    page.wait_for_url("**/alarms/history?priority=high&kind=activated&since=*")
    expected = _events(console, priority="high", kind="activated", since="2016-01-01T00:30Z")
    assert expected
    rows = page.locator("#hist-event-rows tr")
    page.locator("#hist-event-count", has_text=str(len(expected))).wait_for()
    assert rows.count() == len(expected)
    assert set(page.locator("#hist-event-rows td.kind").all_inner_texts()) == {"activated"}
    alarms = console.api(
        "GET", "/alarms", "viewer", params={"all": "true", "priority": "high"}
    ).json()["alarms"]
    assert page.locator("#hist-alarm-rows tr").count() == len(alarms)
    assert set(page.locator("#hist-alarm-rows td.priority").all_inner_texts()) == {"high"}
    tab.screenshot("alarm-history-filtered")
    assert tab.errors == []


def test_a_latched_alarm_is_reset(console: Console, open_tab: Callable[[], Tab]) -> None:
    # the next interval back to normal: the overloaded line's alarm latches
    before = console.intervals()
    console.push_overload(ts="2016-01-01T01:15Z", hot_kw=1.0)
    deadline = time.monotonic() + 30
    while console.intervals() <= before:
        assert time.monotonic() < deadline, "the twin did not update the pushed interval"
        time.sleep(0.05)
    tab = open_tab()
    login(tab, console, "operator", "/alarms")
    page = tab.page
    row = page.locator("#alarm-rows tr[data-state='latched']", has_text=LATCHING_RULE).first
    row.wait_for(timeout=10_000)
    instance = row.get_attribute("data-instance")
    assert row.locator("button").first.get_attribute("data-action") == "reset"
    row.locator("button[data-action='reset']").click()
    page.locator(f"#alarm-rows tr[data-instance='{instance}']").wait_for(state="detached")
    assert _alarm(console, str(instance))["state"] == "normal"
    (ev,) = _events(console, kind="reset", instance_id=str(instance))
    assert ev["user"] == "operator"
    assert tab.errors == []
