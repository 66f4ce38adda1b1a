"""Pieces the store backends share: point rows, batch tables, time handling, resampling,
exports. No SQL dialect lives here beyond plain column lists."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError, StoreError
from gridtwin.store._model import MeasurementBatch, MeasurementPoint, RejectBatch, WriteReport

__all__ = [
    "ALL_TIME",
    "POINT_COLS",
    "VALUE_COLS",
    "batch_table",
    "check_point_changes",
    "point_from_row",
    "point_keys",
    "point_row",
    "py_ts",
    "rejects_table",
    "resample_args",
    "resample_frame",
    "unique_keys",
    "utc_bounds",
    "utc_columns",
    "write_export",
]

#: Columns of the points table after ``point_key``, in :func:`point_row` order.
POINT_COLS = (
    'point_id, quantity, unit, element, phase, source, scale, "offset", min_value, '
    "max_value, description"
)
#: Value columns of the latest table (alias ``l``), in the order of the protocol's frames.
VALUE_COLS = "l.ts_utc, l.value, l.quality, l.revision, l.source_ts_utc, l.arrival_ts_utc"
#: Bounds wider than any stored time, for "no bound" ([start, end) in UTC).
ALL_TIME = (pd.Timestamp("1000-01-01", tz="UTC"), pd.Timestamp("9999-01-01", tz="UTC"))
_TS_COLUMNS = ("ts_utc", "source_ts_utc", "arrival_ts_utc")
_AGG = {"mean": "mean", "last": "last", "sum": "sum", "min": "min", "max": "max"}


def point_row(p: MeasurementPoint) -> tuple[Any, ...]:
    """A point as a row in :data:`POINT_COLS` order."""
    return (
        p.point_id,
        p.quantity,
        p.unit,
        p.element,
        p.phase,
        p.source,
        p.scale,
        p.offset,
        p.min_value,
        p.max_value,
        p.description,
    )


def point_from_row(row: Sequence[Any]) -> MeasurementPoint:
    """The inverse of :func:`point_row`."""
    return MeasurementPoint(
        point_id=row[0],
        quantity=row[1],
        unit=row[2],
        element=row[3],
        phase=row[4],
        source=row[5],
        scale=float(row[6]),
        offset=float(row[7]),
        min_value=None if row[8] is None else float(row[8]),
        max_value=None if row[9] is None else float(row[9]),
        description=row[10],
    )


def check_point_changes(
    new: Sequence[MeasurementPoint],
    known: dict[str, MeasurementPoint],
    has_values: Callable[[str], bool],
) -> None:
    """Refuse a change of quantity or unit of a point that already has values, and a
    point given twice."""
    seen: set[str] = set()
    problems = []
    for p in new:
        if p.point_id in seen:
            problems.append(f"point {p.point_id!r} is given twice")
        seen.add(p.point_id)
        old = known.get(p.point_id)
        if old is None or (old.quantity, old.unit) == (p.quantity, p.unit):
            continue
        if has_values(p.point_id):
            problems.append(
                f"point {p.point_id!r} has stored values in {old.unit} ({old.quantity}); "
                f"changing it to {p.unit} ({p.quantity}) would change their meaning: add "
                "a new point instead"
            )
    if problems:
        raise InputError("\n".join(problems))


#: Up to this many ids are looked up one by one (no hashing pass).
_SMALL = 64


def point_keys(
    point_ids: npt.NDArray[np.object_], keys: dict[str, int], where: str
) -> npt.NDArray[np.int32]:
    """The integer keys of point ids; unknown ids are a :class:`StoreError` naming them."""
    if len(point_ids) == 0:
        return np.zeros(0, np.int32)
    if len(point_ids) <= _SMALL:  # a dict look-up each: below pandas' fixed cost
        uniq = np.asarray(point_ids, dtype=str)
        codes = np.arange(len(uniq))
    else:
        codes, uniq = pd.factorize(point_ids)  # hashing: ten times faster than sorting
        uniq = np.asarray(uniq, dtype=str)
    lookup = np.array([keys.get(u, -1) for u in uniq.tolist()], dtype=np.int32)
    if (lookup < 0).any():
        missing = list(dict.fromkeys(str(u) for u, k in zip(uniq, lookup, strict=True) if k < 0))
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        msg = (
            f"{where}: unknown measurement point(s) {shown}; add them first "
            "(`gridtwin store points add`)"
        )
        raise StoreError(msg)
    out: npt.NDArray[np.int32] = lookup[codes]
    return out


def unique_keys(keys: npt.NDArray[np.int32], ts: npt.NDArray[np.datetime64]) -> bool:
    """True when no (point, time) occurs twice in the batch."""
    t_us = ts.view(np.int64)
    order = np.lexsort((t_us, keys))
    k, t = keys[order], t_us[order]
    return not bool(((k[1:] == k[:-1]) & (t[1:] == t[:-1])).any())


def newest_per_key(
    keys: npt.NDArray[np.int32], ts: npt.NDArray[np.datetime64]
) -> npt.NDArray[np.intp]:
    """The row of each point's latest time in a batch whose (point, time) pairs are
    unique, in point order."""
    order = np.lexsort((ts.view(np.int64), keys))
    k = keys[order]
    return order[np.flatnonzero(np.r_[k[1:] != k[:-1], True])]


WriteItems = Sequence[tuple[MeasurementBatch, RejectBatch | None]]


def combine_items(
    items: WriteItems,
) -> tuple[MeasurementBatch, RejectBatch | None, npt.NDArray[np.int64]]:
    """Several writes as one: the batches and rejects concatenated in order, and the
    first row of each item in the combined batch (for :func:`split_reports`)."""
    batches = [b for b, _ in items]
    starts = np.zeros(len(items), dtype=np.int64)
    if len(items) > 1:
        starts[1:] = np.cumsum([len(b) for b in batches[:-1]])
    rejects: RejectBatch | None = None
    if any(r is not None and len(r) for _, r in items):
        rejects = RejectBatch()
        for _, r in items:
            if r is not None:
                rejects.extend(r)
    return MeasurementBatch.concat(batches), rejects, starts


def split_reports(
    items: WriteItems,
    starts: npt.NDArray[np.int64],
    stored_seq: npt.NDArray[np.int64],
    revision_flag: npt.NDArray[np.bool_],
) -> list[WriteReport]:
    """Each item's report from the combined write's stored rows (their ``seq``, the row
    in the combined batch, and whether each is a revision)."""
    part = np.searchsorted(starts, stored_seq, side="right") - 1
    n = len(items)
    stored = np.bincount(part, minlength=n)
    revisions = np.bincount(part, weights=revision_flag.astype(np.float64), minlength=n)
    return [
        WriteReport(
            int(stored[i]),
            len(b) - int(stored[i]),
            int(revisions[i]),
            0 if r is None else len(r),
        )
        for i, (b, r) in enumerate(items)
    ]


def py_ts(value: np.datetime64) -> Any:
    """A numpy UTC time as a naive Python datetime (what the drivers bind)."""
    return pd.Timestamp(value).to_pydatetime()


def batch_table(batch: MeasurementBatch, keys: npt.NDArray[np.int32]) -> Any:
    """The batch as an Arrow table with a ``seq`` column (its order) and point keys."""
    import pyarrow as pa

    def ts(arr: npt.NDArray[np.datetime64]) -> Any:
        return pa.array(arr, type=pa.timestamp("us"), from_pandas=True)

    return pa.table(
        {
            "seq": pa.array(np.arange(len(batch), dtype=np.int64)),
            "point_key": pa.array(keys),
            "ts_utc": ts(batch.ts_utc),
            "value": pa.array(batch.value),
            "quality": pa.array(batch.quality),
            "source_ts_utc": ts(batch.source_ts_utc),
            "arrival_ts_utc": ts(batch.arrival_ts_utc),
        }
    )


def rejects_table(rejects: RejectBatch) -> Any:
    """The rejects as an Arrow table in the rejects table's column order."""
    import pyarrow as pa

    def ts(values: list[np.datetime64]) -> Any:
        return pa.array(
            np.array(values, dtype="datetime64[us]"), pa.timestamp("us"), from_pandas=True
        )

    return pa.table(
        {
            "point_id": pa.array(rejects.point_id, pa.string()),
            "ts_utc": ts(rejects.ts_utc),
            "value": pa.array(np.array(rejects.value, np.float64), from_pandas=False),
            "reason": pa.array(rejects.reason, pa.string()),
            "detail": pa.array(rejects.detail, pa.string()),
            "source": pa.array(rejects.source, pa.string()),
            "raw": pa.array(rejects.raw, pa.string()),
            "arrival_ts_utc": ts(rejects.arrival_ts_utc),
        }
    )


