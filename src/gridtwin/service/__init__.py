"""The gridtwin service (an adapter): a FastAPI app over the measurement store and the
twin's workflows, with users, roles, API tokens and an audit log of every write.

==================  ==================================================================
module              what
==================  ==================================================================
``app``             ``create_app(settings) -> FastAPI``: lifespan, middleware, routers
``settings``        ``ServiceSettings`` (``GRIDTWIN_*``), ``demo_settings``
``deps``            ``StateDep``, ``StoreDep``, ``CurrentUser``, ``Viewer`` ... ``Admin``
``errors``          the one table from ``gridtwin.errors`` to HTTP statuses
``auth``            bearer tokens and roles; ``create_admin``, ``issue_token``
``_accounts``       users, roles, tokens and the audit log in SQLite (argon2id hashes)
``_audit``          the middleware recording every write
``_ingest``         ``POST /measurements``: the pipeline's checks, one write, per-request report
``api/<area>``      the routers (see ``api/__init__.py`` for how to add one)
==================  ==================================================================

Import what you need from the modules (``from gridtwin.service.app import create_app``);
this package's ``__init__`` imports nothing, so the CLI can name it cheaply.
"""

from __future__ import annotations
