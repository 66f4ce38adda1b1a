"""One step at a time on a model built once (the live twin's power flow) equals the
batch power flow and pandapower, step after step with changing set-points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import StepPowerFlow, simulate
from tests.network.util import LV_CODE, pandapower_step, simbench_model


def test_each_step_equals_the_batch_power_flow_and_pandapower() -> None:
    model = simbench_model(LV_CODE)
    prof = model.profiles
    assert prof is not None
    flow = StepPowerFlow(model, prof.select([0]))
    assert flow.fast  # the solver reads the arrays the steps are written into
    rng = np.random.default_rng(3)
    # steps of the year in no order, and the loads scaled differently each time (as
    # measured values would be), so that nothing carries over from one step to the next
    for step in (40, 3, 17_000, 40, 9_000):
        scale = rng.uniform(0.5, 3.0)
        one = prof.select([step])
        frames = {name: frame.iloc[0] for name, frame in one.frames().items()}
        frames["load_p_mw"] = frames["load_p_mw"] * scale
        frames["load_q_mvar"] = frames["load_q_mvar"] * scale
        got = flow.solve(frames)
        scaled = prof.select([step])
        scaled_frames = scaled.frames()
        scaled_frames["load_p_mw"] = scaled_frames["load_p_mw"] * scale
        scaled_frames["load_q_mvar"] = scaled_frames["load_q_mvar"] * scale
        want_prof = type(prof).from_frames(scaled.time_utc, **scaled_frames)
        want = simulate(model, want_prof)
        assert got.converged.all()
        np.testing.assert_allclose(got.vm_pu, want.vm_pu, rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            got.line_loading_percent, want.line_loading_percent, rtol=0, atol=1e-9
        )
        net = pandapower_step(model, want_prof, 0)
        np.testing.assert_allclose(
            got.vm_pu[0], net.res_bus.loc[got.bus_ids, "vm_pu"].to_numpy(), rtol=0, atol=1e-8
        )


def test_missing_values_are_refused() -> None:
    model = simbench_model(LV_CODE)
    prof = model.profiles
    assert prof is not None
    flow = StepPowerFlow(model, prof.select([0]))
    frames = {name: frame.iloc[0] for name, frame in prof.select([1]).frames().items()}
    with pytest.raises(InputError, match="load_p_mw lacks"):
        flow.solve({**frames, "load_p_mw": frames["load_p_mw"].iloc[1:]})
    with pytest.raises(InputError, match="no values for"):
        flow.solve({k: v for k, v in frames.items() if k != "sgen_p_mw"})
    with pytest.raises(InputError, match="2 steps"):
        StepPowerFlow(model, prof.select([0, 1]))
    assert isinstance(frames["load_p_mw"], pd.Series)


@pytest.mark.filterwarnings("ignore:tap_dependency_table is missing:DeprecationWarning")
@pytest.mark.parametrize("name", ["mv_oberrhein", "cigre_mv"])
def test_pandapower_networks_step_by_step_equal_the_batch(name: str) -> None:
    import pandapower.networks as pn

    from gridtwin.network import Profiles, from_net

    net = pn.mv_oberrhein() if name == "mv_oberrhein" else pn.create_cigre_network_mv("pv_wind")
    idx = pd.date_range("2025-01-01", periods=3, freq="15min", tz="UTC", name="time_utc")
    rng = np.random.default_rng(1)

    def scaled(values: pd.Series, low: float, high: float) -> pd.DataFrame:
        factors = rng.uniform(low, high, len(idx))
        return pd.DataFrame(np.outer(factors, values.to_numpy()), index=idx, columns=values.index)

    prof = Profiles.from_frames(
        idx,
        load_p_mw=scaled(net.load.p_mw, 0.3, 1.2),
        load_q_mvar=scaled(net.load.q_mvar, 0.3, 1.2),
        sgen_p_mw=scaled(net.sgen.p_mw, 0.0, 1.0),
        sgen_q_mvar=scaled(net.sgen.q_mvar, 0.0, 0.0),
    )
    model = from_net(net, prof, name=name)
    flow = StepPowerFlow(model, prof.select([0]))
    assert flow.fast
    want = simulate(model, prof)
    for t in (2, 0, 1):
        got = flow.solve({k: f.iloc[t] for k, f in prof.frames().items()})
        np.testing.assert_allclose(got.vm_pu[0], want.vm_pu[t], rtol=0, atol=1e-10)
