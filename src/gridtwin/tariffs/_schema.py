"""The declarative tariff schema (pydantic 2, unknown fields are errors).

A *tariff document* is a YAML/TOML file with metadata, the customer properties it reads,
the calendar whose band schedules it uses, and a list of *versions* with effective dates.
Each version lists *components* (charges, in bill order) and *taxes* (in the order they
are applied). A document of kind ``component_set`` holds charges shared by many tariffs
(regulated network charges, a country's taxes) and is pulled in with ``includes``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridtwin.calendar._model import CalendarSpec

__all__ = [
    "SECTIONS",
    "Component",
    "Condition",
    "DemandCharge",
    "DiscountCharge",
    "EnergyCharge",
    "ExciseTax",
    "FixedCharge",
    "IndexedEnergyCharge",
    "InstalmentCharge",
    "MinimumCharge",
    "NotIncluded",
    "PercentTax",
    "PowerCharge",
    "PropertySpec",
    "Source",
    "TariffDocument",
    "TariffVersion",
    "Tax",
    "Tier",
    "energy_unit_factor",
]

Section = Literal["energy", "network", "system", "taxes", "other"]
SECTIONS: tuple[str, ...] = ("energy", "network", "system", "taxes", "other")

# price unit -> (currency, factor to currency per kWh)
_ENERGY_UNITS: dict[str, tuple[str, float]] = {
    "EUR/kWh": ("EUR", 1.0),
    "EUR/MWh": ("EUR", 1e-3),
    "ILS/kWh": ("ILS", 1.0),
    "agorot/kWh": ("ILS", 1e-2),
    "USD/kWh": ("USD", 1.0),
}
EnergyUnit = Literal["EUR/kWh", "EUR/MWh", "ILS/kWh", "agorot/kWh", "USD/kWh"]
PeriodUnit = Literal["day", "month", "year"]


def energy_unit_factor(unit: str, currency: str) -> float:
    """Factor turning a price in ``unit`` into ``currency`` per kWh."""
    cur, factor = _ENERGY_UNITS[unit]
    if cur != currency:
        msg = f"price unit {unit!r} is in {cur}, but the tariff's currency is {currency}"
        raise ValueError(msg)
    return factor


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where the values come from: every tariff file cites it."""

    title: str
    url: str | None = None
    edition: str | None = None
    published: dt.date | None = None
    notes: str | None = None


class PropertySpec(_Strict):
    """A customer property a tariff reads (voltage level, residence, contracted kW...)."""

    type: Literal["str", "bool", "number"]
    allowed: tuple[str, ...] | None = None
    default: str | bool | float | None = None
    description: str | None = None
    unit: str | None = None


class Condition(_Strict):
    """Applicability of a component: all given clauses must hold for the customer.

    ``equals`` maps property -> required value (or list of accepted values);
    ``not_equals`` maps property -> refused value (or list of refused values);
    ``max``/``min`` map numeric property -> inclusive bound.
    """

    equals: dict[str, str | bool | float | list[str | bool | float]] = Field(default_factory=dict)
    not_equals: dict[str, str | bool | float | list[str | bool | float]] = Field(
        default_factory=dict
    )
    max: dict[str, float] = Field(default_factory=dict)
    min: dict[str, float] = Field(default_factory=dict)


class _ComponentBase(_Strict):
    id: str
    label: str
    explanation: str | None = Field(
        default=None, description="plain-language explanation shown with the bill line"
    )
    section: Section
    applies_if: Condition | None = None


class FixedCharge(_ComponentBase):
    """A fixed amount per point of delivery per day, month or year, pro-rated by days.

    ``proration``:

    - ``year_days``: each started day costs 1/365 (1/366 in a leap year) of the yearly
      amount (12 monthly amounts): the Slovak rule (ÚRSO 0210/2017/E I.9), also used for
      Italian quote fisse.
    - ``month_days``: each day costs 1/(days in its month) of the monthly amount (a whole
      month costs exactly the monthly amount; URDB/PySAM's ``$/month``).
    """

    kind: Literal["fixed"]
    amount: float
    per: PeriodUnit
    proration: Literal["year_days", "month_days"] = "year_days"


class PowerCharge(_ComponentBase):
    """A charge per kW of contracted (or available = contracted x factor) power."""

    kind: Literal["power"]
    rate: float = Field(description="currency per kW per `per`")
    per: PeriodUnit = "year"
    basis: Literal["contracted", "available"] = "contracted"
    available_factor: float = Field(default=1.1, gt=0)
    power_property: str = "contracted_kw"
    proration: Literal["year_days", "month_days"] = "year_days"


