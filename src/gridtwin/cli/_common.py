"""What every command shares: the console, clean errors, output formats, atomic files.

Only the standard library, typer and rich are imported here, so that ``gridtwin --help``
starts at once; the commands import the workflows they call inside their bodies.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gridtwin.errors import GridTwinError, InputError

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

__all__ = [
    "check_choice",
    "console",
    "frame_text",
    "print_json",
    "print_notes",
    "run",
    "write_text",
]


def console(min_width: int = 120) -> Console:
    """A console; at least ``min_width`` columns wide when output is not a terminal."""
    from rich.console import Console

    con = Console()
    if not con.is_terminal:
        con = Console(width=max(min_width, con.width))
    return con


def run(fn: Callable[[], None]) -> None:
    """Run a command body; print a GridTwinError as one line and exit with code 2."""
    try:
        fn()
    except GridTwinError as exc:
        console().print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from exc


def check_choice(value: str, option: str, choices: Sequence[str]) -> None:
    """An InputError naming the option when ``value`` is not one of ``choices``."""
    if value not in choices:
        msg = f"{option} {value!r}: use one of {', '.join(choices)}"
        raise InputError(msg)


def print_json(obj: Any) -> None:
    """Pretty JSON on standard output (dates and other objects as strings)."""
    typer.echo(json.dumps(obj, indent=2, default=str))


def print_notes(notes: Sequence[str], style: str = "yellow") -> None:
    """Each note on its own line."""
    con = console()
    for note in notes:
        con.print(f"[{style}]{note}[/{style}]", markup=True, highlight=False)


def write_text(text: str, output: Path | None, option: str = "--output") -> None:
    """``text`` to standard output, or atomically to ``output`` (nothing half-written)."""
    if output is None:
        sys.stdout.write(text)
        return
    if not output.parent.is_dir():
        msg = f"{option} {output}: directory {output.parent} does not exist"
        raise InputError(msg)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    console().print(f"wrote {output}")


def frame_text(frame: pd.DataFrame, fmt: str) -> str:
    """A frame as CSV or JSON records."""
    if fmt == "csv":
        return str(frame.to_csv(index=False))
    return str(frame.to_json(orient="records", indent=2, force_ascii=False)) + "\n"
