"""Read aggregated PQ measurements from CSV or Parquet files: :func:`read_measurements`.

Owns the file-level checks (type, options, timestamp and point columns) and the two
layouts: *long* (one row per value) and *wide* (one column per quantity, phase and unit),
both turned into records for :class:`~gridtwin.quality._measurement_set.MeasurementSet`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from gridtwin._parquet import parquet_columns
from gridtwin.errors import InputError
from gridtwin.quality._arrow import _codes, _csv_names, _read_table, _table_flags, _table_times
from gridtwin.quality._channels import _known_text, parse_channel
from gridtwin.quality._measurement_set import MeasurementSet, _assemble
from gridtwin.quality._parsing import _FLAG_NAMES, _bad_value, _first_rows, _long_channel, _Where
from gridtwin.quality._records import _dense_codes, _Records

__all__ = ["MeasurementLayout", "read_measurements"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MeasurementLayout = Literal["auto", "long", "wide"]


def read_measurements(
    path: str | Path,
    *,
    layout: MeasurementLayout = "auto",
    timestamp_column: str = "timestamp",
    point_column: str = "point_id",
    point_id: str | None = None,
    timezone: str | None = None,
    label: Literal["start", "end"] = "start",
) -> MeasurementSet:
    """Read aggregated PQ measurements from a CSV or Parquet file.

    Parameters
    ----------
    path : str or Path
        ``.csv`` / ``.csv.gz`` or ``.parquet`` / ``.pq``.
    layout : {'auto', 'long', 'wide'}
        ``long``: columns ``timestamp, point_id, indicator, [phase], value, [unit],
        [flagged]``; ``wide``: ``timestamp, [point_id], [flagged]`` and one column per
        quantity/phase/unit (see the module notes). ``auto``: long if an ``indicator``
        column exists.
    timestamp_column, point_column : str
        Column names.
    point_id : str, optional
        Point id for a file without a point column (default: the file name stem).
    timezone : str, optional
        IANA zone of naive (local) timestamps; not needed for timestamps with an offset
        or ``Z``.
    label : {'start', 'end'}
        Whether timestamps label interval starts (gridtwin) or ends (many IEC 61000-4-30
        instruments); end labels are shifted back by each quantity's own interval.

    Returns
    -------
    MeasurementSet
        Voltages keep their stated units until :func:`normalise_voltage_units`
        (``assess`` calls it with the reference voltage).

    Raises
    ------
    InputError
        Unreadable file, unknown column or quantity, bad option or timestamp.
    DataQualityError
        ``NaN``/``inf``/negative value, duplicate, off-grid timestamp (the row is named),
        nonexistent or ambiguous local time.
    """
    file = Path(path)
    is_csv = _is_csv(file)
    _check_options(file, label, layout, timezone)
    names = _csv_names(file) if is_csv else parquet_columns(file)
    if timestamp_column not in names:
        msg = (
            f"{file}: no timestamp column {timestamp_column!r}; found {names[:10]}. On the "
            f"command line (gridtwin quality) rename the file's time column to "
            f"{timestamp_column!r}; in Python pass timestamp_column= with the right name"
        )
        raise InputError(msg)
    long = layout == "long" or (layout == "auto" and "indicator" in names)
    where = _Where(str(file), is_csv)
    table = _read_table(file, names, is_csv, long, timestamp_column, point_column)
    t_ns = _table_times(table.column(timestamp_column), timezone, where)
    n = table.num_rows
    if n == 0:
        msg = f"{file}: the file has a header but no data rows"
        raise InputError(msg)
    pcodes, point_ids = _table_points(table, names, point_column, point_id, file, where)
    flag_col = next((c for c in _FLAG_NAMES if c in names), None)
    flags = (
        _table_flags(table.column(flag_col), where)
        if flag_col is not None
        else np.zeros(n, dtype=bool)
    )
    rows = _FileRows(where, t_ns, pcodes, point_ids, flags)
    if long:
        return _long_records(table, rows, label)
    skip = {timestamp_column, point_column, *_FLAG_NAMES}
    return _wide_records(table, [c for c in names if c not in skip], rows, label)


@dataclass(frozen=True)
class _FileRows:
    """What each row of a file gives in both layouts: time [ns UTC], point and flag."""

    where: _Where
    t_ns: IntArray
    pcodes: IntArray
    point_ids: tuple[str, ...]
    flags: BoolArray


def _check_options(file: Path, label: str, layout: str, timezone: str | None) -> None:
    """Raise for a missing file or a bad ``label``, ``layout`` or ``timezone``."""
    if not file.is_file():
        msg = f"{file}: file not found (or not a file)"
        raise InputError(msg)
    if label not in ("start", "end"):
        msg = f"{file}: label must be 'start' or 'end', got {label!r}"
        raise InputError(msg)
    if layout not in ("auto", "long", "wide"):
        msg = f"{file}: layout must be 'auto', 'long' or 'wide', got {layout!r}"
        raise InputError(msg)
    if timezone is not None:
        _check_zone(timezone, str(file))


def _table_points(
    table: Any,
    names: list[str],
    point_column: str,
    point_id: str | None,
    file: Path,
    where: _Where,
) -> tuple[IntArray, tuple[str, ...]]:
    """Point code of each row and the point ids (one id from the file name if no column)."""
    if point_column in names:
        pcodes, pids = _codes(table.column(point_column))
        empty = np.flatnonzero(pcodes < 0)
        if empty.size:
            msg = f"{file}: {where.rows(empty)}: empty {point_column}; every row needs one"
            raise InputError(msg)
        return pcodes, tuple(str(p) for p in pids)
    pcodes = np.zeros(table.num_rows, dtype=np.int64)
    return pcodes, (point_id if point_id is not None else file.name.split(".")[0],)


def _is_csv(file: Path) -> bool:
    """Whether a file is CSV (else Parquet) by its name; other names are errors."""
    name = file.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return True
    if name.endswith((".parquet", ".pq")):
        return False
    msg = f"{file}: unknown file type; expected a name ending in .csv, .csv.gz, .parquet or .pq"
    raise InputError(msg)


def _check_zone(tz: str, where: str) -> None:
    """Raise unless ``tz`` is a known IANA zone."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"{where}: unknown time zone {tz!r}; use an IANA name such as 'Europe/Moscow'"
        raise InputError(msg) from exc


