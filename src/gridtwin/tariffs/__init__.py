"""Declarative tariffs: schema, loader, built-in library, URDB import and analysis."""

from gridtwin.tariffs._loader import (
    Tariff,
    builtin_tariff_ids,
    get_tariff,
    load_tariff,
    tariff_from_dict,
)
from gridtwin.tariffs._schema import TariffDocument

__all__ = [
    "Tariff",
    "TariffDocument",
    "builtin_tariff_ids",
    "get_tariff",
    "load_tariff",
    "tariff_from_dict",
]
