"""Read and write interval meter data (CSV or Parquet) as :class:`~gridtwin.IntervalData`.

The reader is vectorised: timestamp and meter columns are dictionary-encoded by pyarrow,
each distinct timestamp is parsed once, and every check runs on numpy arrays. Python
loops only build error messages and per-meter notes.

Row numbers in messages are 1-based data rows, header excluded.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from gridtwin._parquet import parquet_columns
from gridtwin.errors import DataQualityError, InputError
from gridtwin.timeseries import IntervalData

__all__ = ["ENERGY_UNITS", "POWER_UNITS", "Label", "Layout", "read_intervals", "write_intervals"]

Layout = Literal["auto", "long", "wide"]
Label = Literal["start", "end"]
IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int32]  # dictionary codes: half the memory of int64
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: kWh per 1 unit of energy per interval.
ENERGY_UNITS: Final[dict[str, float]] = {"Wh": 1e-3, "kWh": 1.0, "MWh": 1e3}
#: kW per 1 unit of average power over the interval (energy [kWh] = power [kW] × step [h]).
POWER_UNITS: Final[dict[str, float]] = {"W": 1e-3, "kW": 1.0, "MW": 1e3}

_UNIT_TOKENS: Final[dict[str, str]] = {u.lower(): u for u in (*ENERGY_UNITS, *POWER_UNITS)}
_OFFSET_RE: Final = re.compile(r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_NS_PER_MIN: Final = 60 * 10**9
_NS_PER_HOUR: Final = 3600 * 10**9
_NS_PER_DAY: Final = 86400 * 10**9
_MAX_SPARSE_CELLS: Final = 10_000_000
_DICT_STR: Final = pa.dictionary(pa.int32(), pa.string())
_UTC_NS: Final = pa.timestamp("ns", tz="UTC")
_NAT: Final = np.iinfo(np.int64).min
# large blocks: fewer chunks, so merging the per-chunk dictionaries of ids is cheap
_READ_OPTS: Final = pacsv.ReadOptions(block_size=16 << 20)


@dataclass(frozen=True)
class _Raw:
    """A table as read, before any time-zone or grid logic.

    A *stamp row* is a record in long layout and a file row in wide layout. Timestamps
    are either dictionary-encoded (``stamp_codes`` per stamp row into the distinct
    ``stamps``, text or datetimes, code -1 = empty) or, when pyarrow parsed tz-aware
    values, ``stamp_ns``: UTC [ns] per stamp row (``_NAT`` = empty). ``values`` is
    ``(n_stamp_rows, 1)`` (long) or ``(n_rows, n_meters)`` (wide); ``meter_codes`` is
    ``None`` in wide layout.
    """

    source: str
    csv: bool
    stamp_codes: CodeArray
    stamps: pd.Index
    meter_codes: CodeArray | None
    meter_ids: tuple[str, ...]
    values: FloatArray
    value_columns: tuple[str, ...]
    stamp_ns: IntArray | None = None

    def rows(self, idx: npt.ArrayLike, limit: int = 5) -> str:
        """Return ``'data row(s) 3, 8 (1-based, header excluded)'`` for 0-based ``idx``."""
        flat = np.atleast_1d(np.asarray(idx, dtype=np.int64)) + 1
        shown = ", ".join(str(int(r)) for r in flat[:limit])
        more = f" and {flat.size - limit} more" if flat.size > limit else ""
        word = "data row" if self.csv else "row"
        plural = "s" if flat.size > 1 else ""
        scope = "1-based, header excluded" if self.csv else "1-based"
        return f"{word}{plural} {shown}{more} ({scope})"

    def stamp_text(self, row: int) -> str:
        """Return the timestamp of a stamp row as written in the file (or as UTC)."""
        if self.stamp_ns is not None:
            return pd.Timestamp(int(self.stamp_ns[row]), tz="UTC").isoformat()
        return str(self.stamps[int(self.stamp_codes[row])])

    def first_row(self, code: int) -> int:
        """Return the first stamp row whose timestamp has dictionary code ``code``."""
        return int(np.argmax(self.stamp_codes == code))

    def meter_of(self, row: int) -> str:
        """Return the meter id of a record (long layout) or ``'every meter'`` (wide)."""
        if self.meter_codes is None:
            return "every meter"
        return f"meter {self.meter_ids[int(self.meter_codes[row])]!r}"


# --------------------------------------------------------------------------- public API


def read_intervals(
    path: str | Path,
    *,
    layout: Layout = "auto",
    timestamp_column: str = "timestamp",
    meter_column: str = "meter_id",
    value_column: str = "energy_kwh",
    unit: str = "kWh",
    timezone: str | None = None,
    label: Label = "start",
    allow_negative: bool = False,
    step: str | pd.Timedelta | None = None,
) -> IntervalData:
    """Read interval meter data from a CSV or Parquet file.

    Parameters
    ----------
    path : str or Path
        ``.csv`` / ``.csv.gz`` or ``.parquet`` / ``.pq`` file.
    layout : {"auto", "long", "wide"}
        ``long``: one row per meter and interval (timestamp, meter id, value). ``wide``:
        one row per interval, a timestamp column and one value column per meter (the
        column name is the meter id). ``auto``: long if ``meter_column`` exists, else wide.
    timestamp_column, meter_column, value_column : str
        Column names (``meter_column`` and ``value_column`` are used in long layout only).
    unit : {"kWh", "Wh", "MWh", "kW", "W", "MW"}
        Unit of the values: energy per interval, or average power over the interval
        (converted to energy [kWh] = power [kW] × step [h]).
    timezone : str, optional
        IANA zone (e.g. ``"Europe/Rome"``) of naive timestamps, which are local clock
        times with DST. Required if the timestamps have no UTC offset; ignored otherwise.
    label : {"start", "end"}
        Whether timestamps label the start or the end of each interval.
    allow_negative : bool
        Accept negative values (export, consumer frame). Default: negative is an error.
    step : str or Timedelta, optional
        Interval length (at least 1 minute), e.g. ``"15min"``. Default: the most common
        positive difference between consecutive timestamps.

    Returns
    -------
    IntervalData
        Energy [kWh] per meter and interval on the union UTC axis of all meters,
        labelled by interval start. Missing intervals are NaN (never zero-filled) and
        are listed in ``notes``.

    Raises
    ------
    InputError
        Unreadable file, unknown suffix, missing column, bad option or timestamp.
    DataQualityError
        NaN/empty/negative value, duplicate row, off-grid timestamp, nonexistent or
        unresolvable ambiguous local time.
    """
    file = Path(path)
    _check_options(file, unit, label, layout, timezone)
    raw = _load(file, layout, timestamp_column, meter_column, value_column, unit)
    _check_values(raw, allow_negative)
    utc_ns, uniq_ns, notes = _stamps_to_utc(raw, timezone)
    step_ns = _step_ns(raw, utc_ns, uniq_ns, step)
    t0_ns, n_steps = _grid(raw, utc_ns, uniq_ns, step_ns)
    pos = _positions(utc_ns, t0_ns, step_ns)
    energy = _fill(raw, pos, n_steps, utc_ns)
    energy, unit_note = _to_kwh(energy, unit, step_ns)
    if label == "end":
        t0_ns -= step_ns
        notes.append("timestamps labelled interval ends were shifted to interval starts")
    index = pd.DatetimeIndex(t0_ns + step_ns * np.arange(n_steps, dtype=np.int64), tz="UTC")
    notes += unit_note + _gap_notes(index, energy, raw.meter_ids)
    return IntervalData(index, energy, raw.meter_ids, raw.source, tuple(notes))


def write_intervals(data: IntervalData, path: str | Path) -> None:
    """Write interval data in long layout (``timestamp``, ``meter_id``, ``energy_kwh``).

    Timestamps are UTC ISO 8601 strings with ``Z`` labelling interval starts; energy is
    in kWh. Missing intervals (NaN) are left out, so reading the file back gives them as
    gaps again. The file is written to a temporary name and renamed, so a failed write
    leaves no partial file.

    Parameters
    ----------
    data : IntervalData
        Data to write.
    path : str or Path
        ``.csv`` / ``.csv.gz`` or ``.parquet`` / ``.pq`` file; overwritten if it exists.

    Raises
    ------
    InputError
        Unknown suffix or the directory does not exist.
    """
    file = Path(path)
    is_csv = _is_csv(file)
    if not file.parent.is_dir():
        msg = f"{file}: directory {file.parent} does not exist; create it first"
        raise InputError(msg)
    mask = ~np.isnan(data.energy_kwh)
    meter_idx, step_idx = np.nonzero(mask)
    ns = _ns(data.start_utc)
    fmt = "%Y-%m-%dT%H:%M:%SZ" if not np.any(ns % 10**9) else "%Y-%m-%dT%H:%M:%S.%fZ"
    stamps = pa.array(list(data.start_utc.strftime(fmt)), pa.string())
    table = pa.table(
        {
            "timestamp": pa.DictionaryArray.from_arrays(step_idx.astype(np.int32), stamps),
            "meter_id": pa.DictionaryArray.from_arrays(
                meter_idx.astype(np.int32), pa.array(list(data.meter_ids), pa.string())
            ),
            "energy_kwh": pa.array(data.energy_kwh[mask], pa.float64()),
        }
    )
    tmp = file.with_name(f".{file.name}.{uuid.uuid4().hex}.tmp")
    try:
        if is_csv:
            gz = file.name.lower().endswith(".gz")
            with pa.output_stream(str(tmp), compression="gzip" if gz else None) as out:
                pacsv.write_csv(table, out, pacsv.WriteOptions(quoting_style="needed"))
        else:
            pq.write_table(table, str(tmp))
        tmp.replace(file)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- options, loading


def _ns(index: pd.DatetimeIndex) -> IntArray:
    """Return the instants of ``index`` as int64 nanoseconds since the epoch (UTC)."""
    return np.asarray(index.as_unit("ns").values, dtype="datetime64[ns]").view(np.int64)


def _check_options(file: Path, unit: str, label: str, layout: str, tz: str | None) -> None:
    """Validate the reader's options before touching the file."""
    if unit not in ENERGY_UNITS and unit not in POWER_UNITS:
        msg = (
            f"{file}: unknown unit {unit!r}; use one of {sorted(ENERGY_UNITS)} (energy per "
            f"interval) or {sorted(POWER_UNITS)} (average power over the interval)"
        )
        raise InputError(msg)
    if label not in ("start", "end"):
        msg = f"{file}: label must be 'start' or 'end', got {label!r}"
        raise InputError(msg)
    if layout not in ("auto", "long", "wide"):
        msg = f"{file}: layout must be 'auto', 'long' or 'wide', got {layout!r}"
        raise InputError(msg)
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"{file}: unknown time zone {tz!r}; use an IANA name such as 'Europe/Rome'"
            raise InputError(msg) from exc


