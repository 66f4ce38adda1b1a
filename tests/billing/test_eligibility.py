"""Slovak eligibility rules (ÚRSO 0210/2017/E I.11, II.1, III.1, B.1-B.3)."""

from __future__ import annotations

import copy
import datetime as dt
import doctest
import math
from pathlib import Path

import pytest
import yaml

from gridtwin.billing import _eligibility
from gridtwin.billing._eligibility import (
    EligibilityRules,
    RateChangeRule,
    check_distribution_rate,
    check_eligibility,
    check_rate_change,
    eligibility_rules,
    is_small_business,
)
from gridtwin.errors import EligibilityError, InputError, TariffSchemaError
from gridtwin.tariffs import get_tariff, tariff_from_dict

DD2 = "sk-urso-0210-2017-dd2"
DMP2 = "sk-urso-0210-2017-dmp2"
D = dt.date


def _dmp2_raw() -> dict[str, object]:
    path = Path(get_tariff(DMP2).path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_doctests() -> None:
    result = doctest.testmod(_eligibility)
    assert result.attempted >= 2
    assert result.failed == 0


# ------------------------------------------------------------------- small business
@pytest.mark.parametrize(
    ("consumption", "expected"),
    [
        ({"om-1": 30000.0}, True),
        ({"om-1": 30001.0}, False),
        ({"om-1": 30000.5}, False),
        ({"om-1": 0.0}, True),
        ({"om-1": 20000.0, "om-2": 10000.0}, True),  # the sum over all points of delivery
        ({"om-1": 20000.0, "om-2": 10001.0}, False),
        ({"om-1": 15000, "om-2": 15000}, True),
    ],
)
def test_small_business_boundary(consumption: dict[str, float | None], expected: bool) -> None:
    assert is_small_business(consumption) is expected


def test_small_business_limit_is_read_from_the_tariff() -> None:
    rules = eligibility_rules(get_tariff(DMP2))
    assert rules.small_business is not None
    limit = rules.small_business.annual_consumption_limit_kwh
    assert limit == 30000
    assert is_small_business({"om-1": 30000.0}, limit)
    assert not is_small_business({"om-1": 30001.0}, limit)
    raw = _dmp2_raw()
    eligibility = copy.deepcopy(raw["eligibility"])
    assert isinstance(eligibility, dict)
    eligibility["small_business"]["annual_consumption_limit_kwh"] = 20000
    changed = tariff_from_dict({**raw, "eligibility": eligibility}, "changed.yaml")
    with pytest.raises(EligibilityError, match="at most 20,000 kWh"):
        check_eligibility(
            changed,
            customer_class="small_business",
            distribution_rate="C2",
            voltage_level="LV",
            consumption_kwh_by_pod_year_t_minus_2={"om-1": 25000.0},
        )
    check_eligibility(
        get_tariff(DMP2),
        customer_class="small_business",
        distribution_rate="C2",
        voltage_level="LV",
        consumption_kwh_by_pod_year_t_minus_2={"om-1": 25000.0},
    )


def test_unknown_consumption_must_be_proven() -> None:
    with pytest.raises(
        EligibilityError,
        match=r"unknown for point\(s\) of delivery \['om-2'\]"
        r": the customer must prove it",
    ):
        is_small_business({"om-1": 1000.0, "om-2": None})
    with pytest.raises(
        EligibilityError,
        match=r"no consumption known .* in year 2015: the "
        r"customer must prove",
    ):
        is_small_business({}, year=2017)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, "1000", True])
def test_bad_consumption_values(bad: object) -> None:
    with pytest.raises(InputError, match="consumption of point of delivery 'om-1'") as info:
        is_small_business({"om-1": bad})  # type: ignore[dict-item]
    assert not isinstance(info.value, EligibilityError)


def test_bad_limit() -> None:
    with pytest.raises(InputError, match="limit_kwh=0"):
        is_small_business({"om-1": 1.0}, 0)


# --------------------------------------------------------------------- rate changes
def test_first_rate_needs_no_waiting() -> None:
    r = check_rate_change([], D(2019, 5, 1), request_date=D(2019, 4, 20))
    assert (r.last_change, r.earliest_regular_date, r.needs_approval) == (None, None, False)


