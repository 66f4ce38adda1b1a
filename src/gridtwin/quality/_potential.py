"""Potential deviations: the weekly voltage evaluation applied to simulated or forecast
voltages.

A network twin's power flow (or a forecast) gives per-unit voltages per step at the
customers' points; :func:`potential_deviations` evaluates them against the supply-voltage
limits (GOST 32144-2013 4.2.2, EN 50160:2010 4.2.2) week by week with the same rule as
measured data, and lists every point-week that fails, or would fail whatever the steps not
simulated hold, with the first, last and worst step outside the band and its cause.

This module knows nothing of the network model: the workflow that combines a network check
with these voltages is :func:`gridtwin.workflows.potential_deviations`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.quality._limits import Indicator, Limit, LimitSet, VoltageLevel
from gridtwin.quality._simulated import evaluate_voltage_pu
from gridtwin.quality._verdict import IndicatorEvaluation
from gridtwin.quality.assessment import records, resolve_limit_set
from gridtwin.timeseries import utc_ns

__all__ = [
    "POTENTIAL_COLUMNS",
    "PotentialDeviations",
    "evaluate_potential",
    "potential_deviations",
    "potential_frame",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PotentialDeviations:
    """Predicted non-compliance of simulated or forecast voltages.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per point × observation week × direction (``'under'``/``'over'``) whose
        week fails: its verdict is ``'fail'``, or (a forecast shorter than a week) it
        fails whatever the steps not simulated hold (``rule`` says which):
        ``point_id, feeder, voltage_level, period_start_utc, period_end_utc, direction,
        first_time_utc, last_time_utc, worst_time_utc, worst_vm_pu,
        worst_deviation_percent, n_steps_out, hours_out, share_out_percent, band, clause,
        verdict, rule, cause``. Times are step starts (UTC); ``first/last`` are the first
        and last step outside the band (``NaT`` when only a network-check summary was
        given).
    standard : str
    basis : str
        Simulation steps, not IEC 61000-4-30 aggregates.
    notes : tuple of str
    """

    table: pd.DataFrame
    standard: str
    basis: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {
            "standard": self.standard,
            "basis": self.basis,
            "potential_deviations": records(self.table),
            "notes": list(self.notes),
        }


POTENTIAL_COLUMNS: Final = (
    "point_id",
    "feeder",
    "voltage_level",
    "period_start_utc",
    "period_end_utc",
    "direction",
    "first_time_utc",
    "last_time_utc",
    "worst_time_utc",
    "worst_vm_pu",
    "worst_deviation_percent",
    "n_steps_out",
    "hours_out",
    "share_out_percent",
    "band",
    "clause",
    "verdict",
    "rule",
    "cause",
)


def potential_deviations(
    source: pd.DataFrame,
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
    """Potential deviations: the weekly voltage evaluation of simulated/forecast voltages.

    Parameters
    ----------
    source : pandas.DataFrame
        Per-unit voltages [p.u.] with a tz-aware UTC index of step starts and one column
        per point. (A network check and its power flow are combined with these voltages
        by :func:`gridtwin.workflows.potential_deviations`.)
    standard : str
        Limit set.
    voltage_level : {'LV', 'MV'}
        Level of the points.
    timezone : str
        Zone of the observation weeks.
    u0_pu : float or mapping point -> float
        U0 in the simulation's per-unit base [p.u.], e.g. 0.95 for
        U0 = 380 V on a 0.4 kV base.
    feeders : mapping point -> feeder, optional
    cause : str or mapping point -> str, optional
        Cause to report; default "simulated voltage out of band".
    week_start, min_availability_percent
        As in :func:`gridtwin.quality.evaluate`.

    Returns
    -------
    PotentialDeviations

    Notes
    -----
    GOST 32144-2013 4.2.2 (100 % of the week within ±10 % of U0) fails a week at the first
    step outside the band; EN 50160:2010 4.2.2 when more than 5 % of the steps are outside
    ±10 % or one is below −15 %. A simulated step is a power-flow snapshot, not a 10-min
    IEC 61000-4-30 aggregate: a potential deviation is a forecast, not a measurement.
    """
    if not isinstance(source, pd.DataFrame):
        msg = (
            "potential_deviations: source must be a DataFrame of per-unit voltages (time x "
            f"point), got {type(source).__name__}; for a network CheckReport use "
            "gridtwin.workflows.potential_deviations"
        )
        raise InputError(msg)
    vm = source
    idx = vm.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
        msg = "potential_deviations: the voltage frame needs a tz-aware DatetimeIndex (UTC)"
        raise InputError(msg)
    points = [str(c) for c in vm.columns]
    u0 = _per_point(u0_pu, points, "u0_pu")
    causes = (
        {p: cause.get(p, "") for p in points}
        if isinstance(cause, Mapping)
        else dict.fromkeys(
            points, cause or "simulated voltage out of band (no network check given)"
        )
    )
    levels: dict[str, str] = dict.fromkeys(points, str(voltage_level))
    return evaluate_potential(
        vm.to_numpy(dtype=np.float64),
        idx,
        points,
        u0=u0,
        levels=levels,
        feeders=dict(feeders or {}),
        causes=causes,
        limit_set=resolve_limit_set(standard),
        timezone=timezone,
        week_start=week_start,
        min_availability_percent=min_availability_percent,
    )


def _per_point(
    value: float | Mapping[str, float], points: list[str], name: str
) -> dict[str, float]:
    """A value per point: from the mapping (every point needed) or the same."""
    if isinstance(value, Mapping):
        missing = [p for p in points if p not in value]
        if missing:
            msg = f"{name}: no value for point(s) {missing[:5]}"
            raise InputError(msg)
        return {p: float(value[p]) for p in points}
    return dict.fromkeys(points, float(value))


def potential_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows of potential deviations as a frame with the columns of :data:`POTENTIAL_COLUMNS`
    (times as UTC timestamps, step counts as nullable integers)."""
    frame = pd.DataFrame(rows, columns=list(POTENTIAL_COLUMNS))
    for c in (
        "period_start_utc",
        "period_end_utc",
        "first_time_utc",
        "last_time_utc",
        "worst_time_utc",
    ):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    frame["n_steps_out"] = frame["n_steps_out"].astype("Int64")
    return frame


