"""Signed webhooks: the twin's alarm events POSTed to HTTP endpoints, retried with back-off.

Configured in the twin's YAML (:class:`WebhookConfig`, ``webhooks:``)::

    webhooks:
      - url: https://scada.example/hooks/alarms
        secret_env: GRIDTWIN_WEBHOOK_SECRET   # the secret comes from the environment
        priorities: [critical, high]          # optional filter
        kinds: [activated, cleared]           # optional filter

Each endpoint has one :class:`WebhookDispatcher`: a background thread that takes the
queued events in order, a batch at a time (at most ``batch_size``), and POSTs::

    {"type": "alarm.events", "twin": "feeder-7",
     "events": [{"id": 17, "event": {<one item of GET /alarms/events>}}, ...]}

signed in the Standard Webhooks style: headers ``webhook-id`` (the same for every attempt
of one batch), ``webhook-timestamp`` (Unix seconds of the attempt) and
``webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">``.
The key is the secret's UTF-8 bytes, or, for a ``whsec_<base64>`` secret (the Standard
Webhooks form), the decoded bytes. A receiver checks a request with
:func:`verify_signature`.

Connection errors, timeouts, 5xx and 429 are retried with exponential back-off and jitter
(``Retry-After`` is honoured), at most ``max_attempts`` times and within
``max_elapsed_s``; any other status is final. A batch that finally fails is logged and
appended to the dead-letter file ``gridtwin-webhooks-failed.jsonl`` beside the alarm log
(one JSON object per line, with its events), so nothing is dropped silently; so is what
is still queued when the service stops and ``drain_s`` has run out. Counters
(:class:`WebhookStats`) are shown by ``GET /api/v1/alarms/delivery``.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import logging
import os
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gridtwin.errors import InputError

if TYPE_CHECKING:
    import httpx

    from gridtwin.alarms import AlarmEvent
    from gridtwin.service._events import NumberedEvent

__all__ = [
    "DEAD_LETTER_LOG",
    "DeadLetterLog",
    "WebhookConfig",
    "WebhookDispatcher",
    "WebhookStats",
    "resolve_secret",
    "sign",
    "verify_signature",
]

_log = logging.getLogger("gridtwin.service.webhooks")

DEAD_LETTER_LOG = "gridtwin-webhooks-failed.jsonl"
#: A receiver refuses a timestamp further than this from its clock (replays).
DEFAULT_TOLERANCE_S = 300.0
_MIN_KEY_BYTES = 16
_SECRET_PREFIX = "whsec_"

_Priority = Literal["critical", "high", "medium", "low"]
_Kind = Literal[
    "activated",
    "cleared",
    "acknowledged",
    "reset",
    "shelved",
    "unshelved",
    "shelve_expired",
    "suppressed",
    "unsuppressed",
    "removed_from_service",
    "returned_to_service",
    "comment",
]


class WebhookConfig(BaseModel):
    """One webhook endpoint (an item of the twin file's ``webhooks`` list)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1, max_length=2000, description="http:// or https:// URL.")
    secret_env: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        max_length=200,
        description="The environment variable holding the signing secret (never the file).",
    )
    priorities: list[_Priority] | None = Field(
        default=None, description="Only events of these priorities (default: all)."
    )
    kinds: list[_Kind] | None = Field(
        default=None, description="Only events of these kinds (default: all)."
    )
    batch_size: int = Field(default=50, ge=1, le=1000, description="Events per request.")
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="Per request.")
    max_attempts: int = Field(default=8, ge=1, le=100, description="Per batch, retries too.")
    max_elapsed_s: float = Field(
        default=600.0, gt=0, le=86400, description="Give a batch up after this long."
    )
    backoff_initial_s: float = Field(default=1.0, gt=0, le=600)
    backoff_max_s: float = Field(default=60.0, gt=0, le=3600)
    max_queue: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Events waiting; beyond: dead letter."
    )
    drain_s: float = Field(
        default=5.0, ge=0, le=300, description="At shutdown, time left to deliver the queue."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            msg = f"use an http:// or https:// URL with a host, got {url!r}"
            raise ValueError(msg)
        return url


def resolve_secret(config: WebhookConfig, index: int, environ: Mapping[str, str]) -> bytes:
    """The signing key of ``config`` (``webhooks[index]`` of the twin file) from the
    environment; an :class:`~gridtwin.errors.InputError` naming the field and the
    variable when it is missing or too short."""
    where = f"webhooks[{index}].secret_env"
    value = environ.get(config.secret_env)
    if not value:
        msg = (
            f"{where}: the environment variable {config.secret_env} is not set; set it to "
            f"the shared secret of {_safe_url(config.url)} (at least {_MIN_KEY_BYTES} bytes)"
        )
        raise InputError(msg)
    try:
        key = _key(value)
    except ValueError as exc:
        msg = f"{where}: {config.secret_env} starts with whsec_ but is not base64 after it"
        raise InputError(msg) from exc
    if len(key) < _MIN_KEY_BYTES:
        msg = (
            f"{where}: the secret in {config.secret_env} has {len(key)} bytes; "
            f"use at least {_MIN_KEY_BYTES} (e.g. `openssl rand -base64 32`)"
        )
        raise InputError(msg)
    return key


def _key(secret: str | bytes) -> bytes:
    """The HMAC key of a secret: ``whsec_<base64>`` decoded, otherwise its UTF-8 bytes."""
    if isinstance(secret, bytes):
        return secret
    if secret.startswith(_SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(_SECRET_PREFIX) :], validate=True)
        except binascii.Error as exc:
            msg = "a whsec_ secret must be base64 after the prefix"
            raise ValueError(msg) from exc
    return secret.encode("utf-8")