def utc_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Make the time columns tz-aware UTC (stored naive UTC)."""
    for col in _TS_COLUMNS:
        if col in df.columns:
            s = pd.to_datetime(df[col])
            df[col] = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
    return df


def _utc(ts: pd.Timestamp | str, name: str) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    if t.tzinfo is None:
        msg = f"{name} {t} has no time zone; give it in UTC (e.g. 2026-01-01T00:00Z)"
        raise InputError(msg)
    return t.tz_convert("UTC")


def utc_bounds(start_utc: pd.Timestamp, end_utc: pd.Timestamp) -> tuple[Any, Any]:
    """Naive UTC datetimes for a query's ``[start, end)``, clipped to what the stores hold."""
    lo = _utc(start_utc, "start").tz_localize(None)
    hi = _utc(end_utc, "end").tz_localize(None)
    floor, ceil = pd.Timestamp("1000-01-01"), pd.Timestamp("9999-01-01")
    # microseconds are the stores' resolution; a bound between two is moved up (half-open)
    lo = max(lo.ceil("us") if lo.unit == "ns" else lo, floor)
    hi = min(hi.ceil("us") if hi.unit == "ns" else hi, ceil)
    return lo.to_pydatetime(), hi.to_pydatetime()


def resample_args(step: pd.Timedelta, how: str) -> tuple[int, str]:
    """The step in microseconds and the aggregation, checked."""
    step_us = int(pd.Timedelta(step) / pd.Timedelta(microseconds=1))
    if step_us <= 0:
        msg = f"the resampling step must be positive, got {step}"
        raise InputError(msg)
    if how not in _AGG:
        msg = f"unknown resampling {how!r}; use one of {', '.join(_AGG)}"
        raise InputError(msg)
    return step_us, _AGG[how]


