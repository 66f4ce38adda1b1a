"""CGMES import (load_cgmes): round trips through pypowsybl's CGMES export, and errors.

The round-trip tests build grids in pypowsybl (an MV feeder made here and the built-in
IEEE 9-bus case), solve them with OpenLoadFlow, export CGMES 2.4.15 into ``tmp_path``,
import the files with :func:`load_cgmes` and compare pandapower's (and the batch
engine's) bus voltages with OpenLoadFlow's. They are skipped without pypowsybl (dev extra).
The error tests write small CGMES headers by hand and need no pypowsybl.

Measured agreement (pypowsybl 1.16.1, pandapower 3.5.6): without transformer magnetising
admittance the voltage magnitudes agree to 1e-12 pu; with it (g = 2 uS, b = -10 uS on the
20 kV side) to 6.2e-6 pu, the same with pandapower's "t" or "pi" transformer model,
because IIDM and pandapower place the magnetising branch differently. IEEE 9: 1e-11 pu.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.network import NetworkModel, PowerFlowResult, simulate, static_profiles, validate
from gridtwin.network._cim import load_cgmes

#: OpenLoadFlow as a reference: a single slack (like an ext_grid), no reactive limits (as
#: pandapower's runpp default) and mismatches far below the compared tolerances.
_OLF_PROVIDER = {
    "newtonRaphsonStoppingCriteriaType": "PER_EQUATION_TYPE_CRITERIA",
    "maxActivePowerMismatch": "1e-7",
    "maxReactivePowerMismatch": "1e-7",
    "maxVoltageMismatch": "1e-9",
}

_LOADS_MW = {
    "LD1": (1.2, 0.3),
    "LD2": (0.8, 0.2),
    "LD3": (1.5, 0.4),
    "LD4": (0.6, 0.1),
    "LD5": (0.9, 0.25),
    "LD6": (0.4, 0.1),
}


@pytest.fixture(scope="module")
def ppl() -> Any:
    """pypowsybl, or skip: it writes the CGMES files and is the reference load flow."""
    return pytest.importorskip(
        "pypowsybl", reason="pypowsybl (gridtwin's dev extra) generates the CGMES test files"
    )


def _run_olf(ppl: Any, network: Any) -> None:
    import pypowsybl.loadflow as lf

    params = lf.Parameters(
        distributed_slack=False, use_reactive_limits=False, provider_parameters=_OLF_PROVIDER
    )
    result = lf.run_ac(network, params)[0]
    if result.status != lf.ComponentStatus.CONVERGED:
        pytest.fail(f"OpenLoadFlow did not converge: {result.status_text}")


def _mv_feeder(ppl: Any, *, magnetizing: bool) -> Any:
    """110/20 kV substation and a 20 kV feeder with a tapped transformer (tap +1 of +-2,
    2.5 % per step), line charging, an open and a closed switch, six loads, a PV plant at
    fixed P/Q and a capacitor bank. The 110 kV infeed is exported as a CGMES
    ExternalNetworkInjection with referencePriority 1, i.e. the slack."""
    import pypowsybl.network as pn

    n = pn.create_empty("mv_feeder")
    n.create_substations(id=["S1"], country=["DE"])
    n.create_voltage_levels(
        id=["VL110", "VL20"],
        substation_id=["S1", "S1"],
        topology_kind=["BUS_BREAKER"] * 2,
        nominal_v=[110.0, 20.0],
    )
    n.create_buses(
        id=["HV"] + [f"N{i}" for i in range(7)], voltage_level_id=["VL110"] + ["VL20"] * 7
    )
    n.create_generators(
        id=["GRID"],
        voltage_level_id=["VL110"],
        bus_id=["HV"],
        target_p=[0.0],
        target_q=[0.0],
        target_v=[112.2],
        voltage_regulator_on=[True],
        min_p=[-1000.0],
        max_p=[1000.0],
    )
    n.create_extensions("referencePriorities", id="GRID", priority=1)
    n.add_elements_properties(id="GRID", **{"CGMES.originalClass": "ExternalNetworkInjection"})
    g_s, b_s = (2e-6, -1e-5) if magnetizing else (0.0, 0.0)
    n.create_2_windings_transformers(
        id=["TR1"],
        voltage_level1_id=["VL110"],
        bus1_id=["HV"],
        voltage_level2_id=["VL20"],
        bus2_id=["N0"],
        rated_u1=[110.0],
        rated_u2=[20.0],
        rated_s=[40.0],
        r=[0.08],
        x=[1.2],
        g=[g_s],
        b=[b_s],
    )
    rtc = pd.DataFrame.from_records(
        index="id",
        data=[
            {
                "id": "TR1",
                "target_deadband": 0.0,
                "target_v": 20.0,
                "oltc": False,
                "low_tap": -2,
                "tap": 1,
                "regulating": False,
            }
        ],
    )
    # rho multiplies U2/U1: a linear CGMES ratio tap changer on the 110 kV winding
    steps = pd.DataFrame.from_records(
        index="id",
        data=[
            {"id": "TR1", "b": 0.0, "g": 0.0, "r": 0.0, "x": 0.0, "rho": 1 / (1 + 0.025 * k)}
            for k in range(-2, 3)
        ],
    )
    n.create_ratio_tap_changers(rtc, steps)
    lines = [
        ("L01", "N0", "N1"),
        ("L12", "N1", "N2"),
        ("L23", "N2", "N3"),
        ("L14", "N1", "N4"),
        ("L45", "N4", "N5"),
    ]
    n.create_lines(
        id=[ln[0] for ln in lines],
        voltage_level1_id=["VL20"] * 5,
        bus1_id=[ln[1] for ln in lines],
        voltage_level2_id=["VL20"] * 5,
        bus2_id=[ln[2] for ln in lines],
        r=[0.4, 0.5, 0.6, 0.3, 0.7],
        x=[0.6, 0.7, 0.8, 0.5, 0.9],
        g1=[0.0] * 5,
        b1=[2e-5] * 5,
        g2=[0.0] * 5,
        b2=[2e-5] * 5,
    )
    n.create_loading_limits(
        element_id=[ln[0] for ln in lines],
        side=["ONE"] * 5,
        name=["permanent"] * 5,
        type=["CURRENT"] * 5,
        value=[400.0] * 5,
        acceptable_duration=[-1] * 5,
    )
    n.create_switches(
        id=["SW35", "SW56"],
        voltage_level_id=["VL20"] * 2,
        bus1_id=["N3", "N5"],
        bus2_id=["N5", "N6"],
        kind=["LOAD_BREAK_SWITCH", "BREAKER"],
        open=[True, False],
    )
    n.create_loads(
        id=list(_LOADS_MW),
        voltage_level_id=["VL20"] * 6,
        bus_id=[f"N{i}" for i in range(1, 7)],
        p0=[p for p, _ in _LOADS_MW.values()],
        q0=[q for _, q in _LOADS_MW.values()],
    )
    n.create_generators(
        id=["PV3"],
        voltage_level_id=["VL20"],
        bus_id=["N3"],
        target_p=[2.0],
        target_q=[-0.2],
        target_v=[20.0],
        voltage_regulator_on=[False],
        min_p=[0.0],
        max_p=[3.0],
    )
    n.create_shunt_compensators(
        pd.DataFrame.from_records(
            index="id",
            data=[
                {
                    "id": "C4",
                    "voltage_level_id": "VL20",
                    "bus_id": "N4",
                    "model_type": "LINEAR",
                    "section_count": 1,
                }
            ],
        ),
        pd.DataFrame.from_records(
            index="id",
            data=[
                {"id": "C4", "g_per_section": 0.0, "b_per_section": 2e-3, "max_section_count": 2}
            ],
        ),
    )
    return n


def _olf_vm_pu(network: Any, origin_ids: pd.Series) -> np.ndarray:
    """OpenLoadFlow voltage magnitudes [pu] in the order of pandapower's buses.

    pandapower's bus ``origin_id`` is the CGMES TopologicalNode id, i.e. ``_`` + the
    bus-breaker bus id that pypowsybl exported.
    """
    buses = network.get_buses()
    nominal = network.get_voltage_levels()["nominal_v"]
    vm = buses["v_mag"] / nominal.reindex(buses["voltage_level_id"]).to_numpy()
    bb_bus = network.get_bus_breaker_view_buses()["bus_id"]
    assert origin_ids.str.startswith("_").all()
    ids = origin_ids.str.removeprefix("_")
    return vm.reindex(bb_bus.reindex(ids).to_numpy()).to_numpy(dtype=np.float64)


@pytest.fixture(scope="module")
def feeder(ppl: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The MV feeder solved by OpenLoadFlow and exported as one CGMES zip."""
    network = _mv_feeder(ppl, magnetizing=True)
    _run_olf(ppl, network)
    out = tmp_path_factory.mktemp("feeder") / "mv_feeder.zip"
    network.save(str(out), format="CGMES")
    return network, out


