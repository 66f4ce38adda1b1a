"""The live twin on a SimBench MV grid, half metered: a state estimation, not the fallback.

The grid's substation (two coupled 110 kV busbar sections, the source on one, two
parallel 110/20 kV transformers, two coupled 20 kV sections) is that of SimBench's
9,099-bus MV/LV grid, where the live twin fell back to a power flow on profile values
because power-grid-model's LU failed on it (tests/network/test_estimation_busbars.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.network import simulate
from gridtwin.workflows import live as live_module
from gridtwin.workflows.live import LiveTwin
from gridtwin.workflows.telemetry import simbench_replay_frame
from gridtwin.workflows.twin import Twin
from tests.network.util import MV_CODE
from tests.workflows.util import replayed_store

T0 = pd.Timestamp("2016-01-01T00:00Z")
STEP = pd.Timedelta("15min")


@pytest.fixture(scope="module")
def twin() -> Twin:
    return Twin.load(simbench_code=MV_CODE)


def _half_metered(twin: Twin, tmp_path: Path) -> object:
    """Every second load's points and all PV points, two intervals, in a real store."""
    frame, points = simbench_replay_frame(MV_CODE, end_utc=T0 + 2 * STEP, model=twin.model)
    half = set(twin.model.net.load.index[::2].tolist())
    points = [p for p in points if not p.element.startswith("load:") or int(p.element[5:]) in half]
    frame = frame[[p.point_id for p in points]]
    return replayed_store(tmp_path / "st", frame, points)


def test_the_substation_layout_is_the_one_that_failed(twin: Twin) -> None:
    net = twin.model.net
    couplers = net.switch[(net.switch.et == "b") & net.switch.closed.astype(bool)]
    assert int(net.ext_grid.bus.iloc[0]) in set(couplers.bus) | set(couplers.element)
    assert (net.trafo.vn_hv_kv > 100).sum() == 2


def test_half_metered_mv_grid_is_estimated(twin: Twin, tmp_path: Path) -> None:
    store = _half_metered(twin, tmp_path)
    live = LiveTwin(twin, store, write_state=False)
    state = live.update(T0 + STEP)
    assert state.method == "state_estimation", state.notes
    assert state.chi2_passed is True
    assert any(n.startswith("chi-square test passed") for n in state.notes)
    # meters and pseudo values are the same profile here: the estimate is the power flow
    reference = simulate(twin.model, twin.model.profiles, steps=slice(1, 2))
    np.testing.assert_allclose(state.vm_pu.to_numpy(), reference.vm_pu[0], atol=1e-6)
    np.testing.assert_allclose(
        state.trafo_loading_percent.to_numpy(), reference.trafo_loading_percent[0], atol=1e-3
    )
    # a small grid: normalised residuals every interval
    assert live._estimator.options.normalized_residuals == "always"
    store.close()


def test_a_large_grid_computes_normalised_residuals_on_alarm(
    twin: Twin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "LARGE_GRID_BUSES", 50)  # the MV grid counts as large
    store = _half_metered(twin, tmp_path)
    live = LiveTwin(twin, store, write_state=False)
    state = live.update(T0)
    assert state.method == "state_estimation", state.notes
    opts = live._estimator.options
    assert (opts.normalized_residuals, opts.rn_max_rows) == (
        "on_alarm",
        live_module.LARGE_GRID_RN_ROWS,
    )
    store.close()
