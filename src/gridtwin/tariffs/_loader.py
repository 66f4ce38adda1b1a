"""Load and validate tariff files; resolve version inheritance, includes and calendars."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gridtwin._datafile import read_data_file, validation_message
from gridtwin.calendar import (
    Calendar,
    calendar_from_dict,
    calendar_with_schedule,
    get_calendar,
    schedule_from_table,
)
from gridtwin.errors import CalendarError, TariffSchemaError, TariffValidityError
from gridtwin.tariffs._schema import (
    CalendarRef,
    Condition,
    DemandCharge,
    EnergyCharge,
    ExciseTax,
    IndexedEnergyCharge,
    TariffDocument,
    TariffVersion,
    energy_unit_factor,
)

__all__ = ["Tariff", "builtin_tariff_ids", "get_tariff", "load_tariff", "tariff_from_dict"]


def _resolve_inheritance(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Expand versions written as ``inherit: true`` + ``changes`` of the previous one."""
    versions = data.get("versions")
    if not isinstance(versions, list):
        return data
    out = copy.deepcopy(data)
    resolved: list[dict[str, Any]] = []
    for i, raw in enumerate(out["versions"]):
        if not isinstance(raw, dict) or not raw.pop("inherit", False):
            if isinstance(raw, dict) and "changes" in raw:
                msg = f"{where}: versions.{i}.changes: `changes` needs `inherit: true`"
                raise TariffSchemaError(msg)
            resolved.append(raw)
            continue
        if not resolved:
            msg = f"{where}: versions.0: the first version cannot inherit"
            raise TariffSchemaError(msg)
        if not isinstance(resolved[-1], dict):
            msg = (
                f"{where}: versions.{i}: inherits from versions.{i - 1}, which is not a "
                "mapping (a version is a mapping of valid_from, components, ...)"
            )
            raise TariffSchemaError(msg)
        prev = copy.deepcopy(resolved[-1])
        changes = raw.pop("changes", {}) or {}
        if not isinstance(changes, dict):
            msg = (
                f"{where}: versions.{i}.changes: must map component ids to the fields "
                f"they change, found {type(changes).__name__}"
            )
            raise TariffSchemaError(msg)
        for key in ("components", "taxes"):
            items = prev.get(key, [])
            added = raw.pop(f"add_{key}", [])
            if not isinstance(items, list) or not isinstance(added, list):
                msg = f"{where}: versions.{i}: {key} and add_{key} must be lists"
                raise TariffSchemaError(msg)
            for item in items:
                patch = changes.pop(item.get("id"), None) if isinstance(item, dict) else None
                if patch is not None and not isinstance(patch, dict):
                    msg = (
                        f"{where}: versions.{i}.changes.{item.get('id')}: must map fields to "
                        f"new values, found {type(patch).__name__}"
                    )
                    raise TariffSchemaError(msg)
                if patch is not None:
                    item.update(patch)
            prev[key] = items + added
        if changes:
            msg = (
                f"{where}: versions.{i}.changes: unknown component id(s) {sorted(changes)} "
                "in the previous version"
            )
            raise TariffSchemaError(msg)
        prev.pop("valid_to", None)
        prev.pop("source", None)
        prev.update(raw)
        resolved.append(prev)
    out["versions"] = resolved
    return out


@dataclass(frozen=True)
class Tariff:
    """A validated tariff with its calendar and included component sets resolved."""

    doc: TariffDocument
    calendar: Calendar | None
    includes: tuple[TariffDocument, ...]
    path: str

    @property
    def id(self) -> str:
        """Tariff id."""
        return self.doc.id

    @property
    def currency(self) -> str:
        """ISO currency of every amount."""
        return self.doc.currency

    @property
    def timezone(self) -> str:
        """Local time zone in which dates and bands are read."""
        return self.calendar.timezone if self.calendar else "UTC"

    def documents(self) -> tuple[TariffDocument, ...]:
        """The tariff followed by its included component sets."""
        return (self.doc, *self.includes)

    def validity(self) -> tuple[dt.date, dt.date | None]:
        """Dates on which every document has a version: ``[from, to)``."""
        start = max(d.versions[0].valid_from for d in self.documents())
        ends = [d.versions[-1].valid_to for d in self.documents()]
        finite = [e for e in ends if e is not None]
        return start, (min(finite) if finite else None)

    def version_at(self, doc: TariffDocument, day: dt.date) -> TariffVersion:
        """The version of ``doc`` in force on ``day``."""
        for v in doc.versions:
            if v.valid_from <= day and (v.valid_to is None or day < v.valid_to):
                return v
        spans = ", ".join(f"{v.valid_from}..{v.valid_to or 'open'}" for v in doc.versions)
        msg = (
            f"{doc.id}: no version in force on {day} (versions: {spans}); bill a period "
            "inside the tariff's validity or add a version"
        )
        raise TariffValidityError(msg)

    def change_dates(self) -> list[dt.date]:
        """Every date on which some document's version changes."""
        out = set()
        for d in self.documents():
            for v in d.versions:
                out.add(v.valid_from)
                if v.valid_to is not None:
                    out.add(v.valid_to)
        return sorted(out)


