"""Q(U) characteristics of inverters in the fixed-point time series: the solution obeys
the characteristic, pandapower reproduces it with those reactive powers fixed, the
relaxation keeps many inverters behind one transformer convergent, and bad input is
refused."""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import (
    Controls,
    KeepSummary,
    NetworkModel,
    PowerFactorControl,
    PowerFlowOptions,
    Profiles,
    ReactivePowerControl,
    simulate,
)
from gridtwin.network.scenarios import add_pv

from .util import LV_CODE, feature_model, simbench_model

CURVE = ((0.93, 0.97, 1.03, 1.07), (0.436, 0.0, 0.0, -0.436))


def _pv_grid() -> tuple[NetworkModel, slice]:
    """semiurb4 with 25 kWp on every load bus, and its sunniest day."""
    model, _ = add_pv(simbench_model(LV_CODE), share=1.0, kwp=25.0)
    prof = model.profiles
    assert prof is not None
    pv = prof.sgen_p_mw.to_numpy().sum(axis=1)
    day = int(np.argmax(pv)) // 96 * 96
    return model, slice(day, day + 96)


def test_q_of_u_is_solved_with_the_power_flow() -> None:
    model, day = _pv_grid()
    sgens = tuple(int(i) for i in model.net.sgen.index)
    control = ReactivePowerControl(sgens, *CURVE)
    plain = simulate(model, steps=day)
    res = simulate(model, steps=day, controls=Controls(reactive_power=[control]))
    assert res.converged.all()
    assert res.sgen_q_mvar is not None
    assert res.q_control_sgen_ids is not None
    assert np.nanmax(plain.vm_pu) > 1.07  # the plain day is over-voltage ...
    assert np.nanmax(res.vm_pu) < np.nanmax(plain.vm_pu) - 0.02  # ... Q(U) pulls it down
    # at the solution every inverter sits on its characteristic
    sn = model.net.sgen.loc[res.q_control_sgen_ids, "sn_mva"].to_numpy()
    pos = {int(b): k for k, b in enumerate(res.bus_ids)}
    buses = model.net.sgen.loc[res.q_control_sgen_ids, "bus"].to_numpy()
    vm = res.vm_pu[:, [pos[int(b)] for b in buses]]
    expected = np.interp(vm, CURVE[0], CURVE[1]) * sn
    np.testing.assert_allclose(res.sgen_q_mvar, expected, rtol=0, atol=1e-9)
    assert np.nanmin(res.sgen_q_mvar) == pytest.approx(-0.436 * 0.025)  # saturated
    # pandapower with those reactive powers fixed gives the same voltages
    prof = model.profiles
    assert prof is not None
    k = int(np.nanargmax(np.nanmax(res.vm_pu, axis=1)))
    net = copy.deepcopy(model.net)
    for name, frame in prof.frames().items():
        if frame.shape[1]:
            table, _, column = name.partition("_")
            net[table].loc[frame.columns, column] = frame.iloc[day.start + k].to_numpy()
    scaling = net.sgen.loc[res.q_control_sgen_ids, "scaling"].to_numpy()
    net.sgen.loc[res.q_control_sgen_ids, "q_mvar"] = res.sgen_q_mvar[k] / scaling
    pp.runpp(net, calculate_voltage_angles=True, tolerance_mva=1e-11, numba=False)
    vm_pp = net.res_bus.vm_pu.reindex(res.bus_ids).to_numpy()
    assert np.nanmax(np.abs(vm_pp - res.vm_pu[k])) <= 1e-9
    # streamed statistics carry the same reactive powers
    stats = simulate(
        model, steps=day, controls=Controls(reactive_power=[control]), keep=KeepSummary()
    )
    np.testing.assert_allclose(stats.sgen_q_mvar, res.sgen_q_mvar, rtol=0, atol=1e-12)


def test_steep_characteristics_stay_convergent() -> None:
    """31 inverters behind one 400 kVA transformer with a 0.05 pu wide ramp to full
    reactive power: undamped, the iteration's loop gain is above one."""
    model, day = _pv_grid()
    steep = ReactivePowerControl(
        tuple(int(i) for i in model.net.sgen.index), (1.0, 1.05), (0.0, -1.0)
    )
    res = simulate(model, steps=day, controls=Controls(reactive_power=[steep]))
    assert res.converged.all()
    assert res.iterations is not None
    assert res.iterations.max() < 100


