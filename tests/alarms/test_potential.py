"""Potential alarms on a forecast: first activation, lead time, de-duplication."""

from __future__ import annotations

import pytest

from gridtwin.alarms import AlarmSystemState, RuleSet, Snapshot, evaluate, shelve
from gridtwin.errors import InputError

from ._helpers import LINE, at, rule, ruleset

POTENTIAL = ruleset(rule(kind="potential"))
Q = "loading_percent"


def _forecast(
    *points: tuple[float, dict[str, float]], suppressed: dict[str, str] | None = None
) -> list[Snapshot]:
    return [
        Snapshot(at(t), {(Q, el): v for el, v in vals.items()}, suppressed or {})
        for t, vals in points
    ]


def _potential(
    rules: RuleSet, now: dict[str, float], fc: list[Snapshot], state: AlarmSystemState | None = None
):  # type: ignore[no-untyped-def]
    snap = Snapshot(at(0), {(Q, el): v for el, v in now.items()})
    return evaluate(rules, state or AlarmSystemState(), snap, forecast=fc)


FC = _forecast(
    (900, {"line:1": 95.0, "line:2": 99.0}),
    (1800, {"line:1": 105.0, "line:2": 99.0}),
    (2700, {"line:1": 110.0, "line:2": 101.0}),
)


def test_first_time_and_lead_time() -> None:
    upd = _potential(POTENTIAL, {"line:1": 80.0, "line:2": 90.0}, FC)
    assert upd.events == ()
    assert [
        (p.instance_id, p.first_active_utc, p.lead_time_s, p.value, p.limit) for p in upd.potential
    ] == [
        (LINE, at(1800), 1800.0, 105.0, 100.0),
        ("line-high@line:2", at(2700), 2700.0, 101.0, 100.0),
    ]
    assert upd.potential[0].message == "line:1: 105.0 % > 100 %"
    assert upd.potential[0].priority == "high"


def test_delay_on_applies_to_the_forecast() -> None:
    rules = ruleset(rule(kind="potential", delay_on_s=900))
    (p1,) = [p for p in _potential(rules, {"line:1": 80.0}, FC).potential if p.element == "line:1"]
    assert (p1.first_active_utc, p1.lead_time_s) == (at(2700), 2700.0)
    # the timer started now carries into the forecast
    rules = ruleset(rule(kind="potential", delay_on_s=1200))
    upd = _potential(
        rules, {"line:1": 105.0}, _forecast((900, {"line:1": 105.0}), (1800, {"line:1": 105.0}))
    )
    assert upd.events == ()
    assert [(p.first_active_utc, p.lead_time_s) for p in upd.potential] == [(at(1800), 1800.0)]


def test_deduplicated_with_the_actual_alarm_of_the_same_instance() -> None:
    upd = _potential(POTENTIAL, {"line:1": 120.0, "line:2": 90.0}, FC)
    assert [e.instance_id for e in upd.events] == [LINE]
    assert [p.instance_id for p in upd.potential] == ["line-high@line:2"]
    # a shelved instance gets no potential alarm either
    state = shelve(upd.state, LINE, user="op", time_utc=at(0), duration_s=600, reason="r").state
    state = evaluate(POTENTIAL, state, Snapshot(at(1), {(Q, "line:1"): 50.0})).state
    later = evaluate(POTENTIAL, state, Snapshot(at(2), {(Q, "line:1"): 50.0}), forecast=FC)
    assert LINE not in [p.instance_id for p in later.potential]


def test_actual_rules_and_suppressed_forecast_steps_give_none() -> None:
    assert _potential(ruleset(), {"line:1": 80.0}, FC).potential == ()
    fc = _forecast((1800, {"line:1": 150.0}), suppressed={"line:1": "planned outage"})
    assert _potential(POTENTIAL, {"line:1": 80.0}, fc).potential == ()


@pytest.mark.parametrize("times", [(0, 900), (900, 900), (1800, 900)])
def test_forecast_times_must_increase_after_now(times: tuple[int, int]) -> None:
    fc = _forecast(*((t, {"line:1": 1.0}) for t in times))
    with pytest.raises(InputError, match=r"forecast\[\d\]\.time_utc .* must be after"):
        _potential(POTENTIAL, {"line:1": 1.0}, fc)
