"""The time base of a sampled waveform record, shared by the waveform processing steps.

:class:`_Record` holds the samples and converts sample positions to UTC nanoseconds;
:func:`_cumsq` and :func:`_rms` give the r.m.s. value of any sample range from running sums
of squares; :func:`_dt_index` labels UTC nanoseconds as a DatetimeIndex. Used by
:mod:`gridtwin.quality.waveform` and its private steps (``_wave_sync``, ``_wave_cycles``,
``_wave_aggregation``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ComplexArray = npt.NDArray[np.complex128]

_NS = 1_000_000_000
_TEN_MIN_NS = 600 * _NS
_TEN_S_NS = 10 * _NS
_SQRT2 = float(np.sqrt(2.0))


@dataclass(frozen=True)
class _Record:
    """Samples and the time base of one record."""

    x: FloatArray
    fs: float
    t0_ns: int
    end_ns: int
    where: str

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def end_utc(self) -> pd.Timestamp:
        """End of the record (exclusive), UTC."""
        return pd.Timestamp(self.end_ns, tz="UTC")

    def t_of(self, pos: FloatArray | IntArray) -> IntArray:
        """UTC ns of (fractional) sample positions."""
        return np.asarray(
            self.t0_ns + np.rint(np.asarray(pos, dtype=np.float64) / self.fs * _NS), dtype=np.int64
        )


def _cumsq(x: FloatArray) -> FloatArray:
    """Running sums of squares per channel, with a leading zero row."""
    cs = np.empty((x.shape[0] + 1, x.shape[1]), dtype=np.float64)
    cs[0] = 0.0
    np.cumsum(x * x, axis=0, out=cs[1:])
    return cs


def _rms(cs: FloatArray, a: IntArray, b: IntArray) -> FloatArray:
    """r.m.s. of the sample ranges ``[a, b)`` from running sums of squares ``cs``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ms = (cs[b] - cs[a]) / (b - a)[:, np.newaxis]
    return np.asarray(np.sqrt(np.maximum(ms, 0.0)), dtype=np.float64)


def _dt_index(t_ns: IntArray) -> pd.DatetimeIndex:
    """UTC DatetimeIndex of nanosecond times."""
    return pd.DatetimeIndex(np.asarray(t_ns, dtype=np.int64).astype("datetime64[ns]")).tz_localize(
        "UTC"
    )
