"""The ISA-18.2 state model: every transition, its event record, and every illegal action."""

from __future__ import annotations

from datetime import datetime

import pytest

from gridtwin.alarms import (
    AlarmActionError,
    AlarmSystemState,
    AlarmUpdate,
    RuleSet,
    acknowledge,
    comment,
    remove_from_service,
    reset,
    return_to_service,
    shelve,
    unshelve,
)
from gridtwin.errors import InputError

from ._helpers import LINE, T0, at, rule, ruleset, step

RULES = ruleset()
LATCHING = ruleset(rule(latching=True))


def _transitions(upd: AlarmUpdate) -> list[tuple[str, str, str, str, bool]]:
    return [(e.kind, e.from_state, e.to_state, e.user, e.annunciated) for e in upd.events]


def _active(rules: RuleSet = RULES) -> AlarmSystemState:
    """An instance that went normal -> unacknowledged at t=0 (value 120 %)."""
    return step(rules, AlarmSystemState(), 0, {"line:1": 120.0}).state


def test_activation_is_annunciated_with_value_limit_and_message() -> None:
    upd = step(RULES, AlarmSystemState(), 0, {"line:1": 120.0, "line:2": 50.0})
    assert _transitions(upd) == [("activated", "normal", "unacknowledged", "system", True)]
    (ev,) = upd.events
    assert (ev.instance_id, ev.rule_id, ev.element, ev.priority) == (
        LINE,
        "line-high",
        "line:1",
        "high",
    )
    assert (ev.value, ev.limit, ev.time_utc) == (120.0, 100.0, T0)
    assert ev.message == "line:1: 120.0 % > 100 %"
    assert upd.state.get(LINE).state == "unacknowledged"
    assert upd.state.get("line-high@line:2").state == "normal"  # watched, no event
    assert [a.instance_id for a in upd.state.active()] == [LINE]


def test_unacknowledged_acknowledged_normal() -> None:
    upd = acknowledge(_active(), LINE, user="op1", time_utc=at(10), comment="seen")
    assert _transitions(upd) == [("acknowledged", "unacknowledged", "acknowledged", "op1", False)]
    assert upd.events[0].reason == "seen"
    upd = step(RULES, upd.state, 20, {"line:1": 90.0})
    assert _transitions(upd) == [("cleared", "acknowledged", "normal", "system", False)]


def test_returned_unacknowledged_then_acknowledged_or_reactivated() -> None:
    upd = step(RULES, _active(), 10, {"line:1": 90.0})
    assert _transitions(upd) == [
        ("cleared", "unacknowledged", "returned_unacknowledged", "system", False)
    ]
    rtn = upd.state
    upd = acknowledge(rtn, LINE, user="op1", time_utc=at(20))
    assert _transitions(upd) == [
        ("acknowledged", "returned_unacknowledged", "normal", "op1", False)
    ]
    upd = step(RULES, rtn, 20, {"line:1": 130.0})
    assert _transitions(upd) == [
        ("activated", "returned_unacknowledged", "unacknowledged", "system", True)
    ]


def test_repeated_activation_while_active_is_not_a_new_alarm() -> None:
    state = _active()
    for k in range(1, 5):
        upd = step(RULES, state, 10 * k, {"line:1": 120.0 + k})
        assert upd.events == ()
        state = upd.state
    assert len(state.instances) == 1
    assert state.get(LINE).activation_count == 1


def test_latching_rule_latches_from_unacknowledged_and_acknowledged_and_resets() -> None:
    upd = step(LATCHING, _active(LATCHING), 10, {"line:1": 90.0})
    assert _transitions(upd) == [("cleared", "unacknowledged", "latched", "system", False)]
    latched = upd.state
    acked = acknowledge(_active(LATCHING), LINE, user="op1", time_utc=at(5)).state
    upd = step(LATCHING, acked, 10, {"line:1": 90.0})
    assert _transitions(upd) == [("cleared", "acknowledged", "latched", "system", False)]
    upd = reset(latched, LINE, user="op2", time_utc=at(20), comment="checked on site")
    assert _transitions(upd) == [("reset", "latched", "normal", "op2", False)]
    assert upd.events[0].reason == "checked on site"
    upd = step(LATCHING, latched, 20, {"line:1": 101.0})
    assert _transitions(upd) == [("activated", "latched", "unacknowledged", "system", True)]


