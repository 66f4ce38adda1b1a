"""Register (meter index) readings from Italian-style bills, and consumption between them.

A bill states, per point of delivery (POD) and register (time band ``F1``/``F2``/``F3`` or
``total``), the cumulative meter index [kWh] at the start and end of the billed period,
and whether each reading is actual, estimated by the distributor, or read by the customer.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final, Literal, get_args

from gridtwin.errors import DataQualityError, InputError

__all__ = [
    "READING_KINDS",
    "BandConsumption",
    "ReadingKind",
    "RegisterReading",
    "consumption_by_register",
    "read_register_readings",
]

ReadingKind = Literal["actual", "estimated", "self_read"]
#: Allowed values of :attr:`RegisterReading.kind`.
READING_KINDS: Final[tuple[ReadingKind, ...]] = get_args(ReadingKind)
_COLUMNS: Final = ("pod", "register", "read_date", "value_kwh", "kind")


@dataclass(frozen=True)
class RegisterReading:
    """One reading of one register of a meter.

    Attributes
    ----------
    pod : str
        Point of delivery id (e.g. ``IT001E12345678``).
    register : str
        Register (band) name, e.g. ``F1``, ``F2``, ``F3`` or ``total``.
    read_date : datetime.date
        Date of the reading.
    value_kwh : float
        Cumulative meter index [kWh], finite and non-negative.
    kind : {"actual", "estimated", "self_read"}
        Actual (read by the distributor), estimated, or read by the customer.
    """

    pod: str
    register: str
    read_date: date
    value_kwh: float
    kind: ReadingKind

    def __post_init__(self) -> None:
        if not self.pod.strip():
            msg = "RegisterReading: pod is empty; give the point of delivery id"
            raise InputError(msg)
        if not self.register.strip():
            msg = f"RegisterReading of pod {self.pod!r}: register is empty (e.g. 'F1')"
            raise InputError(msg)
        if not math.isfinite(self.value_kwh) or self.value_kwh < 0:
            msg = (
                f"RegisterReading of pod {self.pod!r}, register {self.register!r}: "
                f"value_kwh={self.value_kwh} must be a finite, non-negative meter index"
            )
            raise InputError(msg)
        if self.kind not in READING_KINDS:
            msg = (
                f"RegisterReading of pod {self.pod!r}: unknown kind {self.kind!r}; "
                f"allowed: {', '.join(READING_KINDS)}"
            )
            raise InputError(msg)


@dataclass(frozen=True)
class BandConsumption:
    """Consumption of one POD per register between two readings.

    Attributes
    ----------
    pod : str
        Point of delivery id.
    start, end : datetime.date
        Dates of the opening and closing readings.
    energy_kwh_by_band : dict of str to float
        Consumption [kWh] per register (closing minus opening index).
    reading_kinds : dict of str to (str, str)
        Per register, the kinds of the opening and closing readings.
    estimated : bool
        True if any opening or closing reading is estimated.
    """

    pod: str
    start: date
    end: date
    energy_kwh_by_band: dict[str, float]
    reading_kinds: dict[str, tuple[str, str]]
    estimated: bool


def read_register_readings(path: str | Path) -> list[RegisterReading]:
    """Read register readings from a CSV file.

    Parameters
    ----------
    path : str or Path
        Comma-separated file with columns ``pod, register, read_date, value_kwh, kind``
        (others are ignored). ``read_date`` is ISO ``YYYY-MM-DD``; ``value_kwh`` the
        cumulative index [kWh]; ``kind`` one of ``actual``, ``estimated``, ``self_read``.

    Returns
    -------
    list of RegisterReading
        In file order.

    Raises
    ------
    InputError
        Unreadable file, missing column, or an invalid field (file, row and field named).
    DataQualityError
        The same pod, register and date appear on more than one row.
    """
    file = Path(path)
    rows = _csv_rows(file)
    readings = [_parse_row(file, n, row) for n, row in enumerate(rows, start=1)]
    _check_unique(file, readings)
    return readings


def consumption_by_register(
    readings: Iterable[RegisterReading], start: date, end: date, *, pod: str | None = None
) -> BandConsumption:
    """Return one POD's consumption per register between the readings at two dates.

    Parameters
    ----------
    readings : iterable of RegisterReading
        Readings of one POD (or of several, with ``pod=`` selecting one). Exact repeats
        (the same reading listed on two consecutive bills) are allowed.
    start, end : datetime.date
        Dates of the opening and closing readings; ``start < end``. Every register read
        on either date must have a reading on both.
    pod : str, optional
        The POD to use when ``readings`` cover several.

    Returns
    -------
    BandConsumption
        Consumption [kWh] per register, reading kinds and the ``estimated`` flag.

    Raises
    ------
    InputError
        Bad dates, no or several PODs, or a register lacking a reading on a date.
    DataQualityError
        An index decreases (meter replaced or rollover) or two readings conflict.
    """
    if not start < end:
        msg = f"consumption_by_register: start {start} must be before end {end}"
        raise InputError(msg)
    pod_id, mine = _select_pod(list(readings), pod)
    opening = _on_date(pod_id, mine, start)
    closing = _on_date(pod_id, mine, end)
    _check_registers(pod_id, mine, opening, closing, start, end)
    energy: dict[str, float] = {}
    kinds: dict[str, tuple[str, str]] = {}
    for reg in sorted(opening):
        first, last = opening[reg], closing[reg]
        if last.value_kwh < first.value_kwh:
            msg = (
                f"pod {pod_id!r}, register {reg!r}: the index decreases from "
                f"{first.value_kwh} kWh ({start}, {first.kind}) to {last.value_kwh} kWh "
                f"({end}, {last.kind}): meter replaced or rollover? supply a correction "
                "(e.g. split the period at the replacement and read both meters)"
            )
            raise DataQualityError(msg)
        energy[reg] = last.value_kwh - first.value_kwh
        kinds[reg] = (first.kind, last.kind)
    estimated = any("estimated" in pair for pair in kinds.values())
    return BandConsumption(pod_id, start, end, energy, kinds, estimated)


# --------------------------------------------------------------------------- CSV parsing


def _csv_rows(file: Path) -> list[dict[str, str]]:
    """Return the data rows of a CSV file after checking the header."""
    if file.suffix.lower() != ".csv":
        msg = f"{file}: expected a .csv file of register readings"
        raise InputError(msg)
    if not file.is_file():
        msg = f"{file}: file not found (or not a file)"
        raise InputError(msg)
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [str(h).strip() for h in (reader.fieldnames or [])]
            missing = [c for c in _COLUMNS if c not in header]
            if missing:
                hint = " Is it semicolon-separated? Use commas." if ";" in "".join(header) else ""
                msg = (
                    f"{file}: missing column(s) {missing}; expected {list(_COLUMNS)}, "
                    f"found {header}.{hint}"
                )
                raise InputError(msg)
            reader.fieldnames = header
            return [{k: v for k, v in row.items() if isinstance(k, str)} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        msg = f"{file}: cannot read as a UTF-8 CSV file ({exc})"
        raise InputError(msg) from exc


def _field(file: Path, n: int, row: Mapping[str, str | None], name: str) -> str:
    """Return a stripped, non-empty field or raise naming file, row and field."""
    value = (row.get(name) or "").strip()
    if not value:
        msg = f"{file}: data row {n} (1-based, header excluded), field {name!r}: empty"
        raise InputError(msg)
    return value


def _parse_row(file: Path, n: int, row: Mapping[str, str | None]) -> RegisterReading:
    """Validate one CSV row and build a :class:`RegisterReading`."""
    where = f"{file}: data row {n} (1-based, header excluded)"
    pod, register = _field(file, n, row, "pod"), _field(file, n, row, "register")
    text_date = _field(file, n, row, "read_date")
    try:
        read_date = date.fromisoformat(text_date)
    except ValueError as exc:
        msg = f"{where}, field 'read_date': {text_date!r} is not an ISO date (YYYY-MM-DD)"
        raise InputError(msg) from exc
    text_value = _field(file, n, row, "value_kwh")
    try:
        value = float(text_value)
    except ValueError as exc:
        msg = (
            f"{where}, field 'value_kwh': {text_value!r} is not a number (use a dot as "
            "decimal separator and no thousands separator)"
        )
        raise InputError(msg) from exc
    if not math.isfinite(value) or value < 0:
        msg = f"{where}, field 'value_kwh': {text_value!r} must be a finite, non-negative index"
        raise InputError(msg)
    kind = _field(file, n, row, "kind").lower()
    for allowed in READING_KINDS:
        if kind == allowed:
            return RegisterReading(pod, register, read_date, value, allowed)
    msg = f"{where}, field 'kind': unknown kind {kind!r}; allowed: {', '.join(READING_KINDS)}"
    raise InputError(msg)


def _check_unique(file: Path, readings: list[RegisterReading]) -> None:
    """Raise if a (pod, register, date) appears on more than one row."""
    seen: dict[tuple[str, str, date], int] = {}
    for n, r in enumerate(readings, start=1):
        key = (r.pod, r.register, r.read_date)
        if key in seen:
            first = seen[key]
            same = readings[first - 1] == r
            what = "identical" if same else "conflicting"
            msg = (
                f"{file}: data rows {first} and {n} (1-based, header excluded) are "
                f"{what} readings of pod {r.pod!r}, register {r.register!r} on "
                f"{r.read_date}; keep exactly one row per pod, register and date"
            )
            raise DataQualityError(msg)
        seen[key] = n


# --------------------------------------------------------------------------- consumption


def _select_pod(
    readings: list[RegisterReading], pod: str | None
) -> tuple[str, list[RegisterReading]]:
    """Return the POD id and its readings; raise if none or ambiguous."""
    pods = sorted({r.pod for r in readings})
    if pod is None:
        if len(pods) != 1:
            msg = (
                f"consumption_by_register: readings cover {len(pods)} pods "
                f"{pods[:5]}; pass pod= to choose one"
                if pods
                else "consumption_by_register: no readings given"
            )
            raise InputError(msg)
        pod = pods[0]
    mine = [r for r in readings if r.pod == pod]
    if not mine:
        msg = f"consumption_by_register: no readings of pod {pod!r}; pods present: {pods[:5]}"
        raise InputError(msg)
    return pod, mine


def _on_date(pod: str, readings: list[RegisterReading], day: date) -> dict[str, RegisterReading]:
    """Return the readings of ``day`` by register; raise on conflicting repeats."""
    found: dict[str, RegisterReading] = {}
    for r in readings:
        if r.read_date != day:
            continue
        other = found.setdefault(r.register, r)
        if other != r:
            msg = (
                f"pod {pod!r}, register {r.register!r}: conflicting readings on {day} "
                f"({other.value_kwh} kWh {other.kind} vs {r.value_kwh} kWh {r.kind}); "
                "keep one"
            )
            raise DataQualityError(msg)
    return found


def _check_registers(
    pod: str,
    readings: list[RegisterReading],
    opening: dict[str, RegisterReading],
    closing: dict[str, RegisterReading],
    start: date,
    end: date,
) -> None:
    """Raise unless both dates have a reading of every register read on either date."""
    registers = sorted(set(opening) | set(closing))
    for day, found, role in ((start, opening, "start"), (end, closing, "end")):
        if not found:
            dates = sorted({r.read_date.isoformat() for r in readings})
            msg = (
                f"pod {pod!r}: no reading on {day} ({role}); readings exist on "
                f"{', '.join(dates[:12])}"
            )
            raise InputError(msg)
        missing = [reg for reg in registers if reg not in found]
        if missing:
            msg = (
                f"pod {pod!r}: no reading of register(s) {', '.join(missing)} on {day} "
                f"({role}); read there: {', '.join(sorted(found))}. Every register needs "
                "a reading on both dates"
            )
            raise InputError(msg)
