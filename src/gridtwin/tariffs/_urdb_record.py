"""Reading and validating a URDB record: which fields exist, numbers, dates, rate structures.

Owns the field lists of a URDB record (descriptive metadata, applicability, billing
fields), the collector of unsupported items (:class:`_Issues`: raise when strict, else
list), the draft a record is converted into (:class:`_Draft`), the parsers of numbers,
dates and ``[period][tier]`` rate structures, and the refusal of the billing items
gridtwin cannot express (coincident demand, ratchets, export rules, unknown fields).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from gridtwin.errors import TariffSchemaError

DayConvention = Literal["actual", "sam"]

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
        "energytoulabels",
        "demandtoulabels",
        "flatdemandtoulabels",
        "coincidenttoulabels",
    }
)
# Fields that say who may take the tariff (listed, not checked, in the description).
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
# Fields read by the importer (the _urdb_* modules).
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
        "demandunits",
        "dgrules",
        "energyattrs",
        "fixedattrs",
        "demandattrs",
    }
)


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


_KNOWN_FIELDS = _METADATA | _BILLING


def normalised_record(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The record with camel-case variants of known fields (``energyRateStructure``) under
    their URDB names; a field given under both spellings with different values is an error."""
    from gridtwin.errors import TariffSchemaError

    out = dict(record)
    for key in list(record):
        low = key.lower()
        if key == low or low not in _KNOWN_FIELDS:
            continue
        if low in record and record[low] != record[key]:
            msg = (
                f"{where}: URDB field {low!r} is given twice, as `{low}` and `{key}`, with "
                "different values; keep one"
            )
            raise TariffSchemaError(msg)
        out[low] = out.pop(key)
    return out


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


class _Draft:
    """Accumulates components and calendar schedules while reading a record."""

    def __init__(
        self, record: Mapping[str, Any], issues: _Issues, day_convention: DayConvention
    ) -> None:
        self.record = record
        self.issues = issues
        self.day_convention = day_convention
        self.components: list[dict[str, Any]] = []
        self.schedules: dict[str, dict[str, Any]] = {}


def _unsupported_items(d: _Draft) -> None:
    """Refuse (or list) the record's billing items gridtwin cannot express."""
    rec, issues = d.record, d.issues
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
    if _present(rec, "dgrules"):  # metadata for a consumption bill: exports are refused
        issues.notes.append(
            f"dgrules {rec['dgrules']!r}: export compensation, not billed (gridtwin bills "
            "consumption only and refuses exported energy in the data)"
        )
    unit = rec.get("demandunits")
    if unit not in (None, "") and str(unit).strip().lower() != "kw":
        issues.unsupported("demandunits", f"demand measured in {unit!r} (gridtwin bills kW)")
    for key in ("energyattrs", "fixedattrs", "demandattrs"):
        if _present(rec, key):
            issues.notes.append(
                f"{key} (free text, not billed): {json.dumps(rec[key], sort_keys=True)}"
            )
    for key in sorted(set(rec) - _METADATA - _BILLING):
        if _present(rec, key):
            issues.unsupported(key, "an unknown URDB field")
