"""Dips, swells and interruptions from the r.m.s. series of a measurement set.

:func:`rms_thresholds` reads the detection thresholds of a standard
(``data/events/rms_thresholds.yaml``); :func:`rms_events` runs the U_rms(1/2) detector of
:mod:`gridtwin.quality.events` on each point's voltage series, in % of its reference
voltage (phase-to-neutral columns if the point has any, else line-to-line ones). The
series' interval bounds what is seen: a 10-min mean hides a dip shorter than the interval
or shallow enough to average out, so events found this way are a lower bound, noted in
their ``detail``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from gridtwin.errors import InputError
from gridtwin.quality._assessment_events import events_frame
from gridtwin.quality._channels import LINE_PHASES
from gridtwin.quality._event_log import EventThresholds
from gridtwin.quality._measurement_set import MeasurementSet
from gridtwin.quality.events import detect_events

__all__ = ["rms_events", "rms_thresholds"]


@cache
def _threshold_rows() -> dict[str, dict[str, Any]]:
    """The thresholds file, by standard id."""
    root = resources.files("gridtwin.quality") / "data" / "events" / "rms_thresholds.yaml"
    data = yaml.safe_load(root.read_text(encoding="utf-8"))
    return {str(r["standard"]): dict(r) for r in data["thresholds"]}


def rms_thresholds(standard: str) -> EventThresholds:
    """Event detection thresholds of ``standard`` (data, see the module notes).

    Raises
    ------
    InputError
        A standard without thresholds in the data file.
    """
    rows = _threshold_rows()
    if standard not in rows:
        msg = f"no r.m.s. event thresholds for {standard!r}; known: {', '.join(sorted(rows))}"
        raise InputError(msg)
    r = rows[standard]
    return EventThresholds(
        dip_percent=float(r["dip_percent"]),
        swell_percent=float(r["swell_percent"]),
        interruption_percent=float(r["interruption_percent"]),
        hysteresis_percent=float(r["hysteresis_percent"]),
    )


def rms_events(
    ms: MeasurementSet,
    *,
    nominal_v: float,
    nominal_line_v: float,
    thresholds: EventThresholds,
) -> pd.DataFrame:
    """Events of every point from its voltage series (see the module notes).

    Returns
    -------
    pandas.DataFrame
        The event table (:data:`gridtwin.quality.EVENT_COLUMNS`), source ``rms``.

    Raises
    ------
    InputError
        The set has no voltage series.
    """
    ser = ms.series.get("voltage")
    if ser is None:
        msg = f"{ms.source}: no voltage series to detect dips, swells and interruptions from"
        raise InputError(msg)
    frames = []
    line = np.array([p in LINE_PHASES for p in ser.phases], dtype=bool)
    for p, pid in enumerate(ms.point_ids):
        mine = ser.point_index == p
        cols = np.flatnonzero(mine & ~line)
        u0 = nominal_v
        if not cols.size:
            cols, u0 = np.flatnonzero(mine & line), nominal_line_v
        if not cols.size:
            continue
        v = ser.values[:, cols]
        ok = np.asarray(np.isfinite(v).all(axis=1) & (v >= 0).all(axis=1), dtype=np.bool_)
        if ok.sum() < 2:
            continue
        pct = 100.0 * v[ok] / u0
        t = ser.time_utc[ok]
        log = detect_events(
            pct,
            t,
            u_din_v=100.0,
            thresholds=thresholds,
            channel_names=[ser.phases[c] or "L1" for c in cols],
            record_end_utc=t[-1] + ser.step,
        )
        frame = events_frame(log, f"r.m.s. events of {pid}", point_id=str(pid))
        if frame.empty:
            continue
        step_s = ser.step.total_seconds()
        frames.append(
            frame.assign(
                source="rms",
                detail=f"from {step_s:g}-s r.m.s. values (U0 = {u0:g} V): a lower bound; "
                + frame["detail"].astype(str),
            )
        )
    if not frames:
        return events_frame(None)
    return pd.concat(frames, ignore_index=True)
