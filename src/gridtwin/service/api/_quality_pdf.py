"""The power-quality report as PDF for ``POST /quality/assessments?format=pdf``.

The report's HTML (the same page ``format=html`` answers, Plotly inline) is printed by the
quality module's own :func:`gridtwin.quality.report.write_pdf` (a headless Chromium,
offline), one print at a time: a Chromium takes a few hundred MB while it prints.
Without a browser, or when it fails, the answer is 503 with what to install or do.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Final

from fastapi import HTTPException

from gridtwin.errors import InputError

__all__ = ["MEDIA_TYPE", "PRINT_TIMEOUT_S", "html_to_pdf"]

MEDIA_TYPE: Final = "application/pdf"
#: Time one print may take [s].
PRINT_TIMEOUT_S: Final = 120.0
_PRINTING = threading.BoundedSemaphore(1)


def html_to_pdf(html: str) -> bytes:
    """``html`` (a report page) printed to PDF; HTTPException 503 when it cannot be."""
    from gridtwin.quality.report import find_browser, write_pdf

    if find_browser() is None:
        detail = (
            "no headless Chromium on the server to print the PDF (install Debian's "
            "chromium-headless-shell, or set GRIDTWIN_BROWSER); format=html gives the "
            "same report to print from a browser"
        )
        raise HTTPException(status_code=503, detail=detail)
    with _PRINTING, tempfile.TemporaryDirectory(prefix="gridtwin-pq-") as tmp:
        page, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        try:
            write_pdf(page, out, timeout_s=PRINT_TIMEOUT_S)
        except InputError as exc:  # the browser failed: not the request's fault
            raise HTTPException(status_code=503, detail=str(exc).replace(tmp, "<tmp>")) from exc
        return out.read_bytes()
