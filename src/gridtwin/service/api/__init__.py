"""The API's areas, one router each, mounted under ``/api/v1`` by ``create_app``.

To add an area (the twin's state, alarms, ...):

1. write ``service/api/<area>.py`` with ``router = APIRouter(prefix="/<area>",
   tags=["<area>"])``; request models derive from ``_common.InputModel`` (unknown fields
   forbidden), responses from ``_common.OutputModel``, times are ``_common.UtcTime``;
   every route takes one of ``deps.Viewer | Operator | Analyst | Admin`` (the role it
   needs) and ``deps.StateDep`` for the store and the rest; sync work goes through
   ``await state.run(fn, ...)`` (a worker thread, never the event loop); writes may name
   their object for the audit log with ``deps.AuditDep`` (``audit.obj = "alarm=17"``);
2. add the router to :data:`ROUTERS` below (or pass it to ``create_app(settings,
   routers=[...])``), and resources it needs at start to ``ServiceState`` / the
   ``lifespans`` argument of ``create_app``;
3. list each new route with its role in ``tests/service/test_roles.py`` (``ROUTE_ROLES``):
   that test fails for any route not listed, and checks anonymous (401), the roles below
   (403) and the roles at or above (allowed) for every listed one.
"""

from __future__ import annotations

from fastapi import APIRouter

from gridtwin.service.api import (
    alarms,
    audit,
    auth,
    capabilities,
    health,
    heatnet,
    measurements,
    model,
    points,
    studies,
    twin,
    twin_history,
    users,
    warnings,
)
from gridtwin.service.api import assets as assets_api

__all__ = ["ROUTERS"]

#: The API's routers, in the order they are mounted.
ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    users.router,
    points.router,
    measurements.router,
    audit.router,
    twin.router,
    alarms.router,
    model.router,
    capabilities.router,
    heatnet.router,
    twin_history.router,
    studies.router,
    warnings.router,
    assets_api.router,
]