def sign(secret: str | bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256>`` of
    ``<webhook_id>.<timestamp>.<body>``."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_signature(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now_s: float | None = None,
) -> bool:
    """Whether a webhook request is genuine: signed with ``secret`` over exactly ``body``
    (the raw bytes received) and stamped within ``tolerance_s`` of now.

    Parameters
    ----------
    secret : str or bytes
        The shared secret (as in the sender's environment variable).
    headers : mapping
        The request's headers; ``webhook-id``, ``webhook-timestamp`` and
        ``webhook-signature`` are read (any case).
    body : bytes
        The raw request body, before any JSON parsing.
    tolerance_s : float
        Refuse timestamps further from ``now_s`` (replayed requests).
    now_s : float, optional
        The receiver's clock [Unix s]; default: now.

    Returns
    -------
    bool
        True only if a ``v1`` signature matches (compared in constant time).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    webhook_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp")
    signatures = lower.get("webhook-signature")
    if not webhook_id or not stamp or not signatures:
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    now = time.time() if now_s is None else now_s
    if abs(now - timestamp) > tolerance_s:
        return False
    try:
        expected = sign(secret, webhook_id, timestamp, body)
    except ValueError:
        return False
    # the header may carry several signatures, separated by spaces (key rotation)
    return any(
        hmac.compare_digest(expected.encode(), candidate.encode())
        for candidate in signatures.split()
        if candidate.startswith("v1,")
    )


def _safe_url(url: str) -> str:
    """``url`` without credentials, query or fragment (for logs and the API)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


