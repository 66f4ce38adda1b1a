"""``gridtwin warn``: potential deviations of the next day, with probability, lead time and
checked measures (the day-ahead early warning, :mod:`gridtwin.warning`).

The history is the grid's own profiles (a SimBench grid's year, or a pandapower net with
profiles), optionally scaled (``--load-scale``, a what-if such as electrified homes).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridtwin.cli._common import check_choice, console, print_notes, run, write_text
from gridtwin.errors import InputError

if TYPE_CHECKING:
    from gridtwin.warning import WarningReport

__all__ = ["register"]

METHODS = ("gbm", "weekly_naive", "sf_seasonal_naive", "sf_mstl")


def _table(report: WarningReport) -> None:
    from rich.table import Table

    con = console()
    con.print(
        f"{report.name}: day {report.day} (forecast issued {report.issue_utc:%Y-%m-%d %H:%M}Z, "
        f"{report.method}), threshold P >= {report.threshold:g}: "
        f"{len(report.findings)} potential deviation(s), {report.power_flows} power flows in "
        f"{report.timings_s['total']:.1f} s",
        highlight=False,
    )
    if report.findings:
        t = Table(
            "first (UTC)", "lead h", "element", "rule", "P", "median", "band", "limit", "measure"
        )
        for f in report.findings:
            m = report.measure_for(f)
            t.add_row(
                f"{f.first_utc:%H:%M}",
                f"{f.lead_time_s / 3600:.1f}",
                f.element,
                f.rule_id,
                f"{f.probability:.2f}",
                f"{f.value:.3f}",
                f"{f.band_value:.3f}",
                f"{f.limit:.3f}",
                "-" if m is None else f"{m.description} ({m.cost_eur:g} EUR)",
            )
        con.print(t)
    if report.measures:
        t = Table("rank", "measure", "removed", "left", "new", "max P after", "cost EUR")
        for k, m in enumerate(report.measures, start=1):
            t.add_row(
                str(k),
                m.description,
                str(m.removed),
                str(m.remaining),
                str(m.new),
                f"{m.max_probability:.2f}",
                f"{m.cost_eur:g}",
            )
        con.print(t)


def register(app: typer.Typer) -> None:
    """Add ``warn`` to ``app``."""

    @app.command("warn")
    def warn_cmd(
        simbench: Annotated[
            str | None, typer.Option("--simbench", help="A SimBench code (grid and profiles).")
        ] = None,
        net: Annotated[
            Path | None, typer.Option("--net", help="A pandapower JSON net with profiles.")
        ] = None,
        day: Annotated[
            str | None, typer.Option("--day", help="The local day to warn of (YYYY-MM-DD).")
        ] = None,
        load_scale: Annotated[
            float, typer.Option("--load-scale", help="Multiplies the load history (what-if).")
        ] = 1.0,
        threshold: Annotated[
            float, typer.Option("--threshold", help="Probability from which to report.")
        ] = 0.2,
        method: Annotated[
            str, typer.Option("--method", help="Forecast method (gbm: LightGBM, slow).")
        ] = "sf_seasonal_naive",
        tz: Annotated[str, typer.Option("--tz", help="Local zone of the grid (IANA).")] = "UTC",
        country: Annotated[
            str | None, typer.Option("--country", help="holidays country code.")
        ] = None,
        standard: Annotated[
            str, typer.Option("--standard", help="GOST 32144-2013 or EN 50160:2010.")
        ] = "GOST 32144-2013",
        samples: Annotated[int, typer.Option("--samples", help="Sampled scenarios.")] = 200,
        history_days: Annotated[int, typer.Option("--history-days")] = 56,
        no_measures: Annotated[bool, typer.Option("--no-measures")] = False,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write the report as JSON here.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON to standard output.")] = False,
    ) -> None:
        """Potential deviations of a day (voltage band, loading) with probability, lead
        time and measures checked by power flow."""

        def body() -> None:
            from gridtwin.warning import SamplingSpec, WarningSpec, early_warning
            from gridtwin.workflows.twin import load_network

            check_choice(method, "--method", METHODS)
            check_choice(standard, "--standard", ("GOST 32144-2013", "EN 50160:2010"))
            if day is None:
                msg = "--day: give the local day to warn of (YYYY-MM-DD)"
                raise InputError(msg)
            try:
                the_day = dt.date.fromisoformat(day)
            except ValueError as exc:
                msg = f"--day {day!r}: use YYYY-MM-DD"
                raise InputError(msg) from exc
            model = load_network(simbench_code=simbench, path=net)
            spec = WarningSpec(
                threshold=threshold,
                method=method,
                tz=tz,
                country=country,
                history_days=history_days,
                load_scale=load_scale,
                sampling=SamplingSpec(n_samples=samples),
                measures=not no_measures,
                standard=standard,
            )
            report = early_warning(model, the_day, spec)
            text = json.dumps(report.to_dict(), indent=2, default=str) + "\n"
            if as_json:
                write_text(text, None)
                return
            _table(report)
            print_notes(report.notes)
            if output is not None:
                write_text(text, output)

        run(body)
