"""The twin's condition-based maintenance: its asset register and the equipment-trend
watch that feeds the alarm system's potential alarms.

The register named by the twin's ``assets.file`` is read when first needed and again
whenever the file changes (so an edit needs no restart; a broken file answers 422 naming
file, asset and field). The trend watch is a thread of the runtime: every
``assets.trend_every_s`` wall seconds it fits the trends of every transformer and line
of the model over the stored state history (:func:`gridtwin.workflows.assets.equipment_trends`)
and hands the warnings to :meth:`LiveAlarms.set_trend_potential`; its errors are kept
in the runtime's errors (``GET /twin``), never only logged.

The functions take the runtime's parts, not the runtime (``service.twin`` starts the
watch; this module does not import it back).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.assets import AssetRegister
    from gridtwin.store import MeasurementStore
    from gridtwin.workflows.assets import ElementTrend
    from gridtwin.workflows.live_alarms import LiveAlarms

__all__ = ["model_elements", "refresh_trends", "start_trend_watch", "twin_register"]

_cache: dict[str, tuple[int, AssetRegister]] = {}
_cache_lock = threading.Lock()


def twin_register(path: str | None) -> AssetRegister | None:
    """The register at ``path`` (None for None), re-read when the file changed."""
    from gridtwin.assets import load_register

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


def model_elements(net: Any) -> list[str]:
    """Every transformer and line of a pandapower net, as element ids."""
    return [f"trafo:{i}" for i in net.trafo.index] + [f"line:{i}" for i in net.line.index]


def refresh_trends(
    store: MeasurementStore,
    alarms: LiveAlarms,
    elements: list[str],
    *,
    window_days: float,
    horizon_days: float,
    ambient_c: float,
    end_utc: pd.Timestamp | None = None,
) -> list[ElementTrend]:
    """Fit the trends now and give their warnings to the alarm system."""
    from gridtwin.workflows.assets import TrendLimits, equipment_trends

    trends = equipment_trends(
        store,
        elements,
        end_utc=end_utc,
        window_days=window_days,
        ambient_c=ambient_c,
        limits=TrendLimits(horizon_days=horizon_days),
    )
    alarms.set_trend_potential([t.alarm for t in trends if t.alarm is not None])
    return trends


def start_trend_watch(
    stop: threading.Event, every_s: float, refresh: Callable[[], object], errors: list[str]
) -> threading.Thread:
    """Call ``refresh`` every ``every_s`` seconds until ``stop``; errors go to ``errors``."""

    def watch() -> None:
        while not stop.wait(every_s):
            try:
                refresh()
            except Exception as exc:  # kept for GET /twin, never only logged
                errors.append(f"equipment trends: {type(exc).__name__}: {exc}")

    thread = threading.Thread(target=watch, name="twin-trends", daemon=True)
    thread.start()
    return thread
