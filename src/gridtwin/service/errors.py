"""Errors to HTTP in one table; every error body is ``{"error": <class>, "detail": ...}``.

============================================  ======  ==========================================
exception                                     status  detail
============================================  ======  ==========================================
request validation (FastAPI)                  422     ``[{loc, msg, type}]`` (never the input)
:class:`~gridtwin.errors.InputError`,          422     the message (names the field and the fix)
``TariffError``, ``CalendarError``
:class:`~gridtwin.errors.ConvergenceError`    422     the message (+ iterations, mismatch if set)
:class:`~gridtwin.errors.NotFoundError`       404     the message
``ConflictError`` (accounts)                  409     the message
``AuthenticationError`` (accounts)            401     the message, ``WWW-Authenticate: Bearer``
:class:`~gridtwin.errors.StoreError`          503     a fixed sentence; the message is logged
any other exception                           500     a fixed sentence with an incident id; the
                                                      traceback is logged with that id
============================================  ======  ==========================================

The most specific class in an exception's MRO decides (``ConflictError`` is an
``InputError`` but answers 409). The domain never knows HTTP: this table is the only
place that does.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridtwin.errors import (
    CalendarError,
    ConvergenceError,
    GridTwinError,
    InputError,
    NotFoundError,
    StoreError,
    TariffError,
)
from gridtwin.service._accounts import AuthenticationError, ConflictError

__all__ = [
    "ERROR_RESPONSES",
    "STATUS_BY_ERROR",
    "CatchAllMiddleware",
    "ErrorBody",
    "error_response",
    "install_error_handlers",
    "status_for",
]

log = logging.getLogger("gridtwin.service")

#: The table (see the module docstring).
STATUS_BY_ERROR: dict[type[BaseException], int] = {
    InputError: 422,
    TariffError: 422,
    CalendarError: 422,
    ConvergenceError: 422,
    NotFoundError: 404,
    ConflictError: 409,
    AuthenticationError: 401,
    StoreError: 503,
}
_STORE_DETAIL = "the measurement store is unavailable; try again later"


class ErrorBody(BaseModel):
    """Every error response's body."""

    error: str = Field(description="The error's class, e.g. InputError, NotFoundError.")
    detail: str | list[dict[str, Any]] = Field(
        description="What went wrong and how to fix it; for request validation, one "
        "entry per problem with its location."
    )


def _doc(text: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": text}


#: The error responses every route may give (for the OpenAPI description).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc("No, or an invalid, expired or revoked, bearer token."),
    403: _doc("The user's role may not do this."),
    404: _doc("A named object does not exist."),
    409: _doc("The request conflicts with what exists."),
    413: {
        "description": "The request body is larger than max_body_bytes.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    422: _doc("The request is invalid: the detail names the field and the fix."),
    500: _doc("An unexpected error (logged with the incident id given)."),
    503: _doc("The measurement store is unavailable."),
}


def status_for(exc: BaseException) -> int:
    """The HTTP status of an exception by the table (500 when none fits)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_response(
    status: int,
    error: str,
    detail: str | list[dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON error response with the standard body."""
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _unexpected(exc: BaseException) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.error("unexpected error (incident %s)", incident, exc_info=exc)
    return error_response(
        500, "InternalError", f"an unexpected error occurred; incident {incident} was logged"
    )


async def _gridtwin_error(request: Request, exc: Exception) -> JSONResponse:
    status = status_for(exc)
    if status == 500:
        return _unexpected(exc)
    name = type(exc).__name__
    if status == 503:
        log.warning("store error on %s %s: %s", request.method, request.url.path, exc)
        return error_response(503, name, _STORE_DETAIL)
    detail = str(exc)
    if isinstance(exc, ConvergenceError):
        extra = [f"{k}={getattr(exc, k)}" for k in ("iterations", "mismatch") if hasattr(exc, k)]
        detail += f" ({', '.join(extra)})" if extra else ""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, name, detail, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    problems: list[dict[str, Any]] = []
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    for err in errors:
        msg = str(err.get("msg", ""))
        problems.append({"loc": list(err.get("loc", ())), "msg": msg, "type": err.get("type")})
    return error_response(422, "RequestValidationError", problems)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover - registered for it
        return _unexpected(exc)
    import http

    try:
        name = http.HTTPStatus(exc.status_code).phrase.replace(" ", "")
    except ValueError:
        name = "HTTPError"
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return error_response(exc.status_code, name, str(exc.detail), headers or None)


def install_error_handlers(app: FastAPI) -> None:
    """Register the table's handlers on ``app`` (the catch-all is a middleware)."""
    app.add_exception_handler(GridTwinError, _gridtwin_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


class CatchAllMiddleware:
    """Any exception no handler took: the bland 500 body, the traceback logged once.

    Starlette's own last resort re-raises after answering (so that servers log it twice
    and test clients raise); this one answers and stops there. When the response had
    already started (a streamed export; the request body limit's own 413), nothing can
    be sent: the exception goes on to the server, which ends the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if started:  # too late to answer: the server ends the connection (and logs)
                raise
            response = _unexpected(exc)
            await response(scope, receive, send)
