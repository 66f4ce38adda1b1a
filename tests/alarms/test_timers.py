"""Deadband, delay-on and delay-off timers with explicit times; selectors; bad values;
chattering."""

from __future__ import annotations

import math

import pytest

from gridtwin.alarms import (
    AlarmConfig,
    AlarmSystemState,
    ElementInfo,
    RuleSet,
    Snapshot,
    chattering_alarms,
    evaluate,
)
from gridtwin.errors import InputError

from ._helpers import LINE, at, rule, ruleset, step


def _run(rules: RuleSet, series: list[tuple[float, float | None]]) -> list[tuple[float, str]]:
    """(seconds, value or None for no value) -> [(seconds, event kind)]."""
    state, out = AlarmSystemState(), []
    for t, value in series:
        upd = step(rules, state, t, {} if value is None else {"line:1": value})
        out += [(t, e.kind) for e in upd.events]
        state = upd.state
    return out


def test_a_value_exactly_at_the_limit_is_inside() -> None:
    assert _run(ruleset(), [(0, 100.0), (1, 100.0000001)]) == [(1, "activated")]
    low = ruleset(rule(limit={"kind": "low", "value": 0.9}))
    assert _run(low, [(0, 0.9), (1, 0.8999)]) == [(1, "activated")]


def test_deadband_high() -> None:
    rules = ruleset(rule(deadband=5.0))
    series = [(0, 101.0), (10, 97.0), (20, 95.01), (30, 95.0), (40, 99.0), (50, 100.5)]
    assert _run(rules, series) == [(0, "activated"), (30, "cleared"), (50, "activated")]


def test_deadband_low() -> None:
    rules = ruleset(rule(limit={"kind": "low", "value": 0.9}, deadband=0.01))
    series = [(0, 0.89), (10, 0.905), (20, 0.91), (30, 0.895)]
    assert _run(rules, series) == [(0, "activated"), (20, "cleared"), (30, "activated")]


def test_delay_on_needs_the_condition_for_the_whole_delay() -> None:
    rules = ruleset(rule(delay_on_s=60))
    assert _run(rules, [(0, 110.0), (30, 110.0), (59, 110.0), (60, 110.0)]) == [(60, "activated")]
    # a dip restarts the timer
    series = [(0, 110.0), (30, 90.0), (45, 110.0), (100, 110.0), (105, 110.0)]
    assert _run(rules, series) == [(105, "activated")]


def test_delay_off_needs_the_return_for_the_whole_delay() -> None:
    rules = ruleset(rule(delay_off_s=120, deadband=2.0))
    series = [(0, 110.0), (10, 97.0), (100, 99.0), (110, 97.0), (229, 97.0), (230, 50.0)]
    # 99 is inside the deadband (above 98): the off timer restarts at 110
    assert _run(rules, series) == [(0, "activated"), (230, "cleared")]


def test_a_missing_value_keeps_the_timer_running() -> None:
    rules = ruleset(rule(delay_on_s=60))
    assert _run(rules, [(0, 110.0), (30, None), (60, 110.0)]) == [(60, "activated")]


def test_event_carries_the_value_and_limit_of_the_change() -> None:
    rules = ruleset(rule(delay_on_s=60))
    state = step(rules, AlarmSystemState(), 0, {"line:1": 110.0}).state
    assert state.get(LINE).pending_since_utc == at(0)
    (ev,) = step(rules, state, 60, {"line:1": 111.0}).events
    assert (ev.time_utc, ev.value, ev.limit) == (at(60), 111.0, 100.0)


