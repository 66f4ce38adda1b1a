"""``GET /alarms/stream`` over a real uvicorn on 127.0.0.1, read with httpx streaming.

The module's server runs a live twin of an LV feeder whose first hour (with an overload
at 00:15) is in the store, and a webhook to a real receiver. Events made by the twin (new
measurements through the API) and by operators (actions through the API) reach
subscribers within 2 s; resuming with ``Last-Event-ID`` gives exactly the missed events;
a slow subscriber overflows and resumes without loss; a shutdown ends open streams.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sse_starlette.sse import AppStatus

from gridtwin.alarms import AlarmEvent
from gridtwin.service._events import AlarmBroadcaster
from gridtwin.service.api.alarms import _stream
from gridtwin.service.app import create_app
from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import NetworkSource, TwinConfig, twin_extension
from gridtwin.service.webhooks import WebhookConfig, verify_signature
from tests.service._receiver import Receiver, receiver
from tests.service.conftest import ROLES, TWIN_CODE, add_users, issue_tokens, make_store
from tests.service.test_twin_api import _overloaded_store

SECRET = "stream-test-webhook-secret-0123456789"
HOOK_ENV = "GRIDTWIN_TEST_STREAM_HOOK_SECRET"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a thread (no signal handlers there)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test")
        self.base = f"http://127.0.0.1:{self.port}/api/v1"

    def start(self, timeout_s: float = 60.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the server did not start")
            time.sleep(0.02)

    def stop(self, timeout_s: float = 30.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=timeout_s)
        assert not self.thread.is_alive(), "the server did not stop"


@dataclass
class Sse:
    """One server-sent message."""

    event: str = "message"
    data: str = ""
    id: str | None = None


@dataclass
class Read:
    """What a stream sent: messages and comment lines."""

    events: list[Sse] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    arrived_s: list[float] = field(default_factory=list)


def read_sse(response: httpx.Response, n: int | None = None) -> Read:
    """Read ``response``'s messages until it ends (or ``n`` messages came)."""
    out = Read()
    current: Sse | None = None
    for line in response.iter_lines():
        if line == "":
            if current is not None:
                out.events.append(current)
                out.arrived_s.append(time.monotonic())
                current = None
                if n is not None and len(out.events) >= n:
                    break
            continue
        if line.startswith(":"):
            out.comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        current = current or Sse()
        if name == "event":
            current.event = value
        elif name == "data":
            current.data = value if not current.data else current.data + "\n" + value
        elif name == "id":
            current.id = value
    return out


@dataclass
class Live:
    server: LiveServer
    tokens: dict[str, str]
    hook: Receiver

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.base, timeout=httpx.Timeout(10.0))

    @property
    def runtime(self) -> Any:
        return self.server.app.state.service.extras["twin"]

    def events(self) -> list[dict[str, Any]]:
        with self.client() as c:
            r = c.get("/alarms/events", params={"limit": 10_000}, headers=self.auth("viewer"))
            r.raise_for_status()
            events: list[dict[str, Any]] = r.json()["events"]
            return events

    def comment(self, instance_id: str, text: str) -> None:
        with self.client() as c:
            r = c.post(
                f"/alarms/{instance_id}/comment", json={"text": text}, headers=self.auth("operator")
            )
            assert r.status_code == 200, r.text


def _wait_for_intervals(live: Live, n: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    with live.client() as c:
        while True:
            r = c.get("/twin", headers=live.auth("viewer"))
            if r.status_code == 200 and r.json()["intervals_updated"] >= n:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"the twin did not update {n} intervals")
            time.sleep(0.05)


def _twin_app(
    folder: Path, hook_url: str | None = None, *, measurements: bool = True
) -> tuple[FastAPI, dict[str, str]]:
    store = _overloaded_store(folder) if measurements else make_store(folder)
    settings = ServiceSettings(store=store)
    add_users(settings, {r.value: r for r in ROLES})
    hooks = (
        []
        if hook_url is None
        else [WebhookConfig(url=hook_url, secret_env=HOOK_ENV, backoff_initial_s=0.05)]
    )
    config = TwinConfig(network=NetworkSource(simbench=TWIN_CODE), grace_s=0.0, webhooks=hooks)
    app = create_app(settings, lifespans=[twin_extension(config)])
    return app, issue_tokens(settings, [r.value for r in ROLES])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with pytest.MonkeyPatch.context() as mp, receiver() as hook:
        mp.setenv(HOOK_ENV, SECRET)
        app, tokens = _twin_app(tmp_path_factory.mktemp("stream"), hook.url)
        server = LiveServer(app)
        server.start()
        try:
            result = Live(server, tokens, hook)
            _wait_for_intervals(result, 4)
            yield result
        finally:
            server.stop()


def _alarm_ids(live: Live) -> list[str]:
    with live.client() as c:
        alarms = c.get("/alarms", params={"all": "true"}, headers=live.auth("viewer")).json()
    return [a["instance_id"] for a in alarms["alarms"]]


