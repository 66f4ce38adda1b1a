"""Load calendars from YAML/TOML files and from the built-in library."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gridtwin.calendar._calendar import Calendar
from gridtwin.calendar._model import CalendarSpec
from gridtwin.errors import CalendarError


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader where only true/false are booleans (YAML 1.2): `off`, `no` stay strings."""


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))

__all__ = ["builtin_calendar_ids", "calendar_from_dict", "get_calendar", "load_calendar",
           "read_data_file", "validation_message"]


def read_data_file(path: Path, error: type[Exception]) -> dict[str, Any]:
    """Read a YAML or TOML mapping; raise ``error`` naming the file on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read file ({exc.strerror})"
        raise error(msg) from exc
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.load(text, Loader=_Yaml12Loader)
        else:
            msg = f"{path}: unknown file type {path.suffix!r}; use .yaml, .yml or .toml"
            raise error(msg)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        msg = f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}"
        raise error(msg) from exc
    if not isinstance(data, dict):
        msg = f"{path}: the file must hold a mapping at top level, found {type(data).__name__}"
        raise error(msg)
    return data


def validation_message(where: str, exc: ValidationError) -> str:
    """Turn a pydantic error into 'file: field.path: reason' lines."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<top level>"
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            reason = "unknown field (check the spelling against the schema)"
        lines.append(f"{where}: {loc}: {reason}")
    return "\n".join(lines)


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
