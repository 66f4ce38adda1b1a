"""``gridtwin users add|list|disable|token``: the service's accounts, from the shell.

There is no default password: the first admin is made here (``gridtwin users add NAME
--role admin``; the password is asked twice, or read from ``$GRIDTWIN_NEW_PASSWORD``,
never from a flag). The accounts live in ``<store>/gridtwin-accounts.sqlite`` (or
``$GRIDTWIN_ACCOUNTS_FILE``); SQLite lets this command run while ``gridtwin serve`` does.

Registered by ``gridtwin.cli`` as ``app.add_typer(users.app, name="users")``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridtwin.cli._common import console, run
from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.service.settings import ServiceSettings

__all__ = ["app"]

app = typer.Typer(help="Users and API tokens of the service.", no_args_is_help=True)

STORE_OPTION = typer.Option(
    "--store", envvar="GRIDTWIN_STORE", help="The store (its folder holds the accounts)."
)
ACCOUNTS_OPTION = typer.Option(
    "--accounts",
    envvar="GRIDTWIN_ACCOUNTS_FILE",
    help="The accounts file (default <store>/gridtwin-accounts.sqlite).",
)
ROLES = ("viewer", "operator", "analyst", "admin")


def _settings(store: str | None, accounts: Path | None) -> ServiceSettings:
    from gridtwin.service.settings import ServiceSettings

    if not store and accounts is None:
        msg = "no store given: pass --store DIR (or --accounts FILE), or set GRIDTWIN_STORE"
        raise InputError(msg)
    return ServiceSettings.build(store=store or str(accounts), accounts_file=accounts)


def _password() -> str:
    given = os.environ.get("GRIDTWIN_NEW_PASSWORD")
    if given:
        return given
    text: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return text


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="1-64 lower-case letters, digits, _ . -")],
    role: Annotated[str, typer.Option("--role", help="viewer, operator, analyst or admin")],
    store: Annotated[str | None, STORE_OPTION] = None,
    accounts: Annotated[Path | None, ACCOUNTS_OPTION] = None,
) -> None:
    """Create a user (asks for the password; at least 12 characters)."""

    def body() -> None:
        from gridtwin.cli._common import check_choice
        from gridtwin.service._accounts import Role
        from gridtwin.service.auth import create_admin, open_accounts

        check_choice(role, "--role", ROLES)
        settings = _settings(store, accounts)
        password = _password()
        if role == "admin":
            user = create_admin(settings, username, password)
        else:
            with open_accounts(settings) as acc:
                user = acc.create_user(username, Role(role), password)
        console().print(f"user {user.username} created ({user.role.value})")

    run(body)


@app.command("list")
def list_users(
    store: Annotated[str | None, STORE_OPTION] = None,
    accounts: Annotated[Path | None, ACCOUNTS_OPTION] = None,
) -> None:
    """The users, their roles and whether they are disabled."""

    def body() -> None:
        from rich.table import Table

        from gridtwin.service.auth import open_accounts

        with open_accounts(_settings(store, accounts)) as acc:
            users = acc.list_users()
        table = Table("username", "role", "disabled", "created (UTC)")
        for u in users:
            table.add_row(
                u.username,
                u.role.value,
                "yes" if u.disabled else "",
                f"{u.created_utc:%Y-%m-%d %H:%M}",
            )
        console().print(table)

    run(body)


@app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="The user to disable.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable instead.")] = False,
    store: Annotated[str | None, STORE_OPTION] = None,
    accounts: Annotated[Path | None, ACCOUNTS_OPTION] = None,
) -> None:
    """Disable a user (its tokens stop working at once), or enable it again."""

    def body() -> None:
        from gridtwin.service.auth import open_accounts

        with open_accounts(_settings(store, accounts)) as acc:
            user = acc.update_user(username, disabled=not enable)
        console().print(f"user {user.username} {'disabled' if user.disabled else 'enabled'}")

    run(body)


@app.command("token")
def token(
    username: Annotated[str, typer.Argument(help="The user the token acts for.")],
    lifetime_s: Annotated[
        float | None,
        typer.Option("--lifetime-s", help="Lifetime [s]; default the service's token lifetime."),
    ] = None,
    label: Annotated[str, typer.Option("--label", help="A name for the token.")] = "cli",
    store: Annotated[str | None, STORE_OPTION] = None,
    accounts: Annotated[Path | None, ACCOUNTS_OPTION] = None,
) -> None:
    """Issue an API token (printed once, on standard output alone, for scripts)."""

    def body() -> None:
        from gridtwin.service.auth import issue_token

        issued = issue_token(_settings(store, accounts), username, lifetime_s, label)
        typer.echo(issued.token)
        typer.echo(
            f"token {issued.info.token_id} for {username}, expires "
            f"{issued.info.expires_utc:%Y-%m-%dT%H:%M:%SZ}",
            err=True,
        )

    run(body)
