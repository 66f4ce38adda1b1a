"""Classification tables of voltage events and the counts per table cell and week.

The residual-voltage (or swell-voltage) × duration tables of EN 50160:2010 and
GOST 32144-2013 are data in ``quality/data/events/event_tables.yaml``, validated on load
(:class:`EventTablesSpec`); :class:`EventTable` locates events in their cells (see it for the
boundary convention) and :func:`count_per_week` counts a record's events per cell and
observation week (:class:`EventCounts`). Public through :mod:`gridtwin.quality.events`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gridtwin._datafile import read_data_file, validation_message
from gridtwin.errors import InputError
from gridtwin.quality._event_log import _REL_TOL, EventKind, EventLog, VoltageEvent, _ts_ns
from gridtwin.quality._inputs import _check_timezone
from gridtwin.quality._periods import _parse_week_start, _period_bounds

__all__ = [
    "EventCounts",
    "EventTable",
    "EventTableBand",
    "EventTableSpec",
    "EventTablesSpec",
    "builtin_event_table_ids",
    "count_per_week",
    "get_event_table",
    "load_event_tables",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class _Strict(BaseModel):
    """Base of the table schemas: no extra fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EventTableBand(_Strict):
    """A row (voltage band, % of U_din) or column (duration band, s) of a table.

    ``lower .. upper`` with explicit inclusivity; ``upper: null`` is unbounded. A value within
    a relative 1e-9 of an edge counts as on the edge, so round-off never picks the cell.
    """

    label: str = Field(min_length=1)
    lower: float = Field(ge=0)
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool

    @model_validator(mode="after")
    def _check(self) -> EventTableBand:
        if self.upper is not None and self.upper <= self.lower:
            msg = f"band {self.label!r}: upper {self.upper} must be above lower {self.lower}"
            raise ValueError(msg)
        if self.upper is None and self.upper_inclusive:
            msg = f"band {self.label!r}: an unbounded band (upper: null) cannot include it"
            raise ValueError(msg)
        return self

    def contains(self, x: FloatArray) -> BoolArray:
        """Whether each value lies in the band."""
        t_lo = _REL_TOL * max(1.0, abs(self.lower))
        above = x >= self.lower - t_lo if self.lower_inclusive else x > self.lower + t_lo
        if self.upper is None:
            return np.asarray(above, dtype=bool)
        t_hi = _REL_TOL * max(1.0, abs(self.upper))
        below = x <= self.upper + t_hi if self.upper_inclusive else x < self.upper - t_hi
        return np.asarray(above & below, dtype=bool)


def _check_disjoint(bands: list[EventTableBand], what: str) -> None:
    """Bands that do not overlap (else a validation error naming them)."""
    ordered = sorted(bands, key=lambda b: b.lower)
    for a, b in pairwise(ordered):
        if (
            a.upper is None
            or a.upper > b.lower
            or (a.upper == b.lower and a.upper_inclusive and b.lower_inclusive)
        ):
            msg = f"{what}: bands {a.label!r} and {b.label!r} overlap"
            raise ValueError(msg)


class EventTableSpec(_Strict):
    """Schema of one classification table."""

    id: str = Field(min_length=1)
    standard: str = Field(min_length=1)
    event: EventKind
    clause: str = Field(min_length=1)
    clause_verification: Literal["corpus", "memory"] = "memory"
    source: str = Field(min_length=1)
    verification: Literal["corpus", "memory"]
    verification_note: str = ""
    row_quantity: str = Field(min_length=1)
    column_quantity: str = Field(min_length=1)
    rows: list[EventTableBand] = Field(min_length=1)
    columns: list[EventTableBand] = Field(min_length=1)
    cells: list[list[str]] | None = None

    @model_validator(mode="after")
    def _check(self) -> EventTableSpec:
        _check_disjoint(self.rows, "rows")
        _check_disjoint(self.columns, "columns")
        if self.cells is not None and (
            len(self.cells) != len(self.rows)
            or any(len(r) != len(self.columns) for r in self.cells)
        ):
            msg = (
                f"cells must be {len(self.rows)} rows of {len(self.columns)} labels, one "
                "per row and column"
            )
            raise ValueError(msg)
        return self


