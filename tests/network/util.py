"""Shared helpers for the network tests: cached SimBench grids, small hand-made nets, and a
pandapower reference run of single steps."""

from __future__ import annotations

import copy
import functools
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridtwin.network import NetworkModel, Profiles, from_net, load_simbench

LV_CODE = "1-LV-semiurb4--0-sw"
MV_CODE = "1-MV-rural--0-sw"


@functools.lru_cache(maxsize=4)
def simbench_model(code: str) -> NetworkModel:
    """A SimBench grid with its profiles, read once per test session (about 5 s each)."""
    return load_simbench(code)


def hours(n: int, start: str = "2025-01-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="15min", tz="UTC", name="time_utc")


def two_bus_net(
    r_ohm: float, x_ohm: float, vn_kv: float = 0.4, c_nf: float = 0.0, max_i_ka: float = 0.5
) -> Any:
    """An ideal source at bus 0 (1.0 pu), one line of R, X [ohm] to bus 1, one load there."""
    net = pp.create_empty_network(f_hz=50.0)
    b0 = pp.create_bus(net, vn_kv=vn_kv)
    b1 = pp.create_bus(net, vn_kv=vn_kv)
    pp.create_ext_grid(net, b0, vm_pu=1.0, va_degree=0.0)
    pp.create_line_from_parameters(
        net,
        b0,
        b1,
        length_km=1.0,
        r_ohm_per_km=r_ohm,
        x_ohm_per_km=x_ohm,
        c_nf_per_km=c_nf,
        max_i_ka=max_i_ka,
    )
    pp.create_load(net, b1, p_mw=0.0, q_mvar=0.0)
    return net


def feature_net() -> Any:
    """A 20/0.4 kV grid exercising the converter: taps on both sides, parallel units,
    df < 1, line conductance, scaling factors, a shunt, a storage, an sgen, an
    out-of-service line, open line switches at either end (dangling cables), closed and
    open bus-bus switches, an isolated empty bus."""
    net = pp.create_empty_network(f_hz=50.0)
    hv = pp.create_bus(net, vn_kv=20.0, name="hv")
    hv2 = pp.create_bus(net, vn_kv=20.0, name="hv busbar 2")
    lv1 = pp.create_bus(net, vn_kv=0.4, name="lv1")
    lv2 = pp.create_bus(net, vn_kv=0.4, name="lv2")
    a = pp.create_bus(net, vn_kv=0.4)
    b = pp.create_bus(net, vn_kv=0.4)
    c = pp.create_bus(net, vn_kv=0.4)
    d = pp.create_bus(net, vn_kv=0.4)
    isolated = pp.create_bus(net, vn_kv=0.4, name="isolated")
    pp.create_ext_grid(net, hv, vm_pu=1.02, va_degree=3.0)
    pp.create_switch(net, hv, hv2, et="b", closed=True)
    pp.create_switch(net, lv2, isolated, et="b", closed=False)
    pp.create_transformer_from_parameters(
        net,
        hv,
        lv1,
        sn_mva=0.4,
        vn_hv_kv=20.0,
        vn_lv_kv=0.4,
        vkr_percent=1.2,
        vk_percent=6.0,
        pfe_kw=1.2,
        i0_percent=0.3,
        shift_degree=150.0,
        tap_side="hv",
        tap_neutral=0,
        tap_min=-2,
        tap_max=2,
        tap_step_percent=2.5,
        tap_pos=2,
        tap_changer_type="Ratio",
        vector_group="Dyn5",
    )
    pp.create_transformer_from_parameters(
        net,
        hv2,
        lv2,
        sn_mva=0.25,
        vn_hv_kv=20.0,
        vn_lv_kv=0.41,
        vkr_percent=1.4,
        vk_percent=4.0,
        pfe_kw=0.65,
        i0_percent=0.4,
        shift_degree=150.0,
        tap_side="lv",
        tap_neutral=0,
        tap_min=-3,
        tap_max=3,
        tap_step_percent=1.5,
        tap_pos=-1,
        parallel=2,
        df=0.9,
        tap_changer_type="Ratio",
    )
    pp.create_line_from_parameters(net, lv1, a, 0.15, 0.206, 0.08, 260.0, 0.27, g_us_per_km=2.0)
    pp.create_line_from_parameters(net, a, b, 0.10, 0.32, 0.08, 250.0, 0.2, parallel=2, df=0.8)
    pp.create_line_from_parameters(net, lv2, c, 0.12, 0.206, 0.08, 260.0, 0.27)
    pp.create_line_from_parameters(net, b, c, 0.20, 0.32, 0.08, 250.0, 0.2)  # open at c
    pp.create_line_from_parameters(net, c, d, 0.05, 0.32, 0.08, 250.0, 0.2, in_service=False)
    pp.create_switch(net, c, 3, et="l", closed=False)
    pp.create_line_from_parameters(net, c, b, 0.25, 0.32, 0.08, 250.0, 0.2)  # open at c
    pp.create_switch(net, c, 5, et="l", closed=False)
    for bus, p, q in ((a, 0.030, 0.010), (b, 0.050, 0.015), (c, 0.040, 0.012), (lv1, 0.02, 0.0)):
        pp.create_load(net, bus, p_mw=p, q_mvar=q)
    pp.create_load(net, d, p_mw=0.0, q_mvar=0.0, in_service=False)
    net.load.loc[2, "scaling"] = 0.8
    pp.create_sgen(net, b, p_mw=0.02, q_mvar=-0.002, scaling=1.5)
    pp.create_storage(net, c, p_mw=0.01, max_e_mwh=0.05, q_mvar=0.001)
    pp.create_shunt(net, lv2, q_mvar=-0.01, p_mw=0.0005)
    return net


def feature_profiles(net: Any, n_steps: int = 4, seed: int = 1) -> Profiles:
    rng = np.random.default_rng(seed)
    idx = hours(n_steps)
    loads = net.load.index
    factor = rng.uniform(0.3, 2.0, (n_steps, len(loads)))
    return Profiles.from_frames(
        idx,
        load_p_mw=pd.DataFrame(factor * net.load.p_mw.to_numpy(), index=idx, columns=loads),
        load_q_mvar=pd.DataFrame(factor * net.load.q_mvar.to_numpy(), index=idx, columns=loads),
        sgen_p_mw=pd.DataFrame(
            rng.uniform(0, 0.03, (n_steps, len(net.sgen))), index=idx, columns=net.sgen.index
        ),
        storage_p_mw=pd.DataFrame(
            rng.uniform(-0.01, 0.01, (n_steps, len(net.storage))),
            index=idx,
            columns=net.storage.index,
        ),
    )


def feature_model() -> NetworkModel:
    net = feature_net()
    return from_net(net, feature_profiles(net), name="feature")


def pandapower_step(model: NetworkModel, profiles: Profiles, t: int, **kw: Any) -> Any:
    """pandapower's runpp of profile step ``t`` on a deep copy of the net."""
    net = copy.deepcopy(model.net)
    for name, frame in profiles.frames().items():
        if frame.shape[1] == 0 or name == "gen_p_mw":
            continue
        table, _, col = name.partition("_")
        column = {"p_mw": "p_mw", "q_mvar": "q_mvar"}[col]
        net[table].loc[frame.columns, column] = frame.iloc[t].to_numpy()
    options: dict[str, Any] = {
        "tolerance_mva": 1e-10,
        "calculate_voltage_angles": True,
        "numba": False,
    }
    options.update(kw)
    pp.runpp(net, **options)
    return net
