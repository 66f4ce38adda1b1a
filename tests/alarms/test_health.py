"""Alarm-system health on synthetic event logs with hand-computed answers."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from gridtwin.alarms import (
    AlarmEvent,
    AlarmState,
    EventKind,
    Priority,
    alarm_health,
    alarm_rate,
    bad_actors,
    flood_report,
    priority_distribution,
    stale_alarms,
)
from gridtwin.errors import InputError

from ._helpers import at

H = 3600.0


def _ev(
    t: float,
    iid: str = "r@line:1",
    kind: EventKind = "activated",
    frm: AlarmState = "normal",
    to: AlarmState = "unacknowledged",
    priority: Priority = "low",
) -> AlarmEvent:
    rule, _, element = iid.partition("@")
    return AlarmEvent(
        at(t),
        iid,
        rule,
        element,
        kind,
        "system",
        frm,
        to,
        priority,
        annunciated=to == "unacknowledged" and kind != "acknowledged",
    )


# 12 alarms, one every 30 s from t = 0 (t = 0, 30, ..., 330 s), each a different instance
BURST = [_ev(30.0 * k, f"r@line:{k}") for k in range(12)]


def test_flood_sliding_window() -> None:
    """Trailing 10-min count: 11 at t=300 (flood starts), 12 at 330; the alarm of t=0 leaves
    at 600 (11), the one of t=30 at 630 (10: the flood ends). One period [300, 630)."""
    (rep,) = flood_report(BURST, at(0), at(H)).values()
    (p,) = rep.periods
    assert (p.start_utc, p.end_utc, p.peak_count, p.duration_s) == (at(300), at(630), 12, 330.0)
    assert rep.time_in_flood_s == 330.0
    assert math.isclose(rep.share_of_time_percent, 100 * 330 / 3600)


def test_flood_counts_alarms_before_the_window() -> None:
    (rep,) = flood_report(BURST, at(600), at(1200)).values()
    assert [(p.start_utc, p.end_utc, p.peak_count) for p in rep.periods] == [(at(600), at(630), 11)]
    assert math.isclose(rep.share_of_time_percent, 5.0)


def test_no_flood_at_exactly_ten() -> None:
    (rep,) = flood_report(BURST[:10], at(0), at(H)).values()
    assert rep.periods == ()
    assert rep.time_in_flood_s == 0.0


def test_two_flood_periods_and_threshold() -> None:
    second = [_ev(7200 + 10.0 * k, f"r@bus:{k}") for k in range(13)]
    (rep,) = flood_report(BURST + second, at(0), at(3 * H)).values()
    # second burst: 11th alarm at 7300 s; the first leaves at 7800 (12 left); the count falls
    # to 10 when the third (t=7220) leaves at 7820
    assert [(p.start_utc, p.end_utc, p.peak_count) for p in rep.periods] == [
        (at(300), at(630), 12),
        (at(7300), at(7820), 13),
    ]
    assert rep.time_in_flood_s == 330 + 520
    (low,) = flood_report(BURST, at(0), at(H), threshold=5).values()
    assert [(p.start_utc, p.end_utc) for p in low.periods] == [(at(150), at(780))]


def test_rate_per_ten_minutes_and_share_of_bins_over_ten() -> None:
    (rate,) = alarm_rate(BURST, at(0), at(H)).values()
    assert rate.position == "main"
    assert rate.counts == (12, 0, 0, 0, 0, 0)
    assert rate.bin_starts_utc[1] == at(600)
    assert (rate.total, rate.mean_per_10min, rate.max_per_bin) == (12, 2.0, 12)
    assert math.isclose(rate.share_bins_over_percent, 100 / 6)
    # a window that is not a whole number of bins: the last bin is shorter
    (r2,) = alarm_rate(BURST, at(0), at(900)).values()
    assert r2.counts == (12, 0)
    assert r2.mean_per_10min == 12 / 1.5


def test_rate_and_flood_per_operator_position() -> None:
    positions = {f"line:{k}": "north" for k in range(6)} | {"line:99": "east"}
    rates = alarm_rate(BURST, at(0), at(H), positions=positions)
    assert sorted(rates) == ["east", "main", "north"]
    assert (rates["north"].total, rates["main"].total, rates["east"].total) == (6, 6, 0)
    floods = flood_report(BURST, at(0), at(H), positions=positions)
    assert all(f.periods == () for f in floods.values())


def test_only_annunciated_events_count() -> None:
    quiet = [_ev(float(k), f"r@line:{k}", to="shelved", frm="shelved") for k in range(20)]
    (rate,) = alarm_rate(quiet, at(0), at(H)).values()
    assert rate.total == 0


def test_stale_alarms_active_more_than_24_hours() -> None:
    day = 24 * H
    log = [
        # A: activated at 0, acknowledged at 1 h, still active: 25 h at the check
        _ev(0, "r@a"),
        _ev(H, "r@a", "acknowledged", "unacknowledged", "acknowledged"),
        # B: activated at 0, cleared at 2 h
        _ev(0, "r@b"),
        _ev(2 * H, "r@b", "cleared", "unacknowledged", "returned_unacknowledged"),
        # C: activated at 2 h: 23 h at the check
        _ev(2 * H, "r@c"),
        # D: activated at 0, shelved at 0.5 h, back (still active) at 1 h: exactly 24 h
        _ev(0, "r@d"),
        _ev(0.5 * H, "r@d", "shelved", "unacknowledged", "shelved"),
        _ev(H, "r@d", "shelve_expired", "shelved", "unacknowledged"),
        # E: high priority, active since 0 and acknowledged, event after the check ignored
        _ev(0, "r@e", priority="high"),
        _ev(day + 2 * H, "r@e", "cleared", "unacknowledged", "returned_unacknowledged"),
    ]
    stale = stale_alarms(log, at(day + H))
    assert [(s.instance_id, s.active_since_utc, s.active_s) for s in stale] == [
        ("r@a", at(0), day + H),
        ("r@e", at(0), day + H),
    ]
    assert stale[1].priority == "high"
    assert stale_alarms(log, at(day + H), threshold_s=23 * H - 1)[-1].instance_id == "r@c"


def test_priority_distribution_against_the_target() -> None:
    log = [_ev(k, f"r@l:{k}", priority="low") for k in range(8)]
    log += [_ev(10, "r@m", priority="medium"), _ev(11, "r@h", priority="high")]
    d = priority_distribution(log, at(0), at(H))
    assert d.counts == {"critical": 0, "high": 1, "medium": 1, "low": 8}
    assert d.percent == {"critical": 0.0, "high": 10.0, "medium": 10.0, "low": 80.0}
    assert d.target_percent == {"critical": 1.0, "high": 5.0, "medium": 15.0, "low": 80.0}
    assert d.total == 10
    empty = priority_distribution([], at(0), at(H))
    assert empty.total == 0
    assert set(empty.percent.values()) == {0.0}


def test_bad_actors_top_ten() -> None:
    log = []
    for k in range(12):  # instance k alarms k + 1 times
        log += [_ev(100.0 * k + j, f"r@line:{k}") for j in range(k + 1)]
    top = bad_actors(log, at(0), at(H))
    total = sum(range(1, 13))  # 78
    assert [(b.instance_id, b.count) for b in top[:3]] == [
        ("r@line:11", 12),
        ("r@line:10", 11),
        ("r@line:9", 10),
    ]
    assert len(top) == 10
    assert top[-1].count == 3
    assert math.isclose(top[0].share_percent, 100 * 12 / total)
    assert [b.instance_id for b in bad_actors(log, at(0), at(H), top=2)] == [
        "r@line:11",
        "r@line:10",
    ]


def test_alarm_health_bundles_the_metrics() -> None:
    h = alarm_health(BURST, at(0), at(H))
    assert h.rate["main"].total == 12
    assert h.flood["main"].time_in_flood_s == 330.0
    assert h.stale == ()
    assert h.chattering == ()
    assert h.priorities.counts["low"] == 12
    assert len(h.bad_actors) == 10


def test_bad_windows() -> None:
    with pytest.raises(InputError, match="must be after its start"):
        alarm_rate(BURST, at(10), at(10))
    with pytest.raises(InputError, match="timezone-aware"):
        flood_report(BURST, at(0).replace(tzinfo=None), at(10))
    with pytest.raises(InputError, match="bin_s"):
        alarm_rate(BURST, at(0), at(10), bin_s=0)
    assert timedelta(seconds=1)  # keeps the import used
