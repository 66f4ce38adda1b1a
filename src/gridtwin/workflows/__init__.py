"""Workflows: the one place that knows the order of steps of each job.

Each workflow takes typed inputs, calls the domain packages (:mod:`gridtwin.network`,
:mod:`gridtwin.quality`, :mod:`gridtwin.billing`, ...) in order and returns a typed result;
the command line and the service are thin calls of these.
"""

from __future__ import annotations

from gridtwin.workflows.deviations import potential_deviations

__all__ = ["potential_deviations"]
