"""The newest value of every point, kept in memory beside the embedded store's table.

The embedded store's ``latest`` table is the durable record; a query on it costs
milliseconds of DuckDB's per-query overhead, and live ingest changes it many times a
second while the twin and the API ask for the newest values all the time. This copy is
read from the table once and then moved forward by every committed write with the same
rule as the table (a later time wins; at the same time, a higher revision), so answering
is array indexing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.store._model import LatestValues

__all__ = ["LatestTable"]

_NAT = np.datetime64("NaT", "us")


class LatestTable:
    """Per point key: the newest value's time, revision, value, quality, source time and
    arrival time (see the module docstring)."""

    def __init__(self) -> None:
        self.has = np.zeros(0, np.bool_)
        self.ts = np.zeros(0, "datetime64[us]")
        self.revision = np.zeros(0, np.int16)
        self.value = np.zeros(0, np.float64)
        self.quality = np.zeros(0, np.uint8)
        self.source_ts = np.zeros(0, "datetime64[us]")
        self.arrival_ts = np.zeros(0, "datetime64[us]")

    def _grow(self, size: int) -> None:
        old = len(self.has)
        if size <= old:
            return
        extra = size - old
        self.has = np.concatenate([self.has, np.zeros(extra, np.bool_)])
        self.ts = np.concatenate([self.ts, np.full(extra, _NAT)])
        self.revision = np.concatenate([self.revision, np.zeros(extra, np.int16)])
        self.value = np.concatenate([self.value, np.full(extra, np.nan)])
        self.quality = np.concatenate([self.quality, np.zeros(extra, np.uint8)])
        self.source_ts = np.concatenate([self.source_ts, np.full(extra, _NAT)])
        self.arrival_ts = np.concatenate([self.arrival_ts, np.full(extra, _NAT)])

    def update(
        self,
        keys: npt.NDArray[np.integer],
        ts: npt.NDArray[np.datetime64],
        revision: npt.NDArray[np.integer],
        value: npt.NDArray[np.float64],
        quality: npt.NDArray[np.integer],
        source_ts: npt.NDArray[np.datetime64],
        arrival_ts: npt.NDArray[np.datetime64],
    ) -> None:
        """Move forward with newly stored rows (one per stored value, any order)."""
        if len(keys) == 0:
            return
        keys = np.asarray(keys, np.int64)
        ts = np.asarray(ts, "datetime64[us]")
        revision = np.asarray(revision, np.int16)
        # the newest stored row of each key: sort by key, time, revision; last of each key
        order = np.lexsort((revision, ts, keys))
        k = keys[order]
        last = np.flatnonzero(np.r_[k[1:] != k[:-1], True])
        rows = order[last]
        k = keys[rows]
        self._grow(int(k.max()) + 1)
        new_ts, new_rev = ts[rows], revision[rows]
        cur_ts, cur_rev = self.ts[k], self.revision[k]
        newer = ~self.has[k] | (new_ts > cur_ts) | ((new_ts == cur_ts) & (new_rev > cur_rev))
        k, rows = k[newer], rows[newer]
        self.has[k] = True
        self.ts[k] = ts[rows]
        self.revision[k] = revision[rows]
        self.value[k] = np.asarray(value, np.float64)[rows]
        self.quality[k] = np.asarray(quality, np.uint8)[rows]
        self.source_ts[k] = np.asarray(source_ts, "datetime64[us]")[rows]
        self.arrival_ts[k] = np.asarray(arrival_ts, "datetime64[us]")[rows]

    def holds(self, keys: npt.NDArray[np.integer]) -> bool:
        """Whether every key has a newest value."""
        k = np.asarray(keys, np.int64)
        return bool(np.all(k < len(self.has))) and bool(self.has[k].all())

    def all_newer(self, keys: npt.NDArray[np.integer], ts: npt.NDArray[np.datetime64]) -> bool:
        """Whether every value is later than its point's newest (then none of their keys
        can be stored yet)."""
        k = np.asarray(keys, np.int64)
        known = k < len(self.has)
        kk = k[known]
        held = self.has[kk]
        newest = self.ts[kk[held]]
        return bool(np.all(np.asarray(ts, "datetime64[us]")[known][held] > newest))

    def _select(
        self, keys: npt.NDArray[np.integer] | None, names: Mapping[int, str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
        """The keys with a value among ``keys`` (all when None), and their point ids,
        ordered by point id."""
        if keys is None:
            k = np.flatnonzero(self.has)
        else:
            k = np.unique(np.asarray(keys, np.int64))
            k = k[k < len(self.has)]
            k = k[self.has[k]]
        ids = np.array([names[int(i)] for i in k], dtype=object)
        order = np.argsort(ids, kind="stable") if len(ids) else np.zeros(0, np.intp)
        return k[order], ids[order]

    def values(
        self, keys: npt.NDArray[np.integer] | None, names: Mapping[int, str]
    ) -> LatestValues:
        """The newest values of ``keys`` (every point with a value when None) as arrays,
        ordered by point id (copies: later writes do not change them)."""
        k, ids = self._select(keys, names)
        return LatestValues(
            ids.tolist(),
            self.ts[k],
            self.value[k],
            self.quality[k],
            self.revision[k],
            self.source_ts[k],
            self.arrival_ts[k],
        )

    def frame(self, keys: npt.NDArray[np.integer] | None, names: Mapping[int, str]) -> pd.DataFrame:
        """The newest values of ``keys`` (every point with a value when None), ordered by
        point id: ``point_id, ts_utc, value, quality, revision, source_ts_utc,
        arrival_ts_utc`` (times tz-aware UTC)."""
        k, ids = self._select(keys, names)

        def utc(arr: npt.NDArray[np.datetime64]) -> Any:
            return pd.DatetimeIndex(arr[k], tz="UTC").array  # no index to align

        return pd.DataFrame(
            {
                "point_id": ids,
                "ts_utc": utc(self.ts),
                "value": self.value[k],
                "quality": self.quality[k],
                "revision": self.revision[k],
                "source_ts_utc": utc(self.source_ts),
                "arrival_ts_utc": utc(self.arrival_ts),
            },
            copy=False,
        )
