"""Potential deviations of a forecast day: the alarm rules' limits on scenario power flows.

The limits are those of the twin's alarm rules of kind ``potential``
(:func:`gridtwin.alarms.default_rules`: the customer-voltage band of GOST 32144-2013 or
EN 50160:2010 per voltage level, line and transformer loading against their rating), so
an early warning and the live twin's alarms say the same thing about the same value.

:func:`limits_of` resolves, per rule and element, its direction and limit;
:func:`exceedance` gives the share of scenarios beyond each limit per step (from the
sampled run) and the stress band's value; :func:`findings` turns those at or above the
threshold probability into :class:`Finding` rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.alarms import ElementInfo, PotentialAlarm, RuleSet, Snapshot, instance_id, watched
from gridtwin.warning._qpf import ScenarioFlow

__all__ = [
    "Finding",
    "Limits",
    "band_extreme",
    "exceedance",
    "findings",
    "limits_of",
    "watched_values",
]

FloatArray = npt.NDArray[np.float64]
#: The quantities the scenario power flows give (the transformer hot spot needs a thermal
#: history per scenario: not checked by the early warning).
_QUANTITIES = (("vm_pu", "bus"), ("loading_percent", "line"), ("loading_percent", "trafo"))


@dataclass(frozen=True)
class Limits:
    """What each watched value is checked against: one row per (rule, element).

    Attributes
    ----------
    rule_ids, elements, priorities, messages : tuple of str
    quantity, table : tuple of str
    column : ndarray of int
        The element's column in the scenario results of its table.
    limit : ndarray of float
    low : ndarray of bool
        True for a lower limit (value below it is a deviation).
    """

    rule_ids: tuple[str, ...]
    elements: tuple[str, ...]
    priorities: tuple[str, ...]
    quantity: tuple[str, ...]
    table: tuple[str, ...]
    column: npt.NDArray[np.int64]
    limit: FloatArray
    low: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.rule_ids)


def limits_of(rules: RuleSet, flow: ScenarioFlow, elements: Mapping[str, ElementInfo]) -> Limits:
    """The potential rules' limits for the elements of ``flow`` (hot spot left out)."""
    values: dict[tuple[str, str], float] = {}
    where: dict[str, int] = {}
    for quantity, table in _QUANTITIES:
        ids, _ = flow.values(quantity, table)
        for j, i in enumerate(ids.tolist()):
            values[(quantity, f"{table}:{i}")] = 0.0
            where[f"{table}:{i}"] = j
    potential = RuleSet(
        rules.id, tuple(r for r in rules.rules if r.kind == "potential"), rules.config, rules.path
    )
    rows = watched(potential, Snapshot(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), values), elements)
    return Limits(
        rule_ids=tuple(r.id for r, *_ in rows),
        elements=tuple(e for _, e, *_ in rows),
        priorities=tuple(r.priority for r, *_ in rows),
        quantity=tuple(r.quantity for r, *_ in rows),
        table=tuple(r.table for r, *_ in rows),
        column=np.array([where[e] for _, e, *_ in rows], dtype=np.int64),
        limit=np.array([lim for *_, lim in rows], dtype=np.float64),
        low=np.array([r.direction == "low" for r, *_ in rows], dtype=bool),
    )


def watched_values(flow: ScenarioFlow, lim: Limits) -> FloatArray:
    """The watched values, shape (S, T, n_limits)."""
    s, t = flow.converged.shape
    out = np.full((s, t, len(lim)), np.nan)
    for quantity, table in _QUANTITIES:
        sel = np.flatnonzero(
            [(q, tb) == (quantity, table) for q, tb in zip(lim.quantity, lim.table, strict=True)]
        )
        if sel.size:
            _, vals = flow.values(quantity, table)
            out[:, :, sel] = vals[:, :, lim.column[sel]]
    return out


def exceedance(flow: ScenarioFlow, lim: Limits) -> tuple[FloatArray, FloatArray]:
    """``(probability (T, n_limits), median (T, n_limits))``: the share of converged
    scenarios beyond each limit per step, and the scenarios' median value.

    A scenario that did not converge counts as beyond every limit (a voltage collapse is
    a deviation), and is left out of the median.
    """
    vals = watched_values(flow, lim)
    beyond = np.where(lim.low, vals < lim.limit, vals > lim.limit)
    beyond |= ~flow.converged[:, :, None]
    prob = beyond.mean(axis=0)
    with np.errstate(all="ignore"):
        median = np.nanmedian(np.where(flow.converged[:, :, None], vals, np.nan), axis=0)
    return np.asarray(prob, dtype=np.float64), np.asarray(median, dtype=np.float64)


