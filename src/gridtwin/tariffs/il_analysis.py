"""Israeli TOU tariff update of 1 February 2015: the published tables as data, and their arithmetic.

The Public Utility Authority - Electricity (PUA, now the Electricity Authority) updated the
IEC consumer tariffs in decisions 929 and 930 of meeting 452 (21.1.2015), effective 1.2.2015.
The tables this module uses are shipped as package data in ``data/il/tables_2015.yaml``,
transcribed from the Erdinast, Ben Nathan & Co. review of 28.1.2015; "old" means the April 2014
tables.

All money values are in agorot per kWh, VAT excluded. Losses factors are dimensionless
multipliers (101.11 % is ``1.0111``). Arithmetic is done on unrounded floats; values are rounded
half-up only for presentation (:func:`round_half_up`, :func:`present`).

Nomenclature
------------
TOU
    time-of-use energy rate of table 1-5.2 (תעו"ז) [agorot/kWh].
generation cost
    recognised IEC generation cost, table 1-6.3.1 (עלות הייצור המוכרת לחח"י) [agorot/kWh].
generation tariff
    weighted generation tariff, table 1-6.3.2 (תעריף הייצור המשוקלל) [agorot/kWh].
infrastructure
    network-use rate of tables 1-7.2 / 1-7.4 / 3-7.4 (שימוש בתשתית) [agorot/kWh].

References
----------
.. [1] PUA, decision 930 of meeting 452 (21.1.2015), "עדכון שנתי 2014 - החלטה מסכמת לתעריף
   החשמל לצרכני חברת החשמל בשנת 2015", tables 1-5.2, 1-6.3.1, 1-6.3.2, 1-7.2, 1-7.4, 3-7.4.
.. [2] Erdinast, Ben Nathan & Co., review of the PUA tariff decisions, 28.1.2015.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal, TypeVar, cast

import pandas as pd
import yaml

from gridtwin.errors import InputError, TariffError, TariffSchemaError

__all__ = [
    "BANDS",
    "DEFAULT_DISCOUNT_FRACTION",
    "SEASONS",
    "VOLTAGE_LEVELS",
    "Band",
    "InfrastructureTable",
    "IsraelTables",
    "PrivateDealRow",
    "PublishedTables",
    "Season",
    "SeasonBandTable",
    "SourceCitation",
    "SystemManagementRow",
    "VoltageLevel",
    "implied_infrastructure",
    "implied_infrastructure_table",
    "load_tables_2015",
    "present",
    "private_deal_price",
    "private_deal_table",
    "revision_table",
    "round_half_up",
    "season_band_revision",
    "system_management_residual",
    "system_management_table",
]

VoltageLevel = Literal["EHV", "HV_bulk", "HV_general", "LV_bulk", "LV_general"]
Season = Literal["winter", "transition", "summer"]
Band = Literal["off_peak", "shoulder", "peak"]

VOLTAGE_LEVELS: Final[tuple[VoltageLevel, ...]] = (
    "EHV", "HV_bulk", "HV_general", "LV_bulk", "LV_general",
)
SEASONS: Final[tuple[Season, ...]] = ("winter", "transition", "summer")
BANDS: Final[tuple[Band, ...]] = ("off_peak", "shoulder", "peak")

#: The discount of the seed's private-deal example: 7 % of the recognised generation cost.
DEFAULT_DISCOUNT_FRACTION: Final[float] = 0.07

#: Package-relative location of the 2015 tables (for messages).
TABLES_2015_RESOURCE: Final[str] = "gridtwin/tariffs/data/il/tables_2015.yaml"

#: Marker used in the YAML for a table that the source does not print.
NOT_PRINTED: Final[str] = "not_printed"

_K = TypeVar("_K", bound=str)


def _check_choice(value: str, allowed: tuple[_K, ...], what: str) -> _K:
    """Return ``value`` typed as one of ``allowed``, or raise :class:`InputError`."""
    if value not in allowed:
        msg = f"unknown {what} {value!r}; allowed values are: {', '.join(allowed)}"
        raise InputError(msg)
    return value


def _check_finite(value: float, name: str) -> float:
    """Return ``value`` as float if it is a finite real number, else raise :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        msg = f"{name} must be a finite number, got {value!r}"
        raise InputError(msg)
    return float(value)


# --------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeasonBandTable:
    """Nine values, one per season x band (a 3 x 3 TOU table).

    Attributes
    ----------
    values : Mapping[tuple[Season, Band], float]
        Value per ``(season, band)``; all nine cells must be present and finite. The unit is
        given by the name of the field that holds the table.
    """

    values: Mapping[tuple[Season, Band], float]

    def __post_init__(self) -> None:
        missing = [(s, b) for s in SEASONS for b in BANDS if (s, b) not in self.values]
        extra = [key for key in self.values if key not in [(s, b) for s in SEASONS for b in BANDS]]
        if missing or extra:
            msg = (f"a season-band table needs exactly the cells {SEASONS} x {BANDS}; "
                   f"missing {missing}, unexpected {extra}")
            raise InputError(msg)
        clean = {(s, b): _check_finite(self.values[(s, b)], f"cell {s}/{b}")
                 for s in SEASONS for b in BANDS}
        object.__setattr__(self, "values", MappingProxyType(clean))

    @classmethod
    def from_nested(cls, nested: Mapping[str, Mapping[str, float]]) -> SeasonBandTable:
        """Build a table from ``{season: {band: value}}``.

        Parameters
        ----------
        nested : Mapping[str, Mapping[str, float]]
            Season -> band -> value.

        Returns
        -------
        SeasonBandTable

        Raises
        ------
        InputError
            If a season or band is unknown or a cell is missing.
        """
        values: dict[tuple[Season, Band], float] = {}
        for season_name, by_band in nested.items():
            season = _check_choice(season_name, SEASONS, "season")
            for band_name, value in by_band.items():
                values[(season, _check_choice(band_name, BANDS, "band"))] = value
        return cls(values)

    def value(self, season: str, band: str) -> float:
        """Return the value of one cell.

        Raises
        ------
        InputError
            If ``season`` or ``band`` is unknown (the message lists the allowed values).
        """
        key = (_check_choice(season, SEASONS, "season"), _check_choice(band, BANDS, "band"))
        return self.values[key]

    def cells(self) -> Iterator[tuple[Season, Band, float]]:
        """Yield ``(season, band, value)`` in table order (winter..summer, off-peak..peak)."""
        for season in SEASONS:
            for band in BANDS:
                yield season, band, self.values[(season, band)]


