"""The telemetry workflows: a SimBench grid's profiles as a replay frame, and the demo's
replay into a real embedded store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import load_simbench
from gridtwin.workflows.telemetry import replay_demo, simbench_replay_frame
from tests.network.util import LV_CODE


def test_replay_frame_is_the_profiles_in_kw_consumer_sign() -> None:
    start = pd.Timestamp("2016-03-01", tz="UTC")
    frame, points = simbench_replay_frame(
        LV_CODE, start_utc=start, end_utc=start + pd.Timedelta("1h")
    )
    prof = load_simbench(LV_CODE).profiles
    assert prof is not None
    assert len(frame) == 4
    assert frame.index[0] == start
    load = prof.load_p_mw.loc[frame.index]
    assert (frame[f"load:{load.columns[0]}:p"] == 1000 * load.iloc[:, 0]).all()
    if prof.sgen_p_mw.shape[1]:  # generation is negative in the consumer frame
        col = prof.sgen_p_mw.columns[0]
        assert (frame[f"sgen:{col}:p"] == -1000 * prof.sgen_p_mw.loc[frame.index, col]).all()
    assert {p.point_id for p in points} == set(frame.columns)
    assert all(p.element == p.point_id.rsplit(":", 1)[0] for p in points)


def test_replay_frame_outside_the_year_is_refused() -> None:
    with pytest.raises(InputError, match="select no step"):
        simbench_replay_frame(LV_CODE, start_utc=pd.Timestamp("2020-01-01", tz="UTC"))


def test_replay_demo_stores_once(tmp_path: Path) -> None:
    demo = replay_demo(LV_CODE, tmp_path / "st", hours=2)
    assert demo.first.stored == 8 * demo.points
    assert (demo.again.stored, demo.again.duplicates) == (0, 8 * demo.points)
    assert len(demo.latest) == demo.points
    assert (demo.latest["ts_utc"] == pd.Timestamp("2016-01-01 01:45", tz="UTC")).all()
