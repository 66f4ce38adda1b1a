"""Quality and norms workflows: the same results as the domain functions they order."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.heatnet.method import coming_year, past_year
from gridtwin.heatnet.report import html_report
from gridtwin.quality import assess, read_measurements
from gridtwin.workflows import NormsCalculation, QualityAssessment, read_feeder_map
from tests.heatnet.util import EXAMPLE, VARIANT, example_input
from tests.quality.test_assessment import GOLDEN_VERDICTS, golden_week_csv

MSK = "Europe/Moscow"


def test_quality_assessment_equals_assess(tmp_path: Path) -> None:
    path = tmp_path / "week.csv"
    golden_week_csv(path)
    job = QualityAssessment(path, timezone=MSK)
    a = job.run()
    b = assess(read_measurements(path, timezone=MSK), "GOST 32144-2013", timezone=MSK)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert dict(zip(a.points["point_id"], a.points["verdict"], strict=True)) == GOLDEN_VERDICTS
    assert len(job.find_events()) >= 1  # the flagged dip
    feeders = tmp_path / "feeders.csv"
    feeders.write_text("point_id,feeder\nok,F1\nover,F1\n", encoding="utf-8")
    _, report = job.report(feeders=read_feeder_map(feeders), title="week")
    assert "week" in report.to_html()
    feeders.write_text("point,feeder\nok,F1\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected columns point_id,feeder"):
        read_feeder_map(feeders)


def test_norms_calculation_orders_the_method() -> None:
    inp = example_input()
    one = NormsCalculation([EXAMPLE])
    assert one.past_year().results[0].to_dict() == past_year(inp).to_dict()
    assert one.past_year().totals is None
    _, coming = one.coming_year().results[0]
    assert coming.to_dict() == coming_year(inp, past_year(inp)).to_dict()
    stations = inp.build_stations()
    assert one.report_html() == html_report(
        inp,
        stations,
        past_year(inp, stations),
        coming_year(inp, past_year(inp, stations), stations),
    )
    title, frame = one.characteristic(points=5)
    assert title == inp.title
    assert len(frame) > 0
    two = NormsCalculation([EXAMPLE, VARIANT]).past_year()
    assert two.totals is not None  # two territorial units are summed
    assert len(two.results) == 2
    with pytest.raises(InputError, match="appear in more than one file"):
        NormsCalculation([EXAMPLE, EXAMPLE]).past_year()