@dataclass(frozen=True)
class SourceCitation:
    """Where the tables come from.

    Attributes
    ----------
    decisions : tuple of int
        PUA decision numbers (929, 930).
    meeting : int
        PUA plenary meeting number (452).
    meeting_date : str
        ISO date of the meeting.
    effective_from : str
        ISO date from which the "new" tables apply.
    old_tables : str
        What "old" means (the April 2014 tables).
    transcribed_from : str
        The document the numbers were transcribed from.
    urls : tuple of str
        Links to the decisions as cited by the source.
    """

    decisions: tuple[int, ...]
    meeting: int
    meeting_date: str
    effective_from: str
    old_tables: str
    transcribed_from: str
    urls: tuple[str, ...]


@dataclass(frozen=True)
class InfrastructureTable:
    """One network-use table (7.x) with its losses factors.

    ``None`` marks a table that the source does not print (never an estimate).

    Attributes
    ----------
    table_id : str
        Tariff-book table number, e.g. ``"1-7.2"``.
    consumer_voltage_level : VoltageLevel
        The TOU voltage level that this table belongs to.
    infrastructure_old_agorot_per_kwh, infrastructure_new_agorot_per_kwh : SeasonBandTable or None
        Network-use rate [agorot/kWh].
    losses_factor_old, losses_factor_new : SeasonBandTable or None
        Losses multiplier applied to the generation tariff [-].
    note : str
        Provenance note from the data file.
    """

    table_id: str
    consumer_voltage_level: VoltageLevel
    infrastructure_old_agorot_per_kwh: SeasonBandTable | None
    infrastructure_new_agorot_per_kwh: SeasonBandTable | None
    losses_factor_old: SeasonBandTable | None
    losses_factor_new: SeasonBandTable | None
    note: str


@dataclass(frozen=True)
class PrivateDealRow:
    """One published row of the seed's private-deal tables (section 10).

    The ``*_tou_display_*`` fields are the TOU as the source's spreadsheet displayed it (one
    decimal in the "new" column); the totals were computed from the full TOU rates.
    """

    change_total_percent: float
    change_total_agorot_per_kwh: float
    change_discount_percent: float
    change_discount_agorot_per_kwh: float
    new_total_agorot_per_kwh: float
    new_discount_agorot_per_kwh: float
    new_tou_display_agorot_per_kwh: float
    new_generation_cost_agorot_per_kwh: float
    old_total_agorot_per_kwh: float
    old_discount_agorot_per_kwh: float
    old_tou_display_agorot_per_kwh: float
    old_generation_cost_agorot_per_kwh: float


@dataclass(frozen=True)
class SystemManagementRow:
    """One published row of the seed's system-management tables (section 9).

    ``computed_total_agorot_per_kwh`` is the source's "תוצאת חישוב": infrastructure +
    losses factor x weighted generation tariff.
    """

    residual_agorot_per_kwh: float
    tou_agorot_per_kwh: float
    computed_total_agorot_per_kwh: float
    generation_tariff_agorot_per_kwh: float
    losses_factor: float


PrivateDealTable = Mapping[tuple[Season, Band], PrivateDealRow]
SystemManagementTable = Mapping[tuple[Season, Band], SystemManagementRow]


@dataclass(frozen=True)
class PublishedTables:
    """Results printed in the source, kept as expected values (rounded as printed).

    Attributes
    ----------
    tou_change_percent : Mapping[VoltageLevel, SeasonBandTable]
        Table 1-5.2 change block [%].
    generation_cost_change_percent, generation_tariff_change_percent : SeasonBandTable
        Table 6.3 change block for 1-6.3.1 and 1-6.3.2 [%].
    infrastructure_change_percent, losses_factor_change_percent : Mapping[str, SeasonBandTable]
        Table 7 change block, keyed by table id (``"1-7.2"``, ``"3-7.4"``) [%].
    private_deal_discount_fraction : float
        Discount on the recognised generation cost assumed by section 10 [-].
    private_deal : Mapping[VoltageLevel, PrivateDealTable]
        Section-10 tables (``HV_general``, ``EHV``).
    system_management : Mapping[VoltageLevel, SystemManagementTable]
        Section-9 tables (``LV_general``, ``HV_general``, ``EHV``).
    system_management_infrastructure_table : Mapping[VoltageLevel, str]
        The 7.x table that each section-9 table uses.
    """

    tou_change_percent: Mapping[VoltageLevel, SeasonBandTable]
    generation_cost_change_percent: SeasonBandTable
    generation_tariff_change_percent: SeasonBandTable
    infrastructure_change_percent: Mapping[str, SeasonBandTable]
    losses_factor_change_percent: Mapping[str, SeasonBandTable]
    private_deal_discount_fraction: float
    private_deal: Mapping[VoltageLevel, PrivateDealTable]
    system_management: Mapping[VoltageLevel, SystemManagementTable]
    system_management_infrastructure_table: Mapping[VoltageLevel, str]


