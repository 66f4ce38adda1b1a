"""``gridtwin network check|scenario|contingency|hosting``: studies on a simulated grid.

Each command loads a grid, calls a workflow of :mod:`gridtwin.workflows` and renders the
result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridtwin.cli._common import check_output, console, print_json, run, writing
from gridtwin.cli.network import (
    FormatOpt,
    NetOpt,
    SimbenchOpt,
    TapControlOpt,
    ThreadsOpt,
    check_format,
    check_threads,
    load_model,
    load_twin,
    parse_steps,
)
from gridtwin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from gridtwin.network.checks import CheckReport

__all__ = ["register"]

StandardOpt = Annotated[
    str, typer.Option(help="Voltage standard: 'GOST 32144-2013' or 'EN 50160:2010'.")
]
StepsOpt = Annotated[
    str | None,
    typer.Option(
        "--steps", help="Step positions START:END (END excluded); default: the whole year."
    ),
]
_MAX_ROWS = 40
CableMethodOpt = Annotated[
    str | None,
    typer.Option(
        "--cable-method",
        help="Rate LV cables by IEC 60364-5-52 for this installation method (A1, A2, B1, "
        "B2, C, D1, D2, E) instead of their own rating; type from the name (NAYY 4x150 ...).",
    ),
]
CableAmbientOpt = Annotated[
    float | None,
    typer.Option("--cable-ambient-c", help="Air temperature of in-air cables (°C; ref. 30)."),
]
GroundOpt = Annotated[
    float | None, typer.Option("--ground-c", help="Ground temperature, D1/D2 (°C; ref. 20).")
]
SoilOpt = Annotated[
    float | None,
    typer.Option("--soil-k-m-per-w", help="Soil thermal resistivity, D1 (K·m/W; ref. 2.5)."),
]
GroupingOpt = Annotated[
    int, typer.Option("--grouping", help="Number of grouped circuits or cables (1: alone).")
]
ArrangementOpt = Annotated[
    str | None,
    typer.Option(
        "--arrangement",
        help="Grouping arrangement: bunched, single_layer_wall, single_layer_perforated_tray, "
        "single_layer_ladder, ground_direct_touching (D2), ground_ducts_touching (D1).",
    ),
]


def _emit_frames(frames: dict[str, pd.DataFrame], fmt: str, notes: tuple[str, ...] = ()) -> None:
    from gridtwin.cli._render import frame_table

    check_format(fmt)
    if fmt == "json":
        print_json(
            {k: v.to_dict(orient="records") for k, v in frames.items()} | {"notes": list(notes)}
        )
        return
    con = console()
    for title, frame in frames.items():
        con.print(frame_table(frame.head(_MAX_ROWS), title, digits=4))
        if len(frame) > _MAX_ROWS:
            con.print(f"... {len(frame) - _MAX_ROWS} more rows (use --format json)")
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


def _cable_ratings(
    model: Any,
    method: str | None,
    ambient_c: float | None,
    ground_c: float | None,
    soil: float | None,
    grouping: int,
    arrangement: str | None,
) -> tuple[dict[int, float] | None, tuple[str, ...]]:
    """IEC 60364-5-52 ratings of the LV cables, or None when --cable-method is not given."""
    if method is None:
        given = [
            name
            for name, v in (
                ("--cable-ambient-c", ambient_c),
                ("--ground-c", ground_c),
                ("--soil-k-m-per-w", soil),
                ("--arrangement", arrangement),
            )
            if v is not None
        ] + (["--grouping"] if grouping != 1 else [])
        if given:
            msg = f"{', '.join(given)} need --cable-method (the IEC 60364-5-52 installation method)"
            raise InputError(msg)
        return None, ()
    from gridtwin.network._cable_types import iec_line_ratings

    return iec_line_ratings(
        model.net,
        method=method,
        ambient_c=ambient_c,
        ground_c=ground_c,
        soil_k_m_per_w=soil,
        n_grouped=grouping,
        arrangement=arrangement,
    )


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
    threads: ThreadsOpt = -1,
    tap_control: TapControlOpt = False,
    fmt: FormatOpt = "table",
    cable_method: CableMethodOpt = None,
    cable_ambient_c: CableAmbientOpt = None,
    ground_c: GroundOpt = None,
    soil_k_m_per_w: SoilOpt = None,
    grouping: GroupingOpt = 1,
    arrangement: ArrangementOpt = None,
) -> None:
    """Simulate and check voltages at customers, cable loading and transformer ageing."""

    def body() -> None:
        import pandas as pd

        from gridtwin.network import PowerFlowOptions
        from gridtwin.workflows import Twin

        check_threads(threads)
        model = load_model(simbench, net)
        ratings, rating_notes = _cable_ratings(
            model, cable_method, cable_ambient_c, ground_c, soil_k_m_per_w, grouping, arrangement
        )
        twin = Twin(
            model,
            options=PowerFlowOptions(threading=threads),
            standard=standard,  # type: ignore[arg-type]
            timezone=timezone,
            ambient_c=ambient_c,
            stream=stream,
            cable_ratings_a=ratings,
        )
        if tap_control:
            twin = twin.with_tap_control()
        state = twin.run(parse_steps(steps))
        rep = state.checks
        summary = pd.DataFrame([state.violations | {"limiting_element": state.limiting_element}])
        _emit_frames(
            {"Violations": summary, **_report_frames(rep)}, fmt, (*rating_notes, *rep.notes)
        )

    run(body)


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
        from gridtwin.network.scenarios import ElectrificationSpec
        from gridtwin.workflows import PvSpec, scenario_study, simbench_2034_study

        if kind == "simbench-2034":
            if simbench is None:
                msg = "--kind simbench-2034 needs --simbench CODE"
                raise InputError(msg)
            result = simbench_2034_study(
                simbench, tap_control=tap_control, steps=parse_steps(steps), standard=standard
            )
        elif kind in ("electrify", "pv"):
            result = scenario_study(
                load_twin(simbench, net, tap_control=tap_control, standard=standard),
                kind,  # type: ignore[arg-type]
                electrification=ElectrificationSpec(
                    share=share,
                    stove_kw=stove_kw,
                    heat_pump_kw=heat_pump_kw,
                    ev_kw=ev_kw,
                    seed=seed,
                ),
                pv=PvSpec(share=share, kwp=pv_kwp, seed=seed),
                steps=parse_steps(steps),
            )
        else:
            msg = f"--kind {kind!r}: use electrify, pv or simbench-2034"
            raise InputError(msg)
        lines = result.after.checks.lines
        _emit_frames(
            {
                "Before and after": result.comparison,
                "Lines after (most loaded first)": lines.sort_values(
                    "max_loading_ratio", ascending=False
                ).head(10),
            },
            fmt,
            result.notes,
        )

    run(body)


def contingency_cmd(
    simbench: SimbenchOpt = None,
    net: NetOpt = None,
    no_restore: Annotated[
        bool, typer.Option("--no-restore", help="Do not close normally-open switches.")
    ] = False,
    fmt: FormatOpt = "table",
) -> None:
    """N-1 of lines and transformers at the stress steps, with restoration by switching."""

    def body() -> None:
        from gridtwin.workflows import contingency_study

        frame = contingency_study(load_model(simbench, net), restore=not no_restore)
        shown: Any = frame.assign(
            new_violations=frame["new_violations"].map(
                lambda v: "; ".join(v[:3]) + (f" (+{len(v) - 3})" if len(v) > 3 else "")
            )
        )
        _emit_frames({"N-1 contingencies": shown}, fmt)

    run(body)


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
        from gridtwin.workflows import hosting_study

        if kind not in ("pv", "load"):
            msg = f"--kind {kind!r}: use pv or load"
            raise InputError(msg)
        check_output(output)
        frame = hosting_study(load_model(simbench, net), kind, vm_max_pu=vm_max_pu)  # type: ignore[arg-type]
        if output is not None:
            with writing(output) as tmp:
                frame.to_csv(tmp, index=False)
        _emit_frames({f"Hosting capacity ({kind})": frame}, fmt)

    run(body)


def register(network_app: typer.Typer) -> None:
    """Add the studies to the ``network`` command group."""
    network_app.command("check")(check_cmd)
    network_app.command("scenario")(scenario_cmd)
    network_app.command("contingency")(contingency_cmd)
    network_app.command("hosting")(hosting_cmd)
