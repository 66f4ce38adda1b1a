"""Run a folder of COMTRADE records through ``gridtwin quality assess`` and count them.

Usage::

    .venv/bin/python bench/comtrade_campaign.py FOLDER [--standard 'EN 50160:2010'] [--json OUT]

Every ``.cfg``/``.cff`` under FOLDER (recursively) is assessed by the command line in this
process (default options, JSON output). A record is *processed* (exit 0), *refused* (exit 2
with a one-line reason from gridtwin.errors) or *crashed* (any other exit, or a traceback).
Prints one line per record and the counts; refusal reasons are grouped by their first
words. The records stay where they are (they are never copied into the repository).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from gridtwin.cli import app


def _reason(output: str, cfg: Path) -> str:
    """The refusal message without the file's path."""
    text = " ".join(output.split())
    text = text.replace(str(cfg), "<cfg>")
    return re.sub(r"^error:\s*", "", text)[:300]


def _kind(reason: str) -> str:
    """A short key grouping refusals (the words after the file name)."""
    m = re.search(r"<cfg>:?\s*(.*)", reason)
    words = re.sub(r"[0-9.]+", "#", (m.group(1) if m else reason)).split()
    return " ".join(words[:6])


def main(argv: list[str] | None = None) -> int:
    """Assess every record under the folder; print per-record results and the counts."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--standard", default="EN 50160:2010")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    args = ap.parse_args(argv)
    records = sorted(
        p for p in args.folder.rglob("*") if p.suffix.lower() in (".cfg", ".cff") and p.is_file()
    )
    runner = CliRunner()
    results = []
    for cfg in records:
        t0 = time.perf_counter()
        res = runner.invoke(
            app, ["quality", "assess", str(cfg), "--standard", args.standard, "--format", "json"]
        )
        took = time.perf_counter() - t0
        if res.exit_code == 0:
            status, reason = "processed", ""
            doc = json.loads(res.output)
            verdicts = ",".join(sorted({p["verdict"] for p in doc["points"]}))
            reason = f"verdicts {verdicts}; {len(doc['notes'])} notes"
        elif (res.exit_code == 2 and res.exception is None) or isinstance(
            res.exception, SystemExit
        ):
            status, reason = "refused", _reason(res.output, cfg)
        else:
            status = "crashed"
            reason = f"{type(res.exception).__name__}: {res.exception}"
        if res.exit_code not in (0, 2):
            status = "crashed"
        results.append(
            {
                "record": str(cfg.relative_to(args.folder)),
                "status": status,
                "reason": reason,
                "seconds": round(took, 2),
            }
        )
        print(f"{status:9s} {took:6.2f}s {cfg.relative_to(args.folder)}: {reason[:160]}")
    counts = Counter(r["status"] for r in results)
    kinds = Counter(_kind(r["reason"]) for r in results if r["status"] == "refused")
    print(f"\n{len(results)} records: " + ", ".join(f"{v} {k}" for k, v in counts.most_common()))
    for k, v in kinds.most_common():
        print(f"  refused {v:3d} x {k}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    return 1 if counts.get("crashed") else 0


if __name__ == "__main__":
    sys.exit(main())
