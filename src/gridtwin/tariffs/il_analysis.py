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
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal, cast

import pandas as pd

from gridtwin.errors import InputError, TariffError
from gridtwin.tariffs._il_tables import (  # noqa: F401 (re-exported for callers and tests)
    BANDS,
    DEFAULT_DISCOUNT_FRACTION,
    NOT_PRINTED,
    SEASONS,
    TABLES_2015_RESOURCE,
    VOLTAGE_LEVELS,
    Band,
    InfrastructureTable,
    IsraelTables,
    PrivateDealRow,
    PrivateDealTable,
    PublishedTables,
    Season,
    SeasonBandTable,
    SourceCitation,
    SystemManagementRow,
    SystemManagementTable,
    VoltageLevel,
    _check_choice,
    _check_finite,
    _load_tables_from_path,
    load_tables_2015,
)

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
    "implied_infrastructure_rates",
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
            out[column] = [
                round_half_up(float(v), decimals) if math.isfinite(v) else float(v)
                for v in out[column]
            ]
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
    [(s, b) for s in SEASONS for b in BANDS], names=["season", "band"]
)


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
    rows = [
        (o, n, n - o, _change_percent(o, n, f"cell {s}/{b}"))
        for (s, b, o), (_, _, n) in zip(old.cells(), new.cells(), strict=True)
    ]
    return pd.DataFrame(
        rows,
        index=_SEASON_BAND_INDEX.copy(),
        columns=[
            "old_agorot_per_kwh",
            "new_agorot_per_kwh",
            "change_agorot_per_kwh",
            "change_percent",
        ],
    )


