"""Import a folder of real URDB records strictly and, where PySAM is installed, compare bills.

Usage::

    python bench/urdb_campaign.py FOLDER [--json]

FOLDER holds URDB JSON files (one record, a list of records, or an API answer with
``items``). Each record is imported with the default strict settings; the report counts the
records that import and groups the others by the first field refused. A record that imports
is billed for one synthetic year (2018, which starts on a Monday like SAM's year) by gridtwin
and, when ``PySAM`` is importable, by PySAM's ``Utilityrate5``; the largest relative
difference of the annual bill is reported. Records are never copied into the repository: keep
real records in a folder outside it (e.g. /tmp).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from gridtwin.billing import bill
from gridtwin.errors import GridTwinError
from gridtwin.tariffs import tariff_from_urdb
from gridtwin.timeseries import IntervalData, regular_index

YEAR = 2018


def _records(path: Path) -> list[dict[str, Any]]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(raw, dict) and isinstance(raw.get("items"), list):
        raw = raw["items"]
    return [r for r in (raw if isinstance(raw, list) else [raw]) if isinstance(r, dict)]


def _load() -> np.ndarray:
    """One meter, hourly kWh for 2018 with a daily and a seasonal shape."""
    hour = np.arange(8760) % 24
    day = np.arange(8760) // 24
    shape = 0.3 + 0.6 * np.exp(-((hour - 8) ** 2) / 5) + 0.9 * np.exp(-((hour - 19) ** 2) / 7)
    return (shape * (1 + 0.3 * np.cos(2 * np.pi * (day - 200) / 365))).reshape(1, -1)


def _gridtwin_annual(record: dict[str, Any], kwh: np.ndarray) -> float:
    idx = regular_index(f"{YEAR}-01-01", kwh.shape[1], "60min")
    data = IntervalData(idx, kwh, ("m0",))
    return float(bill(tariff_from_urdb(record), data).totals().sum())


def _pysam_annual(record: dict[str, Any], kwh: np.ndarray) -> float | None:
    try:
        import PySAM.Utilityrate5 as ur  # type: ignore[import-untyped]  # noqa: N813
        import PySAM.UtilityRateTools as urt  # type: ignore[import-untyped]  # noqa: N813
    except ImportError:
        return None
    model = ur.new()
    model.ElectricityRates.assign(urt.URDBv8_to_ElectricityRates(copy.deepcopy(record)))
    model.ElectricityRates.rate_escalation = (0.0,)
    model.Lifetime.assign(
        {"analysis_period": 1, "inflation_rate": 0.0, "system_use_lifetime_output": 0}
    )
    model.SystemOutput.degradation = (0.0,)
    model.SystemOutput.gen = (0.0,) * kwh.shape[1]
    model.Load.load = tuple(kwh[0].tolist())
    model.execute(0)
    return float(model.Outputs.utility_bill_wo_sys_year1)


def campaign(folder: Path) -> dict[str, Any]:
    """Counts of the campaign over every JSON file of ``folder``."""
    kwh = _load()
    total, imported = 0, 0
    refused: Counter[str] = Counter()
    compared: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        try:
            records = _records(path)
        except (OSError, ValueError) as exc:
            refused[f"unreadable file ({type(exc).__name__})"] += 1
            continue
        for record in records:
            total += 1
            try:
                ours = _gridtwin_annual(record, kwh)
            except GridTwinError as exc:
                text = str(exc)
                field = (
                    text.split("URDB field `")[1].split("`")[0]
                    if "URDB field `" in text
                    else text[:60]
                )
                refused[field] += 1
                continue
            imported += 1
            try:
                theirs = _pysam_annual(record, kwh)
            except Exception as exc:
                compared.append(
                    {"file": path.name, "label": record.get("label"), "pysam_error": str(exc)[:80]}
                )
                continue
            if theirs is not None:
                rel = abs(ours - theirs) / max(abs(theirs), 1e-9)
                compared.append(
                    {
                        "file": path.name,
                        "label": record.get("label"),
                        "gridtwin": ours,
                        "pysam": theirs,
                        "rel_diff": rel,
                    }
                )
    return {
        "records": total,
        "imported_strict": imported,
        "refused_by_field": dict(refused.most_common()),
        "compared_with_pysam": compared,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args()
    report = campaign(args.folder)
    if args.json:
        json.dump(report, sys.stdout, indent=2, default=str)
        return
    print(f"records: {report['records']}, imported strictly: {report['imported_strict']}")
    for field, n in report["refused_by_field"].items():
        print(f"  refused by {field}: {n}")
    for row in report["compared_with_pysam"]:
        print(f"  {row}")


if __name__ == "__main__":
    main()
