"""Batch power flow: closed forms, agreement with pandapower, convergence handling,
chunking and unbalanced calculations."""

from __future__ import annotations

import cmath
import math
import re

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridtwin.errors import ConvergenceError, InputError
from gridtwin.network import NetworkModel, PowerFlowOptions, Profiles, from_net, simulate
from tests.network.util import (
    LV_CODE,
    MV_CODE,
    feature_model,
    hours,
    pandapower_step,
    simbench_model,
    two_bus_net,
)

R_OHM, X_OHM, VN_KV = 0.12, 0.05, 0.4
LOADS_MW = np.array([0.05, 0.12, -0.03])  # the last step exports
LOADS_MVAR = np.array([0.02, 0.04, 0.0])


def two_bus_model() -> NetworkModel:
    net = two_bus_net(R_OHM, X_OHM, VN_KV)
    idx = hours(len(LOADS_MW))
    prof = Profiles.from_frames(
        idx,
        load_p_mw=pd.DataFrame({0: LOADS_MW}, index=idx),
        load_q_mvar=pd.DataFrame({0: LOADS_MVAR}, index=idx),
    )
    return from_net(net, prof, name="two-bus")


def test_two_bus_closed_form() -> None:
    res = simulate(two_bus_model())
    # |V|^4 - (E^2 - 2(RP + XQ)) |V|^2 + (R^2 + X^2)(P^2 + Q^2) = 0, kV / MW / ohm
    b = VN_KV**2 - 2 * (R_OHM * LOADS_MW + X_OHM * LOADS_MVAR)
    c = (R_OHM**2 + X_OHM**2) * (LOADS_MW**2 + LOADS_MVAR**2)
    v2 = (b + np.sqrt(b**2 - 4 * c)) / 2
    assert res.converged.all()
    np.testing.assert_allclose(res.vm_pu[:, 1], np.sqrt(v2) / VN_KV, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.vm_pu[:, 0], 1.0, rtol=0, atol=1e-12)
    # loss = 3 I^2 R with I = S / (sqrt(3) |V|)
    loss = R_OHM * (LOADS_MW**2 + LOADS_MVAR**2) / v2
    np.testing.assert_allclose(res.p_loss_mw, loss, rtol=1e-9, atol=0)
    i_ka = np.sqrt(LOADS_MW**2 + LOADS_MVAR**2) / (math.sqrt(3) * np.sqrt(v2))
    np.testing.assert_allclose(res.line_i_ka[:, 0], i_ka, rtol=1e-9)
    np.testing.assert_allclose(res.line_loading_percent[:, 0], i_ka / 0.5 * 100, rtol=1e-9)
    np.testing.assert_allclose(res.ext_grid_p_mw[:, 0], LOADS_MW + loss, rtol=1e-9, atol=1e-12)


def _compare(
    model: NetworkModel, prof: Profiles, steps: list[int], **pp_kw: object
) -> dict[str, float]:
    res = simulate(
        model,
        prof,
        steps=steps,
        options=PowerFlowOptions(trafo_model=pp_kw.get("trafo_model", "t")),
    )
    assert res.converged.all()
    worst = {"vm": 0.0, "va": 0.0, "line": 0.0, "trafo": 0.0, "loss": 0.0}
    for k, t in enumerate(steps):
        net = pandapower_step(model, prof, t, **pp_kw)
        vm_pp = net.res_bus.vm_pu.reindex(res.bus_ids).to_numpy()
        assert np.array_equal(np.isnan(vm_pp), np.isnan(res.vm_pu[k]))
        worst["vm"] = max(worst["vm"], float(np.nanmax(np.abs(res.vm_pu[k] - vm_pp))))
        dva = (res.va_degree[k] - net.res_bus.va_degree.reindex(res.bus_ids).to_numpy() + 180) % 360
        worst["va"] = max(worst["va"], float(np.nanmax(np.abs(dva - 180))))
        in_service = net.line.in_service.reindex(res.line_ids).to_numpy()
        dl = res.line_loading_percent[k] - net.res_line.loading_percent.reindex(res.line_ids)
        worst["line"] = max(worst["line"], float(np.abs(dl.to_numpy()[in_service]).max()))
        if len(res.trafo_ids):
            dt = (
                res.trafo_loading_percent[k]
                - net.res_trafo.loading_percent.reindex(res.trafo_ids).to_numpy()
            )
            worst["trafo"] = max(worst["trafo"], float(np.abs(dt).max()))
        loss = net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()
        worst["loss"] = max(worst["loss"], abs(float(res.p_loss_mw[k] - loss)))
    return worst


def _sample_steps(prof: Profiles, n: int = 20, seed: int = 7) -> list[int]:
    rng = np.random.default_rng(seed)
    steps = rng.choice(prof.n_steps, size=n, replace=False).tolist()
    total = prof.load_p_mw.to_numpy().sum(axis=1)
    return sorted({*steps, int(np.argmax(total))})