class EventTablesSpec(_Strict):
    """Schema of an event-table file: ``schema_version: 1`` and a list of ``tables``."""

    schema_version: Literal[1]
    tables: list[EventTableSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> EventTablesSpec:
        ids = [t.id for t in self.tables]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            msg = f"table ids must be unique; repeated: {dup}"
            raise ValueError(msg)
        return self


@dataclass(frozen=True)
class EventTable:
    """A residual-voltage (or swell-voltage) × duration classification table.

    Boundary convention (EN 50160:2010 tables as printed, e.g. ``90 > u >= 80`` and
    ``0.2 < t <= 0.5``; GOST 32144-2013 as recalled): a voltage row includes its lower edge,
    a duration column its upper edge; the first EN 50160 column also includes 10 ms. So a
    dip with u = 80 % lies in ``90 > u >= 80``, one of 200 ms in ``0.01 <= t <= 0.2``, one of
    60 s in ``5 < t <= 60``; a dip longer than 60 s lies outside the table.

    Attributes
    ----------
    spec : EventTableSpec
        The validated table (rows, columns, cell labels, clause, source, verification).
    path : str
        The file it came from.
    """

    spec: EventTableSpec
    path: str

    @property
    def id(self) -> str:
        """Table id, e.g. ``'EN 50160:2010 dips'``."""
        return self.spec.id

    @property
    def event(self) -> EventKind:
        """Event kind the table classifies."""
        return self.spec.event

    @property
    def row_labels(self) -> tuple[str, ...]:
        """Row labels (voltage bands)."""
        return tuple(r.label for r in self.spec.rows)

    @property
    def column_labels(self) -> tuple[str, ...]:
        """Column labels (duration bands)."""
        return tuple(c.label for c in self.spec.columns)

    def cell_label(self, row: int, column: int) -> str:
        """Label of a cell (e.g. ``'B1'``), or ``'<row> | <column>'`` if the table has none."""
        if self.spec.cells is not None:
            return self.spec.cells[row][column]
        return f"{self.row_labels[row]} | {self.column_labels[column]}"

    def notes(self) -> tuple[str, ...]:
        """Verification notes to print with every count that uses the table."""
        out = []
        if self.spec.verification == "memory":
            out.append(
                f"{self.id}: table edges not verified against the official text "
                f"(verification: memory). {self.spec.verification_note}".strip()
            )
        if self.spec.clause_verification == "memory":
            out.append(
                f"{self.id}: clause {self.spec.clause!r} not verified against the official text"
            )
        return tuple(out)

    def locate(
        self, value_percent: npt.ArrayLike, duration_s: npt.ArrayLike
    ) -> tuple[IntArray, IntArray]:
        """Row and column index of each (voltage, duration); -1 where outside the table.

        Parameters
        ----------
        value_percent : array_like
            Residual voltage (dips, interruptions) or maximum voltage (swells) [% of U_din].
        duration_s : array_like
            Event durations [s].
        """
        u = np.atleast_1d(np.asarray(value_percent, dtype=np.float64))
        d = np.atleast_1d(np.asarray(duration_s, dtype=np.float64))
        if u.shape != d.shape:
            msg = (
                f"{self.id}: value_percent {u.shape} and duration_s {d.shape} must have "
                "the same shape"
            )
            raise InputError(msg)
        row = np.full(u.shape, -1, dtype=np.int64)
        col = np.full(d.shape, -1, dtype=np.int64)
        for i, band in enumerate(self.spec.rows):
            row[band.contains(u)] = i
        for j, band in enumerate(self.spec.columns):
            col[band.contains(d)] = j
        outside = (row < 0) | (col < 0)
        row[outside] = -1
        col[outside] = -1
        return row, col

    def cell_of(self, event: VoltageEvent) -> str | None:
        """Cell label of one event, or None if it lies outside the table."""
        if event.kind != self.event:
            msg = f"{self.id} classifies {self.event}s, not a {event.kind}"
            raise InputError(msg)
        r, c = self.locate([event.extreme_percent], [event.duration_s])
        return None if r[0] < 0 else self.cell_label(int(r[0]), int(c[0]))


def _tables_from_file(path: Path) -> dict[str, EventTable]:
    """Validated tables of one file, by id."""
    data = read_data_file(path, InputError)
    try:
        spec = EventTablesSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_message(str(path), exc)) from exc
    return {t.id: EventTable(t, str(path)) for t in spec.tables}


def load_event_tables(path: str | Path) -> dict[str, EventTable]:
    """Load classification tables from a YAML/TOML file (schema :class:`EventTablesSpec`).

    Raises
    ------
    InputError
        If the file cannot be read or does not validate (file and field named).
    """
    return _tables_from_file(Path(path))


@cache
def _builtin() -> dict[str, EventTable]:
    """The built-in tables (read once)."""
    root = resources.files("gridtwin.quality") / "data" / "events" / "event_tables.yaml"
    return _tables_from_file(Path(str(root)))


def builtin_event_table_ids() -> tuple[str, ...]:
    """Ids of the built-in tables, e.g. ``'EN 50160:2010 dips'``."""
    return tuple(sorted(_builtin()))


