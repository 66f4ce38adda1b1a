"""Signed webhooks against a real HTTP receiver on 127.0.0.1: retries with back-off,
Retry-After, no retry on 4xx, the dead-letter file, order, filters, signatures and the
configuration's errors."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from pathlib import Path

import pytest

from gridtwin.alarms import AlarmEvent
from gridtwin.errors import InputError
from gridtwin.service._events import event_data
from gridtwin.service.settings import ServiceSettings
from gridtwin.service.twin import NetworkSource, TwinConfig, load_twin_config, twin_extension
from gridtwin.service.webhooks import (
    DEAD_LETTER_LOG,
    DeadLetterLog,
    WebhookConfig,
    WebhookDispatcher,
    resolve_secret,
    sign,
    verify_signature,
)
from tests.service._receiver import Received, receiver
from tests.service.conftest import TWIN_CODE, make_store, running

SECRET = "s3cret-for-the-tests-only-0123456789"
T0 = dt.datetime(2016, 1, 1, tzinfo=dt.UTC)


def _event(n: int, priority: str = "high", kind: str = "activated") -> AlarmEvent:
    return AlarmEvent(
        time_utc=T0 + dt.timedelta(minutes=15 * n),
        instance_id=f"line-loading-high@line:{n}",
        rule_id="line-loading-high",
        element=f"line:{n}",
        kind=kind,  # type: ignore[arg-type]
        user="system",
        from_state="normal",
        to_state="unacknowledged",
        priority=priority,  # type: ignore[arg-type]
        annunciated=True,
        message=f"line {n} loaded above 100 %",
        value=123.4,
        limit=100.0,
    )


def _dispatcher(url: str, folder: Path, **overrides: object) -> WebhookDispatcher:
    fields: dict[str, object] = {
        "url": url,
        "secret_env": "GRIDTWIN_WEBHOOK_SECRET",
        "backoff_initial_s": 0.02,
        "backoff_max_s": 0.1,
        "timeout_s": 2.0,
        "drain_s": 1.0,
    }
    fields.update(overrides)
    config = WebhookConfig.model_validate(fields)
    key = resolve_secret(config, 0, {"GRIDTWIN_WEBHOOK_SECRET": SECRET})
    return WebhookDispatcher(
        config, key, event_data, DeadLetterLog(folder / DEAD_LETTER_LOG), twin="feeder-7"
    )


def _dead_letters(folder: Path) -> list[dict[str, object]]:
    path = folder / DEAD_LETTER_LOG
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _wait_idle(d: WebhookDispatcher, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while d.stats().queue_length and time.monotonic() < deadline:
        time.sleep(0.01)


def test_an_event_arrives_once_after_503s_signed_and_the_retries_are_counted(
    tmp_path: Path,
) -> None:
    with receiver(statuses=[503, 503]) as rec:
        d = _dispatcher(rec.url, tmp_path)
        d.start()
        try:
            d.submit([(1, _event(1))])
            requests = rec.wait_for(3)
            _wait_idle(d)
        finally:
            d.close()
    assert [r.status for r in requests] == [503, 503, 200]
    (ok,) = rec.accepted()
    assert verify_signature(SECRET, ok.headers, ok.body)
    body = json.loads(ok.body)
    assert body == {
        "type": "alarm.events",
        "twin": "feeder-7",
        "events": [{"id": 1, "event": event_data(_event(1))}],
    }
    # one message: the same webhook-id on every attempt (receivers deduplicate on it)
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    stats = d.stats()
    assert (stats.delivered, stats.retried, stats.failed, stats.queue_length) == (1, 2, 0, 0)
    assert stats.last_error == "HTTP 503"
    assert stats.last_delivered_utc is not None
    assert _dead_letters(tmp_path) == []


def test_a_4xx_is_not_retried_and_the_batch_goes_to_the_dead_letter_file(
    tmp_path: Path,
) -> None:
    with receiver(then=400) as rec:
        d = _dispatcher(rec.url, tmp_path)
        d.start()
        try:
            d.submit([(7, _event(7)), (8, _event(8))])
            rec.wait_for(1)
            _wait_idle(d)
            time.sleep(0.2)  # a retry, if there were one, would come now
        finally:
            d.close()
    assert len(rec.requests) == 1
    stats = d.stats()
    assert (stats.delivered, stats.retried, stats.failed) == (0, 0, 2)
    (line,) = _dead_letters(tmp_path)
    assert line["error"] == "HTTP 400 (not retried)"
    assert line["attempts"] == 1
    assert line["url"] == rec.url
    assert line["webhook_id"] == rec.requests[0].headers["webhook-id"]
    assert line["events"] == [
        {"id": 7, "event": event_data(_event(7))},
        {"id": 8, "event": event_data(_event(8))},
    ]


def test_unreachable_endpoint_is_retried_then_dead_lettered(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = _dispatcher(f"http://127.0.0.1:{port}/x", tmp_path, max_attempts=3)
    d.start()
    try:
        d.submit([(1, _event(1))])
        deadline = time.monotonic() + 10
        while d.stats().failed == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        d.close()
    stats = d.stats()
    assert (stats.delivered, stats.retried, stats.failed) == (0, 2, 1)
    (line,) = _dead_letters(tmp_path)
    assert str(line["error"]).startswith("connection failed")
    assert "(after 3 attempts)" in str(line["error"])


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    with receiver(statuses=[429], headers={"Retry-After": "1"}) as rec:
        d = _dispatcher(rec.url, tmp_path)
        d.start()
        try:
            d.submit([(1, _event(1))])
            first, second = rec.wait_for(2)[:2]
        finally:
            d.close()
    assert first.status == 429
    assert second.status == 200
    assert second.at_s - first.at_s >= 0.95  # not the 0.02 s back-off
    assert d.stats().retried == 1


def test_events_arrive_in_order_in_batches(tmp_path: Path) -> None:
    with receiver(statuses=[503]) as rec:
        d = _dispatcher(rec.url, tmp_path, batch_size=2)
        for n in range(1, 8):  # queued before the thread runs: batches of 2
            d.submit([(n, _event(n))])
        d.start()
        try:
            deadline = time.monotonic() + 10
            while d.stats().delivered < 7 and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            d.close()
    ids = [e["id"] for r in rec.accepted() for e in json.loads(r.body)["events"]]
    assert ids == [1, 2, 3, 4, 5, 6, 7]
    assert [len(json.loads(r.body)["events"]) for r in rec.accepted()] == [2, 2, 2, 1]
    assert all(verify_signature(SECRET, r.headers, r.body) for r in rec.requests)


def test_a_twin_named_in_cyrillic_still_sends_ascii_headers(tmp_path: Path) -> None:
    with receiver() as rec:
        d = _dispatcher(rec.url, tmp_path)
        d = WebhookDispatcher(
            d.config, SECRET.encode(), event_data, DeadLetterLog(tmp_path / "dl"), twin="фидер 7"
        )
        d.start()
        try:
            d.submit([(5, _event(5))])
            (got,) = rec.wait_for(1)
        finally:
            d.close()
    assert got.headers["webhook-id"] == "7.alarms.5-5"
    assert json.loads(got.body)["twin"] == "фидер 7"
    assert verify_signature(SECRET, got.headers, got.body)


def test_filters_on_priority_and_kind(tmp_path: Path) -> None:
    with receiver() as rec:
        d = _dispatcher(rec.url, tmp_path, priorities=["critical"], kinds=["activated"])
        d.start()
        try:
            d.submit([(1, _event(1, "high")), (2, _event(2, "critical", "cleared"))])
            d.submit([(3, _event(3, "critical"))])
            rec.wait_for(1)
            _wait_idle(d)
        finally:
            d.close()
    ids = [e["id"] for r in rec.accepted() for e in json.loads(r.body)["events"]]
    assert ids == [3]


def test_what_is_left_at_shutdown_goes_to_the_dead_letter_file(tmp_path: Path) -> None:
    d = _dispatcher("http://127.0.0.1:9/never", tmp_path)  # never started
    d.submit([(1, _event(1)), (2, _event(2))])
    assert d.stats().queue_length == 2
    d.close()
    (line,) = _dead_letters(tmp_path)
    assert line["error"] == "the service stopped before delivery"
    assert [e["id"] for e in line["events"]] == [1, 2]  # type: ignore[index, union-attr]
    assert d.stats().failed == 2


def _signed(body: bytes, secret: str = SECRET, at: int | None = None) -> Received:
    stamp = int(time.time()) if at is None else at
    headers = {
        "webhook-id": "feeder-7.alarms.1-1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, "feeder-7.alarms.1-1", stamp, body),
    }
    return Received(headers, body, 200, 0.0)


def test_a_tampered_body_or_a_wrong_secret_fails_verification() -> None:
    body = b'{"type":"alarm.events","events":[{"id":1}]}'
    good = _signed(body)
    assert verify_signature(SECRET, good.headers, body)
    assert verify_signature(SECRET.encode(), good.headers, body)
    assert not verify_signature(SECRET, good.headers, body.replace(b'"id":1', b'"id":2'))
    assert not verify_signature(SECRET + "x", good.headers, body)
    changed_id = {**good.headers, "webhook-id": "feeder-7.alarms.2-2"}
    assert not verify_signature(SECRET, changed_id, body)
    old = _signed(body, at=int(time.time()) - 3600)  # a replayed request
    assert not verify_signature(SECRET, old.headers, body)
    assert verify_signature(SECRET, old.headers, body, tolerance_s=7200)
    assert not verify_signature(SECRET, {}, body)
    # several signatures (a rotated key): one that matches is enough
    both = {**good.headers, "webhook-signature": "v1,AAAA " + good.headers["webhook-signature"]}
    assert verify_signature(SECRET, both, body)
    # the Standard Webhooks secret form: whsec_ + base64 of the key
    key_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signed = _signed(body, key_secret)
    assert verify_signature(key_secret, signed.headers, body)
    assert not verify_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", signed.headers, body)


def test_webhook_configuration_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "twin.yaml"
    path.write_text(
        "network: {simbench: x}\nwebhooks:\n  - {url: ftp://h/x, secret_env: S}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_twin_config(path)
    assert "webhooks.0.url" in str(err.value)
    assert "http:// or https://" in str(err.value)
    path.write_text(
        "network: {simbench: x}\nwebhooks:\n"
        "  - url: https://scada.example/hooks/alarms\n"
        "    secret_env: GRIDTWIN_WEBHOOK_SECRET\n"
        "    priorities: [critical, high]\n",
        encoding="utf-8",
    )
    (hook,) = load_twin_config(path).webhooks
    assert hook.priorities == ["critical", "high"]
    with pytest.raises(InputError) as err:
        resolve_secret(hook, 0, {})
    assert "webhooks[0].secret_env" in str(err.value)
    assert "GRIDTWIN_WEBHOOK_SECRET is not set" in str(err.value)
    with pytest.raises(InputError, match="has 5 bytes; use at least 16"):
        resolve_secret(hook, 0, {"GRIDTWIN_WEBHOOK_SECRET": "short"})


def test_a_missing_secret_stops_the_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRIDTWIN_TEST_HOOK_SECRET", raising=False)
    settings = ServiceSettings(store=make_store(tmp_path))
    hook = WebhookConfig(url="http://127.0.0.1:9/x", secret_env="GRIDTWIN_TEST_HOOK_SECRET")
    config = TwinConfig(network=NetworkSource(simbench=TWIN_CODE), webhooks=[hook])
    t0 = time.monotonic()
    with (
        pytest.raises(InputError, match=r"webhooks\[0\]\.secret_env: .*GRIDTWIN_TEST_HOOK_SECRET"),
        running(settings, lifespans=[twin_extension(config)]),
    ):
        pass
    assert time.monotonic() - t0 < 5  # before the grid is loaded
