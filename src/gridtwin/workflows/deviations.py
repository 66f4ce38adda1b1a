"""Potential deviations of the network twin: a network check's simulated voltages judged
against the supply-voltage standard.

The quality domain evaluates per-unit voltages (:func:`gridtwin.quality.potential_deviations`);
the network domain simulates them and checks the grid (:func:`gridtwin.network.checks.check`).
This workflow is where the two meet: it takes the customer points, their feeders, U0 and the
standard from a :class:`~gridtwin.network.checks.CheckReport`, the voltages of every step
from the :class:`~gridtwin.network.PowerFlowResult` it checked, and names the check's
limiting element and overloaded branches as the cause.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from gridtwin.network import PowerFlowResult
from gridtwin.network.checks import CheckReport
from gridtwin.quality import (
    LimitSet,
    PotentialDeviations,
    VoltageLevel,
    evaluate_potential,
    potential_frame,
    resolve_limit_set,
)
from gridtwin.quality import potential_deviations as _voltage_deviations

__all__ = ["potential_deviations"]


def potential_deviations(
    source: CheckReport | pd.DataFrame,
    result: PowerFlowResult | None = None,
    *,
    standard: str = "GOST 32144-2013",
    voltage_level: VoltageLevel = "LV",
    timezone: str = "UTC",
    u0_pu: float | Mapping[str, float] = 1.0,
    feeders: Mapping[str, str] | None = None,
    cause: str | Mapping[str, str] | None = None,
    week_start: str | pd.Timestamp | None = None,
    min_availability_percent: float | None = None,
) -> PotentialDeviations:
    """Potential deviations of a checked network (or of per-unit voltages).

    Parameters
    ----------
    source : CheckReport or pandas.DataFrame
        A :class:`gridtwin.network.checks.CheckReport` (customer buses, their feeder,
        level and U0; the cause is its limiting element and overloaded lines), or
        per-unit voltages [p.u.] with a tz-aware UTC index of step starts and one column
        per point (passed on to :func:`gridtwin.quality.potential_deviations` with the
        keyword arguments).
    result : PowerFlowResult, optional
        With a CheckReport: the power flow it checked, for the exact times of every
        step outside the band; without it the report's worst step is used.
    standard, voltage_level, u0_pu, feeders, cause
        DataFrame input only (a CheckReport states its own); see
        :func:`gridtwin.quality.potential_deviations`.
    timezone : str
        Zone of the observation weeks.
    week_start, min_availability_percent
        As in :func:`gridtwin.quality.evaluate`.

    Returns
    -------
    PotentialDeviations
    """
    if isinstance(source, CheckReport):
        return _from_check(source, result, timezone, week_start, min_availability_percent)
    return _voltage_deviations(
        source,
        standard=standard,
        voltage_level=voltage_level,
        timezone=timezone,
        u0_pu=u0_pu,
        feeders=feeders,
        cause=cause,
        week_start=week_start,
        min_availability_percent=min_availability_percent,
    )


def _check_cause(report: CheckReport) -> str:
    parts = []
    lines = report.lines
    if len(lines):
        over = lines[lines["status"] == "alarm"]
        for _, row in over.head(3).iterrows():
            first = row["first_above_limit_utc"]
            when = "" if pd.isna(first) else f" from {pd.Timestamp(first).isoformat()}"
            parts.append(
                f"line {row['line']} overloaded ({row['max_loading_ratio']:.0%} of "
                f"its rating{when})"
            )
    trafos = report.transformers
    if len(trafos):
        hot = trafos[trafos["max_loading_percent"] > 100]
        for _, row in hot.head(2).iterrows():
            element = row.get("element", "trafo")
            parts.append(f"{element} {row['trafo']} at {row['max_loading_percent']:.0f} % load")
    parts.append(f"limiting element: {report.limiting_element()}")
    return "; ".join(parts)


def _from_check(
    report: CheckReport,
    result: PowerFlowResult | None,
    timezone: str,
    week_start: str | pd.Timestamp | None,
    min_av: float | None,
) -> PotentialDeviations:
    ls = resolve_limit_set(report.standard)
    volt = report.voltage
    cause = _check_cause(report)
    feeders = {str(b): str(f) for b, f in zip(volt["bus"], volt["feeder"], strict=True)}
    notes = list(report.notes)
    if result is None:
        return _from_summary(report, ls, cause, feeders, notes)
    pos = {int(b): i for i, b in enumerate(result.bus_ids)}
    buses = [int(b) for b in volt["bus"]]
    cols = [pos[b] for b in buses]
    vm = result.vm_pu[:, cols] if result.symmetric else np.nanmin(result.vm_pu[:, cols, :], axis=2)
    points = [str(b) for b in buses]
    u0 = {str(b): float(u) for b, u in zip(volt["bus"], volt["u0_pu"], strict=True)}
    levels = {str(b): str(lv) for b, lv in zip(volt["bus"], volt["voltage_level"], strict=True)}
    return evaluate_potential(
        vm,
        result.time_utc,
        points,
        u0=u0,
        levels=levels,
        feeders=feeders,
        causes=dict.fromkeys(points, cause),
        limit_set=ls,
        timezone=timezone,
        week_start=week_start,
        min_availability_percent=min_av,
        step=result.step_duration,
        notes=notes,
    )


def _from_summary(
    report: CheckReport, ls: LimitSet, cause: str, feeders: dict[str, str], notes: list[str]
) -> PotentialDeviations:
    volt = report.voltage
    fail = volt[volt["verdict"] == "fail"]
    rows = []
    for _, r in fail.iterrows():
        ind = ls.indicator(str(r["voltage_level"]), "voltage_deviation")
        dev = (float(r["worst_vm_pu"]) / float(r["u0_pu"]) - 1.0) * 100.0
        rows.append(
            {
                "point_id": str(r["bus"]),
                "feeder": feeders.get(str(r["bus"]), ""),
                "voltage_level": str(r["voltage_level"]),
                "period_start_utc": pd.NaT,
                "period_end_utc": pd.NaT,
                "direction": "under" if dev < 0 else "over",
                "first_time_utc": pd.NaT,
                "last_time_utc": pd.NaT,
                "worst_time_utc": pd.Timestamp(r["worst_time_utc"]),
                "worst_vm_pu": float(r["worst_vm_pu"]),
                "worst_deviation_percent": dev,
                "n_steps_out": pd.NA,
                "hours_out": np.nan,
                "share_out_percent": float(r["share_out_of_band_percent"]),
                "band": ind.narrowest_limit.band_text(ind.unit),
                "clause": ind.citation,
                "verdict": "fail",
                "rule": "weekly verdict of the network check",
                "cause": cause,
            }
        )
    table = potential_frame(rows)
    notes.append(
        "potential deviations from the network check's summary: pass the "
        "PowerFlowResult for the first and last step of each deviation"
    )
    return PotentialDeviations(
        table, ls.id, "simulation steps (network check summary)", tuple(notes)
    )
