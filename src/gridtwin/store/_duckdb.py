"""The embedded measurement store: a data directory holding one DuckDB database.

Layout of the data directory::

    <dir>/gridtwin-store.duckdb    points, measurements, latest values, rejects
    <dir>/gridtwin-store.duckdb.wal  DuckDB's write-ahead log (while open)
    <dir>/gridtwin-store.journal     new values acknowledged, not yet in the database

Exports (``gridtwin store export``) are Parquet or CSV files written anywhere.

Why this shape: DuckDB appends a batch of a million rows in a fraction of a second and
answers the twin's window and resampling queries by scanning only the columns and row
groups it needs. Measurements carry no index (an index makes bulk appends several times
slower); duplicates and revisions are found by joining each batch with the stored rows of
its keys inside the batch's time span, which DuckDB's min/max zone maps narrow to the
row groups of that span. The newest value per point is kept in a small table of its own,
updated in the same transaction, so that the twin reads the state of every point in
milliseconds whatever the length of the history.

Small writes of new values (the live case: every value newer than its point's newest)
are journaled (:mod:`gridtwin.store._journal`): appended to a file and synced, which
makes them durable, then applied to the database by a background thread in one
transaction every :attr:`DuckDBStore.APPLY_EVERY_S` and at close. Reads see them at once:
the newest values are kept in memory, a window adds the journaled rows in its span, and
the other reads take them into account under the write lock. Every other write applies
the journal first, so the database is never written past it.

One process may open the store for writing (DuckDB's own lock); a second gets a
:class:`~gridtwin.errors.StoreError` that says which process holds it. Read-only opens
from other processes are possible while no process writes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError, StoreError
from gridtwin.store import _sql
from gridtwin.store._held import HeldRows, columns_table, record_columns, with_held
from gridtwin.store._journal import Journal
from gridtwin.store._latest import LatestTable
from gridtwin.store._model import (
    LatestValues,
    MeasurementBatch,
    MeasurementPoint,
    RejectBatch,
    StoreInfo,
    WriteReport,
)
from gridtwin.store._protocol import ExportFormat, ResampleHow
from gridtwin.store._window import ordered_rows, rows_frame

__all__ = ["DB_FILE", "SCHEMA_VERSION", "DuckDBStore"]

_log = logging.getLogger(__name__)

#: The database file inside the data directory.
DB_FILE = "gridtwin-store.duckdb"
#: Version of the schema below; an older store is migrated on open (none yet).
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    point_key INTEGER PRIMARY KEY,
    point_id VARCHAR NOT NULL UNIQUE,
    quantity VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    element VARCHAR,
    phase VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    scale DOUBLE NOT NULL,
    "offset" DOUBLE NOT NULL,
    min_value DOUBLE,
    max_value DOUBLE,
    description VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS measurements (
    point_key INTEGER NOT NULL,
    ts_utc TIMESTAMP NOT NULL,
    revision SMALLINT NOT NULL,
    value DOUBLE NOT NULL,
    quality UTINYINT NOT NULL,
    source_ts_utc TIMESTAMP,
    arrival_ts_utc TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS latest (
    point_key INTEGER PRIMARY KEY,
    ts_utc TIMESTAMP NOT NULL,
    revision SMALLINT NOT NULL,
    value DOUBLE NOT NULL,
    quality UTINYINT NOT NULL,
    source_ts_utc TIMESTAMP,
    arrival_ts_utc TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS rejects (
    point_id VARCHAR,
    ts_utc TIMESTAMP,
    value DOUBLE,
    reason VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    raw VARCHAR NOT NULL,
    arrival_ts_utc TIMESTAMP NOT NULL
);
"""

#: The generation of the last journal applied (see :mod:`gridtwin.store._journal`); made
#: by every read-write open, so that stores made before the journal gain it.
_JOURNAL_STATE = """
CREATE TABLE IF NOT EXISTS journal_state (generation BIGINT NOT NULL);
INSERT INTO journal_state SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM journal_state);
"""