@pytest.mark.parametrize(
    ("setup", "state_before"),
    [
        ("normal", "normal"),
        ("unack", "unacknowledged"),
        ("ack", "acknowledged"),
        ("rtn", "returned_unacknowledged"),
        ("latched", "latched"),
    ],
)
def test_every_core_state_can_be_shelved_timed(setup: str, state_before: str) -> None:
    rules = LATCHING if setup == "latched" else RULES
    state = _active(rules)
    if setup == "normal":
        state = step(
            rules, acknowledge(state, LINE, user="op", time_utc=at(1)).state, 2, {"line:1": 50.0}
        ).state
    elif setup == "ack":
        state = acknowledge(state, LINE, user="op", time_utc=at(1)).state
    elif setup in ("rtn", "latched"):
        state = step(rules, state, 2, {"line:1": 50.0}).state
    assert state.get(LINE).state == state_before
    upd = shelve(state, LINE, user="op", time_utc=at(10), duration_s=600, reason="maintenance")
    assert _transitions(upd) == [("shelved", state_before, "shelved", "op", False)]
    ev = upd.events[0]
    assert ev.shelved_until_utc == at(610)
    assert not ev.one_shot
    assert ev.reason == "maintenance"
    # the shelve expires at the next evaluation after its end
    after = step(rules, upd.state, 610, {})
    active = state_before in ("unacknowledged", "acknowledged")
    expected = "unacknowledged" if active else "normal"
    assert _transitions(after) == [("shelve_expired", "shelved", expected, "system", active)]


def test_condition_changes_while_shelved_are_recorded_not_annunciated() -> None:
    state = shelve(_active(), LINE, user="op", time_utc=at(5), duration_s=3600, reason="x").state
    upd = step(RULES, state, 10, {"line:1": 50.0})
    assert _transitions(upd) == [("cleared", "shelved", "shelved", "system", False)]
    upd = step(RULES, upd.state, 20, {"line:1": 150.0})
    assert _transitions(upd) == [("activated", "shelved", "shelved", "system", False)]
    assert upd.state.get(LINE).condition_active
    upd = unshelve(upd.state, LINE, user="op", time_utc=at(30), comment="done")
    assert _transitions(upd) == [("unshelved", "shelved", "unacknowledged", "op", True)]
    quiet = shelve(
        step(RULES, _active(), 1, {"line:1": 1.0}).state,
        LINE,
        user="op",
        time_utc=at(2),
        duration_s=60,
        reason="x",
    ).state
    upd = unshelve(quiet, LINE, user="op", time_utc=at(3))
    assert _transitions(upd) == [("unshelved", "shelved", "normal", "op", False)]


def test_one_shot_shelve_ends_at_the_next_return_to_normal() -> None:
    upd = shelve(_active(), LINE, user="op", time_utc=at(5), one_shot=True, reason="known overload")
    ev = upd.events[0]
    assert ev.one_shot
    assert ev.shelved_until_utc == at(5 + 8 * 3600)
    upd = step(RULES, upd.state, 10, {"line:1": 90.0})
    assert _transitions(upd) == [
        ("cleared", "shelved", "shelved", "system", False),
        ("unshelved", "shelved", "normal", "system", False),
    ]
    assert "one-shot" in upd.events[1].reason
    upd = step(RULES, upd.state, 20, {"line:1": 120.0})
    assert _transitions(upd) == [("activated", "normal", "unacknowledged", "system", True)]


