"""Measurement files (CSV or Parquet) as an ingest source that streams in chunks.

Two layouts:

- **long**: one row per value, columns ``point_id, ts_utc, value`` and optionally
  ``quality`` (``valid``, ``estimated|questionable``, ... or the integer bits) and
  ``source_ts_utc``;
- **wide**: a time column and one column per point (the column name is the point id);
  an empty or NaN cell is "no value at that time" (a gap of a matrix) and is skipped.
  In the long layout a NaN value is delivered (and rejected by the pipeline as
  ``not_finite``): a row that is there says it has a value.

Timestamps are ISO 8601 with a UTC offset or ``Z`` (a Parquet timestamp column with a
time zone is fine too). A timestamp without offset is local clock time of ``timezone``
when one is given; without ``timezone`` a file whose first chunk has only such times is
an :class:`~gridtwin.errors.InputError`, and a single such row in a file that otherwise
has offsets is a reject.

The file is never loaded at once: CSV goes through pyarrow's streaming reader, Parquet
through its row batches, each chunk becoming one :class:`~gridtwin.ingest.RawBatch`.
A row that cannot be decoded (a number that is not one, a bad or missing timestamp, an
empty point id, an unknown quality flag) becomes a reject naming the file and the row
(1-based data row, header excluded), with the row's text; the rest of the chunk goes on.
"""

from __future__ import annotations

import csv
import gzip
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from gridtwin.errors import InputError
from gridtwin.ingest._interval import _OFFSET_RE, _is_csv
from gridtwin.ingest._source import RawBatch, Sink
from gridtwin.store._model import Quality, RejectBatch, RejectReason

__all__ = ["FileLayout", "FileProgress", "FileSource"]

FileLayout = Literal["auto", "long", "wide"]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_NAT: Final = np.iinfo(np.int64).min
_UTC_US: Final = pa.timestamp("us", tz="UTC")
_CSV_BLOCK_BYTES: Final = 8 << 20
_MAX_QUALITY: Final = int(Quality.ESTIMATED | Quality.SUBSTITUTED | Quality.QUESTIONABLE)


@dataclass(frozen=True)
class FileProgress:
    """How far a file has been read (for a progress bar).

    Attributes
    ----------
    rows_done : int
        Data rows read so far.
    total_rows : int or None
        Data rows in the file if known (Parquet), else None (CSV).
    bytes_done, total_bytes : int
        Bytes of the file read so far (approximate for CSV, which reads ahead) and its
        size on disk.
    """

    rows_done: int
    total_rows: int | None
    bytes_done: int
    total_bytes: int

    @property
    def fraction(self) -> float:
        """Share done in [0, 1]: by rows when their total is known, else by bytes."""
        if self.total_rows:
            return min(1.0, self.rows_done / self.total_rows)
        if self.total_bytes:
            return min(1.0, self.bytes_done / self.total_bytes)
        return 1.0


@dataclass(frozen=True)
class _Bad:
    """Problems found in one chunk: a reason and a text per bad row (or cell)."""

    reason: RejectReason
    detail: str


