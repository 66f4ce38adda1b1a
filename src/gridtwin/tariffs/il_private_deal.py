"""The Israeli private-supply deal (עסקה פרטית) as a tariff that bills interval data.

A consumer buying from an independent producer pays, per the seed's section 10, the IEC
time-of-use rate (table 1-5.2) less a share of the recognised IEC generation cost
(table 1-6.3.1), 7 % by default::

    deal price = TOU - discount_fraction x recognised generation cost   [agorot/kWh]

:func:`private_deal_mapping` builds that tariff from the built-in ``il-tou-2015``: every
version keeps its TOU line and gets a discount line per voltage level (the recognised cost of
the same state: April 2014 costs for the old version, 1.2.2015 costs for the new), so a bill
shows the TOU and the discount separately. The built-in ``il-private-deal-2015`` is this
mapping at 7 %, written once to ``data/il/il_private_deal_2015.yaml``.

References
----------
.. [1] PUA decision 930 of meeting 452 (21.1.2015), tables 1-5.2 and 1-6.3.1, as printed in
   the Erdinast, Ben Nathan & Co. review of 28.1.2015 (gridtwin seed 003), section 10.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Final

from gridtwin._datafile import read_data_file
from gridtwin.errors import InputError, TariffSchemaError
from gridtwin.tariffs._il_tables import (
    BANDS,
    DEFAULT_DISCOUNT_FRACTION,
    SEASONS,
    load_tables_2015,
)
from gridtwin.tariffs._loader import Tariff, _builtin_index, tariff_from_dict

__all__ = ["DEAL_TARIFF_ID", "private_deal_mapping", "private_deal_tariff"]

#: Id of the built-in deal tariff (7 % of the recognised generation cost).
DEAL_TARIFF_ID: Final[str] = "il-private-deal-2015"

_LEVEL_OF_COMPONENT: Final[dict[str, str]] = {
    "tou_EHV": "EHV",
    "tou_HV_bulk": "HV_bulk",
    "tou_HV_general": "HV_general",
    "tou_LV_bulk": "LV_bulk",
    "tou_LV_general": "LV_general",
}


def _check_fraction(discount_fraction: float) -> float:
    if (
        isinstance(discount_fraction, bool)
        or not isinstance(discount_fraction, int | float)
        or not math.isfinite(discount_fraction)
        or not 0.0 <= discount_fraction <= 1.0
    ):
        msg = (
            f"discount_fraction {discount_fraction!r}: give the share of the recognised "
            "generation cost as a fraction between 0 and 1 (0.07 for 7 %; on the command "
            "line --discount-percent 7)"
        )
        raise InputError(msg)
    return float(discount_fraction)


def _tou_mapping() -> dict[str, Any]:
    index = _builtin_index()
    if "il-tou-2015" not in index:
        msg = "the built-in tariff il-tou-2015 is missing; reinstall gridtwin"
        raise TariffSchemaError(msg)
    return read_data_file(Path(index["il-tou-2015"]), TariffSchemaError)


def private_deal_mapping(discount_fraction: float = DEFAULT_DISCOUNT_FRACTION) -> dict[str, Any]:
    """The deal tariff as a tariff mapping (the tariff file's content).

    Parameters
    ----------
    discount_fraction : float
        Share of the recognised generation cost taken off the TOU [-], in [0, 1];
        default 0.07 (the seed's assumption).

    Returns
    -------
    dict
        A ``gridtwin.tariff/1`` mapping with id ``il-private-deal-2015`` at 7 % or
        ``il-private-deal-2015-<percent>pct`` otherwise.

    Raises
    ------
    InputError
        The fraction is not a number in [0, 1].
    """
    fraction = _check_fraction(discount_fraction)
    percent = 100.0 * fraction
    tables = load_tables_2015()
    cost_by_state = {
        "2014-04-01": tables.generation_cost_old_agorot_per_kwh,
        "2015-02-01": tables.generation_cost_new_agorot_per_kwh,
    }
    out = copy.deepcopy(_tou_mapping())
    default = math.isclose(fraction, DEFAULT_DISCOUNT_FRACTION, rel_tol=0, abs_tol=1e-12)
    out["id"] = DEAL_TARIFF_ID if default else f"{DEAL_TARIFF_ID}-{percent:g}pct"
    out["name"] = (
        f"Israel: private supply deal, IEC TOU less {percent:g} % of the recognised "
        "generation cost (seed 003, section 10)"
    )
    out["description"] = (
        "A purchase from an independent producer priced at the IEC time-of-use rate of table "
        f"1-5.2 less {percent:g} % of the recognised IEC generation cost of table 1-6.3.1 "
        "(not the weighted generation tariff 1-6.3.2), as in section 10 of the review of "
        "28.1.2015. Each bill shows the TOU line and the discount line. Energy only; VAT "
        "from the il-vat set."
    )
    for version in out["versions"]:
        cost = cost_by_state[str(version["valid_from"])]
        components = []
        for comp in version["components"]:
            components.append(comp)
            level = _LEVEL_OF_COMPONENT.get(str(comp["id"]))
            if level is None:
                continue
            components.append(
                {
                    "id": f"deal_discount_{level}",
                    "kind": "energy",
                    "section": "energy",
                    "label": f"הנחה בעסקה פרטית ({percent:g}% מעלות הייצור המוכרת)",
                    "explanation": (
                        f"Private-deal discount: {percent:g} % of the recognised IEC "
                        "generation cost of table 1-6.3.1 in each season and band, taken off "
                        "the TOU rate (agorot/kWh, VAT excluded)."
                    ),
                    "unit": "agorot/kWh",
                    "schedule": "tou",
                    "applies_if": copy.deepcopy(comp["applies_if"]),
                    "rates": {
                        season: {
                            band: round(-fraction * cost.value(season, band), 10) for band in BANDS
                        }
                        for season in SEASONS
                    },
                }
            )
        version["components"] = components
    return out


def private_deal_tariff(discount_fraction: float = DEFAULT_DISCOUNT_FRACTION) -> Tariff:
    """The deal tariff, loaded and validated (see :func:`private_deal_mapping`).

    Examples
    --------
    >>> t = private_deal_tariff(0.07)
    >>> t.id
    'il-private-deal-2015'
    """
    mapping = private_deal_mapping(discount_fraction)
    return tariff_from_dict(mapping, f"<{mapping['id']}>")