def get_event_table(standard: str, event: EventKind) -> EventTable:
    """Return a built-in classification table.

    Parameters
    ----------
    standard : str
        ``'EN 50160:2010'`` or ``'GOST 32144-2013'``.
    event : {'dip', 'swell', 'interruption'}
    """
    for table in _builtin().values():
        if table.spec.standard == standard and table.event == event:
            return table
    have = sorted({(t.spec.standard, t.event) for t in _builtin().values()})
    msg = (
        f"no built-in {event} table for {standard!r}; built-in (standard, event): {have}. "
        "Load your own with load_event_tables(path)."
    )
    raise InputError(msg)


@dataclass(frozen=True)
class EventCounts:
    """Events per cell of a classification table, per observation week.

    Attributes
    ----------
    table : EventTable
    period_start_utc, period_end_utc : pandas.DatetimeIndex, shape (K,)
        Local observation weeks in UTC, end exclusive. An event belongs to the week in which
        it starts.
    counts : numpy.ndarray of int, shape (K, n_rows, n_columns)
    n_outside : numpy.ndarray of int, shape (K,)
        Events of the table's kind outside every cell (e.g. longer than 60 s).
    n_incomplete : numpy.ndarray of int, shape (K,)
        Counted events cut by the start or end of the record (duration is a lower bound).
    notes : tuple of str
    """

    table: EventTable
    period_start_utc: pd.DatetimeIndex
    period_end_utc: pd.DatetimeIndex
    counts: IntArray
    n_outside: IntArray
    n_incomplete: IntArray
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per (week, row, column) with the cell label and the count."""
        k, nr, nc = self.counts.shape
        rows = np.tile(np.repeat(np.arange(nr), nc), k)
        cols = np.tile(np.arange(nc), k * nr)
        return pd.DataFrame(
            {
                "table": self.table.id,
                "period_start_utc": self.period_start_utc.repeat(nr * nc),
                "period_end_utc": self.period_end_utc.repeat(nr * nc),
                "row": [self.table.row_labels[r] for r in rows],
                "column": [self.table.column_labels[c] for c in cols],
                "cell": [
                    self.table.cell_label(int(r), int(c)) for r, c in zip(rows, cols, strict=True)
                ],
                "count": self.counts.ravel(),
            }
        )


def count_per_week(
    log: EventLog, table: EventTable, *, timezone: str, week_start: str | pd.Timestamp = "mon 00:00"
) -> EventCounts:
    """Count the events of a record per table cell and observation week.

    Parameters
    ----------
    log : EventLog
    table : EventTable
        E.g. ``get_event_table('GOST 32144-2013', 'dip')``.
    timezone : str
        IANA zone in which weeks are aligned (as in :func:`gridtwin.quality.evaluate`).
    week_start : str or pandas.Timestamp
        ``'mon 00:00'``-style local start of a week (project default; the standards fix no
        weekday).

    Returns
    -------
    EventCounts
        Weeks spanning the record (``log.record_start_utc`` .. ``log.record_end_utc``).
    """
    _check_timezone(timezone)
    wd, minute = _parse_week_start(week_start, timezone)
    t0 = _ts_ns(log.record_start_utc)
    t1 = _ts_ns(log.record_end_utc) - 1
    bounds = _period_bounds(t0, max(t0, t1), "week", timezone, wd, minute)
    evs = log.of_kind(table.event)
    k = len(bounds) - 1
    nr, nc = len(table.row_labels), len(table.column_labels)
    counts = np.zeros((k, nr, nc), dtype=np.int64)
    outside = np.zeros(k, dtype=np.int64)
    incomplete = np.zeros(k, dtype=np.int64)
    if evs:
        starts = np.array([_ts_ns(e.start_utc) for e in evs], dtype=np.int64)
        week = np.searchsorted(bounds, starts, side="right") - 1
        r, c = table.locate([e.extreme_percent for e in evs], [e.duration_s for e in evs])
        inside = r >= 0
        np.add.at(counts, (week[inside], r[inside], c[inside]), 1)
        np.add.at(outside, week[~inside], 1)
        inc = np.array([not e.complete for e in evs], dtype=bool) & inside
        np.add.at(incomplete, week[inc], 1)
    th = log.thresholds
    notes = (
        *table.notes(),
        f"observation weeks start {week_start} local time ({timezone}); an event "
        "belongs to the week in which it starts",
        f"thresholds [% of U_din]: dip {th.dip_percent:g}, swell {th.swell_percent:g}, "
        f"interruption {th.interruption_percent:g}, hysteresis {th.hysteresis_percent:g}",
    )
    return EventCounts(
        table=table,
        period_start_utc=pd.DatetimeIndex(bounds[:-1].astype("datetime64[ns]")).tz_localize("UTC"),
        period_end_utc=pd.DatetimeIndex(bounds[1:].astype("datetime64[ns]")).tz_localize("UTC"),
        counts=counts,
        n_outside=outside,
        n_incomplete=incomplete,
        notes=notes,
    )
