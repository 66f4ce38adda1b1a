"""Reports: the HTML holds the plots with the band limits and the verdicts; JSON; PDF."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.quality import (
    MeasurementSet,
    assess,
    build_report,
    potential_deviations,
    read_measurements,
)
from gridtwin.quality import report as report_module
from tests.quality.test_assessment import GOLDEN_VERDICTS, MSK, WEEK, golden_week_csv

GOST = "GOST 32144-2013"


class _Page(HTMLParser):
    """Collects the embedded figure JSON, the tables (rows of cell texts) and all text."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, dict[str, Any]] = {}
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._fig: str | None = None
        self._script = False
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self._script = True
            self.scripts.append("")
            if a.get("class") == "figure":
                self._fig = a.get("data-name") or ""
        elif tag == "table":
            self.tables.append((a.get("class") or "", []))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            if self._fig is not None:
                self.figures[self._fig] = json.loads(self.scripts[-1])
            self._fig, self._script = None, False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1][1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._script:
            self.scripts[-1] += data
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(html_text: str) -> _Page:
    page = _Page()
    page.feed(html_text)
    return page


def limit_values(fig: dict[str, Any]) -> set[float]:
    return {t["meta"]["value_v"] for t in fig["data"] if "meta" in t}


@pytest.fixture
def golden(tmp_path: Path) -> Any:
    golden_week_csv(tmp_path / "week.csv")
    return assess(read_measurements(tmp_path / "week.csv"), GOST, timezone=MSK)


def test_html_report_has_plots_with_the_band_limits_and_the_verdicts(
    golden: Any, tmp_path: Path
) -> None:
    feeders = {"ok": "F1", "over": "F1", "edge": "F2"}
    path = build_report(golden, feeders=feeders).write(tmp_path / "report.html")
    page = parse(path.read_text(encoding="utf-8"))
    # plotly.js is embedded: the report works offline
    assert any("Plotly" in s and len(s) > 1_000_000 for s in page.scripts)
    # an envelope and a histogram per point, one envelope per feeder
    for pid in GOLDEN_VERDICTS:
        env, hist = page.figures[f"envelope-{pid}"], page.figures[f"histogram-{pid}"]
        # GOST 32144-2013 4.2.2 band for U0 = 220 V: 198 V .. 242 V
        assert limit_values(env) == {198.0, 242.0}
        assert limit_values(hist) == {198.0, 242.0}
        names = [t["name"] for t in env["data"]]
        assert names[:3] == ["hourly minimum", "hourly maximum", "hourly mean"]
    assert {"feeder-envelope-F1", "feeder-envelope-F2", "feeder-envelope-(no feeder)"} <= set(
        page.figures
    )
    # the envelope shows the 242.5 V interval of "over" (hourly maximum), 168 hours
    env = page.figures["envelope-over"]
    assert max(v for v in env["data"][1]["y"] if v is not None) == 242.5
    assert len(env["data"][0]["x"]) == 168
    # the flagged 150 V interval is left out, as in the evaluation
    assert min(v for v in page.figures["envelope-flagged"]["data"][0]["y"]) == 220.0
    hist = page.figures["histogram-over"]
    assert sum(hist["data"][0]["y"]) == 1008 * 3
    # verdict tables: one per point, the standard and clause cited
    verdict_tables = [rows for cls, rows in page.tables if cls == "verdicts"]
    assert len(verdict_tables) == len(GOLDEN_VERDICTS)
    summary = next(rows for cls, rows in page.tables if cls == "summary")
    assert {r[0]: r[2] for r in summary[1:]} == GOLDEN_VERDICTS
    over = verdict_tables[list(GOLDEN_VERDICTS).index("over")]
    assert over[1][1:5] == ["voltage_deviation", "4.2.2", "100 %: -10 .. +10 %", "fail"]
    text = " ".join(page.text)
    assert "GOST 32144-2013 4.2.2" in text
    assert "Amendment No. 1" in text  # the edition, with its caveat
    # events: the flagged interval of "flagged", an empty table elsewhere
    events = [rows for cls, rows in page.tables if cls == "events"]
    assert len(events) == len(GOLDEN_VERDICTS)
    assert events[0][1] == ["no events in the data"]
    flagged = events[list(GOLDEN_VERDICTS).index("flagged")]
    assert flagged[1][0] == "flagged interval"


def test_en50160_bands_in_volts() -> None:
    ms = MeasurementSet.from_arrays("voltage", WEEK, np.full((1008, 1), 230.0), point_ids=["P"])
    a = assess(ms, "EN 50160:2010", timezone=MSK)
    page = parse(build_report(a).to_html())
    # 95 %: 207 .. 253 V; 100 %: 195.5 .. 253 V (EN 50160:2010 4.2.2, U_n = 230 V)
    assert limit_values(page.figures["envelope-P"]) == {207.0, 253.0, 195.5}


def test_json_report_for_systems(golden: Any, tmp_path: Path) -> None:
    path = build_report(golden, feeders={"over": "F1"}).write(tmp_path / "report.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["standard"] == GOST
    assert {p["point_id"]: p["verdict"] for p in data["points"]} == GOLDEN_VERDICTS
    over = next(p for p in data["points"] if p["point_id"] == "over")
    assert over["voltage_bands_v"][0]["lower_v"] == 198.0
    assert over["voltage_bands_v"][0]["upper_v"] == 242.0
    assert over["indicators"][0]["worst_time_utc"] == WEEK[400].isoformat()
    assert over["events"] == []
    f1 = next(f for f in data["feeders"] if f["feeder"] == "F1")
    assert (f1["verdict"], f1["n_fail"]) == ("fail", 1)


def test_report_lists_potential_deviations() -> None:
    time = pd.date_range("2025-06-01T21:00Z", periods=96, freq="15min")
    vm = pd.DataFrame({"over": np.r_[np.full(50, 0.95), np.full(46, 0.80)]}, index=time)
    pot = potential_deviations(vm, u0_pu=0.95, timezone=MSK, cause="transformer tap")
    ms = MeasurementSet.from_arrays("voltage", WEEK, np.full((1008, 1), 220.0), point_ids=["over"])
    page = parse(build_report(assess(ms, GOST, timezone=MSK), potential=pot).to_html())
    rows = next(rows for cls, rows in page.tables if cls == "potential")
    assert rows[1][0] == "over"
    assert rows[1][3] == time[50].isoformat()
    assert rows[1][-1] == "transformer tap"


def test_selection_and_errors(golden: Any, tmp_path: Path) -> None:
    rep = build_report(golden, max_points=2)
    assert rep.point_ids == ("over", "thdfail")  # failing points first
    assert build_report(golden, point_ids=["edge"]).point_ids == ("edge",)
    with pytest.raises(InputError, match="unknown point"):
        build_report(golden, point_ids=["x"])
    with pytest.raises(InputError, match="unknown report type"):
        rep.write(tmp_path / "report.docx")
    out = build_report(golden, point_ids=["ok"]).write(tmp_path / "r.html", plotlyjs="file")
    assert (tmp_path / "plotly.min.js").stat().st_size > 1_000_000
    assert '<script src="plotly.min.js"></script>' in out.read_text(encoding="utf-8")


def test_pdf_without_a_browser_says_how_to_print(
    golden: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_module, "find_browser", lambda: None)
    with pytest.raises(InputError, match="print it to PDF"):
        build_report(golden, point_ids=["ok"]).write(tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.skipif(
    report_module.find_browser() is None,
    reason="no headless Chromium (apt-get install chromium-headless-shell)",
)
def test_pdf_with_headless_chromium(golden: Any, tmp_path: Path) -> None:
    out = build_report(golden, point_ids=["over"]).write(tmp_path / "r.pdf")
    assert out.read_bytes()[:5] == b"%PDF-"
    assert out.stat().st_size > 20_000
