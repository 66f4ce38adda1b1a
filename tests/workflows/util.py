"""What the live-twin tests share: a store holding replayed telemetry."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gridtwin.ingest import Pipeline, ReplaySource, run_sources
from gridtwin.store import MeasurementPoint, MeasurementStore, open_store


def replayed_store(
    folder: Path, frame: pd.DataFrame, points: Sequence[MeasurementPoint]
) -> MeasurementStore:
    """A new store in ``folder`` with ``points``, holding ``frame`` (a column per point,
    UTC rows) replayed through a pipeline at once."""
    store = open_store(folder, create=True)
    store.add_points(points)
    with Pipeline(store) as pipe:
        run_sources(pipe, [ReplaySource(frame, speed=float("inf"))], threading.Event())
    return store
