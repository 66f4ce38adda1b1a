"""The service's settings: one typed object, read from ``GRIDTWIN_*`` variables or built.

``pydantic-settings`` is not a dependency of gridtwin, so :meth:`ServiceSettings.from_env`
reads the environment itself: each field ``name`` comes from ``GRIDTWIN_<NAME>``
(``GRIDTWIN_STORE``, ``GRIDTWIN_PORT``, ...); a value that does not validate is an
:class:`~gridtwin.errors.InputError` naming the variable. Tests and the CLI build the
object directly (``ServiceSettings(store=...)``) and pass it to
:func:`gridtwin.service.app.create_app`: nothing is read at import.

Secrets are :class:`pydantic.SecretStr` without defaults: they print as ``**********``
and never reach a response or a log line.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from gridtwin.errors import InputError

__all__ = ["ACCOUNTS_FILE", "DEMO_HOST", "ENV_PREFIX", "ServiceSettings", "demo_settings"]

ENV_PREFIX = "GRIDTWIN_"
#: The accounts database inside an embedded store's data directory.
ACCOUNTS_FILE = "gridtwin-accounts.sqlite"
#: The only address a demo service may bind: its users and passwords are known.
DEMO_HOST = "127.0.0.1"


class ServiceSettings(BaseModel):
    """Everything the service needs to start (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store: str = Field(
        min_length=1,
        description="The measurement store: a data directory or a postgresql:// URL "
        "(GRIDTWIN_STORE, as for `gridtwin store`).",
    )
    accounts_file: Path | None = Field(
        default=None,
        description="The SQLite file of users, API tokens and the audit log; default "
        f"<store>/{ACCOUNTS_FILE}. Required when the store is a postgresql:// URL.",
    )
    host: str = Field(default="127.0.0.1", description="Address to bind (`gridtwin serve`).")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port to bind.")
    demo: bool = Field(
        default=False,
        description="Demo mode: creates the store if missing and fixed demo users "
        "(viewer, operator, analyst, admin); binds 127.0.0.1 only.",
    )
    demo_password: SecretStr | None = Field(
        default=None,
        description="Password of the demo users; when absent each gets a random one, "
        "printed once at start.",
    )
    token_lifetime_s: int = Field(
        default=12 * 3600,
        ge=60,
        le=30 * 86400,
        description="Lifetime [s] of an API token issued at login (at most 30 days).",
    )
    max_query_points: int = Field(
        default=100_000,
        ge=10,
        le=10_000_000,
        description="A time-series query may return at most this many values: "
        "span / step <= max_query_points.",
    )
    raw_step_s: float = Field(
        default=1.0,
        gt=0,
        le=86400,
        description="The step [s] assumed for raw (not resampled) values when bounding a "
        "query: raw queries may span max_query_points * raw_step_s.",
    )
    max_export_span_s: int = Field(
        default=31 * 86400,
        ge=3600,
        description="The longest time span [s] one export may cover.",
    )
    max_ingest_items: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Values per POST /measurements at most.",
    )
    max_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="The largest request body [bytes] (413 above).",
    )
    ingest_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="How long [s] POST /measurements waits for its values to be durable.",
    )
    worker_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Threads for store calls off the event loop (the store serialises "
        "its own writes).",
    )
    ingest_threads: int = Field(
        default=32,
        ge=1,
        le=256,
        description="Threads for POST /measurements: requests arriving together share one "
        "durable write (a group commit), waiting for it in these threads.",
    )

    store_threads: int = Field(
        default=1,
        ge=1,
        le=256,
        description="DuckDB's worker threads for the embedded store while serving: the "
        "API's many small queries and writes cost less without parallel work (on 2 cores "
        "a ten-value write takes 4 ms of CPU on one thread, 8 on two).",
    )
    switch_interval_ms: float = Field(
        default=1.0,
        ge=0.1,
        le=100.0,
        description="Python's thread switch interval while the service runs [ms]: the "
        "event loop waits at most this long for a worker thread to let go of the "
        "interpreter (Python's default is 5 ms, which each request can meet several "
        "times).",
    )

    @model_validator(mode="after")
    def _check(self) -> ServiceSettings:
        if self.demo and self.host != DEMO_HOST:
            msg = (
                f"demo mode binds only {DEMO_HOST} (its users and passwords are known); "
                f"got host {self.host!r}"
            )
            raise ValueError(msg)
        if self.accounts_file is None and self.store.startswith(("postgresql://", "postgres://")):
            msg = (
                "accounts_file (GRIDTWIN_ACCOUNTS_FILE) is required when the store is a "
                "PostgreSQL URL"
            )
            raise ValueError(msg)
        return self

    @property
    def accounts_path(self) -> Path:
        """Where the accounts database lives."""
        if self.accounts_file is not None:
            return self.accounts_file
        return Path(self.store).expanduser() / ACCOUNTS_FILE

    @classmethod
    def build(cls, **values: Any) -> ServiceSettings:
        """Validate ``values``; a bad one is an InputError naming the field."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise InputError(_problems(exc, prefix="")) from None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> ServiceSettings:
        """Settings from ``GRIDTWIN_*`` variables, then ``overrides`` (None values are
        ignored, so CLI flags left unset keep the environment's value)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if env.get(key, "") != "":
                values[name] = env[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise InputError(_problems(exc, prefix=ENV_PREFIX, given=set(overrides))) from None


def _problems(exc: ValidationError, prefix: str, given: set[str] | None = None) -> str:
    out = []
    for err in exc.errors(include_input=False):
        field = str(err["loc"][0]) if err["loc"] else ""
        if prefix and field and field not in (given or set()):
            where = prefix + field.upper()
        else:
            where = field or "settings"
        out.append(f"{where}: {err['msg']}")
    return "service settings: " + "; ".join(out)


def demo_settings(store: str | None = None, **overrides: Any) -> ServiceSettings:
    """Settings of a demo service: ``store`` (default: a ``gridtwin-demo`` directory in
    the system's temporary directory, created if missing), 127.0.0.1, demo users. A host
    given in ``overrides`` other than 127.0.0.1 is refused."""
    location = store or str(Path(tempfile.gettempdir()) / "gridtwin-demo")
    given = {k: v for k, v in overrides.items() if v is not None}
    values = {"host": DEMO_HOST, **given, "store": location, "demo": True}
    return ServiceSettings.from_env(**values)
