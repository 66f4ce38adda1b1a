"""Multi-element outages: a substation bus, a common trench, restoration by a tie."""

from __future__ import annotations

import pandapower as pp
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import NetworkModel, from_net, static_profiles
from gridtwin.network.outages import multi_outage
from tests.network.test_protection import two_feeder_net
from tests.network.util import simbench_model


def _tied_model() -> NetworkModel:
    """The two-feeder net with a 100 m tie cable from A's end to B's end, open at B."""
    net = two_feeder_net()
    tie = pp.create_line_from_parameters(
        net, 2, 4, length_km=0.1, r_ohm_per_km=0.206, x_ohm_per_km=0.08,
        c_nf_per_km=830.0, max_i_ka=0.27,
    )  # fmt: skip
    pp.create_switch(net, 4, tie, et="l", closed=False)
    model = from_net(net)
    return from_net(net, static_profiles(model, periods=4), name="tied")


def test_trench_outage_restored_by_the_tie() -> None:
    model = _tied_model()
    res = multi_outage(model, lines=[1], name="trench B", steps=[0, 1], switching_min=30)
    s = res.summary
    # feeder B's end load loses supply; closing the tie restores it
    assert s["customers_lost"] == 1
    assert s["customers_restored"] == 1
    assert s["unrestorable_p_mw"] == 0.0
    assert s["customer_minutes_lost"] == pytest.approx(30.0)
    assert s["lost_p_mw"] == pytest.approx(0.02)
    assert s["energy_not_supplied_mwh"] == pytest.approx(0.02 * 0.5)
    assert len(s["switches_closed"]) == 1


def test_substation_bus_outage_cannot_be_restored() -> None:
    model = _tied_model()
    res = multi_outage(model, buses=[1], steps=[0], repair_h=4)
    s = res.summary
    assert s["customers_lost"] == 2
    assert s["customers_unrestored"] == 2
    assert s["customer_minutes_lost"] == pytest.approx(2 * 4 * 60)
    assert s["unrestorable_p_mw"] == pytest.approx(0.04)
    assert not res.loads["restored"].any()


def test_simbench_common_trench_and_busbar() -> None:
    model = simbench_model("1-LV-rural1--0-sw")
    trench = multi_outage(model, lines=[2, 6], name="trench", repair_h=8)
    # feeders line:2 (5 customers) and line:6 (4): no open switches in rural1
    assert trench.summary["customers_lost"] == 9
    assert trench.summary["customers_unrestored"] == 9
    assert trench.summary["customer_minutes_lost"] == pytest.approx(9 * 480)
    assert trench.summary["lost_p_mw"] > 0
    busbar = multi_outage(model, buses=[3], name="LV busbar")
    assert busbar.summary["customers_lost"] == len(model.net.load)
    assert isinstance(busbar.loads, pd.DataFrame)


def test_outage_arguments_are_checked() -> None:
    model = _tied_model()
    with pytest.raises(InputError, match="at least one"):
        multi_outage(model)
    with pytest.raises(InputError, match=r"line \[99\]"):
        multi_outage(model, lines=[99])
    with pytest.raises(InputError, match="repair_h"):
        multi_outage(model, lines=[1], repair_h=-1)
