"""Accounts: argon2id hashes, logins, disabled users, token expiry and revocation, the last
admin, and the same rules seen through the API."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from gridtwin.errors import InputError, NotFoundError
from gridtwin.service._accounts import Accounts, AuthenticationError, ConflictError, Role
from gridtwin.service._accounts import utc_now as _utc_now
from tests.service.conftest import PASSWORD, Api


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    acc = Accounts.open(tmp_path / "accounts.sqlite")
    yield acc
    acc.close()


def test_passwords_are_argon2id_with_the_rfc9106_parameters(accounts: Accounts) -> None:
    accounts.create_user("ann", Role.viewer, PASSWORD)
    stored = accounts.password_hash("ann")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    accounts.create_user("bob", Role.viewer, PASSWORD)
    assert accounts.password_hash("bob") != stored  # salted


def test_login_right_wrong_unknown_and_disabled(accounts: Accounts) -> None:
    accounts.create_user("ann", Role.operator, PASSWORD)
    assert accounts.authenticate("ann", PASSWORD).role == Role.operator
    for user, password in [("ann", PASSWORD + "x"), ("nobody", PASSWORD), ("ann", "")]:
        with pytest.raises(AuthenticationError, match="wrong username or password") as err:
            accounts.authenticate(user, password)
        assert PASSWORD not in str(err.value)
    accounts.update_user("ann", disabled=True)
    with pytest.raises(AuthenticationError, match="wrong username or password"):
        accounts.authenticate("ann", PASSWORD)  # the same answer: nothing to probe


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_login(accounts: Accounts) -> None:
    accounts.create_user("ann", Role.viewer, PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with sqlite3.connect(accounts.path) as con:
        con.execute("UPDATE users SET password_hash = ? WHERE username = 'ann'", [weak])
    accounts.authenticate("ann", PASSWORD)
    assert accounts.password_hash("ann").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_usernames_and_passwords_are_checked(accounts: Accounts) -> None:
    with pytest.raises(InputError, match="username 'Ann'"):
        accounts.create_user("Ann", Role.viewer, PASSWORD)
    with pytest.raises(InputError, match="password: use 12 to 1024 characters") as err:
        accounts.create_user("ann", Role.viewer, "short")
    assert "short" not in str(err.value)
    accounts.create_user("ann", Role.viewer, PASSWORD)
    with pytest.raises(ConflictError, match="user 'ann' exists"):
        accounts.create_user("ann", Role.admin, PASSWORD)
    with pytest.raises(NotFoundError):
        accounts.get_user("nobody")


def test_the_file_is_private(accounts: Accounts) -> None:
    assert stat.S_IMODE(accounts.path.stat().st_mode) == 0o600


def test_tokens_are_stored_hashed_expire_and_can_be_revoked(accounts: Accounts) -> None:
    accounts.create_user("ann", Role.viewer, PASSWORD)
    issued = accounts.issue_token("ann", 3600, "laptop")
    assert issued.token.startswith("gt_")
    assert len(issued.token) == 46
    with sqlite3.connect(accounts.path) as con:
        dump = "\n".join(con.iterdump())
    assert issued.token not in dump
    user, info = accounts.verify_token(issued.token)
    assert (user.username, info.token_id, info.label) == ("ann", issued.info.token_id, "laptop")
    with pytest.raises(AuthenticationError, match="invalid token"):
        accounts.verify_token(issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B"))

    short = accounts.issue_token("ann", 60)
    accounts.clock = lambda: short.info.expires_utc  # the moment it expires
    with pytest.raises(AuthenticationError, match="expired"):
        accounts.verify_token(short.token)
    accounts.clock = lambda: short.info.expires_utc - dt.timedelta(microseconds=1)
    accounts.verify_token(short.token)
    revoked = accounts.revoke_token(issued.info.token_id, owner="ann")
    assert revoked.revoked_utc is not None
    with pytest.raises(AuthenticationError, match="revoked"):
        accounts.verify_token(issued.token)
    with pytest.raises(NotFoundError):
        accounts.revoke_token(issued.info.token_id, owner="bob")  # not bob's
    listed = {t.token_id: t for t in accounts.list_tokens("ann")}
    assert set(listed) == {short.info.token_id, issued.info.token_id}
    assert listed[issued.info.token_id].revoked_utc is not None


def test_disabling_a_user_stops_its_tokens_and_a_reset_revokes_them(accounts: Accounts) -> None:
    accounts.create_user("ann", Role.viewer, PASSWORD)
    token = accounts.issue_token("ann", 3600).token
    accounts.update_user("ann", disabled=True)
    with pytest.raises(AuthenticationError, match="disabled"):
        accounts.verify_token(token)
    accounts.update_user("ann", disabled=False)
    accounts.verify_token(token)
    accounts.set_password("ann", "another long password")
    with pytest.raises(AuthenticationError, match="revoked"):
        accounts.verify_token(token)
    assert accounts.authenticate("ann", "another long password").username == "ann"


def test_a_change_by_another_process_ends_a_verified_token_at_once(accounts: Accounts) -> None:
    # verified tokens are remembered; the command line (another connection) revokes,
    # disables or changes a role while the service runs: the next request sees it
    accounts.create_user("ann", Role.operator, PASSWORD)
    accounts.create_user("bob", Role.viewer, PASSWORD)
    ann = accounts.issue_token("ann", 3600)
    bob = accounts.issue_token("bob", 3600).token
    for _ in range(3):
        assert accounts.verify_token(ann.token)[0].role is Role.operator
        accounts.verify_token(bob)
    with Accounts.open(accounts.path) as cli:
        cli.update_user("ann", role=Role.viewer)
    assert accounts.verify_token(ann.token)[0].role is Role.viewer
    with Accounts.open(accounts.path) as cli:
        cli.revoke_token(ann.info.token_id)
        cli.update_user("bob", disabled=True)
    with pytest.raises(AuthenticationError, match="revoked"):
        accounts.verify_token(ann.token)
    with pytest.raises(AuthenticationError, match="disabled"):
        accounts.verify_token(bob)


def test_the_last_admin_stays(accounts: Accounts) -> None:
    accounts.create_user("root", Role.admin, PASSWORD)
    for change in (
        lambda: accounts.update_user("root", role=Role.analyst),
        lambda: accounts.update_user("root", disabled=True),
        lambda: accounts.delete_user("root"),
    ):
        with pytest.raises(ConflictError, match="last enabled admin"):
            change()
    accounts.create_user("second", Role.admin, PASSWORD)
    accounts.update_user("root", role=Role.analyst)
    assert accounts.get_user("root").role == Role.analyst


def test_roles_are_ordered() -> None:
    assert [r.value for r in sorted(Role, key=lambda r: r.rank)] == [
        "viewer",
        "operator",
        "analyst",
        "admin",
    ]
    assert Role.admin.allows(Role.operator)
    assert not Role.operator.allows(Role.analyst)


# ---------------------------------------------------------------------- through the API


def test_login_me_tokens_and_revocation_over_http(api: Api) -> None:
    token = api.login("operator", label="script")
    me = api.get("/api/v1/auth/me", as_="operator")
    assert me.json()["role"] == "operator"
    tokens = api.get("/api/v1/auth/tokens", as_="operator").json()["tokens"]
    mine = next(t for t in tokens if t["label"] == "script")
    assert mine["active"] is True
    assert "access_token" not in mine
    r = api.request("DELETE", f"/api/v1/auth/tokens/{mine['token_id']}", as_="operator")
    assert r.status_code == 200
    assert r.json()["active"] is False
    again = api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401
    assert again.json() == {
        "error": "AuthenticationError",
        "detail": "the token was revoked; log in again",
    }
    # another user's token: not found for a viewer, revocable by an admin
    other = api.state.accounts.issue_token("analyst", 3600)
    r = api.request("DELETE", f"/api/v1/auth/tokens/{other.info.token_id}", as_="viewer")
    assert r.status_code == 404
    r = api.request("DELETE", f"/api/v1/auth/tokens/{other.info.token_id}", as_="admin")
    assert r.status_code == 200


def test_token_lifetime_is_capped_and_expiry_is_enforced(api: Api) -> None:
    r = api.post(
        "/api/v1/auth/token",
        json={"username": "viewer", "password": PASSWORD, "lifetime_s": 30 * 86400},
    )
    info = r.json()["token"]
    lifetime = dt.datetime.fromisoformat(info["expires_utc"]) - dt.datetime.fromisoformat(
        info["created_utc"]
    )
    assert lifetime == dt.timedelta(seconds=api.state.settings.token_lifetime_s)
    token = r.json()["access_token"]
    api.state.accounts.clock = lambda: dt.datetime.fromisoformat(info["expires_utc"])
    try:
        r = api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    finally:
        api.state.accounts.clock = _utc_now
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


def test_admin_manages_users_over_http(api: Api) -> None:
    new = {"username": "dora", "role": "operator", "password": PASSWORD}
    r = api.post("/api/v1/users", json=new, as_="admin")
    assert r.status_code == 201
    assert r.json()["role"] == "operator"
    assert "password" not in r.text
    assert "argon2" not in r.text
    assert api.post("/api/v1/users", json=new, as_="admin").status_code == 409
    token = api.login("dora")
    r = api.request("PATCH", "/api/v1/users/dora", json={"disabled": True}, as_="admin")
    assert r.json()["disabled"] is True
    assert (
        api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    login = api.post("/api/v1/auth/token", json={"username": "dora", "password": PASSWORD})
    assert login.status_code == 401
    api.request("PATCH", "/api/v1/users/dora", json={"disabled": False}, as_="admin")
    r = api.request(
        "PUT", "/api/v1/users/dora/password", json={"password": "a new long password"}, as_="admin"
    )
    assert r.status_code == 204
    assert (
        api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    api.login("dora", "a new long password")
    tokens = api.get("/api/v1/users/dora/tokens", as_="admin").json()["tokens"]
    assert [t["active"] for t in tokens] == [True, False]
    assert api.request("DELETE", "/api/v1/users/dora", as_="admin").status_code == 204
    assert api.get("/api/v1/users/dora", as_="admin").status_code == 404
    r = api.request("PATCH", "/api/v1/users/admin", json={"role": "viewer"}, as_="admin")
    assert r.status_code == 409
    assert r.json()["error"] == "ConflictError"


def test_bad_user_input_is_422_naming_the_field(api: Api) -> None:
    r = api.post(
        "/api/v1/users",
        json={"username": "Bad Name", "role": "viewer", "password": PASSWORD},
        as_="admin",
    )
    assert r.status_code == 422
    assert "username 'Bad Name'" in r.json()["detail"]
    r = api.post(
        "/api/v1/users",
        json={"username": "ok", "role": "boss", "password": PASSWORD},
        as_="admin",
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "role"]
    assert "input" not in r.json()["detail"][0]
    r = api.post(
        "/api/v1/users",
        json={"username": "ok", "role": "viewer", "password": PASSWORD, "extra": 1},
        as_="admin",
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "extra_forbidden"
