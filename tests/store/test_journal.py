"""The embedded store's journal: small writes of new values are durable when acknowledged,
visible to every read before they reach the database, applied exactly once (also after a
crash at any point), and a write that is not new applies them first."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import StoreError
from gridtwin.store import MeasurementBatch, MeasurementPoint, RejectBatch, open_store
from gridtwin.store._duckdb import DB_FILE, DuckDBStore
from gridtwin.store._journal import JOURNAL_FILE, Journal

T0 = np.datetime64("2026-05-01T00:00", "us")
STEP = np.timedelta64(15, "m")
ALL = (pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2027-01-01", tz="UTC"))


@pytest.fixture
def never_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    """The background thread does not apply the journal during the test."""
    monkeypatch.setattr(DuckDBStore, "APPLY_EVERY_S", 3600.0)


def _batch(k: int, n_points: int = 4, value: float | None = None) -> MeasurementBatch:
    ids = np.array([f"p{i}" for i in range(n_points)], object)
    vals = np.arange(n_points) + 10.0 * k if value is None else np.full(n_points, value)
    src = np.where(np.arange(n_points) % 2 == 0, T0 + k * STEP, np.datetime64("NaT", "us"))
    return MeasurementBatch.build(ids, np.full(n_points, T0 + k * STEP), vals, source_ts_utc=src)


def _reject(k: int) -> RejectBatch:
    r = RejectBatch()
    r.add("unknown_point", f"ghost {k}", point_id=f"ghost-{k}", source="test", raw=str(k))
    return r


def _reads(store: object) -> dict[str, pd.DataFrame]:
    """Every read the store answers, for comparison before and after the journal."""
    s = store  # the protocol's reads
    info = s.info()  # type: ignore[attr-defined]
    return {
        "window": s.window(None, *ALL),  # type: ignore[attr-defined]
        "revisions": s.window(["p1", "p2"], *ALL, all_revisions=True),  # type: ignore[attr-defined]
        "latest": s.latest(),  # type: ignore[attr-defined]
        "resample": s.resample(
            ["p0", "p3"], *ALL[:1], ALL[0] + pd.Timedelta("1D"), pd.Timedelta("1h")
        ),  # type: ignore[attr-defined]
        "rejects": s.rejects().drop(columns=["arrival_ts_utc"]),  # type: ignore[attr-defined]
        "info": pd.DataFrame(
            [[info.measurements, info.revisions, info.rejects, info.first_ts_utc, info.last_ts_utc]]
        ),
    }


def _store(tmp_path: Path, n_points: int = 4) -> DuckDBStore:
    store = open_store(tmp_path / "s", create=True)
    assert isinstance(store, DuckDBStore)
    store.add_points(MeasurementPoint(f"p{i}", "p", "kW") for i in range(n_points))
    return store


def _db_rows(store: DuckDBStore) -> int:
    return int(store._cursor().execute("SELECT count(*) FROM measurements").fetchone()[0])


def test_journaled_values_are_read_before_and_after_they_reach_the_database(
    tmp_path: Path, never_applied: None
) -> None:
    with _store(tmp_path) as store:
        store.write(_batch(0))  # nothing held: the newest values come from the table
        store.flush()
        for k in range(1, 6):
            store.write(_batch(k), _reject(k) if k % 2 else None)
        assert _db_rows(store) == 4  # the five writes are held, not in the database
        assert store.journal_rows == 20
        before = _reads(store)
        assert len(before["window"]) == 24
        assert len(before["rejects"]) == 3
        assert before["latest"]["ts_utc"].max() == pd.Timestamp(T0 + 5 * STEP, tz="UTC")
        store.flush()
        assert _db_rows(store) == 24
        assert store.journal_rows == 0
        after = _reads(store)
        for name in before:
            pd.testing.assert_frame_equal(before[name], after[name], obj=name)
        assert (tmp_path / "s" / JOURNAL_FILE).stat().st_size == 12  # emptied: a header


def test_a_write_that_is_not_new_applies_the_journal_first(
    tmp_path: Path, never_applied: None
) -> None:
    with _store(tmp_path) as store:
        r1 = store.write(_batch(1))
        assert (r1.stored, r1.duplicates) == (4, 0)
        assert store.journal_rows == 4
        again = store.write(_batch(1))  # the same values: duplicates, found in the database
        assert (again.stored, again.duplicates) == (0, 4)
        assert store.journal_rows == 0
        revised = store.write(_batch(1, value=99.0))
        assert (revised.stored, revised.revisions) == (4, 4)
        older = store.write(_batch(0))  # older than the newest: the database's path
        assert older.stored == 4
        rows = store.window(["p1"], *ALL, all_revisions=True)
        assert list(rows["revision"]) == [0, 0, 1]
        assert list(rows["value"]) == [1.0, 11.0, 99.0]


def test_large_writes_go_to_the_database_directly(tmp_path: Path, never_applied: None) -> None:
    with _store(tmp_path, n_points=2) as store:
        store.write(_batch(0, n_points=2))
        n = DuckDBStore.JOURNAL_MAX_ROWS + 1
        ts = T0 + (1 + np.arange(n)) * STEP
        store.write(MeasurementBatch.build(np.full(n, "p0", object), ts, np.ones(n)))
        assert store.journal_rows == 0
        assert _db_rows(store) == n + 2


def test_the_background_thread_applies_the_journal(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.write(_batch(0))
        deadline = 50
        while store.journal_rows and deadline:
            threading.Event().wait(0.1)
            deadline -= 1
        assert store.journal_rows == 0
        assert _db_rows(store) == 4


def test_reads_beside_writes_and_applications_see_each_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The background thread applies every 5 ms while one thread writes and another
    reads: a window never repeats or misses an acknowledged row."""
    monkeypatch.setattr(DuckDBStore, "APPLY_EVERY_S", 0.005)
    with _store(tmp_path) as store:
        acked = [0]
        problems: list[str] = []
        done = threading.Event()

        def writer() -> None:
            for k in range(150):
                store.write(_batch(k))
                acked[0] = 4 * (k + 1)
            done.set()

        def reader() -> None:
            while not done.is_set():
                floor = acked[0]
                for revisions in (False, True):
                    w = store.window(None, *ALL, all_revisions=revisions)
                    if w.duplicated(["point_id", "ts_utc", "revision"]).any():
                        problems.append("a row twice")
                    if len(w) < floor:
                        problems.append(f"{len(w)} rows read, {floor} acknowledged before")

        threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert problems == []
        assert len(store.window(None, *ALL)) == 600


