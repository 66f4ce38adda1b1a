"""Power-flow results over time: arrays, frames, long-format Parquet, a summary, and
per-element statistics that can be accumulated chunk by chunk (streaming).

Conventions follow pandapower's ``res_*`` tables: ``vm_pu``, ``va_degree`` (including
transformer phase shifts), line ``i_ka`` is the larger of both ends and
``loading_percent = i_ka / (max_i_ka * df * parallel) * 100``; transformer loading is
current based, ``max(i_hv_ka * vn_hv_kv, i_lv_ka * vn_lv_kv) * sqrt(3) / sn_mva / parallel
/ df * 100`` (pandapower's default ``trafo_loading="current"``); a three-winding
transformer's (``trafo3w``, balanced fixed-point runs only) is the largest of
``i_<side>_ka * vn_<side>_kv * sqrt(3) / sn_<side>_mva * 100`` over its HV, MV and LV
terminals, as pandapower's ``res_trafo3w.loading_percent``. Steps that did not
converge hold NaN everywhere (``p_loss_mw`` included) and ``converged=False``. Buses that
are not energised hold NaN voltages.

Two result types:

* :class:`PowerFlowResult` keeps every quantity of every step (``T x n`` arrays): right for
  small grids and short spans.
* :class:`PowerFlowStatistics` keeps, per element, running statistics (extremes with the
  step they occurred, steps outside voltage bands or above loading limits) plus a few
  per-step network series; its memory does not grow with ``T x n``. It is what
  ``simulate(..., keep=KeepSummary())`` returns for large grids, usually together with the full
  results streamed to Parquet. With :attr:`StatisticsSpec.voltage_check` it also counts
  the customer voltages per observation week (``n_weeks x n_customers`` integers), enough
  for ``gridtwin.network.check`` to give the GOST 32144-2013 / EN 50160:2010 verdicts.

This module gathers the result types; each topic has its own module:

* :mod:`~gridtwin.network._result_layout`: the per-step fields, their ids, the long format;
* :mod:`~gridtwin.network._full_result`: :class:`PowerFlowResult` and :func:`read_parquet`;
* :mod:`~gridtwin.network._summary`: :class:`PowerFlowSummary`;
* :mod:`~gridtwin.network._statistics`: :class:`PowerFlowStatistics`, :class:`StatisticsSpec`,
  :class:`VoltageCheckSpec`;
* :mod:`~gridtwin.network._accumulator`: :class:`StatisticsAccumulator` (streaming);
* :mod:`~gridtwin.network._result_file`: the long-format Parquet table, file metadata and
  :class:`ParquetStream` (``PARQUET_GROUP_ROWS`` is read there).
"""

from __future__ import annotations

from gridtwin.network._accumulator import StatisticsAccumulator
from gridtwin.network._full_result import PowerFlowResult, read_parquet
from gridtwin.network._result_file import (
    PARQUET_FORMAT_VERSION,
    ParquetStream,
    file_metadata,
    long_table,
)
from gridtwin.network._result_layout import NETWORK_ID, PHASES, RESULT_FIELDS, iter_series
from gridtwin.network._statistics import PowerFlowStatistics, StatisticsSpec, VoltageCheckSpec
from gridtwin.network._summary import PowerFlowSummary

__all__ = [
    "NETWORK_ID",
    "PARQUET_FORMAT_VERSION",
    "PHASES",
    "RESULT_FIELDS",
    "ParquetStream",
    "PowerFlowResult",
    "PowerFlowStatistics",
    "PowerFlowSummary",
    "StatisticsAccumulator",
    "StatisticsSpec",
    "VoltageCheckSpec",
    "file_metadata",
    "iter_series",
    "long_table",
    "read_parquet",
]
