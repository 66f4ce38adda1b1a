"""Tariff library workflows: the catalogue of built-in tariffs and the Israeli analysis.

* :func:`tariff_catalogue`: one row per built-in tariff (or component set) with its kind,
  jurisdiction, currency, validity, name and whether its values are provisional;
* :func:`load_tariff`: a built-in tariff by id, or a tariff file;
* :func:`israel_2015_table`: one of the tables of the Israeli tariff analysis of 1.2.2015
  (seed 003), presented to the published two decimals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from gridtwin.tariffs import Tariff, builtin_tariff_ids, get_tariff

__all__ = ["Israel2015Table", "israel_2015_table", "load_tariff", "tariff_catalogue"]

Israel2015Table = Literal[
    "revision",
    "generation",
    "infrastructure",
    "system-management",
    "private-deal",
    "recognised-costs",
]


def load_tariff(tariff: str | Path) -> Tariff:
    """A built-in tariff by id, or a tariff file (YAML/TOML)."""
    return get_tariff(str(tariff))


def tariff_catalogue(include_sets: bool = False) -> pd.DataFrame:
    """The built-in tariffs (and component sets): ``id, kind, jurisdiction, currency,
    valid_from, valid_to, name, provisional``."""
    rows = []
    for tid in builtin_tariff_ids(include_sets=include_sets):
        t = get_tariff(tid)
        start, end = t.validity()
        rows.append(
            {
                "id": tid,
                "kind": t.doc.kind,
                "jurisdiction": t.doc.jurisdiction,
                "currency": t.currency,
                "valid_from": str(start),
                "valid_to": str(end or "open"),
                "name": t.doc.name,
                "provisional": "yes" if t.doc.provisional else "",
            }
        )
    return pd.DataFrame(rows)


def israel_2015_table(
    table: str = "revision",
    level: str | None = None,
    group: str | None = None,
    discount_percent: float = 7.0,
) -> pd.DataFrame:
    """A table of the Israeli tariff analysis of 1.2.2015, as published (two decimals).

    Parameters
    ----------
    table : str
        ``revision`` (1-5.2), ``generation`` (6.3.x), ``infrastructure`` (7.x),
        ``system-management`` (section 9), ``private-deal`` (section 10) or
        ``recognised-costs`` (section II).
    level : str, optional
        Voltage level as ``bill`` takes it (``LV``, ``HV``, ``EHV``) or a table name
        (``LV_general``); every level the table has by default.
    group : {"general", "bulk"}, optional
        Consumer group at LV and HV.
    discount_percent : float
        Private deal: share of the recognised generation cost taken off the TOU [%].

    Raises
    ------
    InputError
        An unknown table or level.
    """
    from gridtwin.workflows._israel import israel_table

    return israel_table(table, level, group, discount_percent)
