"""``gridtwin demo``: the main job of ``make run``, rendered.

Part 1 bills a year of 15-min data under every built-in tariff and ranks the Italian
offers; part 2 runs the twin of a SimBench LV grid for its whole year, checks it,
electrifies every apartment, and adds rooftop PV without and with a Q(U) characteristic
(:mod:`gridtwin.workflows.demo` computes; this module prints); part 3 replays a day of the
grid's profiles as live telemetry into a temporary measurement store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from gridtwin.cli._common import console, run

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["register", "render_bills", "render_live", "render_network"]


def render_bills(con: Console) -> None:
    """Bill one synthetic household-year under each built-in tariff and print the bills."""
    from gridtwin.cli._render import bill_panel, comparison_table
    from gridtwin.workflows.demo import demo_bills

    con.rule("[bold]gridtwin demo: a year of 15-minute data under every built-in tariff")
    con.print("Synthetic household profiles (2,700 kWh/yr), local time with DST.\n")
    bills = demo_bills()
    for b in bills.bills:
        con.print(bill_panel(b, explain=False))
    for c in bills.comparisons:
        con.print(comparison_table(c))


def render_network(con: Console) -> None:
    """Simulate a SimBench grid-year, check it, electrify it, add PV with and without Q(U)."""
    import pandas as pd

    from gridtwin.cli._render import frame_table
    from gridtwin.workflows.demo import DEMO_GRID, network_demo

    con.rule(f"[bold]network twin: SimBench {DEMO_GRID}, a year of 15-minute profiles")
    demo = network_demo(DEMO_GRID)
    con.print(
        ", ".join(f"{n} {table}" for table, n in demo.in_service_counts.items()) + " in service"
    )
    today = demo.today
    con.print(
        f"power flow: {today.n_steps:,} steps in {today.solve_s:.2f} s, "
        f"{today.converged_steps:,} converged"
    )
    con.print(frame_table(today.checks.feeders, "Feeders today (GOST 32144-2013)", digits=4))
    con.print(
        frame_table(
            demo.electrified.comparison,
            "Every apartment electrified (stove 6 kW, heat pumps, 11 kW chargers)",
            digits=4,
        )
    )
    con.print(f"[dim]{demo.electrified.notes[0]}; {today.checks.notes[0]}[/dim]")
    rows = [
        {
            "case": case,
            "max_vm_pu": max_vm_pu,
            **state.violations,
            "limiting_element": state.limiting_element,
        }
        for case, state, max_vm_pu in demo.pv
    ]
    con.print(frame_table(pd.DataFrame(rows), "Rooftop PV, without and with Q(U)", digits=4))


def render_live(con: Console) -> None:
    """Replay a day of the demo grid as live telemetry into a temporary embedded store."""
    import tempfile
    from pathlib import Path

    from gridtwin.cli._render import frame_table
    from gridtwin.workflows.demo import DEMO_GRID
    from gridtwin.workflows.telemetry import replay_demo

    con.rule(f"[bold]live data: a day of {DEMO_GRID} replayed as telemetry into a store")
    with tempfile.TemporaryDirectory() as tmp:
        demo = replay_demo(DEMO_GRID, Path(tmp) / "store")
    first, again = demo.first, demo.again
    con.print(
        f"{demo.points} points; replay: received {first.received:,}, stored {first.stored:,}, "
        f"rejected {first.rejected:,}, max lag {first.max_lag_s:.2f} s"
    )
    con.print(
        f"the same replay again: stored {again.stored:,}, duplicates {again.duplicates:,} "
        "(a redelivery is never stored twice)"
    )
    from gridtwin.store import Quality

    latest = demo.latest.head(8)[["point_id", "ts_utc", "value", "quality"]].copy()
    latest["quality"] = [Quality(int(q)).label() for q in latest["quality"]]
    con.print(frame_table(latest, "Newest values (kW / kvar, consumer sign)", digits=4))


def demo_cmd() -> None:
    """The main job: bill a year of 15-min data under each built-in tariff."""

    def body() -> None:
        con = console()
        render_bills(con)
        render_network(con)
        render_live(con)

    run(body)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the top-level command."""
    app.command("demo")(demo_cmd)