class Tier(_Strict):
    """One block of a tiered energy charge: up to ``up_to_kwh`` (None = no limit)."""

    up_to_kwh: float | None = Field(default=None, gt=0)
    rate: float


class EnergyCharge(_ComponentBase):
    """A price per kWh, flat, per band of a schedule, or in blocks (tiers).

    ``rates`` is one number, a mapping band -> price, or a mapping season -> band -> price
    (prices that depend on the calendar's season as well as the band). ``tiers`` (with one flat
    price per tier) apply to the consumption of each ``tier_period``; ``up_to_kwh`` of a
    ``day`` period is multiplied by the days in the period.
    """

    kind: Literal["energy"]
    unit: EnergyUnit
    schedule: str | None = None
    rates: float | dict[str, float] | dict[str, dict[str, float]] | None = None
    tiers: tuple[Tier, ...] | None = None
    tier_period: Literal["month", "billing_period", "day"] = "month"

    @model_validator(mode="after")
    def _one_of(self) -> EnergyCharge:
        if (self.rates is None) == (self.tiers is None):
            msg = f"component {self.id}: give exactly one of `rates` or `tiers`"
            raise ValueError(msg)
        if isinstance(self.rates, dict) and self.schedule is None:
            msg = f"component {self.id}: rates per band need a `schedule`"
            raise ValueError(msg)
        if self.tiers is not None:
            limits = [t.up_to_kwh for t in self.tiers]
            if any(x is None for x in limits[:-1]) or limits[-1] is not None:
                msg = f"component {self.id}: only the last tier may (and must) have no limit"
                raise ValueError(msg)
            finite = [x for x in limits if x is not None]
            if finite != sorted(finite):
                msg = f"component {self.id}: tier limits must increase"
                raise ValueError(msg)
        return self

    @property
    def seasonal(self) -> bool:
        """True when ``rates`` is season -> band -> price."""
        return isinstance(self.rates, dict) and any(
            isinstance(v, dict) for v in self.rates.values()
        )

    @property
    def schedule_key(self) -> str | None:
        """Key of the band assignment this charge reads (``schedule@season`` if seasonal)."""
        if self.schedule is None:
            return None
        return f"{self.schedule}@season" if self.seasonal else self.schedule

    def rate_for(self, band: str) -> float:
        """Price of one band (``season/band`` for seasonal rates) in the file's unit."""
        if not isinstance(self.rates, dict):
            return float(self.rates or 0.0)
        if self.seasonal:
            season, _, name = band.partition("/")
            table = self.rates[season]
            return float(table[name]) if isinstance(table, dict) else float(table)
        value = self.rates[band]
        return float(value) if not isinstance(value, dict) else 0.0


class IndexedEnergyCharge(_ComponentBase):
    """Energy at an indexed price: ``series x multiplier + spread`` per interval.

    The series (e.g. the Italian PUN) is supplied at billing time by name, on the same
    time axis as the consumption or coarser (hourly prices with 15-min data).
    """

    kind: Literal["indexed_energy"]
    series: str
    series_unit: EnergyUnit
    multiplier: float = 1.0
    spread: float = 0.0
    spread_unit: EnergyUnit
    losses_factor: float = Field(default=1.0, gt=0, description="energy x factor is priced")


class DemandCharge(_ComponentBase):
    """A charge per kW of the maximum average power of any interval in each month."""

    kind: Literal["demand"]
    rate: float = Field(description="currency per kW per month")
    schedule: str | None = None
    bands: tuple[str, ...] | None = Field(
        default=None, description="only intervals in these bands count (None: all)"
    )


class InstalmentCharge(_ComponentBase):
    """A fixed instalment charged once for each listed month whose first day is billed.

    Example: the Italian TV licence (canone RAI), 10 monthly instalments January-October,
    outside the VAT base. Contiguous bills charge each month exactly once.
    """

    kind: Literal["instalment"]
    amount: float
    months: tuple[int, ...] = tuple(range(1, 13))


class MinimumCharge(_ComponentBase):
    """Tops the listed sections up to a minimum amount per month (pro-rated by days)."""

    kind: Literal["minimum"]
    amount: float = Field(description="currency per month")
    of_sections: tuple[Section, ...] = ("energy", "network", "system")


class DiscountCharge(_ComponentBase):
    """A discount: a percentage of listed components, or a fixed amount per month."""

    kind: Literal["discount"]
    percent: float | None = Field(default=None, ge=0, le=100)
    of_components: tuple[str, ...] = ()
    amount_per_month: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_of(self) -> DiscountCharge:
        if (self.percent is None) == (self.amount_per_month is None):
            msg = f"component {self.id}: give exactly one of `percent` or `amount_per_month`"
            raise ValueError(msg)
        if self.percent is not None and not self.of_components:
            msg = f"component {self.id}: a percent discount needs `of_components`"
            raise ValueError(msg)
        return self


