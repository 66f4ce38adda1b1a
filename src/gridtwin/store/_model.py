"""The data model of the measurement store: points, measurements, rejects, quality flags.

A **measurement point** is one measured quantity at one place: the element of the network
model it maps to (``load:12``, ``bus:3``, ``line:7``, ``trafo:0``), the quantity and its
unit, the phase, the source that delivers it and the scaling from the source's raw value.

A **measurement** is keyed by ``(point_id, ts_utc)``: the value of the point at that time
(the interval's start for interval quantities such as energy), with quality flags, the
source's own timestamp and the time it arrived. A second, different value for the same
key is a new *revision*; the same value again is a duplicate and not stored twice.

A **reject** is an input the store did not take, with the reason.
"""

from __future__ import annotations

import enum
import functools
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gridtwin._datafile import load_validated
from gridtwin.errors import InputError

__all__ = [
    "PHASES",
    "REJECT_COLUMNS",
    "REJECT_REASONS",
    "MeasurementBatch",
    "MeasurementPoint",
    "Quality",
    "QuantitySpec",
    "RejectBatch",
    "RejectReason",
    "StoreInfo",
    "WriteReport",
    "points_from_records",
    "quantities",
]

#: Phases a point can measure: all three (or the balanced equivalent) or one phase.
PHASES = ("abc", "a", "b", "c", "n")
_ID = re.compile(r"^[A-Za-z0-9_.:/\-]{1,200}$")
_ELEMENT = re.compile(r"^[a-z_0-9]+:[0-9]+$")


class Quality(enum.IntFlag):
    """Quality flags of a measurement (a bit set; no flag set means valid)."""

    VALID = 0
    ESTIMATED = 1
    SUBSTITUTED = 2
    QUESTIONABLE = 4

    @classmethod
    def parse(cls, text: str) -> Quality:
        """``valid``, ``estimated``, ``substituted``, ``questionable`` or several joined by
        ``|`` or ``,``; an unknown name is an :class:`InputError` listing the known ones."""
        out = cls.VALID
        for part in re.split(r"[|,+ ]+", text.strip().lower()):
            if not part or part == "valid":
                continue
            try:
                out |= cls[part.upper()]
            except KeyError:
                names = ", ".join(m.name.lower() for m in cls if m.name)
                msg = f"unknown quality flag {part!r}; use {names}"
                raise InputError(msg) from None
        return out

    def label(self) -> str:
        """The flags as text: ``valid`` or e.g. ``estimated|questionable``."""
        if self == Quality.VALID:
            return "valid"
        return "|".join(m.name.lower() for m in Quality if m and (self & m) and m.name)


RejectReason = Literal[
    "malformed",
    "unknown_point",
    "not_finite",
    "out_of_range",
    "future_timestamp",
    "bad_timestamp",
    "bad_quality",
]
#: Every reason a value can be rejected for (the ``reason`` column of the rejects).
REJECT_REASONS: tuple[RejectReason, ...] = (
    "malformed",
    "unknown_point",
    "not_finite",
    "out_of_range",
    "future_timestamp",
    "bad_timestamp",
    "bad_quality",
)


# ----------------------------------------------------------------------- quantities


