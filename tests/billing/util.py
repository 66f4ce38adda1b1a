"""Small builders shared by the billing tests."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.tariffs import Tariff, tariff_from_dict
from gridtwin.timeseries import IntervalData

CALENDAR: dict[str, Any] = {
    "id": "test-cal",
    "name": "test",
    "timezone": "Europe/Bratislava",
    "source": "test",
    "day_types": {"weekday": ["mon", "tue", "wed", "thu", "fri"], "weekend": ["sat", "sun"]},
    "schedules": {
        "vtnt": {
            "bands": ["VT", "NT"],
            "default": "VT",
            "rules": [{"day_types": ["weekday", "weekend"], "bands": {"NT": ["22:00-06:00"]}}],
        }
    },
}


def tariff(
    components: list[dict[str, Any]],
    taxes: list[dict[str, Any]] | None = None,
    versions: list[dict[str, Any]] | None = None,
    **top: Any,
) -> Tariff:
    """A EUR tariff in Europe/Bratislava with the given components (one open version)."""
    doc: dict[str, Any] = {
        "schema": "gridtwin.tariff/1",
        "id": "test",
        "name": "Test tariff",
        "jurisdiction": "XX",
        "currency": "EUR",
        "source": {"title": "unit test"},
        "calendar": copy.deepcopy(CALENDAR),
        "versions": versions
        or [{"valid_from": "2000-01-01", "components": components, "taxes": taxes or []}],
    }
    doc.update(top)
    return tariff_from_dict(doc, "test.yaml")


def comp(cid: str, kind: str, section: str = "energy", **fields: Any) -> dict[str, Any]:
    """A component mapping."""
    return {"id": cid, "kind": kind, "section": section, "label": cid, **fields}


def flat_data(
    start: str,
    end: str,
    kwh_per_step: float | np.ndarray = 0.25,
    n_meters: int = 1,
    tz: str = "Europe/Bratislava",
    step: str = "15min",
) -> IntervalData:
    """Constant consumption between two local dates (per meter a row)."""
    s = pd.Timestamp(start).tz_localize(tz).tz_convert("UTC")
    e = pd.Timestamp(end).tz_localize(tz).tz_convert("UTC")
    idx = pd.date_range(s, e, freq=step, inclusive="left")
    values = np.broadcast_to(
        np.asarray(kwh_per_step, dtype=float).reshape(-1, 1), (n_meters, len(idx))
    ).copy()
    return IntervalData(idx, values, tuple(f"m{i}" for i in range(n_meters)))
