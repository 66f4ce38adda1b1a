"""Serialised records: events and state to dicts (JSON) and back; replay of the log."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from gridtwin.alarms import (
    AlarmEvent,
    AlarmInstance,
    AlarmSystemState,
    acknowledge,
    apply_event,
    replay,
    shelve,
)
from gridtwin.errors import InputError

from ._helpers import LINE, at, rule, ruleset, step


def _log() -> tuple[AlarmSystemState, list[AlarmEvent]]:
    rules = ruleset(rule(delay_off_s=30))
    events: list[AlarmEvent] = []
    upd = step(rules, AlarmSystemState(), 0, {"line:1": 120.0, "line:2": 130.0})
    events += upd.events
    upd = acknowledge(upd.state, LINE, user="op1", time_utc=at(5), comment="ok")
    events += upd.events
    upd = shelve(
        upd.state, "line-high@line:2", user="op1", time_utc=at(6), one_shot=True, reason="r"
    )
    events += upd.events
    upd = step(rules, upd.state, 10, {"line:1": 50.0})  # starts the delay-off timer
    events += upd.events
    return upd.state, events


def test_events_round_trip_through_json() -> None:
    _, events = _log()
    text = json.dumps([e.to_dict() for e in events])
    back = [AlarmEvent.from_dict(d) for d in json.loads(text)]
    assert back == events
    assert back[3].one_shot
    assert back[3].shelved_until_utc is not None


def test_state_round_trips_through_json_with_timers() -> None:
    state, _ = _log()
    assert state.get(LINE).pending_since_utc == at(10)
    back = AlarmSystemState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert back == state


def test_replay_reproduces_the_state_without_timers() -> None:
    state, events = _log()
    replayed = replay(events, ruleset().config)
    assert replayed.instances == state.without_timers().instances
    assert replayed.time_utc == at(6)


def test_replay_refuses_a_reordered_or_incomplete_log() -> None:
    _, events = _log()
    with pytest.raises(InputError, match="out of order or incomplete"):
        replay([events[2], events[0]])
    with pytest.raises(InputError, match="the event log is corrupt"):
        apply_event(None, replace(events[0], to_state="acknowledged"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "exploded"}, "kind"),
        ({"to_state": "weird"}, "to_state"),
        ({"priority": "urgent"}, "priority"),
        ({"time_utc": None}, "time_utc"),
    ],
)
def test_bad_event_dicts(change: dict[str, object], field: str) -> None:
    _, events = _log()
    data = events[0].to_dict() | change
    with pytest.raises(InputError, match=f"field '{field}' is missing or invalid"):
        AlarmEvent.from_dict(data)


def test_bad_time_and_instance_dicts() -> None:
    _, events = _log()
    with pytest.raises(InputError, match="offset"):
        AlarmEvent.from_dict(events[0].to_dict() | {"time_utc": "2026-03-02T12:00:00"})
    with pytest.raises(InputError, match="not an ISO 8601"):
        AlarmEvent.from_dict(events[0].to_dict() | {"time_utc": "noon"})
    inst = AlarmInstance("a@line:1", "a", "line:1", "low").to_dict()
    with pytest.raises(InputError, match="field 'core'"):
        AlarmInstance.from_dict(inst | {"core": "shelved"})
