"""Bill many meters chunk by chunk, optionally on several processes, writing line tables.

Each chunk of meters is produced by a caller's function (read from a store, or generated),
billed as one :class:`~gridtwin.timeseries.IntervalData` and, if asked, written as a
Parquet line table (:func:`~gridtwin.billing.lines_frame`). With ``processes > 1`` the
chunks are spread over a pool of *spawned* processes, each with
``threads_per_process`` BLAS/OpenMP threads, so that memory stays bounded by a few chunks
per process and every core bills its own chunks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from gridtwin.billing._bill import lines_frame
from gridtwin.billing._engine import bill
from gridtwin.billing._plan import PropValue
from gridtwin.errors import InputError
from gridtwin.tariffs._loader import Tariff, get_tariff, tariff_from_dict
from gridtwin.timeseries import IntervalData

__all__ = ["BatchResult", "ChunkResult", "bill_chunks"]

FloatArray = npt.NDArray[np.float64]
TariffSource = Tariff | Mapping[str, Any] | str
ChunkMaker = Callable[[int], IntervalData]
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class ChunkResult:
    """What billing one chunk of meters produced.

    Attributes
    ----------
    chunk : int
        Chunk number (argument of the chunk maker).
    meter_ids : tuple of str
        Meters of the chunk, in row order of ``totals``.
    totals : numpy.ndarray, shape (n_meters, n_periods)
        Unrounded total per meter and billing period [tariff currency].
    make_s, bill_s, write_s : float
        Wall time [s] to produce the data, to bill it, and to build and write the line
        table (0 if no table was written).
    path : str or None
        Parquet file of the chunk's lines.
    n_lines : int
        Rows of the line table (0 if none was written).
    pid : int
        Process that billed the chunk.
    max_rss_bytes : int
        Peak resident memory of that process so far [bytes].
    """

    chunk: int
    meter_ids: tuple[str, ...]
    totals: FloatArray
    make_s: float
    bill_s: float
    write_s: float
    path: str | None
    n_lines: int
    pid: int
    max_rss_bytes: int


@dataclass(frozen=True)
class BatchResult:
    """All chunks of a batch run, in chunk order.

    Attributes
    ----------
    chunks : tuple of ChunkResult
        One entry per chunk.
    wall_s : float
        Wall time of the whole run [s], pool start-up included.
    processes : int
        Processes that billed (1: in the calling process).
    parent_max_rss_bytes : int
        Peak resident memory of the calling process [bytes].
    """

    chunks: tuple[ChunkResult, ...]
    wall_s: float
    processes: int
    parent_max_rss_bytes: int

    @property
    def n_meters(self) -> int:
        """Meters billed."""
        return sum(len(c.meter_ids) for c in self.chunks)

    @property
    def n_lines(self) -> int:
        """Line-table rows written."""
        return sum(c.n_lines for c in self.chunks)

    def totals(self) -> FloatArray:
        """Totals of every meter, chunks concatenated, shape (n_meters, n_periods)."""
        return np.concatenate([c.totals for c in self.chunks], axis=0)

    def meter_ids(self) -> tuple[str, ...]:
        """Meter ids in the row order of :meth:`totals`."""
        return tuple(m for c in self.chunks for m in c.meter_ids)

    def peak_rss_bytes(self) -> int:
        """Sum over the billing processes of their peak resident memory [bytes].

        With a pool, the calling process's own peak is added (it holds the results).
        """
        per_pid: dict[int, int] = {}
        for c in self.chunks:
            per_pid[c.pid] = max(per_pid.get(c.pid, 0), c.max_rss_bytes)
        total = sum(per_pid.values())
        if self.processes > 1:
            total += self.parent_max_rss_bytes
        return total


def _max_rss_bytes() -> int:
    """Peak resident memory of this process [bytes] (``ru_maxrss`` is KiB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def _compile(source: TariffSource) -> Tariff:
    if isinstance(source, Tariff):
        return source
    if isinstance(source, str):
        return get_tariff(source)
    return tariff_from_dict(dict(source), "<batch tariff>")


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs besides the chunk number (pickled once per process)."""

    tariff: TariffSource
    make_chunk: ChunkMaker
    out_dir: str | None
    periods: tuple[tuple[dt.date, dt.date], ...] | None
    customers: Mapping[str, PropValue | Sequence[PropValue]] | None


_WORKER: dict[str, Any] = {}


def _init_worker(job: _Job) -> None:
    _WORKER["job"] = job
    _WORKER["tariff"] = _compile(job.tariff)


def _run_chunk(chunk: int) -> ChunkResult:
    job: _Job = _WORKER["job"]
    tariff: Tariff = _WORKER["tariff"]
    t0 = time.perf_counter()
    data = job.make_chunk(chunk)
    t1 = time.perf_counter()
    result = bill(tariff, data, periods=job.periods, customers=job.customers)
    totals = result.totals()
    t2 = time.perf_counter()
    path: str | None = None
    n_lines = 0
    if job.out_dir is not None:
        frame = lines_frame(result)
        path = str(Path(job.out_dir) / f"lines-{chunk:06d}.parquet")
        frame.to_parquet(path, index=False)
        n_lines = len(frame)
    t3 = time.perf_counter()
    return ChunkResult(
        chunk=chunk,
        meter_ids=data.meter_ids,
        totals=totals,
        make_s=t1 - t0,
        bill_s=t2 - t1,
        write_s=t3 - t2,
        path=path,
        n_lines=n_lines,
        pid=os.getpid(),
        max_rss_bytes=_max_rss_bytes(),
    )


@contextlib.contextmanager
def _thread_env(threads: int) -> Iterator[None]:
    """Set the BLAS/OpenMP thread variables that spawned processes read at start-up."""
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update(dict.fromkeys(_THREAD_VARS, str(threads)))
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def bill_chunks(
    tariff: TariffSource,
    make_chunk: ChunkMaker,
    chunks: int | Sequence[int],
    *,
    processes: int = 1,
    out_dir: str | Path | None = None,
    periods: Sequence[tuple[dt.date, dt.date]] | None = None,
    customers: Mapping[str, PropValue | Sequence[PropValue]] | None = None,
    threads_per_process: int = 1,
) -> BatchResult:
    """Bill chunks of meters, in this process or on a pool of processes.

    Parameters
    ----------
    tariff : Tariff, mapping or str
        The tariff, a tariff mapping (:func:`~gridtwin.tariffs.tariff_from_dict`) or a
        built-in id/path; each process compiles it once.
    make_chunk : callable
        ``make_chunk(i) -> IntervalData`` for chunk ``i``; with ``processes > 1`` it must be
        picklable (a module-level function or a :func:`functools.partial` of one).
    chunks : int or sequence of int
        Number of chunks (``0 .. n-1``) or the chunk numbers.
    processes : int
        1 bills in the calling process; more start a pool of spawned processes.
    out_dir : str or Path, optional
        Directory for one Parquet line table per chunk (``lines-<chunk>.parquet``); none
        is written if omitted.
    periods, customers
        As for :func:`~gridtwin.billing.bill`.
    threads_per_process : int
        BLAS/OpenMP threads of each pool process (``OMP_NUM_THREADS`` and friends).

    Returns
    -------
    BatchResult
        Per-chunk totals, timings [s] and peak memory [bytes].

    Raises
    ------
    InputError
        ``processes`` or ``threads_per_process`` below 1, or ``out_dir`` not a directory.
    """
    ids = list(range(chunks)) if isinstance(chunks, int) else list(chunks)
    if processes < 1 or threads_per_process < 1:
        msg = (
            f"processes={processes} and threads_per_process={threads_per_process} must "
            "be at least 1"
        )
        raise InputError(msg)
    out = _checked_out_dir(out_dir)
    job = _Job(tariff, make_chunk, out, tuple(periods) if periods is not None else None, customers)
    t0 = time.perf_counter()
    results = _run_chunks(job, ids, processes, threads_per_process)
    wall = time.perf_counter() - t0
    order = {c: k for k, c in enumerate(ids)}
    results.sort(key=lambda r: order[r.chunk])
    return BatchResult(tuple(results), wall, processes, _max_rss_bytes())


def _checked_out_dir(out_dir: str | Path | None) -> str | None:
    """The line-table directory as a string; refuses one that does not exist."""
    out: str | None = None
    if out_dir is not None:
        out_path = Path(out_dir)
        if not out_path.is_dir():
            msg = f"out_dir {out_path} is not a directory; create it first"
            raise InputError(msg)
        out = str(out_path)
    return out


def _run_chunks(
    job: _Job, ids: list[int], processes: int, threads_per_process: int
) -> list[ChunkResult]:
    """Bill the chunks ``ids`` here (one process) or on a pool of spawned processes."""
    if processes == 1:
        _init_worker(job)
        try:
            results = [_run_chunk(i) for i in ids]
        finally:
            _WORKER.clear()
    else:
        ctx = multiprocessing.get_context("spawn")
        with _thread_env(threads_per_process):
            pool = ctx.Pool(processes, initializer=_init_worker, initargs=(job,))
        with pool:
            results = list(pool.imap_unordered(_run_chunk, ids, chunksize=1))
            pool.close()
            pool.join()
    return results
