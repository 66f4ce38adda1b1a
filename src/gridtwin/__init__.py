"""gridtwin: an open-source digital twin of electricity distribution and supply."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
