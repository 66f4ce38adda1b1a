"""The network twin as one workflow: a model and its set-points in, its state out.

:class:`Twin` holds a network model (with its profiles, or metered consumption mapped onto
its loads) and how to calculate and judge it. :meth:`Twin.run` is the order of steps every
caller shares (the command line, the demo, and the service that follows):

1. the time-series power flow (:func:`gridtwin.network.simulate`), keeping every step or,
   for large grids, streamed statistics with the weekly voltage counts the checks need;
2. the checks (:func:`gridtwin.network.checks.check`): customer voltages against
   GOST 32144-2013 or EN 50160:2010, line loading, transformer hot spot and ageing;
3. the potential deviations (:func:`gridtwin.workflows.potential_deviations`): each
   customer-week that fails, with its first, last and worst step and its cause;
4. a summary: violations and the limiting element.

The result is a :class:`TwinState`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError
from gridtwin.network import (
    Controls,
    KeepFull,
    KeepSummary,
    NetworkInfo,
    NetworkModel,
    PowerFlowOptions,
    PowerFlowResult,
    PowerFlowStatistics,
    Profiles,
    ValidationReport,
    info,
    load_cgmes,
    load_pandapower_json,
    load_simbench,
    profiles_from_meters,
    simulate,
    static_profiles,
    tap_controls_from_net,
    validate,
)
from gridtwin.network._cim import CGMES_SUFFIXES
from gridtwin.network.checks import CheckReport, check, check_statistics_spec
from gridtwin.quality import PotentialDeviations
from gridtwin.timeseries import IntervalData
from gridtwin.workflows.deviations import potential_deviations

__all__ = ["Standard", "Twin", "TwinState", "load_network"]

Standard = Literal["GOST 32144-2013", "EN 50160:2010"]
Steps = slice | Sequence[int] | npt.NDArray[np.integer] | None
Progress = Callable[[int, int], None]
_STANDARDS: tuple[Standard, ...] = ("GOST 32144-2013", "EN 50160:2010")


def load_network(
    *,
    simbench_code: str | None = None,
    path: str | Path | None = None,
    profiles: bool = True,
    cache: bool | str | Path | None = None,
) -> NetworkModel:
    """Load a network model from exactly one source.

    Parameters
    ----------
    simbench_code : str, optional
        A SimBench code (the grid with its year of 15-min profiles).
    path : str or Path, optional
        A pandapower JSON net, or a CGMES ``.zip``/``.xml`` (no profiles).
    profiles : bool
        Load SimBench's profiles too.
    cache : bool, str, Path or None
        SimBench only: the disk cache (default the user cache folder, ``False`` off, or a
        folder), see :func:`gridtwin.network.load_simbench`.

    Raises
    ------
    InputError
        None or both sources given, or the source cannot be read.
    """
    if (simbench_code is None) == (path is None):
        msg = "give exactly one network source: a SimBench code or a file"
        raise InputError(msg)
    if simbench_code is not None:
        return load_simbench(simbench_code, profiles=profiles, cache=cache)
    file = Path(str(path))
    if file.suffix.lower() in CGMES_SUFFIXES:
        return load_cgmes(file)
    return load_pandapower_json(file)


@dataclass(frozen=True)
class TwinState:
    """The state of the network twin over the simulated steps.

    Attributes
    ----------
    name : str
        The model's name.
    power_flow : PowerFlowResult or PowerFlowStatistics
        Every quantity at every step, or streamed statistics (large grids).
    checks : CheckReport
        Customer voltages, line loading, transformer hot spot and ageing.
    potential : PotentialDeviations
        Customer-weeks predicted to fail the standard, with time, place and cause (from
        the check's summary when only statistics were kept: worst step, no first/last).
    violations : dict
        Counts of failing customers, overloaded lines and transformers (see
        :meth:`~gridtwin.network.checks.CheckReport.violations`).
    limiting_element : str
        The element that limits the grid first.
    solve_s : float
        Wall time of the power flow [s].
    notes : tuple of str
        The power flow's and the checks' notes.
    """

    name: str
    power_flow: PowerFlowResult | PowerFlowStatistics
    checks: CheckReport
    potential: PotentialDeviations
    violations: dict[str, Any]
    limiting_element: str
    solve_s: float
    notes: tuple[str, ...] = field(default=())

    @property
    def n_steps(self) -> int:
        """Simulated steps."""
        return int(self.power_flow.n_steps)

    @property
    def converged_steps(self) -> int:
        """Steps whose power flow converged."""
        return int(np.count_nonzero(self.power_flow.converged))

    def summary(self) -> dict[str, Any]:
        """One row of headline figures (JSON-able)."""
        return {
            "name": self.name,
            "steps": self.n_steps,
            "converged_steps": self.converged_steps,
            "solve_s": round(self.solve_s, 3),
            **self.violations,
            "limiting_element": self.limiting_element,
            "potential_deviations": len(self.potential.table),
        }


@dataclass(frozen=True)
class Twin:
    """A network model with its set-points and how it is calculated and judged.

    Attributes
    ----------
    model : NetworkModel
        The grid; its profiles are the set-points unless ``profiles`` is given.
    profiles : Profiles, optional
        Set-points per step (e.g. from meters, :meth:`with_meters`); a model without any
        is solved once at its own set-points.
    options : PowerFlowOptions
        How the power flow is calculated.
    controls : Controls
        Tap changers, Q(U) and cos φ(P) characteristics acting at every step.
    standard : {"GOST 32144-2013", "EN 50160:2010"}
        Supply-voltage standard of the checks.
    timezone : str
        Zone of the standard's observation weeks.
    ambient_c : float
        Ambient temperature of the transformers [°C].
    stream : bool
        Keep streamed statistics instead of every step (memory independent of the
        number of steps; for large grids).
    cable_ratings_a : mapping line id -> A, optional
        Permissible currents replacing the cables' own ratings in the checks (e.g. from
        IEC 60364-5-52 for the installation conditions).
    """

    model: NetworkModel
    profiles: Profiles | None = None
    options: PowerFlowOptions = field(default_factory=PowerFlowOptions)
    controls: Controls = field(default_factory=Controls)
    standard: Standard = "GOST 32144-2013"
    timezone: str = "UTC"
    ambient_c: float = 20.0
    stream: bool = False
    cable_ratings_a: Mapping[int, float] | None = None

    def __post_init__(self) -> None:
        if self.standard not in _STANDARDS:
            msg = f"standard must be one of {', '.join(_STANDARDS)}; got {self.standard!r}"
            raise InputError(msg)

    @classmethod
    def load(
        cls,
        *,
        simbench_code: str | None = None,
        path: str | Path | None = None,
        tap_control: bool = False,
        **settings: Any,
    ) -> Twin:
        """A twin of a SimBench grid or a network file (see :func:`load_network`); with
        ``tap_control`` its on-load tap changers are regulated as the net describes them;
        ``settings`` are the other attributes."""
        model = load_network(simbench_code=simbench_code, path=path)
        twin = cls(model, **settings)
        return twin.with_tap_control() if tap_control else twin

    def with_tap_control(self) -> Twin:
        """The same twin with the tap controllers the net describes (SimBench ``autoTap``
        columns or pandapower ``DiscreteTapControl``)."""
        taps = tap_controls_from_net(self.model.net)
        return replace(self, controls=replace(self.controls, taps=taps))

    def with_meters(
        self, data: IntervalData, meter_to_load: Mapping[str, int], power_factor: float = 0.97
    ) -> Twin:
        """The same twin driven by metered consumption (kWh per interval) mapped onto
        loads at ``power_factor`` (see :func:`gridtwin.network.profiles_from_meters`)."""
        profiles = profiles_from_meters(self.model, data, meter_to_load, power_factor)
        return replace(self, profiles=profiles)

    def info(self) -> NetworkInfo:
        """Elements, voltage levels, installed power and the profiles' span."""
        return info(self.model)

    def validate(self) -> ValidationReport:
        """The model and its set-points checked for the engine :meth:`simulate` will use
        (:attr:`options`), before any run (errors and warnings)."""
        return validate(self.model, self.profiles, solver=self.options.engine)

    @property
    def n_steps(self) -> int:
        """Steps of the profiles a run goes through (one for a net without profiles)."""
        return len(self._profiles().time_utc)

    def _profiles(self) -> Profiles:
        if self.profiles is not None:
            return self.profiles
        if self.model.profiles is not None:
            return self.model.profiles
        return static_profiles(self.model)

    def simulate(
        self,
        steps: Steps = None,
        *,
        parquet: str | Path | None = None,
        progress: Progress | None = None,
    ) -> PowerFlowResult | PowerFlowStatistics:
        """The power flow of the selected steps (all by default), optionally also written
        to Parquet; streamed statistics when :attr:`stream` is set."""
        prof = self._profiles()
        if self.stream:
            spec = check_statistics_spec(self.model, standard=self.standard, timezone=self.timezone)
            return simulate(
                self.model,
                prof,
                steps=steps,
                options=self.options,
                controls=self.controls,
                keep=KeepSummary(statistics=spec, parquet=parquet),
                progress=progress,
            )
        return simulate(
            self.model,
            prof,
            steps=steps,
            options=self.options,
            controls=self.controls,
            keep=KeepFull(parquet=parquet),
            progress=progress,
        )

    def judge(self, power_flow: PowerFlowResult | PowerFlowStatistics) -> CheckReport:
        """The checks of a power flow of this twin."""
        return check(
            self.model,
            power_flow,
            standard=self.standard,
            timezone=self.timezone,
            ambient_c=self.ambient_c,
            cable_ratings_a=self.cable_ratings_a,
        )

    def run(self, steps: Steps = None, *, progress: Progress | None = None) -> TwinState:
        """Power flow, checks, potential deviations and summary of the selected steps."""
        t0 = time.perf_counter()
        power_flow = self.simulate(steps, progress=progress)
        solve_s = time.perf_counter() - t0
        report = self.judge(power_flow)
        full = power_flow if isinstance(power_flow, PowerFlowResult) else None
        potential = potential_deviations(report, full, timezone=self.timezone)
        notes = tuple(dict.fromkeys((*power_flow.notes, *report.notes)))
        return TwinState(
            name=self.model.name,
            power_flow=power_flow,
            checks=report,
            potential=potential,
            violations=report.violations(),
            limiting_element=report.limiting_element(),
            solve_s=solve_s,
            notes=notes,
        )
