"""The early warning through the service: a forecast evening peak that breaks the
EN 50160 voltage band raises potential alarms with probability and lead time, each with
a measure checked by power flow (issue 14's "Done when"), on the live twin of SimBench's
LV feeder whose loads are scaled by 6 (beyond the demo's electrified apartments, x5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import EarlyWarningConfig, NetworkSource, TwinConfig, twin_extension
from tests.service.conftest import (
    ROLES,
    TWIN_CODE,
    Api,
    add_twin_hour,
    add_users,
    issue_tokens,
    make_store,
    running,
    wait_for_state,
)

pytestmark = pytest.mark.slow  # a twin of its own: SimBench load and start, ~2 min


@pytest.fixture(scope="module")
def warn_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder: Path = tmp_path_factory.mktemp("warnings")
    settings = ServiceSettings(store=make_store(folder))
    add_twin_hour(settings.store)
    add_users(settings, {r.value: r for r in ROLES})
    twin = TwinConfig(
        network=NetworkSource(simbench=TWIN_CODE),
        standard="EN 50160:2010",
        grace_s=0.0,
        early_warning=EarlyWarningConfig(load_scale=6.0, samples=100),
    )
    with running(settings, lifespans=[twin_extension(twin)]) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        wait_for_state(api, intervals=4)
        yield api


def test_a_forecast_peak_below_the_band_raises_potential_alarms_with_a_checked_measure(
    warn_api: Api,
) -> None:
    r = warn_api.get("/api/v1/warnings", as_="viewer")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["day"] == "2016-01-02"
    assert body["reference_utc"] == "2016-01-01T00:45:00Z"
    assert body["steps"] == 96
    assert body["method"] == "sf_seasonal_naive"
    low = [w for w in body["warnings"] if w["rule_id"] == "customer-voltage-low-lv"]
    assert low, body["warnings"][:3]
    for w in low:
        assert body["threshold"] <= w["probability"] <= 1.0
        assert w["band_value"] < w["limit"]  # the stress band is below it too
        first = pd.Timestamp(w["first_utc"])
        assert w["lead_time_s"] == (first - pd.Timestamp("2016-01-01T00:45Z")).total_seconds()
        assert w["lead_time_s"] > 12 * 3600
    checked = [w for w in low if w["measure"] is not None]
    assert checked, "a voltage deviation must come with a checked measure"
    m = checked[0]["measure"]
    assert m["kind"] == "tap"
    assert m["power_flows"] > 0
    assert f"customer-voltage-low-lv@{checked[0]['element']}" in m["findings_removed"]
    assert {x["kind"] for x in body["measures"]} >= {"tap", "q_u", "curtail_pv"}
    assert any("normally-open" in n for n in body["notes"])
    # the findings are potential alarms of the twin's alarm system, beside the forward look's
    pot = warn_api.get("/api/v1/alarms/potential", as_="viewer").json()["potential"]
    forecast = {p["instance_id"]: p for p in pot if p["source"] == "forecast"}
    for w in low:
        p = forecast[f"customer-voltage-low-lv@{w['element']}"]
        assert p["probability"] == pytest.approx(w["probability"])
        assert p["lead_time_s"] == pytest.approx(w["lead_time_s"])
        assert p["priority"] == "high"
    assert all(p["probability"] is None for p in pot if p["source"] == "forward_look")
    # answered from the kept report the second time
    again = warn_api.get("/api/v1/warnings", as_="operator").json()
    assert again["timings_s"] == body["timings_s"]
