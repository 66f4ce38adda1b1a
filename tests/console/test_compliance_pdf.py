"""The compliance page's power-quality report as PDF in Chromium (see conftest.py), on the
shared server: an analyst downloads it with the keyboard; it is a real PDF (pages, the
point and the verdict the API's JSON gives); a viewer's PDF button is disabled."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.console.conftest import PQ_POINT, Console, Tab, login


@pytest.fixture(scope="module")
def console(shared_console: Console) -> Console:
    return shared_console


def pdf_text(data: bytes) -> tuple[int, str]:
    """Pages and text of a PDF (pypdf)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    text = " ".join(p.extract_text() or "" for p in reader.pages)
    # lines wrapped by the page joined; the fonts' ligatures (U+FB03 in "insufficient") undone
    return len(reader.pages), unicodedata.normalize("NFKC", " ".join(text.split()))


def test_an_analyst_downloads_the_quality_report_as_pdf(
    console: Console, open_tab: Callable[[], Tab]
) -> None:
    rep = console.api("GET", "/twin/compliance", "viewer").json()
    tab = open_tab()
    login(tab, console, "analyst", "/compliance")
    page = tab.page
    page.locator(f"#report-points option[value='{PQ_POINT}']").wait_for(state="attached")
    page.select_option("#report-points", PQ_POINT)
    page.focus("#report-pdf")
    with page.expect_download(timeout=120_000) as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename == f"quality-report-{rep['week']}.pdf"
    data = Path(download.path()).read_bytes()
    assert data[:5] == b"%PDF-"
    pages, text = pdf_text(data)
    assert pages >= 1
    # the same assessment as JSON: its verdict for the point is the PDF's
    body = {
        "standard": rep["standard"],
        "voltage_level": "LV",
        "timezone": rep["timezone"],
        "point_ids": [PQ_POINT],
        "start_utc": rep["start_utc"],
        "end_utc": rep["end_utc"],
        "nominal_v": 230,
    }
    js = console.api("POST", "/quality/assessments", "analyst", json=body).json()
    (point,) = js["points"]
    assert PQ_POINT in text
    assert point["verdict"] in text
    page.locator("#report-status", has_text="PDF report of 1 point(s) downloaded").wait_for()
    assert tab.errors == []
    assert tab.failed_responses == []


def test_a_viewers_pdf_button_is_disabled(console: Console, open_tab: Callable[[], Tab]) -> None:
    tab = open_tab()
    login(tab, console, "viewer", "/compliance")
    page = tab.page
    button = page.locator("#report-pdf")
    page.locator("#report-status", has_text="analyst role").wait_for()
    assert button.is_disabled()
    assert "analyst role" in (button.get_attribute("title") or "")
