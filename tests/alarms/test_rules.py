"""Rule files: the schema, its errors (file and field path, all at once), limit references
and the default rules against the limits the quality package uses."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridtwin.alarms import AlarmRule, default_rules, load_rules
from gridtwin.errors import InputError
from gridtwin.quality import evaluate_voltage_pu, get_limit_set

from ._helpers import rule, ruleset

STANDARDS = ("GOST 32144-2013", "EN 50160:2010")


def test_default_rules_load_for_both_standards() -> None:
    for std in STANDARDS:
        rules = default_rules(std)
        assert rules.standard == std
        assert len(rules.rules) >= 8
        assert {r.priority for r in rules.rules} == {"critical", "high", "medium", "low"}
        assert all(r.source for r in rules.rules)
        assert rules.config.max_shelve_s == 8 * 3600
        assert rules.config.chattering_activations == 3
        assert rules.config.chattering_window_s == 60


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("level", ["LV", "MV"])
def test_default_voltage_band_is_the_quality_packages_band(standard: str, level: str) -> None:
    """The alarm limits equal the band quality's evaluation of simulated voltages uses."""
    rules = default_rules(standard)
    high = rules.rule(f"customer-voltage-high-{level.lower()}")
    low = rules.rule(f"customer-voltage-low-{level.lower()}")
    band = get_limit_set(standard).indicator(level, "voltage_deviation").narrowest_limit
    assert high.limit == band.upper
    assert low.limit == band.lower
    u0 = 0.95  # 380 V on a 0.4 kV base
    times = pd.date_range("2026-03-02", periods=7 * 96, freq="15min", tz="UTC")
    ev = evaluate_voltage_pu(
        np.ones((len(times), 1)), times, standard, level, timezone="UTC", u0_pu=u0
    )
    assert math.isclose(high.limit_for(u0), ev.band_upper_pu, rel_tol=1e-12)
    assert math.isclose(low.limit_for(u0), ev.band_lower_pu, rel_tol=1e-12)


def test_default_voltage_reference_names_the_clause_and_band() -> None:
    gost = default_rules("GOST 32144-2013").rule("customer-voltage-high-lv")
    en = default_rules("EN 50160:2010").rule("customer-voltage-low-lv")
    assert gost.reference is not None
    assert "GOST 32144-2013 4.2.2" in gost.reference
    assert "100 % band" in gost.reference
    assert en.reference is not None
    assert "95 % band" in en.reference
    assert any("not verified" in n for n in gost.notes)


def test_default_loading_rules_use_the_rating() -> None:
    rules = default_rules()
    line = rules.rule("line-loading-high")
    assert (line.quantity, line.table, line.direction, line.limit) == (
        "loading_percent",
        "line",
        "high",
        100.0,
    )
    assert line.reference == "rating"
    assert line.kind == "potential"
    assert rules.rule("trafo-hot-spot-critical").latching


