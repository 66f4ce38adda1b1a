"""Short-circuit assumptions and the data IEC 60909 needs that grid data sets often lack.

:func:`prepare_sc_net` returns a copy of a pandapower net with every short-circuit
parameter present: the external grid's short-circuit power and R/X (``s_sc_max_mva`` ...),
zero-sequence line data, line end temperatures for the minimum case and transformer
zero-sequence data. Values the net has are kept; missing ones are filled from
:class:`ShortCircuitOptions` and every fill is named in the notes.

Voltage factors ``c`` follow IEC 60909-0:2016 Table 1 (pandapower implements the same
table; the LV values depend on the system's voltage tolerance, 6 % or 10 %).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from gridtwin.errors import InputError

__all__ = ["ShortCircuitOptions", "prepare_sc_net", "voltage_factor"]

Case = Literal["max", "min"]

#: IEC 60909-0:2016 Table 1: (c_max, c_min) by voltage level; LV by voltage tolerance [%].
C_FACTORS_LV: dict[int, tuple[float, float]] = {6: (1.05, 0.95), 10: (1.10, 0.90)}
C_FACTORS_MV_HV: tuple[float, float] = (1.10, 1.00)

#: IEC 60909-0:2016 eq. (35)-ish resistance increase of lines for the minimum case:
#: ``R_L = (1 + 0.004 /K · (θ_e - 20 °C)) · R_L20``.
ALPHA_PER_K = 0.004


def voltage_factor(vn_kv: float | np.ndarray, case: Case, lv_tol_percent: int) -> np.ndarray:
    """Voltage factor ``c`` of IEC 60909-0:2016 Table 1.

    Parameters
    ----------
    vn_kv : float or numpy.ndarray
        Nominal voltage [kV]; below 1 kV is low voltage.
    case : {'max', 'min'}
        Maximum or minimum short-circuit currents.
    lv_tol_percent : {6, 10}
        Voltage tolerance of the LV system (6 %: c_max 1.05, c_min 0.95; 10 %: 1.10, 0.90).

    Returns
    -------
    numpy.ndarray
        ``c`` per voltage.
    """
    lv = C_FACTORS_LV[lv_tol_percent]
    pick = 0 if case == "max" else 1
    v = np.atleast_1d(np.asarray(vn_kv, dtype=float))
    return np.where(v < 1.0, lv[pick], C_FACTORS_MV_HV[pick])


@dataclass(frozen=True)
class ShortCircuitOptions:
    """Assumptions of a short-circuit study, used where the net has no data.

    Attributes
    ----------
    s_sc_max_mva, s_sc_min_mva : float
        Short-circuit power of the upstream grid at the external grid's bus [MVA]
        (default 250 / 100 MVA, a typical 20 kV distribution busbar; SimBench gives none).
    rx_max, rx_min : float
        R/X of the upstream grid (default 0.1).
    lv_tol_percent : {6, 10}
        LV voltage tolerance that selects ``c`` (IEC 60909-0 Table 1; default 10).
    line_end_temp_c : float
        Conductor temperature at the end of the fault for minimum currents [°C] (default
        80 °C, the usual assumption for LV cables; IEC 60909-0 uses the temperature at
        the end of the short circuit).
    r0_r1_ratio, x0_x1_ratio : float
        Zero-sequence line impedance where the net has none: four-core cable with a
        full-size neutral, ``R0 = 4 R1`` (``Z0 = Z_phase + 3 Z_N``), ``X0 ≈ 4 X1``
        (a rough figure; real cables 3.5-4.5).
    """

    s_sc_max_mva: float = 250.0
    s_sc_min_mva: float = 100.0
    rx_max: float = 0.1
    rx_min: float = 0.1
    lv_tol_percent: int = 10
    line_end_temp_c: float = 80.0
    r0_r1_ratio: float = 4.0
    x0_x1_ratio: float = 4.0

    def __post_init__(self) -> None:
        for name in ("s_sc_max_mva", "s_sc_min_mva", "r0_r1_ratio", "x0_x1_ratio"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                msg = f"{name}={value!r} must be a positive number"
                raise InputError(msg)
        if self.s_sc_min_mva > self.s_sc_max_mva:
            msg = (
                f"s_sc_min_mva={self.s_sc_min_mva:g} exceeds s_sc_max_mva="
                f"{self.s_sc_max_mva:g}; the minimum short-circuit power must not be larger"
            )
            raise InputError(msg)
        for name in ("rx_max", "rx_min"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 10):
                msg = f"{name}={value!r} must be an R/X ratio between 0 and 10"
                raise InputError(msg)
        if self.lv_tol_percent not in C_FACTORS_LV:
            msg = (
                f"lv_tol_percent={self.lv_tol_percent!r}: IEC 60909-0 Table 1 knows 6 or 10 "
                "(% voltage tolerance of the LV system)"
            )
            raise InputError(msg)
        t = self.line_end_temp_c
        if not (isinstance(t, (int, float)) and 20 <= t <= 250):
            msg = f"line_end_temp_c={t!r} must be between 20 and 250 °C"
            raise InputError(msg)


def _fill(df: pd.DataFrame, column: str, values: Any, notes: list[str], what: str) -> None:
    """Set ``column`` where it is missing or NaN; note how many rows were filled."""
    if column not in df.columns:
        df[column] = np.nan
    missing = df[column].isna()
    if missing.any():
        vals = pd.Series(values, index=df.index) if np.ndim(values) else values
        df.loc[missing, column] = vals[missing] if np.ndim(values) else vals
        notes.append(f"{what} ({int(missing.sum())} of {len(df)} rows)")


def _prepare_ext_grid(net: Any, opt: ShortCircuitOptions, notes: list[str]) -> None:
    eg = net.ext_grid
    _fill(
        eg,
        "s_sc_max_mva",
        opt.s_sc_max_mva,
        notes,
        f"ext_grid s_sc_max_mva = {opt.s_sc_max_mva:g} MVA assumed",
    )
    _fill(
        eg,
        "s_sc_min_mva",
        opt.s_sc_min_mva,
        notes,
        f"ext_grid s_sc_min_mva = {opt.s_sc_min_mva:g} MVA assumed",
    )
    _fill(eg, "rx_max", opt.rx_max, notes, f"ext_grid rx_max = {opt.rx_max:g} assumed")
    _fill(eg, "rx_min", opt.rx_min, notes, f"ext_grid rx_min = {opt.rx_min:g} assumed")
    # zero sequence of the upstream grid = positive sequence (a Dyn transformer blocks it
    # for LV faults anyway)
    _fill(eg, "x0x_max", 1.0, notes, "ext_grid x0x_max = 1 assumed")
    _fill(eg, "x0x_min", 1.0, notes, "ext_grid x0x_min = 1 assumed")
    _fill(
        eg,
        "r0x0_max",
        eg["rx_max"].to_numpy(dtype=float),
        notes,
        "ext_grid r0x0_max = rx_max assumed",
    )
    _fill(
        eg,
        "r0x0_min",
        eg["rx_min"].to_numpy(dtype=float),
        notes,
        "ext_grid r0x0_min = rx_min assumed",
    )


def _prepare_lines(net: Any, opt: ShortCircuitOptions, notes: list[str]) -> None:
    ln = net.line
    _fill(
        ln,
        "r0_ohm_per_km",
        opt.r0_r1_ratio * ln["r_ohm_per_km"].to_numpy(dtype=float),
        notes,
        f"line r0 = {opt.r0_r1_ratio:g} r1 assumed (four-core cable, return in the neutral)",
    )
    _fill(
        ln,
        "x0_ohm_per_km",
        opt.x0_x1_ratio * ln["x_ohm_per_km"].to_numpy(dtype=float),
        notes,
        f"line x0 = {opt.x0_x1_ratio:g} x1 assumed",
    )
    _fill(
        ln, "c0_nf_per_km", ln["c_nf_per_km"].to_numpy(dtype=float), notes, "line c0 = c1 assumed"
    )
    _fill(
        ln,
        "endtemp_degree",
        opt.line_end_temp_c,
        notes,
        f"line end temperature {opt.line_end_temp_c:g} °C assumed for minimum currents",
    )


def _prepare_trafos(net: Any, notes: list[str]) -> None:
    tr = net.trafo
    if tr.empty:
        return
    if "vector_group" not in tr.columns:
        tr["vector_group"] = None
    vg = tr["vector_group"]
    missing = vg.isna()
    if missing.any():
        tr.loc[missing, "vector_group"] = "Dyn"
        notes.append(f"trafo vector group Dyn assumed ({int(missing.sum())} of {len(tr)} rows)")
    # pandapower wants the group without the clock number (the clock is shift_degree)
    tr["vector_group"] = tr["vector_group"].astype(str).str.rstrip("0123456789")
    _fill(
        tr, "vk0_percent", tr["vk_percent"].to_numpy(dtype=float), notes, "trafo vk0 = vk assumed"
    )
    _fill(
        tr,
        "vkr0_percent",
        tr["vkr_percent"].to_numpy(dtype=float),
        notes,
        "trafo vkr0 = vkr assumed",
    )
    _fill(tr, "mag0_percent", 100.0, notes, "trafo mag0_percent = 100 assumed")
    _fill(tr, "mag0_rx", 0.0, notes, "trafo mag0_rx = 0 assumed")
    _fill(tr, "si0_hv_partial", 0.9, notes, "trafo si0_hv_partial = 0.9 assumed")


def prepare_sc_net(net: Any, options: ShortCircuitOptions) -> tuple[Any, tuple[str, ...]]:
    """A copy of ``net`` with every IEC 60909 parameter present, and what was assumed.

    Parameters
    ----------
    net : pandapowerNet
        The grid (only read).
    options : ShortCircuitOptions
        The values used where the net has none.

    Returns
    -------
    tuple
        The prepared copy and the notes naming every filled parameter.
    """
    out = copy.deepcopy(net)
    notes: list[str] = []
    if out.ext_grid.empty:
        msg = "the net has no ext_grid: a short-circuit study needs the upstream grid as source"
        raise InputError(msg)
    _prepare_ext_grid(out, options, notes)
    _prepare_lines(out, options, notes)
    _prepare_trafos(out, notes)
    for table in ("sgen", "storage"):
        df = getattr(out, table, None)
        if df is not None and len(df) and df["in_service"].astype(bool).any():
            notes.append(
                f"{table}: converter-connected units neglected ({int(df['in_service'].sum())} "
                "in service): they add at most about 1.2 times their rated current to the "
                "maximum currents and nothing to the minimum ones"
            )
            df["in_service"] = False
    return out, tuple(notes)
