"""Parse the cells of measurement records and name bad rows in messages.

Owns :class:`_Where` (a file and its 1-based rows in messages), timestamps (text with or
without UTC offset, naive local times, tz-aware columns), flags (bool, number or text),
the channel of a long-layout row, and the error for a bad value cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._channels import _canon_phase, _canon_unit, _known_text, parse_channel
from gridtwin.timeseries import utc_ns

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_TRUE: Final = frozenset({"true", "1", "yes", "y", "t", "1.0"})
_FALSE: Final = frozenset({"false", "0", "no", "n", "f", "0.0", ""})
_FLAG_NAMES: Final = ("flagged", "flag", "flags")


@dataclass(frozen=True)
class _Where:
    """Names a file and its rows in messages (1-based data rows, header excluded)."""

    source: str
    csv: bool

    def rows(self, idx: npt.ArrayLike, limit: int = 5) -> str:
        """Rows ``idx`` (0-based) as text, e.g. ``'data rows 3, 7 (1-based, header excluded)'``."""
        flat = np.atleast_1d(np.asarray(idx, dtype=np.int64)) + 1
        shown = ", ".join(str(int(r)) for r in flat[:limit])
        more = f" and {flat.size - limit} more" if flat.size > limit else ""
        word = "data row" if self.csv else "row"
        plural = "s" if flat.size > 1 else ""
        scope = "1-based, header excluded" if self.csv else "1-based"
        return f"{word}{plural} {shown}{more} ({scope})"


def _frame_times(col: pd.Series, tz: str | None, where: _Where) -> IntArray:
    """UTC ns per row from a frame column (tz-aware, naive local or text)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        if col.isna().any():
            msg = f"{where.source}: {where.rows(np.flatnonzero(col.isna()))}: empty timestamp"
            raise InputError(msg)
        return utc_ns(pd.DatetimeIndex(col))
    if pd.api.types.is_datetime64_dtype(col.dtype):
        return _localise(pd.DatetimeIndex(col), np.arange(len(col), dtype=np.int64), tz, where)
    codes, uniq = pd.factorize(col.astype(str))
    return _parse_text_times([str(u) for u in uniq], _first_rows(codes, len(uniq)), tz, where)[
        codes
    ]


def _first_rows(codes: npt.ArrayLike, n: int) -> IntArray:
    """First row (0-based) of each of the ``n`` codes."""
    c = np.asarray(codes, dtype=np.int64)
    first = np.full(n, -1, dtype=np.int64)
    order = np.arange(len(c), dtype=np.int64)[::-1]
    first[c[::-1]] = order
    return first


def _parse_text_times(
    text: list[str], first_rows: IntArray, tz: str | None, where: _Where
) -> IntArray:
    """Parse each distinct timestamp text once; return UTC ns per distinct value."""
    offset = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
    has = np.array([bool(offset.search(s.strip())) for s in text], dtype=bool)
    if has.any() and not has.all():
        i, j = int(np.argmax(has)), int(np.argmin(has))
        msg = (
            f"{where.source}: timestamps mix UTC offsets ({where.rows(first_rows[i])}: "
            f"{text[i]!r}) and local times without offset ({where.rows(first_rows[j])}: "
            f"{text[j]!r}); write all with offsets/'Z', or all local with timezone="
        )
        raise InputError(msg)
    aware = bool(has.all())
    parsed = pd.to_datetime(
        pd.Index([s.strip() for s in text]), format="ISO8601", utc=aware, errors="coerce"
    )
    bad = np.flatnonzero(np.asarray(parsed.isna()))
    if bad.size:
        k = int(bad[0])
        msg = (
            f"{where.source}: {where.rows(first_rows[k])}: timestamp {text[k]!r} is not "
            "an ISO 8601 date-time; write e.g. 2025-06-02T00:10:00Z or "
            "2025-06-02T03:10:00+03:00"
        )
        raise InputError(msg)
    idx = pd.DatetimeIndex(parsed)
    if aware:
        return utc_ns(idx)
    return _localise(idx, first_rows, tz, where)


def _localise(naive: pd.DatetimeIndex, rows: IntArray, tz: str | None, where: _Where) -> IntArray:
    """UTC ns of naive local times in ``tz``; DST gaps and overlaps are errors."""
    if tz is None:
        msg = (
            f"{where.source}: timestamps have no UTC offset (e.g. {where.rows(rows[0])}: "
            f"{naive[0]}). Pass timezone= (e.g. 'UTC' or 'Europe/Moscow') for local "
            "clock times, or write them with an offset or 'Z'"
        )
        raise InputError(msg)
    local = naive.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    bad = np.flatnonzero(np.asarray(local.isna()))
    if bad.size:
        k = int(bad[0])
        msg = (
            f"{where.source}: {where.rows(rows[k])}: local time {naive[k]} does not exist "
            f"or is ambiguous in {tz} (DST change); write timestamps in UTC or with "
            "their UTC offset"
        )
        raise DataQualityError(msg)
    return utc_ns(local)


def _flag_values(raw: npt.NDArray[Any], where: _Where, rows: IntArray | None = None) -> BoolArray:
    """Booleans from bool/number/text flags (empty = not flagged)."""
    arr = np.asarray(raw)
    if arr.dtype.kind == "b":
        return arr.astype(bool)
    if arr.dtype.kind in "iuf":
        return np.asarray(np.nan_to_num(arr.astype(np.float64), nan=0.0) != 0, dtype=bool)
    codes, uniq = pd.factorize(
        pd.Series(arr, dtype=object).fillna("").astype(str).str.strip().str.lower()
    )
    out = np.zeros(len(uniq), dtype=bool)
    for k, u in enumerate(uniq):
        if u in _TRUE:
            out[k] = True
        elif u not in _FALSE:
            row = int(np.argmax(codes == k))
            row = int(rows[row]) if rows is not None else row
            msg = (
                f"{where.source}: {where.rows(row)}: flag {u!r} is not a boolean; write "
                "true/false, 1/0 or leave it empty (IEC 61000-4-30 flag)"
            )
            raise InputError(msg)
    return np.asarray(out[codes], dtype=bool)


def _long_channel(ind: str, phase: str, unit: str, where: _Where, row: int) -> tuple[str, str, str]:
    """Quantity, phase and unit of a long-layout row from its cells."""
    parsed = parse_channel(ind)
    if parsed is None:
        msg = (
            f"{where.source}: {where.rows(row)}: unknown indicator {ind!r}; known: {_known_text()}"
        )
        raise InputError(msg)
    q, ph, un = parsed
    ph = _canon_phase(phase, f"{where.source}: {where.rows(row)}") if phase.strip() else ph
    un = _canon_unit(unit, f"{where.source}: {where.rows(row)}") if unit.strip() else un
    return q, ph, un


def _bad_value(where: _Where, rows: IntArray, column: str, first: object) -> None:
    """Raise for empty, NaN or infinite value cells, naming the rows."""
    msg = (
        f"{where.source}: {where.rows(rows)}: empty, NaN or infinite value in column "
        f"{column!r} (first: {first!r}). A NaN in the file is bad data: supply the value, "
        "or drop the row to mark the interval missing (gaps are never interpolated)"
    )
    raise DataQualityError(msg)
