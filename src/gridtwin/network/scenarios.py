"""What-if scenarios: electrification of apartments, rooftop PV, SimBench's 2034 pair.

Seed 000: apartments in new high-rise buildings go from a 1-2 kW design load to 6-15 kW
with electric stoves, heat pumps and EV chargers. :func:`electrify` adds those appliances
to a chosen share of household loads as new load elements on the same buses, with
realistic profiles: SimBench's heat-pump (``Air_*``, ``Soil_*``) and home-charging
(``HLS_*``) profiles, and a synthetic cooking profile (SimBench has none). The input model
is never changed; a new model is returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._model import NetworkModel, Profiles, from_net, load_simbench

__all__ = ["ElectrificationSpec", "ScenarioChange", "add_pv", "electrify", "simbench_pair"]

FloatArray = npt.NDArray[np.float64]

HEAT_PUMP_PROFILES = (
    "Air_Alternative_1",
    "Air_Parallel_1",
    "Air_Semi-Parallel_1",
    "Air_Alternative_2",
    "Air_Parallel_2",
    "Air_Semi-Parallel_2",
    "Soil_Alternative_1",
    "Soil_Alternative_2",
)
EV_PROFILES = {
    3.7: ("HLS_A_3.7", "HLS_B_3.7", "HLS_C_3.7"),
    11.0: ("HLS_A_11.0", "HLS_B_11.0"),
    22.0: ("HLS_A_22.0",),
}
PV_PROFILES = ("PV1", "PV2", "PV3", "PV4", "PV5", "PV6", "PV7", "PV8")
#: Columns of :attr:`ScenarioChange.added`.
_ADDED_COLUMNS = ["element", "index", "bus", "kind", "rated_kw", "profile", "of_load"]


@dataclass(frozen=True)
class ElectrificationSpec:
    """How apartments are electrified.

    Attributes
    ----------
    share : float
        Share of household loads electrified, 0..1.
    stove_kw : float
        Rated power of an electric stove and oven [kW] (every electrified apartment).
    heat_pump_kw : float
        Rated electrical power of a heat pump [kW].
    heat_pump_share : float
        Share of electrified apartments with a heat pump.
    ev_kw : float
        Rated power of a home EV charger [kW]; the SimBench home-charging profiles of the
        nearest rating (3.7, 11 or 22 kW) are used, rescaled.
    ev_share : float
        Share of electrified apartments with an EV charger.
    power_factor : float
        Power factor of heat pumps and chargers (stoves are resistive).
    seed : int
        Random seed of the choices (which apartments, which profile).
    """

    share: float
    stove_kw: float = 6.0
    heat_pump_kw: float = 3.0
    heat_pump_share: float = 0.5
    ev_kw: float = 3.7
    ev_share: float = 0.3
    power_factor: float = 0.97
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("share", "heat_pump_share", "ev_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                msg = f"ElectrificationSpec.{name}={value} must be between 0 and 1"
                raise InputError(msg)
        for name in ("stove_kw", "heat_pump_kw", "ev_kw"):
            if getattr(self, name) < 0:
                msg = f"ElectrificationSpec.{name} must be >= 0 kW"
                raise InputError(msg)
        if not 0.5 <= self.power_factor <= 1.0:
            msg = f"power_factor={self.power_factor} must be between 0.5 and 1"
            raise InputError(msg)

    @property
    def design_kw_range(self) -> tuple[float, float]:
        """Smallest and largest added design load of an apartment [kW]."""
        return self.stove_kw, self.stove_kw + self.heat_pump_kw + self.ev_kw


@dataclass(frozen=True)
class ScenarioChange:
    """What a scenario added: one row per new element."""

    name: str
    added: pd.DataFrame  # columns: element, index, bus, kind, rated_kw, profile, of_load
    notes: tuple[str, ...] = field(default=())


@cache
def _simbench_profiles(kind: str) -> pd.DataFrame:
    """SimBench's normalised year profiles (35,136 quarter hours of 2016)."""
    import simbench as sb

    return sb.get_all_simbench_profiles(0)[kind]  # type: ignore[no-any-return]


