"""Billing plan: periods cut into version segments and calendar-month slices.

A billing period ``[start, end)`` (local dates) is cut at every tariff version change
(*segments*: the bill shows one set of lines per segment) and at every month start
(*slices*: monthly rules such as the Italian excise relief or monthly blocks work on
them). Each interval of the data is mapped to its slice.
"""

from __future__ import annotations

import calendar as pycal
import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError, TariffValidityError
from gridtwin.tariffs._loader import Tariff
from gridtwin.tariffs._schema import Condition, PropertySpec, TariffVersion
from gridtwin.timeseries import utc_ns

__all__ = ["BillingPlan", "Customers", "Slice", "build_plan", "month_periods", "segment_periods"]

BoolArray = npt.NDArray[np.bool_]
PropValue = str | bool | float | int


@dataclass(frozen=True)
class Slice:
    """A piece of a billing period inside one month and one set of tariff versions."""

    period: int
    segment: int
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        """Number of days in the slice."""
        return (self.end - self.start).days

    @property
    def days_in_month(self) -> int:
        """Number of days of the slice's month."""
        return pycal.monthrange(self.start.year, self.start.month)[1]

    @property
    def days_in_year(self) -> int:
        """365, or 366 in a leap year."""
        return 366 if pycal.isleap(self.start.year) else 365


@dataclass(frozen=True)
class Segment:
    """A run of a billing period with the same tariff versions."""

    index: int
    period: int
    start: dt.date
    end: dt.date
    versions: tuple[TariffVersion, ...]
    slices: tuple[int, ...]


class Customers:
    """Customer properties per meter (a scalar applies to every meter).

    Parameters
    ----------
    n_meters : int
        Number of meters billed together.
    values : mapping
        Property name -> scalar or sequence of one value per meter.
    """

    def __init__(self, n_meters: int, values: Mapping[str, PropValue | Sequence[PropValue]]):
        self.n_meters = n_meters
        self._values: dict[str, npt.NDArray[np.generic]] = {}
        for name, value in values.items():
            arr = np.asarray(value)
            if arr.ndim == 0:
                arr = np.full(n_meters, arr.item(), dtype=arr.dtype)
            if arr.shape != (n_meters,):
                msg = (
                    f"customer property {name!r} has {arr.shape[0]} values for "
                    f"{n_meters} meters; give one value or one per meter"
                )
                raise InputError(msg)
            self._values[name] = arr

    def names(self) -> tuple[str, ...]:
        """Property names given."""
        return tuple(self._values)

    def get(self, name: str) -> npt.NDArray[np.generic]:
        """Values of one property (one per meter)."""
        return self._values[name]

    def numeric(self, name: str) -> npt.NDArray[np.float64]:
        """Values of one numeric property as floats."""
        try:
            return self._values[name].astype(np.float64)
        except (TypeError, ValueError) as exc:
            msg = f"customer property {name!r} must be a number"
            raise InputError(msg) from exc

    def matches(self, cond: Condition | None) -> BoolArray:
        """Meters for which every clause of ``cond`` holds."""
        mask = np.ones(self.n_meters, dtype=bool)
        if cond is None:
            return mask
        for name, wanted in cond.equals.items():
            accepted = wanted if isinstance(wanted, list) else [wanted]
            mask &= np.isin(self._values[name], np.asarray(accepted))
        for name, refused in cond.not_equals.items():
            values = refused if isinstance(refused, list) else [refused]
            mask &= ~np.isin(self._values[name], np.asarray(values))
        for name, bound in cond.max.items():
            mask &= self.numeric(name) <= bound
        for name, bound in cond.min.items():
            mask &= self.numeric(name) >= bound
        return mask