@dataclass(frozen=True)
class IsraelTables:
    """The PUA tables of 1.2.2015 ("new") and April 2014 ("old") as printed in the seed.

    Attributes
    ----------
    source : SourceCitation
        Provenance.
    tou_old_agorot_per_kwh, tou_new_agorot_per_kwh : Mapping[VoltageLevel, SeasonBandTable]
        Table 1-5.2, TOU by voltage level [agorot/kWh].
    generation_cost_old_agorot_per_kwh, generation_cost_new_agorot_per_kwh : SeasonBandTable
        Table 1-6.3.1, recognised IEC generation cost [agorot/kWh].
    generation_tariff_old_agorot_per_kwh, generation_tariff_new_agorot_per_kwh : SeasonBandTable
        Table 1-6.3.2, weighted generation tariff [agorot/kWh].
    infrastructure : Mapping[str, InfrastructureTable]
        Tables 1-7.2 (EHV), 1-7.4 (HV; infrastructure not printed) and 3-7.4 (LV).
    published : PublishedTables
        The source's result tables, as expected values.
    """

    source: SourceCitation
    tou_old_agorot_per_kwh: Mapping[VoltageLevel, SeasonBandTable]
    tou_new_agorot_per_kwh: Mapping[VoltageLevel, SeasonBandTable]
    generation_cost_old_agorot_per_kwh: SeasonBandTable
    generation_cost_new_agorot_per_kwh: SeasonBandTable
    generation_tariff_old_agorot_per_kwh: SeasonBandTable
    generation_tariff_new_agorot_per_kwh: SeasonBandTable
    infrastructure: Mapping[str, InfrastructureTable]
    published: PublishedTables

    def infrastructure_for(self, voltage_level: str) -> InfrastructureTable:
        """Return the 7.x table of a TOU voltage level.

        Raises
        ------
        InputError
            If no infrastructure table of the source belongs to ``voltage_level``.
        """
        by_level = {t.consumer_voltage_level: t for t in self.infrastructure.values()}
        level = _check_choice(voltage_level, tuple(sorted(by_level)), "voltage level")
        return by_level[level]


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------


class _Reader:
    """Typed access to a parsed YAML tree with file- and field-naming error messages."""

    def __init__(self, source_name: str) -> None:
        self.source_name = source_name

    def fail(self, field: str, problem: str, fix: str) -> TariffSchemaError:
        msg = f"{self.source_name}: field '{field}' {problem}; {fix}"
        return TariffSchemaError(msg)

    def mapping(self, node: object, field: str) -> Mapping[str, object]:
        if node is None:
            raise self.fail(field, "is missing", "add it as a mapping")
        if not isinstance(node, Mapping):
            raise self.fail(field, f"is a {type(node).__name__}, expected a mapping",
                            "write it as 'key: value' entries")
        return cast(Mapping[str, object], node)

    def child(self, node: Mapping[str, object], key: str, field: str) -> object:
        path = f"{field}.{key}" if field else key
        if key not in node or node[key] is None:
            raise self.fail(path, "is missing", "add it (see the other entries of the file)")
        return node[key]

    def number(self, node: object, field: str, unit: str) -> float:
        if node is None:
            raise self.fail(field, "is missing", f"add a number in {unit}")
        if isinstance(node, bool) or not isinstance(node, int | float):
            raise self.fail(field, f"is {node!r} ({type(node).__name__}), not a number",
                            f"write a plain number in {unit}")
        if not math.isfinite(node):
            raise self.fail(field, f"is {node!r}", f"write a finite number in {unit}")
        return float(node)

    def text(self, node: Mapping[str, object], key: str, field: str) -> str:
        value = self.child(node, key, field)
        return str(value)

    def closed_keys(self, node: Mapping[str, object], allowed: tuple[str, ...],
                    field: str) -> None:
        extra = [str(k) for k in node if k not in allowed]
        if extra:
            raise self.fail(field, f"has unknown keys {extra}",
                            f"use only {', '.join(allowed)}")

    def season_band(self, node: object, field: str, unit: str) -> SeasonBandTable:
        table = self.mapping(node, field)
        self.closed_keys(table, SEASONS, field)
        values: dict[tuple[Season, Band], float] = {}
        for season in SEASONS:
            by_band = self.mapping(table.get(season), f"{field}.{season}")
            self.closed_keys(by_band, BANDS, f"{field}.{season}")
            for band in BANDS:
                values[(season, band)] = self.number(
                    by_band.get(band), f"{field}.{season}.{band}", unit)
        return SeasonBandTable(values)

    def optional_season_band(self, node: object, field: str,
                             unit: str) -> SeasonBandTable | None:
        if node == NOT_PRINTED:
            return None
        if isinstance(node, str):
            raise self.fail(field, f"is the text {node!r}",
                            f"give a season-band table or the marker '{NOT_PRINTED}'")
        return self.season_band(node, field, unit)

    def by_level(self, node: object, field: str, unit: str,
                 required: bool = True) -> dict[VoltageLevel, SeasonBandTable]:
        table = self.mapping(node, field)
        self.closed_keys(table, VOLTAGE_LEVELS, field)
        levels = VOLTAGE_LEVELS if required else tuple(v for v in VOLTAGE_LEVELS if v in table)
        return {level: self.season_band(table.get(level), f"{field}.{level}", unit)
                for level in levels}

    def rows(self, node: object, field: str, columns: tuple[str, ...],
             units: tuple[str, ...]) -> dict[tuple[Season, Band], tuple[float, ...]]:
        table = self.mapping(node, field)
        self.closed_keys(table, SEASONS, field)
        out: dict[tuple[Season, Band], tuple[float, ...]] = {}
        for season in SEASONS:
            by_band = self.mapping(table.get(season), f"{field}.{season}")
            self.closed_keys(by_band, BANDS, f"{field}.{season}")
            for band in BANDS:
                path = f"{field}.{season}.{band}"
                row = by_band.get(band)
                if not isinstance(row, list) or len(row) != len(columns):
                    raise self.fail(path, f"is {row!r}",
                                    f"give a list of {len(columns)} numbers: {', '.join(columns)}")
                out[(season, band)] = tuple(
                    self.number(v, f"{path}[{i}] ({columns[i]})", units[i])
                    for i, v in enumerate(row))
        return out