def evaluate_potential(
    vm: FloatArray,
    time_utc: pd.DatetimeIndex,
    points: list[str],
    *,
    u0: Mapping[str, float],
    levels: Mapping[str, str],
    feeders: Mapping[str, str],
    causes: Mapping[str, str],
    limit_set: LimitSet,
    timezone: str,
    week_start: str | pd.Timestamp | None = None,
    min_availability_percent: float | None = None,
    step: pd.Timedelta | None = None,
    notes: Sequence[str] = (),
) -> PotentialDeviations:
    """Potential deviations of per-unit voltages ``vm`` (steps x points) [p.u.].

    Points are evaluated in groups of equal voltage level and U0 (``u0``, ``levels``
    per point); ``feeders`` and ``causes`` label the rows; ``notes`` come first in the
    result's notes. See :func:`potential_deviations` for the rules.
    """
    ls, min_av, all_notes = limit_set, min_availability_percent, list(notes)
    rows: list[dict[str, Any]] = []
    basis = ""
    groups: dict[tuple[str, float], list[int]] = {}
    for i, p in enumerate(points):
        groups.setdefault((levels[p], u0[p]), []).append(i)
    for (level, u0_g), cols in groups.items():
        lv: VoltageLevel = "MV" if level == "MV" else "LV"
        ev = evaluate_voltage_pu(
            vm[:, cols],
            time_utc,
            limit_set=ls,
            voltage_level=lv,
            timezone=timezone,
            point_ids=[points[c] for c in cols],
            step=step,
            u0_pu=u0_g,
            week_start=week_start,
            min_availability_percent=min_av,
        )
        basis = ev.basis
        all_notes += [n for n in ev.notes if n not in all_notes]
        ind = ls.indicator(lv, "voltage_deviation")
        labels = _Labels([points[c] for c in cols], level, feeders, causes)
        rows += _episodes(vm[:, cols], time_utc, ev.weekly, ind, u0_g, ev.step_s, labels)
    table = potential_frame(rows).sort_values(
        ["period_start_utc", "first_time_utc", "point_id"], kind="stable"
    )
    return PotentialDeviations(table.reset_index(drop=True), ls.id, basis, tuple(all_notes))


@dataclass(frozen=True)
class _Labels:
    """How the rows of one group of points (equal level and U0) are labelled."""

    points: list[str]  # point of each column
    level: str
    feeders: Mapping[str, str]
    causes: Mapping[str, str]


