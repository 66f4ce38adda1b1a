"""Reading meter data for billing: interval data files and register (band) readings.

- :func:`read_intervals` / :func:`write_intervals`: interval energy per meter (CSV or
  Parquet, long or wide layout, any step from 1 minute, local time with DST or UTC) as
  :class:`~gridtwin.timeseries.IntervalData`; gaps stay NaN and are reported in ``notes``.
- :func:`read_register_readings` / :func:`consumption_by_register`: cumulative register
  readings per time band from bills, and the consumption [kWh] per band between two dates.
"""

from __future__ import annotations

from gridtwin.ingest._interval import (
    ENERGY_UNITS,
    POWER_UNITS,
    Label,
    Layout,
    read_intervals,
    write_intervals,
)
from gridtwin.ingest._readings import (
    READING_KINDS,
    BandConsumption,
    ReadingKind,
    RegisterReading,
    consumption_by_register,
    read_register_readings,
)

__all__ = [
    "ENERGY_UNITS",
    "POWER_UNITS",
    "READING_KINDS",
    "BandConsumption",
    "Label",
    "Layout",
    "ReadingKind",
    "RegisterReading",
    "consumption_by_register",
    "read_intervals",
    "read_register_readings",
    "write_intervals",
]