def _is_csv(file: Path) -> bool:
    """Return True for CSV, False for Parquet; raise :class:`InputError` otherwise."""
    name = file.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return True
    if name.endswith((".parquet", ".pq")):
        return False
    msg = f"{file}: unknown file type; expected a name ending in .csv, .csv.gz, .parquet or .pq"
    raise InputError(msg)


def _load(file: Path, layout: str, ts_col: str, meter_col: str, value_col: str, unit: str) -> _Raw:
    """Read the needed columns of ``file`` into a :class:`_Raw`."""
    is_csv = _is_csv(file)
    if not file.is_file():
        msg = f"{file}: file not found (or not a file)"
        raise InputError(msg)
    names, aware = _csv_header(file, ts_col) if is_csv else (parquet_columns(file), False)
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        msg = f"{file}: the header repeats column name(s) {dup}; column names must be unique"
        raise InputError(msg)
    long = _pick_layout(file, names, layout, ts_col, meter_col, value_col)
    if long:
        _check_unit_name(file, value_col, unit)
        value_cols = [value_col]
    else:
        value_cols = [n for n in names if n != ts_col]
    cols = [ts_col, meter_col, *value_cols] if long else [ts_col, *value_cols]
    table = _read_csv(file, cols, long, aware) if is_csv else _read_parquet(file, cols, long)
    return _raw_from_table(file, is_csv, table, long, value_cols)


