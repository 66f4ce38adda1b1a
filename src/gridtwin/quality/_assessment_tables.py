"""The tables of an assessment: per phase, per indicator, per point, and the limits applied.

:func:`_detail_frame` turns one evaluation into rows per point × week × phase;
:func:`_indicator_table` keeps the worst phase of each point × week × indicator;
:func:`_points_table` gives one verdict per point; :func:`_limits_table` lists the limits
evaluated. :data:`_ORDER` is the order in which indicators are listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridtwin.quality._counting import _severity
from gridtwin.quality._limits import Indicator, LimitSet
from gridtwin.quality._series import IndicatorSeries
from gridtwin.quality._verdict import IndicatorEvaluation

IntArray = npt.NDArray[np.int64]

_RANK: Final[dict[str, int]] = {"pass": 0, "insufficient data": 1, "fail": 2}
_VERDICTS: Final = ("pass", "insufficient data", "fail")
_ORDER: Final[dict[str, int]] = {
    name: i
    for i, name in enumerate(
        [
            "voltage_deviation",
            "frequency_deviation",
            "frequency_deviation_isolated",
            "unbalance_negative_sequence",
            "unbalance_zero_sequence",
            "thd",
            *[f"harmonic_{n}" for n in range(2, 51)],
            "pst",
            "plt",
        ]
    )
}

#: Columns of :attr:`Assessment.table`, in order.
_TABLE_COLUMNS: Final = (
    "point_id",
    "period_start_utc",
    "period_end_utc",
    "indicator",
    "verdict",
    "worst_phase",
    "phases",
    "n_expected",
    "n_valid",
    "n_flagged",
    "n_missing",
    "availability_percent",
    "n1",
    "n2",
    "t1_percent",
    "t2_percent",
    "value_unit",
    "max_value",
    "min_value",
    "p95_value",
    "p05_value",
    "worst_value",
    "worst_time_utc",
    "clause",
    "limits",
    "rule",
)


def _detail_frame(
    ev: IndicatorEvaluation,
    measured: str,
    cols: tuple[IntArray, tuple[str, ...]],
    point_ids: tuple[str, ...],
    indicator: Indicator,
) -> pd.DataFrame:
    """Rows per point × week × phase of one evaluation of the ``measured`` quantity.

    ``severity`` ranks the phases' worst values against ``indicator``'s widest band
    (1 at its edge, see :func:`gridtwin.quality._counting._severity`).
    """
    k, n = ev.n_valid.shape
    pidx, phases = cols
    col = np.tile(np.arange(n), k)
    per = np.repeat(np.arange(k), n)
    n1: Any = ev.n1.ravel()
    if np.isnan(ev.share_limit_percent):
        n1 = pd.array([pd.NA] * (k * n), dtype="Int64")
    return pd.DataFrame(
        {
            "point_id": np.asarray(point_ids, dtype=object)[pidx[col]],
            "period_start_utc": ev.period_start_utc[per],
            "period_end_utc": ev.period_end_utc[per],
            "indicator": ev.indicator,
            "order": _ORDER.get(ev.indicator, len(_ORDER)),
            "phase": np.asarray(phases, dtype=object)[col],
            "measured": measured,
            "verdict": ev.verdict.ravel(),
            "n_expected": ev.n_expected[per],
            "n_valid": ev.n_valid.ravel(),
            "n_flagged": ev.n_flagged.ravel(),
            "n_missing": ev.n_missing.ravel(),
            "availability_percent": ev.availability_percent.ravel(),
            "n1": n1,
            "n2": ev.n2.ravel(),
            "t1_percent": ev.t1_percent.ravel(),
            "t2_percent": ev.t2_percent.ravel(),
            "value_unit": ev.value_unit,
            "max_value": ev.max_value.ravel(),
            "min_value": ev.min_value.ravel(),
            "p95_value": ev.p95_value.ravel(),
            "p05_value": ev.p05_value.ravel(),
            "worst_value": ev.worst_value.ravel(),
            "severity": _severity(ev.worst_value.ravel(), indicator),
            "worst_time_utc": pd.DatetimeIndex(ev.worst_time_utc.ravel()).tz_localize("UTC"),
            "clause": ev.clause,
            "limits": ev.limits,
            "rule": ev.rule.ravel(),
            "basis": ev.basis,
        }
    )


def _indicator_table(detail: pd.DataFrame) -> pd.DataFrame:
    """Per point × week × indicator: the worst phase's row plus min/max over phases."""
    keys = ["point_id", "period_start_utc", "indicator"]
    worst = _worst_phase_rows(detail, keys)
    agg = _over_phases(detail, keys)
    out = worst.merge(agg.reset_index(), on=keys, how="left")
    out = out.assign(
        worst_phase=out["phase"],
        n_valid=out["n_valid_min"],
        availability_percent=out["availability_min"],
        max_value=out["max_all"],
        min_value=out["min_all"],
        p95_value=out["p95_all"],
        p05_value=out["p05_all"],
    )
    out["order"] = out["indicator"].map(lambda x: _ORDER.get(x, len(_ORDER)))
    out = out.sort_values(["point_id", "period_start_utc", "order"], kind="stable")
    return out[list(_TABLE_COLUMNS)].reset_index(drop=True)


