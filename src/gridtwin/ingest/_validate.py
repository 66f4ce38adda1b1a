"""Validation of raw values against the measurement points: the pipeline's check stage.

Every value a source delivers is either accepted (scaled to the point's unit) or rejected
with one of :data:`~gridtwin.store.REJECT_REASONS`; a bad value never stops its
neighbours in the same batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError
from gridtwin.ingest._source import RawBatch
from gridtwin.store._model import (
    MeasurementBatch,
    MeasurementPoint,
    RejectBatch,
    RejectReason,
    quantities,
)

__all__ = ["PointTable"]

#: Batches up to this size look their ids up one by one (no hashing pass).
_SMALL = 64


_US = "datetime64[us]"
_US_PER_S = 1_000_000


@dataclass(frozen=True)
class PointTable:
    """The points as arrays for vectorised checks.

    Attributes
    ----------
    ids : dict of str to int
        Row of each point id in the arrays below.
    scale, offset, lo, hi : ndarray of float64
        Scaling and accepted range (in the point's unit) per point.
    units : list of str
        The unit of each point (for messages).
    """

    ids: dict[str, int]
    scale: npt.NDArray[np.float64]
    offset: npt.NDArray[np.float64]
    lo: npt.NDArray[np.float64]
    hi: npt.NDArray[np.float64]
    units: list[str]

    @classmethod
    def build(
        cls,
        points: Iterable[MeasurementPoint],
        ranges: Mapping[str, tuple[float, float]] | None = None,
    ) -> PointTable:
        """From the store's points; ``ranges`` overrides the default range of a quantity
        (in its base unit, as in ``quantities.yaml``) for points without their own."""
        plist = list(points)
        known = quantities()
        for q in ranges or {}:
            if q not in known:
                msg = f"range given for unknown quantity {q!r}; use one of {', '.join(known)}"
                raise InputError(msg)
        lo = np.empty(len(plist))
        hi = np.empty(len(plist))
        for i, p in enumerate(plist):
            lo[i], hi[i] = p.value_range()
            if ranges and p.quantity in ranges:
                factor = known[p.quantity].units[p.unit]
                q_lo, q_hi = ranges[p.quantity]
                lo[i] = q_lo / factor if p.min_value is None else lo[i]
                hi[i] = q_hi / factor if p.max_value is None else hi[i]
        return cls(
            {p.point_id: i for i, p in enumerate(plist)},
            np.array([p.scale for p in plist], np.float64),
            np.array([p.offset for p in plist], np.float64),
            lo,
            hi,
            [p.unit for p in plist],
        )

    def check(
        self, raw: RawBatch, arrival: np.datetime64, max_future_s: float
    ) -> tuple[MeasurementBatch, RejectBatch]:
        """Split a raw batch into accepted measurements (scaled) and rejects."""
        n = len(raw)
        rejects = RejectBatch()
        rejects.extend(raw.rejects)
        if n == 0:
            empty = MeasurementBatch.build([], np.array([], _US), [], arrival_ts_utc=[])
            return empty, rejects
        idx = self._rows(raw.point_id)
        reason = np.zeros(n, np.int8)  # 0 = accepted
        known = idx >= 0
        safe = np.where(known, idx, 0)
        value = raw.raw_value * self.scale[safe] + self.offset[safe]
        ts = raw.ts_utc.astype(_US)
        limit = arrival.astype(_US).astype(np.int64) + int(max_future_s * _US_PER_S)
        tests: list[tuple[RejectReason, npt.NDArray[np.bool_]]] = [
            ("unknown_point", ~known),
            ("bad_timestamp", np.isnat(ts)),
            ("not_finite", ~np.isfinite(raw.raw_value)),
            ("future_timestamp", ts.view(np.int64) > limit),
            ("out_of_range", (value < self.lo[safe]) | (value > self.hi[safe])),
        ]
        for code, (_, bad) in enumerate(tests, start=1):
            reason[(reason == 0) & bad] = code
        accepted = reason == 0
        arrival_col = np.full(int(accepted.sum()), arrival, _US)
        batch = MeasurementBatch(
            raw.point_id[accepted],
            ts[accepted],
            value[accepted],
            raw.quality[accepted],
            raw.source_ts_utc[accepted].astype(_US),
            arrival_col,
        )
        for i in np.flatnonzero(~accepted):
            name, _ = tests[reason[i] - 1]
            rejects.add(
                name,
                self._detail(name, raw, int(i), float(value[i]), int(idx[i]), max_future_s),
                source=raw.source,
                raw=f"{raw.point_id[i]},{ts[i]},{raw.raw_value[i]!r}",
                point_id=str(raw.point_id[i]),
                ts_utc=None if np.isnat(ts[i]) else ts[i],
                value=float(raw.raw_value[i]),
                arrival_ts_utc=arrival,
            )
        return batch, rejects

    def _rows(self, point_id: npt.NDArray[np.object_]) -> npt.NDArray[np.intp]:
        import pandas as pd

        if len(point_id) <= _SMALL:  # a dict look-up each: below pandas' fixed cost
            return np.fromiter((self.ids.get(str(u), -1) for u in point_id), np.intp, len(point_id))
        codes, uniq = pd.factorize(point_id)  # hashing: ten times faster than sorting
        rows = np.array([self.ids.get(str(u), -1) for u in uniq], dtype=np.intp)
        out: npt.NDArray[np.intp] = rows[codes]
        return out

    def _detail(
        self, name: str, raw: RawBatch, i: int, value: float, row: int, max_future_s: float
    ) -> str:
        pid = raw.point_id[i]
        if name == "unknown_point":
            return f"point {pid!r} is not in the store; add it with `gridtwin store points add`"
        if name == "bad_timestamp":
            return f"point {pid!r}: the value has no readable timestamp"
        if name == "not_finite":
            return f"point {pid!r}: the value {raw.raw_value[i]!r} is not a finite number"
        if name == "future_timestamp":
            return (
                f"point {pid!r}: timestamp {raw.ts_utc[i]}Z is more than {max_future_s:g} s "
                "ahead of the arrival time (check the sender's clock and time zone)"
            )
        unit = self.units[row]
        return (
            f"point {pid!r}: value {value:g} {unit} is outside the plausible range "
            f"[{self.lo[row]:g}, {self.hi[row]:g}] {unit} (check the point's scale, or set "
            "its min_value/max_value)"
        )