def _csv_header(file: Path, ts_col: str) -> tuple[list[str], bool]:
    """Return the column names of a CSV file and whether its first timestamp has an offset."""
    opts = pacsv.ConvertOptions(column_types={ts_col: pa.string()})
    try:
        with pacsv.open_csv(str(file), convert_options=opts) as reader:
            names = [str(n) for n in reader.schema.names]
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return names, False
            if ts_col not in names or batch.num_rows == 0:
                return names, False
            first = str(batch.column(names.index(ts_col))[0])
            return names, _OFFSET_RE.search(first.strip()) is not None
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = f"{file}: cannot read a CSV header ({exc}); expected comma-separated columns"
        raise InputError(msg) from exc


def _pick_layout(
    file: Path, names: list[str], layout: str, ts_col: str, meter_col: str, value_col: str
) -> bool:
    """Return True for long layout after checking that the needed columns exist."""
    if ts_col not in names:
        msg = (
            f"{file}: no timestamp column {ts_col!r}; found columns {names[:10]}. On the "
            f"command line (gridtwin bill, compare) rename the file's time column to "
            f"{ts_col!r}; in Python pass timestamp_column= with the right name"
        )
        raise InputError(msg)
    long = layout == "long" or (layout == "auto" and meter_col in names)
    if long:
        missing = [c for c in (meter_col, value_col) if c not in names]
        if missing:
            msg = (
                f"{file}: long layout needs columns {[ts_col, meter_col, value_col]} but "
                f"{missing} are missing; found {names[:10]}. Pass meter_column= and "
                "value_column= (and unit=) to match the file, or layout='wide'"
            )
            raise InputError(msg)
    elif len(names) < 2:
        msg = (
            f"{file}: wide layout needs a timestamp column and one column per meter; "
            f"found only {names}"
        )
        raise InputError(msg)
    return long


