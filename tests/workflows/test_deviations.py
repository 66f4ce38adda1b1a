"""Potential deviations of the network twin: a simulated feeder checked against GOST 32144
gives the time, place and cause of every week that fails."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridtwin.network import Profiles, from_net, simulate
from gridtwin.network.checks import check
from gridtwin.workflows import potential_deviations

GOST = "GOST 32144-2013"
MSK = "Europe/Moscow"


def feeder_with_evening_peak() -> tuple[object, object]:
    """20/0.4 kV transformer, a 500 m cable and one customer; Tuesday 18:00-19:00 Moscow
    time the load rises to 0.12 MW: the voltage drops below -10 % of U0 = 380 V and the
    cable is overloaded."""
    net = pp.create_empty_network()
    mv, lv, far = pp.create_bus(net, 20.0), pp.create_bus(net, 0.4), pp.create_bus(net, 0.4)
    pp.create_ext_grid(net, mv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net,
        mv,
        lv,
        sn_mva=0.25,
        vn_hv_kv=20,
        vn_lv_kv=0.4,
        vk_percent=4,
        vkr_percent=1,
        pfe_kw=0.5,
        i0_percent=0.2,
        shift_degree=150,
    )
    pp.create_line_from_parameters(
        net,
        lv,
        far,
        length_km=0.5,
        r_ohm_per_km=0.32,
        x_ohm_per_km=0.08,
        c_nf_per_km=0.0,
        max_i_ka=0.15,
    )
    pp.create_load(net, far, p_mw=0.01)
    time = pd.date_range("2025-06-01T21:00Z", periods=7 * 96, freq="15min")
    p = np.full(len(time), 0.01)
    p[96 + 72 : 96 + 76] = 0.12  # Tuesday 15:00-16:00 UTC
    frame = pd.DataFrame({0: p}, index=time)
    model = from_net(net, Profiles.from_frames(time, load_p_mw=frame, load_q_mvar=0.2 * frame))
    return model, simulate(model)


def test_potential_deviations_from_a_simulated_feeder_give_time_place_and_cause() -> None:
    model, result = feeder_with_evening_peak()
    report = check(model, result, standard=GOST, timezone=MSK)  # type: ignore[arg-type]
    pot = potential_deviations(report, result, timezone=MSK)  # type: ignore[arg-type]
    assert len(pot.table) == 1
    row = pot.table.iloc[0]
    assert row["point_id"] == "2"  # the customer bus
    assert row["direction"] == "under"
    assert row["first_time_utc"] == pd.Timestamp("2025-06-03T15:00Z")
    assert row["last_time_utc"] == pd.Timestamp("2025-06-03T15:45Z")
    assert row["n_steps_out"] == 4
    assert row["hours_out"] == pytest.approx(1.0)
    assert row["worst_deviation_percent"] < -10.0
    assert row["clause"] == "GOST 32144-2013 4.2.2"
    assert row["cause"].startswith("line 0 overloaded")
    assert "from 2025-06-03T15:00:00+00:00" in row["cause"]
    assert "simulation steps" in pot.basis
    # the network check alone gives the worst step, not the first and last
    summary = potential_deviations(report).table.iloc[0]  # type: ignore[arg-type]
    assert summary["worst_time_utc"] == row["worst_time_utc"]
    assert pd.isna(summary["first_time_utc"])
