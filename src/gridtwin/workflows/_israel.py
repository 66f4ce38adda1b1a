"""Every table of the Israeli tariff review of 1.2.2015 (seed 003) as a presented frame.

The command ``gridtwin tariffs revision --table NAME`` prints these. Voltage levels are
accepted the way ``gridtwin bill`` takes them (``LV``/``HV``/``EHV`` with a consumer group
``general``/``bulk``) as well as the table names (``LV_general``, ``HV_bulk``...). Values are
presented as the source prints them: two decimals, losses factors as percentages with two
decimals (105.16 %, the seed's precision).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import pandas as pd

from gridtwin.errors import InputError
from gridtwin.tariffs import il_analysis as il
from gridtwin.tariffs._il_recognised_costs import recognised_costs_frame

__all__ = ["ISRAEL_TABLES", "israel_level", "israel_table"]

#: The tables, in the order of the seed, with what each is.
ISRAEL_TABLES: Final[dict[str, str]] = {
    "revision": "table 1-5.2, TOU by voltage level: old (April 2014), new (1.2.2015), change",
    "generation": "tables 1-6.3.1 (recognised generation cost) and 1-6.3.2 (weighted tariff)",
    "infrastructure": "tables 7.x, network use and losses factors (1-7.2 EHV, 1-7.4 HV, 3-7.4 LV)",
    "system-management": "section 9, the system-management residual inside the TOU (LV, HV, EHV)",
    "private-deal": "section 10, TOU less a share of the recognised generation cost (HV, EHV)",
    "recognised-costs": "section II, costs recognised to IEC (million ILS, December 2013 prices)",
}

_GROUPS: Final[tuple[str, ...]] = ("general", "bulk")
_SHORT: Final[tuple[str, ...]] = ("LV", "HV", "EHV")


def israel_level(level: str, group: str | None = None) -> str:
    """The table name of a voltage level given as ``bill`` takes it (or as a table name).

    Parameters
    ----------
    level : str
        ``LV``, ``HV`` or ``EHV`` (any case), or a table name such as ``LV_general``.
    group : {"general", "bulk"}, optional
        Consumer group of LV and HV (``general`` when not given); not used at EHV.

    Returns
    -------
    str
        One of :data:`gridtwin.tariffs.il_analysis.VOLTAGE_LEVELS`.

    Raises
    ------
    InputError
        An unknown level or group, a group at EHV, or a group that contradicts the level.
    """
    text = level.strip()
    by_lower = {v.lower(): v for v in il.VOLTAGE_LEVELS}
    if group is not None and group not in _GROUPS:
        msg = f"--group {group!r}: use general or bulk (כלל צרכנות / מכירה מרוכזת)"
        raise InputError(msg)
    if text.lower() in by_lower and text.upper() != "EHV":
        name = by_lower[text.lower()]
        if group is not None and not name.endswith(group):
            msg = f"--level {level!r} and --group {group!r} contradict; give one of them"
            raise InputError(msg)
        return name
    short = text.upper()
    if short not in _SHORT:
        msg = (
            f"--level {level!r}: use LV, HV or EHV (with --group general or bulk), or one "
            f"of {', '.join(il.VOLTAGE_LEVELS)}"
        )
        raise InputError(msg)
    if short == "EHV":
        if group not in (None, "general"):
            msg = "--group: the EHV table has no consumer groups; leave --group out"
            raise InputError(msg)
        return "EHV"
    return f"{short}_{group or 'general'}"


def israel_table(
    table: str = "revision",
    level: str | None = None,
    group: str | None = None,
    discount_percent: float = 100 * il.DEFAULT_DISCOUNT_FRACTION,
) -> pd.DataFrame:
    """One table of the review, presented (two decimals; losses factors in percent).

    Parameters
    ----------
    table : str
        A key of :data:`ISRAEL_TABLES`.
    level : str, optional
        Voltage level (see :func:`israel_level`); every level the table has by default.
    group : {"general", "bulk"}, optional
        Consumer group at LV and HV.
    discount_percent : float
        Private deal only: the share of the recognised generation cost taken off the TOU
        [%]; 7 by default (the seed's assumption).

    Returns
    -------
    pandas.DataFrame
        A flat frame (no index), one row per cell of the printed table.

    Raises
    ------
    InputError
        An unknown table, level or group, a level the table does not have, or a discount
        outside 0-100 %.
    """
    if table not in ISRAEL_TABLES:
        msg = f"--table {table!r}: use one of {', '.join(ISRAEL_TABLES)}"
        raise InputError(msg)
    tables = il.load_tables_2015()
    name = israel_level(level, group) if level is not None else None
    if table == "recognised-costs":
        return recognised_costs_frame()
    if table == "revision":
        frame = _revision(tables, name)
    elif table == "generation":
        frame = _generation(tables)
    elif table == "infrastructure":
        frame = _per_level(tables, name, _infrastructure, "infrastructure")
    elif table == "system-management":
        frame = _per_level(tables, name, _system_management, "system-management")
    else:
        if not 0.0 <= discount_percent <= 100.0:
            msg = f"--discount-percent {discount_percent}: give a share between 0 and 100"
            raise InputError(msg)
        levels = [name] if name else ["HV_general", "EHV"]
        frame = pd.concat(
            [il.private_deal_table(tables, v, discount_percent / 100.0) for v in levels],
            keys=levels,
            names=["voltage_level"],
        )
    return il.present(frame).reset_index()


def _revision(tables: il.IsraelTables, name: str | None) -> pd.DataFrame:
    frame = il.revision_table(tables.tou_old_agorot_per_kwh, tables.tou_new_agorot_per_kwh)
    if name is not None:
        frame = pd.DataFrame(frame.xs(name, level="voltage_level", drop_level=False))
    return frame


def _generation(tables: il.IsraelTables) -> pd.DataFrame:
    cost = il.season_band_revision(
        tables.generation_cost_old_agorot_per_kwh, tables.generation_cost_new_agorot_per_kwh
    )
    tariff = il.season_band_revision(
        tables.generation_tariff_old_agorot_per_kwh, tables.generation_tariff_new_agorot_per_kwh
    )
    out = pd.DataFrame(index=cost.index)
    for prefix, part in (("recognised_cost", cost), ("weighted_tariff", tariff)):
        out[f"{prefix}_old_agorot_per_kwh"] = part["old_agorot_per_kwh"]
        out[f"{prefix}_new_agorot_per_kwh"] = part["new_agorot_per_kwh"]
        out[f"{prefix}_change_percent"] = part["change_percent"]
    return out


_SECTION_9_LEVELS: Final[tuple[str, ...]] = ("LV_general", "HV_general", "EHV")


def _per_level(
    tables: il.IsraelTables,
    name: str | None,
    build: Callable[[il.IsraelTables, str], pd.DataFrame],
    table: str,
) -> pd.DataFrame:
    if name is not None and name not in _SECTION_9_LEVELS:
        msg = (
            f"--level {name}: the review prints the {table} table for LV, HV and EHV "
            "(consumer group general) only; give --level LV, HV or EHV"
        )
        raise InputError(msg)
    levels = [name] if name else list(_SECTION_9_LEVELS)
    return pd.concat([build(tables, v) for v in levels], keys=levels, names=["voltage_level"])


def _infrastructure(tables: il.IsraelTables, level: str) -> pd.DataFrame:
    """A 7.x table: rates and losses factors (percent); NaN where the source prints none."""
    t = tables.infrastructure_for(level)
    rows = []
    for season, band, _ in tables.tou_new_agorot_per_kwh[t.consumer_voltage_level].cells():
        old_i = _cell(t.infrastructure_old_agorot_per_kwh, season, band)
        new_i = _cell(t.infrastructure_new_agorot_per_kwh, season, band)
        old_l = 100.0 * _cell(t.losses_factor_old, season, band)
        new_l = 100.0 * _cell(t.losses_factor_new, season, band)
        rows.append(
            {
                "table_id": t.table_id,
                "infrastructure_old_agorot_per_kwh": old_i,
                "infrastructure_new_agorot_per_kwh": new_i,
                "infrastructure_change_percent": (new_i / old_i - 1.0) * 100.0,
                "losses_factor_old_percent": old_l,
                "losses_factor_new_percent": new_l,
                "losses_factor_change_percent": (new_l / old_l - 1.0) * 100.0,
            }
        )
    return pd.DataFrame(rows, index=_index())


def _cell(table: il.SeasonBandTable | None, season: str, band: str) -> float:
    """A cell of a table, NaN for a table that the source does not print."""
    return float("nan") if table is None else table.value(season, band)


def _system_management(tables: il.IsraelTables, level: str) -> pd.DataFrame:
    """Section 9 of one level; HV with its implied 1-7.4 rates (flagged)."""
    override = None
    if tables.infrastructure_for(level).infrastructure_new_agorot_per_kwh is None:
        override = il.implied_infrastructure_rates(tables, level)
    frame = il.system_management_table(tables, level, infrastructure_agorot_per_kwh=override)
    frame["losses_factor"] = frame["losses_factor"] * 100.0
    return frame.rename(columns={"losses_factor": "losses_factor_percent"})


def _index() -> pd.MultiIndex:
    return pd.MultiIndex.from_tuples(
        [(s, b) for s in il.SEASONS for b in il.BANDS], names=["season", "band"]
    )
