"""Past-year and coming-year workflows on a small hand-checkable case, and the options."""

from __future__ import annotations

from typing import Any

import pytest

from gridtwin.errors import InputError
from gridtwin.heatnet import (
    coming_year,
    input_from_dict,
    past_year,
    territorial_totals,
)
from tests.heatnet.util import small_case

C = 367.0 * 0.8 * 0.5  # c·ηн·ηд of pump A


def head(q: float) -> float:
    return 100.0 - 1e-4 * q * q


def calc_kwh() -> float:
    return (500 * head(500) * 5000 + 300 * head(300) * 3000) / C


def nominal_pumping_kwh() -> float:
    return (550 * head(550) * 5000 + 300 * head(300) * 3000) / C


def test_small_case_by_hand() -> None:
    result = past_year(input_from_dict(small_case(), "small"))
    st = result.station("S")
    assert st.calculated_energy_kwh == pytest.approx(calc_kwh(), rel=1e-12)
    assert st.nominal_energy_kwh == pytest.approx(nominal_pumping_kwh(), rel=1e-12)
    assert st.seasons[0].design_curve_head_m == pytest.approx(75.0)
    assert st.seasons[0].nominal_head_m == pytest.approx(head(550))
    assert result.reserves_factor == pytest.approx(nominal_pumping_kwh() / calc_kwh() - 1)
    assert result.total_normative_energy_kwh == pytest.approx(calc_kwh() * 1.05, rel=1e-12)


def test_first_year_rule() -> None:
    data = small_case(first_year=True)
    del data["past_year"]["reserves_factor"], data["past_year"]["task"]
    result = past_year(input_from_dict(data, "small"))
    assert result.first_year
    assert result.total_normative_energy_kwh == result.total_nominal_energy_kwh
    assert result.station("S").normative_energy_kwh == result.station("S").nominal_energy_kwh


@pytest.mark.parametrize("on_aux", [False, True])
def test_allowance_and_auxiliary_energy(on_aux: bool) -> None:
    data = small_case(operating_allowance=1.1)
    data["past_year"]["stations"]["S"]["auxiliary_energy_kwh"] = 1000.0
    data["options"] = {"allowance_applies_to_auxiliaries": on_aux}
    st = past_year(input_from_dict(data, "small")).station("S")
    assert st.calculated_energy_kwh == pytest.approx(calc_kwh() + 1000.0, rel=1e-12)
    aux = 1100.0 if on_aux else 1000.0
    assert st.nominal_energy_kwh == pytest.approx(1.1 * nominal_pumping_kwh() + aux, rel=1e-12)
    assert st.auxiliary_factor == 1.0


@pytest.mark.parametrize("law", ["cube", "linear"])
def test_flow_correction_sets_the_allowance_to_one(law: str) -> None:
    data = small_case(operating_allowance=1.1)
    data["options"] = {"flow_correction_law": law}
    before = past_year(input_from_dict(data, "small")).station("S")
    metered = 1.2 * before.nominal_energy_kwh
    data["past_year"]["stations"]["S"].update(metered_energy_kwh=metered, correct_actual_flow=True)
    st = past_year(input_from_dict(data, "small")).station("S")
    k = 1.2 ** (1 / 3) if law == "cube" else 1.2
    assert st.uncorrected_nominal_energy_kwh == pytest.approx(before.nominal_energy_kwh)
    assert st.flow_correction_scale == pytest.approx(k)
    assert st.operating_allowance == 1.0
    g_w, g_s = 550 * k, 300 * k  # head from the curve at the corrected flows, Кэк = 1
    assert st.nominal_energy_kwh == pytest.approx(
        (g_w * head(g_w) * 5000 + g_s * head(g_s) * 3000) / C, rel=1e-12
    )
    assert [r.actual_flow_source for r in st.seasons] == [f"formula (6) + formula (7) {law}"] * 2


def test_auxiliary_factor_multiplies_the_power() -> None:
    base = past_year(input_from_dict(small_case(), "small")).station("S")
    with_k = past_year(input_from_dict(small_case(auxiliary_factor=1.05), "small")).station("S")
    assert with_k.calculated_energy_kwh == pytest.approx(1.05 * base.calculated_energy_kwh)
    assert with_k.seasons[0].design_unit_power_kw == base.seasons[0].design_unit_power_kw


