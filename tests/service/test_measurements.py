"""Data endpoints on a real store: ingest through the pipeline (the same rejects and
duplicates as any source), idempotent retries, bounded window queries, latest, export,
rejects and points."""

from __future__ import annotations

import datetime as dt
import io
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gridtwin.ingest import Pipeline, RawBatch
from gridtwin.service.settings import ServiceSettings
from gridtwin.store import open_store
from tests.service.conftest import POINTS, Api, add_users, issue_tokens, make_store, running

T0 = "2026-03-01T00:00:00Z"


def _items(
    n: int, point: str = "load:1:p", start: str = T0, step_s: int = 900
) -> list[dict[str, Any]]:
    t0 = dt.datetime.fromisoformat(start)
    return [
        {
            "point_id": point,
            "ts": (t0 + dt.timedelta(seconds=i * step_s)).isoformat(),
            "value": float(i),
        }
        for i in range(n)
    ]


def _mixed_batch() -> list[dict[str, Any]]:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    return [
        {"point_id": "load:1:p", "ts": T0, "value": 1.5},  # 0 stored
        {"point_id": "nope", "ts": T0, "value": 1.0},  # 1 unknown_point
        {"point_id": "load:2:p", "ts": T0, "value": 51.0},  # 2 out_of_range (max 50)
        {"point_id": "load:2:p", "ts": future, "value": 5.0},  # 3 future_timestamp
        {"point_id": "load:1:p", "ts": T0, "value": 1.5},  # 4 duplicate within the batch
        {"point_id": "load:1:p", "ts": T0, "value": 2.5},  # 5 a revision of item 0
        {"point_id": "site/edge/meter", "ts": "2026-03-01T01:00:00+01:00", "value": 1500.0},
        {"point_id": "bus:3:vm", "ts": T0, "value": 1.02, "quality": "estimated|questionable"},
    ]


def test_ingest_reports_each_item_and_matches_the_pipeline(api: Api, tmp_path: Path) -> None:
    items = _mixed_batch()
    r = api.post("/api/v1/measurements", json={"items": items, "source": "test"}, as_="operator")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(x["index"], x["reason"]) for x in body["rejected"]] == [
        (1, "unknown_point"),
        (2, "out_of_range"),
        (3, "future_timestamp"),
    ]
    assert body["rejected"][1]["detail"].startswith("point 'load:2:p': value 51 kW is outside")
    assert (body["received"], body["stored"], body["duplicates"], body["revisions"]) == (8, 4, 1, 1)

    # the peer: the same values straight into the pipeline of a second store
    with open_store(make_store(tmp_path / "peer"), create=False) as peer:
        raw = RawBatch.build(
            [i["point_id"] for i in items],
            np.array(
                [pd.Timestamp(i["ts"]).tz_convert(None).to_datetime64() for i in items]
            ).astype("datetime64[us]"),
            [i["value"] for i in items],
            quality=[0, 0, 0, 0, 0, 0, 0, 5],
        )
        with Pipeline(peer) as pipe:
            pipe.submit(raw)
            counters = pipe.flush()
        want = peer.window(
            None,
            pd.Timestamp("2026-01-01", tz="UTC"),
            pd.Timestamp("2027-01-01", tz="UTC"),
            all_revisions=True,
        )
        want_rejects = peer.rejects()
    assert (counters.stored, counters.duplicates, counters.revisions) == (4, 1, 1)
    assert counters.rejected_by_reason == {
        "unknown_point": 1,
        "out_of_range": 1,
        "future_timestamp": 1,
    }
    got = api.state.store.window(
        None,
        pd.Timestamp("2026-01-01", tz="UTC"),
        pd.Timestamp("2027-01-01", tz="UTC"),
        all_revisions=True,
    )
    cols = ["point_id", "ts_utc", "value", "quality", "revision"]
    pd.testing.assert_frame_equal(got[cols], want[cols])
    assert got.loc[got.point_id == "site/edge/meter", "value"].tolist() == [1.5]  # scale 0.001
    assert sorted(api.state.store.rejects()["reason"]) == sorted(want_rejects["reason"])


def test_a_retry_stores_nothing_twice(api: Api) -> None:
    items = _items(96)
    first = api.post("/api/v1/measurements", json={"items": items}, as_="operator").json()
    assert (first["stored"], first["duplicates"]) == (96, 0)
    again = api.post("/api/v1/measurements", json={"items": items}, as_="operator").json()
    assert (again["stored"], again["duplicates"], again["rejected"]) == (0, 96, [])
    assert api.state.store.info().measurements == 96
    changed = [dict(i, value=i["value"] + 0.5) if n == 3 else i for n, i in enumerate(items)]
    third = api.post("/api/v1/measurements", json={"items": changed}, as_="operator").json()
    assert (third["stored"], third["revisions"], third["duplicates"]) == (1, 1, 95)


