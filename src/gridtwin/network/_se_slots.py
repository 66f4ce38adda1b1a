"""The slots of :mod:`gridtwin.network.estimation`: one per possible reading, their
validation, the appliance map, the PGM model with its sensors, and small helpers.

power-grid-model and scipy are imported by the functions that use them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError
from gridtwin.network._se_readings import (
    ChiSquareTest,
    FlowReadings,
    Measurements,
    PowerReadings,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

if TYPE_CHECKING:
    from gridtwin.network._pgm import PgmNetwork
    from gridtwin.network._se_model import Grid, Rows


TABLES = ("load", "sgen")
S_BASE_VA = 1e6  # the per-unit base of _se_model: 1 pu = 1 MW
OUTPUT = {
    "node": ["u_pu", "u_angle", "energized"],
    "line": ["p_from", "q_from", "p_to", "q_to", "i_from", "i_to"],
    "transformer": ["p_from", "q_from", "p_to", "q_to", "i_from", "i_to"],
    "sym_load": ["p", "q"],
    "sym_gen": ["p", "q"],
}
SIDES = {"line": ("from", "to"), "trafo": ("hv", "lv")}


@dataclass(frozen=True)
class Layout:
    """Where every possible reading sits: one slot per bus voltage, per load and sgen,
    per branch end (lines from, lines to, trafos hv, trafos lv), in that order."""

    bus: IntArray
    load: IntArray
    sgen: IntArray
    line: IntArray
    trafo: IntArray

    @property
    def n_bus(self) -> int:
        return len(self.bus)

    @property
    def n_app(self) -> int:
        return len(self.load) + len(self.sgen)

    @property
    def n_end(self) -> int:
        return 2 * (len(self.line) + len(self.trafo))

    def app_offset(self, table: str) -> int:
        return 0 if table == "load" else len(self.load)

    def end_offset(self, table: str, side_k: int) -> int:
        nl = len(self.line)
        return side_k * nl if table == "line" else 2 * nl + side_k * len(self.trafo)

    def describe(self, slot: int) -> tuple[str, int, str]:
        """``(table, element, side)`` of a global slot."""
        if slot < self.n_bus:
            return "bus", int(self.bus[slot]), ""
        k = slot - self.n_bus
        if k < len(self.load):
            return "load", int(self.load[k]), ""
        if k < self.n_app:
            return "sgen", int(self.sgen[k - len(self.load)]), ""
        e = k - self.n_app
        nl, nt = len(self.line), len(self.trafo)
        if e < 2 * nl:
            return "line", int(self.line[e % nl]), SIDES["line"][e // nl]
        e -= 2 * nl
        return "trafo", int(self.trafo[e % nt]), SIDES["trafo"][e // nt]


@dataclass
class Slots:
    """Values [pu = MW, Mvar on 1 MVA] and sigmas (inf: no reading) of every slot."""

    vm: FloatArray
    vm_sigma: FloatArray
    p: FloatArray  # appliances then branch ends
    q: FloatArray
    p_sigma: FloatArray
    q_sigma: FloatArray
    pseudo: BoolArray  # per appliance/branch slot

    @classmethod
    def empty(cls, lay: Layout) -> Slots:
        n = lay.n_app + lay.n_end
        return cls(
            np.zeros(lay.n_bus),
            np.full(lay.n_bus, np.inf),
            np.zeros(n),
            np.zeros(n),
            np.full(n, np.inf),
            np.full(n, np.inf),
            np.zeros(n, dtype=bool),
        )

    def copy(self) -> Slots:
        return Slots(*(np.array(getattr(self, f)) for f in self.__dataclass_fields__))


def check_values(prefix: str, names: tuple[str, ...], arrays: tuple[FloatArray, ...]) -> None:
    """Equal lengths, finite values, sigmas > 0 (the last two names are sigmas)."""
    n = len(arrays[0])
    for name, arr in zip(names, arrays, strict=True):
        if arr.ndim != 1 or len(arr) != n:
            msg = f"{prefix}.{name} has {arr.size} values; {prefix}.{names[0]} has {n}"
            raise InputError(msg)
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            k = int(bad[0])
            msg = (
                f"{prefix}.{name}[{k}] = {arr[k]}: values must be finite numbers; leave a "
                "missing reading out instead of passing NaN"
            )
            raise InputError(msg)
        if "sigma" in name and np.any(arr <= 0):
            k = int(np.flatnonzero(arr <= 0)[0])
            msg = (
                f"{prefix}.{name}[{k}] = {arr[k]}: a standard deviation must be > 0 (the "
                "meter's error, e.g. a third of its accuracy class)"
            )
            raise InputError(msg)


def positions(
    prefix: str, index: IntArray, ids: IntArray, what: str, unique: bool = True
) -> IntArray:
    """Positions of ``ids`` in ``index``; unknown and duplicate ids are errors."""
    sorter = np.argsort(index)
    k = np.searchsorted(index, ids, sorter=sorter) if len(index) else np.zeros(len(ids), int)
    k = np.minimum(k, max(len(index) - 1, 0))
    pos = sorter[k] if len(index) else k
    ok = (index[pos] == ids) if len(index) else np.zeros(len(ids), dtype=bool)
    if not ok.all():
        j = int(np.flatnonzero(~ok)[0])
        msg = (
            f"{prefix}[{j}] = {ids[j]}: not a {what} of the net ({len(index)} {what}s); "
            "use pandapower indices"
        )
        raise InputError(msg)
    uniq, counts = np.unique(pos, return_counts=True)
    if unique and np.any(counts > 1):
        dup = int(index[uniq[counts > 1][0]])
        msg = f"{prefix}: {what} {dup} has more than one reading; pass one per {what}"
        raise InputError(msg)
    return np.asarray(pos, dtype=np.int64)


def fill(lay: Layout, slots: Slots, m: Measurements, prefix: str, pseudo: bool) -> None:
    """Write the readings of ``m`` into ``slots`` (``pseudo``: only where there is no
    reading yet)."""
    if m.vm is not None and not pseudo:
        r = m.vm
        check_values(f"{prefix}.vm", ("vm_pu", "sigma_pu"), (r.vm_pu, r.sigma_pu))
        pos = positions(f"{prefix}.vm.bus", lay.bus, r.bus, "bus")
        slots.vm[pos], slots.vm_sigma[pos] = r.vm_pu, r.sigma_pu
    names = ("p_mw", "q_mvar", "sigma_p_mw", "sigma_q_mvar")
    for table in TABLES:
        pr: PowerReadings | None = getattr(m, table)
        if pr is None:
            continue
        check_values(f"{prefix}.{table}", names, tuple(getattr(pr, n) for n in names))
        pos = positions(f"{prefix}.{table}.element", getattr(lay, table), pr.element, table)
        pos = pos + lay.app_offset(table)
        if pseudo:
            free = ~np.isfinite(slots.p_sigma[pos])
            pos, sel = pos[free], free
        else:
            sel = np.ones(len(pos), dtype=bool)
        write(slots, pos, pr.p_mw[sel], pr.q_mvar[sel], pr.sigma_p_mw[sel], pr.sigma_q_mvar[sel])
        slots.pseudo[pos] = pseudo
    if not pseudo:
        for table in ("line", "trafo"):
            fill_flows(lay, slots, getattr(m, table), f"{prefix}.{table}", table)


def write(slots: Slots, pos: IntArray, *values: FloatArray) -> None:
    slots.p[pos], slots.q[pos], slots.p_sigma[pos], slots.q_sigma[pos] = values


def fill_flows(lay: Layout, slots: Slots, fr: FlowReadings | None, prefix: str, table: str) -> None:
    if fr is None:
        return
    names = ("p_mw", "q_mvar", "sigma_p_mw", "sigma_q_mvar")
    check_values(prefix, names, tuple(getattr(fr, n) for n in names))
    if len(fr.side) != len(fr.element):
        msg = f"{prefix}.side has {len(fr.side)} values; {prefix}.element has {len(fr.element)}"
        raise InputError(msg)
    sides = SIDES[table]
    bad = np.flatnonzero(~np.isin(fr.side, sides))
    if bad.size:
        k = int(bad[0])
        msg = f"{prefix}.side[{k}] = {str(fr.side[k])!r}: use {sides[0]!r} or {sides[1]!r}"
        raise InputError(msg)
    index = getattr(lay, table)
    positions(f"{prefix}.element", index, fr.element, table, unique=False)
    side_k = np.where(fr.side == sides[0], 0, 1)
    # position in [lines or trafos at side 0, then at side 1] = the slots' end order
    ends = np.r_[index * 2, index * 2 + 1]
    pos = positions(f"{prefix}.element", ends, fr.element * 2 + side_k, f"{table} end")
    pos = lay.n_app + lay.end_offset(table, 0) + pos
    write(slots, pos, fr.p_mw, fr.q_mvar, fr.sigma_p_mw, fr.sigma_q_mvar)


@dataclass(frozen=True)
class Appliances:
    """Loads and sgens on the state nodes, and the appliances no reading can measure."""

    node: IntArray  # state node per load/sgen slot
    on: BoolArray  # in service (PGM status)
    sign: FloatArray  # -1 load, +1 sgen: to the injection (generator) frame
    fixed_unknown: BoolArray  # per state node: a source, storage or asymmetric element
    has_any: BoolArray  # per state node: any in-service appliance
    fixed_labels: dict[int, list[str]]


def appliances(g: PgmNetwork, grid: Grid, lay: Layout) -> Appliances:
    """The appliance map of a converted net (built once)."""
    from power_grid_model import ComponentType as Ct

    from gridtwin.network._se_model import node_positions

    pos = node_positions(g)
    n_load, n_sgen = len(lay.load), len(lay.sgen)
    fixed_unknown = np.zeros(grid.n_super, dtype=bool)
    has_any = np.zeros(grid.n_super, dtype=bool)
    labels: dict[int, list[str]] = {}
    node = np.zeros(n_load + n_sgen, dtype=np.int64)
    on = np.zeros(n_load + n_sgen, dtype=bool)
    parts = [
        (Ct.sym_load, n_load, 0, ("storage", "asymmetric_load")),
        (Ct.sym_gen, n_sgen, n_load, ("asymmetric_sgen",)),
        (Ct.source, 0, 0, ("ext_grid",)),
    ]
    for ct, n_meas, offset, others in parts:
        arr = g.input_data.get(ct)
        if arr is None:
            continue
        sn = grid.node_super[[pos[int(i)] for i in arr["node"]]]
        st = arr["status"].astype(bool)
        has_any[sn[st]] = True
        node[offset : offset + n_meas], on[offset : offset + n_meas] = sn[:n_meas], st[:n_meas]
        rest = [(t, e) for t in others for e in g.ids[t].index.tolist()]
        for (table, element), k in zip(rest, range(n_meas, len(arr)), strict=True):
            if st[k]:
                fixed_unknown[sn[k]] = True
                labels.setdefault(int(sn[k]), []).append(f"{table} {element}")
    sign = np.r_[-np.ones(n_load), np.ones(n_sgen)]
    return Appliances(node, on, sign, fixed_unknown, has_any, labels)


@dataclass(frozen=True)
class RowSet:
    """Measurement rows of one set of slots and which slots feed which rows."""

    rows: Rows
    real: BoolArray  # per row: carries a real (not pseudo) reading
    p_row: IntArray  # per slot (bus, appliance, end): its P (or vm) row, -1 none
    q_row: IntArray  # per slot: its Q row, -1 none
    unknown: BoolArray  # per state node: injection not measured


def ranges(values: list[int]) -> str:
    """``[12, 13, 14, 17]`` -> ``"12-14, 17"`` (first 12 runs)."""
    vals = sorted(set(values))
    runs: list[str] = []
    start = prev = vals[0] if vals else 0
    for v in [*vals[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    more = f", ... ({len(runs)} runs)" if len(runs) > 12 else ""
    return ", ".join(runs[:12]) + more


@dataclass(frozen=True)
class State:
    out: dict[Any, Any]
    v: npt.NDArray[np.complex128]
    rowset: RowSet
    note: str = ""


@dataclass(frozen=True)
class Analysis:
    r: FloatArray
    rn: FloatArray
    test: ChiSquareTest
    state: State
    slots: Slots


def quantity_name(slot: int, q: int, n_bus: int) -> str:
    return "vm" if slot < n_bus else ("q" if q else "p")


def label(lay: Layout, slot: int, quantity: str) -> str:
    table, element, side = lay.describe(slot)
    return f"{table} {element}" + (f" {side}" if side else "") + f" {quantity}"


def drop(s: Slots, fallback: Slots | None, slot: int, n_bus: int) -> bool:
    """Remove the reading of ``slot``; an appliance takes its pseudo-measurement when
    there is one (returns whether it did)."""
    if slot < n_bus:
        s.vm_sigma[slot] = np.inf
        return False
    k = slot - n_bus
    if fallback is not None and np.isfinite(fallback.p_sigma[k]):
        s.p[k], s.q[k] = fallback.p[k], fallback.q[k]
        s.p_sigma[k], s.q_sigma[k] = fallback.p_sigma[k], fallback.q_sigma[k]
        s.pseudo[k] = True
        return True
    s.p_sigma[k] = s.q_sigma[k] = np.inf
    return False


def chi2_test(j: float, dof: int, alpha: float) -> ChiSquareTest:
    """The chi-square test of ``J`` with ``dof`` degrees of freedom at ``alpha``."""
    from scipy.stats import chi2

    if dof <= 0:
        return ChiSquareTest(j, max(dof, 0), alpha, math.nan, math.nan, True)
    p = float(chi2.sf(j, dof))
    return ChiSquareTest(j, dof, alpha, float(chi2.ppf(1.0 - alpha, dof)), p, p >= alpha)


def ct(name: str) -> Any:
    from power_grid_model import ComponentType

    return ComponentType(name)


def ratings(net: Any) -> dict[str, FloatArray]:
    """Line and transformer ratings for the loading [kA], [kV], [MVA]."""
    line, tr = net.line, net.trafo

    def col(df: Any, name: str, default: float) -> FloatArray:
        if name not in df:
            return np.full(len(df), default)
        return np.asarray(df[name].fillna(default), dtype=np.float64)

    return {
        "i_max_ka": col(line, "max_i_ka", np.nan)
        * col(line, "df", 1.0)
        * col(line, "parallel", 1.0),
        "vn_hv": col(tr, "vn_hv_kv", np.nan),
        "vn_lv": col(tr, "vn_lv_kv", np.nan),
        "rating": col(tr, "sn_mva", np.nan) * col(tr, "parallel", 1.0) * col(tr, "df", 1.0),
    }


def pgm_model(
    g: PgmNetwork, lay: Layout, input_data: dict[Any, Any], node_rep: IntArray
) -> tuple[Any, IntArray, IntArray]:
    """The PGM model of ``input_data`` (``g``'s, linked nodes merged:
    :func:`gridtwin.network._se_model.merged_input`) with one (disabled) sensor per slot,
    and the sensor ids. The voltage sensor of a bus measures the node that carries its
    state (``node_rep``)."""
    from power_grid_model import ComponentType as Ct
    from power_grid_model import DatasetType, MeasuredTerminalType, PowerGridModel, initialize_array

    next_id = 1 + max(int(a["id"].max()) for a in g.input_data.values() if len(a))
    nodes = g.input_data[Ct.node]
    vs = initialize_array(DatasetType.input, Ct.sym_voltage_sensor, len(nodes))
    vs["id"] = next_id + np.arange(len(nodes))
    vs["measured_object"] = nodes["id"][node_rep]
    vs["u_measured"] = nodes["u_rated"][node_rep]
    vs["u_sigma"] = np.inf
    objects = [g.ids[t].pgm_id for t in ("load", "sgen", "line", "line", "trafo", "trafo")]
    mt = MeasuredTerminalType
    terms = (mt.load, mt.generator, mt.branch_from, mt.branch_to, mt.branch_from, mt.branch_to)
    n_ps = lay.n_app + lay.n_end
    ps = initialize_array(DatasetType.input, Ct.sym_power_sensor, n_ps)
    ps["id"] = next_id + len(nodes) + np.arange(n_ps)
    ps["measured_object"] = np.concatenate(objects)
    ps["measured_terminal_type"] = np.concatenate(
        [np.full(len(o), int(t)) for o, t in zip(objects, terms, strict=True)]
    )
    ps["p_measured"], ps["q_measured"] = 0.0, 0.0
    ps["p_sigma"], ps["q_sigma"] = np.inf, np.inf
    data = dict(input_data)
    data[Ct.sym_voltage_sensor], data[Ct.sym_power_sensor] = vs, ps
    model = PowerGridModel(data, system_frequency=g.f_hz)
    return model, vs["id"].astype(np.int64), ps["id"].astype(np.int64)