def test_one_shot_shelve_still_ends_at_the_maximum() -> None:
    state = shelve(
        _active(), LINE, user="op", time_utc=at(0), one_shot=True, duration_s=300, reason="x"
    ).state
    upd = step(RULES, state, 299, {"line:1": 120.0})
    assert upd.events == ()
    upd = step(RULES, upd.state, 300, {"line:1": 120.0})
    assert _transitions(upd) == [("shelve_expired", "shelved", "unacknowledged", "system", True)]


def test_suppressed_by_design_follows_the_condition_given_with_the_values() -> None:
    state = _active()
    upd = step(RULES, state, 10, {"line:1": 120.0}, suppressed={"line:1": "line out of service"})
    assert _transitions(upd) == [("suppressed", "unacknowledged", "suppressed", "system", False)]
    assert upd.events[0].reason == "line out of service"
    upd = step(RULES, upd.state, 20, {"line:1": 50.0}, suppressed={"line:1": "line out of service"})
    assert _transitions(upd) == [("cleared", "suppressed", "suppressed", "system", False)]
    upd = step(RULES, upd.state, 30, {"line:1": 50.0})
    assert _transitions(upd) == [("unsuppressed", "suppressed", "normal", "system", False)]
    upd = step(RULES, upd.state, 40, {"line:1": 130.0}, suppressed={"line:1": "open"})
    assert _transitions(upd) == [
        ("suppressed", "normal", "suppressed", "system", False),
        ("activated", "suppressed", "suppressed", "system", False),
    ]
    upd = step(RULES, upd.state, 50, {})  # suppression ends while the condition is active
    assert _transitions(upd) == [("unsuppressed", "suppressed", "unacknowledged", "system", True)]


def test_a_new_instance_on_a_suppressed_element_starts_suppressed() -> None:
    upd = step(RULES, AlarmSystemState(), 0, {"line:1": 150.0}, suppressed={"line:1": "open"})
    assert _transitions(upd) == [
        ("suppressed", "normal", "suppressed", "system", False),
        ("activated", "suppressed", "suppressed", "system", False),
    ]


def test_suppression_takes_precedence_over_a_shelve_that_comes_back() -> None:
    state = shelve(_active(), LINE, user="op", time_utc=at(1), duration_s=600, reason="x").state
    upd = step(RULES, state, 10, {}, suppressed={"line:1": "open"})
    assert _transitions(upd) == [("suppressed", "shelved", "suppressed", "system", False)]
    upd = step(RULES, upd.state, 20, {})
    assert _transitions(upd) == [("unsuppressed", "suppressed", "shelved", "system", False)]
    upd = step(RULES, upd.state, 700, {}, suppressed={"line:1": "open"})
    assert _transitions(upd) == [
        ("shelve_expired", "shelved", "unacknowledged", "system", True),
        ("suppressed", "unacknowledged", "suppressed", "system", False),
    ]


def test_out_of_service_and_back_drops_a_shelve() -> None:
    state = shelve(_active(), LINE, user="op", time_utc=at(1), duration_s=600, reason="x").state
    upd = remove_from_service(state, LINE, user="admin", time_utc=at(2), reason="sensor replaced")
    assert _transitions(upd) == [
        ("removed_from_service", "shelved", "out_of_service", "admin", False)
    ]
    oos = upd.state
    assert oos.get(LINE).shelved_until_utc is None
    upd = step(RULES, oos, 900, {"line:1": 50.0}, suppressed={"line:1": "open"})
    assert _transitions(upd) == [
        ("suppressed", "out_of_service", "out_of_service", "system", False),
        ("cleared", "out_of_service", "out_of_service", "system", False),
    ]
    upd = return_to_service(upd.state, LINE, user="admin", time_utc=at(910), comment="ok")
    assert _transitions(upd) == [
        ("returned_to_service", "out_of_service", "suppressed", "admin", False)
    ]
    upd = return_to_service(oos, LINE, user="admin", time_utc=at(3))
    assert _transitions(upd) == [
        ("returned_to_service", "out_of_service", "unacknowledged", "admin", True)
    ]


