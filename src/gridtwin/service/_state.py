"""The service's running state: what the lifespan opens, typed, one object per app."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread

if TYPE_CHECKING:
    from gridtwin.service._accounts import Accounts
    from gridtwin.service._ingest import ApiIngest
    from gridtwin.service.settings import ServiceSettings
    from gridtwin.store import MeasurementPoint, MeasurementStore

__all__ = ["ServiceState"]

T = TypeVar("T")


@dataclass
class ServiceState:
    """What every request may use (read it through the dependencies of ``deps.py``).

    Attributes
    ----------
    settings : ServiceSettings
    store : MeasurementStore
        The measurement store, opened once for the app's life.
    accounts : Accounts
        Users, tokens and the audit log.
    ingest : ApiIngest
        The API's ingest pipeline (``POST /measurements``).
    store_limiter, hash_limiter : anyio.CapacityLimiter
        Threads for store calls (``settings.worker_threads``) and for argon2 hashing
        (2: each hash takes 64 MiB).
    ingest_limiter : anyio.CapacityLimiter
        Threads for ``POST /measurements`` (``settings.ingest_threads``): a request mostly
        waits there for the group commit it joins, so these are many and apart from the
        reads' threads.
    started_utc : datetime
    audit_failures : int
        Audit entries that could not be written (shown by ``/health``).
    extras : dict
        Resources of extensions (``create_app(..., lifespans=...)``), by name.
    answers : dict
        Answers kept by routes between requests, with what they depend on (see
        :meth:`per_points`).
    """

    settings: ServiceSettings
    store: MeasurementStore
    accounts: Accounts
    ingest: ApiIngest
    store_limiter: anyio.CapacityLimiter
    hash_limiter: anyio.CapacityLimiter
    ingest_limiter: anyio.CapacityLimiter
    started_utc: dt.datetime
    audit_failures: int = 0
    extras: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)

    def per_points(self, name: str, make: Callable[[list[MeasurementPoint]], T]) -> T:
        """``make(points)``, kept under ``name`` while the store gives the same point
        objects (it makes new ones only when points change, and its ``points()`` is a
        snapshot read without I/O). The points are kept beside the answer, so that their
        ids stay theirs."""
        points = self.store.points()
        key = tuple(map(id, points))
        cached = self.answers.get(name)
        if cached is None or cached[0] != key:
            cached = (key, make(points), points)
            self.answers[name] = cached
        answer: T = cached[1]
        return answer

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker thread (never on the event loop)."""
        return await anyio.to_thread.run_sync(
            functools.partial(fn, *args, **kwargs), limiter=self.store_limiter
        )

    async def run_ingest(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` (an ingest request: checks, then waiting for its group's write)."""
        return await anyio.to_thread.run_sync(
            functools.partial(fn, *args), limiter=self.ingest_limiter
        )

    async def run_hashing(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` (a password hash or check) on the small hashing pool."""
        return await anyio.to_thread.run_sync(
            functools.partial(fn, *args), limiter=self.hash_limiter
        )