@pytest.fixture(scope="module")
def feeder_model(feeder: tuple[Any, Path]) -> NetworkModel:
    """The feeder zip imported once (a NetworkModel is never mutated)."""
    return load_cgmes(feeder[1])


def test_feeder_zip_elements_and_values(
    feeder: tuple[Any, Path], feeder_model: NetworkModel
) -> None:
    network, path = feeder
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(
            f"mv_feeder_{p}.xml" for p in ("EQ", "TP", "SSH", "SV")
        )
    model = feeder_model
    net = model.net
    assert model.name == "mv_feeder"
    assert model.source == str(path)
    assert model.profiles is None
    counts = {
        t: len(net[t])
        for t in (
            "bus",
            "line",
            "trafo",
            "load",
            "sgen",
            "gen",
            "ext_grid",
            "shunt",
            "switch",
            "trafo3w",
        )
    }
    assert counts == {
        "bus": len(network.get_bus_breaker_view_buses()),
        "line": len(network.get_lines()),
        "trafo": len(network.get_2_windings_transformers()),
        "load": len(network.get_loads()),
        "sgen": 1,
        "gen": 0,
        "ext_grid": 1,
        "shunt": len(network.get_shunt_compensators()),
        "switch": len(network.get_switches()),
        "trafo3w": 0,
    }
    assert counts["bus"] == 8
    # set-points are the SSH values
    loads = net.load.set_index("name")
    for load_id, (p_mw, q_mvar) in _LOADS_MW.items():
        assert loads.at[load_id, "p_mw"] == pytest.approx(p_mw)
        assert loads.at[load_id, "q_mvar"] == pytest.approx(q_mvar)
    assert net.sgen.at[0, "p_mw"] == pytest.approx(2.0)
    assert net.sgen.at[0, "q_mvar"] == pytest.approx(-0.2)
    assert np.isnan(net.sgen.at[0, "sn_mva"])  # pypowsybl wrote ratedS = 1.8e308
    assert net.ext_grid.at[0, "vm_pu"] == pytest.approx(112.2 / 110.0)
    switches = net.switch.set_index("name")
    assert not switches.at["SW35", "closed"]
    assert switches.at["SW56", "closed"]
    assert net.line["max_i_ka"].tolist() == pytest.approx([0.4] * 5)
    trafo = net.trafo.iloc[0]
    assert (trafo["tap_pos"], trafo["tap_neutral"], trafo["tap_side"]) == (1, 0, "hv")
    assert trafo["tap_step_percent"] == pytest.approx(2.5)
    assert not trafo["tap_dependency_table"]
    assert "report_container" not in net
    assert any("exactly linear" in note for note in model.notes)
    assert any("sgen.sn_mva" in note for note in model.notes)
    # the imported net survives a pandapower JSON round trip
    assert len(pp.from_json_string(pp.to_json(net)).bus) == 8


