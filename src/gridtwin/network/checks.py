"""Checks of a time-series power flow: voltage at customers, cable loading, transformer ageing.

One workflow over three domain modules:

- voltage at every customer bus against GOST 32144-2013 or EN 50160:2010 through
  :func:`gridtwin.quality.evaluate_voltage_pu` (the same limits and evaluation as the
  power-quality assessment of measured data);
- cable and line loading against the cable's own rating (pandapower ``max_i_ka``) or an
  IEC 60364-5-52 rating (:mod:`gridtwin.network.ratings`);
- transformer hot spot, relative ageing and loss of life per IEC 60076-7
  (:mod:`gridtwin.network.ageing`) from the simulated load factor and an ambient
  temperature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._model import NetworkModel
from gridtwin.network._results import PowerFlowResult
from gridtwin.network.ageing import simulate_thermal, thermal_parameters
from gridtwin.network.ratings import cable_loading_check
from gridtwin.quality import evaluate_voltage_pu

__all__ = ["CheckReport", "check", "compare_checks"]

FloatArray = npt.NDArray[np.float64]
Standard = Literal["GOST 32144-2013", "EN 50160:2010"]
# nominal LV phase-to-phase voltage of each standard [kV]
_NOMINAL_LV_KV = {"GOST 32144-2013": 0.38, "EN 50160:2010": 0.40}


@dataclass(frozen=True)
class CheckReport:
    """Results of the checks of one power-flow result.

    Attributes
    ----------
    standard : str
        Voltage standard applied.
    voltage : pandas.DataFrame
        One row per customer bus: ``bus, feeder, voltage_level, n_customers, verdict,
        share_out_of_band_percent, worst_vm_pu, worst_time_utc``.
    feeders : pandas.DataFrame
        Per feeder: customers, customers failing, worst share out of band, worst voltage.
    lines : pandas.DataFrame
        Per line: ``line, rating_a, rating_source, max_loading_ratio, hours_above_limit,
        hours_above_warn, status, first_above_limit_utc``.
    transformers : pandas.DataFrame
        Per transformer: ``trafo, max_loading_percent, max_hot_spot_c, max_hot_spot_utc,
        loss_of_life_h, equivalent_ageing_rate, cooling, ambient_c``.
    notes : tuple of str
        Assumptions and the evaluation basis (simulation steps, not 10-min aggregates).
    """

    standard: str
    voltage: pd.DataFrame
    feeders: pd.DataFrame
    lines: pd.DataFrame
    transformers: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    def violations(self) -> dict[str, int]:
        """Counts: customer buses failing, lines above their limit, hot spots above 98 °C."""
        return {
            "customer_buses_failing": int((self.voltage["verdict"] == "fail").sum()),
            "lines_overloaded": int((self.lines["status"] == "alarm").sum()),
            "trafos_hot_spot_above_98c": int((self.transformers["max_hot_spot_c"] > 98).sum()),
        }

    def limiting_element(self) -> str:
        """The element closest to (or furthest beyond) its limit."""
        candidates: list[tuple[float, str]] = []
        if len(self.lines):
            i = int(self.lines["max_loading_ratio"].idxmax())
            row = self.lines.loc[i]
            candidates.append(
                (
                    float(row["max_loading_ratio"]),
                    f"line {row['line']} at {row['max_loading_ratio']:.0%} of rating",
                )
            )
        if len(self.transformers):
            i = int(self.transformers["max_loading_percent"].idxmax())
            row = self.transformers.loc[i]
            candidates.append(
                (
                    float(row["max_loading_percent"]) / 100.0,
                    f"trafo {row['trafo']} at {row['max_loading_percent']:.0f} %",
                )
            )
        if len(self.voltage):
            # deviation from the standard's reference voltage U0, in units of the 10 % band
            rel = (self.voltage["worst_vm_pu"] - self.voltage["u0_pu"]).abs() / self.voltage[
                "u0_pu"
            ]
            i = int(rel.idxmax())
            row = self.voltage.loc[i]
            dev = float(rel.loc[i]) / 0.10
            candidates.append((dev, f"bus {row['bus']} at {row['worst_vm_pu']:.3f} pu"))
        return max(candidates)[1] if candidates else "none"


def _customer_buses(net: Any) -> pd.DataFrame:
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


def _voltage(
    model: NetworkModel, result: PowerFlowResult, standard: Standard, timezone: str
) -> tuple[pd.DataFrame, list[str]]:
    customers = _customer_buses(model.net)
    pos = {int(b): i for i, b in enumerate(result.bus_ids)}
    frames, notes = [], []
    levels: tuple[tuple[Literal["LV", "MV"], Any], ...] = (
        ("LV", customers["vn_kv"] < 1.0),
        ("MV", (customers["vn_kv"] >= 1.0) & (customers["vn_kv"] <= 35.0)),
    )
    for level, mask in levels:
        part = customers[mask]
        if part.empty:
            continue
        cols = [pos[b] for b in part["bus"]]
        vm = result.vm_pu[:, cols] if result.symmetric else result.vm_pu[:, cols, :].min(axis=2)
        u0 = _NOMINAL_LV_KV[standard] / float(part["vn_kv"].iloc[0]) if level == "LV" else 1.0
        ev = evaluate_voltage_pu(
            vm,
            result.time_utc,
            standard,
            level,
            timezone=timezone,
            point_ids=[str(b) for b in part["bus"]],
            step=result.step_duration,
            u0_pu=u0,
        )
        weekly = ev.weekly.to_frame()
        verdict = weekly.groupby("point_id")["verdict"].agg(
            lambda v: (
                "fail"
                if (v == "fail").any()
                else ("insufficient data" if (v != "pass").all() else "pass")
            )
        )
        frames.append(
            part.assign(
                voltage_level=level,
                u0_pu=u0,
                verdict=[verdict.get(str(b), "insufficient data") for b in part["bus"]],
                share_out_of_band_percent=ev.share_out_of_band_percent,
                worst_vm_pu=ev.worst_vm_pu,
                worst_time_utc=pd.to_datetime(ev.worst_time_utc, utc=True),
            )
        )
        notes.append(f"{level}: {ev.basis}")
        notes += [n for n in ev.notes if n not in notes]
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else customers.assign(
            voltage_level=[],
            verdict=[],
            share_out_of_band_percent=[],
            worst_vm_pu=[],
            worst_time_utc=[],
        )
    )
    return out, notes


def _feeders(voltage: pd.DataFrame) -> pd.DataFrame:
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


def _lines(
    model: NetworkModel,
    result: PowerFlowResult,
    ratings_a: Mapping[int, float] | None,
    warn_ratio: float,
) -> pd.DataFrame:
    line = model.net.line.loc[result.line_ids]
    own = (line["max_i_ka"] * 1000.0 * line["df"] * line["parallel"]).to_numpy()
    given = ratings_a or {}
    unknown = [i for i in given if i not in line.index]
    if unknown:
        msg = f"cable ratings given for unknown line id(s) {unknown[:5]}"
        raise InputError(msg)
    rating = np.array([given.get(int(i), own[k]) for k, i in enumerate(result.line_ids)])
    source = [
        "given (e.g. IEC 60364-5-52 corrected)"
        if int(i) in given
        else "cable's own rating (max_i_ka x df x parallel)"
        for i in result.line_ids
    ]
    current = result.line_i_ka * 1000.0
    if not result.symmetric:
        current = np.nanmax(current, axis=2)
    chk = cable_loading_check(
        current.T,
        rating,
        warn_ratio,
        time_utc=result.time_utc,
        step_h=result.step_duration / pd.Timedelta(hours=1),
    )
    return pd.DataFrame(
        {
            "line": result.line_ids,
            "rating_a": rating,
            "rating_source": source,
            "max_loading_ratio": chk.max_ratio,
            "hours_above_limit": chk.hours_above_limit,
            "hours_above_warn": chk.hours_above_warn,
            "status": chk.status,
            "first_above_limit_utc": chk.first_above_limit_utc,
        }
    )


def _transformers(
    result: PowerFlowResult, ambient_c: float | FloatArray, cooling: str
) -> pd.DataFrame:
    if len(result.trafo_ids) == 0:
        return pd.DataFrame(
            columns=[
                "trafo",
                "max_loading_percent",
                "max_hot_spot_c",
                "max_hot_spot_utc",
                "loss_of_life_h",
                "equivalent_ageing_rate",
                "cooling",
                "ambient_c",
            ]
        )
    k = np.nan_to_num(result.trafo_loading_percent, nan=0.0).T / 100.0
    ambient = np.broadcast_to(np.asarray(ambient_c, dtype=float), (k.shape[1],))
    th = simulate_thermal(
        k, np.broadcast_to(ambient, k.shape), thermal_parameters(cooling), time_utc=result.time_utc
    )
    return pd.DataFrame(
        {
            "trafo": result.trafo_ids,
            "max_loading_percent": np.nanmax(result.trafo_loading_percent, axis=0),
            "max_hot_spot_c": th.max_hot_spot_c,
            "max_hot_spot_utc": th.max_hot_spot_utc,
            "loss_of_life_h": th.loss_of_life_h,
            "equivalent_ageing_rate": th.equivalent_ageing_rate,
            "cooling": cooling,
            "ambient_c": float(np.mean(ambient)),
        }
    )


def check(
    model: NetworkModel,
    result: PowerFlowResult,
    *,
    standard: Standard = "GOST 32144-2013",
    timezone: str = "UTC",
    cable_ratings_a: Mapping[int, float] | None = None,
    warn_ratio: float = 0.9,
    ambient_c: float | FloatArray = 20.0,
    cooling: str = "distribution_onan",
) -> CheckReport:
    """Check a time-series power flow: customer voltages, line loading, transformer ageing.

    Parameters
    ----------
    standard : {"GOST 32144-2013", "EN 50160:2010"}
        Supply-voltage standard; LV customers are judged against its nominal voltage
        (220/380 V for GOST, 230/400 V for EN 50160) on the grid's per-unit base.
    timezone : str
        Local zone for the standard's observation weeks.
    cable_ratings_a : mapping line id -> A, optional
        Permissible currents replacing the cable's own rating (e.g. from
        :func:`gridtwin.network.ratings.permissible_current_a`).
    ambient_c : float or array (T,)
        Ambient temperature for the transformers [°C].
    cooling : str
        IEC 60076-7 cooling mode of the transformers.
    """
    if result.n_steps < 2:
        msg = "checks need a time series of at least two steps"
        raise InputError(msg)
    voltage, notes = _voltage(model, result, standard, timezone)
    lines = _lines(model, result, cable_ratings_a, warn_ratio)
    trafos = _transformers(result, ambient_c, cooling)
    notes.append(
        f"transformers: IEC 60076-7 {cooling}, ambient {np.mean(ambient_c):.1f} °C, "
        "load factor = simulated loading / 100"
    )
    if not bool(result.converged.all()):
        notes.append(
            f"{int((~result.converged).sum())} step(s) did not converge and are excluded (NaN)"
        )
    return CheckReport(standard, voltage, _feeders(voltage), lines, trafos, tuple(notes))


def compare_checks(before: CheckReport, after: CheckReport) -> pd.DataFrame:
    """Violations before and after a scenario, and the limiting element of each."""
    rows = []
    for label, rep in (("before", before), ("after", after)):
        rows.append({"case": label, **rep.violations(), "limiting_element": rep.limiting_element()})
    return pd.DataFrame(rows)
