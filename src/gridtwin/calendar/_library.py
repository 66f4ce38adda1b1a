"""Load calendars from YAML/TOML files and from the built-in library."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gridtwin._datafile import read_data_file, validation_message
from gridtwin.calendar._calendar import Calendar
from gridtwin.calendar._model import CalendarSpec
from gridtwin.errors import CalendarError

__all__ = ["builtin_calendar_ids", "calendar_from_dict", "get_calendar", "load_calendar"]


def calendar_from_dict(data: dict[str, Any], where: str = "<calendar>") -> Calendar:
    """Validate a calendar mapping and build a :class:`Calendar`."""
    try:
        spec = CalendarSpec.model_validate(data)
    except ValidationError as exc:
        raise CalendarError(validation_message(where, exc)) from exc
    return Calendar(spec)


def load_calendar(path: str | Path) -> Calendar:
    """Load a calendar from a YAML or TOML file."""
    p = Path(path)
    return calendar_from_dict(read_data_file(p, CalendarError), str(p))


def _builtin_files() -> dict[str, Path]:
    root = resources.files("gridtwin.calendar") / "data"
    out: dict[str, Path] = {}
    for entry in root.iterdir():
        if entry.name.endswith((".yaml", ".toml")):
            path = Path(str(entry))
            data = read_data_file(path, CalendarError)
            out[str(data.get("id"))] = path
    return out


def builtin_calendar_ids() -> tuple[str, ...]:
    """Ids of the calendars shipped with gridtwin."""
    return tuple(sorted(_builtin_files()))


@cache
def get_calendar(calendar_id: str) -> Calendar:
    """Return a built-in calendar by id (cached)."""
    files = _builtin_files()
    if calendar_id not in files:
        msg = f"no built-in calendar {calendar_id!r}; built-in: {sorted(files)}"
        raise CalendarError(msg)
    return load_calendar(files[calendar_id])
