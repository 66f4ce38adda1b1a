"""COMTRADE records in the power-quality workflow: read, process, adapt.

:class:`WaveformOptions` holds what a record needs beyond the assessment's settings
(channels, units per channel, the CFG encoding, the nominal frequency, the harmonic
order); :func:`waveform_measurements` reads a record (:func:`gridtwin.quality.read_comtrade`),
chooses U_din from the standard's reference voltages (the line-to-line one for
line-to-line channels), limits the harmonic order to what the sample rate resolves (with
a note naming the orders left out), computes the IEC 61000-4-30 aggregates
(:func:`gridtwin.quality.process_waveform`) and returns them as a measurement set with
the record's events (dips, swells, interruptions from U_rms(1/2)).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality import MeasurementSet, events_frame, resolve_limit_set
from gridtwin.quality.assessment import _references
from gridtwin.quality.waveform import (
    AggregatedMeasurements,
    Waveform,
    max_harmonic_order_for,
    min_sample_rate_hz,
    process_waveform,
    read_comtrade,
)

__all__ = ["WaveformOptions", "is_waveform_file", "waveform_measurements"]

#: Suffixes read as COMTRADE records.
WAVEFORM_SUFFIXES = (".cfg", ".cff")
#: Harmonic orders the standards' THD covers.
_STANDARD_ORDER = 40
_LINE_NAMES = ("ab", "bc", "ca")


@dataclass(frozen=True)
class WaveformOptions:
    """How to read and process a COMTRADE record.

    Attributes
    ----------
    channels : tuple of str, optional
        1 or 3 analog channel ids (L1, L2, L3 order); default the V/kV channels.
    units : mapping of str to str
        Unit per channel id (``{'UA': 'kV'}``) for empty or unusual CFG units.
    encoding : str, optional
        CFG text encoding; default UTF-8, else detected (Windows-1251, GBK, Latin-1).
    nominal_frequency_hz : float
        50 or 60 [Hz].
    max_harmonic_order : int, optional
        Highest harmonic order; default what the sample rate resolves, at most 40.
    """

    channels: tuple[str, ...] | None = None
    units: Mapping[str, str] = field(default_factory=dict)
    encoding: str | None = None
    nominal_frequency_hz: float = 50.0
    max_harmonic_order: int | None = None


def is_waveform_file(path: object) -> bool:
    """Whether ``path`` names a COMTRADE record (``.cfg`` or ``.cff``)."""
    return isinstance(path, Path | str) and Path(path).suffix.lower() in WAVEFORM_SUFFIXES


def waveform_measurements(
    path: Path,
    opts: WaveformOptions,
    *,
    standard: str,
    voltage_level: str,
    nominal_v: float | None,
    nominal_line_v: float | None,
    timezone: str,
) -> tuple[MeasurementSet, pd.DataFrame]:
    """The record's 10-s and 10-min aggregates as a measurement set (point id: the file's
    stem) and its events from U_rms(1/2).

    Raises
    ------
    InputError
        Unreadable record, no usable channels, a rate too low for any harmonic, a record
        shorter than one 10/12-cycle window, no reference voltage at MV.
    """
    wf = read_comtrade(
        path,
        channels=opts.channels,
        start_timezone=timezone,
        encoding=opts.encoding,
        units=dict(opts.units),
    )
    ls = resolve_limit_set(standard)
    u0, u0_line = _references(ls, voltage_level, nominal_v, nominal_line_v)
    wf, u_din = _declared(wf, u0, u0_line, f"{standard} {voltage_level}")
    order, notes = _harmonic_order(wf, opts)
    agg = process_waveform(
        wf,
        u_din_v=u_din,
        nominal_frequency_hz=opts.nominal_frequency_hz,
        max_harmonic_order=order,
    )
    agg = dataclasses.replace(agg, notes=(*agg.notes, *notes, *_length_notes(agg)))
    pid = path.stem
    ms = MeasurementSet.from_aggregated(agg, point_id=pid)
    ms = dataclasses.replace(ms, notes=tuple(dict.fromkeys((*agg.notes, *ms.notes))))
    events = events_frame(agg.events, f"events of {path}", point_id=pid)
    return ms, events


def _declared(
    wf: Waveform, u0: float | None, u0_line: float | None, what: str
) -> tuple[Waveform, float]:
    """U_din for the record's kind of channels; line-to-line channels renamed ab, bc, ca
    (their names in the record are kept in a note)."""
    line = wf.connection == "line"
    u_din = u0_line if line else u0
    if u_din is None:
        msg = (
            f"{wf.source}: {what} has no default nominal voltage; pass --nominal-v "
            "(phase-to-neutral) or --nominal-line-v (line-to-line) = the agreed U_c [V]"
        )
        raise InputError(msg)
    if not line:
        return wf, float(u_din)
    names = _LINE_NAMES[: len(wf.channel_names)]
    note = (
        f"{wf.source}: line-to-line channels "
        + ", ".join(f"{o} as {n}" for o, n in zip(wf.channel_names, names, strict=True))
        + f", judged against U_din = {u_din:g} V (line-to-line)"
    )
    renamed = Waveform(
        wf.samples_v,
        wf.sample_rate_hz,
        wf.start_utc,
        names,
        wf.source,
        (*wf.notes, note),
        "line",
    )
    return renamed, float(u_din)


def _harmonic_order(wf: Waveform, opts: WaveformOptions) -> tuple[int, tuple[str, ...]]:
    """The harmonic order to compute, and a note naming the orders the rate leaves out."""
    f_nom = opts.nominal_frequency_hz
    if opts.max_harmonic_order is not None:
        return opts.max_harmonic_order, ()
    order = max_harmonic_order_for(wf.sample_rate_hz, f_nom, _STANDARD_ORDER)
    if order < 2:
        msg = (
            f"{wf.source}: sample rate {wf.sample_rate_hz:g} Hz resolves no harmonic at "
            f"{f_nom:g} Hz (order 2 needs more than {min_sample_rate_hz(f_nom, 2):g} Hz); "
            "such a record has no power-quality values"
        )
        raise InputError(msg)
    if order >= _STANDARD_ORDER:
        return order, ()
    note = (
        f"{wf.source}: at {wf.sample_rate_hz:g} Hz harmonics are measured up to order "
        f"{order} only; orders {order + 1}..{_STANDARD_ORDER} are missing (order "
        f"{_STANDARD_ORDER} needs more than "
        f"{min_sample_rate_hz(f_nom, _STANDARD_ORDER):g} Hz): THD covers orders 2..{order}, "
        "not the standard's 2..40, and the missing orders are not assessed"
    )
    return order, (note,)


def _length_notes(agg: AggregatedMeasurements) -> tuple[str, ...]:
    """A note when the record holds no complete 10-min interval."""
    span = agg.record_end_utc - agg.record_start_utc
    if span >= pd.Timedelta(minutes=10):
        return ()
    return (
        f"{agg.source}: the record lasts {span.total_seconds():.4g} s, shorter than one "
        "10-min interval: only 10-s frequency values and events come from it; the 10-min "
        "indicators lack data",
    )
