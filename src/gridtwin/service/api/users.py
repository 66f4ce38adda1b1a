"""``/users`` (admin): create with a role, list, show, change role, disable, reset the
password, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import Field, SecretStr

from gridtwin.service._accounts import PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, Role
from gridtwin.service.api._common import InputModel, OutputModel
from gridtwin.service.api.auth import TokensOut, UserOut, token_out, user_out
from gridtwin.service.deps import Admin, AuditDep, StateDep

__all__ = ["PasswordIn", "UserIn", "UserPatch", "UsersOut", "router"]

router = APIRouter(prefix="/users", tags=["users"])

Username = Annotated[str, Path(min_length=1, max_length=64, description="The username.")]


class UserIn(InputModel):
    """A new user."""

    username: str = Field(
        min_length=1,
        max_length=64,
        description="1-64 lower-case letters, digits and _ . -",
    )
    role: Role
    password: SecretStr = Field(min_length=PASSWORD_MIN_CHARS, max_length=PASSWORD_MAX_CHARS)


class UserPatch(InputModel):
    """A change of role or of the disabled flag (absent fields stay)."""

    role: Role | None = None
    disabled: bool | None = None


class PasswordIn(InputModel):
    """A new password (the user's tokens are revoked)."""

    password: SecretStr = Field(min_length=PASSWORD_MIN_CHARS, max_length=PASSWORD_MAX_CHARS)


class UsersOut(OutputModel):
    """Users by name."""

    users: list[UserOut]


@router.get("", response_model=UsersOut, summary="List users (admin)")
async def list_users(user: Admin, state: StateDep) -> UsersOut:
    """Every user, by name."""
    users = await state.run(state.accounts.list_users)
    return UsersOut(users=[user_out(u) for u in users])


@router.post("", response_model=UserOut, status_code=201, summary="Create a user (admin)")
async def create_user(body: UserIn, user: Admin, state: StateDep, audit: AuditDep) -> UserOut:
    """A new user with a role; 409 if the name is taken."""
    audit.obj = f"user={body.username}"
    new = await state.run_hashing(
        state.accounts.create_user, body.username, body.role, body.password.get_secret_value()
    )
    audit.detail = f"role={new.role.value}"
    return user_out(new)


@router.get("/{username}", response_model=UserOut, summary="Show a user (admin)")
async def get_user(username: Username, user: Admin, state: StateDep) -> UserOut:
    """One user."""
    return user_out(await state.run(state.accounts.get_user, username))


@router.patch("/{username}", response_model=UserOut, summary="Change role or disable (admin)")
async def patch_user(
    username: Username, body: UserPatch, user: Admin, state: StateDep, audit: AuditDep
) -> UserOut:
    """Change the role, or disable (``disabled: true``: its tokens stop working) or
    enable the user. The last enabled admin cannot be demoted or disabled (409)."""
    audit.obj = f"user={username}"
    audit.detail = ", ".join(f"{k}={v}" for k, v in body.model_dump(exclude_none=True).items())
    changed = await state.run(
        state.accounts.update_user, username, role=body.role, disabled=body.disabled
    )
    return user_out(changed)


@router.put("/{username}/password", status_code=204, summary="Reset a password (admin)")
async def reset_password(
    username: Username, body: PasswordIn, user: Admin, state: StateDep, audit: AuditDep
) -> Response:
    """Set a new password; every token of the user is revoked."""
    audit.obj = f"user={username}"
    await state.run_hashing(state.accounts.set_password, username, body.password.get_secret_value())
    return Response(status_code=204)


@router.delete("/{username}", status_code=204, summary="Delete a user (admin)")
async def delete_user(
    username: Username, user: Admin, state: StateDep, audit: AuditDep
) -> Response:
    """Remove the user and its tokens (audit entries keep the name); not the last admin."""
    audit.obj = f"user={username}"
    await state.run(state.accounts.delete_user, username)
    return Response(status_code=204)


@router.get("/{username}/tokens", response_model=TokensOut, summary="A user's tokens (admin)")
async def user_tokens(username: Username, user: Admin, state: StateDep) -> TokensOut:
    """The user's tokens, newest first (revoke one with DELETE /auth/tokens/{id})."""
    await state.run(state.accounts.get_user, username)
    tokens = await state.run(state.accounts.list_tokens, username)
    return TokensOut(tokens=[token_out(t) for t in tokens])
