"""The measurement model behind :mod:`gridtwin.network.estimation` (imported on use).

power-grid-model (PGM) estimates the state; this module re-derives, from the same PGM
input arrays, what the residual analysis needs and PGM does not return: the measurement
functions ``h(x)``, their Jacobian ``H`` at the estimate, the residual covariance
``Omega = R - H E H^T`` and the structural observability check.

Per unit: 1 MVA and each node's ``u_rated``. The branch admittances are PGM's own
(``calc_param_y_sym`` of PGM's ``branch.hpp``, written here from its documented model):
a line is ``y = 1/(r1 + j x1)``, ``y_sh = 2 pi f c1 (tan1 + j)``; a transformer is the
series and shunt admittance of :func:`gridtwin.network._pgm._pgm_pi` on the LV side with
the off-nominal ratio ``k = (u1/u2)/(u1_rated/u2_rated)`` and the clock's phase shift;
both ends connected: ``ytt = y + y_sh/2``, ``yff = ytt/|t|^2``, ``yft = -y/conj(t)``,
``ytf = -y/t``; one end open: the open end's half of the branch hangs as a shunt at the
other. Nodes joined by a ``link`` (a closed bus-bus switch, which PGM models with a huge
admittance) are merged into one state node here, which is the limit of PGM's model, and
PGM is given the same merged model (:func:`merged_input`).

State ``x``: voltage angles of every energised state node but one per island (the
node of that island's source), then the voltage magnitudes of every energised state
node. Measurement rows: voltage magnitudes, bus injections (the sum of the appliances
at a state node, generator frame, as PGM aggregates them) and branch-end flows (power
into the branch). Zero-injection nodes (no appliance) are equality constraints, as in
PGM's Newton-Raphson estimator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from power_grid_model import ComponentType
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from gridtwin.network._pgm import PgmNetwork, _pgm_pi

__all__ = [
    "KIND_P_FLOW",
    "KIND_P_INJ",
    "KIND_Q_FLOW",
    "KIND_Q_INJ",
    "KIND_VM",
    "S_BASE_VA",
    "Grid",
    "Rows",
    "build_grid",
    "evaluate",
    "merged_input",
    "node_positions",
    "omega_diagonal",
    "unobservable_zones",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ComplexArray = npt.NDArray[np.complex128]

#: Base power of the per-unit system [VA]: 1 MVA, so 1 pu of power is 1 MW / 1 Mvar.
S_BASE_VA = 1e6
KIND_VM, KIND_P_INJ, KIND_Q_INJ, KIND_P_FLOW, KIND_Q_FLOW = range(5)
_SHUNT_TOL = 1e-10  # PGM's numerical_tolerance for a branch's shunt admittance


@dataclass(frozen=True)
class Grid:
    """Admittances of a PGM network on merged state nodes [pu].

    Attributes
    ----------
    node_super : numpy.ndarray
        State node of each PGM node (position in ``input_data[node]``).
    n_super : int
        Number of state nodes (nodes joined by links merged).
    energized : numpy.ndarray of bool
        Per state node: connected to an in-service source.
    ref : numpy.ndarray of int
        The angle-reference state node of each energised island (its source's node).
    ybus : scipy.sparse.csr_matrix
        Bus admittance matrix (branches and shunts; sources are appliances) [pu].
    yside : scipy.sparse.csr_matrix
        One row per branch end (lines from, lines to, trafos from, trafos to): the end's
        current is ``yside @ V`` [pu].
    side_node : numpy.ndarray
        State node of each branch end.
    branch_ends : numpy.ndarray, shape (n_branch, 2)
        State nodes of each branch's ends; ``-1`` where that end is open.
    n_line : int
        Lines (the first ``n_line`` rows of ``branch_ends``; transformers follow).
    """

    node_super: IntArray
    n_super: int
    energized: BoolArray
    ref: IntArray
    ybus: sp.csr_matrix
    yside: sp.csr_matrix
    side_node: IntArray
    branch_ends: IntArray
    n_line: int


def node_positions(g: PgmNetwork) -> dict[int, int]:
    """PGM node id -> node position."""
    ids = g.input_data[ComponentType.node]["id"]
    return {int(i): k for k, i in enumerate(ids)}


def _ends(arr: np.ndarray, pos: dict[int, int]) -> tuple[IntArray, IntArray]:
    """Node positions of the from and to ends of a branch array."""
    f = np.array([pos[int(i)] for i in arr["from_node"]], dtype=np.int64)
    t = np.array([pos[int(i)] for i in arr["to_node"]], dtype=np.int64)
    return f, t


def _branch_param(
    ys: ComplexArray, ysh: ComplexArray, tap: ComplexArray, fs: BoolArray, ts: BoolArray
) -> tuple[ComplexArray, ComplexArray, ComplexArray, ComplexArray]:
    """``yff, yft, ytf, ytt`` of PGM's branch model (module docstring)."""
    a2 = np.abs(tap) ** 2
    both = fs & ts
    ytt = np.where(both, ys + 0.5 * ysh, 0.0)
    yff = ytt / a2
    yft = np.where(both, -ys / np.conj(tap), 0.0)
    ytf = np.where(both, -ys / tap, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        hang = np.where(np.abs(ysh) < _SHUNT_TOL, 0.0, 0.5 * ysh + 1.0 / (1.0 / ys + 2.0 / ysh))
    single = fs ^ ts
    yff = np.where(single & fs, hang / a2, yff)
    ytt = np.where(single & ts, hang, ytt)
    return yff, yft, ytf, ytt


def _line_params(g: PgmNetwork, u_rated: FloatArray, pos: dict[int, int]) -> tuple[Any, ...]:
    """Ends, statuses and ``yff, yft, ytf, ytt`` of the lines [pu]."""
    ln = g.input_data.get(ComponentType.line)
    if ln is None or not len(ln):
        e = np.zeros(0, np.int64)
        z = np.zeros(0, np.complex128)
        return e, e, np.zeros(0, bool), np.zeros(0, bool), (z, z, z, z)
    f, t = _ends(ln, pos)
    zb = u_rated[f] ** 2 / S_BASE_VA
    ys = 1.0 / (ln["r1"] + 1j * ln["x1"]) * zb
    ysh = 2 * math.pi * g.f_hz * ln["c1"] * (ln["tan1"] + 1j) * zb
    fs, ts = ln["from_status"].astype(bool), ln["to_status"].astype(bool)
    tap = np.ones(len(ln), dtype=np.complex128)
    return f, t, fs, ts, _branch_param(ys, ysh, tap, fs, ts)


def _trafo_params(g: PgmNetwork, u_rated: FloatArray, pos: dict[int, int]) -> tuple[Any, ...]:
    """Ends, statuses and ``yff, yft, ytf, ytt`` of the transformers [pu]."""
    tr = g.input_data.get(ComponentType.transformer)
    if tr is None or not len(tr):
        e = np.zeros(0, np.int64)
        z = np.zeros(0, np.complex128)
        return e, e, np.zeros(0, bool), np.zeros(0, bool), (z, z, z, z)
    f, t = _ends(tr, pos)
    z_s, y_sh, ratio, _ = _pgm_pi(tr)
    zb = u_rated[t] ** 2 / S_BASE_VA
    k = ratio / (u_rated[f] / u_rated[t])
    tap = k * np.exp(1j * tr["clock"].astype(float) * math.pi / 6.0)
    fs, ts = tr["from_status"].astype(bool), tr["to_status"].astype(bool)
    return f, t, fs, ts, _branch_param(1.0 / z_s * zb, y_sh * zb, tap, fs, ts)


def _super_nodes(g: PgmNetwork, pos: dict[int, int]) -> tuple[int, IntArray]:
    """Merge nodes joined by closed links: number of state nodes and the map."""
    n = len(g.input_data[ComponentType.node])
    lk = g.input_data.get(ComponentType.link)
    if lk is None or not len(lk):
        return n, np.arange(n, dtype=np.int64)
    f, t = _ends(lk, pos)
    on = lk["from_status"].astype(bool) & lk["to_status"].astype(bool)
    adj = sp.coo_matrix((np.ones(int(on.sum())), (f[on], t[on])), shape=(n, n))
    n_c, labels = connected_components(adj, directed=False)
    return int(n_c), labels.astype(np.int64)


def _shunt_diag(g: PgmNetwork, u_rated: FloatArray, pos: dict[int, int]) -> ComplexArray:
    """Shunt admittance per PGM node [pu]."""
    out = np.zeros(len(u_rated), dtype=np.complex128)
    sh = g.input_data.get(ComponentType.shunt)
    if sh is not None and len(sh):
        nodes = np.array([pos[int(i)] for i in sh["node"]], dtype=np.int64)
        y = (sh["g1"] + 1j * sh["b1"]) * sh["status"].astype(bool)
        np.add.at(out, nodes, y * u_rated[nodes] ** 2 / S_BASE_VA)
    return out


def _energized(
    n_super: int, ends: IntArray, g: PgmNetwork, node_super: IntArray, pos: dict[int, int]
) -> tuple[BoolArray, IntArray]:
    """State nodes connected to an in-service source, and one reference per island."""
    ok = (ends[:, 0] >= 0) & (ends[:, 1] >= 0)
    adj = sp.coo_matrix(
        (np.ones(int(ok.sum())), (ends[ok, 0], ends[ok, 1])), shape=(n_super, n_super)
    )
    _, labels = connected_components(adj, directed=False)
    src = g.input_data[ComponentType.source]
    src = src[src["status"].astype(bool)]
    src_nodes = node_super[[pos[int(i)] for i in src["node"]]]
    energized = np.isin(labels, labels[src_nodes])
    _, first = np.unique(labels[src_nodes], return_index=True)
    return energized, np.asarray(src_nodes[np.sort(first)], dtype=np.int64)


def build_grid(g: PgmNetwork) -> Grid:
    """The admittances of ``g`` on merged state nodes (built once per network)."""
    pos = node_positions(g)
    u_rated = g.input_data[ComponentType.node]["u_rated"].astype(float)
    n_super, node_super = _super_nodes(g, pos)
    parts = [_line_params(g, u_rated, pos), _trafo_params(g, u_rated, pos)]
    f = np.concatenate([node_super[p[0]] for p in parts])
    t = np.concatenate([node_super[p[1]] for p in parts])
    fs = np.concatenate([p[2] for p in parts])
    ts = np.concatenate([p[3] for p in parts])
    yff, yft, ytf, ytt = (np.concatenate([p[4][k] for p in parts]) for k in range(4))
    shorted = f == t  # both ends on one state node: shorted by a closed bus-bus switch,
    fs, ts = fs & ~shorted, ts & ~shorted  # out of service, as in merged_input
    yff, yft, ytf, ytt = (np.where(shorted, 0.0, y) for y in (yff, yft, ytf, ytt))
    nb = len(f)
    rows = np.arange(nb)
    shape = (2 * nb, n_super)
    # end rows: the from ends of all branches, then the to ends
    yside = sp.coo_matrix(
        (
            np.concatenate([yff, yft, ytf, ytt]),
            (np.concatenate([rows, rows, rows + nb, rows + nb]), np.concatenate([f, t, f, t])),
        ),
        shape=shape,
    ).tocsr()
    cside = sp.coo_matrix((np.ones(2 * nb), (np.arange(2 * nb), np.r_[f, t])), shape=shape)
    ybus = (cside.T @ yside).tocsr()
    shunt = np.zeros(n_super, dtype=np.complex128)
    np.add.at(shunt, node_super, _shunt_diag(g, u_rated, pos))
    ybus = (ybus + sp.diags(shunt)).tocsr()
    ends = np.column_stack([np.where(fs, f, -1), np.where(ts, t, -1)])
    energized, ref = _energized(n_super, ends, g, node_super, pos)
    n_line = len(parts[0][0])
    # reorder the end rows: lines from, lines to, trafos from, trafos to
    order = np.r_[rows[:n_line], rows[:n_line] + nb, rows[n_line:], rows[n_line:] + nb]
    return Grid(
        node_super=node_super,
        n_super=n_super,
        energized=energized,
        ref=ref,
        ybus=ybus,
        yside=yside[order].tocsr(),
        side_node=np.r_[f, t][order],
        branch_ends=ends,
        n_line=n_line,
    )


def merged_input(g: PgmNetwork, grid: Grid) -> tuple[dict[Any, np.ndarray], IntArray]:
    """PGM's input for the estimator: nodes joined by closed links merged, as here.

    PGM models a link (a closed bus-bus switch) as a branch of huge admittance, and its
    sparse LU factorises block by block without numerical pivoting across blocks; its
    pivot perturbation is not enabled in meshed grids. A link at a source's node
    followed by a mesh (e.g. a substation with two busbar sections coupled on both
    sides of two parallel transformers, as in SimBench's MV grids) then gives a pivot
    too small to factorise and too large to perturb: ``SparseMatrixError`` although the
    readings determine the state (power-grid-model pull request 1118 and issue 864,
    github.com/PowerGridModel/power-grid-model). The estimator therefore solves the
    bus-branch model a state estimator's topology processor builds from the breaker
    model (A. Abur, A. Gomez Exposito, *Power System State Estimation*, 2004, sec.
    1.3 / ch. 4; A. Monticelli, *State Estimation in Electric Power Systems*, 1999):
    the zero-impedance limit of PGM's link, which this module's rows already use.

    Every component at a merged node is moved to its state node's first node (its
    representative); merged links are left out; the other nodes stay in the input,
    with nothing connected (PGM reports them not energised: read the representative's
    voltage). A line or transformer whose two ends merge into one node is shorted by
    the switch: it is taken out of service here and in :func:`build_grid` (no flow, its
    shunt dropped; a flow reading on it is refused).

    Returns
    -------
    input_data : dict
        ``ComponentType -> structured input array`` (``g``'s own arrays where nothing
        is merged).
    node_rep : numpy.ndarray
        Per PGM node (position), the position of the node that carries its state.
    """
    node_arr = g.input_data[ComponentType.node]
    _, first = np.unique(grid.node_super, return_index=True)
    node_rep = first[grid.node_super].astype(np.int64)
    if np.array_equal(node_rep, np.arange(len(node_rep))):
        return dict(g.input_data), node_rep
    ids = node_arr["id"].astype(np.int64)
    order = np.argsort(ids)
    rep_id = ids[node_rep]

    def remap(col: np.ndarray) -> np.ndarray:
        at = order[np.searchsorted(ids, col, sorter=order)]
        return rep_id[at].astype(col.dtype)

    data: dict[Any, np.ndarray] = {}
    for comp, arr in g.input_data.items():
        names = arr.dtype.names or ()
        out = arr.copy()
        if comp == ComponentType.link:
            merged = out["from_status"].astype(bool) & out["to_status"].astype(bool)
            out = out[~merged]
            if not len(out):
                continue
        if "node" in names:
            out["node"] = remap(out["node"])
        if "from_node" in names and "to_node" in names:
            f, t = remap(out["from_node"]), remap(out["to_node"])
            loop = f == t  # shorted by the switch: kept on its own nodes, out of service
            out["from_node"] = np.where(loop, out["from_node"], f)
            out["to_node"] = np.where(loop, out["to_node"], t)
            out["from_status"][loop] = 0
            out["to_status"][loop] = 0
        data[comp] = out
    return data, node_rep


@dataclass(frozen=True)
class Rows:
    """Measurement rows: what each measures, where, and its standard deviation.

    Attributes
    ----------
    kind : numpy.ndarray
        ``KIND_VM``, ``KIND_P_INJ``, ... per row.
    where : numpy.ndarray
        State node (voltage, injection) or branch end (flows) per row.
    z : numpy.ndarray
        Measured value [pu].
    sigma : numpy.ndarray
        Standard deviation [pu]; 0 for the equality constraints.
    """

    kind: IntArray
    where: IntArray
    z: FloatArray
    sigma: FloatArray

    @property
    def constraint(self) -> BoolArray:
        """Zero-injection equality constraints."""
        return np.asarray(self.sigma == 0.0, dtype=bool)


@dataclass(frozen=True)
class Evaluated:
    """``h(x)`` and ``H`` at a state (columns: angles without the references, then
    magnitudes, energised state nodes only)."""

    h: FloatArray
    jac: sp.csr_matrix
    n_state: int


def _columns(grid: Grid) -> tuple[IntArray, IntArray, int]:
    """Column of each state node's angle (-1: reference or not energised) and
    magnitude (-1: not energised), and the number of columns."""
    n = grid.n_super
    ang_ok = grid.energized.copy()
    ang_ok[grid.ref] = False
    ang = np.full(n, -1, dtype=np.int64)
    ang[ang_ok] = np.arange(int(ang_ok.sum()))
    mag = np.full(n, -1, dtype=np.int64)
    n_ang = int(ang_ok.sum())
    mag[grid.energized] = n_ang + np.arange(int(grid.energized.sum()))
    return ang, mag, n_ang + int(grid.energized.sum())


def _to_columns(m: sp.spmatrix, cols: IntArray, n_cols: int) -> sp.csr_matrix:
    """Move the columns of ``m`` (one per state node) to ``cols``; drop ``-1``."""
    keep = np.flatnonzero(cols >= 0)
    sel = sp.coo_matrix(
        (np.ones(len(keep)), (keep, cols[keep])), shape=(m.shape[1], n_cols)
    ).tocsr()
    return (m @ sel).tocsr()


def evaluate(grid: Grid, rows: Rows, v: ComplexArray) -> Evaluated:
    """``h(x)`` and the Jacobian of ``rows`` at the state node voltages ``v`` [pu]."""
    ang, mag, n_cols = _columns(grid)
    vn = v / np.where(np.abs(v) > 0, np.abs(v), 1.0)
    dv, dvn = sp.diags(v), sp.diags(vn)
    i_bus = grid.ybus @ v
    s_bus = v * np.conj(i_bus)
    ds_bus_da = 1j * dv @ np.conj(sp.diags(i_bus) - grid.ybus @ dv)
    ds_bus_dm = dv @ np.conj(grid.ybus @ dvn) + sp.diags(np.conj(i_bus)) @ dvn
    i_side = grid.yside @ v
    n_side = len(grid.side_node)
    cs = sp.coo_matrix(
        (np.ones(n_side), (np.arange(n_side), grid.side_node)), shape=(n_side, grid.n_super)
    ).tocsr()
    v_side = v[grid.side_node]
    s_side = v_side * np.conj(i_side)
    ds_side_da = 1j * (
        sp.diags(np.conj(i_side)) @ cs @ dv - sp.diags(v_side) @ np.conj(grid.yside @ dv)
    )
    ds_side_dm = sp.diags(np.conj(i_side)) @ cs @ dvn + sp.diags(v_side) @ np.conj(grid.yside @ dvn)
    blocks = {
        KIND_VM: (np.abs(v), None, sp.identity(grid.n_super, format="csr")),
        KIND_P_INJ: (s_bus.real, ds_bus_da.real, ds_bus_dm.real),
        KIND_Q_INJ: (s_bus.imag, ds_bus_da.imag, ds_bus_dm.imag),
        KIND_P_FLOW: (s_side.real, ds_side_da.real, ds_side_dm.real),
        KIND_Q_FLOW: (s_side.imag, ds_side_da.imag, ds_side_dm.imag),
    }
    h = np.zeros(len(rows.kind))
    parts: list[sp.csr_matrix] = []
    order: list[IntArray] = []
    for kind, (values, d_ang, d_mag) in blocks.items():
        sel = np.flatnonzero(rows.kind == kind)
        if not sel.size:
            continue
        where = rows.where[sel]
        h[sel] = values[where]
        jm = _to_columns(sp.csr_matrix(d_mag)[where], mag, n_cols)
        if d_ang is not None:
            jm = jm + _to_columns(sp.csr_matrix(d_ang)[where], ang, n_cols)
        parts.append(jm)
        order.append(sel)
    jac = sp.vstack(parts).tocsr() if parts else sp.csr_matrix((0, n_cols))
    perm = np.empty(len(rows.kind), dtype=np.int64)
    if order:
        perm[np.concatenate(order)] = np.arange(len(rows.kind))
    return Evaluated(h=h, jac=jac[perm].tocsr(), n_state=n_cols)


def omega_diagonal(ev: Evaluated, rows: Rows, wanted: IntArray, chunk: int = 256) -> FloatArray:
    """``Omega_ii = sigma_i^2 - h_i E h_i^T`` of the rows ``wanted``.

    ``E`` is the state's covariance: the upper-left block of the inverse of the
    constrained gain matrix ``[[H^T W H, C^T], [C, 0]]`` (``C``: the constraint rows).
    One sparse LU factorisation, then ``len(wanted)`` solves in dense blocks of
    ``chunk`` columns. Raises ``RuntimeError`` when the gain matrix is singular (the
    measurement set does not determine the state).
    """
    con = rows.constraint
    meas = np.flatnonzero(~con)
    hm = ev.jac[meas]
    w = sp.diags(1.0 / rows.sigma[meas] ** 2)
    gain = (hm.T @ w @ hm).tocsc()
    c = ev.jac[np.flatnonzero(con)]
    kkt = sp.bmat([[gain, c.T], [c, None]], format="csc") if c.shape[0] else gain
    lu = splu(kkt)
    n, size = ev.n_state, kkt.shape[0]
    out = np.empty(len(wanted))
    for lo in range(0, len(wanted), chunk):
        sel = wanted[lo : lo + chunk]
        hw = ev.jac[sel]
        rhs = np.zeros((size, len(sel)))
        rhs[:n] = hw.T.toarray()
        x = lu.solve(rhs)[:n]
        out[lo : lo + len(sel)] = np.asarray(hw.multiply(x.T).sum(axis=1)).ravel()
    return np.asarray(rows.sigma[wanted] ** 2 - out, dtype=np.float64)


@dataclass(frozen=True)
class Zone:
    """A part of the grid whose state the measurements cannot determine.

    Attributes
    ----------
    nodes : numpy.ndarray
        Its state nodes.
    unknown : numpy.ndarray
        Its state nodes with an unmeasured injection.
    boundary : numpy.ndarray
        Branches (rows of ``Grid.branch_ends``) with a measured flow that bound it.
    has_voltage : bool
        Whether its island has a voltage measurement.
    """

    nodes: IntArray
    unknown: IntArray
    boundary: IntArray
    has_voltage: bool


def unobservable_zones(
    grid: Grid, known_injection: BoolArray, measured_branch: BoolArray, vm_measured: BoolArray
) -> list[Zone]:
    """Structural observability: the zones the measurements leave undetermined.

    Cut the energised grid at the branches with a measured flow; in each remaining zone
    the flows across its boundary are known, so its bus balances (one per state node)
    determine its internal branch flows and at most one unmeasured injection. A zone
    with two or more unmeasured injections (a source counts as one) is not observable,
    less one per measured branch inside it (a loop). Every island needs a voltage
    magnitude measurement. Exact for radial grids, which is what PGM's sufficient check
    (a spanning tree of measured components) also decides; a necessary condition on
    meshed ones.
    """
    ends = grid.branch_ends
    both = (ends[:, 0] >= 0) & (ends[:, 1] >= 0)
    n = grid.n_super
    cut = both & ~measured_branch
    adj = sp.coo_matrix((np.ones(int(cut.sum())), (ends[cut, 0], ends[cut, 1])), shape=(n, n))
    _, zone = connected_components(adj, directed=False)
    full = sp.coo_matrix((np.ones(int(both.sum())), (ends[both, 0], ends[both, 1])), shape=(n, n))
    _, island = connected_components(full, directed=False)
    island_vm = np.zeros(int(island.max()) + 1, dtype=bool)
    island_vm[island[vm_measured & grid.energized]] = True
    unknown = grid.energized & ~known_injection
    zf, zt = zone[np.maximum(ends[:, 0], 0)], zone[np.maximum(ends[:, 1], 0)]
    inner = both & measured_branch & (zf == zt)
    n_zone = int(zone.max()) + 1
    n_unknown = np.bincount(zone[unknown], minlength=n_zone)
    n_inner = np.bincount(zf[inner], minlength=n_zone)
    zone_vm = island_vm[island]  # per state node
    bad_zone = np.zeros(n_zone, dtype=bool)
    bad_zone[zone[grid.energized]] = True
    has_vm = np.zeros(n_zone, dtype=bool)
    has_vm[zone[grid.energized]] = zone_vm[grid.energized]
    bad_zone &= (n_unknown - n_inner > 1) | ~has_vm
    at_edge = both & measured_branch & ~inner
    out: list[Zone] = []
    for z in np.flatnonzero(bad_zone):
        nodes = np.flatnonzero((zone == z) & grid.energized)
        touch = at_edge & ((zf == z) | (zt == z))
        out.append(Zone(nodes, nodes[unknown[nodes]], np.flatnonzero(touch), bool(has_vm[z])))
    return out


def unmetered_branches(
    grid: Grid, zone: Zone, no_reading: BoolArray, measured_branch: BoolArray
) -> list[tuple[int, IntArray]]:
    """Where a zone lacks readings: the branches behind which every bus has no reading.

    The zone is walked as a tree from its entry (its source's node, else the inner end of
    a measured boundary branch); a subtree whose buses all lack an injection reading
    (``no_reading``: unmeasured or zero injection) and that holds at least one unmeasured
    injection is reported by the branch that feeds it, largest subtrees only.
    Returns ``(branch row, state nodes behind it)`` pairs.
    """
    from scipy.sparse.csgraph import breadth_first_order

    ends = grid.branch_ends
    inside = np.zeros(grid.n_super, dtype=bool)
    inside[zone.nodes] = True
    ok = (ends[:, 0] >= 0) & (ends[:, 1] >= 0) & ~measured_branch
    ok &= inside[np.maximum(ends[:, 0], 0)] & inside[np.maximum(ends[:, 1], 0)]
    n = grid.n_super
    br = np.flatnonzero(ok)
    adj = sp.coo_matrix((br + 1.0, (ends[br, 0], ends[br, 1])), shape=(n, n)).tocsr()
    adj = (adj + adj.T).tocsr()
    refs = zone.nodes[np.isin(zone.nodes, grid.ref)]
    if refs.size:
        root = int(refs[0])
    else:
        b = ends[zone.boundary]
        root = (
            int(b[inside[np.maximum(b, 0)] & (b >= 0)][0])
            if zone.boundary.size
            else int(zone.nodes[0])
        )
    order, pred = breadth_first_order(adj, root, directed=False)
    bare = no_reading.copy()
    unknown = np.zeros(n, dtype=bool)
    unknown[zone.unknown] = True
    has_unknown = unknown.copy()
    for node in order[::-1]:  # children before parents
        p = pred[node]
        if p >= 0:
            bare[p] &= bare[node]
            has_unknown[p] |= has_unknown[node]
    out: list[tuple[int, IntArray]] = []
    for node in order[1:]:
        p = pred[node]
        if bare[node] and has_unknown[node] and not bare[p]:
            branch = int(adj[p, node]) - 1
            sub = [node]
            stack = [node]
            while stack:  # the subtree below node
                cur = stack.pop()
                kids = order[pred[order] == cur]
                sub.extend(kids.tolist())
                stack.extend(kids.tolist())
            out.append((branch, np.array(sorted(sub), dtype=np.int64)))
    return sorted(out, key=lambda t: -len(t[1]))
