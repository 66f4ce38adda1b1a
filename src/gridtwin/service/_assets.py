"""The twin's condition-based maintenance: its asset register and the equipment-trend
watch that feeds the alarm system's potential alarms.

The register named by the twin's ``assets.file`` is read when first needed and
again whenever the file changes (so an edit needs no restart; a broken file answers 422
naming file, asset and field). The trend watch is a thread of the runtime: every
``assets.trend_every_s`` wall seconds it fits the trends of every transformer and line
of the model over the stored state history (:func:`gridtwin.workflows.assets.equipment_trends`)
and hands the warnings to :meth:`LiveAlarms.set_trend_potential`; its errors are kept
in the runtime's errors (``GET /twin``), never only logged.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.assets import AssetRegister
    from gridtwin.service._state import ServiceState
    from gridtwin.service.twin import TwinRuntime
    from gridtwin.workflows.assets import ElementTrend

__all__ = ["model_elements", "refresh_trends", "start_trend_watch", "twin_register"]

_cache: dict[str, tuple[int, AssetRegister]] = {}
_cache_lock = threading.Lock()


def twin_register(runtime: TwinRuntime) -> AssetRegister | None:
    """The twin's register (None when its file names none), re-read when it changed."""
    from gridtwin.assets import load_register

    path = runtime.config.assets.file
    if path is None:
        return None
    try:
        stamp = Path(path).stat().st_mtime_ns
    except OSError:
        stamp = -1  # load_register says what is wrong with the file
    with _cache_lock:
        hit = _cache.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    reg = load_register(path)
    with _cache_lock:
        _cache[path] = (stamp, reg)
    return reg


def model_elements(runtime: TwinRuntime) -> list[str]:
    """Every transformer and line of the twin's model, as element ids."""
    net = runtime.live.twin.model.net
    return [f"trafo:{i}" for i in net.trafo.index] + [f"line:{i}" for i in net.line.index]


def refresh_trends(
    runtime: TwinRuntime, state: ServiceState, end_utc: pd.Timestamp | None = None
) -> list[ElementTrend]:
    """Fit the trends now and give their warnings to the alarm system."""
    from gridtwin.workflows.assets import TrendLimits, equipment_trends

    cfg = runtime.config.assets
    trends = equipment_trends(
        state.store,
        model_elements(runtime),
        end_utc=end_utc,
        window_days=cfg.window_days,
        ambient_c=float(runtime.live.twin.ambient_c),
        limits=TrendLimits(horizon_days=cfg.trend_horizon_days),
    )
    runtime.alarms.set_trend_potential([t.alarm for t in trends if t.alarm is not None])
    return trends


def start_trend_watch(runtime: TwinRuntime, state: ServiceState) -> threading.Thread | None:
    """Start the trend watch (None when the twin's file turns it off)."""
    cfg = runtime.config.assets
    if not cfg.trends:
        return None

    def watch() -> None:
        while not runtime.stop.wait(cfg.trend_every_s):
            try:
                refresh_trends(runtime, state)
            except Exception as exc:  # kept for GET /twin, never only logged
                runtime.errors.append(f"equipment trends: {type(exc).__name__}: {exc}")

    thread = threading.Thread(target=watch, name="twin-trends", daemon=True)
    thread.start()
    return thread
