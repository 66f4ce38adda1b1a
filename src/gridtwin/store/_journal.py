"""The embedded store's journal: small writes made durable in one ``fsync``, applied to
the database in bulk a moment later.

Why: a DuckDB transaction costs a few milliseconds whatever its size, and DuckDB's
Python client takes the interpreter lock several times in each statement, so a service
that commits every ingest request makes every other request wait behind it. A write
of new values (each newer than its point's newest, the live case) is appended to this
file and synced instead; the store applies the file's batches to the database in one
transaction every two seconds (and at close), then empties it. Until then the
store answers reads from the database *and* the batches held in memory (see
:class:`~gridtwin.store._duckdb.DuckDBStore`).

File layout (``<dir>/gridtwin-store.journal``)::

    header   b"GTJ1" generation:u64                       (12 bytes)
    record   b"GTR1" len_rows:u32 len_rejects:u32 crc32:u32  then the two payloads

Each payload is one Arrow IPC stream (the batch's rows with their point keys; the
rejects, or nothing). A record is written with one ``write`` and synced before the write
is acknowledged; a record cut short by a crash (never acknowledged) fails its length or
checksum and is dropped with everything after it.

Exactly once: the database keeps the generation of the last journal it applied
(``journal_state``), updated in the transaction that applies it; the journal is then
emptied and its generation moved on. A crash between the two leaves a journal whose
generation the database already holds: it is emptied at the next open, not applied
twice.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridtwin.errors import StoreError

__all__ = ["JOURNAL_FILE", "Journal", "JournalRecord"]

#: The journal's file name inside the data directory.
JOURNAL_FILE = "gridtwin-store.journal"

_HEADER = struct.Struct("<4sQ")
_RECORD = struct.Struct("<4sIII")
_FILE_MAGIC = b"GTJ1"
_RECORD_MAGIC = b"GTR1"


@dataclass(frozen=True)
class JournalRecord:
    """One journaled write: its rows (``point_key``, ``ts_utc``, ``value``, ``quality``,
    ``source_ts_utc``, ``arrival_ts_utc``) and its rejects (or None), as Arrow tables."""

    rows: Any
    rejects: Any | None


def _ipc(table: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def _table(payload: bytes) -> Any:
    import pyarrow as pa

    return pa.ipc.open_stream(pa.py_buffer(payload)).read_all()


class Journal:
    """The journal file of one data directory, open for appending (see the module)."""

    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        self.path = Path(directory) / JOURNAL_FILE
        self.read_only = read_only
        self._fd: int | None = None
        self.generation = 0
        self.size_bytes = 0
        self.dropped_bytes = 0  # a torn tail found by :meth:`read`

    # ------------------------------------------------------------------ reading

    def read(self) -> list[JournalRecord]:
        """The records of the file (none if it does not exist); a torn tail is left out
        (counted in ``dropped_bytes``) and cut off at the next :meth:`open_for_append`."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            msg = f"{self.path}: cannot read the store's journal ({exc.strerror})"
            raise StoreError(msg) from exc
        if len(data) < _HEADER.size:
            self.dropped_bytes = len(data)  # a header cut short: nothing was acknowledged
            return []
        magic, generation = _HEADER.unpack_from(data)
        if magic != _FILE_MAGIC:
            msg = (
                f"{self.path}: not a gridtwin store journal (it starts {magic!r}); move it "
                "away only if it is not this store's (it may hold acknowledged values)"
            )
            raise StoreError(msg)
        self.generation = int(generation)
        out: list[JournalRecord] = []
        pos = _HEADER.size
        while pos + _RECORD.size <= len(data):
            magic, n_rows, n_rej, crc = _RECORD.unpack_from(data, pos)
            end = pos + _RECORD.size + n_rows + n_rej
            if magic != _RECORD_MAGIC or end > len(data):
                break
            body = data[pos + _RECORD.size : end]
            if zlib.crc32(body) != crc:
                break
            rows = _table(body[:n_rows])
            rejects = _table(body[n_rows:]) if n_rej else None
            out.append(JournalRecord(rows, rejects))
            pos = end
        self.size_bytes = pos
        self.dropped_bytes = len(data) - pos
        return out

    # ------------------------------------------------------------------ writing

    def open_for_append(self) -> None:
        """Open the file for appending after :meth:`read` (a torn tail is cut off; a
        missing file is created with generation 1)."""
        if self.read_only:
            msg = f"{self.path}: the store is open read-only; its journal is not written"
            raise StoreError(msg)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(fd).st_size < _HEADER.size:
                self.generation = max(self.generation, 1)
                os.ftruncate(fd, 0)
                os.write(fd, _HEADER.pack(_FILE_MAGIC, self.generation))
                self.size_bytes = _HEADER.size
            else:
                os.ftruncate(fd, self.size_bytes)
            os.lseek(fd, 0, os.SEEK_END)
            os.fsync(fd)
        except OSError as exc:
            msg = f"{self.path}: cannot open the store's journal ({exc.strerror})"
            raise StoreError(msg) from exc
        self._fd = fd
        self.dropped_bytes = 0

    def append(self, rows: Any, rejects: Any | None) -> None:
        """Write one record and sync it (durable when this returns)."""
        if self._fd is None:
            msg = f"{self.path}: the journal is not open"
            raise StoreError(msg)
        a = _ipc(rows)
        b = _ipc(rejects) if rejects is not None and rejects.num_rows else b""
        body = a + b
        record = _RECORD.pack(_RECORD_MAGIC, len(a), len(b), zlib.crc32(body)) + body
        try:
            written = os.write(self._fd, record)
            if written != len(record):  # a full disk: cut it off, the write fails
                os.ftruncate(self._fd, self.size_bytes)
                msg = f"short write ({written} of {len(record)} bytes)"
                raise OSError(0, msg)
            os.fdatasync(self._fd)
        except OSError as exc:
            msg = f"{self.path}: the write could not be made durable ({exc.strerror or exc})"
            raise StoreError(msg) from exc
        self.size_bytes += len(record)

    def restart(self, generation: int) -> None:
        """Empty the file and give it ``generation`` (after the database applied it)."""
        if self._fd is None:
            msg = f"{self.path}: the journal is not open"
            raise StoreError(msg)
        try:
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, _HEADER.pack(_FILE_MAGIC, generation))
            os.fsync(self._fd)
        except OSError as exc:
            msg = f"{self.path}: cannot empty the store's journal ({exc.strerror})"
            raise StoreError(msg) from exc
        self.generation = generation
        self.size_bytes = _HEADER.size

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
