"""N-1 and hosting capacity through the API on the LV feeder's twin: the answers match the
library run on the same stress steps; requests that would run too long, name unknown
buses or come while another study runs are refused with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from gridtwin.network.contingency import GridLimits, hosting_capacity, stress_steps
from gridtwin.service.api import studies
from gridtwin.service.api.studies import MAX_OUTAGES, MAX_STUDY_BUSES, study_limit
from gridtwin.workflows.twin import load_network
from tests.service.conftest import TWIN_CODE, Api


@pytest.fixture(scope="module")
def model() -> Any:
    return load_network(simbench_code=TWIN_CODE)


def test_hosting_capacity_matches_the_library(module_api: Api, model: Any) -> None:
    lv = [int(b) for b in model.net.bus.index if model.net.bus.at[b, "vn_kv"] < 1.0]
    chosen = [lv[0], lv[len(lv) // 2], lv[-1]]
    body = {"kind": "pv", "vm_max_pu": 1.1, "buses": chosen}
    r = module_api.post("/api/v1/studies/hosting", json=body, as_="analyst")
    assert r.status_code == 200, r.text
    out = r.json()
    assert [b["element"] for b in out["buses"]] == [f"bus:{b}" for b in chosen]
    steps = stress_steps(model, "pv").tolist()
    want = hosting_capacity(model, kind="pv", buses=chosen, steps=steps, limits=GridLimits())
    got = [b["hosting_mw"] for b in out["buses"]]
    assert got == pytest.approx(want["hosting_mw"].tolist(), abs=1e-3)
    assert [b["limiting"] for b in out["buses"]] == want["limiting"].tolist()
    assert out["lowest_mw"] == pytest.approx(min(got))
    assert out["stress_steps_utc"] == [
        model.profiles.time_utc[s].isoformat().replace("+00:00", "Z") for s in steps
    ]


def test_hosting_refuses_unknown_and_feeding_buses(module_api: Api, model: Any) -> None:
    r = module_api.post("/api/v1/studies/hosting", json={"buses": [99999]}, as_="analyst")
    assert r.status_code == 422
    assert "buses: no bus 99999" in r.json()["detail"]
    slack = int(model.net.ext_grid["bus"].iloc[0])
    r = module_api.post("/api/v1/studies/hosting", json={"buses": [slack]}, as_="analyst")
    assert r.status_code == 422
    assert "feeds the grid" in r.json()["detail"]
    assert module_api.post("/api/v1/studies/hosting", json={}, as_="operator").status_code == 403


def test_a_study_while_another_runs_is_a_409(module_api: Api) -> None:
    assert studies._BUSY.acquire(blocking=False)  # a study running
    try:
        r = module_api.post("/api/v1/studies/hosting", json={"buses": [3]}, as_="analyst")
        assert r.status_code == 409
        assert "another study is running" in r.json()["detail"]
    finally:
        studies._BUSY.release()


def test_the_limits_name_the_bound_and_the_command_line() -> None:
    big = study_limit("contingency", 9099, 9105)
    assert big is not None
    assert f"{MAX_STUDY_BUSES:,}" in big
    assert "gridtwin network contingency" in big
    many = study_limit("contingency", 500, MAX_OUTAGES + 1)
    assert many is not None
    assert f"at most {MAX_OUTAGES}" in many
    assert study_limit("contingency", 44, 43) is None
    wide = study_limit("hosting", 2900, 100)
    assert wide is not None
    assert "name fewer in buses" in wide
    assert study_limit("hosting", 44, 43) is None


@pytest.mark.slow
def test_n_1_of_the_feeder(module_api: Api, model: Any) -> None:
    r = module_api.post("/api/v1/studies/contingency", json={}, as_="analyst")
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["outages"]) == len(model.net.line) + len(model.net.trafo)
    by = {o["element"]: o for o in out["outages"]}
    # the transformer feeds the whole feeder: its outage loses every load
    assert by["trafo:0"]["loads_lost"] == len(model.net.load)
    assert out["with_lost_load"] == sum(1 for o in out["outages"] if o["loads_still_lost"])
    assert len(out["stress_steps_utc"]) == 2
