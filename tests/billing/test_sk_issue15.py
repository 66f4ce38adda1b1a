"""Slovakia (issue 15, seed 004): ``gridtwin eligibility``, the decision's other rules, and
the items its prices exclude (priced as optional components or stated as not included)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridtwin.billing import bill, bill_for
from gridtwin.billing._sk_rules import common_parts_class, disconnection_fee_period
from gridtwin.cli import app
from gridtwin.errors import InputError
from gridtwin.ingest import write_intervals
from gridtwin.tariffs import get_tariff
from tests.billing.util import flat_data

runner = CliRunner()
DD2 = "sk-urso-0210-2017-dd2"
DMP2 = "sk-urso-0210-2017-dmp2"
D = dt.date


def _check(*args: str) -> tuple[int, str, str]:
    out = runner.invoke(app, ["eligibility", "check", *args])
    return out.exit_code, out.stdout, out.stderr


def test_eligible_customers_pass() -> None:
    code, stdout, _ = _check(DD2, "--class", "household", "--distribution-rate", "d2")
    assert code == 0
    assert f"eligible: {DD2}" in stdout
    code, stdout, _ = _check(
        DMP2,
        "--class",
        "small_business",
        "--distribution-rate",
        "C2",
        "--voltage-level",
        "LV",
        "--pod-kwh",
        "a=18000",
        "--pod-kwh",
        "b=12000",
    )
    assert code == 0, stdout
    assert "small-business test" in stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            (DD2, "--class", "household", "--distribution-rate", "D3"),
            "requires distribution rate D1 or D2",
        ),
        (
            (DD2, "--class", "small_business", "--distribution-rate", "D2"),
            "is for household customers",
        ),
        (
            (
                DMP2,
                "--class",
                "small_business",
                "--distribution-rate",
                "C2",
                "--voltage-level",
                "LV",
                "--pod-kwh",
                "a=30001",
            ),
            "not a small business",
        ),
        (
            (
                DMP2,
                "--class",
                "small_business",
                "--distribution-rate",
                "C2",
                "--voltage-level",
                "LV",
                "--pod-kwh",
                "a=unknown",
            ),
            "must prove it",
        ),
        (
            (
                DMP2,
                "--class",
                "small_business",
                "--distribution-rate",
                "C2",
                "--voltage-level",
                "LV",
            ),
            "--pod-kwh",
        ),
        (
            (DMP2, "--class", "small_business", "--distribution-rate", "C2", "--pod-kwh", "a=1"),
            "--voltage-level",
        ),
        (
            (
                DMP2,
                "--class",
                "small_business",
                "--distribution-rate",
                "C2",
                "--voltage-level",
                "LV",
                "--pod-kwh",
                "a=1",
                "--group-offtake",
            ),
            "only DD1 or DD2",
        ),
        (
            (DD2, "--class", "household", "--distribution-rate", "D2", "--business-use"),
            "metered separately",
        ),
        (
            (DD2, "--class", "non_household", "--distribution-rate", "D2", "--common-parts"),
            "non_household",
        ),
    ],
)
def test_refusals_name_the_tariff_and_the_rule(args: tuple[str, ...], expected: str) -> None:
    code, stdout, stderr = _check(*args)
    assert code == 2
    assert expected in stderr
    assert f"tariff {args[0]}" in stderr or "--" in expected
    assert stdout == ""


def test_group_offtake_and_common_parts_of_a_block() -> None:
    code, stdout, _ = _check(
        DD2, "--class", "household", "--distribution-rate", "D1", "--group-offtake"
    )
    assert code == 0
    assert "group offtake" in stdout
    code, stdout, _ = _check(
        DD2,
        "--class",
        "non_household",
        "--distribution-rate",
        "D2",
        "--common-parts",
        "--households-only",
    )
    assert code == 0, stdout
    assert "supplied as household" in stdout
    assert common_parts_class(households_only_proven=False) == "non_household"
    code, _, _ = _check(
        DD2,
        "--class",
        "household",
        "--distribution-rate",
        "D2",
        "--business-use",
        "--separately-metered",
    )
    assert code == 0


def test_rate_change_from_the_command_line() -> None:
    base = [
        "eligibility",
        "rate-change",
        DD2,
        "--changed",
        "2019-03-15",
        "--request-date",
        "2019-08-01",
    ]
    ok = runner.invoke(app, [*base, "--from", "2020-03-15"])
    assert ok.exit_code == 0, ok.output
    assert "may apply from 2020-03-15" in ok.stdout
    early = runner.invoke(
        app, [*base, "--from", "2019-09-01", "--conditions-changed", "--reason", "heat_pump"]
    )
    assert early.exit_code == 0
    assert "must approve" in early.stdout
    seasonal = runner.invoke(
        app,
        [
            *base,
            "--from",
            "2019-09-01",
            "--conditions-changed",
            "--reason",
            "seasonal_appliance_use",
        ],
    )
    assert seasonal.exit_code == 2
    assert "not a change of consumption conditions" in seasonal.stderr


def _march_2019(tmp_path: Path) -> tuple[Path, float]:
    data = flat_data("2019-03-01", "2019-04-01", 0.1)
    path = tmp_path / "sk.csv"
    write_intervals(data, path)
    return path, float(data.energy_kwh.sum())


def test_rebilling_after_a_wrongly_assigned_rate(tmp_path: Path) -> None:
    # A household wrongly on the small-business rate DMP2, re-billed at DD2 (I.13).
    path, kwh = _march_2019(tmp_path)
    out = runner.invoke(
        app,
        [
            "eligibility",
            "rebill",
            "--billed",
            DMP2,
            "--correct",
            DD2,
            "--data",
            str(path),
            "--period",
            "2019-03-01:2019-04-01",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.stdout)
    # same monthly fee; energy price 44.6856 vs 41.5221 EUR/MWh; excise 1.32 EUR/MWh for
    # the small business only; VAT 20 % on all of it
    by_hand = -(44.6856 - 41.5221 + 1.32) * kwh / 1000.0 * 1.2
    assert row["rebilled_amount"] == pytest.approx(by_hand, abs=0.03)
    assert row["correct_total"] < row["billed_total"]


def test_fee_during_disconnection() -> None:
    keeps = disconnection_fee_period((D(2019, 3, 1), D(2019, 4, 1)), D(2019, 3, 10))
    assert (keeps.start, keeps.end) == (D(2019, 3, 1), D(2019, 4, 1))
    assert "I.15 a" in keeps.reason
    ends = disconnection_fee_period((D(2019, 3, 1), D(2019, 4, 1)), D(2019, 3, 10), D(2019, 3, 20))
    assert ends.end == D(2019, 3, 20)
    with pytest.raises(InputError, match="before --disconnected-from"):
        disconnection_fee_period((D(2019, 3, 1), D(2019, 4, 1)), D(2019, 3, 10), D(2019, 3, 5))
    out = runner.invoke(
        app,
        [
            "eligibility",
            "disconnection",
            DD2,
            "--period",
            "2019-03-01:2019-04-01",
            "--disconnected-from",
            "2019-03-10",
            "--contract-end",
            "2019-03-20",
        ],
    )
    assert out.exit_code == 0, out.output
    fee = round(0.65 * 12 / 365 * 19, 2)  # 19 started days, 1/365 of twelve monthly fees
    assert f"{fee:.2f}" in out.stdout
    assert f"{round(fee * 1.2, 2):.2f}" in out.stdout  # with 20 % VAT


def test_excluded_items_are_priced_or_stated() -> None:
    data = flat_data("2019-03-01", "2019-04-01", 0.1)
    kwh = float(data.energy_kwh.sum())
    t = get_tariff(DD2)
    plain = bill_for(bill(t, data, periods=[(D(2019, 3, 1), D(2019, 4, 1))]), 0, 0)
    stated = " ".join(plain.notes)
    for item in ("Distribúcia", "(TSS)", "(TPS)", "Spotrebná daň"):
        assert f"Not included: {item}" in stated or item in stated
    assert "Not included: Odvod" not in stated  # the NJF levy is priced
    priced = bill_for(
        bill(
            t,
            data,
            periods=[(D(2019, 3, 1), D(2019, 4, 1))],
            customers={"include_system_tariffs": True},
        ),
        0,
        0,
    )
    lines = {ln.component_id: ln for ln in priced.lines}
    assert float(lines["tss"].amount) == pytest.approx(5.9434 * kwh / 1000, abs=0.005)
    assert float(lines["tps"].amount) == pytest.approx(25.988 * kwh / 1000, abs=0.005)
    assert not any("(TSS)" in n for n in priced.notes)
    assert any("Distribúcia" in n for n in priced.notes)


def test_tps_of_2018_is_stated_not_priced() -> None:
    data = flat_data("2018-03-01", "2018-04-01", 0.1)
    b = bill_for(
        bill(
            get_tariff(DD2),
            data,
            periods=[(D(2018, 3, 1), D(2018, 4, 1))],
            customers={"include_system_tariffs": True},
        ),
        0,
        0,
    )
    assert {ln.component_id for ln in b.lines} >= {"tss"}
    assert "tps" not in {ln.component_id for ln in b.lines}
    assert any("Not included: Tarifa za prevádzkovanie systému" in n for n in b.notes)