WRITER = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    from gridtwin.store import MeasurementBatch, MeasurementPoint, RejectBatch, open_store
    from gridtwin.store._duckdb import DuckDBStore

    DuckDBStore.APPLY_EVERY_S = 3600.0
    store = open_store(sys.argv[1], create=True)
    store.add_points(MeasurementPoint(f"p{i}", "p", "kW") for i in range(4))
    apply_after = int(sys.argv[2])
    t0 = np.datetime64("2026-05-01T00:00", "us")
    for k in range(20):
        ids = np.array([f"p{i}" for i in range(4)], object)
        rej = RejectBatch()
        rej.add("unknown_point", f"ghost {k}", point_id=f"ghost-{k}", source="t", raw=str(k))
        b = MeasurementBatch.build(ids, np.full(4, t0 + k * np.timedelta64(15, "m")), np.full(4, k))
        store.write(b, rej)
        print(f"ack {k}", flush=True)
        if k == apply_after:
            store.flush()
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _crash(location: Path, apply_after: int = -1) -> list[int]:
    """Run the writer until it kills itself; the batches it acknowledged."""
    out = subprocess.run(
        [sys.executable, "-c", WRITER, str(location), str(apply_after)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == -signal.SIGKILL, out.stderr
    return [int(line.split()[1]) for line in out.stdout.splitlines()]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("apply_after", [-1, 9])
def test_a_crash_loses_nothing_acknowledged_and_repeats_nothing(
    tmp_path: Path, apply_after: int
) -> None:
    location = tmp_path / "s"
    acked = _crash(location, apply_after)
    assert acked == list(range(20))
    assert (location / JOURNAL_FILE).stat().st_size > 12  # the killed process's journal
    with open_store(location, read_only=True) as ro:  # read-only: held in memory, untouched
        assert len(ro.window(None, *ALL)) == 80
        assert ro.info().rejects == 20
    assert (location / JOURNAL_FILE).stat().st_size > 12
    with open_store(location) as store:  # applied at open, once
        assert isinstance(store, DuckDBStore)
        assert store.journal_rows == 0
        assert _db_rows(store) == 80
        assert store.info().rejects == 20
        w = store.window(None, *ALL)
        assert sorted(set(w["value"])) == [float(k) for k in range(20)]


def test_a_crash_between_applying_and_emptying_applies_nothing_twice(
    tmp_path: Path, never_applied: None
) -> None:
    location = tmp_path / "s"
    with _store(tmp_path) as store:
        for k in range(3):
            store.write(_batch(k), _reject(k))
        kept = tmp_path / "journal.copy"
        shutil.copy(location / JOURNAL_FILE, kept)  # as it was before the application
        store.flush()
    shutil.copy(kept, location / JOURNAL_FILE)  # the emptying "never happened"
    with open_store(location) as store:
        assert len(store.window(None, *ALL)) == 12
        assert store.info().rejects == 3
        assert store.info().measurements == 12


def test_a_torn_last_record_is_dropped_and_said(
    tmp_path: Path, never_applied: None, caplog: pytest.LogCaptureFixture
) -> None:
    location = tmp_path / "s"
    acked = _crash(location)
    journal = location / JOURNAL_FILE
    size = journal.stat().st_size
    os.truncate(journal, size - 7)  # the last record cut short: as if never acknowledged
    with caplog.at_level(logging.WARNING), open_store(location) as store:
        assert len(store.window(None, *ALL)) == 4 * (len(acked) - 1)
    assert "cut short by a crash" in caplog.text
    assert journal.stat().st_size == 12


def test_a_failed_application_fails_the_next_write_and_loses_nothing(
    tmp_path: Path, never_applied: None
) -> None:
    with _store(tmp_path) as store:
        store.write(_batch(0))
        store._cursor().execute("DROP TABLE journal_state")  # the next application fails
        with pytest.raises(StoreError, match="could not be applied"):
            store.flush()
        with pytest.raises(StoreError, match="could not be applied"):
            store.write(_batch(1))  # not journaled: it applies first, which fails
        assert len(store.window(None, *ALL)) == 4  # still read from the journal
        store._cursor().execute("CREATE TABLE journal_state (generation BIGINT NOT NULL)")
        store._cursor().execute("INSERT INTO journal_state VALUES (0)")
        store.write(_batch(1))
        assert store.journal_rows == 0  # applied before the write
        assert _db_rows(store) == 8


def test_a_store_made_before_the_journal_gains_it(tmp_path: Path) -> None:
    location = tmp_path / "s"
    with _store(tmp_path) as store:
        store.write(_batch(0))
    (location / JOURNAL_FILE).unlink()
    con = duckdb.connect(str(location / DB_FILE))
    con.execute("DROP TABLE journal_state")
    con.close()
    with open_store(location, read_only=True) as ro:
        assert len(ro.window(None, *ALL)) == 4
    with open_store(location) as store:
        store.write(_batch(1))
        assert len(store.window(None, *ALL)) == 8


def test_a_foreign_journal_file_is_refused_not_overwritten(tmp_path: Path) -> None:
    location = tmp_path / "s"
    with _store(tmp_path):
        pass
    (location / JOURNAL_FILE).write_bytes(b"something else entirely")
    with pytest.raises(StoreError, match="not a gridtwin store journal"):
        open_store(location)
    assert (location / JOURNAL_FILE).read_bytes() == b"something else entirely"
    with pytest.raises(StoreError, match="not a gridtwin store journal"):
        Journal(location).read()
