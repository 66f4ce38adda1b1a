"""Alarms on the live twin: a real overload measured in the store raises alarms that an
operator acknowledges; the state returns to normal with the values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.alarms import AlarmEvent
from gridtwin.errors import InputError
from gridtwin.store import MeasurementBatch
from gridtwin.workflows.live import LiveTwin
from gridtwin.workflows.live_alarms import LiveAlarms, element_infos
from gridtwin.workflows.telemetry import simbench_replay_frame
from gridtwin.workflows.twin import Twin
from tests.network.util import LV_CODE
from tests.workflows.util import replayed_store

T0 = pd.Timestamp("2016-01-01T00:00Z")
STEP = pd.Timedelta("15min")


@pytest.fixture(scope="module")
def twin() -> Twin:
    return Twin.load(simbench_code=LV_CODE)


def test_element_infos_follow_the_standard(twin: Twin) -> None:
    gost = element_infos(twin.model, "GOST 32144-2013")
    en = element_infos(twin.model, "EN 50160:2010")
    customer_bus = int(twin.model.net.load.bus.iloc[0])
    key = f"bus:{customer_bus}"
    assert "customer" in gost[key].tags
    assert gost[key].voltage_level == "LV"
    assert gost[key].u0_pu == pytest.approx(0.38 / 0.4)
    assert en[key].u0_pu == pytest.approx(1.0)


def test_an_overload_raises_alarms_that_are_acknowledged(twin: Twin, tmp_path: Path) -> None:
    frame, points = simbench_replay_frame(LV_CODE, end_utc=T0 + 3 * STEP)
    store = replayed_store(tmp_path / "st", frame, points)
    live = LiveTwin(twin, store, write_state=False)
    stored: list[AlarmEvent] = []
    alarms = LiveAlarms(twin.model, twin.standard, on_events=stored.extend)
    assert alarms.on_state(live.update(T0)).events == ()  # a normal interval
    # a 250 kW reading on one household load at T0 + 15 min (an LV feeder cannot carry it)
    far = int(twin.model.net.load.index[-1])
    ts = np.array([(T0 + STEP).tz_localize(None).to_datetime64()], "datetime64[us]")
    store.write(MeasurementBatch.build([f"load:{far}:p"], ts, [250.0]))
    update = alarms.on_state(live.update(T0 + STEP))
    raised = {e.instance_id for e in update.events if e.to_state == "unacknowledged"}
    assert raised, "an overload of 250 kW must raise an alarm"
    assert {alarms.state.instances[i].state for i in raised} == {"unacknowledged"}
    first = sorted(raised)[0]
    with pytest.raises(InputError, match="user"):
        alarms.act("acknowledge", first, user="")
    ack = alarms.act("acknowledge", first, user="op1", time_utc=(T0 + STEP).to_pydatetime())
    assert ack.events[-1].user == "op1"
    assert alarms.state.instances[first].state == "acknowledged"
    with pytest.raises(InputError, match="dance"):
        alarms.act("dance", first, user="op1")
    # the next interval is normal again: the acknowledged alarm returns to normal
    alarms.on_state(live.update(T0 + 2 * STEP))
    assert alarms.state.instances[first].state == "normal"
    assert stored == alarms.events  # everything went to the sink, in order
    rebuilt = LiveAlarms(twin.model, twin.standard)
    rebuilt.restore(stored)
    assert rebuilt.state.instances[first].state == "normal"
    store.close()
