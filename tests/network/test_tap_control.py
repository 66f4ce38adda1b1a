"""On-load tap changers in the fixed-point time series: the same tap positions and voltages
as pandapower's ``run_timeseries`` with ``DiscreteTapControl``, pandapower's transformer
model at every tap position, the controls read from a net, and what is refused."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandapower as pp
import pytest
from pandapower.control import ConstControl, DiscreteTapControl
from pandapower.timeseries import DFData, OutputWriter, run_timeseries

from gridtwin.errors import InputError
from gridtwin.network import (
    Controls,
    KeepSummary,
    PowerFlowOptions,
    Profiles,
    TapControl,
    from_net,
    simulate,
    tap_controls_from_net,
)
from gridtwin.network._fixedpoint import build_fixed_point

from .util import MV_CODE, feature_model, feature_net, simbench_model


def _scaled(prof: Profiles, n: int, factor: float) -> Profiles:
    frames = {
        name: frame.iloc[:n] * (factor if name.startswith("load") else 1.0)
        for name, frame in prof.frames().items()
        if frame.shape[1]
    }
    return Profiles.from_frames(prof.time_utc[:n], **frames)


def _pandapower_run(net: Any, prof: Profiles, controls: tuple[TapControl, ...]) -> Any:
    """pandapower's run_timeseries with ConstControl profiles and DiscreteTapControl."""
    net = copy.deepcopy(net)
    net.trafo.loc[[c.trafo for c in controls], "tap_changer_type"] = "Ratio"
    for c in controls:
        DiscreteTapControl(net, c.trafo, c.vm_lower_pu, c.vm_upper_pu, side=c.side)
    for name, frame in prof.frames().items():
        if frame.shape[1] == 0:
            continue
        table, _, column = name.partition("_")
        ConstControl(
            net,
            table,
            column,
            element_index=frame.columns.to_numpy(),
            data_source=DFData(frame.reset_index(drop=True)),
            profile_name=frame.columns.to_numpy(),
        )
    steps = range(prof.n_steps)
    ow = OutputWriter(
        net,
        time_steps=steps,
        output_path=None,
        log_variables=[("res_bus", "vm_pu"), ("trafo", "tap_pos")],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_timeseries(
            net, time_steps=steps, calculate_voltage_angles=True, tolerance_mva=1e-10, verbose=False
        )
    return ow.output


@pytest.mark.slow
def test_simbench_oltc_matches_pandapower_discrete_tap_control() -> None:
    model = simbench_model(MV_CODE)
    assert model.profiles is not None
    controls = tap_controls_from_net(model.net)
    assert [c.trafo for c in controls] == [0, 1]  # SimBench autoTap, set point 1.025 pu
    assert controls[0].vm_lower_pu == pytest.approx(1.025 - 0.0075 - 0.001)
    prof = _scaled(model.profiles, 192, 5.0)  # heavy enough to move the taps both ways
    res = simulate(model, prof, controls=Controls(taps=controls))
    assert res.trafo_tap_pos is not None
    assert res.tap_trafo_ids is not None
    assert res.tap_trafo_ids.tolist() == [0, 1]
    assert len(np.unique(res.trafo_tap_pos)) >= 2
    assert np.any(np.diff(res.trafo_tap_pos, axis=0) > 0)
    assert np.any(np.diff(res.trafo_tap_pos, axis=0) < 0)
    ref = _pandapower_run(model.net, prof, controls)
    taps = ref["trafo.tap_pos"][[0, 1]].to_numpy()
    np.testing.assert_array_equal(res.trafo_tap_pos, taps)
    vm = ref["res_bus.vm_pu"].reindex(columns=res.bus_ids).to_numpy()
    assert np.nanmax(np.abs(vm - res.vm_pu)) <= 1e-9
    # without the control the MV voltage simply follows the load
    free = simulate(model, prof)
    assert free.trafo_tap_pos is None
    assert np.nanmax(np.abs(free.vm_pu - res.vm_pu)) > 0.005


def test_two_ports_at_every_position_are_pandapowers() -> None:
    """Taps on the HV side (trafo 0) and the LV side (trafo 1, where pandapower also
    rescales r and x) at every position, against pandapower's own build there."""
    net = feature_net()
    controls = (TapControl(0, 0.98, 1.02), TapControl(1, 0.98, 1.02))
    fp = build_fixed_point(net, tap_controls=controls)
    td = fp.taps
    for c, tid in enumerate((0, 1)):
        for k in range(int(td.n_pos[c])):
            other = copy.deepcopy(net)
            other.trafo.loc[tid, "tap_pos"] = float(td.tap_min[c] + k)
            plain = build_fixed_point(other)
            b = int(td.branch[c])
            got = td.y[c, k]
            want = [plain.y_ff[b], plain.y_ft[b], plain.y_tf[b], plain.y_tt[b]]
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=0, err_msg=f"{tid} {k}")
    assert td.base.tolist() == [2 - (-2), -1 - (-3)]  # the net's own tap_pos


