"""Fixtures of the store tests (temporary: the integrator merges this with the ``store``
fixture parametrised over the backends)."""

from __future__ import annotations

from tests.store.pg_server import pg_server, pg_url

__all__ = ["pg_server", "pg_url"]