class QuantitySpec(BaseModel):
    """One quantity of ``store/data/quantities.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    base: str
    units: dict[str, float] = Field(min_length=1)
    min: float
    max: float


class _QuantityFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edition: str
    quantities: dict[str, QuantitySpec]


@functools.cache
def quantities() -> dict[str, QuantitySpec]:
    """The known quantities with their units and plausibility ranges (a data file)."""
    ref = resources.files("gridtwin.store") / "data" / "quantities.yaml"
    with resources.as_file(ref) as path:
        return load_validated(Path(path), _QuantityFile, InputError).quantities


# ----------------------------------------------------------------------- points


@dataclass(frozen=True)
class MeasurementPoint:
    """One measured quantity at one place.

    Attributes
    ----------
    point_id : str
        Unique id (letters, digits and ``_ . : / -``; at most 200 characters).
    quantity : str
        A key of :func:`quantities` (``p``, ``q``, ``u``, ``vm``, ``i``, ``energy``, ...).
    unit : str
        The unit of stored values, one of the quantity's units.
    element : str or None
        The network-model element it maps to, ``<table>:<index>`` (``load:12``), or None.
    phase : str
        One of :data:`PHASES`.
    source : str
        Who delivers it (``mqtt``, ``modbus:plc1``, ``file``, ``replay``, ...).
    scale, offset : float
        ``value = raw * scale + offset``: from the source's raw number to ``unit``.
    min_value, max_value : float or None
        Plausibility range in ``unit``; None takes the quantity's default.
    description : str
        Free text.
    """

    point_id: str
    quantity: str
    unit: str
    element: str | None = None
    phase: str = "abc"
    source: str = ""
    scale: float = 1.0
    offset: float = 0.0
    min_value: float | None = None
    max_value: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        problems = _point_problems(self)
        if problems:
            msg = f"measurement point {self.point_id!r}: " + "; ".join(problems)
            raise InputError(msg)

    def value_range(self) -> tuple[float, float]:
        """The accepted range of values in the point's unit, [min, max]."""
        spec = quantities()[self.quantity]
        factor = spec.units[self.unit]
        lo = spec.min / factor if self.min_value is None else self.min_value
        hi = spec.max / factor if self.max_value is None else self.max_value
        return lo, hi


def _point_problems(p: MeasurementPoint) -> list[str]:
    out: list[str] = []
    if not isinstance(p.point_id, str) or not _ID.match(p.point_id):
        out.append("point_id must be 1-200 letters, digits or _ . : / -")
    known = quantities()
    spec = known.get(p.quantity)
    if spec is None:
        out.append(f"quantity {p.quantity!r} is unknown; use one of {', '.join(known)}")
    elif p.unit not in spec.units:
        out.append(f"unit {p.unit!r} does not fit {p.quantity}; use {', '.join(spec.units)}")
    if p.element is not None and not _ELEMENT.match(p.element):
        out.append(f"element {p.element!r} must be '<table>:<index>', e.g. load:12")
    if p.phase not in PHASES:
        out.append(f"phase {p.phase!r} must be one of {', '.join(PHASES)}")
    for name in ("scale", "offset", "min_value", "max_value"):
        v = getattr(p, name)
        if v is not None and not np.isfinite(v):
            out.append(f"{name} must be a finite number")
    if p.scale == 0:
        out.append("scale must not be 0")
    if p.min_value is not None and p.max_value is not None and p.min_value > p.max_value:
        out.append("min_value is above max_value")
    return out


class _PointRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    point_id: str
    quantity: str
    unit: str
    element: str | None = None
    phase: str = "abc"
    source: str = ""
    scale: float = 1.0
    offset: float = 0.0
    min_value: float | None = None
    max_value: float | None = None
    description: str = ""


def points_from_records(records: Iterable[dict[str, Any]], where: str) -> list[MeasurementPoint]:
    """Points from mappings (rows of a CSV or items of a YAML list); every bad row is
    reported at once as ``where: row N (point_id): field: reason``."""
    out: list[MeasurementPoint] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, raw in enumerate(records, start=1):
        rec = {k: (None if v == "" and k != "description" else v) for k, v in raw.items()}
        rec = {k: v for k, v in rec.items() if v is not None or k in ("element",)}
        label = f"{where}: row {n} ({raw.get('point_id', '?')})"
        try:
            row = _PointRecord.model_validate(rec)
            point = MeasurementPoint(**row.model_dump())
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"])
                problems.append(f"{label}: {loc}: {err['msg']}")
            continue
        except InputError as exc:
            problems.append(f"{label}: {exc}")
            continue
        if point.point_id in seen:
            problems.append(f"{label}: point_id is given twice")
        seen.add(point.point_id)
        out.append(point)
    if problems:
        raise InputError("\n".join(problems))
    return out


# ----------------------------------------------------------------------- batches

_US = "datetime64[us]"