def test_results_carry_taps_across_chunks_and_into_statistics() -> None:
    model = simbench_model(MV_CODE)
    assert model.profiles is not None
    prof = _scaled(model.profiles, 96, 5.0)
    controls = tap_controls_from_net(model.net)
    whole = simulate(model, prof, controls=Controls(taps=controls))
    chunked = simulate(
        model,
        prof,
        options=PowerFlowOptions(chunk_steps=7, threading=0),
        controls=Controls(taps=controls),
    )
    assert whole.trafo_tap_pos is not None
    np.testing.assert_array_equal(chunked.trafo_tap_pos, whole.trafo_tap_pos)
    np.testing.assert_allclose(chunked.vm_pu, whole.vm_pu, rtol=0, atol=1e-10)
    stats = simulate(
        model,
        prof,
        options=PowerFlowOptions(chunk_steps=10),
        controls=Controls(taps=controls),
        keep=KeepSummary(),
    )
    np.testing.assert_array_equal(stats.trafo_tap_pos, whole.trafo_tap_pos)


def test_hunting_is_reported() -> None:
    model = feature_model()
    narrow = (TapControl(0, 1.0, 1.0005),)  # narrower than one 2.5 % tap step
    res = simulate(model, controls=Controls(taps=narrow))
    assert res.converged.all()
    assert any("did not settle" in n for n in res.notes)


def test_controls_from_pandapower_controllers_and_refusals() -> None:
    net = feature_net()
    DiscreteTapControl(net, 1, 0.97, 1.03, side="lv")
    assert tap_controls_from_net(net) == (TapControl(1, 0.97, 1.03, "lv"),)
    model = from_net(net, feature_model().profiles)
    with pytest.raises(InputError, match="fixed-point"):
        simulate(
            model,
            options=PowerFlowOptions(method="iterative_current"),
            controls=Controls(taps=[TapControl(0, 0.98, 1.02)]),
        )
    with pytest.raises(InputError, match="trafo 7 does not exist"):
        simulate(model, controls=Controls(taps=[TapControl(7, 0.98, 1.02)]))
    with pytest.raises(InputError, match="two tap controls"):
        simulate(
            model, controls=Controls(taps=[TapControl(0, 0.98, 1.02), TapControl(0, 0.9, 1.1)])
        )
    with pytest.raises(InputError, match="vm_lower_pu < vm_upper_pu"):
        TapControl(0, 1.02, 0.98)
    net2 = feature_net()
    net2.trafo.loc[0, "tap_step_percent"] = np.nan
    with pytest.raises(InputError, match="tap_step_percent"):
        build_fixed_point(net2, tap_controls=[TapControl(0, 0.98, 1.02)])


def test_building_with_controls_leaves_the_net_alone() -> None:
    net = feature_net()
    net.trafo["tap_changer_type"] = None
    before = pp.to_json(net)
    build_fixed_point(net, tap_controls=[TapControl(0, 0.98, 1.02)])
    assert pp.to_json(net) == before
