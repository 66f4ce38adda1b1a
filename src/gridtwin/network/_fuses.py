"""Protective devices of LV feeders: gG fuse data (IEC 60269-1) and circuit breakers.

The gG data (``data/iec_60269_gg.yaml``) are the standard's conventional currents and
time-current gates; the tripping current for a disconnection time comes from the gates
(exact at 5 s and 0.1 s, log-log interpolated between them and flagged as approximated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gridtwin._datafile import load_validated
from gridtwin.errors import InputError

__all__ = ["FuseData", "ProtectiveDevice", "default_fuse", "fuse_data", "next_fuse_at_least"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Conventional(_Model):
    above_a: float = Field(ge=0)
    up_to_a: float = Field(gt=0)
    i_nf: float = Field(gt=1)
    i_f: float = Field(gt=1)
    time_h: float = Field(gt=0)


class FuseData(_Model):
    """The validated gG fuse data file."""

    id: str
    standard: str
    tables: dict[str, str]
    verification: str
    conventional: tuple[_Conventional, ...] = Field(min_length=1)
    gates: dict[int, tuple[float, float, float, float]] = Field(min_length=1)
    breaking_capacity_ka: float = Field(gt=0)
    selectivity_ratio: float = Field(gt=1)

    @property
    def ratings_a(self) -> tuple[int, ...]:
        """Standard rated currents with gates [A], ascending."""
        return tuple(sorted(self.gates))

    def fusing_ratio(self, rating_a: float) -> float:
        """Conventional fusing current ``I_f / I_n`` (= ``I_2 / I_n``)."""
        row = next(c for c in self.conventional if c.above_a < rating_a <= c.up_to_a)
        return row.i_f


@cache
def fuse_data() -> FuseData:
    """The built-in gG data (cached)."""
    return load_validated(Path(__file__).with_name("data") / "iec_60269_gg.yaml", FuseData)


def next_fuse_at_least(current_a: float) -> int | None:
    """Smallest standard gG rating >= ``current_a`` (None above the largest)."""
    return next((r for r in fuse_data().ratings_a if r >= current_a), None)


def default_fuse(i_z_a: float) -> int | None:
    """The default feeder fuse: the largest standard gG rating that protects a cable of
    permissible current ``i_z_a`` by IEC 60364-4-43 (``I_n <= I_z`` and
    ``I_2 = k_f I_n <= 1.45 I_z``); None when even the smallest does not."""
    data = fuse_data()
    ok = [r for r in data.ratings_a if r <= i_z_a and data.fusing_ratio(r) * r <= 1.45 * i_z_a]
    return ok[-1] if ok else None


@dataclass(frozen=True)
class ProtectiveDevice:
    """The protective device at the head of a feeder.

    Attributes
    ----------
    rating_a : float
        Rated current I_n [A] (a gG fuse must have a standard rating of the data file).
    kind : {'gG', 'breaker'}
        gG fuse-link (IEC 60269) or circuit breaker (IEC 60947-2).
    breaking_capacity_ka : float, optional
        Rated breaking capacity [kA]; gG default from the data (120 kA, NH system A),
        required for a breaker.
    trip_current_a : float, optional
        Breaker only: instantaneous (magnetic) tripping current [A]; default 10 I_n.
    """

    rating_a: float
    kind: Literal["gG", "breaker"] = "gG"
    breaking_capacity_ka: float | None = None
    trip_current_a: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("gG", "breaker"):
            msg = f"kind={self.kind!r}: use 'gG' (fuse) or 'breaker'"
            raise InputError(msg)
        if not (math.isfinite(self.rating_a) and self.rating_a > 0):
            msg = f"rating_a={self.rating_a!r} must be a positive current in A"
            raise InputError(msg)
        if self.kind == "gG" and int(self.rating_a) not in fuse_data().gates:
            msg = (
                f"rating_a={self.rating_a:g}: no gG gates for this rating; use one of "
                f"{', '.join(str(r) for r in fuse_data().ratings_a)} A"
            )
            raise InputError(msg)
        if self.kind == "breaker" and self.breaking_capacity_ka is None:
            msg = "breaking_capacity_ka is required for a breaker (its rated I_cu in kA)"
            raise InputError(msg)
        for name in ("breaking_capacity_ka", "trip_current_a"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                msg = f"{name}={v!r} must be positive"
                raise InputError(msg)

    @property
    def breaking_ka(self) -> float:
        """Rated breaking capacity [kA]."""
        if self.breaking_capacity_ka is not None:
            return self.breaking_capacity_ka
        return fuse_data().breaking_capacity_ka

    @property
    def i2_a(self) -> float:
        """Conventional operating current I_2 [A]: I_f of the fuse, 1.30 I_n for a
        breaker (IEC 60947-2 conventional tripping current)."""
        if self.kind == "gG":
            return fuse_data().fusing_ratio(self.rating_a) * self.rating_a
        return 1.30 * self.rating_a

    def tripping_current_a(self, time_s: float) -> tuple[float, str]:
        """Current that surely disconnects within ``time_s`` [A], and how it was found."""
        if self.kind == "breaker":
            trip = self.trip_current_a or 10.0 * self.rating_a
            return trip, "breaker instantaneous trip (< 0.1 s)"
        _, max_5s, _, max_01s = fuse_data().gates[int(self.rating_a)]
        if time_s >= 5.0:
            return max_5s, "gG gate I_max(5 s)"
        if time_s <= 0.1:
            return max_01s, "gG gate I_max(0.1 s)"
        share = math.log(5.0 / time_s) / math.log(5.0 / 0.1)
        value = math.exp(math.log(max_5s) + share * (math.log(max_01s) - math.log(max_5s)))
        return (
            value,
            "approximated: log-log between the gG gates I_max(5 s) and I_max(0.1 s) "
            f"at {time_s:g} s",
        )
