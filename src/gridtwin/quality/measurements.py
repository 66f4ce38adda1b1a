"""Aggregated power-quality measurements: read, check and hold them on the IEC grid.

A :class:`MeasurementSet` holds IEC 61000-4-30 aggregates of many points of delivery,
one :class:`IndicatorSeries` per measured quantity:

=============================== ======== ========= ======================================
quantity                        interval unit      names accepted (case-insensitive)
=============================== ======== ========= ======================================
``frequency``                   10 s     Hz        frequency, freq, f
``voltage``                     10 min   V         voltage, u, v, u_rms, urms
``voltage_under_deviation``     10 min   % of U0   du_minus, u_under, delta_u_minus
``voltage_over_deviation``      10 min   % of U0   du_plus, u_over, delta_u_plus
``unbalance_negative_sequence`` 10 min   %         u2, k2u, unbalance_u2
``unbalance_zero_sequence``     10 min   %         u0, k0u, unbalance_u0
``thd``                         10 min   % of U1   thd, thd_u, ku
``harmonic_<n>`` (n = 2..50)    10 min   % of U1   h<n>, harmonic_<n>, ku<n>
``pst``                         10 min   1         pst
``plt``                         2 h      1         plt
=============================== ======== ========= ======================================

A name may carry a phase (``a b c``, ``l1 l2 l3`` phase-to-neutral; ``ab bc ca``,
``l12 l23 l31`` line-to-line) and a unit (``v kv hz percent pct % pu``), e.g.
``voltage_l1_kv`` or ``thd_b_%``.

Files (CSV or Parquet) come in two layouts:

- **long**: one row per value, columns ``timestamp, point_id, indicator, phase, value``
  and optionally ``unit`` and ``flagged``; ``indicator`` may carry the phase and unit
  (``voltage_a_kv``) when ``phase`` / ``unit`` are absent or empty;
- **wide**: one row per timestamp (and point, if a ``point_id`` column exists), one
  column per quantity, phase and unit, e.g. ``voltage_a_v, voltage_b_v, thd_a_percent,
  h5_a, u2_percent, frequency_hz, pst_a, flagged``. An empty cell means *no value*: a
  wide file may hold 10-s frequency rows and 10-min voltage rows together.

Rules (``docs/conventions.md``):

- Timestamps are tz-aware UTC (or local with ``timezone=``) and label interval *starts*
  (``label='end'`` shifts instrument end-stamps by the quantity's own interval). Values
  must lie on the IEC 61000-4-30 UTC grid of their quantity (10 s, 10 min; 2-h Plt on
  10-min ticks at 2-h steps): an off-grid timestamp is an error naming the row.
- Gaps are kept as gaps (``NaN`` in :attr:`IndicatorSeries.values`), never interpolated,
  and reported by :meth:`MeasurementSet.availability`. ``NaN``/``inf`` *written* in a file,
  duplicates and negative values are errors naming the row.
- Units are taken from the name (``_v``, ``_kv``, ``_hz``, ``_percent``/``_pct``/``%``,
  ``_pu``) or the ``unit`` column. Percent quantities given in p.u. are multiplied by 100.
  Voltages are checked against the reference voltage by :func:`normalise_voltage_units`
  (via :func:`gridtwin.quality.infer_voltage_unit`): a stated unit that contradicts the
  magnitude (kV values in a ``_v`` column) is an error; an unstated unit is read from
  the magnitude (V, kV, p.u. or % of U0) and a note says so.
- Flags (IEC 61000-4-30 4.7 flagging concept, GOST 30804.4.30): a ``flagged`` row flags
  its interval at its point for every quantity of the same interval length, and every
  longer interval that contains it (a flagged 10-s value flags its 10-min interval and
  that interval's 2-h Plt interval); it never flags shorter intervals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from gridtwin._parquet import parquet_columns
from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality._limits import AGGREGATION_S, Aggregation
from gridtwin.quality._unit_inference import infer_voltage_unit
from gridtwin.timeseries import utc_ns

__all__ = [
    "LINE_PHASES",
    "QUANTITIES",
    "IndicatorSeries",
    "MeasurementLayout",
    "MeasurementSet",
    "Quantity",
    "SupportsToFrame",
    "normalise_voltage_units",
    "parse_channel",
    "read_measurements",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
MeasurementLayout = Literal["auto", "long", "wide"]
VoltageUnitArg = Literal["auto", "V", "kV", "pu", "percent"]

_NS: Final = 1_000_000_000
_SQRT3: Final = float(np.sqrt(3.0))
_DICT_STR: Final = pa.dictionary(pa.int32(), pa.string())
_READ_OPTS: Final = pacsv.ReadOptions(block_size=16 << 20)


@dataclass(frozen=True)
class Quantity:
    """A measured power-quality quantity.

    Attributes
    ----------
    name : str
        Canonical name (``'voltage'``, ``'thd'``, ``'harmonic_5'`` ...).
    aggregation : {'10s', '10min', '2h'}
        IEC 61000-4-30 aggregation interval.
    unit : str
        Unit after reading: ``'V'``, ``'Hz'``, ``'percent'`` or ``'1'``.
    indicator : str
        Name of the limit-set indicator that judges it (``'voltage_deviation'`` for the
        voltage quantities, ``'frequency_deviation'`` for frequency).
    """

    name: str
    aggregation: Aggregation
    unit: str
    indicator: str


def _quantities() -> dict[str, Quantity]:
    out = {
        "frequency": Quantity("frequency", "10s", "Hz", "frequency_deviation"),
        "voltage": Quantity("voltage", "10min", "V", "voltage_deviation"),
        "voltage_under_deviation": Quantity(
            "voltage_under_deviation", "10min", "percent", "voltage_deviation"
        ),
        "voltage_over_deviation": Quantity(
            "voltage_over_deviation", "10min", "percent", "voltage_deviation"
        ),
        "unbalance_negative_sequence": Quantity(
            "unbalance_negative_sequence", "10min", "percent", "unbalance_negative_sequence"
        ),
        "unbalance_zero_sequence": Quantity(
            "unbalance_zero_sequence", "10min", "percent", "unbalance_zero_sequence"
        ),
        "thd": Quantity("thd", "10min", "percent", "thd"),
        "pst": Quantity("pst", "10min", "1", "pst"),
        "plt": Quantity("plt", "2h", "1", "plt"),
    }
    for n in range(2, 51):
        out[f"harmonic_{n}"] = Quantity(f"harmonic_{n}", "10min", "percent", f"harmonic_{n}")
    return out


#: Every quantity the reader knows, by canonical name.
QUANTITIES: Final[dict[str, Quantity]] = _quantities()

#: Canonical line-to-line phase labels (all others are phase-to-neutral or ``''``).
LINE_PHASES: Final = ("ab", "bc", "ca")

_ALIASES: Final[dict[str, str]] = {
    **{a: "frequency" for a in ("frequency", "freq", "f")},
    **{
        a: "voltage" for a in ("voltage", "u", "v", "u_rms", "urms", "v_rms", "vrms", "voltage_rms")
    },
    **{
        a: "voltage_under_deviation"
        for a in (
            "voltage_under_deviation",
            "du_minus",
            "u_under",
            "delta_u_minus",
            "under_deviation",
        )
    },
    **{
        a: "voltage_over_deviation"
        for a in ("voltage_over_deviation", "du_plus", "u_over", "delta_u_plus", "over_deviation")
    },
    **{
        a: "unbalance_negative_sequence"
        for a in ("unbalance_negative_sequence", "u2", "k2u", "unbalance_u2", "vuf")
    },
    **{
        a: "unbalance_zero_sequence"
        for a in ("unbalance_zero_sequence", "u0", "k0u", "unbalance_u0")
    },
    **{a: "thd" for a in ("thd", "thd_u", "thdu", "thd_v", "ku")},
    "pst": "pst",
    "plt": "plt",
}
_HARMONIC: Final = re.compile(r"^(?:h|harmonic|ku|uh|u_h)_?(\d{1,2})$")
_PHASES: Final[dict[str, str]] = {
    "a": "a",
    "b": "b",
    "c": "c",
    "l1": "a",
    "l2": "b",
    "l3": "c",
    "ab": "ab",
    "bc": "bc",
    "ca": "ca",
    "l12": "ab",
    "l23": "bc",
    "l31": "ca",
}
_UNITS: Final[dict[str, str]] = {
    "v": "V",
    "kv": "kV",
    "hz": "Hz",
    "percent": "percent",
    "pct": "percent",
    "pu": "pu",
    "p_u": "pu",
}
_TRUE: Final = frozenset({"true", "1", "yes", "y", "t", "1.0"})
_FALSE: Final = frozenset({"false", "0", "no", "n", "f", "0.0", ""})
_FLAG_NAMES: Final = ("flagged", "flag", "flags")


def parse_channel(name: str) -> tuple[str, str, str] | None:
    """Read quantity, phase and unit from a column or indicator name.

    Parameters
    ----------
    name : str
        E.g. ``'voltage_a_v'``, ``'U_L1 [kV]'``, ``'thd_b_%'``, ``'h5_c'``, ``'u2'``.

    Returns
    -------
    tuple of str or None
        ``(quantity, phase, unit)`` with the canonical quantity name, the phase (``'a'``,
        ``'b'``, ``'c'``, ``'ab'``, ``'bc'``, ``'ca'`` or ``''``) and the stated unit
        (``'V'``, ``'kV'``, ``'Hz'``, ``'percent'``, ``'pu'`` or ``''`` if none);
        ``None`` if the name is not a known quantity.

    Examples
    --------
    >>> parse_channel("U_L1 [kV]")
    ('voltage', 'a', 'kV')
    >>> parse_channel("thd_b_%")
    ('thd', 'b', 'percent')
    """
    text = name.strip().lower().replace("%", "_percent").replace("p.u.", "pu")
    tokens = [t for t in re.split(r"[^a-z0-9]+", text) if t]
    unit = phase = ""
    if len(tokens) > 1 and tokens[-1] in _UNITS:
        unit = _UNITS[tokens.pop()]
    elif len(tokens) > 2 and "_".join(tokens[-2:]) in _UNITS:
        unit = _UNITS["_".join(tokens[-2:])]
        del tokens[-2:]
    if len(tokens) > 1 and tokens[-1] in _PHASES:
        phase = _PHASES[tokens.pop()]
    joined = "_".join(tokens)
    if joined in _ALIASES:
        return _ALIASES[joined], phase, unit
    m = _HARMONIC.match(joined)
    if m and 2 <= int(m.group(1)) <= 50:
        return f"harmonic_{int(m.group(1))}", phase, unit
    return None


# --------------------------------------------------------------------------- containers


@dataclass(frozen=True)
class IndicatorSeries:
    """One measured quantity of many points on its IEC 61000-4-30 grid.

    Attributes
    ----------
    quantity : Quantity
        What is measured, its interval and unit.
    time_utc : pandas.DatetimeIndex, shape (T,)
        Interval starts (UTC), strictly increasing; the union over all columns.
    point_index : numpy.ndarray of int, shape (C,)
        Column -> index into :attr:`MeasurementSet.point_ids`.
    phases : tuple of str, length C
        Column -> phase (``'a'``, ``'b'``, ``'c'``, ``'ab'``, ``'bc'``, ``'ca'`` or ``''``).
    values : numpy.ndarray, shape (T, C)
        Values in ``unit``; ``NaN`` where a column has no value (gap).
    flagged : numpy.ndarray of bool, shape (T, C)
        IEC 61000-4-30 flag of each interval (after propagation, see the module notes).
    unit : str
        Unit of ``values``. For ``voltage`` it is ``'V'`` once
        :func:`normalise_voltage_units` has run; before, per-column stated units are in
        ``stated_units``.
    stated_units : tuple of str, length C
        The unit each column stated in the file (``''`` if none).
    """

    quantity: Quantity
    time_utc: pd.DatetimeIndex
    point_index: IntArray
    phases: tuple[str, ...]
    values: FloatArray
    flagged: BoolArray
    unit: str
    stated_units: tuple[str, ...]

    @property
    def name(self) -> str:
        """Canonical quantity name."""
        return self.quantity.name

    @property
    def step(self) -> pd.Timedelta:
        """Aggregation interval."""
        return pd.Timedelta(seconds=AGGREGATION_S[self.quantity.aggregation])

    @property
    def n_columns(self) -> int:
        """Number of (point, phase) columns."""
        return int(self.values.shape[1])


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
        pcodes, pids = pd.factorize(df["point_id"].astype(str))
        values = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(df["value"].isna().to_numpy() | ~np.isfinite(values))
        if bad.size:
            _bad_value(where, bad, "value", df["value"].to_numpy()[bad[0]])
        flags = (
            _flag_values(df["flagged"].to_numpy(), where)
            if "flagged" in df.columns
            else np.zeros(n, dtype=bool)
        )
        return _assemble(
            where,
            np.arange(n, dtype=np.int64),
            t_ns,
            np.asarray(pcodes, dtype=np.int64),
            tuple(str(p) for p in pids),
            np.asarray(codes, dtype=np.int64),
            channels,
            values,
            flags,
            label,
        )

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
        phases = tuple(_channel_phase(c, i, len(names)) for i, c in enumerate(names))
        t10 = agg.time_10min_utc
        full = np.asarray(agg.coverage_10min_percent, dtype=np.float64) >= 100.0 - 1e-9
        f10 = np.asarray(agg.flags_10min, dtype=bool)

        def per_channel(name: str, values: Any, unit: str) -> MeasurementSet:
            v = np.where(full[:, None], np.asarray(values, dtype=np.float64), np.nan)
            return cls.from_arrays(
                name,
                t10,
                v[:, None, :],
                point_ids=[pid],
                phases=phases,
                unit=unit,
                flagged=np.repeat(f10[:, None, None], len(phases), axis=2),
                source=str(agg.source),
            )

        def single(
            name: str, t: pd.DatetimeIndex, values: Any, flags: Any, keep: BoolArray, unit: str
        ) -> MeasurementSet:
            v = np.where(keep, np.asarray(values, dtype=np.float64), np.nan)
            return cls.from_arrays(
                name,
                t,
                v[:, None],
                point_ids=[pid],
                unit=unit,
                flagged=np.asarray(flags, dtype=bool)[:, None],
                source=str(agg.source),
            )

        parts = [
            per_channel("voltage", agg.u_rms_10min_v, "V"),
            per_channel("du_minus", agg.under_over_10min.under_percent, "percent"),
            per_channel("du_plus", agg.under_over_10min.over_percent, "percent"),
            per_channel("thd", agg.thd_10min_percent, "percent"),
        ]
        harm = np.asarray(agg.harmonics_10min_percent, dtype=np.float64)
        parts += [
            per_channel(f"h{n}", harm[:, :, n], "percent") for n in range(2, min(harm.shape[2], 51))
        ]
        if len(names) == 3:
            parts += [
                single("u2", t10, agg.unbalance_negative_10min_percent, f10, full, "percent"),
                single("u0", t10, agg.unbalance_zero_10min_percent, f10, full, "percent"),
            ]
        if len(agg.time_10s_utc):
            f = np.asarray(agg.frequency_10s_hz, dtype=np.float64)
            parts.append(
                single("frequency", agg.time_10s_utc, f, agg.flags_10s, np.isfinite(f), "Hz")
            )
        ms = parts[0].combine(*parts[1:])
        dropped = int((~full).sum())
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
        frames = []
        for ser in self.series.values():
            t = utc_ns(ser.time_utc)
            step_ns = AGGREGATION_S[ser.quantity.aggregation] * _NS
            present = np.isfinite(ser.values)
            n_exp = int((t[-1] - t[0]) // step_ns + 1) if len(t) else 0
            first = np.where(present.any(axis=0), present.argmax(axis=0), -1)
            last = np.where(present.any(axis=0), len(t) - 1 - present[::-1].argmax(axis=0), -1)
            gaps = _longest_gaps(t, present, step_ns)
            n_present = present.sum(axis=0)
            frames.append(
                pd.DataFrame(
                    {
                        "point_id": np.asarray(self.point_ids, dtype=object)[ser.point_index],
                        "indicator": ser.name,
                        "phase": list(ser.phases),
                        "aggregation": ser.quantity.aggregation,
                        "first_utc": _times_at(ser.time_utc, first),
                        "last_utc": _times_at(ser.time_utc, last),
                        "n_expected": n_exp,
                        "n_present": n_present,
                        "n_missing": n_exp - n_present,
                        "n_flagged": (ser.flagged & present).sum(axis=0),
                        "availability_percent": 100.0 * n_present / max(n_exp, 1),
                        "longest_gap_s": gaps,
                    }
                )
            )
        return (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["point_id", "indicator", "phase"])
        )


# --------------------------------------------------------------------------- reading


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
    names = _csv_names(file) if is_csv else parquet_columns(file)
    if timestamp_column not in names:
        msg = (
            f"{file}: no timestamp column {timestamp_column!r}; found {names[:10]}. Pass "
            "timestamp_column= with the right name"
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
    if point_column in names:
        pcodes, pids = _codes(table.column(point_column))
        empty = np.flatnonzero(pcodes < 0)
        if empty.size:
            msg = f"{file}: {where.rows(empty)}: empty {point_column}; every row needs one"
            raise InputError(msg)
        point_ids = tuple(str(p) for p in pids)
    else:
        pcodes = np.zeros(n, dtype=np.int64)
        point_ids = (point_id if point_id is not None else file.name.split(".")[0],)
    flag_col = next((c for c in _FLAG_NAMES if c in names), None)
    flags = (
        _table_flags(table.column(flag_col), where)
        if flag_col is not None
        else np.zeros(n, dtype=bool)
    )
    if long:
        return _long_records(table, where, t_ns, pcodes, point_ids, flags, label)
    skip = {timestamp_column, point_column, *_FLAG_NAMES}
    return _wide_records(
        table, [c for c in names if c not in skip], where, t_ns, pcodes, point_ids, flags, label
    )


@dataclass(frozen=True)
class _Where:
    """Names a file and its rows in messages (1-based data rows, header excluded)."""

    source: str
    csv: bool

    def rows(self, idx: npt.ArrayLike, limit: int = 5) -> str:
        flat = np.atleast_1d(np.asarray(idx, dtype=np.int64)) + 1
        shown = ", ".join(str(int(r)) for r in flat[:limit])
        more = f" and {flat.size - limit} more" if flat.size > limit else ""
        word = "data row" if self.csv else "row"
        plural = "s" if flat.size > 1 else ""
        scope = "1-based, header excluded" if self.csv else "1-based"
        return f"{word}{plural} {shown}{more} ({scope})"


def _is_csv(file: Path) -> bool:
    name = file.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return True
    if name.endswith((".parquet", ".pq")):
        return False
    msg = f"{file}: unknown file type; expected a name ending in .csv, .csv.gz, .parquet or .pq"
    raise InputError(msg)


def _check_zone(tz: str, where: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"{where}: unknown time zone {tz!r}; use an IANA name such as 'Europe/Moscow'"
        raise InputError(msg) from exc


def _csv_names(file: Path) -> list[str]:
    try:
        with pacsv.open_csv(
            str(file),
            convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=True),
        ) as reader:
            return [str(n) for n in reader.schema.names]
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = f"{file}: cannot read a CSV header ({exc}); expected comma-separated columns"
        raise InputError(msg) from exc


def _read_table(
    file: Path, names: list[str], is_csv: bool, long: bool, ts_col: str, point_col: str
) -> Any:
    """Read with pyarrow: ids dictionary-encoded, values float64 (empty cell = null)."""
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        msg = f"{file}: the header repeats column name(s) {dup}; column names must be unique"
        raise InputError(msg)
    text_cols = {ts_col, point_col, *_FLAG_NAMES}
    if long:
        need = [c for c in ("indicator", "value") if c not in names]
        if need:
            msg = (
                f"{file}: long layout needs columns timestamp, point_id, indicator, "
                f"[phase], value, [unit], [flagged]; {need} missing, found {names[:10]}"
            )
            raise InputError(msg)
        text_cols |= {"indicator", "phase", "unit"}
    value_cols = [c for c in names if c not in text_cols]
    if is_csv:
        types = {c: (_DICT_STR if c in text_cols else pa.float64()) for c in names}
        opts = pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=True)
        try:
            return pacsv.read_csv(str(file), _READ_OPTS, convert_options=opts)
        except pa.ArrowInvalid as exc:
            if "conversion error" in str(exc) or "CSV conversion" in str(exc):
                _raise_bad_number(file, value_cols)
            msg = f"{file}: cannot read as CSV ({exc}); check the delimiter (comma) and quoting"
            raise InputError(msg) from exc
        except (pa.ArrowException, OSError) as exc:
            msg = f"{file}: cannot read as CSV ({exc})"
            raise InputError(msg) from exc
    try:
        table = pq.read_table(str(file))
    except (pa.ArrowException, OSError, ValueError) as exc:
        msg = f"{file}: cannot read as Parquet ({exc})"
        raise InputError(msg) from exc
    for col in value_cols:
        typ = table.column(col).type
        if not (pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ)):
            msg = f"{file}: column {col!r} has type {typ}; expected numbers"
            raise InputError(msg)
        table = table.set_column(names.index(col), col, table.column(col).cast(pa.float64()))
    return table


def _raise_bad_number(file: Path, value_cols: list[str]) -> None:
    opts = pacsv.ConvertOptions(
        column_types=dict.fromkeys(value_cols, pa.string()), include_columns=value_cols
    )
    table = pacsv.read_csv(str(file), convert_options=opts)
    for col in value_cols:
        text = pd.Series(table.column(col).to_pylist(), dtype=object)
        num = pd.to_numeric(text.replace("", np.nan), errors="coerce")
        bad = np.flatnonzero(
            num.isna().to_numpy() & text.notna().to_numpy() & (text != "").to_numpy()
        )
        if bad.size:
            msg = (
                f"{file}: data row {int(bad[0]) + 1} (1-based, header excluded), column "
                f"{col!r}: {text.iloc[int(bad[0])]!r} is not a number (use a dot as "
                "decimal separator; leave the cell empty for no value)"
            )
            raise InputError(msg)
    msg = f"{file}: a value column is not numeric (columns {value_cols[:10]})"
    raise InputError(msg)


def _codes(column: Any) -> tuple[IntArray, list[Any]]:
    arr = column.combine_chunks()
    if not pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_encode()
    idx = arr.indices.fill_null(-1) if arr.indices.null_count else arr.indices
    return np.asarray(idx.to_numpy(), dtype=np.int64), list(arr.dictionary.to_pylist())


def _table_times(column: Any, tz: str | None, where: _Where) -> IntArray:
    """UTC ns per row from a timestamp column (text or timestamp type)."""
    typ = column.type
    if pa.types.is_timestamp(typ):
        if typ.tz is None:
            stamps = pd.DatetimeIndex(column.to_pandas())
            return _localise(stamps, np.arange(len(stamps), dtype=np.int64), tz, where)
        ns = column.cast(pa.timestamp("ns", tz="UTC")).combine_chunks()
        nulls = np.asarray(ns.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if nulls.any():
            msg = f"{where.source}: {where.rows(np.flatnonzero(nulls))}: empty timestamp"
            raise InputError(msg)
        return np.asarray(ns.cast(pa.int64()).to_numpy(), dtype=np.int64)
    codes, uniq = _codes(column)
    empty = np.flatnonzero(codes < 0)
    if empty.size:
        msg = f"{where.source}: {where.rows(empty)}: empty timestamp"
        raise InputError(msg)
    first_rows = _first_rows(codes, len(uniq))
    parsed = _parse_text_times([str(u) for u in uniq], first_rows, tz, where)
    return parsed[codes]


def _frame_times(col: pd.Series, tz: str | None, where: _Where) -> IntArray:
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


def _table_flags(column: Any, where: _Where) -> BoolArray:
    """Flags of a pyarrow column (text via its dictionary: each distinct value once)."""
    typ = column.type
    if pa.types.is_dictionary(typ) or pa.types.is_string(typ) or pa.types.is_large_string(typ):
        codes, uniq = _codes(column)
        parsed = _flag_values(
            np.array(["", *[str(u) for u in uniq]], dtype=object),
            where,
            rows=np.r_[0, _first_rows(codes, len(uniq))],
        )
        return np.asarray(parsed[codes + 1], dtype=bool)
    arr = column.combine_chunks()
    if arr.null_count:
        arr = arr.fill_null(False if pa.types.is_boolean(typ) else 0)
    return _flag_values(np.asarray(arr.to_numpy(zero_copy_only=False)), where)


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


def _channel_phase(name: str, i: int, n: int) -> str:
    """Phase of a waveform channel: from its name (L1, UA, VB ...) or its position."""
    t = name.strip().lower()
    if t in _PHASES:
        return _PHASES[t]
    if len(t) > 1 and t[0] in "uv" and t[1:].lstrip("_") in _PHASES:
        return _PHASES[t[1:].lstrip("_")]
    if n == 3:
        return ("a", "b", "c")[i]
    if n == 1:
        return ""
    msg = (
        f"channel {name!r}: cannot tell its phase; name channels L1, L2, L3 (or UA, UB, "
        "UC, or ab, bc, ca)"
    )
    raise InputError(msg)


def _canon_phase(text: str, where: str) -> str:
    t = text.strip().lower()
    if t in ("", "none", "-", "abc", "3ph", "total"):
        return ""
    if t in _PHASES:
        return _PHASES[t]
    msg = (
        f"{where}: unknown phase {text!r}; use a, b, c (or L1, L2, L3) for phase-to-"
        "neutral, ab, bc, ca (or L12, L23, L31) for line-to-line, or leave it empty"
    )
    raise InputError(msg)


def _canon_unit(text: str, where: str) -> str:
    t = text.strip().lower().replace("%", "percent").replace("p.u.", "pu")
    if t in ("", "1", "-", "none"):
        return ""
    if t in _UNITS:
        return _UNITS[t]
    msg = f"{where}: unknown unit {text!r}; use V, kV, Hz, percent (%), pu or leave it empty"
    raise InputError(msg)


def _known_text() -> str:
    return (
        "frequency, voltage, du_minus/du_plus, u2, u0, thd, h2..h50, pst, plt "
        "(optionally with a phase a/b/c/ab/bc/ca and a unit v/kv/hz/percent/pu)"
    )


def _long_channel(ind: str, phase: str, unit: str, where: _Where, row: int) -> tuple[str, str, str]:
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
    msg = (
        f"{where.source}: {where.rows(rows)}: empty, NaN or infinite value in column "
        f"{column!r} (first: {first!r}). A NaN in the file is bad data: supply the value, "
        "or drop the row to mark the interval missing (gaps are never interpolated)"
    )
    raise DataQualityError(msg)


def _long_records(
    table: Any,
    where: _Where,
    t_ns: IntArray,
    pcodes: IntArray,
    point_ids: tuple[str, ...],
    flags: BoolArray,
    label: str,
) -> MeasurementSet:
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
    col = table.column("value").combine_chunks()
    nulls = np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    values = np.asarray(col.fill_null(np.nan).to_numpy(), dtype=np.float64)
    bad = np.flatnonzero(nulls | ~np.isfinite(values))
    if bad.size:
        _bad_value(where, bad, "value", None if nulls[bad[0]] else float(values[bad[0]]))
    return _assemble(
        where,
        np.arange(n, dtype=np.int64),
        t_ns,
        pcodes,
        point_ids,
        chan,
        channels,
        values,
        flags,
        label,
    )


def _dense_codes(key: IntArray, size: int) -> tuple[IntArray, IntArray]:
    """Codes ``0..k-1`` of the distinct keys (in key order) and the distinct keys.

    ``key`` holds non-negative integers below ``size``; O(n + size), no sort.
    """
    seen = np.zeros(size, dtype=bool)
    seen[key] = True
    uniq = np.flatnonzero(seen)
    remap = np.full(size, -1, dtype=np.int64)
    remap[uniq] = np.arange(uniq.size, dtype=np.int64)
    return remap[key], uniq


def _wide_records(
    table: Any,
    value_cols: list[str],
    where: _Where,
    t_ns: IntArray,
    pcodes: IntArray,
    point_ids: tuple[str, ...],
    flags: BoolArray,
    label: str,
) -> MeasurementSet:
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
    return _assemble(
        where,
        rows,
        t_ns[rows],
        pcodes[rows],
        point_ids,
        np.concatenate(chans_l),
        channels,
        np.concatenate(vals_l),
        flags[rows],
        label,
    )


# --------------------------------------------------------------------------- assembly


def _check_grid(where: _Where, t: IntArray, rows: IntArray, q: Quantity, origin: int) -> None:
    """Raise naming the first row whose timestamp is off the quantity's UTC grid."""
    step = AGGREGATION_S[q.aggregation] * _NS
    tick = min(step, 600 * _NS)
    off = np.flatnonzero(t % tick)
    what = f"{q.aggregation} UTC" if tick == step else "10-min UTC"
    if not off.size and tick != step:
        off = np.flatnonzero((t - origin) % step)
        what = f"{q.aggregation} steps from its first value ({_iso(origin)})"
    if off.size:
        i = int(off[0])
        msg = (
            f"{where.source}: {where.rows(rows[i])}: {q.name} timestamp {_iso(t[i])} (as "
            f"interval start) is off the {what} grid ({off.size} off-grid value(s) in "
            f"all). IEC 61000-4-30 {q.aggregation} values start on the clock ticks of "
            "their interval: realign the data, or pass label='end' if the timestamps "
            "mark interval ends"
        )
        raise DataQualityError(msg)


