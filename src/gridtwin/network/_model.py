"""The network twin's data: a pandapower net that is never mutated, plus time profiles.

:class:`NetworkModel` holds a pandapower net (the data model and reference engine) and,
optionally, a year of element :class:`Profiles`. Loaders read pandapower JSON, MATPOWER
``.mat`` files and SimBench grids with their own annual profiles; CGMES files are read by
:func:`gridtwin.network.load_cgmes` (optional extra ``[cim]``).

Time convention (``docs/conventions.md``): profile timestamps are tz-aware UTC period
starts. Profile values are what would be written into the element's pandapower column
(``load.p_mw`` ...) at that step, i.e. *before* the element's ``scaling`` factor, which is
applied by the simulation exactly as pandapower applies it.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.errors import DataQualityError, InputError
from gridtwin.timeseries import IntervalData, utc_ns

__all__ = [
    "PROFILE_FIELDS",
    "NetworkInfo",
    "NetworkModel",
    "Profiles",
    "from_net",
    "info",
    "load_matpower",
    "load_pandapower_json",
    "load_simbench",
    "profiles_from_meters",
    "simbench_time_index",
    "static_profiles",
]

#: Profile fields: name -> (pandapower table, column).
PROFILE_FIELDS: dict[str, tuple[str, str]] = {
    "load_p_mw": ("load", "p_mw"),
    "load_q_mvar": ("load", "q_mvar"),
    "sgen_p_mw": ("sgen", "p_mw"),
    "sgen_q_mvar": ("sgen", "q_mvar"),
    "storage_p_mw": ("storage", "p_mw"),
    "storage_q_mvar": ("storage", "q_mvar"),
    "gen_p_mw": ("gen", "p_mw"),
}

#: SimBench profiles cover the leap year 2016 in quarter hours.
SIMBENCH_YEAR_START_UTC = pd.Timestamp("2016-01-01 00:00", tz="UTC")
SIMBENCH_STEPS = 35_136


def simbench_time_index(n_steps: int = SIMBENCH_STEPS) -> pd.DatetimeIndex:
    """UTC period-start index of SimBench's profile year.

    SimBench labels its 35,136 quarter hours of 2016 with naive local clock times
    ("01.01.2016 00:00" ...) but without any daylight-saving jump (96 steps every day), so
    they are a regular grid. We label them from 2016-01-01 00:00 **UTC**, keeping the grid
    regular; the profiles' local-time shape is therefore off by the German UTC offset
    (1 h in winter, 2 h in summer) if read as UTC. That is harmless for network studies
    driven by SimBench alone; align explicitly before mixing them with metered data.
    """
    return pd.date_range(SIMBENCH_YEAR_START_UTC, periods=n_steps, freq="15min", name="time_utc")


def _empty_frame(index: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(index=index, columns=pd.Index([], dtype=np.int64), dtype=np.float64)


@dataclass(frozen=True)
class Profiles:
    """Time profiles of element set-points on one regular UTC time axis.

    Each frame has ``time_utc`` as index and pandapower element indices (int) as columns.
    A frame may have fewer columns than its table has elements; an element without a
    column keeps its static value only for ``q`` (``p`` without a column is a
    validation error, see :func:`gridtwin.network.validate`).

    Attributes
    ----------
    time_utc : pandas.DatetimeIndex
        tz-aware UTC start of each step, strictly increasing, constant step.
    load_p_mw, load_q_mvar : pandas.DataFrame
        Load active [MW] and reactive [Mvar] power, consumer frame (pandapower ``load``).
    sgen_p_mw, sgen_q_mvar : pandas.DataFrame
        Static generator active [MW] and reactive [Mvar] power, generator frame.
    storage_p_mw, storage_q_mvar : pandas.DataFrame
        Storage power [MW], [Mvar], consumer frame (charging positive), as pandapower.
    gen_p_mw : pandas.DataFrame
        Voltage-controlled generator active power [MW] (kept for completeness; ``gen``
        is not supported by the simulation engine).
    source : str
        Where the profiles came from, for messages.
    """

    time_utc: pd.DatetimeIndex
    load_p_mw: pd.DataFrame
    load_q_mvar: pd.DataFrame
    sgen_p_mw: pd.DataFrame
    sgen_q_mvar: pd.DataFrame
    storage_p_mw: pd.DataFrame
    storage_q_mvar: pd.DataFrame
    gen_p_mw: pd.DataFrame
    source: str = "<memory>"

    def __post_init__(self) -> None:
        idx = self.time_utc
        if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
            msg = f"{self.source}: profiles need a tz-aware DatetimeIndex (UTC period starts)"
            raise InputError(msg)
        if str(idx.tz) != "UTC":
            idx = idx.tz_convert("UTC")
            object.__setattr__(self, "time_utc", idx)
        if len(idx) >= 2:
            diffs = np.diff(utc_ns(idx))
            if np.any(diffs <= 0) or np.any(diffs != diffs[0]):
                bad = int(np.argmax((diffs <= 0) | (diffs != diffs[0]))) + 1
                msg = (
                    f"{self.source}: profile timestamps must be strictly increasing with a "
                    f"constant step; check position {bad} ({idx[bad]})"
                )
                raise DataQualityError(msg)
        for name in PROFILE_FIELDS:
            frame = getattr(self, name)
            if not isinstance(frame, pd.DataFrame):
                msg = f"{self.source}: Profiles.{name} must be a pandas DataFrame"
                raise InputError(msg)
            if len(frame) != len(idx):
                msg = (
                    f"{self.source}: Profiles.{name} has {len(frame)} rows but the time "
                    f"index has {len(idx)} steps"
                )
                raise InputError(msg)
            own = frame.index
            if isinstance(own, pd.DatetimeIndex) and (
                own.tz is None or not own.tz_convert("UTC").equals(idx)
            ):
                msg = (
                    f"{self.source}: Profiles.{name} is indexed by other timestamps than "
                    f"time_utc (first {own[0] if len(own) else None}); align it first"
                )
                raise InputError(msg)
            if not frame.columns.is_unique:
                dup = frame.columns[frame.columns.duplicated()].tolist()[:5]
                msg = f"{self.source}: Profiles.{name} has duplicate element columns {dup}"
                raise InputError(msg)
            try:
                cols = pd.Index(frame.columns.astype(np.int64))
            except (TypeError, ValueError):
                msg = (
                    f"{self.source}: Profiles.{name} columns must be pandapower element "
                    f"indices (integers); found {frame.columns[:5].tolist()}"
                )
                raise InputError(msg) from None
            fixed = pd.DataFrame(
                np.asarray(frame.to_numpy(), dtype=np.float64), index=idx, columns=cols
            )
            object.__setattr__(self, name, fixed)

    @classmethod
    def from_frames(
        cls, time_utc: pd.DatetimeIndex, source: str = "<memory>", **frames: pd.DataFrame | None
    ) -> Profiles:
        """Build profiles from any subset of the frames; the others are empty.

        Parameters
        ----------
        time_utc : pandas.DatetimeIndex
            UTC period starts.
        source : str
            Label for messages.
        **frames
            ``load_p_mw=...`` etc., each a DataFrame (T x elements) or an array-like
            accepted by :class:`pandas.DataFrame` with element columns. A frame indexed
            by timestamps must be indexed by ``time_utc``; other frames are labelled
            with it by position.
        """
        unknown = sorted(set(frames) - set(PROFILE_FIELDS))
        if unknown:
            msg = f"unknown profile field(s) {unknown}; known: {sorted(PROFILE_FIELDS)}"
            raise InputError(msg)
        filled: dict[str, pd.DataFrame] = {}
        for name in PROFILE_FIELDS:
            frame = frames.get(name)
            if frame is None:
                filled[name] = _empty_frame(time_utc)
            else:
                frame = pd.DataFrame(frame)
                if not isinstance(frame.index, pd.DatetimeIndex) and len(frame) == len(time_utc):
                    frame = frame.set_axis(time_utc, axis=0)
                filled[name] = frame
        return cls(time_utc=time_utc, source=source, **filled)

    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return len(self.time_utc)

    @property
    def step(self) -> pd.Timedelta:
        """Step length (15 min for SimBench)."""
        if len(self.time_utc) < 2:
            msg = f"{self.source}: at least two steps are needed to know the step length"
            raise InputError(msg)
        return pd.Timedelta(self.time_utc[1] - self.time_utc[0])

    def frames(self) -> dict[str, pd.DataFrame]:
        """All profile frames by field name (``load_p_mw`` ...)."""
        return {name: getattr(self, name) for name in PROFILE_FIELDS}

    def select(self, steps: slice | np.ndarray | list[int]) -> Profiles:
        """Profiles of a subset of steps (positions), e.g. ``slice(0, 672)`` for a week."""
        pos = np.arange(self.n_steps)[steps]
        idx = self.time_utc[pos]
        return Profiles(
            time_utc=idx, source=self.source, **{n: f.iloc[pos] for n, f in self.frames().items()}
        )

    def replace(self, **frames: Any) -> Profiles:
        """A copy with some frames replaced (same time axis)."""
        return dataclasses.replace(self, **frames)


@dataclass(frozen=True)
class NetworkModel:
    """A network: a pandapower net (never mutated) and optional profiles.

    Build it with :func:`load_simbench`, :func:`load_pandapower_json`,
    :func:`load_matpower` or :func:`from_net` (which deep-copies the given net).
    Treat ``net`` as read-only: use :meth:`copy_net` to get a net you may change.

    Attributes
    ----------
    net : pandapowerNet
        The grid. pandapower units: ``p_mw``, ``q_mvar``, ``vn_kv`` ...
    profiles : Profiles or None
        Time profiles of the elements, if any.
    name : str
        Grid name (SimBench code, file stem).
    source : str
        Where it came from, for messages.
    notes : tuple of str
        Remarks made while loading (e.g. defaults assumed).
    """

    net: Any
    profiles: Profiles | None = None
    name: str = "grid"
    source: str = "<memory>"
    notes: tuple[str, ...] = field(default=())

    def copy_net(self) -> Any:
        """A deep copy of the pandapower net, safe to change."""
        return copy.deepcopy(self.net)

    def with_profiles(self, profiles: Profiles | None) -> NetworkModel:
        """The same grid with other profiles."""
        return dataclasses.replace(self, profiles=profiles)


def from_net(
    net: Any, profiles: Profiles | None = None, name: str | None = None, source: str = "<memory>"
) -> NetworkModel:
    """Wrap a pandapower net (deep-copied, so later changes to ``net`` do not leak in)."""
    if not hasattr(net, "bus") or not isinstance(getattr(net, "bus", None), pd.DataFrame):
        msg = f"{source}: not a pandapower net (no 'bus' table)"
        raise InputError(msg)
    label = name if name is not None else (str(net.name) if getattr(net, "name", "") else "grid")
    return NetworkModel(net=copy.deepcopy(net), profiles=profiles, name=label, source=source)


#: What pandapower's ``from_json`` raises for a file that is not a readable net
#: (``UserWarning`` is raised as an exception for unreadable JSON).
_UNREADABLE_JSON = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    UnicodeDecodeError,
    UserWarning,
)


def load_pandapower_json(path: str | Path, profiles: Profiles | None = None) -> NetworkModel:
    """Load a pandapower net saved with ``pandapower.to_json``.

    Parameters
    ----------
    path : str or Path
        The JSON file.
    profiles : Profiles, optional
        Profiles to attach.
    """
    import pandapower as pp

    p = Path(path)
    if not p.is_file():
        msg = f"{p}: no such file; give the path of a pandapower JSON net (pandapower.to_json)"
        raise InputError(msg)
    hint = "save the net with pandapower.to_json(net, path)"
    try:
        net = pp.from_json(str(p))
    except _UNREADABLE_JSON as exc:
        # pandapower raises UserWarning (as an exception) for unreadable JSON, and an
        # AttributeError for JSON that is not a net (e.g. a plain object or list)
        msg = f"{p}: not a readable pandapower JSON net ({type(exc).__name__}: {exc}); {hint}"
        raise InputError(msg) from exc
    if not isinstance(getattr(net, "get", lambda _k: None)("bus"), pd.DataFrame):
        msg = f"{p}: the JSON is not a pandapower net (it has no bus table); {hint}"
        raise InputError(msg)
    from gridtwin.network._net_check import check_net_shape

    check_net_shape(net, str(p))
    return NetworkModel(net=net, profiles=profiles, name=p.stem, source=str(p))


def load_matpower(path: str | Path, f_hz: float = 50.0) -> NetworkModel:
    """Load a MATPOWER case (``.mat``) with pandapower's converter.

    MATPOWER ``.m`` scripts need the optional ``matpowercaseframes`` package, which
    gridtwin does not depend on: save the case as ``.mat`` (MATPOWER ``savecase``).
    MATPOWER generators become pandapower ``gen`` (PV buses), which the time-series
    engine does not support; :func:`gridtwin.network.validate` reports them.

    Parameters
    ----------
    path : str or Path
        The ``.mat`` file holding a variable ``mpc``.
    f_hz : float
        System frequency [Hz].
    """
    from pandapower.converter.matpower import from_mpc

    p = Path(path)
    if p.suffix.lower() != ".mat":
        msg = (
            f"{p}: only MATPOWER .mat files are read; save the case with MATPOWER's "
            "savecase('case.mat', mpc) or convert it with pandapower"
        )
        raise InputError(msg)
    if not p.is_file():
        msg = f"{p}: no such file"
        raise InputError(msg)
    try:
        with warnings.catch_warnings():
            # pandapower 3.5.6's converter assigns into an int column (pandas FutureWarning)
            warnings.filterwarnings(
                "ignore", message="Setting an item of incompatible dtype", category=FutureWarning
            )
            net = from_mpc(str(p), f_hz=f_hz)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        msg = f"{p}: not a readable MATPOWER case: {exc}"
        raise InputError(msg) from exc
    return NetworkModel(net=net, name=p.stem, source=str(p))


def _available_memory_bytes() -> int | None:
    """Memory the system can still give this process [bytes] (Linux ``MemAvailable``;
    None where it cannot be read)."""
    try:
        with Path("/proc/meminfo").open(encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _check_profile_memory(code: str, net: Any) -> None:
    """Refuse a SimBench grid whose year of profiles cannot fit in memory, instead of
    being killed by the system half-way (the largest ``-all`` grids need ~47 GB while
    SimBench builds them: two float64 copies of 41,000 elements x 35,136 steps x P, Q)."""
    columns = sum(
        (2 if table != "gen" else 1) * len(net[table])
        for table in ("load", "sgen", "storage", "gen")
        if table in net
    )
    need = 2 * columns * SIMBENCH_STEPS * 8
    have = _available_memory_bytes()
    if have is not None and need > have:
        msg = (
            f"simbench:{code}: a year of its profiles needs about {need / 1e9:.0f} GB of "
            f"memory while loading ({columns:,} element columns x {SIMBENCH_STEPS:,} "
            f"steps, two copies), more than the {have / 1e9:.0f} GB available here; use a "
            "machine with more memory, or a smaller SimBench grid (the '-all' grids join "
            "every voltage level)"
        )
        raise InputError(msg)


def load_simbench(
    code: str, *, profiles: bool = True, cache: bool | str | Path | None = None
) -> NetworkModel:
    """Load a SimBench grid and, by default, its year of absolute 15-min profiles.

    Parameters
    ----------
    code : str
        SimBench code, e.g. ``"1-LV-semiurb4--0-sw"``; the scenario (0 today, 1 = 2024,
        2 = 2034) and the switch variant are part of the code.
    profiles : bool
        Attach the element profiles (35,136 quarter hours of 2016, labelled from
        2016-01-01 00:00 UTC, see :func:`simbench_time_index`).
    cache : bool, str, Path or None
        Disk cache of the converted grid and profiles: ``None`` or ``True`` use the user
        cache folder (``$GRIDTWIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/gridtwin`` or
        ``~/.cache/gridtwin``; ``GRIDTWIN_CACHE_DIR=off`` disables it), a path uses that
        folder, ``False`` reads SimBench's CSV files every time. A damaged entry is rebuilt
        and an unwritable folder means no cache; both are said in ``notes``.

    Notes
    -----
    The data ship inside the ``simbench`` wheel (no network access); reading a grid from
    its CSV files takes a few seconds, from the cache a fraction of that. SimBench data
    are licensed ODbL. SimBench transformers have no ``vector_group``: the simulation
    assumes Dyn with the clock from ``shift_degree`` and :func:`gridtwin.network.validate`
    warns about it.
    """
    from gridtwin.network import _simbench_cache

    def read_source() -> Any:
        import simbench as sb

        try:
            return sb.get_simbench_net(code)
        except (ValueError, KeyError, IndexError) as exc:
            msg = f"unknown SimBench code {code!r}: {exc}. Codes look like '1-LV-semiurb4--0-sw'"
            raise InputError(msg) from exc

    def make_profiles(net: Any) -> Profiles:
        import simbench as sb

        _check_profile_memory(code, net)
        raw = sb.get_absolute_values(net, profiles_instead_of_study_cases=True)
        lengths = {len(v) for v in raw.values() if v.shape[1] > 0}
        n_steps = lengths.pop() if len(lengths) == 1 else SIMBENCH_STEPS
        idx = simbench_time_index(n_steps)
        frames: dict[str, pd.DataFrame] = {}
        for name, key in PROFILE_FIELDS.items():
            frame = raw.get(key)
            if frame is not None and frame.shape[1] > 0:
                frames[name] = pd.DataFrame(
                    frame.to_numpy(dtype=np.float64),
                    index=idx,
                    columns=pd.Index(frame.columns, dtype=np.int64),
                )
        return Profiles.from_frames(idx, source=f"simbench:{code}", **frames)

    net, prof, notes = _simbench_cache.load(
        code,
        cache,
        profiles=profiles,
        read_source=read_source,
        make_profiles=make_profiles,
        build_profiles=Profiles,
    )
    return NetworkModel(
        net=net, profiles=prof, name=code, source=f"simbench:{code}", notes=tuple(notes)
    )


def static_profiles(
    model: NetworkModel,
    start_utc: str | pd.Timestamp = "2000-01-01T00:00Z",
    periods: int = 1,
    step: str | pd.Timedelta = "15min",
) -> Profiles:
    """Constant profiles at the net's own set-points (``p_mw``, ``q_mvar`` of loads, sgens,
    storage): a snapshot power flow is ``simulate(model, static_profiles(model))``.

    Parameters
    ----------
    model : NetworkModel
        The grid.
    start_utc : str or Timestamp
        Label of the first step (UTC; a naive value is read as UTC).
    periods : int
        Number of identical steps.
    step : str or Timedelta
        Step length.
    """
    ts = pd.Timestamp(start_utc)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    idx = pd.date_range(ts, periods=periods, freq=pd.Timedelta(step), name="time_utc")
    frames: dict[str, pd.DataFrame] = {}
    for name, (table, col) in PROFILE_FIELDS.items():
        df = model.net.get(table, None)
        if table == "gen" or df is None or not len(df) or col not in df:
            continue
        values = np.broadcast_to(df[col].to_numpy(dtype=np.float64), (periods, len(df)))
        frames[name] = pd.DataFrame(
            values.copy(), index=idx, columns=pd.Index(df.index, dtype=np.int64)
        )
    return Profiles.from_frames(idx, source=f"{model.source} (static set-points)", **frames)


def _check_mapping(
    model: NetworkModel, data: IntervalData, mapping: Mapping[str, int], power_factor: float
) -> None:
    """A usable power factor, and meter ids and load indices that exist."""
    if not 0.0 < power_factor <= 1.0 or math.isnan(power_factor):
        msg = f"power_factor must be in (0, 1]; got {power_factor}"
        raise InputError(msg)
    unknown_meters = sorted(m for m in mapping if m not in set(data.meter_ids))
    loads = model.net.load.index
    unknown_loads = sorted({int(v) for v in mapping.values()} - {int(i) for i in loads})
    if unknown_meters or unknown_loads:
        parts = []
        if unknown_meters:
            parts.append(f"meter id(s) not in {data.source}: {unknown_meters[:10]}")
        if unknown_loads:
            parts.append(f"load index(es) not in the net's load table: {unknown_loads[:10]}")
        msg = "profiles_from_meters: " + "; ".join(parts) + ". Fix the mapping meter -> load."
        raise InputError(msg)


def _metered_loads(
    sub: IntervalData, meters: list[str], mapping: Mapping[str, int], power_factor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mapped loads and their average power per interval: ``(loads, p_mw, q_mvar)``
    (steps x loads), the energy of their meters summed."""
    step_h = sub.step / pd.Timedelta(hours=1)
    target = np.array([int(mapping[m]) for m in meters], dtype=np.int64)
    cols = np.unique(target)
    # sum meters per load with one sparse-like matrix product: (T x meters) @ (meters x loads)
    agg = np.zeros((len(meters), len(cols)))
    agg[np.arange(len(meters)), np.searchsorted(cols, target)] = 1.0
    p_mw = (sub.energy_kwh.T @ agg) / 1000.0 / step_h
    q_mvar = p_mw * math.tan(math.acos(power_factor))
    return cols, p_mw, q_mvar


