"""The table of costs recognised to IEC in the 2014 annual update (seed 003, section II).

Read from ``data/il/recognised_costs_2014.yaml``; a malformed file is a
:class:`~gridtwin.errors.TariffSchemaError` naming the row and the field.
"""

from __future__ import annotations

import math
from importlib import resources

import pandas as pd
import yaml

from gridtwin.errors import TariffSchemaError

__all__ = ["RECOGNISED_COSTS_RESOURCE", "recognised_costs_frame"]

RECOGNISED_COSTS_RESOURCE = "gridtwin/tariffs/data/il/recognised_costs_2014.yaml"
_FIELDS = ("id", "label_he", "label_en", "cost_million_ils", "note_en")


def recognised_costs_frame() -> pd.DataFrame:
    """The section-II table: one row per cost item, in the order printed.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``label_he``, ``label_en``, ``cost_million_ils`` (million ILS at
        December 2013 prices, as printed) and ``note_en``.

    Raises
    ------
    TariffSchemaError
        The packaged file is missing a field or a cost is not a finite number.
    """
    text = resources.files("gridtwin.tariffs").joinpath("data", "il", "recognised_costs_2014.yaml")
    raw = yaml.safe_load(text.read_text(encoding="utf-8"))
    rows = raw.get("rows") if isinstance(raw, dict) else None
    if not isinstance(rows, list) or not rows:
        msg = f"{RECOGNISED_COSTS_RESOURCE}: field 'rows' is missing; list the cost items"
        raise TariffSchemaError(msg)
    out = []
    for i, row in enumerate(rows):
        missing = [f for f in _FIELDS if not isinstance(row, dict) or row.get(f) is None]
        if missing:
            msg = f"{RECOGNISED_COSTS_RESOURCE}: rows[{i}] lacks {missing}; add them"
            raise TariffSchemaError(msg)
        cost = row["cost_million_ils"]
        if isinstance(cost, bool) or not isinstance(cost, int | float) or not math.isfinite(cost):
            msg = (
                f"{RECOGNISED_COSTS_RESOURCE}: rows[{i}].cost_million_ils is {cost!r}; "
                "write a number of million ILS"
            )
            raise TariffSchemaError(msg)
        out.append(
            {f: (float(row[f]) if f == "cost_million_ils" else str(row[f])) for f in _FIELDS}
        )
    return pd.DataFrame(out, columns=list(_FIELDS))
