"""Shared builders for the alarm tests: times, a small rule set, snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from gridtwin.alarms import (
    AlarmSystemState,
    AlarmUpdate,
    RuleSet,
    Snapshot,
    evaluate,
    rules_from_dict,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def rule(**overrides: Any) -> dict[str, Any]:
    """A line-loading rule (high, 100 %) with the given fields replaced."""
    base: dict[str, Any] = {
        "id": "line-high",
        "quantity": "loading_percent",
        "elements": {"table": "line", "ids": "all"},
        "limit": {"kind": "high", "value": 100.0},
        "priority": "high",
        "message": "{element}: {value:.1f} % > {limit:.0f} %",
        "source": "test",
    }
    base.update(overrides)
    return base


def ruleset(*rules: dict[str, Any], system: Mapping[str, Any] | None = None) -> RuleSet:
    """A rule set from rule mappings (default: one :func:`rule`)."""
    data: dict[str, Any] = {
        "schema_version": 1,
        "id": "test",
        "title": "test rules",
        "source": "test",
        "rules": list(rules) or [rule()],
    }
    if system is not None:
        data["system"] = dict(system)
    return rules_from_dict(data, "test.yaml")


def step(
    rules: RuleSet,
    state: AlarmSystemState,
    seconds: float,
    values: Mapping[str, float] | None = None,
    *,
    quantity: str = "loading_percent",
    suppressed: Mapping[str, str] | None = None,
) -> AlarmUpdate:
    """Evaluate ``{element: value}`` of ``quantity`` at ``at(seconds)``."""
    vals = {(quantity, el): v for el, v in (values or {}).items()}
    return evaluate(rules, state, Snapshot(at(seconds), vals, dict(suppressed or {})))


LINE = "line-high@line:1"
