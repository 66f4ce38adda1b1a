"""Workflows: the one place that knows the order of steps of each job.

Each workflow takes typed inputs, calls the domain packages in order and returns a typed
result; the command line (and the service to come) are thin calls of these.

=========================  ===========================================================
:class:`Twin`              network model + profiles or meters -> power flow, checks,
                           potential deviations, summary (:class:`TwinState`)
:func:`scenario_study`     the twin today and after a what-if change
:func:`contingency_study`  N-1 with restoration; :func:`hosting_study` per bus
:class:`BillingRun`        interval data under a tariff -> itemised bills
:class:`ReadingsBilling`   register readings of a point of delivery -> a bill
:class:`OfferComparison`   one meter under several offers -> ranking
:class:`QualityAssessment` measurement file -> weekly verdicts, events, report
:class:`NormsCalculation`  pumping-station inputs -> past-year, coming-year norms, report
=========================  ===========================================================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridtwin.workflows.billing import (
        BillingRun,
        OfferComparison,
        ReadingsBilling,
        read_price_series,
    )
    from gridtwin.workflows.deviations import potential_deviations
    from gridtwin.workflows.norms import ComingYearNorms, NormsCalculation, PastYearNorms
    from gridtwin.workflows.quality import (
        QualityAssessment,
        read_event_table,
        read_feeder_map,
    )
    from gridtwin.workflows.studies import (
        PvSpec,
        ScenarioResult,
        contingency_study,
        hosting_study,
        qu_study,
        scenario_study,
        simbench_2034_study,
    )
    from gridtwin.workflows.twin import Twin, TwinState, load_network

#: Public name -> the module that defines it. Loaded on first use (PEP 562), so that a
#: command needing one workflow does not import the domain packages of all the others.
_EXPORTS: dict[str, str] = {
    "BillingRun": "billing",
    "OfferComparison": "billing",
    "ReadingsBilling": "billing",
    "read_price_series": "billing",
    "potential_deviations": "deviations",
    "ComingYearNorms": "norms",
    "NormsCalculation": "norms",
    "PastYearNorms": "norms",
    "QualityAssessment": "quality",
    "read_event_table": "quality",
    "read_feeder_map": "quality",
    "PvSpec": "studies",
    "ScenarioResult": "studies",
    "contingency_study": "studies",
    "hosting_study": "studies",
    "qu_study": "studies",
    "scenario_study": "studies",
    "simbench_2034_study": "studies",
    "Twin": "twin",
    "TwinState": "twin",
    "load_network": "twin",
}

__all__ = [
    "BillingRun",
    "ComingYearNorms",
    "NormsCalculation",
    "OfferComparison",
    "PastYearNorms",
    "PvSpec",
    "QualityAssessment",
    "ReadingsBilling",
    "ScenarioResult",
    "Twin",
    "TwinState",
    "contingency_study",
    "hosting_study",
    "load_network",
    "potential_deviations",
    "qu_study",
    "read_event_table",
    "read_feeder_map",
    "read_price_series",
    "scenario_study",
    "simbench_2034_study",
]


def __getattr__(name: str) -> Any:
    """Import a workflow's module when one of its names is first used."""
    if name not in _EXPORTS:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
