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

from gridtwin.errors import InputError
from gridtwin.tariffs import Tariff, builtin_tariff_ids, get_tariff

__all__ = ["Israel2015Table", "israel_2015_table", "load_tariff", "tariff_catalogue"]

Israel2015Table = Literal["revision", "private-deal", "system-management"]


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


def israel_2015_table(table: str = "revision", level: str | None = None) -> pd.DataFrame:
    """A table of the Israeli tariff analysis of 1.2.2015, as published (two decimals).

    Parameters
    ----------
    table : {"revision", "private-deal", "system-management"}
        The TOU revision (old and new prices), the private-deal price, or the
        system-management residual.
    level : str, optional
        Voltage level, e.g. ``"LV_general"`` (the revision: all levels by default; the
        others: ``HV_general`` and ``LV_general`` by default).

    Raises
    ------
    InputError
        An unknown table or level.
    """
    from gridtwin.tariffs import il_analysis as il

    tables = il.load_tables_2015()
    if table == "revision":
        frame = il.revision_table(tables.tou_old_agorot_per_kwh, tables.tou_new_agorot_per_kwh)
        if level:
            levels = list(dict.fromkeys(frame.index.get_level_values("voltage_level")))
            if level not in levels:
                msg = f"voltage level {level!r}: use one of {', '.join(levels)}"
                raise InputError(msg)
            frame = pd.DataFrame(frame.xs(level, level="voltage_level", drop_level=False))
    elif table == "private-deal":
        frame = il.private_deal_table(tables, level or "HV_general")
    elif table == "system-management":
        frame = il.system_management_table(tables, level or "LV_general")
    else:
        msg = f"table {table!r}: use revision, private-deal or system-management"
        raise InputError(msg)
    return il.present(frame).reset_index()
