"""Alarms: rules as data, evaluation with deadband and delays, the ISA-18.2 state model,
operator actions and alarm-system health (ANSI/ISA-18.2-2016, IEC 62682:2014).

A pure domain package: values in, new state and event records out. It reads only its own
rule files (and, for ``standard:`` limit references, the limit sets of
:mod:`gridtwin.quality`). Persisting the events and the state is the caller's job; both
serialise to plain dicts (``to_dict``/``from_dict``) and :func:`replay` rebuilds the state
from the stored events.

::

    rules = default_rules("EN 50160:2010")
    state = AlarmSystemState()
    upd = evaluate(rules, state, Snapshot(t, {("vm_pu", "bus:3"): 1.12}), elements=info)
    store(upd.events); state = upd.state
    upd = acknowledge(state, "customer-voltage-high-lv@bus:3", user="op1", time_utc=t2)
"""

from __future__ import annotations

from gridtwin.alarms._actions import (
    acknowledge,
    comment,
    remove_from_service,
    reset,
    return_to_service,
    shelve,
    unshelve,
)
from gridtwin.alarms._engine import (
    AlarmUpdate,
    ElementInfo,
    PotentialAlarm,
    Snapshot,
    evaluate,
    replay,
    watched,
)
from gridtwin.alarms._health import (
    AlarmHealth,
    AlarmRate,
    BadActor,
    ChatteringAlarm,
    FloodPeriod,
    FloodReport,
    PriorityDistribution,
    StaleAlarm,
    alarm_health,
    alarm_rate,
    bad_actors,
    chattering_alarms,
    flood_report,
    priority_distribution,
    stale_alarms,
)
from gridtwin.alarms._model import (
    ACTIVE_STATES,
    CORE_STATES,
    LEGAL_TRANSITIONS,
    PRIORITIES,
    SYSTEM_USER,
    AlarmActionError,
    AlarmConfig,
    AlarmEvent,
    AlarmInstance,
    AlarmState,
    AlarmSystemState,
    EventKind,
    Priority,
    apply_event,
    instance_id,
)
from gridtwin.alarms._rules import (
    PRIORITY_TARGET_PERCENT,
    AlarmRule,
    RuleFileSpec,
    RuleSet,
    default_rules,
    load_rules,
    rules_from_dict,
)

__all__ = [
    "ACTIVE_STATES",
    "CORE_STATES",
    "LEGAL_TRANSITIONS",
    "PRIORITIES",
    "PRIORITY_TARGET_PERCENT",
    "SYSTEM_USER",
    "AlarmActionError",
    "AlarmConfig",
    "AlarmEvent",
    "AlarmHealth",
    "AlarmInstance",
    "AlarmRate",
    "AlarmRule",
    "AlarmState",
    "AlarmSystemState",
    "AlarmUpdate",
    "BadActor",
    "ChatteringAlarm",
    "ElementInfo",
    "EventKind",
    "FloodPeriod",
    "FloodReport",
    "PotentialAlarm",
    "Priority",
    "PriorityDistribution",
    "RuleFileSpec",
    "RuleSet",
    "Snapshot",
    "StaleAlarm",
    "acknowledge",
    "alarm_health",
    "alarm_rate",
    "apply_event",
    "bad_actors",
    "chattering_alarms",
    "comment",
    "default_rules",
    "evaluate",
    "flood_report",
    "instance_id",
    "load_rules",
    "priority_distribution",
    "remove_from_service",
    "replay",
    "reset",
    "return_to_service",
    "rules_from_dict",
    "shelve",
    "stale_alarms",
    "unshelve",
    "watched",
]