def _normalised(kind: str, name: str, n_steps: int) -> FloatArray:
    frame = _simbench_profiles(kind)
    column = f"{name}_pload" if kind == "load" else name
    if column not in frame.columns:
        msg = f"SimBench has no {kind} profile {name!r}"
        raise InputError(msg)
    values = frame[column].to_numpy(dtype=np.float64)
    if n_steps > len(values):
        msg = (
            f"SimBench profiles have {len(values)} steps; the model's profiles have "
            f"{n_steps}: appliance profiles need the SimBench year (15-min, 2016)"
        )
        raise InputError(msg)
    return np.asarray(values[:n_steps] / max(float(values.max()), 1e-12), dtype=np.float64)


def cooking_profile(
    time_utc: pd.DatetimeIndex, rng: np.random.Generator, tz: str = "Europe/Berlin"
) -> FloatArray:
    """Synthetic stove use, share of rated power per step (0..1).

    Lunch on 40 % of weekdays and 80 % of weekend days (start 11:30-13:00, 30-60 min),
    dinner on 90 % of days (start 17:30-19:30, 45-90 min), at 40-80 % of rated power
    (several plates and the oven cycling). Local time with DST.
    """
    local = time_utc.tz_convert(tz)
    minute = (local.hour * 60 + local.minute).to_numpy()
    day = np.asarray(
        (local.normalize().tz_localize(None) - local[0].normalize().tz_localize(None)).days,
        dtype=np.int64,
    )
    n_days = int(day.max()) + 1
    weekend = np.zeros(n_days, dtype=bool)
    weekend[day] = local.dayofweek.to_numpy() >= 5
    out = np.zeros(len(time_utc))
    for start_lo, start_hi, dur_lo, dur_hi, p_wd, p_we in (
        (690, 780, 30, 60, 0.4, 0.8),
        (1050, 1170, 45, 90, 0.9, 0.9),
    ):
        happens = rng.random(n_days) < np.where(weekend, p_we, p_wd)
        start = rng.uniform(start_lo, start_hi, n_days)
        duration = rng.uniform(dur_lo, dur_hi, n_days)
        level = rng.uniform(0.4, 0.8, n_days)
        on = happens[day] & (minute >= start[day]) & (minute < start[day] + duration[day])
        out = np.maximum(out, np.where(on, level[day], 0.0))
    return out


def _households(net: Any) -> npt.NDArray[np.int64]:
    """Household loads: SimBench profile H0-* when known, else loads up to 30 kW."""
    load = net.load[net.load["in_service"].astype(bool)]
    if "profile" in load.columns and load["profile"].astype(str).str.startswith("H0").any():
        mask = load["profile"].astype(str).str.startswith("H0")
    else:
        mask = load["p_mw"] <= 0.03
    return np.asarray(load.index[mask], dtype=np.int64)


def electrify(
    model: NetworkModel, spec: ElectrificationSpec
) -> tuple[NetworkModel, ScenarioChange]:
    """Add stoves, heat pumps and EV chargers to a share of the household loads.

    Returns the new model (new load elements on the same buses, with profiles) and a
    table of what was added. Requires profiles on the SimBench year (15-min, 2016).
    """
    if model.profiles is None:
        msg = f"{model.name}: electrify needs the model's profiles (load a SimBench grid)"
        raise InputError(msg)
    prof = model.profiles
    net = model.copy_net()
    households = _households(net)
    rng = np.random.default_rng(spec.seed)
    chosen = (
        np.sort(rng.choice(households, size=round(spec.share * len(households)), replace=False))
        if len(households)
        else households
    )
    tan_phi = math.tan(math.acos(spec.power_factor))
    new = _NewLoads(next_index=int(net.load.index.max()) + 1 if len(net.load) else 0)
    for load_id in chosen:
        bus = int(net.load.at[load_id, "bus"])
        _add_appliances(net, load_id, bus, _appliances(spec, prof, rng, tan_phi), new)
    profiles = _extend(prof, "load", new.p, new.q)
    added = pd.DataFrame(new.rows, columns=_ADDED_COLUMNS)
    notes = (
        f"electrified {len(chosen)} of {len(households)} household loads "
        f"(design load {spec.design_kw_range[0]:g}-{spec.design_kw_range[1]:g} kW added "
        "per apartment)",
    )
    new_model = from_net(net, profiles, name=f"{model.name}+electrified", source=model.source)
    return new_model, ScenarioChange("electrification", added, notes)