class FileSource:
    """A measurement file (CSV, CSV.gz or Parquet) delivered to a sink in chunks.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq``.
    layout : {"auto", "long", "wide"}
        ``auto`` is long when the file has ``point_column``, else wide.
    time_column, point_column, value_column, quality_column, source_ts_column : str
        Column names; ``quality_column`` and ``source_ts_column`` are optional columns
        of the long layout (used when present).
    timezone : str, optional
        IANA zone of timestamps written without offset (local clock times). A local
        time that does not exist or occurs twice (DST) in that zone is rejected.
    chunk_rows : int
        Values per chunk (wide layout: file rows per chunk = ``chunk_rows`` divided by
        the number of point columns).
    progress : callable, optional
        Called with a :class:`FileProgress` after each chunk is handed to the sink.
    name : str
        The source's name for counters.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        layout: FileLayout = "auto",
        time_column: str = "ts_utc",
        point_column: str = "point_id",
        value_column: str = "value",
        quality_column: str = "quality",
        source_ts_column: str = "source_ts_utc",
        timezone: str | None = None,
        chunk_rows: int = 200_000,
        progress: Callable[[FileProgress], None] | None = None,
        name: str = "file",
    ) -> None:
        self.path = Path(path)
        self.name = name
        self.layout = layout
        self.time_column = time_column
        self.point_column = point_column
        self.value_column = value_column
        self.quality_column = quality_column
        self.source_ts_column = source_ts_column
        self.timezone = timezone
        self.chunk_rows = int(chunk_rows)
        self.progress = progress
        self._check_options()

    def _check_options(self) -> None:
        if self.layout not in ("auto", "long", "wide"):
            msg = f"{self.path}: layout must be 'auto', 'long' or 'wide', got {self.layout!r}"
            raise InputError(msg)
        if self.chunk_rows < 1:
            msg = f"{self.path}: chunk_rows must be at least 1, got {self.chunk_rows}"
            raise InputError(msg)
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                msg = (
                    f"{self.path}: unknown time zone {self.timezone!r}; use an IANA name "
                    "such as 'Europe/Rome' or 'UTC'"
                )
                raise InputError(msg) from exc

    # ------------------------------------------------------------------ protocol

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Hand every chunk of the file to ``sink``; return early when ``stop`` is set."""
        for batch in self.batches(stop):
            sink.submit(batch)

    def batches(self, stop: threading.Event | None = None) -> Iterator[RawBatch]:
        """The file's chunks as :class:`RawBatch` objects (rejects included).

        ``progress`` is called after each chunk has been consumed by the caller.
        """
        is_csv = _is_csv(self.path)
        if not self.path.is_file():
            msg = f"{self.path}: file not found (or not a file)"
            raise InputError(msg)
        names = _csv_names(self.path) if is_csv else _parquet_names(self.path)
        long = self._pick_layout(names)
        cols = self._columns(names, long)
        per_row = 1 if long else max(1, len(cols) - 1)
        rows = max(1, self.chunk_rows // per_row)
        invalid: list[pacsv.InvalidRow] = []  # CSV rows with a wrong number of fields
        if is_csv:
            chunks = _csv_chunks(self.path, cols, rows, invalid)
        else:
            chunks = _pq_chunks(self.path, cols, rows)
        total_bytes = self.path.stat().st_size
        total_rows = None if is_csv else pq.ParquetFile(self.path).metadata.num_rows
        done = 0
        for table, row0, bytes_done in chunks:
            if stop is not None and stop.is_set():
                return
            decode = self._decode_long if long else self._decode_wide
            batch = decode(table, row0, is_csv, first=row0 == 0)
            self._invalid_rows(invalid, batch.rejects)
            yield batch
            done = row0 + table.num_rows
            if self.progress is not None:
                if total_rows is not None:
                    bytes_done = round(total_bytes * done / max(total_rows, 1))
                self.progress(FileProgress(done, total_rows, bytes_done, total_bytes))
        if invalid:
            rejects = RejectBatch()
            self._invalid_rows(invalid, rejects)
            yield RawBatch.empty(f"file:{self.path}", rejects)

    def _invalid_rows(self, invalid: list[pacsv.InvalidRow], rejects: RejectBatch) -> None:
        """Rejects for CSV rows with too few or too many fields (their number is unknown
        to the reader: the row's text identifies them)."""
        for row in invalid:
            rejects.add(
                "malformed",
                f"{self.path}: a row has {row.actual_columns} fields where the header has "
                f"{row.expected_columns} (row number unknown; the data row numbers of other "
                "rejects count only rows with the right number of fields)",
                source=f"file:{self.path}",
                raw=row.text or "",
            )
        invalid.clear()

    # ------------------------------------------------------------------ columns

    def _pick_layout(self, names: list[str]) -> bool:
        """True for long layout, after checking the needed columns exist."""
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            msg = f"{self.path}: the header repeats column name(s) {dup}; names must be unique"
            raise InputError(msg)
        if self.time_column not in names:
            msg = (
                f"{self.path}: no time column {self.time_column!r}; found {names[:10]}. "
                "Pass the time column's name (--time-column)"
            )
            raise InputError(msg)
        long = self.layout == "long" or (self.layout == "auto" and self.point_column in names)
        if long:
            missing = [c for c in (self.point_column, self.value_column) if c not in names]
            if missing:
                msg = (
                    f"{self.path}: long layout needs columns {self.point_column!r}, "
                    f"{self.time_column!r}, {self.value_column!r}; {missing} missing, found "
                    f"{names[:10]}. Name the columns (--point-column, --value-column) or "
                    "use the wide layout (a time column and one column per point)"
                )
                raise InputError(msg)
        elif len(names) < 2:
            msg = f"{self.path}: wide layout needs a time column and point columns; found {names}"
            raise InputError(msg)
        return long

    def _columns(self, names: list[str], long: bool) -> list[str]:
        """The columns read, in the file's order (so a reject's text is the row's)."""
        if not long:
            points = [n for n in names if n != self.time_column]
            empty = [i for i, n in enumerate(points) if not n.strip()]
            if empty:
                msg = f"{self.path}: a point column has an empty name; name it by its point id"
                raise InputError(msg)
            return list(names)
        cols = [self.time_column, self.point_column, self.value_column]
        cols += [c for c in (self.quality_column, self.source_ts_column) if c in names]
        return sorted(cols, key=names.index)

    # ------------------------------------------------------------------ decoding

    def _where(self, row: int, is_csv: bool) -> str:
        word = "data row" if is_csv else "row"
        return f"{self.path}: {word} {row}"

    # long: one value per row; several decode steps, each naming its rows
    def _decode_long(self, table: pa.Table, row0: int, is_csv: bool, *, first: bool) -> RawBatch:
        n = table.num_rows
        ts_us, ts_bad = _parse_times(table.column(self.time_column), self.timezone)
        if first:
            self._check_naive(ts_us, ts_bad, is_csv)
        pid, pid_bad = _parse_ids(table.column(self.point_column))
        val, val_bad = _parse_values(table.column(self.value_column))
        problems: list[dict[int, _Bad]] = [pid_bad, ts_bad, val_bad]
        qual = np.zeros(n, np.uint8)
        if self.quality_column in table.column_names:
            qual, q_bad = _parse_quality(table.column(self.quality_column))
            problems.append(q_bad)
        src = np.full(n, _NAT, np.int64)
        if self.source_ts_column in table.column_names:
            src, s_bad = _parse_times(table.column(self.source_ts_column), self.timezone)
            problems.append(
                {
                    r: _Bad(b.reason, f"source timestamp: {b.detail}")
                    for r, b in s_bad.items()
                    if b.detail != "empty timestamp"
                }
            )
        bad_rows = sorted(set().union(*problems))
        rejects = RejectBatch()
        for r in bad_rows:
            bad = next(p[r] for p in problems if r in p)
            point = str(pid[r]) if r not in pid_bad else None
            self._reject(rejects, table, r, row0, is_csv, bad, point, val[r])
        keep = np.ones(n, bool)
        keep[bad_rows] = False
        return RawBatch.build(
            pid[keep],
            ts_us[keep],
            val[keep],
            quality=qual[keep],
            source_ts_utc=src[keep].view("datetime64[us]"),
            source=f"file:{self.path}",
            rejects=rejects,
        )

    def _decode_wide(self, table: pa.Table, row0: int, is_csv: bool, *, first: bool) -> RawBatch:
        ts_us, ts_bad = _parse_times(table.column(self.time_column), self.timezone)
        if first:
            self._check_naive(ts_us, ts_bad, is_csv)
        points = [c for c in table.column_names if c != self.time_column]
        n, m = table.num_rows, len(points)
        values = np.empty((n, m))
        present = np.ones((n, m), bool)
        rejects = RejectBatch()
        for r, bad in sorted(ts_bad.items()):
            self._reject(rejects, table, r, row0, is_csv, bad, None, float("nan"))
        row_ok = np.ones(n, bool)
        row_ok[list(ts_bad)] = False
        for j, name in enumerate(points):
            col = table.column(name)
            values[:, j], cell_bad = _parse_values(col)
            present[:, j] = ~_empty_cells(col) & ~np.isnan(values[:, j])  # NaN: a gap
            for r, bad in sorted(cell_bad.items()):
                present[r, j] = False
                if row_ok[r] and bad.detail != "empty value":
                    detail = f"column {name!r}: {bad.detail}"
                    self._reject(
                        rejects,
                        table,
                        r,
                        row0,
                        is_csv,
                        _Bad(bad.reason, detail),
                        name,
                        float("nan"),
                    )
        present &= row_ok[:, None]
        rows, cols = np.nonzero(present)
        pid = np.asarray(points, dtype=object)[cols]
        return RawBatch.build(
            pid, ts_us[rows], values[rows, cols], source=f"file:{self.path}", rejects=rejects
        )

    def _check_naive(self, ts_us: IntArray, ts_bad: dict[int, _Bad], is_csv: bool) -> None:
        """A first chunk whose timestamps all lack an offset is a file without time zone."""
        naive = [r for r, b in ts_bad.items() if "has no UTC offset" in b.detail]
        if naive and not (ts_us != _NAT).any():
            r = min(naive)
            msg = (
                f"{self._where(r + 1, is_csv)}: {ts_bad[r].detail}. Write timestamps with "
                "an offset or 'Z' (UTC), or give the zone of the local clock times "
                "(--timezone Europe/Rome)"
            )
            raise InputError(msg)

    def _reject(
        self,
        rejects: RejectBatch,
        table: pa.Table,
        r: int,
        row0: int,
        is_csv: bool,
        bad: _Bad,
        point: str | None,
        value: float,
    ) -> None:
        row = row0 + r + 1
        rejects.add(
            bad.reason,
            f"{self._where(row, is_csv)}: {bad.detail}",
            source=f"file:{self.path}:{row}",
            raw=_row_text(table, r),
            point_id=point,
            value=value,
        )


# ---------------------------------------------------------------------- reading


def _csv_names(path: Path) -> list[str]:
    """The header of a CSV file (plain or gzip)."""
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        msg = f"{path}: cannot read a CSV header ({exc}); expected UTF-8 comma-separated text"
        raise InputError(msg) from exc
    if not header:
        msg = f"{path}: the file is empty; expected a header line with column names"
        raise InputError(msg)
    return [h.strip() for h in header]


def _parquet_names(path: Path) -> list[str]:
    try:
        return [str(n) for n in pq.ParquetFile(path).schema_arrow.names]
    except (pa.ArrowException, OSError) as exc:
        msg = f"{path}: cannot read as Parquet ({exc})"
        raise InputError(msg) from exc


def _csv_chunks(
    path: Path, cols: list[str], rows: int, invalid: list[pacsv.InvalidRow]
) -> Iterator[tuple[pa.Table, int, int]]:
    """(table of string columns, first data row (0-based), bytes read) per chunk; rows
    with a wrong number of fields are skipped and appended to ``invalid``."""

    def skip(row: pacsv.InvalidRow) -> str:
        invalid.append(row)
        return "skip"

    raw = pa.OSFile(str(path), "rb")
    stream: Any = (
        pa.CompressedInputStream(raw, "gzip") if path.name.lower().endswith(".gz") else raw
    )
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(cols, pa.string()),
        include_columns=cols,
        strings_can_be_null=False,
    )
    try:
        try:
            reader = pacsv.open_csv(
                stream,
                pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
                pacsv.ParseOptions(invalid_row_handler=skip),
                convert,
            )
        except (pa.ArrowException, OSError) as exc:
            msg = f"{path}: cannot read as CSV ({exc}); check the delimiter (comma) and quoting"
            raise InputError(msg) from exc
        batches = _read_batches(path, reader)
        yield from ((t, r, raw.tell()) for t, r in _rebatch(batches, rows))
    finally:
        stream.close()


