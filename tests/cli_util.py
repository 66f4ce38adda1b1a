"""What the command-line tests share: the CLI run as a user runs it, and a month of
interval data in a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def gridtwin(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    """Run ``gridtwin ARGS`` in a new process; its exit code and everything it printed."""
    out = subprocess.run(
        [sys.executable, "-m", "gridtwin", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    return out.returncode, out.stdout + out.stderr


def month_csv(folder: Path, start: str, tz: str, kwh: float = 0.1) -> str:
    """A wide interval file of one meter ``m0``: a calendar month of 15-min values from
    local midnight of ``start`` in ``tz``, timestamps in UTC."""
    first = pd.Timestamp(start, tz=tz)
    idx = pd.date_range(first, first + pd.DateOffset(months=1), freq="15min", inclusive="left")
    path = folder / "d.csv"
    pd.DataFrame(
        {
            "timestamp": idx.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "m0": np.full(len(idx), kwh),
        }
    ).to_csv(path, index=False)
    return str(path)
