"""Networks no one here wrote (pandapower's own), and the defects they found: every net is
either solved as pandapower solves it or refused with a reason."""

from __future__ import annotations

import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from gridtwin.network import from_net, validate


def _quiet(make):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


def test_fed_bus_behind_relabelled_lines_is_not_refused_as_isolated() -> None:
    """The topology check read a position as a label: with line labels other than 0..n-1
    the wrong branch was dropped and fed buses were refused as isolated."""
    net = _quiet(pn.lv_schutterwald)
    assert not np.array_equal(net.line.index.to_numpy(), np.arange(len(net.line)))
    report = validate(from_net(net))
    assert not [e for e in report.errors if e.table == "bus"], report.errors[:3]


def test_open_branch_behind_relabelled_lines_isolates_its_bus() -> None:
    """An open line switch must cut its own line whatever the labels: here the line at the
    open switch's position has another line's label."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=0.4) for _ in range(4)]
    pp.create_ext_grid(net, b[0])
    for f, t in ((0, 1), (1, 2), (0, 3)):
        pp.create_line_from_parameters(
            net, b[f], b[t], 0.1, r_ohm_per_km=0.2, x_ohm_per_km=0.08, c_nf_per_km=0, max_i_ka=0.2
        )
        pp.create_load(net, b[t], p_mw=0.01)
    net.line.index = [0, 2, 1]  # line 1->2 has label 2, line 0->3 label 1
    pp.create_switch(net, b[2], 2, et="l", closed=False)
    report = validate(from_net(net))
    assert [(e.table, e.index) for e in report.errors] == [("bus", b[2])]