def _read_batches(path: Path, reader: Any) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            msg = (
                f"{path}: cannot read as CSV ({exc}); check the delimiter (comma), the "
                "quoting and that every row has as many fields as the header"
            )
            raise InputError(msg) from exc


def _pq_chunks(path: Path, cols: list[str], rows: int) -> Iterator[tuple[pa.Table, int, int]]:
    try:
        pf = pq.ParquetFile(path)
        batches = pf.iter_batches(batch_size=rows, columns=cols)
        yield from ((t, r, 0) for t, r in _rebatch(batches, rows))
    except (pa.ArrowException, OSError) as exc:
        msg = f"{path}: cannot read as Parquet ({exc})"
        raise InputError(msg) from exc


def _rebatch(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[tuple[pa.Table, int]]:
    """Tables of exactly ``rows`` rows (the last one shorter) and their first row."""
    buffered: list[pa.RecordBatch] = []
    count = 0
    row0 = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        buffered.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(buffered)
            yield table.slice(0, rows), row0
            row0 += rows
            rest = table.slice(rows)
            buffered = rest.to_batches()
            count = rest.num_rows
    if count:
        yield pa.Table.from_batches(buffered), row0


def _row_text(table: pa.Table, r: int) -> str:
    """The cells of one row joined by commas (as read)."""
    cells = []
    for col in table.columns:
        v = col[r].as_py()
        cells.append("" if v is None else str(v))
    return ",".join(cells)


# ---------------------------------------------------------------------- columns


def _strings(col: pa.ChunkedArray) -> npt.NDArray[np.object_]:
    """A column as numpy objects (str or None)."""
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)


