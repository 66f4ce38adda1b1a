"""Streaming power flow: ``simulate(..., keep="summary")`` keeps per-element statistics
(equal to those of the full result), streams the full results to Parquet (equal to the
full result's file) and holds memory that does not grow with the number of steps; the
iterative-current option agrees with pandapower."""

from __future__ import annotations

import json
import math
import re
import tracemalloc
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import gridtwin.network._result_file as results_mod
import gridtwin.network._timeseries as ts_mod
from gridtwin.errors import ConvergenceError, InputError
from gridtwin.network import (
    KeepFull,
    KeepSummary,
    NetworkModel,
    PowerFlowOptions,
    Profiles,
    read_parquet,
    simulate,
    validate,
)
from gridtwin.network._options import Method
from gridtwin.network._results import PowerFlowResult, PowerFlowStatistics, StatisticsSpec
from tests.network.util import (
    LV_CODE,
    MV_CODE,
    feature_model,
    pandapower_step,
    simbench_model,
)

WEEK = slice(0, 672)
FIELDS = (
    "vm_pu",
    "va_degree",
    "line_i_ka",
    "line_loading_percent",
    "line_p_from_mw",
    "trafo_i_hv_ka",
    "trafo_i_lv_ka",
    "trafo_loading_percent",
    "ext_grid_p_mw",
    "ext_grid_q_mvar",
    "p_loss_mw",
    "converged",
)
SERIES = ("converged", "p_loss_mw", "ext_grid_p_mw", "ext_grid_q_mvar", "trafo_loading_percent")
PER_ELEMENT = (
    "vm_min_pu",
    "vm_min_step",
    "vm_max_pu",
    "vm_max_step",
    "vm_mean_pu",
    "vm_valid_steps",
    "vm_steps_below",
    "vm_steps_above",
    "line_loading_max_percent",
    "line_loading_max_step",
    "line_i_max_ka",
    "line_steps_above",
    "trafo_loading_max_percent",
    "trafo_loading_max_step",
    "trafo_steps_above",
)


def _lv() -> NetworkModel:
    return simbench_model(LV_CODE)


def _spec_for(full: PowerFlowResult) -> StatisticsSpec:
    """Bands and limits inside the observed ranges, so that every count is exercised."""
    vm = full.vm_pu[np.isfinite(full.vm_pu)]
    load = full.line_loading_percent[np.isfinite(full.line_loading_percent)]
    trafo = full.trafo_loading_percent[np.isfinite(full.trafo_loading_percent)]
    lo, hi = np.quantile(vm, [0.2, 0.8])
    limits = (
        float(np.quantile(load, 0.7)),
        float(np.quantile(trafo, 0.5)) if trafo.size else 50.0,
        100.0,
    )
    return StatisticsSpec(
        voltage_bands_pu=((float(lo), float(hi)), (0.9, 1.1)), loading_limits_percent=limits
    )


