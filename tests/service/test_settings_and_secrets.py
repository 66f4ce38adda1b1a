"""Settings from the environment, demo mode, and no secret in any response or log line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from gridtwin.errors import InputError
from gridtwin.service._accounts import Accounts
from gridtwin.service.auth import DEMO_USERS, create_admin, ensure_demo_users
from gridtwin.service.settings import ServiceSettings, demo_settings
from tests.service.conftest import PASSWORD, make_store, running


def test_settings_from_the_environment() -> None:
    env = {
        "GRIDTWIN_STORE": "/data/twin",
        "GRIDTWIN_PORT": "9000",
        "GRIDTWIN_TOKEN_LIFETIME_S": "600",
        "GRIDTWIN_DEMO_PASSWORD": "",  # empty: unset
        "OTHER": "x",
    }
    s = ServiceSettings.from_env(env)
    assert (s.store, s.port, s.token_lifetime_s, s.host) == ("/data/twin", 9000, 600, "127.0.0.1")
    assert s.accounts_path == Path("/data/twin/gridtwin-accounts.sqlite")
    assert ServiceSettings.from_env(env, port=9100, host=None).port == 9100  # flags win
    with pytest.raises(InputError, match="GRIDTWIN_PORT: Input should be a valid integer"):
        ServiceSettings.from_env({**env, "GRIDTWIN_PORT": "eighty"})
    with pytest.raises(InputError, match="GRIDTWIN_STORE: Field required"):
        ServiceSettings.from_env({})
    with pytest.raises(InputError, match=r"GRIDTWIN_ACCOUNTS_FILE.* is required"):
        ServiceSettings.from_env({"GRIDTWIN_STORE": "postgresql://twin@db/twin"})
    with pytest.raises(InputError, match="secret_key: Extra inputs are not permitted"):
        ServiceSettings.build(store="x", secret_key="y")


def test_secrets_never_print() -> None:
    s = ServiceSettings.from_env(
        {"GRIDTWIN_STORE": "/d", "GRIDTWIN_DEMO": "1", "GRIDTWIN_DEMO_PASSWORD": "hunter2hunter2"}
    )
    assert isinstance(s.demo_password, SecretStr)
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s.model_dump())
    assert ServiceSettings.model_fields["demo_password"].default is None  # no default secret


def test_demo_mode_binds_only_loopback() -> None:
    with pytest.raises(InputError, match=r"demo mode binds only 127\.0\.0\.1"):
        ServiceSettings.build(store="/d", demo=True, host="0.0.0.0")
    with pytest.raises(InputError, match="demo mode binds only"):
        ServiceSettings.from_env(
            {"GRIDTWIN_STORE": "/d", "GRIDTWIN_DEMO": "true", "GRIDTWIN_HOST": "::"}
        )
    assert demo_settings("/d", port=8123).host == "127.0.0.1"


def test_demo_users_with_generated_passwords_printed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = demo_settings(str(tmp_path / "demo-store"))
    with running(settings) as api:
        out = capsys.readouterr().out
        lines = dict(
            (parts[0], parts[2]) for parts in (line.split() for line in out.splitlines()[1:])
        )
        assert set(lines) == set(DEMO_USERS)
        for name in DEMO_USERS:
            api.login(name, lines[name])
        assert api.get("/api/v1/auth/me", as_="operator").json()["role"] == "operator"
        assert api.get("/api/v1/users", as_="admin").status_code == 200
    # a restart gives new passwords (the old ones are not kept anywhere)
    with running(settings) as api:
        again = capsys.readouterr().out
        assert again.count("\n") == len(DEMO_USERS) + 1
        assert lines["admin"] not in again
        r = api.post("/api/v1/auth/token", json={"username": "admin", "password": lines["admin"]})
        assert r.status_code == 401


def test_demo_users_with_a_given_password_do_not_print_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = demo_settings(str(tmp_path / "d"), demo_password="demo-password-123")
    with running(settings) as api:
        assert "demo-password-123" not in capsys.readouterr().out
        api.login("viewer", "demo-password-123")


def test_no_demo_users_outside_demo_mode(tmp_path: Path) -> None:
    settings = ServiceSettings(store=make_store(tmp_path))
    with Accounts.open(settings.accounts_path) as acc, pytest.raises(InputError, match="demo"):
        ensure_demo_users(acc, settings)
    with running(settings) as api:
        assert api.state.accounts.list_users() == []  # no default user, no default password


def test_no_secret_in_any_response_or_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ServiceSettings(store=make_store(tmp_path))
    create_admin(settings, "root", PASSWORD)
    seen: list[str] = []
    secrets: list[str] = [PASSWORD, "another secret password"]
    with caplog.at_level(logging.DEBUG), running(settings) as api:
        login = api.post("/api/v1/auth/token", json={"username": "root", "password": PASSWORD})
        token = login.json()["access_token"]
        secrets.append(token)
        api.tokens["root"] = token
        calls = [
            (
                "POST",
                "/api/v1/users",
                {"json": {"username": "eve", "role": "viewer", "password": secrets[1]}},
            ),
            (
                "POST",
                "/api/v1/users",
                {"json": {"username": "Eve!", "role": "viewer", "password": secrets[1]}},
            ),
            (
                "POST",
                "/api/v1/users",
                {"json": {"username": "eve2", "role": "viewer", "password": "sh0rt-pw"}},
            ),
            ("PUT", "/api/v1/users/eve/password", {"json": {"password": secrets[1] + "!"}}),
            ("GET", "/api/v1/users", {}),
            ("GET", "/api/v1/users/eve", {}),
            ("GET", "/api/v1/auth/tokens", {}),
            ("GET", "/api/v1/audit", {}),
            ("GET", "/api/v1/health", {}),
        ]
        for method, url, kwargs in calls:
            seen.append(api.request(method, url, as_="root", **kwargs).text)
        wrong = api.post("/api/v1/auth/token", json={"username": "root", "password": secrets[1]})
        seen.append(wrong.text)
        seen.append(api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}x"}).text)
        stored_hash = api.state.accounts.password_hash("root")
    seen.extend(rec.getMessage() for rec in caplog.records)
    seen.extend(str(rec.args) for rec in caplog.records)
    text = "\n".join(seen)
    for secret in [*secrets, secrets[1] + "!", "sh0rt-pw", stored_hash, "$argon2"]:
        assert secret not in text
    assert token in login.text  # shown once, at login


def test_the_thread_switch_interval_and_store_threads_are_the_services(tmp_path: Path) -> None:
    import sys

    before = sys.getswitchinterval()
    settings = ServiceSettings(store=make_store(tmp_path), switch_interval_ms=0.5)
    with running(settings) as api:
        assert api.get("/api/v1/health").status_code == 200
        assert sys.getswitchinterval() == pytest.approx(0.0005)
        # the embedded store runs DuckDB on one thread while serving (store_threads)
        threads = api.state.store._cursor().execute("SELECT current_setting('threads')")
        assert threads.fetchone()[0] == 1
    assert sys.getswitchinterval() == before
    with pytest.raises(ValueError, match="switch_interval_ms"):
        ServiceSettings(store=make_store(tmp_path), switch_interval_ms=0)
