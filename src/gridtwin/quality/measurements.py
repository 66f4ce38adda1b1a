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

Where the parts live (this public module re-exports them):

- :mod:`~gridtwin.quality._channels` — quantities and channel names (:func:`parse_channel`);
- :mod:`~gridtwin.quality._series` — :class:`IndicatorSeries`;
- :mod:`~gridtwin.quality._measurement_set` — :class:`MeasurementSet`, flag propagation;
- :mod:`~gridtwin.quality._readers` — :func:`read_measurements` (long and wide layouts);
- :mod:`~gridtwin.quality._arrow` — CSV/Parquet tables and their columns;
- :mod:`~gridtwin.quality._parsing` — timestamp, flag and value cells; rows in messages;
- :mod:`~gridtwin.quality._records` — records to one (time, column) matrix per quantity;
- :mod:`~gridtwin.quality._availability` — :meth:`MeasurementSet.availability`;
- :mod:`~gridtwin.quality._normalise` — :func:`normalise_voltage_units`.
"""

from __future__ import annotations

from gridtwin.quality._channels import LINE_PHASES, QUANTITIES, Quantity, parse_channel
from gridtwin.quality._measurement_set import MeasurementSet, SupportsToFrame

# ``name as name``: kept importable from here outside __all__ (apply_windows is used
# by gridtwin.quality.assessment; flag_windows and VoltageUnitArg were public here)
from gridtwin.quality._measurement_set import apply_windows as apply_windows
from gridtwin.quality._measurement_set import flag_windows as flag_windows
from gridtwin.quality._normalise import VoltageUnitArg as VoltageUnitArg
from gridtwin.quality._normalise import normalise_voltage_units
from gridtwin.quality._readers import MeasurementLayout, read_measurements
from gridtwin.quality._series import IndicatorSeries

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
