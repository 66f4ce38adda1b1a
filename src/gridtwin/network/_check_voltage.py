"""The customer-voltage part of :func:`gridtwin.network.checks.check`.

Customer buses (buses with an in-service load) are grouped by voltage level and
reference voltage U0; each group is judged against GOST 32144-2013 or EN 50160:2010 by
:func:`gridtwin.quality.evaluate_voltage_pu` (full result) or from the weekly counts of
a streaming run (:func:`gridtwin.quality.evaluate_voltage_counts`), then reduced to one
row per bus and one per feeder.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._full_result import PowerFlowResult
from gridtwin.network._model import NetworkModel
from gridtwin.network._statistics import PowerFlowStatistics
from gridtwin.quality import (
    SimulatedVoltageCounts,
    SimulatedVoltageEvaluation,
    evaluate_voltage_counts,
    evaluate_voltage_pu,
)

__all__ = ["Level", "Standard"]

Standard = Literal["GOST 32144-2013", "EN 50160:2010"]
Level = Literal["LV", "MV"]
#: (level, U0 [pu], customer rows) of one group of customer buses judged together
_Group = tuple[Level, float, pd.DataFrame]


# nominal LV phase-to-phase voltage of each standard [kV]
_NOMINAL_LV_KV = {"GOST 32144-2013": 0.38, "EN 50160:2010": 0.40}


def _customer_buses(net: Any) -> pd.DataFrame:
    """Buses with an in-service load: bus, number of loads, nominal voltage, feeder."""
    load = net.load[net.load["in_service"].astype(bool)]
    counts = load.groupby("bus").size()
    buses = net.bus.loc[counts.index]
    feeder = (
        buses["subnet"].astype(str)
        if "subnet" in buses.columns
        else pd.Series("grid", index=buses.index)
    )
    return pd.DataFrame(
        {
            "bus": counts.index.astype(int),
            "n_customers": counts.to_numpy(),
            "vn_kv": buses["vn_kv"].to_numpy(),
            "feeder": feeder.to_numpy(),
        }
    )


def _customer_groups(model: NetworkModel, standard: Standard) -> tuple[pd.DataFrame, list[_Group]]:
    """Customer buses and their groups: LV judged on the standard's nominal voltage
    (``u0_pu`` on the grid's base), MV (1-35 kV) on 1.0 pu."""
    customers = _customer_buses(model.net)
    if standard not in _NOMINAL_LV_KV:
        msg = f"unknown standard {standard!r}; use one of {sorted(_NOMINAL_LV_KV)}"
        raise InputError(msg)
    levels: tuple[tuple[Level, Any], ...] = (
        ("LV", customers["vn_kv"] < 1.0),
        ("MV", (customers["vn_kv"] >= 1.0) & (customers["vn_kv"] <= 35.0)),
    )
    groups: list[_Group] = []
    for level, mask in levels:
        part = customers[mask]
        if part.empty:
            continue
        u0 = _NOMINAL_LV_KV[standard] / float(part["vn_kv"].iloc[0]) if level == "LV" else 1.0
        groups.append((level, u0, part))
    return customers, groups


def _counted(
    stats: PowerFlowStatistics, groups: list[_Group], standard: Standard, timezone: str
) -> list[SimulatedVoltageCounts]:
    """The weekly counts of each customer group, or an error saying what to set."""
    vc = stats.spec.voltage_check
    fix = (
        "simulate with keep=KeepSummary(statistics=check_statistics_spec(model, "
        f"standard={standard!r}, timezone={timezone!r})) (it sets "
        "StatisticsSpec.voltage_check)"
    )
    if vc is None:
        msg = (
            "the statistics hold no weekly customer-voltage counts "
            f"(StatisticsSpec.voltage_check is None): {fix}"
        )
        raise InputError(msg)
    if (vc.standard, vc.timezone) != (standard, timezone):
        msg = (
            f"the statistics counted customer voltages for {vc.standard} with weeks in "
            f"{vc.timezone}, not {standard} in {timezone}: check with those, or {fix}"
        )
        raise InputError(msg)
    out = []
    for level, u0, part in groups:
        ids = tuple(str(b) for b in part["bus"])
        found = [
            c
            for c in stats.voltage_counts
            if c.voltage_level == level
            and math.isclose(c.u0_pu, u0, rel_tol=1e-12)
            and c.point_ids == ids
        ]
        if not found:
            msg = (
                f"StatisticsSpec.voltage_check of the statistics does not cover the {level} "
                f"customer buses of this model ({len(ids)} buses, U0 = {u0:g} pu): {fix}"
            )
            raise InputError(msg)
        out.append(found[0])
    return out


def _voltage(
    model: NetworkModel,
    result: PowerFlowResult | PowerFlowStatistics,
    standard: Standard,
    timezone: str,
) -> tuple[pd.DataFrame, list[str]]:
    """One row per customer bus (verdict, share out of band, worst voltage) and notes."""
    customers, groups = _customer_groups(model, standard)
    counted = (
        _counted(result, groups, standard, timezone)
        if isinstance(result, PowerFlowStatistics)
        else None
    )
    frames, notes = [], []
    for k, (level, u0, part) in enumerate(groups):
        ev: SimulatedVoltageEvaluation
        if counted is not None:
            ev = evaluate_voltage_counts(counted[k], step=result.step_duration)
        else:
            assert isinstance(result, PowerFlowResult)
            ev = _evaluate_full(result, (level, u0, part), standard, timezone)
        frames.append(_customer_rows((level, u0, part), ev))
        notes.append(f"{level}: {ev.basis}")
        notes += [n for n in ev.notes if n not in notes]
    above = int((customers["vn_kv"] > 35.0).sum())
    if above:
        notes.append(
            f"{above} customer bus(es) above 35 kV are not judged: {standard} sets supply "
            "voltage limits for LV and MV (up to 35 kV) only"
        )
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else customers.iloc[:0].assign(
            voltage_level=[],
            u0_pu=[],
            verdict=[],
            share_out_of_band_percent=[],
            worst_vm_pu=[],
            worst_time_utc=[],
        )
    )
    return out, notes


