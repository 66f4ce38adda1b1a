"""Telemetry workflows: what joins the network twin and the live-data layer.

The ingest package never imports the network model (the data layer stays below the
domain); this module builds what the replay source plays from a SimBench grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from gridtwin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.ingest import IngestCounters
    from gridtwin.network import NetworkModel
    from gridtwin.store import MeasurementPoint

__all__ = ["ReplayDemo", "replay_demo", "simbench_replay_frame"]


def simbench_replay_frame(
    code: str,
    *,
    unit: Literal["kW", "MW"] = "kW",
    start_utc: pd.Timestamp | None = None,
    end_utc: pd.Timestamp | None = None,
    model: NetworkModel | None = None,
) -> tuple[pd.DataFrame, list[MeasurementPoint]]:
    """The load and generator profiles of a SimBench grid as a replay frame.

    Parameters
    ----------
    code : str
        SimBench code (``1-LV-rural1--0-sw``).
    unit : {"kW", "MW"}
        Unit of the points.
    start_utc, end_utc : Timestamp, optional
        Keep the steps in ``[start_utc, end_utc)`` (SimBench's year is 2016).
    model : NetworkModel, optional
        The grid, if the caller has loaded it already (else it is loaded here).

    Returns
    -------
    frame : DataFrame
        Time (UTC period starts) x point ids (``load:12:p``), consumer frame.
    points : list of MeasurementPoint
        The points to register.
    """
    from gridtwin.ingest import frame_from_profiles
    from gridtwin.network import load_simbench

    if model is None:
        model = load_simbench(code)
    prof = model.profiles
    if prof is None:  # pragma: no cover - load_simbench attaches them
        msg = f"SimBench grid {code} has no profiles"
        raise InputError(msg)
    keep = np.ones(prof.n_steps, dtype=bool)
    if start_utc is not None:
        keep &= prof.time_utc >= start_utc
    if end_utc is not None:
        keep &= prof.time_utc < end_utc
    if not keep.any():
        msg = (
            f"--start/--end select no step of {code}'s profiles "
            f"({prof.time_utc[0]} to {prof.time_utc[-1]})"
        )
        raise InputError(msg)
    prof = prof.select(np.flatnonzero(keep))
    frames = {k: v for k, v in prof.frames().items() if v.shape[1] and "storage" not in k}
    return frame_from_profiles(frames, prof.time_utc, unit=unit, source=f"simbench:{code}")


@dataclass(frozen=True)
class ReplayDemo:
    """What the demo's live-data part shows.

    Attributes
    ----------
    first, again : IngestCounters
        Counters of the replay into an empty store, and of the same replay again (every
        value a duplicate: nothing stored twice).
    latest : DataFrame
        The newest value of each point after the replay.
    points : int
        Points registered.
    """

    first: IngestCounters
    again: IngestCounters
    latest: pd.DataFrame
    points: int


def replay_demo(code: str, folder: Path, *, hours: int = 24) -> ReplayDemo:
    """Replay the first ``hours`` of a SimBench grid's profiles into an embedded store in
    ``folder`` as fast as it takes them, twice: the live channel end to end."""
    import threading

    import pandas as pd

    from gridtwin.ingest import Pipeline, ReplaySource, run_sources
    from gridtwin.network._model import SIMBENCH_YEAR_START_UTC
    from gridtwin.store import open_store

    end = SIMBENCH_YEAR_START_UTC + pd.Timedelta(hours=hours)
    frame, points = simbench_replay_frame(code, end_utc=end)
    store = open_store(folder, create=True)
    try:
        store.add_points(points)
        runs = []
        for _ in range(2):
            with Pipeline(store) as pipe:
                source = ReplaySource(frame, speed=float("inf"), chunk_steps=4)
                runs.append(run_sources(pipe, [source], threading.Event()))
        latest = store.latest()
    finally:
        store.close()
    return ReplayDemo(runs[0], runs[1], latest, len(points))
