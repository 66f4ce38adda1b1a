"""Tables (CSV, JSON) and the HTML report of the pumping-station norms.

Tables follow the seed's: Table 3 (past year), Table 4 (the task ε) and Table 6 (the
coming year), each as a tidy "method table" (one row per computed quantity, with its
symbol, formula number, station, season, value and unit), plus wide per-station tables.
The HTML report draws each station's energy characteristic N(G) as inline SVG with the
design, actual and coming-year operating points; no plotting library is needed.

This module owns the text outputs (CSV, JSON, atomic file writes) and is the public face
of the others: the DataFrames (:mod:`._frames`), the SVG charts (:mod:`._svg`), the HTML
page (:mod:`._html`) and shared formatting (:mod:`._format`). The terminal tables are the
command line's (:mod:`gridtwin.cli._norms_render`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from gridtwin.errors import InputError
from gridtwin.heatnet._format import ASSUMPTION_NOTE
from gridtwin.heatnet._frames import METHOD_COLUMNS as METHOD_COLUMNS
from gridtwin.heatnet._frames import (
    characteristic_frame,
    coming_year_frames,
    past_year_frames,
    territorial_frame,
)
from gridtwin.heatnet._html import html_report
from gridtwin.heatnet._svg import svg_characteristic

__all__ = [
    "ASSUMPTION_NOTE",
    "characteristic_frame",
    "coming_year_frames",
    "html_report",
    "method_csv",
    "past_year_frames",
    "svg_characteristic",
    "territorial_frame",
    "to_json",
    "write_text_atomic",
]


def method_csv(frames: Iterable[pd.DataFrame]) -> str:
    """Concatenate tidy method tables into one CSV text."""
    parts = [f for f in frames if not f.empty]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=METHOD_COLUMNS)
    return str(frame.to_csv(index=False, float_format="%.10g"))


def to_json(obj: Any) -> str:
    """Indented JSON (non-finite floats already turned to null by ``to_dict``)."""
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file whole or not at all (temporary file, then rename)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        msg = f"{path}: cannot write ({exc.strerror})"
        raise InputError(msg) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        msg = f"{path}: cannot write ({exc.strerror})"
        raise InputError(msg) from exc
