"""Reading pandapower element tables, free of any solver library.

Column readers that tolerate a missing column (numbers, flags, ``in_service``), and the
transformer data that both the converters and the validation read the same way: the
winding types and clock of a two-winding transformer (:func:`trafo_windings`) and which
tap changers act on the voltage ratio (:func:`ratio_tap_changer`).

The winding types are power-grid-model's ``WindingType`` codes, written out here so that
reading them does not import power-grid-model (:mod:`gridtwin.network._pgm` checks at
import that they agree).
"""

from __future__ import annotations

import math
import re

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["WINDING_CODES", "ratio_tap_changer", "trafo_windings"]

FloatArray = npt.NDArray[np.float64]

#: power-grid-model's ``WindingType`` codes by name.
WINDING_CODES: dict[str, int] = {"wye": 0, "wye_n": 1, "delta": 2, "zigzag": 3, "zigzag_n": 4}
_WYE, _WYE_N, _DELTA = WINDING_CODES["wye"], WINDING_CODES["wye_n"], WINDING_CODES["delta"]
_ZIGZAG, _ZIGZAG_N = WINDING_CODES["zigzag"], WINDING_CODES["zigzag_n"]

_VG_RE = re.compile(r"^(YN|Y|D|ZN|Z)(yn|y|d|zn|z)(\d{1,2})?$")
_WINDING = {"y": _WYE, "yn": _WYE_N, "d": _DELTA, "z": _ZIGZAG, "zn": _ZIGZAG_N}

#: One finding of :func:`trafo_windings`: (index, column, message, is_error).
WindingProblem = tuple[int, str, str, bool]


def _col(df: pd.DataFrame, name: str, default: float = math.nan) -> FloatArray:
    """Column ``name`` as floats (non-numbers NaN), ``default`` everywhere when missing."""
    if name not in df:
        return np.full(len(df), default, dtype=np.float64)
    return np.asarray(pd.to_numeric(df[name], errors="coerce"), dtype=np.float64)


def _bool(df: pd.DataFrame, name: str, default: bool = True) -> npt.NDArray[np.bool_]:
    """Column ``name`` as flags (missing values ``default``), ``default`` when missing."""
    if name not in df:
        return np.full(len(df), default, dtype=bool)
    return np.asarray(df[name].fillna(default).astype(bool), dtype=bool)


def _in_service(df: pd.DataFrame) -> np.ndarray:
    """The rows in service (a missing value is out of service; no column: all are)."""
    if "in_service" not in df:
        return np.ones(len(df), dtype=bool)
    return np.asarray(df["in_service"].fillna(False).astype(bool), dtype=bool)


def _impossible_clock(w_from: int, w_to: int, clock: int) -> bool:
    """Yy/Dd windings with an odd clock, or Dy/Yd (no zigzag) with an even one."""
    wye_from = w_from in (_WYE, _WYE_N)
    wye_to = w_to in (_WYE, _WYE_N)
    return bool(
        (wye_from == wye_to and clock % 2)
        or (
            wye_from != wye_to
            and w_from not in (_ZIGZAG, _ZIGZAG_N)
            and w_to not in (_ZIGZAG, _ZIGZAG_N)
            and clock % 2 == 0
        )
    )


def _winding_row(
    idx: int, vg: object, sh: float, clock: int
) -> tuple[int | None, int | None, WindingProblem | None]:
    """Winding types of one transformer from its vector group ``vg`` and ``clock``:
    ``(from, to, problem)``, a type None where the default stays."""
    if vg is None or (isinstance(vg, float) and math.isnan(vg)) or str(vg).strip() == "":
        assumed = "Dyn" if clock % 2 else "Yyn"
        text = (
            f"no vector group: {assumed}{clock} assumed from shift_degree "
            f"{sh:g} (only matters for unbalanced calculations)"
        )
        return (_DELTA if clock % 2 else _WYE), None, (idx, "vector_group", text, False)
    m = _VG_RE.match(str(vg).strip())
    if m is None:
        text = f"vector group {vg!r} is not understood; write it like 'Dyn5', 'YNyn0' or 'Dyn'"
        return None, None, (idx, "vector_group", text, True)
    w_from, w_to = _WINDING[m.group(1).lower()], _WINDING[m.group(2)]
    if m.group(3) is not None and int(m.group(3)) % 12 != clock:
        text = (
            f"vector group {vg!r} has clock {m.group(3)} but shift_degree "
            f"{sh:g} means clock {clock}; make them agree"
        )
        return w_from, w_to, (idx, "vector_group", text, True)
    if _impossible_clock(w_from, w_to, clock):
        text = (
            f"vector group {vg!r} with clock {clock} is impossible (Yy/Dd "
            "need an even clock, Dy/Yd an odd one)"
        )
        return w_from, w_to, (idx, "vector_group", text, True)
    return w_from, w_to, None


def trafo_windings(
    trafo: pd.DataFrame,
) -> tuple[
    npt.NDArray[np.int8],
    npt.NDArray[np.int8],
    npt.NDArray[np.int8],
    list[tuple[int, str, str, bool]],
]:
    """Winding types and clock of each 2-winding transformer.

    The clock is ``shift_degree / 30`` (modulo 12), which is what pandapower uses in a
    balanced power flow. Winding types come from ``vector_group`` (e.g. ``Dyn5``,
    ``YNyn0``, ``Dyn``); when it is missing, ``Dyn`` is assumed for an odd clock and
    ``Yyn`` for an even one.

    Returns
    -------
    winding_from, winding_to, clock : numpy.ndarray of int8
        PGM ``WindingType`` values and clock per row.
    problems : list of (index, column, message, is_error)
        Missing vector groups (warnings) and unusable values (errors).
    """
    n = len(trafo)
    w_from = np.full(n, _DELTA, dtype=np.int8)
    w_to = np.full(n, _WYE_N, dtype=np.int8)
    clock = np.zeros(n, dtype=np.int8)
    problems: list[WindingProblem] = []
    shift = _col(trafo, "shift_degree", 0.0)
    groups = trafo["vector_group"] if "vector_group" in trafo else pd.Series([None] * n)
    for k, (idx, vg, sh) in enumerate(zip(trafo.index, groups, shift, strict=True)):
        sh = 0.0 if math.isnan(sh) else float(sh)
        c = sh / 30.0
        if abs(c - round(c)) > 1e-9:
            text = (
                f"phase shift {sh} degree is not a multiple of 30 (a clock "
                "number); phase-shifting transformers are not supported"
            )
            problems.append((int(idx), "shift_degree", text, True))
            continue
        clock[k] = round(c) % 12
        w_f, w_t, problem = _winding_row(int(idx), vg, sh, int(clock[k]))
        if w_f is not None:
            w_from[k] = w_f
        if w_t is not None:
            w_to[k] = w_t
        if problem is not None:
            problems.append(problem)
    return w_from, w_to, clock, problems


def ratio_tap_changer(tr: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Rows whose tap changer acts on the voltage ratio, as in pandapower 3.

    pandapower applies ``tap_pos`` only when ``tap_changer_type`` is ``"Ratio"`` or
    ``"Symmetrical"`` (``None`` means no tap changer; ``"Ideal"`` is a phase shifter).
    """
    if "tap_changer_type" not in tr:
        return np.zeros(len(tr), dtype=bool)
    return np.asarray(tr["tap_changer_type"].isin(["Ratio", "Symmetrical"]), dtype=bool)