def _check_unit_name(file: Path, value_col: str, unit: str) -> None:
    """Raise if the value column's name states a unit other than ``unit``."""
    tokens = re.split(r"[^a-z0-9]+", value_col.lower())
    stated = [_UNIT_TOKENS[t] for t in tokens if t in _UNIT_TOKENS]
    if stated and stated[-1] != unit:
        said = stated[-1]
        kind = "average power" if said in POWER_UNITS else "energy per interval"
        msg = (
            f"{file}: column {value_col!r} says {said} ({kind}) but unit={unit!r}. "
            f"Pass unit={said!r} if the column holds {said}, or rename the column"
        )
        raise InputError(msg)


def _read_csv(file: Path, cols: list[str], long: bool, aware: bool) -> Any:
    """Read the columns of a CSV file with pyarrow.

    Ids are dictionary-encoded. Timestamps with UTC offsets (``aware``) are first parsed
    by pyarrow (fast); if that fails, or for local times, they are read as text and
    dictionary-encoded, so that each distinct value is parsed once and errors name rows.
    """
    n_ids = 2 if long else 1
    types = {c: (_DICT_STR if i < n_ids else pa.float64()) for i, c in enumerate(cols)}
    if aware:
        fast = pacsv.ConvertOptions(column_types={**types, cols[0]: _UTC_NS}, include_columns=cols)
        with contextlib.suppress(pa.ArrowInvalid):
            return pacsv.read_csv(str(file), _READ_OPTS, convert_options=fast)
    opts = pacsv.ConvertOptions(column_types=types, include_columns=cols)
    try:
        return pacsv.read_csv(str(file), _READ_OPTS, convert_options=opts)
    except pa.ArrowInvalid as exc:
        if "conversion error" in str(exc):
            _raise_bad_number(file, cols[n_ids:], long)
        msg = f"{file}: cannot read as CSV ({exc}); check the delimiter (comma) and quoting"
        raise InputError(msg) from exc
    except (pa.ArrowException, OSError) as exc:
        msg = f"{file}: cannot read as CSV ({exc})"
        raise InputError(msg) from exc


def _raise_bad_number(file: Path, value_cols: list[str], long: bool) -> NoReturn:
    """Re-read the value columns as text and name the first cell that is not a number."""
    opts = pacsv.ConvertOptions(  # bytes, not text: a cell may not be UTF-8
        column_types=dict.fromkeys(value_cols, pa.binary()), include_columns=value_cols
    )
    try:
        table = pacsv.read_csv(str(file), convert_options=opts)
    except (pa.ArrowException, OSError) as exc:
        msg = f"{file}: cannot read as CSV ({exc}); check the delimiter (comma) and quoting"
        raise InputError(msg) from exc
    hint = (
        ""
        if long
        else " In wide layout every column except the timestamp is a meter; "
        "for a long file pass meter_column= (and value_column=)."
    )
    for col in value_cols:
        raw = table.column(col).to_pylist()
        text = pd.Series([None if b is None else b.decode("utf-8", "replace") for b in raw])
        number = pd.to_numeric(text, errors="coerce")
        bad = np.flatnonzero(number.isna().to_numpy() & text.notna().to_numpy())
        if bad.size:
            row = int(bad[0])
            cell = text.iloc[row]
            why = (
                "holds bytes that are not UTF-8 text"
                if "\ufffd" in cell
                else "is not a number (use a dot as decimal separator)"
            )
            msg = (
                f"{file}: data row {row + 1} (1-based, header excluded), column {col!r}: "
                f"{cell!r} {why}.{hint}"
            )
            raise InputError(msg)
    msg = f"{file}: a value column is not numeric (columns {value_cols[:10]}).{hint}"
    raise InputError(msg)


def _read_parquet(file: Path, cols: list[str], long: bool) -> Any:
    """Read the columns of a Parquet file and normalise their types."""
    try:
        table = pq.read_table(str(file), columns=cols)
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = f"{file}: cannot read as Parquet ({exc})"
        raise InputError(msg) from exc
    n_ids = 2 if long else 1
    for i, col in enumerate(cols[n_ids:], start=n_ids):
        typ = table.column(col).type
        if pa.types.is_dictionary(typ):
            typ = typ.value_type
        if not (pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ)):
            msg = (
                f"{file}: column {col!r} has type {typ}; expected numbers. In wide layout "
                "every column except the timestamp is a meter"
            )
            raise InputError(msg)
        table = table.set_column(i, col, table.column(col).cast(pa.float64()))
    if long:
        table = table.set_column(1, cols[1], table.column(1).cast(pa.string()))
    return table


def _encode(column: Any) -> tuple[CodeArray, Any]:
    """Dictionary-encode a pyarrow column; return (codes, dictionary), code -1 = null."""
    arr = column.combine_chunks()
    if not pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_encode()
    indices = arr.indices.fill_null(-1) if arr.indices.null_count else arr.indices
    return np.asarray(indices.to_numpy(), dtype=np.int32), arr.dictionary


