"""Reading meter data: files for billing, and the live twin's telemetry channel.

Telemetry: sources (:class:`Source`) deliver :class:`RawBatch` objects to the
:class:`Pipeline`, which checks them against the store's points, queues them (bounded:
back-pressure), writes them through one writer thread and counts everything
(:class:`IngestCounters`).

Billing data:

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
from gridtwin.ingest._pipeline import IngestCounters, Pipeline, PipelineConfig, run_sources
from gridtwin.ingest._readings import (
    READING_KINDS,
    BandConsumption,
    ReadingKind,
    RegisterReading,
    consumption_by_register,
    read_register_readings,
)
from gridtwin.ingest._source import RawBatch, Sink, Source

__all__ = [
    "ENERGY_UNITS",
    "POWER_UNITS",
    "READING_KINDS",
    "BandConsumption",
    "IngestCounters",
    "Label",
    "Layout",
    "Pipeline",
    "PipelineConfig",
    "RawBatch",
    "ReadingKind",
    "RegisterReading",
    "Sink",
    "Source",
    "consumption_by_register",
    "read_intervals",
    "read_register_readings",
    "run_sources",
    "write_intervals",
]
