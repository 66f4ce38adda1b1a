"""LV cable types from their names, IEC 60364-5-52 ratings of a net's cables and the
installation options of ``gridtwin network check``."""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from gridtwin.cli import app
from gridtwin.errors import InputError
from gridtwin.network._cable_types import iec_line_ratings, parse_cable_type
from tests.network.test_protection import two_feeder_net

runner = CliRunner()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NAYY 4x150SE 0.6/1kV", ("Al", "PVC", 150.0, 4)),  # SimBench's LV cable
        ("NAYY 4x50 SE", ("Al", "PVC", 50.0, 4)),  # pandapower's standard type
        ("NA2XY 4x240", ("Al", "XLPE", 240.0, 4)),
        ("NYY-J 5x16", ("Cu", "PVC", 16.0, 5)),
        ("N2XY 4x95", ("Cu", "XLPE", 95.0, 4)),
        ("15-AL1/3-ST1A 0.4", None),  # an overhead line
        (None, None),
    ],
)
def test_parse_cable_type(name: object, expected: object) -> None:
    assert parse_cable_type(name) == expected


def _typed_net() -> pp.pandapowerNet:
    net = two_feeder_net()
    net.line["std_type"] = ["NAYY 4x150SE 0.6/1kV", "NAYY 4x35", "unknown cable"]
    return net


def test_ratings_of_a_net_follow_the_tables() -> None:
    ratings, notes = iec_line_ratings(_typed_net(), method="D2")
    # Table B.52.4, Al PVC 3 loaded, method D2: 150 mm² 189 A, 35 mm² 83 A
    assert ratings == {0: 189.0, 1: 83.0}
    assert "verification memory" in notes[0]
    assert any("[2]" in n and "not recognised" in n for n in notes)
    hot, _ = iec_line_ratings(
        _typed_net(), method="D2", ground_c=30.0, n_grouped=3,
        arrangement="ground_direct_touching",
    )  # fmt: skip
    # sqrt((70-30)/(70-20)) * 0.65 (Table B.52.18, 3 cables)
    assert hot[0] == pytest.approx(189 * (40 / 50) ** 0.5 * 0.65)


def test_ratings_refuse_bad_conditions() -> None:
    with pytest.raises(InputError, match="ambient_c"):
        iec_line_ratings(_typed_net(), method="D2", ambient_c=25.0)
    with pytest.raises(InputError, match="method='X'"):
        iec_line_ratings(_typed_net(), method="X")


def test_check_cli_with_installation_options(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    pp.to_json(_typed_net(), str(path))
    sb = ["network", "check", "--simbench", "1-LV-rural1--0-sw", "--steps", "0:192"]
    out = runner.invoke(
        app, [*sb, "--format", "json", "--cable-method", "D2", "--ground-c", "25",
              "--grouping", "2", "--arrangement", "ground_direct_touching"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    lines = data["Lines (most loaded first)"]
    assert len(lines) == 13
    # NAYY 4x150: B.52.4 D2 189 A x sqrt((70-25)/(70-20)) x 0.75 (B.52.18, 2 cables)
    expected = 189 * (45 / 50) ** 0.5 * 0.75
    assert all(r["rating_a"] == pytest.approx(expected) for r in lines)
    assert any("IEC 60364-5-52 ratings for 13 LV lines" in n for n in data["notes"])
    args = ["network", "check", "--net", str(path), "--format", "json"]
    bad = runner.invoke(app, [*args, "--grouping", "3"])
    assert bad.exit_code != 0
    assert "--grouping need --cable-method" in bad.output
    bad = runner.invoke(app, [*args, "--cable-method", "D2", "--cable-ambient-c", "35"])
    assert bad.exit_code != 0
    assert "ground_c" in bad.output
