"""The main job (``make run``): tariffs and billing, then the network twin on SimBench.

Part 1 bills a year of 15-min data under every built-in tariff. Part 2 simulates a
SimBench LV grid for its whole year of 15-min profiles, checks customer voltages, cable
loading and transformer ageing, and compares an electrification what-if.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from gridtwin._console import bill_panel, comparison_table
from gridtwin.billing import bill, bill_for, compare
from gridtwin.synthetic import household_profiles
from gridtwin.tariffs import Tariff, builtin_tariff_ids, get_tariff
from gridtwin.tariffs._schema import IndexedEnergyCharge

__all__ = ["demo_year", "run_demo", "run_network_demo", "series_for"]

DEMO_GRID = "1-LV-semiurb4--0-sw"

# What the demo household is, where a tariff asks (a resident Italian family with the
# usual 3 kW contract, an Israeli low-voltage consumer, a Slovak household).
DEMO_PROPERTIES: dict[str, Any] = {
    "resident": True,
    "contracted_kw": 3.0,
    "voltage_level": "LV",
    "customer_class": "household",
}


def demo_year(tariff: Tariff, latest: int = 2025) -> int:
    """The latest whole calendar year (<= ``latest``) inside the tariff's validity."""
    start, end = tariff.validity()
    year = latest if end is None else min(latest, end.year - 1)
    if dt.date(year, 1, 1) < start:
        year = start.year + 1
    return year


def demo_properties(tariff: Tariff) -> dict[str, Any]:
    """Demo customer properties for the properties a tariff reads."""
    out: dict[str, Any] = {}
    for name, spec in tariff.doc.properties.items():
        if name in DEMO_PROPERTIES and (
            spec.allowed is None or DEMO_PROPERTIES[name] in spec.allowed
        ):
            out[name] = DEMO_PROPERTIES[name]
        elif spec.default is None and spec.allowed:
            out[name] = spec.allowed[0]
    return out


def series_for(tariff: Tariff) -> dict[str, pd.Series]:
    """Price series shipped with gridtwin for the indexed components of a tariff."""
    out: dict[str, pd.Series] = {}
    root = resources.files("gridtwin.tariffs") / "data"
    for doc in tariff.documents():
        for version in doc.versions:
            for c in version.components:
                if isinstance(c, IndexedEnergyCharge) and c.series not in out:
                    path = Path(str(root / doc.jurisdiction.lower() / f"{c.series.lower()}.csv"))
                    if path.exists():
                        frame = pd.read_csv(path, comment="#")
                        index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], utc=True))
                        out[c.series] = pd.Series(frame["value"].to_numpy(float), index=index)
    return out


def run_demo(con: Console) -> None:
    """Bill one synthetic household-year under each built-in tariff and print the bills."""
    con.rule("[bold]gridtwin demo: a year of 15-minute data under every built-in tariff")
    con.print("Synthetic household profiles (2,700 kWh/yr), local time with DST.\n")
    by_year: dict[tuple[str, int], list[Tariff]] = {}
    for tid in builtin_tariff_ids():
        tariff = get_tariff(tid)
        year = demo_year(tariff)
        data = household_profiles(
            f"{year}-01-01", f"{year + 1}-01-01", tz=tariff.timezone, annual_kwh=2700.0, seed=7
        )
        result = bill(
            tariff,
            data,
            periods=[(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))],
            customers=demo_properties(tariff),
            series=series_for(tariff),
        )
        con.print(bill_panel(bill_for(result, 0), explain=False))
        if tariff.doc.jurisdiction == "IT":
            by_year.setdefault((tariff.timezone, year), []).append(tariff)
    for (tz, year), offers in by_year.items():
        if len(offers) < 2:
            continue
        data = household_profiles(
            f"{year}-01-01", f"{year + 1}-01-01", tz=tz, annual_kwh=2700.0, seed=7
        )
        series: dict[str, pd.Series] = {}
        for t in offers:
            series.update(series_for(t))
        c = compare(
            offers,
            data,
            periods=[(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))],
            customers=DEMO_PROPERTIES,
            series=series,
        )
        con.print(comparison_table(c))
    run_network_demo(con)


def run_network_demo(con: Console, code: str = DEMO_GRID) -> None:
    """Simulate a SimBench grid-year, check it, and compare an electrification scenario."""
    import time

    from gridtwin._console import frame_table
    from gridtwin.network import info, load_simbench, simulate, validate
    from gridtwin.network.checks import check, compare_checks
    from gridtwin.network.scenarios import ElectrificationSpec, electrify

    con.rule(f"[bold]network twin: SimBench {code}, a year of 15-minute profiles")
    model = load_simbench(code)
    validate(model).raise_if_errors()
    counts = info(model).to_dict()["in_service_counts"]
    con.print(", ".join(f"{n} {table}" for table, n in counts.items()) + " in service")
    t0 = time.perf_counter()
    result = simulate(model)
    elapsed = time.perf_counter() - t0
    con.print(
        f"power flow: {result.n_steps:,} steps in {elapsed:.2f} s, "
        f"{int(result.converged.sum()):,} converged"
    )
    report = check(model, result)
    spec = ElectrificationSpec(share=1.0, ev_kw=11.0, ev_share=0.5, heat_pump_share=0.8)
    future, change = electrify(model, spec)
    future_report = check(future, simulate(future))
    con.print(frame_table(report.feeders, "Feeders today (GOST 32144-2013)", digits=4))
    con.print(
        frame_table(
            compare_checks(report, future_report),
            "Every apartment electrified (stove 6 kW, heat pumps, 11 kW chargers)",
            digits=4,
        )
    )
    con.print(f"[dim]{change.notes[0]}; {report.notes[0]}[/dim]")
    run_pv_demo(con, model, result, report)


def run_pv_demo(con: Console, model: Any, result: Any, report: Any) -> None:
    """Rooftop PV on every household, without and with a Q(U) characteristic."""
    import pandas as pd

    from gridtwin._console import frame_table
    from gridtwin.network import Controls, ReactivePowerControl, simulate
    from gridtwin.network.checks import check
    from gridtwin.network.scenarios import add_pv

    pv, _ = add_pv(model, share=1.0, kwp=25.0)
    # an example characteristic (cos phi 0.9 at full output beyond 0.93 / 1.07 pu); take
    # the grid code's own points for a study
    qu = ReactivePowerControl(
        tuple(int(i) for i in pv.net.sgen.index[pv.net.sgen.type == "PV"]),
        (0.93, 0.97, 1.03, 1.07),
        (0.436, 0.0, 0.0, -0.436),
    )
    rows = []
    for case, m, res in (
        ("today", model, result),
        ("25 kWp PV per household", pv, simulate(pv)),
        ("... with Q(U)", pv, simulate(pv, controls=Controls(reactive_power=[qu]))),
    ):
        rep = report if res is result else check(m, res)
        rows.append(
            {
                "case": case,
                "max_vm_pu": float(pd.Series(res.vm_pu.ravel()).max()),
                **rep.violations(),
                "limiting_element": rep.limiting_element(),
            }
        )
    con.print(frame_table(pd.DataFrame(rows), "Rooftop PV, without and with Q(U)", digits=4))
