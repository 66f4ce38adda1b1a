"""Alarms on the live twin's state: each interval's state through the alarm rules.

:class:`LiveAlarms` keeps the alarm system's state (:mod:`gridtwin.alarms`) for one
network model. :meth:`LiveAlarms.on_state` turns a :class:`~gridtwin.workflows.live.LiveState`
into the rules' values (``vm_pu`` of buses, ``loading_percent`` of lines and transformers)
and, with a forward look over the next profile steps, into potential alarms with their lead
time. Operator actions (acknowledge, shelve, ...) go through :meth:`LiveAlarms.act` with
the user who acts. Every event is handed to ``on_events`` (the service stores them) and
kept in memory; :meth:`LiveAlarms.restore` rebuilds the state from a stored log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gridtwin.alarms import (
    AlarmEvent,
    AlarmInstance,
    AlarmSystemState,
    AlarmUpdate,
    ElementInfo,
    PotentialAlarm,
    RuleSet,
    Snapshot,
    acknowledge,
    comment,
    default_rules,
    evaluate,
    remove_from_service,
    replay,
    reset,
    return_to_service,
    shelve,
    unshelve,
)
from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.network import NetworkModel
    from gridtwin.workflows.live import LiveState

__all__ = ["ACTIONS", "LiveAlarms", "element_infos", "snapshot_of", "snapshot_values"]

#: Operator actions by name (the API's words).
ACTIONS: dict[str, Callable[..., AlarmUpdate]] = {
    "acknowledge": acknowledge,
    "shelve": shelve,
    "unshelve": unshelve,
    "reset": reset,
    "comment": comment,
    "remove-from-service": remove_from_service,
    "return-to-service": return_to_service,
}


def element_infos(model: NetworkModel, standard: str) -> dict[str, ElementInfo]:
    """What the rules may ask of each bus: its voltage level, the standard's reference
    voltage U0 [pu] for customer buses, and the tag ``customer``."""
    from gridtwin.network.checks import customer_reference

    net = model.net
    ref = customer_reference(model, standard)
    u0_of = dict(zip(ref["bus"].astype(int), ref["u0_pu"].astype(float), strict=True))
    out: dict[str, ElementInfo] = {}
    for bus, vn_kv in zip(net.bus.index, net.bus["vn_kv"].astype(float), strict=True):
        level = "LV" if vn_kv < 1.0 else "MV" if vn_kv <= 35.0 else "HV"
        if int(bus) in u0_of:
            out[f"bus:{bus}"] = ElementInfo(level, u0_of[int(bus)], frozenset({"customer"}))
        else:
            out[f"bus:{bus}"] = ElementInfo(level)
    return out


def snapshot_values(time_utc: datetime, columns: Sequence[tuple[str, str, Any, Any]]) -> Snapshot:
    """A snapshot from ``(quantity, table, element ids, values)`` columns (NaN left out)."""
    import numpy as np

    values: dict[tuple[str, str], float] = {}
    for quantity, table, ids, vals in columns:
        v = np.asarray(vals, dtype=np.float64)
        ok = np.isfinite(v)
        for i, x in zip(np.asarray(ids)[ok].tolist(), v[ok].tolist(), strict=True):
            values[(quantity, f"{table}:{i}")] = x
    return Snapshot(time_utc, values)


def snapshot_of(state: LiveState) -> Snapshot:
    """The rules' values of one interval's state: bus ``vm_pu``, line and transformer
    ``loading_percent`` and, where the twin has it, transformer ``hot_spot_c``."""
    columns: list[tuple[str, str, Any, Any]] = [
        (quantity, table, series.index, series.to_numpy(dtype=float))
        for quantity, table, series in (
            ("vm_pu", "bus", state.vm_pu),
            ("loading_percent", "line", state.line_loading_percent),
            ("loading_percent", "trafo", state.trafo_loading_percent),
        )
    ]
    hot = state.trafo_hot_spot_c
    if hot is not None:
        columns.append(("hot_spot_c", "trafo", hot.index, hot.to_numpy(dtype=float)))
    return snapshot_values(state.time_utc.to_pydatetime(), columns)


class LiveAlarms:
    """The alarm system of a live twin (see the module docstring).

    Parameters
    ----------
    model : NetworkModel
    standard : str
        The supply-voltage standard of the voltage rules.
    rules : RuleSet, optional
        Default: :func:`gridtwin.alarms.default_rules` for ``standard``.
    on_events : callable, optional
        Called with every batch of new events (to store them), under the lock, in order.
    """

    def __init__(
        self,
        model: NetworkModel,
        standard: str,
        rules: RuleSet | None = None,
        *,
        on_events: Callable[[Sequence[AlarmEvent]], None] | None = None,
    ) -> None:
        self.rules = rules or default_rules(standard)
        self.elements = element_infos(model, standard)
        self.state = AlarmSystemState()
        self.events: list[AlarmEvent] = []
        self.potential: tuple[PotentialAlarm, ...] = ()
        #: Potential alarms of the day-ahead early warning (:mod:`gridtwin.warning`).
        self.early: tuple[PotentialAlarm, ...] = ()
        #: Early warnings of the equipment trends (gridtwin.assets.trends), set by
        #: :meth:`set_trend_potential`; listed beside the forward look's potential alarms.
        self.trend_potential: tuple[PotentialAlarm, ...] = ()
        self.on_events = on_events
        self.skipped_late = 0
        self._lock = threading.RLock()

    def instances(self) -> list[AlarmInstance]:
        """Every alarm instance now (a copy)."""
        with self._lock:
            return list(self.state.instances.values())

    def event_log(self) -> list[AlarmEvent]:
        """Every event so far, oldest first (a copy)."""
        with self._lock:
            return list(self.events)

    def restore(self, events: Sequence[AlarmEvent]) -> None:
        """Rebuild the state from a stored event log (pending delay timers restart)."""
        with self._lock:
            self.state = replay(list(events), self.rules.config)
            self.events = list(events)

    def _apply(self, update: AlarmUpdate) -> AlarmUpdate:
        self.state = update.state
        if update.events:
            self.events.extend(update.events)
            if self.on_events is not None:
                self.on_events(update.events)
        return update

    def on_state(self, state: LiveState, forecast: Sequence[Snapshot] = ()) -> AlarmUpdate:
        """Evaluate the rules on an interval's state (and a forward look)."""
        with self._lock:
            last = self.state.time_utc
            if last is not None and state.time_utc.to_pydatetime() < last:
                # an older interval again (a late revision): the alarms' timeline has
                # moved on; the state is kept, the alarms stay as they are
                self.skipped_late += 1
                return AlarmUpdate(self.state, (), self.potential)
            update = evaluate(
                self.rules,
                self.state,
                snapshot_of(state),
                forecast=forecast,
                elements=self.elements,
                config=self.rules.config,
            )
            self.potential = tuple(update.potential)
            return self._apply(update)

    def act(
        self,
        action: str,
        instance_id: str,
        *,
        user: str,
        time_utc: datetime | None = None,
        **kwargs: Any,
    ) -> AlarmUpdate:
        """An operator action by ``user`` (``acknowledge``, ``shelve`` with
        ``duration_s`` or ``one_shot``, ``comment`` with ``text``, ...)."""
        fn = ACTIONS.get(action)
        if fn is None:
            msg = f"unknown alarm action {action!r}; use one of {', '.join(ACTIONS)}"
            raise InputError(msg)
        with self._lock:
            when = time_utc or self._now()
            update = fn(
                self.state,
                instance_id,
                user=user,
                time_utc=when,
                config=self.rules.config,
                **kwargs,
            )
            return self._apply(update)

    def set_early(self, potential: Sequence[PotentialAlarm]) -> None:
        """Replace the early warning's potential alarms (those of a newer forecast day)."""
        with self._lock:
            self.early = tuple(potential)

    def set_trend_potential(self, alarms: Sequence[PotentialAlarm]) -> None:
        """Replace the equipment trends' potential alarms (each evaluation's whole set)."""
        with self._lock:
            self.trend_potential = tuple(alarms)

    def _now(self) -> datetime:
        """The alarm clock: the twin's own time, that of the newest interval evaluated.

        Alarm events live on the twin's timeline (an interval's start for conditions),
        so an operator's action is stamped with the newest interval time: the timeline
        stays ordered whether the data are live or replayed from another year. The wall
        time of the request is in the service's audit log."""
        last = self.state.time_utc
        if last is None:
            msg = "no interval has been evaluated yet: there is no alarm to act on"
            raise InputError(msg)
        return last