Component = Annotated[
    FixedCharge
    | PowerCharge
    | EnergyCharge
    | IndexedEnergyCharge
    | DemandCharge
    | InstalmentCharge
    | MinimumCharge
    | DiscountCharge,
    Field(discriminator="kind"),
]


class ExciseExemption(_Strict):
    """Italian domestic excise relief (TUA Tabella A; CIP 15/1993 claw-back).

    For a customer meeting ``applies_if``, the first ``exempt_kwh_per_month`` of each
    month are exempt; above ``clawback_from_kwh_per_month`` the exempt quantity shrinks
    kWh for kWh. Partial months pro-rate both thresholds by days.
    """

    applies_if: Condition
    exempt_kwh_per_month: float = Field(gt=0)
    clawback_from_kwh_per_month: float = Field(gt=0)
    clawback_from_kwh_per_month_low_power: float | None = Field(
        default=None, description="threshold for supplies up to `low_power_kw`"
    )
    low_power_kw: float | None = None
    power_property: str = Field(
        default="contracted_kw", description="customer property holding the contracted kW"
    )


class ExciseTax(_ComponentBase):
    """An excise duty per kWh of consumption, optionally with the Italian relief."""

    kind: Literal["excise"]
    rate: float
    unit: EnergyUnit
    exemption: ExciseExemption | None = None


class PercentTax(_ComponentBase):
    """A tax as a percentage of a base: listed sections and components/taxes (e.g. VAT)."""

    kind: Literal["percent"]
    rate_percent: float = Field(ge=0, le=100)
    base_sections: tuple[Section, ...] = ()
    base_components: tuple[str, ...] = ()


Tax = Annotated[ExciseTax | PercentTax, Field(discriminator="kind")]


class TariffVersion(_Strict):
    """One version of a tariff, valid on local dates ``[valid_from, valid_to)``."""

    valid_from: dt.date
    valid_to: dt.date | None = None
    source: Source | None = None
    components: tuple[Component, ...] = ()
    taxes: tuple[Tax, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> TariffVersion:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            msg = f"valid_to {self.valid_to} must be after valid_from {self.valid_from}"
            raise ValueError(msg)
        ids = [c.id for c in self.components] + [t.id for t in self.taxes]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            msg = f"component/tax ids must be unique within a version; repeated: {dup}"
            raise ValueError(msg)
        return self


class CalendarRef(_Strict):
    """A built-in calendar plus band schedules read from switching tables (CSV files).

    ``schedule_tables`` maps a schedule name to a CSV path, relative to the tariff file
    (columns ``day_type, band, start, end`` and optionally ``season``): the distributor's
    VT/NT switching times, for instance.
    """

    base: str
    schedule_tables: dict[str, str] = Field(default_factory=dict)


class NotIncluded(_Strict):
    """An item the tariff's prices leave out, stated on every bill that does not price it.

    ``priced_by`` lists the components (of the tariff or its included sets) that price the
    item when they apply; a bill where none of them applies says the item is not included.
    """

    id: str
    label: str
    explanation: str
    priced_by: tuple[str, ...] = ()


class TariffDocument(_Strict):
    """A tariff (or a shared component set) with its versions."""

    schema_version: Literal["gridtwin.tariff/1"] = Field(alias="schema")
    kind: Literal["tariff", "component_set"] = "tariff"
    id: str
    name: str
    jurisdiction: str
    currency: Literal["EUR", "ILS", "USD"]
    language: str = "en"
    customer_class: tuple[str, ...] = ()
    description: str | None = None
    source: Source
    calendar: str | CalendarRef | CalendarSpec | None = None
    properties: dict[str, PropertySpec] = Field(default_factory=dict)
    includes: tuple[str, ...] = ()
    eligibility: dict[str, Any] = Field(default_factory=dict)
    provisional: str | None = Field(
        default=None, description="why values are unverified; shown on every bill"
    )
    versions: tuple[TariffVersion, ...]
    not_included: tuple[NotIncluded, ...] = Field(
        default=(), description="items the prices leave out, stated on bills that lack them"
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check_versions(self) -> TariffDocument:
        if not self.versions:
            msg = "a tariff needs at least one version"
            raise ValueError(msg)
        for i in range(1, len(self.versions)):
            prev, cur = self.versions[i - 1], self.versions[i]
            if prev.valid_to is None or prev.valid_to > cur.valid_from:
                msg = (
                    f"versions[{i - 1}] (from {prev.valid_from}) overlaps versions[{i}] "
                    f"(from {cur.valid_from}); give versions[{i - 1}] a valid_to"
                )
                raise ValueError(msg)
        return self