def _now_us() -> np.datetime64:
    """The time now in UTC to the microsecond (``datetime64('now')`` is to the second)."""
    return np.datetime64(time.time_ns() // 1000, "us")


def _as_ts(values: Any, name: str) -> npt.NDArray[np.datetime64]:
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return arr.astype(_US)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64).view(_US)
    msg = f"{name} must be datetime64 values (UTC, naive) or int64 microseconds since 1970"
    raise InputError(msg)


@dataclass(frozen=True)
class MeasurementBatch:
    """Validated measurements, column-wise (one row per value).

    Attributes
    ----------
    point_id : ndarray of str
    ts_utc : ndarray of datetime64[us]
        UTC (naive numpy values); the interval's start for interval quantities.
    value : ndarray of float64
        In the point's unit (scaling applied).
    quality : ndarray of uint8
        :class:`Quality` bits.
    source_ts_utc : ndarray of datetime64[us]
        The source's own timestamp (NaT when it sent none).
    arrival_ts_utc : ndarray of datetime64[us]
        When gridtwin received the value.
    """

    point_id: npt.NDArray[np.object_]
    ts_utc: npt.NDArray[np.datetime64]
    value: npt.NDArray[np.float64]
    quality: npt.NDArray[np.uint8]
    source_ts_utc: npt.NDArray[np.datetime64]
    arrival_ts_utc: npt.NDArray[np.datetime64]

    @classmethod
    def build(
        cls,
        point_id: Sequence[str] | npt.NDArray[Any],
        ts_utc: Any,
        value: Any,
        quality: Any = None,
        source_ts_utc: Any = None,
        arrival_ts_utc: Any = None,
    ) -> MeasurementBatch:
        """A batch from columns; missing quality is valid, missing source time NaT,
        missing arrival time now. Lengths must agree."""
        pid = np.asarray(point_id, dtype=object)
        n = len(pid)
        ts = _as_ts(ts_utc, "ts_utc")
        val = np.asarray(value, dtype=np.float64)
        qual = np.zeros(n, np.uint8) if quality is None else np.asarray(quality, np.uint8)
        src = np.full(n, np.datetime64("NaT"), _US) if source_ts_utc is None else None
        src = _as_ts(source_ts_utc, "source_ts_utc") if src is None else src
        if arrival_ts_utc is None:
            arr = np.full(n, _now_us(), _US)
        else:
            arr = _as_ts(arrival_ts_utc, "arrival_ts_utc")
        for name, col in (("ts_utc", ts), ("value", val), ("quality", qual)):
            if len(col) != n:
                msg = f"MeasurementBatch: {name} has {len(col)} values, point_id has {n}"
                raise InputError(msg)
        for name, col in (("source_ts_utc", src), ("arrival_ts_utc", arr)):
            if len(col) != n:
                msg = f"MeasurementBatch: {name} has {len(col)} values, point_id has {n}"
                raise InputError(msg)
        return cls(pid, ts, val, qual, src, arr)

    def __len__(self) -> int:
        return len(self.point_id)

    @classmethod
    def concat(cls, batches: Sequence[MeasurementBatch]) -> MeasurementBatch:
        """One batch of several (in order)."""
        if len(batches) == 1:
            return batches[0]
        return cls(*(np.concatenate([getattr(b, f) for b in batches]) for f in _BATCH_FIELDS))

    def take(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> MeasurementBatch:
        """The rows selected by a boolean mask or an index array."""
        return MeasurementBatch(*(getattr(self, f)[mask] for f in _BATCH_FIELDS))


_BATCH_FIELDS = ("point_id", "ts_utc", "value", "quality", "source_ts_utc", "arrival_ts_utc")


@dataclass(frozen=True)
class LatestValues:
    """The newest values of points as arrays, one entry per point that has a value,
    ordered by point id (the rows of :meth:`MeasurementStore.latest`, without a frame).

    Attributes
    ----------
    point_id : list of str
    ts_utc, source_ts_utc, arrival_ts_utc : numpy.ndarray
        ``datetime64[us]``, UTC, naive; NaT where a value has no source time.
    value : numpy.ndarray
        ``float64``, in the point's unit.
    quality : numpy.ndarray
        ``uint8`` :class:`Quality` codes.
    revision : numpy.ndarray
        ``int16``.
    """

    point_id: list[str]
    ts_utc: npt.NDArray[np.datetime64]
    value: npt.NDArray[np.float64]
    quality: npt.NDArray[np.uint8]
    revision: npt.NDArray[np.int16]
    source_ts_utc: npt.NDArray[np.datetime64]
    arrival_ts_utc: npt.NDArray[np.datetime64]

    def __len__(self) -> int:
        return len(self.point_id)


@dataclass(frozen=True)
class RejectBatch:
    """Inputs not stored, with the reason (column-wise).

    Attributes
    ----------
    point_id : list of str or None
        The point named by the input, if any could be read.
    ts_utc : list of datetime64[us]
        The input's timestamp, NaT if none could be read.
    value : list of float
        The input's value, NaN if none could be read.
    reason : list of str
        One of :data:`REJECT_REASONS`.
    detail : list of str
        What exactly was wrong, for a person.
    source : list of str
        Who sent it (``mqtt:topic``, ``file:path:row``, ...).
    raw : list of str
        The offending input (truncated to 1,000 characters).
    arrival_ts_utc : list of datetime64[us]
    """

    point_id: list[str | None] = field(default_factory=list)
    ts_utc: list[np.datetime64] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    arrival_ts_utc: list[np.datetime64] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.reason)

    def add(
        self,
        reason: RejectReason,
        detail: str,
        *,
        source: str = "",
        raw: str = "",
        point_id: str | None = None,
        ts_utc: np.datetime64 | None = None,
        value: float = float("nan"),
        arrival_ts_utc: np.datetime64 | None = None,
    ) -> None:
        """Record one rejected input."""
        if reason not in REJECT_REASONS:
            msg = f"unknown reject reason {reason!r}; use one of {', '.join(REJECT_REASONS)}"
            raise InputError(msg)
        self.point_id.append(point_id)
        self.ts_utc.append(np.datetime64("NaT", "us") if ts_utc is None else ts_utc)
        self.value.append(float(value))
        self.reason.append(reason)
        self.detail.append(detail)
        self.source.append(source)
        self.raw.append(raw[:1000])
        now = _now_us()
        self.arrival_ts_utc.append(now if arrival_ts_utc is None else arrival_ts_utc)

    def extend(self, other: RejectBatch) -> None:
        """Append every reject of ``other``."""
        for name in REJECT_COLUMNS:
            getattr(self, name).extend(getattr(other, name))

    def counts(self) -> dict[str, int]:
        """Rejects per reason."""
        out: dict[str, int] = {}
        for r in self.reason:
            out[r] = out.get(r, 0) + 1
        return out


