"""Pumping-station norms workflow (seed 002): input files in, the norms and a report out.

:class:`NormsCalculation` reads one input file per territorial unit and runs the method of
:mod:`gridtwin.heatnet` in its order: the stations' energy characteristics, the past year
(actual and normative use, the comparison with metered use), the coming year (the task
and the normative), the sums over territorial units (cl. 4.4) when there are several
units, and the HTML report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gridtwin.errors import InputError
from gridtwin.heatnet.method import (
    ComingYearResult,
    PastYearResult,
    TerritorialTotals,
    coming_year,
    past_year,
    territorial_totals,
)
from gridtwin.heatnet.report import characteristic_frame, html_report
from gridtwin.heatnet.schema import NormsInput, load_input

__all__ = ["ComingYearNorms", "NormsCalculation", "PastYearNorms"]


@dataclass(frozen=True)
class PastYearNorms:
    """Past-year results per territorial unit, and their sums when there are several."""

    results: tuple[PastYearResult, ...]
    totals: TerritorialTotals | None


@dataclass(frozen=True)
class ComingYearNorms:
    """Coming-year results per territorial unit (with the past year they build on, if
    given), and their sums when there are several."""

    results: tuple[tuple[PastYearResult | None, ComingYearResult], ...]
    totals: TerritorialTotals | None


@dataclass(frozen=True)
class NormsCalculation:
    """The norms of the territorial units described by ``files`` (.yaml or .toml, one
    unit each; or inputs already validated, e.g. by the REST API with
    :func:`gridtwin.heatnet.schema.input_from_dict`)."""

    files: Sequence[Path | NormsInput]

    def inputs(self) -> list[NormsInput]:
        """The validated inputs; two files of the same territorial unit are refused."""
        if not self.files:
            msg = "give at least one norms input file"
            raise InputError(msg)
        inputs = [f if isinstance(f, NormsInput) else load_input(f) for f in self.files]
        names = [i.name for i in inputs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if len(inputs) > 1 and dupes:
            msg = (
                f"territorial unit(s) {', '.join(dupes)} appear in more than one file; give "
                f"each file its own territorial_unit"
            )
            raise InputError(msg)
        return inputs

    def past_year(self) -> PastYearNorms:
        """Эр, ΣЭн, Gф, Эном, Кр and the comparison with metered use, per unit."""
        results = tuple(past_year(inp) for inp in self.inputs())
        totals = (
            territorial_totals([(r.territorial_unit, r, None) for r in results])
            if len(results) > 1
            else None
        )
        return PastYearNorms(results, totals)

    def coming_year(self) -> ComingYearNorms:
        """The task ε, Nпр and the normative Эн,пр per station and unit."""
        pairs: list[tuple[PastYearResult | None, ComingYearResult]] = []
        for inp in self.inputs():
            past = past_year(inp) if inp.past_year is not None else None
            pairs.append((past, coming_year(inp, past)))
        totals = (
            territorial_totals([(c.territorial_unit, p, c) for p, c in pairs])
            if len(pairs) > 1
            else None
        )
        return ComingYearNorms(tuple(pairs), totals)

    def characteristic(
        self, station: str | None = None, season: str | None = None, points: int = 21
    ) -> tuple[str, pd.DataFrame]:
        """The first unit's title and its stations' N(G) (pump units, without Kсн) at
        ``points`` spread flows per regime."""
        inp = self.inputs()[0]
        return inp.title, characteristic_frame(inp.build_stations(), station, season, points)

    def report_html(self) -> str:
        """The first unit's HTML report: tables, findings and each station's N(G) with its
        operating points."""
        inp = self.inputs()[0]
        stations = inp.build_stations()
        past = past_year(inp, stations) if inp.past_year is not None else None
        coming = coming_year(inp, past, stations) if inp.coming_year is not None else None
        return html_report(inp, stations, past, coming)
