"""Condition-based maintenance: the asset register, condition indicators, a health index,
the maintenance ranking against the calendar plan, and equipment trends.

- :func:`load_register` reads a register (YAML/TOML or CSV) per network element: type,
  year installed, rated life, the calendar plan's interval, maintenance history, failures;
- :class:`ConditionIndicators` are what the twin's state history says about an element
  (loading, overloads, the IEC 60076-7 hot spot, ageing rate and loss of life), built by
  :mod:`gridtwin.workflows.assets` from the store;
- :func:`rank_assets` scores each asset with a simplified CNAIM-style health index
  (:data:`HEALTH_METHOD`) and ranks them by risk beside the calendar plan;
- :mod:`gridtwin.assets.trends` fits robust trends (Theil–Sen) to daily peaks and warns
  of the projected time to a limit as a potential alarm.

Pure: no store or service imports; the register is read like the other rule files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from gridtwin.assets._health import (
    HEALTH_METHOD,
    Advice,
    AssetHealth,
    ConditionIndicators,
    assess,
    health_band,
    rank_assets,
)
from gridtwin.assets._register import (
    ASSET_TYPES,
    AssetRecord,
    AssetRegister,
    AssetType,
    Event,
    load_register,
    register_from_records,
)

__all__ = [
    "ASSET_TYPES",
    "HEALTH_METHOD",
    "Advice",
    "AssetHealth",
    "AssetRecord",
    "AssetRegister",
    "AssetType",
    "ConditionIndicators",
    "Event",
    "assess",
    "demo_register_path",
    "health_band",
    "load_register",
    "rank_assets",
    "register_from_records",
]


def demo_register_path() -> Path:
    """The example register of the demo grid (SimBench ``1-LV-semiurb4--0-sw``), written
    for gridtwin: invented records, not a utility's."""
    return Path(str(resources.files(__name__) / "data" / "demo-register.yaml"))