def test_feature_net_matches_pandapower() -> None:
    """Taps on both sides, parallel units, df, conductance, shunt, storage, sgen, an open
    line switch (dangling cable), a closed bus-bus switch, out-of-service and isolated
    elements."""
    model = feature_model()
    assert model.profiles is not None
    worst = _compare(model, model.profiles, list(range(model.profiles.n_steps)))
    assert worst["vm"] < 1e-8
    assert worst["va"] < 1e-6
    assert worst["line"] < 1e-6
    assert worst["trafo"] < 1e-6
    assert worst["loss"] < 1e-9


def test_trafo_pi_model_matches_pandapower_pi() -> None:
    model = feature_model()
    assert model.profiles is not None
    worst = _compare(model, model.profiles, [0, 1], trafo_model="pi")
    assert worst["vm"] < 1e-8
    assert worst["trafo"] < 1e-6


def test_simbench_lv_matches_pandapower() -> None:
    model = simbench_model(LV_CODE)
    assert model.profiles is not None
    worst = _compare(model, model.profiles, _sample_steps(model.profiles))
    assert worst["vm"] <= 1e-6
    assert worst["va"] <= 1e-4
    assert worst["line"] <= 1e-4
    assert worst["trafo"] <= 1e-4


def test_simbench_mv_with_open_rings_matches_pandapower() -> None:
    model = simbench_model(MV_CODE)
    assert model.profiles is not None
    assert (~model.net.switch.closed).sum() > 0  # open ring points
    worst = _compare(model, model.profiles, _sample_steps(model.profiles))
    assert worst["vm"] <= 1e-6
    assert worst["va"] <= 1e-4
    assert worst["line"] <= 1e-4
    assert worst["trafo"] <= 1e-4


def _extreme_profiles(model: NetworkModel, bad: list[int]) -> Profiles:
    prof = model.profiles
    assert prof is not None
    lp, lq = prof.load_p_mw.copy(), prof.load_q_mvar.copy()
    lp.iloc[bad] *= 1000.0
    lq.iloc[bad] *= 1000.0
    return prof.replace(load_p_mw=lp, load_q_mvar=lq)


def test_non_convergence_is_reported_per_step() -> None:
    model = simbench_model(LV_CODE)
    prof = _extreme_profiles(model, [3, 5])
    res = simulate(model, prof, steps=slice(0, 8), options=PowerFlowOptions(chunk_steps=4))
    assert res.converged.tolist() == [True, True, True, False, True, False, True, True]
    for name in (
        "vm_pu",
        "va_degree",
        "line_i_ka",
        "line_loading_percent",
        "trafo_i_hv_ka",
        "trafo_loading_percent",
        "ext_grid_p_mw",
    ):
        values = getattr(res, name)
        assert np.isnan(values[[3, 5]]).all(), name
        assert not np.isnan(values[[0, 1, 2, 4, 6, 7]]).all(), name
    assert np.isnan(res.p_loss_mw[[3, 5]]).all()
    assert any("failed" in n for n in res.notes)
    summary = res.summary()
    assert summary.converged_steps == 6
    assert summary.first_failed_utc == prof.time_utc[3]
    with pytest.raises(ConvergenceError, match=re.escape(prof.time_utc[3].isoformat())):
        simulate(model, prof, steps=slice(0, 8), options=PowerFlowOptions(strict=True))


def test_chunks_and_step_subsets_give_identical_results() -> None:
    model = feature_model()
    whole = simulate(model)
    chunked = simulate(model, options=PowerFlowOptions(chunk_steps=3))
    for name in ("vm_pu", "va_degree", "line_i_ka", "trafo_loading_percent", "p_loss_mw"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(chunked, name))
    sub = simulate(model, steps=[3, 1])
    assert list(sub.time_utc) == [whole.time_utc[3], whole.time_utc[1]]
    # the fixed point warm-starts a step from the one before when it was solved too: a
    # step solved alone differs within the tolerance only
    np.testing.assert_allclose(sub.vm_pu, whole.vm_pu[[3, 1]], rtol=0, atol=1e-10)
    nr_whole = simulate(model, options=PowerFlowOptions(method="newton_raphson"))
    nr_sub = simulate(model, steps=[3, 1], options=PowerFlowOptions(method="newton_raphson"))
    np.testing.assert_array_equal(nr_sub.vm_pu, nr_whole.vm_pu[[3, 1]])
    with pytest.raises(InputError, match="outside"):
        simulate(model, steps=[0, 99])
    seen: list[tuple[int, int]] = []
    simulate(
        model,
        progress=lambda done, total: seen.append((done, total)),
        options=PowerFlowOptions(chunk_steps=3),
    )
    assert seen == [(3, 4), (4, 4)]


