"""The ``gridtwin`` command line (typer + rich): one module per command group.

An adapter: each command parses its options, builds the workflow's inputs, calls the
workflow (:mod:`gridtwin.workflows`) and renders the result. The domain and the workflows
are imported inside the command bodies, so ``gridtwin --help`` starts at once.

=================  ==================================================================
module             commands
=================  ==================================================================
``tariffs``        ``tariffs list|show|revision``
``billing``        ``bill``, ``compare``
``network``        ``network info|validate|simulate``
``studies``        ``network check|scenario|contingency|hosting``
``quality``        ``quality assess|events|report``
``norms``          ``norms past-year|coming-year|characteristic|report``
``demo``           ``demo`` (the main job of ``make run``)
``cache``          ``cache info|clear`` (the disk cache of SimBench grids)
``store``          ``store init|info|points|latest|rejects|export`` (measurements)
``ingest``         ``ingest file|greenbutton|replay|mqtt|modbus|iec104`` (telemetry in)
``serve``          ``serve [TWIN.yaml] [--demo]`` (the REST API and the live twin)
``users``          ``users add|list|disable|token`` (the service's accounts)
``forecast``       ``forecast backtest|run`` (probabilistic day-ahead forecasts)
``eligibility``    ``eligibility check|rate-change|rebill|disconnection`` (Slovak rules)
``warn``           ``warn`` (potential deviations of the next day, measures checked)
``protection``     ``network shortcircuit|protection|outage`` (IEC 60909, protection)
``assets``         ``assets rank|trends`` (condition-based maintenance)
=================  ==================================================================
"""

from __future__ import annotations

import typer

from gridtwin.cli import assets as assets_cli
from gridtwin.cli import (
    billing,
    cache,
    demo,
    ingest,
    network,
    norms,
    quality,
    serve,
    store,
    studies,
    tariffs,
    users,
)
from gridtwin.cli import eligibility as eligibility_cli
from gridtwin.cli import forecast as forecast_cli
from gridtwin.cli import protection as protection_cli
from gridtwin.cli import warn as warn_cli

__all__ = ["app", "main"]

app = typer.Typer(
    help="gridtwin: digital twin of electricity distribution and supply.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tariffs.app, name="tariffs")
app.add_typer(network.app, name="network")
app.add_typer(norms.app, name="norms")
app.add_typer(quality.app, name="quality")
app.add_typer(cache.app, name="cache")
app.add_typer(store.app, name="store")
app.add_typer(ingest.app, name="ingest")
app.add_typer(users.app, name="users")
app.add_typer(forecast_cli.app, name="forecast")
billing.register(app)
demo.register(app)
serve.register(app)
studies.register(network.app)
app.add_typer(eligibility_cli.app, name="eligibility")
warn_cli.register(app)
protection_cli.register(network.app)
app.add_typer(assets_cli.app, name="assets")


def main() -> None:
    """Entry point of the ``gridtwin`` script."""
    app()
