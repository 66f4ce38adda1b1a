"""Series to backtest on that installed packages ship (nothing is downloaded).

- :func:`taylor_demand`: **real measured** half-hourly electricity demand of England and
  Wales [MW], Monday 5 June to Sunday 27 August 2000 (12 weeks), shipped by ``pmdarima``
  (``pmdarima.datasets.load_taylor``; J. W. Taylor, "Short-term electricity demand
  forecasting using double seasonal exponential smoothing", JORS 54 (2003) 799-805).
  Its times are British local time (BST all summer).
- :func:`simbench_profiles`: SimBench's 2016 profiles at 15 min (ODbL), representative
  synthetic profiles built with German DSOs, **not measurements**. Their time stamps carry
  no DST: they are read as fixed UTC+1 (``Etc/GMT-1``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from gridtwin.errors import InputError

__all__ = ["SIMBENCH_DEFAULT", "simbench_profiles", "taylor_demand"]

#: Aggregated grid profiles used by the SimBench backtest (active power).
SIMBENCH_DEFAULT: tuple[str, ...] = (
    "mv_rural",
    "mv_urban",
    "lv_rural1",
    "lv_urban6",
    "H0-A",
    "G1-A",
)


def taylor_demand() -> pd.Series:
    """England and Wales demand [MW], half-hourly, indexed by UTC interval starts."""
    try:
        from pmdarima.datasets import load_taylor  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        msg = "the Taylor demand series needs pmdarima: pip install pmdarima==2.1.1"
        raise InputError(msg) from exc
    values = load_taylor(as_series=True).to_numpy(dtype=float)
    start = pd.Timestamp("2000-06-05 00:00", tz="Europe/London")
    index = pd.date_range(start, periods=len(values), freq="30min").tz_convert("UTC")
    return pd.Series(values, index=index, name="taylor_mw")


def simbench_profiles(names: Sequence[str] = SIMBENCH_DEFAULT) -> pd.DataFrame:
    """SimBench load profiles (active power, normalised) of 2016, UTC-indexed, 15 min."""
    import simbench as sb

    load = sb.get_all_simbench_profiles(0)["load"]
    cols = {}
    for name in names:
        col = f"{name}_pload"
        if col not in load.columns:
            msg = f"SimBench has no load profile {name!r} (columns end in _pload)"
            raise InputError(msg)
        cols[name] = load[col].to_numpy(dtype=float)
    start = pd.Timestamp("2016-01-01 00:00", tz="Etc/GMT-1")
    index = pd.date_range(start, periods=len(load), freq="15min").tz_convert("UTC")
    return pd.DataFrame(cols, index=index)
