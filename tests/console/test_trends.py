"""The trends page in Chromium (see conftest.py): Plotly from its pip package, an
element's state against its limits with the out-of-band value marked, a measurement
point's values, zoom, and the URL contract (``?element=``, ``?point=``)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

import httpx
import pytest

from tests.console.conftest import Console, Tab, login


@pytest.fixture(scope="module")
def console(shared_console: Console) -> Console:
    return shared_console


def _low_bus(console: Console) -> tuple[str, float, float]:
    """A bus whose stored state went below the standard's band (the pushed overload; other
    test files may push more intervals after it): (element, lowest value, lower limit)."""
    console.ensure_overload()
    alarmed = console.api("GET", "/alarms", "viewer", params={"all": "true", "element": "bus:*"})
    found = []
    for element in sorted({a["element"] for a in alarmed.json()["alarms"]}):
        h = console.api("GET", "/twin/history", "viewer", params={"element": element}).json()
        (band,) = [lim for lim in h["limits"] if lim["severity"] == "violation"]
        values = [v for v in h["estimated"]["value"] if v is not None]
        if values and min(values) < band["lower"]:
            found.append((min(values), element, band["lower"]))
    assert found, "the pushed overload leaves a bus below the band"
    value, element, limit = min(found)
    return element, value, limit


def _traces(tab: Tab) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = tab.page.locator("#trend-chart").evaluate(
        "d => d.data.map(t => ({name: t.name, kind: t.meta && t.meta.kind, x: t.x, y: t.y}))"
    )
    return data


def test_plotly_comes_from_the_installed_package(console: Console) -> None:
    r = httpx.get(console.url + "/console/static/vendor/plotly.min.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    bundled = (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    assert r.content == bundled
    page = httpx.get(console.url + "/trends")
    assert "/console/static/vendor/plotly.min.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_an_out_of_band_bus_is_plotted_against_its_limit(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    element, value, limit = _low_bus(console)
    tab = open_tab()
    login(tab, console, "viewer", f"/trends?element={element}")
    page = tab.page
    page.locator("#beyond-rows tr").first.wait_for(timeout=15_000)
    traces = _traces(tab)
    (estimated,) = [t for t in traces if t["kind"] == "estimated"]
    assert len(estimated["x"]) >= 5  # the first hour and the pushed interval
    assert min(estimated["y"]) == pytest.approx(value)
    lower = [t for t in traces if t["kind"] == "limit" and t["name"].startswith("lower")]
    assert any(t["y"][0] == pytest.approx(limit) for t in lower)
    (beyond,) = [t for t in traces if t["kind"] == "beyond"]
    assert pytest.approx(value) in beyond["y"]
    # the table names the value and the limit it is beyond
    row = page.locator("#beyond-rows tr", has_text="2016-01-01 01:00").first
    assert float(row.locator("td.value").inner_text()) == pytest.approx(value, rel=1e-4)
    assert float(row.locator("td.limit").inner_text()) == pytest.approx(limit, rel=1e-4)
    assert "violation" in row.inner_text()
    assert page.locator("#element-input").input_value() == element
    tab.screenshot("trends-bus-out-of-band")
    assert tab.errors == [], "\n".join(tab.errors)
    assert tab.failed_responses == []


def test_a_point_is_chosen_with_the_keyboard_and_zoomed(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    latest = console.api("GET", "/measurements/latest", "viewer").json()["values"]
    point = sorted(v["point_id"] for v in latest if v["point_id"].startswith("load:"))[0]
    tab = open_tab()
    login(tab, console, "operator", "/trends")
    page = tab.page
    page.locator(f"#point-select option[value='{point}']").wait_for(state="attached")
    page.focus("#point-select")
    page.select_option("#point-select", point)
    page.focus("#trend-show")
    page.keyboard.press("Enter")
    page.locator("#trend-title", has_text=point).wait_for(timeout=15_000)
    assert page.url.endswith(f"/trends?point={point.replace(':', '%3A')}")
    traces = _traces(tab)
    (measured,) = [t for t in traces if t["kind"] == "measured"]
    values = console.api(
        "GET",
        f"/points/{point}/measurements",
        "viewer",
        params={  # the page's window (other files may push intervals after the hour)
            "start": page.input_value("#trend-start") + "Z",
            "end": page.input_value("#trend-end") + "Z",
        },
    ).json()["values"]
    assert measured["y"] == [v["value"] for v in values]
    assert len(measured["y"]) >= 5

    def span_ms() -> float:
        s: float = page.locator("#trend-chart").evaluate(
            "d => { const [a, b] = d.layout.xaxis.range;"
            " return new Date(b.replace(' ', 'T') + 'Z') - new Date(a.replace(' ', 'T') + 'Z'); }"
        )
        return s

    before = span_ms()
    page.focus("#zoom-in")
    page.keyboard.press("Enter")
    page.wait_for_timeout(200)
    assert span_ms() == pytest.approx(before / 2, rel=0.01)
    page.click("#zoom-reset")
    page.wait_for_timeout(200)
    assert span_ms() == pytest.approx(before, rel=0.01)
    tab.screenshot("trends-point")
    assert tab.errors == []
    assert tab.failed_responses == []