def test_points_added_over_the_api_are_accepted_at_once(api: Api) -> None:
    new = {"point_id": "line:7:i", "quantity": "i", "unit": "A", "element": "line:7"}
    assert api.post("/api/v1/points", json=new, as_="analyst").status_code == 201
    r = api.post(
        "/api/v1/measurements",
        json={"items": [{"point_id": "line:7:i", "ts": T0, "value": 120.0}]},
        as_="operator",
    )
    assert r.json()["stored"] == 1
    assert api.post("/api/v1/points", json=new, as_="analyst").status_code == 409
    put = dict(new, max_value=100.0)
    put.pop("point_id")
    r = api.request("PUT", "/api/v1/points/line:7:i", json=put, as_="analyst")
    assert r.status_code == 200
    assert r.json()["range_max"] == 100.0
    r = api.post(
        "/api/v1/measurements",
        json={"items": [{"point_id": "line:7:i", "ts": T0, "value": 130.0}]},
        as_="operator",
    )
    assert r.json()["rejected"][0]["reason"] == "out_of_range"
    r = api.request(
        "PUT", "/api/v1/points/line:7:i", json=dict(put, quantity="u", unit="V"), as_="analyst"
    )
    assert r.status_code == 422  # it has values: its meaning may not change
    r = api.request("PUT", "/api/v1/points/line:8:i", json=put, as_="analyst")
    assert r.status_code == 404
    r = api.post("/api/v1/points", json=dict(new, point_id="x y"), as_="analyst")
    assert r.status_code == 422
    assert "point_id must be" in r.json()["detail"]


@pytest.mark.parametrize(
    ("item", "loc"),
    [
        (
            {"point_id": "load:1:p", "ts": "2026-03-01T00:00:00", "value": 1.0},
            ["body", "items", 1, "ts"],
        ),
        ({"point_id": "load:1:p", "ts": T0, "value": "NaN"}, ["body", "items", 1, "value"]),
        (
            {"point_id": "load:1:p", "ts": T0, "value": 1.0, "quality": "great"},
            ["body", "items", 1, "quality"],
        ),
        (
            {"point_id": "load:1:p", "ts": "0001-01-01T00:00:00+01:00", "value": 1.0},
            ["body", "items", 1, "ts"],
        ),
        ({"point_id": "load:1:p", "ts": T0}, ["body", "items", 1, "value"]),
        (
            {"point_id": "load:1:p", "ts": T0, "value": 1.0, "unit": "kW"},
            ["body", "items", 1, "unit"],
        ),
    ],
)
def test_a_malformed_item_rejects_the_batch_naming_its_index(
    module_api: Api, item: dict[str, Any], loc: list[Any]
) -> None:
    before = module_api.state.store.info().measurements
    body = {"items": [{"point_id": "load:1:p", "ts": "2026-05-01T00:00Z", "value": 1.0}, item]}
    r = module_api.post("/api/v1/measurements", json=body, as_="operator")
    assert r.status_code == 422
    assert r.json()["error"] == "RequestValidationError"
    assert [d["loc"] for d in r.json()["detail"]] == [loc]
    assert module_api.state.store.info().measurements == before  # nothing of the batch stored


def test_the_batch_size_limit_is_named(tmp_path: Path) -> None:

    settings = ServiceSettings(store=make_store(tmp_path), max_ingest_items=10)
    add_users(
        settings, {"op": __import__("gridtwin.service._accounts", fromlist=["Role"]).Role.operator}
    )
    with running(settings) as api:
        api.tokens.update(issue_tokens(settings, ["op"]))
        r = api.post("/api/v1/measurements", json={"items": _items(11)}, as_="op")
    assert r.status_code == 422
    assert r.json()["detail"] == "items: 11 values, above the limit of 10 per request"


def test_window_raw_resampled_and_bounded(api: Api) -> None:
    api.post("/api/v1/measurements", json={"items": _items(8)}, as_="operator")
    url = "/api/v1/points/load:1:p/measurements"
    raw = api.get(url, params={"start": T0, "end": "2026-03-01T02:00:00Z"}, as_="viewer").json()
    assert [v["value"] for v in raw["values"]] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert raw["unit"] == "kW"
    assert raw["values"][0] == {
        "ts_utc": "2026-03-01T00:00:00Z",
        "value": 0.0,
        "quality": "valid",
        "revision": 0,
    }
    hourly = api.get(
        url,
        params={"start": T0, "end": "2026-03-01T03:00:00Z", "step_s": 3600, "how": "sum"},
        as_="viewer",
    ).json()
    assert [v["value"] for v in hourly["values"]] == [6.0, 22.0, None]  # an empty hour is null
    # 100,000 one-second values at most: 27 h 47 min of raw values, or a coarser step
    too_long = {"start": T0, "end": "2026-03-02T04:00:00Z"}
    r = api.get(url, params=too_long, as_="viewer")
    assert r.status_code == 422
    assert r.json() == {
        "error": "InputError",
        "detail": "the query spans 100,800 s at a step of 1 s: 100,800 values per point, above "
        "the limit of 100,000 (max_query_points, GRIDTWIN_MAX_QUERY_POINTS); narrow start/end "
        "or give a coarser step_s",
    }
    assert api.get(url, params={**too_long, "step_s": 60}, as_="viewer").status_code == 200
    r = api.get(
        url, params={"start": T0, "end": "2036-03-01T00:00:00Z", "step_s": 60}, as_="viewer"
    )
    assert r.status_code == 422
    r = api.get(url, params={"start": "2026-03-02T00:00:00Z", "end": T0}, as_="viewer")
    assert r.status_code == 422
    assert "must be after start" in r.json()["detail"]
    r = api.get(
        "/api/v1/points/nope/measurements",
        params={"start": T0, "end": "2026-03-01T01:00Z"},
        as_="viewer",
    )
    assert r.status_code == 404


