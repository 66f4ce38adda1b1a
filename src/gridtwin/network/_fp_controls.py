"""The controls solved with the fixed-point power flow, and their data for the kernel.

:class:`TapControl` (an on-load tap changer keeping a voltage in a band, pandapower's
``DiscreteTapControl``) and :class:`ReactivePowerControl` (a Q(U) characteristic of
inverters) are what callers give; :func:`tap_data` and :func:`qu_data` check them against
the net and turn them into :class:`TapData` and :class:`QuData`, the arrays the kernel of
:mod:`gridtwin.network._fp_kernels` reads. pandapower is imported inside the functions
that use it, the numba kernels likewise.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._fp_case import BranchModel

__all__ = [
    "QuData",
    "ReactivePowerControl",
    "TapControl",
    "TapData",
    "qu_damping",
    "qu_data",
    "tap_data",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TapControl:
    """A transformer's on-load tap changer keeping a voltage in a band, as pandapower's
    ``DiscreteTapControl``: after each solution, a voltage below ``vm_lower_pu`` or above
    ``vm_upper_pu`` (strictly outside) moves the tap by one position towards the band and
    the step is solved again, until the voltage is inside or the tap at its limit. The
    tap position carries over from one step to the next.

    Attributes
    ----------
    trafo : int
        pandapower transformer index (``tap_min`` .. ``tap_max``, ``tap_step_percent``
        and ``tap_side`` must be set; one without ``tap_changer_type`` is taken as a
        ratio tap changer).
    vm_lower_pu, vm_upper_pu : float
        The band at the controlled side [pu].
    side : {"lv", "hv"}
        The side whose bus voltage is controlled.
    """

    trafo: int
    vm_lower_pu: float
    vm_upper_pu: float
    side: Literal["lv", "hv"] = "lv"

    def __post_init__(self) -> None:
        if not (np.isfinite(self.vm_lower_pu) and np.isfinite(self.vm_upper_pu)):
            msg = f"tap control of trafo {self.trafo}: the band must be finite"
            raise InputError(msg)
        if not 0.0 < self.vm_lower_pu < self.vm_upper_pu:
            msg = (
                f"tap control of trafo {self.trafo}: need 0 < vm_lower_pu < vm_upper_pu; "
                f"got {self.vm_lower_pu}, {self.vm_upper_pu}"
            )
            raise InputError(msg)
        if self.side not in ("lv", "hv"):
            msg = f"tap control of trafo {self.trafo}: side must be 'lv' or 'hv'"
            raise InputError(msg)

    @classmethod
    def from_set_point(
        cls,
        trafo: int,
        vm_set_pu: float,
        tap_step_percent: float,
        *,
        side: Literal["lv", "hv"] = "lv",
        tol_pu: float = 1e-3,
    ) -> TapControl:
        """The band of pandapower's ``DiscreteTapControl.from_tap_step_percent``:
        ``vm_set_pu +- (|tap_step_percent| / 200 + tol_pu)``."""
        half = abs(tap_step_percent) / 200.0 + tol_pu
        return cls(trafo, vm_set_pu - half, vm_set_pu + half, side)


@dataclass(frozen=True)
class ReactivePowerControl:
    """A Q(U) characteristic of static generators (inverters): the reactive power each
    listed sgen injects is a piecewise-linear function of its bus voltage, flat outside
    the points, solved simultaneously with the power flow (the steady state of a local
    Q(U) control; the profile's ``q_mvar`` of these sgens is replaced).

    Attributes
    ----------
    sgens : tuple of int
        pandapower sgen indices (each needs ``sn_mva`` > 0).
    v_pu : tuple of float
        Voltages of the characteristic's points, strictly increasing [pu].
    q_per_sn : tuple of float
        Injected reactive power at those points as a share of the sgen's ``sn_mva``
        (positive: supplied, overexcited, raising the voltage; negative: absorbed)
        [-], within -1 .. 1. For example ``v_pu=(0.93, 0.97, 1.03, 1.07)``,
        ``q_per_sn=(0.436, 0, 0, -0.436)`` gives cos φ 0.9 at full output outside 0.93 /
        1.07 pu and no reactive power between 0.97 and 1.03 pu (take the values of the
        grid code that applies).
    """

    sgens: tuple[int, ...]
    v_pu: tuple[float, ...]
    q_per_sn: tuple[float, ...]

    def __post_init__(self) -> None:
        v = np.asarray(self.v_pu, dtype=float)
        q = np.asarray(self.q_per_sn, dtype=float)
        if len(v) < 2 or len(v) != len(q):
            msg = "Q(U) characteristic: need two or more points, as many v_pu as q_per_sn"
            raise InputError(msg)
        if not (np.isfinite(v).all() and np.isfinite(q).all()):
            msg = "Q(U) characteristic: points must be finite"
            raise InputError(msg)
        if (np.diff(v) <= 0).any() or v[0] <= 0:
            msg = f"Q(U) characteristic: v_pu must be positive and increasing; got {self.v_pu}"
            raise InputError(msg)
        if (np.abs(q) > 1).any():
            msg = f"Q(U) characteristic: q_per_sn must be within -1..1; got {self.q_per_sn}"
            raise InputError(msg)
        if not len(self.sgens):
            msg = "Q(U) characteristic: no sgens given"
            raise InputError(msg)
        object.__setattr__(self, "sgens", tuple(int(i) for i in self.sgens))
        object.__setattr__(self, "v_pu", tuple(float(x) for x in v))
        object.__setattr__(self, "q_per_sn", tuple(float(x) for x in q))


@dataclass(frozen=True)
class QuData:
    """Q(U)-controlled sgens for the kernel: stacked element index, characteristic
    points (padded to the longest) with Q in per unit of the power base, and the
    relaxation factor of their reactive power (see :func:`qu_damping`)."""

    sgen_ids: IntArray
    element: IntArray
    n_points: IntArray
    v_pu: FloatArray
    q_pu: FloatArray
    damping: float


def qu_damping(
    positions: IntArray, slopes: FloatArray, n_other: int, factors: tuple[Any, ...]
) -> float:
    """Relaxation factor of the Q(U) injections: ``2 / (2 + rho)``.

    ``rho`` is the spectral radius of ``K^1/2 X K^1/2`` with ``X`` the reactive part of
    ``Y_LL^-1`` between the controlled buses (how their voltages move with injected Q)
    and ``K`` the steepest slope of each characteristic [pu Q / pu V]: the loop gain of
    the Q(U) feedback. Undamped, the iteration diverges when it exceeds 1 (many inverters
    behind one transformer); with this factor every error mode shrinks by at least
    ``rho / (2 + rho)`` per iteration.
    """
    from gridtwin.network._fp_kernels import lu_solve_inplace

    inside = positions < n_other
    pos, k = positions[inside], slopes[inside]
    if not len(pos) or not np.any(k > 0):
        return 1.0
    x = np.empty((len(pos), len(pos)))
    for j, p in enumerate(pos):
        e = np.zeros(n_other, dtype=np.complex128)
        e[p] = 1.0
        lu_solve_inplace(e, *factors)
        x[:, j] = e[pos].imag
    root = np.sqrt(k)
    g = root[:, None] * (0.5 * (x + x.T)) * root[None, :]
    rho = float(np.max(np.abs(np.linalg.eigvalsh(g))))
    return min(1.0, 2.0 / (2.0 + rho))


def _qu_rows(
    net: Any,
    controls: tuple[ReactivePowerControl, ...],
    first_sgen: int,
    el_pos: IntArray,
) -> tuple[list[int], list[tuple[int, ReactivePowerControl, float]]]:
    """The energised controlled sgens: their ids and ``(element, control, sn_mva)``.

    Raises
    ------
    InputError
        An sgen that is named twice, does not exist or has no ``sn_mva`` > 0.
    """
    sg = net.sgen if "sgen" in net else pd.DataFrame(columns=["bus"])
    ids: list[int] = []
    rows: list[tuple[int, ReactivePowerControl, float]] = []
    for ctl in controls:
        for sid in ctl.sgens:
            if sid in ids:
                msg = f"sgen {sid} has two Q(U) characteristics"
                raise InputError(msg)
            if sid not in sg.index:
                msg = f"Q(U) characteristic: sgen {sid} does not exist"
                raise InputError(msg)
            sn = (
                float(pd.to_numeric(sg.at[sid, "sn_mva"], errors="coerce"))
                if "sn_mva" in sg
                else math.nan
            )
            if not (np.isfinite(sn) and sn > 0):
                msg = (
                    f"Q(U) characteristic: sgen {sid} needs its rated power sn_mva > 0 "
                    f"(got {sn}); set net.sgen.sn_mva"
                )
                raise InputError(msg)
            e = first_sgen + int(np.flatnonzero(sg.index == sid)[0])
            if el_pos[e] < 0:
                continue  # out of service or not energised: nothing to control
            ids.append(int(sid))
            rows.append((e, ctl, sn))
    return ids, rows


def qu_data(
    net: Any,
    controls: tuple[ReactivePowerControl, ...],
    first_sgen: int,
    el_pos: IntArray,
    base_mva: float,
    n_other: int,
    factors: tuple[Any, ...],
) -> QuData:
    """The Q(U) characteristics of ``controls`` for the kernel (``first_sgen``: the first
    sgen's column among the stacked elements ``el_pos``)."""
    ids, rows = _qu_rows(net, controls, first_sgen, el_pos)
    m = max((len(c.v_pu) for _, c, _ in rows), default=2)
    v = np.zeros((len(rows), m))
    q = np.zeros((len(rows), m))
    for r, (_, ctl, sn) in enumerate(rows):
        k = len(ctl.v_pu)
        v[r, :k], q[r, :k] = ctl.v_pu, np.asarray(ctl.q_per_sn) * sn / base_mva
        v[r, k:], q[r, k:] = v[r, k - 1], q[r, k - 1]
    element = np.asarray([e for e, _, _ in rows], dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.abs(np.diff(q, axis=1) / np.diff(v, axis=1))
    steepest = np.nan_to_num(slope, nan=0.0, posinf=0.0).max(axis=1) if len(rows) else q[:, 0]
    return QuData(
        sgen_ids=np.asarray(ids, dtype=np.int64),
        element=element,
        n_points=np.asarray([len(c.v_pu) for _, c, _ in rows], dtype=np.int64),
        v_pu=v,
        q_pu=q,
        damping=qu_damping(el_pos[element], steepest, n_other, factors),
    )


@dataclass(frozen=True)
class TapData:
    """Controlled transformers for the kernel (see :class:`TapControl`).

    Attributes
    ----------
    trafo_ids : numpy.ndarray of int64
        pandapower indices of the controlled transformers.
    branch : numpy.ndarray of int64
        Their branch index (lines first, then transformers).
    bus : numpy.ndarray of int64
        Position of the controlled bus.
    lower, upper : numpy.ndarray
        Band [pu].
    direction : numpy.ndarray of int64
        pandapower's ``tap_side_coeff * tap_sign``: ``+1`` (tap on the HV side, positive
        step) when a low voltage moves the tap down, ``-1`` when it moves it up.
    tap_min : numpy.ndarray of int64
        Lowest position; position ``k`` of the kernel is ``tap_min + k``.
    n_pos : numpy.ndarray of int64
        Positions per transformer.
    base : numpy.ndarray of int64
        The kernel position the factorised matrix was built at.
    y : numpy.ndarray of complex, shape (n_ctrl, max positions, 4)
        ``y_ff, y_ft, y_tf, y_tt`` at every position [pu].
    """

    trafo_ids: IntArray
    branch: IntArray
    bus: IntArray
    lower: FloatArray
    upper: FloatArray
    direction: IntArray
    tap_min: IntArray
    n_pos: IntArray
    base: IntArray
    y: npt.NDArray[np.complex128]


@dataclass(frozen=True)
class _TapRow:
    """One checked tap control: the transformer's row in ``trafo``, its band [pu], the
    direction a low voltage moves the tap, the range and present (kernel) position, and
    the position of the controlled bus."""

    row: int
    lower: float
    upper: float
    direction: int
    tap_min: int
    n_pos: int
    base: int
    bus: int


def _tap_row(c: TapControl, trafo: Any, branches: BranchModel, pos: IntArray) -> _TapRow:
    """Check the transformer of tap control ``c`` and read its tap changer.

    Raises
    ------
    InputError
        The transformer does not exist, misses tap data, is out of service or its
        ``tap_pos`` is not a position.
    """
    if c.trafo not in trafo.index:
        msg = f"tap control: trafo {c.trafo} does not exist"
        raise InputError(msg)
    r = int(trafo.index.get_loc(c.trafo))
    row = trafo.loc[c.trafo]
    need = ("tap_min", "tap_max", "tap_step_percent", "tap_neutral", "tap_pos")
    values = {k: pd.to_numeric(row.get(k), errors="coerce") for k in need}
    bad = [k for k in need[:4] if not np.isfinite(values[k])]
    if bad or row.get("tap_side") not in ("hv", "lv"):
        msg = (
            f"tap control: trafo {c.trafo} needs tap_min, tap_max, tap_step_percent, "
            f"tap_neutral and tap_side ('hv'/'lv'); missing or invalid: "
            f"{', '.join(bad) or 'tap_side'}"
        )
        raise InputError(msg)
    b = branches.n_line + r
    if not branches.on[b]:
        msg = f"tap control: trafo {c.trafo} is out of service or not energised"
        raise InputError(msg)
    lo, hi = int(values["tap_min"]), int(values["tap_max"])
    now = values["tap_pos"] if np.isfinite(values["tap_pos"]) else values["tap_neutral"]
    if not lo <= now <= hi or now != int(now):
        msg = f"tap control: trafo {c.trafo} tap_pos {now} is not a position in {lo}..{hi}"
        raise InputError(msg)
    coeff = 1 if row["tap_side"] == "hv" else -1
    sign = 1 if float(values["tap_step_percent"]) >= 0 else -1
    bus = int(pos[branches.t[b]] if c.side == "lv" else pos[branches.f[b]])
    return _TapRow(
        r, c.vm_lower_pu, c.vm_upper_pu, coeff * sign, lo, hi - lo + 1, int(now) - lo, bus
    )


def _tap_two_ports(
    work: Any, ppc: dict[str, Any], branches: BranchModel, taps: list[_TapRow]
) -> npt.NDArray[np.complex128]:
    """``y_ff, y_ft, y_tf, y_tt`` of every controlled transformer at every position [pu],
    from pandapower's own transformer model (on the low-voltage side a tap also changes r
    and x)."""
    from pandapower.build_branch import _calc_branch_values_from_trafo_df
    from pandapower.pypower.idx_brch import BR_B, BR_G, BR_R, BR_X, SHIFT, TAP
    from pandapower.pypower.makeYbus import branch_vectors

    n_line = branches.n_line
    branch_rows = ppc["branch"][branches.sel]
    rows = [tr.row for tr in taps]
    tmin = [tr.tap_min for tr in taps]
    npos = [tr.n_pos for tr in taps]
    trafo = work.trafo
    width = max(npos, default=1)
    y = np.zeros((len(taps), width, 4), dtype=np.complex128)
    for k in range(width):
        sub = trafo.iloc[rows].copy()
        tap = np.minimum(np.asarray(tmin) + k, np.asarray(tmin) + np.asarray(npos) - 1)
        sub["tap_pos"] = tap.astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r_, x_, g_, b_, _, _, ratio, shift = _calc_branch_values_from_trafo_df(work, ppc, sub)
        br = np.array(branch_rows[[n_line + r for r in rows]], copy=True)
        br[:, BR_R], br[:, BR_X], br[:, BR_G], br[:, BR_B] = r_, x_, g_, b_
        br[:, TAP], br[:, SHIFT] = ratio, shift
        yy = branch_vectors(br, len(rows))  # Ytt, Yff, Yft, Ytf
        y[:, k, 0], y[:, k, 1], y[:, k, 2], y[:, k, 3] = yy[1], yy[2], yy[3], yy[0]
    return y


def tap_data(
    work: Any,
    ppc: dict[str, Any],
    controls: tuple[TapControl, ...],
    branches: BranchModel,
    pos: IntArray,
) -> TapData:
    """Two-ports of every tap position of the controlled transformers, from pandapower's
    own transformer model (on the low-voltage side a tap also changes r and x).

    Raises
    ------
    InputError
        A transformer with two controls, or one :func:`_tap_row` refuses.
    """
    seen: set[int] = set()
    taps: list[_TapRow] = []
    for c in controls:
        if c.trafo in seen:
            msg = f"trafo {c.trafo} has two tap controls"
            raise InputError(msg)
        seen.add(c.trafo)
        taps.append(_tap_row(c, work.trafo, branches, pos))
    y = _tap_two_ports(work, ppc, branches, taps)

    def as_int(values: Any) -> IntArray:
        return np.asarray(values, dtype=np.int64)

    return TapData(
        trafo_ids=as_int([c.trafo for c in controls]),
        branch=as_int([branches.n_line + tr.row for tr in taps]),
        bus=as_int([tr.bus for tr in taps]),
        lower=np.asarray([tr.lower for tr in taps], dtype=np.float64),
        upper=np.asarray([tr.upper for tr in taps], dtype=np.float64),
        direction=as_int([tr.direction for tr in taps]),
        tap_min=as_int([tr.tap_min for tr in taps]),
        n_pos=as_int([tr.n_pos for tr in taps]),
        base=as_int([tr.base for tr in taps]),
        y=y,
    )
