"""Running a command in-process and judging how it ended (issue 17).

A corrupted input may end in exactly two ways: exit 0 with a result, or a clear gridtwin
error (exit 1, 2 or 3, a message (for 2 on standard error), no traceback). :func:`invoke`
sorts every run into ``ok``, ``clean``, ``traceback``, ``exit0_invalid`` (exit 0 on an
input that is invalid for sure) or ``silent`` (a failing exit code and not a word said).
"""

from __future__ import annotations

import functools
import traceback
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from click.testing import CliRunner

if TYPE_CHECKING:
    import click

#: Exit codes of a clear refusal: 1 (``--check`` found a failure), 2 (bad input), 3 (a
#: power flow did not converge).
CLEAN_CODES = frozenset({1, 2, 3})


@dataclass(frozen=True)
class Outcome:
    """How one run ended."""

    verdict: str  # ok, clean, traceback, exit0_invalid, silent
    exit_code: int
    output: str
    cause: str = ""  # for a traceback: the exception type and the innermost gridtwin frame

    @property
    def bad(self) -> bool:
        """Whether the run broke the rule (anything but a result or a clear error)."""
        return self.verdict not in ("ok", "clean")


@functools.cache
def _command() -> click.Command:
    """The ``gridtwin`` click command, built once (typer rebuilds it on every invoke)."""
    import typer.main

    from gridtwin.cli import app

    return typer.main.get_command(app)


def _cause(exc: BaseException) -> str:
    """The exception type and the innermost frame in gridtwin (else the innermost)."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if "/gridtwin/" in f.filename and "/tests/" not in f.filename]
    frame = (mine or frames or [None])[-1]
    where = f" at {frame.filename.rsplit('/src/', 1)[-1]}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}{where}"


def invoke(args: list[str], *, invalid: bool = False) -> Outcome:
    """Run ``gridtwin ARGS`` in this process and judge the outcome; ``invalid`` says the
    input is invalid for sure (exit 0 is then a failure)."""
    runner = CliRunner()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a warning on stderr is not a crash
        res = runner.invoke(_command(), args, catch_exceptions=True)
    exc = res.exception
    output = res.output
    if exc is not None and not isinstance(exc, SystemExit):
        text = "".join(traceback.format_exception(exc))
        return Outcome("traceback", res.exit_code, output + text, _cause(exc))
    if "Traceback (most recent call last)" in output:
        return Outcome("traceback", res.exit_code, output, "traceback printed")
    if res.exit_code == 0:
        return Outcome("exit0_invalid" if invalid else "ok", 0, output)
    said = res.stderr if res.exit_code == 2 else output  # errors go to standard error
    if res.exit_code in CLEAN_CODES and said.strip():
        return Outcome("clean", res.exit_code, output)
    return Outcome("silent", res.exit_code, output)
