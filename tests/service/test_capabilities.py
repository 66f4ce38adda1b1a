"""The capabilities through the API, each cross-checked against the library or the command
line on the same inputs: a bill (inline and from the store), the pumping-station norms,
a power-quality assessment (JSON and the HTML report) and a scenario run on the twin."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridtwin.billing import bill_for
from gridtwin.cli import app as cli_app
from gridtwin.ingest import write_intervals
from gridtwin.service.api.capabilities import MAX_BILL_VALUES, MAX_SCENARIO_SPAN_S
from gridtwin.store import MeasurementBatch, MeasurementPoint
from gridtwin.tariffs import builtin_tariff_ids
from gridtwin.timeseries import IntervalData
from gridtwin.workflows.billing import BillingRun
from tests.billing.util import flat_data
from tests.heatnet.util import example_dict
from tests.quality.test_assessment import GOLDEN_VERDICTS, MSK, golden_week_csv
from tests.service.conftest import TWIN_CODE, Api

runner = CliRunner()
DD2 = "sk-urso-0210-2017-dd2"  # Slovak supply tariff: bands, levies, VAT; Europe/Bratislava
JAN = {"period_start": "2018-01-01", "period_end": "2018-02-01"}


@pytest.fixture(scope="module")
def january() -> IntervalData:
    """January 2018 (local, Bratislava) in quarter hours, uneven consumption."""
    data = flat_data("2018-01-01", "2018-02-01", 0.25, tz="Europe/Bratislava")
    rng = np.random.default_rng(7)
    energy = rng.uniform(0.05, 0.6, data.energy_kwh.shape).round(3)
    return IntervalData(data.start_utc, energy, data.meter_ids)


def _inline(data: IntervalData) -> dict[str, Any]:
    return {
        "start_utc": data.start_utc[0].isoformat(),
        "step_s": 900,
        "energy_kwh": [float(x) for x in data.energy_kwh[0]],
    }


def _store_series(api: Api, point: MeasurementPoint, index: pd.DatetimeIndex, values: Any) -> None:
    store = api.state.store
    store.add_points([point])
    ts = np.asarray(index.tz_convert("UTC").tz_localize(None), dtype="datetime64[us]")
    store.write(MeasurementBatch.build([point.point_id] * len(ts), ts, np.asarray(values, float)))


# ---------------------------------------------------------------------- tariffs and bills


def test_tariffs_are_the_bundled_ones(module_api: Api) -> None:
    r = module_api.get("/api/v1/tariffs", as_="viewer")
    assert r.status_code == 200, r.text
    tariffs = {t["id"]: t for t in r.json()["tariffs"]}
    assert set(tariffs) == set(builtin_tariff_ids())
    assert tariffs[DD2]["currency"] == "EUR"
    assert tariffs["il-tou-2015"]["provisional"] is True


def test_bill_inline_equals_the_command_line(
    module_api: Api, january: IntervalData, tmp_path: Path
) -> None:
    body = {"tariff_id": DD2, **JAN, "values": _inline(january), "meter_id": "m0"}
    r = module_api.post("/api/v1/bills", json=body, as_="analyst")
    assert r.status_code == 200, r.text
    got = r.json()
    path = tmp_path / "jan.csv"
    write_intervals(january, path)
    out = runner.invoke(
        cli_app,
        [
            *("bill", "--tariff", DD2, "--data", str(path)),
            *("--period", "2018-01-01:2018-02-01", "--format", "json"),
        ],
    )
    assert out.exit_code == 0, out.output
    (cli,) = json.loads(out.output)
    assert got["total"] == cli["total"]  # the same decimal string
    assert [ln["amount"] for ln in got["lines"]] == [ln["amount"] for ln in cli["lines"]]
    assert got["energy_kwh"] == pytest.approx(float(january.energy_kwh.sum()))
    assert got["currency"] == "EUR"
    assert sum(Decimal(ln["amount"]) for ln in got["lines"]) == Decimal(got["total"])


def test_bill_of_a_stored_point_equals_the_library(module_api: Api, january: IntervalData) -> None:
    energy = MeasurementPoint("pod-7:energy", "energy", "Wh")  # stored in Wh
    _store_series(module_api, energy, january.start_utc, january.energy_kwh[0] * 1000.0)
    power = MeasurementPoint("pod-7:p", "p", "kW")  # average kW per quarter hour
    _store_series(module_api, power, january.start_utc, january.energy_kwh[0] * 4.0)
    expected = bill_for(
        BillingRun(DD2, january, periods=[(dt.date(2018, 1, 1), dt.date(2018, 2, 1))]).run(), 0
    )
    for pid in ("pod-7:energy", "pod-7:p"):
        r = module_api.post(
            "/api/v1/bills", json={"tariff_id": DD2, **JAN, "point_id": pid}, as_="analyst"
        )
        assert r.status_code == 200, (pid, r.text)
        got = r.json()
        assert got["total"] == str(expected.total), pid
        assert got["meter_id"] == pid
        assert got["missing_intervals"] == 0


def test_a_gap_in_the_store_is_refused_unless_allowed(
    module_api: Api, january: IntervalData
) -> None:
    point = MeasurementPoint("pod-8:energy", "energy", "kWh")
    keep = np.ones(january.n_steps, dtype=bool)
    keep[100:104] = False  # one hour missing
    _store_series(module_api, point, january.start_utc[keep], january.energy_kwh[0][keep])
    body = {"tariff_id": DD2, **JAN, "point_id": "pod-8:energy"}
    r = module_api.post("/api/v1/bills", json=body, as_="analyst")
    assert r.status_code == 422
    assert "gap" in r.json()["detail"].lower() or "missing" in r.json()["detail"].lower()
    r = module_api.post("/api/v1/bills", json=body | {"allow_gaps": True}, as_="analyst")
    assert r.status_code == 200, r.text
    assert r.json()["missing_intervals"] == 4
    assert any("INCOMPLETE" in n for n in r.json()["notes"])


def test_bills_need_the_analyst_role_and_are_audited(
    module_api: Api, january: IntervalData
) -> None:
    body = {"tariff_id": DD2, **JAN, "values": _inline(january)}
    for role in ("viewer", "operator"):
        assert module_api.post("/api/v1/bills", json=body, as_=role).status_code == 403
    assert module_api.post("/api/v1/bills", json=body, as_="analyst").status_code == 200
    entries = module_api.get("/api/v1/audit", as_="admin").json()["entries"]
    bills = [e for e in entries if e["path"] == "/api/v1/bills"]
    assert {(e["username"], e["outcome"]) for e in bills} >= {
        ("viewer", "denied"),
        ("analyst", "ok"),
    }
    assert any(e["object"] == f"tariff={DD2}" for e in bills)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tariff_id": "no-such-tariff"}, "tariff_id"),
        ({"tariff_id": "../../etc/tariff.yaml"}, "tariff_id"),  # never a server file
        ({"period_end": "2017-12-01"}, "period_end"),
        ({"point_id": "nowhere:energy", "values": None}, "point"),
        ({"values": None}, "point_id"),
    ],
)
def test_bad_bill_input_is_422_naming_the_field(
    module_api: Api, january: IntervalData, change: dict[str, Any], field: str
) -> None:
    body = {"tariff_id": DD2, **JAN, "values": _inline(january)} | change
    body = {k: v for k, v in body.items() if v is not None}
    r = module_api.post("/api/v1/bills", json=body, as_="analyst")
    assert r.status_code in (404, 422) if field == "point" else r.status_code == 422, r.text
    assert field in json.dumps(r.json()["detail"])


def test_too_many_values_are_refused_before_any_work(module_api: Api) -> None:
    values = {"start_utc": "2018-01-01T00:00Z", "energy_kwh": [0.1] * (MAX_BILL_VALUES + 1)}
    r = module_api.post(
        "/api/v1/bills", json={"tariff_id": DD2, **JAN, "values": values}, as_="analyst"
    )
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["loc"] == ["body", "values", "energy_kwh"]


def test_a_bill_in_a_point_of_the_wrong_quantity(module_api: Api) -> None:
    r = module_api.post(
        "/api/v1/bills", json={"tariff_id": DD2, **JAN, "point_id": "bus:3:vm"}, as_="analyst"
    )
    assert r.status_code == 422
    assert "point_id 'bus:3:vm' measures 'vm'" in r.json()["detail"]


# ---------------------------------------------------------------------- norms


def test_norms_of_the_seed_example(module_api: Api) -> None:
    r = module_api.post(
        "/api/v1/norms", json={"calculation": "past-year", "units": [example_dict()]}, as_="analyst"
    )
    assert r.status_code == 200, r.text
    (unit,) = r.json()["summary"]
    # the figures tests/heatnet/test_example.py reproduces
    assert round(unit["total_normative_energy_kwh"]) == 13_368_157
    assert round(unit["total_calculated_energy_kwh"]) == 11_856_459
    assert unit["reserves_factor"] == pytest.approx(0.11757, abs=1e-5)
    assert r.json()["territorial_totals"] is None
    assert r.json()["units"][0]["stations"]
    coming = module_api.post(
        "/api/v1/norms",
        json={"calculation": "coming-year", "units": [example_dict()]},
        as_="analyst",
    )
    assert coming.status_code == 200, coming.text
    assert coming.json()["summary"][0]["task"] is not None


def test_norms_of_two_units_are_summed(module_api: Api) -> None:
    second = copy.deepcopy(example_dict())
    second["territorial_unit"] = "Second network"
    body = {"calculation": "past-year", "units": [example_dict(), second]}
    r = module_api.post("/api/v1/norms", json=body, as_="analyst")
    assert r.status_code == 200, r.text
    assert len(r.json()["summary"]) == 2
    assert r.json()["territorial_totals"]


def test_a_bad_norms_input_names_the_unit_and_the_field(module_api: Api) -> None:
    bad = example_dict()
    del bad["stations"]
    r = module_api.post(
        "/api/v1/norms", json={"calculation": "past-year", "units": [bad]}, as_="analyst"
    )
    assert r.status_code == 422
    assert "units[0]: stations" in r.json()["detail"]
    assert module_api.post("/api/v1/norms", json={}, as_="viewer").status_code == 403


# ---------------------------------------------------------------------- power quality


@pytest.fixture(scope="module")
def golden_rows(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    path = tmp_path_factory.mktemp("pq") / "week.csv"
    golden_week_csv(path)
    frame = pd.read_csv(path, dtype={"phase": str}, keep_default_na=False)
    rows = [
        {
            "time_utc": r["timestamp"],
            "point_id": r["point_id"],
            "indicator": r["indicator"],
            "phase": r["phase"],
            "value": float(r["value"]),
            "flagged": str(r.get("flagged", "")).lower() in ("true", "1"),
        }
        for r in frame.to_dict("records")
    ]
    return path, rows


def test_quality_inline_equals_the_command_line(
    module_api: Api, golden_rows: tuple[Path, list[dict[str, Any]]]
) -> None:
    path, rows = golden_rows
    body = {"timezone": MSK, "values": rows}
    r = module_api.post("/api/v1/quality/assessments", json=body, as_="analyst")
    assert r.status_code == 200, r.text
    got = r.json()
    assert {p["point_id"]: p["verdict"] for p in got["points"]} == GOLDEN_VERDICTS
    out = runner.invoke(
        cli_app, ["quality", "assess", str(path), "--timezone", MSK, "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    cli = json.loads(out.stdout)
    assert got["table"] == cli["table"]
    assert got["nominal_v"] == cli["nominal_v"] == 220.0


def test_quality_report_as_html(
    module_api: Api, golden_rows: tuple[Path, list[dict[str, Any]]]
) -> None:
    _, rows = golden_rows
    ok = [r for r in rows if r["point_id"] in ("ok", "over")]
    r = module_api.post(
        "/api/v1/quality/assessments?format=html",
        json={"timezone": MSK, "values": ok},
        as_="analyst",
    )
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text[:2000].lower()
    assert "over" in r.text


def test_quality_of_a_stored_voltage_point(module_api: Api) -> None:
    week = pd.date_range("2025-06-01T21:00Z", periods=1008, freq="10min")
    volts = np.full(1008, 230.0)
    volts[500] = 260.0  # +18 % of 220 V: above the 10 % band once, GOST fails the week
    _store_series(module_api, MeasurementPoint("pq:u:a", "u", "V", phase="a"), week, volts)
    body = {
        "timezone": MSK,
        "point_ids": ["pq:u:a"],
        "start_utc": "2025-06-01T21:00Z",
        "end_utc": "2025-06-08T21:00Z",
    }
    r = module_api.post("/api/v1/quality/assessments", json=body, as_="analyst")
    assert r.status_code == 200, r.text
    (point,) = r.json()["points"]
    assert (point["point_id"], point["verdict"]) == ("pq:u:a", "fail")
    # the library on the same values
    from gridtwin.quality import MeasurementSet, assess

    ms = MeasurementSet.from_arrays(
        "voltage", week, volts[:, None], point_ids=["pq:u:a"], phases=("a",), unit="V"
    )
    assert assess(ms, timezone=MSK).points["verdict"].tolist() == ["fail"]
    # a point of another quantity
    body["point_ids"] = ["load:1:p"]
    r = module_api.post("/api/v1/quality/assessments", json=body, as_="analyst")
    assert r.status_code == 422
    assert "point_ids: 'load:1:p' measures 'p'" in r.json()["detail"]


def test_quality_input_errors(module_api: Api) -> None:
    r = module_api.post("/api/v1/quality/assessments", json={"timezone": MSK}, as_="analyst")
    assert r.status_code == 422
    assert "point_ids" in json.dumps(r.json()["detail"])
    off_grid = [{"time_utc": "2025-06-01T21:03Z", "indicator": "voltage", "value": 220.0}]
    r = module_api.post("/api/v1/quality/assessments", json={"values": off_grid}, as_="analyst")
    assert r.status_code == 422
    assert "grid" in r.json()["detail"]


# ---------------------------------------------------------------------- scenario


def test_scenario_on_the_twin_equals_the_library(module_api: Api) -> None:
    from gridtwin.network.scenarios import ElectrificationSpec
    from gridtwin.workflows.studies import scenario_study

    body = {
        "kind": "electrify",
        "share": 1.0,
        "start_utc": "2016-01-04T00:00Z",
        "end_utc": "2016-01-05T00:00Z",
    }
    r = module_api.post("/api/v1/studies/scenario", json=body, as_="analyst")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["model"] == TWIN_CODE
    assert got["before"]["steps"] == got["after"]["steps"] == 96
    assert got["after"]["line_loading_max_percent"] > got["before"]["line_loading_max_percent"]
    assert got["after"]["vm_min_pu"] < got["before"]["vm_min_pu"]
    # the library on the service's own twin, the same steps and change
    lib = scenario_study(
        module_api.state.extras["twin"].live.twin,
        "electrify",
        electrification=ElectrificationSpec(share=1.0),
        steps=slice(3 * 96, 4 * 96),
    )
    for case, state in (("before", lib.before), ("after", lib.after)):
        assert got[case]["limiting_element"] == state.limiting_element
        assert got[case]["lines_overloaded"] == state.violations["lines_overloaded"]
        assert got[case]["customer_buses_failing"] == state.violations["customer_buses_failing"]
        assert got[case]["vm_min_pu"] == pytest.approx(float(np.nanmin(state.power_flow.vm_pu)))


def test_a_scenario_period_too_long_is_refused(module_api: Api) -> None:
    body = {"kind": "pv", "start_utc": "2016-06-01T00:00Z", "end_utc": "2016-06-09T00:00Z"}
    r = module_api.post("/api/v1/studies/scenario", json=body, as_="analyst")
    assert r.status_code == 422
    assert f"{MAX_SCENARIO_SPAN_S:,}" in json.dumps(r.json()["detail"])
    body = {"kind": "pv", "start_utc": "2020-06-01T00:00Z", "end_utc": "2020-06-02T00:00Z"}
    r = module_api.post("/api/v1/studies/scenario", json=body, as_="analyst")
    assert r.status_code == 422
    assert "start_utc/end_utc" in r.json()["detail"]
    assert module_api.post("/api/v1/studies/scenario", json=body, as_="viewer").status_code == 403
