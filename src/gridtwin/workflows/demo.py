"""The main job (``make run``): tariffs and billing, then the network twin on SimBench.

:func:`demo_bills` bills a year of synthetic 15-min household data under every built-in
tariff and ranks the Italian offers; :func:`network_demo` runs the twin of a SimBench LV
grid for its whole year, electrifies every apartment, and adds rooftop PV without and with
a Q(U) characteristic. Both return results; the command line renders them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.billing import Bill, Comparison, bill, bill_for, compare
from gridtwin.synthetic import household_profiles
from gridtwin.tariffs import Tariff, builtin_tariff_ids, get_tariff
from gridtwin.tariffs._schema import IndexedEnergyCharge
from gridtwin.workflows.studies import PvSpec, ScenarioResult, qu_study, scenario_study
from gridtwin.workflows.twin import Twin, TwinState

__all__ = [
    "DEMO_GRID",
    "DemoBills",
    "NetworkDemo",
    "demo_bills",
    "demo_properties",
    "demo_year",
    "network_demo",
    "series_for",
]

DEMO_GRID = "1-LV-semiurb4--0-sw"

# What the demo household is, where a tariff asks (a resident Italian family with the
# usual 3 kW contract, an Israeli low-voltage consumer, a Slovak household).
DEMO_PROPERTIES: dict[str, Any] = {
    "resident": True,
    "contracted_kw": 3.0,
    "voltage_level": "LV",
    "customer_class": "household",
}
#: An example Q(U) characteristic (cos φ 0.9 at full output beyond 0.93 / 1.07 pu); a study
#: takes the grid code's own points.
DEMO_QU_V_PU = (0.93, 0.97, 1.03, 1.07)
DEMO_QU_Q_PER_SN = (0.436, 0.0, 0.0, -0.436)


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


@dataclass(frozen=True)
class DemoBills:
    """One demo household-year billed under every built-in tariff, and the Italian
    offers ranked (one comparison per time zone and year with two or more offers)."""

    bills: tuple[Bill, ...]
    comparisons: tuple[Comparison, ...]


def _year(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)


def _household(year: int, tz: str) -> Any:
    """The demo household's year of 15-min data (2,700 kWh/yr) in local time."""
    return household_profiles(
        f"{year}-01-01", f"{year + 1}-01-01", tz=tz, annual_kwh=2700.0, seed=7
    )


def demo_bills() -> DemoBills:
    """Bill a synthetic household-year under each built-in tariff; rank the Italian offers."""
    bills = []
    by_year: dict[tuple[str, int], list[Tariff]] = {}
    for tid in builtin_tariff_ids():
        tariff = get_tariff(tid)
        year = demo_year(tariff)
        result = bill(
            tariff,
            _household(year, tariff.timezone),
            periods=[_year(year)],
            customers=demo_properties(tariff),
            series=series_for(tariff),
        )
        bills.append(bill_for(result, 0))
        if tariff.doc.jurisdiction == "IT":
            by_year.setdefault((tariff.timezone, year), []).append(tariff)
    comparisons = []
    for (tz, year), offers in by_year.items():
        if len(offers) < 2:
            continue
        series: dict[str, pd.Series] = {}
        for t in offers:
            series.update(series_for(t))
        comparisons.append(
            compare(
                offers,
                _household(year, tz),
                periods=[_year(year)],
                customers=DEMO_PROPERTIES,
                series=series,
            )
        )
    return DemoBills(tuple(bills), tuple(comparisons))


@dataclass(frozen=True)
class NetworkDemo:
    """The network part of the demo.

    Attributes
    ----------
    code : str
        SimBench code of the grid.
    in_service_counts : dict
        Elements in service per table.
    electrified : ScenarioResult
        Today (``before``) and with every apartment electrified (``after``).
    pv : tuple of (str, TwinState, float)
        Case, state and highest voltage [pu]: today, 25 kWp PV per household, and the same
        with a Q(U) characteristic.
    """

    code: str
    in_service_counts: dict[str, int]
    electrified: ScenarioResult
    pv: tuple[tuple[str, TwinState, float], ...]

    @property
    def today(self) -> TwinState:
        """The grid as it is."""
        return self.electrified.before


def _max_vm_pu(state: TwinState) -> float:
    vm = getattr(state.power_flow, "vm_pu", None)
    return float(np.nanmax(vm)) if vm is not None and np.isfinite(vm).any() else float("nan")


def network_demo(code: str = DEMO_GRID) -> NetworkDemo:
    """A SimBench grid-year: today, every apartment electrified, rooftop PV without and
    with Q(U)."""
    from gridtwin.network import info, validate
    from gridtwin.network.scenarios import ElectrificationSpec

    twin = Twin.load(simbench_code=code)
    validate(twin.model).raise_if_errors()
    counts = info(twin.model).to_dict()["in_service_counts"]
    today = twin.run()
    spec = ElectrificationSpec(share=1.0, ev_kw=11.0, ev_share=0.5, heat_pump_share=0.8)
    electrified = scenario_study(twin, "electrify", electrification=spec, before=today)
    with_pv, with_qu = qu_study(twin, PvSpec(share=1.0, kwp=25.0), DEMO_QU_V_PU, DEMO_QU_Q_PER_SN)
    cases = (
        ("today", today),
        ("25 kWp PV per household", with_pv),
        ("... with Q(U)", with_qu),
    )
    return NetworkDemo(
        code=code,
        in_service_counts=dict(counts),
        electrified=electrified,
        pv=tuple((label, state, _max_vm_pu(state)) for label, state in cases),
    )