@dataclass(frozen=True)
class _Appliance:
    """One appliance of an electrified apartment."""

    kind: str  # stove, heat_pump, ev_charger
    rated_kw: float
    profile: str  # name of the profile (SimBench's, or the synthetic cooking one)
    shape: FloatArray  # share of rated power per step (0..1)
    tan_phi: float  # reactive / active power


@dataclass
class _NewLoads:
    """The load elements added so far: rows of the change table and P, Q profiles."""

    next_index: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    p: dict[int, FloatArray] = field(default_factory=dict)
    q: dict[int, FloatArray] = field(default_factory=dict)


def _appliances(
    spec: ElectrificationSpec, prof: Profiles, rng: np.random.Generator, tan_phi: float
) -> list[_Appliance]:
    """The stove of one apartment and, drawn by chance, its heat pump and EV charger."""
    kinds = [
        _Appliance(
            "stove",
            spec.stove_kw,
            "cooking (synthetic)",
            cooking_profile(prof.time_utc, rng),
            0.0,
        )
    ]
    if rng.random() < spec.heat_pump_share:
        name = str(rng.choice(HEAT_PUMP_PROFILES))
        kinds.append(
            _Appliance(
                "heat_pump",
                spec.heat_pump_kw,
                name,
                _normalised("load", name, prof.n_steps),
                tan_phi,
            )
        )
    if rng.random() < spec.ev_share:
        rating = min(EV_PROFILES, key=lambda r: abs(r - spec.ev_kw))
        name = str(rng.choice(EV_PROFILES[rating]))
        kinds.append(
            _Appliance(
                "ev_charger", spec.ev_kw, name, _normalised("load", name, prof.n_steps), tan_phi
            )
        )
    return kinds


def _add_appliances(
    net: Any, load_id: Any, bus: int, appliances: list[_Appliance], new: _NewLoads
) -> None:
    """Add each appliance as a copy of household load ``load_id`` (in place on ``net``)."""
    for appliance in appliances:
        kind, kw, profile = appliance.kind, appliance.rated_kw, appliance.profile
        shape, tq = appliance.shape, appliance.tan_phi
        if kw <= 0:
            continue
        idx = new.next_index
        new.next_index += 1
        net.load.loc[idx] = net.load.loc[load_id]
        net.load.loc[idx, ["name", "p_mw", "q_mvar"]] = [
            f"{net.load.at[load_id, 'name']} {kind}",
            kw / 1000.0,
            kw / 1000.0 * tq,
        ]
        new.p[idx] = shape * kw / 1000.0
        new.q[idx] = shape * kw / 1000.0 * tq
        new.rows.append(
            {
                "element": "load",
                "index": idx,
                "bus": bus,
                "kind": kind,
                "rated_kw": kw,
                "profile": profile,
                "of_load": int(load_id),
            }
        )


