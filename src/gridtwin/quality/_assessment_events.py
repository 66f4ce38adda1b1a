"""Event tables of an assessment: their columns, validation, and the flags they set.

An event table (:data:`EVENT_COLUMNS`) lists dips, swells, interruptions or flagged
intervals per point; :func:`events_frame` validates and normalises one (also the event log of
a waveform record), :func:`flagged_intervals` lists the flagged intervals present in
measurements, and :func:`_apply_events` flags the intervals the events overlap
(IEC 61000-4-30 4.7). Public through :mod:`gridtwin.quality.assessment`.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._measurement_set import MeasurementSet, SupportsToFrame, apply_windows
from gridtwin.timeseries import utc_ns

__all__ = ["EVENT_COLUMNS", "events_frame", "flagged_intervals"]

_NS: Final = 1_000_000_000

#: Columns of an event table: ``point_id``, ``kind`` (``'dip'``, ``'swell'``,
#: ``'interruption'``, ``'flagged interval'`` ...), ``start_utc``, ``end_utc`` (tz-aware),
#: ``duration_s`` [s], ``phase``, ``extreme_percent`` (residual voltage of a dip, maximum
#: of a swell [% of U0]; NaN if unknown), ``source`` and ``detail`` (free text).
EVENT_COLUMNS: Final = (
    "point_id",
    "kind",
    "start_utc",
    "end_utc",
    "duration_s",
    "phase",
    "extreme_percent",
    "source",
    "detail",
)


def events_frame(
    events: pd.DataFrame | SupportsToFrame | None,
    where: str = "events",
    *,
    point_id: str | None = None,
) -> pd.DataFrame:
    """Normalise an event table to :data:`EVENT_COLUMNS` (validated).

    Parameters
    ----------
    events : pandas.DataFrame or object with ``to_frame()``, optional
        At least ``point_id`` and ``start_utc`` with ``end_utc`` or ``duration_s`` [s];
        timestamps tz-aware. ``None`` gives an empty table. The event log of a waveform
        record (``gridtwin.quality.events.EventLog``) fits: its ``worst_channel`` becomes
        ``phase`` and ``channels`` the ``detail``.
    where : str
        Name used in error messages.
    point_id : str, optional
        Point of the events when the table has no ``point_id`` column (one record).

    Raises
    ------
    InputError
        A column is missing, a timestamp is naive or empty, an end precedes its start
        (the row is named).
    """
    if events is None:
        return _empty_events()
    df = events if isinstance(events, pd.DataFrame) else events.to_frame()
    if df.empty:
        return _empty_events()
    df = _with_aliases(df, point_id)
    need = {"point_id", "start_utc"}
    if not need <= set(df.columns) or not ({"end_utc", "duration_s"} & set(df.columns)):
        msg = (
            f"{where}: an event table needs point_id, start_utc and end_utc (or "
            f"duration_s); found {list(df.columns)[:10]}"
        )
        raise InputError(msg)
    start, end = _event_span(df, where)
    return _event_rows(df, start, end, where)


def _with_aliases(df: pd.DataFrame, point_id: str | None) -> pd.DataFrame:
    """Add ``point_id``, ``phase`` and ``detail`` from an event log's columns if missing."""
    if "point_id" not in df.columns and point_id is not None:
        df = df.assign(point_id=point_id)
    if "phase" not in df.columns and "worst_channel" in df.columns:
        df = df.assign(phase=df["worst_channel"])
    if "detail" not in df.columns and "channels" in df.columns:
        df = df.assign(detail="channels: " + df["channels"].astype(str))
    return df


def _event_span(df: pd.DataFrame, where: str) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Start and end (UTC) of each event; the end from ``duration_s`` if not given."""
    start = _aware_column(df["start_utc"], where, "start_utc")
    if "end_utc" in df.columns:
        end = _aware_column(df["end_utc"], where, "end_utc")
    else:
        end = pd.DatetimeIndex(
            start
            + pd.to_timedelta(pd.to_numeric(df["duration_s"]).to_numpy(dtype=np.float64), unit="s")
        )
    bad = np.flatnonzero(np.asarray(end < start))
    if bad.size:
        msg = (
            f"{where}: row {int(bad[0]) + 1} (1-based): end_utc {end[int(bad[0])]} is before "
            f"start_utc {start[int(bad[0])]}"
        )
        raise InputError(msg)
    return start, end


def _event_rows(
    df: pd.DataFrame, start: pd.DatetimeIndex, end: pd.DatetimeIndex, where: str
) -> pd.DataFrame:
    """The events in :data:`EVENT_COLUMNS`, sorted by point and start."""
    n = len(df)

    def col(name: str, default: object) -> Any:
        return df[name].to_numpy() if name in df.columns else np.full(n, default, dtype=object)

    duration = (end - start).total_seconds()
    out = pd.DataFrame(
        {
            "point_id": df["point_id"].astype(str).to_numpy(),
            "kind": col("kind", "event"),
            "start_utc": start,
            "end_utc": end,
            "duration_s": np.asarray(duration, dtype=np.float64),
            "phase": col("phase", ""),
            "extreme_percent": pd.to_numeric(
                pd.Series(col("extreme_percent", np.nan)), errors="coerce"
            ).to_numpy(dtype=np.float64),
            "source": col("source", where),
            "detail": col("detail", ""),
        }
    )
    return out.sort_values(["point_id", "start_utc"], kind="stable").reset_index(drop=True)


def _aware_column(values: pd.Series, where: str, name: str) -> pd.DatetimeIndex:
    """A column of tz-aware times (ISO 8601 text with an offset) in UTC."""
    if values.dtype == object:
        text = values.astype(str).str.strip()
        naive = ~text.str.contains(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$", regex=True)
        if naive.any():
            row = int(np.argmax(naive.to_numpy()))
            msg = (
                f"{where}: row {row + 1} (1-based), column {name}: {text.iloc[row]!r} has "
                "no UTC offset; write e.g. 2025-06-02T10:00:00Z"
            )
            raise InputError(msg)
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(text, utc=True, format="ISO8601"))
        except (ValueError, TypeError) as exc:
            msg = f"{where}: column {name} holds a value that is not an ISO 8601 time ({exc})"
            raise InputError(msg) from exc
    else:
        idx = pd.DatetimeIndex(values)
    if idx.tz is None:
        msg = f"{where}: column {name} must be tz-aware (UTC), e.g. 2025-06-02T10:00:00Z"
        raise InputError(msg)
    missing = np.asarray(idx.isna(), dtype=bool)
    if missing.any():
        msg = f"{where}: row {int(np.argmax(missing)) + 1} (1-based): empty {name}"
        raise InputError(msg)
    return idx.tz_convert("UTC")


def _empty_events() -> pd.DataFrame:
    """An event table without rows, with the columns' dtypes."""
    return pd.DataFrame(
        {
            "point_id": pd.Series([], dtype=object),
            "kind": pd.Series([], dtype=object),
            "start_utc": pd.DatetimeIndex([], tz="UTC"),
            "end_utc": pd.DatetimeIndex([], tz="UTC"),
            "duration_s": pd.Series([], dtype=np.float64),
            "phase": pd.Series([], dtype=object),
            "extreme_percent": pd.Series([], dtype=np.float64),
            "source": pd.Series([], dtype=object),
            "detail": pd.Series([], dtype=object),
        }
    )


