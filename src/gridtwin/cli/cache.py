"""``gridtwin cache info|clear``: the disk cache of SimBench grids.

SimBench commands (``--simbench CODE``) keep the converted grid and its profiles in the
user cache folder, so that the second command on a grid starts at once. The folder is
``$GRIDTWIN_CACHE_DIR`` if set (``off`` switches the cache off), else
``$XDG_CACHE_HOME/gridtwin`` or ``~/.cache/gridtwin``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridtwin.cli._common import check_choice, console, print_json, run

__all__ = ["app"]

app = typer.Typer(help="The disk cache of SimBench grids.", no_args_is_help=True)

DIR_HELP = "Cache folder (default: $GRIDTWIN_CACHE_DIR or the user cache folder)."


def _root(cache_dir: Path | None) -> Path | None:
    from gridtwin.network._simbench_cache import resolve_cache_dir

    return resolve_cache_dir(cache_dir)


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB"


@app.command("info")
def cache_info(
    cache_dir: Annotated[Path | None, typer.Option("--dir", help=DIR_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """List the cached SimBench grids with their versions and sizes."""

    def body() -> None:
        from gridtwin.network._simbench_cache import entries, entry_key, max_bytes

        check_choice(fmt, "--format", ("table", "json"))
        cap = max_bytes()
        root = _root(cache_dir)
        found = entries(root) if root is not None else []
        rows = [
            {
                "code": e.code,
                "key": e.key,
                "parts": list(e.parts),
                "size_bytes": e.size_bytes,
                "current": e.current,
                "path": str(e.path),
            }
            for e in found
        ]
        if fmt == "json":
            print_json(
                {
                    "cache_dir": None if root is None else str(root),
                    "max_bytes": cap,
                    "entries": rows,
                }
            )
            return
        _print_table(root, rows, entry_key(), cap)

    run(body)


def _print_table(root: Path | None, rows: list[dict[str, object]], key: str, cap: int) -> None:
    from rich.table import Table

    con = console()
    if root is None:
        con.print("the cache is off (GRIDTWIN_CACHE_DIR=off)")
        return
    con.print(f"cache folder: {root}\ncurrent key: {key}")
    if not rows:
        con.print("no cached SimBench grids")
        return
    table = Table(title="Cached SimBench grids")
    for col in ("code", "parts", "size", "versions"):
        table.add_column(col, justify="right" if col == "size" else "left")
    total = 0
    for r in rows:
        size = int(str(r["size_bytes"]))
        total += size
        parts = ", ".join(str(p) for p in r["parts"])  # type: ignore[attr-defined]
        stale = "" if r["current"] else " (stale)"
        table.add_row(str(r["code"]), parts, _mb(size), f"{r['key']}{stale}")
    con.print(table)
    con.print(
        f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}, {_mb(total)} of at most "
        f"{_mb(cap)} (GRIDTWIN_CACHE_MAX_GB; the least recently used grids go first)"
    )


@app.command("clear")
def cache_clear(
    codes: Annotated[
        list[str] | None, typer.Argument(help="SimBench codes (default: all).")
    ] = None,
    cache_dir: Annotated[Path | None, typer.Option("--dir", help=DIR_HELP)] = None,
) -> None:
    """Remove cached SimBench grids (all, or the given codes)."""

    def body() -> None:
        from gridtwin.network._simbench_cache import clear

        root = _root(cache_dir)
        if root is None:
            console().print("the cache is off (GRIDTWIN_CACHE_DIR=off): nothing to clear")
            return
        freed = clear(root, tuple(codes or ()))
        console().print(f"removed {_mb(freed)} from {root / 'simbench'}")

    run(body)
