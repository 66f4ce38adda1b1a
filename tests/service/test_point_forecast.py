"""``GET /points/{point_id}/forecast`` on a real store: LightGBM on three weeks of a
load-like series, the stated fallbacks on short and flat ones, the cache, the bounds.

The series are written here: a 15-min household-feeder shape (a morning and an evening
peak, lower on Sundays, a little noise), standing for the SimBench load profiles the demo
twin replays (``H0``-like, kW); and the twin's own 15-min state points (``twin:bus:<i>:vm``
in pu), whose demo history is only hours long (the short fallback).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.service.settings import ServiceSettings
from gridtwin.store import MeasurementBatch, MeasurementPoint, open_store
from tests.service.conftest import ROLES, Api, add_users, issue_tokens, make_store, running

START = pd.Timestamp("2016-03-01T00:00Z")
LONG, SHORT, FLAT = "feeder:p", "twin:bus:7:vm", "meter:flat"


def _shape(times: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    hours = times.hour + times.minute / 60
    base = 20 + 15 * np.exp(-(((hours - 8) / 1.5) ** 2)) + 25 * np.exp(-(((hours - 19) / 2) ** 2))
    base = np.where(times.dayofweek == 6, base * 0.8, base)
    return np.asarray(base + rng.normal(0, 0.5, len(times)), dtype=float)


def _write(location: str) -> None:
    rng = np.random.default_rng(5)
    long_t = pd.date_range(START, periods=21 * 96, freq="15min")
    short_t = pd.date_range(START, periods=10, freq="15min")
    flat_t = pd.date_range(START, periods=15 * 96, freq="15min")
    ids = [LONG] * len(long_t) + [SHORT] * len(short_t) + [FLAT] * len(flat_t)
    ts = np.concatenate(
        [t.tz_convert(None).to_numpy("datetime64[us]") for t in (long_t, short_t, flat_t)]
    )
    values = np.concatenate(
        [_shape(long_t, rng), 1.0 - 0.002 * np.arange(len(short_t)), np.full(len(flat_t), 3.0)]
    )
    with open_store(location) as store:
        store.add_points(
            [
                MeasurementPoint(LONG, "p", "kW", description="feeder head"),
                MeasurementPoint(SHORT, "vm", "pu", element="bus:7", source="twin"),
                MeasurementPoint(FLAT, "p", "kW"),
            ]
        )
        store.write(MeasurementBatch.build(ids, ts, values))


@pytest.fixture(scope="module")
def fc_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder: Path = tmp_path_factory.mktemp("forecast")
    settings = ServiceSettings(store=make_store(folder))
    _write(settings.store)
    add_users(settings, {r.value: r for r in ROLES})
    with running(settings) as api:
        api.tokens.update(issue_tokens(settings, [r.value for r in ROLES]))
        yield api


def _forecast(api: Api, point: str, **query: str) -> dict[str, object]:
    r = api.get(f"/api/v1/points/{point}/forecast", params=query, as_="viewer")
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_three_weeks_are_forecast_by_lightgbm_for_the_next_local_day(fc_api: Api) -> None:
    body = _forecast(fc_api, LONG, tz="Europe/Berlin", country="DE")
    assert (body["method"], body["fallback"]) == ("gbm", None), body["notes"]
    # the newest value is 2016-03-21 23:45 UTC: issued at its end, 00:00 UTC = 01:00 Berlin
    assert body["issue_utc"] == "2016-03-22T00:00:00Z"
    assert body["first_day_local"] == "2016-03-23"
    times = pd.DatetimeIndex(body["time_utc"])  # type: ignore[arg-type]
    assert len(times) == 96
    assert times[0] == pd.Timestamp("2016-03-22T23:00Z")
    levels = [q["level"] for q in body["quantiles"]]  # type: ignore[attr-defined, union-attr]
    assert levels == [0.05, 0.25, 0.5, 0.75, 0.95]
    bands = np.array([q["value"] for q in body["quantiles"]], dtype=float)  # type: ignore[attr-defined, union-attr]
    assert np.all(np.diff(bands, axis=0) >= 0)  # non-crossing
    truth = _shape(times, np.random.default_rng(0)) - 0  # the shape (noise aside)
    assert float(np.mean(np.abs(bands[2] - truth))) < 3.0  # kW, of a 20-60 kW daily swing
    assert float(np.mean(bands[4] - bands[0])) > 0  # a fan, not a line
    assert body["history_values"] == 21 * 96
    assert body["unit"] == "kW"


def test_a_reload_is_answered_from_the_cache_and_another_issue_is_computed(fc_api: Api) -> None:
    query = {"issued": "2016-03-15T06:00Z", "method": "weekly_naive"}
    first = _forecast(fc_api, LONG, **query)
    again = _forecast(fc_api, LONG, **query)
    assert (first["cached"], again["cached"]) == (False, True)
    assert again["computed_utc"] == first["computed_utc"]
    assert again["quantiles"] == first["quantiles"]
    other = _forecast(fc_api, LONG, issued="2016-03-16T06:00Z", method="weekly_naive")
    assert other["cached"] is False
    assert other["first_day_local"] == "2016-03-17"
    # the weekly naive is the value a week before, every quantile the same
    bands = np.array([q["value"] for q in first["quantiles"]], dtype=float)  # type: ignore[attr-defined, union-attr]
    assert np.allclose(bands, bands[2])


def test_short_and_flat_histories_fall_back_and_say_so(fc_api: Api) -> None:
    short = _forecast(fc_api, SHORT)
    assert short["method"] == "profile"
    assert str(short["fallback"]).startswith("short: 0.1 days of history, 14 needed")
    assert any("forecast by profile" in n for n in short["notes"])  # type: ignore[attr-defined, union-attr]
    median = [v for v in short["quantiles"][2]["value"]]  # type: ignore[index]
    assert all(v is not None and 0.97 < v <= 1.0 for v in median)
    flat = _forecast(fc_api, FLAT)
    assert flat["method"] == "constant"
    assert str(flat["fallback"]).startswith("flat")
    # nothing before the issue: no values, and the reason
    empty = _forecast(fc_api, LONG, issued="2016-02-01T00:00Z")
    assert empty["method"] == "none"
    assert str(empty["fallback"]).startswith("empty")
    assert all(v is None for q in empty["quantiles"] for v in q["value"])  # type: ignore[attr-defined, union-attr]


@pytest.mark.parametrize(
    ("query", "status", "needle"),
    [
        ({"horizon_days": "30"}, 422, "horizon_days"),
        ({"history_days": "400"}, 422, "history_days"),
        ({"step_s": "600"}, 422, "step_s"),
        ({"tz": "Mars/Olympus"}, 422, "tz 'Mars/Olympus': not an IANA time zone"),
        ({"country": "XX"}, 422, "country 'XX'"),
        ({"method": "sf_mstl"}, 422, "method"),
    ],
)
def test_bounds_and_bad_parameters_are_refused_naming_them(
    fc_api: Api, query: dict[str, str], status: int, needle: str
) -> None:
    r = fc_api.get(f"/api/v1/points/{LONG}/forecast", params=query, as_="viewer")
    assert r.status_code == status, r.text
    assert needle in r.text


def test_unknown_points_and_points_without_values(fc_api: Api) -> None:
    r = fc_api.get("/api/v1/points/no:such/forecast", as_="viewer")
    assert r.status_code == 404
    assert "no measurement point 'no:such'" in r.text
    r = fc_api.get("/api/v1/points/load:1:p/forecast", as_="viewer")  # defined, no values
    assert r.status_code == 422
    assert "has no value yet: give issued=" in r.text


def test_the_history_read_is_bounded_by_max_query_points(tmp_path: Path) -> None:
    settings = ServiceSettings(store=make_store(tmp_path), max_query_points=1000)
    add_users(settings, {"viewer": ROLES[0]})
    with running(settings) as api:
        api.tokens.update(issue_tokens(settings, ["viewer"]))
        query = {"issued": "2016-03-01T00:00Z", "history_days": "14"}
        r = api.get("/api/v1/points/load:1:p/forecast", params=query, as_="viewer")
        assert r.status_code == 422
        assert "max_query_points" in r.text
        query["history_days"] = "7"  # 672 intervals
        r = api.get("/api/v1/points/load:1:p/forecast", params=query, as_="viewer")
        assert r.status_code == 200, r.text