# The write of one batch (registered as ``batch`` with a ``seq`` column giving its order):
# equal values collapse to their first occurrence; values equal to a stored revision of
# the key are duplicates; the rest are numbered after the key's highest stored revision.
_NEW_ROWS = """
CREATE OR REPLACE TEMP TABLE new_rows AS
WITH b AS (
    SELECT point_key, ts_utc, value, min(seq) AS seq
    FROM batch GROUP BY point_key, ts_utc, value
),
stored AS (
    SELECT m.point_key, m.ts_utc, m.value, m.revision
    FROM measurements m
    SEMI JOIN (SELECT DISTINCT point_key, ts_utc FROM b) k
        ON m.point_key = k.point_key AND m.ts_utc = k.ts_utc
    WHERE m.ts_utc BETWEEN $lo AND $hi
),
fresh AS (
    SELECT b.* FROM b ANTI JOIN stored s
        ON b.point_key = s.point_key AND b.ts_utc = s.ts_utc AND b.value = s.value
),
top AS (SELECT point_key, ts_utc, max(revision) AS rev FROM stored GROUP BY ALL)
SELECT f.point_key, f.ts_utc,
    (coalesce(t.rev, -1) + row_number() OVER (
        PARTITION BY f.point_key, f.ts_utc ORDER BY f.seq))::SMALLINT AS revision,
    f.value, bt.quality, bt.source_ts_utc, bt.arrival_ts_utc, f.seq
FROM fresh f
JOIN batch bt ON bt.seq = f.seq
LEFT JOIN top t ON t.point_key = f.point_key AND t.ts_utc = f.ts_utc
"""

#: The fast path's statements: the batch's rows (``fast_batch``: all new, revision 0) into
#: the measurements, and each point's newest row (``fast_newest``) over its row of
#: ``latest`` when later. An ``UPDATE`` of the rows in place costs less than half the upsert of
#: ``_UPDATE_LATEST_SQL`` through a temporary table (DuckDB 2.0: 5 against 12 ms for ten
#: values), which matters when every API ingest request is a transaction of its own.
_FAST_STORE = """
INSERT INTO measurements
SELECT point_key, ts_utc, 0::SMALLINT, value, quality, source_ts_utc, arrival_ts_utc
FROM fast_batch;
UPDATE latest SET ts_utc = n.ts_utc, revision = 0, value = n.value, quality = n.quality,
    source_ts_utc = n.source_ts_utc, arrival_ts_utc = n.arrival_ts_utc
FROM fast_newest n
WHERE latest.point_key = n.point_key AND n.ts_utc > latest.ts_utc
"""
#: ... and the points that had no newest value yet (skipped when memory says none).
_FAST_ADD_LATEST = """
INSERT INTO latest
SELECT point_key, ts_utc, 0::SMALLINT, value, quality, source_ts_utc, arrival_ts_utc
FROM fast_newest n WHERE NOT EXISTS (SELECT 1 FROM latest l WHERE l.point_key = n.point_key)
"""
#: The columns of ``measurements``, in order (``new_rows`` also carries the batch's seq).
_ROW_COLS = "point_key, ts_utc, revision, value, quality, source_ts_utc, arrival_ts_utc"

_UPDATE_LATEST_SQL = """
INSERT INTO latest
SELECT point_key, ts_utc, revision, value, quality, source_ts_utc, arrival_ts_utc
FROM (
    SELECT *, row_number() OVER (
        PARTITION BY point_key ORDER BY ts_utc DESC, revision DESC) AS rn
    FROM new_rows
) WHERE rn = 1
ON CONFLICT (point_key) DO UPDATE SET
    ts_utc = excluded.ts_utc, revision = excluded.revision, value = excluded.value,
    quality = excluded.quality, source_ts_utc = excluded.source_ts_utc,
    arrival_ts_utc = excluded.arrival_ts_utc
WHERE excluded.ts_utc > latest.ts_utc
    OR (excluded.ts_utc = latest.ts_utc AND excluded.revision > latest.revision)
"""
#: ``new_rows`` into the measurements and the newest values, then dropped.
_STORE_NEW_ROWS = (
    f"INSERT INTO measurements SELECT {_ROW_COLS} FROM new_rows;\n"
    f"{_UPDATE_LATEST_SQL};\nDROP TABLE new_rows"
)


