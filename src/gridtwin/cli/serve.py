"""``gridtwin serve``: the service (FastAPI under uvicorn) over a measurement store.

Binds 127.0.0.1:8000 by default. Settings come from ``GRIDTWIN_*`` variables
(:class:`gridtwin.service.settings.ServiceSettings`) and the flags here win. ``--demo``
runs the demo twin (SimBench's semi-urban LV feeder, its profiles replayed as telemetry
at 900x) in a fresh temporary store unless ``--store`` names one, with demo users whose
passwords are printed once, on 127.0.0.1 only. ``gridtwin serve TWIN.yaml`` runs the twin
that file describes (``gridtwin.service.twin``).

Registered by ``gridtwin.cli`` as ``serve.register(app)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridtwin.cli._common import console, run
from gridtwin.errors import InputError

__all__ = ["register", "serve_cmd"]


def serve_cmd(
    config: Annotated[
        Path | None,
        typer.Argument(help="Twin configuration (YAML): network, standard, alarm rules, replay."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store", envvar="GRIDTWIN_STORE", help="Data directory or postgresql:// URL."
        ),
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to bind (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="TCP port (8000).")] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="A live twin of a SimBench LV feeder on replayed telemetry, in a fresh "
            "temporary store, with demo users; 127.0.0.1 only.",
        ),
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")] = "info",
    status_every: Annotated[
        float,
        typer.Option(
            "--status-every",
            help="Print a line of the twin's state every this many seconds (0: never).",
        ),
    ] = 10.0,
) -> None:
    """Serve the REST API, and the live twin of CONFIG (or the demo's)."""

    def body() -> None:
        import tempfile

        import uvicorn

        from gridtwin.service._status import status_extension
        from gridtwin.service.app import create_app
        from gridtwin.service.settings import ServiceSettings, demo_settings
        from gridtwin.service.twin import demo_twin_config, load_twin_config, twin_extension

        twin = load_twin_config(config) if config is not None else None
        if demo:
            location = store or tempfile.mkdtemp(prefix="gridtwin-demo-")
            settings = demo_settings(location, host=host, port=port)
            twin = twin or demo_twin_config()
        else:
            settings = ServiceSettings.from_env(store=store, host=host, port=port)
        if not 0 <= status_every <= 86_400:
            msg = f"--status-every {status_every:g}: use 0 (never) to 86400 seconds"
            raise InputError(msg)
        lifespans = [] if twin is None else [twin_extension(twin)]
        if twin is not None and status_every > 0:
            lifespans.append(status_extension(status_every))
        console().print(
            f"gridtwin: serving http://{settings.host}:{settings.port}/api/v1 "
            f"(store {settings.store}{', twin ' + twin.name if twin else ''}); "
            f"console http://{settings.host}:{settings.port}/",
            highlight=False,
        )
        uvicorn.run(
            create_app(settings, lifespans=lifespans),
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            proxy_headers=False,
        )

    run(body)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the top-level command."""
    app.command("serve")(serve_cmd)
