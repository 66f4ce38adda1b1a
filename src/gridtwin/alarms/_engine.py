"""Evaluation of the rules on one interval's values: deadband, delay timers, conditions,
suppression by design, shelve expiry, and potential alarms on a forecast.

One call of :func:`evaluate` takes the state after the previous call, the values of now
and (optionally) a forecast, and returns the new state, the events of the transitions and
the potential alarms. Nothing is mutated; nothing is read or written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from gridtwin.alarms._model import (
    SYSTEM_USER,
    AlarmConfig,
    AlarmEvent,
    AlarmInstance,
    AlarmState,
    AlarmSystemState,
    EventKind,
    apply_event,
    check_utc,
    instance_id,
    split_element,
)
from gridtwin.alarms._rules import AlarmRule, RuleSet
from gridtwin.errors import InputError

__all__ = [
    "AlarmUpdate",
    "ElementInfo",
    "PotentialAlarm",
    "Snapshot",
    "evaluate",
    "replay",
    "watched",
]


@dataclass(frozen=True)
class ElementInfo:
    """What the rules may ask of an element (static for a network model).

    Attributes
    ----------
    voltage_level : {'LV', 'MV', 'HV'} or None
        For rules with ``elements.voltage_level``.
    u0_pu : float
        Reference voltage U0 of the element in pu of its base voltage (e.g. 0.95 for a
        0.4 kV bus judged on GOST's 380 V), for standard voltage bands on ``vm_pu``.
    tags : frozenset of str
        Labels rules can select on (``customer``: a bus with connected customers).
    position : str
        The operator position (console) that handles the element's alarms.
    """

    voltage_level: str | None = None
    u0_pu: float = 1.0
    tags: frozenset[str] = frozenset()
    position: str = "main"


_NO_INFO = ElementInfo()
#: The instance fields that end a shelve.
_NO_SHELVE: dict[str, Any] = {"shelved_until_utc": None, "one_shot": False}


@dataclass(frozen=True)
class Snapshot:
    """The values at one time.

    Attributes
    ----------
    time_utc : datetime
        Time of the values (tz-aware).
    values : mapping
        ``(quantity, element) -> value``, e.g. ``("vm_pu", "bus:12") -> 1.043``,
        ``("loading_percent", "line:7") -> 87.5``. An element without a value keeps its
        alarms and timers as they are.
    suppressed : mapping
        ``element -> reason``: elements whose alarms are suppressed by design now (out of
        service, de-energised, under maintenance).
    """

    time_utc: datetime
    values: Mapping[tuple[str, str], float]
    suppressed: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PotentialAlarm:
    """A condition a forecast says will become active.

    Attributes
    ----------
    instance_id, rule_id, element : str
    priority : str
    first_active_utc : datetime
        The first forecast time at which the condition would be active (deadband and
        delay on applied, starting from the instance's current timer).
    lead_time_s : float
        ``first_active_utc`` minus the evaluation time [s].
    value, limit : float
        The forecast value then and the limit.
    message : str
    probability : float or None
        The estimated probability that the condition occurs (a probabilistic early
        warning, :mod:`gridtwin.warning`); None for a forward look on one trajectory.
    source : str
        What foresaw it: ``forward_look`` (the profiles' next hours) or ``forecast``
        (the day-ahead early warning).
    """

    instance_id: str
    rule_id: str
    element: str
    priority: str
    first_active_utc: datetime
    lead_time_s: float
    value: float
    limit: float
    message: str
    probability: float | None = None
    source: str = "forward_look"


@dataclass(frozen=True)
class AlarmUpdate:
    """The result of an evaluation or an operator action.

    Attributes
    ----------
    state : AlarmSystemState
        The new state.
    events : tuple of AlarmEvent
        The transitions, in order: store them (the event log).
    potential : tuple of PotentialAlarm
        Potential alarms (evaluations with a forecast only), by lead time.
    """

    state: AlarmSystemState
    events: tuple[AlarmEvent, ...]
    potential: tuple[PotentialAlarm, ...] = ()


class _Builder:
    """Collects the events of one update and applies them as they are made."""

    def __init__(self, state: AlarmSystemState, config: AlarmConfig, t: datetime) -> None:
        self.instances = dict(state.instances)
        self.config = config
        self.time = t
        self.events: list[AlarmEvent] = []

    def emit(
        self,
        inst: AlarmInstance,
        kind: EventKind,
        to_state: AlarmState,
        *,
        user: str = SYSTEM_USER,
        annunciated: bool = False,
        reason: str = "",
        message: str = "",
        value: float | None = None,
        limit: float | None = None,
        shelved_until_utc: datetime | None = None,
        one_shot: bool = False,
    ) -> AlarmInstance:
        ev = AlarmEvent(
            time_utc=self.time,
            instance_id=inst.instance_id,
            rule_id=inst.rule_id,
            element=inst.element,
            kind=kind,
            user=user,
            from_state=inst.state,
            to_state=to_state,
            priority=inst.priority,
            annunciated=annunciated,
            reason=reason,
            message=message,
            value=value,
            limit=limit,
            shelved_until_utc=shelved_until_utc,
            one_shot=one_shot,
        )
        out = replace(apply_event(inst, ev, self.config), pending_since_utc=inst.pending_since_utc)
        self.events.append(ev)
        self.instances[out.instance_id] = out
        return out

    def mode_change(
        self,
        inst: AlarmInstance,
        kind: EventKind,
        changes: dict[str, Any],
        *,
        reason: str,
        user: str = SYSTEM_USER,
    ) -> AlarmInstance:
        """Emit the event that sets or clears a mode (``changes``: instance fields)."""
        after = replace(inst, **changes)
        to_state, annunciated = target_state(after)
        return self.emit(
            inst,
            kind,
            to_state,
            user=user,
            annunciated=annunciated,
            reason=reason,
            shelved_until_utc=after.shelved_until_utc if kind == "shelved" else None,
            one_shot=after.one_shot if kind == "shelved" else False,
        )

    def update(
        self, state: AlarmSystemState, potential: Iterable[PotentialAlarm] = ()
    ) -> AlarmUpdate:
        t = self.time if state.time_utc is None else max(self.time, state.time_utc)
        return AlarmUpdate(
            AlarmSystemState(self.instances, t), tuple(self.events), tuple(potential)
        )


def target_state(inst: AlarmInstance) -> tuple[AlarmState, bool]:
    """The displayed state of an instance whose modes were just changed, and whether it is
    annunciated: a remaining mode shows; with none left the alarm is annunciated afresh if
    its condition is active, else it is normal."""
    if inst.out_of_service_reason is not None:
        return "out_of_service", False
    if inst.suppressed_reason is not None:
        return "suppressed", False
    if inst.shelved_until_utc is not None:
        return "shelved", False
    if inst.condition_active:
        return "unacknowledged", True
    return "normal", False


def expire_shelves(b: _Builder) -> None:
    """End the shelves whose time is up (timed, or a one-shot's maximum)."""
    for key in sorted(b.instances):
        inst = b.instances[key]
        until = inst.shelved_until_utc
        if until is not None and until <= b.time:
            b.mode_change(
                inst,
                "shelve_expired",
                _NO_SHELVE,
                reason=f"shelve ended at {until.isoformat()}",
            )


def _raw(rule: AlarmRule, value: float, limit: float, active: bool) -> bool:
    """The condition before delays: beyond the limit to activate, back inside it by the
    deadband to clear (a value exactly at a limit is inside)."""
    if rule.direction == "high":
        return value > limit - rule.deadband if active else value > limit
    return value < limit + rule.deadband if active else value < limit


def step_timer(
    rule: AlarmRule, active: bool, pending: datetime | None, raw: bool, t: datetime
) -> tuple[bool, datetime | None]:
    """One step of the delay timers: the new condition and pending-since time."""
    if raw == active:
        return active, None
    since = pending or t
    delay = rule.delay_on_s if raw else rule.delay_off_s
    if (t - since).total_seconds() >= delay:
        return raw, None
    return active, since


def _matches(rule: AlarmRule, element: str, info: ElementInfo) -> bool:
    table, ident = split_element(element)
    if table != rule.table or (rule.ids is not None and ident not in rule.ids):
        return False
    if rule.voltage_level is not None and info.voltage_level != rule.voltage_level:
        return False
    return rule.tags <= info.tags


def _by_quantity(values: Mapping[tuple[str, str], float]) -> dict[str, list[tuple[str, float]]]:
    out: dict[str, list[tuple[str, float]]] = {}
    for key, value in values.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            msg = f"values: key {key!r} must be (quantity, element), e.g. ('vm_pu', 'bus:3')"
            raise InputError(msg)
        quantity, element = key
        v = float(value)
        if not math.isfinite(v):
            msg = (
                f"values: {quantity} of {element} is {value!r}; pass finite values or leave it out"
            )
            raise InputError(msg)
        out.setdefault(quantity, []).append((element, v))
    return out


def _condition(
    b: _Builder, rule: AlarmRule, inst: AlarmInstance, value: float, limit: float
) -> None:
    """Apply one value to one instance: timers, then the activation or clearing event."""
    raw = _raw(rule, value, limit, inst.condition_active)
    active, pending = step_timer(rule, inst.condition_active, inst.pending_since_utc, raw, b.time)
    inst = replace(inst, pending_since_utc=pending)
    b.instances[inst.instance_id] = inst
    if active == inst.condition_active:
        return
    if active:
        text = rule.message_for(inst.element, value, limit)
        if inst.in_mode:
            b.emit(inst, "activated", inst.state, message=text, value=value, limit=limit)
        else:
            b.emit(
                inst,
                "activated",
                "unacknowledged",
                annunciated=True,
                message=text,
                value=value,
                limit=limit,
            )
        return
    if inst.in_mode:
        inst = b.emit(inst, "cleared", inst.state, value=value, limit=limit)
        if inst.one_shot and inst.state == "shelved":
            b.mode_change(
                inst,
                "unshelved",
                _NO_SHELVE,
                reason="one-shot shelve ended: the alarm returned to normal",
            )
        return
    if inst.core == "unacknowledged":
        to: AlarmState = "latched" if rule.latching else "returned_unacknowledged"
    else:  # acknowledged
        to = "latched" if rule.latching else "normal"
    b.emit(inst, "cleared", to, value=value, limit=limit)


def _suppression(b: _Builder, inst: AlarmInstance, reason: str | None) -> AlarmInstance:
    if reason is not None and inst.suppressed_reason is None:
        return b.mode_change(inst, "suppressed", {"suppressed_reason": reason}, reason=reason)
    if reason is None and inst.suppressed_reason is not None:
        return b.mode_change(
            inst, "unsuppressed", {"suppressed_reason": None}, reason="suppression condition ended"
        )
    return inst


def _instances_of(
    rules: RuleSet, snapshot: Snapshot, elements: Mapping[str, ElementInfo]
) -> list[tuple[AlarmRule, str, float, float]]:
    """(rule, element, value, limit) for every value a rule watches."""
    grouped = _by_quantity(snapshot.values)
    out = []
    for rule in rules.rules:
        for element, value in grouped.get(rule.quantity, ()):
            info = elements.get(element, _NO_INFO)
            if _matches(rule, element, info):
                out.append((rule, element, value, rule.limit_for(info.u0_pu)))
    return out


def watched(
    rules: RuleSet, snapshot: Snapshot, elements: Mapping[str, ElementInfo]
) -> list[tuple[AlarmRule, str, float, float]]:
    """``(rule, element, value, limit)`` for every value of ``snapshot`` a rule watches
    (the limit resolved for the element's reference voltage)."""
    return _instances_of(rules, snapshot, elements)


def _start(state: AlarmSystemState, t: datetime, what: str) -> datetime:
    t = check_utc(t, what)
    if state.time_utc is not None and t < state.time_utc:
        msg = (
            f"{what} {t.isoformat()} is before the state's time {state.time_utc.isoformat()}: "
            "evaluate intervals in time order"
        )
        raise InputError(msg)
    return t


def evaluate(
    rules: RuleSet,
    state: AlarmSystemState,
    snapshot: Snapshot,
    *,
    forecast: Sequence[Snapshot] = (),
    elements: Mapping[str, ElementInfo] | None = None,
    config: AlarmConfig | None = None,
) -> AlarmUpdate:
    """Apply the rules to the values of one time.

    Order: shelves whose time is up end; suppression by design follows ``snapshot.suppressed``;
    each watched value goes through the deadband and the delay timers of its instance
    (one instance per rule and element: a repeated activation while active is not a new
    alarm); then, for rules of kind ``potential``, the forecast is searched for conditions
    that would become active.

    Parameters
    ----------
    rules : RuleSet
    state : AlarmSystemState
        The state after the previous evaluation (``AlarmSystemState()`` at the start).
    snapshot : Snapshot
        The values now.
    forecast : sequence of Snapshot, optional
        Values of the next steps, times after ``snapshot.time_utc`` and increasing.
    elements : mapping, optional
        ``element -> ElementInfo`` (voltage level, U0, tags, operator position).
    config : AlarmConfig, optional
        Defaults to the rule file's settings.

    Returns
    -------
    AlarmUpdate
        New state, events (to store), potential alarms.
    """
    t = _start(state, snapshot.time_utc, "snapshot.time_utc")
    cfg = config or rules.config
    info = elements or {}
    b = _Builder(state, cfg, t)
    expire_shelves(b)
    for key in sorted(b.instances):
        existing = b.instances[key]
        _suppression(b, existing, snapshot.suppressed.get(existing.element))
    for rule, element, value, limit in _instances_of(rules, snapshot, info):
        iid = instance_id(rule.id, element)
        found = b.instances.get(iid)
        if found is None:
            inst = AlarmInstance(iid, rule.id, element, rule.priority)
            b.instances[iid] = inst
            inst = _suppression(b, inst, snapshot.suppressed.get(element))
        else:
            inst = replace(found, priority=rule.priority)  # the rule file may have changed
        _condition(b, rule, inst, value, limit)
    potential = _potential(rules, b, forecast, info) if forecast else []
    return b.update(state, potential)


def _forecast_series(
    rules: RuleSet, forecast: Sequence[Snapshot], info: Mapping[str, ElementInfo], t0: datetime
) -> dict[tuple[str, str], list[tuple[datetime, float, float]]]:
    """(rule id, element) -> [(time, value, limit)] of the potential rules, in time order."""
    series: dict[tuple[str, str], list[tuple[datetime, float, float]]] = {}
    before = t0
    potential_rules = RuleSet(
        rules.id, tuple(r for r in rules.rules if r.kind == "potential"), rules.config, rules.path
    )
    for k, snap in enumerate(forecast):
        t = check_utc(snap.time_utc, f"forecast[{k}].time_utc")
        if t <= before:
            msg = f"forecast[{k}].time_utc {t.isoformat()} must be after {before.isoformat()}"
            raise InputError(msg)
        before = t
        for rule, element, value, limit in _instances_of(potential_rules, snap, info):
            if element not in snap.suppressed:
                series.setdefault((rule.id, element), []).append((t, value, limit))
    return series


def _potential(
    rules: RuleSet, b: _Builder, forecast: Sequence[Snapshot], info: Mapping[str, ElementInfo]
) -> list[PotentialAlarm]:
    """Potential alarms: the first forecast time each inactive instance would activate."""
    out = []
    for (rule_id, element), points in _forecast_series(rules, forecast, info, b.time).items():
        rule = rules.rule(rule_id)
        iid = instance_id(rule_id, element)
        inst = b.instances.get(iid)
        if inst is not None and (inst.condition_active or inst.in_mode):
            continue  # the actual alarm covers it, or the operator took it off the list
        pending = None if inst is None else inst.pending_since_utc
        active = False
        for t, value, limit in points:
            raw = _raw(rule, value, limit, active)
            active, pending = step_timer(rule, active, pending, raw, t)
            if active:
                out.append(
                    PotentialAlarm(
                        iid,
                        rule_id,
                        element,
                        rule.priority,
                        t,
                        (t - b.time).total_seconds(),
                        value,
                        limit,
                        rule.message_for(element, value, limit),
                    )
                )
                break
    return sorted(out, key=lambda p: (p.lead_time_s, p.instance_id))


def replay(events: Iterable[AlarmEvent], config: AlarmConfig | None = None) -> AlarmSystemState:
    """The state an event log leads to (delay timers excluded: they are not events).

    Raises
    ------
    InputError
        If an event does not follow from its instance's state (a reordered or incomplete log).
    """
    cfg = config or AlarmConfig()
    instances: dict[str, AlarmInstance] = {}
    last: datetime | None = None
    for ev in events:
        instances[ev.instance_id] = apply_event(instances.get(ev.instance_id), ev, cfg)
        last = ev.time_utc if last is None else max(last, ev.time_utc)
    return AlarmSystemState(instances, last)
