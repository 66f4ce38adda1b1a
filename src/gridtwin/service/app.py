"""The app factory: ``create_app(settings) -> FastAPI``.

::

    request ─► CatchAllMiddleware (any unexpected exception: bland 500, traceback logged)
             ─► AuditMiddleware (every POST/PUT/PATCH/DELETE under /api/v1 → audit log)
             ─► exception handlers (service/errors.py: the one table)
             ─► /api/v1 routers (service/api/*): deps check the token and role, then
                call the store / workflows in worker threads
             ─► the console's pages and assets (service/console: HTML shells, no data)

One lifespan opens the measurement store (:func:`gridtwin.store.open_store`), the accounts
database and the API's ingest pipeline, and keeps them in one typed
:class:`~gridtwin.service._state.ServiceState` (``app.state.service``); extensions'
lifespans run inside it, and everything closes in reverse order at shutdown.

Only ``GET /api/v1/health`` and ``POST /api/v1/auth/token`` (which checks a password)
answer without a token under ``/api/v1`` (the console's pages outside it are HTML shells
whose scripts read the API with the user's token); the OpenAPI description is
``GET /api/v1/openapi.json`` (viewer).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI

import gridtwin
from gridtwin.service._audit import AuditMiddleware
from gridtwin.service._state import ServiceState
from gridtwin.service.api import ROUTERS
from gridtwin.service.console import install_console
from gridtwin.service.deps import Viewer
from gridtwin.service.errors import ERROR_RESPONSES, CatchAllMiddleware, install_error_handlers
from gridtwin.service.settings import ServiceSettings

__all__ = ["API_PREFIX", "Extension", "create_app"]

API_PREFIX = "/api/v1"

#: An extension's start-up: given the state, an async context manager whose value is
#: kept in ``state.extras[name]`` while the app runs (``name`` = the function's name).
Extension = Callable[[ServiceState], AbstractAsyncContextManager[Any]]

_DESCRIPTION = """The gridtwin service: measurements, points, users and the audit log
(and, as they are added, the twin's state and alarms).

Authenticate with `POST /api/v1/auth/token` and send `Authorization: Bearer <token>`.
Roles: **viewer** (read), **operator** (+ send measurements, handle alarms),
**analyst** (+ change points and the model's settings), **admin** (+ users, audit log).
Times carry a zone and are returned in UTC; intervals are labelled by their start.
Errors answer `{"error": <class>, "detail": ...}`."""


def _open_state(settings: ServiceSettings) -> ServiceState:
    """Open the store, the accounts and the ingest pipeline (closing what opened on error)."""
    from gridtwin.service._ingest import ApiIngest
    from gridtwin.service.auth import ensure_demo_users, open_accounts
    from gridtwin.store import open_store

    with contextlib.ExitStack() as stack:
        store = open_store(settings.store, create=settings.demo, threads=settings.store_threads)
        stack.callback(store.close)
        accounts = open_accounts(settings)
        stack.callback(accounts.close)
        ingest = ApiIngest(store, settings.ingest_timeout_s)
        stack.callback(ingest.close)
        if settings.demo:
            ensure_demo_users(accounts, settings)
        state = ServiceState(
            settings=settings,
            store=store,
            accounts=accounts,
            ingest=ingest,
            store_limiter=anyio.CapacityLimiter(settings.worker_threads),
            hash_limiter=anyio.CapacityLimiter(2),
            ingest_limiter=anyio.CapacityLimiter(settings.ingest_threads),
            started_utc=dt.datetime.now(dt.UTC),
        )
        stack.pop_all()
    return state


def _close_state(state: ServiceState) -> None:
    try:
        state.ingest.close()
    finally:
        try:
            state.store.close()
        finally:
            state.accounts.close()


def _lifespan(
    settings: ServiceSettings, extensions: Sequence[Extension]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await anyio.to_thread.run_sync(_open_state, settings)
        switch_s = sys.getswitchinterval()
        sys.setswitchinterval(settings.switch_interval_ms / 1000)
        try:
            async with contextlib.AsyncExitStack() as stack:
                for ext in extensions:
                    name = getattr(ext, "__name__", type(ext).__name__)
                    state.extras[name] = await stack.enter_async_context(ext(state))
                app.state.service = state
                # everything alive now (modules, the store, the model) lives as long as
                # the service: kept out of the collector's full passes, which otherwise
                # walk it all and stop every request for 60-130 ms (measured at 200
                # requests/s); given back to the collector at the end
                gc.collect()
                gc.freeze()
                try:
                    yield
                finally:
                    app.state.service = None
                    gc.unfreeze()
        finally:
            sys.setswitchinterval(switch_s)
            await anyio.to_thread.run_sync(_close_state, state)

    return lifespan


def create_app(
    settings: ServiceSettings,
    *,
    routers: Sequence[APIRouter] = (),
    lifespans: Sequence[Extension] = (),
) -> FastAPI:
    """The service as an ASGI app.

    Parameters
    ----------
    settings : ServiceSettings
        Where the store and accounts are, limits, demo mode (see the settings module).
    routers : sequence of APIRouter
        More routers mounted under ``/api/v1`` after :data:`~gridtwin.service.api.ROUTERS`.
    lifespans : sequence of callables
        Extensions started after the core state (and stopped before it): each gets the
        :class:`ServiceState` and returns an async context manager; its value is kept in
        ``state.extras[<function name>]``.
    """
    app = FastAPI(
        title="gridtwin",
        version=gridtwin.__version__,
        description=_DESCRIPTION,
        lifespan=_lifespan(settings, lifespans),
        openapi_url=None,  # served below, behind a token
        docs_url=None,
        redoc_url=None,
        max_body_size=settings.max_body_bytes,
    )
    for router in (*ROUTERS, *routers):
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    _add_openapi_route(app)
    install_console(app)
    install_error_handlers(app)
    app.add_middleware(AuditMiddleware, prefix=API_PREFIX)
    app.add_middleware(CatchAllMiddleware)
    return app


def _add_openapi_route(app: FastAPI) -> None:
    @app.get(f"{API_PREFIX}/openapi.json", include_in_schema=False)
    async def openapi(user: Viewer) -> dict[str, Any]:
        """The OpenAPI description of this API (viewer)."""
        return app.openapi()
