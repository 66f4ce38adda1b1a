"""Early warning: the next day's forecast through the power flow, with probabilities.

Forecast quantiles of every load and PV unit (:mod:`gridtwin.forecast`) go through the
batched power flow twice: as a stress band (all loads at the same quantile, one batch of
quantiles x steps) and as sampled joint scenarios (a common-factor copula) that estimate
the probability of each deviation. The alarm rules' potential limits (supply-voltage band
of GOST 32144-2013 / EN 50160:2010, line and transformer loading) give the findings, each
with its lead time and probability; measures (a tap position, a load transfer through a
normally-open switch, PV curtailment, Q(U)) are checked by the same power flow and ranked.
See ``docs/warning.md``.
"""

from gridtwin.warning._assess import Assessment, assess
from gridtwin.warning._findings import Finding, Limits, exceedance, findings, limits_of
from gridtwin.warning._measures import Measure, MeasureCosts, propose_measures
from gridtwin.warning._qpf import (
    NodalForecast,
    SamplingSpec,
    ScenarioEngine,
    ScenarioFlow,
    band_setpoints,
    quantile_power_flow,
    sample_scenarios,
    sampled_power_flow,
    scenario_flow,
)
from gridtwin.warning._run import (
    DEFAULT_THRESHOLD,
    WARNING_QUANTILES,
    WarningReport,
    WarningSpec,
    early_warning,
    nodal_forecast,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "WARNING_QUANTILES",
    "Assessment",
    "Finding",
    "Limits",
    "Measure",
    "MeasureCosts",
    "NodalForecast",
    "SamplingSpec",
    "ScenarioEngine",
    "ScenarioFlow",
    "WarningReport",
    "WarningSpec",
    "assess",
    "band_setpoints",
    "early_warning",
    "exceedance",
    "findings",
    "limits_of",
    "nodal_forecast",
    "propose_measures",
    "quantile_power_flow",
    "sample_scenarios",
    "sampled_power_flow",
    "scenario_flow",
]
