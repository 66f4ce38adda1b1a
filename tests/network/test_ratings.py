"""Cable permissible currents (IEC 60364-5-52:2009 = GOST R 50571.5.52-2011) and loading."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from gridtwin.errors import DataQualityError, InputError
from gridtwin.network.ratings import (
    cable_loading_check,
    cable_rating_data,
    load_cable_rating_data,
    loading_ratio,
    permissible_current_a,
    temperature_factor,
)

DATA_FILE = (
    Path(__file__).parents[2] / "src" / "gridtwin" / "network" / "data" / "iec_60364_5_52.yaml"
)


# --------------------------------------------------------------------------- base cells


@pytest.mark.parametrize(
    ("size", "method", "insulation", "loaded", "expected", "table"),
    [
        # Cells of the research note §5.2 (official tables as transcribed).
        (16, "C", "PVC", 3, 76, "B.52.4"),
        (240, "D2", "XLPE", 2, 448, "B.52.3"),
        (1.5, "A1", "PVC", 2, 14.5, "B.52.2"),
        (1.5, "B1", "PVC", 3, 15.5, "B.52.4"),  # one transcription has a 16.5 typo here
        (1.5, "C", "PVC", 2, 19.5, "B.52.2"),  # not the 22 A of a faulty public table
        (1.5, "C", "PVC", 3, 17.5, "B.52.4"),
        (16, "D1", "PVC", 2, 78, "B.52.2"),  # 2009 split D1/D2, not the 2001 method D
        (16, "D2", "PVC", 2, 83, "B.52.2"),
        (95, "D1", "XLPE", 3, 197, "B.52.5"),
        (2.5, "A2", "XLPE", 2, 25, "B.52.3"),
        (185, "B2", "XLPE", 3, 340, "B.52.5"),
        (240, "C", "XLPE", 3, 500, "B.52.5"),
        (16, "E", "PVC", 2, 94, "B.52.10"),
        (240, "E", "XLPE", 3, 538, "B.52.12"),
        (70, "E", "PVC", 3, 198, "B.52.10"),
    ],
)
def test_base_cells_are_pinned(
    size: float, method: str, insulation: str, loaded: int, expected: float, table: str
) -> None:
    rating = permissible_current_a(
        size, method=method, insulation=insulation, loaded_conductors=loaded
    )
    assert rating.i_z_a == expected
    assert rating.base_a == expected
    assert rating.base_table == table
    assert rating.factors == ()
    assert rating.sizing_basis == "phase"


def test_verification_levels_follow_the_reference() -> None:
    pvc_c = permissible_current_a(16, method="C", insulation="PVC", loaded_conductors=3)
    assert pvc_c.verification == "several_transcriptions"
    pvc_d1 = permissible_current_a(16, method="D1", insulation="PVC", loaded_conductors=3)
    assert pvc_d1.verification == "single_transcription"
    xlpe_c = permissible_current_a(16, method="C", insulation="XLPE", loaded_conductors=3)
    assert xlpe_c.verification == "single_transcription"
    harm = permissible_current_a(
        16, method="C", insulation="PVC", loaded_conductors=3, third_harmonic_percent=20
    )
    assert harm.verification == "memory"


def test_capacities_grow_with_size_in_every_column() -> None:
    for tab in cable_rating_data().base_capacity:
        sizes = sorted(tab.rows)
        for j, method in enumerate(tab.methods):
            col = [tab.rows[s][j] for s in sizes]
            assert col == sorted(col), (tab.table, method)


def test_xlpe_exceeds_pvc_and_two_loaded_exceeds_three() -> None:
    data = cable_rating_data()
    for method in data.methods:
        for loaded in (2, 3):
            pvc = data.base_table(method, "PVC", loaded)
            xlpe = data.base_table(method, "XLPE", loaded)
            for size in pvc.rows:
                assert (
                    xlpe.rows[size][xlpe.methods.index(method)]
                    > pvc.rows[size][pvc.methods.index(method)]
                )
        for ins in ("PVC", "XLPE"):
            two, three = data.base_table(method, ins, 2), data.base_table(method, ins, 3)
            for size in two.rows:
                assert (
                    two.rows[size][two.methods.index(method)]
                    > three.rows[size][three.methods.index(method)]
                )


# --------------------------------------------------------------------------- temperature


def _formula(theta: float, insulation: str, medium: str) -> float:
    theta_max = 70.0 if insulation == "PVC" else 90.0
    theta_ref = 30.0 if medium == "air" else 20.0
    return math.sqrt((theta_max - theta) / (theta_max - theta_ref))


def test_every_tabulated_temperature_factor_equals_the_formula_to_two_decimals() -> None:
    checked = 0
    for tab in cable_rating_data().temperature_factors:
        for insulation, values in tab.values.items():
            for theta, table_value in values.items():
                formula = _formula(theta, insulation, tab.medium)
                assert abs(formula - table_value) <= 0.005 + 1e-12, (tab.table, insulation, theta)
                factor = temperature_factor(theta, insulation=insulation, medium=tab.medium)
                assert round(factor.value, 2) == pytest.approx(table_value, abs=1e-12)
                assert factor.table == tab.table
                checked += 1
    assert checked == 2 * (11 + 15)


@pytest.mark.parametrize(
    ("theta", "insulation", "medium", "table_value"),
    [
        (40, "PVC", "air", 0.87),
        (10, "XLPE", "air", 1.15),
        (60, "PVC", "ground", 0.45),
        (80, "XLPE", "ground", 0.38),
        (25, "XLPE", "ground", 0.96),
    ],
)
def test_temperature_factor_pinned_cells(
    theta: float, insulation: str, medium: str, table_value: float
) -> None:
    factor = temperature_factor(theta, insulation=insulation, medium=medium)  # type: ignore[arg-type]
    assert round(factor.value, 2) == table_value


def test_temperature_between_tabulated_points_uses_the_formula() -> None:
    factor = temperature_factor(37.0, insulation="PVC", medium="air")
    assert factor.value == pytest.approx(math.sqrt(33 / 40), rel=1e-12)
    assert 0.87 < factor.value < 0.94  # between the 40 °C and 35 °C cells


@pytest.mark.parametrize(
    ("theta", "insulation", "medium"),
    [(65, "PVC", "air"), (5, "XLPE", "air"), (85, "XLPE", "ground")],
)
def test_temperature_outside_the_table_is_an_error(
    theta: float, insulation: str, medium: str
) -> None:
    field = "ambient_c" if medium == "air" else "ground_c"
    with pytest.raises(InputError, match=field) as info:
        temperature_factor(theta, insulation=insulation, medium=medium)  # type: ignore[arg-type]
    assert "outside Table" in str(info.value)


def test_air_and_ground_temperatures_follow_the_method() -> None:
    with pytest.raises(InputError, match="give ground_c instead"):
        permissible_current_a(16, method="D2", insulation="PVC", loaded_conductors=3, ambient_c=35)
    with pytest.raises(InputError, match="give ambient_c instead"):
        permissible_current_a(16, method="C", insulation="PVC", loaded_conductors=3, ground_c=25)


# --------------------------------------------------------------------------- grouping, soil


@pytest.mark.parametrize(
    ("method", "arrangement", "n", "expected", "table"),
    [
        ("C", "bunched", 3, 0.70, "B.52.17"),
        ("C", "bunched", 20, 0.38, "B.52.17"),
        ("C", "single_layer_wall", 9, 0.70, "B.52.17"),
        ("C", "single_layer_wall", 12, 0.70, "B.52.17"),  # no reduction beyond 9 in a layer
        ("E", "single_layer_perforated_tray", 2, 0.88, "B.52.17"),
        ("E", "single_layer_ladder", 6, 0.79, "B.52.17"),
        ("C", "bunched", 10, 0.45, "B.52.17"),  # not tabulated: n = 12 (conservative)
        ("D2", "ground_direct_touching", 4, 0.60, "B.52.18"),
        ("D2", "ground_direct_touching", 16, 0.32, "B.52.18"),
        ("D1", "ground_ducts_touching", 2, 0.85, "B.52.19"),
        ("D1", "ground_ducts_touching", 20, 0.34, "B.52.19"),
    ],
)
def test_grouping_factors(
    method: str, arrangement: str, n: int, expected: float, table: str
) -> None:
    rating = permissible_current_a(
        50,
        method=method,
        insulation="PVC",
        loaded_conductors=3,
        n_grouped=n,
        arrangement=arrangement,
    )
    (factor,) = rating.factors
    assert factor.name == "grouping"
    assert factor.value == expected
    assert factor.table == table
    assert rating.i_z_a == pytest.approx(rating.base_a * expected)


def test_grouping_errors_name_the_field_and_the_choices() -> None:
    with pytest.raises(InputError, match=r"arrangement is required .* bunched"):
        permissible_current_a(16, method="C", insulation="PVC", loaded_conductors=3, n_grouped=2)
    with pytest.raises(InputError, match=r"arrangement='ground_ducts_touching' .* bunched"):
        permissible_current_a(
            16,
            method="C",
            insulation="PVC",
            loaded_conductors=3,
            n_grouped=2,
            arrangement="ground_ducts_touching",
        )
    with pytest.raises(InputError, match=r"n_grouped=21 exceeds Table B.52.17"):
        permissible_current_a(
            16,
            method="C",
            insulation="PVC",
            loaded_conductors=3,
            n_grouped=21,
            arrangement="bunched",
        )
    with pytest.raises(InputError, match="n_grouped=0"):
        permissible_current_a(16, method="C", insulation="PVC", loaded_conductors=3, n_grouped=0)


def test_soil_resistivity_factor_d1() -> None:
    rating = permissible_current_a(
        70, method="D1", insulation="XLPE", loaded_conductors=3, soil_k_m_per_w=1.0
    )
    (factor,) = rating.factors
    assert (factor.value, factor.table) == (1.18, "B.52.16")
    assert rating.i_z_a == pytest.approx(167 * 1.18)


def test_soil_resistivity_errors() -> None:
    with pytest.raises(InputError, match=r"soil_k_m_per_w=1.2 .* 0.5, 0.7, 1, 1.5, 2, 2.5, 3"):
        permissible_current_a(
            70, method="D1", insulation="XLPE", loaded_conductors=3, soil_k_m_per_w=1.2
        )
    with pytest.raises(InputError, match=r"direct-buried row .* not transcribed"):
        permissible_current_a(
            70, method="D2", insulation="XLPE", loaded_conductors=3, soil_k_m_per_w=1.0
        )
    with pytest.raises(InputError, match="soil_k_m_per_w applies to cables in the ground"):
        permissible_current_a(
            70, method="C", insulation="XLPE", loaded_conductors=3, soil_k_m_per_w=1.0
        )


# --------------------------------------------------------------------------- harmonics


@pytest.mark.parametrize(
    ("h3", "factor", "basis"),
    [
        (0, 1.0, "phase"),
        (15, 1.0, "phase"),
        (20, 0.86, "phase"),
        (33, 0.86, "phase"),
        (40, 0.86 / 1.2, "neutral"),
        (45, 0.86 / 1.35, "neutral"),
        (50, 1.0 / 1.5, "neutral"),
    ],
)
def test_triplen_harmonic_factor(h3: float, factor: float, basis: str) -> None:
    rating = permissible_current_a(
        25, method="C", insulation="PVC", loaded_conductors=3, third_harmonic_percent=h3
    )
    assert rating.sizing_basis == basis
    assert rating.total_factor == pytest.approx(factor, rel=1e-12)
    assert rating.factors[0].table == "E.52.1"


def test_harmonic_needs_three_loaded_conductors() -> None:
    with pytest.raises(InputError, match="loaded_conductors=3"):
        permissible_current_a(
            25, method="C", insulation="PVC", loaded_conductors=2, third_harmonic_percent=20
        )


# --------------------------------------------------------------------------- combined


def test_combined_example_by_hand_buried_ducts() -> None:
    # XLPE, 3 loaded, method D1, 70 mm²: I_z0 = 167 A (B.52.5)
    # ground 30 °C: sqrt((90 - 30)/(90 - 20)) = 0.925820 (B.52.15, table 0.93)
    # soil 1.5 K·m/W: 1.10 (B.52.16); 4 cables in ducts, touching: 0.70 (B.52.19)
    # I_z = 167 × 0.925820 × 1.10 × 0.70 = 119.05 A
    rating = permissible_current_a(
        70,
        method="D1",
        insulation="XLPE",
        loaded_conductors=3,
        ground_c=30,
        soil_k_m_per_w=1.5,
        n_grouped=4,
        arrangement="ground_ducts_touching",
    )
    assert rating.i_z_a == pytest.approx(119.05, abs=0.005)
    assert [f.name for f in rating.factors] == [
        "ground_temperature",
        "soil_resistivity",
        "grouping",
    ]
    assert [f.table for f in rating.factors] == ["B.52.15", "B.52.16", "B.52.19"]
    assert "I_z = 119.1 A" in rating.describe()


def test_combined_example_by_hand_clipped_on_wall() -> None:
    # PVC, 2 loaded, method C, 25 mm²: 112 A (B.52.2); air 40 °C: sqrt(30/40) = 0.866025
    # (B.52.14, table 0.87); 3 circuits bunched: 0.70 (B.52.17) -> 112 × 0.866025 × 0.70
    rating = permissible_current_a(
        25,
        method="C",
        insulation="PVC",
        loaded_conductors=2,
        ambient_c=40,
        n_grouped=3,
        arrangement="bunched",
    )
    assert rating.i_z_a == pytest.approx(67.90, abs=0.005)


# --------------------------------------------------------------------------- errors


def test_unknown_size_lists_the_available_sizes() -> None:
    with pytest.raises(InputError, match=r"size_mm2=300 .* 1.5, 2.5, 4, 6, 10, 16, .*, 240"):
        permissible_current_a(300, method="C", insulation="PVC", loaded_conductors=3)
    with pytest.raises(InputError, match=r"size_mm2=10 .* B.52.12 .* 16, 25, 35"):
        permissible_current_a(10, method="E", insulation="XLPE", loaded_conductors=3)
    with pytest.raises(InputError, match="never interpolated"):
        permissible_current_a(20, method="C", insulation="PVC", loaded_conductors=3)


def test_unknown_method_lists_the_methods() -> None:
    with pytest.raises(InputError, match=r"method='F' .* A1, A2, B1, B2, C, D1, D2, E"):
        permissible_current_a(16, method="F", insulation="PVC", loaded_conductors=3)
    with pytest.raises(InputError, match=r"method='D' "):
        permissible_current_a(16, method="D", insulation="PVC", loaded_conductors=3)


@pytest.mark.parametrize(
    ("table", "insulation", "size", "method", "expected"),
    [
        # IEC 60364-5-52:2009 Table B.52.4, aluminium, PVC, three loaded conductors
        ("B.52.4", "PVC", 16, "A1", 43),
        ("B.52.4", "PVC", 95, "C", 170),
        ("B.52.4", "PVC", 150, "D1", 169),
        ("B.52.4", "PVC", 240, "D2", 250),
        # Table B.52.5, aluminium, XLPE, three loaded conductors
        ("B.52.5", "XLPE", 25, "B1", 90),
        ("B.52.5", "XLPE", 150, "D2", 229),
        ("B.52.5", "XLPE", 240, "C", 382),
    ],
)
def test_aluminium_cells(
    table: str, insulation: str, size: float, method: str, expected: float
) -> None:
    rating = permissible_current_a(
        size, method=method, insulation=insulation, loaded_conductors=3, material="Al"
    )
    assert rating.i_z_a == expected
    assert rating.base_table == table
    # transcribed from memory: every result says so
    assert rating.verification == "memory"
    assert rating.material == "Al"


def test_aluminium_is_below_copper_everywhere() -> None:
    data = cable_rating_data()
    for tab in data.base_capacity:
        if tab.material != "Al":
            continue
        cu = data.base_table(tab.methods[0], tab.insulation, tab.loaded_conductors, "Cu")
        for size, values in tab.rows.items():
            for m, value in zip(tab.methods, values, strict=True):
                cu_value = cu.rows[size][cu.methods.index(m)] if m in cu.methods else None
                if cu_value is not None:
                    # Al carries 0.75-0.84 of Cu of the same size in these tables
                    assert 0.74 * cu_value <= value <= 0.85 * cu_value, (tab.table, size, m)


def test_aluminium_two_loaded_is_refused_with_the_reason() -> None:
    with pytest.raises(InputError, match=r"material 'Al'.*loaded_conductors=2") as info:
        permissible_current_a(
            95, method="D2", insulation="XLPE", loaded_conductors=2, material="Al"
        )
    assert "rated_current_a" in str(info.value)
    with pytest.raises(InputError, match=r"material 'Al', method 'E'"):
        permissible_current_a(95, method="E", insulation="PVC", loaded_conductors=3, material="Al")


def test_other_bad_arguments_name_the_field() -> None:
    with pytest.raises(InputError, match=r"material='Fe' .* Cu"):
        permissible_current_a(16, method="C", insulation="PVC", loaded_conductors=3, material="Fe")
    with pytest.raises(InputError, match=r"insulation='EPR' .* PVC, XLPE"):
        permissible_current_a(16, method="C", insulation="EPR", loaded_conductors=3)
    with pytest.raises(InputError, match=r"loaded_conductors=4 .* 2, 3"):
        permissible_current_a(16, method="C", insulation="PVC", loaded_conductors=4)


def test_own_rating_bypasses_the_tables() -> None:
    rating = permissible_current_a(
        95,
        method="D2",
        insulation="XLPE",
        loaded_conductors=3,
        material="Al",
        rated_current_a=240.0,
    )
    assert rating.i_z_a == 240.0
    assert rating.base_table == "rated_current_a"
    assert rating.factors == ()
    with pytest.raises(InputError, match=r"rated_current_a .* remove ground_c"):
        permissible_current_a(
            95,
            method="D2",
            insulation="XLPE",
            loaded_conductors=3,
            material="Al",
            rated_current_a=240.0,
            ground_c=25,
        )
    with pytest.raises(InputError, match="rated_current_a=-1"):
        permissible_current_a(
            95, method="D2", insulation="XLPE", loaded_conductors=3, rated_current_a=-1
        )


def test_data_file_validation_names_file_and_field(tmp_path: Path) -> None:
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    data["base_capacity"][0]["rows"][16] = [61, 57]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.yaml: base_capacity.0: .*rows.16.0: 2 values"):
        load_cable_rating_data(bad)

    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    data["grouping_factors"][0]["values"][3] = 0.9
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError, match="must not increase"):
        load_cable_rating_data(bad)


# --------------------------------------------------------------------------- loading


def test_loading_ratio_per_cable_rows() -> None:
    i = np.array([[50.0, 100.0, np.nan], [10.0, 20.0, 30.0]])
    ratio = loading_ratio(i, [100.0, 20.0])
    np.testing.assert_allclose(ratio, [[0.5, 1.0, np.nan], [0.5, 1.0, 1.5]])
    assert loading_ratio(30.0, 60.0) == pytest.approx(0.5)


def test_loading_ratio_errors() -> None:
    with pytest.raises(DataQualityError, match=r"negative current.*\(0, 1\)"):
        loading_ratio([[1.0, -2.0]], [10.0])
    with pytest.raises(InputError, match="i_z_a must be positive"):
        loading_ratio([[1.0, 2.0]], [0.0])
    with pytest.raises(InputError, match="one permissible current per cable"):
        loading_ratio(np.ones((3, 4)), [1.0, 2.0])


def test_cable_loading_check_counts_hours_and_first_times() -> None:
    idx = pd.date_range("2025-01-01", periods=6, freq="15min", tz="UTC")
    i = np.array(
        [
            [50.0, 95.0, 110.0, 110.0, 80.0, 92.0],  # I_z 100: warn from 1, alarm from 2
            [10.0, 10.0, np.nan, 10.0, 10.0, 10.0],  # I_z 100: ok, one gap
            [np.nan] * 6,  # no data
            [85.0, 91.0, 89.0, 90.0, 0.0, 0.0],  # I_z 100: warn at 1 only (0.90 is not > 0.9)
            [100.0, 100.0, 0.0, 0.0, 0.0, 0.0],  # exactly 1.0 is a warning, not an alarm
        ]
    )
    check = cable_loading_check(i, [100.0] * 5, time_utc=idx)
    np.testing.assert_allclose(check.max_ratio, [1.1, 0.1, np.nan, 0.91, 1.0])
    np.testing.assert_allclose(check.hours_above_limit, [0.5, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(check.hours_above_warn, [1.0, 0.0, 0.0, 0.25, 0.5])
    assert check.first_above_limit_step.tolist() == [2, -1, -1, -1, -1]
    assert check.first_above_warn_step.tolist() == [1, -1, -1, 1, 0]
    assert check.first_above_limit_utc is not None
    assert check.first_above_limit_utc[0] == pd.Timestamp("2025-01-01 00:30", tz="UTC")
    assert pd.isna(check.first_above_limit_utc[1])
    assert check.n_missing.tolist() == [0, 1, 6, 0, 0]
    assert check.status.tolist() == ["alarm", "ok", "ok", "warning", "warning"]
    assert check.step_h == 0.25


def test_cable_loading_check_with_step_hours_and_errors() -> None:
    check = cable_loading_check([[120.0, 130.0]], 100.0, warn_ratio=0.8, step_h=1.0)
    assert check.hours_above_limit.tolist() == [2.0]
    assert check.first_above_limit_utc is None
    with pytest.raises(InputError, match="give time_utc"):
        cable_loading_check([[1.0]], 10.0)
    with pytest.raises(InputError, match="warn_ratio"):
        cable_loading_check([[1.0]], 10.0, warn_ratio=1.5, step_h=1.0)
    irregular = pd.DatetimeIndex(
        ["2025-01-01 00:00", "2025-01-01 00:15", "2025-01-01 01:00"], tz="UTC"
    )
    with pytest.raises(DataQualityError, match="not a regular"):
        cable_loading_check(np.ones((1, 3)), 10.0, time_utc=irregular)
    with pytest.raises(InputError, match="2-D"):
        cable_loading_check([1.0, 2.0], 10.0, step_h=1.0)
