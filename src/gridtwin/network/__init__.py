"""The network twin: pandapower grids, profiles, validation and batch power flow.

pandapower is the data model and the reference; power-grid-model solves the time series
(all steps of a year in chunked batches). Typical use::

    from gridtwin import network
    model = network.load_simbench("1-LV-semiurb4--0-sw")
    network.validate(model).raise_if_errors()
    result = network.simulate(model, steps=slice(0, 672))     # the first week
    result.summary()
"""

from gridtwin.network._cim import load_cgmes
from gridtwin.network._fixedpoint import ReactivePowerControl, TapControl
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
from gridtwin.network._pgm import PgmNetwork, build_pgm_network
from gridtwin.network._results import (
    PowerFlowResult,
    PowerFlowStatistics,
    PowerFlowSummary,
    StatisticsSpec,
    read_parquet,
)
from gridtwin.network._setpoints import PowerFactorControl
from gridtwin.network._timeseries import (
    CHUNK_BUDGET_BYTES,
    DEFAULT_CHUNK_STEPS,
    simulate,
    tap_controls_from_net,
)
from gridtwin.network._validate import (
    FIXED_POINT_ONLY_TABLES,
    UNSUPPORTED_TABLES,
    Issue,
    ValidationReport,
    validate,
)

__all__ = [
    "CHUNK_BUDGET_BYTES",
    "DEFAULT_CHUNK_STEPS",
    "FIXED_POINT_ONLY_TABLES",
    "PROFILE_FIELDS",
    "UNSUPPORTED_TABLES",
    "Issue",
    "NetworkInfo",
    "NetworkModel",
    "PgmNetwork",
    "PowerFactorControl",
    "PowerFlowResult",
    "PowerFlowStatistics",
    "PowerFlowSummary",
    "Profiles",
    "ReactivePowerControl",
    "StatisticsSpec",
    "TapControl",
    "ValidationReport",
    "build_pgm_network",
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