def _frames_at(model: NetworkModel, idx: pd.DatetimeIndex) -> dict[str, pd.DataFrame]:
    """The model's profile frames at the timestamps ``idx`` (none without profiles)."""
    base = model.profiles
    if base is None:
        return {}
    missing = idx.difference(base.time_utc)
    if len(missing):
        msg = (
            f"profiles_from_meters: {len(missing)} meter timestamp(s) are not in the "
            f"model's profiles ({base.source}), e.g. {missing[0].isoformat()}; the "
            "profiles must cover the metered period on the same step"
        )
        raise InputError(msg)
    pos = base.time_utc.get_indexer(idx)
    return {n: f.iloc[pos].set_axis(idx, axis=0) for n, f in base.frames().items()}


def profiles_from_meters(
    model: NetworkModel, data: IntervalData, mapping: Mapping[str, int], power_factor: float = 0.97
) -> Profiles:
    """Drive loads with metered energy: kWh per interval -> average MW and Mvar.

    Parameters
    ----------
    model : NetworkModel
        The grid; its profiles (if any) give the values of unmapped loads.
    data : IntervalData
        Metered energy [kWh per interval], consumer frame (import positive).
    mapping : Mapping[str, int]
        Point of delivery: meter id -> pandapower ``load`` index. Several meters may
        feed one load (their energies add up).
    power_factor : float
        Constant power factor in (0, 1], lagging: ``q = p * tan(acos(pf))`` with the
        sign of ``p`` (an exporting interval gets a negative ``q``).

    Returns
    -------
    Profiles
        On the meters' time axis. Mapped loads get ``p_mw = kWh / 1000 / step_h`` and
        ``q_mvar`` from the power factor; other loads keep the model's profile values at
        those timestamps (or have no column if the model has no profiles).

    Raises
    ------
    InputError
        Unknown meter ids or load indices, a bad power factor, or a time axis that the
        model's profiles do not cover.
    DataQualityError
        A mapped meter has missing intervals (NaN): gaps are never zero-filled.
    """
    _check_mapping(model, data, mapping, power_factor)
    meters = list(mapping)
    sub = data.select(meters)
    if np.isnan(sub.energy_kwh).any():
        try:
            sub.check_complete()
        except DataQualityError as exc:
            msg = f"profiles_from_meters: {exc}"
            raise DataQualityError(msg) from exc
    cols, p_mw, q_mvar = _metered_loads(sub, meters, mapping, power_factor)
    idx = pd.DatetimeIndex(sub.start_utc, name="time_utc")
    frames = _frames_at(model, idx)
    for name, values in (("load_p_mw", p_mw), ("load_q_mvar", q_mvar)):
        old = frames.get(name, _empty_frame(idx))
        keep = old.drop(columns=[c for c in cols if c in old.columns])
        new = pd.DataFrame(values, index=idx, columns=pd.Index(cols, dtype=np.int64))
        frames[name] = pd.concat([keep, new], axis=1).sort_index(axis=1)
    return Profiles.from_frames(idx, source=f"meters:{data.source}", **frames)


