"""Italian offer comparison a household can use: from register readings as well as from
interval data, PUN offers priced with the bundled monthly PUN, eligibility shown.

* :func:`readings_profile`: hourly consumption rebuilt from register readings, each
  register's kWh between two readings spread evenly over the hours of its band (F1, F2,
  F3 of ARERA delibera 181/06; a ``total`` register over every hour). Band totals are
  kept exactly; how consumption moves between the hours of one band is not known from
  readings, so offers priced by hour inside a band see the band's average.
* :func:`bundled_series`: the PUN series a tariff needs and the caller did not give, from
  ``tariffs/data/it/pun.csv``: ``PUN`` (monthly single band), ``PUN_F1``..``PUN_F3``
  (monthly per band) and ``PUN_FASCE`` (hourly: each hour at its month's PUN of its band).
* :func:`offer_eligibility`: who may take an offer. Since 1 July 2024 the servizio di
  tutela della vulnerabilità is only for vulnerable customers (over 75, bonus sociale,
  disability, life-saving equipment, emergency housing, minor islands); for others it is
  shown, marked, and not ranked.
* :class:`ItalianComparison`: the ranking with an ``eligible`` and a ``note`` column.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridtwin.billing import Comparison, compare
from gridtwin.calendar import get_calendar
from gridtwin.errors import InputError
from gridtwin.ingest import read_register_readings
from gridtwin.tariffs import Tariff, get_tariff
from gridtwin.tariffs._schema import IndexedEnergyCharge
from gridtwin.timeseries import IntervalData
from gridtwin.workflows.it_bill import _dates, _index

__all__ = [
    "VULNERABLE_ONLY_FROM",
    "ItalianComparison",
    "bundled_series",
    "offer_eligibility",
    "readings_profile",
]

#: From this date the tutela della vulnerabilità is only for vulnerable customers
#: (end of maggior tutela for the others; seed 001: "a luglio 2024 è avvenuto il
#: passaggio obbligatorio al mercato libero ... per tutti i clienti domestici non
#: vulnerabili").
VULNERABLE_ONLY_FROM = dt.date(2024, 7, 1)
_CALENDAR = "it-arera-181-06"
_TZ = "Europe/Rome"


def readings_profile(
    readings: str | Path, pod: str | None = None
) -> tuple[IntervalData, list[tuple[dt.date, dt.date]]]:
    """Hourly consumption rebuilt from register readings (see the module docstring),
    and the periods between consecutive reading dates."""
    pod_id, by_date = _dates(read_register_readings(readings), pod)
    dates = sorted(by_date)
    cal = get_calendar(_CALENDAR)
    parts, periods = [], []
    for a, b in itertools.pairwise(dates):
        kwh = {
            r: hi - lo
            for (r, hi), lo in zip(
                _index(by_date[b]).items(), _index(by_date[a]).values(), strict=True
            )
        }
        if any(v < 0 for v in kwh.values()):
            msg = f"pod {pod_id!r}: an index decreases between {a} and {b}: {kwh}"
            raise InputError(msg)
        start = pd.Timestamp(a).tz_localize(_TZ).tz_convert("UTC")
        end = pd.Timestamp(b).tz_localize(_TZ).tz_convert("UTC")
        idx = pd.date_range(start, end, freq="1h", inclusive="left")
        parts.append(pd.Series(_spread(cal, idx, kwh), index=idx))
        periods.append((a, b))
    series = pd.concat(parts)
    data = IntervalData(pd.DatetimeIndex(series.index), series.to_numpy()[np.newaxis, :], (pod_id,))
    return data, periods


def _spread(cal: Any, idx: pd.DatetimeIndex, kwh: Mapping[str, float]) -> np.ndarray:
    """Each register's kWh evenly over the hours of its band in ``idx``."""
    if set(kwh) <= {"total", "F0"} and len(kwh) == 1:
        return np.full(len(idx), sum(kwh.values()) / len(idx))
    for schedule in cal.schedule_names():
        if set(cal.bands(schedule)) == set(kwh):
            assigned = cal.assign(idx, pd.Timedelta(hours=1), schedule)
            hours = np.bincount(assigned.codes, minlength=len(assigned.bands))
            per_hour = np.array(
                [kwh[b] / h if h else 0.0 for b, h in zip(assigned.bands, hours, strict=True)]
            )
            return np.asarray(per_hour[assigned.codes], dtype=np.float64)
    msg = f"readings of registers {sorted(kwh)} match no band set of calendar {_CALENDAR}"
    raise InputError(msg)


def _pun_frame() -> pd.DataFrame:
    path = resources.files("gridtwin.tariffs") / "data" / "it" / "pun.csv"
    with resources.as_file(path) as file:
        frame = pd.read_csv(file, comment="#")
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], utc=True))
    return frame


