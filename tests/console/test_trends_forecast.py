"""The trends page's forecast in Chromium (see conftest.py), on the shared server: the fan
(median, 25-75 % and 5-95 % bands) of ``GET /points/{id}/forecast`` beside the measured
and estimated series, labelled with its method, fallback and issue time.

The shared server's store holds about an hour of the twin (as the demo does in its first
minute: it replays one 15-min interval a second from an empty store), far below the 14 days
LightGBM needs, so the forecast is the stated ``profile`` fallback, and the label says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.console.conftest import Console, Tab, login


@pytest.fixture(scope="module")
def console(shared_console: Console) -> Console:
    return shared_console


def _traces(tab: Tab) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = tab.page.locator("#trend-chart").evaluate(
        "d => d.data.map(t => ({name: t.name, kind: t.meta && t.meta.kind, x: t.x, y: t.y,"
        " levels: t.meta && t.meta.levels}))"
    )
    return data


def _plot_time(iso: str) -> str:
    return iso.replace("T", " ").removesuffix("Z")


def _check_fan(tab: Tab, forecast: dict[str, Any]) -> None:
    traces = _traces(tab)
    (median,) = [t for t in traces if t["kind"] == "forecast"]
    assert median["x"] == [_plot_time(t) for t in forecast["time_utc"]]
    by_level = {q["level"]: q["value"] for q in forecast["quantiles"]}
    assert median["y"] == pytest.approx(by_level[0.5])
    assert len(median["y"]) == 96
    assert all(v is not None for v in median["y"])
    bands = {tuple(t["levels"]): t for t in traces if t["kind"] == "forecast-band"}
    assert set(bands) == {(0.05, 0.95), (0.25, 0.75)}
    for (lo, hi), band in bands.items():  # a closed polygon: the lower edge, the upper back
        assert band["y"] == pytest.approx(by_level[lo] + by_level[hi][::-1])
    # the x axis reaches the forecast's end
    end = tab.page.locator("#trend-chart").evaluate("d => d.layout.xaxis.range[1]")
    assert str(end) >= median["x"][-1]


def test_an_elements_state_has_its_forecast_fan_labelled_with_the_fallback(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    console.ensure_overload()
    element = "bus:1"
    history = console.api("GET", "/twin/history", "viewer", params={"element": element}).json()
    point = history["estimated"]["point_id"]
    assert point == "twin:bus:1:vm"
    forecast = console.api(
        "GET", f"/points/{point}/forecast", "viewer", params={"issued": history["end_utc"]}
    ).json()
    assert forecast["method"] == "profile"
    assert forecast["fallback"].startswith("short: 0.1 days of history, 14 needed")
    tab = open_tab()
    login(tab, console, "viewer", f"/trends?element={element}")
    page = tab.page
    label = page.locator("#forecast-label[data-method]")
    label.wait_for(timeout=20_000)
    assert label.get_attribute("data-method") == "profile"
    text = label.inner_text()
    assert f"issued {_plot_time(forecast['issue_utc'])[:16]}" in text
    assert "fell back from gbm: short: 0.1 days of history, 14 needed" in text
    assert "kept from an earlier request" in text  # the page's request did not retrain
    page.locator("#trend-title", has_text=element).wait_for()
    _check_fan(tab, forecast)
    # the estimated series is still there beside it
    assert [t for t in _traces(tab) if t["kind"] == "estimated"]
    tab.screenshot("trends-forecast-element")
    assert tab.errors == [], "\n".join(tab.errors)
    assert tab.failed_responses == []


def test_a_measured_point_has_its_forecast_fan(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    latest = console.api("GET", "/measurements/latest", "viewer").json()["values"]
    point = sorted(v["point_id"] for v in latest if re.fullmatch(r"load:\d+:p", v["point_id"]))[-1]
    tab = open_tab()
    login(tab, console, "viewer", f"/trends?point={point}")
    page = tab.page
    page.locator("#forecast-label[data-method]").wait_for(timeout=20_000)
    page.locator("#trend-title", has_text=point).wait_for()
    end = page.input_value("#trend-end") + ":00Z"
    forecast = console.api(
        "GET", f"/points/{point}/forecast", "viewer", params={"issued": end}
    ).json()
    assert forecast["cached"] is True  # the page's own, kept
    assert forecast["unit"] == "kW"
    assert forecast["method"] in ("profile", "constant")
    assert page.locator("#forecast-label").get_attribute("data-method") == forecast["method"]
    _check_fan(tab, forecast)
    assert [t for t in _traces(tab) if t["kind"] == "measured"]
    tab.screenshot("trends-forecast-point")
    assert tab.errors == [], "\n".join(tab.errors)
    assert tab.failed_responses == []
