"""Import OpenEI Utility Rate Database (URDB, API v7/v8) records as gridtwin tariffs.

A URDB record is one version of a US tariff. The importer turns it into a gridtwin tariff
mapping (validated by :func:`~gridtwin.tariffs.tariff_from_dict`) with an inline calendar:

* **Calendar**: the record's time zone is not in URDB; it is an argument (default UTC).
  Day types ``weekday`` (mon-fri) and ``weekend`` (sat, sun), one season per month
  (``jan`` .. ``dec``), no holidays (URDB has none). The 12 x 24 month-by-hour matrices
  become band schedules on the local clock: ``energy`` (bands ``P1`` .. ``Pn`` for the
  0-based URDB periods 0 .. n-1), ``demand`` (``D1`` ..), ``flat_demand`` (``F1`` ..)
  and ``months`` (``jan`` .. ``dec``, for the monthly fuel adjustments).
* **Energy** (``energyratestructure``): the price of period *p*, tier *t* is
  ``rate + adj`` [USD/kWh]. Tier ``max`` in ``kWh`` gives monthly blocks, in ``kWh daily``
  blocks of ``max`` x days of the billing period; the last tier has no limit (a ``max``
  there is ignored: SAM bills any excess at the last tier's price). As in SAM, the blocks
  of a month apply to the month's total consumption and every period shares each block's
  kWh in proportion to its consumption, so all periods used in the schedules must have
  the same block limits. The bill is then exactly ``sum_p a_p E_p + sum_t b_t E_t`` when the tier
  prices are ``a_p + b_t`` (one price step per tier, the same in every period): a
  time-of-use component with the first-tier prices ``a_p`` plus a flat tiered component
  of the steps ``b_t``. A single used period gives one (tiered) component.
* **Fuel adjustments** (``fueladjustmentsmonthly``, $/kWh per month; ignored by SAM): a
  per-month energy component.
* **Demand**: ``flatdemandstructure`` + ``flatdemandmonths`` and the time-of-use
  ``demandratestructure`` + schedules become ``demand`` components (maximum average
  power of any data interval in the month, in the months/hours of the period).
* **Fixed** (``fixedchargefirstmeter`` + ``fixedchargeunits``): ``$/month`` and
  ``$/year`` are monthly amounts pro-rated by the days of the month (a whole month costs
  ``x`` or ``x/12``); ``$/day`` costs ``x`` per calendar day (``day_convention="sam"``:
  ``x * 365/12`` per whole month, as PySAM's URDB import does).
* **Minimum** (``mincharge`` + ``minchargeunits``): a monthly top-up of energy, demand and
  fixed charges; ``$/day`` is converted to ``x * 365/12`` per month (the schema has no
  per-day minimum yet; this is noted in the tariff description).

What gridtwin cannot bill (``kWh/kW`` blocks, demand blocks, coincident demand, ratchets,
``demandwindow``, export/net-metering rules and ``sell`` prices, annual minimums, charges
per additional meter, unknown fields) raises :class:`~gridtwin.errors.TariffSchemaError`
naming the URDB field, unless ``strict=False``: then the item is left out of the bill and
listed in the tariff's ``description`` and in :attr:`UrdbImport.ignored`. Nothing is
dropped silently.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

from gridtwin.errors import TariffSchemaError
from gridtwin.tariffs._loader import Tariff, tariff_from_dict

__all__ = ["UrdbImport", "load_urdb", "tariff_from_urdb", "urdb_to_mapping"]

DayConvention = Literal["actual", "sam"]

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # season ranges: leap year
_AVG_MONTH_DAYS = 365.0 / 12.0  # SAM's days per month for $/day charges
_TIER_UNITS = {"kwh": "month", "kwh daily": "day"}
_PRICE_TOL = 1e-12  # USD/kWh: tier price steps equal across periods

# Fields that describe the record but do not change a bill (kept in the description).
_METADATA = frozenset(
    {
        "label",
        "uri",
        "name",
        "utility",
        "eiaid",
        "sector",
        "servicetype",
        "description",
        "source",
        "sourceparent",
        "country",
        "startdate",
        "enddate",
        "supersedes",
        "revisions",
        "approved",
        "is_default",
        "version",
        "latest_update",
        "basicinformationcomments",
        "energycomments",
        "demandcomments",
        "voltagecategory",
        "phasewiring",
        "peakkwcapacitymin",
        "peakkwcapacitymax",
        "peakkwcapacityhistory",
        "peakkwhusagemin",
        "peakkwhusagemax",
        "peakkwhusagehistory",
        "voltageminimum",
        "voltagemaximum",
        "demandmin",
        "demandmax",
        "utility_info",
        "dgrules_description",
    }
)
_APPLICABILITY = (
    "sector",
    "servicetype",
    "voltagecategory",
    "phasewiring",
    "peakkwcapacitymin",
    "peakkwcapacitymax",
    "peakkwcapacityhistory",
    "peakkwhusagemin",
    "peakkwhusagemax",
    "peakkwhusagehistory",
    "voltageminimum",
    "voltagemaximum",
    "demandmin",
    "demandmax",
)
# Fields read by the importer below.
_BILLING = frozenset(
    {
        "energyratestructure",
        "energyweekdayschedule",
        "energyweekendschedule",
        "fueladjustmentsmonthly",
        "flatdemandstructure",
        "flatdemandmonths",
        "flatdemandunit",
        "demandratestructure",
        "demandweekdayschedule",
        "demandweekendschedule",
        "demandrateunit",
        "fixedchargefirstmeter",
        "fixedchargeunits",
        "fixedmonthlycharge",
        "fixedchargeeaaddl",
        "mincharge",
        "minchargeunits",
        "minmonthlycharge",
        "annualmincharge",
        "coincidentratestructure",
        "coincidentrateschedule",
        "coincidentschedule",
        "coincidentrateunit",
        "lookbackpercent",
        "lookbackrange",
        "lookbackmonths",
        "demandratchetpercentage",
        "demandwindow",
        "demandreactivepowercharge",
        "dgrules",
        "energyattrs",
        "fixedattrs",
        "demandattrs",
    }
)


@dataclass(frozen=True)
class UrdbImport:
    """A URDB record converted to a gridtwin tariff mapping.

    Attributes
    ----------
    mapping : dict
        The tariff document (``schema: gridtwin.tariff/1``) with an inline calendar;
        pass it to :func:`~gridtwin.tariffs.tariff_from_dict`.
    ignored : tuple of str
        ``"field: reason"`` for every billing item left out (only with ``strict=False``).
    notes : tuple of str
        Conversions worth knowing (defaults assumed, conventions, free-form attributes).
    """

    mapping: dict[str, Any]
    ignored: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Tier:
    price: float  # rate + adj [USD per kWh or per kW]
    max: float | None
    unit: str
    sell: float


class _Issues:
    """Collects unsupported items: raise when strict, else list them."""

    def __init__(self, where: str, strict: bool) -> None:
        self.where = where
        self.strict = strict
        self.ignored: list[str] = []
        self.notes: list[str] = []

    def unsupported(self, field: str, reason: str, fallback: str = "it is not billed") -> None:
        if self.strict:
            msg = (
                f"{self.where}: URDB field `{field}`: {reason} is not supported by gridtwin. "
                f"Remove the field from the record, or import with strict=False ({fallback}; "
                "the tariff description then lists it)."
            )
            raise TariffSchemaError(msg)
        self.ignored.append(f"{field}: {reason} ({fallback})")

    def fail(self, field: str, reason: str) -> NoReturn:
        """Raise for a malformed record, naming the field."""
        msg = f"{self.where}: URDB field `{field}`: {reason}"
        raise TariffSchemaError(msg)


def _present(record: Mapping[str, Any], key: str) -> bool:
    value = record.get(key)
    return value is not None and value != "" and value != [] and value != {}


def _number(value: Any, field: str, issues: _Issues) -> float:
    if not isinstance(value, bool):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    issues.fail(field, f"expected a number, found {value!r}")


def _structure(record: Mapping[str, Any], key: str, issues: _Issues) -> list[list[_Tier]]:
    """Parse a ``[period][tier] {rate, adj, max, unit, sell}`` structure."""
    raw = record.get(key)
    if not isinstance(raw, list) or not raw:
        issues.fail(key, "expected a non-empty list of periods, each a list of tiers")
    out: list[list[_Tier]] = []
    for p, period in enumerate(raw):
        if not isinstance(period, list) or not period:
            issues.fail(f"{key}[{p}]", "expected a non-empty list of tiers")
        tiers: list[_Tier] = []
        for t, entry in enumerate(period):
            at = f"{key}[{p}][{t}]"
            if not isinstance(entry, Mapping):
                issues.fail(at, f"expected a mapping with `rate`, found {entry!r}")
            unknown = sorted(set(entry) - {"rate", "adj", "max", "unit", "sell"})
            if unknown:
                issues.unsupported(f"{at}.{unknown[0]}", "unknown tier field")
            if entry.get("rate") is None and entry.get("adj") is None:
                issues.fail(at, "a tier needs a `rate` (and optionally `adj`)")
            price = _number(entry.get("rate") or 0.0, f"{at}.rate", issues)
            price += _number(entry.get("adj") or 0.0, f"{at}.adj", issues)
            upper = None if entry.get("max") is None else _number(entry["max"], f"{at}.max", issues)
            if upper is not None and upper <= 0:
                issues.fail(f"{at}.max", f"tier limits must be positive, found {upper}")
            unit = str(entry.get("unit") or "kWh").strip()
            sell = _number(entry.get("sell") or 0.0, f"{at}.sell", issues)
            tiers.append(_Tier(price, upper, unit, sell))
        for t in range(len(tiers) - 1):
            if tiers[t].max is None:
                issues.fail(f"{key}[{p}][{t}].max", "every tier but the last needs a `max`")
            nxt = tiers[t + 1].max
            if nxt is not None and nxt <= (tiers[t].max or 0.0):
                issues.fail(
                    f"{key}[{p}][{t + 1}].max",
                    "tier limits must increase (URDB `max` is cumulative)",
                )
        out.append(tiers)
    return out


def _matrix(
    record: Mapping[str, Any], key: str, n_periods: int, issues: _Issues
) -> list[list[int]]:
    """Parse a 12 x 24 month-by-hour matrix of 0-based period indices."""
    raw = record.get(key)
    if not isinstance(raw, list) or len(raw) != 12:
        issues.fail(key, "expected 12 rows (January..December) of 24 hourly periods")
    out: list[list[int]] = []
    for m, row in enumerate(raw):
        if not isinstance(row, list) or len(row) != 24:
            issues.fail(f"{key}[{m}]", "expected 24 hourly period indices")
        vals: list[int] = []
        for h, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, int | float) or int(v) != v:
                issues.fail(f"{key}[{m}][{h}]", f"expected an integer, found {v!r}")
            if not 0 <= int(v) < n_periods:
                issues.fail(
                    f"{key}[{m}][{h}]",
                    f"period {int(v)} (0-based) is not in the rate structure, which has "
                    f"{n_periods} period(s)",
                )
            vals.append(int(v))
        out.append(vals)
    return out


def _schedules(
    record: Mapping[str, Any], prefix: str, n_periods: int, issues: _Issues
) -> tuple[list[list[int]], list[list[int]]]:
    """Weekday and weekend matrices; a single period may omit them."""
    wd_key, we_key = f"{prefix}weekdayschedule", f"{prefix}weekendschedule"
    has_wd, has_we = _present(record, wd_key), _present(record, we_key)
    if not has_wd and not has_we:
        if n_periods > 1:
            issues.fail(
                wd_key,
                f"{n_periods} periods need the weekday and weekend "
                "schedules that say when each applies",
            )
        issues.notes.append(f"no {wd_key}/{we_key}: the single period applies at all hours")
        zeros = [[0] * 24 for _ in range(12)]
        return zeros, zeros
    if not (has_wd and has_we):
        missing = we_key if has_wd else wd_key
        issues.fail(missing, "give both the weekday and the weekend schedule")
    return (_matrix(record, wd_key, n_periods, issues), _matrix(record, we_key, n_periods, issues))


def _hour_ranges(row: Sequence[int], period: int) -> list[str]:
    """'HH:00-HH:00' runs of the hours of ``row`` in ``period``."""
    out: list[str] = []
    h = 0
    while h < 24:
        if row[h] != period:
            h += 1
            continue
        start = h
        while h < 24 and row[h] == period:
            h += 1
        out.append(f"{start:02d}:00-{h:02d}:00")
    return out


def _schedule_spec(
    weekday: list[list[int]], weekend: list[list[int]], bands: Sequence[str], description: str
) -> dict[str, Any]:
    """A calendar schedule: one rule per day type and group of months with equal rows."""
    rules: list[dict[str, Any]] = []
    for day_type, matrix in (("weekday", weekday), ("weekend", weekend)):
        groups: dict[tuple[int, ...], list[str]] = {}
        for m, row in enumerate(matrix):
            groups.setdefault(tuple(row), []).append(MONTHS[m])
        for row_key, months in groups.items():
            rule_bands = {bands[p]: _hour_ranges(row_key, p) for p in sorted(set(row_key))}
            rules.append({"day_types": [day_type], "seasons": months, "bands": rule_bands})
    return {"description": description, "resolution_min": 60, "bands": list(bands), "rules": rules}


def _month_schedule(
    month_band: Sequence[str], bands: Sequence[str], description: str
) -> dict[str, Any]:
    """A schedule whose band depends only on the month."""
    rules = [
        {
            "day_types": ["weekday", "weekend"],
            "seasons": [MONTHS[m]],
            "bands": {month_band[m]: ["00:00-24:00"]},
        }
        for m in range(12)
    ]
    return {"description": description, "resolution_min": 60, "bands": list(bands), "rules": rules}


def _date(value: Any, field: str, issues: _Issues) -> dt.date:
    """A URDB date: epoch seconds (read as a UTC date) or an ISO date string."""
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
        issues.fail(field, f"expected epoch seconds or an ISO date, found {value!r}")
    seconds = _number(value, field, issues)
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "record"


class _Builder:
    """Accumulates components and calendar schedules while reading a record."""

    def __init__(
        self, record: Mapping[str, Any], issues: _Issues, day_convention: DayConvention
    ) -> None:
        self.record = record
        self.issues = issues
        self.day_convention = day_convention
        self.components: list[dict[str, Any]] = []
        self.schedules: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ energy
    def energy(self) -> None:
        key = "energyratestructure"
        if not _present(self.record, key):
            for k in ("energyweekdayschedule", "energyweekendschedule"):
                if _present(self.record, k):
                    self.issues.fail(k, f"a schedule without `{key}`")
            self.issues.notes.append("no energyratestructure: no energy charge")
            return
        struct = _structure(self.record, key, self.issues)
        for p, tiers in enumerate(struct):
            for t, tier in enumerate(tiers):
                if tier.sell:
                    self.issues.unsupported(
                        f"{key}[{p}][{t}].sell",
                        f"a sell (export) price of {tier.sell:g} USD/kWh: gridtwin bills "
                        "consumption only",
                    )
        weekday, weekend = _schedules(self.record, "energy", len(struct), self.issues)
        used = sorted({p for mat in (weekday, weekend) for row in mat for p in row})
        tiers_of = self._expressible_tiers(struct, used)
        if len(used) == 1:
            p = used[0]
            self._energy_component(
                struct[p] if tiers_of is not None else struct[p][:1],
                tiers_of,
                "energy",
                "Energy",
                "kWh times the price (in blocks of monthly kWh if tiered)",
            )
            return
        bands = [f"P{p + 1}" for p in range(len(struct))]
        self.schedules["energy"] = _schedule_spec(
            weekday, weekend, bands, "URDB energy periods (P1 = URDB period 0)"
        )
        self.components.append(
            {
                "id": "energy",
                "kind": "energy",
                "section": "energy",
                "label": "Energy",
                "explanation": "kWh in each URDB time-of-use period times the period's "
                "(first-tier) price",
                "unit": "USD/kWh",
                "schedule": "energy",
                "rates": {bands[p]: struct[p][0].price for p in range(len(struct))},
            }
        )
        if tiers_of is not None:
            ref = struct[used[0]]
            steps = [_Tier(t.price - ref[0].price, t.max, t.unit, t.sell) for t in ref]
            self._energy_component(
                steps,
                tiers_of,
                "energy_tiers",
                "Energy block adders",
                "price step of each block of the month's total kWh (the same in every period)",
            )

    def _expressible_tiers(self, struct: list[list[_Tier]], used: list[int]) -> str | None:
        """``month``/``day`` if the used periods' tiers can be billed exactly, else None."""
        key = "energyratestructure"
        if all(len(struct[p]) == 1 for p in used):
            return None
        fallback = "every kWh is billed at its period's first-tier price"
        units = {struct[p][t].unit.lower() for p in used for t in range(len(struct[p]) - 1)}
        bad = sorted(u for u in units if u not in _TIER_UNITS)
        if bad:
            self.issues.unsupported(
                f"{key}.unit",
                f"tiers in {bad[0]!r} (blocks sized by demand or by kVA/hp; "
                "gridtwin knows 'kWh' and 'kWh daily')",
                fallback,
            )
            return None
        if len(units) > 1:
            self.issues.unsupported(f"{key}.unit", "tiers mixing 'kWh' and 'kWh daily'", fallback)
            return None
        ref = struct[used[0]]
        for p in used[1:]:
            tiers = struct[p]
            same = (
                len(tiers) == len(ref)
                and all(a.max == b.max for a, b in zip(tiers[:-1], ref[:-1], strict=True))
                and all(
                    abs((a.price - tiers[0].price) - (b.price - ref[0].price)) <= _PRICE_TOL
                    for a, b in zip(tiers, ref, strict=True)
                )
            )
            if not same:
                self.issues.unsupported(
                    key,
                    f"periods {used[0]} and {p} have different tier limits or tier price "
                    "steps (blocks restricted to a time-of-use period need engine support "
                    "for tiered energy per band)",
                    fallback,
                )
                return None
        return _TIER_UNITS[units.pop()] if units else None

    def _energy_component(
        self, tiers: list[_Tier], tier_period: str | None, cid: str, label: str, explanation: str
    ) -> None:
        comp: dict[str, Any] = {
            "id": cid,
            "kind": "energy",
            "section": "energy",
            "label": label,
            "explanation": explanation,
            "unit": "USD/kWh",
        }
        if tier_period is None or len(tiers) == 1:
            comp["rates"] = tiers[0].price
        else:
            comp["tiers"] = [
                {"up_to_kwh": t.max if k < len(tiers) - 1 else None, "rate": t.price}
                for k, t in enumerate(tiers)
            ]
            comp["tier_period"] = tier_period
            if tier_period == "day":
                comp["explanation"] += "; daily limits times the days of the billing period"
        self.components.append(comp)

    def fuel(self) -> None:
        key = "fueladjustmentsmonthly"
        if not _present(self.record, key):
            return
        raw = self.record[key]
        if not isinstance(raw, list) or len(raw) != 12:
            self.issues.fail(key, "expected 12 monthly prices [USD/kWh]")
        prices = [_number(v, f"{key}[{m}]", self.issues) for m, v in enumerate(raw)]
        if not any(prices):
            return
        self.schedules["months"] = _month_schedule(MONTHS, MONTHS, "calendar months")
        self.components.append(
            {
                "id": "fuel_adjustment",
                "kind": "energy",
                "section": "energy",
                "label": "Fuel adjustment",
                "unit": "USD/kWh",
                "schedule": "months",
                "explanation": "kWh of each month times the month's fuel adjustment (URDB "
                "fueladjustmentsmonthly; SAM ignores it)",
                "rates": dict(zip(MONTHS, prices, strict=True)),
            }
        )

    # ------------------------------------------------------------------ demand
    def _demand_unit(self, key: str) -> bool:
        unit = self.record.get(key)
        if unit is None or str(unit).strip().lower() == "kw":
            return True
        self.issues.unsupported(key, f"demand measured in {unit!r} (gridtwin bills kW)")
        return False

    def _demand_price(self, tiers: list[_Tier], field: str) -> float:
        if len(tiers) > 1:
            self.issues.unsupported(
                field,
                "demand charges in tiers (blocks of kW)",
                "all kW are billed at the first tier's price",
            )
        return tiers[0].price

    def flat_demand(self) -> None:
        key = "flatdemandstructure"
        if not _present(self.record, key):
            if _present(self.record, "flatdemandmonths"):
                self.issues.fail("flatdemandmonths", f"given without `{key}`")
            return
        if not self._demand_unit("flatdemandunit"):
            return
        struct = _structure(self.record, key, self.issues)
        months_raw = self.record.get("flatdemandmonths")
        if months_raw is None:
            if len(struct) > 1:
                self.issues.fail(
                    "flatdemandmonths",
                    f"{len(struct)} flat demand periods need the 12 month -> period indices",
                )
            months = [0] * 12
            self.issues.notes.append("no flatdemandmonths: the flat demand applies all year")
        else:
            if not isinstance(months_raw, list) or len(months_raw) != 12:
                self.issues.fail("flatdemandmonths", "expected 12 period indices")
            months = []
            for m, v in enumerate(months_raw):
                if (
                    isinstance(v, bool)
                    or not isinstance(v, int | float)
                    or int(v) != v
                    or not 0 <= int(v) < len(struct)
                ):
                    self.issues.fail(f"flatdemandmonths[{m}]", f"{v!r} is not a period of {key}")
                months.append(int(v))
        prices = {p: self._demand_price(struct[p], f"{key}[{p}]") for p in sorted(set(months))}
        bands = [f"F{p + 1}" for p in range(len(struct))]
        if len(prices) > 1:
            self.schedules["flat_demand"] = _month_schedule(
                [bands[p] for p in months], bands, "URDB flat demand periods by month"
            )
        for p, price in prices.items():
            if price == 0:
                continue
            comp: dict[str, Any] = {
                "id": f"demand_flat_{p + 1}" if len(prices) > 1 else "demand_flat",
                "kind": "demand",
                "section": "network",
                "rate": price,
                "label": "Demand"
                + (f" (months of flat period {p + 1})" if len(prices) > 1 else ""),
                "explanation": "highest average kW of any interval in the month times the "
                "price per kW",
            }
            if len(prices) > 1:
                comp["schedule"] = "flat_demand"
                comp["bands"] = [bands[p]]
            self.components.append(comp)

    def tou_demand(self) -> None:
        key = "demandratestructure"
        if not _present(self.record, key):
            for k in ("demandweekdayschedule", "demandweekendschedule"):
                if _present(self.record, k):
                    self.issues.fail(k, f"a schedule without `{key}`")
            return
        if not self._demand_unit("demandrateunit"):
            return
        struct = _structure(self.record, key, self.issues)
        weekday, weekend = _schedules(self.record, "demand", len(struct), self.issues)
        used = sorted({p for mat in (weekday, weekend) for row in mat for p in row})
        bands = [f"D{p + 1}" for p in range(len(struct))]
        self.schedules["demand"] = _schedule_spec(
            weekday, weekend, bands, "URDB demand periods (D1 = URDB period 0)"
        )
        for p in used:
            price = self._demand_price(struct[p], f"{key}[{p}]")
            if price == 0:
                continue
            self.components.append(
                {
                    "id": f"demand_{bands[p].lower()}",
                    "kind": "demand",
                    "section": "network",
                    "label": f"Demand, period {bands[p]}",
                    "rate": price,
                    "schedule": "demand",
                    "bands": [bands[p]],
                    "explanation": f"highest average kW of any interval of period {bands[p]} in "
                    "the month times the price per kW",
                }
            )

    # ------------------------------------------------------------ fixed, minimum
    def fixed(self) -> None:
        rec = self.record
        units = rec.get("fixedchargeunits")
        amount: float | None = None
        if _present(rec, "fixedchargefirstmeter"):
            amount = _number(rec["fixedchargefirstmeter"], "fixedchargefirstmeter", self.issues)
        if _present(rec, "fixedmonthlycharge"):  # legacy (API v3): always $/month
            legacy = _number(rec["fixedmonthlycharge"], "fixedmonthlycharge", self.issues)
            if amount is None and units not in (None, "$/month"):
                self.issues.fail(
                    "fixedmonthlycharge",
                    f"is per month, but fixedchargeunits is {units!r}; keep one of them",
                )
            if amount is None:
                amount, units = legacy, "$/month"
            elif units in (None, "$/month") and legacy != amount:
                self.issues.fail(
                    "fixedmonthlycharge",
                    f"{legacy} disagrees with fixedchargefirstmeter {amount}; keep one of them",
                )
        if _present(rec, "fixedchargeeaaddl") and _number(
            rec["fixedchargeeaaddl"], "fixedchargeeaaddl", self.issues
        ):
            self.issues.unsupported("fixedchargeeaaddl", "a fixed charge per additional meter")
        if not amount:
            return
        if units is None:
            units = "$/month"
            self.issues.notes.append("no fixedchargeunits: the fixed charge is read as $/month")
        comp: dict[str, Any] = {
            "id": "fixed",
            "kind": "fixed",
            "section": "network",
            "label": "Fixed charge",
            "amount": amount,
        }
        if units == "$/month":
            comp.update(
                per="month",
                proration="month_days",
                explanation=f"{amount:g} USD per month; a part month pays its share of days",
            )
        elif units == "$/year":
            comp.update(
                per="year",
                proration="month_days",
                explanation=f"{amount:g} USD per year, one twelfth per month; a part "
                "month pays its share of days",
            )
        elif units == "$/day" and self.day_convention == "actual":
            comp.update(per="day", explanation=f"{amount:g} USD per day of the period")
        elif units == "$/day":
            comp.update(
                amount=amount * 365.0,
                per="year",
                proration="month_days",
                explanation=f"{amount:g} USD per day, as 365/12 days per month (SAM's convention)",
            )
        else:
            self.issues.fail(
                "fixedchargeunits",
                f"unknown unit {units!r}; URDB uses '$/month', '$/day' or '$/year'",
            )
        self.components.append(comp)

    def minimum(self) -> None:
        rec = self.record
        if _present(rec, "annualmincharge") and _number(
            rec["annualmincharge"], "annualmincharge", self.issues
        ):
            self.issues.unsupported("annualmincharge", "an annual minimum charge")
        key = "mincharge" if _present(rec, "mincharge") else "minmonthlycharge"
        if not _present(rec, key):
            return
        amount = _number(rec[key], key, self.issues)
        if not amount:
            return
        units = rec.get("minchargeunits") if key == "mincharge" else "$/month"
        if units is None:
            units = "$/month"
            self.issues.notes.append("no minchargeunits: the minimum is read as $/month")
        if units == "$/year":
            self.issues.unsupported("minchargeunits", "an annual minimum charge ($/year)")
            return
        if units == "$/day":
            monthly = amount * _AVG_MONTH_DAYS
            self.issues.notes.append(
                f"minimum {amount:g} $/day applied as {monthly:.6g} USD per month "
                "(365/12 days, as SAM; the schema has no per-day minimum)"
            )
        elif units == "$/month":
            monthly = amount
        else:
            self.issues.fail(
                "minchargeunits",
                f"unknown unit {units!r}; URDB uses '$/month', '$/day' or '$/year'",
            )
        self.components.append(
            {
                "id": "minimum",
                "kind": "minimum",
                "section": "other",
                "label": "Minimum charge",
                "amount": monthly,
                "of_sections": ["energy", "network"],
                "explanation": f"tops the month's energy, demand and fixed charges up to "
                f"{monthly:.2f} USD (a part month: its share of days)",
            }
        )

    # ------------------------------------------------------------- unsupported
    def unsupported_items(self) -> None:
        rec, issues = self.record, self.issues
        if _present(rec, "coincidentratestructure"):
            issues.unsupported(
                "coincidentratestructure", "coincident demand charges (demand at the system peak)"
            )
        elif _present(rec, "coincidentrateschedule") or _present(rec, "coincidentschedule"):
            issues.notes.append("coincident demand schedule without rates: nothing to bill")
        for key in ("lookbackpercent", "lookbackrange"):
            if _present(rec, key) and _number(rec[key], key, issues):
                issues.unsupported(key, "a demand ratchet (billing demand from past months)")
        ratchet = rec.get("demandratchetpercentage")
        values = ratchet if isinstance(ratchet, list) else [ratchet]
        if any(v not in (None, 0, 0.0) for v in values):
            issues.unsupported("demandratchetpercentage", "a demand ratchet")
        if rec.get("demandwindow") not in (None, "", 0):
            issues.unsupported(
                "demandwindow",
                f"a demand averaging window of {rec['demandwindow']} minutes "
                "(gridtwin takes the maximum average power of any data "
                "interval)",
            )
        if _present(rec, "demandreactivepowercharge") and _number(
            rec["demandreactivepowercharge"], "demandreactivepowercharge", issues
        ):
            issues.unsupported("demandreactivepowercharge", "a reactive power charge")
        if _present(rec, "dgrules"):
            issues.unsupported(
                "dgrules",
                f"export compensation {rec['dgrules']!r} (net "
                "metering/billing of exported energy; gridtwin bills "
                "consumption only)",
            )
        for key in ("energyattrs", "fixedattrs", "demandattrs"):
            if _present(rec, key):
                issues.notes.append(
                    f"{key} (free text, not billed): {json.dumps(rec[key], sort_keys=True)}"
                )
        for key in sorted(set(rec) - _METADATA - _BILLING):
            if _present(rec, key):
                issues.unsupported(key, "an unknown URDB field")


