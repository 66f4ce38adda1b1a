"""PowerFlowResult: long-format Parquet round trip in chunks, frames and summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from gridtwin.errors import InputError
from gridtwin.network import PowerFlowOptions, PowerFlowResult, read_parquet, simulate
from tests.network.util import feature_model

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


def _assert_same(a: PowerFlowResult, b: PowerFlowResult) -> None:
    assert a.time_utc.equals(b.time_utc)
    for name in ("bus_ids", "line_ids", "trafo_ids", "ext_grid_ids", *FIELDS):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.symmetric, a.name, a.notes, a.step_duration) == (
        b.symmetric,
        b.name,
        b.notes,
        b.step_duration,
    )


@pytest.mark.parametrize("symmetric", [True, False])
def test_parquet_round_trip_in_chunks(tmp_path: Path, symmetric: bool) -> None:
    model = feature_model()
    res = simulate(
        model, options=PowerFlowOptions(symmetric=symmetric, zero_sequence="lv_cable_4x")
    )
    path = res.write_parquet(tmp_path / "res.parquet", chunk_steps=3)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 2  # 4 steps in chunks of 3
    per_step = (
        2 * len(res.bus_ids) * (1 if symmetric else 3)
        + len(res.line_ids) * (3 if symmetric else 5)
        + len(res.trafo_ids) * (3 if symmetric else 7)
        + 2 * len(res.ext_grid_ids)
        + 2
    )
    assert meta.num_rows == per_step * res.n_steps
    back = read_parquet(path)
    _assert_same(res, back)
    assert not list(tmp_path.glob("*.partial"))


def test_parquet_long_format_columns(tmp_path: Path) -> None:
    res = simulate(feature_model())
    path = res.write_parquet(tmp_path / "res.parquet")
    table = pq.read_table(path).to_pandas()
    assert list(table.columns) == ["time_utc", "element", "element_id", "quantity", "value"]
    assert str(table["time_utc"].dt.tz) == "UTC"
    row = table[
        (table.element == "bus") & (table.element_id == 2) & (table.quantity == "vm_pu")
    ].iloc[1]
    assert row.time_utc == res.time_utc[1]
    assert row.value == res.vm_pu[1, list(res.bus_ids).index(2)]
    conv = table[(table.element == "network") & (table.quantity == "converged")]
    assert conv.value.tolist() == [1.0] * res.n_steps


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    res = simulate(feature_model())
    with pytest.raises(InputError):
        res.write_parquet(tmp_path / "x.parquet", chunk_steps=0)
    with pytest.raises(OSError, match=r"(?i)no such file|failed to open"):
        res.write_parquet(tmp_path / "missing" / "x.parquet")
    assert not list(tmp_path.rglob("*.partial"))
    with pytest.raises(InputError, match="no such file"):
        read_parquet(tmp_path / "nothing.parquet")


def test_frames_and_summary() -> None:
    res = simulate(feature_model())
    frames = res.to_frames()
    vm = frames["bus.vm_pu"]
    assert vm.shape == (res.n_steps, len(res.bus_ids))
    assert list(vm.columns) == list(res.bus_ids)
    assert vm.index.equals(res.time_utc)
    assert list(frames["network"].columns) == ["p_loss_mw", "converged"]
    s = res.summary()
    assert s.vm_min_pu == np.nanmin(res.vm_pu)
    t, k = np.unravel_index(np.nanargmin(res.vm_pu), res.vm_pu.shape)
    assert (s.vm_min_bus, s.vm_min_time_utc) == (res.bus_ids[k], res.time_utc[t])
    assert s.line_loading_max_percent == np.nanmax(res.line_loading_percent)
    assert s.trafo_loading_max_percent == np.nanmax(res.trafo_loading_percent)
    assert s.energy_loss_mwh == pytest.approx(res.p_loss_mw.sum() * 0.25)
    d = s.to_dict()
    assert d["first_failed_utc"] is None
    assert isinstance(d["vm_min_time_utc"], str)


def test_unbalanced_frames_are_per_phase() -> None:
    res = simulate(
        feature_model(),
        options=PowerFlowOptions(
            symmetric=False, zero_sequence="lv_cable_4x", load_phases={0: "a", 1: "b"}
        ),
    )
    frames = res.to_frames()
    assert {
        "bus.vm_a_pu",
        "bus.vm_b_pu",
        "bus.vm_c_pu",
        "line.i_c_ka",
        "trafo.i_hv_b_ka",
        "line.loading_percent",
    } <= set(frames)
    np.testing.assert_array_equal(frames["bus.vm_b_pu"].to_numpy(), res.vm_pu[:, :, 1])
    assert res.summary().vm_min_pu == np.nanmin(res.vm_pu)
