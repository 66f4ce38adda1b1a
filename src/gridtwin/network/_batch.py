"""Repeated batches of power flows on a model validated and built once.

:func:`~gridtwin.network.simulate` validates the model and builds the solver's network at
every call (a few hundred milliseconds on an LV feeder), several times the cost of solving
a day's scenarios. :class:`BatchPowerFlow` keeps both, as
:class:`~gridtwin.network.StepPowerFlow` does for one step, for batches of up to
``capacity`` rows: each :meth:`BatchPowerFlow.solve` writes its set-points into the
profile arrays the fixed point reads and solves the first ``n`` rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from gridtwin.errors import InputError
from gridtwin.network._controls import Controls
from gridtwin.network._model import NetworkModel, Profiles
from gridtwin.network._options import KeepFull, PowerFlowOptions
from gridtwin.network._results import PowerFlowResult
from gridtwin.network._timeseries import (
    _build_engine,
    _Collector,
    _final_notes,
    _plan,
    _run_chunks,
    own_arrays,
    simulate,
)

__all__ = ["BatchPowerFlow"]

FloatArray = npt.NDArray[np.float64]


class BatchPowerFlow:
    """Batches of power flows of one model (module docstring).

    Parameters
    ----------
    model : NetworkModel
    template : Profiles
        ``capacity`` rows whose frames name the columns of every later batch (their values
        are replaced by :meth:`solve`; the time axis is only a label).
    options : PowerFlowOptions, optional
    controls : Controls, optional
    """

    def __init__(
        self,
        model: NetworkModel,
        template: Profiles,
        options: PowerFlowOptions | None = None,
        controls: Controls | None = None,
    ) -> None:
        self.model = model
        self.options = options if options is not None else PowerFlowOptions()
        self.controls = controls if controls is not None else Controls()
        self._arrays, self.columns, self._prof = own_arrays(template)
        self._run = _plan(model, self._prof, None, self.options, self.controls, KeepFull())
        self._engine = _build_engine(self._run)
        self.fast = self._reads_our_arrays()

    @property
    def capacity(self) -> int:
        """Rows a batch may have."""
        return len(self._prof.time_utc)

    def _reads_our_arrays(self) -> bool:
        from gridtwin.network._engine_fp import FixedPointEngine

        engine = self._engine
        if not isinstance(engine, FixedPointEngine) or self.controls.taps:
            return False  # tap controllers keep state from step to step: fresh runs
        ours = [a for a in self._arrays.values() if a.size]
        for inj in engine.injections.values():
            for _static, cols, values, _select, _identity in inj.parts:
                if values is None or not len(cols):
                    continue
                if not any(np.shares_memory(values, a) for a in ours):
                    return False
        return True

    def solve(self, arrays: Mapping[str, FloatArray], n_rows: int) -> PowerFlowResult:
        """The power flows of the first ``n_rows`` rows, with ``arrays`` (profile name ->
        ``(n_rows, len(columns[name]))``) written in; names not given keep the
        template's values."""
        if not 0 < n_rows <= self.capacity:
            msg = f"BatchPowerFlow.solve: n_rows {n_rows} must be 1 to {self.capacity}"
            raise InputError(msg)
        for name, values in arrays.items():
            if name not in self._arrays:
                msg = f"BatchPowerFlow.solve: unknown profile {name!r}"
                raise InputError(msg)
            self._arrays[name][:n_rows] = values
        if not self.fast:
            return simulate(
                self.model,
                self._prof,
                steps=slice(0, n_rows),
                options=self.options,
                controls=self.controls,
            )
        run = dataclasses.replace(
            self._run,
            pos=np.arange(n_rows, dtype=np.int64),
            time_utc=self._run.time_utc[:n_rows],
        )
        engine = self._engine
        for counter in ("outside_replaced", "outside_confirmed", "outside_unchecked"):
            if hasattr(engine, counter):
                setattr(engine, counter, 0)
        collector = _Collector.open(run, engine)
        fallback, messages = _run_chunks(run, engine, collector, None)
        notes = [*run.notes, *_final_notes(run, engine, fallback, messages)]
        result = collector.finish(notes)
        if not isinstance(result, PowerFlowResult):  # pragma: no cover - KeepFull gives one
            msg = "BatchPowerFlow: the collector kept no full result"
            raise TypeError(msg)
        return result