def _iso(t: int | np.int64) -> str:
    return pd.Timestamp(int(t), tz="UTC").isoformat()


def _assemble(
    where: _Where,
    rows: IntArray,
    t_ns: IntArray,
    pcodes: IntArray,
    point_ids: tuple[str, ...],
    chan: IntArray,
    channels: Sequence[tuple[str, str, str]],
    values: FloatArray,
    flags: BoolArray,
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
    qidx = chan_q[chan]
    for qname in sorted(by_quantity, key=rank.__getitem__):
        q = QUANTITIES[qname]
        sel = np.flatnonzero(qidx == rank[qname])
        if not sel.size:  # a wide column without any value
            continue
        t = t_ns[sel] - (AGGREGATION_S[q.aggregation] * _NS if label == "end" else 0)
        _check_grid(where, t, rows[sel], q, int(t.min()))
        ser = _build_series(
            where,
            q,
            rows[sel],
            t,
            pcodes[sel],
            point_ids,
            chan[sel],
            channels,
            values[sel],
            flags[sel],
        )
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


def _build_series(
    where: _Where,
    q: Quantity,
    rows: IntArray,
    t: IntArray,
    pcodes: IntArray,
    point_ids: tuple[str, ...],
    chan: IntArray,
    channels: Sequence[tuple[str, str, str]],
    values: FloatArray,
    flags: BoolArray,
) -> IndicatorSeries:
    """Place records on a (time, column) matrix; a column is one (point, phase)."""
    phase_names = sorted({c[1] for c in channels})
    unit_names = sorted({c[2] for c in channels})
    chan_phase = np.array([phase_names.index(c[1]) for c in channels], dtype=np.int64)
    chan_unit = np.array([unit_names.index(c[2]) for c in channels], dtype=np.int64)
    n_ph, n_un = len(phase_names), len(unit_names)
    colkey = pcodes * n_ph + chan_phase[chan]
    ccodes, cols = _dense_codes(colkey, len(point_ids) * n_ph)
    n_cols = cols.size
    # the stated unit must be the same in a whole column
    pair = np.zeros(n_cols * n_un, dtype=bool)
    ucode = chan_unit[chan]
    pair[ccodes * n_un + ucode] = True
    multi = np.flatnonzero(pair.reshape(n_cols, n_un).sum(axis=1) > 1)
    if multi.size:
        k = int(multi[0])
        sel = ccodes == k
        p, ph = divmod(int(cols[k]), n_ph)
        msg = (
            f"{where.source}: {where.rows(rows[sel][:2])}: {q.name} of point "
            f"{point_ids[p]!r} phase {phase_names[ph] or '-'} is stated in more than one "
            f"unit {sorted({unit_names[u] for u in ucode[sel]})}; use one unit per column"
        )
        raise InputError(msg)
    col_unit = np.zeros(n_cols, dtype=np.int64)
    col_unit[ccodes] = ucode
    times = np.sort(np.asarray(pd.unique(t), dtype=np.int64))
    pos = np.searchsorted(times, t)
    flat = pos * n_cols + ccodes
    count = np.bincount(flat, minlength=len(times) * n_cols)
    if count.max(initial=0) > 1:
        cell = int(np.argmax(count > 1))
        a, b = rows[flat == cell][:2]
        p, ph = divmod(int(cols[cell % n_cols]), n_ph)
        msg = (
            f"{where.source}: {where.rows([a, b])}: duplicate {q.name} value for point "
            f"{point_ids[p]!r} phase {phase_names[ph] or '-'} at "
            f"{_iso(times[cell // n_cols])}; keep one row per point, quantity, phase and "
            "interval"
        )
        raise DataQualityError(msg)
    mat = np.full((len(times), n_cols), np.nan)
    mat[pos, ccodes] = values
    fl = np.zeros(mat.shape, dtype=bool)
    fl[pos, ccodes] = flags
    point_index = cols // n_ph
    phases = tuple(phase_names[int(c) % n_ph] for c in cols)
    units = tuple(unit_names[int(u)] for u in col_unit)
    return _finish_series(
        q, times, point_index, phases, mat, fl, units, where, rows_at=(pos, ccodes, rows)
    )


def _finish_series(
    q: Quantity,
    times: IntArray,
    point_index: IntArray,
    phases: tuple[str, ...],
    mat: FloatArray,
    fl: BoolArray,
    stated: tuple[str, ...],
    where: _Where,
    rows_at: tuple[IntArray, IntArray, IntArray] | None = None,
) -> IndicatorSeries:
    """Convert stated units and check the sign; voltage waits for the reference voltage."""
    if q.unit != "V":
        allowed = {"", q.unit} | ({"pu"} if q.unit == "percent" else set())
        for k, u in enumerate(stated):
            if u not in allowed:
                msg = (
                    f"{where.source}: {q.name} is in {q.unit} but a column states {u!r}; "
                    f"fix the unit in the column name or the unit column (allowed: "
                    f"{sorted(allowed - {''})} or none)"
                )
                raise InputError(msg)
            if u == "pu":
                mat[:, k] *= 100.0
    neg = mat < 0
    if neg.any():
        r, c = np.argwhere(neg)[0]
        what = where.source
        if rows_at is not None:
            pos, ccodes, rows = rows_at
            what = f"{where.source}: {where.rows(rows[(pos == r) & (ccodes == c)][:1])}"
        msg = (
            f"{what}: {q.name} value {mat[r, c]:g} is negative; {q.name} is non-negative "
            f"(in {q.unit}): check the column and its unit"
        )
        raise DataQualityError(msg)
    unit = q.unit if q.unit != "V" else "unresolved"
    idx = pd.DatetimeIndex(times.astype("datetime64[ns]")).tz_localize("UTC")
    return IndicatorSeries(q, idx, point_index, phases, mat, fl, unit, stated)


def _series_notes(ser: IndicatorSeries) -> list[str]:
    """Notes on unit conversions done while reading a series."""
    out = []
    if any(u == "pu" for u in ser.stated_units) and ser.quantity.unit == "percent":
        out.append(f"{ser.name}: values stated in p.u. were multiplied by 100 (percent)")
    return out


def _times_at(idx: pd.DatetimeIndex, pos: IntArray) -> pd.DatetimeIndex:
    out = pd.DatetimeIndex(
        np.where(pos >= 0, utc_ns(idx)[np.maximum(pos, 0)], np.iinfo(np.int64).min).astype(
            "datetime64[ns]"
        )
    )
    return out.tz_localize("UTC")


def _longest_gaps(t: IntArray, present: BoolArray, step_ns: int) -> FloatArray:
    """Longest run of missing grid intervals between the first and last value [s].

    One sweep over the rows (time), vectorised over the columns.
    """
    n_cols = present.shape[1]
    best = np.zeros(n_cols, dtype=np.int64)
    if present.all():
        best[:] = np.max(np.diff(t), initial=step_ns) - step_ns
        return best / _NS
    last = np.full(n_cols, np.iinfo(np.int64).min, dtype=np.int64)
    seen = np.zeros(n_cols, dtype=bool)
    for i in range(present.shape[0]):
        row = present[i]
        upd = row & seen
        if upd.any():
            np.maximum(best, np.where(upd, t[i] - last - step_ns, 0), out=best)
        last[row] = t[i]
        seen |= row
    return best / _NS


def _aware(idx: pd.DatetimeIndex, what: str) -> pd.DatetimeIndex:
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
        msg = f"{what} must be a tz-aware DatetimeIndex (UTC interval starts)"
        raise InputError(msg)
    return idx


# --------------------------------------------------------------------------- flags


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


# --------------------------------------------------------------------------- voltage units


_FIX: Final[dict[str, str]] = {
    "kV": "the values look like kV: state the unit (name the column voltage_a_kv, or unit kV)",
    "pu": "the values look like per-unit of U0: state the unit pu",
    "percent": "the values look like percent of U0: state the unit percent",
    "line_to_line_V": (
        "the values look like line-to-line voltages: label the phases ab, bc, "
        "ca, or pass nominal_v = the line voltage"
    ),
    "phase_to_neutral_V": (
        "the values look like phase-to-neutral voltages: label the phases "
        "a, b, c, or pass the phase voltage as reference"
    ),
    "unknown": "check the unit of the values and the reference voltage (nominal_v)",
    "V": "",
}
_TO_V: Final[dict[str, float]] = {"V": 1.0, "kV": 1000.0}


def normalise_voltage_units(
    ms: MeasurementSet,
    nominal_v: float,
    nominal_line_v: float | None = None,
    *,
    voltage_unit: VoltageUnitArg = "auto",
) -> MeasurementSet:
    """Check and convert measured voltages to volts against the reference voltage.

    Parameters
    ----------
    ms : MeasurementSet
    nominal_v : float
        Reference voltage U0 of phase-to-neutral (and unlabelled) channels [V].
    nominal_line_v : float, optional
        U0 of line-to-line channels (ab, bc, ca) [V]; default ``nominal_v * sqrt(3)``.
    voltage_unit : {'auto', 'V', 'kV', 'pu', 'percent'}
        Unit of columns that state none. ``'auto'`` reads it from the magnitude with
        :func:`gridtwin.quality.infer_voltage_unit` and adds a note when it is not V.

    Returns
    -------
    MeasurementSet
        Voltages in V (``unit == 'V'``).

    Raises
    ------
    DataQualityError
        A stated unit contradicts the magnitude (e.g. kV values in a column named ``_v``),
        or the magnitude fits no unit (named: point, phase, median, how to fix).
    """
    ser = ms.series.get("voltage")
    if ser is None:
        return ms
    if not nominal_v > 0:
        msg = f"nominal_v must be positive [V], got {nominal_v}"
        raise InputError(msg)
    line_v = nominal_line_v if nominal_line_v is not None else nominal_v * _SQRT3
    u0 = np.array([line_v if p in LINE_PHASES else nominal_v for p in ser.phases])
    stated = np.array(
        [u or (voltage_unit if voltage_unit != "auto" else "") for u in ser.stated_units],
        dtype=object,
    )
    scale = np.ones(ser.n_columns)
    scale[stated == "kV"] = 1000.0
    scale[stated == "pu"] = u0[stated == "pu"]
    scale[stated == "percent"] = u0[stated == "percent"] / 100.0
    mat = ser.values * scale if np.any(scale != 1.0) else ser.values
    notes = list(ms.notes)
    med = _column_medians(mat)
    ratio = med / u0
    # one infer_voltage_unit call per group of columns with the same stated unit,
    # reference and magnitude class; each column judged by its own median
    key = np.round(np.log2(np.where(ratio > 0, ratio, 1e-12)) * 4).astype(np.int64)
    groups = pd.DataFrame({"stated": stated.astype(str), "u0": u0, "key": key})
    inferred = np.empty(ser.n_columns, dtype=object)
    for idx in groups.groupby(["stated", "u0", "key"]).indices.values():
        cols = np.asarray(idx)
        u0_g = u0[cols[0]]
        found = [
            infer_voltage_unit([float(m)], float(u0_g)) for m in (med[cols].min(), med[cols].max())
        ]
        if found[0] == found[1]:
            inferred[cols] = found[0]
        else:
            inferred[cols] = [infer_voltage_unit([float(m)], float(u0_g)) for m in med[cols]]
    has = np.isfinite(med)
    for c in np.flatnonzero(has & (inferred != "V")):
        unit = str(inferred[c])
        where = (
            f"{ms.source}: point {ms.point_ids[ser.point_index[c]]} voltage phase "
            f"{ser.phases[c] or '-'}"
        )
        if stated[c] == "" and unit in ("kV", "pu", "percent"):
            continue
        said = f"stated in {stated[c]}" if stated[c] else "with no stated unit"
        msg = (
            f"{where}: {said}, the values (median {med[c] / scale[c]:g}) do not look like "
            f"volts near U0 = {u0[c]:g} V (read as {unit!r}): {_FIX[unit]}"
        )
        raise DataQualityError(msg)
    auto = has & (stated == "") & (inferred != "V")
    for unit in ("kV", "pu", "percent"):
        cols = np.flatnonzero(auto & (inferred == unit))
        if not cols.size:
            continue
        f = {"kV": np.full(cols.size, 1000.0), "pu": u0[cols], "percent": u0[cols] / 100}[unit]
        mat = mat.copy() if mat is ser.values else mat
        mat[:, cols] *= f
        pts = sorted({ms.point_ids[ser.point_index[c]] for c in cols})
        notes.append(
            f"voltage of {len(pts)} point(s) ({', '.join(pts[:5])}"
            f"{' ...' if len(pts) > 5 else ''}) stated no unit and was read as "
            f"{unit} from its magnitude (infer_voltage_unit) and converted to V"
        )
    new = replace(ser, values=mat, unit="V", stated_units=("V",) * ser.n_columns)
    return replace(ms, series={**ms.series, "voltage": new}, notes=tuple(notes))


def _column_medians(mat: FloatArray) -> FloatArray:
    """Median of |value| per column from about 100 evenly spaced rows (NaN if none)."""
    sub = np.sort(np.abs(mat[:: max(1, mat.shape[0] // 96)]), axis=0)  # NaN sort last
    out = np.full(mat.shape[1], np.nan)
    count = np.isfinite(sub).sum(axis=0)
    ok = count > 0
    if ok.any():
        cols = np.flatnonzero(ok)
        lo, hi = (count[ok] - 1) // 2, count[ok] // 2
        out[ok] = 0.5 * (sub[lo, cols] + sub[hi, cols])
    rest = np.flatnonzero(~ok & np.isfinite(mat).any(axis=0))
    for c in rest:
        col = mat[:, c]
        out[c] = float(np.median(np.abs(col[np.isfinite(col)])))
    return out
