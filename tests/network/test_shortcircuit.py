"""IEC 60909 short-circuit currents: a hand-checked case, pandapower against
power-grid-model, SimBench LV grids."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandapower as pp
import pytest

from gridtwin.errors import InputError
from gridtwin.network.shortcircuit import (
    ShortCircuitOptions,
    compare_engines,
    short_circuit,
    voltage_factor,
)
from tests.network.util import simbench_model

# the hand case: 20 kV grid (250 / 100 MVA, R/X 0.1) - 400 kVA Dyn 20/0.4 kV, uk 4 %,
# ukr 1.15 % - 300 m of NAYY 4x150 (0.206 + j0.08 ohm/km)
S_MAX, S_MIN, RX = 250.0, 100.0, 0.1
SN, VK, VKR = 0.4, 4.0, 1.15
R_KM, X_KM, L_KM = 0.206, 0.08, 0.3
UN_LV, UN_MV = 400.0, 20_000.0


def hand_net() -> Any:
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, 20.0, name="MV")
    b1 = pp.create_bus(net, 0.4, name="LV busbar")
    b2 = pp.create_bus(net, 0.4, name="far end")
    pp.create_ext_grid(net, b0)
    pp.create_transformer_from_parameters(
        net, b0, b1, sn_mva=SN, vn_hv_kv=20, vn_lv_kv=0.4, vkr_percent=VKR,
        vk_percent=VK, pfe_kw=0.5, i0_percent=0.3, shift_degree=150,
    )  # fmt: skip
    pp.create_line_from_parameters(
        net, b1, b2, length_km=L_KM, r_ohm_per_km=R_KM, x_ohm_per_km=X_KM,
        c_nf_per_km=830.0, max_i_ka=0.27,
    )  # fmt: skip
    pp.create_load(net, b2, p_mw=0.05)
    return net


def hand_currents(case: str) -> dict[str, float]:
    """I"k at the far end (bus 2) by the formulas of IEC 60909-0:2016, in kA."""
    c = 1.10 if case == "max" else 0.90  # Table 1, LV with 10 % tolerance
    c_q = 1.10 if case == "max" else 1.00  # Table 1, 1-35 kV
    s_q = S_MAX if case == "max" else S_MIN
    # eq. (6): Z_Q = c_Q U_nQ^2 / S"kQ, referred to LV by 1/t^2 (t = 20/0.4);
    # X_Q = Z_Q / sqrt(1 + (R/X)^2)
    z_q = c_q * UN_MV**2 / (s_q * 1e6) / (UN_MV / UN_LV) ** 2
    x_q = z_q / math.sqrt(1 + RX**2)
    zq = complex(RX * x_q, x_q)
    # eq. (7)-(9): Z_T = u_kr U_rT^2 / S_rT, R_T = u_Rr U_rT^2 / S_rT
    z_base = UN_LV**2 / (SN * 1e6)
    r_t = VKR / 100 * z_base
    x_t = math.sqrt((VK / 100) ** 2 - (VKR / 100) ** 2) * z_base
    # eq. (12a): K_T = 0.95 c_max / (1 + 0.6 x_T), maximum case only
    k_t = 0.95 * 1.10 / (1 + 0.6 * x_t / z_base) if case == "max" else 1.0
    zt = k_t * complex(r_t, x_t)
    # minimum case: R_L at 80 °C, eq. (36) R_L = (1 + 0.004 (θe - 20)) R_L20
    k_r = 1.0 if case == "max" else 1 + 0.004 * (80 - 20)
    zl = complex(R_KM * k_r, X_KM) * L_KM
    z1 = zq + zt + zl
    # Dyn: zero sequence of the MV grid not seen; Z0T = Z_T (vk0 = vk), Z0L = 4 Z_L
    z0 = zt + complex(4 * R_KM * k_r, 4 * X_KM) * L_KM
    return {
        "3ph": c * UN_LV / (math.sqrt(3) * abs(z1)) / 1e3,  # eq. (29)
        "2ph": c * UN_LV / abs(2 * z1) / 1e3,  # eq. (44), Z2 = Z1
        "1ph": math.sqrt(3) * c * UN_LV / abs(2 * z1 + z0) / 1e3,  # eq. (52)
    }