def flagged_intervals(ms: MeasurementSet) -> pd.DataFrame:
    """The flagged intervals of the measurements, merged per point into episodes.

    Adjacent or overlapping flagged intervals (10-s and 10-min; 2-h Plt flags follow
    from their 10-min flags and are not listed) of one point form one row of
    :data:`EVENT_COLUMNS` with ``kind='flagged interval'``: the instrument flagged a dip,
    swell or interruption inside, of unknown type (IEC 61000-4-30 4.7).
    """
    parts = []
    for ser in ms.series.values():
        if ser.quantity.aggregation == "2h":
            continue
        r, c = np.nonzero(ser.flagged & np.isfinite(ser.values))
        if r.size:
            s0 = utc_ns(ser.time_utc)[r]
            step = int(ser.step.value)
            parts.append(
                pd.DataFrame(
                    {
                        "p": ser.point_index[c],
                        "s": s0,
                        "e": s0 + step,
                        "q": f"{ser.name} ({ser.quantity.aggregation})",
                    }
                )
            )
    if not parts:
        return _empty_events()
    w = pd.concat(parts, ignore_index=True).sort_values(["p", "s", "e"], kind="stable")
    reach = w.groupby("p")["e"].cummax().to_numpy()
    pt = w["p"].to_numpy()
    new = np.r_[True, (pt[1:] != pt[:-1]) | (w["s"].to_numpy()[1:] > reach[:-1])]
    w["episode"] = np.cumsum(new)
    g = w.groupby("episode", sort=True)
    ep = g.agg(p=("p", "first"), s=("s", "min"), e=("e", "max"))
    detail = g["q"].agg(lambda q: "flagged: " + ", ".join(sorted(set(q))))
    start = pd.DatetimeIndex(ep["s"].to_numpy().astype("datetime64[ns]")).tz_localize("UTC")
    end = pd.DatetimeIndex(ep["e"].to_numpy().astype("datetime64[ns]")).tz_localize("UTC")
    return pd.DataFrame(
        {
            "point_id": np.asarray(ms.point_ids, dtype=object)[ep["p"].to_numpy()],
            "kind": "flagged interval",
            "start_utc": start,
            "end_utc": end,
            "duration_s": (ep["e"].to_numpy() - ep["s"].to_numpy()) / _NS,
            "phase": "",
            "extreme_percent": np.nan,
            "source": f"measurement flags ({ms.source})",
            "detail": detail.to_numpy(),
        }
    ).reset_index(drop=True)


def _apply_events(ms: MeasurementSet, events: pd.DataFrame) -> tuple[MeasurementSet, list[str]]:
    """Flag the intervals the events overlap; notes on what was applied."""
    if events.empty:
        return ms, []
    pos = {p: i for i, p in enumerate(ms.point_ids)}
    idx = events["point_id"].map(pos)
    known = idx.notna().to_numpy()
    notes = []
    if not known.all():
        unknown = sorted(set(events.loc[~known, "point_id"]))
        notes.append(
            f"{int((~known).sum())} event(s) at points without measurements were "
            f"ignored: {', '.join(unknown[:5])}"
        )
    ev = events[known]
    start = utc_ns(pd.DatetimeIndex(ev["start_utc"]))
    end = np.maximum(utc_ns(pd.DatetimeIndex(ev["end_utc"])), start + 1)  # [start, end)
    points = np.asarray(idx[known].to_numpy(), dtype=np.int64)
    out = apply_windows(ms, points, start, end)
    notes.append(
        f"{len(ev)} event(s) flag the intervals they overlap (IEC 61000-4-30 4.7); "
        "flagged intervals are excluded from N"
    )
    return out, notes
