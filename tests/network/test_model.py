"""NetworkModel loaders, Profiles, points of delivery (meters -> loads) and info()."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest
from pandapower.converter.matpower.to_mpc import to_mpc

from gridtwin.errors import DataQualityError, InputError
from gridtwin.network import (
    Profiles,
    from_net,
    info,
    load_matpower,
    load_pandapower_json,
    load_simbench,
    profiles_from_meters,
    simulate,
    static_profiles,
)
from gridtwin.timeseries import IntervalData
from tests.network.util import LV_CODE, feature_model, feature_net, hours, simbench_model


def test_simbench_profiles_year_in_utc() -> None:
    model = simbench_model(LV_CODE)
    prof = model.profiles
    assert prof is not None
    assert prof.n_steps == 35_136
    assert prof.time_utc[0] == pd.Timestamp("2016-01-01 00:00", tz="UTC")
    assert prof.time_utc[-1] == pd.Timestamp("2016-12-31 23:45", tz="UTC")
    assert prof.step == pd.Timedelta(minutes=15)
    assert set(prof.load_p_mw.columns) == set(model.net.load.index)
    assert set(prof.sgen_p_mw.columns) == set(model.net.sgen.index)
    assert prof.load_q_mvar.shape == prof.load_p_mw.shape
    assert prof.storage_p_mw.shape == (35_136, 0)
    # absolute values: the profile's peak is of the order of the static set-point
    assert 0.2 < prof.load_p_mw.max().sum() / model.net.load.p_mw.sum() < 5


def test_pandapower_json_round_trip(tmp_path: Path) -> None:
    net = feature_net()
    path = tmp_path / "grid.json"
    pp.to_json(net, str(path))
    model = load_pandapower_json(path)
    assert model.name == "grid"
    assert len(model.net.bus) == len(net.bus)
    assert model.profiles is None
    with pytest.raises(InputError, match="no such file"):
        load_pandapower_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not a readable pandapower JSON"):
        load_pandapower_json(bad)


def test_matpower_mat(tmp_path: Path) -> None:
    path = tmp_path / "case9.mat"
    to_mpc(pn.case9(), str(path), init="flat")
    model = load_matpower(path)
    assert len(model.net.bus) == 9
    assert len(model.net.gen) == 2  # PV buses: loaded, but the engine refuses them
    with pytest.raises(InputError, match=r"\.mat"):
        load_matpower(tmp_path / "case9.m")


def test_from_net_copies_the_net() -> None:
    net = feature_net()
    model = from_net(net)
    net.load.loc[0, "p_mw"] = 99.0
    assert model.net.load.loc[0, "p_mw"] != 99.0
    copy = model.copy_net()
    copy.load.loc[0, "p_mw"] = 42.0
    assert model.net.load.loc[0, "p_mw"] != 42.0
    with pytest.raises(InputError, match="not a pandapower net"):
        from_net(object())


def test_profiles_checks_its_axis() -> None:
    idx = hours(3)
    with pytest.raises(InputError, match="rows"):
        Profiles.from_frames(idx, load_p_mw=pd.DataFrame({0: [1.0, 2.0]}))
    with pytest.raises(DataQualityError, match="constant step"):
        Profiles.from_frames(idx[[0, 2, 1]], load_p_mw=pd.DataFrame({0: [1.0, 2.0, 3.0]}))
    with pytest.raises(InputError, match="integers"):
        Profiles.from_frames(idx, load_p_mw=pd.DataFrame({"a": [1.0, 2.0, 3.0]}))
    other = pd.DataFrame({0: [1.0, 2.0, 3.0]}, index=hours(3, start="2030-01-01"))
    with pytest.raises(InputError, match="other timestamps"):
        Profiles.from_frames(idx, load_p_mw=other)
    with pytest.raises(InputError, match="unknown profile field"):
        Profiles.from_frames(idx, load_kw=pd.DataFrame({0: [1.0, 2.0, 3.0]}))
    local = pd.date_range("2025-03-30 00:00", periods=3, freq="15min", tz="Europe/Rome")
    prof = Profiles.from_frames(local, load_p_mw=pd.DataFrame({0: [1.0, 2.0, 3.0]}))
    assert str(prof.time_utc.tz) == "UTC"
    assert prof.time_utc[0] == pd.Timestamp("2025-03-29 23:00", tz="UTC")
    week = prof.select(slice(1, 3))
    assert week.n_steps == 2
    assert week.load_p_mw.iloc[0, 0] == 2.0


def _meters(start: str, n: int, values: dict[str, list[float]]) -> IntervalData:
    idx = pd.date_range(start, periods=n, freq="15min", tz="UTC")
    return IntervalData(idx, np.array(list(values.values())), tuple(values), source="m.csv")


def test_profiles_from_meters_converts_kwh_to_mw() -> None:
    model = feature_model()
    base = model.profiles
    assert base is not None
    data = _meters(
        str(base.time_utc[1]),
        3,
        {"m1": [1.0, 2.0, -0.5], "m2": [0.5, 0.5, 0.5], "m3": [9.0, 9.0, 9.0]},
    )
    prof = profiles_from_meters(model, data, {"m1": 0, "m2": 0, "m3": 2}, power_factor=0.97)
    assert prof.time_utc.equals(base.time_utc[1:4])
    # kWh per 15 min -> average MW: x 4 / 1000; two meters on load 0 add up
    np.testing.assert_allclose(prof.load_p_mw[0], [0.006, 0.010, 0.0])
    np.testing.assert_allclose(prof.load_p_mw[2], [0.036] * 3)
    tan = math.tan(math.acos(0.97))
    np.testing.assert_allclose(prof.load_q_mvar[2], [0.036 * tan] * 3)
    # unmapped loads keep the model's profile values at those timestamps
    np.testing.assert_array_equal(prof.load_p_mw[1], base.load_p_mw[1].iloc[1:4])
    np.testing.assert_array_equal(prof.sgen_p_mw, base.sgen_p_mw.iloc[1:4])
    res = simulate(model, prof)
    assert res.converged.all()


def test_profiles_from_meters_errors() -> None:
    model = feature_model()
    base = model.profiles
    assert base is not None
    data = _meters(str(base.time_utc[0]), 2, {"m1": [1.0, 1.0]})
    with pytest.raises(InputError, match=r"meter id\(s\).*\['nope'\].*load index\(es\).*\[77\]"):
        profiles_from_meters(model, data, {"nope": 0, "m1": 77})
    with pytest.raises(InputError, match="power_factor"):
        profiles_from_meters(model, data, {"m1": 0}, power_factor=1.2)
    gap = _meters(str(base.time_utc[0]), 2, {"m1": [1.0, np.nan]})
    with pytest.raises(DataQualityError, match="m1"):
        profiles_from_meters(model, gap, {"m1": 0})
    late = _meters("2030-01-01", 2, {"m1": [1.0, 1.0]})
    with pytest.raises(InputError, match="not in the model's profiles"):
        profiles_from_meters(model, late, {"m1": 0})
    # without model profiles the unmapped loads simply have no column (validate reports it)
    bare = model.with_profiles(None)
    prof = profiles_from_meters(bare, late, {"m1": 0})
    assert list(prof.load_p_mw.columns) == [0]


def test_info_and_static_profiles() -> None:
    model = feature_model()
    summary = info(model)
    assert summary.element_counts["bus"] == 9
    assert summary.element_counts["trafo"] == 2
    assert summary.in_service_counts["line"] == 5
    assert summary.voltage_levels_kv == (20.0, 0.4)
    assert summary.installed_load_p_mw == pytest.approx(0.03 + 0.05 + 0.04 * 0.8 + 0.02)
    assert summary.installed_sgen_p_mw == pytest.approx(0.02 * 1.5)
    assert summary.open_switches == 3
    assert summary.profile_steps == 4
    assert summary.profile_end_utc == pd.Timestamp("2025-01-01 01:00", tz="UTC")
    prof = model.profiles
    assert prof is not None
    peak = (prof.load_p_mw[[0, 1, 2, 3]] * [1.0, 1.0, 0.8, 1.0]).sum(axis=1).max()
    assert summary.peak_load_p_mw == pytest.approx(peak)
    assert summary.to_dict()["profile_start_utc"] == "2025-01-01T00:00:00+00:00"
    snap = static_profiles(model, periods=2)
    assert snap.n_steps == 2
    np.testing.assert_array_equal(snap.load_p_mw.iloc[1], model.net.load.p_mw)
    assert snap.gen_p_mw.shape == (2, 0)


def test_simbench_profiles_that_cannot_fit_in_memory_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The largest '-all' grids need ~47 GB while SimBench builds their year of profiles:
    a clear refusal instead of the system killing the process half-way."""
    import gridtwin.network._model as model_module

    monkeypatch.setattr(model_module, "_available_memory_bytes", lambda: 10**6)
    with pytest.raises(InputError, match=r"simbench:1-MV-rural--0-sw: a year of its profiles"):
        load_simbench("1-MV-rural--0-sw", cache=False)
    monkeypatch.setattr(model_module, "_available_memory_bytes", lambda: None)
    assert load_simbench("1-MV-rural--0-sw", profiles=False, cache=False).profiles is None
