"""``/auth``: log in (a token for a username and password), who am I, my tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field, SecretStr

from gridtwin.service._accounts import PASSWORD_MAX_CHARS, Role, TokenInfo, User
from gridtwin.service.api._common import InputModel, OutputModel
from gridtwin.service.auth import check_login_input
from gridtwin.service.deps import AuditDep, CurrentUser, StateDep

__all__ = ["LoginIn", "TokenOut", "TokensOut", "UserOut", "router", "token_out", "user_out"]

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(InputModel):
    """A username and password, for a token."""

    username: str = Field(min_length=1, max_length=64)
    password: SecretStr = Field(min_length=1, max_length=PASSWORD_MAX_CHARS)
    lifetime_s: int | None = Field(
        default=None,
        ge=60,
        le=30 * 86400,
        description="Lifetime of the token [s]; at most the service's token_lifetime_s.",
    )
    label: str = Field(default="", max_length=200, description="A name for the token.")


class TokenInfoOut(OutputModel):
    """A token without its secret."""

    token_id: str
    username: str
    label: str
    created_utc: dt.datetime
    expires_utc: dt.datetime
    revoked_utc: dt.datetime | None
    active: bool


class TokenOut(OutputModel):
    """A new token: ``access_token`` is shown this once and stored only hashed."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    token: TokenInfoOut


class TokensOut(OutputModel):
    """Tokens, newest first."""

    tokens: list[TokenInfoOut]


class UserOut(OutputModel):
    """A user (never with a password or its hash)."""

    username: str
    role: Role
    disabled: bool
    created_utc: dt.datetime
    updated_utc: dt.datetime


class MeOut(UserOut):
    """The current user and the token of this request."""

    token_id: str


def user_out(user: User) -> UserOut:
    """The response model of a user."""
    return UserOut(**vars(user))


def token_out(info: TokenInfo) -> TokenInfoOut:
    """The response model of a token."""
    return TokenInfoOut(**vars(info), active=info.active(dt.datetime.now(dt.UTC)))


@router.post(
    "/token",
    response_model=TokenOut,
    status_code=201,
    summary="Log in: a username and password for an API token",
)
async def login(body: LoginIn, state: StateDep, audit: AuditDep) -> TokenOut:
    """A new bearer token, valid for ``lifetime_s`` (default and at most the service's
    ``token_lifetime_s``). Wrong credentials and a disabled account both answer 401
    with the same message."""
    audit.username = body.username
    password = body.password.get_secret_value()
    check_login_input(body.username, password)
    user = await state.run_hashing(state.accounts.authenticate, body.username, password)
    lifetime_s = min(
        body.lifetime_s or state.settings.token_lifetime_s, state.settings.token_lifetime_s
    )
    issued = await state.run(state.accounts.issue_token, user.username, lifetime_s, body.label)
    audit.obj = f"token={issued.info.token_id}"
    return TokenOut(access_token=issued.token, token=token_out(issued.info))


@router.get("/me", response_model=MeOut, summary="The current user")
async def me(user: CurrentUser, request: Request) -> MeOut:
    """The user behind the bearer token, and the token's id."""
    return MeOut(**vars(user), token_id=str(request.state.token_id))


@router.get("/tokens", response_model=TokensOut, summary="My tokens")
async def my_tokens(user: CurrentUser, state: StateDep) -> TokensOut:
    """The current user's tokens (revoked and expired ones too), newest first."""
    tokens = await state.run(state.accounts.list_tokens, user.username)
    return TokensOut(tokens=[token_out(t) for t in tokens])


TokenId = Annotated[str, Path(min_length=1, max_length=64, description="The token's id.")]


@router.delete("/tokens/{token_id}", response_model=TokenInfoOut, summary="Revoke a token")
async def revoke_token(
    token_id: TokenId, user: CurrentUser, state: StateDep, audit: AuditDep
) -> TokenInfoOut:
    """Revoke one of my tokens (an admin may revoke anyone's). Idempotent."""
    audit.obj = f"token={token_id}"
    owner = None if user.role.allows(Role.admin) else user.username
    info = await state.run(state.accounts.revoke_token, token_id, owner)
    return token_out(info)