def resample_frame(
    long: pd.DataFrame,
    point_ids: list[str],
    start_utc: pd.Timestamp,
    end_utc: pd.Timestamp,
    step_us: int,
    agg: str,
) -> pd.DataFrame:
    """Long values (newest revisions) on a regular step: rows = interval starts from
    ``start_utc``, columns = ``point_ids``; an interval without a value is NaN."""
    start = _utc(start_utc, "start")
    end = _utc(end_utc, "end")
    n = max(0, -(-int((end - start) / pd.Timedelta(microseconds=1)) // step_us))
    index = pd.DatetimeIndex(
        start + pd.to_timedelta(np.arange(n, dtype=np.int64) * step_us, unit="us"),
        name="time_utc",
    )
    if long.empty or n == 0:
        return pd.DataFrame(np.nan, index=index, columns=pd.Index(point_ids, name="point_id"))
    offset_us = (long["ts_utc"] - start) // pd.Timedelta(microseconds=1)
    bucket = (offset_us // step_us).to_numpy()
    frame = pd.DataFrame(
        {"point_id": long["point_id"].to_numpy(), "bucket": bucket, "value": long["value"]}
    ).sort_values(["point_id", "bucket"], kind="stable")
    wide = frame.groupby(["bucket", "point_id"])["value"].agg(agg).unstack("point_id")
    if agg == "sum":  # a sum over no value is missing, not 0
        counts = frame.groupby(["bucket", "point_id"])["value"].count().unstack("point_id")
        wide = wide.where(counts > 0)
    wide = wide.reindex(index=np.arange(n), columns=point_ids)
    wide.index = index
    wide.columns = pd.Index(point_ids, name="point_id")
    return wide.astype(np.float64)


def write_export(df: pd.DataFrame, path: Path, fmt: str) -> None:
    """Write a frame to Parquet or CSV through a temporary file beside ``path`` and an
    atomic rename: a failed export leaves no half-written file."""
    if fmt not in ("parquet", "csv"):
        msg = f"unknown export format {fmt!r}; use parquet or csv"
        raise InputError(msg)
    path = Path(path)
    if not path.parent.is_dir():
        msg = f"{path}: the folder {path.parent} does not exist"
        raise InputError(msg)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            out = df.copy()
            for col in _TS_COLUMNS:
                if col in out.columns:
                    out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            out.to_csv(tmp, index=False)
        Path(tmp).replace(path)
    except OSError as exc:
        msg = f"{path}: cannot write the export ({exc.strerror})"
        raise StoreError(msg) from exc
    finally:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
