"""A real webhook receiver on 127.0.0.1 (``http.server`` in a thread) for the tests.

It answers each POST with the next status of ``statuses`` (then ``then`` for the rest),
optionally with extra headers, and keeps every request (headers, raw body, arrival time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request as it arrived."""

    headers: dict[str, str]
    body: bytes
    status: int
    at_s: float


@dataclass
class Receiver:
    """What the receiver answers and what it got."""

    statuses: list[int]
    then: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else self.then

    def wait_for(self, n: int, timeout_s: float = 10.0) -> list[Received]:
        """Until ``n`` requests arrived (or the time is up); the requests."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.01)
        with self.lock:
            return list(self.requests)

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300]


@contextmanager
def receiver(
    statuses: Sequence[int] = (), then: int = 200, headers: dict[str, str] | None = None
) -> Iterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 while the block runs."""
    rec = Receiver(list(statuses), then, dict(headers or {}))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            status = rec.next_status()
            with rec.lock:
                rec.requests.append(
                    Received(dict(self.headers.items()), body, status, time.monotonic())
                )
            self.send_response(status)
            for k, v in rec.headers.items():
                self.send_header(k, v)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alarms"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