class DuckDBStore:
    """The embedded store (see the module docstring). Open with :meth:`open`."""

    backend = "duckdb"

    #: Seconds between two applications of the journal to the database: each costs about
    #: 15 ms (a thousand points' second of values), much of it holding the interpreter
    #: lock, so fewer larger ones leave more of it to a service's requests.
    APPLY_EVERY_S = 2.0
    #: Journaled rows that make the next write apply the journal at once.
    APPLY_ROWS = 50_000
    #: Writes of more rows go to the database directly (after the journal).
    JOURNAL_MAX_ROWS = 10_000

    def __init__(self, con: Any, directory: Path, read_only: bool) -> None:
        self._con = con
        self.directory = directory
        self.read_only = read_only
        # journaled writes not yet in the database, in order: their rows (numpy columns
        # of ``measurements`` but the revision, which is 0) and rejects (Arrow or None)
        self._journal = Journal(directory, read_only=read_only)
        self._held = HeldRows()
        self._applier: threading.Thread | None = None
        self._stop = threading.Event()
        self._apply_error: BaseException | None = None
        self._lock = threading.RLock()  # writes, points, opening and closing
        # reads run on cursors of their own beside a write (DuckDB shows them the last
        # committed state), taken from a pool so that threads come and go freely
        self._readers: list[Any] = []
        self._readers_lock = threading.Lock()
        # the newest values in memory, and the frame of all of them (until a write)
        self._mem_lock = threading.Lock()
        self._keys: dict[str, int] = {}
        self._points: dict[str, MeasurementPoint] = {}
        self._latest_cache: pd.DataFrame | None = None  # dropped by every write
        self._latest_mem: LatestTable | None = None  # read at first use, then kept
        self._names: dict[int, str] = {}
        self._index: tuple[dict[int, str], npt.NDArray[np.int64]] = ({}, np.zeros(0, np.int64))
        self._sorted_points: list[MeasurementPoint] = []
        self._load_points()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        create: bool = False,
        read_only: bool = False,
        threads: int | None = None,
    ) -> DuckDBStore:
        """Open (``create``: make) the store in ``directory``; ``threads``: DuckDB's
        worker threads (None: DuckDB's default)."""
        import duckdb

        directory = Path(directory).expanduser()
        db = directory / DB_FILE
        if not db.is_file():
            if not create:
                msg = (
                    f"{directory}: no gridtwin store here (no {DB_FILE}); create one with "
                    f"`gridtwin store init --store {directory}`"
                )
                raise InputError(msg)
            if directory.exists() and not directory.is_dir():
                msg = f"{directory}: exists and is not a directory; choose another --store"
                raise InputError(msg)
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                msg = f"{directory}: cannot create the store directory ({exc.strerror})"
                raise StoreError(msg) from exc
        try:
            config: dict[str, str | bool | int | float | list[str]] = (
                {} if threads is None else {"threads": int(threads)}
            )
            con = duckdb.connect(str(db), read_only=read_only and not create, config=config)
        except duckdb.IOException as exc:
            msg = f"{directory}: cannot open the store: {_lock_hint(str(exc))}"
            raise StoreError(msg) from exc
        except duckdb.Error as exc:
            msg = f"{directory}: cannot open the store ({exc})"
            raise StoreError(msg) from exc
        if create:
            con.execute(_SCHEMA)
            if _one(con, "SELECT count(*) FROM schema_version")[0] == 0:
                con.execute("INSERT INTO schema_version VALUES (?)", [SCHEMA_VERSION])
        _check_schema(con, directory)
        read_only = read_only and not create
        if not read_only:
            con.execute(_JOURNAL_STATE)
        store = cls(con, directory, read_only)
        try:
            store._recover()
        except BaseException:
            store.close()
            raise
        return store

    def _recover(self) -> None:
        """Take up the journal a previous process left: apply it (read-only: hold it in
        memory), unless the database holds its generation already (then it was applied
        and only its emptying was cut short)."""
        records = self._journal.read()
        if self._journal.dropped_bytes:
            _log.warning(
                "%s: %d bytes at the end of the journal were cut short by a crash (a write "
                "never acknowledged) and are left out",
                self._journal.path,
                self._journal.dropped_bytes,
            )
        applied = self._applied_generation()
        if records and self._journal.generation > applied:
            for record in records:
                self._held.add(record_columns(record), record.rejects)
        if self.read_only:
            return
        with self._lock:
            self._journal.open_for_append()
            if self._held:
                self._apply_held()
            else:
                self._journal.restart(max(applied, self._journal.generation) + 1)

    def _applied_generation(self) -> int:
        import duckdb

        try:
            row = self._cursor().execute("SELECT max(generation) FROM journal_state").fetchone()
        except duckdb.CatalogException:  # a read-only open of a store made before it
            return 0
        return 0 if row is None or row[0] is None else int(row[0])

    def close(self) -> None:
        """Apply the journal and close the database (idempotent). If the journal cannot
        be applied now, it stays on disk and the next open applies it."""
        self._stop.set()
        applier = self._applier
        if applier is not None and applier is not threading.current_thread():
            applier.join()
        with self._lock:
            if self._con is not None and self._held and not self.read_only:
                try:
                    self._apply_held()
                except Exception as exc:  # kept in the journal: nothing is lost
                    _log.error(
                        "%s: the journal stays for the next open (%s)", self._journal.path, exc
                    )
            self._journal.close()
            if self._con is not None:
                with self._readers_lock:
                    for cur in self._readers:
                        cur.close()
                    self._readers.clear()
                self._con.close()
                self._con = None
            with self._mem_lock:
                self._latest_cache = None
                self._latest_mem = None

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def location(self) -> str:
        """The data directory."""
        return str(self.directory)

    def _cursor(self) -> Any:
        if self._con is None:
            msg = f"{self.directory}: the store is closed"
            raise StoreError(msg)
        return self._con

    @contextlib.contextmanager
    def _reader(self) -> Iterator[Any]:
        """A read cursor from the pool (made when none is free), returned after use."""
        with self._readers_lock:
            cur = self._readers.pop() if self._readers else None
        if cur is None:
            with self._lock:
                cur = self._cursor().cursor()
        try:
            yield cur
        finally:
            with self._readers_lock:
                if self._con is not None:
                    self._readers.append(cur)
                    cur = None
            if cur is not None:  # the store closed meanwhile
                cur.close()

    def _writable(self) -> Any:
        con = self._cursor()
        if self.read_only:
            msg = f"{self.directory}: the store is open read-only; writing needs a read-write open"
            raise StoreError(msg)
        return con

    # ------------------------------------------------------------------ points

    def _load_points(self) -> None:
        """Read the points. Readers take no lock: each attribute is replaced whole, the
        key-to-id index first, so a key a reader finds always has its id and rank."""
        rows = self._cursor().execute(f"SELECT point_key, {_sql.POINT_COLS} FROM points").fetchall()
        names = {int(r[0]): r[1] for r in rows}
        # each key's place in the order of the point ids (windows are ordered by id)
        rank = np.zeros(max(names, default=-1) + 1, np.int64)
        for place, key in enumerate(sorted(names, key=names.__getitem__)):
            rank[key] = place
        self._index = (names, rank)
        self._names = names
        points = {r[1]: _sql.point_from_row(r[1:]) for r in rows}
        self._points = points
        self._sorted_points = [points[k] for k in sorted(points)]
        self._keys = {r[1]: int(r[0]) for r in rows}

    def add_points(self, points: Iterable[MeasurementPoint]) -> int:
        """Add or update points (see :class:`~gridtwin.store.MeasurementStore`)."""
        new = list(points)
        with self._lock:
            con = self._writable()
            _sql.check_point_changes(new, self._points, self._has_values)
            next_key = max(self._keys.values(), default=-1) + 1
            rows = []
            for p in new:
                key = self._keys.get(p.point_id)
                if key is None:
                    key, next_key = next_key, next_key + 1
                rows.append((key, *_sql.point_row(p)))
            with self._transaction(con):
                con.executemany(
                    f"INSERT INTO points (point_key, {_sql.POINT_COLS}) "
                    f"VALUES ({', '.join('?' * 12)}) ON CONFLICT (point_key) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in _sql.POINT_COLS.split(", ")[1:]),
                    rows,
                )
            self._load_points()
            with self._mem_lock:
                self._latest_cache = None
        return len(new)

    def _has_values(self, point_id: str) -> bool:
        key = self._keys[point_id]
        held = self._held.columns()
        if held is not None and bool((held["point_key"] == key).any()):
            return True
        row = self._cursor().execute("SELECT 1 FROM latest WHERE point_key = ?", [key]).fetchone()
        return row is not None

    def points(self) -> list[MeasurementPoint]:
        """Every point, ordered by id (a snapshot: no waiting for a write)."""
        self._cursor()  # a closed store says so
        return list(self._sorted_points)

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def _transaction(self, con: Any) -> Iterator[None]:
        import duckdb

        con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        try:
            con.execute("COMMIT")
        except duckdb.Error as exc:
            msg = f"{self.directory}: the write could not be committed ({exc})"
            raise StoreError(msg) from exc

    def write(self, batch: MeasurementBatch, rejects: RejectBatch | None = None) -> WriteReport:
        """Store measurements and rejects in one durable transaction."""
        return self.write_many([(batch, rejects)])[0]

    def write_many(
        self, items: Sequence[tuple[MeasurementBatch, RejectBatch | None]]
    ) -> list[WriteReport]:
        """Store several writes in one durable transaction, each with its own report (a
        value repeated by a later item is a duplicate of the earlier one). New values in
        a small write are journaled (see the module docstring)."""
        import duckdb

        if not items:
            return []
        batch, rejects, starts = _sql.combine_items(items)
        with self._lock:
            con = self._writable()
            keys = _sql.point_keys(batch.point_id, self._keys, self.location)
            n_rej = 0 if rejects is None else len(rejects)
            if len(batch) == 0 and n_rej == 0:
                return [WriteReport() for _ in items]
            try:
                if self._journaled(keys, batch):
                    seq, revision = self._write_journal(batch, keys, rejects)
                else:
                    self._apply_held()  # the database is never written past the journal
                    if len(batch) and self._nothing_stored(con, keys, batch.ts_utc):
                        seq, revision = self._write_fast(con, batch, keys, rejects)
                    else:
                        seq, revision = self._write_checked(con, batch, keys, rejects)
            except duckdb.Error as exc:
                msg = f"{self.directory}: the write failed and was rolled back ({exc})"
                raise StoreError(msg) from exc
            with self._mem_lock:  # durable: move the newest values on
                self._latest_cache = None
                if self._latest_mem is not None:
                    self._latest_mem.update(
                        keys[seq],
                        batch.ts_utc[seq],
                        revision,
                        batch.value[seq],
                        batch.quality[seq],
                        batch.source_ts_utc[seq],
                        batch.arrival_ts_utc[seq],
                    )
        return _sql.split_reports(items, starts, seq, revision > 0)

    # ------------------------------------------------------------------ the journal

    def _journaled(self, keys: np.ndarray, batch: MeasurementBatch) -> bool:
        """Whether a write goes to the journal: a small one, every value newer than its
        point's newest (memory answers), the last application did not fail."""
        if not 0 < len(batch) <= self.JOURNAL_MAX_ROWS or self._apply_error is not None:
            return False
        if not _sql.unique_keys(keys, batch.ts_utc):
            return False
        return self._memory().all_newer(keys, batch.ts_utc)

    def _write_journal(
        self, batch: MeasurementBatch, keys: np.ndarray, rejects: RejectBatch | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]:
        """Append the write to the journal (durable), hold it for the reads."""
        cols = {
            "point_key": keys.astype(np.int32, copy=False),
            "ts_utc": batch.ts_utc,
            "value": batch.value,
            "quality": batch.quality,
            "source_ts_utc": batch.source_ts_utc,
            "arrival_ts_utc": batch.arrival_ts_utc,
        }
        rej = None if rejects is None or not len(rejects) else _sql.rejects_table(rejects)
        self._journal.append(columns_table(cols), rej)
        self._held.add(cols, rej)
        if self._held.rows >= self.APPLY_ROWS:
            self._apply_held()
        elif self._applier is None:
            self._applier = threading.Thread(
                target=_apply_loop,
                args=(weakref.ref(self), self._stop, self.APPLY_EVERY_S),
                name=f"gridtwin-journal:{self.directory.name}",
                daemon=True,
            )
            self._applier.start()
        return np.arange(len(batch), dtype=np.int64), np.zeros(len(batch), np.int16)

    def _apply_held(self) -> None:
        """The held rows and rejects into the database in one transaction that also
        records the journal's generation, then the journal emptied (under the lock)."""
        import duckdb

        cols = self._held.columns()
        if cols is None:
            return
        con = self._writable()
        rejects = self._held.rejects()
        generation = self._journal.generation
        rows = _sql.newest_per_key(cols["point_key"], cols["ts_utc"])
        fast_batch = columns_table(cols)  # read by the SQL, by name
        fast_newest = fast_batch.take(rows)  # noqa: F841 (read by the SQL, by name)
        script = [_FAST_STORE, _FAST_ADD_LATEST]
        if rejects is not None:
            fast_rejects = rejects  # noqa: F841 (read by the SQL, by name)
            script.append("INSERT INTO rejects SELECT * FROM fast_rejects")
        script.append(f"UPDATE journal_state SET generation = {int(generation)}")
        try:
            con.execute("BEGIN TRANSACTION;\n" + ";\n".join(script) + ";\nCOMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            msg = f"{self.directory}: the journal could not be applied ({exc}); it is kept"
            self._apply_error = StoreError(msg)
            raise self._apply_error from exc
        self._held.clear()
        self._apply_error = None
        self._journal.restart(generation + 1)

    @property
    def journal_rows(self) -> int:
        """Rows journaled and not yet applied to the database."""
        return self._held.rows

    def flush(self) -> None:
        """Apply the journal to the database now (the background thread does it every
        APPLY_EVERY_S; reads never need this)."""
        with self._lock:
            if self._con is not None and not self.read_only:
                self._apply_held()

    def _write_fast(
        self, con: Any, batch: MeasurementBatch, keys: np.ndarray, rejects: RejectBatch | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]:
        """Every value of the batch is new (:meth:`_nothing_stored`): the whole transaction in
        one call. Each call costs DuckDB's fixed overhead and a round of the GIL, and a
        registered view is a catalog change of its own; the Arrow tables are found by their
        names in this frame (DuckDB's replacement scan) instead."""
        import duckdb

        fast_batch = _sql.batch_table(batch, keys)  # read by the SQL, by name
        rows = _sql.newest_per_key(keys, batch.ts_utc)
        fast_newest = fast_batch.take(rows)  # noqa: F841 (read by the SQL, by name)
        script = [_FAST_STORE]
        if not self._all_held(keys[rows]):
            script.append(_FAST_ADD_LATEST)
        if rejects is not None and len(rejects):
            fast_rejects = _sql.rejects_table(rejects)  # noqa: F841 (read by the SQL)
            script.append("INSERT INTO rejects SELECT * FROM fast_rejects")
        try:
            con.execute("BEGIN TRANSACTION;\n" + ";\n".join(script) + ";\nCOMMIT")
        except duckdb.Error:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        return np.arange(len(batch), dtype=np.int64), np.zeros(len(batch), np.int16)

    def _write_checked(
        self, con: Any, batch: MeasurementBatch, keys: np.ndarray, rejects: RejectBatch | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]:
        """Values that may repeat stored ones: duplicates and revisions found in SQL."""
        with self._transaction(con):
            seq, revision = self._write_rows(con, batch, keys)
            if rejects is not None and len(rejects):
                con.register("rej", _sql.rejects_table(rejects))
                con.execute("INSERT INTO rejects SELECT * FROM rej")
                con.unregister("rej")
        return seq, revision

    def _write_rows(
        self, con: Any, batch: MeasurementBatch, keys: np.ndarray
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]:
        """Write the new rows; each one's place in the batch (``seq``) and revision."""
        if len(batch) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int16)
        table = _sql.batch_table(batch, keys)
        con.register("batch", table)
        try:
            lo, hi = batch.ts_utc.min(), batch.ts_utc.max()
            con.execute(_NEW_ROWS, {"lo": _sql.py_ts(lo), "hi": _sql.py_ts(hi)})
            rows = con.execute("SELECT seq, revision FROM new_rows ORDER BY seq").fetchnumpy()
            con.execute(_STORE_NEW_ROWS)
        finally:
            con.unregister("batch")
        return (
            np.asarray(rows["seq"], dtype=np.int64),
            np.asarray(rows["revision"], dtype=np.int16),
        )

    def _memory(self) -> LatestTable:
        """The newest values in memory, read at first use (under the write lock, so no
        write lands meanwhile)."""
        with self._mem_lock:
            mem = self._latest_mem
        if mem is None:
            with self._lock:
                with self._mem_lock:
                    mem = self._latest_mem
                if mem is None:
                    mem = self._read_latest()
                    with self._mem_lock:
                        self._latest_mem = mem
        return mem

    def _nothing_stored(self, con: Any, keys: np.ndarray, ts: npt.NDArray[np.datetime64]) -> bool:
        """No key of the batch can be stored already (nothing held: the journal is
        applied), and none repeats in it: each value is newer than its point's newest, or
        nothing is stored in the batch's span (a gap filled later)."""
        if not _sql.unique_keys(keys, ts):
            return False
        return self._memory().all_newer(keys, ts) or self._nothing_stored_near(
            con, ts.min(), ts.max()
        )

    def _all_held(self, keys: np.ndarray) -> bool:
        """Whether every point already has a newest value (from memory; False when the
        newest values are not read yet)."""
        with self._mem_lock:
            mem = self._latest_mem
            return mem is not None and mem.holds(keys)

    @staticmethod
    def _nothing_stored_near(con: Any, lo: np.datetime64, hi: np.datetime64) -> bool:
        """No stored row in [lo, hi] (then nothing in the batch can repeat a stored key)."""
        row = con.execute(
            "SELECT 1 FROM measurements WHERE ts_utc BETWEEN ? AND ? LIMIT 1",
            [_sql.py_ts(lo), _sql.py_ts(hi)],
        ).fetchone()
        return row is None

    # ------------------------------------------------------------------ reading

    def _frame(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> pd.DataFrame:
        import duckdb

        try:
            with self._reader() as cur:
                df = cur.execute(sql, params).df()
        except duckdb.ConnectionException as exc:  # closed while reading
            self._cursor()
            msg = f"{self.directory}: {exc}"
            raise StoreError(msg) from exc
        return _sql.utc_columns(df)

    def latest(self, point_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """The newest value per point.

        Answered from memory (:class:`~gridtwin.store._latest.LatestTable`): the table is
        read once, then every committed write moves it on; the twin and the API ask for
        the newest values far more often than a batch lands, and live ingest lands many
        batches a second. The frame of every point is kept until the next write.
        """
        self._cursor()  # a closed store says so
        self._memory()
        keys = None
        if point_ids is not None:  # unknown ids are an error, as in every read
            keys = _sql.point_keys(np.asarray(list(point_ids), object), self._keys, self.location)
        with self._mem_lock:
            mem = self._latest_mem
            if mem is None:  # closed meanwhile
                self._cursor()
                msg = f"{self.directory}: the store is closed"
                raise StoreError(msg)
            if keys is not None:
                return mem.frame(keys, self._names)
            if self._latest_cache is None:
                self._latest_cache = mem.frame(None, self._names)
            return self._latest_cache.copy()

    def latest_held(self, point_ids: Sequence[str] | None = None) -> LatestValues | None:
        """The newest values from memory (see :meth:`latest`); None until they were read."""
        self._cursor()  # a closed store says so
        keys = None
        if point_ids is not None:
            keys = _sql.point_keys(np.asarray(list(point_ids), object), self._keys, self.location)
        with self._mem_lock:
            mem = self._latest_mem
            return None if mem is None else mem.values(keys, self._names)

    def _read_latest(self) -> LatestTable:
        """The table of newest values, moved on by the held (journaled) rows."""
        df = self._cursor().execute(f"SELECT {_ROW_COLS} FROM latest").df()
        mem = LatestTable()
        mem.update(
            df["point_key"].to_numpy(np.int64),
            df["ts_utc"].to_numpy("datetime64[us]"),
            df["revision"].to_numpy(np.int16),
            df["value"].to_numpy(np.float64),
            df["quality"].to_numpy(np.uint8),
            df["source_ts_utc"].to_numpy("datetime64[us]"),
            df["arrival_ts_utc"].to_numpy("datetime64[us]"),
        )
        held = self._held.columns()
        if held is not None:
            rows = _sql.newest_per_key(held["point_key"], held["ts_utc"])
            mem.update(
                held["point_key"][rows].astype(np.int64),
                held["ts_utc"][rows],
                np.zeros(len(rows), np.int16),
                held["value"][rows],
                held["quality"][rows],
                held["source_ts_utc"][rows],
                held["arrival_ts_utc"][rows],
            )
        return mem

    def window(
        self,
        point_ids: Sequence[str] | None,
        start_utc: pd.Timestamp,
        end_utc: pd.Timestamp,
        *,
        all_revisions: bool = False,
    ) -> pd.DataFrame:
        """Values in ``[start_utc, end_utc)`` (the frame of :meth:`window_rows`)."""
        return rows_frame(
            self.window_rows(point_ids, start_utc, end_utc, all_revisions=all_revisions)
        )

    def window_rows(
        self,
        point_ids: Sequence[str] | None,
        start_utc: pd.Timestamp,
        end_utc: pd.Timestamp,
        *,
        all_revisions: bool = False,
    ) -> LatestValues:
        """Values in ``[start_utc, end_utc)`` as arrays, ordered as :meth:`window`.

        The rows are read with one filtered scan and ordered (and the newest revision of
        each key kept) with numpy (:mod:`gridtwin.store._window`).
        """
        import duckdb

        lo, hi = _sql.utc_bounds(start_utc, end_utc)
        cond, params = "m.ts_utc >= ? AND m.ts_utc < ?", [lo, hi]
        keys = None
        # the held rows before the database's: a row applied in between is read twice
        # (and once dropped), never missed
        held = self._held.columns()
        if point_ids is not None:
            keys = _sql.point_keys(np.asarray(list(point_ids), object), self._keys, self.location)
            if len(keys) == 1:
                cond += " AND m.point_key = ?"
                params.append(int(keys[0]))
            else:
                cond += " AND m.point_key IN (SELECT unnest(?::INTEGER[]))"
                params.append(keys.tolist())
        try:
            with self._reader() as cur:
                rows = cur.execute(f"SELECT {_ROW_COLS} FROM measurements m WHERE {cond}", params)
                cols = rows.fetchnumpy()
        except duckdb.ConnectionException as exc:  # closed while reading
            self._cursor()
            msg = f"{self.directory}: {exc}"
            raise StoreError(msg) from exc
        if held is not None:
            cols = with_held(cols, held, keys, lo, hi)
        names, rank = self._index  # one snapshot of both (replaced whole, never changed)
        return ordered_rows(
            cols, names, rank, newest_only=not all_revisions, merged=held is not None
        )

    def resample(
        self,
        point_ids: Sequence[str],
        start_utc: pd.Timestamp,
        end_utc: pd.Timestamp,
        step: pd.Timedelta,
        how: ResampleHow = "mean",
    ) -> pd.DataFrame:
        """Values on a regular step, one column per point; empty intervals NaN."""
        step_us, agg = _sql.resample_args(step, how)
        long = self.window(point_ids, start_utc, end_utc)
        return _sql.resample_frame(long, list(point_ids), start_utc, end_utc, step_us, agg)

    def rejects(self, limit: int | None = None) -> pd.DataFrame:
        """Rejected inputs, newest first (the journaled ones too)."""
        lim = "" if limit is None else f" LIMIT {int(limit)}"
        with self._lock:  # no application of the journal meanwhile
            held = self._held.rejects()
            if held is None:
                return self._frame(f"SELECT * FROM rejects ORDER BY arrival_ts_utc DESC{lim}")
            with self._reader() as cur:
                cur.register("held_rejects", held)
                try:
                    df = cur.execute(
                        "SELECT * FROM (SELECT * FROM rejects UNION ALL "
                        f"SELECT * FROM held_rejects) ORDER BY arrival_ts_utc DESC{lim}"
                    ).df()
                finally:
                    cur.unregister("held_rejects")
        return _sql.utc_columns(df)

    def export(
        self,
        path: Path,
        fmt: ExportFormat,
        *,
        point_ids: Sequence[str] | None = None,
        start_utc: pd.Timestamp | None = None,
        end_utc: pd.Timestamp | None = None,
        all_revisions: bool = False,
    ) -> int:
        """Write measurements to a Parquet or CSV file; the rows written."""
        lo = _sql.ALL_TIME[0] if start_utc is None else start_utc
        hi = _sql.ALL_TIME[1] if end_utc is None else end_utc
        df = self.window(point_ids, lo, hi, all_revisions=all_revisions)
        _sql.write_export(df, Path(path), fmt)
        return len(df)

    def info(self) -> StoreInfo:
        """Counts and time span (the journaled rows included)."""
        with self._lock, self._reader() as con:  # no application of the journal meanwhile
            n_points = _one(con, "SELECT count(*) FROM points")[0]
            n, n_rev, lo, hi = _one(
                con,
                "SELECT count(*), count(*) FILTER (WHERE revision > 0), min(ts_utc), "
                "max(ts_utc) FROM measurements",
            )
            n_rej = _one(con, "SELECT count(*) FROM rejects")[0]
            version = _one(con, "SELECT max(version) FROM schema_version")[0]
            held = self._held.columns()
            rejects = self._held.rejects()
        if held is not None:
            n += len(held["ts_utc"])
            h_lo, h_hi = held["ts_utc"].min(), held["ts_utc"].max()
            lo = h_lo if lo is None else min(np.datetime64(lo, "us"), h_lo)
            hi = h_hi if hi is None else max(np.datetime64(hi, "us"), h_hi)
        if rejects is not None:
            n_rej += rejects.num_rows
        return StoreInfo(
            "duckdb",
            self.location,
            int(n_points),
            int(n),
            int(n_rev),
            int(n_rej),
            None if lo is None else np.datetime64(lo, "us"),
            None if hi is None else np.datetime64(hi, "us"),
            int(version),
        )


def _apply_loop(ref: weakref.ref[DuckDBStore], stop: threading.Event, every_s: float) -> None:
    """The background thread: apply the journal every ``every_s`` until the store closes,
    holding the store weakly (one nobody closed is collected; its next open applies it)."""
    while not stop.wait(every_s):
        store = ref()
        if store is None:
            return
        with store._lock:
            if store._con is None:
                return
            try:
                store._apply_held()
            except Exception as exc:  # told to the next write, which retries
                _log.error("%s: applying the journal failed: %s", store.directory, exc)
        del store


def _one(con: Any, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The one row a query returns."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        msg = f"the store's query returned no row: {sql}"
        raise StoreError(msg)
    return tuple(row)


def _check_schema(con: Any, directory: Path) -> None:
    import duckdb

    try:
        version = _one(con, "SELECT max(version) FROM schema_version")[0]
    except duckdb.CatalogException as exc:  # no such table: not a store
        msg = (
            f"{directory}: {DB_FILE} is not a gridtwin store (no schema); "
            f"create one in an empty directory with `gridtwin store init`"
        )
        raise InputError(msg) from exc
    if version != SCHEMA_VERSION:
        msg = (
            f"{directory}: the store has schema version {version}; this gridtwin reads "
            f"version {SCHEMA_VERSION}"
        )
        raise StoreError(msg)


def _lock_hint(text: str) -> str:
    if "lock" in text.lower():
        return (
            "another process holds it open for writing (DuckDB allows one writer); stop "
            f"that process or open read-only. DuckDB said: {text}"
        )
    return text