def revision_table(
    old: Mapping[VoltageLevel, SeasonBandTable] | Mapping[str, SeasonBandTable],
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
        msg = (
            f"old and new tables cover different voltage levels: old {sorted(old)}, "
            f"new {sorted(new)}; pass the same levels in both"
        )
        raise InputError(msg)
    old_by_level: Mapping[str, SeasonBandTable] = cast(Mapping[str, SeasonBandTable], old)
    new_by_level: Mapping[str, SeasonBandTable] = cast(Mapping[str, SeasonBandTable], new)
    levels = [v for v in VOLTAGE_LEVELS if v in old_by_level]
    frames = [season_band_revision(old_by_level[v], new_by_level[v]) for v in levels]
    out = pd.concat(frames, keys=levels, names=["voltage_level"])
    return out


def private_deal_price(
    tou_agorot_per_kwh: float,
    generation_cost_agorot_per_kwh: float,
    discount_fraction: float = DEFAULT_DISCOUNT_FRACTION,
) -> float:
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


def private_deal_table(
    tables: IsraelTables,
    voltage_level: str,
    discount_fraction: float = DEFAULT_DISCOUNT_FRACTION,
    generation_cost_basis: Literal["recognised_cost", "weighted_tariff"] = "recognised_cost",
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
    basis = _check_choice(
        generation_cost_basis, ("recognised_cost", "weighted_tariff"), "generation cost basis"
    )
    cost = {
        "old": tables.generation_cost_old_agorot_per_kwh,
        "new": tables.generation_cost_new_agorot_per_kwh,
    }
    if basis == "weighted_tariff":
        cost = {
            "old": tables.generation_tariff_old_agorot_per_kwh,
            "new": tables.generation_tariff_new_agorot_per_kwh,
        }
    tou = {"old": tables.tou_old_agorot_per_kwh[level], "new": tables.tou_new_agorot_per_kwh[level]}
    records = [
        _private_deal_record(tou, cost, season, band, discount_fraction)
        for season, band, _ in tou["new"].cells()
    ]
    return pd.DataFrame(records, index=_SEASON_BAND_INDEX.copy())


def _private_deal_record(
    tou: dict[str, SeasonBandTable],
    cost: dict[str, SeasonBandTable],
    season: Season,
    band: Band,
    discount_fraction: float,
) -> dict[str, float]:
    """One (season, band) row of :func:`private_deal_table`: new, old and the change."""
    rec: dict[str, float] = {}
    for state in ("new", "old"):
        t = tou[state].value(season, band)
        c = cost[state].value(season, band)
        rec[f"{state}_tou_agorot_per_kwh"] = t
        rec[f"{state}_generation_cost_agorot_per_kwh"] = c
        rec[f"{state}_discount_agorot_per_kwh"] = t - private_deal_price(t, c, discount_fraction)
        rec[f"{state}_total_agorot_per_kwh"] = private_deal_price(t, c, discount_fraction)
    for part in ("total", "discount"):
        o, n = rec[f"old_{part}_agorot_per_kwh"], rec[f"new_{part}_agorot_per_kwh"]
        rec[f"change_{part}_agorot_per_kwh"] = n - o
        rec[f"change_{part}_percent"] = _change_percent(o, n, f"{part} {season}/{band}")
    return rec


def system_management_residual(
    tou_agorot_per_kwh: float,
    infrastructure_agorot_per_kwh: float,
    losses_factor: float,
    generation_tariff_agorot_per_kwh: float,
) -> float:
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


def implied_infrastructure(
    computed_total_agorot_per_kwh: float,
    losses_factor: float,
    generation_tariff_agorot_per_kwh: float,
) -> float:
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


def implied_infrastructure_table(
    tables: IsraelTables, voltage_level: str = "HV_general"
) -> pd.DataFrame:
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
        records.append(
            {
                "published_computed_total_agorot_per_kwh": row.computed_total_agorot_per_kwh,
                "losses_factor": row.losses_factor,
                "generation_tariff_agorot_per_kwh": row.generation_tariff_agorot_per_kwh,
                "implied_infrastructure_agorot_per_kwh": implied_infrastructure(
                    row.computed_total_agorot_per_kwh,
                    row.losses_factor,
                    row.generation_tariff_agorot_per_kwh,
                ),
            }
        )
    return pd.DataFrame(records, index=_SEASON_BAND_INDEX.copy())


def implied_infrastructure_rates(
    tables: IsraelTables, voltage_level: str = "HV_general", decimals: int | None = 2
) -> SeasonBandTable:
    """IMPLIED infrastructure rates of a level as a table to pass to
    :func:`system_management_table`.

    Parameters
    ----------
    tables : IsraelTables
        From :func:`load_tables_2015`.
    voltage_level : str
        A level with a published section-9 table (``HV_general`` is the one that needs it).
    decimals : int or None
        Round the implied rates half-up to this many decimals, the precision at which the
        7.x tables are printed (2: then every published HV residual and total of section 9
        is reproduced); None keeps them unrounded.

    Returns
    -------
    SeasonBandTable
        Implied rates [agorot/kWh]; derived, not published.

    Examples
    --------
    >>> t = load_tables_2015()
    >>> implied_infrastructure_rates(t, "HV_general").value("winter", "off_peak")
    6.81
    """
    col = implied_infrastructure_table(tables, voltage_level)[
        "implied_infrastructure_agorot_per_kwh"
    ]
    values = {
        (s, b): float(col[(s, b)])
        if decimals is None
        else round_half_up(float(col[(s, b)]), decimals)
        for s in SEASONS
        for b in BANDS
    }
    return SeasonBandTable(values)


def system_management_table(
    tables: IsraelTables,
    voltage_level: str,
    infrastructure_agorot_per_kwh: SeasonBandTable | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The seed's system-management table (section 9) for one voltage level, new tables.

    Parameters
    ----------
    tables : IsraelTables
        From :func:`load_tables_2015`.
    voltage_level : str
        ``EHV`` (table 1-7.2), ``HV_general`` (1-7.4) or ``LV_general`` (3-7.4).
    infrastructure_agorot_per_kwh : SeasonBandTable or pandas.DataFrame, optional
        Infrastructure rates to use instead of the 7.x table [agorot/kWh]. Required for
        ``HV_general``, whose 1-7.4 rates the source does not print; pass implied values
        (:func:`implied_infrastructure_rates`, or the frame of
        :func:`implied_infrastructure_table`). Any rates passed here are treated as not
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
    override = _as_season_band(infrastructure_agorot_per_kwh)
    infra, losses = _new_infrastructure_and_losses(infra_table, override)
    records = []
    for season, band, tou in tables.tou_new_agorot_per_kwh[level].cells():
        gen = tables.generation_tariff_new_agorot_per_kwh.value(season, band)
        i, f = infra.value(season, band), losses.value(season, band)
        records.append(
            {
                "tou_agorot_per_kwh": tou,
                "infrastructure_agorot_per_kwh": i,
                "losses_factor": f,
                "generation_tariff_agorot_per_kwh": gen,
                "computed_total_agorot_per_kwh": i + f * gen,
                "residual_agorot_per_kwh": system_management_residual(tou, i, f, gen),
                "infrastructure_is_implied": infrastructure_agorot_per_kwh is not None,
            }
        )
    return pd.DataFrame(records, index=_SEASON_BAND_INDEX.copy())


def _as_season_band(rates: SeasonBandTable | pd.DataFrame | None) -> SeasonBandTable | None:
    """Rates given as a table, or as the frame of :func:`implied_infrastructure_table`."""
    if rates is None or isinstance(rates, SeasonBandTable):
        return rates
    column = "implied_infrastructure_agorot_per_kwh"
    if isinstance(rates, pd.DataFrame) and column in rates.columns:
        col = rates[column]
        return SeasonBandTable({(s, b): float(col[(s, b)]) for s in SEASONS for b in BANDS})
    msg = (
        f"infrastructure_agorot_per_kwh is a {type(rates).__name__}; give a SeasonBandTable "
        "(e.g. implied_infrastructure_rates(tables, 'HV_general')) or the frame of "
        "implied_infrastructure_table"
    )
    raise InputError(msg)


def _new_infrastructure_and_losses(
    infra_table: InfrastructureTable, override: SeasonBandTable | None
) -> tuple[SeasonBandTable, SeasonBandTable]:
    """The new infrastructure rates (or ``override``) and losses factors of a 7.x table."""
    level = infra_table.consumer_voltage_level
    losses = infra_table.losses_factor_new
    infra = infra_table.infrastructure_new_agorot_per_kwh if override is None else override
    if losses is None or infra is None:
        missing = "losses factors" if losses is None else "infrastructure rates"
        msg = (
            f"the source does not print the new {missing} of table {infra_table.table_id} "
            f"({level}); pass infrastructure_agorot_per_kwh explicitly, e.g. the implied "
            f"values of gridtwin.tariffs.il_analysis.implied_infrastructure_rates(tables, "
            f"{level!r}) (on the command line: gridtwin tariffs revision --table "
            "system-management --level HV uses them, flagged as implied)"
        )
        raise TariffError(msg)
    return infra, losses
