"""The audit log of every write: who, when, method, path, object and outcome.

A middleware (so that no route can forget it) sees every ``POST``, ``PUT``, ``PATCH`` and
``DELETE`` under the API, whatever its end: done, refused (401, 403), invalid (422), not
found, failed (5xx). Reads are not recorded. The entry is written before the response's
first byte leaves, so a client that saw an answer finds its write in the log.

Routes say more through :func:`audit_context`: the authentication dependency sets the
user, a route may name the object it changed and add a detail (``POST /measurements``:
stored, duplicates, rejected). Without an object, the path parameters stand for it.
Passwords and tokens never reach the log: routes put only names and counts there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio.to_thread
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["WRITE_METHODS", "AuditContext", "AuditMiddleware", "audit_context", "outcome_of"]

log = logging.getLogger("gridtwin.service")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY = "gridtwin.audit"


@dataclass
class AuditContext:
    """What a write request tells the audit log (filled while it runs)."""

    username: str | None = None
    obj: str = ""
    detail: str = ""


def audit_context(request: Request) -> AuditContext:
    """The request's audit context (a throw-away one for reads)."""
    ctx = request.scope.get(_KEY)
    return ctx if isinstance(ctx, AuditContext) else AuditContext()


def outcome_of(status: int) -> str:
    """``ok`` (2xx, 3xx), ``denied`` (401, 403), ``rejected`` (other 4xx), ``error`` (5xx)."""
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "denied"
    return "rejected" if status < 500 else "error"


class AuditMiddleware:
    """Records every write request under ``prefix`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITE_METHODS
            or not str(scope["path"]).startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        ctx = AuditContext()
        scope[_KEY] = ctx
        recorded = False

        async def send_wrapper(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                await self._record(scope, ctx, int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            if not recorded:
                recorded = True
                await self._record(scope, ctx, 500)
            raise

    async def _record(self, scope: Scope, ctx: AuditContext, status: int) -> None:
        state = getattr(scope["app"].state, "service", None)
        if state is None:  # the app is not running (no lifespan): nothing to write to
            log.error("audit: no service state; %s %s not recorded", scope["method"], scope["path"])
            return
        params = scope.get("path_params") or {}
        obj = ctx.obj or ",".join(f"{k}={v}" for k, v in sorted(params.items()))
        try:
            await anyio.to_thread.run_sync(
                lambda: state.accounts.record_audit(
                    username=ctx.username,
                    method=str(scope["method"]),
                    path=str(scope["path"]),
                    obj=obj[:500],
                    status_code=status,
                    outcome=outcome_of(status),
                    detail=ctx.detail[:2000],
                )
            )
        except Exception as exc:
            state.audit_failures += 1
            log.error("audit: could not record %s %s: %s", scope["method"], scope["path"], exc)