def _check_condition(cond: Condition | None, doc: TariffDocument, where: str) -> None:
    if cond is None:
        return
    for prop in [*cond.equals, *cond.not_equals, *cond.max, *cond.min]:
        if prop not in doc.properties:
            msg = (
                f"{where}: applies_if reads property {prop!r}, which the tariff does not "
                f"declare under `properties` (declared: {sorted(doc.properties)})"
            )
            raise TariffSchemaError(msg)


def _check_rates(
    item: EnergyCharge, calendar: Calendar, bands: tuple[str, ...], where: str
) -> None:
    """Rates name every band (and, if seasonal, every season) and nothing else."""
    rates = item.rates if isinstance(item.rates, dict) else {}
    tables: dict[str, dict[str, float]] = {}
    if item.seasonal:
        seasons = calendar.season_names
        if set(rates) != set(seasons):
            msg = (
                f"{where}: seasonal rates must name exactly the seasons {list(seasons)}, "
                f"found {list(rates)}"
            )
            raise TariffSchemaError(msg)
        for season, table in rates.items():
            if not isinstance(table, dict):
                msg = f"{where}: rates.{season} must map band -> price"
                raise TariffSchemaError(msg)
            tables[season] = table
    else:
        tables[""] = {k: v for k, v in rates.items() if not isinstance(v, dict)}
    for season, table in tables.items():
        at = f"rates.{season}" if season else "rates"
        missing = [b for b in bands if b not in table]
        unknown = [b for b in table if b not in bands]
        if missing or unknown:
            msg = (
                f"{where}: {at} must give a price for each band of schedule "
                f"{item.schedule} {list(bands)}; missing {missing}, unknown {unknown}"
            )
            raise TariffSchemaError(msg)


def _check_references(
    doc: TariffDocument, calendar: Calendar | None, path: str, props: dict[str, Any]
) -> None:
    """Cross-field checks: schedules, bands, units' currency, properties."""
    full = doc.model_copy(update={"properties": props})
    for vi, version in enumerate(doc.versions):
        for item in (*version.components, *version.taxes):
            where = f"{path}: versions.{vi}.{item.id}"
            _check_condition(item.applies_if, full, where)
            if isinstance(item, ExciseTax) and item.exemption is not None:
                _check_condition(item.exemption.applies_if, full, where + ".exemption")
            units = []
            if isinstance(item, EnergyCharge | ExciseTax):
                units.append(item.unit)
            if isinstance(item, IndexedEnergyCharge):
                units += [item.series_unit, item.spread_unit]
            for unit in units:
                try:
                    energy_unit_factor(unit, doc.currency)
                except ValueError as exc:
                    msg = f"{where}: {exc}"
                    raise TariffSchemaError(msg) from None
            schedule = getattr(item, "schedule", None)
            if schedule is None:
                continue
            if calendar is None:
                msg = f"{where}: uses schedule {schedule!r} but the tariff has no `calendar`"
                raise TariffSchemaError(msg)
            try:
                bands = calendar.bands(schedule)
            except CalendarError as exc:
                msg_0 = f"{where}: {exc}"
                raise TariffSchemaError(msg_0) from None
            named: list[str] = []
            if isinstance(item, EnergyCharge) and isinstance(item.rates, dict):
                _check_rates(item, calendar, bands, where)
            if isinstance(item, DemandCharge) and item.bands:
                named = list(item.bands)
            unknown = [b for b in named if b not in bands]
            if unknown:
                msg = (
                    f"{where}: band(s) {unknown} are not in schedule {schedule} "
                    f"(bands: {list(bands)})"
                )
                raise TariffSchemaError(msg)


def _build_calendar(doc: TariffDocument, path: str) -> Calendar | None:
    if doc.calendar is None:
        return None
    try:
        if isinstance(doc.calendar, str):
            return get_calendar(doc.calendar)
        if isinstance(doc.calendar, CalendarRef):
            calendar = get_calendar(doc.calendar.base)
            here = Path(path).parent
            for name, table in doc.calendar.schedule_tables.items():
                schedule = schedule_from_table(here / table)
                calendar = calendar_with_schedule(calendar, name, schedule)
            return calendar
        return calendar_from_dict(doc.calendar.model_dump(), f"{path}: calendar")
    except CalendarError as exc:
        msg = f"{path}: calendar: {exc}"
        raise TariffSchemaError(msg) from exc


