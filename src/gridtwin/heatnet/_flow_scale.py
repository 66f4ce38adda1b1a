"""Formula (7) by inverting the characteristic: the common factor k on the actual flows.

:func:`solve_flow_scale` scans k for the nominal use E(k) that equals the metered Эф and
refines each bracketed root with Brent's method; the law ``invert_characteristic`` of
:class:`~gridtwin.heatnet.schema.MethodOptions`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gridtwin.errors import InputError
from gridtwin.heatnet.pumps import FloatArray


def solve_flow_scale(
    energy_at_scale_kwh: Callable[[float], float],
    metered_energy_kwh: float,
    where: str = "",
    scale_max: float = 3.0,
) -> float:
    """The factor k on the actual flows at which the characteristic gives the metered energy.

    Formula (7), law ``invert_characteristic``: solve ``E(k) = Эф`` where ``E(k)`` is the
    nominal use (4) with Кэк = 1 at the flows ``k·Gф``. The flows k ∈ [0.05, ``scale_max``]
    are scanned; of several roots the one nearest k = 1 is taken.

    Parameters
    ----------
    energy_at_scale_kwh : callable
        k ↦ E(k) [kWh]; may raise :class:`InputError` where the flows leave the curve.
    metered_energy_kwh : float
        Эф [kWh].
    where : str
        Context for the error message.
    scale_max : float
        Upper end of the scan.

    Raises
    ------
    InputError
        Эф is not reached on the characteristic.
    """
    ks = np.linspace(0.05, scale_max, round((scale_max - 0.05) / 0.01) + 1)
    gaps = _scan_gaps(energy_at_scale_kwh, metered_energy_kwh, ks)
    roots = _roots(energy_at_scale_kwh, metered_energy_kwh, ks, gaps)
    if not roots:
        msg = _unreachable_message(metered_energy_kwh, ks, gaps, where)
        raise InputError(msg)
    return min(roots, key=lambda k: abs(k - 1.0))


def _scan_gaps(
    energy_at_scale_kwh: Callable[[float], float], metered_energy_kwh: float, ks: FloatArray
) -> FloatArray:
    """E(k) − Эф [kWh] at each scanned k (NaN where the flows leave the curve)."""
    gaps = np.full(ks.shape, np.nan)
    for i, k in enumerate(ks):
        try:
            gaps[i] = energy_at_scale_kwh(float(k)) - metered_energy_kwh
        except InputError:
            continue
    return gaps


def _roots(
    energy_at_scale_kwh: Callable[[float], float],
    metered_energy_kwh: float,
    ks: FloatArray,
    gaps: FloatArray,
) -> list[float]:
    """Every k with E(k) = Эф: exact hits of the scan, then roots between sign changes."""
    from scipy.optimize import brentq

    roots: list[float] = [float(k) for k, g in zip(ks, gaps, strict=True) if g == 0.0]
    for i in range(ks.size - 1):
        a, b = gaps[i], gaps[i + 1]
        if np.isfinite(a) and np.isfinite(b) and a * b < 0.0:
            roots.append(
                float(
                    brentq(
                        lambda k: energy_at_scale_kwh(k) - metered_energy_kwh,
                        float(ks[i]),
                        float(ks[i + 1]),
                        xtol=1e-12,
                    )
                )
            )
    return roots


def _unreachable_message(
    metered_energy_kwh: float, ks: FloatArray, gaps: FloatArray, where: str
) -> str:
    """Why no k reaches Эф: the span of energies the scan found."""
    finite = gaps[np.isfinite(gaps)] + metered_energy_kwh
    span = (
        f"{finite.min():,.0f} to {finite.max():,.0f} kWh"
        if finite.size
        else "no values (flows off the curve)"
    )
    prefix = f"{where}: " if where else ""
    return (
        f"{prefix}the metered energy {metered_energy_kwh:,.0f} kWh cannot be reached on "
        f"the station's characteristic (it gives {span} for flows "
        f"{ks[0]:.2f}–{ks[-1]:.2f} × the actual ones); check metered_energy_kwh or use "
        f"flow_correction_law cube or linear"
    )
