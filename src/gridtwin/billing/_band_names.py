"""Band and season names in the language of a bill (``--lang``).

A tariff names its bands with codes (``off_peak``, ``winter/peak``); a printed bill shows
them in its language: Hebrew on an Israeli bill (שפל / גבע / פסגה), English on request.
Codes without a name in the language are shown as they are.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final

from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.billing._bill import Bill

__all__ = ["BILL_LANGUAGES", "band_name", "check_language", "in_language"]

#: Languages a bill can be presented in (``--lang``); the default is the tariff's own.
BILL_LANGUAGES: Final[tuple[str, ...]] = ("it", "en", "he")

_NAMES: Final[dict[str, dict[str, str]]] = {
    "he": {
        "off_peak": "שפל",
        "shoulder": "גבע",
        "peak": "פסגה",
        "winter": "חורף",
        "transition": "מעבר",
        "summer": "קיץ",
    },
    "en": {
        "off_peak": "off-peak",
        "shoulder": "shoulder",
        "peak": "peak",
        "winter": "winter",
        "transition": "transition",
        "summer": "summer",
    },
}


def band_name(band: str | None, language: str) -> str:
    """The printed name of a band code (``season/band`` codes name both parts).

    Examples
    --------
    >>> band_name("winter/off_peak", "he")
    'חורף / שפל'
    >>> band_name("peak", "en")
    'peak'
    >>> band_name("F1", "he")
    'F1'
    """
    if not band:
        return ""
    names = _NAMES.get(language, {})
    return " / ".join(names.get(part, part) for part in band.split("/"))


def check_language(lang: str | None) -> str | None:
    """``lang`` if it is one of :data:`BILL_LANGUAGES` (or None), else an InputError."""
    if lang is not None and lang not in BILL_LANGUAGES:
        msg = f"--lang {lang!r}: use one of {', '.join(BILL_LANGUAGES)} (default: the tariff's)"
        raise InputError(msg)
    return lang


def in_language(bill: Bill, lang: str | None) -> Bill:
    """The bill presented in ``lang`` (None: the tariff's own language)."""
    if check_language(lang) is None:
        return bill
    return dataclasses.replace(bill, language=str(lang))
