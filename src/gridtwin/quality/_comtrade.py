"""Reading the voltage channels of a COMTRADE record (CFG + DAT, or CFF) with ``comtrade``.

:func:`_read_voltage_channels` loads the record (the ``comtrade`` package is imported when a
file is read), checks it has one sample rate, picks 1 or 3 voltage channels, converts kV to
V and scales to primary or secondary values, and reads the start time in a given zone.
:func:`gridtwin.quality.waveform.read_comtrade` turns the result into a ``Waveform``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

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
    connection: str = "phase"  # 'phase' (to neutral) or 'line' (line-to-line)


def _unit_of(raw: str) -> str | None:
    """``'V'``, ``'kV'`` or ``'V/kV'`` (secondary V, primary kV) for a CFG unit string
    (``V``, ``volt``, Cyrillic ``В``, ``кВ``, ``В/кВ`` ...), else None (empty or not a
    voltage unit)."""
    key = raw.strip().lower().replace(" ", "")
    if key in _VOLT_UNITS:
        return "V"
    if key in _KILOVOLT_UNITS:
        return "kV"
    if key in ("v/kv", "в/кв"):
        return "V/kV"  # secondary in V, primary in kV (Russian relays)
    return None


#: CFG unit strings read as V and kV (Latin and Cyrillic spellings seen in real records).
_VOLT_UNITS: Final = frozenset({"v", "volt", "volts", "в", "вольт"})
_KILOVOLT_UNITS: Final = frozenset({"kv", "kilovolt", "kilovolts", "кв", "киловольт"})

_LINE_RE: Final = re.compile(
    r"^(?:u|v|в)?_?(?:l?[123]-?l?[123]|[abc]-?[abc]|ab|bc|ca|ba|cb|ac)(?:_.*)?$"
)
_ZERO_RE: Final = re.compile(r"^(?:3?(?:u|v)_?(?:0|o|n|zero|res|r)|3u0|3v0|u0|v0|vo|uo|vn|un)$")


def _kind(name: str, phase: str) -> str:
    """What a voltage channel holds, from its CFG ``ch_id`` and ``ph``: ``'zero'``
    (zero-sequence or residual: Vo, 3U0, UN), ``'line'`` (line-to-line: U21, UAB,
    ph AB) or ``'phase'`` (phase-to-neutral or unknown)."""
    key = name.strip().lower().replace(" ", "")
    ph = phase.strip().lower().replace(" ", "").replace("-", "")
    if _ZERO_RE.match(key) or ph in ("n", "0", "o", "zero", "res"):
        return "zero"
    if ph in ("ab", "bc", "ca", "ba", "cb", "ac", "12", "23", "31", "21", "32", "13"):
        return "line"
    if ph in ("a", "b", "c", "1", "2", "3", "l1", "l2", "l3"):
        return "phase"
    digits = re.sub(r"[^0-9]", "", key)
    if _LINE_RE.match(key) and (len(digits) == 2 or not digits):
        return "line"
    if re.match(r"^(?:u|v|в)_?(?:л|лин)", key):  # Uл: line voltage (Russian relays)
        return "line"
    base = key.split("_")[0]
    if base != key and _ZERO_RE.match(base):  # VN_GC1, V0_BUS
        return "zero"
    return "phase"


def _phase_letter(name: str, phase: str) -> tuple[str, str] | None:
    """(set key, phase a/b/c) of a phase channel, from its CFG ``ph`` or its name
    (``VA_GC1`` -> ('v_gc1', 'a'), ``Ua`` -> ('u', 'a'))."""
    ph = phase.strip().lower()
    ph = {"1": "a", "2": "b", "3": "c", "l1": "a", "l2": "b", "l3": "c"}.get(ph, ph)
    key = name.strip().lower()
    m = re.match(r"^(u|v)_?(?:l?([123])|([abc]))(.*)$", key)
    if m is not None:
        letter = m.group(3) or "abc"[int(m.group(2)) - 1]
        if ph in ("", letter):
            return m.group(1) + m.group(4), letter
    if ph in ("a", "b", "c"):
        return key.replace(ph, "", 1), ph
    return None


def _three_phase_sets(names: list[str], phases: list[str], idx: list[int]) -> list[list[int]]:
    """Sets of three phase channels (a, b, c) sharing a name stem, in record order."""
    groups: dict[str, dict[str, int]] = {}
    for i in idx:
        got = _phase_letter(names[i], phases[i])
        if got is not None:
            groups.setdefault(got[0], {}).setdefault(got[1], i)
    return [[g["a"], g["b"], g["c"]] for g in groups.values() if set(g) == {"a", "b", "c"}]


def _pick_channels(
    names: list[str],
    units: list[str | None],
    kinds: list[str],
    wanted: Sequence[str] | None,
    where: str,
    phases: list[str] | None = None,
) -> tuple[list[int], list[str]]:
    """Indices of the 1 or 3 analog channels to read (named, or the V/kV ones), and notes.

    Zero-sequence channels are never taken as a phase; a mix of phase and line-to-line
    channels keeps the phase ones.
    """
    listing = (
        ", ".join(
            f"{n!r} [{u or '?'}{'' if k == 'phase' else ', ' + k}]"
            for n, u, k in zip(names, units, kinds, strict=True)
        )
        or "none"
    )
    if wanted is not None:
        return _named_channels(names, kinds, wanted, where, listing), []
    phases = phases if phases is not None else [""] * len(names)
    volts = [i for i, u in enumerate(units) if u is not None]
    notes = []
    zero = [i for i in volts if kinds[i] == "zero"]
    if zero:
        notes.append(
            f"{where}: zero-sequence/residual voltage channel(s) "
            f"{', '.join(names[i] for i in zero)} left out (never a phase voltage)"
        )
    volts = [i for i in volts if kinds[i] != "zero"]
    sets = _three_phase_sets(names, phases, [i for i in volts if kinds[i] == "phase"])
    if sets and (len(sets) > 1 or len(volts) > 3):
        chosen = sets[0]
        others = "; ".join(", ".join(names[i] for i in s) for s in sets[1:])
        notes.append(
            f"{where}: three-phase voltage channels {', '.join(names[i] for i in chosen)} "
            "used"
            + (f" (other sets: {others})" if others else "")
            + "; pass --channel (channels=) to choose others"
        )
        return chosen, notes
    phase = [i for i in volts if kinds[i] == "phase"]
    line = [i for i in volts if kinds[i] == "line"]
    if phase and line and len(phase) in (1, 3):
        notes.append(
            f"{where}: line-to-line channel(s) {', '.join(names[i] for i in line)} left out; "
            f"the phase-to-neutral ones {', '.join(names[i] for i in phase)} are used"
        )
        volts = phase
    if len(volts) in (1, 3):
        return volts, notes
    msg = (
        f"{where}: found {len(volts)} voltage channels (unit V or kV, not "
        f"zero-sequence) among the analog channels {listing}; pass --channel (channels=) "
        "with the 1 or 3 channel names to use, and --unit NAME=V (units=) for channels "
        "whose unit is empty or unknown"
    )
    raise InputError(msg)


def _named_channels(
    names: list[str], kinds: list[str], wanted: Sequence[str], where: str, listing: str
) -> list[int]:
    """Indices of the channels named by the user (1 or 3; no zero-sequence channel)."""
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
        i = lower.index(key)
        if kinds[i] == "zero":
            msg = (
                f"{where}: channel {w!r} is a zero-sequence or residual voltage (by its name "
                "or phase field), not a phase voltage; choose phase or line-to-line channels"
            )
            raise InputError(msg)
        out.append(i)
    return out


def _read_voltage_channels(
    path: Path,
    channels: Sequence[str] | None,
    start_timezone: str,
    values: str,
    encoding: str | None = None,
    units: Mapping[str, str] | None = None,
) -> _Channels:
    """The voltage channels of the COMTRADE record at ``path`` (see ``read_comtrade``)."""
    where = str(path)
    comtrade = _comtrade_module()
    _check_path(path)
    enc, enc_notes = _encoding(path, encoding)
    rec, notes = _load(comtrade, path, enc)
    cfg: Any = rec.cfg
    _check_one_rate(cfg, where)
    analog: list[Any] = list(cfg.analog_channels)
    names = [str(c.name) for c in analog]
    given = _given_units(units, names, where)
    unit = [
        given.get(n.strip().lower()) or _unit_of(str(c.uu))
        for n, c in zip(names, analog, strict=True)
    ]
    phases = [str(getattr(c, "ph", "")) for c in analog]
    kinds = [_kind(n, p) for n, p in zip(names, phases, strict=True)]
    idx, pick_notes = _pick_channels(names, unit, kinds, channels, where, phases)
    if rec.total_samples < 2:
        msg = f"{where}: the record holds {rec.total_samples} sample(s); at least 2 needed"
        raise InputError(msg)
    picked = {kinds[i] for i in idx}
    if len(picked) > 1:
        msg = (
            f"{where}: channels {[names[i] for i in idx]} mix phase-to-neutral and "
            "line-to-line voltages (by their names or phase fields); pass channels of one kind"
        )
        raise InputError(msg)
    connection = picked.pop()
    if connection == "line":
        pick_notes.append(
            f"{where}: channels {', '.join(names[i] for i in idx)} are line-to-line voltages "
            "(by their names or phase fields): they are judged against the line-to-line "
            "reference voltage"
        )
    cols = [_volts(analog[i], rec.analog[i], unit[i], values, where) for i in idx]
    start, start_notes = _start_time(cfg, start_timezone, where)
    time_s, time_notes = _sample_times(cfg, np.asarray(rec.time, dtype=np.float64), where)
    return _Channels(
        time_s,
        np.column_stack(cols),
        start,
        [names[i] for i in idx],
        (*enc_notes, *notes, *pick_notes, *start_notes, *time_notes),
        connection,
    )


def _sample_times(cfg: Any, dat_s: FloatArray, where: str) -> tuple[FloatArray, tuple[str, ...]]:
    """Sample times [s]: from the CFG sample rate when it gives one (the DAT timestamps
    are then not critical, IEEE C37.111), else the DAT timestamps."""
    rates = [(float(r), int(e)) for r, e in cfg.sample_rates]
    if cfg.timestamp_critical or len(rates) != 1 or not rates[0][0] > 0:
        return dat_s, ()
    t = np.arange(dat_s.size, dtype=np.float64) / rates[0][0]
    if dat_s.size > 1 and np.allclose(dat_s - dat_s[0], t, rtol=0.0, atol=0.01 / rates[0][0]):
        return dat_s, ()
    note = (
        f"{where}: the DAT timestamps disagree with the CFG sample rate "
        f"{rates[0][0]:g} Hz; the rate is used (timestamps are not critical, nrates > 0)"
    )
    return t, (note,)


def _given_units(units: Mapping[str, str] | None, names: list[str], where: str) -> dict[str, str]:
    """The user's unit per channel (lower-case name -> 'V' or 'kV'), checked."""
    out: dict[str, str] = {}
    lower = {n.strip().lower() for n in names}
    for name, raw in (units or {}).items():
        unit = _unit_of(raw)
        if unit is None:
            msg = f"{where}: unit {raw!r} given for channel {name!r}: use V or kV"
            raise InputError(msg)
        if name.strip().lower() not in lower:
            msg = (
                f"{where}: unit given for channel {name!r}, which the record lacks; "
                f"analog channels: {', '.join(names)}"
            )
            raise InputError(msg)
        out[name.strip().lower()] = unit
    return out


