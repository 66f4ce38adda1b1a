"""The early warning of one day: forecast every load and PV unit, run the quantiles through
the power flow, find the potential deviations and check measures against them."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.alarms import PotentialAlarm, RuleSet, default_rules
from gridtwin.errors import InputError
from gridtwin.forecast import Forecaster, ForecastSpec
from gridtwin.network import Controls, NetworkModel, PowerFlowOptions, Profiles
from gridtwin.warning._assess import Assessment, assess
from gridtwin.warning._findings import Finding, findings, limits_of
from gridtwin.warning._measures import Measure, MeasureCosts, propose_measures
from gridtwin.warning._qpf import (
    NodalForecast,
    SamplingSpec,
    ScenarioEngine,
    quantile_power_flow,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "WARNING_QUANTILES",
    "WarningReport",
    "WarningSpec",
    "early_warning",
    "nodal_forecast",
]

#: The quantile levels forecast for the early warning (nine).
WARNING_QUANTILES = (0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95)
#: Default threshold probability of a potential deviation (a policy choice: one day in
#: five is worth a look by the operator; the screening needs it above 0.05).
DEFAULT_THRESHOLD = 0.2


@dataclass(frozen=True)
class WarningSpec:
    """How the early warning forecasts and judges.

    Attributes
    ----------
    threshold : float
        Probability from which a deviation is reported (and raised as a potential alarm).
    method : str
        Forecast method of :mod:`gridtwin.forecast` (``gbm``, ``sf_seasonal_naive``, ...).
    tz, country : str
        The forecast's local zone and holiday country.
    history_days : int
        Days of history before the issue time given to the forecaster.
    issue_time_local : datetime.time
        When the day-ahead forecast is issued, the day before (local time).
    load_scale : float
        Multiplies the load history (a what-if, as the replay's ``load_scale``).
    sampling : SamplingSpec
    measures : bool
        Propose and check measures.
    costs : MeasureCosts
    standard : str
        The supply-voltage standard of the voltage rules.
    """

    threshold: float = DEFAULT_THRESHOLD
    method: str = "sf_seasonal_naive"
    tz: str = "UTC"
    country: str | None = None
    history_days: int = 56
    issue_time_local: dt.time = dt.time(6, 0)
    load_scale: float = 1.0
    sampling: SamplingSpec = field(default_factory=SamplingSpec)
    measures: bool = True
    costs: MeasureCosts = field(default_factory=MeasureCosts)
    standard: str = "GOST 32144-2013"

    def __post_init__(self) -> None:
        if not 0.05 < self.threshold < 1.0:
            msg = (
                f"early warning threshold {self.threshold}: use a probability above 0.05 "
                "(the outer forecast level the screening relies on) and below 1"
            )
            raise InputError(msg)
        if not 15 <= self.history_days <= 400:
            msg = f"early warning history_days {self.history_days}: use 15 to 400"
            raise InputError(msg)
        if not (np.isfinite(self.load_scale) and self.load_scale > 0):
            msg = f"early warning load_scale {self.load_scale}: use a number > 0"
            raise InputError(msg)


def _history(frame: pd.DataFrame, idx: pd.DatetimeIndex, scale: float) -> np.ndarray[Any, Any]:
    return np.ascontiguousarray(frame.to_numpy(dtype=np.float64).T * scale)


def nodal_forecast(
    model: NetworkModel, day: dt.date, spec: WarningSpec, profiles: Profiles | None = None
) -> tuple[NodalForecast, pd.Timestamp, tuple[str, ...]]:
    """Quantile forecasts of every profiled load and PV unit for local ``day``, from the
    profiles before the issue time (the history the twin has); ``(forecast, issue_utc,
    notes)``."""
    prof = profiles if profiles is not None else model.profiles
    if prof is None or len(prof.time_utc) < 2:
        msg = f"{model.name}: the early warning needs load history (profiles); the model has none"
        raise InputError(msg)
    fspec = ForecastSpec(
        tz=spec.tz,
        country=spec.country,
        quantiles=WARNING_QUANTILES,
        issue_time_local=spec.issue_time_local,
        method=spec.method,  # type: ignore[arg-type]
        max_history_days=spec.history_days,
    )
    issue = fspec.issue_utc(day)
    start = issue - pd.Timedelta(days=spec.history_days)
    idx = prof.time_utc
    sel = (idx >= start) & (idx < issue + pd.Timedelta(days=2))
    if not (idx[0] <= start and idx[-1] >= issue):
        msg = (
            f"day {day}: the profiles ({idx[0]} .. {idx[-1]}) do not hold the "
            f"{spec.history_days} days of history before the issue time {issue}; pick a later "
            "day or a shorter history_days"
        )
        raise InputError(msg)
    times = idx[sel]
    step = times[1] - times[0]
    notes: list[str] = []
    parts = []
    for frame, scale in ((prof.load_p_mw, spec.load_scale), (prof.sgen_p_mw, 1.0)):
        ids = np.asarray(frame.columns, dtype=np.int64)
        if not len(ids):
            parts.append((ids, np.zeros((0, 0, len(WARNING_QUANTILES)))))
            continue
        values = _history(frame.loc[sel], times, scale)
        res = Forecaster(fspec).predict(values, times[0], step, day, [str(i) for i in ids])
        out = res.values
        bad = ~np.isfinite(out).all(axis=(1, 2))
        if bad.any():
            out = np.nan_to_num(out, nan=0.0)
            notes.append(f"{int(bad.sum())} series could not be forecast: taken as 0")
        notes += list(res.notes)
        parts.append((ids, out))
        time_utc = res.time_utc
    (load_ids, load_q), (sgen_ids, sgen_q) = parts
    t = len(time_utc)
    if sgen_q.shape[1] != t:
        sgen_q = np.zeros((len(sgen_ids), t, len(WARNING_QUANTILES)))
    nf = NodalForecast(
        time_utc=pd.DatetimeIndex(time_utc),
        quantiles=WARNING_QUANTILES,
        load_ids=load_ids,
        load_p_mw=load_q,
        sgen_ids=sgen_ids,
        sgen_p_mw=np.maximum(sgen_q, 0.0),
    )
    return nf, issue, tuple(notes)


@dataclass(frozen=True)
class WarningReport:
    """The early warning of one day.

    Attributes
    ----------
    name : str
    day : date
        The local day forecast.
    issue_utc : Timestamp
        When the forecast was (as if) issued.
    reference_utc : Timestamp
        What lead times count from (the issue time, or the live twin's present).
    time_utc : DatetimeIndex
    threshold : float
    method : str
    findings : tuple of Finding
    measures : tuple of Measure
        Checked, best first.
    best_measure : dict
        ``rule_id@element`` -> index into :attr:`measures` of the best measure removing it.
    voltage_band_pu : DataFrame
        Per step the lowest bus voltage in the stress band's low and high scenarios and in
        the middle one (``low``, ``median``, ``high``).
    timings_s : dict
    power_flows : int
    notes : tuple of str
    """

    name: str
    day: dt.date
    issue_utc: pd.Timestamp
    reference_utc: pd.Timestamp
    time_utc: pd.DatetimeIndex
    threshold: float
    method: str
    findings: tuple[Finding, ...]
    measures: tuple[Measure, ...]
    best_measure: dict[str, int]
    voltage_band_pu: pd.DataFrame
    timings_s: dict[str, float]
    power_flows: int
    notes: tuple[str, ...] = ()

    def measure_for(self, f: Finding) -> Measure | None:
        """The best checked measure that removes ``f``, or None."""
        k = self.best_measure.get(f"{f.rule_id}@{f.element}")
        return None if k is None else self.measures[k]

    def potential_alarms(self) -> tuple[PotentialAlarm, ...]:
        """The findings as potential alarms (lead time from :attr:`reference_utc`)."""
        out = []
        for f in self.findings:
            lead = float((f.first_utc - self.reference_utc).total_seconds())
            out.append(replace_lead(f.potential_alarm(), lead))
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        rows = []
        for f in self.findings:
            d = f.to_dict()
            d["lead_time_s"] = float((f.first_utc - self.reference_utc).total_seconds())
            m = self.measure_for(f)
            d["measure"] = None if m is None else m.to_dict()
            rows.append(d)
        return {
            "name": self.name,
            "day": self.day.isoformat(),
            "issue_utc": self.issue_utc.isoformat(),
            "reference_utc": self.reference_utc.isoformat(),
            "steps": len(self.time_utc),
            "threshold": self.threshold,
            "method": self.method,
            "findings": rows,
            "measures": [m.to_dict() for m in self.measures],
            "timings_s": self.timings_s,
            "power_flows": self.power_flows,
            "notes": list(self.notes),
        }


def replace_lead(p: PotentialAlarm, lead_time_s: float) -> PotentialAlarm:
    """``p`` with another lead time."""
    from dataclasses import replace

    return replace(p, lead_time_s=lead_time_s)


def _band_summary(a: Assessment, time_utc: pd.DatetimeIndex) -> pd.DataFrame:
    vm = a.band_flow.vm_pu
    with np.errstate(all="ignore"):
        low = np.nanmin(vm[-1], axis=1)
        mid = np.nanmin(vm[vm.shape[0] // 2], axis=1)
        high = np.nanmin(vm[0], axis=1)
    return pd.DataFrame({"low": low, "median": mid, "high": high}, index=time_utc)


def early_warning(
    model: NetworkModel,
    day: dt.date,
    spec: WarningSpec | None = None,
    *,
    profiles: Profiles | None = None,
    rules: RuleSet | None = None,
    options: PowerFlowOptions | None = None,
    controls: Controls | None = None,
    reference_utc: pd.Timestamp | None = None,
) -> WarningReport:
    """Potential deviations of local ``day`` with their probability, lead time and
    checked measures (see ``docs/warning.md``)."""
    from gridtwin.workflows.live_alarms import element_infos

    sp = spec or WarningSpec()
    rs = rules or default_rules(sp.standard)
    t0 = time.perf_counter()
    fc, issue, notes = nodal_forecast(model, day, sp, profiles)
    t1 = time.perf_counter()
    size = max(len(fc.quantiles), sp.sampling.n_samples)
    engine = ScenarioEngine(model, fc, size, options=options, controls=controls)
    band = quantile_power_flow(model, fc, engine=engine)
    lim = limits_of(rs, band, element_infos(model, sp.standard))
    base = assess(model, fc, lim, sp.sampling, band_flow=band, engine=engine)
    t2 = time.perf_counter()
    found = findings(
        rs, lim, base.probability, base.median, base.band, fc.time_utc, issue, sp.threshold
    )
    measures: list[Measure] = []
    if sp.measures:
        measures = propose_measures(
            model,
            fc,
            base,
            found,
            lim,
            sp.sampling,
            sp.threshold,
            options=options,
            controls=controls,
            costs=sp.costs,
            engine=engine,
        )
        if not (~model.net.switch["closed"].astype(bool)).any():
            notes += ("load transfer not checked: the net has no normally-open switch",)
    t3 = time.perf_counter()
    best: dict[str, int] = {}
    for k, m in enumerate(measures):
        for key in m.findings_removed:
            best.setdefault(key, k)
    return WarningReport(
        name=model.name,
        day=day,
        issue_utc=issue,
        reference_utc=issue if reference_utc is None else reference_utc,
        time_utc=fc.time_utc,
        threshold=sp.threshold,
        method=sp.method,
        findings=tuple(found),
        measures=tuple(measures),
        best_measure=best,
        voltage_band_pu=_band_summary(base, fc.time_utc),
        timings_s={
            "forecast": round(t1 - t0, 3),
            "band": round(base.band_s, 3),
            "sampled": round(base.sampled_s, 3),
            "measures": round(t3 - t2, 3),
            "total": round(t3 - t0, 3),
        },
        power_flows=base.power_flows + sum(m.power_flows for m in measures),
        notes=notes,
    )