def test_feeder_voltages_match_openloadflow(
    feeder: tuple[Any, Path], feeder_model: NetworkModel
) -> None:
    # 1e-4 pu; measured 6.2e-6 pu, all of it from the magnetising branch placement
    net = feeder_model.copy_net()
    pp.runpp(net, numba=False)
    ref = _olf_vm_pu(feeder[0], net.bus["origin_id"])
    assert not np.isnan(ref).any()
    np.testing.assert_allclose(net.res_bus["vm_pu"].to_numpy(), ref, rtol=0.0, atol=1e-4)


def test_feeder_without_magnetizing_matches_exactly(ppl: Any, tmp_path: Path) -> None:
    network = _mv_feeder(ppl, magnetizing=False)
    _run_olf(ppl, network)
    network.save(str(tmp_path / "feeder"), format="CGMES")
    model = load_cgmes(sorted(tmp_path.glob("feeder_*.xml")))
    assert model.name == "feeder"
    net = model.copy_net()
    pp.runpp(net, numba=False)
    ref = _olf_vm_pu(network, net.bus["origin_id"])
    np.testing.assert_allclose(net.res_bus["vm_pu"].to_numpy(), ref, rtol=0.0, atol=1e-8)


def test_feeder_runs_in_the_batch_engine(
    feeder: tuple[Any, Path], feeder_model: NetworkModel
) -> None:
    model = feeder_model
    report = validate(model)
    assert report.errors == ()
    result = simulate(model, static_profiles(model))
    assert bool(result.converged[0])
    vm = pd.Series(result.vm_pu[0], index=result.bus_ids).reindex(model.net.bus.index)
    ref = _olf_vm_pu(feeder[0], model.net.bus["origin_id"])
    np.testing.assert_allclose(vm.to_numpy(), ref, rtol=0.0, atol=1e-4)


