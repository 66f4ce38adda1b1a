"""validate(): every finding names table, index and column."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import Issue, NetworkModel, ValidationReport, from_net, validate
from gridtwin.network._issues import Solver
from tests.network.util import LV_CODE, MV_CODE, feature_model, simbench_model


def _where(items: tuple[Issue, ...]) -> set[tuple[str, int | None, str | None]]:
    return {(i.table, i.index, i.column) for i in items}


def _changed(
    model: NetworkModel, change: Callable[[Any], None], solver: Solver = "fixed_point"
) -> ValidationReport:
    net = model.copy_net()
    change(net)
    return validate(from_net(net, model.profiles), solver=solver)


def test_clean_grids_have_no_errors() -> None:
    model = feature_model()
    report = validate(model)
    assert report.ok, str(report)
    # the isolated empty bus and the bus behind the out-of-service line are warnings
    assert {("bus", 7, None), ("bus", 8, None)} <= _where(report.warnings)
    # a missing vector group matters to unbalanced runs only
    assert ("trafo", 1, "vector_group") not in _where(report.warnings)
    unbalanced = validate(model, solver="pgm_unbalanced")
    assert ("trafo", 1, "vector_group") in _where(unbalanced.warnings)


@pytest.mark.parametrize("code", [LV_CODE, MV_CODE])
def test_simbench_grids_have_no_errors(code: str) -> None:
    report = validate(simbench_model(code), solver="pgm_unbalanced")
    assert report.ok, str(report)
    assert ("trafo", 0, "vector_group") in _where(report.warnings)
    assert validate(simbench_model(code)).ok


def test_isolated_bus_with_load() -> None:
    model = feature_model()

    def cut(net: Any) -> None:
        net.line.loc[0, "in_service"] = False

    report = _changed(model, cut)
    # line 0 fed bus 4 (a), which feeds bus 5 (b): both carry loads now unsupplied
    assert {("bus", 4, None), ("bus", 5, None)} <= _where(report.errors)
    assert "ext_grid" in next(i for i in report.errors if i.index == 4).message
    with pytest.raises(InputError, match=r"bus\[4\]"):
        report.raise_if_errors()


def test_load_without_profile_and_unknown_profile_column() -> None:
    model = feature_model()
    prof = model.profiles
    assert prof is not None
    lp = prof.load_p_mw.drop(columns=[1]).assign(**{"42": 0.0})
    lp.columns = pd.Index([int(c) for c in lp.columns])
    report = validate(model, prof.replace(load_p_mw=lp))
    assert ("load", 1, "load_p_mw") in _where(report.errors)
    assert ("profiles", 42, "load_p_mw") in _where(report.errors)
    q = prof.load_q_mvar.drop(columns=[2])
    report = validate(model, prof.replace(load_q_mvar=q))
    assert report.ok
    assert ("load", None, "q_mvar") in _where(report.warnings)


def test_nan_profile_values() -> None:
    model = feature_model()
    prof = model.profiles
    assert prof is not None
    sg = prof.sgen_p_mw.copy()
    sg.iloc[2, 0] = np.nan
    report = validate(model, prof.replace(sgen_p_mw=sg))
    issue = next(i for i in report.errors if i.column == "sgen_p_mw")
    assert (issue.table, issue.index) == ("sgen", 0)
    assert prof.time_utc[2].isoformat() in issue.message


def test_unsupported_trafo3w_and_gen_for_power_grid_model() -> None:
    model = feature_model()

    def add(net: Any) -> None:
        mv = pp.create_bus(net, vn_kv=10.0)
        pp.create_transformer3w(net, 0, mv, 2, std_type="63/25/38 MVA 110/20/10 kV")
        pp.create_gen(net, 3, p_mw=0.01, vm_pu=1.0)

    report = _changed(model, add, solver="pgm")
    where = _where(report.errors)
    assert ("trafo3w", 0, None) in where
    assert ("gen", 0, None) in where
    msg = next(i for i in report.errors if i.table == "trafo3w").message
    assert "three-winding" in msg


def test_nan_line_parameter() -> None:
    model = feature_model()

    def spoil(net: Any) -> None:
        net.line.loc[2, "r_ohm_per_km"] = np.nan
        net.line.loc[1, "max_i_ka"] = np.nan

    report = _changed(model, spoil)
    assert ("line", 2, "r_ohm_per_km") in _where(report.errors)
    assert ("line", 1, "max_i_ka") in _where(report.warnings)
    assert "NaN" in str(report)


def test_parameter_and_reference_errors() -> None:
    model = feature_model()

    def spoil(net: Any) -> None:
        net.trafo.loc[0, "vk_percent"] = -1.0
        net.trafo.loc[1, "i0_percent"] = 0.01
        net.load.loc[0, "const_z_p_percent"] = 50.0
        net.ext_grid.loc[0, "vm_pu"] = np.nan
        net.trafo.loc[1, "vector_group"] = "Yy5"

    report = _changed(model, spoil, solver="pgm")  # ZIP loads: power-grid-model only
    where = _where(report.errors)
    assert ("trafo", 1, "i0_percent") in _where(report.warnings)  # as pandapower: no b_m
    assert {
        ("trafo", 0, "vk_percent"),
        ("load", 0, "const_z_p_percent"),
        ("ext_grid", 0, "vm_pu"),
        ("trafo", 1, "vector_group"),
    } <= where

    def dangling(net: Any) -> None:
        net.load.loc[0, "bus"] = 999

    report = _changed(model, dangling)
    assert _where(report.errors) == {("load", 0, "bus")}


def test_taps_and_missing_ext_grid() -> None:
    model = feature_model()

    def taps(net: Any) -> None:
        net.trafo.loc[0, "tap_changer_type"] = None
        net.trafo.loc[1, "tap_step_degree"] = 5.0
        net.ext_grid.loc[0, "in_service"] = False

    report = _changed(model, taps, solver="pgm")
    assert ("trafo", 0, "tap_pos") in _where(report.warnings)
    assert ("trafo", 1, "tap_step_degree") in _where(report.errors)
    assert ("ext_grid", None, None) in _where(report.errors)
    # the fixed point takes pandapower's phase shifters
    assert ("trafo", 1, "tap_step_degree") not in _where(_changed(model, taps).errors)


def test_report_frame_and_message() -> None:
    report = ValidationReport(
        errors=tuple(Issue("line", i, "r_ohm_per_km", "is missing") for i in range(12)),
        warnings=(Issue("trafo", 0, "vector_group", "assumed"),),
        source="g.json",
    )
    frame = report.to_frame()
    assert list(frame.columns) == ["severity", "table", "index", "column", "message"]
    assert len(frame) == 13
    with pytest.raises(InputError, match=r"12 error\(s\)(.|\n)*and 2 more"):
        report.raise_if_errors()
    assert str(Issue("ext_grid", None, None, "none")) == "ext_grid: none"


def test_line_between_voltage_levels_is_an_error() -> None:
    import pandapower as pp

    from gridtwin.network import from_net, validate

    net = pp.create_empty_network()
    hv, lv = pp.create_bus(net, 20.0), pp.create_bus(net, 0.4)
    pp.create_ext_grid(net, hv)
    line = pp.create_line_from_parameters(
        net,
        hv,
        lv,
        length_km=1.0,
        r_ohm_per_km=0.1,
        x_ohm_per_km=0.1,
        c_nf_per_km=0.0,
        max_i_ka=0.1,
    )
    report = validate(from_net(net))
    hits = [i for i in report.errors if i.table == "line" and i.index == line]
    assert hits
    assert "20 kV and 0.4 kV" in hits[0].message


def test_no_load_current_below_the_iron_losses_is_a_warning() -> None:
    """pandapower's own 0.63 MVA 20/0.4 kV type has i0 = 0.2619 % against pfe/sn =
    0.261905 %: a warning (no magnetising reactance, as pandapower takes it); a real
    shortfall too (pandapower solves it the same way), naming the field."""
    net = pp.create_empty_network()
    mv, lv = pp.create_bus(net, vn_kv=20.0), pp.create_bus(net, vn_kv=0.4)
    pp.create_ext_grid(net, mv)
    pp.create_transformer(net, mv, lv, std_type="0.63 MVA 20/0.4 kV")
    pp.create_load(net, lv, p_mw=0.1)
    report = validate(from_net(net))
    assert not report.errors
    assert any(w.column == "i0_percent" for w in report.warnings)
    net.trafo.loc[0, "i0_percent"] = 0.2
    for solver in ("fixed_point", "pgm"):
        report = validate(from_net(net), solver=solver)  # type: ignore[arg-type]
        assert report.ok
        assert [str(w) for w in report.warnings if w.column == "i0_percent"] == [
            "trafo[0].i0_percent: (0.2 %) is below the iron-loss share pfe_kw/sn "
            "(0.261905 %): the magnetising reactance is taken as zero, as pandapower does; "
            "check i0_percent and pfe_kw"
        ]
