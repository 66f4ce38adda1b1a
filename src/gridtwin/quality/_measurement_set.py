"""The container of aggregated measurements: :class:`MeasurementSet` and its flags.

Owns :class:`MeasurementSet` with its constructors (canonical long frame, arrays on the
grid, waveform aggregates), merging and export, the turning of records into a set, and
the propagation of IEC 61000-4-30 flags to longer intervals (:func:`apply_windows`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._availability import availability_frame
from gridtwin.quality._channels import (
    QUANTITIES,
    _canon_phase,
    _canon_unit,
    _channel_phase,
    _known_text,
    parse_channel,
)
from gridtwin.quality._limits import AGGREGATION_S
from gridtwin.quality._parsing import _bad_value, _flag_values, _frame_times, _long_channel, _Where
from gridtwin.quality._records import (
    _build_series,
    _check_grid,
    _finish_series,
    _Records,
    _series_notes,
)
from gridtwin.quality._series import IndicatorSeries
from gridtwin.timeseries import utc_ns

__all__ = ["MeasurementSet", "SupportsToFrame", "apply_windows", "flag_windows"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NS = 1_000_000_000


class SupportsToFrame(Protocol):
    """Anything with a ``to_frame()`` giving the canonical long layout.

    The canonical long layout has columns ``time_utc`` (tz-aware interval starts),
    ``point_id``, ``indicator`` (a quantity name or alias), ``phase``, ``value`` and
    optionally ``unit`` and ``flagged``. Aggregates computed from waveforms
    (``gridtwin.quality.waveform``) plug in through this protocol.
    """

    def to_frame(self) -> pd.DataFrame:
        """Return the canonical long layout."""
        ...  # pragma: no cover


@dataclass(frozen=True)
class MeasurementSet:
    """Aggregated PQ measurements of many points (see the module notes).

    Build one with :func:`read_measurements`, :meth:`from_frame` or :meth:`from_arrays`.

    Attributes
    ----------
    point_ids : tuple of str
        The points of delivery, in order of first appearance.
    series : mapping str -> IndicatorSeries
        One series per measured quantity, by canonical name.
    source : str
        File name or ``'<frame>'``.
    notes : tuple of str
        Unit conversions and other remarks to print with every result.
    """

    point_ids: tuple[str, ...]
    series: Mapping[str, IndicatorSeries]
    source: str = "<memory>"
    notes: tuple[str, ...] = field(default=())

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame | SupportsToFrame,
        *,
        timezone: str | None = None,
        label: Literal["start", "end"] = "start",
        source: str = "<frame>",
    ) -> MeasurementSet:
        """Build a set from the canonical long layout (see :class:`SupportsToFrame`).

        ``time_utc`` (or ``timestamp``) must be tz-aware, or naive local times with
        ``timezone``. Rows are numbered 1-based in error messages.
        """
        df = frame if isinstance(frame, pd.DataFrame) else frame.to_frame()
        ts_col = "time_utc" if "time_utc" in df.columns else "timestamp"
        missing = [c for c in (ts_col, "point_id", "indicator", "value") if c not in df.columns]
        if missing:
            msg = (
                f"{source}: the canonical long layout needs columns time_utc (or "
                f"timestamp), point_id, indicator, value; {missing} missing, found "
                f"{list(df.columns)[:10]}"
            )
            raise InputError(msg)
        where = _Where(source, csv=False)
        t_ns = _frame_times(df[ts_col], timezone, where)
        n = len(df)
        codes, channels = _frame_channels(df, where)
        pcodes, pids = pd.factorize(df["point_id"].astype(str))
        values = _frame_values(df, where)
        flags = (
            _flag_values(df["flagged"].to_numpy(), where)
            if "flagged" in df.columns
            else np.zeros(n, dtype=bool)
        )
        records = _Records(
            np.arange(n, dtype=np.int64),
            t_ns,
            np.asarray(pcodes, dtype=np.int64),
            codes,
            values,
            flags,
        )
        return _assemble(where, records, tuple(str(p) for p in pids), channels, label)

    @classmethod
    def from_arrays(
        cls,
        quantity: str,
        time_utc: pd.DatetimeIndex,
        values: npt.ArrayLike,
        *,
        point_ids: Sequence[str],
        phases: Sequence[str] = ("",),
        unit: str = "",
        flagged: npt.ArrayLike | None = None,
        source: str = "<arrays>",
    ) -> MeasurementSet:
        """Build a one-quantity set from arrays already on the grid.

        Parameters
        ----------
        quantity : str
            Quantity name or alias (``'voltage'``, ``'thd'``, ``'h5'``, ...).
        time_utc : pandas.DatetimeIndex, shape (T,)
            tz-aware interval starts, strictly increasing, on the quantity's UTC grid.
        values : array_like, shape (T, n_points) or (T, n_points, n_phases)
            Values in ``unit``; ``NaN`` marks a missing interval.
        point_ids : sequence of str
        phases : sequence of str
            Phase labels of the last axis (``('a', 'b', 'c')``), or ``('',)``.
        unit : str
            Stated unit (``'V'``, ``'kV'``, ``'percent'``, ``'pu'``, ``'Hz'``, ``''``).
        flagged : array_like of bool, same shape as ``values``, optional
        """
        parsed = parse_channel(quantity)
        if parsed is None:
            msg = f"from_arrays: unknown quantity {quantity!r}; known: {_known_text()}"
            raise InputError(msg)
        q = QUANTITIES[parsed[0]]
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim == 2:
            arr = arr[:, :, np.newaxis]
        n_points, n_phases = len(point_ids), len(phases)
        if arr.ndim != 3 or arr.shape != (len(time_utc), n_points, n_phases):
            msg = (
                f"from_arrays: values have shape {np.shape(values)}, expected "
                f"({len(time_utc)}, {n_points}, {n_phases}) = (time, points, phases)"
            )
            raise InputError(msg)
        canon = tuple(_canon_phase(p, "from_arrays") for p in phases)
        stated = _canon_unit(unit, "from_arrays") if unit else ""
        t = utc_ns(_aware(time_utc, "from_arrays: time_utc"))
        where = _Where(source, csv=False)
        _check_grid(where, t, np.arange(len(t), dtype=np.int64), q, t.min() if len(t) else 0)
        if np.any(np.diff(t) <= 0):
            msg = f"{source}: time_utc must be strictly increasing without duplicates"
            raise DataQualityError(msg)
        flat = arr.reshape(len(t), n_points * n_phases)
        fl = (
            np.zeros(flat.shape, dtype=bool)
            if flagged is None
            else np.asarray(flagged, dtype=bool).reshape(flat.shape)
        )
        if np.isinf(flat).any():
            msg = f"{source}: infinite value in {q.name}; mark a missing interval as NaN"
            raise DataQualityError(msg)
        point_index = np.repeat(np.arange(n_points, dtype=np.int64), n_phases)
        series = _finish_series(
            q, t, point_index, canon * n_points, flat, fl, (stated,) * flat.shape[1], where
        )
        ms = cls(
            tuple(str(p) for p in point_ids), {q.name: series}, source, tuple(_series_notes(series))
        )
        return _propagate_flags(ms)

    @classmethod
    def from_aggregated(cls, agg: Any, *, point_id: str | None = None) -> MeasurementSet:
        """Adapt the aggregates of one waveform record (``gridtwin.quality.waveform``).

        Duck-typed on the attributes of ``AggregatedMeasurements``: ``channel_names``,
        ``source``, ``time_10min_utc``, ``coverage_10min_percent``, ``flags_10min``,
        ``u_rms_10min_v``, ``under_over_10min``, ``thd_10min_percent``,
        ``harmonics_10min_percent``, ``unbalance_negative_10min_percent``,
        ``unbalance_zero_10min_percent``, ``time_10s_utc``, ``frequency_10s_hz``,
        ``flags_10s``. A 10-min interval only partly covered by the record is not a
        complete aggregate and is left out (a gap).

        Parameters
        ----------
        agg : AggregatedMeasurements
        point_id : str, optional
            Point of delivery of the record (default ``agg.source``).
        """
        pid = point_id if point_id is not None else str(agg.source)
        names = [str(c) for c in agg.channel_names]
        rec = _WaveformRecord(
            cls,
            pid,
            str(agg.source),
            tuple(_channel_phase(c, i, len(names)) for i, c in enumerate(names)),
            agg.time_10min_utc,
            np.asarray(agg.coverage_10min_percent, dtype=np.float64) >= 100.0 - 1e-9,
            np.asarray(agg.flags_10min, dtype=bool),
        )
        parts = _aggregated_parts(agg, rec)
        ms = parts[0].combine(*parts[1:])
        dropped = int((~rec.full).sum())
        note = (
            [
                f"{pid}: {dropped} 10-min interval(s) only partly covered by the record "
                "were left out (gaps)"
            ]
            if dropped
            else []
        )
        return replace(ms, source=str(agg.source), notes=tuple(dict.fromkeys([*ms.notes, *note])))

    def combine(self, *others: MeasurementSet) -> MeasurementSet:
        """Merge sets with distinct quantities (e.g. voltage and THD from two files)."""
        sets = (self, *others)
        pids: list[str] = []
        for s in sets:
            pids += [p for p in s.point_ids if p not in pids]
        pos = {p: i for i, p in enumerate(pids)}
        merged: dict[str, IndicatorSeries] = {}
        for s in sets:
            for name, ser in s.series.items():
                if name in merged:
                    msg = (
                        f"combine: quantity {name!r} is in more than one set "
                        f"({s.source}); combine sets of distinct quantities"
                    )
                    raise InputError(msg)
                remap = np.array([pos[s.point_ids[i]] for i in ser.point_index], dtype=np.int64)
                merged[name] = replace(ser, point_index=remap)
        notes = tuple(dict.fromkeys(n for s in sets for n in s.notes))
        return _propagate_flags(
            MeasurementSet(tuple(pids), merged, " + ".join(s.source for s in sets), notes)
        )

    def to_frame(self) -> pd.DataFrame:
        """Canonical long layout: ``time_utc, point_id, indicator, phase, value, unit,
        flagged`` (gaps left out)."""
        parts = []
        for ser in self.series.values():
            r, c = np.nonzero(np.isfinite(ser.values))
            parts.append(
                pd.DataFrame(
                    {
                        "time_utc": ser.time_utc[r],
                        "point_id": np.asarray(self.point_ids, dtype=object)[ser.point_index[c]],
                        "indicator": ser.name,
                        "phase": np.asarray(ser.phases, dtype=object)[c],
                        "value": ser.values[r, c],
                        "unit": ser.unit,
                        "flagged": ser.flagged[r, c],
                    }
                )
            )
        if not parts:
            return pd.DataFrame(
                columns=["time_utc", "point_id", "indicator", "phase", "value", "unit", "flagged"]
            )
        return pd.concat(parts, ignore_index=True)

    def availability(self) -> pd.DataFrame:
        """Data availability per point, quantity and phase over the span of the data.

        Returns
        -------
        pandas.DataFrame
            ``point_id, indicator, phase, aggregation, first_utc, last_utc, n_expected,
            n_present, n_missing, n_flagged, availability_percent, longest_gap_s``.
            ``n_expected`` counts the grid intervals from the first to the last interval
            of the *quantity* (all points); gaps are never interpolated.
        """
        return availability_frame(self.point_ids, self.series.values())


@dataclass(frozen=True)
class _WaveformRecord:
    """One waveform record's aggregates as seen by :meth:`MeasurementSet.from_aggregated`.

    ``full`` marks the 10-min intervals the record covers completely (the others are
    left out as gaps); ``flags_10min`` the flagged ones.
    """

    cls: type[MeasurementSet]
    point_id: str
    source: str
    phases: tuple[str, ...]
    time_10min_utc: pd.DatetimeIndex
    full: BoolArray
    flags_10min: BoolArray

    def per_channel(self, name: str, values: Any, unit: str) -> MeasurementSet:
        """A 10-min quantity with one column per channel (phase)."""
        v = np.where(self.full[:, None], np.asarray(values, dtype=np.float64), np.nan)
        return self.cls.from_arrays(
            name,
            self.time_10min_utc,
            v[:, None, :],
            point_ids=[self.point_id],
            phases=self.phases,
            unit=unit,
            flagged=np.repeat(self.flags_10min[:, None, None], len(self.phases), axis=2),
            source=self.source,
        )

    def single(
        self, name: str, t: pd.DatetimeIndex, values: Any, flags: Any, keep: BoolArray, unit: str
    ) -> MeasurementSet:
        """A quantity with one column (no phase), values kept where ``keep``."""
        v = np.where(keep, np.asarray(values, dtype=np.float64), np.nan)
        return self.cls.from_arrays(
            name,
            t,
            v[:, None],
            point_ids=[self.point_id],
            unit=unit,
            flagged=np.asarray(flags, dtype=bool)[:, None],
            source=self.source,
        )


def _aggregated_parts(agg: Any, rec: _WaveformRecord) -> list[MeasurementSet]:
    """One set per quantity of the aggregates: voltage, δU, THD, harmonics, unbalance, f."""
    t10, full, f10 = rec.time_10min_utc, rec.full, rec.flags_10min
    parts = [
        rec.per_channel("voltage", agg.u_rms_10min_v, "V"),
        rec.per_channel("du_minus", agg.under_over_10min.under_percent, "percent"),
        rec.per_channel("du_plus", agg.under_over_10min.over_percent, "percent"),
        rec.per_channel("thd", agg.thd_10min_percent, "percent"),
    ]
    harm = np.asarray(agg.harmonics_10min_percent, dtype=np.float64)
    parts += [
        rec.per_channel(f"h{n}", harm[:, :, n], "percent") for n in range(2, min(harm.shape[2], 51))
    ]
    if len(rec.phases) == 3:
        parts += [
            rec.single("u2", t10, agg.unbalance_negative_10min_percent, f10, full, "percent"),
            rec.single("u0", t10, agg.unbalance_zero_10min_percent, f10, full, "percent"),
        ]
    if len(agg.time_10s_utc):
        f = np.asarray(agg.frequency_10s_hz, dtype=np.float64)
        parts.append(
            rec.single("frequency", agg.time_10s_utc, f, agg.flags_10s, np.isfinite(f), "Hz")
        )
    return parts


def _frame_channels(df: pd.DataFrame, where: _Where) -> tuple[IntArray, list[tuple[str, str, str]]]:
    """Channel code of each row of a canonical long frame, and the distinct channels."""
    n = len(df)
    ind = df["indicator"].astype(str).to_numpy()
    phase = (
        df["phase"].fillna("").astype(str).to_numpy()
        if "phase" in df.columns
        else np.full(n, "", dtype=object)
    )
    unit = (
        df["unit"].fillna("").astype(str).to_numpy()
        if "unit" in df.columns
        else np.full(n, "", dtype=object)
    )
    key = pd.MultiIndex.from_arrays([ind, phase, unit])
    codes, uniques = pd.factorize(key)
    channels = [
        _long_channel(str(i), str(p), str(u), where, int(np.argmax(codes == k)))
        for k, (i, p, u) in enumerate(uniques)
    ]
    return np.asarray(codes, dtype=np.int64), channels


def _frame_values(df: pd.DataFrame, where: _Where) -> FloatArray:
    """The ``value`` column as floats; empty, NaN or infinite cells are errors."""
    values = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(df["value"].isna().to_numpy() | ~np.isfinite(values))
    if bad.size:
        _bad_value(where, bad, "value", df["value"].to_numpy()[bad[0]])
    return values


def _assemble(
    where: _Where,
    records: _Records,
    point_ids: tuple[str, ...],
    channels: Sequence[tuple[str, str, str]],
    label: str,
) -> MeasurementSet:
    """Turn records (row, time, point, channel, value, flag) into one series per quantity."""
    by_quantity: dict[str, list[int]] = {}
    for k, (qn, _ph, _un) in enumerate(channels):
        by_quantity.setdefault(qn, []).append(k)
    series: dict[str, IndicatorSeries] = {}
    notes: list[str] = []
    rank = {name: i for i, name in enumerate(QUANTITIES)}
    chan_q = np.array([rank[c[0]] for c in channels], dtype=np.int64)
    qidx = chan_q[records.chan]
    for qname in sorted(by_quantity, key=rank.__getitem__):
        q = QUANTITIES[qname]
        sel = np.flatnonzero(qidx == rank[qname])
        if not sel.size:  # a wide column without any value
            continue
        sub = records.select(sel)
        t = sub.t_ns - (AGGREGATION_S[q.aggregation] * _NS if label == "end" else 0)
        _check_grid(where, t, sub.rows, q, int(t.min()))
        ser = _build_series(where, q, replace(sub, t_ns=t), point_ids, channels)
        series[qname] = ser
        notes += _series_notes(ser)
    if label == "end":
        notes.append("timestamps labelled interval ends were shifted to interval starts")
    used = sorted({int(i) for s in series.values() for i in s.point_index})
    remap = np.full(len(point_ids), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    series = {k: replace(s, point_index=remap[s.point_index]) for k, s in series.items()}
    ms = MeasurementSet(tuple(point_ids[i] for i in used), series, where.source, tuple(notes))
    return _propagate_flags(ms)


def _aware(idx: pd.DatetimeIndex, what: str) -> pd.DatetimeIndex:
    """Raise unless ``idx`` is a tz-aware DatetimeIndex."""
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
        msg = f"{what} must be a tz-aware DatetimeIndex (UTC interval starts)"
        raise InputError(msg)
    return idx


def flag_windows(ms: MeasurementSet) -> list[tuple[IntArray, IntArray, IntArray, str]]:
    """Flagged windows per quantity: (point index, start ns, end ns, aggregation)."""
    out: list[tuple[IntArray, IntArray, IntArray, str]] = []
    for ser in ms.series.values():
        r, c = np.nonzero(ser.flagged & np.isfinite(ser.values))
        if not r.size:
            continue
        start = utc_ns(ser.time_utc)[r]
        step = AGGREGATION_S[ser.quantity.aggregation] * _NS
        out.append((ser.point_index[c], start, start + step, ser.quantity.aggregation))
    return out


def apply_windows(
    ms: MeasurementSet,
    points: IntArray,
    start_ns: IntArray,
    end_ns: IntArray,
    aggregations: Mapping[str, bool] | None = None,
) -> MeasurementSet:
    """Flag every interval of a point that overlaps one of the windows ``[start, end)``.

    Parameters
    ----------
    points : numpy.ndarray of int
        Index into ``ms.point_ids`` of each window.
    start_ns, end_ns : numpy.ndarray of int
        Window start and end (exclusive), UTC [ns].
    aggregations : mapping str -> bool, optional
        Whether intervals of an aggregation (``'10s'`` ...) may be flagged (default all).
    """
    if points.size == 0:
        return ms
    out = dict(ms.series)
    order = np.argsort(points, kind="stable")
    p_sorted = points[order]
    for name, ser in ms.series.items():
        if aggregations is not None and not aggregations.get(ser.quantity.aggregation, True):
            continue
        t = utc_ns(ser.time_utc)
        step = AGGREGATION_S[ser.quantity.aggregation] * _NS
        # the windows of each column's point
        lo_w = np.searchsorted(p_sorted, ser.point_index, side="left")
        hi_w = np.searchsorted(p_sorted, ser.point_index, side="right")
        counts = hi_w - lo_w
        if not counts.any():
            continue
        cols = np.repeat(np.arange(ser.n_columns), counts)
        w = order[np.concatenate([np.arange(a, b) for a, b in zip(lo_w, hi_w, strict=True)])]
        first = np.searchsorted(t, start_ns[w] - step, side="right")
        last = np.searchsorted(t, end_ns[w], side="left")
        keep = last > first
        delta = np.zeros((len(t) + 1, ser.n_columns), dtype=np.int64)
        np.add.at(delta, (first[keep], cols[keep]), 1)
        np.add.at(delta, (last[keep], cols[keep]), -1)
        cover = np.cumsum(delta, axis=0)[:-1] > 0
        out[name] = replace(ser, flagged=ser.flagged | cover)
    return replace(ms, series=out)


def _propagate_flags(ms: MeasurementSet) -> MeasurementSet:
    """Flag intervals that contain a flagged interval of the same or a shorter length."""
    result = ms
    for pts, s, e, agg in flag_windows(ms):
        allowed = {a: AGGREGATION_S[a] >= AGGREGATION_S[agg] for a in AGGREGATION_S}
        result = apply_windows(result, pts, s, e, allowed)
    return result
