"""``gridtwin network check|scenario|contingency|hosting``: studies on a simulated grid.

Adapter code only: each command loads a grid, calls a workflow of
:mod:`gridtwin.network` and renders the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from gridtwin._console import console, frame_table
from gridtwin.errors import InputError
from gridtwin.network._cli import (
    FormatOpt,
    NetOpt,
    SimbenchOpt,
    TapControlOpt,
    _check_format,
    _load,
    _parse_steps,
    _print_json,
    _run,
    network_app,
)
from gridtwin.network._controls import Controls, tap_controls_from_net
from gridtwin.network._options import KeepSummary, PowerFlowOptions
from gridtwin.network._results import PowerFlowResult, PowerFlowStatistics
from gridtwin.network._timeseries import simulate
from gridtwin.network.checks import CheckReport, check, check_statistics_spec, compare_checks
from gridtwin.network.contingency import GridLimits, contingency_analysis, hosting_capacity
from gridtwin.network.scenarios import ElectrificationSpec, add_pv, electrify, simbench_pair

__all__ = ["network_app"]

StandardOpt = Annotated[
    str, typer.Option(help="Voltage standard: 'GOST 32144-2013' or 'EN 50160:2010'.")
]
StepsOpt = Annotated[
    str | None,
    typer.Option(
        "--steps", help="Step positions START:END (END excluded); default: the whole year."
    ),
]


def _emit_frames(frames: dict[str, pd.DataFrame], fmt: str, notes: tuple[str, ...] = ()) -> None:
    _check_format(fmt)
    if fmt == "json":
        _print_json(
            {k: v.to_dict(orient="records") for k, v in frames.items()} | {"notes": list(notes)}
        )
        return
    con = console()
    for title, frame in frames.items():
        con.print(frame_table(frame.head(40), title, digits=4))
        if len(frame) > 40:
            con.print(f"... {len(frame) - 40} more rows (use --format json)")
    for note in notes:
        con.print(f"[dim]{note}[/dim]")


def _report_frames(rep: CheckReport) -> dict[str, pd.DataFrame]:
    v = rep.voltage.sort_values("share_out_of_band_percent", ascending=False)
    return {
        "Feeders": rep.feeders,
        "Customer buses (worst first)": v,
        "Lines (most loaded first)": rep.lines.sort_values("max_loading_ratio", ascending=False),
        "Transformers": rep.transformers,
    }


@network_app.command("check")
def check_cmd(
    simbench: SimbenchOpt = None,
    net: NetOpt = None,
    steps: StepsOpt = None,
    standard: StandardOpt = "GOST 32144-2013",
    timezone: Annotated[str, typer.Option(help="Zone of the weeks.")] = "UTC",
    ambient_c: Annotated[float, typer.Option(help="Ambient (°C).")] = 20.0,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream/--full",
            help="Count weekly statistics while simulating (memory independent of the "
            "steps; for large grids) instead of keeping the full result.",
        ),
    ] = False,
    threads: Annotated[
        int, typer.Option("--threads", help="solver threads: -1 sequential, 0 all cores.")
    ] = -1,
    tap_control: TapControlOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """Simulate and check voltages at customers, cable loading and transformer ageing."""

    def body() -> None:
        model = _load(simbench, net)
        sel = _parse_steps(steps)
        taps = tap_controls_from_net(model.net) if tap_control else None
        result: PowerFlowResult | PowerFlowStatistics
        if stream:
            spec = check_statistics_spec(
                model,
                standard=standard,  # type: ignore[arg-type]
                timezone=timezone,
            )
            result = simulate(
                model,
                steps=sel,
                options=PowerFlowOptions(threading=threads),
                controls=Controls(taps=taps or ()),
                keep=KeepSummary(statistics=spec),
            )
        else:
            result = simulate(
                model,
                steps=sel,
                options=PowerFlowOptions(threading=threads),
                controls=Controls(taps=taps or ()),
            )
        rep = check(
            model,
            result,
            standard=standard,  # type: ignore[arg-type]
            timezone=timezone,
            ambient_c=ambient_c,
        )
        summary = pd.DataFrame([rep.violations() | {"limiting_element": rep.limiting_element()}])
        _emit_frames({"Violations": summary, **_report_frames(rep)}, fmt, rep.notes)

    _run(body)


@network_app.command("scenario")
def scenario_cmd(
    simbench: SimbenchOpt = None,
    net: NetOpt = None,
    steps: StepsOpt = None,
    kind: Annotated[
        str, typer.Option(help="electrify, pv, or simbench-2034 (SimBench's own future scenario).")
    ] = "electrify",
    share: Annotated[float, typer.Option(help="Share of households (or buses for pv).")] = 0.5,
    stove_kw: Annotated[float, typer.Option(help="Electric stove (kW).")] = 6.0,
    heat_pump_kw: Annotated[float, typer.Option(help="Heat pump (kW).")] = 3.0,
    ev_kw: Annotated[float, typer.Option(help="EV charger (kW).")] = 3.7,
    pv_kwp: Annotated[float, typer.Option(help="PV per roof (kWp).")] = 5.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    standard: StandardOpt = "GOST 32144-2013",
    tap_control: TapControlOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """Violations before and after a what-if scenario, with the limiting element."""

    def body() -> None:
        if kind == "simbench-2034":
            if simbench is None:
                msg = "--kind simbench-2034 needs --simbench CODE"
                raise InputError(msg)
            before, after = simbench_pair(simbench)
            notes: tuple[str, ...] = ("SimBench scenario 2 (2034) of the same grid",)
        else:
            before = _load(simbench, net)
            if kind == "electrify":
                after, change = electrify(
                    before,
                    ElectrificationSpec(
                        share=share,
                        stove_kw=stove_kw,
                        heat_pump_kw=heat_pump_kw,
                        ev_kw=ev_kw,
                        seed=seed,
                    ),
                )
            elif kind == "pv":
                after, change = add_pv(before, share=share, kwp=pv_kwp, seed=seed)
            else:
                msg = f"--kind {kind!r}: use electrify, pv or simbench-2034"
                raise InputError(msg)
            notes = change.notes
        sel = _parse_steps(steps)
        reps = [
            check(
                m,
                simulate(
                    m,
                    steps=sel,
                    controls=Controls(taps=tap_controls_from_net(m.net) if tap_control else ()),
                ),
                standard=standard,  # type: ignore[arg-type]
            )
            for m in (before, after)
        ]
        _emit_frames(
            {
                "Before and after": compare_checks(*reps),
                "Lines after (most loaded first)": reps[1]
                .lines.sort_values("max_loading_ratio", ascending=False)
                .head(10),
            },
            fmt,
            notes,
        )

    _run(body)


@network_app.command("contingency")
def contingency_cmd(
    simbench: SimbenchOpt = None,
    net: NetOpt = None,
    no_restore: Annotated[bool, typer.Option(help="Do not close normally-open switches.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """N-1 of lines and transformers at the stress steps, with restoration by switching."""

    def body() -> None:
        model = _load(simbench, net)
        frame = contingency_analysis(model, restore=not no_restore)
        shown: Any = frame.assign(
            new_violations=frame["new_violations"].map(
                lambda v: "; ".join(v[:3]) + (f" (+{len(v) - 3})" if len(v) > 3 else "")
            )
        )
        _emit_frames({"N-1 contingencies": shown}, fmt)

    _run(body)


@network_app.command("hosting")
def hosting_cmd(
    simbench: SimbenchOpt = None,
    net: NetOpt = None,
    kind: Annotated[str, typer.Option(help="pv or load.")] = "pv",
    vm_max_pu: Annotated[float, typer.Option(help="Upper voltage limit.")] = 1.1,
    fmt: FormatOpt = "table",
    output: Annotated[Path | None, typer.Option(help="CSV file.")] = None,
) -> None:
    """Hosting capacity per bus (MW of PV or load before a limit is hit)."""

    def body() -> None:
        if kind not in ("pv", "load"):
            msg = f"--kind {kind!r}: use pv or load"
            raise InputError(msg)
        model = _load(simbench, net)
        frame = hosting_capacity(
            model,
            kind=kind,  # type: ignore[arg-type]
            limits=GridLimits(vm_max_pu=vm_max_pu),
        )
        if output is not None:
            frame.to_csv(output, index=False)
        _emit_frames({f"Hosting capacity ({kind})": frame}, fmt)

    _run(body)