def _oracle_extreme(arr: np.ndarray, use_max: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per column: extreme over non-NaN rows and the first row where it occurs."""
    values, steps = [], []
    for j in range(arr.shape[1]):
        col = arr[:, j]
        ok = ~np.isnan(col)
        if not ok.any():
            values.append(math.nan)
            steps.append(-1)
            continue
        v = col[ok].max() if use_max else col[ok].min()
        values.append(v)
        steps.append(int(np.flatnonzero(col == v)[0]))
    return np.array(values), np.array(steps, dtype=np.int64)


def _assert_statistics_match(
    stats: PowerFlowStatistics, full: PowerFlowResult, spec: StatisticsSpec
) -> None:
    """Check the streamed statistics against a direct computation on the full arrays."""
    assert stats.time_utc.equals(full.time_utc)
    for name in ("bus_ids", "line_ids", "trafo_ids", "ext_grid_ids"):
        np.testing.assert_array_equal(getattr(stats, name), getattr(full, name))
    np.testing.assert_array_equal(stats.converged, full.converged)
    np.testing.assert_array_equal(stats.p_loss_mw, full.p_loss_mw)
    np.testing.assert_array_equal(stats.ext_grid_p_mw, full.ext_grid_p_mw)
    np.testing.assert_array_equal(stats.ext_grid_q_mvar, full.ext_grid_q_mvar)
    np.testing.assert_array_equal(stats.trafo_loading_percent, full.trafo_loading_percent)
    with warnings.catch_warnings():  # all-NaN columns (de-energised buses) are expected
        warnings.simplefilter("ignore", RuntimeWarning)
        if full.symmetric:
            vmin = vmax = vmean = full.vm_pu
            i_line = full.line_i_ka
        else:
            vmin, vmax = np.nanmin(full.vm_pu, axis=2), np.nanmax(full.vm_pu, axis=2)
            vmean = full.vm_pu.mean(axis=2)
            i_line = np.nanmax(full.line_i_ka, axis=2)
        valid = ~np.isnan(vmean)
        mean = np.nansum(vmean, axis=0) / valid.sum(axis=0)
    for arr, use_max, value_name, step_name in (
        (vmin, False, "vm_min_pu", "vm_min_step"),
        (vmax, True, "vm_max_pu", "vm_max_step"),
        (full.line_loading_percent, True, "line_loading_max_percent", "line_loading_max_step"),
        (full.trafo_loading_percent, True, "trafo_loading_max_percent", "trafo_loading_max_step"),
    ):
        values, steps = _oracle_extreme(arr, use_max)
        np.testing.assert_array_equal(getattr(stats, value_name), values, err_msg=value_name)
        np.testing.assert_array_equal(getattr(stats, step_name), steps, err_msg=step_name)
    np.testing.assert_array_equal(stats.line_i_max_ka, _oracle_extreme(i_line, True)[0])
    np.testing.assert_array_equal(stats.vm_valid_steps, valid.sum(axis=0))
    np.testing.assert_allclose(stats.vm_mean_pu, mean, rtol=1e-13, atol=0)
    for k, (lo, hi) in enumerate(spec.voltage_bands_pu):
        np.testing.assert_array_equal(stats.vm_steps_below[k], (vmin < lo).sum(axis=0))
        np.testing.assert_array_equal(stats.vm_steps_above[k], (vmax > hi).sum(axis=0))
    for k, lim in enumerate(spec.loading_limits_percent):
        np.testing.assert_array_equal(
            stats.line_steps_above[k], (full.line_loading_percent > lim).sum(axis=0)
        )
        np.testing.assert_array_equal(
            stats.trafo_steps_above[k], (full.trafo_loading_percent > lim).sum(axis=0)
        )
    assert stats.summary() == full.summary()
    assert stats.notes == full.notes
    assert (stats.name, stats.symmetric, stats.step_duration) == (
        full.name,
        full.symmetric,
        full.step_duration,
    )


@pytest.mark.parametrize(
    ("method", "threading"), [("newton_raphson", -1), ("iterative_current", 0)]
)
def test_streamed_statistics_equal_full_result_lv_week(method: Method, threading: int) -> None:
    model = _lv()
    full = simulate(model, steps=WEEK, options=PowerFlowOptions(method=method))
    spec = _spec_for(full)
    stats = simulate(
        model,
        steps=WEEK,
        options=PowerFlowOptions(method=method, chunk_steps=100, threading=threading),
        keep=KeepSummary(statistics=spec),
    )
    assert isinstance(stats, PowerFlowStatistics)
    assert stats.vm_steps_below[0].sum() > 0
    assert stats.vm_steps_above[0].sum() > 0
    assert stats.line_steps_above[0].sum() > 0
    _assert_statistics_match(stats, full, spec)
    # the in-memory route gives the same statistics
    direct = full.statistics(spec)
    for name in (*PER_ELEMENT, *SERIES):
        np.testing.assert_allclose(
            getattr(direct, name), getattr(stats, name), rtol=1e-13, atol=0, err_msg=name
        )
    assert PowerFlowStatistics.from_result(full, spec).summary() == stats.summary()


def test_statistics_tables_for_checks() -> None:
    model = _lv()
    stats = simulate(
        model,
        steps=WEEK,
        keep=KeepSummary(
            statistics=StatisticsSpec(
                voltage_bands_pu=((0.95, 1.05),), loading_limits_percent=(80.0, 100.0)
            )
        ),
    )
    buses = stats.bus_table()
    assert buses.index.name == "bus"
    assert list(buses.index) == list(stats.bus_ids)
    assert {
        "vm_min_pu",
        "vm_min_time_utc",
        "vm_max_pu",
        "vm_max_time_utc",
        "vm_mean_pu",
        "valid_steps",
        "steps_below_0.95_pu",
        "steps_above_1.05_pu",
    } <= set(buses.columns)
    k = int(np.nanargmin(stats.vm_min_pu))
    assert buses["vm_min_time_utc"].iloc[k] == stats.time_utc[stats.vm_min_step[k]]
    lines = stats.line_table()
    assert {
        "loading_max_percent",
        "loading_max_time_utc",
        "i_max_ka",
        "steps_above_80_percent",
        "hours_above_100_percent",
    } <= set(lines.columns)
    np.testing.assert_allclose(lines["hours_above_80_percent"], stats.line_steps_above[0] * 0.25)
    trafos = stats.trafo_table()
    assert trafos.index.name == "trafo"
    assert len(trafos) == len(stats.trafo_ids)


def _extreme_profiles(model: NetworkModel, bad: list[int]) -> Profiles:
    prof = model.profiles
    assert prof is not None
    lp, lq = prof.load_p_mw.copy(), prof.load_q_mvar.copy()
    lp.iloc[bad] *= 1000.0
    lq.iloc[bad] *= 1000.0
    return prof.replace(load_p_mw=lp, load_q_mvar=lq)


@pytest.mark.parametrize(
    ("method", "threading"), [("newton_raphson", -1), ("iterative_current", 0)]
)
def test_failed_steps_are_left_out_of_the_statistics(method: Method, threading: int) -> None:
    model = _lv()
    prof = _extreme_profiles(model, [3, 5])
    full = simulate(
        model, prof, steps=slice(0, 8), options=PowerFlowOptions(chunk_steps=4, method=method)
    )
    stats = simulate(
        model,
        prof,
        steps=slice(0, 8),
        options=PowerFlowOptions(chunk_steps=4, method=method, threading=threading),
        keep=KeepSummary(),
    )
    assert stats.converged.tolist() == [True, True, True, False, True, False, True, True]
    assert np.isnan(stats.p_loss_mw[[3, 5]]).all()
    assert (stats.vm_valid_steps[np.isfinite(stats.vm_min_pu)] == 6).all()
    assert stats.summary().first_failed_utc == prof.time_utc[3]
    _assert_statistics_match(stats, full, StatisticsSpec())
    if method == "iterative_current":
        assert any("re-solved with Newton-Raphson" in n for n in stats.notes)
    with pytest.raises(ConvergenceError, match=re.escape(prof.time_utc[3].isoformat())):
        simulate(
            model,
            prof,
            steps=slice(0, 8),
            options=PowerFlowOptions(strict=True, chunk_steps=2, threading=threading),
            keep=KeepSummary(),
        )


def test_unbalanced_statistics_equal_full_result() -> None:
    model = feature_model()
    phases = {0: "a", 1: "b"}
    full = simulate(
        model,
        options=PowerFlowOptions(symmetric=False, zero_sequence="lv_cable_4x", load_phases=phases),
    )
    spec = _spec_for(full)
    stats = simulate(
        model,
        options=PowerFlowOptions(
            chunk_steps=3, symmetric=False, zero_sequence="lv_cable_4x", load_phases=phases
        ),
        keep=KeepSummary(statistics=spec),
    )
    assert not stats.symmetric
    _assert_statistics_match(stats, full, spec)


def test_feature_net_with_isolated_bus_and_no_trafo_series() -> None:
    model = feature_model()
    full = simulate(model)
    stats = simulate(
        model,
        options=PowerFlowOptions(chunk_steps=3),
        keep=KeepSummary(statistics=StatisticsSpec(trafo_series=False)),
    )
    assert stats.trafo_loading_percent is None
    isolated = list(stats.bus_ids).index(
        int(model.net.bus.index[model.net.bus.name == "isolated"][0])
    )
    assert stats.vm_min_step[isolated] == -1
    assert np.isnan(stats.vm_min_pu[isolated])
    assert stats.vm_valid_steps[isolated] == 0
    assert pd.isna(stats.bus_table()["vm_min_time_utc"].iloc[isolated])
    assert stats.summary() == full.summary()


# --- Parquet ---------------------------------------------------------------------------


def _frame(path: Path) -> pd.DataFrame:
    """The file's rows in a canonical order (row groups may cut the steps differently)."""
    df = pq.read_table(path).to_pandas()
    for col in ("element", "quantity"):
        df[col] = df[col].astype(str)
    out: pd.DataFrame = df.sort_values(
        ["time_utc", "element", "quantity", "element_id"], ignore_index=True
    )
    return out


def test_streamed_parquet_equals_full_result_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _lv()
    full = simulate(model, steps=WEEK)
    ref = full.write_parquet(tmp_path / "full.parquet")
    monkeypatch.setattr(results_mod, "PARQUET_GROUP_ROWS", 20_000)  # several groups a chunk
    stats = simulate(
        model,
        steps=WEEK,
        options=PowerFlowOptions(chunk_steps=250),
        keep=KeepSummary(parquet=tmp_path / "streamed.parquet"),
    )
    streamed = tmp_path / "streamed.parquet"
    assert stats.n_steps == 672
    assert not list(tmp_path.glob("*.partial"))
    pd.testing.assert_frame_equal(_frame(streamed), _frame(ref))
    meta = pq.ParquetFile(streamed).metadata
    assert meta.num_row_groups > 672 // 250 + 1
    assert max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) <= 20_000
    kv = {k: json.loads(v) for k, v in meta.metadata.items() if k == b"gridtwin.powerflow"}
    ref_kv = {
        k: json.loads(v)
        for k, v in pq.ParquetFile(ref).metadata.metadata.items()
        if k == b"gridtwin.powerflow"
    }
    assert kv == ref_kv
    back = read_parquet(streamed)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(back, name), getattr(full, name), err_msg=name)
    assert back.notes == full.notes