def test_selectors_ids_levels_tags_and_u0() -> None:
    rules = ruleset(
        rule(id="some", elements={"table": "line", "ids": [1, "3"]}),
        rule(
            id="v",
            quantity="vm_pu",
            elements={"table": "bus", "voltage_level": "LV", "tags": ["customer"]},
            limit={"kind": "high", "reference": "standard:EN 50160:2010:LV.voltage_deviation"},
        ),
    )
    info = {
        "bus:1": ElementInfo("LV", 0.95, frozenset({"customer"})),
        "bus:2": ElementInfo("LV", 1.0, frozenset()),  # no customers
        "bus:3": ElementInfo("MV", 1.0, frozenset({"customer"})),
    }
    values = {("loading_percent", f"line:{k}"): 150.0 for k in (1, 2, 3)} | {
        ("vm_pu", f"bus:{k}"): 1.05 for k in (1, 2, 3)
    }
    upd = evaluate(rules, AlarmSystemState(), Snapshot(at(0), values), elements=info)
    assert sorted(e.instance_id for e in upd.events) == ["some@line:1", "some@line:3", "v@bus:1"]
    (v,) = [e for e in upd.events if e.rule_id == "v"]
    assert math.isclose(v.limit or 0, 0.95 * 1.10)  # 1.045 pu: 1.05 is above it


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({("loading_percent", "line:1"): math.nan}, "pass finite values"),
        ({("loading_percent", "line:1"): math.inf}, "pass finite values"),
        ({"loading_percent": 1.0}, "must be (quantity, element)"),
        ({("loading_percent", "line1"): 1.0}, "'<table>:<id>'"),
    ],
)
def test_bad_values_are_refused(values: dict[object, float], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        evaluate(ruleset(), AlarmSystemState(), Snapshot(at(0), values))  # type: ignore[arg-type]


def test_naive_time_is_refused() -> None:
    with pytest.raises(InputError, match="timezone-aware"):
        evaluate(ruleset(), AlarmSystemState(), Snapshot(at(0).replace(tzinfo=None), {}))


def _flapping(rules: RuleSet, activation_times: list[float]) -> AlarmSystemState:
    state = AlarmSystemState()
    for t in activation_times:
        state = step(rules, state, t, {"line:1": 120.0}).state
        state = step(rules, state, t + 5, {"line:1": 50.0}).state
    return state


def test_chattering_three_activations_in_sixty_seconds() -> None:
    rules = ruleset()
    cfg = rules.config
    inst = _flapping(rules, [0, 20, 40]).get(LINE)
    assert inst.is_chattering(cfg)
    assert inst.chattering_episodes == 1
    assert inst.activation_count == 3
    inst = _flapping(rules, [0, 40, 80, 120]).get(LINE)  # never 3 within (t-60, t]
    assert not inst.is_chattering(cfg)
    assert inst.chattering_episodes == 0
    # exactly 60 s apart: the first leaves the window
    inst = _flapping(rules, [0, 30, 60]).get(LINE)
    assert not inst.is_chattering(cfg)
    inst = _flapping(rules, [0, 20, 40, 50, 300, 310, 320]).get(LINE)
    assert inst.chattering_episodes == 2
    assert inst.activation_count == 7


def test_chattering_is_counted_while_shelved_and_in_the_health_report() -> None:
    from gridtwin.alarms import shelve

    rules = ruleset()
    state = step(rules, AlarmSystemState(), 0, {"line:1": 120.0}).state
    state = shelve(state, LINE, user="op", time_utc=at(1), duration_s=3600, reason="chatter").state
    events = []
    for t in (10, 20, 30, 40, 50):
        for dt, v in ((0, 50.0), (5, 120.0)):
            upd = step(rules, state, t + dt, {"line:1": v})
            events += upd.events
            state = upd.state
    inst = state.get(LINE)
    assert inst.activation_count == 6
    assert inst.chattering_episodes == 1
    assert not any(e.annunciated for e in events)
    (ch,) = chattering_alarms(events, at(0), at(3600), config=rules.config)
    assert (ch.instance_id, ch.activations, ch.episodes) == (LINE, 5, 1)
    assert ch.max_in_window == 5  # 15..55 s: all five within 60 s
    strict = AlarmConfig(chattering_activations=6, chattering_window_s=60)
    assert chattering_alarms(events, at(0), at(3600), config=strict) == []
