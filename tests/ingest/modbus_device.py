"""A real Modbus TCP field device for the tests: a pymodbus server on 127.0.0.1.

The server runs in a thread of the test process with its own asyncio loop, listens on a
free port chosen by the kernel (port 0) and can be stopped and started again on the same
port (a device that goes away and comes back). :class:`SilentDevice` accepts connections
and never answers (a device that hangs: timeouts).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from gridtwin.errors import StoreError
from gridtwin.ingest._source import RawBatch

__all__ = ["CollectingSink", "FieldDevice", "SilentDevice", "field_device"]


class FieldDevice:
    """A pymodbus ``ModbusTcpServer`` serving the devices ``make_devices()`` builds.

    ``make_devices`` is called at every start, so a restarted device serves the same
    registers again.
    """

    def __init__(self, make_devices: Callable[[], Any], port: int = 0) -> None:
        self._make = make_devices
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None

    def start(self) -> FieldDevice:
        from pymodbus.server import ModbusTcpServer

        ready = threading.Event()
        errors: list[BaseException] = []
        loop = asyncio.new_event_loop()

        async def listen() -> None:
            self._server = ModbusTcpServer(self._make(), address=("127.0.0.1", self.port))
            await self._server.serve_forever(background=True)
            self.port = int(self._server.transport.sockets[0].getsockname()[1])

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(listen())
            except BaseException as exc:  # reported to start()
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=serve, name="modbus-field-device", daemon=True)
        self._thread.start()
        if not ready.wait(10) or errors:
            msg = f"the pymodbus server did not start on 127.0.0.1:{self.port}: {errors}"
            raise RuntimeError(msg)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._server.shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = self._server = None


@contextmanager
def field_device(make_devices: Callable[[], Any]) -> Iterator[FieldDevice]:
    """A started :class:`FieldDevice`, stopped at the end."""
    dev = FieldDevice(make_devices).start()
    try:
        yield dev
    finally:
        dev.stop()


class SilentDevice:
    """Accepts TCP connections on 127.0.0.1 and never answers (a hung device)."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for c in self._conns:
            c.close()
        self._sock.close()


class CollectingSink:
    """A sink that keeps every batch (thread-safe); ``fail`` makes it raise."""

    def __init__(self) -> None:
        self.batches: list[RawBatch] = []
        self.lock = threading.Lock()
        self.fail = False

    def submit(
        self,
        batch: RawBatch,
        on_durable: Callable[[], None] | None = None,
        timeout_s: float | None = None,
    ) -> None:
        if self.fail:
            msg = "the sink has stopped"
            raise StoreError(msg)
        with self.lock:
            self.batches.append(batch)
        if on_durable is not None:
            on_durable()

    def values(self) -> dict[str, list[float]]:
        """Every value submitted, per point, in order."""
        out: dict[str, list[float]] = {}
        with self.lock:
            for b in self.batches:
                for pid, v in zip(b.point_id, b.raw_value, strict=True):
                    out.setdefault(str(pid), []).append(float(v))
        return out

    def last(self) -> dict[str, float]:
        return {k: v[-1] for k, v in self.values().items()}

    def rejects(self) -> list[tuple[str | None, str, str]]:
        """``(point_id, reason, detail)`` of every reject submitted."""
        with self.lock:
            rejects = [b.rejects for b in self.batches]
        return [
            (p, r, d)
            for rj in rejects
            for p, r, d in zip(rj.point_id, rj.reason, rj.detail, strict=True)
        ]

    def timestamps(self) -> np.ndarray[Any, Any]:
        with self.lock:
            parts = [b.ts_utc for b in self.batches if len(b)]
        return np.concatenate(parts) if parts else np.array([], "datetime64[us]")
