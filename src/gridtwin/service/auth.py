"""Who is asking, and may they: bearer tokens, roles, and the first admin.

Every route but ``GET /health`` and ``POST /auth/token`` (which checks a password)
depends on :func:`current_user`, directly or through :func:`require_role`: a request
without a valid ``Authorization: Bearer <token>`` is answered 401 before the route runs,
one whose role is too low 403. The roles (viewer < operator < analyst < admin) are
described on :class:`~gridtwin.service._accounts.Role`.

There is no default password. The first admin is made from the command line
(``gridtwin users add NAME --role admin``, i.e. :func:`create_admin`), or, in demo mode
only, the app creates fixed demo users at start (:func:`ensure_demo_users`).
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gridtwin.errors import InputError
from gridtwin.service._accounts import (
    Accounts,
    AuthenticationError,
    IssuedToken,
    Role,
    User,
)
from gridtwin.service._audit import audit_context
from gridtwin.service._state import ServiceState
from gridtwin.service.settings import ServiceSettings

__all__ = [
    "DEMO_USERS",
    "create_admin",
    "current_user",
    "ensure_demo_users",
    "get_state",
    "issue_token",
    "open_accounts",
    "require_role",
]

#: The demo users and their roles (demo mode only).
DEMO_USERS: dict[str, Role] = {
    "viewer": Role.viewer,
    "operator": Role.operator,
    "analyst": Role.analyst,
    "admin": Role.admin,
}

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token from POST /api/v1/auth/token (or `gridtwin users token`).",
)


def get_state(request: Request) -> ServiceState:
    """The running app's state (set by the lifespan)."""
    state = getattr(request.app.state, "service", None)
    if not isinstance(state, ServiceState):  # pragma: no cover - only without a lifespan
        msg = "the service is not started (no lifespan ran)"
        raise RuntimeError(msg)
    return state


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user behind the request's bearer token; 401 when there is none or it is
    invalid, expired, revoked or its account disabled.

    On the event loop, without a worker thread: a token verified before is answered from
    memory after one SQLite ``PRAGMA data_version`` (microseconds), a new one with one
    indexed read; a thread hop per request would cost more than either."""
    if credentials is None:
        msg = (
            "authentication needed: send 'Authorization: Bearer <token>' "
            "(POST /api/v1/auth/token issues one)"
        )
        raise AuthenticationError(msg)
    user, token = get_state(request).accounts.verify_token(credentials.credentials)
    audit_context(request).username = user.username
    request.state.token_id = token.token_id
    return user


def require_role(role: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency: the current user if their role includes ``role``, else 403."""

    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if not user.role.allows(role):
            detail = (
                f"this needs the {role.value} role or higher; "
                f"{user.username} has the role {user.role.value}"
            )
            raise HTTPException(status_code=403, detail=detail)
        return user

    dependency.__name__ = f"require_{role.value}"
    return dependency


# ---------------------------------------------------------------------- outside requests


def open_accounts(settings: ServiceSettings) -> Accounts:
    """The accounts database of ``settings`` (its folder must exist)."""
    path = settings.accounts_path
    if not Path(path).parent.is_dir():
        msg = (
            f"no folder for the accounts file {path}: create the store first "
            f"(`gridtwin store init --store {settings.store}`) or set GRIDTWIN_ACCOUNTS_FILE"
        )
        raise InputError(msg)
    return Accounts.open(path)


def create_admin(settings: ServiceSettings, username: str, password: str) -> User:
    """Create an admin user (the first one, from ``gridtwin users add``)."""
    with open_accounts(settings) as accounts:
        return accounts.create_user(username, Role.admin, password)


def issue_token(
    settings: ServiceSettings, username: str, lifetime_s: float | None = None, label: str = ""
) -> IssuedToken:
    """A token for ``username`` (``gridtwin users token``), valid for ``lifetime_s`` [s]
    (default: the settings' token lifetime)."""
    with open_accounts(settings) as accounts:
        return accounts.issue_token(username, lifetime_s or settings.token_lifetime_s, label)


def ensure_demo_users(accounts: Accounts, settings: ServiceSettings) -> None:
    """Demo mode: create (or reset the passwords of) :data:`DEMO_USERS`.

    With ``settings.demo_password`` every demo user gets it; otherwise each gets a random
    password, printed once here (the only place it is shown). Refused outside demo mode.
    """
    if not settings.demo:
        msg = "demo users exist only in demo mode"
        raise InputError(msg)
    given = settings.demo_password.get_secret_value() if settings.demo_password else None
    lines = []
    for username, role in DEMO_USERS.items():
        password = given or secrets.token_urlsafe(12)
        existing = {u.username: u for u in accounts.list_users()}
        if username in existing:
            accounts.set_password(username, password)
            accounts.update_user(username, role=role, disabled=False)
        else:
            accounts.create_user(username, role, password)
        shown = "(GRIDTWIN_DEMO_PASSWORD)" if given else password
        lines.append(f"  {username:<9} {role.value:<9} {shown}\n")
    sys.stdout.write("gridtwin demo users (shown once):\n" + "".join(lines))
    sys.stdout.flush()


def check_login_input(username: str, password: str) -> None:
    """A login with an empty field is refused before any hashing."""
    if not username or not password:
        msg = "wrong username or password, or the account is disabled"
        raise AuthenticationError(msg)
