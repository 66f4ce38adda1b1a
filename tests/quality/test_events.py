"""Dips, swells and interruptions: detection with hysteresis, polyphase aggregation,
classification into the EN 50160:2010 and GOST 32144-2013 tables, weekly counts, flags.

Table boundary convention (EN 50160:2010 tables as printed and confirmed in the Schneider
PM8000 EN 50160 technical note, e.g. "90 > u >= 80" and "0.2 < t <= 0.5"; GOST 32144-2013
as recalled): a residual-voltage row includes its LOWER edge, a duration column its UPPER
edge; the first EN 50160 column "0.01 <= t <= 0.2" also includes 10 ms, the recalled GOST
column "0.01 < t <= 0.2" does not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality.events import (
    EventThresholds,
    VoltageEvent,
    builtin_event_table_ids,
    count_per_week,
    detect_events,
    event_flags,
    get_event_table,
    load_event_tables,
)
from gridtwin.quality.waveform import process_waveform
from tests.quality.test_waveform import START, three_phase

EN, GOST = "EN 50160:2010", "GOST 32144-2013"
HALF = pd.Timedelta("10ms")  # U_rms(1/2) refresh at 50 Hz


def half_cycles(values: np.ndarray, start: pd.Timestamp = START) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=len(values), freq=HALF)


def percent_of_230(*columns: list[float]) -> np.ndarray:
    return np.column_stack([np.asarray(c, dtype=float) * 2.3 for c in columns])


# --------------------------------------------------------------------------- from waveforms


def test_dip_on_one_phase_from_the_waveform() -> None:
    # L1 to 60 % for 150 ms starting at 1.0 s (mid-cycle); L2, L3 untouched
    wf, _ = three_phase(duration_s=2.0, f_hz=50.0, dips=[(0, 1.0, 0.150, 0.6)])
    res = process_waveform(wf, u_din_v=230.0)
    (dip,) = res.events.events
    assert dip.kind == "dip"
    assert dip.complete
    assert dip.worst_channel == "L1"
    assert dip.channels == ("L1",)
    # class A: residual ±0.2 % of U_din; duration within one cycle (half a cycle each end)
    assert dip.extreme_percent == pytest.approx(60.0, abs=0.2)
    assert dip.extreme_v == pytest.approx(138.0, abs=0.5)
    assert abs(dip.duration_s - 0.150) <= 0.020
    assert START + pd.Timedelta("980ms") <= dip.start_utc <= START + pd.Timedelta("1s")
    assert get_event_table(EN, "dip").cell_of(dip) == "C1"
    assert get_event_table(GOST, "dip").cell_of(dip) == "70 > u >= 40 | 0.01 < t <= 0.2"
    # windows overlapping the dip are flagged, the others not
    c = res.cycles
    overlap = (c.start_utc < dip.end_utc) & (c.end_utc > dip.start_utc)
    assert c.flagged.tolist() == list(overlap)
    assert 1 <= c.flagged.sum() <= 2


def test_interruption_of_all_phases_from_the_waveform() -> None:
    wf, _ = three_phase(duration_s=3.0, f_hz=50.0, dips=[(k, 1.0, 0.8, 0.01) for k in range(3)])
    res = process_waveform(wf, u_din_v=230.0)
    assert [e.kind for e in res.events.events] == ["dip", "interruption"]
    dip, intr = res.events.events
    assert dip.contains_interruption
    assert intr.duration_s == pytest.approx(0.8, abs=0.02)
    assert intr.extreme_percent == pytest.approx(1.0, abs=0.2)
    assert get_event_table(EN, "dip").cell_of(dip) == "X3"  # 5 > u, 0.5 < t <= 1
    assert get_event_table(EN, "interruption").cell_of(intr) == "short"
    assert not res.cycles.synchronised.all()  # no crossings for 0.8 s
    assert any("nominal period" in n for n in res.notes)


# --------------------------------------------------------------------------- hysteresis


def test_hysteresis_prevents_chattering() -> None:
    # L1 wanders between 89.5 % and 91 %: below 90 % (start) but never back to 92 % (end)
    wobble = [100.0] * 5 + [89.5, 91.0] * 20 + [100.0] * 5
    u = percent_of_230(wobble)
    log = detect_events(u, half_cycles(u), u_din_v=230.0)
    (dip,) = log.dips
    assert dip.duration_s == pytest.approx(0.40)  # 40 half cycles
    assert dip.extreme_percent == pytest.approx(89.5)
    chatter = detect_events(
        u, half_cycles(u), u_din_v=230.0, thresholds=EventThresholds(hysteresis_percent=0.0)
    )
    assert len(chatter.dips) == 20
    swell = percent_of_230([100.0] * 5 + [110.5, 109.0] * 10 + [100.0] * 5)
    assert len(detect_events(swell, half_cycles(swell), u_din_v=230.0).swells) == 1
    # the end condition is "equal to or above" threshold + hysteresis: 92 % ends the dip
    edge = percent_of_230([100.0, 80.0, 92.0, 100.0])
    assert detect_events(edge, half_cycles(edge), u_din_v=230.0).dips[0].duration_s == 0.01


def test_polyphase_dip_starts_on_any_and_ends_on_all() -> None:
    n = 40
    l1, l2, l3 = ([100.0] * n for _ in range(3))
    l1[10:20] = [70.0] * 10  # L1 low from 100 ms to 200 ms
    l2[15:30] = [85.0] * 15  # L2 low from 150 ms to 300 ms
    u = percent_of_230(l1, l2, l3)
    log = detect_events(u, half_cycles(u), u_din_v=230.0)
    (dip,) = log.events
    assert dip.start_utc == START + pd.Timedelta("100ms")
    assert dip.end_utc == START + pd.Timedelta("300ms")
    assert dip.duration_s == pytest.approx(0.2)
    assert dip.extreme_percent == pytest.approx(70.0)
    assert dip.worst_channel == "L1"
    assert dip.channels == ("L1", "L2")


def test_interruption_needs_every_phase_below_5_percent() -> None:
    n = 30
    low = [100.0] * 10 + [0.0] * 10 + [100.0] * 10
    one_phase = percent_of_230(low, [100.0] * n, [100.0] * n)
    log = detect_events(one_phase, half_cycles(one_phase), u_din_v=230.0)
    assert [e.kind for e in log.events] == ["dip"]
    assert not log.dips[0].contains_interruption
    all_phases = percent_of_230(
        low,
        [100.0] * 10 + [3.0] * 10 + [100.0] * 10,
        [100.0] * 10 + [4.0] * 8 + [6.0] * 2 + [100.0] * 10,
    )
    log = detect_events(all_phases, half_cycles(all_phases), u_din_v=230.0)
    dip, intr = log.events
    assert intr.kind == "interruption"
    # starts when all are below 5 %, ends when one is at or above 5 + 2 = 7 %: 100 % at 200 ms
    assert intr.start_utc == START + pd.Timedelta("100ms")
    assert intr.end_utc == START + pd.Timedelta("200ms")
    assert intr.extreme_percent == 0.0
    assert intr.worst_channel == "L1"
    assert dip.contains_interruption


def test_events_cut_by_the_record_are_incomplete() -> None:
    u = percent_of_230([80.0] * 5 + [100.0] * 5 + [80.0] * 5)
    log = detect_events(u, half_cycles(u), u_din_v=230.0)
    first, last = log.dips
    assert not first.complete
    assert first.start_utc == START
    assert not last.complete
    assert last.end_utc == START + pd.Timedelta("150ms")


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize(
    ("u", "t", "cell"),
    [
        # durations at the column edges (EN: 10 ms <= t <= 200 ms < t <= 500 ms ...)
        (85.0, 0.009, None),
        (85.0, 0.010, "A1"),
        (85.0, 0.200, "A1"),
        (85.0, 0.2001, "A2"),
        (85.0, 0.500, "A2"),
        (85.0, 1.0, "A3"),
        (85.0, 5.0, "A4"),
        (85.0, 20.0, "A5"),
        (85.0, 60.0, "A5"),
        (85.0, 60.001, None),
        # residual voltages at the row edges (90 > u >= 80 > u >= 70 ...)
        (90.0, 0.1, None),
        (89.99, 0.1, "A1"),
        (80.0, 0.1, "A1"),
        (79.99, 0.1, "B1"),
        (70.0, 0.1, "B1"),
        (40.0, 0.1, "C1"),
        (5.0, 0.1, "D1"),
        (4.99, 0.1, "X1"),
        (0.0, 0.1, "X1"),
    ],
)
def test_en50160_dip_table_boundaries(u: float, t: float, cell: str | None) -> None:
    assert get_event_table(EN, "dip").cell_of(_dip(u, t)) == cell


@pytest.mark.parametrize(
    ("u", "t", "row", "col"),
    [
        (87.0, 0.010, None, None),  # 0.01 < t: 10 ms is outside (as recalled)
        (87.0, 0.200, "90 > u >= 85", "0.01 < t <= 0.2"),
        (85.0, 0.500, "90 > u >= 85", "0.2 < t <= 0.5"),
        (80.0, 1.0, "85 > u >= 70", "0.5 < t <= 1"),
        (70.0, 5.0, "85 > u >= 70", "1 < t <= 5"),
        (40.0, 20.0, "70 > u >= 40", "5 < t <= 20"),
        (5.0, 60.0, "40 > u >= 5", "20 < t <= 60"),
        (4.0, 60.0, "5 > u", "20 < t <= 60"),
        (90.0, 1.0, None, None),
    ],
)
def test_gost32144_dip_table_boundaries(
    u: float, t: float, row: str | None, col: str | None
) -> None:
    cell = get_event_table(GOST, "dip").cell_of(_dip(u, t))
    assert cell == (None if row is None else f"{row} | {col}")


def test_swell_and_interruption_tables() -> None:
    swells = get_event_table(EN, "swell")
    assert swells.cell_of(_dip(120.0, 0.5, "swell")) == "S1"  # u >= 120, t <= 0.5
    assert swells.cell_of(_dip(119.9, 0.51, "swell")) == "T2"
    assert swells.cell_of(_dip(110.0, 1.0, "swell")) is None  # 120 > u > 110
    assert swells.cell_of(_dip(115.0, 60.0, "swell")) == "T3"
    intr = get_event_table(GOST, "interruption")
    assert intr.cell_of(_dip(0.0, 180.0, "interruption")) == "short"  # up to 3 min
    assert get_event_table(EN, "interruption").cell_of(_dip(1.0, 180.001, "interruption")) == "long"
    with pytest.raises(InputError, match="classifies dips, not a swell"):
        get_event_table(EN, "dip").cell_of(_dip(120.0, 1.0, "swell"))


def test_round_off_never_picks_the_cell() -> None:
    # 86.445 V of 101.7 V is 84.99999999999999 % in floating point: still the 85 % edge
    u = np.array([[101.7], [86.445], [86.445], [101.7]])
    t = pd.date_range(START, periods=4, freq=pd.Timedelta(seconds=0.1))
    (dip,) = detect_events(u, t, u_din_v=101.7).dips
    assert dip.extreme_percent < 85.0
    assert get_event_table(GOST, "dip").cell_of(dip) == "90 > u >= 85 | 0.01 < t <= 0.2"
    r, c = get_event_table(EN, "dip").locate([85.0], [0.1 + 0.2 - 0.1])
    assert (r[0], c[0]) == (0, 0)  # 0.20000000000000004 s


def test_builtin_tables_and_a_broken_user_file(tmp_path: Path) -> None:
    assert builtin_event_table_ids() == (
        "EN 50160:2010 dips",
        "EN 50160:2010 interruptions",
        "EN 50160:2010 swells",
        "GOST 32144-2013 dips",
        "GOST 32144-2013 interruptions",
        "GOST 32144-2013 swells",
    )
    gost = get_event_table(GOST, "dip")
    assert gost.spec.verification == "memory"
    assert any("not verified" in n for n in gost.notes())
    bad = tmp_path / "tables.yaml"
    bad.write_text(
        "schema_version: 1\ntables:\n  - id: x\n    standard: s\n    event: dip\n"
        "    clause: c\n    source: s\n    verification: memory\n    row_quantity: u\n"
        "    column_quantity: t\n    rows:\n"
        "      - {label: a, lower: 10, lower_inclusive: true, upper: 50, upper_inclusive: true}\n"
        "      - {label: b, lower: 50, lower_inclusive: true, upper: 90, upper_inclusive: false}\n"
        "    columns:\n"
        "      - {label: t, lower: 0, lower_inclusive: true, upper: 1, upper_inclusive: true}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"tables\.yaml: tables\.0: .*'a' and 'b' overlap"):
        load_event_tables(bad)
    with pytest.raises(InputError, match="no built-in swell table for 'IEC'"):
        get_event_table("IEC", "swell")


# --------------------------------------------------------------------------- counts, flags


def test_counts_per_week_and_flags() -> None:
    # Moscow weeks start Monday 00:00 local = Sunday 21:00 UTC. Record: Sunday 20:59:59 UTC
    # for 2 s, sampled every 10 ms, with a short dip on each side of the week boundary and a
    # dip running past the end of the record.
    start = pd.Timestamp("2025-06-08 20:59:59", tz="UTC")
    pct = np.full(200, 100.0)
    pct[10:20] = 75.0  # 20:59:59.10, 100 ms, week 1, cell B1
    pct[110:130] = 50.0  # 21:00:00.10, 200 ms, week 2, cell C1
    pct[190:] = 30.0  # 21:00:00.90, cut by the record end (incomplete), D1
    u = pct[:, np.newaxis] * 2.3
    log = detect_events(u, half_cycles(u, start), u_din_v=230.0)
    counts = count_per_week(log, get_event_table(EN, "dip"), timezone="Europe/Moscow")
    assert list(counts.period_start_utc) == [
        pd.Timestamp("2025-06-01 21:00", tz="UTC"),
        pd.Timestamp("2025-06-08 21:00", tz="UTC"),
    ]
    assert counts.counts.sum(axis=(1, 2)).tolist() == [1, 2]
    assert counts.counts[0, 1, 0] == 1
    assert counts.counts[1, 2, 0] == 1
    assert counts.counts[1, 3, 0] == 1
    assert counts.n_incomplete.tolist() == [0, 1]
    assert counts.n_outside.tolist() == [0, 0]
    frame = counts.to_frame()
    assert frame.loc[frame["count"] > 0, "cell"].tolist() == ["B1", "C1", "D1"]
    assert any("Europe/Moscow" in n for n in counts.notes)
    # flags of a 1-s grid: the intervals touched by an event
    grid = pd.date_range(start, periods=3, freq="1s")
    assert event_flags(log, grid, "1s").tolist() == [True, True, False]  # record ends at 2 s
    assert event_flags(log.dips[:1], grid, "1s").tolist() == [True, False, False]
    assert event_flags([], grid, "1s").tolist() == [False, False, False]


def test_long_dips_fall_outside_the_table() -> None:
    pct = np.full(7000, 100.0)
    pct[100:6500] = 85.0  # 64 s
    u = pct[:, np.newaxis] * 2.3
    log = detect_events(u, half_cycles(u), u_din_v=230.0)
    counts = count_per_week(log, get_event_table(EN, "dip"), timezone="UTC")
    assert counts.counts.sum() == 0
    assert counts.n_outside.tolist() == [1]


# --------------------------------------------------------------------------- bad inputs


def test_bad_event_inputs() -> None:
    u = np.full((5, 3), 230.0)
    t = half_cycles(u)
    with pytest.raises(DataQualityError, match=r"time_utc\[3\].*not after.*non-monotonic"):
        detect_events(u, t[[0, 1, 3, 2, 4]], u_din_v=230.0)
    nan = u.copy()
    nan[2, 1] = np.nan
    with pytest.raises(DataQualityError, match=r"urms_half_v\[2, 1\]"):
        detect_events(nan, t, u_din_v=230.0)
    with pytest.raises(InputError, match="tz-aware"):
        detect_events(u, t.tz_localize(None), u_din_v=230.0)
    with pytest.raises(InputError, match="4 rows"):
        detect_events(u[:4], t, u_din_v=230.0)
    with pytest.raises(InputError, match="interruption_percent < dip_percent"):
        EventThresholds(dip_percent=4.0)
    with pytest.raises(InputError, match="hysteresis_percent 20"):
        EventThresholds(hysteresis_percent=20.0)
    with pytest.raises(InputError, match="u_din_v"):
        detect_events(u, t, u_din_v=0.0)


def _dip(u: float, t: float, kind: str = "dip") -> VoltageEvent:
    return VoltageEvent(
        kind=kind,
        start_utc=START,  # type: ignore[arg-type]
        end_utc=START + pd.Timedelta(seconds=t),
        duration_s=t,
        extreme_v=u * 2.3,
        extreme_percent=u,
        worst_channel="L1",
        channels=("L1",),
        complete=True,
    )
