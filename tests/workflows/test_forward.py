"""The forward look and the weekly compliance on a real live twin: SimBench's LV feeder with
its apartments electrified (the demo's five times the load) replayed into a real store.

The forward look runs the profiles the replay will play, so its potential alarms must
come hours before the actual ones, at exactly the interval where the actual alarm then
activates. The compliance counters must count every state, follow the standard's rule
from the limit-set files and agree with the twin's stored state history."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.ingest import Pipeline, ReplaySource, run_sources
from gridtwin.network.checks import customer_reference
from gridtwin.store import MeasurementStore, open_store
from gridtwin.workflows.compliance import WeeklyCompliance, interval_checks
from gridtwin.workflows.forward import ForwardLooker
from gridtwin.workflows.live import LiveState, LiveTwin
from gridtwin.workflows.live_alarms import LiveAlarms
from gridtwin.workflows.telemetry import simbench_replay_frame
from gridtwin.workflows.twin import Twin
from tests.network.util import LV_CODE
from tests.workflows.util import replayed_store

T0 = pd.Timestamp("2016-01-01T00:00Z")
STEP = pd.Timedelta("15min")
SCALE = 5.0  # the demo's electrified apartments


@pytest.fixture(scope="module")
def twin() -> Twin:
    return Twin.load(simbench_code=LV_CODE)


@pytest.fixture(scope="module")
def store(twin: Twin, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeasurementStore]:
    """The first 19 hours of the feeder at five times its load, as measurements."""
    frame, points = simbench_replay_frame(LV_CODE, end_utc=T0 + pd.Timedelta(hours=19))
    loads = [c for c in frame.columns if str(c).startswith("load:")]
    frame[loads] = frame[loads] * SCALE
    st = replayed_store(tmp_path_factory.mktemp("forward") / "st", frame, points)
    yield st
    st.close()


def _replay(
    live: LiveTwin, alarms: LiveAlarms, forward: ForwardLooker, start: pd.Timestamp, n: int
) -> tuple[dict[str, tuple[pd.Timestamp, object]], dict[str, pd.Timestamp], list[LiveState]]:
    """Update ``n`` intervals; the first potential alarm of each instance (when seen,
    the alarm), the first activation of each instance, the states."""
    first_potential: dict[str, tuple[pd.Timestamp, object]] = {}
    activated: dict[str, pd.Timestamp] = {}
    states = []
    for k in range(n):
        t = start + k * STEP
        state = live.update(t)
        states.append(state)
        update = alarms.on_state(state, forward.forecast(state))
        for p in update.potential:
            first_potential.setdefault(p.instance_id, (t, p))
        for e in update.events:
            if e.kind == "activated":
                activated.setdefault(e.instance_id, pd.Timestamp(e.time_utc))
    return first_potential, activated, states


def test_potential_alarms_come_before_the_actual_ones(twin: Twin, store: MeasurementStore) -> None:
    live = LiveTwin(twin, store, write_state=False)
    alarms = LiveAlarms(twin.model, twin.standard)
    forward = ForwardLooker(live, horizon_h=6.0, every_intervals=1, load_scale=SCALE)
    assert forward.available
    assert forward.source == "profiles"
    start = T0 + pd.Timedelta(hours=8)
    potential, activated, _ = _replay(live, alarms, forward, start, 27)  # 08:00 to 14:30
    assert activated, "the electrified feeder must overload in the afternoon"
    assert "line-loading-high@line:24" in activated
    for iid, t_active in activated.items():
        seen_at, p = potential[iid]  # every actual alarm was foreseen
        assert seen_at < t_active
        assert p.first_active_utc == t_active.to_pydatetime()  # type: ignore[attr-defined]
        assert p.lead_time_s == (t_active - seen_at).total_seconds() > 0  # type: ignore[attr-defined]
    # the line overload at 14:15 was foreseen the full horizon ahead
    seen_at, p = potential["line-loading-high@line:24"]
    assert activated["line-loading-high@line:24"] == T0 + pd.Timedelta(hours=14, minutes=15)
    assert p.lead_time_s == 6 * 3600  # type: ignore[attr-defined]
    assert forward.latest is not None
    assert forward.latest.horizon_h == 6.0
    assert len(forward.latest.snapshots) == 24


def test_the_look_is_refreshed_every_n_intervals_and_used_in_between(
    twin: Twin, store: MeasurementStore
) -> None:
    live = LiveTwin(twin, store, write_state=False)
    forward = ForwardLooker(live, horizon_h=2.0, every_intervals=4, load_scale=SCALE)
    t = T0 + pd.Timedelta(hours=10)
    lengths = []
    for k in range(6):
        lengths.append(len(forward.forecast(live.update(t + k * STEP))))
    assert forward.looks == 2  # at the first interval and four intervals later
    assert lengths == [8, 7, 6, 5, 8, 7]
    assert forward.latest is not None
    assert forward.latest.from_utc == t + 4 * STEP
    assert forward.latest.compute_s < 5.0


def test_the_look_sees_the_profiles_scaled_or_anchored(twin: Twin, store: MeasurementStore) -> None:
    live = LiveTwin(twin, store, write_state=False)
    state = live.update(T0 + pd.Timedelta(hours=8, minutes=15))
    assert state.load_ratio == pytest.approx(SCALE)  # the store holds 5x the profiles
    at_peak = (T0 + pd.Timedelta(hours=14, minutes=15)).to_pydatetime()

    def line24(forward: ForwardLooker) -> float:
        look = forward.look(state)
        (snap,) = [s for s in look.snapshots if s.time_utc == at_peak]
        return float(snap.values[("loading_percent", "line:24")])

    plain = line24(ForwardLooker(live, load_scale=1.0))
    scaled = line24(ForwardLooker(live, load_scale=SCALE))
    anchored = ForwardLooker(live, load_scale=1.0, anchor=True)
    assert line24(anchored) == pytest.approx(scaled)
    assert anchored.latest is not None
    assert anchored.latest.anchored
    assert anchored.latest.load_factor == pytest.approx(SCALE)
    assert plain < 100.0 < scaled
    # the hot spot of the transformer is continued from the twin's thermal state
    look = anchored.latest
    assert all(("hot_spot_c", "trafo:0") in s.values for s in look.snapshots)


def test_no_forward_look_without_profiles(twin: Twin, store: MeasurementStore) -> None:
    bare = dataclasses.replace(twin, model=dataclasses.replace(twin.model, profiles=None))
    forward = ForwardLooker(LiveTwin(bare, store, write_state=False))
    assert not forward.available
    assert forward.reason is not None
    assert "no profiles" in forward.reason
    state = LiveTwin(twin, store, write_state=False).update(T0)
    assert forward.forecast(state) == ()


def test_checks_list_the_overloaded_line_at_the_evening_peak(
    twin: Twin, store: MeasurementStore
) -> None:
    live = LiveTwin(twin, store, write_state=False)
    state = live.update(T0 + pd.Timedelta(hours=17, minutes=45))
    checks = interval_checks(state, twin.model, "GOST 32144-2013")
    worst = state.line_loading_percent.idxmax()
    assert state.line_loading_percent.max() > 130
    (line,) = [v for v in checks.violations if v.element == f"line:{worst}"]
    assert line.quantity == "loading_percent"
    assert line.severity == "violation"
    assert line.limit == 100.0
    assert line.value == pytest.approx(state.line_loading_percent.max())
    assert "rating" in line.rule
    customers = customer_reference(twin.model, "GOST 32144-2013")
    assert checks.checked["customer_buses"] == len(customers)
    assert state.trafo_hot_spot_c is not None
    assert any("10-min" in n for n in checks.notes)
    # a quiet night has no violation
    night = interval_checks(live.update(T0 + pd.Timedelta(hours=3)), twin.model, "EN 50160:2010")
    assert [v for v in night.violations if v.severity == "violation"] == []


def test_a_customer_voltage_outside_the_band_is_a_check_with_its_clause(twin: Twin) -> None:
    ref = customer_reference(twin.model, "EN 50160:2010")
    bus = int(ref["bus"].iloc[0])
    state = _flat_state(twin, T0, {bus: 0.87})
    checks = interval_checks(state, twin.model, "EN 50160:2010")
    (v,) = [c for c in checks.violations if c.element == f"bus:{bus}"]
    # 0.87 pu is outside EN 50160's 95 % band (+-10 %) but inside its 100 % band (-15 %)
    assert v.severity == "warning"
    assert v.limit == pytest.approx(0.9)
    assert "EN 50160:2010 4.2.2" in v.rule
    state = _flat_state(twin, T0, {bus: 0.84})
    (v,) = [c for c in interval_checks(state, twin.model, "EN 50160:2010").violations]
    assert v.severity == "violation"
    assert v.limit == pytest.approx(0.85)


# ---------------------------------------------------------------------- compliance


def _flat_state(twin: Twin, t: pd.Timestamp, vm: dict[int, float]) -> LiveState:
    """A state with every bus at 1.0 pu but ``vm`` (used to push a bus out of band)."""
    net = twin.model.net
    values = pd.Series(1.0, index=net.bus.index, name="vm_pu")
    for bus, v in vm.items():
        values[bus] = v
    empty = pd.Series(dtype=float)
    return LiveState(t, "power_flow", values, empty, empty, 0, 0, True, 0.0)


MONDAY = pd.Timestamp("2016-01-04T00:00", tz="Europe/Berlin").tz_convert("UTC")


def test_counters_add_up_and_the_en_verdict_flips_beyond_5_percent(twin: Twin) -> None:
    comp = WeeklyCompliance(twin.model, "EN 50160:2010", "Europe/Berlin", STEP, min_intervals=96)
    bus = int(customer_reference(twin.model, "EN 50160:2010")["bus"].iloc[0])
    # 200 intervals; the bus is outside +-10 % (0.88 pu) in 10 of them: 5 %, allowed
    for k in range(200):
        comp.add(_flat_state(twin, MONDAY + k * STEP, {bus: 0.88 if k % 20 == 0 else 0.97}))
    rep = comp.report()
    assert rep.start_utc == MONDAY
    assert rep.intervals == 200 == comp.states_seen
    assert rep.intervals_expected == 672
    assert not rep.complete
    row = next(c for c in rep.customers if c.bus == bus)
    assert (row.intervals, row.n1, row.n2) == (200, 10, 0)
    assert row.share_within_10_percent == pytest.approx(95.0)
    assert row.share_within_5_percent == pytest.approx(95.0)
    assert row.verdict == "compliant so far"
    assert "EN 50160:2010 4.2.2" in rep.rules["LV"]
    others = [c for c in rep.customers if c.bus != bus]
    assert {c.verdict for c in others} == {"compliant so far"}
    assert {c.share_within_10_percent for c in others} == {100.0}
    # one more interval outside: 11 of 201 > 5 %: the verdict flips, and so does the feeder
    comp.add(_flat_state(twin, MONDAY + 200 * STEP, {bus: 0.88}))
    rep = comp.report()
    row = next(c for c in rep.customers if c.bus == bus)
    assert (row.intervals, row.n1) == (201, 11)
    assert row.verdict == "violated"
    assert "N1/N > 5 %" in row.rule
    (feeder,) = rep.feeders
    assert feeder.verdict == "violated"
    assert feeder.buses_violated == 1
    assert feeder.customer_buses == len(rep.customers)
    assert any("10-min" in n for n in rep.notes)


def test_gost_rules_and_the_previous_week(twin: Twin) -> None:
    comp = WeeklyCompliance(twin.model, "GOST 32144-2013", "Europe/Moscow", STEP, min_intervals=96)
    ref = customer_reference(twin.model, "GOST 32144-2013")
    bus, u0 = int(ref["bus"].iloc[0]), float(ref["u0_pu"].iloc[0])
    start = pd.Timestamp("2016-01-04T00:00", tz="Europe/Moscow").tz_convert("UTC")
    assert comp.week_of(start + pd.Timedelta(days=3)) == (start, start + pd.Timedelta(days=7))
    for k in range(10):
        comp.add(_flat_state(twin, start + k * STEP, {bus: u0}))
    assert next(c for c in comp.report().customers if c.bus == bus).verdict == ("insufficient data")
    # GOST 32144-2013 4.2.2: +-10 % for 100 % of the week: one interval beyond is final
    comp.add(_flat_state(twin, start + 10 * STEP, {bus: u0 * 0.88}))
    row = next(c for c in comp.report().customers if c.bus == bus)
    assert row.verdict == "violated"
    assert row.n2 == 1
    assert "GOST 32144-2013 4.2.2" in row.rule
    # a whole week, then the next one starts: the previous week's verdict is final
    for k in range(11, 672):
        comp.add(_flat_state(twin, start + k * STEP, {bus: u0}))
    comp.add(_flat_state(twin, start + 672 * STEP, {bus: u0}))
    prev = comp.report("previous")
    assert prev.complete
    assert prev.intervals == 672 == prev.intervals_expected
    verdicts = {c.bus: c.verdict for c in prev.customers}
    assert verdicts[bus] == "violated"
    other = next(b for b in verdicts if b != bus)
    # every bus but ours sat at 1.0 pu: +5.3 % of GOST's 380 V, within +-10 %
    assert verdicts[other] == "compliant"
    assert next(c for c in prev.customers if c.bus == other).share_within_5_percent == 0.0
    cur = comp.report()
    assert cur.start_utc == start + pd.Timedelta(days=7)
    assert cur.intervals == 1


def test_a_final_failure_is_violated_even_when_data_are_missing(twin: Twin) -> None:
    """A twin started mid-week has too few intervals for the standard's evaluation
    ("insufficient data" comes first there), but an interval beyond the 100 % band fails
    the week whatever the missing intervals hold: violated, at once (the console showed
    "insufficient data")."""
    comp = WeeklyCompliance(twin.model, "EN 50160:2010", "Europe/Berlin", STEP, min_intervals=4)
    bus = int(customer_reference(twin.model, "EN 50160:2010")["bus"].iloc[0])
    thursday = MONDAY + pd.Timedelta(days=3)
    for k in range(6):
        comp.add(_flat_state(twin, thursday + k * STEP, {bus: 0.97}))
    assert next(c for c in comp.report().customers if c.bus == bus).verdict == "insufficient data"
    comp.add(_flat_state(twin, thursday + 6 * STEP, {bus: 0.80}))  # beyond -15 %
    row = next(c for c in comp.report().customers if c.bus == bus)
    assert row.n2 == 1
    assert row.verdict == "violated"
    assert "beyond the 100 % limit (final" in row.rule
    others = {c.verdict for c in comp.report().customers if c.bus != bus}
    assert others == {"insufficient data"}


def test_compliance_agrees_with_the_stored_history_and_is_rebuilt_from_it(
    twin: Twin, tmp_path: Path
) -> None:
    frame, points = simbench_replay_frame(
        LV_CODE, start_utc=T0 + pd.Timedelta(hours=16), end_utc=T0 + pd.Timedelta(hours=20)
    )
    loads = [c for c in frame.columns if str(c).startswith("load:")]
    frame[loads] = frame[loads] * SCALE
    with open_store(tmp_path / "st", create=True) as st:
        st.add_points(points)
        with Pipeline(st) as pipe:
            run_sources(pipe, [ReplaySource(frame, speed=float("inf"))], threading.Event())
        live = LiveTwin(twin, st)  # writes twin:bus:<i>:vm
        comp = WeeklyCompliance(twin.model, "GOST 32144-2013", "UTC", STEP, min_intervals=4)
        for k in range(16):
            comp.add(live.update(T0 + pd.Timedelta(hours=16) + k * STEP))
        rep = comp.report()
        assert rep.intervals == 16 == comp.states_seen
        ref = customer_reference(twin.model, "GOST 32144-2013")
        ids = [f"twin:bus:{b}:vm" for b in ref["bus"]]
        hist = st.window(ids, T0, T0 + pd.Timedelta(days=1))
        assert len(hist) == 16 * len(ids)
        u0 = dict(zip(ref["bus"].astype(int), ref["u0_pu"], strict=True))
        hist["bus"] = hist["point_id"].str.split(":").str[2].astype(int)
        dev = (hist["value"] / hist["bus"].map(u0) - 1.0).abs()
        direct5 = (dev <= 0.05).groupby(hist["bus"]).mean() * 100
        direct10 = (dev <= 0.10).groupby(hist["bus"]).mean() * 100
        got5 = {c.bus: c.share_within_5_percent for c in rep.customers}
        got10 = {c.bus: c.share_within_10_percent for c in rep.customers}
        assert got5 == pytest.approx(direct5.to_dict())
        assert got10 == pytest.approx(direct10.to_dict())
        assert 0 < np.mean(list(got5.values())) < 100  # the evening moves buses in and out
        # a restart rebuilds the same counters from the stored history
        again = WeeklyCompliance(twin.model, "GOST 32144-2013", "UTC", STEP, min_intervals=4)
        assert again.rebuild(st) == 16
        rebuilt = again.report()
        assert rebuilt.intervals == 16
        assert [dataclasses.astuple(c) for c in rebuilt.customers] == [
            dataclasses.astuple(c) for c in rep.customers
        ]
