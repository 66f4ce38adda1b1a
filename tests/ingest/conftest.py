"""Fixtures of the ingest tests: a real Mosquitto broker (``tests/ingest/mosquitto.py``)."""

from __future__ import annotations

from tests.ingest.mosquitto import mosquitto_broker, publisher, topic_ns

__all__ = ["mosquitto_broker", "publisher", "topic_ns"]