def test_streamed_parquet_records_failed_steps_at_the_end(tmp_path: Path) -> None:
    model = _lv()
    prof = _extreme_profiles(model, [5])
    path = tmp_path / "r.parquet"
    stats = simulate(
        model,
        prof,
        steps=slice(0, 8),
        options=PowerFlowOptions(chunk_steps=4),
        keep=KeepSummary(parquet=path),
    )
    back = read_parquet(path)
    assert back.notes == stats.notes
    assert any("failed" in n for n in back.notes)
    assert back.converged.tolist() == stats.converged.tolist()
    with pytest.raises(ConvergenceError):
        simulate(
            model,
            prof,
            steps=slice(0, 8),
            options=PowerFlowOptions(strict=True),
            keep=KeepSummary(parquet=tmp_path / "strict.parquet"),
        )
    assert not (tmp_path / "strict.parquet").exists()
    assert not list(tmp_path.glob("*.partial"))


# --- memory -----------------------------------------------------------------------------


def test_retained_statistics_do_not_grow_with_the_number_of_steps() -> None:
    model = _lv()
    short = simulate(model, steps=slice(0, 96), keep=KeepSummary())
    long = simulate(model, steps=slice(0, 960), keep=KeepSummary())
    for name in PER_ELEMENT:
        assert getattr(short, name).nbytes == getattr(long, name).nbytes, name
    for name in SERIES:  # per-step network series: T x (few columns)
        assert getattr(long, name).shape[0] == 960
        assert getattr(long, name).shape[1:] == getattr(short, name).shape[1:]
    n_trafo_eg = len(long.trafo_ids) + 2 * len(long.ext_grid_ids)
    assert n_trafo_eg < len(long.bus_ids) / 4  # the series are narrow


