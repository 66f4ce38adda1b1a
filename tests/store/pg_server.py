"""A throwaway PostgreSQL server for the tests (and the benchmark), on loopback.

:class:`PgServer` runs ``initdb`` in a fresh temporary directory, starts ``postgres``
listening on 127.0.0.1 on a free port and on a unix socket inside that directory, with
``trust`` authentication for local and loopback connections only (``initdb``'s defaults
for ``pg_hba.conf``), and at the end stops it and removes the directory. PostgreSQL
refuses to run as root, so when the tests run as root the server runs as the ``postgres``
system user (``runuser``), which the Debian package creates.

Fixtures (register them in ``tests/store/conftest.py``)::

    from tests.store.pg_server import pg_server, pg_url  # noqa: F401

- ``pg_server`` (session scope, so one server per xdist worker): the running server, or
  ``pytest.skip`` with the reason it could not start (binaries missing, no ``postgres``
  user, ``initdb`` failed, ...);
- ``pg_url`` (function scope): the URL of a fresh, empty database on that server, dropped
  after the test, so tests never see each other's data.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["PgServer", "PgServerError", "find_bin_dir", "pg_server", "pg_url"]

_SUPERUSER = "postgres"


class PgServerError(RuntimeError):
    """The throwaway server could not be started (the message says why)."""


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres`` (newest version first:
    ``/usr/lib/postgresql/*/bin``, then ``PATH``), or None."""
    candidates = sorted(
        (str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for d in candidates:
        if all((Path(d) / b).is_file() for b in ("initdb", "pg_ctl", "postgres")):
            return Path(d)
    found = shutil.which("pg_ctl")
    if found:
        d = Path(found).resolve().parent
        if (d / "initdb").is_file() and (d / "postgres").is_file():
            return d
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One throwaway server; use as a context manager or call :meth:`start` / :meth:`stop`.

    Parameters
    ----------
    fsync : bool
        Keep PostgreSQL's ``fsync`` on (the default, as in production; commits are durable).
    """

    def __init__(self, *, fsync: bool = True) -> None:
        self.fsync = fsync
        self.port = 0
        self.base: Path | None = None
        self._bin: Path | None = None
        self._run_as: str | None = None
        self._running = False
        self._names = itertools.count()

    # ------------------------------------------------------------------ life cycle

    def start(self) -> PgServer:
        """Create the cluster and start the server; :class:`PgServerError` says why not."""
        self._bin = find_bin_dir()
        if self._bin is None:
            msg = (
                "PostgreSQL binaries not found (no /usr/lib/postgresql/*/bin/initdb); "
                "install them with scripts/sysdeps-postgres.sh (as root)"
            )
            raise PgServerError(msg)
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(_SUPERUSER)
            except KeyError:
                msg = "running as root and there is no 'postgres' system user to run the server"
                raise PgServerError(msg) from None
            if shutil.which("runuser") is None:
                msg = "running as root and 'runuser' is missing (PostgreSQL refuses root)"
                raise PgServerError(msg)
            self._run_as = _SUPERUSER
        self.base = Path(tempfile.mkdtemp(prefix="gridtwin-pg-"))
        atexit.register(self.stop)
        try:
            self._init_cluster()
            self._start_server()
        except BaseException:
            self.stop()
            raise
        return self

    def _cmd(self, *args: str) -> list[str]:
        if self._run_as:
            return ["runuser", "-u", self._run_as, "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = 120) -> None:
        proc = subprocess.run(
            self._cmd(*args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            msg = f"{Path(args[0]).name} failed ({proc.returncode}): {proc.stderr.strip()[-1500:]}"
            raise PgServerError(msg)

    def _init_cluster(self) -> None:
        base, bindir = self.base, self._bin
        if base is None or bindir is None:
            msg = "start() was not called"
            raise PgServerError(msg)
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            os.chown(base, entry.pw_uid, entry.pw_gid)
        base.chmod(0o700)
        self._run(
            str(bindir / "initdb"),
            "-D",
            str(base / "data"),
            "-U",
            _SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        )

    def _start_server(self) -> None:
        base, bindir = self.base, self._bin
        if base is None or bindir is None:
            msg = "start() was not called"
            raise PgServerError(msg)
        last = ""
        for _ in range(3):  # the free port may be taken between the probe and the start
            self.port = _free_port()
            opts = (
                f"-p {self.port} -k {base} -c listen_addresses=127.0.0.1 "
                f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=50 "
                "-c shared_buffers=64MB"
            )
            proc = subprocess.run(
                self._cmd(
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(base / "data"),
                    "-l",
                    str(base / "server.log"),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ),
                capture_output=True,
                text=True,
                timeout=90,
                check=False,
            )
            if proc.returncode == 0:
                self._running = True
                return
            last = self._log_tail() or proc.stderr.strip()
        msg = f"postgres did not start: {last[-1500:]}"
        raise PgServerError(msg)

    def _log_tail(self) -> str:
        if self.base is None:
            return ""
        try:
            return (self.base / "server.log").read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server and remove its directory (idempotent)."""
        if self._running and self.base is not None and self._bin is not None:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                subprocess.run(
                    self._cmd(
                        str(self._bin / "pg_ctl"),
                        "-D",
                        str(self.base / "data"),
                        "-m",
                        "fast",
                        "-w",
                        "stop",
                    ),
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
            self._running = False
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ databases

    def url(self, dbname: str = "postgres", *, password: str | None = None) -> str:
        """A ``postgresql://`` URL of a database on this server (TCP on loopback)."""
        auth = _SUPERUSER if password is None else f"{_SUPERUSER}:{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "t") -> str:
        """A fresh empty database (from ``template0``); its name."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection still open to it."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL server for this test process (xdist worker)."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install '.[server]')")
    server = PgServer()
    try:
        server.start()
    except (PgServerError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"PostgreSQL server could not start: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a fresh, empty database, dropped after the test."""
    name = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)
