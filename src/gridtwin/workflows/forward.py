"""The forward look of a live twin: the next hours of its profiles as one batched power flow.

After an interval's state, :class:`ForwardLook` runs the model's load and generator
profiles of the next ``horizon_h`` hours (the same positions the live twin reads its
pseudo-measurements from, so a replay stamped with other years looks ahead in step) as
**one** time-series power flow (:func:`gridtwin.network.simulate`, batched on
power-grid-model), and turns every future step into a :class:`~gridtwin.alarms.Snapshot`
(bus ``vm_pu``, line and transformer ``loading_percent``, transformer ``hot_spot_c``
continued from the live twin's thermal state). Passed as ``forecast=`` to
:meth:`~gridtwin.workflows.live_alarms.LiveAlarms.on_state`, they give the potential
alarms with their lead time: the first future interval at which a rule would activate.

Loads: the profile values times ``load_scale`` (the replay's what-if scaling, so the
forward look sees what the replay will play), or, with ``anchor``, times the present
interval's ratio of measured to profile load of the metered loads (clipped to
:data:`ANCHOR_RANGE`), so that a feeder running hotter than its profiles is looked ahead
of at its present level. Generators keep their profile values.

The look is refreshed every ``every_intervals`` intervals; between refreshes the part of
the last look still ahead of the present interval is used, so the horizon shrinks from
``horizon_h`` by up to ``every_intervals - 1`` steps. ``source`` says where the look came
from: ``"profiles"`` (forecasts are a later source).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.alarms import Snapshot
    from gridtwin.network import Profiles
    from gridtwin.workflows.live import LiveState, LiveTwin

__all__ = ["ANCHOR_RANGE", "ForwardLook", "ForwardLooker", "ForwardSource"]

ForwardSource = Literal["profiles"]
#: The anchor ratio (measured / profile load) is clipped to this range.
ANCHOR_RANGE = (0.1, 10.0)


@dataclass(frozen=True)
class ForwardLook:
    """One forward look.

    Attributes
    ----------
    source : {"profiles"}
        Where the set-points came from.
    from_utc : Timestamp
        The interval after whose state it was computed.
    time_utc : DatetimeIndex
        The future interval starts it covers (``from_utc + step`` onwards).
    snapshots : tuple of Snapshot
        The rules' values of each converged future interval.
    load_factor : float
        What the profile loads were multiplied by (``load_scale`` or the anchor ratio).
    anchored : bool
        Whether ``load_factor`` is the present measured / profile ratio.
    converged_steps : int
    compute_s : float
        Wall time of the look [s] (set-points, power flow, snapshots).
    notes : tuple of str
    """

    source: ForwardSource
    from_utc: pd.Timestamp
    time_utc: pd.DatetimeIndex
    snapshots: tuple[Snapshot, ...]
    load_factor: float
    anchored: bool
    converged_steps: int
    compute_s: float
    notes: tuple[str, ...] = ()

    @property
    def horizon_h(self) -> float:
        """Hours from ``from_utc`` to the last interval start looked at."""
        if len(self.time_utc) == 0:
            return 0.0
        return float((self.time_utc[-1] - self.from_utc) / pd.Timedelta(hours=1))

    def ahead_of(self, t_utc: pd.Timestamp) -> tuple[Snapshot, ...]:
        """The snapshots strictly after ``t_utc``."""
        t = t_utc.to_pydatetime()
        return tuple(s for s in self.snapshots if s.time_utc > t)


class ForwardLooker:
    """Forward looks of a :class:`~gridtwin.workflows.live.LiveTwin` (module docstring).

    Parameters
    ----------
    live : LiveTwin
        The twin: its model, profiles, power-flow options and thermal state.
    horizon_h : float
        Hours to look ahead.
    every_intervals : int
        Refresh the look every this many intervals (1: after every interval).
    load_scale : float
        Multiplies the profile loads (the replay's ``load_scale``).
    anchor : bool
        Multiply the profile loads by the present measured / profile ratio instead (where
        a load is metered; ``load_scale`` otherwise).

    Attributes
    ----------
    available : bool
        False when the twin has no profiles to look ahead in; :attr:`reason` says why.
    latest : ForwardLook or None
        The newest look.
    """

    def __init__(
        self,
        live: LiveTwin,
        *,
        horizon_h: float = 6.0,
        every_intervals: int = 4,
        load_scale: float = 1.0,
        anchor: bool = False,
    ) -> None:
        if not (np.isfinite(horizon_h) and horizon_h > 0):
            msg = f"forward_look.horizon_h must be a number of hours > 0, got {horizon_h!r}"
            raise InputError(msg)
        if int(every_intervals) < 1:
            msg = f"forward_look.every_intervals must be at least 1, got {every_intervals!r}"
            raise InputError(msg)
        if not (np.isfinite(load_scale) and load_scale > 0):
            msg = f"forward_look load_scale must be > 0, got {load_scale!r}"
            raise InputError(msg)
        self.live = live
        self.horizon_h = float(horizon_h)
        self.every_intervals = int(every_intervals)
        self.load_scale = float(load_scale)
        self.anchor = anchor
        self.source: ForwardSource = "profiles"
        self.n_steps = max(1, round(pd.Timedelta(hours=horizon_h) / live.step))
        self.latest: ForwardLook | None = None
        self.looks = 0
        self.total_s = 0.0
        self._since = 0
        self._lock = threading.Lock()
        prof = live.profiles
        self.reason: str | None = None
        if prof.n_steps < 2:
            self.reason = "the model has no profiles to look ahead in (a single snapshot)"
        self.available = self.reason is None

    # ------------------------------------------------------------------ the look

    def look(self, state: LiveState) -> ForwardLook:
        """The forward look after ``state``'s interval (one batched power flow)."""
        from gridtwin.network import simulate

        if not self.available:
            msg = f"no forward look: {self.reason}"
            raise InputError(msg)
        t0 = time.perf_counter()
        factor, anchored, notes = self._factor(state)
        prof = self._future_profiles(state.time_utc, factor)
        result = simulate(self.live.twin.model, prof, options=self.live.twin.options)
        hot = self._hot_spots(result.trafo_loading_percent, result.converged)
        snapshots = self._snapshots(result, hot)
        notes += tuple(result.notes)
        bad = int((~result.converged).sum())
        if bad:
            notes += (f"{bad} future step(s) did not converge and are left out",)
        look = ForwardLook(
            source=self.source,
            from_utc=state.time_utc,
            time_utc=prof.time_utc,
            snapshots=snapshots,
            load_factor=factor,
            anchored=anchored,
            converged_steps=int(result.converged.sum()),
            compute_s=time.perf_counter() - t0,
            notes=notes,
        )
        with self._lock:
            self.latest = look
            self.looks += 1
            self.total_s += look.compute_s
        return look

    def forecast(self, state: LiveState) -> tuple[Snapshot, ...]:
        """What to pass as ``forecast=`` with ``state``: a fresh look every
        ``every_intervals`` intervals (or when the last one no longer reaches beyond the
        present), else the part of the last look still ahead; () when not available."""
        if not self.available:
            return ()
        last = self.latest
        if last is not None and state.time_utc <= last.from_utc:
            return ()  # a late interval: the alarms' timeline has moved on
        ahead = () if last is None else last.ahead_of(state.time_utc)
        self._since += 1
        if not ahead or self._since >= self.every_intervals:
            self._since = 0
            return self.look(state).snapshots
        return ahead

    # ------------------------------------------------------------------ parts

    def _factor(self, state: LiveState) -> tuple[float, bool, tuple[str, ...]]:
        if not self.anchor:
            return self.load_scale, False, ()
        ratio = state.load_ratio
        if ratio is None or not np.isfinite(ratio):
            note = f"no metered load to anchor to: profile loads x {self.load_scale:g}"
            return self.load_scale, False, (note,)
        lo, hi = ANCHOR_RANGE
        clipped = float(min(max(ratio, lo), hi))
        notes: tuple[str, ...] = ()
        if clipped != ratio:
            notes = (f"anchor ratio {ratio:.3g} clipped to {clipped:g}",)
        return clipped, True, notes

    def _future_profiles(self, t_utc: pd.Timestamp, factor: float) -> Profiles:
        """The profile rows of the next :attr:`n_steps` intervals, stamped with their
        future times, loads multiplied by ``factor``."""
        live = self.live
        times = pd.DatetimeIndex(
            [t_utc + k * live.step for k in range(1, self.n_steps + 1)], name="time_utc"
        )
        pos = np.array([live._profile_position(t) for t in times], dtype=np.int64)
        frames: dict[str, pd.DataFrame] = {}
        for name, frame in live.profiles.frames().items():
            values = frame.to_numpy()[pos]
            if name.startswith("load_"):
                values = values * factor
            frames[name] = pd.DataFrame(values, index=times, columns=frame.columns)
        return type(live.profiles)(time_utc=times, source=f"forward:{t_utc}", **frames)

    def _hot_spots(self, loading_percent: Any, converged: Any) -> Any:
        """Hot spots (T, n_trafo) continued from the live twin's thermal state, or None."""
        from gridtwin.network.ageing import simulate_thermal, thermal_parameters
        from gridtwin.workflows.live import THERMAL_COOLING

        initial, _ = self.live.thermal
        load = np.asarray(loading_percent, dtype=np.float64)
        if initial is None or load.ndim != 2 or load.shape[1] == 0:
            return None
        k = np.nan_to_num(load, nan=0.0).T / 100.0
        th = simulate_thermal(
            k,
            float(self.live.twin.ambient_c),
            thermal_parameters(THERMAL_COOLING),
            step_min=self.live.step.total_seconds() / 60.0,
            initial=initial,
        )
        hot = np.asarray(th.hot_spot_c, dtype=np.float64).T
        hot[~np.asarray(converged, dtype=bool)] = np.nan
        return hot

    @staticmethod
    def _snapshots(result: Any, hot: Any) -> tuple[Snapshot, ...]:
        from gridtwin.workflows.live_alarms import snapshot_values

        out = []
        vm = result.vm_pu if result.symmetric else result.vm_pu.min(axis=2)
        for k, t in enumerate(result.time_utc):
            if not bool(result.converged[k]):
                continue
            columns: list[tuple[str, str, Any, Any]] = [
                ("vm_pu", "bus", result.bus_ids, vm[k]),
                ("loading_percent", "line", result.line_ids, result.line_loading_percent[k]),
                ("loading_percent", "trafo", result.trafo_ids, result.trafo_loading_percent[k]),
            ]
            if hot is not None:
                columns.append(("hot_spot_c", "trafo", result.trafo_ids, hot[k]))
            out.append(snapshot_values(t.to_pydatetime(), columns))
        return tuple(out)