def _episodes(
    vm: FloatArray,
    time_utc: pd.DatetimeIndex,
    weekly: IndicatorEvaluation,
    ind: Indicator,
    u0: float,
    step_s: float,
    labels: _Labels,
) -> list[dict[str, Any]]:
    """First, last and worst step outside the narrowest band, per failing point-week."""
    points, level, feeders, causes = labels.points, labels.level, labels.feeders, labels.causes
    d = (vm / u0 - 1.0) * 100.0
    band = ind.narrowest_limit
    t_ns = utc_ns(time_utc)
    bounds = utc_ns(weekly.period_start_utc), utc_ns(weekly.period_end_utc)
    rows = []
    masks = _outside_band(d, band)
    for k in range(len(bounds[0])):
        s, e = np.searchsorted(t_ns, bounds[0][k]), np.searchsorted(t_ns, bounds[1][k])
        rules = _certain_failures(weekly, ind, k)
        fail = np.array(sorted(rules), dtype=np.int64)
        for direction, mask in masks.items():
            m = mask[s:e]
            for c in fail:
                hit = np.flatnonzero(m[:, c])
                if not hit.size:
                    continue
                seg = d[s:e, c]
                w = hit[np.argmin(seg[hit])] if direction == "under" else hit[np.argmax(seg[hit])]
                n_valid = int(np.isfinite(seg).sum())
                rows.append(
                    {
                        "point_id": points[c],
                        "feeder": feeders.get(points[c], ""),
                        "voltage_level": level,
                        "period_start_utc": weekly.period_start_utc[k],
                        "period_end_utc": weekly.period_end_utc[k],
                        "direction": direction,
                        "first_time_utc": time_utc[s + int(hit[0])],
                        "last_time_utc": time_utc[s + int(hit[-1])],
                        "worst_time_utc": time_utc[s + int(w)],
                        "worst_vm_pu": float(vm[s + int(w), c]),
                        "worst_deviation_percent": float(seg[w]),
                        "n_steps_out": int(hit.size),
                        "hours_out": hit.size * step_s / 3600.0,
                        "share_out_percent": 100.0 * hit.size / max(n_valid, 1),
                        "band": band.band_text(ind.unit),
                        "clause": ind.citation,
                        "verdict": "fail",
                        "rule": rules[int(c)],
                        "cause": causes.get(points[c], ""),
                    }
                )
    return rows


def _outside_band(d: FloatArray, band: Limit) -> dict[str, npt.NDArray[np.bool_]]:
    """Steps below (``'under'``) and above (``'over'``) the band, deviations ``d`` [%]."""
    with np.errstate(invalid="ignore"):
        return {
            "under": d < (band.lower if band.lower is not None else -np.inf) - 1e-9,
            "over": d > (band.upper if band.upper is not None else np.inf) + 1e-9,
        }


def _certain_failures(weekly: IndicatorEvaluation, ind: Indicator, k: int) -> dict[int, str]:
    """Columns whose week fails whatever the steps not simulated would hold, with the rule.

    A forecast usually covers less than a week, so its verdict is 'insufficient data';
    the week already fails when a step is outside the 100 % band (N2 > 0) or when more
    steps are outside the share band than the allowance of the *whole* week
    (N1 > (1 - share) x N_expected).
    """
    out: dict[int, str] = {}
    n_exp = int(weekly.n_expected[k])
    for c in range(weekly.verdict.shape[1]):
        if weekly.verdict[k, c] == "fail":
            out[c] = str(weekly.rule[k, c])
            continue
        n1, n2 = int(weekly.n1[k, c]), int(weekly.n2[k, c])
        part = (
            f" with {weekly.availability_percent[k, c]:.0f} % of the week simulated, "
            f"whatever the rest holds [{ind.citation}]"
        )
        if ind.max_limit is not None and n2 > 0:
            out[c] = (
                f"fail: N2 = {n2} > 0: a step outside {ind.max_limit.band_text(ind.unit)}{part}"
            )
        elif ind.share_limit is not None:
            bp = ind.share_limit.share_basis_points
            if n1 * 10_000 > (10_000 - bp) * n_exp:
                out[c] = (
                    f"fail: N1 = {n1} > {100 - ind.share_limit.share_percent:g} % of "
                    f"the {n_exp} steps of the week{part}"
                )
    return out
