"""Nothing is left out of a bill silently: data that start or end in the middle of a
local day (UTC-midnight data in Bratislava) are outside the default periods, and the
bills, the comparison and the JSON say how much and why (issue 17's first finding)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.billing import bill, bill_for, compare
from gridtwin.tariffs import get_tariff
from gridtwin.timeseries import IntervalData
from gridtwin.workflows.billing import BillingRun

TARIFF = "sk-urso-0210-2017-dd2"


def _utc_month(n_meters: int = 1) -> IntervalData:
    """January 2019 in UTC: 2,976 quarter hours of 0.1 kWh (297.6 kWh per meter)."""
    idx = pd.date_range("2019-01-01T00:00Z", "2019-02-01T00:00Z", freq="15min", inclusive="left")
    values = np.full((n_meters, len(idx)), 0.1)
    values[1:, :] *= 2.0  # the second meter uses twice as much
    return IntervalData(idx, values, tuple(f"m{i}" for i in range(n_meters)))


def test_default_periods_say_what_they_leave_out() -> None:
    data = _utc_month(n_meters=2)
    result = bill(get_tariff(TARIFF), data)
    assert result.periods == (
        (pd.Timestamp("2019-01-02").date(), pd.Timestamp("2019-02-01").date()),
    )
    assert result.unbilled_intervals is not None
    assert result.unbilled_kwh is not None
    # 01:00-24:00 local on 1 January (92) and 00:00-01:00 local on 1 February (4)
    assert result.unbilled_intervals.tolist() == [[92, 4], [92, 4]]
    np.testing.assert_allclose(result.unbilled_kwh, [[9.2, 0.4], [18.4, 0.8]])
    b = bill_for(result, "m0")
    assert b.unbilled_intervals == 96
    assert b.unbilled_kwh == pytest.approx(9.6)
    assert b.energy_kwh + b.unbilled_kwh == pytest.approx(297.6)  # all of it accounted
    said = [n for n in b.notes if n.startswith("NOT BILLED")]
    assert len(said) == 2
    assert "92 interval(s)" in said[0]
    assert "before 2019-01-02" in said[0]
    assert "local midnight" in said[0]


def test_monthly_periods_note_each_end_on_its_own_bill() -> None:
    idx = pd.date_range("2019-01-01T00:00Z", "2019-03-01T00:00Z", freq="15min", inclusive="left")
    data = IntervalData(idx, np.full((1, len(idx)), 0.1), ("m0",))
    result = BillingRun(TARIFF, data).run()
    assert len(result.periods) == 2
    jan, feb = bill_for(result, "m0", 0), bill_for(result, "m0", 1)
    assert (jan.unbilled_intervals, feb.unbilled_intervals) == (92, 4)
    assert any("before 2019-01-02" in n for n in jan.notes)
    assert any("from 2019-03-01" in n for n in feb.notes)


def test_whole_local_days_and_chosen_periods_add_nothing() -> None:
    idx = pd.date_range(
        pd.Timestamp("2019-01-01", tz="Europe/Bratislava"),
        pd.Timestamp("2019-02-01", tz="Europe/Bratislava"),
        freq="15min",
        inclusive="left",
    )
    whole = IntervalData(idx.tz_convert("UTC"), np.full((1, len(idx)), 0.1), ("m0",))
    result = bill(get_tariff(TARIFF), whole)
    assert result.unbilled_intervals is None
    assert not [n for n in bill_for(result, 0).notes if n.startswith("NOT BILLED")]
    chosen = [(pd.Timestamp("2019-01-10").date(), pd.Timestamp("2019-01-20").date())]
    assert bill(get_tariff(TARIFF), _utc_month(), periods=chosen).unbilled_intervals is None


def test_comparison_says_it_too() -> None:
    comp = compare([get_tariff(TARIFF), get_tariff("sk-urso-0210-2017-dmp2")], _utc_month())
    said = [n for n in comp.notes if n.startswith("NOT BILLED")]
    assert len(said) == 1
    assert "96 interval(s)" in said[0]


def test_the_command_line_bill_says_it_in_json(tmp_path: Path) -> None:
    data = _utc_month()
    frame = pd.DataFrame(
        {"timestamp": data.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ"), "m0": data.energy_kwh[0]}
    )
    path = tmp_path / "utc.csv"
    frame.to_csv(path, index=False)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gridtwin",
            "bill",
            "--tariff",
            TARIFF,
            "--data",
            str(path),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(out.stdout)
    bills = doc if isinstance(doc, list) else doc.get("bills", [doc])
    first = bills[0]
    assert first["unbilled_intervals"] == 96
    assert any("NOT BILLED" in n for n in first["notes"])