def _stamp_index(file: Path, dictionary: Any) -> pd.Index:
    """Turn the dictionary of the timestamp column into a pandas Index (text or datetime)."""
    typ = dictionary.type
    if pa.types.is_timestamp(typ):
        return pd.DatetimeIndex(dictionary.to_pandas()).as_unit("ns")
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return pd.Index(dictionary.to_pylist(), dtype=object)
    msg = (
        f"{file}: the timestamp column has type {typ}; expected ISO 8601 text "
        "(e.g. 2024-03-31T02:00:00+02:00) or a timestamp type"
    )
    raise InputError(msg)


def _raw_from_table(
    file: Path, is_csv: bool, table: Any, long: bool, value_cols: list[str]
) -> _Raw:
    """Build a :class:`_Raw` from a pyarrow table (columns: ts, [meter], values...)."""
    ts = table.column(0)
    stamp_ns: IntArray | None = None
    if pa.types.is_timestamp(ts.type) and ts.type.tz is not None:
        stamp_codes, stamps = np.empty(0, dtype=np.int32), pd.Index([])
        row_ns = ts.cast(_UTC_NS).combine_chunks().view(pa.int64())
        if row_ns.null_count:
            row_ns = row_ns.fill_null(_NAT)
        stamp_ns = np.asarray(row_ns.to_numpy(), dtype=np.int64)
    else:
        stamp_codes, stamp_dict = _encode(ts)
        stamps = _stamp_index(file, stamp_dict)
    first = 2 if long else 1
    columns = [
        np.asarray(table.column(i).to_numpy(), dtype=np.float64)
        for i in range(first, table.num_columns)
    ]
    values = columns[0][:, np.newaxis] if len(columns) == 1 else np.column_stack(columns)
    meter_codes: CodeArray | None = None
    if long:
        meter_codes, meter_dict = _encode(table.column(1))
        meter_ids = tuple(str(m) for m in meter_dict.to_pylist())
    else:
        meter_ids = tuple(value_cols)
    raw = _Raw(
        str(file),
        is_csv,
        stamp_codes,
        stamps,
        meter_codes,
        meter_ids,
        values,
        tuple(value_cols),
        stamp_ns,
    )
    _check_ids(raw)
    return raw


def _check_ids(raw: _Raw) -> None:
    """Raise if the table is empty or a meter id is empty."""
    if raw.values.shape[0] == 0:
        msg = f"{raw.source}: the file has a header but no data rows"
        raise InputError(msg)
    empty = [i for i, m in enumerate(raw.meter_ids) if not m.strip()]
    if raw.meter_codes is None:
        if empty:
            msg = (
                f"{raw.source}: wide layout column {empty[0] + 1} has an empty name; "
                "every meter column needs its meter id as name"
            )
            raise InputError(msg)
        return
    is_bad = raw.meter_codes < 0
    if empty:
        is_bad |= np.isin(raw.meter_codes, empty)
    bad = np.flatnonzero(is_bad)
    if bad.size:
        msg = f"{raw.source}: {raw.rows(bad)}: empty meter id; every row needs a meter id"
        raise InputError(msg)


# --------------------------------------------------------------------------- values


