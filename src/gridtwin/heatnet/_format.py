"""Shared text of the report's outputs: the assumptions note and number formatting."""

from __future__ import annotations

import math
from collections.abc import Sequence

ASSUMPTION_NOTE = (
    "kWh values rest on the pump and motor efficiencies of the input file; where "
    "those are assumed, the results are reference values under those assumptions."
)


def _effs(values: Sequence[float]) -> str:
    """Distinct efficiencies [fraction] joined by ``/``, e.g. ``0.820/0.815``."""
    if not values:
        return ""
    uniq = dict.fromkeys(round(v, 4) for v in values)
    return "/".join(f"{v:.3f}" for v in uniq)


def _num(value: float | None, digits: int = 1) -> str:
    """A number with thousands separators, ``—`` for None or non-finite."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"
