"""``gridtwin assets rank|trends``: condition-based maintenance on a register and the
twin's stored state history.

``rank`` scores every asset of a register (YAML/TOML/CSV; ``--demo-register`` for the
example register of the demo grid) with the simplified CNAIM-style health index of
:mod:`gridtwin.assets`, on the indicators of the twin's state in ``--store`` (the
``--window-days`` up to ``--end``, default the newest stored state), and prints the
ranking: which asset to visit first, why, and what the calendar plan says.
``trends`` fits the equipment trends of the stored transformers and lines and prints the
early warnings.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridtwin.cli._common import check_choice, console, print_notes, run, write_text
from gridtwin.cli.store import STORE_OPTION, open_cli_store, parse_utc
from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.workflows.assets import AssetRanking, ElementTrend

__all__ = ["app"]

app = typer.Typer(help="Condition-based maintenance: asset ranking, trends.", no_args_is_help=True)

FORMATS = ("table", "json", "csv")
StoreOpt = Annotated[str | None, STORE_OPTION]
WindowOpt = Annotated[
    float, typer.Option("--window-days", min=0.01, max=366, help="State history read [days].")
]
EndOpt = Annotated[
    str | None, typer.Option("--end", help="End of the history (ISO, with a zone); default newest.")
]
AmbientOpt = Annotated[float, typer.Option("--ambient-c", help="Ambient of the hot spot [°C].")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, json or csv.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")]


def _ranking_dict(r: AssetRanking) -> dict[str, Any]:
    from dataclasses import asdict

    from gridtwin.assets import HEALTH_METHOD

    return {
        "method": HEALTH_METHOD,
        "register_source": r.register_source,
        "as_of": r.as_of.isoformat(),
        "start_utc": None if r.start_utc is None else r.start_utc.isoformat(),
        "end_utc": None if r.end_utc is None else r.end_utc.isoformat(),
        "notes": r.notes,
        "assets": [asdict(h) for h in r.assets],
    }


def _ranking_csv(r: AssetRanking) -> str:
    import pandas as pd

    rows = [
        {
            "rank": h.rank,
            "element": h.element,
            "type": h.type,
            "health_index": h.health_index,
            "health_score": round(h.health_score, 3),
            "risk": round(h.risk, 3),
            "age_years": round(h.age_years, 2),
            "expected_life_years": round(h.expected_life_years, 2),
            "calendar_due": h.calendar_due.isoformat(),
            "calendar_rank": h.calendar_rank,
            "advice": h.advice,
            "reasons": "; ".join(h.reasons),
        }
        for h in r.assets
    ]
    out: str = pd.DataFrame(rows).to_csv(index=False, lineterminator="\n")
    return out


def _print_ranking(r: AssetRanking, top: int | None) -> None:
    from rich.table import Table

    from gridtwin.assets import HEALTH_METHOD

    table = Table(title=f"Maintenance ranking as of {r.as_of} ({r.register_source})")
    for col in (
        "#",
        "asset",
        "HI",
        "score",
        "risk",
        "age/life [y]",
        "calendar due",
        "cal #",
        "advice",
        "why",
    ):
        table.add_column(col, overflow="fold")
    for h in r.assets[:top]:
        due = h.calendar_due.isoformat() + (" overdue" if h.days_to_calendar_due < 0 else "")
        table.add_row(
            str(h.rank),
            h.element + (f" {h.name}" if h.name else ""),
            h.health_index,
            f"{h.health_score:.2f}",
            f"{h.risk:.1f}",
            f"{h.age_years:.0f}/{h.expected_life_years:.0f}",
            due,
            str(h.calendar_rank),
            h.advice,
            "; ".join(h.reasons),
        )
    con = console(160)
    con.print(table)
    print_notes([f"method: {HEALTH_METHOD}", *r.notes])


@app.command("rank")
def rank_cmd(
    register: Annotated[
        Path | None, typer.Argument(help="Asset register: YAML, TOML or CSV.")
    ] = None,
    demo_register: Annotated[
        bool, typer.Option("--demo-register", help="The example register of the demo grid.")
    ] = False,
    store: StoreOpt = None,
    window_days: WindowOpt = 90.0,
    end: EndOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date of the ranking (default: the end's).")
    ] = None,
    ambient_c: AmbientOpt = 20.0,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Show only the first N.")] = None,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
) -> None:
    """Rank the assets of REGISTER: which to visit first and why, against the calendar plan."""

    def body() -> None:
        from gridtwin.assets import demo_register_path, load_register
        from gridtwin.workflows.assets import rank_from_store

        check_choice(fmt, "--format", FORMATS)
        if (register is None) == (not demo_register):
            msg = "give a REGISTER file or --demo-register (one of them)"
            raise InputError(msg)
        reg = load_register(demo_register_path() if register is None else register)
        day = None
        if as_of is not None:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError as exc:
                msg = f"--as-of {as_of!r} is not a date (YYYY-MM-DD)"
                raise InputError(msg) from exc
        end_utc = parse_utc(end, "--end")
        if store is None:
            result = rank_from_store(reg, None, as_of=day)
        else:
            with open_cli_store(store, read_only=True) as s:
                result = rank_from_store(
                    reg,
                    s,
                    as_of=day,
                    end_utc=end_utc,
                    window_days=window_days,
                    ambient_c=ambient_c,
                )
        if fmt == "json":
            write_text(json.dumps(_ranking_dict(result), indent=2, default=str) + "\n", output)
        elif fmt == "csv":
            write_text(_ranking_csv(result), output)
        else:
            _print_ranking(result, top)

    run(body)


def _print_trends(found: list[ElementTrend]) -> None:
    con = console(140)
    if not found:
        con.print("no element has enough stored daily peaks for a trend (5 days)")
    for t in found:
        mark = "[red]EARLY WARNING[/red] " if t.trend.warning else ""
        con.print(f"{mark}{t.element}: {t.trend.describe()}", highlight=False)


@app.command("trends")
def trends_cmd(
    store: StoreOpt = None,
    elements: Annotated[
        str | None, typer.Option("--elements", help="trafo:0,line:3,... (default: all stored).")
    ] = None,
    window_days: WindowOpt = 90.0,
    end: EndOpt = None,
    horizon_days: Annotated[
        float, typer.Option("--horizon-days", min=0.01, help="Warn when a limit is this close.")
    ] = 30.0,
    ambient_c: AmbientOpt = 20.0,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Equipment trends of the twin's stored state, and their early warnings."""

    def body() -> None:
        from dataclasses import asdict

        from gridtwin.workflows.assets import TrendLimits, equipment_trends

        check_choice(fmt, "--format", ("table", "json"))
        with open_cli_store(store, read_only=True) as s:
            chosen = (
                [e.strip() for e in elements.split(",") if e.strip()]
                if elements
                else sorted(
                    p.element
                    for p in s.points()
                    if p.source == "twin"
                    and p.element
                    and p.element.split(":")[0] in ("trafo", "line")
                )
            )
            found = equipment_trends(
                s,
                chosen,
                end_utc=parse_utc(end, "--end"),
                window_days=window_days,
                ambient_c=ambient_c,
                limits=TrendLimits(horizon_days=horizon_days),
            )
        if fmt == "json":
            rows = [
                {
                    "element": t.element,
                    **asdict(t.trend),
                    "alarm": None if t.alarm is None else asdict(t.alarm),
                }
                for t in found
            ]
            write_text(json.dumps(rows, indent=2, default=str) + "\n", None)
        else:
            _print_trends(found)

    run(body)
