"""The pumping-station characteristics through the API (``POST /norms/characteristics``)
and the example inputs (``GET /norms/examples``), checked against the library's pumps,
stations and norms on the seed example."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gridtwin.heatnet.schema import input_from_dict
from gridtwin.service.settings import ServiceSettings
from tests.heatnet.util import example_dict
from tests.service.conftest import ROLES, Api, add_users, issue_tokens, make_store, running


@pytest.fixture(scope="module")
def heat_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An app without a twin, a user per role."""
    folder: Path = tmp_path_factory.mktemp("heat")
    settings = ServiceSettings(store=make_store(folder))
    add_users(settings, {r.value: r for r in ROLES})
    with running(settings) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        yield api


def test_the_examples_are_the_source_trees(heat_api: Api) -> None:
    r = heat_api.get("/api/v1/norms/examples", as_="viewer")
    assert r.status_code == 200, r.text
    examples = r.json()["examples"]
    assert [e["name"] for e in examples] == ["seed-example", "seed-example-variant"]
    assert examples[0]["unit"] == example_dict()
    assert examples[0]["title"].startswith("Seed 002 worked example")


def test_characteristics_of_the_seed_example(heat_api: Api) -> None:
    unit = example_dict()
    r = heat_api.post(
        "/api/v1/norms/characteristics", json={"unit": unit, "n_points": 21}, as_="analyst"
    )
    assert r.status_code == 200, r.text
    got = r.json()
    inp = input_from_dict(unit, "unit")
    pumps = inp.build_pumps()
    # each pump type's curves are the library's, over its usable range
    assert [p["name"] for p in got["pumps"]] == list(pumps)
    for p in got["pumps"]:
        pump = pumps[p["name"]]
        q = np.asarray(p["flow_m3_per_h"])
        assert len(q) == 21
        assert q[0] == pytest.approx(pump.min_flow_m3_per_h)
        assert q[-1] == pytest.approx(pump.max_flow_m3_per_h)
        np.testing.assert_allclose(p["head_m"], pump.head(q))
        np.testing.assert_allclose(p["efficiency"], pump.efficiency(q))
        assert p["status"] == "assumed"  # the example's pump data are assumptions
    # every station season; N(G) is the station's characteristic
    stations = inp.build_stations()
    assert {(s["station"], s["season"]) for s in got["seasons"]} == {
        (n, season) for n, st in stations.items() for season in st.seasons
    }
    past = heat_api.post(
        "/api/v1/norms", json={"calculation": "past-year", "units": [unit]}, as_="analyst"
    ).json()["units"][0]
    for s in got["seasons"]:
        char = stations[s["station"]].season(s["season"])
        for g, n in zip(s["flow_t_per_h"], s["power_kw"], strict=True):
            assert n == pytest.approx(char.point(g).power_kw)
        marks = {m["kind"]: m for m in s["marks"]}
        assert set(marks) == {"design", "actual", "coming", "crossing"}
        (row,) = [
            r
            for st in past["stations"]
            if st["station"] == s["station"]
            for r in st["seasons"]
            if r["season"] == s["season"]
        ]
        design = marks["design"]
        assert design["flow_t_per_h"] == row["design_flow_t_per_h"]
        assert design["power_kw"] == pytest.approx(row["design_unit_power_kw"])
        # the network curve passes through the design point ...
        assert s["network_resistance"] * design["flow_t_per_h"] ** 2 == pytest.approx(
            design["head_m"]
        )
        # ... and crosses the joint characteristic where both give the same head
        cross = marks["crossing"]
        assert cross["head_m"] == pytest.approx(
            s["network_resistance"] * cross["flow_t_per_h"] ** 2, rel=1e-6
        )
        assert cross["head_m"] == pytest.approx(
            char.point(cross["flow_t_per_h"]).curve_head_m, rel=1e-6
        )
    # which forms are reconstructions
    status = {f["number"]: f["status"] for f in got["formulas"]}
    assert all(status[f"({i})"] == "reconstructed" for i in range(1, 12))
    assert status["3.5"] == "seed"
    assert status["network curve"] == "assumed"


def test_a_bad_input_names_the_field(heat_api: Api) -> None:
    bad = copy.deepcopy(example_dict())
    bad["pumps"]["СЭ-800-100"]["motor_efficiency"] = 1.5
    r = heat_api.post("/api/v1/norms/characteristics", json={"unit": bad}, as_="analyst")
    assert r.status_code == 422, r.text
    assert "motor_efficiency" in r.text
    for unit in ({}, {"title": 3}):
        r = heat_api.post("/api/v1/norms/characteristics", json={"unit": unit}, as_="analyst")
        assert r.status_code == 422, r.text
    r = heat_api.post("/api/v1/norms/characteristics", json={"unit": {}}, as_="operator")
    assert r.status_code == 403
