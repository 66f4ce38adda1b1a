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

from gridtwin.workflows.billing import (
    BillingRun,
    OfferComparison,
    ReadingsBilling,
    read_price_series,
)
from gridtwin.workflows.deviations import potential_deviations
from gridtwin.workflows.norms import ComingYearNorms, NormsCalculation, PastYearNorms
from gridtwin.workflows.quality import QualityAssessment, read_event_table, read_feeder_map
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