def validate_document(data: dict[str, Any], where: str) -> TariffDocument:
    """Validate one raw tariff mapping (after inheritance) into a :class:`TariffDocument`."""
    data = _resolve_inheritance(data, where)
    try:
        return TariffDocument.model_validate(data)
    except ValidationError as exc:
        raise TariffSchemaError(validation_message(where, exc)) from exc


def tariff_from_dict(
    data: dict[str, Any], where: str = "<tariff>", resolver: dict[str, TariffDocument] | None = None
) -> Tariff:
    """Validate a tariff mapping and resolve its calendar and includes.

    ``resolver`` maps ids to component sets; by default the built-in library is used.
    """
    doc = validate_document(data, where)
    includes = []
    for inc in doc.includes:
        inc_doc = resolver[inc] if resolver and inc in resolver else _builtin_document(inc)
        if inc_doc.kind != "component_set":
            msg = f"{where}: includes {inc!r}, which is a tariff, not a component_set"
            raise TariffSchemaError(msg)
        if inc_doc.currency != doc.currency:
            msg = f"{where}: includes {inc!r} in {inc_doc.currency}, tariff is in {doc.currency}"
            raise TariffSchemaError(msg)
        includes.append(inc_doc)
    calendar = _build_calendar(doc, where)
    props = dict(doc.properties)
    for inc_doc in includes:
        for name, spec in inc_doc.properties.items():
            props.setdefault(name, spec)
    _check_references(doc, calendar, where, props)
    for inc_doc in includes:
        _check_references(inc_doc, calendar, f"{where} (included {inc_doc.id})", props)
    merged = doc.model_copy(update={"properties": props})
    return Tariff(doc=merged, calendar=calendar, includes=tuple(includes), path=where)


def load_tariff(path: str | Path) -> Tariff:
    """Load a tariff file (YAML or TOML), validate it and resolve what it references."""
    p = Path(path)
    return tariff_from_dict(read_data_file(p, TariffSchemaError), str(p))


@cache
def _builtin_index() -> dict[str, Path]:
    root = resources.files("gridtwin.tariffs") / "data"
    out: dict[str, Path] = {}
    for sub in root.iterdir():
        if not sub.is_dir():
            continue
        for entry in sub.iterdir():
            if not entry.name.endswith((".yaml", ".toml")):
                continue
            path = Path(str(entry))
            data = read_data_file(path, TariffSchemaError)
            if data.get("schema") != "gridtwin.tariff/1":
                continue  # other data (e.g. analysis tables)
            out[str(data["id"])] = path
    return out


@cache
def _builtin_document(doc_id: str) -> TariffDocument:
    index = _builtin_index()
    if doc_id not in index:
        msg = f"no built-in tariff or component set {doc_id!r}; known: {sorted(index)}"
        raise TariffSchemaError(msg)
    path = index[doc_id]
    return validate_document(read_data_file(path, TariffSchemaError), str(path))


def builtin_tariff_ids(include_sets: bool = False) -> tuple[str, ...]:
    """Ids of the built-in tariffs (and component sets if asked)."""
    ids = [i for i in _builtin_index() if include_sets or _builtin_document(i).kind == "tariff"]
    return tuple(sorted(ids))


def get_tariff(tariff_id: str) -> Tariff:
    """A built-in tariff by id, or a tariff file by path.

    Both are kept once read; a file is read again when it changed on disk (its
    modification time or size), so a long-running service never bills at stale prices.
    """
    if tariff_id.endswith((".yaml", ".yml", ".toml")) or "/" in tariff_id:
        path = Path(tariff_id)
        try:
            st = path.stat()
        except OSError:
            return load_tariff(path)  # says what is wrong with the path
        return _tariff_file(str(path.resolve()), tariff_id, st.st_mtime_ns, st.st_size)
    return _builtin_tariff(tariff_id)


@lru_cache(maxsize=64)
def _tariff_file(resolved: str, given: str, mtime_ns: int, size: int) -> Tariff:
    """A tariff file, cached by its path and its state on disk."""
    return load_tariff(given)


@cache
def _builtin_tariff(tariff_id: str) -> Tariff:
    index = _builtin_index()
    if tariff_id not in index:
        msg = (
            f"unknown tariff {tariff_id!r}: not a built-in id (see `gridtwin tariffs "
            f"list`) nor a .yaml/.toml path"
        )
        raise TariffSchemaError(msg)
    return load_tariff(index[tariff_id])