def test_explicit_standard_band_and_its_100_percent_band() -> None:
    rs = ruleset(
        rule(
            id="v-low",
            quantity="vm_pu",
            elements={"table": "bus", "voltage_level": "LV"},
            limit={"kind": "low", "reference": "standard:EN 50160:2010:LV.voltage_deviation.max"},
        ),
        rule(
            id="dev-high",
            quantity="voltage_deviation_percent",
            elements={"table": "bus", "voltage_level": "MV"},
            limit={"kind": "high", "reference": "standard:EN 50160:2010:MV.voltage_deviation.max"},
        ),
    )
    low, dev = rs.rules
    assert low.limit == -15.0
    assert math.isclose(low.limit_for(1.0), 0.85)
    assert dev.limit == 15.0
    assert dev.limit_for(0.95) == 15.0


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rule_file_errors_are_all_reported_with_file_and_field_path(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
schema_version: 1
id: bad
title: bad rules
source: test
rules:
  - id: a
    quantity: loading_percent
    elements: {table: line}
    limit: {kind: upper, value: 100}
    priority: high
    message: "{element}"
    source: x
  - id: b
    quantity: loading_percent
    elements: {table: line, ids: []}
    limit: {kind: high, value: 100, reference: rating}
    priority: urgent
    delay_on_s: -1
    message: "{elem}"
    source: x
    colour: red
""",
    )
    with pytest.raises(InputError) as exc:
        load_rules(path)
    text = str(exc.value)
    lines = text.splitlines()
    assert all(line.startswith(f"{path}: rules.") for line in lines), text
    for fragment in (
        "rules.0.limit.kind:",
        "rules.1.elements.ids:",
        "rules.1.limit: ",
        "exactly one of `value`",
        "rules.1.priority:",
        "rules.1.delay_on_s:",
        "rules.1.message:",
        "unknown field(s) ['elem']",
        "rules.1.colour: unknown field",
    ):
        assert fragment in text, fragment
    assert len(lines) >= 7


def test_reference_errors_are_collected_per_rule(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
schema_version: 1
id: refs
title: reference errors
source: test
rules:
  - id: a
    quantity: vm_pu
    elements: {table: bus, voltage_level: LV}
    limit: {kind: high, reference: "standard:IEC 9999:LV.voltage_deviation"}
    priority: high
    message: "{element}"
    source: x
  - id: b
    quantity: vm_pu
    elements: {table: bus, voltage_level: LV}
    limit: {kind: high, reference: "standard:*:LV.voltage_deviation"}
    priority: high
    message: "{element}"
    source: x
  - id: c
    quantity: vm_pu
    elements: {table: bus, voltage_level: LV}
    limit: {kind: high, reference: "standard:GOST 32144-2013:LV.voltage_deviation.share"}
    priority: high
    message: "{element}"
    source: x
""",
    )
    with pytest.raises(InputError) as exc:
        load_rules(path)
    lines = str(exc.value).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{path}: rules.0.limit.reference: unknown standard 'IEC 9999'")
    assert lines[1].startswith(f"{path}: rules.1.limit.reference: uses `*`")
    assert lines[2].startswith(f"{path}: rules.2.limit.reference: GOST 32144-2013 LV.voltage")
    assert "no 'share' band" in lines[2]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        (
            {"limit": {"kind": "high", "reference": "rating"}, "quantity": "hot_spot_c"},
            "needs a quantity in percent",
        ),
        (
            {"limit": {"kind": "high", "reference": "standard:*:LV.voltage_deviation"}},
            "applies to ['vm_pu', 'voltage_deviation_percent']",
        ),
        (
            {
                "quantity": "vm_pu",
                "elements": {"table": "bus"},
                "limit": {"kind": "high", "reference": "standard:*:LV.voltage_deviation"},
            },
            "set elements.voltage_level: LV",
        ),
        ({"limit": {"kind": "high", "reference": "nameplate"}}, "must be 'rating' or"),
        ({"limit": {"kind": "high"}}, "exactly one of"),
        ({"message": "{value:.2q}"}, "bad message template"),
        ({"id": "has space"}, "rules.0.id"),
        ({"elements": {"table": "Line"}}, "rules.0.elements.table"),
    ],
)
def test_bad_rule_fields(fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(InputError, match=r"test\.yaml: rules\.0") as exc:
        ruleset(rule(**fields))
    assert fragment in str(exc.value)


def test_duplicate_rule_ids_and_bad_system_settings() -> None:
    with pytest.raises(InputError, match="rule id 'line-high' is used twice"):
        ruleset(rule(), rule())
    with pytest.raises(InputError, match=r"system.chattering_activations"):
        ruleset(rule(), system={"chattering_activations": 1})
    with pytest.raises(InputError, match=r"system.max_shelve_s"):
        ruleset(rule(), system={"max_shelve_s": 0})


def test_unknown_standard_for_default_rules_and_unknown_rule() -> None:
    with pytest.raises(InputError, match="use one of"):
        default_rules("IEEE 1159")
    with pytest.raises(InputError, match="no rule 'nope'"):
        default_rules().rule("nope")


def test_unreadable_and_toml_rule_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        load_rules(tmp_path / "missing.yaml")
    toml = tmp_path / "rules.toml"
    toml.write_text(
        """
schema_version = 1
id = "t"
title = "toml rules"
source = "test"
[[rules]]
id = "hot"
quantity = "hot_spot_c"
elements = {table = "trafo", ids = [0, "1"]}
limit = {kind = "high", value = 120.0}
priority = "high"
message = "{element} {value:.0f} C"
source = "IEC 60076-7"
""",
        encoding="utf-8",
    )
    (hot,) = load_rules(toml).rules
    assert isinstance(hot, AlarmRule)
    assert hot.ids == frozenset({"0", "1"})
    assert hot.message_for("trafo:0", 125.4, 120.0) == "trafo:0 125 C"


def test_importing_alarms_loads_no_heavy_library() -> None:
    import json
    import subprocess
    import sys

    code = (
        "import sys, json, gridtwin.alarms\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    heavy = {"pandas", "numpy", "pyarrow", "pandapower", "power_grid_model", "scipy", "numba"}
    assert loaded & heavy == set()
