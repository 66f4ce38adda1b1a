"""URDB schedules: 12 x 24 month-by-hour period matrices as a calendar's band schedules.

Owns the reading of a record's weekday/weekend period matrices, their conversion into
band schedules on the local clock (one rule per day type and group of months with equal
rows), the month-only schedules, and the inline calendar of an imported tariff (day types
``weekday``/``weekend``, one season per month, no holidays).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gridtwin.tariffs._urdb_record import _Issues, _present

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # season ranges: leap year


def _matrix(
    record: Mapping[str, Any], key: str, n_periods: int, issues: _Issues
) -> list[list[int]]:
    """Parse a 12 x 24 month-by-hour matrix of 0-based period indices."""
    raw = record.get(key)
    if not isinstance(raw, list) or len(raw) != 12:
        issues.fail(key, "expected 12 rows (January..December) of 24 hourly periods")
    out: list[list[int]] = []
    for m, row in enumerate(raw):
        if not isinstance(row, list) or len(row) != 24:
            issues.fail(f"{key}[{m}]", "expected 24 hourly period indices")
        vals: list[int] = []
        for h, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, int | float) or int(v) != v:
                issues.fail(f"{key}[{m}][{h}]", f"expected an integer, found {v!r}")
            if not 0 <= int(v) < n_periods:
                issues.fail(
                    f"{key}[{m}][{h}]",
                    f"period {int(v)} (0-based) is not in the rate structure, which has "
                    f"{n_periods} period(s)",
                )
            vals.append(int(v))
        out.append(vals)
    return out


def _schedules(
    record: Mapping[str, Any], prefix: str, n_periods: int, issues: _Issues
) -> tuple[list[list[int]], list[list[int]]]:
    """Weekday and weekend matrices; a single period may omit them."""
    wd_key, we_key = f"{prefix}weekdayschedule", f"{prefix}weekendschedule"
    has_wd, has_we = _present(record, wd_key), _present(record, we_key)
    if not has_wd and not has_we:
        if n_periods > 1:
            issues.fail(
                wd_key,
                f"{n_periods} periods need the weekday and weekend "
                "schedules that say when each applies",
            )
        issues.notes.append(f"no {wd_key}/{we_key}: the single period applies at all hours")
        zeros = [[0] * 24 for _ in range(12)]
        return zeros, zeros
    if not (has_wd and has_we):
        missing = we_key if has_wd else wd_key
        issues.fail(missing, "give both the weekday and the weekend schedule")
    return (_matrix(record, wd_key, n_periods, issues), _matrix(record, we_key, n_periods, issues))


def _hour_ranges(row: Sequence[int], period: int) -> list[str]:
    """'HH:00-HH:00' runs of the hours of ``row`` in ``period``."""
    out: list[str] = []
    h = 0
    while h < 24:
        if row[h] != period:
            h += 1
            continue
        start = h
        while h < 24 and row[h] == period:
            h += 1
        out.append(f"{start:02d}:00-{h:02d}:00")
    return out


def _schedule_spec(
    weekday: list[list[int]], weekend: list[list[int]], bands: Sequence[str], description: str
) -> dict[str, Any]:
    """A calendar schedule: one rule per day type and group of months with equal rows."""
    rules: list[dict[str, Any]] = []
    for day_type, matrix in (("weekday", weekday), ("weekend", weekend)):
        groups: dict[tuple[int, ...], list[str]] = {}
        for m, row in enumerate(matrix):
            groups.setdefault(tuple(row), []).append(MONTHS[m])
        for row_key, months in groups.items():
            rule_bands = {bands[p]: _hour_ranges(row_key, p) for p in sorted(set(row_key))}
            rules.append({"day_types": [day_type], "seasons": months, "bands": rule_bands})
    return {"description": description, "resolution_min": 60, "bands": list(bands), "rules": rules}


def _month_schedule(
    month_band: Sequence[str], bands: Sequence[str], description: str
) -> dict[str, Any]:
    """A schedule whose band depends only on the month."""
    rules = [
        {
            "day_types": ["weekday", "weekend"],
            "seasons": [MONTHS[m]],
            "bands": {month_band[m]: ["00:00-24:00"]},
        }
        for m in range(12)
    ]
    return {"description": description, "resolution_min": 60, "bands": list(bands), "rules": rules}


def _calendar(
    tariff_id: str, name: str, record_name: str, timezone: str, schedules: dict[str, Any]
) -> dict[str, Any]:
    """The imported tariff's inline calendar: weekday/weekend, a season per month."""
    return {
        "id": f"{tariff_id}-calendar",
        "name": f"URDB schedules of {name}",
        "timezone": timezone,
        "source": f"OpenEI URDB record {record_name}: 12 x 24 month-by-hour schedules, "
        "weekday = mon-fri, weekend = sat-sun, no holidays",
        "day_types": {"weekday": ["mon", "tue", "wed", "thu", "fri"], "weekend": ["sat", "sun"]},
        "seasons": [
            {"name": m, "ranges": [f"{i + 1:02d}-01..{i + 1:02d}-{_MONTH_DAYS[i]:02d}"]}
            for i, m in enumerate(MONTHS)
        ],
        "schedules": schedules,
    }
