"""Operator actions on an alarm instance: acknowledge, shelve, unshelve, reset, comment,
remove from service and return to service.

Each action takes the state, the instance id, the user id and the time, checks that the
instance's state allows it (else :class:`AlarmActionError` says why and what to do), and
returns an :class:`AlarmUpdate` with the new state and the events. Shelves whose time is
up end first, as in an evaluation. Who may do what (operators acknowledge and shelve,
administrators take alarms out of service) is the caller's check.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from gridtwin.alarms._engine import _NO_SHELVE, AlarmUpdate, _Builder, _start, expire_shelves
from gridtwin.alarms._model import (
    SYSTEM_USER,
    AlarmActionError,
    AlarmConfig,
    AlarmInstance,
    AlarmSystemState,
)
from gridtwin.errors import InputError

__all__ = [
    "acknowledge",
    "comment",
    "remove_from_service",
    "reset",
    "return_to_service",
    "shelve",
    "unshelve",
]


def _begin(
    state: AlarmSystemState,
    iid: str,
    user: str,
    time_utc: datetime,
    config: AlarmConfig | None,
) -> tuple[_Builder, AlarmInstance]:
    if not isinstance(user, str) or not user.strip() or user == SYSTEM_USER:
        msg = f"user={user!r}: give the operator's user id ({SYSTEM_USER!r} is reserved)"
        raise InputError(msg)
    t = _start(state, time_utc, "time_utc")
    state.get(iid)  # an unknown id fails before anything happens
    b = _Builder(state, config or AlarmConfig(), t)
    expire_shelves(b)
    return b, b.instances[iid]


def _refuse(inst: AlarmInstance, action: str, why: str) -> AlarmActionError:
    return AlarmActionError(f"cannot {action} {inst.instance_id}: it is {inst.state} ({why})")


def _need_text(text: str, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        msg = f"{what} is required: say why (it is recorded with the event)"
        raise InputError(msg)
    return text.strip()


def acknowledge(
    state: AlarmSystemState,
    instance_id: str,
    *,
    user: str,
    time_utc: datetime,
    comment: str = "",
    config: AlarmConfig | None = None,
) -> AlarmUpdate:
    """Acknowledge an ``unacknowledged`` or ``returned_unacknowledged`` alarm.

    ``unacknowledged`` becomes ``acknowledged``; ``returned_unacknowledged`` becomes
    ``normal``. Any other state is refused (a latched alarm is reset, not acknowledged).
    """
    b, inst = _begin(state, instance_id, user, time_utc, config)
    if inst.state == "unacknowledged":
        b.emit(inst, "acknowledged", "acknowledged", user=user, reason=comment)
    elif inst.state == "returned_unacknowledged":
        b.emit(inst, "acknowledged", "normal", user=user, reason=comment)
    else:
        why = {
            "acknowledged": "already acknowledged",
            "latched": "a latched alarm is reset, which acknowledges it: use reset",
        }.get(inst.state, "there is nothing to acknowledge")
        raise _refuse(inst, "acknowledge", why)
    return b.update(state)


def reset(
    state: AlarmSystemState,
    instance_id: str,
    *,
    user: str,
    time_utc: datetime,
    comment: str = "",
    config: AlarmConfig | None = None,
) -> AlarmUpdate:
    """Reset a ``latched`` alarm (its condition has cleared) to ``normal``."""
    b, inst = _begin(state, instance_id, user, time_utc, config)
    if inst.state != "latched":
        raise _refuse(inst, "reset", "only a latched alarm is reset")
    b.emit(inst, "reset", "normal", user=user, reason=comment)
    return b.update(state)


def shelve(
    state: AlarmSystemState,
    instance_id: str,
    *,
    user: str,
    time_utc: datetime,
    reason: str,
    duration_s: float | None = None,
    one_shot: bool = False,
    config: AlarmConfig | None = None,
) -> AlarmUpdate:
    """Shelve an alarm: timed (``duration_s``) or one-shot (until it next returns to normal).

    Parameters
    ----------
    duration_s : float, optional
        Timed shelve: how long [s], at most ``config.max_shelve_s``. With ``one_shot`` it
        is the latest end (default and limit: ``config.max_shelve_s``).
    one_shot : bool
        One-shot shelve; the alarm's condition must be active.
    reason : str
        Why (required; recorded).

    Raises
    ------
    AlarmActionError
        Already shelved, suppressed or out of service; beyond the maximum; a one-shot
        shelve of an alarm whose condition is not active; neither a duration nor one-shot.
    """
    cfg = config or AlarmConfig()
    b, inst = _begin(state, instance_id, user, time_utc, cfg)
    text = _need_text(reason, "reason")
    if inst.in_mode:
        raise _refuse(inst, "shelve", "unshelve it or return it to service first")
    if duration_s is None and not one_shot:
        msg = f"cannot shelve {instance_id}: give duration_s (a timed shelve) or one_shot=True"
        raise AlarmActionError(msg)
    seconds = cfg.max_shelve_s if duration_s is None else float(duration_s)
    if not (math.isfinite(seconds) and seconds > 0):
        msg = (
            f"cannot shelve {instance_id}: duration_s={duration_s!r} must be a positive "
            "number of seconds"
        )
        raise AlarmActionError(msg)
    if seconds > cfg.max_shelve_s:
        msg = (
            f"cannot shelve {instance_id} for {seconds:g} s: the maximum is "
            f"{cfg.max_shelve_s:g} s (AlarmConfig.max_shelve_s)"
        )
        raise AlarmActionError(msg)
    if one_shot and not inst.condition_active:
        raise _refuse(inst, "one-shot shelve", "its condition is not active: use a timed shelve")
    until = b.time + timedelta(seconds=seconds)
    b.mode_change(
        inst,
        "shelved",
        {"shelved_until_utc": until, "one_shot": one_shot},
        user=user,
        reason=text,
    )
    return b.update(state)


def unshelve(
    state: AlarmSystemState,
    instance_id: str,
    *,
    user: str,
    time_utc: datetime,
    comment: str = "",
    config: AlarmConfig | None = None,
) -> AlarmUpdate:
    """End a shelve early; the alarm is annunciated again if its condition is active."""
    b, inst = _begin(state, instance_id, user, time_utc, config)
    if inst.shelved_until_utc is None:
        raise _refuse(inst, "unshelve", "it is not shelved")
    b.mode_change(inst, "unshelved", dict(_NO_SHELVE), user=user, reason=comment)
    return b.update(state)


def comment(
    state: AlarmSystemState,
    instance_id: str,
    *,
    user: str,
    time_utc: datetime,
    text: str,
    config: AlarmConfig | None = None,
) -> AlarmUpdate:
    """Attach a comment to an alarm instance (any state; the state does not change)."""
    b, inst = _begin(state, instance_id, user, time_utc, config)
    b.emit(inst, "comment", inst.state, user=user, reason=_need_text(text, "text"))
    return b.update(state)


def remove_from_service(
    state: AlarmSystemState,
    instance_id: str,
    *,
    user: str,
    time_utc: datetime,
    reason: str,
    config: AlarmConfig | None = None,
) -> AlarmUpdate:
    """Take an alarm out of service (an administrator's action; a shelve is dropped)."""
    b, inst = _begin(state, instance_id, user, time_utc, config)
    text = _need_text(reason, "reason")
    if inst.out_of_service_reason is not None:
        raise _refuse(inst, "remove from service", "it is already out of service")
    b.mode_change(
        inst,
        "removed_from_service",
        {"out_of_service_reason": text, **_NO_SHELVE},
        user=user,
        reason=text,
    )
    return b.update(state)


def return_to_service(
    state: AlarmSystemState,
    instance_id: str,
    *,
    user: str,
    time_utc: datetime,
    comment: str = "",
    config: AlarmConfig | None = None,
) -> AlarmUpdate:
    """Return an out-of-service alarm; annunciated again if its condition is active."""
    b, inst = _begin(state, instance_id, user, time_utc, config)
    if inst.out_of_service_reason is None:
        raise _refuse(inst, "return to service", "it is not out of service")
    b.mode_change(
        inst, "returned_to_service", {"out_of_service_reason": None}, user=user, reason=comment
    )
    return b.update(state)
