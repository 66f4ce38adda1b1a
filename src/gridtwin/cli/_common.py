"""What every command shares: the console, clean errors, output formats, atomic files.

Only the standard library, typer and rich are imported here, so that ``gridtwin --help``
starts at once; the commands import the workflows they call inside their bodies.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gridtwin.errors import GridTwinError, InputError

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

__all__ = [
    "check_choice",
    "check_output",
    "console",
    "error_console",
    "frame_text",
    "print_json",
    "print_notes",
    "run",
    "write_text",
    "writing",
]


def console(min_width: int = 120) -> Console:
    """A console; at least ``min_width`` columns wide when output is not a terminal."""
    from rich.console import Console

    con = Console()
    if not con.is_terminal:
        con = Console(width=max(min_width, con.width))
    return con


def error_console() -> Console:
    """A console on standard error (error messages never mix with a command's output)."""
    from rich.console import Console

    return Console(stderr=True, width=max(120, Console(stderr=True).width))


def run(fn: Callable[[], None]) -> None:
    """Run a command body; print a GridTwinError as one line on standard error and exit
    with code 2."""
    try:
        fn()
    except GridTwinError as exc:
        from rich.markup import escape

        error_console().print(
            f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True
        )
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
        from rich.markup import escape

        con.print(f"[{style}]{escape(note)}[/{style}]", markup=True, highlight=False)


def check_output(output: Path | None, option: str = "--output") -> None:
    """Refuse an output file that cannot be written, before any work is done: a folder,
    a missing folder, a folder this user may not write to."""
    if output is None:
        return
    if output.is_dir():
        msg = f"{option} {output}: is a folder; give a file name in it"
        raise InputError(msg)
    parent = output.parent if str(output.parent) else Path()
    if not parent.is_dir():
        msg = f"{option} {output}: folder {parent} does not exist; create it first"
        raise InputError(msg)
    if not os.access(parent, os.W_OK):
        msg = f"{option} {output}: folder {parent} is not writable"
        raise InputError(msg)


@contextlib.contextmanager
def writing(output: Path, option: str = "--output") -> Iterator[Path]:
    """A temporary file beside ``output`` to write to, renamed onto it when the block
    ends: nothing is half-written, and a failed write (a full disk) is an error naming
    ``option``."""
    check_output(output, option)
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        yield tmp
        tmp.replace(output)
    except OSError as exc:
        msg = f"{option} {output}: cannot write ({exc.strerror or exc})"
        raise InputError(msg) from exc
    finally:
        tmp.unlink(missing_ok=True)


def write_text(text: str, output: Path | None, option: str = "--output") -> None:
    """``text`` to standard output, or atomically to ``output`` (nothing half-written)."""
    if output is None:
        sys.stdout.write(text)
        return
    with writing(output, option) as tmp:
        tmp.write_text(text, encoding="utf-8")
    console().print(f"wrote {output}")


def frame_text(frame: pd.DataFrame, fmt: str) -> str:
    """A frame as CSV or JSON records."""
    if fmt == "csv":
        return str(frame.to_csv(index=False))
    return str(frame.to_json(orient="records", indent=2, force_ascii=False)) + "\n"
