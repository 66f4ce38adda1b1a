"""Declarative tariffs: schema, loader, built-in library, URDB import and analysis."""

from gridtwin.tariffs._loader import (
    Tariff,
    builtin_tariff_ids,
    get_tariff,
    load_tariff,
    tariff_from_dict,
)
from gridtwin.tariffs._schema import TariffDocument
from gridtwin.tariffs._urdb import UrdbImport, load_urdb, tariff_from_urdb, urdb_to_mapping

__all__ = [
    "Tariff",
    "TariffDocument",
    "UrdbImport",
    "builtin_tariff_ids",
    "get_tariff",
    "load_tariff",
    "load_urdb",
    "tariff_from_dict",
    "tariff_from_urdb",
    "urdb_to_mapping",
]
