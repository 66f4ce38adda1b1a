"""The records of the alarm system: states, events, alarm instances and their serialised form.

The state model follows ANSI/ISA-18.2-2016 (IEC 62682:2014), clause 11 (the alarm state
transition diagram). An *alarm instance* is one rule applied to one element; what the
operator sees (its :data:`AlarmState`) is derived from

- the *core* state: ``normal``, ``unacknowledged`` (active, not acknowledged),
  ``acknowledged`` (active, acknowledged), ``returned_unacknowledged`` (returned to
  normal before it was acknowledged) or ``latched`` (returned to normal, kept by a latching
  rule until the operator resets it);
- three *modes* that take an alarm off the operator's list, in precedence order:
  ``out_of_service`` (taken out by an administrator), ``suppressed`` (suppressed by design:
  a condition such as the element being out of service), ``shelved`` (by an operator, timed
  or one-shot). While a mode holds, the core state is ``normal`` (nothing is annunciated)
  and only the process condition is tracked; when the last mode ends the alarm is
  annunciated afresh if its condition is active, else it is normal.

Every change is an :class:`AlarmEvent`. Applying the events of an instance in order
(:func:`apply_event`) reproduces its state, so the event log is the record to persist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast, get_args

from gridtwin.errors import InputError

__all__ = [
    "ACTIVE_STATES",
    "CORE_STATES",
    "LEGAL_TRANSITIONS",
    "PRIORITIES",
    "SYSTEM_USER",
    "AlarmActionError",
    "AlarmConfig",
    "AlarmEvent",
    "AlarmInstance",
    "AlarmState",
    "AlarmSystemState",
    "EventKind",
    "Priority",
    "apply_event",
    "check_utc",
    "instance_id",
    "split_element",
]

AlarmState = Literal[
    "normal",
    "unacknowledged",
    "acknowledged",
    "returned_unacknowledged",
    "latched",
    "shelved",
    "suppressed",
    "out_of_service",
]
"""What the operator sees of an alarm instance (ISA-18.2 states A to H)."""

CORE_STATES: frozenset[str] = frozenset(
    {"normal", "unacknowledged", "acknowledged", "returned_unacknowledged", "latched"}
)
#: States in which the alarm is active and annunciated (counted as *stale* after 24 h).
ACTIVE_STATES: frozenset[str] = frozenset({"unacknowledged", "acknowledged"})

Priority = Literal["critical", "high", "medium", "low"]
PRIORITIES: tuple[str, ...] = get_args(Priority)

EventKind = Literal[
    "activated",  # the condition became active (after deadband and delay on)
    "cleared",  # the condition returned to normal (after deadband and delay off)
    "acknowledged",
    "reset",  # a latched alarm reset by the operator
    "shelved",
    "unshelved",  # by the operator, or by the system when a one-shot shelve ends
    "shelve_expired",  # a timed shelve (or a one-shot's maximum) ran out
    "suppressed",  # suppressed by design (a condition given with the values)
    "unsuppressed",
    "removed_from_service",
    "returned_to_service",
    "comment",
]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)

#: The ``user`` of a transition the alarm system made by itself.
SYSTEM_USER = "system"


class AlarmActionError(InputError):
    """An operator action that the alarm's state does not allow (e.g. acknowledging an
    alarm that is normal, or shelving beyond the configured maximum)."""


def check_utc(t: datetime, what: str) -> datetime:
    """Return ``t`` in UTC; a naive datetime is refused (name it with ``what``)."""
    if not isinstance(t, datetime) or t.tzinfo is None or t.utcoffset() is None:
        msg = f"{what} must be a timezone-aware datetime (UTC), got {t!r}"
        raise InputError(msg)
    return t.astimezone(UTC)


def instance_id(rule_id: str, element: str) -> str:
    """The id of the alarm instance of ``rule_id`` on ``element``: ``'<rule>@<element>'``."""
    return f"{rule_id}@{element}"


def split_element(element: str) -> tuple[str, str]:
    """``'bus:12'`` -> ``('bus', '12')``; a point id may itself hold colons."""
    table, sep, ident = element.partition(":")
    if not sep or not table or not ident:
        msg = (
            f"element {element!r} must be '<table>:<id>' (e.g. 'bus:12', 'line:7', "
            "'trafo:0', 'point:<point_id>')"
        )
        raise InputError(msg)
    return table, ident


@dataclass(frozen=True)
class AlarmConfig:
    """Settings of the alarm system (ISA-18.2 clauses 11.3 and 16).

    Attributes
    ----------
    max_shelve_s : float
        Longest a shelve may last [s]; a timed shelve beyond it is refused and a one-shot
        shelve ends after it at the latest. Default 8 h (one shift; a site policy choice).
    chattering_activations : int
        An alarm that activates at least this many times ...
    chattering_window_s : float
        ... within this window [s] is *chattering* (ISA-18.2 definition; defaults 3 in 60 s).
    """

    max_shelve_s: float = 8 * 3600.0
    chattering_activations: int = 3
    chattering_window_s: float = 60.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_shelve_s) and self.max_shelve_s > 0):
            msg = f"AlarmConfig.max_shelve_s={self.max_shelve_s!r} must be a positive number [s]"
            raise InputError(msg)
        if int(self.chattering_activations) != self.chattering_activations or (
            self.chattering_activations < 2
        ):
            msg = (
                f"AlarmConfig.chattering_activations={self.chattering_activations!r} must be "
                "an integer >= 2"
            )
            raise InputError(msg)
        if not (math.isfinite(self.chattering_window_s) and self.chattering_window_s > 0):
            msg = (
                f"AlarmConfig.chattering_window_s={self.chattering_window_s!r} must be a "
                "positive number [s]"
            )
            raise InputError(msg)


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _from_iso(text: Any, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        return check_utc(datetime.fromisoformat(str(text)), what)
    except ValueError as exc:
        msg = f"{what}={text!r} is not an ISO 8601 time with an offset"
        raise InputError(msg) from exc


@dataclass(frozen=True)
class AlarmEvent:
    """One transition (or comment) of one alarm instance: the record to store.

    Attributes
    ----------
    time_utc : datetime
        When it happened (tz-aware UTC).
    instance_id, rule_id, element : str
        The alarm instance (``'<rule>@<element>'``), its rule and element (``'bus:12'``).
    kind : EventKind
        What happened.
    user : str
        User id of the operator, or ``'system'``.
    from_state, to_state : AlarmState
        The displayed state before and after.
    priority : Priority
    annunciated : bool
        True when this event presents the alarm to the operator anew (an activation into
        ``unacknowledged``, or a return from a shelve/suppression/out of service into
        ``unacknowledged``): what the alarm-rate and flood metrics count.
    reason : str
        Comment, the reason given by the operator or the system's explanation.
    message : str
        The rule's message for the instance (activations; empty otherwise).
    value, limit : float or None
        The value that caused a condition change and the limit it was compared with
        (in the quantity's unit).
    shelved_until_utc : datetime or None
        For ``shelved``: when the shelve ends at the latest.
    one_shot : bool
        For ``shelved``: a one-shot shelve (ends at the next return to normal).
    """

    time_utc: datetime
    instance_id: str
    rule_id: str
    element: str
    kind: EventKind
    user: str
    from_state: AlarmState
    to_state: AlarmState
    priority: Priority
    annunciated: bool = False
    reason: str = ""
    message: str = ""
    value: float | None = None
    limit: float | None = None
    shelved_until_utc: datetime | None = None
    one_shot: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (times as ISO 8601 strings in UTC)."""
        return {
            "time_utc": _iso(self.time_utc),
            "instance_id": self.instance_id,
            "rule_id": self.rule_id,
            "element": self.element,
            "kind": self.kind,
            "user": self.user,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "priority": self.priority,
            "annunciated": self.annunciated,
            "reason": self.reason,
            "message": self.message,
            "value": self.value,
            "limit": self.limit,
            "shelved_until_utc": _iso(self.shelved_until_utc),
            "one_shot": self.one_shot,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlarmEvent:
        """The inverse of :meth:`to_dict`; a missing or invalid field is an InputError."""
        try:
            kind, frm, to = data["kind"], data["from_state"], data["to_state"]
            if kind not in EVENT_KINDS or frm not in get_args(AlarmState):
                raise KeyError("kind" if kind not in EVENT_KINDS else "from_state")
            if to not in get_args(AlarmState) or data["priority"] not in PRIORITIES:
                raise KeyError("to_state" if to not in get_args(AlarmState) else "priority")
            time = _from_iso(data["time_utc"], "event time_utc")
            if time is None:
                raise KeyError("time_utc")  # noqa: EM101
            return cls(
                time_utc=time,
                instance_id=str(data["instance_id"]),
                rule_id=str(data["rule_id"]),
                element=str(data["element"]),
                kind=kind,
                user=str(data["user"]),
                from_state=frm,
                to_state=to,
                priority=data["priority"],
                annunciated=bool(data.get("annunciated", False)),
                reason=str(data.get("reason", "")),
                message=str(data.get("message", "")),
                value=None if data.get("value") is None else float(data["value"]),
                limit=None if data.get("limit") is None else float(data["limit"]),
                shelved_until_utc=_from_iso(data.get("shelved_until_utc"), "shelved_until_utc"),
                one_shot=bool(data.get("one_shot", False)),
            )
        except KeyError as exc:
            msg = f"alarm event: field {exc.args[0]!r} is missing or invalid in {data!r}"
            raise InputError(msg) from exc


@dataclass(frozen=True)
class AlarmInstance:
    """The state of one alarm instance (one rule on one element).

    Attributes
    ----------
    instance_id, rule_id, element : str
    priority : Priority
    core : AlarmState
        The state without modes (one of :data:`CORE_STATES`).
    condition_active : bool
        The process condition after deadband and delays (what the rule says now).
    shelved_until_utc : datetime or None
        Set while shelved: when the shelve ends at the latest.
    one_shot : bool
        The shelve ends at the next return to normal.
    suppressed_reason : str or None
        Set while suppressed by design.
    out_of_service_reason : str or None
        Set while out of service.
    activations_utc : tuple of datetime
        Activations within the chattering window before the latest one.
    activation_count : int
        Activations since the instance exists.
    chattering_episodes : int
        How often the instance started chattering.
    last_change_utc : datetime or None
        Time of the instance's latest event.
    pending_since_utc : datetime or None
        Timer state (not part of the event log): since when the raw condition has differed
        from ``condition_active`` (the delay-on or delay-off timer).
    """

    instance_id: str
    rule_id: str
    element: str
    priority: Priority
    core: AlarmState = "normal"
    condition_active: bool = False
    shelved_until_utc: datetime | None = None
    one_shot: bool = False
    suppressed_reason: str | None = None
    out_of_service_reason: str | None = None
    activations_utc: tuple[datetime, ...] = ()
    activation_count: int = 0
    chattering_episodes: int = 0
    last_change_utc: datetime | None = None
    pending_since_utc: datetime | None = None

    @property
    def state(self) -> AlarmState:
        """The displayed state: a mode if one holds (out of service, suppressed, shelved,
        in that precedence), else the core state."""
        if self.out_of_service_reason is not None:
            return "out_of_service"
        if self.suppressed_reason is not None:
            return "suppressed"
        if self.shelved_until_utc is not None:
            return "shelved"
        return self.core

    @property
    def in_mode(self) -> bool:
        """Shelved, suppressed or out of service (nothing is annunciated)."""
        return self.state not in CORE_STATES

    def is_chattering(self, config: AlarmConfig) -> bool:
        """At least ``chattering_activations`` activations within the window that ends at
        the latest activation."""
        return len(self.activations_utc) >= config.chattering_activations

    def without_timers(self) -> AlarmInstance:
        """The instance without its delay timer (what the event log determines)."""
        return replace(self, pending_since_utc=None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "instance_id": self.instance_id,
            "rule_id": self.rule_id,
            "element": self.element,
            "priority": self.priority,
            "state": self.state,
            "core": self.core,
            "condition_active": self.condition_active,
            "shelved_until_utc": _iso(self.shelved_until_utc),
            "one_shot": self.one_shot,
            "suppressed_reason": self.suppressed_reason,
            "out_of_service_reason": self.out_of_service_reason,
            "activations_utc": [_iso(t) for t in self.activations_utc],
            "activation_count": self.activation_count,
            "chattering_episodes": self.chattering_episodes,
            "last_change_utc": _iso(self.last_change_utc),
            "pending_since_utc": _iso(self.pending_since_utc),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlarmInstance:
        """The inverse of :meth:`to_dict`."""
        try:
            core = data["core"]
            if core not in CORE_STATES or data["priority"] not in PRIORITIES:
                raise KeyError("core" if core not in CORE_STATES else "priority")
            return cls(
                instance_id=str(data["instance_id"]),
                rule_id=str(data["rule_id"]),
                element=str(data["element"]),
                priority=data["priority"],
                core=core,
                condition_active=bool(data["condition_active"]),
                shelved_until_utc=_from_iso(data.get("shelved_until_utc"), "shelved_until_utc"),
                one_shot=bool(data.get("one_shot", False)),
                suppressed_reason=data.get("suppressed_reason"),
                out_of_service_reason=data.get("out_of_service_reason"),
                activations_utc=tuple(
                    cast(datetime, _from_iso(t, "activations_utc"))
                    for t in data.get("activations_utc", [])
                ),
                activation_count=int(data.get("activation_count", 0)),
                chattering_episodes=int(data.get("chattering_episodes", 0)),
                last_change_utc=_from_iso(data.get("last_change_utc"), "last_change_utc"),
                pending_since_utc=_from_iso(data.get("pending_since_utc"), "pending_since_utc"),
            )
        except KeyError as exc:
            msg = f"alarm instance: field {exc.args[0]!r} is missing or invalid in {data!r}"
            raise InputError(msg) from exc


@dataclass(frozen=True)
class AlarmSystemState:
    """Every alarm instance by id, and the time of the latest evaluation or action.

    Build the initial one with ``AlarmSystemState()``; :func:`gridtwin.alarms.evaluate` and
    the operator actions return new states (the input is never mutated).
    """

    instances: dict[str, AlarmInstance] = field(default_factory=dict)
    time_utc: datetime | None = None

    def get(self, instance_id: str) -> AlarmInstance:
        """One instance; an unknown id is an InputError that lists a few known ones."""
        found = self.instances.get(instance_id)
        if found is None:
            known = ", ".join(sorted(self.instances)[:5]) or "none yet"
            msg = f"no alarm instance {instance_id!r} (known: {known})"
            raise InputError(msg)
        return found

    def active(self) -> list[AlarmInstance]:
        """Instances the operator should see (not normal, not in a mode), by id."""
        return [a for _, a in sorted(self.instances.items()) if a.state not in ("normal", *_MODES)]

    def without_timers(self) -> AlarmSystemState:
        """The state without delay timers (what the event log alone determines)."""
        return AlarmSystemState(
            {k: v.without_timers() for k, v in self.instances.items()}, self.time_utc
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (instances sorted by id)."""
        return {
            "time_utc": _iso(self.time_utc),
            "instances": [self.instances[k].to_dict() for k in sorted(self.instances)],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlarmSystemState:
        """The inverse of :meth:`to_dict`."""
        items = [AlarmInstance.from_dict(d) for d in data.get("instances", [])]
        return cls({a.instance_id: a for a in items}, _from_iso(data.get("time_utc"), "time_utc"))


_MODES = ("shelved", "suppressed", "out_of_service")
_FRESH = ("normal", "unacknowledged")  # where an alarm lands when its last mode ends
_CORE = tuple(sorted(CORE_STATES))


def _pairs(froms: tuple[str, ...], tos: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(f, t) for f in froms for t in tos}


def _same(states: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(x, x) for x in states}


#: Every (from_state, to_state) each kind of event may make (ISA-18.2 clause 11 as
#: modelled here); anything else in a log is corrupt.
LEGAL_TRANSITIONS: dict[str, frozenset[tuple[str, str]]] = {
    k: frozenset(v)
    for k, v in {
        "activated": _pairs(("normal", "returned_unacknowledged", "latched"), ("unacknowledged",))
        | _same(_MODES),
        "cleared": {
            ("unacknowledged", "returned_unacknowledged"),
            ("unacknowledged", "latched"),
            ("acknowledged", "normal"),
            ("acknowledged", "latched"),
        }
        | _same(_MODES),
        "acknowledged": {
            ("unacknowledged", "acknowledged"),
            ("returned_unacknowledged", "normal"),
        },
        "reset": {("latched", "normal")},
        "comment": _same(_CORE + _MODES),
        "shelved": _pairs(_CORE, ("shelved",)),
        # a shelve under a suppression can end (by time or by the operator) unseen
        "unshelved": _pairs(("shelved",), _FRESH) | {("suppressed", "suppressed")},
        "shelve_expired": _pairs(("shelved",), _FRESH) | {("suppressed", "suppressed")},
        "suppressed": _pairs((*_CORE, "shelved"), ("suppressed",)) | _same(("out_of_service",)),
        "unsuppressed": _pairs(("suppressed",), (*_FRESH, "shelved")) | _same(("out_of_service",)),
        "removed_from_service": _pairs((*_CORE, "shelved", "suppressed"), ("out_of_service",)),
        "returned_to_service": _pairs(("out_of_service",), (*_FRESH, "suppressed")),
    }.items()
}


def _record_activation(inst: AlarmInstance, t: datetime, config: AlarmConfig) -> AlarmInstance:
    """Add an activation to the chattering window; count a new chattering episode."""
    window = timedelta(seconds=config.chattering_window_s)
    before = inst.is_chattering(config)
    recent = (*(a for a in inst.activations_utc if a > t - window), t)
    out = replace(inst, activations_utc=recent, activation_count=inst.activation_count + 1)
    if out.is_chattering(config) and not before:
        out = replace(out, chattering_episodes=out.chattering_episodes + 1)
    return out


def _apply_mode(inst: AlarmInstance, ev: AlarmEvent) -> AlarmInstance:
    """Set or clear the mode an event names."""
    k = ev.kind
    if k == "shelved":
        return replace(inst, shelved_until_utc=ev.shelved_until_utc, one_shot=ev.one_shot)
    if k in ("unshelved", "shelve_expired", "removed_from_service"):
        inst = replace(inst, shelved_until_utc=None, one_shot=False)
    if k == "removed_from_service":
        return replace(inst, out_of_service_reason=ev.reason or "removed from service")
    if k == "returned_to_service":
        return replace(inst, out_of_service_reason=None)
    if k == "suppressed":
        return replace(inst, suppressed_reason=ev.reason or "suppressed by design")
    if k == "unsuppressed":
        return replace(inst, suppressed_reason=None)
    return inst


def apply_event(
    inst: AlarmInstance | None, ev: AlarmEvent, config: AlarmConfig | None = None
) -> AlarmInstance:
    """The instance after one event: the one function the engine and a replay both use.

    Parameters
    ----------
    inst : AlarmInstance or None
        The instance before (None: it does not exist yet).
    ev : AlarmEvent
        The event, for this instance.
    config : AlarmConfig, optional
        The chattering window.

    Raises
    ------
    InputError
        If the event does not follow from the instance's state (a corrupt or reordered
        log): its ``from_state`` differs from the instance's, or its ``to_state`` is not
        what applying it gives.
    """
    cfg = config or AlarmConfig()
    if inst is None:
        inst = AlarmInstance(ev.instance_id, ev.rule_id, ev.element, ev.priority)
    if ev.instance_id != inst.instance_id or ev.from_state != inst.state:
        msg = (
            f"alarm event {ev.kind} of {ev.instance_id} at {ev.time_utc.isoformat()} starts "
            f"from {ev.from_state!r}, but the instance {inst.instance_id} is {inst.state!r}: "
            "the event log is out of order or incomplete"
        )
        raise InputError(msg)
    if (ev.from_state, ev.to_state) not in LEGAL_TRANSITIONS[ev.kind]:
        msg = (
            f"alarm event {ev.kind} of {ev.instance_id} at {ev.time_utc.isoformat()} goes from "
            f"{ev.from_state!r} to {ev.to_state!r}, which is not a transition of the state "
            "model: the event log is corrupt"
        )
        raise InputError(msg)
    out = replace(inst, priority=ev.priority, last_change_utc=ev.time_utc)
    if ev.kind == "activated":
        out = _record_activation(replace(out, condition_active=True), ev.time_utc, cfg)
    elif ev.kind == "cleared":
        out = replace(out, condition_active=False)
    out = _apply_mode(out, ev)
    out = replace(out, core=ev.to_state if ev.to_state in CORE_STATES else "normal")
    if out.state != ev.to_state:
        msg = (
            f"alarm event {ev.kind} of {ev.instance_id} at {ev.time_utc.isoformat()} says "
            f"{ev.to_state!r}, but applying it gives {out.state!r}: the event log is corrupt"
        )
        raise InputError(msg)
    return out