def resolve_customers(
    tariff: Tariff, n_meters: int, given: Mapping[str, PropValue | Sequence[PropValue]]
) -> Customers:
    """Check the given properties against the tariff's declarations; fill defaults."""
    declared = tariff.doc.properties
    unknown = [k for k in given if k not in declared]
    if unknown:
        msg = (
            f"tariff {tariff.id} does not read customer property(ies) {unknown}; "
            f"it reads {sorted(declared)}"
        )
        raise InputError(msg)
    values: dict[str, PropValue | Sequence[PropValue]] = dict(given)
    for name, spec in declared.items():
        if name not in values:
            if spec.default is None:
                hint = f" (one of {list(spec.allowed)})" if spec.allowed else ""
                msg = (
                    f"tariff {tariff.id} needs customer property {name!r}{hint}: "
                    f"{spec.description or ''}; pass it, e.g. --prop {name}=..."
                )
                raise InputError(msg)
            values[name] = spec.default
    customers = Customers(n_meters, values)
    for name, spec in declared.items():
        arr = customers.get(name)
        if spec.allowed is not None:
            bad = sorted({str(v) for v in arr.tolist()} - set(spec.allowed))
            if bad:
                msg = (
                    f"customer property {name}={bad[0]!r} is not allowed by tariff "
                    f"{tariff.id}; allowed: {list(spec.allowed)}"
                )
                raise InputError(msg)
        if spec.type == "number":
            _check_number(tariff, name, spec, customers.numeric(name))
        if spec.type == "bool":
            bad_bool = [v for v in arr.tolist() if not isinstance(v, bool | np.bool_)]
            if bad_bool:
                msg = (
                    f"customer property {name}={bad_bool[0]!r} must be true or false "
                    f"(tariff {tariff.id}), e.g. --prop {name}=true"
                )
                raise InputError(msg)
    return customers


#: Units of properties that are sizes of a supply: zero or less is no supply at all.
_POSITIVE_UNITS = frozenset({"kW", "kVA", "A", "kVAr"})


def _check_number(
    tariff: Tariff, name: str, spec: PropertySpec, values: npt.NDArray[np.float64]
) -> None:
    """A numeric property is finite, and a power or current is above zero."""
    bad = values[~np.isfinite(values)]
    if bad.size:
        msg = f"customer property {name}={bad[0]} must be a finite number (tariff {tariff.id})"
        raise InputError(msg)
    if spec.unit in _POSITIVE_UNITS and (values <= 0).any():
        low = values[values <= 0][0]
        msg = (
            f"customer property {name}={low:g} {spec.unit} must be above zero "
            f"(tariff {tariff.id}): a supply of no power cannot be billed"
        )
        raise InputError(msg)


@dataclass(frozen=True)
class BillingPlan:
    """Periods, segments and slices of a billing run, and the step -> slice map."""

    tariff: Tariff
    periods: tuple[tuple[dt.date, dt.date], ...]
    segments: tuple[Segment, ...]
    slices: tuple[Slice, ...]
    step_slice: npt.NDArray[np.int64]  # slice id per interval, -1 if not billed
    step: pd.Timedelta

    def slice_bounds(self) -> npt.NDArray[np.int64]:
        """(n_slices, 2) array of [first, last+1) interval positions of each slice."""
        n = len(self.slices)
        pos = np.arange(len(self.step_slice))
        valid = self.step_slice >= 0
        first = np.full(n, -1, dtype=np.int64)
        last = np.full(n, -1, dtype=np.int64)
        ids = self.step_slice[valid]
        np.maximum.at(last, ids, pos[valid] + 1)
        first_rev = np.full(n, len(pos), dtype=np.int64)
        np.minimum.at(first_rev, ids, pos[valid])
        first[:] = first_rev
        return np.stack([first, last], axis=1)


