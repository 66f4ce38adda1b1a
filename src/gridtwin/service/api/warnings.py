"""``/warnings``: the day-ahead early warning of the running twin (viewer).

The first request after the twin's newest interval entered a new local day computes the
next day's report (forecasts of every load and PV unit, the quantile power flow, the
potential deviations with their probability and lead time, the measures checked by power
flow; seconds with the default seasonal naive,
minutes with LightGBM); later requests answer from it. Its
findings are also the ``forecast`` potential alarms of ``/alarms/potential``. 404 when the
service runs no twin; 422 before the twin's first interval or when the profiles cannot
give the history.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from gridtwin.service.api._common import OutputModel
from gridtwin.service.api.twin import TwinDep
from gridtwin.service.deps import StateDep, Viewer
from gridtwin.service.twin import TwinRuntime

__all__ = ["router"]

router = APIRouter(prefix="/warnings", tags=["warnings"])
_CREATE = threading.Lock()


class MeasureOut(OutputModel):
    """A measure checked by power flow."""

    kind: str = Field(description="tap, transfer, curtail_pv or q_u.")
    description: str
    settings: dict[str, Any]
    removed: int = Field(description="(rule, element, step) deviations it removes.")
    remaining: int = Field(description="Of those, the ones it leaves.")
    new: int = Field(description="Deviations it makes where there were none.")
    findings_removed: list[str] = Field(description="rule_id@element of the findings removed.")
    max_probability: float = Field(description="Highest probability of a deviation after it.")
    cost_eur: float
    cost_note: str
    power_flows: int = Field(description="Power flows run to check it.")


class WarningOut(OutputModel):
    """A potential deviation of the next day."""

    rule_id: str
    element: str
    priority: str
    first_utc: dt.datetime = Field(description="First step at or above the threshold.")
    peak_utc: dt.datetime = Field(description="Step of the highest probability.")
    lead_time_s: float = Field(description="first_utc minus the twin's newest interval [s].")
    probability: float = Field(description="Highest per-step probability (sampled scenarios).")
    value: float = Field(description="Median of the sampled scenarios at peak_utc.")
    band_value: float = Field(description="The stress band's worst value at peak_utc.")
    limit: float
    direction: str = Field(description="low or high.")
    steps: int = Field(description="Steps at or above the threshold.")
    message: str
    measure: MeasureOut | None = Field(description="The best checked measure that removes it.")


class WarningsOut(OutputModel):
    """The early warning of the day after the twin's newest interval."""

    name: str
    day: dt.date = Field(description="The local day forecast.")
    issue_utc: dt.datetime = Field(description="When the forecast is issued (nominally).")
    reference_utc: dt.datetime = Field(description="What lead times count from.")
    steps: int
    threshold: float
    method: str = Field(description="Forecast method.")
    warnings: list[WarningOut]
    measures: list[MeasureOut] = Field(description="Every measure checked, best first.")
    timings_s: dict[str, float]
    power_flows: int
    notes: list[str]


def _warner(runtime: TwinRuntime) -> Any:
    from gridtwin.service._warnings import EarlyWarner
    from gridtwin.warning import SamplingSpec, WarningSpec

    with _CREATE:
        if runtime.warner is None:
            cfg = runtime.config
            ew = cfg.early_warning
            spec = WarningSpec(
                threshold=ew.threshold,
                method=ew.method,
                tz=cfg.timezone,
                country=ew.country,
                history_days=ew.history_days,
                load_scale=ew.load_scale
                if ew.load_scale is not None
                else (1.0 if cfg.replay is None else cfg.replay.load_scale),
                sampling=SamplingSpec(n_samples=ew.samples, rho_load=ew.rho_load),
                measures=ew.measures,
                standard=cfg.standard,
            )
            runtime.warner = EarlyWarner(runtime, spec)
        return runtime.warner


@router.get("", summary="Potential deviations of the next day, with checked measures")
async def get_warnings(user: Viewer, runtime: TwinDep, state: StateDep) -> WarningsOut:
    """The early warning of the local day after the twin's newest interval (module
    docstring)."""
    warner = _warner(runtime)
    report = await state.run(warner.report)
    body = report.to_dict()
    rows = body.pop("findings")
    body.pop("reference_utc")
    return WarningsOut(
        **{k: v for k, v in body.items() if k not in {"measures", "issue_utc", "day"}},
        day=report.day,
        issue_utc=report.issue_utc.to_pydatetime(),
        reference_utc=report.reference_utc.to_pydatetime(),
        warnings=[WarningOut.model_validate(r) for r in rows],
        measures=[MeasureOut.model_validate(m) for m in body["measures"]],
    )
