"""Band schedules from a switching table: a distribution operator's VT/NT times as a CSV.

In Slovakia the high (VT) and low (NT) band of a two-band supply rate follow the high/low
*distribution* tariff times that each distribution system operator (DSO) sets and signals
by ripple control (HDO); ÚRSO decisions only refer to them (e.g. ÚRSO 0210/2017/E, part I,
points 7-8). Those times are published as tables, one per HDO command. This module turns
such a table into a :class:`~gridtwin.calendar._model.ScheduleSpec` and adds it to a
calendar, so that a tariff can price the bands.

Table format (CSV, UTF-8, one header row; lines starting with ``#`` and blank lines are
ignored; quoted fields must not span lines):

``day_type``
    A day type of the calendar the schedule is added to (``weekday``, ``saturday``,
    ``sunday`` for ``sk-urso``; ``holiday`` only for calendars that count holidays).
``band``
    Band name, e.g. ``VT`` or ``NT``.
``start``, ``end``
    Local clock time ``HH:MM`` on the table's grid (``resolution_min``). ``end`` may be
    ``24:00``; an ``end`` of ``00:00`` after a later ``start`` also means midnight. A
    range that wraps past midnight (``22:00`` to ``06:00``) covers the end *and* the
    start of the same day type (22:00-24:00 and 00:00-06:00 of every such day), as the
    calendar's own schedules do.
``season`` (optional column)
    A season of the calendar; empty means every season.

Every time of every listed day type (and season) must be covered by exactly one row,
unless a ``default`` band is given for the uncovered times. Errors name the file, the line
(or the frame's row label) and the field, and say how to fix the table.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import ValidationError

from gridtwin._datafile import validation_message
from gridtwin.calendar._calendar import Calendar
from gridtwin.calendar._model import (
    RESERVED_DAY_TYPES,
    BandRule,
    CalendarSpec,
    ScheduleSpec,
    parse_hhmm_range,
)
from gridtwin.errors import CalendarError, InputError

__all__ = ["calendar_with_schedule", "schedule_from_table"]

REQUIRED_COLUMNS: tuple[str, ...] = ("day_type", "band", "start", "end")
OPTIONAL_COLUMNS: tuple[str, ...] = ("season",)
_MINUTES_PER_DAY = 24 * 60
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_BAND = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+\-]*$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")

Status = Literal["verified", "secondary", "unverified"]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Row:
    """One validated row of a switching table (times in minutes of the local day)."""

    at: str  # "line 7" or "row 'x'": where the row is, for messages
    day_type: str
    band: str
    season: str | None
    start_min: int
    end_min: int  # 1..1440; < start_min when the range wraps past midnight

    @property
    def text(self) -> str:
        """The range as ``'HH:MM-HH:MM'`` (the calendar schedules' notation)."""
        return f"{_hhmm(self.start_min)}-{_hhmm(self.end_min)}"

    def spans(self) -> list[tuple[int, int]]:
        """Minute spans ``[a, b)`` of the day that the row covers."""
        if self.end_min > self.start_min:
            return [(self.start_min, self.end_min)]
        return [(self.start_min, _MINUTES_PER_DAY), (0, self.end_min)]


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _check_resolution(resolution_min: int) -> None:
    if (
        not isinstance(resolution_min, int)
        or isinstance(resolution_min, bool)
        or resolution_min <= 0
        or 60 % resolution_min
    ):
        msg = (
            f"resolution_min={resolution_min!r} must be a whole number of minutes that "
            "divides 60 (e.g. 15, 30 or 60)"
        )
        raise InputError(msg)


# ----------------------------------------------------------------------------- reading
def _file_records(path: Path) -> tuple[list[str], Iterator[tuple[str, list[str]]]]:
    """Header and ``(where, fields)`` of each data line of a CSV file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        msg = f"{path}: cannot read the switching table ({exc.strerror})"
        raise CalendarError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"{path}: the switching table is not UTF-8 text ({exc.reason}); save it as UTF-8"
        raise CalendarError(msg) from exc
    numbered = [
        (i, line)
        for i, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        msg = (
            f"{path}: the switching table is empty; it needs a header row "
            f"{','.join(REQUIRED_COLUMNS)} and one row per band range"
        )
        raise CalendarError(msg)
    parsed = [(i, next(csv.reader([line]))) for i, line in numbered]
    header = [h.strip() for h in parsed[0][1]]

    def records() -> Iterator[tuple[str, list[str]]]:
        for i, fields in parsed[1:]:
            if len(fields) != len(header):
                msg = (
                    f"{path}, line {i}: {len(fields)} field(s) for {len(header)} columns "
                    f"({','.join(header)}); give one value per column, leaving an "
                    "optional one empty"
                )
                raise CalendarError(msg)
            yield f"line {i}", [f.strip() for f in fields]

    return header, records()


def _frame_records(frame: pd.DataFrame) -> tuple[list[str], Iterator[tuple[str, list[str]]]]:
    """Header and ``(where, fields)`` of each row of a DataFrame."""
    header = [str(c).strip() for c in frame.columns]

    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        return str(value).strip()

    def records() -> Iterator[tuple[str, list[str]]]:
        for label, values in zip(
            frame.index, frame.itertuples(index=False, name=None), strict=True
        ):
            yield f"row {label!r}", [cell(v) for v in values]

    return header, records()


def _check_header(header: Sequence[str], where: str) -> None:
    known = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    dup = sorted({h for h in header if list(header).count(h) > 1})
    if dup:
        msg = f"{where}: header: column(s) {dup} appear more than once"
        raise CalendarError(msg)
    unknown = [h for h in header if h not in known]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if unknown or missing:
        msg = (
            f"{where}: header: the columns must be {', '.join(REQUIRED_COLUMNS)} and "
            f"optionally {', '.join(OPTIONAL_COLUMNS)}"
            + (f"; unknown column(s) {unknown} (check the spelling)" if unknown else "")
            + (f"; missing column(s) {missing}" if missing else "")
        )
        raise CalendarError(msg)


def _parse_time(value: str, field: str, at: str, resolution_min: int) -> int:
    """Minutes of the day of an ``HH:MM`` field (``24:00`` allowed; checked by the caller)."""
    m = _TIME.match(value)
    if not m:
        msg = (
            f"{at}, field `{field}`: {value!r} is not a time; write HH:MM local time "
            "(e.g. 06:00, 22:30, 24:00)"
        )
        raise CalendarError(msg)
    hours, minutes = int(m.group(1)), int(m.group(2))
    total = hours * 60 + minutes
    if minutes > 59 or total > _MINUTES_PER_DAY:
        msg = f"{at}, field `{field}`: {value!r} is not a time of day (00:00 to 24:00)"
        raise CalendarError(msg)
    if total % resolution_min:
        msg = (
            f"{at}, field `{field}`: {value} is not on the table's {resolution_min}-minute "
            f"grid; round it or pass a finer resolution_min"
        )
        raise CalendarError(msg)
    return total


def _parse_row(values: dict[str, str], where: str, row_at: str, resolution_min: int) -> _Row:
    at = f"{where}, {row_at}"
    day_type = values["day_type"]
    if not _NAME.match(day_type):
        msg = (
            f"{at}, field `day_type`: {day_type!r} is not a day-type name; use the "
            "calendar's lower-case names (e.g. weekday, saturday, sunday)"
        )
        raise CalendarError(msg)
    band = values["band"]
    if not _BAND.match(band):
        msg = (
            f"{at}, field `band`: {band!r} is not a band name; use letters, digits, "
            "'_', '+' or '-' (e.g. VT, NT)"
        )
        raise CalendarError(msg)
    season = values.get("season", "") or None
    if season is not None and not _NAME.match(season):
        msg = (
            f"{at}, field `season`: {season!r} is not a season name; use the calendar's "
            "lower-case season names, or leave it empty for every season"
        )
        raise CalendarError(msg)
    start = _parse_time(values["start"], "start", at, resolution_min)
    end = _parse_time(values["end"], "end", at, resolution_min)
    if start == _MINUTES_PER_DAY:
        msg = f"{at}, field `start`: 24:00 is the end of the day; a range starts at 23:59 latest"
        raise CalendarError(msg)
    if end == 0 and start > 0:
        end = _MINUTES_PER_DAY  # "22:00-00:00" runs to midnight
    if end == start:
        msg = (
            f"{at}, field `end`: the range {values['start']}-{values['end']} is empty; "
            "for a whole day write start 00:00 and end 24:00"
        )
        raise CalendarError(msg)
    return _Row(row_at, day_type, band, season, start, end)


# --------------------------------------------------------------------------- checking
def _check_rows(rows: list[_Row], where: str, resolution_min: int, default: str | None) -> None:
    """Overlaps between rows, and times no row covers (unless there is a default)."""
    n_slots = _MINUTES_PER_DAY // resolution_min
    # day type -> season (None = every season) -> slot -> position in `rows`, -1 if free
    occupied: dict[str, dict[str | None, IntArray]] = {}
    for pos, row in enumerate(rows):
        by_season = occupied.setdefault(row.day_type, {})
        own = by_season.setdefault(row.season, np.full(n_slots, -1, dtype=np.int64))
        others = (
            list(by_season.values())
            if row.season is None
            else [a for k, a in by_season.items() if k in (row.season, None)]
        )
        for a, b in row.spans():
            sl = slice(a // resolution_min, b // resolution_min)
            for arr in others:
                taken = np.nonzero(arr[sl] >= 0)[0]
                if len(taken):
                    other = rows[int(arr[sl][taken[0]])]
                    minute = a + int(taken[0]) * resolution_min
                    in_season = f", season {row.season}" if row.season else ""
                    msg = (
                        f"{where}, {row.at}: {row.band} {row.text} on {row.day_type}"
                        f"{in_season} overlaps {other.at} ({other.band} {other.text}) at "
                        f"{_hhmm(minute)}; every time of a day type may be in one row "
                        "only: shorten or remove one of the rows"
                    )
                    raise CalendarError(msg)
            own[sl] = pos
    if default is not None:
        return
    named = sorted({r.season for r in rows if r.season is not None})
    seasons: list[str | None] = [*named] if named else [None]
    for day_type, by_season in occupied.items():
        every = by_season.get(None, np.full(n_slots, -1, dtype=np.int64))
        for season in seasons:
            covered = every >= 0
            if season is not None and season in by_season:
                covered = covered | (by_season[season] >= 0)
            if covered.all():
                continue
            first = int(np.argmin(covered))
            after = np.nonzero(covered[first:])[0]
            last = first + int(after[0]) if len(after) else n_slots
            label = f", season {season}" if season is not None else ""
            msg = (
                f"{where}: no row gives a band for {day_type}{label} from "
                f"{_hhmm(first * resolution_min)} to {_hhmm(last * resolution_min)}; "
                "add a row for these times or pass default=<band> for uncovered times"
            )
            raise CalendarError(msg)


def schedule_from_table(
    path_or_frame: str | os.PathLike[str] | pd.DataFrame,
    *,
    resolution_min: int = 15,
    default: str | None = None,
    description: str | None = None,
    status: Status = "unverified",
) -> ScheduleSpec:
    """Build a band schedule from a switching table (e.g. a DSO's VT/NT times).

    Parameters
    ----------
    path_or_frame : str, path-like or pandas.DataFrame
        A CSV file, or a frame with the same columns: ``day_type``, ``band``, ``start``,
        ``end`` (local time ``HH:MM``), optional ``season`` (see the module docstring).
    resolution_min : int
        Time grid of the schedule [min]; every ``start``/``end`` must lie on it and it
        must divide 60. Interval data coarser than the grid that straddles a switching
        time is refused at billing time.
    default : str, optional
        Band for times that no row covers. Without it, an uncovered time is an error.
    description : str, optional
        Description stored with the schedule (default: names the table).
    status : {'verified', 'secondary', 'unverified'}
        How far the times were checked against the operator's publication; stored on
        every rule of the schedule.

    Returns
    -------
    ScheduleSpec
        One rule per (day type, season) with the rows' ranges per band; band order is
        the order of first appearance (then ``default`` if it is new). Each rule's
        ``source`` names the table and its lines.

    Raises
    ------
    CalendarError
        The table cannot be read, has wrong columns, a bad field (named with its line or
        row), overlapping rows, or uncovered times without a ``default``.
    InputError
        ``resolution_min`` or ``default`` is not valid.
    """
    _check_resolution(resolution_min)
    if default is not None and not _BAND.match(default):
        msg = f"default={default!r} is not a band name (letters, digits, '_', '+', '-')"
        raise InputError(msg)
    where, header, records = _read_table(path_or_frame)
    _check_header(header, where)
    rows = [
        _parse_row(dict(zip(header, fields, strict=True)), where, at, resolution_min)
        for at, fields in records
    ]
    if not rows:
        msg = f"{where}: the switching table has a header but no rows"
        raise CalendarError(msg)
    _check_rows(rows, where, resolution_min, default)
    bands = list(dict.fromkeys(r.band for r in rows))
    if default is not None and default not in bands:
        bands.append(default)
    rules = _rules(rows, where, status)
    try:
        return ScheduleSpec(
            description=description or f"switching table {where}",
            resolution_min=resolution_min,
            bands=tuple(bands),
            default=default,
            rules=tuple(rules),
        )
    except ValidationError as exc:  # the checks above should make this unreachable
        raise CalendarError(validation_message(where, exc)) from exc


def _read_table(
    path_or_frame: str | os.PathLike[str] | pd.DataFrame,
) -> tuple[str, list[str], Iterator[tuple[str, list[str]]]]:
    """The table's name in messages, its header and its records (where, fields)."""
    if isinstance(path_or_frame, pd.DataFrame):
        where = "<switching table frame>"
        header, records = _frame_records(path_or_frame)
    elif isinstance(path_or_frame, str | os.PathLike):
        path = Path(path_or_frame)
        where = str(path)
        header, records = _file_records(path)
    else:
        msg = (
            f"path_or_frame must be a CSV path or a pandas DataFrame, not "
            f"{type(path_or_frame).__name__}"
        )
        raise InputError(msg)
    return where, header, records


def _rules(rows: list[_Row], where: str, status: Status) -> list[BandRule]:
    """One rule per (day type, season) with the rows' ranges per band."""
    groups: dict[tuple[str, str | None], list[_Row]] = {}
    for r in rows:
        groups.setdefault((r.day_type, r.season), []).append(r)
    rules = []
    for (day_type, season), members in groups.items():
        ranges: dict[str, list[str]] = {}
        for r in members:
            ranges.setdefault(r.band, []).append(r.text)
        rules.append(
            BandRule(
                day_types=(day_type,),
                seasons=(season,) if season else None,
                bands={b: tuple(v) for b, v in ranges.items()},
                status=status,
                source=f"{where}, {_join_at([r.at for r in members])}",
            )
        )
    return rules


def _join_at(places: list[str]) -> str:
    """``['line 3', 'line 4']`` -> ``'lines 3, 4'`` (``rows`` for a frame)."""
    kind = places[0].split(" ", 1)[0]
    if len(places) == 1 or any(not p.startswith(kind + " ") for p in places):
        return ", ".join(places)
    return f"{kind}s " + ", ".join(p.split(" ", 1)[1] for p in places)


# ------------------------------------------------------------------ adding to a calendar
def _rule_at(schedule: ScheduleSpec, i: int) -> str:
    rule = schedule.rules[i]
    return f"rule {i} ({rule.source})" if rule.source else f"rule {i}"


def _check_names(calendar: Calendar, name: str, schedule: ScheduleSpec) -> None:
    """Day types and seasons of the rules exist in the calendar."""
    seasons = {s.name for s in calendar.spec.seasons}
    for i, rule in enumerate(schedule.rules):
        for t in rule.day_types:
            if t not in calendar.day_type_names:
                hint = (
                    f"calendar {calendar.id} counts no holidays"
                    if t in RESERVED_DAY_TYPES
                    else f"calendar {calendar.id} has day types {list(calendar.day_type_names)}"
                )
                msg = (
                    f"schedule {name}, {_rule_at(schedule, i)}: day type {t!r} is not "
                    f"used: {hint}; rename or remove these rows"
                )
                raise CalendarError(msg)
        for s in rule.seasons or ():
            if s not in seasons:
                hint = (
                    f"has seasons {sorted(seasons)}"
                    if seasons
                    else "defines no seasons: leave the season column empty"
                )
                msg = (
                    f"schedule {name}, {_rule_at(schedule, i)}: season {s!r} is unknown; "
                    f"calendar {calendar.id} {hint}"
                )
                raise CalendarError(msg)


def _check_cover(calendar: Calendar, name: str, schedule: ScheduleSpec) -> None:
    """Each (season, day type) of the calendar: no clashing bands, no gap without default."""
    res = schedule.resolution_min
    n_slots = _MINUTES_PER_DAY // res
    for season in calendar.season_names:
        for day_type in calendar.day_type_names:
            slots = np.full(n_slots, -1, dtype=np.int64)
            for i, rule in enumerate(schedule.rules):
                if day_type not in rule.day_types:
                    continue
                if rule.seasons is not None and season not in rule.seasons:
                    continue
                for band, ranges in rule.bands.items():
                    code = schedule.bands.index(band)
                    for text in ranges:
                        start, end = parse_hhmm_range(text, res)
                        spans = [(start, end)] if end > start else [(start, 1440), (0, end)]
                        for a, b in spans:
                            part = slots[a // res : b // res]
                            if ((part >= 0) & (part != code)).any():
                                msg = (
                                    f"schedule {name}, {_rule_at(schedule, i)}: band "
                                    f"{band} at {text} overlaps another band on "
                                    f"{day_type} (season {season})"
                                )
                                raise CalendarError(msg)
                            part[:] = code
            if schedule.default is None and (slots < 0).any():
                minute = int(np.argmax(slots < 0)) * res
                msg = (
                    f"schedule {name} ({schedule.description or 'no description'}): no "
                    f"band for {day_type} (season {season}) at {_hhmm(minute)} in "
                    f"calendar {calendar.id}; add rows for this day type or give the "
                    "schedule a default band"
                )
                raise CalendarError(msg)


def calendar_with_schedule(
    calendar: Calendar, name: str, schedule: ScheduleSpec, *, replace: bool = False
) -> Calendar:
    """A copy of ``calendar`` with one more band schedule (the input is not changed).

    Parameters
    ----------
    calendar : Calendar
        Base calendar, e.g. ``get_calendar("sk-urso")``.
    name : str
        Name of the new schedule, as tariffs refer to it (``schedule: <name>``).
    schedule : ScheduleSpec
        The schedule, e.g. from :func:`schedule_from_table`.
    replace : bool
        Allow replacing a schedule of the same name.

    Returns
    -------
    Calendar
        A new calendar; its id is unchanged.

    Raises
    ------
    CalendarError
        The name is taken (and ``replace`` is false), the schedule names day types or
        seasons the calendar does not have, or leaves a day type/season partly uncovered
        without a default band, or overlaps bands.
    """
    if not _NAME.match(name):
        msg = f"schedule name {name!r} must be lower-case letters, digits and '_'"
        raise CalendarError(msg)
    if name in calendar.spec.schedules and not replace:
        msg = (
            f"calendar {calendar.id} already has a schedule {name!r}; pick another name "
            "or pass replace=True"
        )
        raise CalendarError(msg)
    _check_names(calendar, name, schedule)
    _check_cover(calendar, name, schedule)
    data = calendar.spec.model_dump()
    data["schedules"] = {**data["schedules"], name: schedule.model_dump()}
    try:
        spec = CalendarSpec.model_validate(data)
    except ValidationError as exc:
        where = f"calendar {calendar.id} + schedule {name}"
        raise CalendarError(validation_message(where, exc)) from exc
    return Calendar(spec)
