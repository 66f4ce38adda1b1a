"""The PostgreSQL store against a real, throwaway PostgreSQL server (``pg_server.py``).

Two parts: what is specific to PostgreSQL (schema, URL and password handling, read-only
sessions, a server that is down, concurrent writers), then the behaviour every store
keeps (``_protocol.py``), run here on PostgreSQL until the shared contract suite holds it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import InputError, StoreError
from gridtwin.store import MeasurementBatch, MeasurementPoint, Quality, RejectBatch, open_store
from tests.store.pg_server import PgServer, _free_port

psycopg = pytest.importorskip("psycopg")

from gridtwin.store._postgres import PostgresStore, redact_url  # noqa: E402

T0 = np.datetime64("2024-03-01T00:00", "us")
MIN15 = np.timedelta64(15, "m")
UTC = "UTC"


def _points(n: int = 3) -> list[MeasurementPoint]:
    return [MeasurementPoint(f"p{i}", "p", "kW", element=f"load:{i}") for i in range(n)]


def _batch(ids: list[str], steps: list[int], values: list[float], **kw: object) -> MeasurementBatch:
    ts = T0 + np.asarray(steps, dtype=np.int64) * MIN15
    return MeasurementBatch.build(ids, ts, values, **kw)  # type: ignore[arg-type]


def _ts(step: int) -> pd.Timestamp:
    return pd.Timestamp(T0 + step * MIN15).tz_localize(UTC)


@pytest.fixture
def store(pg_url: str) -> Iterator[PostgresStore]:
    s = PostgresStore.open(pg_url, create=True)
    s.add_points(_points())
    yield s
    s.close()


def _sql(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as con:
        return list(con.execute(query).fetchall())


# ---------------------------------------------------------------------- schema, URL


def test_open_store_picks_postgres_for_a_url(pg_url: str) -> None:
    s = open_store(pg_url, create=True)
    try:
        assert isinstance(s, PostgresStore)
        assert s.backend == "postgresql"
    finally:
        s.close()


def test_schema_creation_is_idempotent_and_keeps_data(pg_url: str) -> None:
    with PostgresStore.open(pg_url, create=True) as s:
        s.add_points(_points(2))
        s.write(_batch(["p0"], [0], [1.0]))
    with PostgresStore.open(pg_url, create=True) as s:
        info = s.info()
        assert (info.points, info.measurements, info.schema_version) == (2, 1, 1)
    assert _sql(pg_url, "SELECT count(*) FROM schema_version") == [(1,)]
    tables = {
        r[0] for r in _sql(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname='public'")
    }
    assert {"schema_version", "points", "measurements", "rejects"} <= tables


def test_missing_schema_says_to_run_store_init(pg_url: str) -> None:
    with pytest.raises(InputError, match="gridtwin store init --store postgresql://"):
        PostgresStore.open(pg_url)
    assert _sql(pg_url, "SELECT to_regclass('measurements') IS NULL") == [(True,)]


def test_hypertable_only_when_timescaledb_is_available(store: PostgresStore, pg_url: str) -> None:
    available = _sql(
        pg_url, "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
    ) == [(1,)]
    relkind = _sql(pg_url, "SELECT relkind FROM pg_class WHERE relname = 'measurements'")
    assert relkind == [("r",)]  # a table in both cases (a hypertable is a table too)
    layout = _sql(pg_url, "SELECT layout FROM schema_version")[0][0]
    assert layout == store.layout
    if not available:  # this machine's Debian server has no TimescaleDB: the plain path
        assert store.layout == "plain"
        assert not store.hypertable
        assert _sql(pg_url, "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'") == [
            (0,)
        ]
    else:
        ext = _sql(pg_url, "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
        assert store.hypertable == (ext == [(1,)])
    # TimescaleDB-compatible: the only unique index of measurements holds the time column
    idx = _sql(
        pg_url,
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'measurements' "
        "AND indexdef LIKE 'CREATE UNIQUE%'",
    )
    assert idx
    assert all("ts_utc" in str(r[0]) for r in idx)


def test_password_never_in_location_info_or_messages(pg_server: PgServer) -> None:
    secret = "Sup3r-s3cret-pw"
    name = pg_server.create_database()
    try:
        url = pg_server.url(name, password=secret)
        with pytest.raises(InputError) as missing:
            PostgresStore.open(url)
        assert secret not in str(missing.value)
        with PostgresStore.open(url, create=True) as s:
            assert secret not in s.location
            assert secret not in repr(s.info())
            assert s.info().location == f"postgresql://postgres@127.0.0.1:{pg_server.port}/{name}"
            with pytest.raises(StoreError) as unknown:
                s.write(_batch(["nope"], [0], [1.0]))
            assert secret not in str(unknown.value)
        down = f"postgresql://postgres:{secret}@127.0.0.1:{_free_port()}/x?password={secret}"
        with pytest.raises(StoreError) as refused:
            PostgresStore.open(down)
        assert secret not in str(refused.value)
    finally:
        pg_server.drop_database(name)


def test_redact_url_removes_password_in_both_places() -> None:
    assert redact_url("postgresql://u:pw@h:1/db") == "postgresql://u@h:1/db"
    assert redact_url("postgresql://u@h/db?password=pw&sslmode=require") == (
        "postgresql://u@h/db?sslmode=require"
    )


def test_server_down_is_a_store_error_naming_host_and_port() -> None:
    port = _free_port()
    with pytest.raises(StoreError, match=rf"127\.0\.0\.1:{port}/gridtwin") as err:
        PostgresStore.open(f"postgresql://postgres@127.0.0.1:{port}/gridtwin", create=True)
    assert err.value.__cause__ is None
    assert err.value.__suppress_context__


@pytest.mark.parametrize(
    "url",
    ["postgresql://u@127.0.0.1:notaport/db", "postgresql://u@127.0.0.1/db?no_such_option=1"],
)
def test_malformed_url_is_an_input_error(url: str) -> None:
    with pytest.raises(InputError, match="not a valid PostgreSQL URL"):
        PostgresStore.open(url)


def test_read_only_refuses_writes_clearly(store: PostgresStore, pg_url: str) -> None:
    store.write(_batch(["p0"], [0], [1.0]))
    with PostgresStore.open(pg_url, read_only=True) as ro:
        assert len(ro.latest()) == 1
        with pytest.raises(StoreError, match="read-only"):
            ro.write(_batch(["p0"], [1], [2.0]))
        with pytest.raises(StoreError, match="read-only"):
            ro.add_points(_points(1))
        # the server enforces it too, whatever the Python side does
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction), ro._con.transaction():
            ro._con.execute("DELETE FROM measurements")
    assert store.info().measurements == 1


def test_sessions_commit_synchronously(store: PostgresStore) -> None:
    assert store._con.execute("SHOW synchronous_commit").fetchone() == ("on",)


def test_closed_store_raises_and_close_is_idempotent(pg_url: str) -> None:
    s = PostgresStore.open(pg_url, create=True)
    s.close()
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.latest()


def test_concurrent_writers_give_no_duplicates_and_dense_revisions(pg_url: str) -> None:
    """Two connections write overlapping keys at the same time: every distinct value of a
    key is stored once, revisions of a key are 0..n-1, and the reports add up."""
    with PostgresStore.open(pg_url, create=True) as s:
        s.add_points(_points(3))
    rng = np.random.default_rng(7)
    reports: list[object] = []
    errors: list[BaseException] = []
    submitted = 0

    def writer(seed: int) -> None:
        local = np.random.default_rng(seed)
        try:
            with PostgresStore.open(pg_url) as w:
                for _ in range(15):
                    n = 300
                    ids = [f"p{i}" for i in local.integers(0, 3, n)]
                    b = _batch(
                        ids, list(local.integers(0, 40, n)), list(local.integers(0, 4, n) * 1.0)
                    )
                    reports.append(w.write(b))
        except BaseException as exc:  # collected for the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(int(rng.integers(1e9)),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    submitted = 2 * 15 * 300
    stored = sum(r.stored for r in reports)  # type: ignore[attr-defined]
    dups = sum(r.duplicates for r in reports)  # type: ignore[attr-defined]
    assert stored + dups == submitted
    assert _sql(pg_url, "SELECT count(*) FROM measurements") == [(stored,)]
    assert _sql(
        pg_url,
        "SELECT count(*) FROM (SELECT 1 FROM measurements GROUP BY point_key, ts_utc, value "
        "HAVING count(*) > 1) d",
    ) == [(0,)]
    assert _sql(
        pg_url,
        "SELECT count(*) FROM (SELECT 1 FROM measurements GROUP BY point_key, ts_utc "
        "HAVING max(revision) <> count(*) - 1 OR min(revision) <> 0) d",
    ) == [(0,)]


# ---------------------------------------------------------------------- the store's contract


def test_duplicates_are_not_stored_twice(store: PostgresStore) -> None:
    r1 = store.write(_batch(["p0", "p1", "p0"], [0, 0, 0], [1.0, 2.0, 1.0]))
    assert (r1.stored, r1.duplicates, r1.revisions) == (2, 1, 0)
    r2 = store.write(_batch(["p0", "p1"], [0, 0], [1.0, 2.0]))
    assert (r2.stored, r2.duplicates, r2.revisions) == (0, 2, 0)
    assert store.info().measurements == 2


def test_a_different_value_is_a_revision_and_an_old_value_a_duplicate(store: PostgresStore) -> None:
    assert store.write(_batch(["p0"], [0], [1.0])).revisions == 0
    r = store.write(_batch(["p0", "p0"], [0, 0], [2.0, 3.0]))
    assert (r.stored, r.revisions) == (2, 2)
    back = store.write(_batch(["p0"], [0], [1.0]))  # equal to revision 0: a duplicate
    assert (back.stored, back.duplicates) == (0, 1)
    allrev = store.window(["p0"], _ts(0), _ts(1), all_revisions=True)
    assert allrev["revision"].tolist() == [0, 1, 2]
    assert allrev["value"].tolist() == [1.0, 2.0, 3.0]
    newest = store.window(["p0"], _ts(0), _ts(1))
    assert newest[["value", "revision"]].values.tolist() == [[3.0, 2]]
    info = store.info()
    assert (info.measurements, info.revisions) == (3, 2)


def test_late_and_out_of_order_values_are_accepted(store: PostgresStore) -> None:
    store.write(_batch(["p0", "p0"], [10, 5], [10.0, 5.0]))
    store.write(_batch(["p0", "p0"], [1, 7], [1.0, 7.0]))  # late
    w = store.window(["p0"], _ts(0), _ts(20))
    assert w["value"].tolist() == [1.0, 5.0, 7.0, 10.0]
    assert w["ts_utc"].is_monotonic_increasing
    assert store.latest(["p0"])["value"].tolist() == [10.0]


def test_latest_is_newest_time_then_newest_revision(store: PostgresStore) -> None:
    store.write(_batch(["p0", "p0", "p1"], [3, 2, 1], [3.0, 2.0, 1.0]))
    store.write(_batch(["p0", "p1"], [3, 0], [33.0, 0.5]))
    df = store.latest()
    assert df["point_id"].tolist() == ["p0", "p1"]  # p2 has no value: no row
    assert df["value"].tolist() == [33.0, 1.0]
    assert df["revision"].tolist() == [1, 0]
    assert list(df.columns) == [
        "point_id",
        "ts_utc",
        "value",
        "quality",
        "revision",
        "source_ts_utc",
        "arrival_ts_utc",
    ]
    assert str(df["ts_utc"].dt.tz) == UTC
    assert store.latest(["p1"])["point_id"].tolist() == ["p1"]
    with pytest.raises(StoreError, match="unknown measurement point"):
        store.latest(["nope"])


def test_latest_orders_point_ids_bytewise(pg_url: str) -> None:
    with PostgresStore.open(pg_url, create=True) as s:
        ids = ["b", "B", "a", "A_1", "a.2", "Z"]
        s.add_points([MeasurementPoint(i, "p", "kW") for i in ids])
        s.write(_batch(ids, [0] * len(ids), [1.0] * len(ids)))
        assert s.latest()["point_id"].tolist() == sorted(ids)
        assert [p.point_id for p in s.points()] == sorted(ids)


def test_window_is_half_open_and_keeps_quality_and_times(store: PostgresStore) -> None:
    src = T0 + np.arange(4) * MIN15 + np.timedelta64(3, "s")
    arrival = np.full(4, np.datetime64("2024-03-02T00:00:00.123456", "us"))
    b = _batch(
        ["p1"] * 4,
        [0, 1, 2, 3],
        [1.0, 2.0, 3.0, 4.0],
        quality=[0, int(Quality.ESTIMATED), int(Quality.QUESTIONABLE | Quality.SUBSTITUTED), 0],
        source_ts_utc=np.where(np.arange(4) == 3, np.datetime64("NaT"), src),
        arrival_ts_utc=arrival,
    )
    store.write(b)
    w = store.window(["p1"], _ts(1), _ts(3))
    assert w["value"].tolist() == [2.0, 3.0]
    assert w["quality"].tolist() == [1, 6]
    assert w["source_ts_utc"].tolist() == [
        pd.Timestamp(src[1]).tz_localize(UTC),
        pd.Timestamp(src[2]).tz_localize(UTC),
    ]
    assert (w["arrival_ts_utc"] == pd.Timestamp(arrival[0]).tz_localize(UTC)).all()
    last = store.window(None, _ts(3), _ts(4))
    assert pd.isna(last["source_ts_utc"].iloc[0])
    assert store.window(["p1"], _ts(4), _ts(9)).empty


def test_resample_labels_intervals_by_start_and_leaves_gaps_nan(store: PostgresStore) -> None:
    # p0 every 15 min over one hour, p1 only in the first half hour
    store.write(_batch(["p0"] * 4 + ["p1"] * 2, [0, 1, 2, 3, 0, 1], [1, 2, 3, 4, 10, 20]))
    store.write(_batch(["p0"], [1], [6.0]))  # a revision: only the newest counts
    step = pd.Timedelta("30min")
    mean = store.resample(["p1", "p0"], _ts(0), _ts(6), step)
    assert list(mean.columns) == ["p1", "p0"]
    assert list(mean.index) == [_ts(0), _ts(2), _ts(4)]
    assert mean["p0"].tolist()[:2] == [3.5, 3.5]
    assert np.isnan(mean["p0"].iloc[2])
    assert np.isnan(mean["p1"].iloc[1])
    assert mean["p1"].iloc[0] == 15.0
    assert store.resample(["p0"], _ts(0), _ts(4), step, "last")["p0"].tolist() == [6.0, 4.0]
    assert store.resample(["p0"], _ts(0), _ts(4), step, "sum")["p0"].tolist() == [7.0, 7.0]
    assert store.resample(["p0"], _ts(0), _ts(4), step, "min")["p0"].tolist() == [1.0, 3.0]
    assert store.resample(["p0"], _ts(0), _ts(4), step, "max")["p0"].tolist() == [6.0, 4.0]
    shifted = store.resample(["p0"], _ts(1), _ts(4), step, "sum")  # aligned to the start
    assert list(shifted.index) == [_ts(1), _ts(3)]
    assert shifted["p0"].tolist() == [9.0, 4.0]
    with pytest.raises(InputError, match="unknown resampling"):
        store.resample(["p0"], _ts(0), _ts(4), step, "median")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="positive"):
        store.resample(["p0"], _ts(0), _ts(4), pd.Timedelta(0))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_round_trip(store: PostgresStore, tmp_path: Path, fmt: str) -> None:
    store.write(_batch(["p0", "p1", "p0"], [0, 0, 1], [1.5, -2.25, 3.0], quality=[0, 1, 4]))
    store.write(_batch(["p0"], [0], [1.75]))
    path = tmp_path / f"out.{fmt}"
    n = store.export(path, fmt, all_revisions=True)  # type: ignore[arg-type]
    assert n == 4
    back = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    assert back["point_id"].tolist() == ["p0", "p0", "p0", "p1"]
    assert back["value"].tolist() == [1.5, 1.75, 3.0, -2.25]
    assert back["revision"].tolist() == [0, 1, 0, 0]
    assert pd.to_datetime(back["ts_utc"], utc=True).tolist()[0] == _ts(0)
    newest = store.export(tmp_path / f"new.{fmt}", fmt, point_ids=["p0"], start_utc=_ts(0))  # type: ignore[arg-type]
    assert newest == 2
    with pytest.raises(InputError, match="format"):
        store.export(tmp_path / "x.json", "json")  # type: ignore[arg-type]


def test_rejects_are_kept_with_reason_and_neighbours_stored(store: PostgresStore) -> None:
    rej = RejectBatch()
    rej.add("not_finite", "value is NaN", source="mqtt:t/1", raw='{"v": NaN}', point_id="p0")
    rej.add(
        "malformed",
        "not JSON",
        source="mqtt:t/2",
        raw="\x00garbage",
        arrival_ts_utc=np.datetime64("2030-01-01T00:00", "us"),
    )
    r = store.write(_batch(["p1"], [0], [5.0]), rej)
    assert (r.stored, r.rejected) == (1, 2)
    df = store.rejects()
    assert df["reason"].tolist() == ["malformed", "not_finite"]  # newest first
    assert df["raw"].tolist()[0] == "\\x00garbage"
    assert df["point_id"].tolist()[1] == "p0"
    assert df["source"].tolist()[1] == "mqtt:t/1"
    assert list(df.columns) == [
        "point_id",
        "ts_utc",
        "value",
        "reason",
        "detail",
        "source",
        "raw",
        "arrival_ts_utc",
    ]
    assert len(store.rejects(limit=1)) == 1
    only = RejectBatch()
    only.add("future_timestamp", "in 2099", point_id="p2")
    assert store.write(_batch([], [], []), only).rejected == 1
    assert store.info().rejects == 3


def test_a_batch_with_an_unknown_point_raises_and_writes_nothing(store: PostgresStore) -> None:
    rej = RejectBatch()
    rej.add("malformed", "x")
    with pytest.raises(StoreError, match="ghost"):
        store.write(_batch(["p0", "ghost", "p1"], [0, 0, 0], [1.0, 2.0, 3.0]), rej)
    info = store.info()
    assert (info.measurements, info.rejects) == (0, 0)


def test_a_point_added_by_another_connection_is_found(store: PostgresStore, pg_url: str) -> None:
    with PostgresStore.open(pg_url) as other:
        other.add_points([MeasurementPoint("late", "u", "V")])
    assert store.write(_batch(["late"], [0], [230.0])).stored == 1


def test_points_update_and_quantity_change_refused_once_values_exist(store: PostgresStore) -> None:
    store.add_points([MeasurementPoint("p0", "p", "kW", description="renamed")])
    assert store.points()[0].description == "renamed"
    store.add_points([MeasurementPoint("p2", "u", "V")])  # no values yet: allowed
    store.write(_batch(["p0"], [0], [1.0]))
    with pytest.raises(InputError, match="p0"):
        store.add_points([MeasurementPoint("p0", "q", "kvar")])
    assert [(p.point_id, p.quantity) for p in store.points()] == [
        ("p0", "p"),
        ("p1", "p"),
        ("p2", "u"),
    ]


def test_info_counts_and_span(store: PostgresStore) -> None:
    store.write(_batch(["p0", "p1"], [4, 2], [1.0, 2.0]))
    info = store.info()
    assert (info.backend, info.points, info.measurements, info.revisions) == ("postgresql", 3, 2, 0)
    assert info.first_ts_utc == T0 + 2 * MIN15
    assert info.last_ts_utc == T0 + 4 * MIN15


def test_empty_write_is_a_no_op(store: PostgresStore) -> None:
    r = store.write(_batch([], [], []))
    assert (r.stored, r.duplicates, r.rejected) == (0, 0, 0)


def test_a_dropped_connection_fails_one_write_then_reconnects(
    store: PostgresStore, pg_url: str
) -> None:
    store.write(_batch(["p0"], [0], [1.0]))
    pid = store._con.info.backend_pid
    _sql(pg_url, f"SELECT pg_terminate_backend({pid})")
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:\d+/t_") as err:
        store.write(_batch(["p0"], [1], [2.0]))
    assert "failed" in str(err.value)
    assert store.write(_batch(["p0"], [1], [2.0])).stored == 1  # a new connection
    assert store.info().measurements == 2


def test_revisions_inside_one_batch_of_new_keys(store: PostgresStore) -> None:
    """The first write of a key (the fast path: nothing stored at or after it) still
    collapses equal values and numbers different ones in batch order."""
    r = store.write(_batch(["p0", "p0", "p0", "p1"], [0, 0, 0, 0], [1.0, 2.0, 1.0, 4.0]))
    assert (r.stored, r.duplicates, r.revisions) == (3, 1, 1)
    w = store.window(["p0"], _ts(0), _ts(1), all_revisions=True)
    assert w[["value", "revision"]].values.tolist() == [[1.0, 0], [2.0, 1]]
    assert store.latest(["p0"])["value"].tolist() == [2.0]


def test_a_batch_mixing_new_and_late_keys(store: PostgresStore) -> None:
    store.write(_batch(["p0", "p1"], [5, 5], [5.0, 5.0]))
    r = store.write(_batch(["p0", "p0", "p1", "p1"], [6, 5, 4, 5], [6.0, 5.0, 4.0, 5.5]))
    assert (r.stored, r.duplicates, r.revisions) == (3, 1, 1)
    latest = store.latest()
    assert latest[["point_id", "value", "revision"]].values.tolist() == [
        ["p0", 6.0, 0],
        ["p1", 5.5, 1],
    ]


def test_reads_of_an_empty_store(store: PostgresStore, tmp_path: Path) -> None:
    assert store.latest().empty
    assert store.latest().columns[0] == "point_id"
    assert store.window(None, _ts(0), _ts(4)).empty
    assert store.resample(["p0"], _ts(0), _ts(4), pd.Timedelta("1h"))["p0"].isna().all()
    assert store.rejects().empty
    assert store.export(tmp_path / "e.parquet", "parquet") == 0
    info = store.info()
    assert (info.measurements, info.first_ts_utc, info.last_ts_utc) == (0, None, None)
