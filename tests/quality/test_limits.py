"""Limit sets as data: built-in GOST 32144-2013 and EN 50160:2010 values, user-defined files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

import gridtwin.quality as quality
from gridtwin.errors import InputError
from gridtwin.quality import (
    builtin_limit_set_ids,
    get_limit_set,
    limit_set_from_dict,
    load_limit_set,
)

GOST = "GOST 32144-2013"
EN = "EN 50160:2010"


def builtin_yaml(name: str) -> str:
    return (resources.files("gridtwin.quality") / "data" / name).read_text(encoding="utf-8")


def test_public_api_is_complete() -> None:
    for name in quality.__all__:
        assert getattr(quality, name) is not None
    assert {
        "evaluate",
        "evaluate_voltage_pu",
        "load_limit_set",
        "get_limit_set",
        "infer_voltage_unit",
        "under_over_deviation",
    } <= set(quality.__all__)


def test_builtin_sets_cover_lv_and_mv() -> None:
    assert set(builtin_limit_set_ids()) == {GOST, EN}
    for sid in (GOST, EN):
        ls = get_limit_set(sid)
        assert ls.levels() == ("LV", "MV")
        for level in ("LV", "MV"):
            names = ls.indicator_names(level)
            for needed in (
                "frequency_deviation",
                "voltage_deviation",
                "plt",
                "unbalance_negative_sequence",
                "thd",
                "harmonic_5",
            ):
                assert needed in names
            for name in names:
                ind = ls.indicator(level, name)
                assert ind.clause
                assert ind.verification in ("corpus", "memory")
                assert ind.share_limit is not None or ind.max_limit is not None


def test_gost_values() -> None:
    ls = get_limit_set(GOST)
    f = ls.indicator("LV", "frequency_deviation")
    assert (f.unit, f.aggregation, f.verification) == ("Hz", "10s", "corpus")
    assert f.share_limit is not None
    assert f.max_limit is not None
    assert (f.share_limit.share_percent, f.share_limit.lower, f.share_limit.upper) == (
        95.0,
        -0.2,
        0.2,
    )
    assert (f.max_limit.lower, f.max_limit.upper) == (-0.4, 0.4)
    for level in ("LV", "MV"):
        v = ls.indicator(level, "voltage_deviation")
        # GOST: dU(-), dU(+) <= 10 % for 100 % of the week, no 95 % clause, no -15 %
        assert v.share_limit is None
        assert v.max_limit is not None
        assert (v.max_limit.lower, v.max_limit.upper) == (-10, 10)
        assert v.kind == "voltage_under_over_deviation"
        assert v.aggregation == "10min"
        k2u = ls.indicator(level, "unbalance_negative_sequence")
        assert k2u.limits_text() == "95 %: <= 2 %; 100 %: <= 4 %"
        assert ls.indicator(level, "pst").limits_text() == "100 %: <= 1.38"
        plt = ls.indicator(level, "plt")
        assert (plt.aggregation, plt.limits_text()) == ("2h", "100 %: <= 1")
    assert ls.indicator("LV", "thd").limits_text() == "95 %: <= 8 %; 100 %: <= 12 %"
    assert ls.indicator("MV", "thd").limits_text() == "95 %: <= 5 %; 100 %: <= 8 %"
    h5 = ls.indicator("LV", "harmonic_5")
    assert h5.share_limit is not None
    assert h5.max_limit is not None
    assert (h5.share_limit.upper, h5.max_limit.upper) == (6.0, 9.0)  # 100 % = 1.5 x table
    assert ls.indicator("LV", "harmonic_15").share_limit == quality.Limit(95.0, None, 0.3)
    assert ls.indicator("MV", "harmonic_5").share_limit == quality.Limit(95.0, None, 4.0)
    assert [n for n in ls.indicator_names("LV") if n.startswith("harmonic_")] == [
        f"harmonic_{n}" for n in range(2, 41)
    ]
    assert "unbalance_zero_sequence" in ls.indicator_names("LV")
    assert "unbalance_zero_sequence" not in ls.indicator_names("MV")
    assert (ls.nominal_voltage_v("LV"), ls.nominal_voltage_v("LV", line=True)) == (220, 380)
    assert ls.nominal_voltage_v("MV") is None


def test_en_50160_values() -> None:
    ls = get_limit_set(EN)
    lv = ls.indicator("LV", "voltage_deviation")
    assert lv.kind == "voltage_rms_deviation"
    assert lv.limits_text() == "95 %: -10 .. +10 %; 100 %: -15 .. +10 %"
    assert ls.indicator("MV", "voltage_deviation").limits_text() == (
        "99 %: -10 .. +10 %; 100 %: -15 .. +15 %"
    )
    f = ls.indicator("LV", "frequency_deviation")
    assert (f.unit, f.observation) == ("percent", "year")
    assert f.limits_text() == "99.5 %: -1 .. +1 %; 100 %: -6 .. +4 %"
    assert ls.indicator("LV", "plt").limits_text() == "95 %: <= 1"
    assert "pst" not in ls.indicator_names("LV")
    assert ls.indicator("LV", "harmonic_15").share_limit == quality.Limit(95.0, None, 0.5)
    assert "harmonic_26" not in ls.indicator_names("LV")
    assert ls.indicator("LV", "harmonic_25").max_limit is None
    assert (ls.nominal_voltage_v("LV"), ls.nominal_voltage_v("LV", line=True)) == (230, 400)


def test_unverified_limits_carry_notes() -> None:
    thd = get_limit_set(GOST).indicator("LV", "thd")
    assert thd.verification == "memory"
    assert any("not verified" in n for n in thd.verification_notes())
    freq = get_limit_set(GOST).indicator("LV", "frequency_deviation")
    assert not any("limit values not verified" in n for n in freq.verification_notes())


def test_unknown_indicator_and_level_are_named() -> None:
    ls = get_limit_set(GOST)
    with pytest.raises(InputError, match=r"no indicator 'thd_percent' at LV; available: .*thd"):
        ls.indicator("LV", "thd_percent")
    with pytest.raises(InputError, match=r"no voltage level 'HV'"):
        ls.indicator("HV", "thd")
    with pytest.raises(InputError, match=r"no built-in limit set 'GOST 32144'.*load_limit_set"):
        get_limit_set("GOST 32144")


def test_user_defined_set_loads_with_the_same_schema(tmp_path: Path) -> None:
    data = yaml.safe_load(builtin_yaml("gost_32144_2013.yaml"))
    data["id"] = "project early warning"
    data["levels"]["LV"]["indicators"]["voltage_deviation"]["limits"] = [
        {"share_percent": 100, "lower": -5.0, "upper": 5.0}
    ]
    path = tmp_path / "warning.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ls = load_limit_set(path)
    assert ls.id == "project early warning"
    assert ls.indicator("LV", "voltage_deviation").limits_text() == "100 %: -5 .. +5 %"
    assert ls.indicator("LV", "harmonic_5").max_limit == quality.Limit(100.0, None, 9.0)


def test_user_defined_toml_set(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        """
schema_version = 1
id = "site"
title = "site limits"
edition = "2026"
source = "contract"
nominal_frequency_hz = 50.0
[week_start]
weekday = "wed"
time_local = "12:00"
status = "measurement campaign start"
[levels.LV]
label = "LV"
reference_voltage = "U_nom"
nominal_voltage_phase_v = 230.0
[levels.LV.indicators.thd]
clause = "contract 3.1"
quantity = "THD"
kind = "magnitude"
unit = "percent"
aggregation = "10min"
limits = [{share_percent = 95, upper = 6.5}]
verification = "corpus"
[levels.LV.harmonics]
clause = "contract 3.2"
verification = "corpus"
limits_percent_of_u1 = {"5" = 5.0, "7" = 4.0}
""",
        encoding="utf-8",
    )
    ls = load_limit_set(path)
    assert ls.default_week_start == "wed 12:00"
    assert ls.indicator_names("LV") == ("thd", "harmonic_5", "harmonic_7")


def test_typo_field_names_file_and_field(tmp_path: Path) -> None:
    text = builtin_yaml("en_50160_2010.yaml").replace(
        '      thd:\n        clause: "4.2.5"\n',
        '      thd:\n        clause: "4.2.5"\n        limts: []\n',
        1,
    )
    path = tmp_path / "typo.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_limit_set(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "levels.LV.indicators.thd.limts: unknown field" in msg


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (
            {"limits": [{"share_percent": 100, "upper": 4}, {"share_percent": 100, "upper": 5}]},
            "at most one band with share_percent 100",
        ),
        ({"limits": [{"share_percent": 95, "lower": 2.0, "upper": 4}]}, "must be negative"),
        ({"limits": [{"share_percent": 95}]}, "needs `lower`, `upper` or both"),
        (
            {"kind": "magnitude", "limits": [{"share_percent": 95, "lower": -1, "upper": 4}]},
            "give only `upper`",
        ),
        ({"aggregation": "15min"}, "aggregation"),
    ],
)
def test_invalid_indicator_is_refused(patch: dict[str, object], expected: str) -> None:
    data = yaml.safe_load(builtin_yaml("gost_32144_2013.yaml"))
    data["levels"]["LV"]["indicators"]["thd"].update(patch)
    with pytest.raises(InputError, match=expected) as info:
        limit_set_from_dict(data, "mine.yaml")
    assert "mine.yaml: levels.LV.indicators.thd" in str(info.value)


def test_invalid_set_fields_are_refused() -> None:
    data = yaml.safe_load(builtin_yaml("gost_32144_2013.yaml"))
    data["week_start"]["time_local"] = "24:00"
    data["levels"]["HV"] = data["levels"]["MV"]
    with pytest.raises(InputError) as info:
        limit_set_from_dict(data, "mine.yaml")
    msg = str(info.value)
    assert "mine.yaml: week_start: `time_local` '24:00'" in msg
    assert "mine.yaml: levels.HV" in msg


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.yaml: cannot read file"):
        load_limit_set(tmp_path / "missing.yaml")