class DeadLetterLog:
    """The dead-letter file: one JSON object per finally failed batch (shared by the
    dispatchers; each line is flushed and synced)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, default=str) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


@dataclass
class WebhookStats:
    """One endpoint's counters (a copy).

    Attributes
    ----------
    url : str
        Without credentials, query or fragment.
    delivered : int
        Events accepted by the endpoint (2xx).
    retried : int
        Attempts repeated after a retryable failure.
    failed : int
        Events given up (dead-lettered).
    queue_length : int
        Events waiting, the batch in flight included.
    last_error, last_error_utc : str or None
    last_delivered_utc : str or None
    """

    url: str
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    queue_length: int = 0
    last_error: str | None = None
    last_error_utc: str | None = None
    last_delivered_utc: str | None = None


class _RetryableError(Exception):
    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class _FinalError(Exception):
    pass


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


class WebhookDispatcher:
    """Delivers the alarm events to one endpoint from its own thread (module docstring).

    Parameters
    ----------
    config : WebhookConfig
    key : bytes
        The signing key (:func:`resolve_secret`).
    format_event : callable
        An event as the JSON-ready mapping the API shows (one item of ``/alarms/events``).
    dead_letters : DeadLetterLog
    twin : str
        The twin's name (in every body).
    """

    def __init__(
        self,
        config: WebhookConfig,
        key: bytes,
        format_event: Callable[[AlarmEvent], dict[str, Any]],
        dead_letters: DeadLetterLog,
        *,
        twin: str = "twin",
    ) -> None:
        self.config = config
        self.url = _safe_url(config.url)
        self._key = key
        self._format = format_event
        self._dead = dead_letters
        self.dead_letter_path = dead_letters.path
        self._twin = twin
        # the webhook-id is a header: ASCII only, whatever the twin is called
        self._id_prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", twin).strip("-")[:40] or "twin"
        self._queue: collections.deque[NumberedEvent] = collections.deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._stop = threading.Event()
        self._drain_deadline: float | None = None
        self._stats = WebhookStats(self.url)
        self._priorities = None if config.priorities is None else frozenset(config.priorities)
        self._kinds = None if config.kinds is None else frozenset(config.kinds)
        self._thread = threading.Thread(target=self._run, name=f"webhook {self.url}", daemon=True)

    # -- the twin's side ---------------------------------------------------------------

    def wants(self, event: AlarmEvent) -> bool:
        """Whether the endpoint's filters pass ``event``."""
        return (self._priorities is None or event.priority in self._priorities) and (
            self._kinds is None or event.kind in self._kinds
        )

    def submit(self, events: Sequence[NumberedEvent]) -> None:
        """Queue the events the filters pass (returns at once; an event beyond
        ``max_queue`` goes straight to the dead-letter file)."""
        wanted = [(n, e) for n, e in events if self.wants(e)]
        if not wanted:
            return
        with self._cond:
            room = max(0, self.config.max_queue - len(self._queue))
            accepted, refused = wanted[:room], wanted[room:]
            self._queue.extend(accepted)
            self._cond.notify()
        if refused:
            self._give_up(refused, f"queue full ({self.config.max_queue} events waiting)", 0)

    def start(self) -> None:
        """Start the delivery thread."""
        self._thread.start()

    def stats(self) -> WebhookStats:
        """The counters now (a copy)."""
        with self._cond:
            s = WebhookStats(**vars(self._stats))
            s.queue_length = len(self._queue) + self._in_flight
            return s

    def close(self) -> None:
        """Deliver what is queued within ``drain_s`` (no retry waits), dead-letter the
        rest, and stop the thread."""
        with self._cond:
            self._drain_deadline = time.monotonic() + self.config.drain_s
            self._stop.set()
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=self.config.drain_s + self.config.timeout_s + 5)
        with self._cond:
            left = list(self._queue)
            self._queue.clear()
        if left:  # the thread never started, or the drain ran out
            self._give_up(left, "the service stopped before delivery", 0)

    # -- the delivery thread -----------------------------------------------------------

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=self.config.timeout_s, follow_redirects=False) as client:
            while True:
                with self._cond:
                    while not self._queue and not self._stop.is_set():
                        self._cond.wait()
                    if not self._queue:
                        return
                    if self._draining_over():
                        return  # close() dead-letters what is left
                    n = min(self.config.batch_size, len(self._queue))
                    batch = [self._queue.popleft() for _ in range(n)]
                    self._in_flight = n
                try:
                    self._deliver(client, batch)
                except Exception as exc:  # never let the thread die with events in hand
                    _log.exception("webhook %s: delivery failed unexpectedly", self.url)
                    self._give_up(batch, f"{type(exc).__name__}: {exc}", 0)
                finally:
                    with self._cond:
                        self._in_flight = 0

    def _draining_over(self) -> bool:
        return self._drain_deadline is not None and time.monotonic() >= self._drain_deadline

    def _body(self, batch: Sequence[NumberedEvent]) -> bytes:
        payload = {
            "type": "alarm.events",
            "twin": self._twin,
            "events": [{"id": n, "event": self._format(e)} for n, e in batch],
        }
        return json.dumps(payload, separators=(",", ":")).encode("utf-8")

    def _deliver(self, client: httpx.Client, batch: Sequence[NumberedEvent]) -> None:
        cfg = self.config
        webhook_id = f"{self._id_prefix}.alarms.{batch[0][0]}-{batch[-1][0]}"
        body = self._body(batch)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                self._attempt(client, webhook_id, body)
            except _FinalError as exc:
                self._give_up(batch, str(exc), attempt, webhook_id)
                return
            except _RetryableError as exc:
                self._note_error(str(exc))
                delay = min(cfg.backoff_max_s, cfg.backoff_initial_s * 2 ** (attempt - 1))
                delay *= random.uniform(0.5, 1.0)  # jitter: endpoints recovering see no herd
                if exc.retry_after_s is not None:
                    delay = max(delay, exc.retry_after_s)
                elapsed = time.monotonic() - started
                if attempt >= cfg.max_attempts:
                    self._give_up(batch, f"{exc} (after {attempt} attempts)", attempt, webhook_id)
                    return
                if elapsed + delay > cfg.max_elapsed_s:
                    reason = f"{exc} (the next try in {delay:.0f} s is past max_elapsed_s)"
                    self._give_up(batch, reason, attempt, webhook_id)
                    return
                if self._stop.is_set() or self._stop.wait(delay):
                    self._give_up(
                        batch, f"{exc} (the service stopped before a retry)", attempt, webhook_id
                    )
                    return
                with self._cond:
                    self._stats.retried += 1
            else:
                with self._cond:
                    self._stats.delivered += len(batch)
                    self._stats.last_delivered_utc = _now_utc()
                return

    def _attempt(self, client: httpx.Client, webhook_id: str, body: bytes) -> None:
        import httpx

        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "gridtwin-webhooks",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._key, webhook_id, timestamp, body),
        }
        timeout = self.config.timeout_s
        if self._drain_deadline is not None:
            timeout = max(0.1, min(timeout, self._drain_deadline - time.monotonic()))
        try:
            r = client.post(self.config.url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as exc:
            msg = f"timed out ({type(exc).__name__})"
            raise _RetryableError(msg) from exc
        except httpx.TransportError as exc:
            msg = f"connection failed ({type(exc).__name__}: {exc})"
            raise _RetryableError(msg) from exc
        if 200 <= r.status_code < 300:
            return
        reason = f"HTTP {r.status_code}"
        if r.status_code == 429 or r.status_code >= 500:
            raise _RetryableError(reason, _retry_after(r.headers.get("retry-after")))
        msg = f"{reason} (not retried)"
        raise _FinalError(msg)

    def _note_error(self, reason: str) -> None:
        with self._cond:
            self._stats.last_error = reason
            self._stats.last_error_utc = _now_utc()

    def _give_up(
        self,
        batch: Sequence[NumberedEvent],
        reason: str,
        attempts: int,
        webhook_id: str | None = None,
    ) -> None:
        _log.error(
            "webhook %s: %d alarm event(s) (ids %d-%d) not delivered: %s; see %s",
            self.url,
            len(batch),
            batch[0][0],
            batch[-1][0],
            reason,
            self._dead.path,
        )
        with self._cond:
            self._stats.failed += len(batch)
            self._stats.last_error = reason
            self._stats.last_error_utc = _now_utc()
        record = {
            "time_utc": _now_utc(),
            "url": self.url,
            "webhook_id": webhook_id,
            "attempts": attempts,
            "error": reason,
            "events": [{"id": n, "event": self._format(e)} for n, e in batch],
        }
        try:
            self._dead.append(record)
        except OSError:
            _log.exception("webhook %s: the dead-letter file cannot be written", self.url)
