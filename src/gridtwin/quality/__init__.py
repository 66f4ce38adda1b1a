"""Power quality: supply-voltage limits as data and their weekly evaluation.

Limits of GOST 32144-2013 and EN 50160:2010 (LV and MV) are YAML files validated on load
(:func:`get_limit_set`, :func:`load_limit_set` for user-defined sets with the same schema).
One core evaluation counts N, N1, N2 per point and observation week and gives a verdict,
for measured IEC 61000-4-30 aggregates (:func:`evaluate`) and for simulated per-unit
voltages of the network twin (:func:`evaluate_voltage_pu`).
"""

from gridtwin.quality._evaluation import (
    IndicatorEvaluation,
    SimulatedVoltageEvaluation,
    UnderOverDeviation,
    Verdict,
    VoltageUnit,
    evaluate,
    evaluate_voltage_pu,
    infer_voltage_unit,
    under_over_deviation,
)
from gridtwin.quality._limits import (
    Indicator,
    Limit,
    LimitSet,
    LimitSetSpec,
    VoltageLevel,
    builtin_limit_set_ids,
    get_limit_set,
    limit_set_from_dict,
    load_limit_set,
)

__all__ = [
    "Indicator",
    "IndicatorEvaluation",
    "Limit",
    "LimitSet",
    "LimitSetSpec",
    "SimulatedVoltageEvaluation",
    "UnderOverDeviation",
    "Verdict",
    "VoltageLevel",
    "VoltageUnit",
    "builtin_limit_set_ids",
    "evaluate",
    "evaluate_voltage_pu",
    "get_limit_set",
    "infer_voltage_unit",
    "limit_set_from_dict",
    "load_limit_set",
    "under_over_deviation",
]
