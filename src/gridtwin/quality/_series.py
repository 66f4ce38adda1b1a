"""One measured quantity of many points on its IEC 61000-4-30 grid: :class:`IndicatorSeries`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.quality._channels import Quantity
from gridtwin.quality._limits import AGGREGATION_S

__all__ = ["IndicatorSeries"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class IndicatorSeries:
    """One measured quantity of many points on its IEC 61000-4-30 grid.

    Attributes
    ----------
    quantity : Quantity
        What is measured, its interval and unit.
    time_utc : pandas.DatetimeIndex, shape (T,)
        Interval starts (UTC), strictly increasing; the union over all columns.
    point_index : numpy.ndarray of int, shape (C,)
        Column -> index into :attr:`MeasurementSet.point_ids`.
    phases : tuple of str, length C
        Column -> phase (``'a'``, ``'b'``, ``'c'``, ``'ab'``, ``'bc'``, ``'ca'`` or ``''``).
    values : numpy.ndarray, shape (T, C)
        Values in ``unit``; ``NaN`` where a column has no value (gap).
    flagged : numpy.ndarray of bool, shape (T, C)
        IEC 61000-4-30 flag of each interval (after propagation, see the module notes).
    unit : str
        Unit of ``values``. For ``voltage`` it is ``'V'`` once
        :func:`normalise_voltage_units` has run; before, per-column stated units are in
        ``stated_units``.
    stated_units : tuple of str, length C
        The unit each column stated in the file (``''`` if none).
    """

    quantity: Quantity
    time_utc: pd.DatetimeIndex
    point_index: IntArray
    phases: tuple[str, ...]
    values: FloatArray
    flagged: BoolArray
    unit: str
    stated_units: tuple[str, ...]

    @property
    def name(self) -> str:
        """Canonical quantity name."""
        return self.quantity.name

    @property
    def step(self) -> pd.Timedelta:
        """Aggregation interval."""
        return pd.Timedelta(seconds=AGGREGATION_S[self.quantity.aggregation])

    @property
    def n_columns(self) -> int:
        """Number of (point, phase) columns."""
        return int(self.values.shape[1])