def test_ieee9_profile_files(ppl: Any, tmp_path: Path) -> None:
    import pypowsybl.network as pn

    network = pn.create_ieee9()
    network.create_extensions("referencePriorities", id="B1-G", priority=1)
    _run_olf(ppl, network)
    network.save(str(tmp_path / "ieee9"), format="CGMES")
    files = [tmp_path / f"ieee9_{p}.xml" for p in ("EQ", "TP", "SSH", "SV")]
    model = load_cgmes([str(f) for f in files])
    net = model.net
    assert model.name == "ieee9"
    assert {
        t: len(net[t]) for t in ("bus", "line", "trafo", "load", "gen", "sgen", "ext_grid")
    } == {
        "bus": len(network.get_bus_breaker_view_buses()),
        "line": len(network.get_lines()),
        "trafo": len(network.get_2_windings_transformers()),
        "load": len(network.get_loads()),
        "gen": len(network.get_generators()),
        "sgen": 0,
        "ext_grid": 0,
    }
    assert net.gen.loc[net.gen["slack"].astype(bool), "name"].tolist() == ["B1-G"]
    assert any("gen with slack=True" in note for note in model.notes)
    work = model.copy_net()
    pp.runpp(work, numba=False)
    ref = _olf_vm_pu(network, work.bus["origin_id"])
    np.testing.assert_allclose(work.res_bus["vm_pu"].to_numpy(), ref, rtol=0.0, atol=1e-4)
    # voltage-controlled machines are pandapower gens and the slack a gen: solved as
    # pandapower solves them (Newton-Raphson on its case); power-grid-model refuses both
    assert validate(model).ok
    res = simulate(model, static_profiles(model))
    assert isinstance(res, PowerFlowResult)
    np.testing.assert_allclose(res.vm_pu[0], work.res_bus["vm_pu"], rtol=0, atol=1e-8)
    pgm = {issue.table for issue in validate(model, solver="pgm").errors}
    assert {"gen", "ext_grid"} <= pgm


def test_missing_tp_profile_is_named(ppl: Any, tmp_path: Path) -> None:
    import pypowsybl.network as pn

    network = pn.create_ieee9()
    network.save(str(tmp_path / "ieee9"), format="CGMES")
    files = [tmp_path / f"ieee9_{p}.xml" for p in ("EQ", "SSH", "SV")]
    with pytest.raises(InputError, match=r"ieee9_EQ\.xml.*no TP \(topology\) profile"):
        load_cgmes(files)


def test_missing_boundary_set_is_reported(ppl: Any, tmp_path: Path) -> None:
    import pypowsybl.network as pn

    # MicroGrid BE refers to the 220 kV and 380 kV BaseVoltages of the ENTSO-E boundary set
    pn.create_micro_grid_be_network().save(str(tmp_path / "be"), format="CGMES")
    with pytest.raises(InputError, match=r"8 of 11 buses have no nominal voltage.*EQ_BD"):
        load_cgmes(sorted(tmp_path.glob("be_*.xml")))


# ---- errors (no pypowsybl needed) -----------------------------------------------------