def urdb_to_mapping(
    record: Mapping[str, Any],
    *,
    timezone: str = "UTC",
    strict: bool = True,
    tariff_id: str | None = None,
    day_convention: DayConvention = "actual",
    where: str | None = None,
) -> UrdbImport:
    """Convert one URDB record into a gridtwin tariff mapping.

    Parameters
    ----------
    record : mapping
        One URDB rate (an element of the API's ``items``), as parsed from JSON.
    timezone : str
        IANA time zone of the record's hour-of-day schedules and of its months (URDB does
        not say); ``"UTC"`` reproduces SAM/PySAM, which ignore time zones.
    strict : bool
        Raise :class:`~gridtwin.errors.TariffSchemaError` on any billing item gridtwin
        cannot express; with ``False`` such items are left out and listed.
    tariff_id : str, optional
        Id of the tariff; default ``urdb-<label>``.
    day_convention : {"actual", "sam"}
        ``$/day`` fixed charges per calendar day (``"actual"``) or as 365/12 days per
        month (``"sam"``, identical monthly bills to PySAM).
    where : str, optional
        Name of the record in messages (file name); default ``URDB record <label>``.

    Returns
    -------
    UrdbImport
        The mapping, the ignored items and conversion notes.

    Raises
    ------
    TariffSchemaError
        A malformed record, or (when ``strict``) an unsupported field; the message names
        the URDB field.
    """
    if not isinstance(record, Mapping):
        msg = f"{where or 'URDB record'}: expected a JSON object, found {type(record).__name__}"
        raise TariffSchemaError(msg)
    label = str(record.get("label") or "")
    where = where or (f"URDB record {label}" if label else "URDB record")
    issues = _Issues(where, strict)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        msg = (
            f"{where}: unknown time zone {timezone!r}; give an IANA name such as "
            "'America/Los_Angeles' (or 'UTC', as SAM assumes)"
        )
        raise TariffSchemaError(msg) from None
    if day_convention not in ("actual", "sam"):
        msg = f"{where}: day_convention must be 'actual' or 'sam', not {day_convention!r}"
        raise TariffSchemaError(msg)
    builder = _Builder(record, issues, day_convention)
    builder.unsupported_items()
    builder.energy()
    builder.fuel()
    builder.flat_demand()
    builder.tou_demand()
    builder.fixed()
    builder.minimum()

    name = str(record.get("name") or label or "URDB tariff")
    utility = str(record.get("utility") or "")
    tid = tariff_id or f"urdb-{_slug(label or name)}"
    valid_from = (
        _date(record["startdate"], "startdate", issues)
        if _present(record, "startdate")
        else dt.date(1900, 1, 1)
    )
    if not _present(record, "startdate"):
        issues.notes.append("no startdate: the tariff is valid from 1900-01-01")
    version: dict[str, Any] = {
        "valid_from": valid_from.isoformat(),
        "components": builder.components,
    }
    if _present(record, "enddate"):
        valid_to = _date(record["enddate"], "enddate", issues)
        if valid_to > valid_from:
            version["valid_to"] = valid_to.isoformat()
        else:
            issues.notes.append(
                f"enddate {valid_to} is not after startdate {valid_from}: ignored (open-ended)"
            )
    calendar = {
        "id": f"{tid}-calendar",
        "name": f"URDB schedules of {name}",
        "timezone": timezone,
        "source": f"OpenEI URDB record {label or name}: 12 x 24 month-by-hour schedules, "
        "weekday = mon-fri, weekend = sat-sun, no holidays",
        "day_types": {"weekday": ["mon", "tue", "wed", "thu", "fri"], "weekend": ["sat", "sun"]},
        "seasons": [
            {"name": m, "ranges": [f"{i + 1:02d}-01..{i + 1:02d}-{_MONTH_DAYS[i]:02d}"]}
            for i, m in enumerate(MONTHS)
        ],
        "schedules": builder.schedules,
    }
    applicability = {k: record[k] for k in _APPLICABILITY if _present(record, k)}
    parts = [str(record["description"]).strip()] if _present(record, "description") else []
    parts.append(
        f"Imported from OpenEI URDB record {label or '(no label)'}"
        f"{' of ' + utility if utility else ''}; schedules read in {timezone}."
    )
    if applicability:
        parts.append(
            "Applicability (not checked): "
            + ", ".join(f"{k}={v}" for k, v in applicability.items())
        )
    if issues.ignored:
        parts.append("NOT BILLED (imported with strict=False): " + "; ".join(issues.ignored))
    if issues.notes:
        parts.append("Import notes: " + "; ".join(issues.notes))
    uri = record.get("uri") or (
        f"https://apps.openei.org/USURDB/rate/view/{label}" if label else None
    )
    mapping: dict[str, Any] = {
        "schema": "gridtwin.tariff/1",
        "id": tid,
        "name": name,
        "jurisdiction": str(record.get("country") or "US"),
        "currency": "USD",
        "language": "en",
        "description": "\n".join(parts),
        "source": {
            "title": f"OpenEI Utility Rate Database: {utility + ' - ' if utility else ''}{name}",
            "url": uri,
            "edition": label or None,
        },
        "calendar": calendar,
        "versions": [version],
    }
    if _present(record, "sector"):
        mapping["customer_class"] = [str(record["sector"])]
    if record.get("approved") is False or str(record.get("approved")).lower() == "false":
        mapping["provisional"] = "the URDB record is not approved by URDB's review"
    return UrdbImport(mapping, tuple(issues.ignored), tuple(issues.notes))


