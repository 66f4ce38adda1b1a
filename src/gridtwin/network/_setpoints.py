"""Set-point rules applied to the profiles before any solver: reactive power of static
generators as a function of their own active power, cos φ(P).

Unlike Q(U) (:class:`gridtwin.network.ReactivePowerControl`, solved with the power flow),
a cos φ(P) characteristic needs no voltage: each step's reactive power follows from the
same step's active power, so it works with every engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError

__all__ = ["PowerFactorControl", "PowerFactorRule", "power_factor_rule"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PowerFactorControl:
    """A cos φ(P) characteristic of static generators (inverters).

    The power factor is a piecewise-linear function of the generator's active power as a
    share of its rated power ``sn_mva`` (flat outside the points); the reactive power
    ``|P| tan(arccos(cos φ))`` is absorbed (``underexcited=True``, lowering the voltage)
    or supplied, in place of the profile's ``q_mvar``.

    Attributes
    ----------
    sgens : tuple of int
        pandapower sgen indices (each needs ``sn_mva`` > 0).
    p_per_sn : tuple of float
        Active power of the points as a share of ``sn_mva``, increasing, >= 0 [-].
    cos_phi : tuple of float
        Power factor at those points, in (0, 1] [-]. For example ``p_per_sn=(0.0, 0.5,
        1.0)``, ``cos_phi=(1.0, 1.0, 0.9)`` absorbs reactive power above half output up
        to cos φ 0.9 at full output (take the points of the grid code that applies).
    underexcited : bool
        Absorb (True, the usual choice against over-voltage) or supply reactive power.
    """

    sgens: tuple[int, ...]
    p_per_sn: tuple[float, ...]
    cos_phi: tuple[float, ...]
    underexcited: bool = True

    def __post_init__(self) -> None:
        p = np.asarray(self.p_per_sn, dtype=float)
        c = np.asarray(self.cos_phi, dtype=float)
        if len(p) < 2 or len(p) != len(c):
            msg = "cos φ(P) characteristic: need two or more points, as many p_per_sn as cos_phi"
            raise InputError(msg)
        if not (np.isfinite(p).all() and np.isfinite(c).all()):
            msg = "cos φ(P) characteristic: points must be finite"
            raise InputError(msg)
        if (np.diff(p) <= 0).any() or p[0] < 0:
            msg = f"cos φ(P) characteristic: p_per_sn must be >= 0 and increasing; got {p}"
            raise InputError(msg)
        if ((c <= 0) | (c > 1)).any():
            msg = f"cos φ(P) characteristic: cos_phi must be in (0, 1]; got {self.cos_phi}"
            raise InputError(msg)
        if not len(self.sgens):
            msg = "cos φ(P) characteristic: no sgens given"
            raise InputError(msg)
        object.__setattr__(self, "sgens", tuple(int(i) for i in self.sgens))
        object.__setattr__(self, "p_per_sn", tuple(float(x) for x in p))
        object.__setattr__(self, "cos_phi", tuple(float(x) for x in c))

    def q_mvar(self, p_mw: FloatArray, sn_mva: float | FloatArray) -> FloatArray:
        """Reactive power [Mvar] (positive: supplied) for active power ``p_mw`` [MW]."""
        share = np.abs(p_mw) / sn_mva
        cos_phi = np.interp(share, self.p_per_sn, self.cos_phi)
        q = np.abs(p_mw) * np.tan(np.arccos(cos_phi))
        return np.asarray(-q if self.underexcited else q, dtype=np.float64)


@dataclass(frozen=True)
class PowerFactorRule:
    """The controls resolved against one sgen table: which rows, their rating."""

    rows: IntArray
    sn_mva: FloatArray
    controls: tuple[tuple[PowerFactorControl, IntArray], ...]

    def apply(self, p_w: FloatArray, q_var: FloatArray) -> None:
        """Overwrite ``q_var`` (steps x sgens) [var] from ``p_w`` [W] in place."""
        for control, rows in self.controls:
            sn = self.sn_mva[np.searchsorted(self.rows, rows)]
            q_var[:, rows] = control.q_mvar(p_w[:, rows] / 1e6, sn) * 1e6


def power_factor_rule(
    sgen: pd.DataFrame, controls: tuple[PowerFactorControl, ...], *, excluded: Any = ()
) -> PowerFactorRule | None:
    """Resolve ``controls`` against the sgen table (positions, ratings), or None.

    Raises
    ------
    InputError
        An sgen that does not exist, has no ``sn_mva`` > 0, is named twice, or is also in
        ``excluded`` (sgens under a Q(U) characteristic).
    """
    if not controls:
        return None
    taken: set[int] = set()
    blocked = {int(i) for i in excluded}
    resolved = []
    for control in controls:
        positions = []
        for sid in control.sgens:
            if sid not in sgen.index:
                msg = f"cos φ(P) characteristic: sgen {sid} does not exist"
                raise InputError(msg)
            if sid in taken or sid in blocked:
                msg = f"sgen {sid} has two reactive-power rules (cos φ(P) and another)"
                raise InputError(msg)
            taken.add(sid)
            raw = sgen.at[sid, "sn_mva"] if "sn_mva" in sgen else np.nan
            sn = float(pd.to_numeric(raw, errors="coerce"))
            if not (np.isfinite(sn) and sn > 0):
                msg = (
                    f"cos φ(P) characteristic: sgen {sid} needs its rated power sn_mva > 0 "
                    f"(got {sn}); set net.sgen.sn_mva"
                )
                raise InputError(msg)
            positions.append(int(np.flatnonzero(sgen.index == sid)[0]))
        resolved.append((control, np.asarray(positions, dtype=np.int64)))
    rows = np.asarray(sorted(p for _, pos in resolved for p in pos), dtype=np.int64)
    sn_all = pd.to_numeric(sgen["sn_mva"], errors="coerce").to_numpy(dtype=float)
    return PowerFactorRule(rows=rows, sn_mva=sn_all[rows], controls=tuple(resolved))
