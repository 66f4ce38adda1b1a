"""Reading rule and data files (YAML 1.2 or TOML) and turning validation errors into messages.

Every data file of gridtwin (calendars, tariffs, limits, ratings, pump data) is read here,
so they all report problems the same way: ``file: field.path: reason``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gridtwin.errors import InputError

__all__ = ["load_validated", "read_data_file", "validation_lines", "validation_message"]

_M = TypeVar("_M", bound=BaseModel)


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader where only true/false are booleans (YAML 1.2): `off`, `no` stay strings."""


class _FastYaml12Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same with libyaml's parser where PyYAML has it (about ten times faster)."""


for _loader in (_Yaml12Loader, _FastYaml12Loader):
    _loader.yaml_implicit_resolvers = {
        key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )


#: Deepest nesting read: far beyond any real file (the tariffs nest about 8 deep), well
#: within what the parsers survive (libyaml recurses in C and crashes the process near a
#: depth of 100,000) and what the readers after them survive (``copy.deepcopy`` and
#: pydantic recurse in Python: a depth of 990 exceeded Python's recursion limit).
MAX_NESTING = 100


def _too_deep(text: str) -> bool:
    """Whether brackets or indentation nest deeper than :data:`MAX_NESTING` (counted
    coarsely: brackets inside quoted text count too)."""
    depth = deepest = 0
    for ch in re.sub(r"[^\[\]{}]+", "", text):
        depth = depth + 1 if ch in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        return True
    indents = (len(line) - len(line.lstrip(" ")) for line in text.splitlines())
    return max(indents, default=0) > 2 * MAX_NESTING


def _load_yaml(text: str) -> Any:
    """Parse YAML 1.2-style: libyaml first; a document it refuses is parsed again by the
    pure-Python parser, whose error quotes the offending line."""
    try:
        return yaml.load(text, Loader=_FastYaml12Loader)
    except yaml.YAMLError:
        return yaml.load(text, Loader=_Yaml12Loader)


def read_data_file(path: Path, error: type[Exception]) -> dict[str, Any]:
    """Read a YAML or TOML mapping; raise ``error`` naming the file on any problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read file ({exc.strerror})"
        raise error(msg) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        msg = (
            f"{path}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the "
            "file as UTF-8"
        )
        raise error(msg) from None
    if _too_deep(text):
        msg = (
            f"{path}: nested too deeply to read (more than {MAX_NESTING:,} lists or mappings "
            "inside each other)"
        )
        raise error(msg)
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix.lower() in (".yaml", ".yml"):
            data = _load_yaml(text)
        else:
            msg = f"{path}: unknown file type {path.suffix!r}; use .yaml, .yml or .toml"
            raise error(msg)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        msg = f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}"
        raise error(msg) from exc
    except RecursionError:
        msg = f"{path}: nested too deeply to read (lists or mappings inside each other)"
        raise error(msg) from None
    if not isinstance(data, dict):
        msg = f"{path}: the file must hold a mapping at top level, found {type(data).__name__}"
        raise error(msg)
    return data


def validation_lines(where: str, exc: ValidationError) -> list[str]:
    """One 'file: field.path: reason' text per error of a pydantic error, in order (a
    text may hold a line break when a field name does)."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<top level>"
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            reason = "unknown field (check the spelling against the schema)"
        lines.append(f"{where}: {loc}: {reason}")
    return lines


def validation_message(where: str, exc: ValidationError) -> str:
    """Turn a pydantic error into 'file: field.path: reason' lines."""
    return "\n".join(validation_lines(where, exc))


def load_validated(path: str | Path, model: type[_M], error: type[Exception] = InputError) -> _M:
    """Read a YAML/TOML file and validate it into ``model``; ``error`` names file and field."""
    p = Path(path)
    data = read_data_file(p, error)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(validation_message(str(p), exc)) from exc


def read_csv_text(path: str | Path, expected: str, *, comment: str | None = None) -> Any:
    """A small CSV file as a frame of text cells (``""`` for empty ones), with an
    :class:`~gridtwin.errors.InputError` naming the file for an empty file, one that is
    not UTF-8, ragged rows or a file that cannot be read. ``expected`` says what its
    header should hold (for the messages); with ``comment="#"`` lines starting with
    ``#`` are skipped (the bundled data files document themselves that way)."""
    import pandas as pd

    from gridtwin.errors import InputError

    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8", comment=comment
        )
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror})"
        raise InputError(msg) from exc
    except pd.errors.EmptyDataError:
        msg = f"{path}: the file is empty; it needs a header ({expected}) and rows"
        raise InputError(msg) from None
    except UnicodeDecodeError as exc:
        msg = f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save it as UTF-8"
        raise InputError(msg) from None
    except pd.errors.ParserError as exc:
        msg = f"{path}: not a CSV file of {expected} ({exc})"
        raise InputError(msg) from None