def test_simulate_never_mutates_the_net() -> None:
    model = feature_model()
    before = pp.to_json(model.net)
    simulate(model, options=PowerFlowOptions(chunk_steps=2))
    assert pp.to_json(model.net) == before


def test_simulate_refuses_invalid_models() -> None:
    model = feature_model()
    net = model.copy_net()
    net.line.loc[0, "x_ohm_per_km"] = np.nan
    with pytest.raises(InputError, match=r"line\[0\]\.x_ohm_per_km"):
        simulate(from_net(net, model.profiles))
    with pytest.raises(InputError, match="no profiles"):
        simulate(model.with_profiles(None))
    with pytest.raises(InputError, match="symmetric=False"):
        simulate(model, options=PowerFlowOptions(load_phases={0: "a"}))


# --- unbalanced -------------------------------------------------------------------------


def test_unbalanced_with_balanced_loads_equals_balanced() -> None:
    model = feature_model()
    sym = simulate(model)
    asym = simulate(model, options=PowerFlowOptions(symmetric=False, zero_sequence="lv_cable_4x"))
    assert asym.vm_pu.shape == (*sym.vm_pu.shape, 3)
    np.testing.assert_allclose(asym.vm_pu, np.repeat(sym.vm_pu[:, :, None], 3, axis=2), atol=1e-9)
    shift = (asym.va_degree - sym.va_degree[:, :, None] + 180) % 360 - 180
    np.testing.assert_allclose(np.nan_to_num(shift[0, 0]), [0.0, -120.0, 120.0], atol=1e-7)
    np.testing.assert_allclose(asym.line_loading_percent, sym.line_loading_percent, atol=1e-7)
    np.testing.assert_allclose(asym.trafo_loading_percent, sym.trafo_loading_percent, atol=1e-7)
    np.testing.assert_allclose(asym.p_loss_mw, sym.p_loss_mw, atol=1e-12)


def test_single_phase_load_closed_form() -> None:
    """Phase-a load on a 4-wire line: Va = E - Ia (Z0 + 2 Z1)/3, Vb = E a^2 - Ia (Z0 - Z1)/3."""
    r1, x1 = 0.2, 0.08
    r0, x0 = 4 * r1, 4 * x1
    net = two_bus_net(r1, x1, VN_KV)
    net.line["r0_ohm_per_km"], net.line["x0_ohm_per_km"] = r0, x0
    net.line["c0_nf_per_km"] = 0.0
    idx = hours(2)
    p_mw, q_mvar = np.array([0.01, 0.02]), np.array([0.003, 0.0])
    prof = Profiles.from_frames(
        idx,
        load_p_mw=pd.DataFrame({0: p_mw}, index=idx),
        load_q_mvar=pd.DataFrame({0: q_mvar}, index=idx),
    )
    res = simulate(
        from_net(net, prof), options=PowerFlowOptions(symmetric=False, load_phases={0: "a"})
    )
    assert res.converged.all()
    e = VN_KV * 1e3 / math.sqrt(3)
    z1, z0 = complex(r1, x1), complex(r0, x0)
    zs = (z0 + 2 * z1) / 3
    a2 = cmath.exp(-2j * math.pi / 3)
    for t in range(2):
        s = complex(p_mw[t], q_mvar[t]) * 1e6
        b = e**2 - 2 * (zs.real * s.real + zs.imag * s.imag)
        v2 = (b + math.sqrt(b**2 - 4 * abs(zs) ** 2 * abs(s) ** 2)) / 2
        va = (v2 + zs.conjugate() * s) / e
        ia = (s / va).conjugate()
        vb = e * a2 - ia * (z0 - z1) / 3
        vc = e * a2.conjugate() - ia * (z0 - z1) / 3
        np.testing.assert_allclose(
            res.vm_pu[t, 1], [abs(va) / e, abs(vb) / e, abs(vc) / e], atol=1e-9
        )
        np.testing.assert_allclose(res.line_i_ka[t, 0], [abs(ia) / 1e3, 0, 0], atol=1e-12)
        np.testing.assert_allclose(res.p_loss_mw[t], abs(ia) ** 2 * zs.real / 1e6, rtol=1e-9)


def test_unbalanced_needs_zero_sequence_data() -> None:
    model = feature_model()
    with pytest.raises(InputError, match="lv_cable_4x"):
        simulate(model, options=PowerFlowOptions(symmetric=False))
    with pytest.raises(InputError, match="'a', 'b', 'c'"):
        simulate(
            model,
            options=PowerFlowOptions(
                symmetric=False, zero_sequence="lv_cable_4x", load_phases={0: "x"}
            ),
        )
    with pytest.raises(InputError, match="not in the load table"):
        simulate(
            model,
            options=PowerFlowOptions(
                symmetric=False, zero_sequence="lv_cable_4x", load_phases={99: "a"}
            ),
        )
