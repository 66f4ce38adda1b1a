"""The asset register: one record per network element, read from YAML/TOML or CSV.

A register says, for each element of the network (``trafo:0``, ``line:12``, ``sgen:3``):
its type, year of installation, rated (expected) life, the calendar maintenance plan's
interval, its maintenance history and its failures. Files are validated on load; every
error names the file, the row (the asset's position, counted from 1) and the field.

YAML (or TOML)::

    source: what the records are and where they come from
    assets:
      - element: trafo:0
        type: transformer
        year_installed: 1986
        rated_life_years: 40
        maintenance_interval_years: 6
        criticality: 3              # optional consequence weight (default 1)
        maintenance:
          - {date: 2019-05-14, kind: inspection, note: oil sample normal}
        failures:
          - {date: 2021-01-20, kind: bushing flashover}

CSV (one asset a row; maintenance and failures as the last date and a count)::

    element,type,year_installed,rated_life_years,maintenance_interval_years,last_maintenance,failures,last_failure,criticality
    trafo:0,transformer,1986,40,6,2019-05-14,1,2021-01-20,3
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gridtwin._datafile import read_csv_text, read_data_file, validation_lines
from gridtwin.errors import InputError

__all__ = [
    "ASSET_TYPES",
    "AssetRecord",
    "AssetRegister",
    "AssetType",
    "Event",
    "load_register",
    "register_from_records",
]

AssetType = Literal["transformer", "line", "generator", "switch"]
#: The asset types a register may name, and the network table each one lives in.
ASSET_TYPES: dict[str, str] = {
    "transformer": "trafo",
    "line": "line",
    "generator": "sgen",
    "switch": "switch",
}
_ELEMENT = re.compile(r"^(trafo|line|sgen|switch):(\d{1,9})$")
_CSV_COLUMNS = (
    "element",
    "type",
    "year_installed",
    "rated_life_years",
    "maintenance_interval_years",
)
_CSV_OPTIONAL = ("name", "last_maintenance", "failures", "last_failure", "criticality")


class Event(BaseModel):
    """A maintenance visit or a failure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date
    kind: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=2000)


class AssetRecord(BaseModel):
    """One asset of the register (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    element: str = Field(description="trafo:<i>, line:<i>, sgen:<i> or switch:<i>.")
    type: AssetType
    name: str = Field(default="", max_length=200)
    year_installed: int = Field(ge=1900, le=2200)
    rated_life_years: float = Field(gt=0, le=200)
    maintenance_interval_years: float = Field(
        gt=0, le=50, description="The calendar plan: a visit every this many years."
    )
    criticality: float = Field(
        default=1.0, gt=0, le=1000, description="Consequence weight of a failure (1: typical)."
    )
    maintenance: tuple[Event, ...] = ()
    failures: tuple[Event, ...] = ()

    @field_validator("element")
    @classmethod
    def _element(cls, value: str) -> str:
        if _ELEMENT.match(value) is None:
            msg = (
                f"{value!r} is not an element id; write <table>:<index> with table trafo, "
                "line, sgen or switch (e.g. trafo:0)"
            )
            raise ValueError(msg)
        return value

    def table(self) -> str:
        """The network table of :attr:`element` (``trafo``, ``line``, ...)."""
        return self.element.split(":", 1)[0]

    def index(self) -> int:
        """The element's index in its table."""
        return int(self.element.split(":", 1)[1])

    def last_maintenance(self, as_of: dt.date | None = None) -> dt.date | None:
        """The newest maintenance visit (on or before ``as_of``), None when none."""
        return max(
            (e.date for e in self.maintenance if as_of is None or e.date <= as_of), default=None
        )


class _RegisterFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(default="", max_length=2000)
    assets: list[dict[str, Any]] = Field(min_length=1, max_length=1_000_000)


@dataclass(frozen=True)
class AssetRegister:
    """A validated register.

    Attributes
    ----------
    assets : tuple of AssetRecord
        In file order, one per element.
    source : str
        What the records are (the file's ``source``, or the file name for CSV).
    path : str
        The file read ('' when built in memory).
    """

    assets: tuple[AssetRecord, ...]
    source: str = ""
    path: str = ""

    def by_element(self) -> dict[str, AssetRecord]:
        """The records keyed by element id."""
        return {a.element: a for a in self.assets}


