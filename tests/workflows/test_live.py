"""The live twin on a real store fed by a replay of a SimBench grid's profiles."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.ingest import Pipeline, ReplaySource, run_sources
from gridtwin.network import simulate
from gridtwin.store import MeasurementBatch, MeasurementPoint, Quality, open_store
from gridtwin.workflows.live import LiveTwin
from gridtwin.workflows.telemetry import simbench_replay_frame
from gridtwin.workflows.twin import Twin
from tests.network.util import LV_CODE
from tests.workflows.util import replayed_store

T0 = pd.Timestamp("2016-01-01T00:00Z")
STEP = pd.Timedelta("15min")


@pytest.fixture(scope="module")
def twin() -> Twin:
    return Twin.load(simbench_code=LV_CODE)


def _store(tmp_path: Path, keep: Any = None) -> Any:
    """A store holding two hours of the grid's load profiles, replayed (all of them, or
    the points ``keep`` selects)."""
    frame, points = simbench_replay_frame(LV_CODE, end_utc=T0 + 8 * STEP)
    if keep is not None:
        points = [p for p in points if keep(p)]
        frame = frame[[p.point_id for p in points]]
    return replayed_store(tmp_path / "st", frame, points)


def test_fully_metered_interval_is_the_power_flow_of_its_step(twin: Twin, tmp_path: Path) -> None:
    store = _store(tmp_path)
    live = LiveTwin(twin, store)
    state = live.update(T0 + 3 * STEP)
    assert state.method == "power_flow"
    assert state.metered_loads == state.loads == len(twin.model.net.load)
    reference = simulate(twin.model, twin.model.profiles, steps=slice(3, 4))
    np.testing.assert_allclose(state.vm_pu.to_numpy(), reference.vm_pu[0], atol=1e-12)
    np.testing.assert_allclose(
        state.line_loading_percent.to_numpy(), reference.line_loading_percent[0], atol=1e-9
    )
    # the state is kept in the store as estimated values of the twin's own points
    bus = int(state.vm_pu.index[5])
    got = store.window([f"twin:bus:{bus}:vm"], T0, T0 + 8 * STEP)
    assert got["value"].tolist() == [pytest.approx(state.vm_pu[bus])]
    assert Quality(int(got["quality"].iloc[0])) == Quality.ESTIMATED
    store.close()


def test_a_measured_value_moves_the_state(twin: Twin, tmp_path: Path) -> None:
    store = _store(tmp_path)
    live = LiveTwin(twin, store, write_state=False)
    load = int(twin.model.net.load.index[0])
    t = T0 + 2 * STEP
    before = live.update(t)
    # a revised reading of that load: 50 kW more (a revision, not an overwrite)
    p_kw = float(twin.model.profiles.load_p_mw.loc[t, load]) * 1000 + 50.0
    ts = np.array([t.tz_localize(None).to_datetime64()], "datetime64[us]")
    store.write(MeasurementBatch.build([f"load:{load}:p"], ts, [p_kw]))
    after = live.update(t)
    bus = int(twin.model.net.load.at[load, "bus"])
    assert after.vm_pu[bus] < before.vm_pu[bus] - 1e-4
    store.close()


def test_partial_metering_takes_profiles_for_the_rest(twin: Twin, tmp_path: Path) -> None:
    half = set(twin.model.net.load.index[::2].tolist())
    store = _store(tmp_path, keep=lambda p: int(p.element.split(":")[1]) in half)
    live = LiveTwin(twin, store, write_state=False)
    state = live.update(T0 + STEP)
    assert state.method == "state_estimation"
    assert state.metered_loads == len(half)
    assert state.chi2_passed is True
    assert state.bad_data == ()
    # meters and pseudo values are the same profile here: the estimate is the power flow
    reference = simulate(twin.model, twin.model.profiles, steps=slice(1, 2))
    np.testing.assert_allclose(state.vm_pu.to_numpy(), reference.vm_pu[0], atol=1e-6)
    store.close()


def test_a_gross_voltage_error_is_named_and_removed(twin: Twin, tmp_path: Path) -> None:
    """Bus voltage meters on half the customer buses, one of them 8 % off: the
    chi-square test fails, the reading is named and removed, the state stays right."""
    half = set(twin.model.net.load.index[::2].tolist())
    store = _store(tmp_path, keep=lambda p: int(p.element.split(":")[1]) in half)
    t = T0 + STEP
    reference = simulate(twin.model, twin.model.profiles, steps=slice(1, 2))
    true_vm = pd.Series(reference.vm_pu[0], index=reference.bus_ids)
    buses = sorted({int(b) for b in twin.model.net.load.bus})[::2]
    bad = buses[len(buses) // 2]
    store.add_points(
        [MeasurementPoint(f"bus:{b}:vm", "vm", "pu", element=f"bus:{b}") for b in buses]
    )
    values = [true_vm[b] + (0.08 if b == bad else 0.0) for b in buses]
    ts = np.full(len(buses), t.tz_localize(None).to_datetime64(), "datetime64[us]")
    store.write(MeasurementBatch.build([f"bus:{b}:vm" for b in buses], ts, values))
    state = LiveTwin(twin, store, write_state=False).update(t)
    assert state.method == "state_estimation"
    assert state.bad_data, state.notes
    assert state.bad_data[0].startswith(f"bus {bad} vm")
    np.testing.assert_allclose(state.vm_pu.to_numpy(), reference.vm_pu[0], atol=2e-3)
    store.close()


def test_bad_mapping_and_times_are_refused(twin: Twin, tmp_path: Path) -> None:
    store = open_store(tmp_path / "st", create=True)
    store.add_points([MeasurementPoint("x", "p", "kW", element="load:9999")])
    with pytest.raises(InputError, match="load:9999 is not a load"):
        LiveTwin(twin, store)
    store.close()
    store = _store(tmp_path / "b")
    live = LiveTwin(twin, store, write_state=False)
    with pytest.raises(InputError, match="time zone"):
        live.update(pd.Timestamp("2016-01-01T00:00"))
    store.close()


def test_runner_follows_a_live_replay(twin: Twin, tmp_path: Path) -> None:
    """A replay at 9,000x (0.1 s per interval) into the store while the runner watches
    it: every interval is updated once, in order, fully metered."""
    from gridtwin.workflows.live import LiveRunner

    frame, points = simbench_replay_frame(LV_CODE, end_utc=T0 + 8 * STEP)
    store = open_store(tmp_path / "st", create=True)
    store.add_points(points)
    live = LiveTwin(twin, store, write_state=False)
    runner = LiveRunner(live, poll_s=0.02, grace_s=60.0)
    stop = threading.Event()
    watcher = threading.Thread(target=runner.run, args=(stop,))
    watcher.start()
    with Pipeline(store) as pipe:
        run_sources(pipe, [ReplaySource(frame, speed=9000.0)], threading.Event())
    stop.set()
    watcher.join()
    runner.step()  # the last interval: complete once everything is stored
    times = [s.time_utc for s in runner.states]
    assert times == list(pd.date_range(T0, periods=8, freq="15min"))
    assert {s.method for s in runner.states} == {"power_flow"}
    store.close()


def test_runner_waits_for_a_silent_meter_only_as_long_as_the_grace(
    twin: Twin, tmp_path: Path
) -> None:
    from gridtwin.workflows.live import LiveRunner

    frame, points = simbench_replay_frame(LV_CODE, end_utc=T0 + 4 * STEP)
    silent = points[0].point_id  # registered, never sends
    store = open_store(tmp_path / "st", create=True)
    store.add_points(points)
    with Pipeline(store) as pipe:
        rest = ReplaySource(frame.drop(columns=[silent]), speed=float("inf"))
        run_sources(pipe, [rest], threading.Event())
    live = LiveTwin(twin, store, write_state=False)
    assert LiveRunner(live, start_utc=T0, grace_s=60.0).step() == []  # still waiting
    states = LiveRunner(live, start_utc=T0, grace_s=0.0).step()
    assert len(states) == 4
    p_points = len(live.points.p)
    silent_is_p = silent.endswith(":p")
    assert {s.metered_loads for s in states} == {p_points - int(silent_is_p)}
    store.close()