def _is_text(typ: pa.DataType) -> bool:
    return bool(pa.types.is_string(typ) or pa.types.is_large_string(typ))


def _parse_ids(col: pa.ChunkedArray) -> tuple[npt.NDArray[np.object_], dict[int, _Bad]]:
    """Point ids (stripped str) and the rows with an empty one."""
    arr = col.combine_chunks()
    if not _is_text(arr.type):
        arr = arr.cast(pa.string())
    enc = arr.dictionary_encode()
    names = np.asarray(
        [("" if s is None else str(s).strip()) for s in enc.dictionary.to_pylist()], dtype=object
    )
    codes = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    empty_code = np.flatnonzero(names == "")
    bad_mask = (codes < 0) | np.isin(codes, empty_code)
    pid = (
        names[np.where(codes < 0, 0, codes)]
        if names.size
        else np.full(len(codes), "", dtype=object)
    )
    bad = {int(r): _Bad("malformed", "empty point id") for r in np.flatnonzero(bad_mask)}
    return pid, bad


def _parse_values(col: pa.ChunkedArray) -> tuple[npt.NDArray[np.float64], dict[int, _Bad]]:
    """Values as float64 (NaN where bad) and the rows that are not a number."""
    arr = col.combine_chunks()
    if (
        pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_decimal(arr.type)
    ):
        val = np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        nulls = np.flatnonzero(np.asarray(arr.is_null().to_numpy(zero_copy_only=False)))
        return val, {int(r): _Bad("malformed", "empty value") for r in nulls}
    if not _is_text(arr.type):
        arr = arr.cast(pa.string())
    try:
        return np.asarray(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), np.float64), {}
    except pa.ArrowInvalid:
        pass
    text = pd.Series(_strings(col), dtype=object).fillna("").astype(str).str.strip()
    num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    nan_text = text.str.lower().isin(("nan", "+nan", "-nan")).to_numpy()
    bad: dict[int, _Bad] = {}
    for r in np.flatnonzero(np.isnan(num) & ~nan_text):
        t = text.iloc[r]
        detail = (
            "empty value"
            if t == ""
            else f"value {t[:50]!r} is not a number (use a dot as decimal separator)"
        )
        bad[int(r)] = _Bad("malformed", detail)
    return num, bad