def test_flowmeter_flow_is_used_instead_of_formula_6() -> None:
    data = small_case()
    data["past_year"]["stations"]["S"]["winter"]["actual_flow_t_per_h"] = 600.0
    row = past_year(input_from_dict(data, "small")).station("S").seasons[0]
    assert row.actual_flow_source == "flowmeter"
    assert row.actual_flow_t_per_h == 600.0


def test_given_heads_and_head_source_option() -> None:
    data = small_case()
    data["past_year"]["stations"]["S"]["winter"]["design_head_m"] = 90.0  # curve: 75 m
    result = past_year(input_from_dict(data, "small"))
    row = result.station("S").seasons[0]
    assert row.design_head_m == 90.0
    assert row.design_unit_power_kw == pytest.approx(500 * 90 / C)
    assert any(
        "design_head_m" in w and "differs from the pump curves" in w for w in result.warnings
    )
    data["options"] = {"head_source": "curve"}
    row = past_year(input_from_dict(data, "small")).station("S").seasons[0]
    assert row.design_head_m == pytest.approx(75.0)


def test_water_density_converts_mass_to_volume_flow() -> None:
    data = small_case()
    data["options"] = {"water_density_t_per_m3": 0.96}
    row = past_year(input_from_dict(data, "small")).station("S").seasons[0]
    assert row.design_curve_head_m == pytest.approx(head(500 / 0.96))
    # N uses the mass flow: G·H/(c·η)
    assert row.design_unit_power_kw == pytest.approx(500 * head(500 / 0.96) / C)


def measured_case(**station: Any) -> dict[str, Any]:
    data = small_case()
    data["stations"]["S"].update(
        {
            "measured_characteristic": {
                "winter": {
                    "flow_t_per_h": [100.0, 1000.0],
                    "power_kw": [50.0, 500.0],
                    "interpolation": "linear",
                },
                "summer": {"flow_t_per_h": [100.0, 1000.0], "power_kw": [40.0, 400.0]},
            },
            **station,
        }
    )
    return data


def test_measured_characteristic_is_preferred() -> None:
    data = measured_case(tested_year=2015)
    data["past_year"]["year"] = 2024
    data["past_year"]["stations"]["S"]["winter"]["design_head_m"] = 80.0
    result = past_year(input_from_dict(data, "small"))
    row = result.station("S").seasons[0]
    assert row.design_unit_power_kw == pytest.approx(250.0)  # N(G) = G/2
    assert row.design_regime == "measured"
    assert row.design_head_m is None
    assert any("due for revision" in w for w in result.warnings)
    assert any("head 80 m ignored" in w for w in result.warnings)
    data["stations"]["S"]["characteristic_source"] = "pumps"
    row = past_year(input_from_dict(data, "small")).station("S").seasons[0]
    assert row.design_regime == "1×A"


def test_flow_outside_measured_characteristic() -> None:
    data = measured_case()
    data["past_year"]["stations"]["S"]["winter"]["design_flow_t_per_h"] = 1500.0
    with pytest.raises(
        InputError,
        match=r"small: past_year\.stations\.S\.winter\."
        r"design_flow_t_per_h = 1500 t/h: .* outside the "
        r"measured characteristic",
    ):
        past_year(input_from_dict(data, "small"))


def test_candidate_regimes_take_the_least_power() -> None:
    data = small_case()
    data["stations"]["S"]["regimes"]["winter"] = [{"A": 1}, {"A": 2}]
    stations = input_from_dict(data, "small").build_stations()
    winter = stations["S"].season("winter")
    one = winter.point(500.0)
    assert one.regime == "1×A"  # 1 pump: 75 m; 2 pumps would give 93.75 m
    assert one.power_kw == pytest.approx(500 * 75 / C)
    two = winter.point(1500.0)  # beyond one pump's run-out
    assert two.regime == "2×A"
    assert two.head_m == pytest.approx(head(750))


