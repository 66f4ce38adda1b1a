"""The Israeli 2015 tariff tables (seed 003) as typed data: types, loading and validation.

Loads ``data/il/tables_2015.yaml`` into :class:`IsraelTables`; every missing or malformed value
is a :class:`~gridtwin.errors.TariffSchemaError` naming the file and the field. The arithmetic
on these tables is in :mod:`gridtwin.tariffs.il_analysis`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal, TypeVar, cast

import yaml

from gridtwin.errors import InputError, TariffSchemaError

__all__ = [
    "BANDS",
    "DEFAULT_DISCOUNT_FRACTION",
    "NOT_PRINTED",
    "SEASONS",
    "TABLES_2015_RESOURCE",
    "VOLTAGE_LEVELS",
    "Band",
    "InfrastructureTable",
    "IsraelTables",
    "PrivateDealRow",
    "PrivateDealTable",
    "PublishedTables",
    "Season",
    "SeasonBandTable",
    "SourceCitation",
    "SystemManagementRow",
    "SystemManagementTable",
    "VoltageLevel",
    "load_tables_2015",
]


VoltageLevel = Literal["EHV", "HV_bulk", "HV_general", "LV_bulk", "LV_general"]
Season = Literal["winter", "transition", "summer"]
Band = Literal["off_peak", "shoulder", "peak"]

VOLTAGE_LEVELS: Final[tuple[VoltageLevel, ...]] = (
    "EHV",
    "HV_bulk",
    "HV_general",
    "LV_bulk",
    "LV_general",
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
            msg = (
                f"a season-band table needs exactly the cells {SEASONS} x {BANDS}; "
                f"missing {missing}, unexpected {extra}"
            )
            raise InputError(msg)
        clean = {
            (s, b): _check_finite(self.values[(s, b)], f"cell {s}/{b}")
            for s in SEASONS
            for b in BANDS
        }
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
            raise self.fail(
                field,
                f"is a {type(node).__name__}, expected a mapping",
                "write it as 'key: value' entries",
            )
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
            raise self.fail(
                field,
                f"is {node!r} ({type(node).__name__}), not a number",
                f"write a plain number in {unit}",
            )
        if not math.isfinite(node):
            raise self.fail(field, f"is {node!r}", f"write a finite number in {unit}")
        return float(node)

    def text(self, node: Mapping[str, object], key: str, field: str) -> str:
        value = self.child(node, key, field)
        return str(value)

    def closed_keys(self, node: Mapping[str, object], allowed: tuple[str, ...], field: str) -> None:
        extra = [str(k) for k in node if k not in allowed]
        if extra:
            raise self.fail(field, f"has unknown keys {extra}", f"use only {', '.join(allowed)}")

    def season_band(self, node: object, field: str, unit: str) -> SeasonBandTable:
        table = self.mapping(node, field)
        self.closed_keys(table, SEASONS, field)
        values: dict[tuple[Season, Band], float] = {}
        for season in SEASONS:
            by_band = self.mapping(table.get(season), f"{field}.{season}")
            self.closed_keys(by_band, BANDS, f"{field}.{season}")
            for band in BANDS:
                values[(season, band)] = self.number(
                    by_band.get(band), f"{field}.{season}.{band}", unit
                )
        return SeasonBandTable(values)

    def optional_season_band(self, node: object, field: str, unit: str) -> SeasonBandTable | None:
        if node == NOT_PRINTED:
            return None
        if isinstance(node, str):
            raise self.fail(
                field,
                f"is the text {node!r}",
                f"give a season-band table or the marker '{NOT_PRINTED}'",
            )
        return self.season_band(node, field, unit)

    def by_level(
        self, node: object, field: str, unit: str, required: bool = True
    ) -> dict[VoltageLevel, SeasonBandTable]:
        table = self.mapping(node, field)
        self.closed_keys(table, VOLTAGE_LEVELS, field)
        levels = VOLTAGE_LEVELS if required else tuple(v for v in VOLTAGE_LEVELS if v in table)
        return {
            level: self.season_band(table.get(level), f"{field}.{level}", unit) for level in levels
        }

    def rows(
        self, node: object, field: str, columns: tuple[str, ...], units: tuple[str, ...]
    ) -> dict[tuple[Season, Band], tuple[float, ...]]:
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
                    raise self.fail(
                        path,
                        f"is {row!r}",
                        f"give a list of {len(columns)} numbers: {', '.join(columns)}",
                    )
                out[(season, band)] = tuple(
                    self.number(v, f"{path}[{i}] ({columns[i]})", units[i])
                    for i, v in enumerate(row)
                )
        return out


def _row_columns(cls: type[PrivateDealRow] | type[SystemManagementRow]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _unit_of(column: str) -> str:
    if column.endswith("_percent"):
        return "percent"
    if column.endswith("_agorot_per_kwh"):
        return "agorot/kWh"
    return "a dimensionless factor"


def _published_rows(
    r: _Reader,
    node: object,
    field: str,
    cls: type[PrivateDealRow] | type[SystemManagementRow],
) -> tuple[
    dict[VoltageLevel, dict[tuple[Season, Band], tuple[float, ...]]],
    dict[VoltageLevel, Mapping[str, object]],
]:
    """Read a published row block (``columns`` + ``tables``) and check its column order."""
    block = r.mapping(node, field)
    expected = _row_columns(cls)
    columns = r.child(block, "columns", field)
    if not isinstance(columns, list) or tuple(str(c) for c in columns) != expected:
        columns_path = f"{field}.columns"
        raise r.fail(
            columns_path,
            f"is {columns!r}",
            f"list exactly these columns in this order: {', '.join(expected)}",
        )
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
    tou = r.mapping(r.child(pub, "tou_change_percent", "published"), "published.tou_change_percent")
    gen = r.mapping(
        r.child(pub, "generation_change_percent", "published"),
        "published.generation_change_percent",
    )
    infra = r.mapping(
        r.child(pub, "infrastructure_change_percent", "published"),
        "published.infrastructure_change_percent",
    )
    infra_change, losses_change = _infrastructure_changes(r, infra)
    deal_node = r.mapping(r.child(pub, "private_deal", "published"), "published.private_deal")
    deal_rows, _ = _published_rows(r, deal_node, "published.private_deal", PrivateDealRow)
    sm_rows, sm_meta = _published_rows(
        r,
        r.child(pub, "system_management", "published"),
        "published.system_management",
        SystemManagementRow,
    )
    return PublishedTables(
        tou_change_percent=MappingProxyType(
            r.by_level(tou.get("values"), "published.tou_change_percent.values", "percent")
        ),
        generation_cost_change_percent=r.season_band(
            gen.get("recognised_cost"),
            "published.generation_change_percent.recognised_cost",
            "percent",
        ),
        generation_tariff_change_percent=r.season_band(
            gen.get("weighted_tariff"),
            "published.generation_change_percent.weighted_tariff",
            "percent",
        ),
        infrastructure_change_percent=MappingProxyType(infra_change),
        losses_factor_change_percent=MappingProxyType(losses_change),
        private_deal_discount_fraction=r.number(
            deal_node.get("discount_fraction"),
            "published.private_deal.discount_fraction",
            "a fraction (0.07 for 7 %)",
        ),
        private_deal=_frozen_rows(deal_rows, PrivateDealRow),
        system_management=_frozen_rows(sm_rows, SystemManagementRow),
        system_management_infrastructure_table=MappingProxyType(
            {
                level: r.text(
                    meta, "infrastructure_table", f"published.system_management.tables.{level}"
                )
                for level, meta in sm_meta.items()
            }
        ),
    )


def _infrastructure_changes(
    r: _Reader, infra: Mapping[str, object]
) -> tuple[dict[str, SeasonBandTable], dict[str, SeasonBandTable]]:
    """Published changes [%] of the infrastructure rates and losses factors per 7.x table."""
    infra_change: dict[str, SeasonBandTable] = {}
    losses_change: dict[str, SeasonBandTable] = {}
    for table_id in ("1-7.2", "3-7.4"):
        path = f"published.infrastructure_change_percent.{table_id}"
        block = r.mapping(infra.get(table_id), path)
        infra_change[table_id] = r.season_band(
            block.get("infrastructure"), f"{path}.infrastructure", "percent"
        )
        losses_change[table_id] = r.season_band(
            block.get("losses_factor"), f"{path}.losses_factor", "percent"
        )
    return infra_change, losses_change


_Row = TypeVar("_Row", PrivateDealRow, SystemManagementRow)


def _frozen_rows(
    rows_by_level: Mapping[VoltageLevel, Mapping[tuple[Season, Band], tuple[float, ...]]],
    cls: type[_Row],
) -> Mapping[VoltageLevel, Mapping[tuple[Season, Band], _Row]]:
    """Read-only ``level -> (season, band) -> row`` of the published rows as ``cls``."""
    return MappingProxyType(
        {
            level: MappingProxyType({k: cls(*v) for k, v in rows.items()})
            for level, rows in rows_by_level.items()
        }
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
            raise r.fail(
                level_path, f"is {level_name!r}", f"use one of {', '.join(VOLTAGE_LEVELS)}"
            )
        infra = r.mapping(
            r.child(table, "infrastructure_agorot_per_kwh", path),
            f"{path}.infrastructure_agorot_per_kwh",
        )
        losses = r.mapping(r.child(table, "losses_factor", path), f"{path}.losses_factor")
        unit = "agorot/kWh"
        out[str(table_id)] = InfrastructureTable(
            table_id=str(table_id),
            consumer_voltage_level=level_name,
            infrastructure_old_agorot_per_kwh=r.optional_season_band(
                r.child(infra, "old", f"{path}.infrastructure_agorot_per_kwh"),
                f"{path}.infrastructure_agorot_per_kwh.old",
                unit,
            ),
            infrastructure_new_agorot_per_kwh=r.optional_season_band(
                r.child(infra, "new", f"{path}.infrastructure_agorot_per_kwh"),
                f"{path}.infrastructure_agorot_per_kwh.new",
                unit,
            ),
            losses_factor_old=r.optional_season_band(
                r.child(losses, "old", f"{path}.losses_factor"),
                f"{path}.losses_factor.old",
                "a factor (1.0111 for 101.11 %)",
            ),
            losses_factor_new=r.optional_season_band(
                r.child(losses, "new", f"{path}.losses_factor"),
                f"{path}.losses_factor.new",
                "a factor (1.0111 for 101.11 %)",
            ),
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
        numbers.append(
            int(
                r.number(
                    decision.get("number"), f"source.decisions[{i}].number", "a decision number"
                )
            )
        )
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
    cost = r.mapping(
        r.child(gen, "recognised_cost_agorot_per_kwh", "generation"),
        "generation.recognised_cost_agorot_per_kwh",
    )
    tariff = r.mapping(
        r.child(gen, "weighted_tariff_agorot_per_kwh", "generation"),
        "generation.weighted_tariff_agorot_per_kwh",
    )
    unit = "agorot/kWh"
    cost_path = "generation.recognised_cost_agorot_per_kwh"
    tariff_path = "generation.weighted_tariff_agorot_per_kwh"
    return IsraelTables(
        source=_parse_source(r, r.child(root, "source", "")),
        tou_old_agorot_per_kwh=MappingProxyType(
            r.by_level(tou.get("old"), "tou_agorot_per_kwh.old", unit)
        ),
        tou_new_agorot_per_kwh=MappingProxyType(
            r.by_level(tou.get("new"), "tou_agorot_per_kwh.new", unit)
        ),
        generation_cost_old_agorot_per_kwh=r.season_band(cost.get("old"), f"{cost_path}.old", unit),
        generation_cost_new_agorot_per_kwh=r.season_band(cost.get("new"), f"{cost_path}.new", unit),
        generation_tariff_old_agorot_per_kwh=r.season_band(
            tariff.get("old"), f"{tariff_path}.old", unit
        ),
        generation_tariff_new_agorot_per_kwh=r.season_band(
            tariff.get("new"), f"{tariff_path}.new", unit
        ),
        infrastructure=MappingProxyType(
            _parse_infrastructure(r, r.child(root, "infrastructure", ""))
        ),
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
