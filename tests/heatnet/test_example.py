"""The seed's worked example end to end.

kWh figures here are *reference values under the stated assumptions* (ηн = 0.82 at every
flow, ηд = 0.95, Kсн = 1.03): the seed's own numeric results are lost. The flows of (6)
and the reserves Кр ≈ 0.12 are checked against the seed itself.
"""

from __future__ import annotations

import pytest

from gridtwin.heatnet import coming_year, input_from_dict, past_year
from tests.heatnet.util import VARIANT, example_dict, example_input

# seed Table 2, Table 3 item 5 and 5.1: (station, season) -> (Gр, Нр, Нном, hours)
SEED = {
    ("I", "winter"): (1000.0, 80.0, 70.0, 5000.0),
    ("II", "winter"): (2200.0, 150.0, 140.0, 5000.0),
    ("II", "summer"): (900.0, 153.0, 150.0, 3500.0),
    ("III", "winter"): (900.0, 122.0, 115.0, 5000.0),
    ("III", "summer"): (500.0, 120.0, 118.0, 3500.0),
}
NETWORK = {"winter": 6100.0 / 5000.0, "summer": 1200.0 / 1100.0}
KWH_PER_T_M = 1.03 / (367.0 * 0.82 * 0.95)  # Kсн/(367·ηн·ηд) under the assumptions


def test_actual_flows_from_formula_6() -> None:
    result = past_year(example_input())
    flows = {
        (r.station, r.season): r.actual_flow_t_per_h for st in result.stations for r in st.seasons
    }
    assert flows == pytest.approx(
        {
            ("I", "winter"): 1220.0,
            ("II", "winter"): 2684.0,
            ("II", "summer"): 900 * 12 / 11,
            ("III", "winter"): 1098.0,
            ("III", "summer"): 500 * 12 / 11,
        }
    )
    assert all(r.actual_flow_source == "formula (6)" for st in result.stations for r in st.seasons)


def test_reserves_match_the_seeds_0_12() -> None:
    result = past_year(example_input())
    design = sum(g * h * n for g, h, _hn, n in SEED.values())
    actual = sum(g * NETWORK[s] * hn * n for (_, s), (g, _h, hn, n) in SEED.items())
    assert result.reserves_factor == pytest.approx(actual / design - 1.0, rel=1e-12)
    assert result.reserves_factor == pytest.approx(0.11757, abs=1e-5)
    assert round(result.reserves_factor, 2) == 0.12  # the seed's accepted value


@pytest.mark.parametrize("eta", [0.6, 0.75, 0.9])
def test_reserves_do_not_depend_on_a_constant_pump_efficiency(eta: float) -> None:
    data = example_dict()
    for spec in data["pumps"].values():
        spec["efficiency"] = {"form": "constant", "value": eta}
    result = past_year(input_from_dict(data, "example"))
    assert result.reserves_factor == pytest.approx(0.1175731241, rel=1e-9)


def test_past_year_reference_values_under_assumptions() -> None:
    result = past_year(example_input())
    calc = sum(g * h * n for g, h, _hn, n in SEED.values()) * KWH_PER_T_M
    nom = sum(g * NETWORK[s] * hn * n for (_, s), (g, _h, hn, n) in SEED.items()) * KWH_PER_T_M
    assert result.total_calculated_energy_kwh == pytest.approx(calc, rel=1e-12)
    assert result.total_nominal_energy_kwh == pytest.approx(nom, rel=1e-12)
    assert result.normative_multiplier == pytest.approx(1.1275)
    assert result.total_normative_energy_kwh == pytest.approx(calc * 1.1275, rel=1e-12)
    # stable printed figures (reference values under the assumptions)
    assert round(result.total_calculated_energy_kwh) == 11_856_459
    assert round(result.total_nominal_energy_kwh) == 13_250_459
    assert round(result.total_normative_energy_kwh) == 13_368_157
    # per station: Nр of station I = 1.03·1000·80/(367·0.82·0.95)
    i_winter = result.station("I").seasons[0]
    assert i_winter.design_power_kw == pytest.approx(1000 * 80 * KWH_PER_T_M, rel=1e-12)
    # station shares of the normative add up to (3)
    assert sum(s.normative_energy_kwh for s in result.stations) == pytest.approx(
        result.total_normative_energy_kwh, rel=1e-12
    )
    assert result.warnings == ()


def test_coming_year_reference_values_under_assumptions() -> None:
    inp = example_input()
    past = past_year(inp)
    result = coming_year(inp, past)
    calc, nom = past.total_calculated_energy_kwh, past.total_nominal_energy_kwh
    eps = 1 - (nom - 500_000 - calc) / (0.12 * calc)
    assert result.reserves_factor == 0.12
    assert result.task.task == pytest.approx(eps, rel=1e-12)
    assert result.task.task == pytest.approx(0.37165, abs=1e-5)
    planned = {
        ("I", "winter"): (1100, 75, 4920),
        ("II", "winter"): (2300, 143, 4920),
        ("II", "summer"): (1000, 149, 3740),
        ("III", "winter"): (900, 122, 4920),
        ("III", "summer"): (520, 120, 3740),
    }
    pumping = sum(g * h * n for g, h, n in planned.values()) * KWH_PER_T_M
    factor = 1 + 0.12 * (1 - eps)
    assert result.normative_multiplier == pytest.approx(factor)
    assert result.total_normative_energy_kwh == pytest.approx(pumping * factor, rel=1e-12)
    assert round(result.total_normative_energy_kwh) == 12_998_382
    # Кр 0.12 is within the rounding tolerance of (8)'s 0.1176: no warning
    assert result.warnings == ()


def test_variant_runs_with_meters_correction_and_auxiliary_energy() -> None:
    inp = example_input(VARIANT)
    past = past_year(inp)
    ii = past.station("II")
    assert ii.flow_corrected
    assert ii.operating_allowance == 1.0
    ratio = 9_300_000 / ii.uncorrected_nominal_energy_kwh
    assert ii.flow_correction_scale == pytest.approx(ratio ** (1 / 3), rel=1e-12)
    assert ii.seasons[0].actual_flow_t_per_h == pytest.approx(2684.0 * ratio ** (1 / 3))
    assert any("still differs from Эф" in f for f in ii.findings)
    iii = past.station("III")
    assert iii.auxiliary_factor == 1.0
    assert iii.auxiliary_energy_kwh == 60_000
    assert iii.calculated_energy_kwh == pytest.approx(
        sum(r.design_power_kw * r.hours_h for r in iii.seasons) + 60_000
    )
    assert past.total_metered_energy_kwh == 1_590_000 + 9_300_000 + 3_300_000
    assert any("saving task was met" in f for f in past.findings)
    result = coming_year(inp, past)
    assert result.reserves_factor == pytest.approx(past.reserves_factor)  # from (8)
    # consistent Кр: (9) full equals the simple form
    assert result.task.task == pytest.approx(
        500_000 / (past.total_nominal_energy_kwh - past.total_calculated_energy_kwh)
    )


def test_variant_invert_law_matches_the_meter() -> None:
    past = past_year(example_input(VARIANT, flow_correction_law="invert_characteristic"))
    ii = past.station("II")
    assert ii.nominal_energy_kwh == pytest.approx(9_300_000, rel=1e-9)
    assert not any("still differs" in f for f in ii.findings)
    linear = past_year(example_input(VARIANT, flow_correction_law="linear")).station("II")
    assert linear.flow_correction_scale == pytest.approx(
        9_300_000 / linear.uncorrected_nominal_energy_kwh
    )
