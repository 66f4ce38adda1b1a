"""A window's rows as arrays: ordered and reduced to the newest revision in numpy.

The embedded store reads a window's rows with one filtered scan and orders them here (a
sort, a window function and a join in SQL cost several times more for the small windows
the API and the twin ask for). The rows stay arrays (:class:`LatestValues`, the shape of
every row set of values) until a caller wants a frame: the API's hot routes serialise
them without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.store._model import LatestValues

__all__ = ["frame_rows", "ordered_rows", "rows_frame"]


def _column(cols: Mapping[str, Any], name: str, dtype: Any) -> np.ndarray:
    """A column read from the database (masked where null) as a plain array."""
    a = cols[name]
    if np.ma.isMaskedArray(a):
        a = a.filled(np.datetime64("NaT") if np.dtype(dtype).kind == "M" else 0)
    return np.asarray(a).astype(dtype, copy=False)


def ordered_rows(
    cols: Mapping[str, Any],
    names: Mapping[int, str],
    rank: npt.NDArray[np.int64],
    *,
    newest_only: bool,
    merged: bool = False,
) -> LatestValues:
    """Rows (arrays by column, with ``point_key``) ordered by point id, time and revision.

    Parameters
    ----------
    cols : mapping
        ``point_key, ts_utc, revision, value, quality, source_ts_utc, arrival_ts_utc``.
    names, rank : mapping, numpy.ndarray
        Each key's point id, and its rank in the order of point ids.
    newest_only : bool
        Keep only the highest revision of each (point, time).
    merged : bool
        Held rows were added to the database's: a row read twice is kept once.
    """
    keys = _column(cols, "point_key", np.int64)
    ts = _column(cols, "ts_utc", "datetime64[us]")
    rev = _column(cols, "revision", np.int16)
    order = np.lexsort((rev, ts, rank[keys])) if len(keys) else np.zeros(0, np.intp)
    if merged and not newest_only and len(order) > 1:
        k, t, r = keys[order], ts[order], rev[order]
        order = order[np.r_[True, (k[1:] != k[:-1]) | (t[1:] != t[:-1]) | (r[1:] != r[:-1])]]
    if newest_only and len(order) > 1:
        k, t = keys[order], ts[order]
        order = order[np.r_[(k[1:] != k[:-1]) | (t[1:] != t[:-1]), True]]
    keys = keys[order]
    return LatestValues(
        point_id=[names[k] for k in keys.tolist()],
        ts_utc=ts[order],
        value=_column(cols, "value", np.float64)[order],
        quality=_column(cols, "quality", np.uint8)[order],
        revision=rev[order],
        source_ts_utc=_column(cols, "source_ts_utc", "datetime64[us]")[order],
        arrival_ts_utc=_column(cols, "arrival_ts_utc", "datetime64[us]")[order],
    )


def rows_frame(rows: LatestValues) -> pd.DataFrame:
    """Rows as the stores' long frame: ``point_id, ts_utc, value, quality, revision,
    source_ts_utc, arrival_ts_utc`` (times tz-aware UTC)."""

    def utc(values: npt.NDArray[np.datetime64]) -> Any:  # arrays: no index to align
        return pd.DatetimeIndex(values, tz="UTC").array

    return pd.DataFrame(
        {
            "point_id": np.array(rows.point_id, dtype=object),
            "ts_utc": utc(rows.ts_utc),
            "value": rows.value,
            "quality": rows.quality,
            "revision": rows.revision,
            "source_ts_utc": utc(rows.source_ts_utc),
            "arrival_ts_utc": utc(rows.arrival_ts_utc),
        },
        copy=False,
    )


def frame_rows(frame: pd.DataFrame) -> LatestValues:
    """The stores' long frame as rows of arrays (times naive UTC)."""

    def naive(name: str) -> npt.NDArray[np.datetime64]:
        col = pd.DatetimeIndex(pd.to_datetime(frame[name], utc=True)).tz_localize(None)
        return col.to_numpy(dtype="datetime64[us]")

    return LatestValues(
        point_id=[str(p) for p in frame["point_id"].tolist()],
        ts_utc=naive("ts_utc"),
        value=frame["value"].to_numpy(dtype=np.float64, na_value=np.nan),
        quality=frame["quality"].to_numpy(dtype=np.uint8),
        revision=frame["revision"].to_numpy(dtype=np.int16),
        source_ts_utc=naive("source_ts_utc"),
        arrival_ts_utc=naive("arrival_ts_utc"),
    )
