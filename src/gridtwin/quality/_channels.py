"""Measured quantities and the names of their channels (columns or indicator cells).

Owns :class:`Quantity` and the table :data:`QUANTITIES` (interval and unit of each
measured quantity), the aliases a file may use, and the parsing of a channel name into
quantity, phase and unit (:func:`parse_channel`), with the canonical phase and unit
labels and the phase of a waveform channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from gridtwin.errors import InputError
from gridtwin.quality._limits import Aggregation

__all__ = ["LINE_PHASES", "QUANTITIES", "Quantity", "parse_channel"]


@dataclass(frozen=True)
class Quantity:
    """A measured power-quality quantity.

    Attributes
    ----------
    name : str
        Canonical name (``'voltage'``, ``'thd'``, ``'harmonic_5'`` ...).
    aggregation : {'10s', '10min', '2h'}
        IEC 61000-4-30 aggregation interval.
    unit : str
        Unit after reading: ``'V'``, ``'Hz'``, ``'percent'`` or ``'1'``.
    indicator : str
        Name of the limit-set indicator that judges it (``'voltage_deviation'`` for the
        voltage quantities, ``'frequency_deviation'`` for frequency).
    """

    name: str
    aggregation: Aggregation
    unit: str
    indicator: str


def _quantities() -> dict[str, Quantity]:
    """Every known quantity by canonical name (harmonics 2..50 included)."""
    out = {
        "frequency": Quantity("frequency", "10s", "Hz", "frequency_deviation"),
        "voltage": Quantity("voltage", "10min", "V", "voltage_deviation"),
        "voltage_under_deviation": Quantity(
            "voltage_under_deviation", "10min", "percent", "voltage_deviation"
        ),
        "voltage_over_deviation": Quantity(
            "voltage_over_deviation", "10min", "percent", "voltage_deviation"
        ),
        "unbalance_negative_sequence": Quantity(
            "unbalance_negative_sequence", "10min", "percent", "unbalance_negative_sequence"
        ),
        "unbalance_zero_sequence": Quantity(
            "unbalance_zero_sequence", "10min", "percent", "unbalance_zero_sequence"
        ),
        "thd": Quantity("thd", "10min", "percent", "thd"),
        "pst": Quantity("pst", "10min", "1", "pst"),
        "plt": Quantity("plt", "2h", "1", "plt"),
    }
    for n in range(2, 51):
        out[f"harmonic_{n}"] = Quantity(f"harmonic_{n}", "10min", "percent", f"harmonic_{n}")
    return out


#: Every quantity the reader knows, by canonical name.
QUANTITIES: Final[dict[str, Quantity]] = _quantities()

#: Canonical line-to-line phase labels (all others are phase-to-neutral or ``''``).
LINE_PHASES: Final = ("ab", "bc", "ca")

_ALIASES: Final[dict[str, str]] = {
    **{a: "frequency" for a in ("frequency", "freq", "f")},
    **{
        a: "voltage" for a in ("voltage", "u", "v", "u_rms", "urms", "v_rms", "vrms", "voltage_rms")
    },
    **{
        a: "voltage_under_deviation"
        for a in (
            "voltage_under_deviation",
            "du_minus",
            "u_under",
            "delta_u_minus",
            "under_deviation",
        )
    },
    **{
        a: "voltage_over_deviation"
        for a in ("voltage_over_deviation", "du_plus", "u_over", "delta_u_plus", "over_deviation")
    },
    **{
        a: "unbalance_negative_sequence"
        for a in ("unbalance_negative_sequence", "u2", "k2u", "unbalance_u2", "vuf")
    },
    **{
        a: "unbalance_zero_sequence"
        for a in ("unbalance_zero_sequence", "u0", "k0u", "unbalance_u0")
    },
    **{a: "thd" for a in ("thd", "thd_u", "thdu", "thd_v", "ku")},
    "pst": "pst",
    "plt": "plt",
}
_HARMONIC: Final = re.compile(r"^(?:h|harmonic|ku|uh|u_h)_?(\d{1,2})$")
_PHASES: Final[dict[str, str]] = {
    "a": "a",
    "b": "b",
    "c": "c",
    "l1": "a",
    "l2": "b",
    "l3": "c",
    "ab": "ab",
    "bc": "bc",
    "ca": "ca",
    "l12": "ab",
    "l23": "bc",
    "l31": "ca",
}
_UNITS: Final[dict[str, str]] = {
    "v": "V",
    "kv": "kV",
    "hz": "Hz",
    "percent": "percent",
    "pct": "percent",
    "pu": "pu",
    "p_u": "pu",
}


def parse_channel(name: str) -> tuple[str, str, str] | None:
    """Read quantity, phase and unit from a column or indicator name.

    Parameters
    ----------
    name : str
        E.g. ``'voltage_a_v'``, ``'U_L1 [kV]'``, ``'thd_b_%'``, ``'h5_c'``, ``'u2'``.

    Returns
    -------
    tuple of str or None
        ``(quantity, phase, unit)`` with the canonical quantity name, the phase (``'a'``,
        ``'b'``, ``'c'``, ``'ab'``, ``'bc'``, ``'ca'`` or ``''``) and the stated unit
        (``'V'``, ``'kV'``, ``'Hz'``, ``'percent'``, ``'pu'`` or ``''`` if none);
        ``None`` if the name is not a known quantity.

    Examples
    --------
    >>> parse_channel("U_L1 [kV]")
    ('voltage', 'a', 'kV')
    >>> parse_channel("thd_b_%")
    ('thd', 'b', 'percent')
    """
    text = name.strip().lower().replace("%", "_percent").replace("p.u.", "pu")
    tokens = [t for t in re.split(r"[^a-z0-9]+", text) if t]
    unit = phase = ""
    if len(tokens) > 1 and tokens[-1] in _UNITS:
        unit = _UNITS[tokens.pop()]
    elif len(tokens) > 2 and "_".join(tokens[-2:]) in _UNITS:
        unit = _UNITS["_".join(tokens[-2:])]
        del tokens[-2:]
    if len(tokens) > 1 and tokens[-1] in _PHASES:
        phase = _PHASES[tokens.pop()]
    joined = "_".join(tokens)
    if joined in _ALIASES:
        return _ALIASES[joined], phase, unit
    m = _HARMONIC.match(joined)
    if m and 2 <= int(m.group(1)) <= 50:
        return f"harmonic_{int(m.group(1))}", phase, unit
    return None


def _channel_phase(name: str, i: int, n: int) -> str:
    """Phase of a waveform channel: from its name (L1, UA, VB ...) or its position."""
    t = name.strip().lower()
    if t in _PHASES:
        return _PHASES[t]
    if len(t) > 1 and t[0] in "uv" and t[1:].lstrip("_") in _PHASES:
        return _PHASES[t[1:].lstrip("_")]
    if n == 3:
        return ("a", "b", "c")[i]
    if n == 1:
        return ""
    msg = (
        f"channel {name!r}: cannot tell its phase; name channels L1, L2, L3 (or UA, UB, "
        "UC, or ab, bc, ca)"
    )
    raise InputError(msg)


def _canon_phase(text: str, where: str) -> str:
    """Canonical phase label of a phase cell (``''`` for none)."""
    t = text.strip().lower()
    if t in ("", "none", "-", "abc", "3ph", "total"):
        return ""
    if t in _PHASES:
        return _PHASES[t]
    msg = (
        f"{where}: unknown phase {text!r}; use a, b, c (or L1, L2, L3) for phase-to-"
        "neutral, ab, bc, ca (or L12, L23, L31) for line-to-line, or leave it empty"
    )
    raise InputError(msg)


def _canon_unit(text: str, where: str) -> str:
    """Canonical unit of a unit cell (``''`` for none)."""
    t = text.strip().lower().replace("%", "percent").replace("p.u.", "pu")
    if t in ("", "1", "-", "none"):
        return ""
    if t in _UNITS:
        return _UNITS[t]
    msg = f"{where}: unknown unit {text!r}; use V, kV, Hz, percent (%), pu or leave it empty"
    raise InputError(msg)


def _known_text() -> str:
    """The known quantity names, for messages."""
    return (
        "frequency, voltage, du_minus/du_plus, u2, u0, thd, h2..h50, pst, plt "
        "(optionally with a phase a/b/c/ab/bc/ca and a unit v/kv/hz/percent/pu)"
    )