OPTS = ShortCircuitOptions(s_sc_max_mva=S_MAX, s_sc_min_mva=S_MIN, rx_max=RX, rx_min=RX)


@pytest.mark.parametrize("engine", ["pandapower", "pgm"])
@pytest.mark.parametrize("case", ["max", "min"])
def test_hand_case_far_end(engine: str, case: str) -> None:
    res = short_circuit(hand_net(), engine=engine, options=OPTS)  # type: ignore[arg-type]
    far = res.buses.set_index("bus").loc[2]
    for fault, expected in hand_currents(case).items():
        got = far[f"ik{fault[0]}_{case}_ka"]
        assert got == pytest.approx(expected, rel=1e-5), (engine, case, fault)
    # the source bus: I"k3 = c U / (√3 c U²/S) = S / (√3 U)
    mv = res.buses.set_index("bus").loc[0, f"ik3_{case}_ka"]
    s = S_MAX if case == "max" else S_MIN
    assert mv == pytest.approx(s / (math.sqrt(3) * 20.0), rel=1e-9)


def test_hand_case_orders_and_notes() -> None:
    res = short_circuit(hand_net(), options=OPTS)
    b = res.buses.set_index("bus")
    assert (b["ik3_max_ka"] > b["ik3_min_ka"]).all()
    assert b.loc[2, "ik2_max_ka"] == pytest.approx(math.sqrt(3) / 2 * b.loc[2, "ik3_max_ka"])
    assert b.loc[2, "ik1_min_ka"] < b.loc[2, "ik3_min_ka"]
    text = " ".join(res.notes)
    assert "r0 = 4 r1" in text
    assert "Dyn" in text
    assert "80 °C" in text


def test_voltage_factors_table_1() -> None:
    assert voltage_factor(0.4, "min", 10)[0] == 0.90
    assert voltage_factor(0.4, "max", 6)[0] == 1.05
    assert voltage_factor(20.0, "min", 6)[0] == 1.00


@pytest.mark.parametrize("code", ["1-LV-rural1--0-sw", "1-LV-semiurb4--0-sw"])
def test_engines_agree_on_simbench_lv(code: str) -> None:
    model = simbench_model(code)
    frame, worst = compare_engines(model)
    assert worst < 1e-5
    lv = frame[frame["vn_kv"] < 1]
    assert len(lv) > 10
    assert (lv["ik1_min_ka_pp"] > 0.1).all()
    assert lv["ik3_max_ka_pp"].max() < 50


def test_short_circuit_leaves_model_alone() -> None:
    net = hand_net()
    short_circuit(net, options=OPTS)
    assert "s_sc_max_mva" not in net.ext_grid.columns
    assert "r0_ohm_per_km" not in net.line.columns


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"s_sc_max_mva": -1}, "s_sc_max_mva"),
        ({"s_sc_min_mva": 300.0}, "s_sc_min_mva"),
        ({"lv_tol_percent": 8}, "lv_tol_percent"),
        ({"line_end_temp_c": 500}, "line_end_temp_c"),
        ({"rx_max": -0.1}, "rx_max"),
    ],
)
def test_options_are_validated(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError, match=field):
        ShortCircuitOptions(**kwargs)


def test_bad_engine_and_fault() -> None:
    with pytest.raises(InputError, match="engine"):
        short_circuit(hand_net(), engine="opendss")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="faults"):
        short_circuit(hand_net(), faults=("3p",))  # type: ignore[arg-type]


def test_unsupplied_bus_is_nan() -> None:
    net = hand_net()
    net.line.loc[0, "in_service"] = False
    for engine in ("pandapower", "pgm"):
        res = short_circuit(net, engine=engine, options=OPTS)  # type: ignore[arg-type]
        assert np.isnan(res.buses.set_index("bus").loc[2, "ik3_max_ka"]), engine
