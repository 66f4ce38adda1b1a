"""Synthetic but realistic household load profiles for demos, tests and benchmarks.

The shape has a night base, a morning and an evening peak, a weekend shift and a winter
rise; log-normal noise makes every meter different. Profiles are deterministic per seed.
They are not measured data: demos and tests that need a known answer compute it from the
profile itself.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.timeseries import IntervalData

__all__ = ["household_profiles"]


def household_profiles(
    start: str,
    end: str,
    *,
    tz: str,
    n_meters: int = 1,
    annual_kwh: float | npt.ArrayLike = 2700.0,
    step: str = "15min",
    seed: int = 0,
) -> IntervalData:
    """Interval energy [kWh] of ``n_meters`` households between two local dates.

    Parameters
    ----------
    start, end : str
        Local dates ``YYYY-MM-DD`` (end exclusive), read in ``tz`` (DST handled).
    tz : str
        IANA time zone of the households.
    n_meters : int
        Number of profiles.
    annual_kwh : float or array
        Target consumption per year [kWh/yr] (one value or one per meter); the profile is
        scaled so that 365 days would consume this much on average.
    step : str
        Interval length.
    seed : int
        Random seed; meter ``i`` is reproducible from ``(seed, i)``.
    """
    first = pd.Timestamp(start).tz_localize(tz).tz_convert("UTC")
    last = pd.Timestamp(end).tz_localize(tz).tz_convert("UTC")
    idx = pd.date_range(first, last, freq=pd.Timedelta(step), inclusive="left")
    local = idx.tz_convert(tz)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
    weekend = local.dayofweek.to_numpy() >= 5
    doy = local.dayofyear.to_numpy()
    morning = np.exp(-((hour - np.where(weekend, 9.5, 7.5)) ** 2) / 3.0)
    evening = np.exp(-((hour - 20.0) ** 2) / 6.0)
    shape = (
        0.35
        + 0.6 * morning
        + 1.0 * evening
        + np.where(weekend, 0.25, 0.0) * ((hour > 10) & (hour < 18))
    )
    shape = shape * (1.0 + 0.25 * np.cos(2 * np.pi * (doy - 15) / 365.25))
    step_h = pd.Timedelta(step) / pd.Timedelta(hours=1)
    targets = np.broadcast_to(np.asarray(annual_kwh, dtype=float), (n_meters,))
    rng = np.random.default_rng(seed)
    out = np.empty((n_meters, len(idx)))
    mean_shape_kwh_per_year = shape.mean() * 8760.0
    for i in range(n_meters):
        noise = rng.lognormal(mean=-0.5 * 0.4**2, sigma=0.4, size=len(idx))
        out[i] = shape * noise * step_h * targets[i] / mean_shape_kwh_per_year
    ids = tuple(f"M{i:06d}" for i in range(n_meters))
    return IntervalData(idx, np.round(out, 4), ids, source="synthetic")
