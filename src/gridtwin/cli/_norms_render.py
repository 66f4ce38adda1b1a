"""Terminal rendering (rich) of the pumping-station norms (placeholder until the rich
renderers move here from :mod:`gridtwin.heatnet.report`)."""

from __future__ import annotations

from gridtwin.heatnet.report import (
    coming_year_renderable,
    frame_renderable,
    past_year_renderable,
    territorial_renderable,
)

__all__ = [
    "coming_year_renderable",
    "frame_renderable",
    "past_year_renderable",
    "territorial_renderable",
]