def _empty_cells(col: pa.ChunkedArray) -> BoolArray:
    """True where a cell is null or blank text (wide layout: no value)."""
    arr = col.combine_chunks()
    empty = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if _is_text(arr.type):
        blank = pc.equal(pc.utf8_trim_whitespace(arr), "").fill_null(True)
        empty |= np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)
    return empty


def _parse_quality(col: pa.ChunkedArray) -> tuple[npt.NDArray[np.uint8], dict[int, _Bad]]:
    """Quality bits per row (empty = valid) and the rows with an unknown flag."""
    arr = col.combine_chunks()
    if not _is_text(arr.type):
        arr = arr.cast(pa.string())
    enc = arr.dictionary_encode()
    codes = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    bits = np.zeros(len(enc.dictionary) + 1, np.uint8)  # last: null
    problem: dict[int, str] = {}
    for i, text in enumerate(enc.dictionary.to_pylist()):
        t = (text or "").strip()
        try:
            q = int(t) if t.isdigit() else int(Quality.parse(t))
        except InputError as exc:
            problem[i] = str(exc)
            continue
        if q > _MAX_QUALITY:
            problem[i] = f"quality bits {q} outside 0..{_MAX_QUALITY}"
            continue
        bits[i] = q
    qual = bits[codes]
    bad = {
        int(r): _Bad("bad_quality", problem[int(codes[r])])
        for r in np.flatnonzero(np.isin(codes, list(problem)))
    }
    return qual, bad