def tariff_from_urdb(
    record: Mapping[str, Any],
    *,
    timezone: str = "UTC",
    strict: bool = True,
    tariff_id: str | None = None,
    day_convention: DayConvention = "actual",
    where: str | None = None,
) -> Tariff:
    """Import one URDB (API v7/v8) record as a validated :class:`Tariff`.

    See :func:`urdb_to_mapping` for the parameters and the mapping rules; items left out
    with ``strict=False`` are listed in ``tariff.doc.description``.

    Examples
    --------
    >>> rec = {"label": "demo", "energyratestructure": [[{"rate": 0.1}]],
    ...        "fixedchargefirstmeter": 5.0, "fixedchargeunits": "$/month"}
    >>> tariff_from_urdb(rec).id
    'urdb-demo'
    """
    conv = urdb_to_mapping(
        record,
        timezone=timezone,
        strict=strict,
        tariff_id=tariff_id,
        day_convention=day_convention,
        where=where,
    )
    label = str(record.get("label") or "")
    return tariff_from_dict(
        conv.mapping, where or (f"URDB record {label}" if label else "URDB record")
    )


def load_urdb(
    path: str | Path,
    *,
    label: str | None = None,
    timezone: str = "UTC",
    strict: bool = True,
    day_convention: DayConvention = "actual",
) -> Tariff:
    """Load a URDB JSON file: one record, a list of records, or an API answer ``{"items": [...]}``.

    Parameters
    ----------
    path : str or Path
        The JSON file.
    label : str, optional
        Which record (URDB ``label``) to import when the file holds several.
    timezone, strict, day_convention
        As for :func:`urdb_to_mapping`.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"{p}: cannot read file ({exc.strerror})"
        raise TariffSchemaError(msg) from exc
    except json.JSONDecodeError as exc:
        msg = f"{p}: not valid JSON: {exc}"
        raise TariffSchemaError(msg) from exc
    items: Any = data.get("items") if isinstance(data, dict) and "items" in data else data
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        msg = f'{p}: expected a URDB record, a list of records or {{"items": [...]}}'
        raise TariffSchemaError(msg)
    labels = [str(i.get("label")) for i in items]
    if label is not None:
        chosen = [i for i in items if i.get("label") == label]
        if not chosen:
            msg = f"{p}: no record with label {label!r}; labels: {labels}"
            raise TariffSchemaError(msg)
        record = chosen[0]
    elif len(items) == 1:
        record = items[0]
    else:
        msg = (
            f"{p}: {len(items)} records; choose one with label=... (labels: "
            f"{labels[:20]}{' ...' if len(labels) > 20 else ''})"
        )
        raise TariffSchemaError(msg)
    where = f"{p} [{record.get('label')}]" if len(items) > 1 else str(p)
    return tariff_from_urdb(
        record, timezone=timezone, strict=strict, day_convention=day_convention, where=where
    )
