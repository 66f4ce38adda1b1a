"""Protection checks of LV feeders: a deliberately weak feeder, devices given as data,
gG gates, and the loss of protection after electrification."""

from __future__ import annotations

from typing import Any

import pandapower as pp
import pytest

from gridtwin.errors import InputError
from gridtwin.network._fuses import ProtectiveDevice, default_fuse, fuse_data
from gridtwin.network.protection import (
    electrification_protection,
    lv_feeders,
    protection_check,
    scenario_protection,
)
from gridtwin.network.scenarios import ElectrificationSpec
from gridtwin.network.shortcircuit import short_circuit
from tests.network.util import simbench_model


def two_feeder_net() -> Any:
    """20/0.4 kV, 400 kVA; feeder A: 150 m NAYY 4x150 (270 A); feeder B, the weak one:
    900 m of NAYY 4x35 (0.868 + j0.086 ohm/km, 123 A) with a customer at its end."""
    net = pp.create_empty_network()
    mv = pp.create_bus(net, 20.0, name="MV")
    bb = pp.create_bus(net, 0.4, name="LV busbar")
    a = pp.create_bus(net, 0.4, name="A end")
    b1 = pp.create_bus(net, 0.4, name="B middle")
    b2 = pp.create_bus(net, 0.4, name="B end")
    pp.create_ext_grid(net, mv)
    pp.create_transformer_from_parameters(
        net, mv, bb, sn_mva=0.4, vn_hv_kv=20, vn_lv_kv=0.4, vkr_percent=1.15,
        vk_percent=4.0, pfe_kw=0.5, i0_percent=0.3, shift_degree=150,
    )  # fmt: skip
    pp.create_line_from_parameters(
        net, bb, a, length_km=0.15, r_ohm_per_km=0.206, x_ohm_per_km=0.08,
        c_nf_per_km=830.0, max_i_ka=0.27,
    )  # fmt: skip
    for f, t in ((bb, b1), (b1, b2)):
        pp.create_line_from_parameters(
            net, f, t, length_km=0.45, r_ohm_per_km=0.868, x_ohm_per_km=0.086,
            c_nf_per_km=600.0, max_i_ka=0.123,
        )  # fmt: skip
    for bus in (a, b2):
        pp.create_load(net, bus, p_mw=0.02)
    return net


def test_feeders_of_a_net() -> None:
    f = lv_feeders(two_feeder_net()).set_index("feeder")
    assert list(f.index) == ["line:0", "line:1"]
    assert f.loc["line:1", "buses"] == (3, 4)
    assert f.loc["line:1", "lines"] == (1, 2)
    assert f.loc["line:1", "i_z_a"] == pytest.approx(123.0)
    assert f.loc["line:0", "n_customers"] == 1


def test_weak_feeder_is_flagged() -> None:
    net = two_feeder_net()
    rep = protection_check(net, {"line:0": 80.0, "line:1": 60.0})
    r = rep.feeders.set_index("feeder")
    # default fuses: 270 A cable -> 200 A (1.6*250 = 400 > 1.45*270 = 391.5); 123 A -> 100 A
    assert r.loc["line:0", "i_n_a"] == 200
    assert r.loc["line:1", "i_n_a"] == 100
    # the weak feeder: far-end minimum single-phase current far below the 100 A fuse's
    # 5-s gate (580 A)
    assert r.loc["line:1", "far_bus"] == 4
    assert r.loc["line:1", "ik1_min_far_a"] < 400
    assert r.loc["line:1", "i_a_a"] == 580
    assert not r.loc["line:1", "disconnection_ok"]
    assert 'I"k1 min' in r.loc["line:1", "findings"]
    # the short, thick feeder passes everything
    assert r.loc["line:0", "disconnection_ok"]
    assert r.loc["line:0", "findings"] == ""
    assert list(rep.failing["feeder"]) == ["line:1"]


def test_overload_breaking_and_cable_checks() -> None:
    net = two_feeder_net()
    sc = short_circuit(net)
    devices = {
        "line:0": ProtectiveDevice(315.0, breaking_capacity_ka=5.0),
        "line:1": ProtectiveDevice(80.0, kind="breaker", breaking_capacity_ka=25.0),
    }
    rep = protection_check(net, {"line:0": 100.0, "line:1": 95.0}, devices=devices, sc=sc)
    r = rep.feeders.set_index("feeder")
    assert not r.loc["line:0", "in_le_iz"]  # 315 A fuse on a 270 A cable
    assert not r.loc["line:0", "i2_le_1_45_iz"]  # 504 A > 391.5 A
    assert not r.loc["line:0", "breaking_ok"]  # ~13 kA at the busbar > 5 kA
    assert not r.loc["line:1", "ib_le_in"]  # 95 A through an 80 A breaker
    # breaker: instantaneous trip at 10 I_n = 800 A, I_2 = 1.30 I_n
    assert r.loc["line:1", "i_a_a"] == 800
    assert r.loc["line:1", "i_2_a"] == pytest.approx(104.0)
    assert r.loc["line:0", "ik3_max_busbar_ka"] > 5.0