def month_periods(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Calendar-month billing periods covering ``[start, end)`` (partial at the ends)."""
    out = []
    cur = start
    while cur < end:
        nxt = (cur.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        out.append((cur, min(nxt, end)))
        cur = nxt
    return out


def _cut_points(tariff: Tariff, start: dt.date, end: dt.date) -> list[dt.date]:
    cuts = {start, end}
    cuts.update(d for d in tariff.change_dates() if start < d < end)
    month = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    while month < end:
        cuts.add(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return sorted(cuts)


def _local_midnight_utc(day: dt.date, tz: str) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")


def segment_periods(
    tariff: Tariff, periods: Sequence[tuple[dt.date, dt.date]]
) -> tuple[list[Segment], list[Slice]]:
    """Cut billing periods at version changes (segments) and month starts (slices)."""
    valid_from, valid_to = tariff.validity()
    segments: list[Segment] = []
    slices: list[Slice] = []
    for p, (start, end) in enumerate(periods):
        if end <= start:
            msg = f"billing period {p}: end {end} must be after start {start}"
            raise InputError(msg)
        if p and start < periods[p - 1][1]:
            msg = f"billing period {p} ({start}..{end}) overlaps the previous one"
            raise InputError(msg)
        if start < valid_from or (valid_to is not None and end > valid_to):
            msg = (
                f"billing period {start}..{end} is outside the validity of tariff "
                f"{tariff.id} ({valid_from}..{valid_to or 'open'}); choose another "
                "period or a tariff version that covers it"
            )
            raise TariffValidityError(msg)
        cuts = _cut_points(tariff, start, end)
        for a, b in itertools.pairwise(cuts):
            versions = tuple(tariff.version_at(d, a) for d in tariff.documents())
            same = (
                segments
                and segments[-1].period == p
                and all(x is y for x, y in zip(segments[-1].versions, versions, strict=True))
            )
            if not same:
                segments.append(Segment(len(segments), p, a, b, versions, ()))
            seg = segments[-1]
            slices.append(Slice(p, len(segments) - 1, a, b))
            segments[-1] = Segment(
                seg.index, seg.period, seg.start, b, seg.versions, (*seg.slices, len(slices) - 1)
            )
    return segments, slices


def build_plan(
    tariff: Tariff,
    start_utc: pd.DatetimeIndex,
    step: pd.Timedelta,
    periods: Sequence[tuple[dt.date, dt.date]],
) -> BillingPlan:
    """Cut billing periods into segments and slices and map each interval to a slice."""
    tz = tariff.timezone
    data_start, data_end = start_utc[0], start_utc[-1] + step
    segments, slices = segment_periods(tariff, periods)
    for start, end in periods:
        p_start, p_end = _local_midnight_utc(start, tz), _local_midnight_utc(end, tz)
        if p_start < data_start or p_end > data_end:
            msg = (
                f"billing period {start}..{end} ({tz}) is not covered by the data "
                f"({data_start.isoformat()}..{data_end.isoformat()})"
            )
            raise InputError(msg)
    bounds = pd.DatetimeIndex(
        [_local_midnight_utc(s.start, tz) for s in slices]
        + [_local_midnight_utc(slices[-1].end, tz)]
    )
    step_slice = _map_steps(start_utc, step, bounds, slices, tz)
    return BillingPlan(tariff, tuple(periods), tuple(segments), tuple(slices), step_slice, step)


def _map_steps(
    start_utc: pd.DatetimeIndex,
    step: pd.Timedelta,
    bounds: pd.DatetimeIndex,
    slices: list[Slice],
    tz: str,
) -> npt.NDArray[np.int64]:
    """Slice id of each interval start (-1 outside every period)."""
    t = utc_ns(start_utc)
    b = utc_ns(bounds)
    idx = np.searchsorted(b, t, side="right") - 1
    out = np.where((idx >= 0) & (idx < len(slices)), idx, -1).astype(np.int64)
    # slices of different periods may not be adjacent: mask the gaps between them
    for k in range(len(slices) - 1):
        if slices[k].end != slices[k + 1].start:
            gap_start = _local_midnight_utc(slices[k].end, tz).value
            out[(t >= gap_start) & (t < b[k + 1])] = -1
    offsets = (b - t[0]) % step.value
    if np.any(offsets):
        msg = (
            f"a billing boundary does not fall on an interval start of the data "
            f"(step {step}); use data aligned to local midnight"
        )
        raise InputError(msg)
    return out
