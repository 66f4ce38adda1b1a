"""Property test: any sequence of values, suppressions and operator actions (legal or
refused) keeps every instance in a defined state, and replaying the event log gives the
same state."""

from __future__ import annotations

import contextlib
from typing import Any, get_args

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gridtwin.alarms import (
    CORE_STATES,
    AlarmActionError,
    AlarmEvent,
    AlarmInstance,
    AlarmState,
    AlarmSystemState,
    AlarmUpdate,
    Snapshot,
    acknowledge,
    comment,
    evaluate,
    remove_from_service,
    replay,
    reset,
    return_to_service,
    shelve,
    unshelve,
)

from ._helpers import at, ruleset
from ._helpers import rule as rule_spec

RULES = ruleset(
    rule_spec(id="plain", deadband=2.0, delay_on_s=20, delay_off_s=10),
    rule_spec(id="latch", latching=True),
    rule_spec(id="fast", deadband=1.0),
    system={"max_shelve_s": 300, "chattering_activations": 3, "chattering_window_s": 60},
)
IDS = ("plain@line:1", "latch@line:1", "fast@line:1")
STATES = set(get_args(AlarmState))

ACTIONS = ["ack", "shelve", "shelve_one_shot", "unshelve", "reset", "comment", "remove", "return"]


def _action(state: AlarmSystemState, op: tuple[Any, ...], t: float) -> AlarmUpdate:
    name, iid, seconds = op
    kw: dict[str, Any] = {"user": "op", "time_utc": at(t), "config": RULES.config}
    if name == "ack":
        return acknowledge(state, iid, **kw)
    if name == "shelve":
        return shelve(state, iid, duration_s=seconds, reason="test", **kw)
    if name == "shelve_one_shot":
        return shelve(state, iid, one_shot=True, reason="test", **kw)
    if name == "unshelve":
        return unshelve(state, iid, **kw)
    if name == "reset":
        return reset(state, iid, **kw)
    if name == "comment":
        return comment(state, iid, text="note", **kw)
    if name == "remove":
        return remove_from_service(state, iid, reason="test", **kw)
    return return_to_service(state, iid, **kw)


def _check(state: AlarmSystemState) -> None:
    for inst in state.instances.values():
        assert inst.state in STATES
        assert inst.core in CORE_STATES
        if inst.in_mode:
            assert inst.core == "normal"
        else:
            assert (inst.core in ("unacknowledged", "acknowledged")) == inst.condition_active
        if inst.core == "latched":
            assert inst.rule_id == "latch"
        if inst.core == "returned_unacknowledged":
            assert inst.rule_id != "latch"
        if inst.one_shot:
            assert inst.shelved_until_utc is not None
        if inst.shelved_until_utc is not None:
            assert state.time_utc is not None
            assert inst.shelved_until_utc > state.time_utc


class AlarmMachine(RuleBasedStateMachine):
    """Values, suppressions and operator actions in any order; refused actions are skipped."""

    def __init__(self) -> None:
        super().__init__()
        self.state = AlarmSystemState()
        self.log: list[AlarmEvent] = []
        self.t = 0.0

    def _take(self, upd: AlarmUpdate) -> None:
        for ev in upd.events:
            assert ev.to_state == "unacknowledged" or not ev.annunciated
        self.log += upd.events
        self.state = upd.state

    @rule(
        dt=st.sampled_from([0, 5, 10, 30, 60, 200]),
        value=st.sampled_from([50.0, 98.5, 100.0, 101.0, 150.0]),
        suppressed=st.sampled_from([False, False, False, False, True]),
        present=st.sampled_from([True, True, True, False]),
    )
    def values(self, dt: int, value: float, suppressed: bool, present: bool) -> None:
        self.t += dt
        snap = Snapshot(
            at(self.t),
            {("loading_percent", "line:1"): value} if present else {},
            {"line:1": "open"} if suppressed else {},
        )
        self._take(evaluate(RULES, self.state, snap))

    @rule(
        dt=st.sampled_from([0, 5, 30]),
        name=st.sampled_from(ACTIONS),
        iid=st.sampled_from(IDS),
        seconds=st.sampled_from([30.0, 120.0, 400.0]),
    )
    def act(self, dt: int, name: str, iid: str, seconds: float) -> None:
        if iid not in self.state.instances:
            return
        self.t += dt
        with contextlib.suppress(AlarmActionError):
            self._take(_action(self.state, (name, iid, seconds), self.t))

    @invariant()
    def defined(self) -> None:
        _check(self.state)

    def teardown(self) -> None:
        replayed = replay(self.log, RULES.config).instances
        for iid, inst in self.state.without_timers().instances.items():
            if iid in replayed:
                assert replayed[iid] == inst
            else:  # watched but never changed: an instance without events is a fresh one
                assert inst == AlarmInstance(iid, inst.rule_id, inst.element, inst.priority)
        assert set(replayed) <= set(self.state.instances)
        assert AlarmSystemState.from_dict(self.state.to_dict()) == self.state
        SEEN.update((e.kind, e.from_state, e.to_state) for e in self.log)


SEEN: set[tuple[str, str, str]] = set()
AlarmMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=50, deadline=None)
TestAlarmMachine = AlarmMachine.TestCase