def test_final_circuit_time_is_stricter() -> None:
    net = two_feeder_net()
    sc = short_circuit(net)
    slow = protection_check(net, {}, sc=sc).feeders.set_index("feeder")
    fast = protection_check(net, {}, sc=sc, disconnection_time_s=0.4).feeders.set_index("feeder")
    assert fast.loc["line:0", "i_a_a"] > slow.loc["line:0", "i_a_a"]
    assert "approximated" in fast.loc["line:0", "i_a_basis"]


def test_gg_gates_and_defaults() -> None:
    data = fuse_data()
    # IEC 60269-1 Table 3 gates, e.g. 100 A: I_max(5 s) 580 A, I_max(0.1 s) 1450 A
    assert data.gates[100][1] == 580
    assert data.gates[100][3] == 1450
    assert data.fusing_ratio(100) == 1.6
    assert default_fuse(270.0) == 200
    assert default_fuse(10.0) is None
    t, basis = ProtectiveDevice(100.0).tripping_current_a(0.4)
    assert 580 < t < 1450
    assert "approximated" in basis
    # log-log interpolation is exact at its ends
    assert ProtectiveDevice(100.0).tripping_current_a(5.0)[0] == 580
    assert ProtectiveDevice(100.0).tripping_current_a(0.1)[0] == 1450


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rating_a": 110.0}, "rating_a"),
        ({"rating_a": 100.0, "kind": "gL"}, "kind"),
        ({"rating_a": 100.0, "kind": "breaker"}, "breaking_capacity_ka"),
        ({"rating_a": -5.0}, "rating_a"),
    ],
)
def test_device_validation(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError, match=field):
        ProtectiveDevice(**kwargs)


def test_unknown_feeder_and_bad_time() -> None:
    net = two_feeder_net()
    with pytest.raises(InputError, match="unknown feeders"):
        protection_check(net, {}, devices={"line:7": ProtectiveDevice(100.0)})
    with pytest.raises(InputError, match="disconnection_time_s"):
        protection_check(net, {}, disconnection_time_s=10.0)


def test_scenario_comparison_on_the_hand_net() -> None:
    """Feeder A's load grows past its 200 A fuse: re-fused to 250 A, which no longer
    protects the 4x150 cable (I_2 = 400 A > 391.5 A); feeder B is unchanged."""
    net = two_feeder_net()
    sc = short_circuit(net)
    before = protection_check(net, {"line:0": 120.0, "line:1": 40.0}, sc=sc)
    after = protection_check(net, {"line:0": 230.0, "line:1": 45.0}, sc=sc, resize_for_load=True)
    cmp = scenario_protection(before, after).set_index("feeder")
    assert cmp.loc["line:0", "i_n_after_a"] == 250
    assert cmp.loc["line:0", "overloads_device"]
    assert cmp.loc["line:0", "loses_cable_protection"]
    assert not cmp.loc["line:1", "overloads_device"]
    assert not cmp.loc["line:1", "loses_cable_protection"]


@pytest.mark.slow
def test_electrification_loses_protection_on_simbench() -> None:
    """Every household of SimBench semiurb4 electrified (9 kW heat pump, 11 kW charger;
    a January day): feeder line:24's load outgrows its 200 A fuse; the 315 A fuse it
    needs no longer protects the 4x150 cable nor trips within 5 s at the far end."""
    model = simbench_model("1-LV-semiurb4--0-sw")
    spec = ElectrificationSpec(
        share=1.0, heat_pump_kw=9.0, heat_pump_share=1.0, ev_kw=11.0, ev_share=1.0
    )
    before, _, cmp = electrification_protection(model, spec, steps=slice(1344, 1440))
    c = cmp.set_index("feeder")
    assert before.feeders["disconnection_ok"].all()
    assert c.loc["line:24", "i_n_before_a"] == 200
    assert c.loc["line:24", "i_n_after_a"] == 315
    assert c.loc["line:24", "loses_sensitivity"]
    assert c.loc["line:24", "loses_cable_protection"]
    assert 'I"k1 min' in c.loc["line:24", "findings"]
    assert not c.loc["line:33", "loses_sensitivity"]
    assert c.loc["line:9", "i_b_after_a"] > c.loc["line:9", "i_b_before_a"]