def _check_values(raw: _Raw, allow_negative: bool) -> None:
    """Raise :class:`DataQualityError` naming rows with NaN/empty/infinite/negative values."""
    bad = ~np.isfinite(raw.values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        msg = (
            f"{raw.source}: {raw.rows(np.unique(rows))}: empty, NaN or infinite value in column "
            f"{raw.value_columns[int(cols[0])]!r} (first). A NaN in the file is bad data: "
            "supply the value, or drop the row to mark the interval missing (gaps become "
            "NaN, never zero)"
        )
        raise DataQualityError(msg)
    if not allow_negative:
        neg = raw.values < 0
        if neg.any():
            rows, cols = np.nonzero(neg)
            first = float(raw.values[rows[0], cols[0]])
            msg = (
                f"{raw.source}: {raw.rows(np.unique(rows))}: negative value (first: {first} in "
                f"column {raw.value_columns[int(cols[0])]!r}). Import is positive in the "
                "consumer frame: give an exporting meter's import and export as two "
                "non-negative columns (gridtwin bill and compare bill consumption only); "
                "in Python, read_intervals(..., allow_negative=True) keeps the sign"
            )
            raise DataQualityError(msg)


# --------------------------------------------------------------------------- timestamps


def _stamps_to_utc(raw: _Raw, tz: str | None) -> tuple[IntArray, IntArray, list[str]]:
    """Return (UTC ns per stamp row, sorted distinct UTC ns, notes)."""
    ns = raw.stamp_ns
    empty = np.flatnonzero(raw.stamp_codes < 0 if ns is None else ns == _NAT)
    if empty.size:
        msg = f"{raw.source}: {raw.rows(empty)}: empty timestamp"
        raise InputError(msg)
    if ns is not None:
        return ns, np.sort(np.asarray(pd.unique(ns), dtype=np.int64)), []
    parsed, aware = _parse_stamps(raw)
    if aware:
        uniq = _ns(parsed)
        return uniq[raw.stamp_codes], np.unique(uniq), []
    if tz is None:
        msg = (
            f"{raw.source}: timestamps have no UTC offset (e.g. {raw.rows(0)}: "
            f"{raw.stamp_text(0)!r}). Pass timezone= (e.g. 'Europe/Rome') if they are "
            "local clock times, or write them with an offset or 'Z'"
        )
        raise InputError(msg)
    return _localize(raw, pd.DatetimeIndex(parsed), tz)


def _parse_stamps(raw: _Raw) -> tuple[pd.DatetimeIndex, bool]:
    """Parse the distinct timestamps once; return (parsed, tz-aware?)."""
    if isinstance(raw.stamps, pd.DatetimeIndex):
        aware = raw.stamps.tz is not None
        return (raw.stamps.tz_convert("UTC") if aware else raw.stamps), aware
    text = [str(s).strip() for s in raw.stamps]
    has_offset = np.fromiter((_OFFSET_RE.search(s) is not None for s in text), bool, len(text))
    if has_offset.any() and not has_offset.all():
        with_off = raw.first_row(int(np.argmax(has_offset)))
        without = raw.first_row(int(np.argmin(has_offset)))
        msg = (
            f"{raw.source}: timestamps mix UTC offsets ({raw.rows(with_off)}: "
            f"{raw.stamp_text(with_off)!r}) and local times without offset "
            f"({raw.rows(without)}: {raw.stamp_text(without)!r}); write all with "
            "offsets/'Z', or all as local times and pass timezone="
        )
        raise InputError(msg)
    aware = bool(has_offset.all())
    parsed = pd.to_datetime(pd.Index(text), format="ISO8601", utc=aware, errors="coerce")
    bad = np.flatnonzero(np.asarray(parsed.isna()))
    if bad.size:
        row = raw.first_row(int(bad[0]))
        msg = (
            f"{raw.source}: {raw.rows(row)}: timestamp {raw.stamp_text(row)!r} is not an "
            "ISO 8601 date-time; write e.g. 2024-03-31T02:00:00+02:00, "
            "2024-03-31T00:00:00Z or a local 2024-03-31 02:00 with timezone="
        )
        raise InputError(msg)
    return pd.DatetimeIndex(parsed).as_unit("ns"), aware


def _localize(raw: _Raw, naive: pd.DatetimeIndex, tz: str) -> tuple[IntArray, IntArray, list[str]]:
    """Convert naive local clock times to UTC, resolving the autumn fold from row order."""
    n = len(naive)
    std = naive.tz_localize(tz, ambiguous=np.zeros(n, dtype=bool), nonexistent="NaT")
    dst = naive.tz_localize(tz, ambiguous=np.ones(n, dtype=bool), nonexistent="NaT")
    gap = np.flatnonzero(np.asarray(std.isna()))
    if gap.size:
        rows = np.flatnonzero(np.isin(raw.stamp_codes, gap))
        msg = (
            f"{raw.source}: {raw.rows(rows)}: local time {raw.stamp_text(int(rows[0]))!r} "
            f"does not exist in {tz} (clocks jump forward when DST starts). Check the "
            "meter clock, or write timestamps in UTC or with an offset"
        )
        raise DataQualityError(msg)
    std_ns, dst_ns = _ns(std), _ns(dst)
    folded = std_ns != dst_ns
    utc = std_ns[raw.stamp_codes]
    amb_rows = np.flatnonzero(folded[raw.stamp_codes])
    if amb_rows.size == 0:
        return utc, std_ns, []
    codes = raw.stamp_codes[amb_rows]
    is_dst = _resolve_folds(raw, amb_rows, _ns(naive)[codes], tz)
    utc[amb_rows] = np.where(is_dst, dst_ns[codes], std_ns[codes])
    uniq = np.unique(np.concatenate([std_ns[~folded], utc[amb_rows]]))
    note = (
        f"{amb_rows.size} row(s) at ambiguous local times (DST end in {tz}) were "
        "resolved from their order: first pass DST, second pass standard time"
    )
    return utc, uniq, [note]


def _resolve_folds(raw: _Raw, rows: IntArray, local_ns: IntArray, tz: str) -> BoolArray:
    """Return True (DST) / False (standard) for ambiguous stamp ``rows`` (file order).

    Within one meter and one fold (local date), the rows must run forward, jump back
    exactly once (DST → standard) and run forward again; anything else is ambiguous.
    """
    meters = raw.meter_codes[rows] if raw.meter_codes is not None else np.zeros_like(rows)
    day = local_ns // _NS_PER_DAY
    order = np.lexsort((rows, day, meters))
    loc, grp_m, grp_d = local_ns[order], meters[order], day[order]
    start = np.r_[True, (grp_m[1:] != grp_m[:-1]) | (grp_d[1:] != grp_d[:-1])]
    back = np.r_[False, np.diff(loc) <= 0] & ~start
    group = np.cumsum(start) - 1
    n_back = np.bincount(group, weights=back.astype(np.float64))
    bad = np.flatnonzero(n_back != 1)
    if bad.size:
        sel = order[group == bad[0]]
        first = int(rows[sel[0]])
        msg = (
            f"{raw.source}: {raw.rows(rows[sel], limit=8)} ({raw.meter_of(first)}): local "
            f"times like {raw.stamp_text(first)!r} occur twice in {tz} when DST ends, and "
            "these rows are not one in-order run of the first (DST) then the second "
            "(standard time) pass, so they cannot be told apart. Write timestamps with "
            "their UTC offset (e.g. +02:00, then +01:00) or in UTC ('Z'), or sort the rows "
            "of each meter in time order"
        )
        raise DataQualityError(msg)
    passed = np.cumsum(back)
    passed -= passed[np.flatnonzero(start)][group]
    is_dst = np.empty(rows.size, dtype=bool)
    is_dst[order] = passed == 0
    return is_dst


# --------------------------------------------------------------------------- grid and matrix


def _step_ns(raw: _Raw, utc: IntArray, uniq: IntArray, step: str | pd.Timedelta | None) -> int:
    """Return the interval length [ns], given or inferred as the most common difference."""
    if step is not None:
        try:
            step_td = pd.Timedelta(step)
        except (ValueError, TypeError) as exc:
            msg = f"{raw.source}: step={step!r} is not a duration; use e.g. '15min' or '1h'"
            raise InputError(msg) from exc
        if step_td < pd.Timedelta(minutes=1):
            msg = f"{raw.source}: step={step!r} is below the 1-minute minimum"
            raise InputError(msg)
        return int(step_td.value)
    if uniq.size < 2:
        msg = (
            f"{raw.source}: only one distinct timestamp, so the interval step cannot be "
            "inferred; pass step= (e.g. '15min')"
        )
        raise InputError(msg)
    diffs, counts = np.unique(np.diff(uniq), return_counts=True)
    step_ns = int(diffs[np.argmax(counts)])
    if step_ns < _NS_PER_MIN:
        at = int(np.flatnonzero(np.diff(uniq) == step_ns)[0])
        row = int(np.flatnonzero(utc == uniq[at + 1])[0])
        msg = (
            f"{raw.source}: the most common step between timestamps is "
            f"{_fmt_step(step_ns)}, below the 1-minute minimum (e.g. {raw.rows(row)}: "
            f"{raw.stamp_text(row)!r}); aggregate the data or pass step="
        )
        raise InputError(msg)
    return step_ns


def _grid(raw: _Raw, utc: IntArray, uniq: IntArray, step_ns: int) -> tuple[int, int]:
    """Check that every timestamp is on one step grid; return (first start [ns], n_steps)."""
    phase = uniq % step_ns
    phases, counts = np.unique(phase, return_counts=True)
    off = uniq[phase != phases[np.argmax(counts)]]
    if off.size:
        row = int(np.flatnonzero(utc == off[0])[0])
        msg = (
            f"{raw.source}: {raw.rows(row)}: timestamp {raw.stamp_text(row)!r} is off the "
            f"{_fmt_step(step_ns)} grid of the other timestamps ({off.size} such "
            "timestamp(s)). Correct or remove it, or pass step= if the step is wrong"
        )
        raise DataQualityError(msg)
    t0 = int(uniq[0])
    n_steps = int((uniq[-1] - t0) // step_ns) + 1
    n_meters = len(raw.meter_ids)
    if n_steps * n_meters > _MAX_SPARSE_CELLS and n_steps > 2 * uniq.size:
        lo, hi = (int(np.flatnonzero(utc == v)[0]) for v in (uniq[0], uniq[-1]))
        msg = (
            f"{raw.source}: the timestamps span {n_steps} "
            f"{_fmt_step(step_ns)} intervals but only {uniq.size} distinct ones occur; is a date "
            f"wrong? Earliest at {raw.rows(lo)}: {raw.stamp_text(lo)!r}, latest at "
            f"{raw.rows(hi)}: {raw.stamp_text(hi)!r}"
        )
        raise DataQualityError(msg)
    return t0, n_steps


def _fmt_step(step_ns: int) -> str:
    """Return a step as ``'15-minute'``, ``'1-hour'`` or a pandas duration."""
    if step_ns % _NS_PER_HOUR == 0:
        return f"{step_ns // _NS_PER_HOUR}-hour"
    if step_ns % _NS_PER_MIN == 0:
        return f"{step_ns // _NS_PER_MIN}-minute"
    return str(pd.Timedelta(step_ns))


def _positions(utc_ns: IntArray, t0_ns: int, step_ns: int) -> IntArray:
    """Return the interval number of each on-grid timestamp (float math, rounded: exact)."""
    scaled = utc_ns.astype(np.float64)  # spacing 256 ns at today's epoch: ≪ 1 minute
    scaled -= float(t0_ns)
    scaled *= 1.0 / step_ns
    scaled += 0.5
    return scaled.astype(np.int64)


def _fill(raw: _Raw, pos: IntArray, n_steps: int, utc: IntArray) -> FloatArray:
    """Place the values on the (n_meters, n_steps) grid; raise on duplicate rows."""
    n_meters = len(raw.meter_ids)
    if raw.meter_codes is None:
        counts = np.bincount(pos, minlength=n_steps)
        if counts.max() > 1:
            _raise_duplicates(raw, pos, counts, utc)
        energy = np.full((n_meters, n_steps), np.nan)
        energy[:, pos] = raw.values.T
        return energy
    key = np.multiply(raw.meter_codes, n_steps, dtype=np.int64)
    key += pos
    seen = np.zeros(n_meters * n_steps, dtype=bool)
    seen[key] = True
    if int(np.count_nonzero(seen)) != key.size:
        _raise_duplicates(raw, key, np.bincount(key, minlength=seen.size), utc)
    flat = np.full(n_meters * n_steps, np.nan)
    flat[key] = raw.values[:, 0]
    return flat.reshape(n_meters, n_steps)


def _raise_duplicates(raw: _Raw, key: IntArray, counts: IntArray, utc: IntArray) -> NoReturn:
    """Raise :class:`DataQualityError` describing the first groups of duplicate rows."""
    dup = np.flatnonzero(counts[key] > 1)
    dup = dup[np.argsort(key[dup], kind="stable")]
    starts = np.flatnonzero(np.r_[True, key[dup][1:] != key[dup][:-1]])
    ends = np.r_[starts[1:], dup.size]
    groups = zip(starts[:3], ends[:3], strict=True)
    parts = [_describe_duplicates(raw, dup[lo:hi], utc) for lo, hi in groups]
    msg = (
        f"{raw.source}: {dup.size} duplicate rows (same meter and timestamp) in "
        f"{starts.size} group(s): " + "; ".join(parts) + ". Keep exactly one row per meter "
        "and interval"
    )
    raise DataQualityError(msg)


def _describe_duplicates(raw: _Raw, grp: IntArray, utc: IntArray) -> str:
    """Describe one group of duplicate stamp rows: meter, time, rows, identical or not."""
    vals = raw.values[grp]
    differs = np.flatnonzero((vals != vals[0]).any(axis=0))
    if differs.size == 0:
        shown = "identical values"
    else:
        col = int(differs[0])
        where = "" if raw.meter_codes is not None else f" in column {raw.value_columns[col]!r}"
        shown = f"conflicting values{where} {vals[:4, col].tolist()}"
    when = pd.Timestamp(int(utc[grp[0]]), tz="UTC").isoformat()
    text = raw.stamp_text(int(grp[0]))
    written = f" (written {text!r})" if text != when else ""
    return f"{raw.meter_of(int(grp[0]))} at {when}{written}: {raw.rows(grp)}, {shown}"


def _to_kwh(energy: FloatArray, unit: str, step_ns: int) -> tuple[FloatArray, list[str]]:
    """Convert values in ``unit`` to energy per interval [kWh]."""
    if unit in ENERGY_UNITS:
        factor = ENERGY_UNITS[unit]
        return (energy * factor if factor != 1.0 else energy), []
    step_h = step_ns / _NS_PER_HOUR
    note = f"average power [{unit}] converted to energy [kWh] over {_fmt_step(step_ns)} intervals"
    return energy * (POWER_UNITS[unit] * step_h), [note]


def _gap_notes(
    index: pd.DatetimeIndex, energy: FloatArray, meter_ids: tuple[str, ...]
) -> list[str]:
    """Describe the gaps (NaN intervals): a summary and, per meter, count and first starts."""
    missing = np.isnan(energy)
    per_meter = missing.sum(axis=1)
    if not per_meter.any():
        return []
    with_gaps = np.flatnonzero(per_meter)
    notes = [
        f"{int(per_meter.sum())} missing interval(s) in {with_gaps.size} meter(s); "
        "gaps are NaN, never zero-filled"
    ]
    for m in with_gaps:
        first = np.flatnonzero(missing[m])[:3]
        starts = ", ".join(index[i].isoformat() for i in first)
        more = ", ..." if per_meter[m] > first.size else ""
        notes.append(
            f"meter {meter_ids[m]!r}: {int(per_meter[m])} missing interval(s) "
            f"starting {starts}{more}"
        )
    return notes
