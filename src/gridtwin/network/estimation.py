"""State estimation with bad-data detection, on power-grid-model (PGM).

A :class:`StateEstimator` converts a pandapower net once (:mod:`gridtwin.network._pgm`)
and adds one PGM sensor per possible reading: a voltage sensor per bus, a power sensor
per load, sgen and branch end. Every interval only their values and standard deviations
change (PGM's in-place ``update``; a reading that is absent has an infinite sigma, which
PGM treats as no sensor), so an interval costs one estimation, not a model build.

Inputs (:class:`Measurements`) are arrays keyed by pandapower element indices, in
pandapower's units and frames:

* ``vm``: bus voltage magnitudes [pu] (a PGM ``sym_voltage_sensor``, ``u = vm * vn_kv``).
* ``load``: load powers [MW], [Mvar], **consumer frame** (import positive, as
  ``net.load`` and gridtwin's meters); PGM sensor ``measured_terminal_type = load``,
  whose reference direction is the load's (positive = power from the node into the
  load), so the values pass unchanged.
* ``sgen``: static generator powers, **generator frame** (as ``net.sgen``); PGM
  ``measured_terminal_type = generator`` (positive = power from the generator into the
  node).
* ``line`` / ``trafo``: branch-end flows, positive **into the branch** at that end
  (pandapower's ``res_line.p_from_mw``); ``side`` is ``"from"``/``"to"`` for lines and
  ``"hv"``/``"lv"`` for transformers (PGM ``branch_from`` / ``branch_to``).

Pseudo-measurements: loads and sgens without a reading (or whose reading was removed as
bad data) take a pseudo-measurement when one is given (``pseudo=Measurements(load=...)``),
typically the profile's value for the interval. :func:`pseudo_readings` builds them with
``sigma = max(relative_sigma * |value|, floor)`` (default 50 % and 1 kW / 1 kvar): a
profile says little about one household in one quarter hour, and the weighting lets
every real reading dominate. Without either, the element's bus injection is unknown.

Method: PGM's Newton-Raphson estimator by default. It is the exact weighted least squares
(WLS) solution with independent ``sigma_P`` and ``sigma_Q`` and exact zero-injection
constraints, so the objective ``J`` follows the chi-square law the bad-data test
assumes. PGM's iterative linear method (``method="iterative_linear"``) is faster per
iteration but approximates the weights (``sigma_S^2 = sigma_P^2 + sigma_Q^2``, voltages
frozen in the pre-factorised gain matrix), which biases ``J``.

Statistics (computed here from the estimated state; PGM returns the state and
per-sensor residuals, not the residual covariance): with ``m`` measured quantities (PGM's
aggregation: the appliances of a bus form one injection measurement when all are
measured, with the sum of their variances), ``n = 2 N - 1`` state variables and ``c``
zero-injection constraints,

* ``J = sum r_i^2 / sigma_i^2`` and ``dof = m - n + c``; under correct sigmas and no
  bad data ``J ~ chi2(dof)``; the test fails when ``P(chi2(dof) >= J) < alpha``
  (default ``alpha = 0.01``, the false-alarm rate).
* normalised residuals ``r_N,i = r_i / sqrt(Omega_ii)`` with ``Omega = R - H E H^T``:
  ``H`` the analytic Jacobian of the measurement functions at the estimate (PGM's own
  branch model, :mod:`gridtwin.network._se_model`), ``E`` the state covariance, the
  upper-left block of ``[[H^T W H, C^T], [C, 0]]^-1`` (``C``: the zero-injection rows),
  from one sparse LU. A critical measurement (``Omega_ii = 0``) has no ``r_N``.
* Bad data (largest normalised residual): while the test fails, the reading with the
  largest ``|r_N|`` above ``rn_threshold`` (default 3) is removed and the state
  re-estimated, at most ``max_removals`` times. The appliances of one bus share one
  injection measurement: their ``r_N`` are equal, so a bad reading is located to the
  bus; the one with the largest ``|r|/sigma`` is named and its neighbours listed.

Topology: buses joined by closed bus-bus switches are one node of the estimator (the
bus-branch model a state estimator's topology processor builds;
:func:`gridtwin.network._se_model.merged_input`): PGM gets them merged instead of its
high-admittance ``link``, whose ill-conditioning makes PGM's LU (no pivoting across
blocks) fail with ``SparseMatrixError`` on observable grids where a link at the source
is followed by a mesh, such as a substation with two busbar sections and two parallel
transformers (SimBench's MV grids). Merged buses report the same voltage.

Observability: before PGM runs, a structural check (:func:`_se_model.unobservable_zones`)
names the buses a measurement set leaves undetermined and what to add; PGM's own
``NotObservableError`` is translated the same way. Both raise
:class:`ObservabilityError` (an :class:`~gridtwin.errors.InputError`).

power-grid-model and scipy are imported by the functions that use them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from gridtwin.errors import ConvergenceError, InputError
from gridtwin.network._se_readings import (
    BadReading,
    ChiSquareTest,
    EstimationOptions,
    EstimationResult,
    FlowReadings,
    Measurements,
    ObservabilityError,
    PowerReadings,
    ReadingResiduals,
    VoltageReadings,
    pseudo_readings,
)
from gridtwin.network._se_slots import (
    OUTPUT,
    S_BASE_VA,
    Analysis,
    Layout,
    RowSet,
    Slots,
    State,
    appliances,
    chi2_test,
    ct,
    drop,
    fill,
    label,
    pgm_model,
    quantity_name,
    ranges,
    ratings,
)

if TYPE_CHECKING:
    from gridtwin.network._se_model import Zone

__all__ = [
    "BadReading",
    "ChiSquareTest",
    "EstimationOptions",
    "EstimationResult",
    "FlowReadings",
    "Measurements",
    "ObservabilityError",
    "PowerReadings",
    "ReadingResiduals",
    "StateEstimator",
    "VoltageReadings",
    "estimate",
    "pseudo_readings",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class StateEstimator:
    """A network prepared for state estimation, reused interval after interval.

    Parameters
    ----------
    model : NetworkModel or pandapowerNet
        The grid (validated with :func:`gridtwin.network.validate`; balanced).
    options : EstimationOptions, optional
        Method, test and bad-data settings.

    Notes
    -----
    Not thread-safe: every call updates the one PGM model in place.
    """

    def __init__(self, model: Any, options: EstimationOptions | None = None) -> None:
        from gridtwin.network._pgm import build_pgm_network
        from gridtwin.network._se_model import build_grid, merged_input

        net = getattr(model, "net", model)
        self.options = options or EstimationOptions()
        g = build_pgm_network(net, symmetric=True)
        self._g = g
        self._layout = Layout(*(g.ids[t].index for t in ("bus", "load", "sgen", "line", "trafo")))
        self._grid = build_grid(g)
        self._apps = appliances(g, self._grid, self._layout)
        data, self._node_rep = merged_input(g, self._grid)
        self._pgm, self._vs_ids, self._ps_ids = pgm_model(g, self._layout, data, self._node_rep)
        self._vs_ids = self._vs_ids.astype(np.int32)
        self._ps_ids = self._ps_ids.astype(np.int32)
        self._ratings = ratings(net)
        u = g.input_data[ct("node")]["u_rated"].astype(float)
        self._u_rated = u[self._node_rep]  # a bus's voltage sensor is at its state's node
        _, self._rep = np.unique(self._grid.node_super, return_index=True)

    @property
    def layout(self) -> Layout:
        """The pandapower indices of buses, loads, sgens, lines and trafos (net order)."""
        return self._layout

    def estimate(
        self, measurements: Measurements, pseudo: Measurements | None = None
    ) -> EstimationResult:
        """Estimate the state of one interval, test it and remove bad data.

        Parameters
        ----------
        measurements : Measurements
            The interval's readings.
        pseudo : Measurements, optional
            Pseudo-measurements for loads and sgens (:func:`pseudo_readings`), used where
            an element has no reading or its reading is removed as bad data.

        Raises
        ------
        InputError
            A reading names no element, is NaN or has a sigma <= 0 (the message names
            the field), or sits at an element out of service.
        ObservabilityError
            The readings leave buses undetermined (the message names them).
        ConvergenceError
            PGM's estimator did not converge.
        """
        slots = self._slots(measurements, pseudo)
        fallback = self._pseudo_only(pseudo)
        o = self.options
        removed: list[BadReading] = []
        notes: list[str] = []
        state, an = self._run(slots, o.normalized_residuals == "always")
        for rnd in range(1, o.max_removals + 1):
            if not self._alarm(an):
                break
            if np.all(np.isnan(an.rn)):
                an = self._analyse(slots, state, want_rn=True)
            suspect = self._suspect(slots, an)
            if suspect is None or abs(suspect[2]) <= o.rn_threshold:
                notes.append(
                    "the chi-square test failed but no reading has |r_N| above "
                    f"{o.rn_threshold}: check the sigmas and the pseudo-measurements"
                )
                break
            slot, quantity, rn, same = suspect
            trial = slots.copy()
            has_pseudo = drop(trial, fallback, slot, self._layout.n_bus)
            try:
                state2, an2 = self._run(trial, o.normalized_residuals == "always")
            except ObservabilityError as exc:
                notes.append(
                    f"{label(self._layout, slot, quantity)} is suspect (r_N = {rn:.1f}) but "
                    f"removing it leaves the state undetermined: {exc}"
                )
                break
            table, element, side = self._layout.describe(slot)
            removed.append(
                BadReading(table, element, side, quantity, float(rn), rnd, same, has_pseudo)
            )
            slots, state, an = trial, state2, an2
        if self._alarm(an) and len(removed) == o.max_removals and o.max_removals:
            notes.append(f"bad data remains after {o.max_removals} removals (max_removals)")
        if state.note:
            notes.insert(0, state.note)
        return self._result(state, an, tuple(removed), tuple(notes))

    # -- one interval's slots ------------------------------------------------------------

    def _slots(self, m: Measurements, pseudo: Measurements | None) -> Slots:
        """Validated readings, then pseudo-measurements where there is no reading."""
        if not isinstance(m, Measurements):
            msg = "measurements must be a gridtwin.network.estimation.Measurements"
            raise InputError(msg)
        slots = Slots.empty(self._layout)
        fill(self._layout, slots, m, "measurements", pseudo=False)
        if pseudo is not None:
            self._check_pseudo(pseudo)
            fill(self._layout, slots, pseudo, "pseudo", pseudo=True)
        self._check_in_service(slots)
        return slots

    @staticmethod
    def _check_pseudo(pseudo: Measurements) -> None:
        for name in ("vm", "line", "trafo"):
            if getattr(pseudo, name) is not None:
                msg = f"pseudo.{name}: pseudo-measurements are for loads and sgens only"
                raise InputError(msg)

    def _pseudo_only(self, pseudo: Measurements | None) -> Slots | None:
        if pseudo is None:
            return None
        slots = Slots.empty(self._layout)
        fill(self._layout, slots, pseudo, "pseudo", pseudo=True)
        return slots

    def _check_in_service(self, s: Slots) -> None:
        """Readings only at energised buses and in-service elements."""
        lay, grid, ap = self._layout, self._grid, self._apps
        en_bus = grid.energized[grid.node_super]
        bad_vm = np.flatnonzero(np.isfinite(s.vm_sigma) & ~en_bus)
        na = lay.n_app
        app_ok = ap.on & grid.energized[ap.node]
        drop = s.pseudo[:na] & ~app_ok  # profiles may cover elements out of service
        s.p_sigma[:na][drop] = s.q_sigma[:na][drop] = np.inf
        bad_app = np.flatnonzero(np.isfinite(s.p_sigma[:na]) & ~app_ok)
        ends = grid.branch_ends
        nl, _nt = len(lay.line), len(lay.trafo)
        end_node = np.r_[ends[:nl, 0], ends[:nl, 1], ends[nl:, 0], ends[nl:, 1]]
        end_ok = (end_node >= 0) & grid.energized[np.maximum(end_node, 0)]
        bad_end = np.flatnonzero(np.isfinite(s.p_sigma[na:]) & ~end_ok)
        bad = [int(k) for k in bad_vm] + [lay.n_bus + int(k) for k in bad_app]
        bad += [lay.n_bus + na + int(k) for k in bad_end]
        if bad:
            table, element, side = lay.describe(bad[0])
            what = f"{table} {element}" + (f" ({side} end)" if side else "")
            msg = (
                f"measurements: {what} is out of service, open at that end or not connected "
                f"to a source ({len(bad)} such readings); leave its reading out"
            )
            raise InputError(msg)

    # -- rows, estimation, analysis -------------------------------------------------------

    def _rowset(self, s: Slots) -> RowSet:  # long: one table of rows, built in order
        """The measurement rows of ``s`` (PGM's aggregation, module docstring)."""
        from gridtwin.network._se_model import (
            KIND_P_FLOW,
            KIND_P_INJ,
            KIND_Q_FLOW,
            KIND_Q_INJ,
            KIND_VM,
            Rows,
        )

        lay, grid, ap = self._layout, self._grid, self._apps
        na, ns = lay.n_app, grid.n_super
        vm_slot = np.flatnonzero(np.isfinite(s.vm_sigma))
        a_on = np.isfinite(s.p_sigma[:na]) & ap.on
        unknown = ap.fixed_unknown.copy()
        unknown[ap.node[ap.on & ~a_on]] = True
        inj = np.flatnonzero(grid.energized & ap.has_any & ~unknown)
        zero = np.flatnonzero(grid.energized & ~ap.has_any)
        sums = np.zeros((4, ns))
        k = np.flatnonzero(a_on)
        for row, vals in enumerate(
            (ap.sign * s.p[:na], ap.sign * s.q[:na], s.p_sigma[:na] ** 2, s.q_sigma[:na] ** 2)
        ):
            np.add.at(sums[row], ap.node[k], vals[k])
        e = np.flatnonzero(np.isfinite(s.p_sigma[na:]))
        n = [len(vm_slot), len(inj), len(inj), len(zero), len(zero), len(e), len(e)]
        kinds = (KIND_VM, KIND_P_INJ, KIND_Q_INJ, KIND_P_INJ, KIND_Q_INJ, KIND_P_FLOW, KIND_Q_FLOW)
        rows = Rows(
            kind=np.repeat(np.array(kinds, dtype=np.int64), n),
            where=np.concatenate([grid.node_super[vm_slot], inj, inj, zero, zero, e, e]),
            z=np.concatenate(
                [
                    s.vm[vm_slot],
                    sums[0, inj],
                    sums[1, inj],
                    np.zeros(2 * len(zero)),
                    s.p[na + e],
                    s.q[na + e],
                ]
            ),
            sigma=np.concatenate(
                [
                    s.vm_sigma[vm_slot],
                    np.sqrt(sums[2, inj]),
                    np.sqrt(sums[3, inj]),
                    np.zeros(2 * len(zero)),
                    s.p_sigma[na + e],
                    s.q_sigma[na + e],
                ]
            ),
        )
        start = np.cumsum([0, *n])
        n_slot = lay.n_bus + na + lay.n_end
        p_row = np.full(n_slot, -1, dtype=np.int64)
        q_row = np.full(n_slot, -1, dtype=np.int64)
        p_row[vm_slot] = start[0] + np.arange(len(vm_slot))
        node_p = np.full(ns, -1, dtype=np.int64)
        node_p[inj] = start[1] + np.arange(len(inj))
        used = k[node_p[ap.node[k]] >= 0]
        p_row[lay.n_bus + used] = node_p[ap.node[used]]
        q_row[lay.n_bus + used] = node_p[ap.node[used]] + len(inj)
        p_row[lay.n_bus + na + e] = start[5] + np.arange(len(e))
        q_row[lay.n_bus + na + e] = start[6] + np.arange(len(e))
        real = np.zeros(len(rows.kind), dtype=bool)
        real[: start[1]] = True
        real[start[5] :] = True
        real_app = used[~s.pseudo[used]]
        real[node_p[ap.node[real_app]]] = True
        real[node_p[ap.node[real_app]] + len(inj)] = True
        return RowSet(rows, real, p_row, q_row, unknown)

    def _observable(self, s: Slots, rs: RowSet) -> None:
        """The structural check; raises :class:`ObservabilityError` naming the buses."""
        from gridtwin.network._se_model import unobservable_zones

        lay, grid = self._layout, self._grid
        na, nl, nt = lay.n_app, len(lay.line), len(lay.trafo)
        on = np.isfinite(s.p_sigma[na:])
        measured = np.r_[on[:nl] | on[nl : 2 * nl], on[2 * nl : 2 * nl + nt] | on[2 * nl + nt :]]
        vm_on = np.zeros(grid.n_super, dtype=bool)
        vm_on[grid.node_super[np.isfinite(s.vm_sigma)]] = True
        zones = unobservable_zones(grid, ~rs.unknown, measured, vm_on)
        if zones:
            raise ObservabilityError(*self._explain(zones, s))

    def _explain(self, zones: list[Zone], s: Slots) -> tuple[str, tuple[int, ...]]:
        """An operator's message for unobservable zones, and their buses."""
        lay, grid, ap = self._layout, self._grid, self._apps
        na = lay.n_app
        missing = ap.on & ~np.isfinite(s.p_sigma[:na])
        parts: list[str] = []
        all_buses: list[int] = []
        for z in zones[:5]:
            buses = lay.bus[np.isin(grid.node_super, z.nodes)].tolist()
            if not z.has_voltage:
                all_buses += buses
                parts.append(
                    f"buses {ranges(buses)} have no voltage measurement in their part of "
                    "the grid: add one (e.g. the substation busbar)"
                )
                continue
            what: list[str] = []
            for node in z.unknown.tolist():
                what += self._apps.fixed_labels.get(node, [])
                for k in np.flatnonzero(missing & (ap.node == node)).tolist():
                    table, element, _ = lay.describe(lay.n_bus + k)
                    what.append(f"{table} {element}")
            groups, group_buses = self._unmetered(z, s)
            if groups:
                parts += groups
                all_buses += group_buses
                continue
            all_buses += buses
            behind = [self._branch_label(b) for b in z.boundary.tolist()]
            where = f" behind measured {', '.join(behind[:6])}" if behind else ""
            parts.append(
                f"buses {ranges(buses)}{where} have {len(z.unknown)} bus injections "
                f"without a reading ({', '.join(what[:8])}{' ...' if len(what) > 8 else ''}); "
                "the flows into that part determine at most one: add pseudo-measurements "
                "(profile values) or meters for the others, or a flow meter"
            )
        more = f"; and {len(zones) - 5} more parts" if len(zones) > 5 else ""
        msg = "not observable: " + "; ".join(parts) + more
        return msg, tuple(sorted(set(all_buses)))

    def _unmetered(self, z: Zone, s: Slots) -> tuple[list[str], list[int]]:
        """ "buses 12-17 behind line 5 have no reading (load 3, load 4)" per unmetered
        subtree of a zone (radial parts)."""
        from gridtwin.network._se_model import unmetered_branches

        lay, grid, ap = self._layout, self._grid, self._apps
        na, nl, nt = lay.n_app, len(lay.line), len(lay.trafo)
        on = np.isfinite(s.p_sigma[na:])
        measured = np.r_[on[:nl] | on[nl : 2 * nl], on[2 * nl : 2 * nl + nt] | on[2 * nl + nt :]]
        rs_unknown = np.zeros(grid.n_super, dtype=bool)
        rs_unknown[z.unknown] = True
        no_reading = rs_unknown | ~ap.has_any
        missing = ap.on & ~np.isfinite(s.p_sigma[:na])
        out: list[str] = []
        all_buses: list[int] = []
        for branch, nodes in unmetered_branches(grid, z, no_reading, measured)[:5]:
            buses = lay.bus[np.isin(grid.node_super, nodes)].tolist()
            all_buses += buses
            what = [lbl for node in nodes.tolist() for lbl in ap.fixed_labels.get(node, [])]
            what += [
                " ".join(str(x) for x in lay.describe(lay.n_bus + int(k))[:2])
                for k in np.flatnonzero(missing & np.isin(ap.node, nodes))
            ]
            out.append(
                f"buses {ranges(buses)} behind {self._branch_label(branch)} have no reading "
                f"({', '.join(what[:8])}{' ...' if len(what) > 8 else ''}): add "
                "pseudo-measurements (profile values) for their loads, a meter or a flow "
                "meter"
            )
        return out, all_buses

    def _branch_label(self, b: int) -> str:
        nl = len(self._layout.line)
        if b < nl:
            return f"line {int(self._layout.line[b])}"
        return f"trafo {int(self._layout.trafo[b - nl])}"

    def _run(self, s: Slots, want_rn: bool) -> tuple[State, Analysis]:
        """Check, estimate with PGM, analyse."""
        rs = self._rowset(s)
        self._observable(s, rs)
        out, note = self._pgm_estimate(s)
        node = out[ct("node")]
        energized = node["energized"].astype(bool)
        v_node = np.where(energized, node["u_pu"] * np.exp(1j * node["u_angle"]), 0.0)
        state = State(out, v_node[self._rep], rs, note)
        return state, self._analyse(s, state, want_rn)

    def _pgm_estimate(self, s: Slots) -> tuple[dict[Any, Any], str]:
        """Update the sensors and run PGM's estimator (and its fallback); the output and
        a note when the fallback was used."""
        from power_grid_model.errors import (  # type: ignore[attr-defined]
            IterationDiverge,
            NotObservableError,
            SparseMatrixError,
        )

        u, w = self._u_rated, S_BASE_VA
        vm_on = np.isfinite(s.vm_sigma)
        update = {
            ct("sym_voltage_sensor"): {
                "id": self._vs_ids,
                "u_measured": np.where(vm_on, s.vm, 1.0) * u,
                "u_sigma": s.vm_sigma * u,
            },
            ct("sym_power_sensor"): {
                "id": self._ps_ids,
                "p_measured": s.p * w,
                "q_measured": s.q * w,
                "p_sigma": s.p_sigma * w,
                "q_sigma": s.q_sigma * w,
            },
        }
        self._pgm.update(update_data=update)
        o = self.options
        try:
            return self._calculate(o.method, o.error_tolerance_pu, o.max_iterations), ""
        except (NotObservableError, SparseMatrixError) as exc:
            msg = (
                "not observable (power-grid-model: "
                f"{str(exc).splitlines()[0]}): add voltage, flow or pseudo-measurements"
            )
            raise ObservabilityError(msg) from exc
        except IterationDiverge as exc:
            first = str(exc).splitlines()[0]
        if o.method == "newton_raphson" and o.fallback_tolerance_pu > 0:
            try:
                out = self._calculate(
                    "iterative_linear", o.fallback_tolerance_pu, max(o.max_iterations, 100)
                )
            except IterationDiverge:
                pass
            else:
                note = (
                    f"Newton-Raphson did not converge ({first}); the iterative linear method "
                    f"gave this estimate (tolerance {o.fallback_tolerance_pu} pu; its weights "
                    "are approximate, so J and r_N are indicative)"
                )
                return out, note
        msg = (
            f"state estimation did not converge in {o.max_iterations} iterations "
            f"({first}); check the readings' units and frames"
        )
        raise ConvergenceError(msg)

    def _calculate(self, method: str, tolerance_pu: float, max_iterations: int) -> dict[Any, Any]:
        from power_grid_model import CalculationMethod

        return dict(
            self._pgm.calculate_state_estimation(
                symmetric=True,
                error_tolerance=tolerance_pu,
                max_iterations=max_iterations,
                calculation_method=getattr(CalculationMethod, method),
                output_component_types={ct(k): v for k, v in OUTPUT.items()},
            )
        )

    def _analyse(self, s: Slots, state: State, want_rn: bool) -> Analysis:
        """Residuals, the chi-square test and (``want_rn`` or a failed test) ``r_N``."""
        from gridtwin.network._se_model import evaluate, omega_diagonal

        rs = state.rowset
        rows = rs.rows
        ev = evaluate(self._grid, rows, state.v)
        r = rows.z - ev.h
        con = rows.constraint
        j = float(np.sum((r[~con] / rows.sigma[~con]) ** 2))
        dof = int((~con).sum()) - ev.n_state + int(con.sum())
        test = chi2_test(j, dof, self.options.alpha)
        rn = np.full(len(r), np.nan)
        if want_rn or not test.passed:
            wanted = np.flatnonzero(rs.real & ~con)
            cap = self.options.rn_max_rows
            if cap and len(wanted) > cap:  # the largest weighted residuals only
                weighted = np.abs(r[wanted]) / rows.sigma[wanted]
                wanted = np.sort(wanted[np.argsort(-weighted)[:cap]])
            try:
                omega = omega_diagonal(ev, rows, wanted)
            except RuntimeError as exc:  # a singular gain matrix: PGM should have refused
                msg = f"the measurements do not determine the state ({exc})"
                raise ObservabilityError(msg) from exc
            ok = omega > 1e-9 * rows.sigma[wanted] ** 2
            rn[wanted[ok]] = r[wanted[ok]] / np.sqrt(omega[ok])
        return Analysis(r=r, rn=rn, test=test, state=state, slots=s)

    def _alarm(self, an: Analysis) -> bool:
        o = self.options
        big = bool(np.nanmax(np.abs(an.rn), initial=0.0) > o.rn_threshold)
        return (not an.test.passed) or (o.detect_by_rn and big)

    # -- readings, suspects, result -------------------------------------------------------

    def _per_reading(self, s: Slots, state: State, an: Analysis) -> dict[str, Any]:
        """Residuals per (slot, quantity): an appliance's share of its bus injection's
        residual is ``sigma_k^2 / sigma_bus^2`` (the WLS split), its ``r_N`` the bus's."""
        rs, lay = state.rowset, self._layout
        nb, na = lay.n_bus, lay.n_app
        cols: dict[str, list[Any]] = {k: [] for k in ("slot", "q", "z", "r", "sigma", "rn")}
        for qi, row_of in enumerate((rs.p_row, rs.q_row)):
            used = np.flatnonzero(row_of >= 0)
            rows = row_of[used]
            k = used - nb
            if qi == 0:
                z = np.where(used < nb, s.vm[np.minimum(used, nb - 1)], s.p[np.maximum(k, 0)])
                sig = np.where(
                    used < nb, s.vm_sigma[np.minimum(used, nb - 1)], s.p_sigma[np.maximum(k, 0)]
                )
            else:
                z, sig = s.q[k], s.q_sigma[k]
            app = (k >= 0) & (k < na)
            sign = np.where(app, self._apps.sign[np.clip(k, 0, na - 1)], 1.0)
            share = np.where(app, sign * sig**2 / state.rowset.rows.sigma[rows] ** 2, 1.0)
            for name, val in (
                ("slot", used),
                ("q", np.full(len(used), qi)),
                ("z", z),
                ("r", share * an.r[rows]),
                ("sigma", sig),
                ("rn", sign * an.rn[rows]),
            ):
                cols[name].append(val)
        out = {k: np.concatenate(v) for k, v in cols.items()}
        out["row"] = np.concatenate([rs.p_row[rs.p_row >= 0], rs.q_row[rs.q_row >= 0]])
        slot_k = out["slot"] - nb
        out["pseudo"] = (slot_k >= 0) & s.pseudo[np.maximum(slot_k, 0)]
        return out

    def _suspect(self, s: Slots, an: Analysis) -> tuple[int, str, float, tuple[str, ...]] | None:
        """The real reading with the largest ``|r_N|`` (ties in one bus injection: the
        largest ``|r| / sigma``), its quantity, ``r_N`` and the readings it ties with."""
        per = self._per_reading(s, an.state, an)
        cand = np.flatnonzero(~per["pseudo"] & np.isfinite(per["rn"]))
        if not cand.size:
            return None
        best = cand[np.argmax(np.abs(per["rn"][cand]))]
        tie = cand[(per["row"][cand] == per["row"][best]) & (per["q"][cand] == per["q"][best])]
        pick = tie[np.argmax(np.abs(per["r"][tie]) / per["sigma"][tie])]
        quantity = quantity_name(int(per["slot"][pick]), int(per["q"][pick]), self._layout.n_bus)
        same = tuple(
            " ".join(str(x) for x in self._layout.describe(int(per["slot"][t]))[:2])
            for t in tie
            if t != pick
        )
        return int(per["slot"][pick]), quantity, float(per["rn"][pick]), same

    def _result(
        self, state: State, an: Analysis, removed: tuple[BadReading, ...], notes: tuple[str, ...]
    ) -> EstimationResult:
        """The result in pandapower's units."""
        out, lay, rt = state.out, self._layout, self._ratings
        rep = self._node_rep  # a merged bus reads the node that carries its state
        node = {k: np.asarray(v)[rep] for k, v in out[ct("node")].items()}
        on = node["energized"].astype(bool)
        ln, tr = out.get(ct("line")), out.get(ct("transformer"))
        ld, sg = out.get(ct("sym_load")), out.get(ct("sym_gen"))
        nl, ns = len(lay.load), len(lay.sgen)
        line_i = np.maximum(ln["i_from"], ln["i_to"]) / 1e3 if ln is not None else np.zeros(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            line_load = line_i / rt["i_max_ka"] * 100.0
            trafo_load = (
                np.maximum(tr["i_from"] / 1e3 * rt["vn_hv"], tr["i_to"] / 1e3 * rt["vn_lv"])
                * math.sqrt(3.0)
                / rt["rating"]
                * 100.0
                if tr is not None
                else np.zeros(0)
            )

        def mw(arr: Any, name: str, n: int = -1) -> FloatArray:
            if arr is None:
                return np.zeros(0)
            v = np.asarray(arr[name], dtype=np.float64) / 1e6
            return v[:n] if n >= 0 else v

        return EstimationResult(
            bus=lay.bus,
            vm_pu=np.where(on, node["u_pu"], np.nan),
            va_degree=np.where(on, np.rad2deg(node["u_angle"]), np.nan),
            line=lay.line,
            line_p_from_mw=mw(ln, "p_from"),
            line_q_from_mvar=mw(ln, "q_from"),
            line_p_to_mw=mw(ln, "p_to"),
            line_q_to_mvar=mw(ln, "q_to"),
            line_i_ka=line_i,
            line_loading_percent=line_load,
            trafo=lay.trafo,
            trafo_p_hv_mw=mw(tr, "p_from"),
            trafo_q_hv_mvar=mw(tr, "q_from"),
            trafo_p_lv_mw=mw(tr, "p_to"),
            trafo_q_lv_mvar=mw(tr, "q_to"),
            trafo_loading_percent=trafo_load,
            load_p_mw=mw(ld, "p", nl),
            load_q_mvar=mw(ld, "q", nl),
            sgen_p_mw=mw(sg, "p", ns),
            sgen_q_mvar=mw(sg, "q", ns),
            test=an.test,
            residuals=self._residual_table(an),
            removed=removed,
            method=self.options.method,
            notes=notes,
        )

    def _residual_table(self, an: Analysis) -> ReadingResiduals:
        per = self._per_reading(an.slots, an.state, an)
        desc = [self._layout.describe(int(k)) for k in per["slot"]]
        nb = self._layout.n_bus
        return ReadingResiduals(
            table=np.array([d[0] for d in desc], dtype=str),
            element=np.array([d[1] for d in desc], dtype=np.int64),
            side=np.array([d[2] for d in desc], dtype=str),
            quantity=np.array(
                [
                    quantity_name(int(k), int(q), nb)
                    for k, q in zip(per["slot"], per["q"], strict=True)
                ],
                dtype=str,
            ),
            measured=per["z"],
            estimated=per["z"] - per["r"],
            residual=per["r"],
            sigma=per["sigma"],
            normalized=np.where(per["pseudo"], np.nan, per["rn"]),
            pseudo=per["pseudo"],
        )


def estimate(
    model: Any,
    measurements: Measurements,
    *,
    pseudo: Measurements | None = None,
    options: EstimationOptions | None = None,
) -> EstimationResult:
    """Estimate the state of one interval (see :class:`StateEstimator`).

    Parameters
    ----------
    model : StateEstimator, NetworkModel or pandapowerNet
        A prepared estimator (reused across intervals: only the readings change) or a
        grid, prepared for this one call.
    measurements : Measurements
        The interval's readings.
    pseudo : Measurements, optional
        Pseudo-measurements for loads and sgens without a reading.
    options : EstimationOptions, optional
        Only when ``model`` is not already a :class:`StateEstimator`.
    """
    if isinstance(model, StateEstimator):
        if options is not None:
            msg = "options: pass them to StateEstimator(...) when reusing an estimator"
            raise InputError(msg)
        return model.estimate(measurements, pseudo)
    return StateEstimator(model, options).estimate(measurements, pseudo)