#: The columns of a reject, in the order of the stores' rejects tables and frames.
REJECT_COLUMNS = (
    "point_id",
    "ts_utc",
    "value",
    "reason",
    "detail",
    "source",
    "raw",
    "arrival_ts_utc",
)


@dataclass(frozen=True)
class WriteReport:
    """What one durable write did.

    Attributes
    ----------
    stored : int
        New rows (first values and revisions).
    duplicates : int
        Values equal to one already stored for the same key: not stored again.
    revisions : int
        Of ``stored``, the values that differ from an earlier one for the same key.
    rejected : int
        Rejects written.
    """

    stored: int = 0
    duplicates: int = 0
    revisions: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class StoreInfo:
    """A summary of a store.

    Attributes
    ----------
    backend : str
        ``duckdb`` or ``postgresql``.
    location : str
        The data directory or the URL (without password).
    points, measurements, revisions, rejects : int
        Row counts (``measurements`` counts every stored row, revisions included).
    first_ts_utc, last_ts_utc : numpy.datetime64 or None
        The time span of the measurements.
    schema_version : int
    """

    backend: str
    location: str
    points: int
    measurements: int
    revisions: int
    rejects: int
    first_ts_utc: np.datetime64 | None
    last_ts_utc: np.datetime64 | None
    schema_version: int
