"""Power-quality workflow: a measurement file in, weekly verdicts, events and a report out.

:class:`QualityAssessment` describes one assessment of aggregated measurements (the file,
the standard, the voltage level and nominal voltages, the observation weeks, an optional
event table); its methods run the steps in order: read the measurements
(:func:`gridtwin.quality.read_measurements`), read the event table, evaluate every
indicator week by week (:func:`gridtwin.quality.assess`), and build the report
(:func:`gridtwin.quality.build_report`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from gridtwin._datafile import read_csv_text
from gridtwin.errors import InputError
from gridtwin.quality import (
    Assessment,
    MeasurementSet,
    PotentialDeviations,
    QualityReport,
    VoltageLevel,
    VoltageUnitArg,
    assess,
    build_report,
    events_frame,
    find_events,
    read_measurements,
    resolve_limit_set,
)
from gridtwin.quality._rms_events import rms_events, rms_thresholds
from gridtwin.quality.assessment import _references
from gridtwin.workflows._quality_waveform import (
    WaveformOptions,
    is_waveform_file,
    waveform_measurements,
)

__all__ = ["QualityAssessment", "WaveformOptions", "read_event_table", "read_feeder_map"]


def read_event_table(path: str | Path) -> pd.DataFrame:
    """An event table (``point_id, start_utc, end_utc, kind, ...``) from a CSV file.

    Raises
    ------
    InputError
        The file cannot be read or its rows do not validate (the row is named).
    """
    frame = read_csv_text(path, "point_id,start_utc,end_utc,kind,...")
    for col in ("duration_s", "extreme_percent"):
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col].replace("", None), errors="coerce")
    return events_frame(frame, where=str(path))


def read_feeder_map(path: str | Path) -> dict[str, str]:
    """Point -> feeder from a CSV file with columns ``point_id, feeder``.

    Raises
    ------
    InputError
        The file cannot be read or lacks the columns.
    """
    frame = read_csv_text(path, "point_id,feeder")
    if not {"point_id", "feeder"} <= set(frame.columns):
        msg = f"{path}: expected columns point_id,feeder; found {list(frame.columns)}"
        raise InputError(msg)
    return dict(zip(frame["point_id"], frame["feeder"], strict=True))


@dataclass(frozen=True)
class QualityAssessment:
    """The weekly assessment of one file of aggregated measurements.

    Attributes
    ----------
    file : Path, MeasurementSet or DataFrame
        Aggregated measurements: a CSV or Parquet file (long or wide layout), a set
        already read, or a frame in the canonical long layout (``time_utc, point_id,
        indicator, phase, value[, flagged]``; the REST API's inline values).
    standard : str
        Built-in limit set (``'GOST 32144-2013'``, ``'EN 50160:2010'``) or a limit-set file.
    voltage_level : {'LV', 'MV'}
    nominal_v, nominal_line_v : float, optional
        U0 of phase-to-neutral and line-to-line channels [V] (see
        :func:`gridtwin.quality.assess`).
    timezone : str
        Zone of the observation weeks and of timestamps without an offset.
    week_start : str or Timestamp, optional
        Local start of the weeks (``'mon 00:00'``) or a campaign start.
    voltage_unit : {'auto', 'V', 'kV', 'pu', 'percent'}
        Unit of voltage columns that state none.
    label : {'start', 'end'}
        What the timestamps label.
    layout : {'auto', 'long', 'wide'}
    events : Path or DataFrame, optional
        Event table (CSV or frame); the intervals it overlaps are flagged and excluded.
    isolated : bool
        Judge frequency against the isolated-system limits.
    waveform : WaveformOptions
        How to read a COMTRADE record (``.cfg``/``.cff`` file): channels, units,
        encoding, nominal frequency, harmonic order.
    """

    file: Path | MeasurementSet | pd.DataFrame
    standard: str = "GOST 32144-2013"
    voltage_level: VoltageLevel = "LV"
    nominal_v: float | None = None
    nominal_line_v: float | None = None
    timezone: str = "UTC"
    week_start: str | pd.Timestamp | None = None
    voltage_unit: VoltageUnitArg = "auto"
    label: Literal["start", "end"] = "start"
    layout: Literal["auto", "long", "wide"] = "auto"
    events: Path | pd.DataFrame | None = None
    isolated: bool = False
    waveform: WaveformOptions = field(default_factory=WaveformOptions)

    def _record(self) -> tuple[MeasurementSet, pd.DataFrame]:
        """A COMTRADE record's aggregates and its U_rms(1/2) events."""
        return waveform_measurements(
            Path(str(self.file)),
            self.waveform,
            standard=self.standard,
            voltage_level=self.voltage_level,
            nominal_v=self.nominal_v,
            nominal_line_v=self.nominal_line_v,
            timezone=self.timezone,
        )

    def measurements(self) -> MeasurementSet:
        """The file's measurements (a COMTRADE record's 10-s and 10-min aggregates)."""
        if isinstance(self.file, MeasurementSet):
            return self.file
        if is_waveform_file(self.file):
            return self._record()[0]
        if isinstance(self.file, pd.DataFrame):
            return MeasurementSet.from_frame(self.file, timezone=self.timezone, label=self.label)
        return read_measurements(
            self.file, timezone=self.timezone, label=self.label, layout=self.layout
        )

    def event_table(self) -> pd.DataFrame | None:
        """The given event table, read if it is a file."""
        if self.events is None or isinstance(self.events, pd.DataFrame):
            return self.events
        return read_event_table(self.events)

    def run(self) -> Assessment:
        """Read and evaluate: verdicts per point, week, indicator and phase."""
        events = self.event_table()
        if is_waveform_file(self.file):
            ms, found = self._record()
            events = found if events is None else pd.concat([events, found], ignore_index=True)
        else:
            ms = self.measurements()
        return assess(
            ms,
            self.standard,
            timezone=self.timezone,
            voltage_level=self.voltage_level,
            nominal_v=self.nominal_v,
            nominal_line_v=self.nominal_line_v,
            voltage_unit=self.voltage_unit,
            events=events,
            week_start=self.week_start,
            isolated_system=self.isolated,
        )

    def find_events(self, source: str = "flags") -> pd.DataFrame:
        """The events of the file from a registered event source (``'flags'``: the
        intervals the instrument flagged) or ``'rms'``: dips, swells and interruptions
        from the r.m.s. values (a COMTRADE record's U_rms(1/2); a file's voltage series,
        thresholds of the standard, see :func:`gridtwin.quality.rms_thresholds`)."""
        if source != "rms":
            return find_events(self.measurements(), source)
        if is_waveform_file(self.file):
            return self._record()[1]
        ls = resolve_limit_set(self.standard)
        u0, u0_line = _references(ls, self.voltage_level, self.nominal_v, self.nominal_line_v)
        if u0 is None or u0_line is None:
            msg = (
                f"{ls.id} {self.voltage_level}: no default nominal voltage; pass "
                "--nominal-v or --nominal-line-v (the agreed U_c [V])"
            )
            raise InputError(msg)
        return rms_events(
            self.measurements(),
            nominal_v=u0,
            nominal_line_v=u0_line,
            thresholds=rms_thresholds(ls.id),
        )

    def report(
        self,
        *,
        point_ids: Sequence[str] | None = None,
        feeders: Mapping[str, str] | None = None,
        potential: PotentialDeviations | None = None,
        title: str | None = None,
        max_points: int = 100,
    ) -> tuple[Assessment, QualityReport]:
        """The assessment and its report per point and feeder."""
        assessment = self.run()
        report = build_report(
            assessment,
            point_ids=point_ids,
            feeders=feeders,
            potential=potential,
            title=title,
            max_points=max_points,
        )
        return assessment, report