def _peak_bytes(model: NetworkModel, n: int, keep: Literal["full", "summary"]) -> int:
    kept = KeepSummary() if keep == "summary" else KeepFull()
    tracemalloc.start()
    try:
        simulate(model, steps=slice(0, n), options=PowerFlowOptions(chunk_steps=96), keep=kept)
        return int(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def test_streaming_peak_memory_is_bounded_by_the_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    model = simbench_model(MV_CODE)
    # validation reads the whole profile year whatever the steps (validate's own cost, the
    # same for every run): validate once, outside the measurement
    report = validate(model, model.profiles)
    monkeypatch.setattr(ts_mod, "validate", lambda *_args, **_kwargs: report)
    _peak_bytes(model, 96, "summary")  # warm caches outside the measurement
    small, large = _peak_bytes(model, 960, "summary"), _peak_bytes(model, 7680, "summary")
    full_small, full_large = _peak_bytes(model, 960, "full"), _peak_bytes(model, 7680, "full")
    assert full_large > 4 * full_small  # the full result grows with T ...
    assert large < 1.5 * small  # ... the streamed statistics do not
    assert large < full_large / 5


def test_chunks_are_capped_by_the_memory_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _lv()
    ref = simulate(model, steps=slice(0, 200), keep=KeepSummary())
    monkeypatch.setattr(ts_mod, "CHUNK_BUDGET_BYTES", 64 * 1024)
    seen: list[tuple[int, int]] = []
    capped = simulate(
        model,
        steps=slice(0, 200),
        progress=lambda done, total: seen.append((done, total)),
        keep=KeepSummary(),
    )
    assert len(seen) > 2
    assert seen[-1] == (200, 200)
    for name in PER_ELEMENT:
        np.testing.assert_allclose(
            getattr(capped, name), getattr(ref, name), rtol=1e-13, err_msg=name
        )


def test_bad_arguments() -> None:
    model = feature_model()
    with pytest.raises(InputError, match="keep"):
        simulate(model, keep="all")  # type: ignore[call-overload]
    with pytest.raises(InputError, match="method"):
        simulate(model, options=PowerFlowOptions(method="gauss_seidel"))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="statistics"):
        simulate(model, keep=StatisticsSpec())  # type: ignore[call-overload]
    with pytest.raises(InputError, match="voltage band"):
        StatisticsSpec(voltage_bands_pu=((1.1, 0.9),))
    with pytest.raises(InputError, match="loading limits"):
        StatisticsSpec(loading_limits_percent=(math.inf,))