@pytest.mark.parametrize(
    ("last", "requested", "ok"),
    [
        (D(2020, 3, 15), D(2021, 3, 15), True),  # exactly 12 months later
        (D(2020, 3, 15), D(2021, 3, 14), False),  # one day short
        (D(2020, 1, 31), D(2021, 1, 31), True),
        (D(2020, 1, 31), D(2021, 1, 30), False),
        (D(2020, 2, 29), D(2021, 2, 28), True),  # no 29 February: the month's last day
        (D(2020, 2, 29), D(2021, 2, 27), False),
        (D(2019, 12, 31), D(2020, 12, 31), True),
        (D(2019, 12, 31), D(2020, 12, 30), False),
    ],
)
def test_twelve_month_rule_edges(last: dt.date, requested: dt.date, ok: bool) -> None:
    history = [last - dt.timedelta(days=800), last]
    if ok:
        r = check_rate_change(history, requested, request_date=requested)
        assert r.last_change == last
        assert r.earliest_regular_date == requested
        assert not r.needs_approval
    else:
        with pytest.raises(
            EligibilityError, match=f"last changed on {last}; a new change may apply from"
        ):
            check_rate_change(history, requested, request_date=requested)


def test_history_order_does_not_matter() -> None:
    r = check_rate_change([D(2020, 6, 1), D(2018, 1, 1)], D(2021, 6, 1), request_date=D(2021, 5, 1))
    assert r.last_change == D(2020, 6, 1)


def test_changed_conditions_allow_an_early_change_with_approval() -> None:
    r = check_rate_change(
        [D(2020, 6, 1)],
        D(2020, 9, 1),
        request_date=D(2020, 8, 15),
        consumption_conditions_changed=True,
        reason="heat_pump_installed",
    )
    assert r.needs_approval
    assert r.earliest_regular_date == D(2021, 6, 1)


def test_seasonal_use_of_appliances_is_not_a_change_of_conditions() -> None:
    with pytest.raises(
        EligibilityError, match="'seasonal_appliance_use' is not a change of consumption conditions"
    ):
        check_rate_change(
            [D(2020, 6, 1)],
            D(2020, 12, 1),
            request_date=D(2020, 11, 1),
            consumption_conditions_changed=True,
            reason="seasonal_appliance_use",
        )


def test_rules_from_the_tariff() -> None:
    rules = eligibility_rules(get_tariff(DD2)).rate_change
    assert rules.min_months_between_changes == 12
    with pytest.raises(EligibilityError):
        check_rate_change([D(2020, 6, 1)], D(2021, 5, 31), request_date=D(2021, 5, 1), rules=rules)
    short = RateChangeRule(min_months_between_changes=6)
    r = check_rate_change([D(2020, 6, 1)], D(2020, 12, 1), request_date=D(2020, 11, 1), rules=short)
    assert r.earliest_regular_date == D(2020, 12, 1)


def test_no_retroactive_change() -> None:
    with pytest.raises(
        EligibilityError,
        match=r"cannot apply from 2021-03-01, before the "
        r"request of 2021-03-10.*not changed "
        r"retroactively",
    ):
        check_rate_change([D(2019, 1, 1)], D(2021, 3, 1), request_date=D(2021, 3, 10))
    # not even with changed conditions
    with pytest.raises(EligibilityError, match="retroactively"):
        check_rate_change(
            [D(2019, 1, 1)],
            D(2021, 3, 1),
            request_date=D(2021, 3, 10),
            consumption_conditions_changed=True,
        )
    # the day of the request itself is fine
    check_rate_change([D(2019, 1, 1)], D(2021, 3, 10), request_date=D(2021, 3, 10))


def test_request_date_defaults_to_today() -> None:
    today = dt.date.today()
    with pytest.raises(EligibilityError, match="retroactively"):
        check_rate_change([], today - dt.timedelta(days=1))
    assert check_rate_change([], today).effective_date == today


def test_history_after_the_requested_date() -> None:
    with pytest.raises(
        InputError, match="rate change on 2021-05-01, after the requested date 2021-04-01"
    ):
        check_rate_change([D(2021, 5, 1)], D(2021, 4, 1), request_date=D(2021, 3, 1))
    with pytest.raises(InputError, match=r"history\[0\] must be a date"):
        check_rate_change(
            ["2020-01-01"],
            D(2021, 4, 1),  # type: ignore[list-item]
            request_date=D(2021, 3, 1),
        )