def band_extreme(flow: ScenarioFlow, lim: Limits) -> FloatArray:
    """The stress band's worst value per step and limit (lowest for a lower limit),
    shape (T, n_limits)."""
    vals = watched_values(flow, lim)
    with np.errstate(all="ignore"):
        lo = np.nanmin(vals, axis=0)
        hi = np.nanmax(vals, axis=0)
    return np.asarray(np.where(lim.low, lo, hi), dtype=np.float64)


@dataclass(frozen=True)
class Finding:
    """A potential deviation of the forecast day.

    Attributes
    ----------
    rule_id, element, priority : str
    first_utc : Timestamp
        The first step whose probability reaches the threshold.
    peak_utc : Timestamp
        The step with the highest probability.
    lead_time_s : float
        ``first_utc`` minus the issue time [s].
    probability : float
        The highest per-step probability of the deviation.
    value : float
        The scenarios' median value at ``peak_utc``.
    band_value : float
        The stress band's worst value at ``peak_utc``.
    limit : float
    low : bool
        A lower limit (under-voltage).
    steps : tuple of int
        Forecast positions whose probability reaches the threshold.
    message : str
    """

    rule_id: str
    element: str
    priority: str
    first_utc: pd.Timestamp
    peak_utc: pd.Timestamp
    lead_time_s: float
    probability: float
    value: float
    band_value: float
    limit: float
    low: bool
    steps: tuple[int, ...]
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {
            "rule_id": self.rule_id,
            "element": self.element,
            "priority": self.priority,
            "first_utc": self.first_utc.isoformat(),
            "peak_utc": self.peak_utc.isoformat(),
            "lead_time_s": self.lead_time_s,
            "probability": self.probability,
            "value": self.value,
            "band_value": self.band_value,
            "limit": self.limit,
            "direction": "low" if self.low else "high",
            "steps": len(self.steps),
            "message": self.message,
        }

    def potential_alarm(self) -> PotentialAlarm:
        """The finding as a potential alarm of the alarm system."""
        return PotentialAlarm(
            instance_id(self.rule_id, self.element),
            self.rule_id,
            self.element,
            self.priority,
            self.first_utc.to_pydatetime(),
            self.lead_time_s,
            self.value,
            self.limit,
            self.message,
            probability=self.probability,
            source="forecast",
        )


def findings(
    rules: RuleSet,
    lim: Limits,
    prob: FloatArray,
    median: FloatArray,
    band: FloatArray,
    time_utc: pd.DatetimeIndex,
    issue_utc: pd.Timestamp,
    threshold: float,
) -> list[Finding]:
    """One finding per (rule, element) whose probability reaches ``threshold`` at some
    step; ordered by first time, then probability (highest first)."""
    out = []
    for j in np.flatnonzero((prob >= threshold).any(axis=0)).tolist():
        hit = np.flatnonzero(prob[:, j] >= threshold)
        peak = int(np.argmax(prob[:, j]))
        first = int(hit[0])
        value = float(median[peak, j])
        rule = rules.rule(lim.rule_ids[j])
        text = rule.message_for(lim.elements[j], value, float(lim.limit[j]))
        p = float(prob[peak, j])
        out.append(
            Finding(
                rule_id=lim.rule_ids[j],
                element=lim.elements[j],
                priority=lim.priorities[j],
                first_utc=time_utc[first],
                peak_utc=time_utc[peak],
                lead_time_s=float((time_utc[first] - issue_utc).total_seconds()),
                probability=p,
                value=value,
                band_value=float(band[peak, j]),
                limit=float(lim.limit[j]),
                low=bool(lim.low[j]),
                steps=tuple(int(k) for k in hit),
                message=f"P = {p:.2f} at {time_utc[peak]:%Y-%m-%d %H:%M}Z: {text}",
            )
        )
    return sorted(out, key=lambda f: (f.first_utc, -f.probability, f.element, f.rule_id))