def _long_records(table: Any, fr: _FileRows, label: str) -> MeasurementSet:
    """A set from the long layout: one row per value."""
    n = table.num_rows
    chan, channels = _long_channels(table, fr.where)
    values = _long_values(table, fr.where)
    records = _Records(np.arange(n, dtype=np.int64), fr.t_ns, fr.pcodes, chan, values, fr.flags)
    return _assemble(fr.where, records, fr.point_ids, channels, label)


def _long_channels(table: Any, where: _Where) -> tuple[IntArray, list[tuple[str, str, str]]]:
    """Channel code of each row from its indicator, phase and unit cells; the channels."""
    n = table.num_rows
    icodes, inds = _codes(table.column("indicator"))
    names = table.column_names
    pc, phs = (
        _codes(table.column("phase")) if "phase" in names else (np.full(n, -1, dtype=np.int64), [])
    )
    uc, uns = (
        _codes(table.column("unit")) if "unit" in names else (np.full(n, -1, dtype=np.int64), [])
    )
    if (icodes < 0).any():
        msg = f"{where.source}: {where.rows(np.flatnonzero(icodes < 0))}: empty indicator"
        raise InputError(msg)
    # (indicator, phase, unit) codes -> one dense channel code, without sorting
    n_p, n_u = len(phs) + 1, len(uns) + 1
    key = (icodes * n_p + (pc + 1)) * n_u + (uc + 1)
    chan, uniq = _dense_codes(key, len(inds) * n_p * n_u)
    first = _first_rows(chan, len(uniq))
    channels = []
    for k, kk in enumerate(uniq.tolist()):
        i, rest = divmod(kk, n_p * n_u)
        ph, un = divmod(rest, n_u)
        channels.append(
            _long_channel(
                str(inds[i]),
                str(phs[ph - 1]) if ph else "",
                str(uns[un - 1]) if un else "",
                where,
                int(first[k]),
            )
        )
    return chan, channels


def _long_values(table: Any, where: _Where) -> FloatArray:
    """The ``value`` column as floats; empty, NaN or infinite cells are errors."""
    col = table.column("value").combine_chunks()
    nulls = np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    values = np.asarray(col.fill_null(np.nan).to_numpy(), dtype=np.float64)
    bad = np.flatnonzero(nulls | ~np.isfinite(values))
    if bad.size:
        _bad_value(where, bad, "value", None if nulls[bad[0]] else float(values[bad[0]]))
    return values


def _wide_records(table: Any, value_cols: list[str], fr: _FileRows, label: str) -> MeasurementSet:
    """A set from the wide layout: one column per quantity, phase and unit."""
    where = fr.where
    channels = _wide_channels(value_cols, where)
    rows_l, chans_l, vals_l = [], [], []
    for k, c in enumerate(value_cols):
        col = table.column(c).combine_chunks()
        vals = np.asarray(col.fill_null(np.nan).to_numpy(), dtype=np.float64)
        present = ~np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        bad = np.flatnonzero(present & ~np.isfinite(vals))
        if bad.size:
            _bad_value(where, bad, c, float(vals[bad[0]]))
        r = np.flatnonzero(present)
        rows_l.append(r)
        chans_l.append(np.full(r.size, k, dtype=np.int64))
        vals_l.append(vals[r])
    rows = np.concatenate(rows_l)
    records = _Records(
        rows,
        fr.t_ns[rows],
        fr.pcodes[rows],
        np.concatenate(chans_l),
        np.concatenate(vals_l),
        fr.flags[rows],
    )
    return _assemble(where, records, fr.point_ids, channels, label)


def _wide_channels(value_cols: list[str], where: _Where) -> list[tuple[str, str, str]]:
    """Quantity, phase and unit of each value column; unknown names are errors."""
    channels = []
    for c in value_cols:
        parsed = parse_channel(c)
        if parsed is None:
            msg = (
                f"{where.source}: column {c!r} is not a known quantity; known: "
                f"{_known_text()}, plus timestamp, point_id and flagged. Rename or drop "
                "the column, or use the long layout"
            )
            raise InputError(msg)
        channels.append(parsed)
    if not channels:
        msg = f"{where.source}: wide layout without any quantity column"
        raise InputError(msg)
    return channels
