"""``gridtwin eligibility check|rate-change|rebill|disconnection``: Slovak rate rules.

The rules of ÚRSO supply decisions such as 0210/2017/E that a supplier applies when a
customer takes, changes or loses a rate. Every refusal names the tariff and the rule.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from gridtwin.cli._common import check_choice, console, frame_text, run
from gridtwin.errors import EligibilityError, InputError

__all__ = ["app"]

app = typer.Typer(
    help="Slovak supply-rate rules (ÚRSO 0210/2017/E): eligibility, rate changes, "
    "re-billing, the fee during a disconnection.",
    no_args_is_help=True,
)

_CLASSES = ("household", "small_business", "non_household")


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"{option} {text!r}: write a date as YYYY-MM-DD"
        raise InputError(msg) from None


def _period(text: str) -> tuple[dt.date, dt.date]:
    start, sep, end = text.partition(":")
    if not sep:
        msg = f"--period {text!r}: write it as YYYY-MM-DD:YYYY-MM-DD (end exclusive)"
        raise InputError(msg)
    return _date(start, "--period"), _date(end, "--period")


def _pod_kwh(items: list[str]) -> dict[str, float | None] | None:
    if not items:
        return None
    out: dict[str, float | None] = {}
    for item in items:
        pod, sep, value = item.partition("=")
        if not sep or not pod:
            msg = f"--pod-kwh {item!r}: write it as POD=KWH (or POD=unknown)"
            raise InputError(msg)
        if value.strip().lower() == "unknown":
            out[pod] = None
            continue
        try:
            out[pod] = float(value)
        except ValueError:
            msg = f"--pod-kwh {item!r}: {value!r} is not a number of kWh (or 'unknown')"
            raise InputError(msg) from None
    return out


def _props(items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            msg = f"--prop {item!r}: write it as name=value (e.g. include_vat=false)"
            raise InputError(msg)
        low = value.lower()
        out[key] = low == "true" if low in ("true", "false") else value
    return out


@app.command("check")
def check_cmd(
    tariff: Annotated[
        str, typer.Argument(help="Supply tariff id or file, e.g. sk-urso-0210-2017-dd2.")
    ],
    customer_class: Annotated[
        str, typer.Option("--class", help="household, small_business or non_household.")
    ],
    distribution_rate: Annotated[
        str, typer.Option("--distribution-rate", help="The DSO's rate of the point, e.g. D2.")
    ],
    voltage_level: Annotated[
        str | None, typer.Option("--voltage-level", help="LV (up to 1 kV), MV, HV or EHV.")
    ] = None,
    pod_kwh: Annotated[
        list[str] | None,
        typer.Option(
            "--pod-kwh", help="kWh of a point of delivery in year t-2: POD=KWH; repeatable."
        ),
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="The year t.")] = None,
    group_offtake: Annotated[
        bool, typer.Option("--group-offtake", help="One point and meter for several households.")
    ] = False,
    business_use: Annotated[
        bool, typer.Option("--business-use", help="Business is done at this household point.")
    ] = False,
    separately_metered: Annotated[
        bool, typer.Option("--separately-metered", help="The business use has its own meter.")
    ] = False,
    common_parts: Annotated[
        bool, typer.Option("--common-parts", help="Common parts of an apartment block.")
    ] = False,
    households_only: Annotated[
        bool,
        typer.Option("--households-only", help="The manager proved they serve households only."),
    ] = False,
) -> None:
    """May this customer take this supply rate? Exit 2 with the reason if not."""

    def body() -> None:
        from gridtwin.workflows.eligibility import CustomerCase, check_customer

        check_choice(customer_class, "--class", _CLASSES)
        case = CustomerCase(
            customer_class=customer_class,
            distribution_rate=distribution_rate,
            voltage_level=voltage_level,
            pod_kwh_t_minus_2=_pod_kwh(pod_kwh or []),
            year=year,
            group_offtake=group_offtake,
            business_use=business_use,
            separately_metered=separately_metered,
            common_parts=common_parts,
            households_only_proven=households_only,
        )
        passed = check_customer(tariff, case)
        con = console()
        con.print(f"eligible: {tariff}", highlight=False)
        for line in passed:
            con.print(f"  - {line}", highlight=False)

    run(body)


@app.command("rate-change")
def rate_change_cmd(
    tariff: Annotated[str, typer.Argument(help="The supply tariff whose rules apply.")],
    requested: Annotated[str, typer.Option("--from", help="Date the new rate should apply.")],
    last_change: Annotated[
        list[str] | None,
        typer.Option("--changed", help="Date an earlier rate applied from; repeatable."),
    ] = None,
    request_date: Annotated[
        str | None, typer.Option("--request-date", help="Date of the request (default today).")
    ] = None,
    conditions_changed: Annotated[
        bool,
        typer.Option("--conditions-changed", help="The consumption conditions changed."),
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="What changed, e.g. seasonal_appliance_use.")
    ] = None,
) -> None:
    """Check a request to change the rate of a point of delivery (ÚRSO 0210/2017/E I.11)."""

    def body() -> None:
        from gridtwin.billing import check_rate_change, eligibility_rules
        from gridtwin.workflows.tariffs import load_tariff

        t = load_tariff(tariff)
        try:
            result = check_rate_change(
                [_date(d, "--changed") for d in last_change or []],
                _date(requested, "--from"),
                consumption_conditions_changed=conditions_changed,
                reason=reason,
                request_date=_date(request_date, "--request-date") if request_date else None,
                rules=eligibility_rules(t).rate_change,
            )
        except EligibilityError as exc:
            msg = f"tariff {t.id}: {exc}"
            raise EligibilityError(msg) from exc
        approval = (
            " (early: the supplier and the DSO must approve it)" if result.needs_approval else ""
        )
        console().print(
            f"{t.id}: the change may apply from {result.effective_date}{approval}",
            highlight=False,
        )

    run(body)


@app.command("rebill")
def rebill_cmd(
    billed: Annotated[str, typer.Option("--billed", help="The rate wrongly assigned.")],
    correct: Annotated[str, typer.Option("--correct", help="The rate the customer qualifies for.")],
    data: Annotated[Path, typer.Option("--data", help="Interval data (CSV/Parquet).")],
    period: Annotated[
        list[str] | None, typer.Option("--period", help="Period START:END; repeatable.")
    ] = None,
    billed_prop: Annotated[
        list[str] | None, typer.Option("--billed-prop", help="Property for --billed, name=value.")
    ] = None,
    correct_prop: Annotated[
        list[str] | None,
        typer.Option("--correct-prop", help="Property for --correct, name=value."),
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of naive timestamps.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """Re-bill consumption after a wrongly assigned rate (ÚRSO 0210/2017/E I.13, B.3)."""

    def body() -> None:
        from gridtwin.cli._render import frame_table
        from gridtwin.workflows.eligibility import rebill_wrong_rate

        check_choice(fmt, "--format", ("table", "json", "csv"))
        frame = rebill_wrong_rate(
            billed,
            correct,
            data,
            periods=[_period(p) for p in period or []] or None,
            billed_customer=_props(billed_prop or []),
            correct_customer=_props(correct_prop or []),
            timezone=timezone,
        )
        if fmt == "table":
            console().print(frame_table(frame, f"re-billing {billed} -> {correct}"))
        else:
            sys.stdout.write(frame_text(frame, fmt))

    run(body)


@app.command("disconnection")
def disconnection_cmd(
    tariff: Annotated[str, typer.Argument(help="The supply tariff.")],
    period: Annotated[str, typer.Option("--period", help="Billing period START:END.")],
    disconnected_from: Annotated[
        str, typer.Option("--disconnected-from", help="First day without supply.")
    ],
    contract_end: Annotated[
        str | None, typer.Option("--contract-end", help="Day the contract ended, if it did.")
    ] = None,
    prop: Annotated[list[str] | None, typer.Option("--prop", help="Property name=value.")] = None,
) -> None:
    """The monthly fee of a point disconnected for non-payment (ÚRSO 0210/2017/E I.15)."""

    def body() -> None:
        from gridtwin.cli._render import bill_panel
        from gridtwin.workflows.eligibility import disconnection_fee

        fee, b = disconnection_fee(
            tariff,
            _period(period),
            _date(disconnected_from, "--disconnected-from"),
            _date(contract_end, "--contract-end") if contract_end else None,
            _props(prop or []),
        )
        con = console()
        con.print(f"{fee.reason}: fee from {fee.start} to {fee.end} (end exclusive)")
        con.print(bill_panel(b))

    run(body)
