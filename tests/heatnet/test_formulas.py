"""Each numbered formula on hand-checkable numbers, and the identities of the method."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gridtwin.errors import InputError
from gridtwin.heatnet import (
    actual_flow_t_per_h,
    calculated_energy_kwh,
    clip_task,
    coming_year_normative_energy_kwh,
    corrected_actual_flow_t_per_h,
    network_normative_energy_kwh,
    nominal_energy_kwh,
    relative_reserves,
    reserve_multiplier,
    solve_flow_scale,
    task_from_saving,
    unit_power_kw,
)


def test_power_formula_2_5_11() -> None:
    # 367 t/h · 100 m / (367 · 0.8 · 0.5) = 250 kW; Kсн 1.04 → 260 kW
    assert unit_power_kw(367.0, 100.0, 0.8, 0.5) == pytest.approx(250.0, rel=1e-12)
    assert unit_power_kw(367.0, 100.0, 0.8, 0.5, 1.04) == pytest.approx(260.0, rel=1e-12)
    # the constant is a parameter: 3600/9.81 instead of 367
    assert unit_power_kw(367.0, 100.0, 0.8, 0.5, hydraulic_constant=3600 / 9.81) == (
        pytest.approx(250.0 * 367.0 / (3600 / 9.81), rel=1e-12)
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pump_efficiency": 0.0}, "pump_efficiency"),
        ({"pump_efficiency": 1.01}, "pump_efficiency"),
        ({"motor_efficiency": 82.0}, "motor_efficiency"),
        ({"auxiliary_factor": 1.06}, "auxiliary_factor (Kсн)"),
        ({"auxiliary_factor": 0.99}, "auxiliary_factor (Kсн)"),
        ({"flow_t_per_h": 0.0}, "flow_t_per_h"),
    ],
)
def test_power_formula_rejects_bad_values(kwargs: dict[str, float], field: str) -> None:
    args: dict[str, float] = {
        "flow_t_per_h": 367.0,
        "head_m": 100.0,
        "pump_efficiency": 0.8,
        "motor_efficiency": 0.5,
    }
    args.update(kwargs)
    with pytest.raises(InputError, match=field.replace("(", r"\(").replace(")", r"\)")):
        unit_power_kw(**args)


def test_calculated_energy_formula_1() -> None:
    # 250 kW·5000 h + 100 kW·3000 h + 10 000 kWh
    assert calculated_energy_kwh([250.0, 100.0], [5000.0, 3000.0], 10_000.0) == 1_560_000.0
    assert calculated_energy_kwh([250.0], [5000.0]) == 1_250_000.0


def test_season_without_hours_is_an_error() -> None:
    with pytest.raises(InputError, match=r"hours_h\[1\].*must be positive"):
        calculated_energy_kwh([250.0, 100.0], [5000.0, 0.0])
    with pytest.raises(InputError, match="one power and one number of hours per season"):
        calculated_energy_kwh([250.0, 100.0], [5000.0])


def test_network_normative_formula_3() -> None:
    # Кр = ε = 0.15 (the seed's example): factor 1 + 0.15·0.85 = 1.1275
    assert reserve_multiplier(0.15, 0.15) == pytest.approx(1.1275, abs=1e-15)
    assert network_normative_energy_kwh(1_000_000.0, 0.15, 0.15) == pytest.approx(1_127_500.0)
    with pytest.raises(InputError, match=r"task \(ε\) = 1.2 is outside \[0, 1\]"):
        network_normative_energy_kwh(1_000_000.0, 0.15, 1.2)


def test_nominal_formula_4_and_allowance_range() -> None:
    # 1.1·(300·5000 + 120·3000) + 10 000 = 2 056 000; Кэк also on Эсн → 2 057 000
    assert nominal_energy_kwh([300.0, 120.0], [5000.0, 3000.0], 1.1, 10_000.0) == (
        pytest.approx(2_056_000.0)
    )
    assert nominal_energy_kwh(
        [300.0, 120.0], [5000.0, 3000.0], 1.1, 10_000.0, allowance_applies_to_auxiliaries=True
    ) == pytest.approx(2_057_000.0)
    for bad in (0.99, 1.21):
        with pytest.raises(InputError, match=r"operating_allowance \(Кэк\).*\[1, 1.2\]"):
            nominal_energy_kwh([300.0], [5000.0], bad)


def test_actual_flow_formula_6() -> None:
    assert actual_flow_t_per_h(1000.0, 6100.0, 5000.0) == pytest.approx(1220.0)
    assert actual_flow_t_per_h(900.0, 1200.0, 1100.0) == pytest.approx(900 * 12 / 11)


def test_flow_correction_formula_7() -> None:
    # Эф/Эном = 1.331 → cube root 1.1, linear 1.331
    assert corrected_actual_flow_t_per_h(1000.0, 1_331_000.0, 1_000_000.0) == (
        pytest.approx(1100.0, rel=1e-12)
    )
    assert corrected_actual_flow_t_per_h(1000.0, 1_331_000.0, 1_000_000.0, "linear") == (
        pytest.approx(1331.0, rel=1e-12)
    )


def test_flow_scale_by_inverting_the_characteristic() -> None:
    # E(k) = 1e6·k³: E = 1.331e6 at k = 1.1 exactly
    assert solve_flow_scale(lambda k: 1e6 * k**3, 1_331_000.0) == pytest.approx(1.1, rel=1e-9)
    # two roots of a hump-shaped E(k): the one nearer k = 1 is taken
    assert solve_flow_scale(lambda k: 1e6 * (1 - (k - 1.2) ** 2), 0.96e6) == (
        pytest.approx(1.0, rel=1e-9)
    )
    with pytest.raises(InputError, match="cannot be reached on the station's characteristic"):
        solve_flow_scale(lambda k: 1e6 * min(k, 1.5), 2e6, "station II")


def test_relative_reserves_formula_8() -> None:
    assert relative_reserves(1_120_000.0, 1_000_000.0) == pytest.approx(0.12)


def test_task_formula_9_both_forms() -> None:
    # ΣЭном 1.12e6, ΣЭр 1e6, Кр 0.12, ΔЭ 30 000 → 1 − 90 000/120 000 = 0.25
    assert task_from_saving(30_000.0, 1_120_000.0, 1_000_000.0, 0.12) == pytest.approx(0.25)
    assert task_from_saving(30_000.0, 1_120_000.0, 1_000_000.0, 0.12, "simple") == (
        pytest.approx(0.25)
    )
    # with an inconsistent Кр = 0.15 the full form gives 1 − 90 000/150 000 = 0.4
    assert task_from_saving(30_000.0, 1_120_000.0, 1_000_000.0, 0.15) == pytest.approx(0.4)
    assert task_from_saving(30_000.0, 1_120_000.0, 1_000_000.0, 0.15, "simple") == (
        pytest.approx(0.25)
    )


def test_task_is_clipped_with_a_warning() -> None:
    assert clip_task(0.3) == (0.3, None)
    assert clip_task(1.0) == (1.0, None)
    assert clip_task(0.0) == (0.0, None)
    assert clip_task(1.01)[0] == 1.0
    assert clip_task(-0.01)[0] == 0.0
    high, warn = clip_task(task_from_saving(200_000.0, 1_120_000.0, 1_000_000.0, 0.12))
    assert high == 1.0
    assert warn is not None
    assert "clipped to 1" in warn
    low, warn = clip_task(task_from_saving(-10_000.0, 1_120_000.0, 1_000_000.0, 0.12))
    assert low == 0.0
    assert warn is not None
    assert "clipped to 0" in warn


def test_coming_year_formula_10() -> None:
    # (300·5000 + 120·3000)·(1 + 0.12·0.75) = 1 860 000·1.09
    assert coming_year_normative_energy_kwh([300.0, 120.0], [5000.0, 3000.0], 0.12, 0.25) == (
        pytest.approx(2_027_400.0)
    )
    # a planned Эсн is added outside the factor unless asked otherwise
    assert coming_year_normative_energy_kwh([300.0], [5000.0], 0.12, 0.25, 10_000.0) == (
        pytest.approx(1_500_000 * 1.09 + 10_000)
    )
    assert coming_year_normative_energy_kwh(
        [300.0], [5000.0], 0.12, 0.25, 10_000.0, reserve_factor_applies_to_auxiliaries=True
    ) == pytest.approx(1_510_000 * 1.09)


# ---------------------------------------------------------------- identities of the method


@pytest.mark.parametrize("seed", range(5))
def test_first_year_identity(seed: int) -> None:
    """(3) with ε = 0 and the same year's Кр from (8) gives ΣЭн = ΣЭном (cl. 3.5)."""
    rng = np.random.default_rng(seed)
    calc = float(rng.uniform(1e5, 1e8))
    nom = calc * float(rng.uniform(1.0, 1.5))
    kr = relative_reserves(nom, calc)
    assert network_normative_energy_kwh(calc, kr, 0.0) == pytest.approx(nom, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_task_reduces_to_simple_form_with_consistent_reserves(seed: int) -> None:
    """(9) = ΔЭ/(ΣЭном − ΣЭр) when Кр is the previous year's (8)."""
    rng = np.random.default_rng(seed)
    calc = float(rng.uniform(1e5, 1e8))
    nom = calc * float(rng.uniform(1.01, 1.5))
    saving = float(rng.uniform(0, nom - calc))
    kr = relative_reserves(nom, calc)
    full = task_from_saving(saving, nom, calc, kr)
    assert full == pytest.approx(saving / (nom - calc), rel=1e-9)
    # and the normative (3) applied to last year with that ε is last year's nominal − ΔЭ
    assert calc * reserve_multiplier(kr, full) == pytest.approx(nom - saving, rel=1e-9)


def test_factor_of_10_is_linear_in_the_task() -> None:
    kr = 0.12
    eps = np.linspace(0.0, 1.0, 11)
    factors = np.array([reserve_multiplier(kr, float(e)) for e in eps])
    assert factors[0] == pytest.approx(1.0 + kr)
    assert factors[-1] == pytest.approx(1.0)
    assert np.allclose(np.diff(factors), -kr / 10)


def test_nominal_equals_calculated_at_design_flows() -> None:
    """With Gф = Gр (network flows as designed) and Кэк = 1, Эном = Эр and Кр = 0."""
    g = actual_flow_t_per_h(1000.0, 5000.0, 5000.0)
    p = unit_power_kw(g, 80.0, 0.82, 0.95, 1.03)
    calc = calculated_energy_kwh([p], [5000.0])
    nom = nominal_energy_kwh([p], [5000.0], 1.0)
    assert math.isclose(relative_reserves(nom, calc), 0.0, abs_tol=1e-15)