@dataclass(frozen=True)
class NetworkInfo:
    """A summary of a network model (see :func:`info`).

    Attributes
    ----------
    name : str
        Grid name.
    element_counts : dict[str, int]
        Rows per non-empty pandapower element table.
    in_service_counts : dict[str, int]
        In-service rows per table (tables with an ``in_service`` column).
    voltage_levels_kv : tuple of float
        Distinct bus nominal voltages [kV], descending.
    installed_load_p_mw : float
        Sum of in-service ``load.p_mw * scaling`` [MW] (the static set-points).
    installed_sgen_p_mw : float
        Sum of in-service ``sgen.p_mw * scaling`` [MW].
    installed_storage_p_mw : float
        Sum of in-service ``storage.p_mw * scaling`` [MW].
    open_switches : int
        Switches with ``closed == False``.
    profile_start_utc, profile_end_utc : pandas.Timestamp or None
        First step start and end (exclusive) of the profiles.
    profile_steps : int
        Number of profile steps (0 without profiles).
    peak_load_p_mw : float
        Maximum over time of the summed load profile ``p * scaling`` [MW] (NaN without
        profiles).
    """

    name: str
    element_counts: dict[str, int]
    in_service_counts: dict[str, int]
    voltage_levels_kv: tuple[float, ...]
    installed_load_p_mw: float
    installed_sgen_p_mw: float
    installed_storage_p_mw: float
    open_switches: int
    profile_start_utc: pd.Timestamp | None
    profile_end_utc: pd.Timestamp | None
    profile_steps: int
    peak_load_p_mw: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        out = dataclasses.asdict(self)
        for key in ("profile_start_utc", "profile_end_utc"):
            value = out[key]
            out[key] = None if value is None else value.isoformat()
        return out


