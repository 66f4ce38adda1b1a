"""Valid seed inputs of every reader the command line has, and the commands that read them
(issue 17): the fuzz tests and ``bench/fuzz_campaign.py`` corrupt these and run the
commands in-process.

Each :class:`Target` names one reader (a file kind and the option that takes it), the seed
file written by :func:`write_seeds`, the commands run on it (``{F}`` is the corrupted
file, ``{name}`` another seed file, ``{OUT}`` an output path) and what a corruption must
keep to stay valid (its required and numeric columns).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SK_TARIFF = ROOT / "examples" / "sk" / "example_two_band_tariff.yaml"
NORMS = ROOT / "examples" / "heatnet" / "seed-example.yaml"
PUN = ROOT / "examples" / "it" / "pun_monthly_2024_2025.csv"

#: Seed file names in the folder :func:`write_seeds` fills.
SEEDS = {
    "interval_csv": "interval.csv",
    "interval_parquet": "interval.parquet",
    "interval_sk": "interval_sk.csv",
    "interval_it": "interval_it.csv",
    "readings_csv": "readings.csv",
    "tariff_yaml": "tariff.yaml",
    "tariff_json": "tariff_json.yaml",  # JSON text (JSON is YAML 1.2)
    "norms_yaml": "norms.yaml",
    "pq_csv": "pq.csv",
    "events_csv": "events.csv",
    "feeders_csv": "feeders.csv",
    "net_json": "net.json",
    "series_csv": "series.csv",
}


@dataclass(frozen=True)
class Target:
    """One reader: the seed it corrupts and the commands that read the corrupted file."""

    name: str
    kind: str  # csv, parquet, yaml, json, netjson
    commands: tuple[tuple[str, ...], ...]
    required: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    #: Columns whose cells must be finite and non-negative (energy): an infinite or
    #: negative value there is invalid input.
    finite: tuple[str, ...] = ()
    #: Whether a file without rows is invalid (an empty event table is not).
    rows_required: bool = True

    @property
    def seed(self) -> str:
        return SEEDS[self.name]


_BILL_PROPS = ("--prop", "resident=true", "--prop", "contracted_kw=3")

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "interval_csv",
            "csv",
            (
                ("bill", "--tariff", "bench-tou3", "--data", "{F}", "--whole", "--format", "json"),
                ("compare", "--tariff", "it-offerta-fissa-monoraria-0136", "--tariff",
                 "it-offerta-trioraria-esempio", "--data", "{F}", "--meter", "m1", *_BILL_PROPS,
                 "--format", "json"),
            ),
            required=("timestamp",),
            numeric=("m0", "m1"),
            finite=("m0", "m1"),
        ),
        Target(
            "interval_parquet",
            "parquet",
            (("bill", "--tariff", "bench-tou3", "--data", "{F}", "--whole", "--format", "csv"),),
            required=("timestamp",),
            numeric=("m0", "m1"),
            finite=("m0", "m1"),
        ),
        Target(
            "readings_csv",
            "csv",
            (
                ("bill", "--tariff", "it-offerta-trioraria-esempio", "--readings", "{F}",
                 "--pod", "IT001E00000001", "--period", "2025-01-01:2025-03-01", *_BILL_PROPS,
                 "--format", "json"),
            ),
            required=("pod", "register", "read_date", "value_kwh", "kind"),
            numeric=("value_kwh",),
            finite=("value_kwh",),
        ),
        Target(
            "tariff_yaml",
            "yaml",
            (
                ("tariffs", "show", "{F}", "--format", "json"),
                ("tariffs", "show", "{F}"),
                ("bill", "--tariff", "{F}", "--data", "{interval_sk}", "--whole", "--format",
                 "json"),
            ),
        ),
        Target(
            "tariff_json",
            "json",
            (("tariffs", "show", "{F}", "--format", "json"),
             ("bill", "--tariff", "{F}", "--data", "{interval_sk}", "--format", "csv")),
        ),
        Target(
            "norms_yaml",
            "yaml",
            (
                ("norms", "past-year", "{F}", "--format", "json"),
                ("norms", "coming-year", "{F}", "--format", "csv"),
                ("norms", "characteristic", "{F}", "--points", "5", "--format", "json"),
            ),
        ),
        Target(
            "pq_csv",
            "csv",
            (
                ("quality", "assess", "{F}", "--timezone", "Europe/Moscow", "--format", "json"),
                ("quality", "events", "{F}", "--format", "json"),
            ),
            required=("timestamp",),
            numeric=("u_a", "u_b", "u_c"),
        ),
        Target(
            "events_csv",
            "csv",
            (("quality", "assess", "{pq_csv}", "--timezone", "Europe/Moscow", "--events", "{F}",
              "--format", "json"),),
            required=("point_id", "start_utc", "end_utc"),
            rows_required=False,
        ),
        Target(
            "feeders_csv",
            "csv",
            (("quality", "report", "{pq_csv}", "--timezone", "Europe/Moscow", "--feeders", "{F}",
              "--output", "{OUT}.html"),),
            required=("point_id", "feeder"),
            rows_required=False,
        ),
        Target(
            "net_json",
            "netjson",
            (
                ("network", "validate", "--net", "{F}"),
                ("network", "simulate", "--net", "{F}", "--format", "json"),
                ("network", "info", "--net", "{F}", "--format", "json"),
            ),
        ),
        Target(
            "series_csv",
            "csv",
            (("bill", "--tariff", "it-offerta-pun-0028", "--data", "{interval_it}",
              "--series", "PUN={F}", *_BILL_PROPS, "--format", "json"),),
            required=("timestamp", "value"),
            numeric=("value",),
            finite=("value",),
        ),
    )
}  # fmt: skip


def _week(start_local: str, tz: str, meters: int) -> pd.DataFrame:
    """A week of 15-min energy [kWh] from local midnight, timestamps in UTC with 'Z'."""
    first = pd.Timestamp(start_local, tz=tz)
    idx = pd.date_range(first, first + pd.Timedelta(days=7), freq="15min", inclusive="left")
    rng = np.random.default_rng(17)
    frame = pd.DataFrame({"timestamp": idx.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")})
    for m in range(meters):
        frame[f"m{m}"] = np.round(rng.uniform(0.05, 0.4, len(idx)), 3)
    return frame


def _readings() -> str:
    rows = ["pod,register,read_date,value_kwh,kind"]
    for reg, (a, b) in {"F1": (1000, 1180), "F2": (800, 905), "F3": (2000, 2240)}.items():
        rows.append(f"IT001E00000001,{reg},2025-01-01,{a},actual")
        rows.append(f"IT001E00000001,{reg},2025-03-01,{b},estimated")
    return "\n".join(rows) + "\n"


def _pq_week() -> pd.DataFrame:
    """A wide week of 10-min voltages at one point (Moscow), one swell above 10 %."""
    stamps = pd.date_range("2025-06-01T21:00Z", periods=1008, freq="10min")
    rng = np.random.default_rng(16)
    frame = pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), "point_id": "p1"})
    for ph in "abc":
        frame[f"u_{ph}"] = np.round(220 + rng.normal(0, 2, len(stamps)), 2)
    frame.loc[400, "u_b"] = 243.0
    return frame


def _net_json() -> str:
    import pandapower as pp
    import pandapower.networks as pn

    text: str = pp.to_json(pn.example_simple())
    return text


def write_seeds(folder: Path) -> dict[str, Path]:
    """Write every seed into ``folder``; their paths by name (see :data:`SEEDS`)."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / file for name, file in SEEDS.items()}
    week = _week("2025-01-06", "Europe/Rome", 2)
    week.to_csv(paths["interval_csv"], index=False)
    week.to_parquet(paths["interval_parquet"], index=False)
    _week("2019-01-07", "Europe/Bratislava", 1).to_csv(paths["interval_sk"], index=False)
    _week("2025-01-06", "Europe/Rome", 1).to_csv(paths["interval_it"], index=False)
    paths["readings_csv"].write_text(_readings(), encoding="utf-8")
    tariff_text = SK_TARIFF.read_text(encoding="utf-8")
    paths["tariff_yaml"].write_text(tariff_text, encoding="utf-8")
    tariff = yaml.safe_load(tariff_text)
    paths["tariff_json"].write_text(json.dumps(tariff, default=str, indent=1), encoding="utf-8")
    paths["norms_yaml"].write_text(NORMS.read_text(encoding="utf-8"), encoding="utf-8")
    _pq_week().to_csv(paths["pq_csv"], index=False)
    paths["events_csv"].write_text(
        "point_id,kind,start_utc,end_utc\np1,swell,2025-06-04T15:41:00Z,2025-06-04T15:42:00Z\n",
        encoding="utf-8",
    )
    paths["feeders_csv"].write_text("point_id,feeder\np1,F1\n", encoding="utf-8")
    paths["net_json"].write_text(_net_json(), encoding="utf-8")
    pun = pd.read_csv(PUN)
    pd.DataFrame({"timestamp": pun["month_start"], "value": pun["pun_eur_per_mwh"]}).to_csv(
        paths["series_csv"], index=False
    )
    return paths


def command_args(command: tuple[str, ...], corrupted: Path, seeds: dict[str, Path]) -> list[str]:
    """The command's arguments with ``{F}``, ``{OUT}`` and ``{seed}`` filled in."""
    values = {"F": str(corrupted), "OUT": str(corrupted.with_suffix(""))}
    values.update({name: str(path) for name, path in seeds.items()})
    return [arg.format(**values) for arg in command]