def test_different_pumps_in_a_station_sum_their_powers() -> None:
    data = small_case()
    data["pumps"]["B"] = {
        "motor_efficiency": 0.9,
        "head": {
            "form": "parabola",
            "shutoff_head_m": 80.0,
            "drop_coefficient_m_per_m3_per_h_sq": 2e-4,
        },
        "efficiency": {"form": "constant", "value": 0.7},
    }
    data["stations"]["S"]["regimes"]["winter"] = {"A": 1, "B": 1}
    stations = input_from_dict(data, "small").build_stations()
    qa, qb = (40 / 1e-4) ** 0.5, (20 / 2e-4) ** 0.5  # both at 60 m
    pt = stations["S"].season("winter").point(qa + qb)
    assert pt.head_m == pytest.approx(60.0, abs=1e-7)
    assert pt.power_kw == pytest.approx(
        qa * 60 / (367 * 0.8 * 0.5) + qb * 60 / (367 * 0.7 * 0.9), rel=1e-9
    )
    assert pt.unit_efficiency == pytest.approx((qa + qb) * 60 / 367 / pt.power_kw, rel=1e-12)


def coming_case(**coming: Any) -> dict[str, Any]:
    data = small_case()
    data["coming_year"] = {
        "hours_h": {"winter": 4000, "summer": 4000},
        "stations": {"S": {"winter": {"flow_t_per_h": 400.0}, "summer": {"flow_t_per_h": 200.0}}},
        **coming,
    }
    return data


def test_coming_year_with_given_task_and_auxiliary_energy() -> None:
    data = coming_case(task=0.5, reserves_factor=0.2)
    data["coming_year"]["stations"]["S"]["auxiliary_energy_kwh"] = 5000.0
    result = coming_year(input_from_dict(data, "small"))
    pumping = (400 * head(400) * 4000 + 200 * head(200) * 4000) / C
    assert result.task.task == 0.5
    assert result.task.source == "given"
    assert result.normative_multiplier == pytest.approx(1.1)
    assert result.total_normative_energy_kwh == pytest.approx(pumping * 1.1 + 5000.0)
    # the Кр given differs from the past year's (8): warned
    assert any("differs from the past year's" in w for w in result.warnings)


def test_inconsistent_reserves_with_a_planned_saving_warn_once() -> None:
    result = coming_year(
        input_from_dict(coming_case(planned_saving_kwh=1000.0, reserves_factor=0.5), "small")
    )
    kr_warnings = [w for w in result.warnings if "Кр" in w or "reserves_factor" in w]
    assert len(kr_warnings) == 1
    assert "formula (9) full and simple then give different ε" in kr_warnings[0]


def test_coming_year_task_from_saving_is_clipped() -> None:
    result = coming_year(input_from_dict(coming_case(planned_saving_kwh=1e9), "small"))
    assert result.task.task == 1.0
    assert result.task.task_unclipped is not None
    assert result.task.task_unclipped > 1
    assert any("clipped to 1" in w for w in result.warnings)


def test_coming_year_without_past_section_needs_previous_totals() -> None:
    data = coming_case(
        planned_saving_kwh=1000.0,
        reserves_factor=0.1,
        previous_year={"calculated_energy_kwh": 1e6, "nominal_energy_kwh": 1.1e6},
    )
    del data["past_year"]
    result = coming_year(input_from_dict(data, "small"))
    assert result.task.task == pytest.approx(1 - (1.1e6 - 1000 - 1e6) / (0.1 * 1e6))
    with pytest.raises(InputError, match="past_year: missing"):
        past_year(input_from_dict(data, "small"))


def test_territorial_totals() -> None:
    a = past_year(input_from_dict(small_case(), "a"))
    data = small_case()
    data["territorial_unit"] = "unit B"
    data["past_year"]["stations"]["S"]["metered_energy_kwh"] = 1000.0
    b = past_year(input_from_dict(data, "b"))
    totals = territorial_totals([("unit A", a, None), ("unit B", b, None)])
    assert totals.total_past_normative_energy_kwh == pytest.approx(
        a.total_normative_energy_kwh + b.total_normative_energy_kwh
    )
    assert totals.total_past_metered_energy_kwh == 1000.0
    assert totals.total_coming_normative_energy_kwh is None
    assert any("partial" in w for w in totals.warnings)
    with pytest.raises(InputError, match="appears twice"):
        territorial_totals([("u", a, None), ("u", b, None)])