# --------------------------------------------------------------- distribution rates
@pytest.mark.parametrize("rate", ["D1", "D2", "d2", " D2 "])
def test_dd2_accepts_d1_and_d2(rate: str) -> None:
    check_distribution_rate(get_tariff(DD2), rate)


@pytest.mark.parametrize("rate", ["D3", "D4", "C2"])
def test_dd2_refuses_other_rates(rate: str) -> None:
    with pytest.raises(
        EligibilityError,
        match=f"requires distribution rate D1 or D2, the point of delivery has {rate}",
    ):
        check_distribution_rate(get_tariff(DD2), rate)


def test_dmp2_needs_c2_on_low_voltage() -> None:
    dmp2 = get_tariff(DMP2)
    check_distribution_rate(dmp2, "C2", voltage_level="LV")
    check_distribution_rate(dmp2, "C2", voltage_level="lv")
    with pytest.raises(
        EligibilityError, match="requires distribution rate C2 on LV, the point of delivery has C1"
    ):
        check_distribution_rate(dmp2, "C1", voltage_level="LV")
    check_distribution_rate(dmp2, "C1", voltage_level="MV")  # the rule is for LV only
    with pytest.raises(InputError, match="in Python voltage_level="):
        check_distribution_rate(dmp2, "C2")
    with pytest.raises(InputError, match="voltage_level='NN'"):
        check_distribution_rate(dmp2, "C2", voltage_level="NN")
    with pytest.raises(InputError, match="distribution_rate is empty"):
        check_distribution_rate(dmp2, " ", voltage_level="LV")


def test_check_eligibility_combines_the_rules() -> None:
    dd2, dmp2 = get_tariff(DD2), get_tariff(DMP2)
    check_eligibility(dd2, customer_class="household", distribution_rate="D2")
    with pytest.raises(EligibilityError, match="is for household customers, not small_business"):
        check_eligibility(dd2, customer_class="small_business", distribution_rate="D2")
    with pytest.raises(EligibilityError, match="D1 or D2"):
        check_eligibility(dd2, customer_class="household", distribution_rate="D3")
    with pytest.raises(InputError, match="in Python consumption_kwh_by_pod_year_t_minus_2="):
        check_eligibility(
            dmp2, customer_class="small_business", distribution_rate="C2", voltage_level="LV"
        )
    with pytest.raises(EligibilityError, match=r"at most 30,000 kWh .* used 30,001 kWh"):
        check_eligibility(
            dmp2,
            customer_class="small_business",
            distribution_rate="C2",
            voltage_level="LV",
            consumption_kwh_by_pod_year_t_minus_2={"a": 20000.0, "b": 10001.0},
        )
    with pytest.raises(EligibilityError, match="must prove"):
        check_eligibility(
            dmp2,
            customer_class="small_business",
            distribution_rate="C2",
            voltage_level="LV",
            consumption_kwh_by_pod_year_t_minus_2={"a": None},
        )


# ------------------------------------------------------------- the rules as data
def test_rules_parse() -> None:
    rules = eligibility_rules(get_tariff(DMP2))
    assert isinstance(rules, EligibilityRules)
    assert rules.customer_class == "small_business"
    assert rules.distribution_rate is not None
    assert rules.distribution_rate.required == ("C2",)
    assert rules.distribution_rate.voltage_levels == ("LV",)
    assert eligibility_rules(get_tariff("bench-tou3")) == EligibilityRules()


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        (
            {"small_business": {"annual_consumption_limit_kwh": -5}},
            "eligibility.small_business.annual_consumption_limit_kwh: "
            "Input should be greater than 0",
        ),
        ({"rate_change": {"min_months": 12}}, "eligibility.rate_change.min_months: unknown key"),
        (
            {"distribution_rate": {"required": ["C2"], "voltage_levels": ["NN"]}},
            "eligibility.distribution_rate.voltage_levels.0",
        ),
        ({"small_busines": {}}, "eligibility.small_busines: unknown key"),
    ],
)
def test_bad_rules_name_the_file_and_field(patch: dict[str, object], fragment: str) -> None:
    raw = _dmp2_raw()
    tariff = tariff_from_dict({**raw, "eligibility": patch}, "broken.yaml")
    with pytest.raises(TariffSchemaError, match=r"broken\.yaml: ") as info:
        eligibility_rules(tariff)
    assert fragment in str(info.value)
