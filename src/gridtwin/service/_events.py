"""The alarm broadcaster: every alarm event, numbered, to any number of subscribers.

The twin's alarm system (:class:`~gridtwin.workflows.live_alarms.LiveAlarms`) hands each
batch of new events to :meth:`AlarmBroadcaster.publish` (from the twin's thread or a
request's worker thread, under the alarm system's lock, in order). The broadcaster gives
every event its **event id**: its 1-based position in the alarm log (the events restored
from ``gridtwin-alarms.jsonl`` at start are 1..n), so ids grow monotonically and stay the
same across restarts. It then:

* offers the events to each SSE subscriber (:class:`Subscription`): a bounded queue per
  subscriber, filled on the subscriber's event loop (``call_soon_threadsafe``), so
  ``publish`` never waits for a client. A subscriber whose queue is full is marked
  *overflowed* and dropped: its stream sends ``event: overflow`` and ends, and the client
  reconnects with ``Last-Event-ID``, which replays what it missed from the in-memory log;
* calls each listener (the webhook dispatchers' ``submit``), which must not block either.

Subscribing is atomic with publishing: :meth:`AlarmBroadcaster.subscribe` takes the log's
events after the client's id (the replay) and registers the queue under one lock, so an
event is either in the replay or in the queue, never in both or neither.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from gridtwin.alarms import AlarmEvent

__all__ = [
    "AlarmBroadcaster",
    "EventOut",
    "Listener",
    "NumberedEvent",
    "Subscription",
    "event_data",
    "event_out",
]

_log = logging.getLogger("gridtwin.service.events")


class EventOut(BaseModel):
    """One transition of an alarm, with who and when (the twin's time).

    The one shape of an alarm event outside the service: an item of ``GET /alarms/events``,
    the ``data`` of a stream message and the ``event`` of a webhook. (Defined here, not in
    ``api/alarms.py``, so that the twin's webhooks can use it without importing the API;
    its configuration is that of ``api._common.OutputModel``.)
    """

    model_config = ConfigDict(extra="forbid")

    time_utc: dt.datetime
    instance_id: str
    rule_id: str
    element: str
    kind: str
    user: str
    from_state: str
    to_state: str
    priority: str
    reason: str
    message: str
    value: float | None
    limit: float | None


def event_out(e: AlarmEvent) -> EventOut:
    """An alarm event as the API shows it."""
    return EventOut(
        time_utc=e.time_utc,
        instance_id=e.instance_id,
        rule_id=e.rule_id,
        element=e.element,
        kind=e.kind,
        user=e.user,
        from_state=e.from_state,
        to_state=e.to_state,
        priority=e.priority,
        reason=e.reason,
        message=e.message,
        value=e.value,
        limit=e.limit,
    )


def event_data(e: AlarmEvent) -> dict[str, Any]:
    """:func:`event_out` as JSON-ready data (what a webhook sends)."""
    return event_out(e).model_dump(mode="json")


#: An event with its id (its 1-based position in the alarm log).
NumberedEvent = tuple[int, "AlarmEvent"]
#: A listener: called with each published batch, numbered; must return at once.
Listener = Callable[[Sequence[NumberedEvent]], None]


class Subscription:
    """One subscriber's view of the broadcast (made by :meth:`AlarmBroadcaster.subscribe`).

    Attributes
    ----------
    backlog : list of (int, AlarmEvent)
        The events after the subscriber's id that were already in the log (send first).
    last_id : int
        The id of the newest event handed out (backlog or queue) so far.
    overflowed : bool
        The queue filled up: the subscriber was dropped and must resume from ``last_id``.
    closed : bool
        The broadcaster closed (the twin stops).
    """

    def __init__(
        self,
        broadcaster: AlarmBroadcaster,
        loop: asyncio.AbstractEventLoop,
        queue_size: int,
        after: int,
    ) -> None:
        self._broadcaster = broadcaster
        self._loop = loop
        self._queue_size = queue_size
        self._queue: collections.deque[NumberedEvent] = collections.deque()
        self._wake = asyncio.Event()
        self.backlog: list[NumberedEvent] = []
        self.last_id = after
        self.overflowed = False
        self.closed = False

    # -- called from any thread (under the broadcaster's lock) -------------------------

    def _offer(self, items: Sequence[NumberedEvent]) -> bool:
        """Schedule ``items`` onto the subscriber's loop; False if that loop is gone."""
        try:
            self._loop.call_soon_threadsafe(self._push, list(items))
        except RuntimeError:  # the loop closed: the subscriber is gone
            return False
        return True

    def _end(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nothing to end
            self._loop.call_soon_threadsafe(self._close)

    # -- on the subscriber's loop -----------------------------------------------------

    def _push(self, items: list[NumberedEvent]) -> None:
        if self.overflowed or self.closed:
            return
        if len(self._queue) + len(items) > self._queue_size:
            self.overflowed = True
            self._queue.clear()
            self._broadcaster._drop(self, overflow=True)
        else:
            self._queue.extend(items)
        self._wake.set()

    def _close(self) -> None:
        self.closed = True
        self._wake.set()

    def take_backlog(self) -> list[NumberedEvent]:
        """The replay (once): the events after the subscriber's id already in the log."""
        items, self.backlog = self.backlog, []
        if items:
            self.last_id = max(self.last_id, items[-1][0])
        return items

    async def next_batch(self, timeout_s: float | None = None) -> list[NumberedEvent]:
        """The queued events (at least one), waiting up to ``timeout_s``; an empty list
        when the wait timed out, the subscriber overflowed or the broadcaster closed."""
        if not self._queue and not self.overflowed and not self.closed:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout_s)
            except TimeoutError:
                return []
        if self.overflowed:
            return []
        items = [item for item in self._queue if item[0] > self.last_id]
        self._queue.clear()
        if items:
            self.last_id = items[-1][0]
        return items

    def cancel(self) -> None:
        """Stop receiving (the client went away or the stream ended)."""
        self._broadcaster._drop(self, overflow=False)


class AlarmBroadcaster:
    """Numbers alarm events and fans them out (see the module docstring).

    Parameters
    ----------
    events : sequence of AlarmEvent
        The alarm log so far (restored at start): they get ids 1..n.
    queue_size : int
        Events one SSE subscriber may have waiting before it is dropped as too slow.

    Attributes
    ----------
    heartbeat_s : float
        Seconds between the SSE streams' heartbeat comments (set lower in tests).
    max_lifetime_s : float
        The longest a stream stays open (a client reconnects with ``Last-Event-ID``).
    send_timeout_s : float
        A stream whose client takes longer to accept one message is closed.
    overflows : int
        Subscribers dropped because their queue filled up.
    """

    def __init__(self, events: Sequence[AlarmEvent] = (), *, queue_size: int = 1000) -> None:
        if queue_size < 1:
            msg = f"queue_size must be at least 1, got {queue_size}"
            raise ValueError(msg)
        self.queue_size = queue_size
        self.heartbeat_s = 15.0
        self.max_lifetime_s = 3600.0
        self.send_timeout_s = 30.0
        self.overflows = 0
        self._events: list[AlarmEvent] = list(events)
        self._subscribers: set[Subscription] = set()
        self._listeners: list[Listener] = []
        self._closed = False
        self._lock = threading.Lock()

    @property
    def last_id(self) -> int:
        """The id of the newest event (0: none yet)."""
        with self._lock:
            return len(self._events)

    @property
    def subscribers(self) -> int:
        """SSE subscribers connected now."""
        with self._lock:
            return len(self._subscribers)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` with every batch published from now on (numbered)."""
        with self._lock:
            self._listeners.append(listener)

    def publish(self, events: Sequence[AlarmEvent]) -> list[NumberedEvent]:
        """Number ``events``, queue them for every subscriber and hand them to the
        listeners; never blocks on a client. The numbered events."""
        if not events:
            return []
        with self._lock:
            first = len(self._events) + 1
            self._events.extend(events)
            numbered = [(first + i, e) for i, e in enumerate(events)]
            gone = [s for s in self._subscribers if not s._offer(numbered)]
            self._subscribers.difference_update(gone)
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(numbered)
            except Exception:  # a listener's failure must not stop the twin
                _log.exception("an alarm-event listener failed")
        return numbered

    def events_after(self, after: int) -> list[NumberedEvent]:
        """The events with an id above ``after``, oldest first."""
        with self._lock:
            start = max(0, after)
            return [(start + 1 + i, e) for i, e in enumerate(self._events[start:])]

    def subscribe(self, after: int | None = None) -> Subscription:
        """A subscription on the running event loop: events after id ``after`` (``None``:
        only new ones; an id beyond the newest counts as the newest) come first, from the
        log, then every new one."""
        loop = asyncio.get_running_loop()
        with self._lock:
            newest = len(self._events)
            start = newest if after is None else min(max(0, after), newest)
            sub = Subscription(self, loop, self.queue_size, start)
            sub.backlog = [(start + 1 + i, e) for i, e in enumerate(self._events[start:])]
            if self._closed:
                sub.closed = True
            else:
                self._subscribers.add(sub)
        return sub

    def _drop(self, sub: Subscription, *, overflow: bool) -> None:
        with self._lock:
            present = sub in self._subscribers
            self._subscribers.discard(sub)
            if overflow and present:
                self.overflows += 1
        if overflow and present:
            _log.warning(
                "an alarm stream's client fell %d events behind and was dropped; "
                "it resumes from event %d",
                self.queue_size,
                sub.last_id,
            )

    def close(self) -> None:
        """End every subscription (the twin stops); later subscriptions end at once."""
        with self._lock:
            self._closed = True
            subs = list(self._subscribers)
            self._subscribers.clear()
        for sub in subs:
            sub._end()
