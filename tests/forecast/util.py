"""Synthetic load series with a known daily and weekly shape (for fast forecast tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def load_series(
    start: str = "2024-01-01",
    days: int = 70,
    *,
    tz: str = "Europe/Berlin",
    step: str = "15min",
    seed: int = 0,
    noise: float = 0.05,
) -> pd.Series:
    """A load [kW] with morning and evening peaks, lower weekends and multiplicative noise,
    indexed by UTC interval starts covering ``days`` local days from ``start``."""
    begin = pd.Timestamp(start, tz=tz)
    end = begin + pd.DateOffset(days=days)
    index = pd.date_range(
        begin.tz_convert("UTC"), end.tz_convert("UTC"), freq=step, inclusive="left"
    )
    local = index.tz_convert(tz)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60
    weekend = local.dayofweek.to_numpy() >= 5
    shape = (
        1.0 + 0.8 * np.exp(-(((hour - 8) / 1.5) ** 2)) + 1.2 * np.exp(-(((hour - 19) / 2.0) ** 2))
    )
    level = np.where(weekend, 0.7, 1.0) * (1 + 0.1 * np.sin(np.arange(len(index)) / len(index) * 3))
    rng = np.random.default_rng(seed)
    values = 10 * shape * level * np.exp(noise * rng.standard_normal(len(index)))
    return pd.Series(values, index=index, name="load_kw")
