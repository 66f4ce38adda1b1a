"""One line of the live twin's state, printed every few seconds by ``gridtwin serve`` (and
so by ``make run``): what a person at the terminal wants to know at a glance."""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from gridtwin.service._state import ServiceState
    from gridtwin.service.twin import TwinRuntime

__all__ = ["state_line", "status_extension"]

_PRIORITY_ORDER = ("critical", "high", "medium", "low")


def _extreme(series: Any, how: str) -> tuple[float, Any] | None:
    """The lowest or highest finite value of a series and its index."""
    if series is None or len(series) == 0:
        return None
    values = series.dropna()
    if values.empty:
        return None
    at = values.idxmin() if how == "min" else values.idxmax()
    return float(values[at]), at


def state_line(runtime: TwinRuntime) -> str:
    """``twin NAME: <interval> UTC, <method>; lowest V <pu> (bus i); highest loading
    <%> (line j); <n> active alarm(s) (<by priority>); update <ms>`` or a waiting line."""
    name = runtime.config.name
    state = runtime.latest()
    if state is None:
        return f"twin {name}: waiting for the first interval's measurements"
    parts = [f"{state.time_utc:%Y-%m-%d %H:%M} UTC, {state.method.replace('_', ' ')}"]
    low = _extreme(state.vm_pu, "min")
    if low is not None:
        parts.append(f"lowest voltage {low[0]:.3f} pu (bus {low[1]})")
    loads = [
        (v, f"{kind} {at}")
        for kind, series in (
            ("line", state.line_loading_percent),
            ("trafo", state.trafo_loading_percent),
        )
        if (found := _extreme(series, "max")) is not None
        for v, at in [found]
    ]
    if loads:
        value, where = max(loads)
        if math.isfinite(value):
            parts.append(f"highest loading {value:.0f} % ({where})")
    active = runtime.alarms.state.active()
    counts = {p: sum(1 for a in active if a.priority == p) for p in _PRIORITY_ORDER}
    said = ", ".join(f"{n} {p}" for p, n in counts.items() if n)
    parts.append(f"{len(active)} active alarm(s)" + (f" ({said})" if said else ""))
    parts.append(f"update {state.update_s * 1000:.0f} ms")
    if runtime.errors:
        parts.append(f"STOPPED PARTS: {'; '.join(runtime.errors)}")
    return f"twin {name}: " + "; ".join(parts)


def status_extension(every_s: float, out: TextIO | None = None) -> Any:
    """A ``create_app`` extension that prints :func:`state_line` every ``every_s`` seconds
    while the app runs (after the twin's extension, which it reads)."""

    @contextlib.asynccontextmanager
    async def status(state: ServiceState) -> AsyncIterator[None]:
        runtime: Any = state.extras.get("twin")
        stop = threading.Event()
        stream = out or sys.stdout

        def loop() -> None:
            while not stop.wait(every_s):
                print(state_line(runtime), file=stream, flush=True)  # runtime: not None

        thread = None
        if runtime is not None:
            thread = threading.Thread(target=loop, name="twin-status", daemon=True)
            thread.start()
        try:
            yield None
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=5)

    return status