_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns:cim="{cim}" xmlns:md="http://iec.ch/TC57/61970-552/ModelDescription/1#">
  <md:FullModel rdf:about="urn:uuid:{profile}">
    <md:Model.profile>http://entsoe.eu/CIM/{uri}/3/1</md:Model.profile>
  </md:FullModel>
</rdf:RDF>
"""
_URIS = {
    "EQ": "EquipmentCore",
    "TP": "Topology",
    "SSH": "SteadyStateHypothesis",
    "SV": "StateVariables",
}
_CIM16 = "http://iec.ch/TC57/2013/CIM-schema-cim16#"


def _header(profile: str, cim: str = _CIM16) -> str:
    return _HEADER.format(cim=cim, profile=profile, uri=_URIS[profile])


def _write_headers(folder: Path, profiles: tuple[str, ...]) -> list[Path]:
    paths = []
    for profile in profiles:
        path = folder / f"grid_{profile}.xml"
        path.write_text(_header(profile), encoding="utf-8")
        paths.append(path)
    return paths


def test_missing_file_is_named(tmp_path: Path) -> None:
    files = _write_headers(tmp_path, ("EQ", "TP"))
    missing = tmp_path / "grid_SSH.xml"
    with pytest.raises(InputError, match=r"grid_SSH\.xml: no such file"):
        load_cgmes([*files, missing])


def test_corrupt_zip_is_named(tmp_path: Path) -> None:
    path = tmp_path / "grid.zip"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(InputError, match=r"grid\.zip: not a readable zip archive"):
        load_cgmes(path)


def test_corrupt_member_of_zip_is_named(tmp_path: Path) -> None:
    path = tmp_path / "grid.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("grid_EQ.xml", _header("EQ"))
        archive.writestr("grid_SSH.xml", _header("SSH")[:150])  # truncated
    with pytest.raises(InputError, match=r"grid\.zip:grid_SSH\.xml: .*not well-formed XML"):
        load_cgmes(path)


def test_xml_without_cgmes_header(tmp_path: Path) -> None:
    path = tmp_path / "grid_EQ.xml"
    path.write_text('<?xml version="1.0"?><network><bus id="1"/></network>', encoding="utf-8")
    with pytest.raises(InputError, match=r"grid_EQ\.xml: no CGMES header"):
        load_cgmes([path])


def test_missing_ssh_profile_is_named(tmp_path: Path) -> None:
    files = _write_headers(tmp_path, ("EQ", "TP", "SV"))
    with pytest.raises(InputError, match=r"no SSH profile.*grid_EQ\.xml \(EQ\)") as info:
        load_cgmes(files)
    assert "grid_SV.xml (SV)" in str(info.value)


def test_zip_without_profiles(tmp_path: Path) -> None:
    path = tmp_path / "grid.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no CGMES here")
    with pytest.raises(InputError, match=r"grid\.zip: the zip holds no CGMES profile files"):
        load_cgmes(path)


def test_wrong_suffix_and_no_files(tmp_path: Path) -> None:
    path = tmp_path / "grid.txt"
    path.write_text(_header("EQ"), encoding="utf-8")
    with pytest.raises(InputError, match=r"grid\.txt: not a CGMES file name"):
        load_cgmes(path)
    with pytest.raises(InputError, match="no CGMES files given"):
        load_cgmes([])


def test_cgmes_3_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "grid_EQ.xml"
    path.write_text(_header("EQ", cim="http://iec.ch/TC57/CIM100#"), encoding="utf-8")
    with pytest.raises(InputError, match=r"grid_EQ\.xml: CGMES 3\.0 \(CIM100\) is not supported"):
        load_cgmes(path)


def test_model_without_buses(tmp_path: Path) -> None:
    files = _write_headers(tmp_path, ("EQ", "TP", "SSH"))
    with pytest.raises(InputError, match="the CGMES model has no buses"):
        load_cgmes(files)


def test_missing_converter_dependency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _write_headers(tmp_path, ("EQ", "TP", "SSH"))
    monkeypatch.setitem(sys.modules, "pandapower.converter.cim.cim2pp.from_cim", None)
    with pytest.raises(InputError, match=r"pip install 'gridtwin\[cim\]'"):
        load_cgmes(files)
