"""``gridtwin quality`` end to end: assess, events and report from a measurement file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gridtwin.cli.quality import app as quality_app
from tests.quality.test_assessment import GOLDEN_VERDICTS, MSK, WEEK, golden_week_csv

runner = CliRunner()


@pytest.fixture
def week_csv(tmp_path: Path) -> Path:
    path = tmp_path / "week.csv"
    golden_week_csv(path)
    return path


def test_assess_json_gives_the_golden_verdicts(week_csv: Path) -> None:
    res = runner.invoke(
        quality_app, ["assess", str(week_csv), "--timezone", MSK, "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {p["point_id"]: p["verdict"] for p in data["points"]} == GOLDEN_VERDICTS
    assert data["standard"] == "GOST 32144-2013"
    assert data["nominal_v"] == 220.0


def test_assess_csv_is_the_tidy_table(week_csv: Path) -> None:
    res = runner.invoke(
        quality_app, ["assess", str(week_csv), "--timezone", MSK, "--format", "csv"]
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(io.StringIO(res.stdout))
    assert len(table) == 6 + 2  # voltage of 6 points, THD of 2
    row = table[(table["point_id"] == "over") & (table["indicator"] == "voltage_deviation")]
    assert row["verdict"].item() == "fail"
    assert row["n2"].item() == 1


def test_assess_table_and_check_exit_code(week_csv: Path) -> None:
    res = runner.invoke(quality_app, ["assess", str(week_csv), "--timezone", MSK])
    assert res.exit_code == 0, res.output
    assert "verdict per point" in res.output
    assert "thdfail" in res.output
    assert "not verified against the official text" in res.output  # limits' status
    res = runner.invoke(quality_app, ["assess", str(week_csv), "--timezone", MSK, "--check"])
    assert res.exit_code == 1


def test_assess_en50160_with_nominal_and_events_file(week_csv: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    pd.DataFrame(
        {
            "point_id": ["over"],
            "kind": ["swell"],
            "start_utc": [(WEEK[400] + pd.Timedelta(minutes=1)).isoformat()],
            "end_utc": [(WEEK[400] + pd.Timedelta(minutes=2)).isoformat()],
        }
    ).to_csv(events, index=False)
    res = runner.invoke(
        quality_app,
        ["assess", str(week_csv), "--timezone", MSK, "--events", str(events), "--format", "json"],
    )
    assert res.exit_code == 0, res.output
    verdicts = {p["point_id"]: p["verdict"] for p in json.loads(res.stdout)["points"]}
    assert verdicts["over"] == "pass"  # the swell's interval is flagged and excluded
    res = runner.invoke(
        quality_app,
        [
            "assess",
            str(week_csv),
            "--timezone",
            MSK,
            "--standard",
            "EN 50160:2010",
            "--nominal-v",
            "220",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["standard"] == "EN 50160:2010"
    rows = {(r["point_id"], r["indicator"]): r for r in data["table"]}
    over = rows[("over", "voltage_deviation")]
    # EN 50160:2010 4.2.2 LV: 100 % of the week within -15 .. +10 %: 242.5 V fails (N2)
    assert (over["verdict"], over["n1"], over["n2"]) == ("fail", 1, 1)
    assert "[EN 50160:2010 4.2.2]" in over["rule"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["assess", "missing.csv"], "file not found"),
        (["assess", "{week}", "--format", "xml"], "--format 'xml'"),
        (["assess", "{week}", "--voltage-level", "HV"], "--voltage-level 'HV'"),
        (["assess", "{week}", "--standard", "IEEE 1159"], "no built-in limit set"),
        (["assess", "{week}", "--voltage-level", "MV"], "nominal_line_v"),
        (["events", "{week}", "--source", "nope"], "--source 'nope'"),
    ],
)
def test_errors_exit_with_code_2(week_csv: Path, args: list[str], message: str) -> None:
    res = runner.invoke(quality_app, [a.replace("{week}", str(week_csv)) for a in args])
    assert res.exit_code == 2
    assert "error:" in res.output
    assert message in " ".join(res.output.split())


def test_off_grid_file_error_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame(
        {
            "timestamp": ["2025-06-02T00:00:00Z", "2025-06-02T00:07:00Z"],
            "voltage_a_v": [220.0, 221.0],
        }
    ).to_csv(path, index=False)
    res = runner.invoke(quality_app, ["assess", str(path)])
    assert res.exit_code == 2
    assert "data row 2" in " ".join(res.output.split())


def test_events_lists_the_flagged_intervals(week_csv: Path) -> None:
    res = runner.invoke(quality_app, ["events", str(week_csv), "--format", "json"])
    assert res.exit_code == 0, res.output
    events = json.loads(res.stdout)["events"]
    assert [(e["point_id"], e["kind"]) for e in events] == [("flagged", "flagged interval")]
    assert events[0]["start_utc"] == WEEK[500].isoformat()
    assert events[0]["duration_s"] == 600.0
    res = runner.invoke(quality_app, ["events", str(week_csv)])
    assert res.exit_code == 0
    assert "flagged" in res.output
    assert "measurement" in res.output


def test_report_html_and_json(week_csv: Path, tmp_path: Path) -> None:
    feeders = tmp_path / "feeders.csv"
    pd.DataFrame({"point_id": ["ok", "over"], "feeder": ["F1", "F1"]}).to_csv(feeders, index=False)
    html_out = tmp_path / "report.html"
    res = runner.invoke(
        quality_app,
        [
            "report",
            str(week_csv),
            "--timezone",
            MSK,
            "--output",
            str(html_out),
            "--feeders",
            str(feeders),
            "--title",
            "Week 23",
        ],
    )
    assert res.exit_code == 0, res.output
    text = html_out.read_text(encoding="utf-8")
    assert "<h1>Week 23</h1>" in text
    assert "Feeder F1" in text
    # 2 per point, 2 feeders, and the failing THD of point thdfail
    assert text.count("class='figure'") == 2 * len(GOLDEN_VERDICTS) + 2 + 1
    json_out = tmp_path / "report.json"
    res = runner.invoke(
        quality_app,
        ["report", str(week_csv), "--timezone", MSK, "--output", str(json_out), "--point", "over"],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(json_out.read_text(encoding="utf-8"))
    assert [p["point_id"] for p in data["points"]] == ["over"]
    res = runner.invoke(quality_app, ["report", str(week_csv), "--output", str(tmp_path / "r.txt")])
    assert res.exit_code == 2


def test_week_start_at_a_campaign_start(week_csv: Path) -> None:
    res = runner.invoke(
        quality_app,
        [
            "assess",
            str(week_csv),
            "--timezone",
            MSK,
            "--week-start",
            "2025-06-04T00:00+03:00",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    table = json.loads(res.stdout)["table"]
    starts = sorted({r["period_start_utc"] for r in table if r["point_id"] == "ok"})
    # the Monday-to-Monday data span two Wednesday-aligned weeks, neither complete
    assert starts == ["2025-05-27T21:00:00+00:00", "2025-06-03T21:00:00+00:00"]
    assert {r["verdict"] for r in table} == {"insufficient data"}
    res = runner.invoke(quality_app, ["assess", str(week_csv), "--week-start", "someday"])
    assert res.exit_code == 2
