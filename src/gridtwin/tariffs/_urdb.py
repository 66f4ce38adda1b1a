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
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridtwin.errors import TariffSchemaError
from gridtwin.tariffs._loader import Tariff, tariff_from_dict
from gridtwin.tariffs._urdb_charges import _fixed, _minimum
from gridtwin.tariffs._urdb_demand import _flat_demand, _tou_demand
from gridtwin.tariffs._urdb_energy import _energy, _fuel
from gridtwin.tariffs._urdb_record import (
    _APPLICABILITY,
    DayConvention,
    _date,
    _Draft,
    _Issues,
    _present,
    _slug,
    _unsupported_items,
    normalised_record,
)
from gridtwin.tariffs._urdb_schedules import MONTHS, _calendar, _hour_ranges

__all__ = [
    "MONTHS",
    "DayConvention",
    "UrdbImport",
    "_hour_ranges",
    "load_urdb",
    "tariff_from_urdb",
    "urdb_to_mapping",
]


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
    where = _message_name(record, where, timezone, day_convention)
    record = normalised_record(record, where)
    issues = _Issues(where, strict)
    draft = _Draft(record, issues, day_convention)
    _read_billing_items(draft)
    names = _names(record, tariff_id)
    version = _version(draft)
    calendar = _calendar(
        names.tariff_id, names.name, names.label or names.name, timezone, draft.schedules
    )
    description = _description(record, names, timezone, issues)
    mapping = _mapping(record, names, description, calendar, version)
    return UrdbImport(mapping, tuple(issues.ignored), tuple(issues.notes))


@dataclass(frozen=True)
class _Names:
    """How a record and its tariff are named."""

    label: str  # URDB label ("" if none)
    name: str  # tariff name
    utility: str  # utility name ("" if none)
    tariff_id: str  # gridtwin tariff id


def _message_name(
    record: Mapping[str, Any], where: str | None, timezone: str, day_convention: str
) -> str:
    """The record's name in messages, once the record and the arguments are checked."""
    if not isinstance(record, Mapping):
        msg = f"{where or 'URDB record'}: expected a JSON object, found {type(record).__name__}"
        raise TariffSchemaError(msg)
    label = str(record.get("label") or "")
    where = where or (f"URDB record {label}" if label else "URDB record")
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
    return where


def _read_billing_items(d: _Draft) -> None:
    """Read every billing item of the record into the draft, refusing what cannot be billed."""
    _unsupported_items(d)
    _energy(d)
    _fuel(d)
    _flat_demand(d)
    _tou_demand(d)
    _fixed(d)
    _minimum(d)


def _names(record: Mapping[str, Any], tariff_id: str | None) -> _Names:
    """The record's label, name and utility, and the tariff id (default ``urdb-<label>``)."""
    label = str(record.get("label") or "")
    name = str(record.get("name") or label or "URDB tariff")
    utility = str(record.get("utility") or "")
    return _Names(label, name, utility, tariff_id or f"urdb-{_slug(label or name)}")


def _version(d: _Draft) -> dict[str, Any]:
    """The tariff's one version: the record's validity dates and the draft's components."""
    record, issues = d.record, d.issues
    valid_from = (
        _date(record["startdate"], "startdate", issues)
        if _present(record, "startdate")
        else dt.date(1900, 1, 1)
    )
    if not _present(record, "startdate"):
        issues.notes.append("no startdate: the tariff is valid from 1900-01-01")
    version: dict[str, Any] = {
        "valid_from": valid_from.isoformat(),
        "components": d.components,
    }
    if _present(record, "enddate"):
        valid_to = _date(record["enddate"], "enddate", issues)
        if valid_to > valid_from:
            version["valid_to"] = valid_to.isoformat()
        else:
            issues.notes.append(
                f"enddate {valid_to} is not after startdate {valid_from}: ignored (open-ended)"
            )
    return version


def _description(record: Mapping[str, Any], names: _Names, timezone: str, issues: _Issues) -> str:
    """The tariff description: the record's own, its origin, applicability, omissions."""
    label, utility = names.label, names.utility
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
    return "\n".join(parts)


def _mapping(
    record: Mapping[str, Any],
    names: _Names,
    description: str,
    calendar: dict[str, Any],
    version: dict[str, Any],
) -> dict[str, Any]:
    """The tariff document (``schema: gridtwin.tariff/1``) of the record."""
    label, name, utility = names.label, names.name, names.utility
    uri = record.get("uri") or (
        f"https://apps.openei.org/USURDB/rate/view/{label}" if label else None
    )
    mapping: dict[str, Any] = {
        "schema": "gridtwin.tariff/1",
        "id": names.tariff_id,
        "name": name,
        "jurisdiction": str(record.get("country") or "US"),
        "currency": "USD",
        "language": "en",
        "description": description,
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
    return mapping


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
