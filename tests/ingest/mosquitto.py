"""A real Mosquitto broker for the MQTT tests, started on loopback for the session.

``mosquitto_broker`` (session scope, so one broker per xdist worker) writes a config into a
temporary folder with two listeners on free ports of 127.0.0.1: one anonymous, one that
needs a user name and password (from a password file made by ``mosquitto_passwd``). It
waits until both accept connections, yields a :class:`Broker`, and terminates the
broker at the end. Without the binary (``scripts/sysdeps-mosquitto.sh`` installs it) or
when the broker does not come up, the tests that use it are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gridtwin.ingest import RawBatch

MOSQUITTO = "/usr/sbin/mosquitto"
USERNAME = "gridtwin"
PASSWORD = "not-a-secret-3f9c"  # a throwaway broker on loopback


@dataclass(frozen=True)
class Broker:
    """A running test broker.

    Attributes
    ----------
    host : str
        ``127.0.0.1``.
    port : int
        The anonymous listener.
    auth_port : int or None
        The listener that needs :data:`USERNAME` / :data:`PASSWORD` (None without
        ``mosquitto_passwd``).
    log_path : pathlib.Path
        The broker's log (for failure messages).
    """

    host: str
    port: int
    auth_port: int | None
    log_path: Path

    def log_tail(self, n_chars: int = 3000) -> str:
        """The end of the broker's log."""
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _password_file(folder: Path) -> Path | None:
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    if not Path(tool).exists():
        return None
    path = folder / "passwd"
    subprocess.run(
        [tool, "-b", "-c", str(path), USERNAME, PASSWORD],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path


def _write_config(folder: Path, port: int, auth_port: int | None, passwd: Path | None) -> Path:
    lines = [
        "per_listener_settings true",
        "persistence false",
        # a persistent session keeps every message while its client is away (no cap)
        "max_queued_messages 0",
        f"user {getpass.getuser() if os.geteuid() != 0 else 'root'}",
        f"log_dest file {folder / 'mosquitto.log'}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
    ]
    if auth_port is not None and passwd is not None:
        lines += [
            f"listener {auth_port} 127.0.0.1",
            "allow_anonymous false",
            f"password_file {passwd}",
        ]
    conf = folder / "mosquitto.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def _start(folder: Path) -> tuple[subprocess.Popen[bytes], Broker] | str:
    """Start the broker; the process and its ports, or why it did not come up."""
    passwd = _password_file(folder)
    port, auth_port = _free_port(), (_free_port() if passwd else None)
    conf = _write_config(folder, port, auth_port, passwd)
    broker = Broker("127.0.0.1", port, auth_port, folder / "mosquitto.log")
    with (folder / "stderr.txt").open("wb") as stderr:
        proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=stderr, stderr=stderr)
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (folder / "stderr.txt").read_text(errors="replace")
            return f"mosquitto exited with {proc.returncode}: {err[-500:]} {broker.log_tail(500)}"
        if _accepts(port) and (auth_port is None or _accepts(auth_port)):
            return proc, broker
        time.sleep(0.05)
    _stop(proc)
    return f"mosquitto did not accept connections within 10 s: {broker.log_tail(500)}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def mosquitto_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A Mosquitto broker on loopback for the session (see the module docstring)."""
    if not Path(MOSQUITTO).exists():
        pytest.skip(f"{MOSQUITTO} is missing (run scripts/sysdeps-mosquitto.sh as root)")
    reason = ""
    for _attempt in range(3):  # a free port can be taken between the probe and the bind
        started = _start(tmp_path_factory.mktemp("mosquitto"))
        if isinstance(started, str):
            reason = started
            continue
        proc, broker = started
        try:
            yield broker
        finally:
            _stop(proc)
        return
    pytest.skip(f"the test broker could not start: {reason}")


# ----------------------------------------------------------------------- test helpers


class CollectingSink:
    """A sink that keeps every batch; ``ack`` False never reports a batch durable (as if
    the process died before the write), ``block`` holds ``submit`` until it is set."""

    def __init__(self, ack: bool = True, block: threading.Event | None = None) -> None:
        self.ack = ack
        self.block = block
        self.batches: list[RawBatch] = []
        self._lock = threading.Lock()

    def submit(
        self,
        batch: RawBatch,
        on_durable: Callable[[], None] | None = None,
        timeout_s: float | None = None,
    ) -> None:
        if self.block is not None:
            self.block.wait()
        with self._lock:
            self.batches.append(batch)
        if self.ack and on_durable is not None:
            on_durable()

    def values(self) -> list[tuple[str, float]]:
        with self._lock:
            return [
                (str(p), float(v))
                for b in self.batches
                for p, v in zip(b.point_id, b.raw_value, strict=True)
            ]

    def rejects(self) -> list[tuple[str, str, str, str]]:
        """(reason, source, raw, detail) of every reject."""
        with self._lock:
            return [
                (r, s, raw, d)
                for b in self.batches
                for r, s, raw, d in zip(
                    b.rejects.reason, b.rejects.source, b.rejects.raw, b.rejects.detail, strict=True
                )
            ]


def wait_for(cond: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    """Poll ``cond`` until true; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what or cond}")


@contextlib.contextmanager
def running(source: Any, sink: Any) -> Iterator[threading.Event]:
    """Run ``source.run(sink, stop)`` in a thread; stop and join it at the end (an error
    of the source is raised)."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            source.run(sink, stop)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: source.counters().connects > 0 or bool(errors), 10, "the source to connect"
        )
        time.sleep(0.1)  # the SUBACK
        yield stop
    finally:
        stop.set()
        thread.join(timeout=30)
    if errors:
        raise errors[0]


class Publisher:
    """A plain paho client that publishes test messages (QoS 1, waited for)."""

    def __init__(self, broker: Broker) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex}")
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        self.client.publish(topic, payload, qos=qos).wait_for_publish(timeout=10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto_broker: Broker) -> Iterator[Publisher]:
    """A connected publisher on the test broker."""
    pub = Publisher(mosquitto_broker)
    yield pub
    pub.close()


@pytest.fixture
def topic_ns() -> str:
    """A topic prefix of this test only (the broker is shared by the worker's tests)."""
    return f"t{uuid.uuid4().hex[:10]}"
