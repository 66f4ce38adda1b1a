"""The dependencies routes declare, as ``Annotated`` aliases built from the lifespan state.

A route names what it needs in its signature::

    @router.post("/alarms/{alarm_id}/ack")
    async def acknowledge(alarm_id: str, user: Operator, state: StateDep) -> AlarmOut: ...

``Viewer``, ``Operator``, ``Analyst`` and ``Admin`` are the current user when their role
includes that one (401 without a valid token, 403 with too low a role). Deny by default:
a route without one of them is open, and ``tests/service/test_roles.py`` fails until the
route is listed there with the role it needs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gridtwin.service._accounts import Accounts, Role, User
from gridtwin.service._audit import AuditContext, audit_context
from gridtwin.service._state import ServiceState
from gridtwin.service.auth import current_user, get_state, require_role
from gridtwin.store import MeasurementStore

__all__ = [
    "AccountsDep",
    "Admin",
    "Analyst",
    "AuditDep",
    "CurrentUser",
    "Operator",
    "StateDep",
    "StoreDep",
    "Viewer",
]


# async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request
async def _state(request: Request) -> ServiceState:
    return get_state(request)


async def _store(request: Request) -> MeasurementStore:
    return get_state(request).store


async def _accounts(request: Request) -> Accounts:
    return get_state(request).accounts


async def _audit(request: Request) -> AuditContext:
    return audit_context(request)


StateDep = Annotated[ServiceState, Depends(_state)]
StoreDep = Annotated[MeasurementStore, Depends(_store)]
AccountsDep = Annotated[Accounts, Depends(_accounts)]
AuditDep = Annotated[AuditContext, Depends(_audit)]

CurrentUser = Annotated[User, Depends(current_user)]
Viewer = Annotated[User, Depends(require_role(Role.viewer))]
Operator = Annotated[User, Depends(require_role(Role.operator))]
Analyst = Annotated[User, Depends(require_role(Role.analyst))]
Admin = Annotated[User, Depends(require_role(Role.admin))]
