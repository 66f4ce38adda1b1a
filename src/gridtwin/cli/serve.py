"""``gridtwin serve``: the service (FastAPI under uvicorn) over a measurement store.

Binds 127.0.0.1:8000 by default. Settings come from ``GRIDTWIN_*`` variables
(:class:`gridtwin.service.settings.ServiceSettings`) and the flags here win. ``--demo``
builds demo settings (store in a temporary folder unless ``--store`` names one, demo
users with passwords printed once, 127.0.0.1 only); the integrator hooks the demo's data
into it.

Registered by ``gridtwin.cli`` as ``serve.register(app)``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from gridtwin.cli._common import run

__all__ = ["register", "serve_cmd"]


def serve_cmd(
    store: Annotated[
        str | None,
        typer.Option(
            "--store", envvar="GRIDTWIN_STORE", help="Data directory or postgresql:// URL."
        ),
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to bind (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="TCP port (8000).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Demo users and store; 127.0.0.1 only.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")] = "info",
) -> None:
    """Serve the REST API (see /api/v1/openapi.json with a token)."""

    def body() -> None:
        import uvicorn

        from gridtwin.service.app import create_app
        from gridtwin.service.settings import ServiceSettings, demo_settings

        if demo:
            settings = demo_settings(store, host=host, port=port)
        else:
            settings = ServiceSettings.from_env(store=store, host=host, port=port)
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            proxy_headers=False,
        )

    run(body)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the top-level command."""
    app.command("serve")(serve_cmd)
