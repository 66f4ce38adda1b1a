"""The network twin: pandapower grids, profiles, validation and batch power flow.

pandapower is the data model and the reference; the balanced time series is solved by a
compiled fixed point over pandapower's own admittance matrix, unbalanced ones by
power-grid-model. Typical use::

    from gridtwin import network
    model = network.load_simbench("1-LV-semiurb4--0-sw")
    network.validate(model).raise_if_errors()
    result = network.simulate(model, steps=slice(0, 672))     # the first week
    result.summary()
    week = network.simulate(
        model,
        steps=slice(0, 672),
        options=network.PowerFlowOptions(method="newton_raphson", threading=0),
        controls=network.Controls(taps=network.tap_controls_from_net(model.net)),
        keep=network.KeepSummary(),
    )

Importing this package loads neither pandapower, power-grid-model, numba nor scipy: they
are imported by the functions that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridtwin.network._batch import BatchPowerFlow
from gridtwin.network._cim import load_cgmes
from gridtwin.network._controls import Controls, tap_controls_from_net
from gridtwin.network._fp_controls import ReactivePowerControl, TapControl
from gridtwin.network._issues import (
    FIXED_POINT_ONLY_TABLES,
    UNSUPPORTED_TABLES,
    Issue,
    ValidationReport,
)
from gridtwin.network._model import (
    PROFILE_FIELDS,
    NetworkInfo,
    NetworkModel,
    Profiles,
    from_net,
    info,
    load_matpower,
    load_pandapower_json,
    load_simbench,
    profiles_from_meters,
    simbench_time_index,
    static_profiles,
)
from gridtwin.network._options import (
    CHUNK_BUDGET_BYTES,
    DEFAULT_CHUNK_STEPS,
    KeepFull,
    KeepSummary,
    PowerFlowOptions,
)
from gridtwin.network._results import (
    PowerFlowResult,
    PowerFlowStatistics,
    PowerFlowSummary,
    StatisticsSpec,
    read_parquet,
)
from gridtwin.network._setpoints import PowerFactorControl
from gridtwin.network._timeseries import StepPowerFlow, simulate
from gridtwin.network._validate import validate
from gridtwin.network.estimation import (
    EstimationOptions,
    EstimationResult,
    Measurements,
    StateEstimator,
    estimate,
)

if TYPE_CHECKING:
    from gridtwin.network._pgm import PgmNetwork, build_pgm_network

__all__ = [
    "CHUNK_BUDGET_BYTES",
    "DEFAULT_CHUNK_STEPS",
    "FIXED_POINT_ONLY_TABLES",
    "PROFILE_FIELDS",
    "UNSUPPORTED_TABLES",
    "BatchPowerFlow",
    "Controls",
    "EstimationOptions",
    "EstimationResult",
    "Issue",
    "KeepFull",
    "KeepSummary",
    "Measurements",
    "NetworkInfo",
    "NetworkModel",
    "PgmNetwork",
    "PowerFactorControl",
    "PowerFlowOptions",
    "PowerFlowResult",
    "PowerFlowStatistics",
    "PowerFlowSummary",
    "Profiles",
    "ReactivePowerControl",
    "StateEstimator",
    "StatisticsSpec",
    "StepPowerFlow",
    "TapControl",
    "ValidationReport",
    "build_pgm_network",
    "estimate",
    "from_net",
    "info",
    "load_cgmes",
    "load_matpower",
    "load_pandapower_json",
    "load_simbench",
    "profiles_from_meters",
    "read_parquet",
    "simbench_time_index",
    "simulate",
    "static_profiles",
    "tap_controls_from_net",
    "validate",
]

#: Names loaded on first use because their module imports power-grid-model.
_LAZY = {"PgmNetwork": "gridtwin.network._pgm", "build_pgm_network": "gridtwin.network._pgm"}


def __getattr__(name: str) -> Any:
    """Load :data:`_LAZY` names on first access (PEP 562)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
