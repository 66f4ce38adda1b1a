"""A real uvicorn on 127.0.0.1 (a free port), and ``gridtwin users ...`` beside it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from gridtwin.cli import serve, users
from tests.service.conftest import PASSWORD, make_store

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli() -> typer.Typer:
    """The commands as the integrator will register them."""
    app = typer.Typer()
    app.add_typer(users.app, name="users")
    serve.register(app)
    return app


def test_users_commands(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    runner = CliRunner()
    app = _cli()
    r = runner.invoke(
        app,
        ["users", "add", "root", "--role", "admin", "--store", store],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert r.exit_code == 0, r.output
    assert "user root created (admin)" in r.output
    assert PASSWORD not in r.output
    r = runner.invoke(
        app, ["users", "add", "ann", "--role", "boss", "--store", store], input="x\nx\n"
    )
    assert r.exit_code == 2
    assert "--role 'boss': use one of viewer, operator, analyst, admin" in r.output
    r = runner.invoke(
        app,
        ["users", "add", "ann", "--role", "viewer", "--store", store],
        env={"GRIDTWIN_NEW_PASSWORD": "short"},
    )
    assert r.exit_code == 2
    assert "password: use 12 to 1024 characters" in r.output
    r = runner.invoke(
        app,
        ["users", "add", "ann", "--role", "viewer", "--store", store],
        env={"GRIDTWIN_NEW_PASSWORD": PASSWORD},
    )
    assert r.exit_code == 0
    r = runner.invoke(app, ["users", "list", "--store", store])
    assert "root" in r.output
    assert "ann" in r.output
    r = runner.invoke(app, ["users", "disable", "root", "--store", store])
    assert r.exit_code == 2
    assert "last enabled admin" in r.output
    r = runner.invoke(app, ["users", "token", "ann", "--store", store, "--lifetime-s", "600"])
    assert r.exit_code == 0
    assert r.stdout.strip().startswith("gt_")
    r = runner.invoke(app, ["users", "list", "--store", str(tmp_path / "nowhere")])
    assert r.exit_code == 2
    assert "create the store first" in r.output


def test_serve_refuses_a_demo_on_another_address(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        _cli(), ["serve", "--demo", "--host", "0.0.0.0", "--store", str(tmp_path)]
    )
    assert r.exit_code == 2
    assert "demo mode binds only 127.0.0.1" in r.output


def test_a_real_server_on_loopback(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    runner = CliRunner()
    r = runner.invoke(
        _cli(),
        ["users", "add", "root", "--role", "admin", "--store", store],
        env={"GRIDTWIN_NEW_PASSWORD": PASSWORD},
    )
    assert r.exit_code == 0, r.output
    port = _free_port()
    code = (
        "import typer, sys\n"
        "from gridtwin.cli import serve\n"
        "app = typer.Typer()\n"
        "serve.register(app)\n"
        "@app.callback()\n"
        "def main() -> None: pass\n"
        "app()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDTWIN_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "serve",
            "--store",
            store,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not start: {proc.communicate()[1][-2000:]}")
                time.sleep(0.1)
        assert health.json()["status"] == "ok"
        # while it runs, the CLI still writes to the accounts (SQLite, not DuckDB)
        r = runner.invoke(
            _cli(),
            ["users", "add", "ops", "--role", "operator", "--store", store],
            env={"GRIDTWIN_NEW_PASSWORD": PASSWORD},
        )
        assert r.exit_code == 0, r.output
        with httpx.Client(base_url=base, timeout=10) as client:
            login = client.post("/auth/token", json={"username": "ops", "password": PASSWORD})
            token = login.json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            item = {"point_id": "load:1:p", "ts": "2026-01-01T00:00Z", "value": 4.0}
            r = client.post("/measurements", json={"items": [item]}, headers=auth)
            assert r.json()["stored"] == 1
            latest = client.get("/measurements/latest", headers=auth).json()
            assert latest["values"][0]["value"] == 4.0
            assert client.get("/audit", headers=auth).status_code == 403
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert PASSWORD not in err
    assert token not in err
