"""Running a benchmark script the way its smoke test does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_quick(
    script: str, out: Path, *extra: str, timeout_s: float = 600
) -> subprocess.CompletedProcess[str]:
    """``bench/<script> --quick --out <out> [extra]`` in a subprocess from the project root
    (output captured; the caller checks the return code)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--quick", "--out", str(out), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout_s,
        check=False,
    )