def test_latest_names_unknown_points(api: Api) -> None:
    api.post(
        "/api/v1/measurements", json={"items": _items(3) + _items(2, "bus:3:vm")}, as_="operator"
    )
    r = api.get(
        "/api/v1/measurements/latest", params={"points": "load:1:p,bus:3:vm,load:2:p"}, as_="viewer"
    )
    body = r.json()
    assert [(v["point_id"], v["value"]) for v in body["values"]] == [
        ("bus:3:vm", 1.0),
        ("load:1:p", 2.0),
    ]
    assert body["without_value"] == ["load:2:p"]
    every = api.get("/api/v1/measurements/latest", as_="viewer").json()
    assert len(every["values"]) == 2
    assert len(every["without_value"]) == len(POINTS) - 2
    # a few points come from the store's memory on the event loop, all of them from its
    # frame in a worker thread: the same values, to the last field
    assert body["values"] == every["values"]
    r = api.get(
        "/api/v1/measurements/latest",
        params=[("points", "load:1:p"), ("points", "zz")],
        as_="viewer",
    )
    assert r.status_code == 404
    assert r.json()["detail"] == "no measurement point 'zz'; GET /api/v1/points lists them"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_streams_a_file_and_leaves_nothing_behind(api: Api, fmt: str) -> None:
    api.post("/api/v1/measurements", json={"items": _items(10)}, as_="operator")
    params = {"format": fmt, "start": T0, "end": "2026-03-01T01:00:00Z", "points": "load:1:p"}
    r = api.get("/api/v1/export", params=params, as_="viewer")
    assert r.status_code == 200
    assert f".{fmt}" in r.headers["content-disposition"]
    frame = (
        pd.read_csv(io.BytesIO(r.content))
        if fmt == "csv"
        else pd.read_parquet(io.BytesIO(r.content))
    )
    assert frame["value"].tolist() == [0.0, 1.0, 2.0, 3.0]
    too_long = dict(params, end="2026-06-01T00:00:00Z")
    r = api.get("/api/v1/export", params=too_long, as_="viewer")
    assert r.status_code == 422
    assert "max_export_span_s" in r.json()["detail"]
    assert not list(
        Path(__import__("tempfile").gettempdir()).glob("gridtwin-export-*/measurements.*")
    )


def test_rejects_are_listed_newest_first(api: Api) -> None:
    api.post("/api/v1/measurements", json={"items": _mixed_batch()}, as_="operator")
    rejects = api.get("/api/v1/rejects", params={"limit": 2}, as_="viewer").json()["rejects"]
    assert len(rejects) == 2
    assert {r["source"] for r in rejects} == {"api:operator:api"}
    assert api.get("/api/v1/rejects", params={"limit": 0}, as_="viewer").status_code == 422


def test_concurrent_requests_share_writes_and_each_gets_its_own_report(tmp_path: Path) -> None:
    from gridtwin.service._ingest import ApiIngest

    n_threads = 40
    t0 = np.datetime64("2026-03-01T00:00", "us")
    with open_store(make_store(tmp_path), create=False) as store:
        ingest = ApiIngest(store, timeout_s=30.0)
        barrier = threading.Barrier(n_threads)
        outcomes: dict[int, Any] = {}

        def send(k: int) -> None:
            # thread k and k + 20 send the same load:1:p value (one of them is the
            # duplicate), and a value of load:2:p that only k sends
            shared = t0 + np.timedelta64(15 * (k % 20), "m")
            own = t0 + np.timedelta64(k, "s")
            raw = RawBatch.build(
                ["load:1:p", "load:2:p", "nope"],
                np.array([shared, own, own]),
                [1.0, float(k), 0.0],
            )
            barrier.wait()
            outcomes[k] = ingest.ingest(raw)

        threads = [threading.Thread(target=send, args=(k,)) for k in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(outcomes) == n_threads
        for k in range(20):
            pair = (outcomes[k], outcomes[k + 20])
            assert sorted(o.stored for o in pair) == [1, 2]  # the shared value once
            assert sorted(o.duplicates for o in pair) == [0, 1]
            for o in pair:
                assert [(r.index, r.reason) for r in o.rejected] == [(2, "unknown_point")]
        assert ingest.requests == n_threads
        assert ingest.transactions < n_threads  # requests that arrived together shared one
        day = store.window(
            None, pd.Timestamp("2026-03-01", tz="UTC"), pd.Timestamp("2026-03-02", tz="UTC")
        )
        assert (day.point_id == "load:1:p").sum() == 20
        assert sorted(day.loc[day.point_id == "load:2:p", "value"]) == [float(k) for k in range(40)]
        assert len(store.rejects()) == n_threads
