"""The compliance page in Chromium (see conftest.py), on the shared server with the
pushed overload: the week's verdicts per feeder and per customer bus as the API gives
them, the bus below the band violated, filters, and the power-quality module's HTML
report of a measured point through the quality route (analyst; a viewer's button is
disabled)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.console.conftest import PQ_POINT, Console, Tab, login


@pytest.fixture(scope="module")
def console(shared_console: Console) -> Console:
    return shared_console


def test_the_weeks_verdicts_per_feeder_and_customer(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    console.ensure_overload()
    rep = console.api("GET", "/twin/compliance", "viewer").json()
    # the overload's bus went below the 100 % band: counted in N2 (the week's verdict
    # waits for enough intervals: a twin of one hour has too few)
    low = min(
        (c for c in rep["customers"] if c["worst_vm_pu"] is not None),
        key=lambda c: c["worst_vm_pu"],
    )
    assert low["n2"] >= 1
    tab = open_tab()
    login(tab, console, "viewer", "/compliance")
    page = tab.page
    page.locator("#customer-rows tr").first.wait_for()
    assert page.locator("#feeder-rows tr").count() == len(rep["feeders"])
    assert page.locator("#customer-rows tr").count() == len(rep["customers"])
    for f in rep["feeders"]:
        row = page.locator(f"#feeder-rows tr[data-feeder='{f['feeder']}']")
        assert row.get_attribute("data-verdict") == f["verdict"]
    shown = dict(
        page.locator("#customer-rows tr").evaluate_all(
            "rs => rs.map(r => [Number(r.dataset.bus), r.dataset.verdict])"
        )
    )
    assert shown == {c["bus"]: c["verdict"] for c in rep["customers"]}
    bus = low["bus"]
    cells = page.locator(f"#customer-rows tr[data-bus='{bus}'] td").all_inner_texts()
    assert cells[0] == f"bus:{bus}"
    assert int(cells[9]) == low["n2"]
    assert float(cells[10]) == pytest.approx(low["worst_vm_pu"], abs=5e-4)
    assert rep["standard"] in page.inner_text("#compliance-summary")
    # only the buses not compliant (all of them while the data are insufficient)
    page.check("#only-problems")
    assert page.locator("#customer-rows tr").count() == sum(
        not c["verdict"].startswith("compliant") for c in rep["customers"]
    )
    # the bus links to its trend
    link = page.locator(f"#customer-rows tr[data-bus='{bus}'] a")
    assert link.get_attribute("href") == f"/trends?element=bus:{bus}"
    # the report needs the analyst role: disabled for a viewer
    button = page.locator("#report-html")
    assert button.is_disabled()
    assert "analyst role" in (button.get_attribute("title") or "")
    tab.screenshot("compliance")
    assert tab.errors == []
    assert tab.failed_responses == []


def test_an_analyst_downloads_the_quality_report(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    rep = console.api("GET", "/twin/compliance", "viewer").json()
    tab = open_tab()
    login(tab, console, "analyst", "/compliance")
    page = tab.page
    page.locator(f"#report-points option[value='{PQ_POINT}']").wait_for(state="attached")
    offered = page.locator("#report-points option").evaluate_all("os => os.map(o => o.value)")
    assert not any(p.startswith("twin:") for p in offered)
    page.select_option("#report-points", PQ_POINT)
    page.focus("#report-html")
    with page.expect_download(timeout=60_000) as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename == f"quality-report-{rep['week']}.html"
    html = Path(download.path()).read_text(encoding="utf-8")
    assert "<html" in html[:500].lower()
    assert PQ_POINT in html
    assert rep["standard"].split()[0] in html
    page.locator("#report-status", has_text="downloaded").wait_for()
    tab.screenshot("compliance-report")
    assert tab.errors == []
    assert tab.failed_responses == []
