"""The report's layout: every PDF table within its page, no heading left alone at the
foot of a page, plotly.js loaded once in the HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gridtwin.quality import assess, build_report, read_measurements
from gridtwin.quality import report as report_module
from tests.quality.test_assessment import GOLDEN_VERDICTS, MSK, golden_week_csv
from tests.quality.test_report import parse

GOST = "GOST 32144-2013"
_HEADINGS = (
    "Indicator verdicts",
    "Events",
    "Data availability",
    "Limits applied",
    "Summary",
    "Feeders",
    "Points of delivery",
    "Notes",
)


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("golden") / "week.csv"
    golden_week_csv(path)
    return assess(read_measurements(path), GOST, timezone=MSK)


def test_html_loads_plotly_once(golden: Any, tmp_path: Path) -> None:
    html = build_report(golden).to_html()
    # 6 points: 12 figures and 3 feeder figures would be 15 copies if loaded per chart
    assert html.count("<div class='plot'") >= 2 * len(GOLDEN_VERDICTS)
    assert html.count("Plotly.newPlot(") == 1  # one render loop for all figures
    assert html.count("plotly.js v") == 1
    assert len(html.encode()) < 6_000_000


@pytest.mark.skipif(
    report_module.find_browser() is None,
    reason="no headless Chromium (apt-get install chromium-headless-shell)",
)
def test_pdf_tables_fit_the_page_and_headings_keep_with_their_tables(
    golden: Any, tmp_path: Path
) -> None:
    pdfplumber = pytest.importorskip("pdfplumber")
    out = build_report(golden, feeders={"ok": "F1", "over": "F1"}).write(tmp_path / "r.pdf")
    rules = readable = 0
    with pdfplumber.open(out) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            width, height = float(page.width), float(page.height)
            # every drawn table border and every character lies within the page box
            for kind in ("rects", "lines", "chars"):
                for obj in getattr(page, kind):
                    x0, x1 = float(obj["x0"]), float(obj["x1"])
                    assert x0 >= -0.5, f"page {number}: a {kind[:-1]} starts left of the page"
                    assert x1 <= width + 0.5, (
                        f"page {number}: a {kind[:-1]} at x {x0:.1f}..{x1:.1f} leaves the "
                        f"page (width {width:.1f} pt)"
                    )
                    assert float(obj["bottom"]) <= height + 0.5, f"page {number}: below the page"
            lines = [
                ln["text"].strip()
                for ln in page.extract_text_lines()
                if ln["text"].strip() and ln["chars"][0]["upright"]
            ]
            assert lines, f"page {number} is blank"
            # the last line of a page is never a heading whose content starts on the next
            last = lines[-1]
            assert last not in _HEADINGS, f"page {number} ends with heading {last!r}"
            assert not last.startswith(("Point ", "Feeder ")), f"page {number} ends with {last!r}"
            rules += sum(ln.endswith("Rule") for ln in lines)
            # the Rule column is wide enough to read: a rule's words stay on one line
            readable += sum("N2 > 0: a valid interval" in ln for ln in lines)
    # the "Rule" column (why a point failed) is printed in every verdict table
    assert rules >= len(GOLDEN_VERDICTS)
    assert readable >= 1


def test_failing_indicators_other_than_voltage_are_plotted(golden: Any) -> None:
    # the golden week: "thdfail" fails THD (GOST 32144 4.2.4: 8 % share, 12 % maximum)
    html = build_report(golden).to_html()
    page = parse(html)
    fig = page.figures["indicator-thd-thdfail"]
    limits = {t["meta"]["value"] for t in fig["data"] if "meta" in t}
    assert {8.0, 12.0} <= limits
    values = [v for t in fig["data"] if "meta" not in t for v in t["y"] if v is not None]
    assert max(values) > 8.0  # the values beyond the share limit are drawn
    # points that pass get no such figure
    assert not [k for k in page.figures if k.startswith("indicator-") and k.endswith("-ok")]