def bundled_series(
    tariffs: Sequence[Tariff], given: Mapping[str, pd.Series] | None = None
) -> tuple[dict[str, pd.Series], list[str]]:
    """The series the tariffs' indexed components need that ``given`` lacks, from the
    bundled PUN file, merged with ``given``; and notes saying which were bundled."""
    out = dict(given or {})
    needed = {
        c.series
        for t in tariffs
        for doc in t.documents()
        for v in doc.versions
        for c in v.components
        if isinstance(c, IndexedEnergyCharge)
    }
    missing = sorted(needed - set(out))
    if not missing:
        return out, []
    frame = _pun_frame()
    notes = []
    for name in missing:
        col = {"PUN": "value", "PUN_F1": "F1", "PUN_F2": "F2", "PUN_F3": "F3"}.get(name)
        if col is not None:
            s = frame[col].dropna()
            out[name] = pd.Series(s.to_numpy(dtype=float), index=s.index)
        elif name == "PUN_FASCE":
            out[name] = _pun_by_band_hourly(frame)
        else:
            continue
        notes.append(
            f"series {name}: the bundled monthly PUN (tariffs/data/it/pun.csv, "
            f"{frame.index[0].tz_convert(_TZ):%Y-%m} to "
            f"{frame.index[-1].tz_convert(_TZ):%Y-%m}; partly provisional, see "
            "the file); give --series to use other prices"
        )
    return out, notes


def _pun_by_band_hourly(frame: pd.DataFrame) -> pd.Series:
    """Every hour of the bundled months at its month's PUN of its F1/F2/F3 band."""
    banded = frame.dropna(subset=["F1", "F2", "F3"])
    start = banded.index[0]
    end = (banded.index[-1].tz_convert(_TZ) + pd.offsets.MonthBegin(1)).tz_convert("UTC")
    idx = pd.date_range(start, end, freq="1h", inclusive="left")
    cal = get_calendar(_CALENDAR)
    assigned = cal.assign(idx, pd.Timedelta(hours=1), "F123")
    month_row = banded.index.searchsorted(idx, side="right") - 1
    table = banded[list(assigned.bands)].to_numpy(dtype=float)
    values = table[month_row, assigned.codes]
    return pd.Series(values, index=idx)


def offer_eligibility(
    tariff: Tariff, vulnerable: bool, on: dt.date | None = None
) -> tuple[bool, str]:
    """Whether a household may take ``tariff`` and why not."""
    for_vulnerable = tariff.id.startswith("it-tutela-vulnerabili")
    if for_vulnerable and not vulnerable and (on is None or on >= VULNERABLE_ONLY_FROM):
        return False, (
            "solo clienti vulnerabili dal 1° luglio 2024 (over 75, bonus sociale, "
            "disabili, apparecchiature salvavita...): riferimento, non scelta"
        )
    return True, ""


@dataclass(frozen=True)
class ItalianComparison:
    """Rank Italian offers for one household (interval data or register readings).

    Attributes
    ----------
    tariffs : sequence of Tariff, str or Path
    data : IntervalData, str or Path, optional
        Interval energy; or give ``readings``.
    readings : str or Path, optional
        Register readings CSV (``pod, register, read_date, value_kwh, kind``).
    pod, meter : str, optional
    vulnerable : bool
        The household is a vulnerable customer (may take the tutela offer).
    customers, series, periods
        As in :class:`gridtwin.workflows.billing.OfferComparison`.
    """

    tariffs: Sequence[Tariff | str | Path]
    data: IntervalData | str | Path | None = None
    readings: str | Path | None = None
    pod: str | None = None
    meter: str | None = None
    timezone: str | None = None
    vulnerable: bool = False
    periods: Sequence[tuple[dt.date, dt.date]] | None = None
    customers: Mapping[str, Any] = field(default_factory=dict)
    series: Mapping[str, pd.Series] = field(default_factory=dict)

    def run(self) -> Comparison:
        """Bill and rank: eligible offers first, cheapest first; the others after them,
        marked."""
        from gridtwin.workflows.billing import _data, _meter_row

        tariffs = [t if isinstance(t, Tariff) else get_tariff(str(t)) for t in self.tariffs]
        notes: list[str] = []
        if self.readings is not None:
            data, _between = readings_profile(self.readings, self.pod)
            meter = 0
            notes.append(
                "from register readings: each band's kWh spread evenly over the band's hours"
            )
        elif self.data is not None:
            data = _data(self.data, self.timezone)
            meter = _meter_row(data, self.meter) if self.meter else 0
        else:
            msg = "give --data FILE (interval data) or --readings FILE (register readings)"
            raise InputError(msg)
        series, bundled = bundled_series(tariffs, self.series)
        c = compare(
            tariffs,
            data,
            meter=meter,
            periods=list(self.periods) if self.periods else None,
            customers=dict(self.customers),
            series=series,
        )
        return _with_eligibility(c, tariffs, self.vulnerable, [*notes, *bundled])


def _with_eligibility(
    c: Comparison, tariffs: Sequence[Tariff], vulnerable: bool, notes: list[str]
) -> Comparison:
    """Add ``eligible`` and ``note``; rank eligible offers first; savings among them."""
    by_id = {t.id: t for t in tariffs}
    start = c.periods[0][0]
    elig = [offer_eligibility(by_id[i], vulnerable, start) for i in c.table["tariff_id"]]
    table = c.table.copy()
    table["eligible"] = [e for e, _ in elig]
    table["note"] = [n for _, n in elig]
    table = table.sort_values(["eligible", "total"], ascending=[False, True], kind="stable")
    table = table.reset_index(drop=True)
    ok = table["eligible"]
    if ok.any():
        best, worst = table.loc[ok, "total"].min(), table.loc[ok, "total"].max()
        table["extra_vs_best"] = table["total"] - best
        table["saving_vs_worst"] = worst - table["total"]
    return replace(c, table=table, notes=(*notes, *c.notes))