#: Encodings tried for a CFG that is not UTF-8 (see :func:`_encoding`).
_ENCODINGS: Final = ("cp1251", "gbk", "latin-1")


def _encoding(path: Path, given: str | None) -> tuple[str, tuple[str, ...]]:
    """The encoding of the CFG: ``given``, else UTF-8, else detected among
    Windows-1251 (Cyrillic words), GBK (CJK text) and Latin-1, with a note."""
    where = str(path)
    if given is not None:
        try:
            codecs.lookup(given)
        except LookupError as exc:
            msg = f"{where}: unknown encoding {given!r}; e.g. utf-8, cp1251, gbk, latin-1"
            raise InputError(msg) from exc
        return given, ()
    if path.suffix.lower() == ".cff":
        return "utf-8", ()
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", ()
    enc = _guess_encoding(raw)
    note = (
        f"{where}: the CFG is not UTF-8; read as {enc} (detected from its text; pass "
        "--encoding / encoding= if names look wrong)"
    )
    return enc, (note,)


def _guess_encoding(raw: bytes) -> str:
    """Windows-1251, GBK or Latin-1 for non-UTF-8 bytes, by the shape of their text.

    Windows-1251: the high bytes read as Cyrillic letters and stand as words of their own
    (Latin-1 accents sit inside Latin words: S-ü-d). GBK: two high bytes per character,
    all read as CJK, and no odd run of high bytes (a Cyrillic word of odd length).
    """
    runs = list(re.finditer(rb"[\x80-\xff]+", raw))
    text = raw.decode("cp1251", errors="replace")
    non_ascii = [ch for ch in text if ord(ch) > 127]
    cyr = sum(1 for ch in non_ascii if "\u0400" <= ch <= "\u04ff" or ch == "\u2116")
    inside = sum(
        1
        for m in runs
        if m.start() > 0
        and m.end() < len(raw)
        and chr(raw[m.start() - 1]).isalpha()
        and chr(raw[m.end()]).isalpha()
    )
    cyrillic = bool(non_ascii) and cyr / len(non_ascii) >= 0.9 and inside < 0.3 * len(runs)
    wide: list[str] = []
    if all(len(m.group()) % 2 == 0 for m in runs):  # GB2312 text: two bytes a character
        try:
            wide = [ch for ch in raw.decode("gbk") if ord(ch) > 127]
        except UnicodeDecodeError:
            wide = []
    cjk = sum(1 for ch in wide if "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    if wide and cjk / len(wide) >= 0.9:
        return "gbk"
    return "cp1251" if cyrillic else "latin-1"


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


def _load(comtrade: Any, path: Path, encoding: str) -> tuple[Any, tuple[str, ...]]:
    """The loaded record and the reader's warnings as notes."""
    where = str(path)
    rec = comtrade.Comtrade(use_numpy_arrays=True, use_double_precision=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # the free-text HDR and INF files are not needed (and may be in another
            # encoding): point the reader at none
            none = str(path.with_name(f".{path.name}.absent"))
            rec.load(str(path), encoding=encoding, hdr_file=none, inf_file=none)
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


def _volts(ch: Any, recorded: Any, unit: str | None, values: str, where: str) -> FloatArray:
    """One channel in V (kV converted), scaled to primary or secondary values.

    ``'V/kV'`` channels hold secondary volts (PS = S) or primary kilovolts (PS = P), and
    their CFG ``primary`` is in kV.
    """
    x = np.asarray(recorded, dtype=np.float64)
    pors = str(ch.pors).strip().upper() or "P"
    primary, secondary = float(ch.primary), float(ch.secondary)
    if unit == "V/kV":
        primary *= 1000.0
        if pors == "P":
            x = x * 1000.0
    elif unit == "kV":
        x = x * 1000.0
    elif unit != "V":
        msg = (
            f"{where}: channel {ch.name!r} has unit {ch.uu!r}; voltage channels in V or kV "
            f"expected: pass --unit '{ch.name}=V' (units={{'{ch.name}': 'V'}}) if it is one"
        )
        raise InputError(msg)
    ratio = primary / secondary if secondary else 1.0
    if values == "primary" and pors == "S":
        x = x * ratio
    elif values == "secondary" and pors == "P":
        x = x / ratio
    return x


def _start_time(cfg: Any, start_timezone: str, where: str) -> tuple[pd.Timestamp, tuple[str, ...]]:
    """The CFG start timestamp, read in ``start_timezone``; a two-digit year (1991 records,
    ``02/12/11``) is read as 1970-2069, with a note."""
    stamp = cfg.start_timestamp
    notes: tuple[str, ...] = ()
    if isinstance(stamp, dt.datetime) and stamp.year < 100:
        year = stamp.year + (1900 if stamp.year >= 70 else 2000)
        notes = (
            f"{where}: the CFG start date has a two-digit year {stamp.year:02d}; read as {year}",
        )
        stamp = stamp.replace(year=year)
    try:
        return pd.Timestamp(stamp).tz_localize(start_timezone), notes
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        msg = (
            f"{where}: cannot read the start timestamp {stamp!r} in zone "
            f"{start_timezone!r} ({exc}); pass start_timezone= an IANA zone"
        )
        raise InputError(msg) from exc