def test_bad_characteristics_and_engines_are_refused() -> None:
    with pytest.raises(InputError, match="increasing"):
        ReactivePowerControl((0,), (1.0, 0.9), (0.0, 0.1))
    with pytest.raises(InputError, match=r"-1\.\.1"):
        ReactivePowerControl((0,), (0.9, 1.1), (2.0, 0.0))
    with pytest.raises(InputError, match="two or more"):
        ReactivePowerControl((0,), (1.0,), (0.0,))
    model = feature_model()  # its sgen has no sn_mva
    control = ReactivePowerControl((0,), *CURVE)
    with pytest.raises(InputError, match="sn_mva"):
        simulate(model, controls=Controls(reactive_power=[control]))
    with pytest.raises(InputError, match="fixed-point"):
        simulate(
            model,
            options=PowerFlowOptions(method="newton_raphson"),
            controls=Controls(reactive_power=[control]),
        )
    with pytest.raises(InputError, match="does not exist"):
        simulate(model, controls=Controls(reactive_power=[ReactivePowerControl((9,), *CURVE)]))


def test_cos_phi_of_p_is_the_profile_rule_for_every_engine() -> None:
    model, day = _pv_grid()
    prof = model.profiles
    assert prof is not None
    sgens = tuple(int(i) for i in model.net.sgen.index[model.net.sgen.type == "PV"])
    control = PowerFactorControl(sgens, (0.0, 0.5, 1.0), (1.0, 1.0, 0.9))
    # the same rule written into the profiles by hand
    p = prof.sgen_p_mw[list(sgens)].iloc[day]
    sn = model.net.sgen.loc[list(sgens), "sn_mva"].to_numpy()
    share = np.abs(p.to_numpy()) / sn
    q = -np.abs(p.to_numpy()) * np.tan(
        np.arccos(np.interp(share, (0.0, 0.5, 1.0), (1.0, 1.0, 0.9)))
    )
    assert q.min() < -0.005  # the sunny hours absorb reactive power
    frames = {name: frame.iloc[day] for name, frame in prof.frames().items() if frame.shape[1]}
    frames["sgen_q_mvar"] = pd.DataFrame(q, index=p.index, columns=p.columns)
    by_hand = Profiles.from_frames(prof.time_utc[day], **frames)
    for method in ("fixed_point", "newton_raphson"):
        res = simulate(
            model,
            steps=day,
            options=PowerFlowOptions(method=method),
            controls=Controls(power_factor=[control]),
        )
        ref = simulate(model, by_hand, options=PowerFlowOptions(method=method))
        # (the by-hand profiles start at position 0: other warm-start blocks, so the two
        # fixed-point runs agree within the solver tolerance, not bit for bit)
        np.testing.assert_allclose(res.vm_pu, ref.vm_pu, rtol=0, atol=1e-9, err_msg=method)
    plain = simulate(model, steps=day)
    assert np.nanmax(res.vm_pu) < np.nanmax(plain.vm_pu)


def test_cos_phi_of_p_refusals() -> None:
    with pytest.raises(InputError, match="cos_phi must be in"):
        PowerFactorControl((0,), (0.0, 1.0), (1.0, 1.2))
    with pytest.raises(InputError, match="increasing"):
        PowerFactorControl((0,), (0.5, 0.2), (1.0, 0.9))
    model, day = _pv_grid()
    sgens = tuple(int(i) for i in model.net.sgen.index[model.net.sgen.type == "PV"])
    both = Controls(
        reactive_power=[ReactivePowerControl(sgens[:1], *CURVE)],
        power_factor=[PowerFactorControl(sgens[:1], (0.0, 1.0), (1.0, 0.9))],
    )
    with pytest.raises(InputError, match="two reactive-power rules"):
        simulate(model, steps=day, controls=both)
    with pytest.raises(InputError, match="sn_mva"):
        simulate(
            feature_model(),
            controls=Controls(power_factor=[PowerFactorControl((0,), (0, 1), (1, 0.9))]),
        )