def _row_columns(cls: type[PrivateDealRow] | type[SystemManagementRow]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _unit_of(column: str) -> str:
    if column.endswith("_percent"):
        return "percent"
    if column.endswith("_agorot_per_kwh"):
        return "agorot/kWh"
    return "a dimensionless factor"


def _published_rows(r: _Reader, node: object, field: str,
                    cls: type[PrivateDealRow] | type[SystemManagementRow],
                    ) -> tuple[dict[VoltageLevel, dict[tuple[Season, Band], tuple[float, ...]]],
                               dict[VoltageLevel, Mapping[str, object]]]:
    """Read a published row block (``columns`` + ``tables``) and check its column order."""
    block = r.mapping(node, field)
    expected = _row_columns(cls)
    columns = r.child(block, "columns", field)
    if not isinstance(columns, list) or tuple(str(c) for c in columns) != expected:
        columns_path = f"{field}.columns"
        raise r.fail(columns_path, f"is {columns!r}",
                     f"list exactly these columns in this order: {', '.join(expected)}")
    tables = r.mapping(r.child(block, "tables", field), f"{field}.tables")
    r.closed_keys(tables, VOLTAGE_LEVELS, f"{field}.tables")
    units = tuple(_unit_of(c) for c in expected)
    rows: dict[VoltageLevel, dict[tuple[Season, Band], tuple[float, ...]]] = {}
    meta: dict[VoltageLevel, Mapping[str, object]] = {}
    for level in (v for v in VOLTAGE_LEVELS if v in tables):
        path = f"{field}.tables.{level}"
        table = r.mapping(tables[level], path)
        rows[level] = r.rows(r.child(table, "rows", path), f"{path}.rows", expected, units)
        meta[level] = table
    return rows, meta


def _parse_published(r: _Reader, node: object) -> PublishedTables:
    pub = r.mapping(node, "published")
    tou = r.mapping(r.child(pub, "tou_change_percent", "published"),
                    "published.tou_change_percent")
    gen = r.mapping(r.child(pub, "generation_change_percent", "published"),
                    "published.generation_change_percent")
    infra = r.mapping(r.child(pub, "infrastructure_change_percent", "published"),
                      "published.infrastructure_change_percent")
    infra_change: dict[str, SeasonBandTable] = {}
    losses_change: dict[str, SeasonBandTable] = {}
    for table_id in ("1-7.2", "3-7.4"):
        path = f"published.infrastructure_change_percent.{table_id}"
        block = r.mapping(infra.get(table_id), path)
        infra_change[table_id] = r.season_band(
            block.get("infrastructure"), f"{path}.infrastructure", "percent")
        losses_change[table_id] = r.season_band(
            block.get("losses_factor"), f"{path}.losses_factor", "percent")
    deal_node = r.mapping(r.child(pub, "private_deal", "published"), "published.private_deal")
    deal_rows, _ = _published_rows(r, deal_node, "published.private_deal", PrivateDealRow)
    sm_rows, sm_meta = _published_rows(r, r.child(pub, "system_management", "published"),
                                       "published.system_management", SystemManagementRow)
    return PublishedTables(
        tou_change_percent=MappingProxyType(r.by_level(
            tou.get("values"), "published.tou_change_percent.values", "percent")),
        generation_cost_change_percent=r.season_band(
            gen.get("recognised_cost"), "published.generation_change_percent.recognised_cost",
            "percent"),
        generation_tariff_change_percent=r.season_band(
            gen.get("weighted_tariff"), "published.generation_change_percent.weighted_tariff",
            "percent"),
        infrastructure_change_percent=MappingProxyType(infra_change),
        losses_factor_change_percent=MappingProxyType(losses_change),
        private_deal_discount_fraction=r.number(
            deal_node.get("discount_fraction"), "published.private_deal.discount_fraction",
            "a fraction (0.07 for 7 %)"),
        private_deal=MappingProxyType({
            level: MappingProxyType({k: PrivateDealRow(*v) for k, v in rows.items()})
            for level, rows in deal_rows.items()}),
        system_management=MappingProxyType({
            level: MappingProxyType({k: SystemManagementRow(*v) for k, v in rows.items()})
            for level, rows in sm_rows.items()}),
        system_management_infrastructure_table=MappingProxyType({
            level: r.text(meta, "infrastructure_table",
                          f"published.system_management.tables.{level}")
            for level, meta in sm_meta.items()}),
    )


def _parse_infrastructure(r: _Reader, node: object) -> dict[str, InfrastructureTable]:
    tables = r.mapping(node, "infrastructure")
    out: dict[str, InfrastructureTable] = {}
    for table_id, raw in tables.items():
        path = f"infrastructure.{table_id}"
        table = r.mapping(raw, path)
        level_name = r.text(table, "consumer_voltage_level", path)
        if level_name not in VOLTAGE_LEVELS:
            level_path = f"{path}.consumer_voltage_level"
            raise r.fail(level_path, f"is {level_name!r}",
                         f"use one of {', '.join(VOLTAGE_LEVELS)}")
        infra = r.mapping(r.child(table, "infrastructure_agorot_per_kwh", path),
                          f"{path}.infrastructure_agorot_per_kwh")
        losses = r.mapping(r.child(table, "losses_factor", path), f"{path}.losses_factor")
        unit = "agorot/kWh"
        out[str(table_id)] = InfrastructureTable(
            table_id=str(table_id),
            consumer_voltage_level=level_name,
            infrastructure_old_agorot_per_kwh=r.optional_season_band(
                r.child(infra, "old", f"{path}.infrastructure_agorot_per_kwh"),
                f"{path}.infrastructure_agorot_per_kwh.old", unit),
            infrastructure_new_agorot_per_kwh=r.optional_season_band(
                r.child(infra, "new", f"{path}.infrastructure_agorot_per_kwh"),
                f"{path}.infrastructure_agorot_per_kwh.new", unit),
            losses_factor_old=r.optional_season_band(
                r.child(losses, "old", f"{path}.losses_factor"),
                f"{path}.losses_factor.old", "a factor (1.0111 for 101.11 %)"),
            losses_factor_new=r.optional_season_band(
                r.child(losses, "new", f"{path}.losses_factor"),
                f"{path}.losses_factor.new", "a factor (1.0111 for 101.11 %)"),
            note=str(table.get("note", "")),
        )
    return out


def _parse_source(r: _Reader, node: object) -> SourceCitation:
    src = r.mapping(node, "source")
    decisions = src.get("decisions")
    if not isinstance(decisions, list) or not decisions:
        decisions_path = "source.decisions"
        raise r.fail(decisions_path, f"is {decisions!r}", "list the PUA decisions")
    numbers: list[int] = []
    urls: list[str] = []
    for i, raw in enumerate(decisions):
        decision = r.mapping(raw, f"source.decisions[{i}]")
        numbers.append(int(r.number(decision.get("number"), f"source.decisions[{i}].number",
                                    "a decision number")))
        urls.append(r.text(decision, "url", f"source.decisions[{i}]"))
    return SourceCitation(
        decisions=tuple(numbers),
        meeting=int(r.number(src.get("meeting"), "source.meeting", "a meeting number")),
        meeting_date=r.text(src, "meeting_date", "source"),
        effective_from=r.text(src, "effective_from", "source"),
        old_tables=r.text(src, "old_tables", "source"),
        transcribed_from=r.text(src, "transcribed_from", "source"),
        urls=tuple(urls),
    )


def _parse_tables(raw: object, source_name: str) -> IsraelTables:
    """Validate a parsed YAML tree and build :class:`IsraelTables`."""
    r = _Reader(source_name)
    root = r.mapping(raw, "<document root>")
    tou = r.mapping(r.child(root, "tou_agorot_per_kwh", ""), "tou_agorot_per_kwh")
    gen = r.mapping(r.child(root, "generation", ""), "generation")
    cost = r.mapping(r.child(gen, "recognised_cost_agorot_per_kwh", "generation"),
                     "generation.recognised_cost_agorot_per_kwh")
    tariff = r.mapping(r.child(gen, "weighted_tariff_agorot_per_kwh", "generation"),
                       "generation.weighted_tariff_agorot_per_kwh")
    unit = "agorot/kWh"
    cost_path = "generation.recognised_cost_agorot_per_kwh"
    tariff_path = "generation.weighted_tariff_agorot_per_kwh"
    return IsraelTables(
        source=_parse_source(r, r.child(root, "source", "")),
        tou_old_agorot_per_kwh=MappingProxyType(
            r.by_level(tou.get("old"), "tou_agorot_per_kwh.old", unit)),
        tou_new_agorot_per_kwh=MappingProxyType(
            r.by_level(tou.get("new"), "tou_agorot_per_kwh.new", unit)),
        generation_cost_old_agorot_per_kwh=r.season_band(cost.get("old"), f"{cost_path}.old",
                                                         unit),
        generation_cost_new_agorot_per_kwh=r.season_band(cost.get("new"), f"{cost_path}.new",
                                                         unit),
        generation_tariff_old_agorot_per_kwh=r.season_band(tariff.get("old"),
                                                           f"{tariff_path}.old", unit),
        generation_tariff_new_agorot_per_kwh=r.season_band(tariff.get("new"),
                                                           f"{tariff_path}.new", unit),
        infrastructure=MappingProxyType(
            _parse_infrastructure(r, r.child(root, "infrastructure", ""))),
        published=_parse_published(r, r.child(root, "published", "")),
    )


def _load_tables_text(text: str, source_name: str) -> IsraelTables:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = f"{source_name}: not valid YAML ({exc}); fix the syntax at the position shown"
        raise TariffSchemaError(msg) from exc
    return _parse_tables(raw, source_name)


def _load_tables_from_path(path: Path) -> IsraelTables:
    """Load and validate a tables file in the ``tables_2015.yaml`` format from ``path``.

    Raises
    ------
    TariffSchemaError
        If the file cannot be read, is not YAML, or a field is missing or not a number.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read the tariff tables file ({exc})"
        raise TariffSchemaError(msg) from exc
    return _load_tables_text(text, str(path))


def load_tables_2015() -> IsraelTables:
    """Load the PUA tables of 1.2.2015 (and April 2014) shipped with gridtwin.

    Returns
    -------
    IsraelTables
        Validated, immutable tables [agorot/kWh excl. VAT; losses factors dimensionless].

    Raises
    ------
    TariffSchemaError
        If the packaged YAML is malformed; the message names the file and the field.

    Examples
    --------
    >>> tables = load_tables_2015()
    >>> tables.tou_new_agorot_per_kwh["HV_general"].value("winter", "off_peak")
    30.14
    """
    resource = resources.files("gridtwin.tariffs").joinpath("data", "il", "tables_2015.yaml")
    try:
        text = resource.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{TABLES_2015_RESOURCE}: cannot read the packaged tariff tables ({exc})"
        raise TariffSchemaError(msg) from exc
    return _load_tables_text(text, TABLES_2015_RESOURCE)


# --------------------------------------------------------------------------------------------
# Rounding for presentation
# --------------------------------------------------------------------------------------------


def round_half_up(value: float, decimals: int = 2) -> float:
    """Round half away from zero to ``decimals`` places, as printed tariff tables do.

    The float is read through its shortest decimal representation (``repr``), so
    ``round_half_up(28.585)`` is ``28.59`` although ``round(28.585, 2)`` is ``28.58``.

    Parameters
    ----------
    value : float
        Value to present.
    decimals : int
        Number of decimal places (>= 0).

    Returns
    -------
    float

    Raises
    ------
    InputError
        If ``value`` is not finite or ``decimals`` is negative.

    Examples
    --------
    >>> round_half_up(28.585)
    28.59
    >>> round_half_up(-3.775)
    -3.78
    """
    _check_finite(value, "value")
    if decimals < 0:
        msg = f"decimals must be >= 0, got {decimals}"
        raise InputError(msg)
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def present(frame: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """Return a copy of ``frame`` with every float column rounded half-up for display.

    Parameters
    ----------
    frame : pandas.DataFrame
        A result table of this module (unrounded).
    decimals : int
        Decimal places.

    Returns
    -------
    pandas.DataFrame
        New frame; ``frame`` is not modified.
    """
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = [round_half_up(float(v), decimals) for v in out[column]]
    return out


# --------------------------------------------------------------------------------------------
# Tariff arithmetic
# --------------------------------------------------------------------------------------------


def _change_percent(old: float, new: float, what: str) -> float:
    if old == 0.0:
        msg = f"cannot compute a percent change of {what}: the old value is 0"
        raise InputError(msg)
    return (new / old - 1.0) * 100.0


_SEASON_BAND_INDEX: Final[pd.MultiIndex] = pd.MultiIndex.from_tuples(
    [(s, b) for s in SEASONS for b in BANDS], names=["season", "band"])


def season_band_revision(old: SeasonBandTable, new: SeasonBandTable) -> pd.DataFrame:
    """Compare two season-band tables cell by cell.

    Parameters
    ----------
    old, new : SeasonBandTable
        Tables in the same unit [agorot/kWh, or a factor].

    Returns
    -------
    pandas.DataFrame
        Index (season, band); columns ``old_agorot_per_kwh``, ``new_agorot_per_kwh``,
        ``change_agorot_per_kwh`` (new - old) and ``change_percent`` ((new/old - 1) x 100).
        Unrounded.

    Raises
    ------
    InputError
        If an old value is 0 (no percent change).
    """
    rows = [(o, n, n - o, _change_percent(o, n, f"cell {s}/{b}"))
            for (s, b, o), (_, _, n) in zip(old.cells(), new.cells(), strict=True)]
    return pd.DataFrame(rows, index=_SEASON_BAND_INDEX.copy(),
                        columns=["old_agorot_per_kwh", "new_agorot_per_kwh",
                                 "change_agorot_per_kwh", "change_percent"])


def revision_table(old: Mapping[VoltageLevel, SeasonBandTable] | Mapping[str, SeasonBandTable],
                   new: Mapping[VoltageLevel, SeasonBandTable] | Mapping[str, SeasonBandTable],
                   ) -> pd.DataFrame:
    """Revision of the TOU table 1-5.2 (or any per-voltage-level table): old vs new.

    Parameters
    ----------
    old, new : Mapping[str, SeasonBandTable]
        Tables per voltage level [agorot/kWh], e.g. ``tables.tou_old_agorot_per_kwh`` and
        ``tables.tou_new_agorot_per_kwh``. Both must have the same voltage levels.

    Returns
    -------
    pandas.DataFrame
        Index (voltage_level, season, band) in table order; columns ``old_agorot_per_kwh``,
        ``new_agorot_per_kwh``, ``change_agorot_per_kwh`` and ``change_percent``. Unrounded;
        use :func:`present` for display.

    Raises
    ------
    InputError
        If a voltage level is unknown (the message lists the allowed ones), or the two
        mappings do not cover the same levels.

    Notes
    -----
    change_percent = (new / old - 1) x 100, the definition of the source's "הפרש" block.
    """
    for name in (*old, *new):
        _check_choice(name, VOLTAGE_LEVELS, "voltage level")
    if set(old) != set(new):
        msg = (f"old and new tables cover different voltage levels: old {sorted(old)}, "
               f"new {sorted(new)}; pass the same levels in both")
        raise InputError(msg)
    old_by_level: Mapping[str, SeasonBandTable] = cast(Mapping[str, SeasonBandTable], old)
    new_by_level: Mapping[str, SeasonBandTable] = cast(Mapping[str, SeasonBandTable], new)
    levels = [v for v in VOLTAGE_LEVELS if v in old_by_level]
    frames = [season_band_revision(old_by_level[v], new_by_level[v]) for v in levels]
    out = pd.concat(frames, keys=levels, names=["voltage_level"])
    return out


def private_deal_price(tou_agorot_per_kwh: float, generation_cost_agorot_per_kwh: float,
                       discount_fraction: float = DEFAULT_DISCOUNT_FRACTION) -> float:
    """Price of a private purchase from an IPP at TOU less a discount on generation cost.

    Parameters
    ----------
    tou_agorot_per_kwh : float
        TOU rate of table 1-5.2 at the consumer's voltage level [agorot/kWh], unrounded
        (use 30.14, not the 30.1 the source displays).
    generation_cost_agorot_per_kwh : float
        Recognised IEC generation cost, table 1-6.3.1 [agorot/kWh]. Not the weighted
        generation tariff of table 1-6.3.2.
    discount_fraction : float
        Discount as a fraction of the generation cost [-], in [0, 1]; default 0.07.

    Returns
    -------
    float
        Price [agorot/kWh], unrounded.

    Raises
    ------
    InputError
        If an input is not finite or the discount is outside [0, 1].

    Notes
    -----
    price = TOU - discount_fraction x generation_cost  (seed 003, section 10).

    Examples
    --------
    >>> round_half_up(private_deal_price(30.14, 22.21))
    28.59
    """
    tou = _check_finite(tou_agorot_per_kwh, "tou_agorot_per_kwh")
    cost = _check_finite(generation_cost_agorot_per_kwh, "generation_cost_agorot_per_kwh")
    discount = _check_finite(discount_fraction, "discount_fraction")
    if not 0.0 <= discount <= 1.0:
        msg = f"discount_fraction must be between 0 and 1 (0.07 for 7 %), got {discount}"
        raise InputError(msg)
    return tou - discount * cost


def private_deal_table(tables: IsraelTables, voltage_level: str,
                       discount_fraction: float = DEFAULT_DISCOUNT_FRACTION,
                       generation_cost_basis: Literal["recognised_cost",
                                                      "weighted_tariff"] = "recognised_cost",
                       ) -> pd.DataFrame:
    """The seed's private-deal table for one voltage level: new, old and the change.

    Parameters
    ----------
    tables : IsraelTables
        From :func:`load_tables_2015`.
    voltage_level : str
        One of :data:`VOLTAGE_LEVELS` (the seed prints ``HV_general`` and ``EHV``).
    discount_fraction : float
        Discount on the generation cost [-]; default 0.07.
    generation_cost_basis : {"recognised_cost", "weighted_tariff"}
        Which generation table the discount applies to. The source uses the recognised cost
        (1-6.3.1); ``"weighted_tariff"`` (1-6.3.2) exists to show that it does *not*
        reproduce the source.

    Returns
    -------
    pandas.DataFrame
        Index (season, band). Columns [agorot/kWh unless ``_percent``]:
        ``new_tou_agorot_per_kwh``, ``new_generation_cost_agorot_per_kwh``,
        ``new_discount_agorot_per_kwh``, ``new_total_agorot_per_kwh``, the same four for
        ``old_``, ``change_total_agorot_per_kwh``, ``change_total_percent``,
        ``change_discount_agorot_per_kwh`` and ``change_discount_percent``. Unrounded.

    Raises
    ------
    InputError
        If the voltage level or the basis is unknown, or the discount is out of range.
    """
    level = _check_choice(voltage_level, VOLTAGE_LEVELS, "voltage level")
    basis = _check_choice(generation_cost_basis, ("recognised_cost", "weighted_tariff"),
                          "generation cost basis")
    cost = {"old": tables.generation_cost_old_agorot_per_kwh,
            "new": tables.generation_cost_new_agorot_per_kwh}
    if basis == "weighted_tariff":
        cost = {"old": tables.generation_tariff_old_agorot_per_kwh,
                "new": tables.generation_tariff_new_agorot_per_kwh}
    tou = {"old": tables.tou_old_agorot_per_kwh[level],
           "new": tables.tou_new_agorot_per_kwh[level]}
    records = []
    for season, band, _ in tou["new"].cells():
        rec: dict[str, float] = {}
        for state in ("new", "old"):
            t = tou[state].value(season, band)
            c = cost[state].value(season, band)
            rec[f"{state}_tou_agorot_per_kwh"] = t
            rec[f"{state}_generation_cost_agorot_per_kwh"] = c
            rec[f"{state}_discount_agorot_per_kwh"] = t - private_deal_price(
                t, c, discount_fraction)
            rec[f"{state}_total_agorot_per_kwh"] = private_deal_price(t, c, discount_fraction)
        for part in ("total", "discount"):
            o, n = rec[f"old_{part}_agorot_per_kwh"], rec[f"new_{part}_agorot_per_kwh"]
            rec[f"change_{part}_agorot_per_kwh"] = n - o
            rec[f"change_{part}_percent"] = _change_percent(o, n, f"{part} {season}/{band}")
        records.append(rec)
    return pd.DataFrame(records, index=_SEASON_BAND_INDEX.copy())


def system_management_residual(tou_agorot_per_kwh: float, infrastructure_agorot_per_kwh: float,
                               losses_factor: float,
                               generation_tariff_agorot_per_kwh: float) -> float:
    """System-management rate left inside the TOU rate.

    Parameters
    ----------
    tou_agorot_per_kwh : float
        TOU rate, table 1-5.2 [agorot/kWh].
    infrastructure_agorot_per_kwh : float
        Network-use rate of the matching 7.x table [agorot/kWh].
    losses_factor : float
        Losses multiplier of the same 7.x table [-] (1.0516 for 105.16 %).
    generation_tariff_agorot_per_kwh : float
        Weighted generation tariff, table 1-6.3.2 [agorot/kWh].

    Returns
    -------
    float
        Residual [agorot/kWh], unrounded.

    Raises
    ------
    InputError
        If an input is not finite.

    Notes
    -----
    residual = TOU - (infrastructure + losses_factor x generation_tariff).

    The source prints the operands the other way round; its numbers (all positive,
    0.27-0.30 agorot/kWh) follow the sign used here.

    Examples
    --------
    >>> round_half_up(system_management_residual(38.02, 14.02, 1.0516, 22.54))
    0.3
    """
    tou = _check_finite(tou_agorot_per_kwh, "tou_agorot_per_kwh")
    infra = _check_finite(infrastructure_agorot_per_kwh, "infrastructure_agorot_per_kwh")
    losses = _check_finite(losses_factor, "losses_factor")
    gen = _check_finite(generation_tariff_agorot_per_kwh, "generation_tariff_agorot_per_kwh")
    return tou - (infra + losses * gen)


def implied_infrastructure(computed_total_agorot_per_kwh: float, losses_factor: float,
                           generation_tariff_agorot_per_kwh: float) -> float:
    """Infrastructure rate implied by a published total (IMPLIED, not a published tariff).

    Parameters
    ----------
    computed_total_agorot_per_kwh : float
        Published "infrastructure + losses x generation tariff" [agorot/kWh], as printed
        (rounded to 2 decimals, so the result carries +/- 0.005 agorot/kWh of uncertainty).
    losses_factor : float
        Losses multiplier [-].
    generation_tariff_agorot_per_kwh : float
        Weighted generation tariff, table 1-6.3.2 [agorot/kWh].

    Returns
    -------
    float
        Implied infrastructure rate [agorot/kWh], unrounded.

    Notes
    -----
    implied_infrastructure = computed_total - losses_factor x generation_tariff.
    """
    total = _check_finite(computed_total_agorot_per_kwh, "computed_total_agorot_per_kwh")
    losses = _check_finite(losses_factor, "losses_factor")
    gen = _check_finite(generation_tariff_agorot_per_kwh, "generation_tariff_agorot_per_kwh")
    return total - losses * gen


def implied_infrastructure_table(tables: IsraelTables,
                                 voltage_level: str = "HV_general") -> pd.DataFrame:
    """IMPLIED infrastructure rates of a level whose 7.x table the source does not print.

    For HV (table 1-7.4) the source prints the losses factors and the totals of section 9 but
    not the infrastructure rates. This function backs them out of the published totals.

    Parameters
    ----------
    tables : IsraelTables
        From :func:`load_tables_2015`.
    voltage_level : str
        A level with a published section-9 table (``LV_general``, ``HV_general``, ``EHV``).

    Returns
    -------
    pandas.DataFrame
        Index (season, band). Columns ``published_computed_total_agorot_per_kwh``,
        ``losses_factor``, ``generation_tariff_agorot_per_kwh``,
        and ``implied_infrastructure_agorot_per_kwh`` (unrounded). Every value of the implied
        column is derived, not published, and is uncertain by +/- 0.005 agorot/kWh because
        the published totals are rounded to two decimals.

    Raises
    ------
    InputError
        If the voltage level has no published section-9 table.
    """
    published = tables.published.system_management
    level = _check_choice(voltage_level, tuple(published), "voltage level with a section-9 table")
    records = []
    for season, band in _SEASON_BAND_INDEX:
        row = published[level][(season, band)]
        records.append({
            "published_computed_total_agorot_per_kwh": row.computed_total_agorot_per_kwh,
            "losses_factor": row.losses_factor,
            "generation_tariff_agorot_per_kwh": row.generation_tariff_agorot_per_kwh,
            "implied_infrastructure_agorot_per_kwh": implied_infrastructure(
                row.computed_total_agorot_per_kwh, row.losses_factor,
                row.generation_tariff_agorot_per_kwh),
        })
    return pd.DataFrame(records, index=_SEASON_BAND_INDEX.copy())


def system_management_table(tables: IsraelTables, voltage_level: str,
                            infrastructure_agorot_per_kwh: SeasonBandTable | None = None,
                            ) -> pd.DataFrame:
    """The seed's system-management table (section 9) for one voltage level, new tables.

    Parameters
    ----------
    tables : IsraelTables
        From :func:`load_tables_2015`.
    voltage_level : str
        ``EHV`` (table 1-7.2), ``HV_general`` (1-7.4) or ``LV_general`` (3-7.4).
    infrastructure_agorot_per_kwh : SeasonBandTable, optional
        Infrastructure rates to use instead of the 7.x table [agorot/kWh]. Required for
        ``HV_general``, whose 1-7.4 rates the source does not print; pass implied values
        (see :func:`implied_infrastructure_table`). Any rates passed here are treated as not
        published, and the result flags them in ``infrastructure_is_implied``.

    Returns
    -------
    pandas.DataFrame
        Index (season, band). Columns ``tou_agorot_per_kwh``,
        ``infrastructure_agorot_per_kwh``, ``losses_factor``,
        ``generation_tariff_agorot_per_kwh``, ``computed_total_agorot_per_kwh``
        (infrastructure + losses x generation tariff), ``residual_agorot_per_kwh`` and
        ``infrastructure_is_implied`` (bool). Unrounded.

    Raises
    ------
    InputError
        If the voltage level has no infrastructure table in the source.
    TariffError
        If the infrastructure or losses table is not printed and no override is given.
    """
    infra_table = tables.infrastructure_for(voltage_level)
    level = infra_table.consumer_voltage_level
    losses = infra_table.losses_factor_new
    infra = (infra_table.infrastructure_new_agorot_per_kwh if infrastructure_agorot_per_kwh is None
             else infrastructure_agorot_per_kwh)
    if losses is None or infra is None:
        missing = "losses factors" if losses is None else "infrastructure rates"
        msg = (f"the source does not print the new {missing} of table {infra_table.table_id} "
               f"({level}); pass infrastructure_agorot_per_kwh explicitly, e.g. implied values "
               f"from implied_infrastructure_table(tables, {level!r})")
        raise TariffError(msg)
    records = []
    for season, band, tou in tables.tou_new_agorot_per_kwh[level].cells():
        gen = tables.generation_tariff_new_agorot_per_kwh.value(season, band)
        i, f = infra.value(season, band), losses.value(season, band)
        records.append({
            "tou_agorot_per_kwh": tou,
            "infrastructure_agorot_per_kwh": i,
            "losses_factor": f,
            "generation_tariff_agorot_per_kwh": gen,
            "computed_total_agorot_per_kwh": i + f * gen,
            "residual_agorot_per_kwh": system_management_residual(tou, i, f, gen),
            "infrastructure_is_implied": infrastructure_agorot_per_kwh is not None,
        })
    return pd.DataFrame(records, index=_SEASON_BAND_INDEX.copy())