def test_anonymous_cannot_subscribe_a_viewer_can(live: Live) -> None:
    with live.client() as c:
        anonymous = c.get("/alarms/stream", params={"timeout_s": 1})
        assert anonymous.status_code == 401
        assert anonymous.json()["error"] == "AuthenticationError"
        params = {"after": 0, "max_events": 1, "timeout_s": 5}
        with c.stream("GET", "/alarms/stream", params=params, headers=live.auth("viewer")) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["cache-control"] == "no-store"
            got = read_sse(r)
    assert [(e.event, e.id) for e in got.events] == [("alarm", "1")]


def test_the_log_replays_with_ids_matching_the_event_list(live: Live) -> None:
    events = live.events()
    assert len(events) >= 3, "the overload at 00:15 must have raised alarms"
    params = {"after": 0, "max_events": len(events), "timeout_s": 5}
    with (
        live.client() as c,
        c.stream("GET", "/alarms/stream", params=params, headers=live.auth("viewer")) as r,
    ):
        got = read_sse(r)
    assert [e.id for e in got.events] == [str(i) for i in range(1, len(events) + 1)]
    assert [json.loads(e.data) for e in got.events] == events  # data: one item of /events


def test_an_operator_action_reaches_a_subscriber_within_2s(live: Live) -> None:
    instance = _alarm_ids(live)[0]
    before = len(live.events())
    params = {"max_events": 1, "timeout_s": 10}
    with (
        live.client() as c,
        c.stream("GET", "/alarms/stream", params=params, headers=live.auth("viewer")) as r,
    ):
        assert r.status_code == 200  # subscribed once the headers are here
        t0 = time.monotonic()
        live.comment(instance, "stream check")
        got = read_sse(r)
    assert got.arrived_s[0] - t0 < 2.0
    (event,) = got.events
    assert event.id == str(before + 1)
    data = json.loads(event.data)
    assert (data["kind"], data["user"], data["reason"]) == ("comment", "operator", "stream check")


def test_an_event_of_the_twin_reaches_a_subscriber_within_2s(live: Live) -> None:
    """New measurements (the next interval, one household at 250 kW) through the API:
    the twin updates the interval and raises the overload alarm again."""
    with live.client() as c:
        latest = c.get("/measurements/latest", headers=live.auth("viewer")).json()["values"]
        loads = sorted(v["point_id"] for v in latest if v["point_id"].startswith("load:"))
        hot = max(loads, key=lambda p: int(p.split(":")[1]))  # the one of _overloaded_store
        items = [
            {
                "point_id": v["point_id"],
                "ts": "2016-01-01T01:00Z",
                "value": 250.0 if v["point_id"] == hot else v["value"],
            }
            for v in latest
            if v["value"] is not None and v["point_id"].startswith(("load:", "sgen:"))
        ]
        params = {"max_events": 1, "timeout_s": 20}
        with c.stream("GET", "/alarms/stream", params=params, headers=live.auth("viewer")) as r:
            t0 = time.monotonic()
            sent = c.post("/measurements", json={"items": items}, headers=live.auth("operator"))
            assert sent.json()["stored"] == len(items), sent.text
            got = read_sse(r)
    assert got.arrived_s[0] - t0 < 2.0
    data = json.loads(got.events[0].data)
    assert data["user"] == "system"
    assert data["time_utc"] == "2016-01-01T01:00:00Z"


def test_resume_with_last_event_id_gives_exactly_the_missed_events(live: Live) -> None:
    instance = _alarm_ids(live)[0]
    with live.client() as c:
        params = {"max_events": 1, "timeout_s": 10}
        with c.stream("GET", "/alarms/stream", params=params, headers=live.auth("viewer")) as r:
            live.comment(instance, "seen")
            last_seen = read_sse(r).events[0].id
        assert last_seen is not None
        live.comment(instance, "missed 1")  # while disconnected
        live.comment(instance, "missed 2")
        headers = {**live.auth("viewer"), "Last-Event-ID": last_seen}
        # the header wins over ?after= (a browser reconnects to the same URL)
        params = {"after": 0, "timeout_s": 1}
        with c.stream("GET", "/alarms/stream", params=params, headers=headers) as r:
            got = read_sse(r)
    log = live.events()
    first_missed = int(last_seen) + 1
    assert [e.id for e in got.events] == [str(first_missed), str(first_missed + 1)]
    assert [json.loads(e.data)["reason"] for e in got.events] == ["missed 1", "missed 2"]
    assert [json.loads(e.data) for e in got.events] == log[first_missed - 1 :]


def test_heartbeats_keep_an_idle_stream_alive(live: Live) -> None:
    broadcaster = live.runtime.broadcaster
    broadcaster.heartbeat_s = 0.1
    try:
        params = {"timeout_s": 0.55}
        with (
            live.client() as c,
            c.stream("GET", "/alarms/stream", params=params, headers=live.auth("viewer")) as r,
        ):
            got = read_sse(r)
    finally:
        broadcaster.heartbeat_s = 15.0
    assert got.events == []
    assert len(got.comments) >= 3
    assert all(text.startswith("ping") for text in got.comments)


