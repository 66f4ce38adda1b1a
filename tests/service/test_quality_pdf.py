"""``POST /quality/assessments?format=pdf``: the power-quality report printed by the
server's headless Chromium (the quality module's own ``write_pdf``), a real PDF with the
verdicts the JSON and the HTML give.

The values are a week of 10-min phase voltages written here for two points: ``steady``
at 228 V, and ``surge`` with an hour at 262 V (+14 % of 230 V, beyond the 10 % band: the
week fails), as a 10-min PQ meter's aggregates (IEC 61000-4-30) look.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gridtwin.quality.report import find_browser
from gridtwin.service.settings import ServiceSettings
from tests.service.conftest import ROLES, Api, add_users, issue_tokens, make_store, running

pytestmark = pytest.mark.skipif(
    find_browser() is None, reason="no headless Chromium: run scripts/sysdeps-chromium.sh"
)


def _week() -> list[dict[str, Any]]:
    times = pd.date_range("2025-06-02T00:00Z", periods=1008, freq="10min")
    rows = []
    for point, high in (("steady", None), ("surge", range(500, 506))):
        for i, t in enumerate(times):
            value = 262.0 if high is not None and i in high else 228.0
            rows.append(
                {
                    "time_utc": t.isoformat(),
                    "point_id": point,
                    "indicator": "voltage",
                    "phase": "a",
                    "value": value,
                }
            )
    return rows


@pytest.fixture(scope="module")
def pq_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder: Path = tmp_path_factory.mktemp("pq-pdf")
    settings = ServiceSettings(store=make_store(folder))
    add_users(settings, {r.value: r for r in ROLES})
    with running(settings) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        yield api


def _pdf_text(data: bytes) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    return len(reader.pages), unicodedata.normalize("NFKC", text)  # ligatures undone


def _verdict_words(text: str, point: str) -> list[str]:
    """The verdict words (pass, fail, ...) on the lines that name ``point``."""
    words = ("pass", "fail", "insufficient")
    return sorted(
        {
            w
            for line in text.splitlines()
            if re.search(rf"\b{point}\b", line)
            for w in words
            if w in line
        }
    )


def test_the_pdf_is_a_real_pdf_with_the_verdicts_of_the_json_and_html(pq_api: Api) -> None:
    body = {"timezone": "UTC", "nominal_v": 230.0, "values": _week()}
    js = pq_api.post("/api/v1/quality/assessments", json=body, as_="analyst")
    assert js.status_code == 200, js.text
    verdicts = {p["point_id"]: p["verdict"] for p in js.json()["points"]}
    assert verdicts == {"steady": "pass", "surge": "fail"}
    html = pq_api.post("/api/v1/quality/assessments?format=html", json=body, as_="analyst")
    pdf = pq_api.post("/api/v1/quality/assessments?format=pdf", json=body, as_="analyst")
    assert pdf.status_code == 200, pdf.text[:500]
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="quality-report.pdf"' in pdf.headers["content-disposition"]
    assert pdf.content[:5] == b"%PDF-"
    pages, text = _pdf_text(pdf.content)
    assert pages >= 1
    # the HTML's table rows as lines of text
    html_text = "\n".join(re.sub(r"<[^>]+>", " ", row) for row in re.split(r"<tr\b", html.text))
    for point, verdict in verdicts.items():
        assert point in text
        assert verdict in _verdict_words(text, point), (point, _verdict_words(text, point))
        assert verdict in _verdict_words(html_text, point)
    # the printed report is the HTML one: its title and standard are on the page
    title = re.search(r"<title>([^<]+)</title>", html.text)
    assert title is not None
    assert title.group(1).split()[0] in text
    assert "GOST 32144" in text


def test_the_pdf_needs_the_analyst_role_and_a_valid_body(pq_api: Api) -> None:
    body = {"timezone": "UTC", "values": _week()[:10]}
    r = pq_api.post("/api/v1/quality/assessments?format=pdf", json=body, as_="operator")
    assert r.status_code == 403
    r = pq_api.post("/api/v1/quality/assessments?format=pdf", json={}, as_="analyst")
    assert r.status_code == 422
    assert "point_ids" in r.text