def _worst_phase_rows(detail: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys``: the row of the most severe phase: verdict, then T2, T1, then the
    worst value closest to (or farthest beyond) the widest band, then the first row."""
    rank = detail["verdict"].map(_RANK).to_numpy()
    sev = pd.DataFrame(
        {
            "rank": rank,
            "t2": detail["t2_percent"].fillna(-1.0).to_numpy(),
            "t1": detail["t1_percent"].fillna(-1.0).to_numpy(),
            "closeness": detail["severity"].to_numpy(dtype=np.float64),
            "pos": -np.arange(len(detail)),
        }
    )
    order = np.lexsort((sev["pos"], sev["closeness"], sev["t1"], sev["t2"], sev["rank"]))[::-1]
    return detail.iloc[order].drop_duplicates(keys, keep="first")


def _over_phases(detail: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys``: phases listed, smallest counts and availability, value extremes."""
    g = detail.groupby(keys, sort=False)
    return g.agg(
        phases=("phase", lambda s: ",".join(p for p in s if p) or "-"),
        n_valid_min=("n_valid", "min"),
        availability_min=("availability_percent", "min"),
        max_all=("max_value", "max"),
        min_all=("min_value", "min"),
        p95_all=("p95_value", "max"),
        p05_all=("p05_value", "min"),
    )


def _points_table(table: pd.DataFrame, point_ids: tuple[str, ...]) -> pd.DataFrame:
    """One overall verdict per point, with the indicators that fail or lack data."""
    rank = table["verdict"].map(_RANK)
    g = table.assign(rank=rank).groupby("point_id", sort=False)
    base = g.agg(
        rank=("rank", "max"),
        n_indicators=("indicator", "nunique"),
        n_weeks=("period_start_utc", "nunique"),
        min_availability_percent=("availability_percent", "min"),
    )

    def listing(verdict: str) -> pd.Series:
        sub = table[table["verdict"] == verdict]
        return sub.groupby("point_id", sort=False)["indicator"].agg(
            lambda s: ", ".join(dict.fromkeys(s))
        )

    base["failed_indicators"] = listing("fail")
    base["insufficient_indicators"] = listing("insufficient data")
    base = base.reindex([p for p in point_ids if p in base.index])
    return pd.DataFrame(
        {
            "point_id": base.index.to_numpy(dtype=object),
            "verdict": np.asarray(_VERDICTS, dtype=object)[base["rank"].to_numpy(dtype=np.int64)],
            "n_indicators": base["n_indicators"].to_numpy(),
            "n_weeks": base["n_weeks"].to_numpy(),
            "failed_indicators": base["failed_indicators"].fillna("").to_numpy(dtype=object),
            "insufficient_indicators": base["insufficient_indicators"]
            .fillna("")
            .to_numpy(dtype=object),
            "min_availability_percent": base["min_availability_percent"].to_numpy(),
        }
    )


def _limits_table(ls: LimitSet, indicators: Iterable[Indicator], level: str) -> pd.DataFrame:
    """One row per indicator evaluated: clause, limits, bands, verification."""
    rows = []
    for ind in sorted(
        {i.name: i for i in indicators}.values(),
        key=lambda i: _ORDER.get(i.name, len(_ORDER)),
    ):
        s, m = ind.share_limit, ind.max_limit
        rows.append(
            {
                "indicator": ind.name,
                "clause": ind.clause,
                "citation": ind.citation,
                "quantity": ind.quantity,
                "value_unit": ind.unit,
                "aggregation": ind.aggregation,
                "limits": ind.limits_text(),
                "share_percent": s.share_percent if s else np.nan,
                "share_lower": _num(s.lower if s else None),
                "share_upper": _num(s.upper if s else None),
                "max_lower": _num(m.lower if m else None),
                "max_upper": _num(m.upper if m else None),
                "verification": ind.verification,
                "voltage_level": level,
                "standard": ls.id,
            }
        )
    return pd.DataFrame(rows)


def _num(x: float | None) -> float:
    """NaN for a missing limit edge."""
    return float("nan") if x is None else float(x)


def _point_spans(
    series: Iterable[IndicatorSeries], point_ids: tuple[str, ...]
) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """Per point: the start of its first and the end of its last interval holding data
    (a value or a flag) in any quantity; points without data are left out."""
    first: dict[int, pd.Timestamp] = {}
    last: dict[int, pd.Timestamp] = {}
    for ser in series:
        has = np.isfinite(ser.values) | ser.flagged
        for p in np.unique(ser.point_index):
            rows = np.flatnonzero(has[:, ser.point_index == p].any(axis=1))
            if not rows.size:
                continue
            lo, hi = ser.time_utc[rows[0]], ser.time_utc[rows[-1]] + ser.step
            k = int(p)
            first[k] = min(first.get(k, lo), lo)
            last[k] = max(last.get(k, hi), hi)
    return {point_ids[k]: (first[k], last[k]) for k in first}


def _within_spans(
    detail: pd.DataFrame, spans: dict[str, tuple[pd.Timestamp, pd.Timestamp]]
) -> pd.DataFrame:
    """The rows of periods that overlap their point's own data span: a point measured in
    other weeks than its neighbours is judged on its weeks only. Points without any data
    keep all their rows (``insufficient data``)."""
    if not spans:
        return detail
    pid = detail["point_id"]
    lo = pid.map({p: s[0] for p, s in spans.items()})
    hi = pid.map({p: s[1] for p, s in spans.items()})
    start = pd.DatetimeIndex(detail["period_start_utc"])
    end = pd.DatetimeIndex(detail["period_end_utc"])
    keep = lo.isna().to_numpy() | ((end > pd.DatetimeIndex(lo)) & (start < pd.DatetimeIndex(hi)))
    return detail[keep].reset_index(drop=True)


def _split_week_notes(
    table: pd.DataFrame,
    timezone: str,
    min_availability_percent: float,
    spans: dict[str, tuple[pd.Timestamp, pd.Timestamp]],
) -> list[str]:
    """Notes for points whose first or last observation week lacks data although their
    data would fill a week: the week alignment in ``timezone`` cuts the measuring
    campaign (a Monday 00:00 UTC campaign read in Europe/Moscow leaves a 3-h week)."""
    weekly = table[(table["period_end_utc"] - table["period_start_utc"]) <= pd.Timedelta(days=8)]
    notes = []
    for (pid, ind), g in weekly.groupby(["point_id", "indicator"], sort=False):
        short = (g["verdict"] == "insufficient data").to_numpy()
        if len(g) < 2 or not (short[0] or short[-1]):
            continue
        need = float(g["n_expected"].max()) * min_availability_percent / 100.0
        if float(g["n_valid"].sum()) < need:
            continue
        first = pd.Timestamp(g["period_start_utc"].min()).tz_convert(timezone)
        span = spans.get(str(pid))
        start = first if span is None else pd.Timestamp(span[0]).tz_convert(timezone)
        which = (
            "every observation week lacks data"
            if short.all()
            else f"{int(short.sum())} of {len(g)} observation weeks lack data"
        )
        notes.append(
            f"point {pid}, {ind}: {which} (fewest "
            f"{float(g['availability_percent'].min()):.1f} % < {min_availability_percent:g} %),"
            f" though its {int(g['n_valid'].sum())} valid intervals would fill a week: the "
            f"weeks, aligned in {timezone} from {first:%a %H:%M}, cut the measuring "
            f"campaign. Pass --week-start '{start.isoformat(timespec='minutes')}' (its "
            "first interval, week_start=) to start the weeks with the data, or the "
            "--timezone the weeks were planned in"
        )
    return notes
