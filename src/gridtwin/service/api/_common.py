"""What the API's areas share: strict input models, UTC times, frames to rows, bounds."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

from gridtwin.errors import InputError, NotFoundError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    from fastapi import Response

    from gridtwin.store import MeasurementStore

__all__ = [
    "InputModel",
    "OutputModel",
    "UtcTime",
    "check_span",
    "json_response",
    "known_points",
    "none_if_nan",
    "py_time",
    "records",
    "utc_datetimes",
]

_FIRST_YEAR, _LAST_YEAR = 1900, 2200


class InputModel(BaseModel):
    """Request bodies: unknown fields forbidden, NaN and infinity refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class OutputModel(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(extra="forbid")


def _to_utc(t: dt.datetime) -> dt.datetime:
    if not _FIRST_YEAR <= t.year <= _LAST_YEAR:
        msg = f"time {t.isoformat()} is outside the years {_FIRST_YEAR}-{_LAST_YEAR}"
        raise ValueError(msg)
    return t.astimezone(dt.UTC)


#: A time with a zone (``Z`` or an offset), converted to UTC; years 1900-2200.
UtcTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


def check_span(
    start: dt.datetime, end: dt.datetime, step_s: float, limit: int, *, per: str = "point"
) -> int:
    """The number of values a query ``[start, end)`` at ``step_s`` [s] may return; an
    InputError naming the limit when above ``limit``."""
    if end <= start:
        msg = f"end {end.isoformat()} must be after start {start.isoformat()}"
        raise InputError(msg)
    span_s = (end - start).total_seconds()
    n = math.ceil(span_s / step_s)
    if n > limit:
        msg = (
            f"the query spans {span_s:,.0f} s at a step of {step_s:g} s: {n:,} values per "
            f"{per}, above the limit of {limit:,} (max_query_points, "
            "GRIDTWIN_MAX_QUERY_POINTS); narrow start/end or give a coarser step_s"
        )
        raise InputError(msg)
    return n


def known_points(
    store: MeasurementStore, point_ids: Iterable[str], have: Collection[str] | None = None
) -> list[str]:
    """``point_ids`` if the store has them all (``have``: its point ids, when the caller
    already read them); a NotFoundError naming the others."""
    ids = list(dict.fromkeys(point_ids))
    if have is None:
        have = {p.point_id for p in store.points()}
    missing = [p for p in ids if p not in have]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        msg = f"no measurement point {shown}{more}; GET /api/v1/points lists them"
        raise NotFoundError(msg)
    return ids


def json_response(body: BaseModel) -> Response:
    """``body`` serialised once, as the route's answer.

    A route that returns its response model has FastAPI validate it again against that
    model (every nested item a second time) before serialising it; the hot read routes
    build their models themselves and answer with this instead (the route still declares
    ``response_model`` for the OpenAPI description, and the schema tests check the bodies)."""
    from fastapi import Response

    return Response(content=body.model_dump_json(), media_type="application/json")


def none_if_nan(value: Any) -> float | None:
    """A float, or None for NaN/None (JSON has no NaN)."""
    if value is None:
        return None
    f = float(value)
    return None if math.isnan(f) else f


def py_time(value: Any) -> dt.datetime | None:
    """A tz-aware UTC datetime from a pandas/numpy time; None for NaT/None."""
    import pandas as pd

    if type(value) is dt.datetime and value.tzinfo is dt.UTC:
        return value

    if value is None or value is pd.NaT:
        return None
    t = pd.Timestamp(value)
    if pd.isna(t):
        return None
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    out: dt.datetime = t.to_pydatetime()
    return out


def py_times(column: pd.Series) -> list[dt.datetime | None]:
    """A time column as UTC datetimes (None for NaT), all at once (a row at a time
    costs more than the query that read them)."""
    import numpy as np
    import pandas as pd

    if isinstance(column.dtype, np.dtype | pd.DatetimeTZDtype) and column.dtype.kind == "M":
        # numpy's own conversion (UTC for tz-aware columns), a tenth of pandas' cost
        return utc_datetimes(column.to_numpy(dtype="datetime64[us]"))
    times = pd.DatetimeIndex(pd.to_datetime(column, utc=True)).to_pydatetime()
    return [None if t is pd.NaT else t for t in times]


def utc_datetimes(values: npt.NDArray[np.datetime64]) -> list[dt.datetime | None]:
    """UTC ``datetime64`` values (naive) as tz-aware datetimes, None for NaT."""
    naive = values.astype("datetime64[us]").tolist()
    return [None if t is None else t.replace(tzinfo=dt.UTC) for t in naive]


def floats_or_none(column: pd.Series) -> list[float | None]:
    """A numeric column as floats, None for NaN (JSON has no NaN)."""
    return [None if v != v else v for v in column.astype(float).tolist()]


@functools.cache
def quality_label(code: int) -> str:
    """The label of a quality code (``good``, ``estimated|questionable``, ...)."""
    from gridtwin.store import Quality

    return Quality(code).label()


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts (plain Python values)."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]