def test_many_subscribers_get_every_event(live: Live) -> None:
    instance = _alarm_ids(live)[0]
    params = {"max_events": 1, "timeout_s": 10}
    with live.client() as c:
        streams = [
            c.stream("GET", "/alarms/stream", params=params, headers=live.auth("viewer"))
            for _ in range(12)
        ]
        responses = [s.__enter__() for s in streams]
        try:
            assert live.runtime.broadcaster.subscribers >= 12
            live.comment(instance, "for everyone")
            got = [read_sse(r).events for r in responses]
        finally:
            for s in streams:
                s.__exit__(None, None, None)
    assert {(e[0].id, json.loads(e[0].data)["reason"]) for e in got} == {
        (got[0][0].id, "for everyone")
    }
    deadline = time.monotonic() + 5
    while live.runtime.broadcaster.subscribers and time.monotonic() < deadline:
        time.sleep(0.02)
    assert live.runtime.broadcaster.subscribers == 0  # every subscription was released


def test_the_twins_webhook_gets_every_event_signed(live: Live) -> None:
    events = live.events()
    deadline = time.monotonic() + 10
    while True:
        got = [e for r in live.hook.accepted() for e in json.loads(r.body)["events"]]
        if len(got) >= len(events) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [e["id"] for e in got] == list(range(1, len(events) + 1))
    assert [e["event"] for e in got] == events
    assert all(verify_signature(SECRET, r.headers, r.body) for r in live.hook.requests)
    with live.client() as c:
        r = c.get("/alarms/delivery", headers=live.auth("admin"))
        assert c.get("/alarms/delivery", headers=live.auth("operator")).status_code == 403
    body = r.json()
    assert body["stream"]["last_event_id"] == len(events)
    (hook,) = body["webhooks"]
    assert hook["url"] == live.hook.url
    assert (hook["delivered"], hook["failed"], hook["queue_length"]) == (len(events), 0, 0)


def _event(n: int) -> AlarmEvent:
    import datetime as dt

    return AlarmEvent(
        time_utc=dt.datetime(2016, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
        instance_id="line-loading-high@line:1",
        rule_id="line-loading-high",
        element="line:1",
        kind="comment",
        user="system",
        from_state="normal",
        to_state="normal",
        priority="high",
        reason=f"note {n}",
    )


def test_a_slow_subscriber_overflows_then_resumes_without_loss() -> None:
    async def main() -> None:
        b = AlarmBroadcaster([_event(1), _event(2)], queue_size=2)
        sub = b.subscribe()  # new events only; nobody reads its queue
        stream = _stream(sub, None, 10.0)
        # three events from another thread, the twin's way: more than the queue holds
        await anyio.to_thread.run_sync(b.publish, [_event(3), _event(4), _event(5)])
        sent = [m async for m in stream]
        assert [(m.event, json.loads(str(m.data))["last_event_id"]) for m in sent] == [
            ("overflow", 2)
        ]
        assert sent[0].id is None  # an overflow must not move the client's Last-Event-ID
        assert (b.overflows, b.subscribers) == (1, 0)
        again = b.subscribe(after=2)  # the client reconnects with Last-Event-ID: 2
        resumed = [m async for m in _stream(again, 3, 10.0)]
        assert [m.id for m in resumed] == ["3", "4", "5"]
        assert [json.loads(str(m.data))["reason"] for m in resumed] == [
            "note 3",
            "note 4",
            "note 5",
        ]
        # the broadcaster's end (the twin stops) ends a waiting stream
        waiting = b.subscribe()
        closing = _stream(waiting, None, 10.0)
        b.close()
        assert [m async for m in closing] == []

    anyio.run(main)


def test_a_shutdown_ends_open_streams(tmp_path: Path) -> None:
    app, tokens = _twin_app(tmp_path, measurements=False)  # an idle twin is enough
    server = LiveServer(app)
    server.start()
    headers = {"Authorization": f"Bearer {tokens['viewer']}"}
    ended: list[float] = []
    try:
        with (
            httpx.Client(base_url=server.base, timeout=10.0) as c,
            c.stream("GET", "/alarms/stream", headers=headers) as r,
        ):
            assert r.status_code == 200
            t0 = time.monotonic()
            # what SIGINT/SIGTERM do under `gridtwin serve` (uvicorn's signal handler)
            server.server.handle_exit(signal.SIGTERM, None)
            read_sse(r)  # returns once the server ends the stream
            ended.append(time.monotonic() - t0)
        server.thread.join(timeout=10)
        assert not server.thread.is_alive(), "the server hung at shutdown"
    finally:
        AppStatus.should_exit = False  # sse-starlette's flag is process-wide
        if server.thread.is_alive():
            server.stop()
    assert ended[0] < 3.0