def _record(where: str, row: int, data: Any) -> AssetRecord:
    if not isinstance(data, dict):
        msg = f"{where}: assets[{row}]: an asset must be a mapping, found {type(data).__name__}"
        raise InputError(msg)
    try:
        rec = AssetRecord.model_validate(data)
    except ValidationError as exc:
        label = f"{where}: asset {row} ({data.get('element', 'no element')})"
        raise InputError("\n".join(validation_lines(label, exc))) from exc
    if ASSET_TYPES[rec.type] != rec.table():
        msg = (
            f"{where}: asset {row} ({rec.element}): field type: {rec.type!r} does not fit a "
            f"{rec.table()} element; a {rec.type} is a {ASSET_TYPES[rec.type]}:<i>"
        )
        raise InputError(msg)
    return rec


def register_from_records(
    records: Sequence[Any], *, source: str = "", where: str = "register"
) -> AssetRegister:
    """Validate records (mappings or :class:`AssetRecord`) into a register; an element
    listed twice is refused naming both rows (rows counted from 1)."""
    out: list[AssetRecord] = []
    seen: dict[str, int] = {}
    for row, data in enumerate(records, start=1):
        rec = data if isinstance(data, AssetRecord) else _record(where, row, data)
        if rec.element in seen:
            msg = (
                f"{where}: asset {row}: field element: {rec.element} is already asset "
                f"{seen[rec.element]}; list each element once (merge the two records)"
            )
            raise InputError(msg)
        seen[rec.element] = row
        out.append(rec)
    if not out:
        msg = f"{where}: the register lists no asset; add at least one"
        raise InputError(msg)
    return AssetRegister(tuple(out), source=source, path=where)


def _csv_row(path: Path, row: int, cells: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in cells.items() if k in _CSV_COLUMNS and v != ""}
    data.update({k: cells[k] for k in ("name", "criticality") if cells.get(k, "") != ""})
    if cells.get("last_maintenance", ""):
        data["maintenance"] = [{"date": cells["last_maintenance"], "kind": "last visit"}]
    n_fail_text = cells.get("failures", "") or "0"
    try:
        n_fail = int(n_fail_text)
    except ValueError:
        n_fail = -1
    if n_fail < 0:
        msg = (
            f"{path}: row {row}: field failures: {n_fail_text!r} is not a count; write 0, 1, 2, ..."
        )
        raise InputError(msg)
    last_failure = cells.get("last_failure", "")
    if n_fail and not last_failure:
        msg = f"{path}: row {row}: field last_failure: {n_fail} failures need the date of the last"
        raise InputError(msg)
    if last_failure:
        # the count's older failures are dated at the last one: counted, not placed in time
        data["failures"] = [{"date": last_failure, "kind": "recorded"}] * max(n_fail, 1)
    return data


def _read_csv(path: Path) -> AssetRegister:
    expected = ",".join(_CSV_COLUMNS) + " (and optionally " + ",".join(_CSV_OPTIONAL) + ")"
    frame = read_csv_text(path, expected)
    missing = [c for c in _CSV_COLUMNS if c not in frame.columns]
    if missing:
        msg = f"{path}: header: missing column(s) {', '.join(missing)}; the header needs {expected}"
        raise InputError(msg)
    unknown = [c for c in frame.columns if c not in _CSV_COLUMNS + _CSV_OPTIONAL]
    if unknown:
        msg = f"{path}: header: unknown column(s) {', '.join(unknown)}; allowed: {expected}"
        raise InputError(msg)
    records = [
        _csv_row(path, row, dict(zip(frame.columns, values, strict=True)))
        for row, values in enumerate(frame.itertuples(index=False, name=None), start=1)
    ]
    return register_from_records(records, source=f"CSV register {path.name}", where=str(path))


def load_register(path: str | Path) -> AssetRegister:
    """Read an asset register from YAML/TOML or CSV (see the module docstring).

    Raises
    ------
    InputError
        Naming the file, the asset's row and the field for anything wrong.
    """
    p = Path(path)
    if p.suffix.lower() == ".csv":
        return _read_csv(p)
    try:
        data = read_data_file(p, InputError)
    except InputError:
        raise
    except ValueError as exc:  # a YAML date that is no date (2019-15-14), and the like
        msg = f"{p}: not a valid register: {exc}; check the dates (YYYY-MM-DD) and numbers"
        raise InputError(msg) from exc
    try:
        parsed = _RegisterFile.model_validate(data)
    except ValidationError as exc:
        raise InputError("\n".join(validation_lines(str(p), exc))) from exc
    return register_from_records(parsed.assets, source=parsed.source, where=str(p))