#: pandapower element tables reported by :func:`info` (others are internal).
ELEMENT_TABLES = (
    "bus",
    "line",
    "trafo",
    "trafo3w",
    "switch",
    "load",
    "sgen",
    "storage",
    "gen",
    "ext_grid",
    "shunt",
    "impedance",
    "ward",
    "xward",
    "dcline",
    "asymmetric_load",
    "asymmetric_sgen",
    "motor",
    "svc",
    "tcsc",
    "ssc",
    "vsc",
)


def _installed(net: Any, table: str) -> float:
    df = net.get(table, None)
    if df is None or len(df) == 0:
        return 0.0
    ins = df["in_service"].to_numpy(dtype=bool)
    scaling = df["scaling"].to_numpy(dtype=float) if "scaling" in df else np.ones(len(df))
    return float(np.nansum(df["p_mw"].to_numpy(dtype=float)[ins] * scaling[ins]))


def info(model: NetworkModel) -> NetworkInfo:
    """Summarise a model: element counts, voltage levels, installed power, profile span."""
    net = model.net
    counts: dict[str, int] = {}
    in_service: dict[str, int] = {}
    for table in ELEMENT_TABLES:
        if table in net and isinstance(net[table], pd.DataFrame) and len(net[table]):
            counts[table] = len(net[table])
            if "in_service" in net[table]:
                in_service[table] = int(net[table]["in_service"].astype(bool).sum())
    levels = tuple(sorted({float(v) for v in net.bus["vn_kv"].dropna()}, reverse=True))
    prof = model.profiles
    peak = math.nan
    start = end = None
    steps = 0
    if prof is not None and prof.n_steps:
        steps = prof.n_steps
        start = pd.Timestamp(prof.time_utc[0])
        end = start + prof.step * steps if steps >= 2 else None
        lp = prof.load_p_mw
        if lp.shape[1]:
            cols = [c for c in lp.columns if c in net.load.index]
            scale = net.load["scaling"].reindex(cols).to_numpy(dtype=float)
            ins = net.load["in_service"].reindex(cols).to_numpy(dtype=bool)
            peak = float(np.max(lp[cols].to_numpy() @ (scale * ins)))
    n_open = int((~net.switch["closed"].astype(bool)).sum()) if len(net.switch) else 0
    return NetworkInfo(
        name=model.name,
        element_counts=counts,
        in_service_counts=in_service,
        voltage_levels_kv=levels,
        installed_load_p_mw=_installed(net, "load"),
        installed_sgen_p_mw=_installed(net, "sgen"),
        installed_storage_p_mw=_installed(net, "storage"),
        open_switches=n_open,
        profile_start_utc=start,
        profile_end_utc=end,
        profile_steps=steps,
        peak_load_p_mw=peak,
    )
