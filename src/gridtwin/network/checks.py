"""Checks of a time-series power flow: voltage at customers, cable loading, transformer ageing.

One workflow over three domain modules:

- voltage at every customer bus against GOST 32144-2013 or EN 50160:2010 through
  :func:`gridtwin.quality.evaluate_voltage_pu` (the same limits and evaluation as the
  power-quality assessment of measured data);
- cable and line loading against the cable's own rating (pandapower ``max_i_ka``) or an
  IEC 60364-5-52 rating (:mod:`gridtwin.network.ratings`);
- transformer hot spot, relative ageing and loss of life per IEC 60076-7
  (:mod:`gridtwin.network.ageing`) from the simulated load factor and an ambient
  temperature; three-winding transformers (``trafo3w``) get their highest loading and
  hours above 100 % only (the IEC 60076-7 ageing here is for two-winding units).

:func:`check` takes a full :class:`~gridtwin.network.PowerFlowResult` or the
:class:`~gridtwin.network.PowerFlowStatistics` of a streaming run (``simulate(...,
keep="summary", statistics=check_statistics_spec(model, ...))``), which counts the
customer voltages per observation week while simulating, so that a year of a large grid
is checked without holding ``T x n`` results. Both give the same voltage verdicts,
shares out of band and worst voltages; what statistics cannot reproduce is stated in
:attr:`CheckReport.notes`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._cable_loading import _step_hours, cable_loading_check, loading_ratio
from gridtwin.network._model import NetworkModel
from gridtwin.network._results import (
    PowerFlowResult,
    PowerFlowStatistics,
    StatisticsSpec,
    VoltageCheckSpec,
)
from gridtwin.network.ageing import simulate_thermal, thermal_parameters
from gridtwin.quality import (
    SimulatedVoltageCounts,
    SimulatedVoltageEvaluation,
    evaluate_voltage_counts,
    evaluate_voltage_pu,
)

__all__ = [
    "CheckReport",
    "VoltageCheckSpec",
    "check",
    "check_statistics_spec",
    "compare_checks",
    "voltage_check_spec",
]

FloatArray = npt.NDArray[np.float64]
Standard = Literal["GOST 32144-2013", "EN 50160:2010"]
Level = Literal["LV", "MV"]
#: (level, U0 [pu], customer rows) of one group of customer buses judged together
_Group = tuple[Level, float, pd.DataFrame]
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
        Per transformer: ``element, trafo, max_loading_percent, hours_above_limit,
        max_hot_spot_c, max_hot_spot_utc, loss_of_life_h, equivalent_ageing_rate, cooling,
        ambient_c``. ``element`` is ``"trafo"`` for two-winding transformers and
        ``"trafo3w"`` for three-winding ones, ``trafo`` the index in that table;
        ``hours_above_limit`` the hours with a loading above 100 %. Three-winding
        transformers have no IEC 60076-7 ageing (NaN hot spot and ageing, no cooling).
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
        """Counts: customer buses failing, lines above their limit, hot spots above 98 °C,
        three-winding transformers loaded above 100 % (they have no hot spot here)."""
        tr = self.transformers
        three = tr["element"] == "trafo3w" if "element" in tr else pd.Series(False, tr.index)
        return {
            "customer_buses_failing": int((self.voltage["verdict"] == "fail").sum()),
            "lines_overloaded": int((self.lines["status"] == "alarm").sum()),
            "trafos_hot_spot_above_98c": int((tr["max_hot_spot_c"] > 98).sum()),
            "trafo3w_overloaded": int((three & (tr["max_loading_percent"] > 100)).sum()),
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
            element = row.get("element", "trafo")
            candidates.append(
                (
                    float(row["max_loading_percent"]) / 100.0,
                    f"{element} {row['trafo']} at {row['max_loading_percent']:.0f} %",
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


def voltage_check_spec(
    model: NetworkModel, *, standard: Standard = "GOST 32144-2013", timezone: str = "UTC"
) -> VoltageCheckSpec:
    """The customer buses, levels and reference voltages that :func:`check` judges, for
    :attr:`StatisticsSpec.voltage_check` of a streaming run.

    Parameters
    ----------
    model : NetworkModel
        The grid (customer buses are the buses with an in-service load).
    standard : {"GOST 32144-2013", "EN 50160:2010"}
        Supply-voltage standard of the later :func:`check`.
    timezone : str
        Local zone of the observation weeks (the same as in :func:`check`).

    Returns
    -------
    VoltageCheckSpec
    """
    _customers, groups = _customer_groups(model, standard)
    buses: list[int] = []
    levels: list[Level] = []
    u0s: list[float] = []
    for level, u0, part in groups:
        buses += [int(b) for b in part["bus"]]
        levels += [level] * len(part)
        u0s += [u0] * len(part)
    return VoltageCheckSpec(standard, timezone, tuple(buses), tuple(levels), tuple(u0s))


def check_statistics_spec(
    model: NetworkModel,
    *,
    standard: Standard = "GOST 32144-2013",
    timezone: str = "UTC",
    warn_ratio: float = 0.9,
) -> StatisticsSpec:
    """A :class:`StatisticsSpec` with everything :func:`check` needs from a streaming run.

    The weekly customer-voltage counts (:func:`voltage_check_spec`), loading limits at
    ``warn_ratio`` and at 100 % (hours above warn / limit and first time above the
    limit of lines on their own rating) and the transformer loading series (ageing).

    Parameters
    ----------
    model : NetworkModel
    standard, timezone
        As in :func:`check`.
    warn_ratio : float
        The warning ratio that will be passed to :func:`check`, in (0, 1].

    Returns
    -------
    StatisticsSpec
        Pass it as ``simulate(model, keep="summary", statistics=...)``.
    """
    if not 0 < warn_ratio <= 1:
        msg = f"warn_ratio={warn_ratio!r} must be in (0, 1]"
        raise InputError(msg)
    warn_percent = round(100.0 * warn_ratio, 9)
    limits = (warn_percent, 100.0) if warn_percent < 100.0 else (100.0,)
    return StatisticsSpec(
        loading_limits_percent=limits,
        trafo_series=True,
        voltage_check=voltage_check_spec(model, standard=standard, timezone=timezone),
    )


def _counted(
    stats: PowerFlowStatistics, groups: list[_Group], standard: Standard, timezone: str
) -> list[SimulatedVoltageCounts]:
    """The weekly counts of each customer group, or an error saying what to set."""
    vc = stats.spec.voltage_check
    fix = (
        "simulate with keep='summary', statistics=check_statistics_spec(model, "
        f"standard={standard!r}, timezone={timezone!r}) (it sets StatisticsSpec.voltage_check)"
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
            pos = {int(b): i for i, b in enumerate(result.bus_ids)}
            cols = [pos[b] for b in part["bus"]]
            vm = result.vm_pu[:, cols] if result.symmetric else result.vm_pu[:, cols, :].min(axis=2)
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


def _line_ratings(
    model: NetworkModel, line_ids: npt.NDArray[np.int64], ratings_a: Mapping[int, float] | None
) -> tuple[FloatArray, list[str], npt.NDArray[np.bool_]]:
    """Rating [A] of each line, its source, and whether it was given (else the own)."""
    line = model.net.line.loc[line_ids]
    own = (line["max_i_ka"] * 1000.0 * line["df"] * line["parallel"]).to_numpy()
    given = ratings_a or {}
    unknown = [i for i in given if i not in line.index]
    if unknown:
        msg = f"cable ratings given for unknown line id(s) {unknown[:5]}"
        raise InputError(msg)
    rating = np.array([given.get(int(i), own[k]) for k, i in enumerate(line_ids)], dtype=float)
    is_given = np.array([int(i) in given for i in line_ids], dtype=bool)
    source = [
        "given (e.g. IEC 60364-5-52 corrected)"
        if g
        else "cable's own rating (max_i_ka x df x parallel)"
        for g in is_given
    ]
    return rating, source, is_given


def _lines(
    model: NetworkModel,
    result: PowerFlowResult,
    ratings_a: Mapping[int, float] | None,
    warn_ratio: float,
) -> pd.DataFrame:
    rating, source, _given = _line_ratings(model, result.line_ids, ratings_a)
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


def _limit_index(limits: tuple[float, ...], percent: float) -> int | None:
    for k, lim in enumerate(limits):
        if math.isclose(lim, percent, rel_tol=1e-9):
            return k
    return None


def _lines_from_statistics(
    model: NetworkModel,
    stats: PowerFlowStatistics,
    ratings_a: Mapping[int, float] | None,
    warn_ratio: float,
) -> tuple[pd.DataFrame, list[str]]:
    """The line table from the per-line statistics (see :func:`check` for what differs)."""
    if not (isinstance(warn_ratio, (int, float)) and 0 < warn_ratio <= 1):
        msg = f"warn_ratio={warn_ratio!r} must be in (0, 1]"
        raise InputError(msg)
    rating, source, given = _line_ratings(model, stats.line_ids, ratings_a)
    hours = _step_hours(stats.n_steps, stats.time_utc, stats.step_duration / pd.Timedelta(hours=1))
    # max over steps of I / I_z = (max I) / I_z exactly (a monotone map of each value)
    max_ratio = loading_ratio(stats.line_i_max_ka * 1000.0, rating)
    status = np.where(max_ratio > 1.0, "alarm", np.where(max_ratio > warn_ratio, "warning", "ok"))
    limits = stats.spec.loading_limits_percent
    k_lim, k_warn = _limit_index(limits, 100.0), _limit_index(limits, 100.0 * warn_ratio)
    nan = np.full(len(stats.line_ids), np.nan)
    above_limit = (
        nan if k_lim is None else np.where(given, np.nan, stats.line_steps_above[k_lim] * hours)
    )
    above_warn = (
        nan if k_warn is None else np.where(given, np.nan, stats.line_steps_above[k_warn] * hours)
    )
    first_step = np.full(len(stats.line_ids), -1, dtype=np.int64)
    if k_lim is not None and stats.line_first_above_step is not None:
        first_step = np.where(given, -1, stats.line_first_above_step[k_lim])
    notes = [
        "lines from statistics: max_loading_ratio and status from the highest current; "
        "hours above limit / warn and the first time above the limit are counted on the "
        "simulated loading_percent against StatisticsSpec.loading_limits_percent (own "
        "rating only)"
    ]
    missing = []
    if k_lim is None:
        missing.append("100 %")
    if k_warn is None:
        missing.append(f"{100.0 * warn_ratio:g} % (warn_ratio)")
    if missing:
        notes.append(
            f"lines: StatisticsSpec.loading_limits_percent lacks {' and '.join(missing)}: "
            "the matching hours (and first time above the limit) are NaN/NaT; use "
            "check_statistics_spec(model, warn_ratio=...)"
        )
    if given.any() and len(stats.line_ids):
        notes.append(
            f"lines: {int(given.sum())} line(s) with a given rating: hours above limit / warn "
            "and the first time above the limit are not available from statistics (NaN/NaT)"
        )
    if first_step.size and k_lim is not None and stats.line_first_above_step is None:
        notes.append("lines: the statistics do not keep the first step above a limit (NaT)")
    frame = pd.DataFrame(
        {
            "line": stats.line_ids,
            "rating_a": rating,
            "rating_source": source,
            "max_loading_ratio": max_ratio,
            "hours_above_limit": above_limit,
            "hours_above_warn": above_warn,
            "status": status.astype(np.str_),
            "first_above_limit_utc": pd.DatetimeIndex(stats.time_at(first_step), name=None),
        }
    )
    return frame, notes


_TRAFO_COLUMNS = [
    "element",
    "trafo",
    "max_loading_percent",
    "hours_above_limit",
    "max_hot_spot_c",
    "max_hot_spot_utc",
    "loss_of_life_h",
    "equivalent_ageing_rate",
    "cooling",
    "ambient_c",
]


def _transformers(
    trafo_ids: npt.NDArray[np.int64],
    loading_percent: FloatArray | None,
    time_utc: pd.DatetimeIndex,
    ambient_c: float | FloatArray,
    cooling: str,
    hours_above_limit: FloatArray,
    max_loading_percent: FloatArray | None = None,
) -> pd.DataFrame:
    """IEC 60076-7 ageing from the loading series ``(T, n_trafo)`` [%]; without a series
    only the highest loading (``max_loading_percent``) is known and the rest is NaN."""
    if len(trafo_ids) == 0:
        return pd.DataFrame(columns=_TRAFO_COLUMNS)
    if loading_percent is None:
        ambient = np.broadcast_to(np.asarray(ambient_c, dtype=float), (len(time_utc),))
        return _loading_only_rows(
            "trafo",
            trafo_ids,
            max_loading_percent,
            hours_above_limit,
            cooling,
            float(np.mean(ambient)),
        )
    k = np.nan_to_num(loading_percent, nan=0.0).T / 100.0
    ambient = np.broadcast_to(np.asarray(ambient_c, dtype=float), (k.shape[1],))
    th = simulate_thermal(
        k, np.broadcast_to(ambient, k.shape), thermal_parameters(cooling), time_utc=time_utc
    )
    return pd.DataFrame(
        {
            "element": "trafo",
            "trafo": trafo_ids,
            "max_loading_percent": np.nanmax(loading_percent, axis=0),
            "hours_above_limit": hours_above_limit,
            "max_hot_spot_c": th.max_hot_spot_c,
            "max_hot_spot_utc": th.max_hot_spot_utc,
            "loss_of_life_h": th.loss_of_life_h,
            "equivalent_ageing_rate": th.equivalent_ageing_rate,
            "cooling": cooling,
            "ambient_c": float(np.mean(ambient)),
        }
    )


def _trafo3w_rows(
    ids: npt.NDArray[np.int64],
    max_loading_percent: FloatArray,
    hours_above_limit: FloatArray,
    ambient_c: float | FloatArray,
) -> pd.DataFrame:
    """Rows of the three-winding transformers: loading only, no IEC 60076-7 ageing."""
    if len(ids) == 0:
        return pd.DataFrame(columns=_TRAFO_COLUMNS)
    return _loading_only_rows(
        "trafo3w", ids, max_loading_percent, hours_above_limit, None, float(np.mean(ambient_c))
    )


def _loading_only_rows(
    element: str,
    ids: npt.NDArray[np.int64],
    max_loading_percent: FloatArray | None,
    hours_above_limit: FloatArray,
    cooling: str | None,
    ambient_c: float,
) -> pd.DataFrame:
    """Transformer rows with the highest loading and hours above the limit only; the
    thermal columns are NaN (no loading series, or no thermal model for the element)."""
    nan = np.full(len(ids), np.nan)
    return pd.DataFrame(
        {
            "element": element,
            "trafo": ids,
            "max_loading_percent": max_loading_percent,
            "hours_above_limit": hours_above_limit,
            "max_hot_spot_c": nan,
            "max_hot_spot_utc": pd.DatetimeIndex([pd.NaT] * len(ids), tz="UTC"),
            "loss_of_life_h": nan,
            "equivalent_ageing_rate": nan,
            "cooling": cooling,
            "ambient_c": ambient_c,
        }
    )


def _stacked(two: pd.DataFrame, three: pd.DataFrame) -> pd.DataFrame:
    """Two- then three-winding transformer rows (no concatenation with an empty frame)."""
    if not len(three):
        return two
    if not len(two):
        return three.reset_index(drop=True)
    return pd.concat([two, three], ignore_index=True)


def _hours_above_100(
    result: PowerFlowResult | PowerFlowStatistics,
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Hours above 100 % loading of each transformer and three-winding transformer."""
    step_h = _step_hours(
        result.n_steps, result.time_utc, result.step_duration / pd.Timedelta(hours=1)
    )
    if isinstance(result, PowerFlowResult):
        return (
            (result.trafo_loading_percent > 100.0).sum(axis=0) * step_h,
            (result.trafo3w_loading_percent > 100.0).sum(axis=0) * step_h,
            [],
        )
    k = _limit_index(result.spec.loading_limits_percent, 100.0)
    if k is None:
        notes = []
        if len(result.trafo_ids) or len(result.trafo3w_ids):
            notes.append(
                "transformers: StatisticsSpec.loading_limits_percent lacks 100 %: "
                "hours_above_limit is NaN; use check_statistics_spec(model)"
            )
        return (
            np.full(len(result.trafo_ids), np.nan),
            np.full(len(result.trafo3w_ids), np.nan),
            notes,
        )
    return (
        result.trafo_steps_above[k] * step_h,
        result.trafo3w_steps_above[k] * step_h,
        [],
    )


