"""Pump curves, fits, parallel operation and operating points."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gridtwin.errors import InputError
from gridtwin.heatnet import (
    PolynomialCurve,
    Pump,
    TabulatedCurve,
    constant_curve,
    fit_efficiency_curve,
    fit_head_curve,
    joint_head_curve_m,
    joint_operation,
    nominal_parabola_efficiency,
    operating_point,
    parabola_head_curve,
)


def pump(name: str, h0: float, s: float, eta: float = 0.8, motor: float = 0.95) -> Pump:
    return Pump(name, parabola_head_curve(h0, s), constant_curve(eta), motor)


A = pump("A", 100.0, 1e-4)
B = pump("B", 80.0, 2e-4, eta=0.7, motor=0.9)


def test_parabola_and_default_range() -> None:
    assert A.head_m(600.0) == pytest.approx(64.0)
    assert A.flow_range_m3_per_h == pytest.approx((0.0, 1000.0))  # run-out at H = 0
    with pytest.raises(InputError, match=r"pump A would run at 1200 m³/h, outside its curve"):
        A.head_m(1200.0)
    with pytest.raises(InputError, match="outside its curve"):
        A.head_m(0.0)


def test_tabulated_curves_interpolate_and_never_extrapolate() -> None:
    lin = TabulatedCurve((0.0, 500.0, 1000.0), (100.0, 80.0, 40.0), "linear")
    assert float(lin(250.0)) == pytest.approx(90.0)
    assert float(lin(750.0)) == pytest.approx(60.0)
    assert math.isnan(float(lin(1001.0)))
    pchip = TabulatedCurve((0.0, 500.0, 1000.0), (100.0, 80.0, 40.0))
    grid = np.linspace(0.0, 1000.0, 101)
    values = pchip(grid)
    assert float(pchip(500.0)) == pytest.approx(80.0)
    assert np.all(np.diff(values) < 0)  # shape-preserving: stays falling
    assert np.all((values <= 100.0) & (values >= 40.0))  # no overshoot
    with pytest.raises(InputError, match="strictly increase"):
        TabulatedCurve((0.0, 0.0, 1.0), (1.0, 2.0, 3.0))


def test_tabulated_pump_range_and_extension_refused() -> None:
    p = Pump(
        "T",
        TabulatedCurve((200.0, 600.0, 1000.0), (90.0, 80.0, 60.0)),
        TabulatedCurve((300.0, 600.0, 900.0), (0.6, 0.8, 0.7)),
        0.95,
    )
    assert p.flow_range_m3_per_h == (300.0, 900.0)  # intersection of both tables
    with pytest.raises(InputError, match="beyond the tabulated points"):
        Pump(
            "T",
            TabulatedCurve((200.0, 1000.0), (90.0, 60.0)),
            constant_curve(0.8),
            0.95,
            (100.0, 1000.0),
        )


def test_efficiency_outside_unit_interval_is_refused() -> None:
    with pytest.raises(InputError, match=r"pump E: efficiency .* outside \(0, 1\]"):
        Pump("E", parabola_head_curve(100.0, 1e-4), constant_curve(82.0), 0.95)
    with pytest.raises(InputError, match=r"motor_efficiency = 1.5 is outside \(0, 1\]"):
        Pump("E", parabola_head_curve(100.0, 1e-4), constant_curve(0.8), 1.5)
    # a fitted curve that climbs above 1 within the range
    with pytest.raises(InputError, match="outside"):
        Pump(
            "E",
            parabola_head_curve(100.0, 1e-4),
            fit_efficiency_curve([100.0, 500.0, 900.0], [0.5, 0.99, 0.98]),
            0.95,
            (100.0, 2000.0),
        )


def test_nominal_parabola_efficiency() -> None:
    eta = nominal_parabola_efficiency(1250.0, 0.82)
    assert float(eta(1250.0)) == pytest.approx(0.82)
    assert float(eta(625.0)) == pytest.approx(0.82 * 0.75)
    assert eta.domain_m3_per_h() == pytest.approx((0.0, 2500.0))


def test_fits_recover_exact_curves() -> None:
    q = [200.0, 500.0, 800.0, 1100.0]
    h = [float(120 + 0.01 * x - 3e-5 * x * x) for x in q]
    quad = fit_head_curve(q, h)
    assert quad.coefficients == pytest.approx((120.0, 0.01, -3e-5), rel=1e-9)
    assert quad.domain_m3_per_h() == (200.0, 1100.0)
    par = fit_head_curve([0.0, 1000.0], [100.0, 0.0], "parabola")
    assert par.coefficients == pytest.approx((100.0, 0.0, -1e-4))
    eff = fit_efficiency_curve(
        [400.0, 800.0, 1200.0],
        [float(nominal_parabola_efficiency(800.0, 0.8)(x)) for x in (400.0, 800.0, 1200.0)],
    )
    assert eff.coefficients == pytest.approx((0.0, 2e-3, -1.25e-6), rel=1e-9)


def test_fit_reproduces_the_reference_pump_curves() -> None:
    """Nominal point + the seed's per-pump points give the reference's H0 and S."""
    cases: dict[str, tuple[list[float], list[float], float, float]] = {
        "1250-70": ([1250, 1000, 1220], [70, 80, 70], 98.7, 1.875e-5),
        "1250-140": (
            [1250, 1100, 900, 1342, 900 * 12 / 11],
            [140, 150, 153, 140, 150],
            164.7,
            1.423e-5,
        ),
        "800-100": (
            [800, 450, 500, 549, 500 * 12 / 11],
            [100, 122, 120, 115, 118],
            132.0,
            5.021e-5,
        ),
    }
    for flows, heads, h0, s in cases.values():
        c = fit_head_curve([float(f) for f in flows], [float(x) for x in heads], "parabola")
        assert c.coefficients[0] == pytest.approx(h0, abs=0.06)
        assert -c.coefficients[2] == pytest.approx(s, rel=2e-3)


def test_identical_pumps_share_the_flow() -> None:
    jp = joint_operation([A, A], 1200.0)
    assert jp.pump_flows_m3_per_h == (600.0, 600.0)
    assert jp.head_m == pytest.approx(64.0)
    assert jp.pump_efficiencies == (0.8, 0.8)


def test_two_different_pumps_against_a_direct_solution() -> None:
    """Common head 60 m: A gives sqrt(40/1e-4), B gives sqrt(20/2e-4); the sum must map back."""
    qa, qb = math.sqrt(40 / 1e-4), math.sqrt(20 / 2e-4)
    jp = joint_operation([A, B], qa + qb)
    assert jp.head_m == pytest.approx(60.0, abs=1e-7)
    assert jp.pump_flows_m3_per_h == pytest.approx((qa, qb), rel=1e-9)
    assert jp.pump_efficiencies == (0.8, 0.7)
    # order of the pumps does not matter
    jp2 = joint_operation([B, A], qa + qb)
    assert jp2.pump_flows_m3_per_h == pytest.approx((qb, qa), rel=1e-9)


def test_joint_head_curve_matches_scipy_root_of_the_full_system() -> None:
    from scipy.optimize import fsolve

    totals = [600.0, 900.0, 1200.0, 1500.0]
    heads = joint_head_curve_m([A, B], totals)
    for total, head in zip(totals, heads, strict=True):

        def system(x: np.ndarray, total: float = total) -> list[float]:
            qa, qb, h = x
            return [h - (100 - 1e-4 * qa * qa), h - (80 - 2e-4 * qb * qb), qa + qb - total]

        _qa, _qb, h = fsolve(system, [0.6 * total, 0.4 * total, 50.0], xtol=1e-12)
        assert head == pytest.approx(h, abs=1e-6)
    # below 447 m³/h (A alone at B's shut-off head of 80 m) B would be pushed off
    assert math.isnan(joint_head_curve_m([A, B], 400.0)[0])


def test_weak_pump_pushed_off_its_curve_is_an_error() -> None:
    weak = pump("C", 50.0, 1e-4)
    # at 300 m³/h A alone would give 91 m, above C's shut-off head of 50 m
    with pytest.raises(InputError, match=r"pump C's curve .* pushed off its curve"):
        joint_operation([A, weak], 300.0, "station X winter")
    with pytest.raises(InputError, match="outside the joint characteristic"):
        joint_operation([A, B], 5000.0)


def test_operating_point_on_a_system_curve() -> None:
    qa, qb = math.sqrt(40 / 1e-4), math.sqrt(20 / 2e-4)
    total = qa + qb
    s = 40.0 / total**2  # H = 20 + S·Q² passes through (total, 60 m)
    jp = operating_point([A, B], 20.0, s)
    assert jp.flow_m3_per_h == pytest.approx(total, rel=1e-8)
    assert jp.head_m == pytest.approx(60.0, abs=1e-6)
    # one pump: 100 − 1e-4 Q² = 36 + 0.6e-4 Q² → Q = 632.456 (Q² = 64/1.6e-4 = 400 000)
    jp1 = operating_point([A], 36.0, 0.6e-4)
    assert jp1.flow_m3_per_h == pytest.approx(math.sqrt(400_000.0), rel=1e-8)
    with pytest.raises(InputError, match="does not cross"):
        operating_point([A], 150.0, 1e-4)


def test_non_falling_head_curve_cannot_be_inverted() -> None:
    rising = Pump(
        "R", PolynomialCurve((80.0, 0.02, -2e-5)), constant_curve(0.8), 0.95, (100.0, 1500.0)
    )
    assert not rising.head_falls
    with pytest.raises(InputError, match="does not fall monotonically"):
        joint_operation([rising, A], 900.0)
    # identical pumps need no inversion
    assert joint_operation([rising, rising], 1000.0).head_m == pytest.approx(
        80 + 0.02 * 500 - 2e-5 * 500**2
    )