def _parse_times(col: pa.ChunkedArray, tz: str | None) -> tuple[IntArray, dict[int, _Bad]]:
    """UTC µs since 1970 per row (``_NAT`` where bad) and the bad rows with the reason."""
    arr = col.combine_chunks()
    typ = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
    if pa.types.is_timestamp(typ):
        return _typed_times(arr, tz)
    if not _is_text(typ):
        msg = f"the time column has type {typ}; expected ISO 8601 text or a timestamp type"
        raise InputError(msg)
    enc = arr if pa.types.is_dictionary(arr.type) else arr.dictionary_encode()
    codes = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    try:
        uniq = pc.cast(enc.dictionary, _UTC_US)
        stamps = np.asarray(uniq.cast(pa.int64()).fill_null(_NAT).to_numpy(), np.int64)
        problem: dict[int, str] = {}
    except pa.ArrowInvalid:
        stamps, problem = _parse_stamp_texts(enc.dictionary.to_pylist(), tz)
    stamps = np.append(stamps, _NAT)  # code -1 (null) → NaT
    out = stamps[codes]
    bad: dict[int, _Bad] = {}
    for r in np.flatnonzero(out == _NAT):
        detail = problem.get(int(codes[r]), "empty timestamp")
        bad[int(r)] = _Bad("bad_timestamp", detail)
    return out, bad


def _typed_times(arr: pa.Array, tz: str | None) -> tuple[IntArray, dict[int, _Bad]]:
    """A timestamp column (Parquet): with a zone it is exact; without, ``tz`` says it."""
    if arr.type.tz is None:
        if tz is None:
            msg = (
                "the time column holds timestamps without time zone; write them with a "
                "zone (UTC) or give the zone of the local clock times (--timezone UTC)"
            )
            raise InputError(msg)
        local = pd.DatetimeIndex(arr.to_pandas()).tz_localize(
            tz, ambiguous="NaT", nonexistent="NaT"
        )
        out = _us(local)
        detail = f"local time does not exist or is ambiguous in {tz} (DST); write an offset"
    else:
        out = np.asarray(arr.cast(_UTC_US).cast(pa.int64()).fill_null(_NAT).to_numpy(), np.int64)
        detail = "empty timestamp"
    nulls = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    bad = {
        int(r): _Bad("bad_timestamp", "empty timestamp" if nulls[r] else detail)
        for r in np.flatnonzero(out == _NAT)
    }
    return out, bad


def _us(index: pd.DatetimeIndex) -> IntArray:
    """µs since 1970 (UTC for aware indexes); NaT → ``_NAT``."""
    utc = index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index
    return np.asarray(utc.as_unit("us").values.view(np.int64), dtype=np.int64)


def _parse_stamp_texts(texts: list[Any], tz: str | None) -> tuple[IntArray, dict[int, str]]:
    """Parse distinct timestamp texts one by one; (UTC µs, problem per bad index)."""
    text = [("" if t is None else str(t)).strip() for t in texts]
    out = np.full(len(text), _NAT, np.int64)
    problem: dict[int, str] = {}
    aware = np.fromiter((_OFFSET_RE.search(t) is not None for t in text), bool, len(text))
    idx = np.flatnonzero(aware)
    if idx.size:
        parsed = pd.to_datetime(
            pd.Index([text[i] for i in idx]), format="ISO8601", utc=True, errors="coerce"
        )
        out[idx] = _us(parsed)
    naive = np.flatnonzero(~aware)
    if naive.size:
        parsed = pd.to_datetime(
            pd.Index([text[i] for i in naive]), format="ISO8601", errors="coerce"
        )
        if tz is not None:
            loc = parsed.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            out[naive] = _us(loc)
        for k, i in enumerate(naive):
            if pd.isna(parsed[k]) or tz is None or out[i] != _NAT:
                continue
            problem[int(i)] = (
                f"local time {text[i]!r} does not exist or is ambiguous in {tz} (DST); "
                "write it with its offset"
            )
        if tz is None:
            for k, i in enumerate(naive):
                if not pd.isna(parsed[k]):
                    problem[int(i)] = f"timestamp {text[i]!r} has no UTC offset"
    for i in np.flatnonzero(out == _NAT):
        if int(i) not in problem:
            problem[int(i)] = (
                "empty timestamp"
                if text[i] == ""
                else f"timestamp {text[i][:60]!r} is not an ISO 8601 date-time "
                "(e.g. 2024-03-31T02:00:00Z)"
            )
    return out, problem
