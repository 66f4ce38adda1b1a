"""One assessment of a forecast day: stress band, screening, sampled probabilities.

1. The stress band (:func:`~gridtwin.warning._qpf.quantile_power_flow`, Q x T in one batch).
2. Screening: only the steps where some scenario of the band is beyond a limit (or did
   not converge) are sampled. A step the band keeps inside every limit has every load
   below its outer quantile in the worst case, so its probability of a deviation is
   below about ``1 - max(quantiles)`` (0.05 with the default levels) under positive
   dependence; it is reported as 0 and the threshold must be above that level.
3. The sampled run (:func:`~gridtwin.warning._qpf.sampled_power_flow`) of those steps:
   per (rule, element, step) the share of samples beyond the limit.

A measure is checked by the same assessment of the changed net, forecast or controls, with
the same random draws (common random numbers: the difference is the measure's, not the
sample's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gridtwin.network import Controls, NetworkModel, PowerFlowOptions
from gridtwin.warning._findings import Limits, band_extreme, exceedance, watched_values
from gridtwin.warning._qpf import (
    NodalForecast,
    SamplingSpec,
    ScenarioEngine,
    ScenarioFlow,
    quantile_power_flow,
    sampled_power_flow,
)

__all__ = ["Assessment", "assess"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Assessment:
    """Probabilities and values of every watched (rule, element) at every forecast step.

    Attributes
    ----------
    probability : ndarray, shape (T, n_limits)
        Share of sampled scenarios beyond the limit (0 at steps not sampled).
    median : ndarray, shape (T, n_limits)
        The samples' median value (the band's middle scenario where not sampled).
    band : ndarray, shape (T, n_limits)
        The stress band's worst value.
    sampled_steps : ndarray of int
        The forecast positions that were sampled.
    band_flow : ScenarioFlow
    sampled_flow : ScenarioFlow or None
    band_s, sampled_s : float
        Wall times of the two batches [s].
    """

    probability: FloatArray
    median: FloatArray
    band: FloatArray
    sampled_steps: npt.NDArray[np.int64]
    band_flow: ScenarioFlow
    sampled_flow: ScenarioFlow | None
    band_s: float
    sampled_s: float

    @property
    def power_flows(self) -> int:
        """Power flows run (band and samples)."""
        n = self.band_flow.converged.size
        return int(n + (0 if self.sampled_flow is None else self.sampled_flow.converged.size))

    def losses_mwh(self, step_h: float) -> float:
        """Expected active losses of the day [MWh] (samples where sampled, the band's
        middle scenario elsewhere)."""
        band = self.band_flow.p_loss_mw
        per_step = np.nan_to_num(band[band.shape[0] // 2], nan=0.0).copy()
        if self.sampled_flow is not None:
            per_step[self.sampled_steps] = np.nanmean(self.sampled_flow.p_loss_mw, axis=0)
        return float(per_step.sum() * step_h)


def _screen(band_flow: ScenarioFlow, lim: Limits) -> tuple[npt.NDArray[np.int64], FloatArray]:
    extreme = band_extreme(band_flow, lim)
    beyond = np.where(lim.low, extreme < lim.limit, extreme > lim.limit)
    beyond |= ~np.asarray(band_flow.converged.all(axis=0), dtype=bool)[:, None]
    return np.flatnonzero(beyond.any(axis=1)).astype(np.int64), extreme


def assess(
    model: NetworkModel,
    forecast: NodalForecast,
    lim: Limits,
    sampling: SamplingSpec,
    *,
    options: PowerFlowOptions | None = None,
    controls: Controls | None = None,
    band_flow: ScenarioFlow | None = None,
    engine: ScenarioEngine | None = None,
) -> Assessment:
    """The assessment of ``forecast`` on ``model`` (module docstring); ``band_flow``: the
    stress band when already run; ``engine``: one built for ``model``, ``forecast``'s
    elements and ``controls``, for ``max(Q, n_samples)`` scenarios (else built here)."""
    if engine is None:
        size = max(len(forecast.quantiles), sampling.n_samples)
        engine = ScenarioEngine(model, forecast, size, options=options, controls=controls)
    if band_flow is None:
        band_flow = quantile_power_flow(model, forecast, engine=engine)
    steps, extreme = _screen(band_flow, lim)
    t = forecast.n_steps
    prob = np.zeros((t, len(lim)))
    mid = band_flow.n_scenarios // 2
    median = watched_values(band_flow, lim)[mid].copy()
    sampled = None
    if steps.size:
        sampled = sampled_power_flow(model, forecast, sampling, steps=steps, engine=engine)
        p, med = exceedance(sampled, lim)
        prob[steps] = p
        median[steps] = med
    return Assessment(
        probability=prob,
        median=median,
        band=extreme,
        sampled_steps=steps,
        band_flow=band_flow,
        sampled_flow=sampled,
        band_s=band_flow.compute_s,
        sampled_s=0.0 if sampled is None else sampled.compute_s,
    )
