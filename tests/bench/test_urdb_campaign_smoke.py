"""Smoke test of ``bench/urdb_campaign.py`` on records written here.

The records reproduce traits of real URDB records: a three-period seasonal energy structure
with a $/month fixed charge, ``demandunits: "kW"`` and ``dgrules`` (rates and charge of the
Rhode Island Energy "12-RESIDENTIAL HEATING" record quoted in a public repository), and the
same record with demand in kVA, which must be refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "urdb_campaign.py"

RECORD = {
    "label": "ri-like",
    "demandunits": "kW",
    "dgrules": "Net Metering",
    "energyratestructure": [
        [{"rate": 0.084092, "unit": "kWh"}],
        [{"rate": 0.076706, "unit": "kWh"}],
        [{"rate": 0.081833, "unit": "kWh"}],
    ],
    "energyweekdayschedule": [[2] * 24] * 3 + [[0] * 24] * 7 + [[1] * 24] * 2,
    "energyweekendschedule": [[2] * 24] * 3 + [[0] * 24] * 7 + [[1] * 24] * 2,
    "fixedchargefirstmeter": 14.79,
    "fixedchargeunits": "$/month",
}


def test_campaign_counts_and_compares(tmp_path: Path) -> None:
    pytest.importorskip("PySAM.Utilityrate5")
    (tmp_path / "r.json").write_text(
        json.dumps({"items": [RECORD, RECORD | {"label": "kva", "demandunits": "kVA"}]})
    )
    out = subprocess.run(
        [sys.executable, str(BENCH), str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    assert (report["records"], report["imported_strict"]) == (2, 1)
    assert report["refused_by_field"] == {"demandunits": 1}
    (row,) = report["compared_with_pysam"]
    assert row["rel_diff"] < 1e-9