def _evaluate_full(
    result: PowerFlowResult, group: _Group, standard: Standard, timezone: str
) -> SimulatedVoltageEvaluation:
    """Judge one group's voltages in a full result (a customer's voltage is its lowest
    phase)."""
    level, u0, part = group
    pos = {int(b): i for i, b in enumerate(result.bus_ids)}
    cols = [pos[b] for b in part["bus"]]
    vm = result.vm_pu[:, cols] if result.symmetric else result.vm_pu[:, cols, :].min(axis=2)
    return evaluate_voltage_pu(
        vm,
        result.time_utc,
        standard,
        level,
        timezone=timezone,
        point_ids=[str(b) for b in part["bus"]],
        step=result.step_duration,
        u0_pu=u0,
    )


def _customer_rows(group: _Group, ev: SimulatedVoltageEvaluation) -> pd.DataFrame:
    """The group's customer rows with their verdict (any failing week fails the bus),
    share out of band and worst voltage."""
    level, u0, part = group
    weekly = ev.weekly.to_frame()
    verdict = weekly.groupby("point_id")["verdict"].agg(
        lambda v: (
            "fail"
            if (v == "fail").any()
            else ("insufficient data" if (v != "pass").all() else "pass")
        )
    )
    return part.assign(
        voltage_level=level,
        u0_pu=u0,
        verdict=[verdict.get(str(b), "insufficient data") for b in part["bus"]],
        share_out_of_band_percent=ev.share_out_of_band_percent,
        worst_vm_pu=ev.worst_vm_pu,
        worst_time_utc=pd.to_datetime(ev.worst_time_utc, utc=True),
    )


def _feeders(voltage: pd.DataFrame) -> pd.DataFrame:
    """Per feeder: customers, customers failing, worst share out of band, worst voltage."""
    if voltage.empty:
        return pd.DataFrame(
            columns=[
                "feeder",
                "customers",
                "customers_failing",
                "worst_share_out_of_band_percent",
                "worst_vm_pu",
            ]
        )
    g = voltage.assign(failing=(voltage["verdict"] == "fail") * voltage["n_customers"])
    return (
        g.groupby("feeder")
        .agg(
            customers=("n_customers", "sum"),
            customers_failing=("failing", "sum"),
            worst_share_out_of_band_percent=("share_out_of_band_percent", "max"),
            worst_vm_pu=("worst_vm_pu", lambda s: s.loc[(s - 1.0).abs().idxmax()]),
        )
        .reset_index()
    )