def add_pv(
    model: NetworkModel,
    *,
    buses: list[int] | None = None,
    share: float = 0.5,
    kwp: float = 5.0,
    profile: str = "PV3",
    seed: int = 0,
) -> tuple[NetworkModel, ScenarioChange]:
    """Add rooftop PV (static generators) at the given buses or at a share of load buses."""
    if model.profiles is None:
        msg = f"{model.name}: add_pv needs the model's profiles (load a SimBench grid)"
        raise InputError(msg)
    if profile not in PV_PROFILES:
        msg = f"unknown PV profile {profile!r}; SimBench has {list(PV_PROFILES)}"
        raise InputError(msg)
    net = model.copy_net()
    buses = _pv_buses(net, buses, share, seed)
    shape = _normalised("renewables", profile, model.profiles.n_steps)
    rows, new_p = _add_pv_sgens(net, buses, kwp, profile, shape)
    profiles = _extend(model.profiles, "sgen", new_p, {k: 0.0 * v for k, v in new_p.items()})
    added = pd.DataFrame(rows, columns=_ADDED_COLUMNS)
    new_model = from_net(net, profiles, name=f"{model.name}+pv", source=model.source)
    return new_model, ScenarioChange("pv", added, (f"{len(buses)} PV systems of {kwp:g} kWp",))


def _pv_buses(net: Any, buses: list[int] | None, share: float, seed: int) -> list[int]:
    """The given buses (checked), or a random ``share`` of the household buses."""
    if buses is None:
        load_buses = np.unique(net.load.loc[_households(net), "bus"].to_numpy())
        rng = np.random.default_rng(seed)
        buses = sorted(
            int(b)
            for b in rng.choice(load_buses, size=round(share * len(load_buses)), replace=False)
        )
    unknown = [b for b in buses if b not in net.bus.index]
    if unknown:
        msg = f"add_pv: unknown bus id(s) {unknown[:5]}"
        raise InputError(msg)
    return buses


def _add_pv_sgens(
    net: Any, buses: list[int], kwp: float, profile: str, shape: FloatArray
) -> tuple[list[dict[str, Any]], dict[int, FloatArray]]:
    """One PV sgen of ``kwp`` per bus (in place on ``net``): change-table rows, P profiles."""
    import pandapower as pp

    rows, new_p = [], {}
    for bus in buses:
        idx = int(
            pp.create_sgen(
                net,
                bus,
                p_mw=kwp / 1000.0,
                q_mvar=0.0,
                sn_mva=kwp / 1000.0,  # inverter rated at the peak power
                name=f"rooftop PV bus {bus}",
                type="PV",
            )
        )
        new_p[idx] = shape * kwp / 1000.0
        rows.append(
            {
                "element": "sgen",
                "index": idx,
                "bus": bus,
                "kind": "pv",
                "rated_kw": kwp,
                "profile": profile,
                "of_load": -1,
            }
        )
    return rows, new_p


def _extend(
    prof: Profiles, element: str, p: dict[int, FloatArray], q: dict[int, FloatArray]
) -> Profiles:
    p_name, q_name = f"{element}_p_mw", f"{element}_q_mvar"
    p_frame = getattr(prof, p_name)
    q_frame = getattr(prof, q_name)
    if p:
        p_add = pd.DataFrame(p, index=prof.time_utc)
        q_add = pd.DataFrame(q, index=prof.time_utc)
        p_frame = pd.concat([p_frame, p_add], axis=1)
        q_frame = pd.concat([q_frame, q_add], axis=1)
    return prof.replace(**{p_name: p_frame, q_name: q_frame})


def simbench_pair(code: str) -> tuple[NetworkModel, NetworkModel]:
    """SimBench's today (scenario 0) and 2034 (scenario 2) versions of one grid.

    ``code`` is any scenario's code, e.g. ``"1-LV-semiurb4--0-sw"``; scenario 2 adds the
    electrification (heat pumps, EV chargers), PV and storage that SimBench foresees.
    """
    parts = code.split("-")
    if len(parts) < 5 or parts[-2] not in ("0", "1", "2"):
        msg = f"{code!r} is not a SimBench code like '1-LV-semiurb4--0-sw'"
        raise InputError(msg)
    today = "-".join([*parts[:-2], "0", parts[-1]])
    future = "-".join([*parts[:-2], "2", parts[-1]])
    return load_simbench(today), load_simbench(future)
