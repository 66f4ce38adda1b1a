"""Waveform processing (IEC 61000-4-30 class A style) on synthetic signals with known values.

Tolerances are stated against the IEC 61000-4-30 class A uncertainties (frequency ±10 mHz,
voltage ±0.1 % of U_din, unbalance ±0.15 %-points) and the IEC 61000-4-7 class I harmonic
uncertainty (±5 % of the reading); the asserted bounds are tighter, since the signals are
noise-free, but loose enough for the integer-sample windows (a 10-cycle window of 50.05 Hz at
6.4 kHz is 1278.7 samples, rounded to 1278 or 1279).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import DataQualityError, InputError
from gridtwin.quality import evaluate
from gridtwin.quality.waveform import (
    Waveform,
    min_sample_rate_hz,
    process_waveform,
    read_comtrade,
)

START = pd.Timestamp("2025-06-02 00:00", tz="UTC")  # a Monday, on every UTC grid
PHASES = np.array([0.0, -2 * np.pi / 3, 2 * np.pi / 3])


@dataclass(frozen=True)
class Expected:
    """Values of a synthetic 3-phase signal, per phase where they differ."""

    u1_v: np.ndarray  # fundamental r.m.s. per phase
    rms_v: np.ndarray  # total r.m.s. per phase
    harmonic_percent: dict[int, np.ndarray]
    thd_percent: np.ndarray
    u2_percent: float
    u0_percent: float


def three_phase(
    *,
    fs: float = 6400.0,
    duration_s: float = 12.0,
    f_hz: float = 50.05,
    u1_v: float = 230.0,
    u2_percent: float = 0.0,
    u0_percent: float = 0.0,
    harmonics: dict[int, float] | None = None,
    dips: Sequence[tuple[int, float, float, float]] = (),
    start: pd.Timestamp = START,
) -> tuple[Waveform, Expected]:
    """Positive + negative + zero sequence fundamental, balanced harmonics, and dips.

    ``harmonics`` maps order -> r.m.s. in % of ``u1_v`` (same volts on every phase, phase
    sequence of order n). ``dips`` are (phase, start_s, duration_s, remaining fraction): the
    samples of that phase in the span are scaled (rectangular dip).
    """
    n = round(duration_s * fs)
    w = 2 * np.pi * f_hz * np.arange(n) / fs
    harmonics = harmonics or {}
    v1 = u1_v * np.exp(1j * PHASES)
    v2 = u2_percent / 100 * u1_v * np.exp(-1j * PHASES + 0.3j)
    v0 = u0_percent / 100 * u1_v * np.exp(0.7j) * np.ones(3)
    fund = v1 + v2 + v0
    x = np.empty((n, 3))
    for k in range(3):
        x[:, k] = np.sqrt(2) * np.abs(fund[k]) * np.cos(w + np.angle(fund[k]))
        for order, pct in harmonics.items():
            x[:, k] += np.sqrt(2) * pct / 100 * u1_v * np.cos(order * (w + PHASES[k]) + 0.2)
    for phase, t0, dur, frac in dips:
        a, b = round(t0 * fs), round((t0 + dur) * fs)
        x[a:b, phase] *= frac
    u1 = np.abs(fund)
    h_v = {o: p / 100 * u1_v for o, p in harmonics.items()}
    h2 = sum((v**2 for v in h_v.values()), 0.0)
    exp = Expected(
        u1_v=u1,
        rms_v=np.sqrt(u1**2 + h2),
        harmonic_percent={o: v / u1 * 100 for o, v in h_v.items()},
        thd_percent=np.sqrt(h2) / u1 * 100,
        u2_percent=u2_percent,
        u0_percent=u0_percent,
    )
    return Waveform(x, fs, start), exp


def write_comtrade(
    folder: Path,
    name: str,
    samples: np.ndarray,
    fs: float,
    *,
    channels: Sequence[tuple[str, str, str]] = (
        ("UA", "A", "V"),
        ("UB", "B", "V"),
        ("UC", "C", "V"),
    ),
    scale: float = 0.01,
    times_us: np.ndarray | None = None,
    pors: str = "P",
    ratio: tuple[float, float] = (1.0, 1.0),
) -> Path:
    """Write an ASCII COMTRADE 1999 record (CFG + DAT) by hand; return the CFG path.

    Values are integers ``round(sample / scale)`` with CFG ``a = scale``, ``b = 0``.
    ``times_us`` given: ``nrates = 0`` (timestamps are critical) and these sample times.
    """
    n = samples.shape[0]
    lines = ["TESTSTATION,GRIDTWIN-TEST,1999", f"{len(channels)},{len(channels)}A,0D"]
    for i, (cid, ph, unit) in enumerate(channels, start=1):
        lines.append(
            f"{i},{cid},{ph},,{unit},{scale},0,0,-999999,999999,{ratio[0]},{ratio[1]},{pors}"
        )
    lines.append("50")
    if times_us is None:
        lines += ["1", f"{fs:g},{n}"]
    else:
        lines += ["0", f"0,{n}"]
    lines += ["02/06/2025,00:00:00.000000", "02/06/2025,00:00:00.000000", "ASCII", "1"]
    cfg = folder / f"{name}.cfg"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    t_us = np.round(np.arange(n) / fs * 1e6).astype(np.int64) if times_us is None else times_us
    counts = np.round(samples / scale).astype(np.int64)
    rows = [f"{i + 1},{t_us[i]}," + ",".join(str(v) for v in counts[i]) for i in range(n)]
    (folder / f"{name}.dat").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return cfg


# --------------------------------------------------------------------------- accuracy


def test_recovers_rms_frequency_harmonics_unbalance() -> None:
    wf, exp = three_phase(f_hz=50.05, u2_percent=1.5, u0_percent=0.8, harmonics={5: 4.0, 7: 3.0})
    res = process_waveform(wf, u_din_v=230.0)
    c = res.cycles
    assert res.cycles_per_window == 10
    assert c.synchronised.all()
    assert res.events.events == ()
    # 10-s frequency: exactly one whole 10-s UTC interval in the 12-s record
    assert list(res.time_10s_utc) == [START]
    assert abs(res.frequency_10s_hz[0] - 50.05) < 1e-3  # class A: ±10 mHz
    # 10-cycle r.m.s. per phase
    assert np.max(np.abs(c.u_rms_v / exp.rms_v - 1)) < 5e-4  # class A: ±0.1 % of U_din
    # harmonic subgroups in % of the fundamental, THD
    for order in (5, 7):
        got = c.harmonics_v[:, :, order] / c.harmonics_v[:, :, 1] * 100
        assert np.max(np.abs(got - exp.harmonic_percent[order])) < 0.02
    # leakage of the 5th and 7th into an absent order (class I: ±0.05 % of U_nom here)
    assert np.max(c.harmonics_v[:, :, 3] / c.harmonics_v[:, :, 1] * 100) < 0.03
    assert np.max(np.abs(c.thd_percent - exp.thd_percent)) < 0.02
    # symmetrical components
    assert np.max(np.abs(c.unbalance_negative_percent - 1.5)) < 0.03
    assert np.max(np.abs(c.unbalance_zero_percent - 0.8)) < 0.03
    # 3-s aggregates: 150 cycles each, about 3 s apart
    assert len(res.time_3s_utc) == 3
    step_s = (res.time_3s_utc[1:] - res.time_3s_utc[:-1]).total_seconds()
    np.testing.assert_allclose(step_s, 150 / 50.05, rtol=1e-3)
    np.testing.assert_allclose(res.u_rms_3s_v, np.broadcast_to(exp.rms_v, (3, 3)), rtol=2e-4)


def test_frequency_counts_only_measured_cycles() -> None:
    # 1 s without voltage inside the 10-s interval: no zero crossings there. The frequency is
    # the whole measured cycles over their cumulative duration (IEC 61000-4-30 5.1), not a
    # count padded with nominal-length cycles (which would pull it 5 mHz towards 50 Hz).
    wf, _ = three_phase(f_hz=50.05, dips=[(k, 3.0, 1.0, 0.0) for k in range(3)])
    res = process_waveform(wf, u_din_v=230.0)
    assert [e.kind for e in res.events.events] == ["dip", "interruption"]
    assert abs(res.frequency_10s_hz[0] - 50.05) < 1e-3
    assert res.flags_10s.tolist() == [True]


def test_iec_61000_4_7_subgroup_takes_the_two_neighbour_bins_only() -> None:
    # Synchronised 10-cycle windows at exactly 50 Hz: 5-Hz bins. Around the 5th harmonic
    # (bin 50) put 1 % at 245 Hz and 255 Hz (bins 49, 51: inside the subgroup) and 1 % at
    # 260 Hz (bin 52: outside, an interharmonic). G_sg,5 = sqrt(3² + 1² + 1²) % of U1.
    fs, n = 6400.0, 6400 * 3
    t = np.arange(n) / fs
    u1 = 230.0
    x = (
        np.sqrt(2)
        * u1
        * (
            np.cos(2 * np.pi * 50 * t)
            + 0.03 * np.cos(2 * np.pi * 250 * t)
            + 0.01 * np.cos(2 * np.pi * 245 * t + 1.0)
            + 0.01 * np.cos(2 * np.pi * 255 * t + 2.0)
            + 0.01 * np.cos(2 * np.pi * 260 * t + 0.5)
        )
    )
    res = process_waveform(Waveform(x, fs, START), u_din_v=230.0)
    c = res.cycles
    g5 = c.harmonics_v[:, 0, 5] / c.harmonics_v[:, 0, 1] * 100
    np.testing.assert_allclose(g5, np.sqrt(11.0), atol=0.01)  # not 3.0, not sqrt(12)
    np.testing.assert_allclose(c.thd_percent[:, 0], np.sqrt(11.0), atol=0.01)
    assert np.all(np.isnan(c.unbalance_negative_percent))  # single channel


def test_60_hz_uses_12_cycle_windows() -> None:
    fs = 7680.0
    n = round(2.0 * fs)
    x = np.sqrt(2) * 120.0 * np.cos(2 * np.pi * 60.0 * np.arange(n) / fs)
    res = process_waveform(Waveform(x, fs, START), u_din_v=120.0, nominal_frequency_hz=60.0)
    assert res.cycles_per_window == 12
    assert set(res.cycles.n_samples.tolist()) == {1536}  # 12 cycles of 128 samples
    np.testing.assert_allclose(res.cycles.u_rms_v, 120.0, rtol=1e-6)


def test_sample_rate_bound_for_order_40() -> None:
    assert min_sample_rate_hz(50.0) == pytest.approx(4010.0)
    assert min_sample_rate_hz(60.0) == pytest.approx(4810.0)


# --------------------------------------------------------------------------- 10-min path


def test_few_minutes_of_waveform_feed_the_weekly_evaluation() -> None:
    # 4 minutes from 00:00 UTC, 225 V against U_din = 230 V, a dip at 101.3 s on L2
    wf, exp = three_phase(
        duration_s=240.0,
        f_hz=50.02,
        u1_v=225.0,
        u2_percent=1.0,
        harmonics={5: 3.0},
        dips=[(1, 101.3, 0.1, 0.5)],
    )
    part = process_waveform(wf, u_din_v=230.0, min_coverage_percent=30.0)
    assert list(part.time_10min_utc) == [START]
    np.testing.assert_allclose(part.coverage_10min_percent, [40.0])
    assert part.flags_10min.tolist() == [True]  # the dip flags the interval
    np.testing.assert_allclose(part.u_rms_10min_v[0], exp.rms_v, rtol=5e-4)
    # δU(−) of the 10-cycle values against 230 V (the 0.1-s dip adds about 0.015 %)
    np.testing.assert_allclose(
        part.under_over_10min.under_percent[0], (230.0 - exp.rms_v) / 230.0 * 100, atol=0.05
    )
    np.testing.assert_allclose(part.under_over_10min.over_percent, 0.0, atol=1e-12)
    np.testing.assert_allclose(
        part.harmonics_10min_percent[0, :, 5], exp.harmonic_percent[5], atol=0.02
    )
    assert part.harmonics_10min_percent[0, 0, 1] == pytest.approx(100.0)
    c = part.cycles
    np.testing.assert_allclose(c.unbalance_negative_percent[~c.flagged], 1.0, atol=0.03)
    assert c.unbalance_negative_percent[c.flagged].max() > 5  # dip on one phase only
    # the flagged windows stay in the (flagged) 10-min value, IEC 61000-4-30 4.7
    assert 1.01 < part.unbalance_negative_10min_percent[0] < 1.1
    assert len(part.time_10s_utc) == 24
    assert part.flags_10s.sum() == 1
    assert part.flags_10s[10]  # 100 s .. 110 s
    assert len(part.time_3s_utc) in (79, 80)
    assert part.flags_3s.sum() == 1

    for standard in ("GOST 32144-2013", "EN 50160:2010"):
        results = part.evaluate_all(standard, timezone="Europe/Moscow")
        assert {
            "voltage_deviation",
            "frequency_deviation",
            "thd",
            "harmonic_5",
            "unbalance_negative_sequence",
        } <= set(results)
        thd = results["thd"]
        assert thd.n_flagged.tolist() == [[1, 1, 1]]
        assert thd.n_valid.tolist() == [[0, 0, 0]]
        assert thd.verdict.tolist() == [["insufficient data"] * 3]
        freq = results["frequency_deviation"]
        assert freq.n_valid.tolist() == [[23]]
        assert freq.n_flagged.tolist() == [[1]]
        assert freq.point_ids == ("<array>",)

    # the same values through the public evaluate(), as a caller would do
    values, t, flags, ids = part.indicator_values("voltage_deviation", "GOST 32144-2013")
    ev = evaluate(
        values,
        t,
        "voltage_deviation",
        "GOST 32144-2013",
        timezone="UTC",
        flags=flags,
        point_ids=ids,
        nominal_v=230.0,
    )
    assert ev.n_flagged.tolist() == [[1, 1, 1]]

    full = process_waveform(wf, u_din_v=230.0)  # default: 100 % coverage
    assert np.isnan(full.u_rms_10min_v).all()
    ev = full.evaluate("thd", "GOST 32144-2013", timezone="Europe/Moscow")
    assert ev.verdict.tolist() == [["insufficient data"] * 3]
    with pytest.raises(InputError, match="flicker"):
        full.evaluate("pst", "GOST 32144-2013", timezone="Europe/Moscow")


# --------------------------------------------------------------------------- COMTRADE


def test_comtrade_round_trip(tmp_path: Path) -> None:
    wf, exp = three_phase(duration_s=1.0, f_hz=50.0)
    cfg = write_comtrade(tmp_path, "rec", wf.samples_v, wf.sample_rate_hz)
    got = read_comtrade(cfg)
    assert got.channel_names == ("UA", "UB", "UC")
    assert got.sample_rate_hz == pytest.approx(6400.0, rel=1e-9)
    assert got.start_utc == START
    assert got.source == str(cfg)
    np.testing.assert_allclose(got.samples_v, wf.samples_v, atol=0.005 + 1e-9)
    res = process_waveform(got, u_din_v=230.0)
    np.testing.assert_allclose(res.cycles.u_rms_v, exp.rms_v[0], rtol=5e-4)


def test_comtrade_picks_voltage_channels_and_scales_kv_secondary(tmp_path: Path) -> None:
    wf, _ = three_phase(duration_s=0.2, f_hz=50.0)
    kv = np.column_stack((wf.samples_v / 1000.0, wf.samples_v[:, :1] * 0 + 5.0))
    cfg = write_comtrade(
        tmp_path,
        "kv",
        kv,
        6400.0,
        scale=1e-5,
        channels=(("VA", "A", "kV"), ("VB", "B", "kV"), ("VC", "C", "kV"), ("IA", "A", "A")),
    )
    got = read_comtrade(cfg)  # the 3 kV channels
    assert got.channel_names == ("VA", "VB", "VC")
    np.testing.assert_allclose(got.samples_v, wf.samples_v, atol=0.006)
    sec = write_comtrade(
        tmp_path, "sec", wf.samples_v / 100.0, 6400.0, pors="S", ratio=(100.0, 1.0)
    )
    np.testing.assert_allclose(read_comtrade(sec).samples_v, wf.samples_v, atol=0.6)
    np.testing.assert_allclose(
        read_comtrade(sec, values="as_recorded").samples_v, wf.samples_v / 100.0, atol=0.006
    )


def test_comtrade_missing_channel_names_file_and_channels(tmp_path: Path) -> None:
    wf, _ = three_phase(duration_s=0.1, f_hz=50.0)
    cfg = write_comtrade(
        tmp_path, "two", wf.samples_v[:, :2], 6400.0, channels=(("UA", "A", "V"), ("UB", "B", "V"))
    )
    with pytest.raises(InputError, match=r"two\.cfg: channel 'UC' is missing.*'UA' \[V\]"):
        read_comtrade(cfg, channels=("UA", "UB", "UC"))
    with pytest.raises(InputError, match=r"two\.cfg: found 2 voltage channels"):
        read_comtrade(cfg)


def test_comtrade_non_monotonic_time(tmp_path: Path) -> None:
    wf, _ = three_phase(duration_s=0.1, f_hz=50.0)
    n = wf.n_samples
    t_us = np.round(np.arange(n) / 6400.0 * 1e6).astype(np.int64)
    t_us[300], t_us[301] = t_us[301], t_us[300]
    cfg = write_comtrade(tmp_path, "swap", wf.samples_v, 6400.0, times_us=t_us)
    with pytest.raises(
        DataQualityError,
        match=r"swap\.cfg: sample time is not increasing at "
        r"sample 301.*non-monotonic",
    ):
        read_comtrade(cfg)


def test_comtrade_unreadable_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nothing\.cfg: COMTRADE file not found"):
        read_comtrade(tmp_path / "nothing.cfg")
    bad = tmp_path / "bad.cfg"
    bad.write_text("STATION,DEV,1999\nthree,channels\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.cfg: cannot read the COMTRADE record"):
        read_comtrade(bad)


# --------------------------------------------------------------------------- bad inputs


def test_sample_rate_too_low_for_order_40() -> None:
    wf, _ = three_phase(fs=3200.0, duration_s=0.5, f_hz=50.0)
    with pytest.raises(
        InputError,
        match=r"3200 Hz is too low for harmonics up to order 40.*"
        r"must exceed 4010 Hz",
    ):
        process_waveform(wf, u_din_v=230.0)
    res = process_waveform(wf, u_din_v=230.0, max_harmonic_order=25)  # the way out it names
    assert res.harmonics_10min_percent.shape[-1] == 26


def test_non_monotonic_or_irregular_sample_times() -> None:
    t = np.arange(100) / 6400.0
    x = np.zeros((100, 1))
    t_back = t.copy()
    t_back[50] = t_back[48]
    with pytest.raises(DataQualityError, match="not increasing at sample 50"):
        Waveform.from_time_samples(t_back, x, start_utc=START)
    t_gap = t.copy()
    t_gap[60:] += 0.01
    with pytest.raises(DataQualityError, match="not uniform"):
        Waveform.from_time_samples(t_gap, x, start_utc=START)
    ok = Waveform.from_time_samples(t + 0.5, x, start_utc=START)
    assert ok.start_utc == START + pd.Timedelta("500ms")
    assert ok.sample_rate_hz == pytest.approx(6400.0)


def test_bad_waveforms_and_settings() -> None:
    wf, _ = three_phase(duration_s=0.5, f_hz=50.0)
    with pytest.raises(InputError, match="shape"):
        Waveform(np.zeros((10, 2)), 6400.0, START)
    nan = wf.samples_v.copy()
    nan[7, 2] = np.nan
    with pytest.raises(DataQualityError, match="sample 7 of channel 2"):
        Waveform(nan, 6400.0, START)
    with pytest.raises(InputError, match="tz-aware"):
        Waveform(wf.samples_v, 6400.0, pd.Timestamp("2025-06-02"))
    reversed_order = Waveform(wf.samples_v[:, [0, 2, 1]], 6400.0, START)
    with pytest.raises(InputError, match="not in the order L1, L2, L3"):
        process_waveform(reversed_order, u_din_v=230.0)
    with pytest.raises(InputError, match="look like 'kV'"):
        process_waveform(wf, u_din_v=230_000.0)
    with pytest.raises(InputError, match="50 or 60"):
        process_waveform(wf, u_din_v=230.0, nominal_frequency_hz=55.0)
    with pytest.raises(InputError, match="shorter than one 10-cycle window"):
        process_waveform(Waveform(wf.samples_v[:600], 6400.0, START), u_din_v=230.0)
