"""The live twin: the network state of each interval, from what the store holds.

:class:`LiveTwin` joins a :class:`~gridtwin.workflows.twin.Twin` (the network model and its
profiles) with a measurement store. For an interval ``[t, t + step)`` it takes the newest
stored value of every mapped point in that interval:

- **every load metered** (``p``, and ``q`` where measured; an unmetered ``q`` keeps the
  profile's power factor): a power flow of that one step on the measured set-points
  (``power_flow``);
- **partial metering**: state estimation (:mod:`gridtwin.network.estimation`, power-grid-
  model's weighted least squares) on the meters (loads, PV, bus voltages) with the
  profile values of the unmetered loads and PV as pseudo-measurements, the substation
  voltage at the model's set-point where it is not measured, the chi-square test and the
  removal of bad data (``state_estimation``; on a grid of more than
  :data:`LARGE_GRID_BUSES` buses the normalised residuals only on an alarm, for the
  largest weighted residuals); if the meters cannot make the feeder
  observable or the estimate does not converge, the power flow on the mixed set-points
  (``pseudo_power_flow``) with a note saying why.

The state of each interval is written back into the store as points of source ``twin``
(``twin:bus:<i>:vm``, ``twin:line:<i>:loading``, ``twin:trafo:<i>:loading``) with the
quality flag ``estimated``, so that the history of the twin's state is read, exported and
served like any measurement.

Points map onto the model through their ``element`` (``load:12``, ``sgen:3``, ``bus:7``)
and ``quantity`` (``p``/``q`` in W, kW or MW / var, kvar or Mvar, consumer sign; ``vm``
in pu for buses).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.store import MeasurementBatch, MeasurementPoint, Quality, quantities

if TYPE_CHECKING:
    from gridtwin.network import Profiles
    from gridtwin.store import MeasurementStore
    from gridtwin.workflows.twin import Twin

__all__ = ["LiveRunner", "LiveState", "LiveTwin", "LoadPoints"]

Method = Literal["power_flow", "state_estimation", "pseudo_power_flow"]
_STATE_SOURCE = "twin"


@dataclass(frozen=True)
class LoadPoints:
    """The store's points that meter the model's loads, PV (sgens) and bus voltages.

    Attributes
    ----------
    p, q : dict of int to (str, float)
        Load index -> (point id, factor from the point's unit to MW / Mvar).
    sgen_p, sgen_q : dict of int to (str, float)
        Sgen index -> (point id, factor to the generator frame's MW / Mvar: negative,
        since points are in the consumer frame).
    vm : dict of int to str
        Bus index -> point id of its voltage magnitude [pu].
    """

    p: dict[int, tuple[str, float]]
    q: dict[int, tuple[str, float]]
    sgen_p: dict[int, tuple[str, float]] = field(default_factory=dict)
    sgen_q: dict[int, tuple[str, float]] = field(default_factory=dict)
    vm: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_points(
        cls, points: list[MeasurementPoint], load_ids: set[int], net: Any = None
    ) -> LoadPoints:
        """Map the points whose element is a load, sgen or bus of the model (others and
        the twin's own state points are ignored)."""
        out = cls({}, {})
        known = quantities()
        tables = {"load": load_ids}
        if net is not None:
            tables["sgen"] = set(net.sgen.index.tolist())
            tables["bus"] = set(net.bus.index.tolist())
        for pt in points:
            if pt.element is None or pt.source == _STATE_SOURCE or ":" not in pt.element:
                continue
            table, _, index = pt.element.partition(":")
            target = out._target(table, pt.quantity)
            if target is None:
                continue
            idx = int(index)
            if idx not in tables.get(table, set()):
                msg = f"point {pt.point_id!r}: element {pt.element} is not a {table} of the model"
                raise InputError(msg)
            if idx in target:
                other = target[idx]
                name = other if isinstance(other, str) else other[0]
                msg = (
                    f"points {name!r} and {pt.point_id!r} both meter "
                    f"{pt.quantity} of {pt.element}; keep one"
                )
                raise InputError(msg)
            if table == "bus":
                target[idx] = pt.point_id
                continue
            factor_to_mw = known[pt.quantity].units[pt.unit] / 1000.0  # base kW / kvar
            target[idx] = (pt.point_id, -factor_to_mw if table == "sgen" else factor_to_mw)
        return out

    def _target(self, table: str, quantity: str) -> dict[int, Any] | None:
        targets: dict[tuple[str, str], dict[int, Any]] = {
            ("load", "p"): self.p,
            ("load", "q"): self.q,
            ("sgen", "p"): self.sgen_p,
            ("sgen", "q"): self.sgen_q,
            ("bus", "vm"): self.vm,
        }
        return targets.get((table, quantity))

    @property
    def point_ids(self) -> list[str]:
        """Every mapped point id."""
        pairs = (*self.p.values(), *self.q.values(), *self.sgen_p.values(), *self.sgen_q.values())
        return [pid for pid, _ in pairs] + list(self.vm.values())


@dataclass(frozen=True)
class LiveState:
    """The twin's state of one interval.

    Attributes
    ----------
    time_utc : Timestamp
        The interval's start.
    method : {"power_flow", "pseudo_power_flow"}
        ``power_flow``: every load metered; ``pseudo_power_flow``: unmetered loads at
        their profile value.
    vm_pu : Series
        Bus voltage magnitude [pu] by bus index.
    line_loading_percent, trafo_loading_percent : Series
        Loading [%] by line / transformer index.
    metered_loads, loads : int
        Loads with a measured ``p`` in the interval, and all loads.
    converged : bool
    update_s : float
        Wall time of the update [s] (reading, solving, writing the state).
    notes : tuple of str
    chi2_passed : bool or None
        State estimation: whether the measurements passed the chi-square test (after
        removing bad data); None for a power flow.
    bad_data : tuple of str
        Readings removed as bad data (``"load 3 p"``), with their normalised residual.
    trafo_hot_spot_c : Series or None
        IEC 60076-7 hot-spot temperature [°C] of each two-winding transformer at the end of
        the interval (the thermal model carried from interval to interval, cooling
        :data:`THERMAL_COOLING`, the twin's ambient); None for a model without one.
    load_ratio : float or None
        Measured over profile active power of the metered loads in the interval (the
        profile as the model holds it, unscaled); None without a metered load. The
        forward look may anchor the profiles to the present with it.
    """

    time_utc: pd.Timestamp
    method: Method
    vm_pu: pd.Series
    line_loading_percent: pd.Series
    trafo_loading_percent: pd.Series
    metered_loads: int
    loads: int
    converged: bool
    update_s: float
    notes: tuple[str, ...] = ()
    chi2_passed: bool | None = None
    bad_data: tuple[str, ...] = ()
    trafo_hot_spot_c: pd.Series | None = None
    load_ratio: float | None = None


#: IEC 60076-7 cooling of the live twin's transformers (that of the network checks).
THERMAL_COOLING = "distribution_onan"

#: Meter accuracy as a standard deviation: 2 % of the value, at least 0.1 kW / kvar.
METER_SIGMA_RELATIVE = 0.02
METER_SIGMA_FLOOR_MW = 1e-4
#: Voltage readings [pu]; the substation's set-point where no bus voltage is measured.
VM_SIGMA_PU = 0.005
SOURCE_VM_SIGMA_PU = 0.001
#: Above this many buses the estimator computes normalised residuals only when the
#: chi-square test fails, for the :data:`LARGE_GRID_RN_ROWS` largest weighted residuals
#: (every reading's ``r_N`` costs a sparse solve: a minute and more on 9,099 buses).
LARGE_GRID_BUSES = 1000
LARGE_GRID_RN_ROWS = 500


@dataclass
class _Interval:
    """One interval's set-points (measured or profile) and what was measured."""

    load_p: pd.Series
    load_q: pd.Series
    sgen_p: pd.Series
    sgen_q: pd.Series
    load_metered: set[int] = field(default_factory=set)
    sgen_metered: set[int] = field(default_factory=set)
    q_metered: set[int] = field(default_factory=set)
    vm: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.profile_load = (self.load_p.copy(), self.load_q.copy())
        self.profile_sgen = (self.sgen_p.copy(), self.sgen_q.copy())

    @staticmethod
    def measure(
        p_points: dict[int, tuple[str, float]],
        q_points: dict[int, tuple[str, float]],
        newest: pd.Series,
        p: pd.Series,
        q: pd.Series,
        metered: set[int],
    ) -> None:
        """Overwrite profile values with measured ones (an unmetered q keeps the
        profile's power factor)."""
        for i, (pid, factor) in p_points.items():
            if pid in newest.index and i in p.index:
                measured = float(newest[pid]) * factor
                if i not in q_points and p[i] != 0:
                    q[i] = q[i] * measured / p[i]
                p[i] = measured
                metered.add(i)
        for i, (pid, factor) in q_points.items():
            if pid in newest.index and i in q.index:
                q[i] = float(newest[pid]) * factor

    def load_ratio(self) -> float | None:
        """Measured over profile active power of the metered loads; None without any
        (or with a profile total of zero)."""
        ids = sorted(self.load_metered)
        if not ids:
            return None
        profile = float(self.profile_load[0][ids].sum())
        if abs(profile) < 1e-9:
            return None
        return float(self.load_p[ids].sum()) / profile

    def _meters(self, ids: list[int], p: pd.Series, q: pd.Series) -> Any:
        from gridtwin.network.estimation import PowerReadings

        if not ids:
            return None
        pv, qv = p[ids].to_numpy(), q[ids].to_numpy()
        sig_p = np.maximum(METER_SIGMA_RELATIVE * np.abs(pv), METER_SIGMA_FLOOR_MW)
        q_known = np.array([i in self.q_metered for i in ids])
        sig_q = np.where(
            q_known,
            np.maximum(METER_SIGMA_RELATIVE * np.abs(qv), METER_SIGMA_FLOOR_MW),
            np.maximum(0.5 * np.abs(qv), 1e-3),
        )
        return PowerReadings(np.array(ids, np.int64), pv, qv, sig_p, sig_q)

    @staticmethod
    def _pseudo(ids: list[int], prof: tuple[pd.Series, pd.Series]) -> Any:
        from gridtwin.network.estimation import pseudo_readings

        if not ids:
            return None
        return pseudo_readings(np.array(ids, np.int64), prof[0][ids], prof[1][ids])

    def readings(self, net: Any) -> tuple[Any, Any, tuple[str, ...]]:
        """Meters and pseudo-measurements for the state estimation; notes."""
        from gridtwin.network.estimation import Measurements, VoltageReadings

        notes: tuple[str, ...] = ()
        vm = dict(self.vm)
        for bus, vm_pu in zip(net.ext_grid.bus, net.ext_grid.vm_pu, strict=True):
            if int(bus) not in vm:
                vm[int(bus)] = float(vm_pu)
                notes = ("the substation voltage is the model's set-point (not measured)",)
        sigmas = [VM_SIGMA_PU if b in self.vm else SOURCE_VM_SIGMA_PU for b in vm]
        volts = VoltageReadings(
            np.array(list(vm), np.int64), np.array(list(vm.values())), np.array(sigmas)
        )
        load_ids, sgen_ids = sorted(self.load_metered), sorted(self.sgen_metered)
        readings = Measurements(
            vm=volts,
            load=self._meters(load_ids, self.load_p, self.load_q),
            sgen=self._meters(sgen_ids, self.sgen_p, self.sgen_q),
        )
        rest_load = [int(i) for i in self.load_p.index if int(i) not in self.load_metered]
        rest_sgen = [int(i) for i in self.sgen_p.index if int(i) not in self.sgen_metered]
        pseudos = Measurements(
            load=self._pseudo(rest_load, self.profile_load),
            sgen=self._pseudo(rest_sgen, self.profile_sgen),
        )
        return readings, pseudos, notes


class LiveTwin:
    """A twin kept in step with a measurement store (see the module docstring).

    Parameters
    ----------
    twin : Twin
        The network model; its profiles (or the model's) give the pseudo-measurements.
    store : MeasurementStore
        Where the measurements are, and where the state goes.
    write_state : bool
        Write each interval's state into the store (points of source ``twin``).
    """

    def __init__(self, twin: Twin, store: MeasurementStore, *, write_state: bool = True) -> None:
        self.twin = twin
        self.store = store
        self.write_state = write_state
        net = twin.model.net
        self._load_ids = np.asarray(net.load.index[net.load.in_service.astype(bool)], np.int64)
        self.points = LoadPoints.from_points(store.points(), set(self._load_ids.tolist()), net)
        self._sgen_ids = np.asarray(net.sgen.index[net.sgen.in_service.astype(bool)], np.int64)
        self._estimator: Any = None
        self._step_flow: Any = None  # the power flow of one interval, built at first use
        self._thermal: Any = None  # IEC 60076-7 state after self._thermal_utc's interval
        self._thermal_utc: pd.Timestamp | None = None
        self.profiles: Profiles = twin._profiles()
        self.step = self.profiles.step if self.profiles.n_steps > 1 else pd.Timedelta("15min")
        if self.write_state:
            store.add_points(self._state_points())

    # ------------------------------------------------------------------ set-points

    def _profile_position(self, t_utc: pd.Timestamp) -> int:
        """The profile step of ``t_utc``: the same time if the profiles cover it, else the
        same position modulo the profiles' length (a replay stamped with other dates)."""
        idx = self.profiles.time_utc
        pos = int(idx.get_indexer(pd.DatetimeIndex([t_utc]))[0])
        if pos >= 0:
            return pos
        offset = int((t_utc - idx[0]) // self.step)
        return offset % self.profiles.n_steps

    def _interval(self, t_utc: pd.Timestamp) -> _Interval:
        """Set-points and readings of the interval ``[t, t + step)``."""
        pos = self._profile_position(t_utc)
        prof = self.profiles

        def row(frame: pd.DataFrame, ids: np.ndarray) -> pd.Series:
            return frame.iloc[pos].reindex(ids).astype(float).fillna(0.0)

        iv = _Interval(
            row(prof.load_p_mw, self._load_ids),
            row(prof.load_q_mvar, self._load_ids),
            row(prof.sgen_p_mw, self._sgen_ids),
            row(prof.sgen_q_mvar, self._sgen_ids),
        )
        ids = self.points.point_ids
        if not ids:
            return iv
        newest = self._last_values(ids, t_utc)
        iv.measure(self.points.p, self.points.q, newest, iv.load_p, iv.load_q, iv.load_metered)
        iv.measure(
            self.points.sgen_p, self.points.sgen_q, newest, iv.sgen_p, iv.sgen_q, iv.sgen_metered
        )
        iv.vm = {bus: float(newest[pid]) for bus, pid in self.points.vm.items() if pid in newest}
        iv.q_metered = {i for i, (pid, _) in self.points.q.items() if pid in newest.index}
        return iv

    def _last_values(self, ids: list[str], t_utc: pd.Timestamp) -> pd.Series:
        """Each point's last value in ``[t, t + step)``, by point id.

        From the newest values (the store keeps them at hand) for every point whose
        newest value lies in the interval, the live case; a window query only for the
        points that have moved past it (an interval updated late).
        """
        end = t_utc + self.step
        latest = self.store.latest(ids)
        ts = latest["ts_utc"]
        inside = latest[(ts >= t_utc) & (ts < end)]
        out = pd.Series(
            inside["value"].to_numpy(dtype=np.float64), index=inside["point_id"].to_numpy()
        )
        later = latest.loc[ts >= end, "point_id"].tolist()
        if later:
            got = self.store.window(later, t_utc, end)
            if len(got):
                out = pd.concat([out, got.groupby("point_id")["value"].last()])
        return out

    def setpoints(self, t_utc: pd.Timestamp) -> tuple[pd.Series, pd.Series, int]:
        """Load set-points of the interval [MW], [Mvar]: measured where a value was
        stored in ``[t, t + step)``, the profile's otherwise; and the metered count."""
        iv = self._interval(t_utc)
        return iv.load_p, iv.load_q, len(iv.load_metered)

    # ------------------------------------------------------------------ update

    def update(self, t_utc: pd.Timestamp) -> LiveState:
        """The state of the interval starting at ``t_utc`` (tz-aware)."""
        from gridtwin.errors import ConvergenceError

        t0 = time.perf_counter()
        if t_utc.tzinfo is None:
            msg = f"interval start {t_utc} has no time zone; give it in UTC"
            raise InputError(msg)
        t_utc = t_utc.tz_convert("UTC")
        iv = self._interval(t_utc)
        if len(iv.load_metered) == len(self._load_ids):
            state = self._power_flow(t_utc, iv, "power_flow", ())
        else:
            try:
                state = self._estimate(t_utc, iv)
            except (InputError, ConvergenceError) as exc:  # not observable, or diverged
                note = f"state estimation not possible ({exc}); power flow on profile values"
                state = self._power_flow(t_utc, iv, "pseudo_power_flow", (note,))
        state = replace(state, trafo_hot_spot_c=self._hot_spot(state), load_ratio=iv.load_ratio())
        if self.write_state:
            self._write(state)
        return replace(state, update_s=time.perf_counter() - t0)

    def _power_flow(
        self, t_utc: pd.Timestamp, iv: _Interval, method: Method, notes: tuple[str, ...]
    ) -> LiveState:
        from gridtwin.network import StepPowerFlow

        if self._step_flow is None:  # validated and built once: the network stays
            template = self._one_step(t_utc, iv)
            self._step_flow = StepPowerFlow(self.twin.model, template, self.twin.options)
        r = self._step_flow.solve(self._step_values(t_utc, iv))
        return LiveState(
            time_utc=t_utc,
            method=method,
            vm_pu=pd.Series(r.vm_pu[0], index=r.bus_ids, name="vm_pu"),
            line_loading_percent=pd.Series(r.line_loading_percent[0], index=r.line_ids),
            trafo_loading_percent=pd.Series(r.trafo_loading_percent[0], index=r.trafo_ids),
            metered_loads=len(iv.load_metered),
            loads=len(self._load_ids),
            converged=bool(r.converged[0]),
            update_s=0.0,
            notes=(*notes, *r.notes),
        )

    def _estimate(self, t_utc: pd.Timestamp, iv: _Interval) -> LiveState:
        from gridtwin.network.estimation import EstimationOptions, StateEstimator

        if self._estimator is None:
            options = None
            if len(self.twin.model.net.bus) > LARGE_GRID_BUSES:
                options = EstimationOptions(
                    normalized_residuals="on_alarm", rn_max_rows=LARGE_GRID_RN_ROWS
                )
            self._estimator = StateEstimator(self.twin.model, options)
        readings, pseudo, notes = iv.readings(self.twin.model.net)
        res = self._estimator.estimate(readings, pseudo=pseudo)
        removed = tuple(f"{b.label} (r_N {b.normalized_residual:.1f})" for b in res.removed)
        test = res.test
        notes += (
            f"chi-square test {'passed' if test.passed else 'failed'}: J {test.j:.1f} "
            f"with {test.dof} degrees of freedom (p = {test.p_value:.3f})",
            *res.notes,
        )
        return LiveState(
            time_utc=t_utc,
            method="state_estimation",
            vm_pu=pd.Series(res.vm_pu, index=res.bus, name="vm_pu"),
            line_loading_percent=pd.Series(res.line_loading_percent, index=res.line),
            trafo_loading_percent=pd.Series(res.trafo_loading_percent, index=res.trafo),
            metered_loads=len(iv.load_metered),
            loads=len(self._load_ids),
            converged=True,
            update_s=0.0,
            notes=notes,
            chi2_passed=bool(test.passed),
            bad_data=removed,
        )

    def _hot_spot(self, state: LiveState) -> pd.Series | None:
        """The transformers' hot spot at the end of the interval (IEC 60076-7, the
        exponential solution over one step from the previous interval's thermal state; the
        first interval starts from the steady state of its load). A late interval (not
        after the last one) is computed from the newest thermal state and does not move it."""
        from gridtwin.network.ageing import simulate_thermal, thermal_parameters

        loading = state.trafo_loading_percent
        if loading.empty:
            return None
        k = np.nan_to_num(loading.to_numpy(dtype=np.float64), nan=0.0)[:, np.newaxis] / 100.0
        result = simulate_thermal(
            k,
            float(self.twin.ambient_c),
            thermal_parameters(THERMAL_COOLING),
            step_min=self.step.total_seconds() / 60.0,
            initial=self._thermal,
        )
        if self._thermal_utc is None or state.time_utc > self._thermal_utc:
            self._thermal, self._thermal_utc = result.final_state, state.time_utc
        return pd.Series(result.hot_spot_c[:, -1], index=loading.index, name="hot_spot_c")

    @property
    def thermal(self) -> tuple[Any, pd.Timestamp | None]:
        """The transformers' IEC 60076-7 thermal state after the newest interval, and that
        interval's start (None before the first)."""
        return self._thermal, self._thermal_utc

    def _step_values(self, t_utc: pd.Timestamp, iv: _Interval) -> dict[str, pd.Series]:
        """The set-points of the interval by profile name: the measured or profile values
        of loads and PV, the profile's row for the rest."""
        pos = self._profile_position(t_utc)
        values = {name: frame.iloc[pos] for name, frame in self.profiles.frames().items()}
        return {**values, **_setpoint_frames(iv)}

    def _one_step(self, t_utc: pd.Timestamp, iv: _Interval) -> Profiles:
        pos = self._profile_position(t_utc)
        idx = pd.DatetimeIndex([t_utc], name="time_utc")
        frames = {
            name: pd.DataFrame(frame.iloc[[pos]].to_numpy(), index=idx, columns=frame.columns)
            for name, frame in self.profiles.frames().items()
        }
        for name, series in _setpoint_frames(iv).items():
            frames[name] = pd.DataFrame([series.to_numpy()], index=idx, columns=series.index)
        return type(self.profiles)(time_utc=idx, source=f"live:{t_utc}", **frames)

    # ------------------------------------------------------------------ state history

    def _state_points(self) -> list[MeasurementPoint]:
        net = self.twin.model.net
        out = [
            MeasurementPoint(f"twin:bus:{i}:vm", "vm", "pu", element=f"bus:{i}", source="twin")
            for i in net.bus.index
        ]
        for table in ("line", "trafo"):
            out += [
                MeasurementPoint(
                    f"twin:{table}:{i}:loading",
                    "loading",
                    "%",
                    element=f"{table}:{i}",
                    source="twin",
                )
                for i in getattr(net, table).index
            ]
        return out

    def _write(self, state: LiveState) -> None:
        ids: list[str] = []
        values: list[np.ndarray] = []
        for prefix, series in (
            ("bus", state.vm_pu),
            ("line", state.line_loading_percent),
            ("trafo", state.trafo_loading_percent),
        ):
            ok = series.dropna()
            suffix = "vm" if prefix == "bus" else "loading"
            ids += [f"twin:{prefix}:{i}:{suffix}" for i in ok.index]
            values.append(ok.to_numpy(dtype=np.float64))
        n = len(ids)
        ts = np.full(n, state.time_utc.tz_localize(None).to_datetime64(), "datetime64[us]")
        self.store.write(
            MeasurementBatch.build(
                ids, ts, np.concatenate(values), quality=np.full(n, int(Quality.ESTIMATED))
            )
        )


def _setpoint_frames(iv: _Interval) -> dict[str, pd.Series]:
    """The interval's load and PV set-points by profile name (those with elements)."""
    named = {
        "load_p_mw": iv.load_p,
        "load_q_mvar": iv.load_q,
        "sgen_p_mw": iv.sgen_p,
        "sgen_q_mvar": iv.sgen_q,
    }
    return {name: series for name, series in named.items() if len(series)}


class LiveRunner:
    """Updates a :class:`LiveTwin` as intervals arrive in the store.

    An interval ``t`` is complete when every metered point has a value at or after ``t``
    (the newest stored time of the slowest point has reached it), or, once ``grace_s``
    has passed since the fastest point reached it, with what is there (a meter that stays
    silent does not stop the twin; its load takes the profile value).

    Parameters
    ----------
    live : LiveTwin
    start_utc : Timestamp, optional
        The first interval to update (default: the earliest interval with data).
    poll_s : float
        How often [s] the store is looked at.
    grace_s : float
        How long [s] an interval waits for slow meters.
    on_state : callable, optional
        Called with each new :class:`LiveState`.
    """

    def __init__(
        self,
        live: LiveTwin,
        *,
        start_utc: pd.Timestamp | None = None,
        poll_s: float = 0.2,
        grace_s: float = 5.0,
        on_state: Callable[[LiveState], None] | None = None,
    ) -> None:
        self.live = live
        self.next_utc = start_utc
        self.poll_s = poll_s
        self.grace_s = grace_s
        self.on_state = on_state
        self.states: list[LiveState] = []
        self._first_seen: dict[pd.Timestamp, float] = {}

    def _reached(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """The newest time the slowest and the fastest metered point have reached."""
        ids = self.live.points.point_ids
        if not ids:
            return None, None
        latest = self.live.store.latest(ids)
        if latest.empty:
            return None, None
        slowest = latest["ts_utc"].min() if len(latest) == len(ids) else None
        return slowest, latest["ts_utc"].max()

    def step(self) -> list[LiveState]:
        """Update every interval that is complete now; the new states."""
        slowest, fastest = self._reached()
        if fastest is None:
            return []
        if self.next_utc is None:
            earliest = self.live.store.window(
                self.live.points.point_ids, fastest - 400 * self.live.step, fastest
            )["ts_utc"].min()
            self.next_utc = fastest if pd.isna(earliest) else earliest
        out: list[LiveState] = []
        while self.next_utc is not None and self.next_utc <= fastest:
            t = self.next_utc
            complete = slowest is not None and slowest >= t
            first_seen = self._first_seen.setdefault(t, time.monotonic())
            waited = time.monotonic() - first_seen
            if not complete and waited < self.grace_s:
                break
            state = self.live.update(t)
            self._first_seen.pop(t, None)
            out.append(state)
            if self.on_state is not None:
                self.on_state(state)
            self.next_utc = t + self.live.step
        self.states.extend(out)
        return out

    def run(self, stop: threading.Event) -> None:
        """Update intervals as they arrive until ``stop`` is set."""
        while not stop.wait(self.poll_s):
            self.step()
