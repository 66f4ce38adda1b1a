"""The live twin: the network state of each interval, from what the store holds.

:class:`LiveTwin` joins a :class:`~gridtwin.workflows.twin.Twin` (the network model and its
profiles) with a measurement store. For an interval ``[t, t + step)`` it takes the newest
stored value of every mapped point in that interval:

- **every load metered** (``p``, and ``q`` where measured; an unmetered ``q`` keeps the
  profile's power factor): a power flow of that one step on the measured set-points;
- **partial metering**: the unmetered loads take their profile value for the interval
  as a pseudo-measurement (state estimation with bad-data detection replaces this step
  once :mod:`gridtwin.network.estimation` is wired in; until then the power flow runs on
  the mixed set-points and the state says how many loads were metered).

The state of each interval is written back into the store as points of source ``twin``
(``twin:bus:<i>:vm``, ``twin:line:<i>:loading``, ``twin:trafo:<i>:loading``) with the
quality flag ``estimated``, so that the history of the twin's state is read, exported and
served like any measurement.

Points map onto the model through their ``element`` (``load:12``) and ``quantity``
(``p``/``q`` in W, kW or MW / var, kvar or Mvar, consumer sign).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.store import MeasurementBatch, MeasurementPoint, Quality, quantities

if TYPE_CHECKING:
    from gridtwin.network import PowerFlowResult, Profiles
    from gridtwin.store import MeasurementStore
    from gridtwin.workflows.twin import Twin

__all__ = ["LiveRunner", "LiveState", "LiveTwin", "LoadPoints"]

Method = Literal["power_flow", "pseudo_power_flow"]
_STATE_SOURCE = "twin"


@dataclass(frozen=True)
class LoadPoints:
    """The store's points that meter the model's loads.

    Attributes
    ----------
    p, q : dict of int to (str, float)
        Load index -> (point id, factor from the point's unit to MW / Mvar).
    """

    p: dict[int, tuple[str, float]]
    q: dict[int, tuple[str, float]]

    @classmethod
    def from_points(cls, points: list[MeasurementPoint], load_ids: set[int]) -> LoadPoints:
        """Map the points whose element is a load of the model (others are ignored)."""
        p: dict[int, tuple[str, float]] = {}
        q: dict[int, tuple[str, float]] = {}
        known = quantities()
        for pt in points:
            if pt.element is None or not pt.element.startswith("load:"):
                continue
            if pt.quantity not in ("p", "q") or pt.source == _STATE_SOURCE:
                continue
            idx = int(pt.element.split(":", 1)[1])
            if idx not in load_ids:
                msg = f"point {pt.point_id!r}: element {pt.element} is not a load of the model"
                raise InputError(msg)
            target = p if pt.quantity == "p" else q
            if idx in target:
                msg = (
                    f"points {target[idx][0]!r} and {pt.point_id!r} both meter "
                    f"{pt.quantity} of {pt.element}; keep one"
                )
                raise InputError(msg)
            factor_to_mw = known[pt.quantity].units[pt.unit] / 1000.0  # base kW / kvar
            target[idx] = (pt.point_id, factor_to_mw)
        return cls(p, q)

    @property
    def point_ids(self) -> list[str]:
        """Every mapped point id."""
        return [pid for pid, _ in (*self.p.values(), *self.q.values())]


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
        self.points = LoadPoints.from_points(store.points(), set(self._load_ids.tolist()))
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

    def setpoints(self, t_utc: pd.Timestamp) -> tuple[pd.Series, pd.Series, int]:
        """Load set-points of the interval [MW], [Mvar]: measured where a value was
        stored in ``[t, t + step)``, the profile's otherwise; and the metered count."""
        pos = self._profile_position(t_utc)
        p = self.profiles.load_p_mw.iloc[pos].reindex(self._load_ids).astype(float)
        q = self.profiles.load_q_mvar.iloc[pos].reindex(self._load_ids).astype(float)
        p, q = p.fillna(0.0), q.fillna(0.0)
        ids = self.points.point_ids
        if not ids:
            return p, q, 0
        got = self.store.window(ids, t_utc, t_utc + self.step)
        newest = got.groupby("point_id")["value"].last() if len(got) else pd.Series(dtype=float)
        metered = 0
        for load, (pid, factor) in self.points.p.items():
            if pid in newest.index:
                measured = float(newest[pid]) * factor
                if load not in self.points.q and p[load] != 0:  # keep the profile's cos phi
                    q[load] = q[load] * measured / p[load]
                p[load] = measured
                metered += 1
        for load, (pid, factor) in self.points.q.items():
            if pid in newest.index:
                q[load] = float(newest[pid]) * factor
        return p, q, metered

    # ------------------------------------------------------------------ update

    def update(self, t_utc: pd.Timestamp) -> LiveState:
        """The state of the interval starting at ``t_utc`` (tz-aware)."""
        from gridtwin.network import simulate

        t0 = time.perf_counter()
        if t_utc.tzinfo is None:
            msg = f"interval start {t_utc} has no time zone; give it in UTC"
            raise InputError(msg)
        t_utc = t_utc.tz_convert("UTC")
        p, q, metered = self.setpoints(t_utc)
        method: Method = "power_flow" if metered == len(self._load_ids) else "pseudo_power_flow"
        prof = self._one_step(t_utc, p, q)
        result = simulate(self.twin.model, prof, options=self.twin.options)
        state = self._state(t_utc, method, result, metered)
        if self.write_state:
            self._write(state)
        return LiveState(**{**state.__dict__, "update_s": time.perf_counter() - t0})

    def _one_step(self, t_utc: pd.Timestamp, p: pd.Series, q: pd.Series) -> Profiles:
        pos = self._profile_position(t_utc)
        idx = pd.DatetimeIndex([t_utc], name="time_utc")
        frames = {
            name: pd.DataFrame(frame.iloc[[pos]].to_numpy(), index=idx, columns=frame.columns)
            for name, frame in self.profiles.frames().items()
        }
        frames["load_p_mw"] = pd.DataFrame([p.to_numpy()], index=idx, columns=p.index)
        frames["load_q_mvar"] = pd.DataFrame([q.to_numpy()], index=idx, columns=q.index)
        return type(self.profiles)(time_utc=idx, source=f"live:{t_utc}", **frames)

    def _state(
        self, t_utc: pd.Timestamp, method: Method, r: PowerFlowResult, metered: int
    ) -> LiveState:
        return LiveState(
            time_utc=t_utc,
            method=method,
            vm_pu=pd.Series(r.vm_pu[0], index=r.bus_ids, name="vm_pu"),
            line_loading_percent=pd.Series(r.line_loading_percent[0], index=r.line_ids),
            trafo_loading_percent=pd.Series(r.trafo_loading_percent[0], index=r.trafo_ids),
            metered_loads=metered,
            loads=len(self._load_ids),
            converged=bool(r.converged[0]),
            update_s=0.0,
            notes=tuple(r.notes),
        )

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