@pytest.mark.parametrize("setup", ["unack", "oos", "shelved"])
def test_comment_in_any_state_keeps_the_state(setup: str) -> None:
    state = _active()
    if setup == "oos":
        state = remove_from_service(state, LINE, user="a", time_utc=at(1), reason="r").state
    elif setup == "shelved":
        state = shelve(state, LINE, user="a", time_utc=at(1), duration_s=60, reason="r").state
    before = state.get(LINE).state
    upd = comment(state, LINE, user="op", time_utc=at(2), text="called the crew")
    assert _transitions(upd) == [("comment", before, before, "op", False)]
    assert upd.events[0].reason == "called the crew"


# ----------------------------------------------------------------------- illegal actions


def _normal() -> AlarmSystemState:
    return step(RULES, AlarmSystemState(), 0, {"line:1": 50.0}).state


def _acked() -> AlarmSystemState:
    return acknowledge(_active(), LINE, user="op", time_utc=at(1)).state


def _latched() -> AlarmSystemState:
    return step(LATCHING, _active(LATCHING), 1, {"line:1": 50.0}).state


def _shelved() -> AlarmSystemState:
    return shelve(_active(), LINE, user="op", time_utc=at(1), duration_s=60, reason="r").state


def _suppressed() -> AlarmSystemState:
    return step(RULES, _active(), 1, {}, suppressed={"line:1": "open"}).state


def _oos() -> AlarmSystemState:
    return remove_from_service(_active(), LINE, user="a", time_utc=at(1), reason="r").state


T = at(100)


@pytest.mark.parametrize(
    ("make", "action", "fragment"),
    [
        (_normal, lambda s: acknowledge(s, LINE, user="op", time_utc=T), "nothing to acknowledge"),
        (_acked, lambda s: acknowledge(s, LINE, user="op", time_utc=T), "already acknowledged"),
        (_latched, lambda s: acknowledge(s, LINE, user="op", time_utc=T), "use reset"),
        (_shelved, lambda s: acknowledge(s, LINE, user="op", time_utc=at(30)), "it is shelved"),
        (_suppressed, lambda s: acknowledge(s, LINE, user="op", time_utc=T), "it is suppressed"),
        (_oos, lambda s: acknowledge(s, LINE, user="op", time_utc=T), "it is out_of_service"),
        (_active, lambda s: reset(s, LINE, user="op", time_utc=T), "only a latched alarm"),
        (_normal, lambda s: reset(s, LINE, user="op", time_utc=T), "only a latched alarm"),
        (_normal, lambda s: unshelve(s, LINE, user="op", time_utc=T), "not shelved"),
        (_active, lambda s: return_to_service(s, LINE, user="a", time_utc=T), "not out of service"),
        (
            _oos,
            lambda s: remove_from_service(s, LINE, user="a", time_utc=T, reason="r"),
            "already out",
        ),
        (
            _shelved,
            lambda s: shelve(s, LINE, user="op", time_utc=at(30), duration_s=9, reason="r"),
            "unshelve it",
        ),
        (
            _suppressed,
            lambda s: shelve(s, LINE, user="op", time_utc=T, duration_s=9, reason="r"),
            "unshelve it",
        ),
        (
            _oos,
            lambda s: shelve(s, LINE, user="op", time_utc=T, duration_s=9, reason="r"),
            "unshelve it",
        ),
        (
            _active,
            lambda s: shelve(s, LINE, user="op", time_utc=T, duration_s=8 * 3600 + 1, reason="r"),
            "the maximum is 28800 s",
        ),
        (
            _active,
            lambda s: shelve(s, LINE, user="op", time_utc=T, duration_s=0, reason="r"),
            "positive number",
        ),
        (_active, lambda s: shelve(s, LINE, user="op", time_utc=T, reason="r"), "duration_s"),
        (
            _normal,
            lambda s: shelve(s, LINE, user="op", time_utc=T, one_shot=True, reason="r"),
            "not active",
        ),
        (
            _latched,
            lambda s: shelve(s, LINE, user="op", time_utc=T, one_shot=True, reason="r"),
            "not active",
        ),
    ],
)
def test_illegal_actions_raise_a_clear_error(make, action, fragment: str) -> None:  # type: ignore[no-untyped-def]
    state = make()
    with pytest.raises(AlarmActionError, match=LINE) as exc:
        action(state)
    assert fragment in str(exc.value)