# --- iterative current vs pandapower ----------------------------------------------------


def _sample_steps(prof: Profiles, n: int = 12, seed: int = 11) -> list[int]:
    rng = np.random.default_rng(seed)
    steps = rng.choice(prof.n_steps, size=n, replace=False).tolist()
    total = prof.load_p_mw.to_numpy().sum(axis=1)
    return sorted({*steps, int(np.argmax(total))})


@pytest.mark.parametrize("code", [LV_CODE, MV_CODE])
def test_iterative_current_matches_pandapower_on_sampled_steps(code: str) -> None:
    model = simbench_model(code)
    prof = model.profiles
    assert prof is not None
    steps = _sample_steps(prof)
    ic = simulate(model, steps=steps, options=PowerFlowOptions(method="iterative_current"))
    nr = simulate(model, steps=steps, options=PowerFlowOptions(method="newton_raphson"))
    assert ic.converged.all()
    assert not any("re-solved" in n for n in ic.notes)
    np.testing.assert_allclose(ic.vm_pu, nr.vm_pu, rtol=0, atol=1e-9)
    worst_vm = worst_line = 0.0
    for k, t in enumerate(steps):
        net = pandapower_step(model, prof, t)
        vm_pp = net.res_bus.vm_pu.reindex(ic.bus_ids).to_numpy()
        worst_vm = max(worst_vm, float(np.nanmax(np.abs(ic.vm_pu[k] - vm_pp))))
        in_service = net.line.in_service.reindex(ic.line_ids).to_numpy()
        dl = (
            ic.line_loading_percent[k]
            - net.res_line.loading_percent.reindex(ic.line_ids).to_numpy()
        )
        worst_line = max(worst_line, float(np.abs(dl[in_service]).max()))
    assert worst_vm <= 1e-6
    assert worst_line <= 1e-4


def test_iterative_current_on_the_feature_net() -> None:
    """Taps, parallel units, shunt, storage, sgen, open line ends, links, isolated bus."""
    model = feature_model()
    nr = simulate(model, options=PowerFlowOptions(method="newton_raphson"))
    ic = simulate(model, options=PowerFlowOptions(method="iterative_current"))
    for name in ("vm_pu", "line_loading_percent", "trafo_loading_percent", "p_loss_mw"):
        np.testing.assert_allclose(
            getattr(ic, name), getattr(nr, name), rtol=0, atol=1e-8, err_msg=name
        )
