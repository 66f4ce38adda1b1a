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
keep=KeepSummary(statistics=check_statistics_spec(model, ...)))``), which counts the
customer voltages per observation week while simulating, so that a year of a large grid
is checked without holding ``T x n`` results. Both give the same voltage verdicts,
shares out of band and worst voltages; what statistics cannot reproduce is stated in
:attr:`CheckReport.notes`.

This module holds the report and the public functions; the customer-voltage part is in
:mod:`gridtwin.network._check_voltage`, the line and transformer parts in
:mod:`gridtwin.network._check_loading`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.errors import InputError
from gridtwin.network._check_loading import _loading_tables, _LoadingOptions
from gridtwin.network._check_voltage import Level, _customer_groups, _feeders, _voltage
from gridtwin.network._check_voltage import Standard as Standard
from gridtwin.network._full_result import PowerFlowResult
from gridtwin.network._model import NetworkModel
from gridtwin.network._statistics import PowerFlowStatistics, StatisticsSpec, VoltageCheckSpec

__all__ = [
    "CheckReport",
    "VoltageCheckSpec",
    "check",
    "check_statistics_spec",
    "compare_checks",
    "customer_reference",
    "voltage_check_spec",
]

FloatArray = npt.NDArray[np.float64]


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
        Pass it as ``simulate(model, keep=KeepSummary(statistics=...))``.
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
        A full result, or the statistics of ``simulate(model,
        keep=KeepSummary(statistics=check_statistics_spec(model, ...)))``.
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
        msg = (
            f"{model.source}: checks need a time series of at least two steps, got "
            f"{result.n_steps} (a grid without profiles is solved at one snapshot): load "
            "it with its profiles or drive its loads with meters"
        )
        raise InputError(msg)
    voltage, notes = _voltage(model, result, standard, timezone)
    options = _LoadingOptions(cable_ratings_a, warn_ratio, ambient_c, cooling)
    lines, trafos, loading_notes = _loading_tables(model, result, options)
    notes += loading_notes
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


def customer_reference(model: NetworkModel, standard: str) -> pd.DataFrame:
    """The customer buses and how the standard judges them: one row per bus with an
    in-service load, columns ``bus``, ``level`` (``LV`` below 1 kV, ``MV`` 1-35 kV) and
    ``u0_pu`` (the standard's reference voltage in pu of the bus's base: GOST's 380 V on a
    0.4 kV bus is 0.95; MV buses 1.0). Customers above 35 kV are not listed."""
    from gridtwin.network._check_voltage import _customer_groups

    _, groups = _customer_groups(model, standard)  # type: ignore[arg-type]
    rows = [
        pd.DataFrame({"bus": part["bus"].to_numpy(), "level": level, "u0_pu": u0})
        for level, u0, part in groups
    ]
    if not rows:
        return pd.DataFrame({"bus": [], "level": [], "u0_pu": []})
    return pd.concat(rows, ignore_index=True)