def test_max_shelve_comes_from_the_configuration() -> None:
    rules = ruleset(rule(), system={"max_shelve_s": 600})
    state = step(rules, AlarmSystemState(), 0, {"line:1": 120.0}).state
    with pytest.raises(AlarmActionError, match="the maximum is 600 s"):
        shelve(
            state, LINE, user="op", time_utc=at(1), duration_s=601, reason="r", config=rules.config
        )
    upd = shelve(
        state, LINE, user="op", time_utc=at(1), duration_s=600, reason="r", config=rules.config
    )
    assert upd.events[0].shelved_until_utc == at(601)
    one_shot = shelve(
        state, LINE, user="op", time_utc=at(1), one_shot=True, reason="r", config=rules.config
    )
    assert one_shot.events[0].shelved_until_utc == at(601)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"user": "system"}, "'system' is reserved"),
        ({"user": " "}, "user id"),
        ({"time_utc": T0.replace(tzinfo=None)}, "timezone-aware"),
        ({"time_utc": at(-1)}, "before the state's time"),
    ],
)
def test_bad_action_arguments(kwargs: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {"user": "op", "time_utc": at(5)} | kwargs
    with pytest.raises(InputError, match=fragment):
        acknowledge(_active(), LINE, **args)  # type: ignore[arg-type]


def test_unknown_instance_and_missing_reasons() -> None:
    with pytest.raises(InputError, match=r"no alarm instance 'x@line:9'.*known: line-high@line:1"):
        acknowledge(_active(), "x@line:9", user="op", time_utc=at(5))
    with pytest.raises(InputError, match="reason is required"):
        shelve(_active(), LINE, user="op", time_utc=at(5), duration_s=60, reason="")
    with pytest.raises(InputError, match="reason is required"):
        remove_from_service(_active(), LINE, user="op", time_utc=at(5), reason="  ")
    with pytest.raises(InputError, match="text is required"):
        comment(_active(), LINE, user="op", time_utc=at(5), text="")


def test_actions_do_not_mutate_their_input() -> None:
    state = _active()
    before = state.to_dict()
    acknowledge(state, LINE, user="op", time_utc=at(5))
    shelve(state, LINE, user="op", time_utc=at(5), duration_s=60, reason="r")
    step(RULES, state, 10, {"line:1": 0.0})
    assert state.to_dict() == before


def test_time_of_actions_and_evaluations_only_moves_forward() -> None:
    state = acknowledge(_active(), LINE, user="op", time_utc=at(50)).state
    assert state.time_utc == at(50)
    with pytest.raises(InputError, match="evaluate intervals in time order"):
        step(RULES, state, 40, {"line:1": 1.0})
    assert isinstance(state.time_utc, datetime)


def test_remove_an_acknowledged_alarm_from_service() -> None:
    upd = remove_from_service(_acked(), LINE, user="admin", time_utc=at(5), reason="faulty CT")
    assert _transitions(upd) == [
        ("removed_from_service", "acknowledged", "out_of_service", "admin", False)
    ]


def test_unshelve_under_a_suppression_ends_the_hidden_shelve() -> None:
    state = step(RULES, _shelved(), 10, {}, suppressed={"line:1": "open"}).state
    upd = unshelve(state, LINE, user="op", time_utc=at(20))
    assert _transitions(upd) == [("unshelved", "suppressed", "suppressed", "op", False)]
    upd = step(RULES, upd.state, 30, {})
    assert _transitions(upd) == [("unsuppressed", "suppressed", "unacknowledged", "system", True)]
