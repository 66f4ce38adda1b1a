"""``gridtwin network shortcircuit|protection``: IEC 60909 currents and LV feeder protection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridtwin.cli._common import check_choice, check_output, run, writing
from gridtwin.cli.network import FormatOpt, NetOpt, SimbenchOpt, load_model, parse_steps
from gridtwin.cli.studies import StepsOpt, _emit_frames
from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.network.protection import ProtectiveDevice
    from gridtwin.network.shortcircuit import ShortCircuitOptions

__all__ = ["register"]

SscMaxOpt = Annotated[
    float,
    typer.Option(
        "--s-sc-max-mva", help="Upstream short-circuit power, maximum (MVA) if the net has none."
    ),
]
SscMinOpt = Annotated[
    float,
    typer.Option(
        "--s-sc-min-mva", help="Upstream short-circuit power, minimum (MVA) if the net has none."
    ),
]
LvTolOpt = Annotated[
    int, typer.Option("--lv-tol-percent", help="LV voltage tolerance (6 or 10) for c.")
]
EndTempOpt = Annotated[
    float, typer.Option("--line-end-temp-c", help="Cable temperature for minimum currents.")
]


def _sc_options(s_max: float, s_min: float, lv_tol: int, end_temp: float) -> ShortCircuitOptions:
    from gridtwin.network.shortcircuit import ShortCircuitOptions

    return ShortCircuitOptions(
        s_sc_max_mva=s_max, s_sc_min_mva=s_min, lv_tol_percent=lv_tol, line_end_temp_c=end_temp
    )


def shortcircuit_cmd(
    simbench: SimbenchOpt = None,
    net: NetOpt = None,
    engine: Annotated[
        str, typer.Option(help="pandapower, pgm (power-grid-model) or both (compared).")
    ] = "pandapower",
    s_sc_max_mva: SscMaxOpt = 250.0,
    s_sc_min_mva: SscMinOpt = 100.0,
    lv_tol_percent: LvTolOpt = 10,
    line_end_temp_c: EndTempOpt = 80.0,
    fmt: FormatOpt = "table",
    output: Annotated[Path | None, typer.Option(help="CSV file of the bus table.")] = None,
) -> None:
    """IEC 60909 short-circuit currents (3ph, 2ph, 1ph; max and min) at every bus."""

    def body() -> None:
        from gridtwin.network.shortcircuit import compare_engines, short_circuit

        check_choice(engine, "--engine", ("pandapower", "pgm", "both"))
        check_output(output)
        opt = _sc_options(s_sc_max_mva, s_sc_min_mva, lv_tol_percent, line_end_temp_c)
        model = load_model(simbench, net)
        if engine == "both":
            frame, worst = compare_engines(model, opt)
            notes: tuple[str, ...] = (
                f"largest relative difference pgm vs pandapower: {worst:.2e}",
            )
        else:
            res = short_circuit(model, engine=engine, options=opt)  # type: ignore[arg-type]
            frame, notes = res.buses, res.notes
        if output is not None:
            with writing(output) as tmp:
                frame.to_csv(tmp, index=False)
        _emit_frames({f"Short-circuit currents (kA, {engine})": frame}, fmt, notes)

    run(body)


def _read_devices(path: Path) -> dict[str, ProtectiveDevice]:
    from gridtwin._datafile import read_data_file
    from gridtwin.network.protection import ProtectiveDevice

    raw = read_data_file(path, InputError)
    out: dict[str, ProtectiveDevice] = {}
    for feeder, spec in raw.items():
        if not isinstance(spec, dict):
            msg = f"{path}: {feeder}: give a mapping with rating_a (and kind, ...)"
            raise InputError(msg)
        allowed = {"rating_a", "kind", "breaking_capacity_ka", "trip_current_a"}
        extra = sorted(set(spec) - allowed)
        if extra or "rating_a" not in spec:
            msg = (
                f"{path}: {feeder}: fields {extra or ['rating_a missing']}; allowed: "
                f"{', '.join(sorted(allowed))}"
            )
            raise InputError(msg)
        try:
            out[str(feeder)] = ProtectiveDevice(**{k: spec[k] for k in spec})
        except TypeError as exc:
            msg = f"{path}: {feeder}: {exc}"
            raise InputError(msg) from exc
    return out


def protection_cmd(
    simbench: SimbenchOpt = None,
    net: NetOpt = None,
    steps: StepsOpt = None,
    devices: Annotated[
        Path | None,
        typer.Option(
            help="YAML/TOML: feeder id (line:<i>) -> rating_a, kind (gG|breaker), "
            "breaking_capacity_ka, trip_current_a. Others: gG fuse sized from the cable."
        ),
    ] = None,
    disconnection_time_s: Annotated[
        float,
        typer.Option(help="Required disconnection time: 5 (distribution) or 0.4 (final) s."),
    ] = 5.0,
    main_fuse: Annotated[
        bool,
        typer.Option(
            "--main-fuse/--no-main-fuse",
            help="Assume a gG main fuse on each transformer's LV side (selectivity check).",
        ),
    ] = True,
    electrify_share: Annotated[
        float | None,
        typer.Option(help="Also electrify this share of households and compare (0-1)."),
    ] = None,
    heat_pump_kw: Annotated[
        float, typer.Option(help="Heat pump (kW), with --electrify-share.")
    ] = 3.0,
    ev_kw: Annotated[float, typer.Option(help="EV charger (kW), with --electrify-share.")] = 3.7,
    s_sc_max_mva: SscMaxOpt = 250.0,
    s_sc_min_mva: SscMinOpt = 100.0,
    lv_tol_percent: LvTolOpt = 10,
    line_end_temp_c: EndTempOpt = 80.0,
    fmt: FormatOpt = "table",
) -> None:
    """Protection of LV feeders: overload, breaking capacity, disconnection time, selectivity."""

    def body() -> None:
        from gridtwin.network import simulate, static_profiles
        from gridtwin.network.protection import (
            electrification_protection,
            feeder_load_current_a,
            lv_feeders,
            protection_check,
        )
        from gridtwin.network.scenarios import ElectrificationSpec

        opt = _sc_options(s_sc_max_mva, s_sc_min_mva, lv_tol_percent, line_end_temp_c)
        devs = _read_devices(devices) if devices is not None else {}
        model = load_model(simbench, net)
        step_slice = parse_steps(steps)
        kw: dict[str, Any] = {"disconnection_time_s": disconnection_time_s, "main_fuse": main_fuse}
        if electrify_share is None:
            # a net without profiles: its own set-points (one snapshot)
            prof = model.profiles if model.profiles is not None else static_profiles(model)
            result = simulate(model, prof, steps=step_slice)
            ib = feeder_load_current_a(result, lv_feeders(model.net))
            rep = protection_check(model, ib, devices=devs, sc_options=opt, **kw)
            frames = {"Feeder protection": rep.feeders}
            notes = rep.notes
        else:
            if devs:
                msg = "--devices and --electrify-share: give one (scenarios use default fuses)"
                raise InputError(msg)
            spec = ElectrificationSpec(
                share=electrify_share, heat_pump_kw=heat_pump_kw, ev_kw=ev_kw
            )
            before, after, cmp = electrification_protection(
                model, spec, steps=step_slice, sc_options=opt, **kw
            )
            frames = {"Before": before.feeders, "After (re-fused)": after.feeders, "Lost": cmp}
            notes = after.notes
        _emit_frames(frames, fmt, notes)

    run(body)


def _ids(text: str | None, option: str) -> list[int]:
    if not text:
        return []
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        msg = f"{option} {text!r}: give element indices separated by commas, e.g. 2,6"
        raise InputError(msg) from exc


def outage_cmd(
    simbench: SimbenchOpt = None,
    net: NetOpt = None,
    buses: Annotated[
        str | None, typer.Option(help="Buses out, e.g. a substation busbar: 3")
    ] = None,
    lines: Annotated[
        str | None, typer.Option(help="Lines out together, e.g. a trench: 2,6")
    ] = None,
    trafos: Annotated[str | None, typer.Option(help="Transformers out: 0")] = None,
    name: Annotated[str, typer.Option(help="Name of the event.")] = "outage",
    switching_min: Annotated[float, typer.Option(help="Restoration by switching (min).")] = 60.0,
    repair_h: Annotated[float, typer.Option(help="Repair of the rest (h).")] = 8.0,
    no_restore: Annotated[
        bool, typer.Option("--no-restore", help="Do not close normally-open switches.")
    ] = False,
    fmt: FormatOpt = "table",
) -> None:
    """A multi-element outage: load lost and unrestorable, customers and customer-minutes."""

    def body() -> None:
        import pandas as pd

        from gridtwin.network.outages import multi_outage

        res = multi_outage(
            load_model(simbench, net),
            buses=_ids(buses, "--buses"),
            lines=_ids(lines, "--lines"),
            trafos=_ids(trafos, "--trafos"),
            name=name,
            switching_min=switching_min,
            repair_h=repair_h,
            restore=not no_restore,
        )
        summary = res.summary | {
            "switches_closed": ", ".join(map(str, res.summary["switches_closed"]))
        }
        _emit_frames(
            {f"Outage {res.name}": pd.DataFrame([summary]), "Lost loads": res.loads},
            fmt,
            res.notes,
        )

    run(body)


def register(network_app: typer.Typer) -> None:
    """Add the commands to the ``network`` command group."""
    network_app.command("shortcircuit")(shortcircuit_cmd)
    network_app.command("protection")(protection_cmd)
    network_app.command("outage")(outage_cmd)