def check(
    model: NetworkModel,
    result: PowerFlowResult | PowerFlowStatistics,
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
    model : NetworkModel
        The simulated grid.
    result : PowerFlowResult or PowerFlowStatistics
        A full result, or the statistics of ``simulate(model, keep="summary",
        statistics=check_statistics_spec(model, standard=..., timezone=...))``.
    standard : {"GOST 32144-2013", "EN 50160:2010"}
        Supply-voltage standard; LV customers are judged against its nominal voltage
        (220/380 V for GOST, 230/400 V for EN 50160) on the grid's per-unit base.
    timezone : str
        Local zone for the standard's observation weeks.
    cable_ratings_a : mapping line id -> A, optional
        Permissible currents replacing the cable's own rating (e.g. from
        :func:`gridtwin.network.ratings.permissible_current_a`).
    warn_ratio : float
        Warning level of the line loading ratio I / I_z, in (0, 1].
    ambient_c : float or array (T,)
        Ambient temperature for the transformers [°C].
    cooling : str
        IEC 60076-7 cooling mode of the transformers.

    Returns
    -------
    CheckReport

    Raises
    ------
    InputError
        Fewer than two steps; statistics without the weekly voltage counts of this
        standard and time zone (set :attr:`StatisticsSpec.voltage_check`, e.g. with
        :func:`check_statistics_spec`).

    Notes
    -----
    From statistics, the voltage table is identical to the full result's (verdicts per
    week reduced per bus, share out of band, worst voltage and time). Lines: the highest
    loading ratio and the status are exact; hours above limit / warn and the first time
    above the limit come from the counts of ``StatisticsSpec.loading_limits_percent``
    (100 % and ``100 * warn_ratio``) on the simulated ``loading_percent`` and are NaN/NaT
    for limits not counted and for lines with a given rating. Transformers: identical
    when the loading series is kept (``StatisticsSpec.trafo_series``), otherwise only the
    highest loading (and the hours above 100 % when that limit is counted).
    Three-winding transformers: highest loading and hours above 100 %, identical from
    statistics and full results; no IEC 60076-7 ageing. Every gap is stated in
    :attr:`CheckReport.notes`.
    """
    if result.n_steps < 2:
        msg = "checks need a time series of at least two steps"
        raise InputError(msg)
    voltage, notes = _voltage(model, result, standard, timezone)
    hours_2w, hours_3w, hour_notes = _hours_above_100(result)
    if isinstance(result, PowerFlowStatistics):
        lines, line_notes = _lines_from_statistics(model, result, cable_ratings_a, warn_ratio)
        notes += line_notes
        trafos = _transformers(
            result.trafo_ids,
            result.trafo_loading_percent,
            result.time_utc,
            ambient_c,
            cooling,
            hours_2w,
            max_loading_percent=result.trafo_loading_max_percent,
        )
        t3_max = result.trafo3w_loading_max_percent
        if result.trafo_loading_percent is None and len(result.trafo_ids):
            notes.append(
                "transformers: the statistics keep no loading series "
                "(StatisticsSpec.trafo_series=False): only the highest loading; hot spot "
                "and ageing are NaN"
            )
    else:
        lines = _lines(model, result, cable_ratings_a, warn_ratio)
        trafos = _transformers(
            result.trafo_ids,
            result.trafo_loading_percent,
            result.time_utc,
            ambient_c,
            cooling,
            hours_2w,
        )
        t3_max = np.fmax.reduce(result.trafo3w_loading_percent, axis=0)  # NaN: never loaded
    trafos = _stacked(trafos, _trafo3w_rows(result.trafo3w_ids, t3_max, hours_3w, ambient_c))
    notes += hour_notes
    if len(result.trafo3w_ids):
        notes.append(
            "transformers: three-winding transformers (element 'trafo3w'): highest loading "
            "and hours above 100 % only; IEC 60076-7 hot spot and ageing are computed for "
            "two-winding transformers only (NaN)"
        )
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
