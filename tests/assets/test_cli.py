"""``gridtwin assets rank|trends`` as a user runs them: the demo register alone, a register
with a store holding the synthetic history of tests/assets/test_workflow.py, JSON and CSV
output, and errors as one line with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gridtwin.store import MeasurementBatch, MeasurementPoint, open_store
from tests.assets.test_workflow import END, T, _series
from tests.cli_util import gridtwin

REGISTER = """\
source: cli test register (invented)
assets:
  - {element: trafo:0, type: transformer, year_installed: 1995, rated_life_years: 40,
     maintenance_interval_years: 6, maintenance: [{date: 2024-05-01}]}
  - {element: line:1, type: line, year_installed: 1995, rated_life_years: 45,
     maintenance_interval_years: 10, maintenance: [{date: 2024-05-01}]}
"""


def _store(tmp_path: Path) -> str:
    location = str(tmp_path / "store")
    with open_store(location, create=True) as s:
        for e, v in _series().items():
            pid = f"twin:{e}:loading"
            s.add_points([MeasurementPoint(pid, "loading", "%", element=e, source="twin")])
            ok = ~np.isnan(v)
            ids = np.full(int(ok.sum()), pid, dtype=object)
            s.write(MeasurementBatch.build(ids, T[ok].tz_localize(None).to_numpy(), v[ok]))
    return location


def test_rank_the_demo_register_alone() -> None:
    code, out = gridtwin("assets", "rank", "--demo-register", "--as-of", "2026-07-01", "--top", "5")
    assert code == 0, out
    assert "Maintenance ranking as of 2026-07-01" in out
    assert "no store" in out
    assert "CNAIM" in out


def test_rank_and_trends_with_a_store(tmp_path: Path) -> None:
    store = _store(tmp_path)
    reg = tmp_path / "r.yaml"
    reg.write_text(REGISTER, encoding="utf-8")
    end = END.isoformat()
    code, out = gridtwin(
        "assets",
        "rank",
        str(reg),
        "--store",
        store,
        "--end",
        end,
        "--window-days",
        "21",
        "--as-of",
        "2026-07-01",
        "--format",
        "json",
    )
    assert code == 0, out
    body = json.loads(out)
    assert [a["element"] for a in body["assets"]] == ["trafo:0", "line:1"]
    assert body["assets"][0]["indicators"]["overload_intervals"] > 0
    code, out = gridtwin(
        "assets",
        "rank",
        str(reg),
        "--store",
        store,
        "--end",
        end,
        "--format",
        "csv",
        "-o",
        str(tmp_path / "r.csv"),
    )
    assert code == 0, out
    assert (tmp_path / "r.csv").read_text().startswith("rank,element,type,health_index")
    code, out = gridtwin("assets", "trends", "--store", store, "--end", end, "--window-days", "21")
    assert code == 0, out
    assert "EARLY WARNING trafo:0" in out
    assert "line:1: loading_percent" in out


def test_errors_are_one_line_with_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text(
        REGISTER.replace("year_installed: 1995, rated", "year_installed: 1800, rated", 1)
    )
    code, out = gridtwin("assets", "rank", str(bad))
    assert code == 2
    assert f"{bad}: asset 1 (trafo:0): year_installed" in out
    code, out = gridtwin("assets", "rank")
    assert code == 2
    assert "REGISTER file or --demo-register" in out
