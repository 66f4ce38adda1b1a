"""Reading the voltage channels of a COMTRADE record (CFG + DAT, or CFF) with ``comtrade``.

:func:`_read_voltage_channels` loads the record (the ``comtrade`` package is imported when a
file is read), checks it has one sample rate, picks 1 or 3 voltage channels, converts kV to
V and scales to primary or secondary values, and reads the start time in a given zone.
:func:`gridtwin.quality.waveform.read_comtrade` turns the result into a ``Waveform``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Channels:
    """The chosen voltage channels of a record, as read."""

    time_s: FloatArray  # sample times since the start [s]
    samples_v: FloatArray  # (n_samples, n_channels) [V]
    start: pd.Timestamp  # tz-aware CFG start time
    names: list[str]  # CFG ch_id of each channel
    notes: tuple[str, ...]  # reader warnings


def _pick_channels(
    names: list[str], units: list[str], wanted: Sequence[str] | None, where: str
) -> list[int]:
    """Indices of the 1 or 3 analog channels to read (named, or the V/kV ones)."""
    listing = ", ".join(f"{n!r} [{u}]" for n, u in zip(names, units, strict=True)) or "none"
    if wanted is None:
        volts = [i for i, u in enumerate(units) if u.strip().lower() in ("v", "kv")]
        if len(volts) in (1, 3):
            return volts
        msg = (
            f"{where}: found {len(volts)} voltage channels (unit V or kV) among the analog "
            f"channels {listing}; pass channels=('UA', 'UB', 'UC') with the 1 or 3 channel "
            "names to use"
        )
        raise InputError(msg)
    if len(wanted) not in (1, 3):
        msg = f"{where}: pass 1 or 3 channel names, got {len(wanted)}: {tuple(wanted)}"
        raise InputError(msg)
    lower = [n.strip().lower() for n in names]
    out = []
    for w in wanted:
        key = w.strip().lower()
        if key not in lower:
            msg = (
                f"{where}: channel {w!r} is missing; analog channels in the file: "
                f"{listing}. Pass channels= with names from this list"
            )
            raise InputError(msg)
        if lower.count(key) > 1:
            msg = f"{where}: channel name {w!r} occurs more than once; rename it in the CFG"
            raise InputError(msg)
        out.append(lower.index(key))
    return out


def _read_voltage_channels(
    path: Path, channels: Sequence[str] | None, start_timezone: str, values: str
) -> _Channels:
    """The voltage channels of the COMTRADE record at ``path`` (see ``read_comtrade``)."""
    where = str(path)
    comtrade = _comtrade_module()
    _check_path(path)
    rec, notes = _load(comtrade, path)
    cfg: Any = rec.cfg
    _check_one_rate(cfg, where)
    analog: list[Any] = list(cfg.analog_channels)
    names = [str(c.name) for c in analog]
    units = [str(c.uu) for c in analog]
    idx = _pick_channels(names, units, channels, where)
    if rec.total_samples < 2:
        msg = f"{where}: the record holds {rec.total_samples} sample(s); at least 2 needed"
        raise InputError(msg)
    cols = [_volts(analog[i], rec.analog[i], values, where) for i in idx]
    start = _start_time(cfg, start_timezone, where)
    time_s = np.asarray(rec.time, dtype=np.float64)
    return _Channels(time_s, np.column_stack(cols), start, [names[i] for i in idx], notes)


def _comtrade_module() -> Any:
    """The ``comtrade`` package (imported on first use)."""
    try:
        import comtrade  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - comtrade is a dependency
        msg = "reading COMTRADE needs the `comtrade` package: pip install comtrade==0.2.0"
        raise InputError(msg) from exc
    return comtrade


def _check_path(path: Path) -> None:
    """An existing ``.cfg`` or ``.cff`` file."""
    where = str(path)
    if not path.is_file():
        msg = f"{where}: COMTRADE file not found"
        raise InputError(msg)
    if path.suffix.lower() not in (".cfg", ".cff"):
        msg = f"{where}: expected a .cfg or .cff file, got {path.suffix!r}"
        raise InputError(msg)


def _load(comtrade: Any, path: Path) -> tuple[Any, tuple[str, ...]]:
    """The loaded record and the reader's warnings as notes."""
    where = str(path)
    rec = comtrade.Comtrade(use_numpy_arrays=True, use_double_precision=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            rec.load(str(path))
        except (
            OSError,
            ValueError,
            IndexError,
            KeyError,
            TypeError,
            UnicodeDecodeError,
            comtrade.ComtradeError,
        ) as exc:
            msg = (
                f"{where}: cannot read the COMTRADE record ({type(exc).__name__}: {exc}); "
                "check that the CFG is valid and its DAT file is next to it"
            )
            raise InputError(msg) from exc
    notes = tuple(f"{where}: comtrade reader: {w.message}" for w in caught)
    return rec, notes


def _check_one_rate(cfg: Any, where: str) -> None:
    """Only records with one constant sample rate are supported."""
    rates = [(float(s), int(e)) for s, e in cfg.sample_rates]
    if len(rates) > 1:
        msg = (
            f"{where}: the record has {len(rates)} sample rates {rates}; only records with "
            "one constant sample rate are supported: resample or split it"
        )
        raise InputError(msg)


def _volts(ch: Any, recorded: Any, values: str, where: str) -> FloatArray:
    """One channel in V (kV converted), scaled to primary or secondary values."""
    x = np.asarray(recorded, dtype=np.float64)
    unit = str(ch.uu).strip().lower()
    if unit == "kv":
        x = x * 1000.0
    elif unit != "v":
        msg = (
            f"{where}: channel {ch.name!r} has unit {ch.uu!r}; voltage channels in V or kV expected"
        )
        raise InputError(msg)
    pors = str(ch.pors).strip().upper() or "P"
    ratio = float(ch.primary) / float(ch.secondary) if float(ch.secondary) else 1.0
    if values == "primary" and pors == "S":
        x = x * ratio
    elif values == "secondary" and pors == "P":
        x = x / ratio
    return x


def _start_time(cfg: Any, start_timezone: str, where: str) -> pd.Timestamp:
    """The CFG start timestamp, read in ``start_timezone``."""
    try:
        return pd.Timestamp(cfg.start_timestamp).tz_localize(start_timezone)
    except (ValueError, TypeError, KeyError) as exc:
        msg = (
            f"{where}: cannot read the start timestamp {cfg.start_timestamp!r} in zone "
            f"{start_timezone!r} ({exc}); pass start_timezone= an IANA zone"
        )
        raise InputError(msg) from exc
