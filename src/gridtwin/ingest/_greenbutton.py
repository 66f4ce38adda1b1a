"""Green Button (NAESB REQ.21 ESPI) XML files as an ingest source.

A Green Button file is an Atom feed whose entries hold one ESPI resource each in
``entry/content``: ``UsagePoint`` (a meter's service point), ``MeterReading`` (one
series of it), ``ReadingType`` (what the series measures: ``uom``,
``powerOfTenMultiplier``, ``flowDirection``, ``accumulationBehaviour``,
``intervalLength``, ``commodity``) and ``IntervalBlock`` (``IntervalReading`` elements:
``timePeriod`` start and duration in seconds since 1970 UTC, an integer ``value``, optional
``ReadingQuality``). The resources are linked as the standard does it, by their Atom
links: a UsagePoint's ``related`` link is the collection (``up`` link) of its
MeterReadings; a MeterReading's ``related`` links name its ReadingType (``self``) and the
collection of its IntervalBlocks (their ``up``). Where a file leaves a link out, the
resource paths (``.../UsagePoint/1/MeterReading/01/IntervalBlock/173``) are used.

Each (usage point, reading type) pair is a **series** and maps to one measurement point,
by default ``gb:<usage point id>:<reading type id>`` (the last segments of the two
``self`` hrefs), or by a mapping (a YAML file or a dict: series -> point id, ``null`` to
skip it). Values are delivered in the unit of the ``uom`` (Wh, W, VAr, VA, V, A, Hz)
after the ``powerOfTenMultiplier``, with the sign of the consumer frame: ``flowDirection``
19 (reverse: delivered by the customer, export) is negative. Interval data is labelled
by its start. The whole file is parsed in memory (Green Button files are small: a year of
15-minute data of one meter is about 10 MB).
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import yaml

from gridtwin.errors import InputError
from gridtwin.ingest._source import RawBatch, Sink
from gridtwin.store._model import MeasurementPoint, Quality, RejectBatch

__all__ = [
    "UOM",
    "GreenButtonFeed",
    "GreenButtonSeries",
    "GreenButtonSource",
    "ReadingTypeInfo",
    "greenbutton_points",
    "read_greenbutton",
]

#: ESPI ``uom`` codes (IEC 61968-9 UnitSymbolKind) gridtwin stores: code ->
#: (quantity, unit of the delivered raw value, unit with kilo prefix).
UOM: Final[dict[int, tuple[str, str, str]]] = {
    72: ("energy", "Wh", "kWh"),
    38: ("p", "W", "kW"),
    63: ("q", "var", "kvar"),
    61: ("s", "VA", "kVA"),
    29: ("u", "V", "kV"),
    5: ("i", "A", "kA"),
    33: ("f", "Hz", "Hz"),
    65: ("pf", "1", "1"),
}
#: Codes gridtwin knows but cannot store (named in the error message).
_UOM_NAMES: Final[dict[int, str]] = {73: "VArh", 71: "VAh", 169: "therm", 42: "m3", 119: "ft3"}
#: accumulationBehaviour codes of cumulative registers (not energy per interval).
_CUMULATIVE: Final[dict[int, str]] = {1: "bulkQuantity", 3: "cumulative", 9: "summation"}
_FLOW_REVERSE: Final = 19
#: ESPI QualityOfReading -> gridtwin quality flags.
_QUALITY: Final[dict[int, Quality]] = {
    0: Quality.VALID,  # valid
    7: Quality.SUBSTITUTED,  # manually edited
    8: Quality.ESTIMATED,  # estimated using reference day
    9: Quality.ESTIMATED,  # estimated using linear interpolation
    10: Quality.QUESTIONABLE,  # questionable
    11: Quality.ESTIMATED,  # derived
    12: Quality.ESTIMATED,  # projected (forecast)
    13: Quality.ESTIMATED,  # mixed
    14: Quality.VALID,  # raw
    15: Quality.SUBSTITUTED,  # normalized for weather
    16: Quality.QUESTIONABLE,  # other
    17: Quality.VALID,  # validated
    18: Quality.VALID,  # verified
    19: Quality.VALID,  # revenue-quality
}
_ID_BAD: Final = re.compile(r"[^A-Za-z0-9_.\-]")
_US_PER_S: Final = 1_000_000


@dataclass(frozen=True)
class ReadingTypeInfo:
    """What a series measures (an ESPI ReadingType).

    Attributes
    ----------
    href : str
        The ReadingType's ``self`` link.
    reading_type_id : str
        Its last path segment (``07``).
    uom : int
        ESPI unit code (72 Wh, 38 W, ...).
    power_of_ten : int
        ``powerOfTenMultiplier``: value × 10**power_of_ten is in the unit of ``uom``.
    flow_direction : int
        1 forward (delivered to the customer), 19 reverse (received from the customer).
    accumulation : int or None
        ``accumulationBehaviour`` (4 deltaData = per interval).
    interval_length_s : int or None
        ``intervalLength`` [s].
    commodity : int or None
        ``commodity`` (1 electricity secondary metered, ...).
    default_quality : int or None
        ``defaultQuality`` (an ESPI QualityOfReading code).
    """

    href: str
    reading_type_id: str
    uom: int
    power_of_ten: int
    flow_direction: int
    accumulation: int | None
    interval_length_s: int | None
    commodity: int | None
    default_quality: int | None

    @property
    def sign(self) -> float:
        """+1, or -1 for reverse flow (export in the consumer frame)."""
        return -1.0 if self.flow_direction == _FLOW_REVERSE else 1.0

    def unsupported(self) -> str | None:
        """Why gridtwin cannot store this series by default, or None."""
        if self.uom not in UOM:
            name = _UOM_NAMES.get(self.uom, "unknown")
            units = ", ".join(f"{k} ({v[1]})" for k, v in UOM.items())
            return f"uom {self.uom} ({name}) is not a quantity gridtwin stores; known: {units}"
        if self.uom == 72 and self.accumulation in _CUMULATIVE:
            return (
                f"accumulationBehaviour {self.accumulation} "
                f"({_CUMULATIVE[self.accumulation]}) is a cumulative register, "
                "not energy per interval"
            )
        return None


@dataclass
class GreenButtonSeries:
    """One (usage point, reading type) series of a feed and its interval blocks."""

    usage_point_id: str
    usage_point_title: str
    meter_reading_title: str
    meter_reading_href: str
    reading_type: ReadingTypeInfo
    blocks: list[Any] = field(default_factory=list)  # lxml IntervalBlock elements

    @property
    def key(self) -> str:
        """``<usage point id>:<reading type id>``: the series' name in a mapping."""
        return f"{self.usage_point_id}:{self.reading_type.reading_type_id}"

    @property
    def default_point_id(self) -> str:
        """``gb:<usage point id>:<reading type id>``."""
        return f"gb:{self.key}"


@dataclass
class GreenButtonFeed:
    """A parsed Green Button file: its series."""

    path: Path
    series: list[GreenButtonSeries]


@dataclass
class _Entry:
    index: int
    kind: str
    self_href: str
    up_href: str
    related: list[str]
    title: str
    element: Any  # the ESPI resource element in entry/content

    def label(self) -> str:
        return f"{self.kind} entry {self.index} ({self.self_href or 'no self link'})"


# ---------------------------------------------------------------------- parsing


def read_greenbutton(path: str | Path) -> GreenButtonFeed:
    """Parse a Green Button file and link its resources into series.

    Raises
    ------
    InputError
        Not well-formed XML, not an Atom feed, a MeterReading without ReadingType, an
        IntervalBlock linked to no MeterReading, a ReadingType without ``uom``.
    """
    file = Path(path)
    root = _parse_xml(file)
    entries = [e for e in (_entry(file, i, el) for i, el in enumerate(_entries(file, root))) if e]
    by_self = {e.self_href: e for e in entries if e.self_href}
    by_up: dict[str, list[_Entry]] = {}
    for e in entries:
        by_up.setdefault(e.up_href, []).append(e)
    readings = [e for e in entries if e.kind == "MeterReading"]
    owner = _usage_points(entries, readings, by_up)
    up_ids = _usage_point_ids([e for e in entries if e.kind == "UsagePoint"], readings, owner)
    series: list[GreenButtonSeries] = []
    used_blocks: set[int] = set()
    for mr in readings:
        rt = _reading_type(file, mr, by_self, entries)
        blocks = _blocks(mr, by_up, entries)
        used_blocks.update(b.index for b in blocks)
        up = owner.get(mr.index)
        series.append(
            GreenButtonSeries(
                usage_point_id=up_ids[mr.index],
                usage_point_title=up.title if up else "",
                meter_reading_title=mr.title,
                meter_reading_href=mr.self_href,
                reading_type=rt,
                blocks=[b.element for b in blocks],
            )
        )
    orphans = [e for e in entries if e.kind == "IntervalBlock" and e.index not in used_blocks]
    if orphans:
        msg = (
            f"{file}: {orphans[0].label()} is linked to no MeterReading (no MeterReading "
            "has a 'related' link to its 'up' collection, nor is its path under one); "
            f"{len(orphans)} such block(s). Check the file's Atom links"
        )
        raise InputError(msg)
    return GreenButtonFeed(file, series)


def _parse_xml(file: Path) -> Any:
    from lxml import etree  # heavy: imported when used

    if not file.is_file():
        msg = f"{file}: file not found (or not a file)"
        raise InputError(msg)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        return etree.parse(str(file), parser).getroot()
    except etree.XMLSyntaxError as exc:
        msg = f"{file}: not well-formed XML ({exc}); is it a complete Green Button download?"
        raise InputError(msg) from exc


def _local(el: Any) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _entries(file: Path, root: Any) -> list[Any]:
    if _local(root) == "entry":
        return [root]
    if _local(root) != "feed":
        msg = (
            f"{file}: the root element is <{_local(root)}>, not an Atom <feed>; a Green "
            "Button file is an Atom feed of ESPI entries"
        )
        raise InputError(msg)
    return list(root.iterfind("{*}entry"))


def _entry(file: Path, index: int, el: Any) -> _Entry | None:
    content = el.find("{*}content")
    resource = (
        next((c for c in content if isinstance(c.tag, str)), None) if content is not None else None
    )
    if resource is None:
        return None
    links: dict[str, list[str]] = {}
    for link in el.iterfind("{*}link"):
        links.setdefault(link.get("rel", ""), []).append((link.get("href") or "").strip())
    title = el.findtext("{*}title") or ""
    return _Entry(
        index,
        _local(resource),
        (links.get("self") or [""])[0],
        (links.get("up") or [""])[0],
        links.get("related", []),
        title.strip(),
        resource,
    )


def _under(child: str, parent: str) -> bool:
    return bool(child and parent) and child.startswith(parent.rstrip("/") + "/")


def _usage_points(
    entries: list[_Entry], readings: list[_Entry], by_up: dict[str, list[_Entry]]
) -> dict[int, _Entry]:
    """MeterReading index -> its UsagePoint entry (by links, else by path)."""
    owner: dict[int, _Entry] = {}
    for up in (e for e in entries if e.kind == "UsagePoint"):
        for href in up.related:
            for mr in by_up.get(href, []):
                if mr.kind == "MeterReading":
                    owner.setdefault(mr.index, up)
        for mr in readings:
            if mr.index not in owner and _under(mr.self_href, up.self_href):
                owner[mr.index] = up
    return owner


def _usage_point_ids(
    ups: list[_Entry], readings: list[_Entry], owner: dict[int, _Entry]
) -> dict[int, str]:
    """MeterReading index -> the id of its usage point (unique within the file)."""

    def last(href: str, word: str) -> str | None:
        m = re.search(rf"{word}/([^/]+)", href)
        return m.group(1) if m else None

    short = {up.index: last(up.self_href, "UsagePoint") or f"up{up.index}" for up in ups}
    clash = {v for v in short.values() if list(short.values()).count(v) > 1}
    ids: dict[int, str] = {}
    for up in ups:
        sid = short[up.index]
        if sid in clash:
            sid = f"{last(up.self_href, 'RetailCustomer') or up.index}-{sid}"
        ids[up.index] = _ID_BAD.sub("_", sid)
    out: dict[int, str] = {}
    for mr in readings:
        parent = owner.get(mr.index)
        out[mr.index] = (
            ids[parent.index]
            if parent
            else _ID_BAD.sub("_", last(mr.self_href, "UsagePoint") or "0")
        )
    return out


def _reading_type(
    file: Path, mr: _Entry, by_self: dict[str, _Entry], entries: list[_Entry]
) -> ReadingTypeInfo:
    rt = next(
        (by_self[h] for h in mr.related if h in by_self and by_self[h].kind == "ReadingType"), None
    )
    if rt is None:
        msg = (
            f"{file}: {mr.label()} has no ReadingType (none of its 'related' links "
            f"{mr.related} is the 'self' link of a ReadingType entry); without it the "
            "values have no unit"
        )
        raise InputError(msg)
    el = rt.element

    def num(name: str, default: int | None = None) -> int | None:
        text = el.findtext(f"{{*}}{name}")
        if text is None or not text.strip():
            return default
        try:
            return int(text.strip())
        except ValueError:
            msg = f"{file}: {rt.label()}: <{name}> is {text.strip()!r}, not an integer"
            raise InputError(msg) from None

    uom = num("uom")
    if uom is None:
        msg = f"{file}: {rt.label()} has no <uom>; the unit of the values is unknown"
        raise InputError(msg)
    rt_id = rt.self_href.rstrip("/").rsplit("/", 1)[-1] if rt.self_href else str(rt.index)
    return ReadingTypeInfo(
        href=rt.self_href,
        reading_type_id=_ID_BAD.sub("_", rt_id),
        uom=uom,
        power_of_ten=num("powerOfTenMultiplier", 0) or 0,
        flow_direction=num("flowDirection", 1) or 0,
        accumulation=num("accumulationBehaviour"),
        interval_length_s=num("intervalLength"),
        commodity=num("commodity"),
        default_quality=num("defaultQuality"),
    )


def _blocks(mr: _Entry, by_up: dict[str, list[_Entry]], entries: list[_Entry]) -> list[_Entry]:
    found = [b for h in mr.related for b in by_up.get(h, []) if b.kind == "IntervalBlock"]
    if not found:
        found = [
            b
            for b in entries
            if b.kind == "IntervalBlock"
            and (_under(b.self_href, mr.self_href) or _under(b.up_href, mr.self_href))
        ]
    return found


# ---------------------------------------------------------------------- values


@dataclass
class _SeriesValues:
    ts_us: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    quality: list[int] = field(default_factory=list)


def series_values(
    path: Path, s: GreenButtonSeries, rejects: RejectBatch, point_id: str
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(start µs UTC, value in the uom's unit with sign, quality bits) of a series.

    Readings that cannot be decoded go to ``rejects``.
    """
    from lxml import etree

    rt = s.reading_type
    factor = rt.sign * 10.0**rt.power_of_ten
    default_q = _QUALITY.get(rt.default_quality or 0, Quality.VALID)
    out = _SeriesValues()
    for b, block in enumerate(s.blocks):
        for k, reading in enumerate(block.iterfind("{*}IntervalReading")):
            mr = s.meter_reading_href or "MeterReading"
            where = f"{path}: {mr} IntervalBlock {b + 1} IntervalReading {k + 1}"
            start = reading.findtext("{*}timePeriod/{*}start")
            value = reading.findtext("{*}value")
            codes = [
                q.strip()
                for q in reading.xpath(
                    "./*[local-name()='ReadingQuality']/*[local-name()='quality']/text()"
                )
            ]
            problem = _reading_problem(start, value, codes)
            if problem is not None:
                reason, detail = problem
                raw = etree.tostring(reading, encoding="unicode", with_tail=False)
                rejects.add(
                    reason,
                    f"{where}: {detail}",
                    source=f"greenbutton:{path}",
                    raw=raw,
                    point_id=point_id,
                )
                continue
            q = default_q
            for c in codes:
                q |= _QUALITY[int(c)]
            out.ts_us.append(int(str(start).strip()) * _US_PER_S)
            out.value.append(int(str(value).strip()) * factor + 0.0)  # no -0.0
            out.quality.append(int(q))
    return (
        np.asarray(out.ts_us, np.int64),
        np.asarray(out.value, np.float64),
        np.asarray(out.quality, np.uint8),
    )


def _reading_problem(
    start: str | None, value: str | None, codes: list[str]
) -> tuple[Any, str] | None:
    if start is None or not re.fullmatch(r"-?\d+", start.strip()):
        return "bad_timestamp", f"timePeriod/start {start!r} is not seconds since 1970"
    if value is None or not re.fullmatch(r"[-+]?\d+", value.strip()):
        return "malformed", f"value {value!r} is not an integer"
    for c in codes:
        if not c.isdigit() or int(c) not in _QUALITY:
            return "bad_quality", f"ReadingQuality {c!r} is not a known ESPI QualityOfReading code"
    return None


# ---------------------------------------------------------------------- mapping, points


def load_mapping(mapping: str | Path | Mapping[str, str | None] | None) -> dict[str, str | None]:
    """A series mapping from a dict or a file: YAML (``series: point_id``, ``null`` skips)
    or CSV (columns ``series,point_id``, empty point_id skips). Series are
    ``<usage point id>:<reading type id>`` or the default point id ``gb:...``."""
    if mapping is None:
        return {}
    if isinstance(mapping, Mapping):
        raw: Any = dict(mapping)
        where = "mapping"
    else:
        file = Path(mapping)
        where = str(file)
        if not file.is_file():
            msg = f"{file}: mapping file not found"
            raise InputError(msg)
        if file.suffix.lower() == ".csv":
            with file.open(encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.DictReader(fh))
            if rows and not {"series", "point_id"} <= set(rows[0]):
                msg = f"{file}: a CSV mapping needs columns series,point_id; found {list(rows[0])}"
                raise InputError(msg)
            raw = {r["series"].strip(): (r["point_id"] or "").strip() or None for r in rows}
        else:
            try:
                raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                msg = f"{file}: not valid YAML ({exc})"
                raise InputError(msg) from exc
    if not isinstance(raw, dict):
        msg = f"{where}: expected a mapping of series to point id (or null to skip)"
        raise InputError(msg)
    out: dict[str, str | None] = {}
    for k, v in raw.items():
        key = str(k).removeprefix("gb:")
        if v is not None and not isinstance(v, str):
            msg = f"{where}: series {k!r}: point id must be text or null, got {v!r}"
            raise InputError(msg)
        out[key] = v
    return out


def greenbutton_points(
    path: str | Path,
    mapping: str | Path | Mapping[str, str | None] | None = None,
    *,
    skip_unsupported: bool = False,
) -> list[MeasurementPoint]:
    """The measurement points a Green Button file needs (for ``--add-points``).

    One point per series (skipped ones left out): quantity from the ``uom``, unit with a
    kilo prefix when ``powerOfTenMultiplier`` ≥ 3 (scale 0.001, since the source
    delivers values in the ``uom``'s own unit), element None, source ``greenbutton``.
    """
    feed = read_greenbutton(path)
    plan = _plan(feed, load_mapping(mapping), skip_unsupported)
    points: list[MeasurementPoint] = []
    for s, pid in plan:
        rt = s.reading_type
        if rt.uom not in UOM:
            continue  # mapped explicitly by the user: the point is theirs to define
        quantity, unit, kilo = UOM[rt.uom]
        big = rt.power_of_ten >= 3 and kilo != unit
        flow = "reverse (export, negative)" if rt.sign < 0 else f"flowDirection {rt.flow_direction}"
        title = " / ".join(t for t in (s.usage_point_title, s.meter_reading_title) if t)
        points.append(
            MeasurementPoint(
                point_id=pid,
                quantity=quantity,
                unit=kilo if big else unit,
                source="greenbutton",
                scale=1e-3 if big else 1.0,
                description=f"Green Button {title or s.key}: {flow}, "
                f"interval {rt.interval_length_s} s",
            )
        )
    return points


def _plan(
    feed: GreenButtonFeed, mapping: dict[str, str | None], skip_unsupported: bool
) -> list[tuple[GreenButtonSeries, str]]:
    """(series, point id) of every series to deliver; raise on unsupported ones."""
    out: list[tuple[GreenButtonSeries, str]] = []
    seen: dict[str, str] = {}
    for s in feed.series:
        if s.key in mapping:
            pid = mapping[s.key]
            if pid is None:
                continue
        else:
            why = s.reading_type.unsupported()
            if why is not None:
                if skip_unsupported:
                    continue
                msg = (
                    f"{feed.path}: ReadingType {s.reading_type.href or s.key} of series "
                    f"{s.key}: {why}. Skip it (mapping '{s.key}: null', or "
                    "--skip-unsupported) or map it to a point of your own"
                )
                raise InputError(msg)
            pid = s.default_point_id
        if pid in seen and seen[pid] != s.key:
            msg = f"{feed.path}: series {seen[pid]} and {s.key} both map to point {pid!r}"
            raise InputError(msg)
        seen[pid] = s.key
        out.append((s, pid))
    return out


# ---------------------------------------------------------------------- source


class GreenButtonSource:
    """A Green Button file as an ingest source (one :class:`RawBatch` per series chunk).

    Parameters
    ----------
    path : str or Path
        The ESPI XML file.
    mapping : str, Path or dict, optional
        Series (``<usage point id>:<reading type id>``) -> point id; ``None`` skips a
        series. Unmapped series get ``gb:<usage point id>:<reading type id>``.
    skip_unsupported : bool
        Skip series gridtwin cannot store by default (gas, reactive energy, cumulative
        registers) instead of raising; they are listed in :attr:`skipped`.
    chunk_rows : int
        Values per batch at most.
    """

    def __init__(
        self,
        path: str | Path,
        mapping: str | Path | Mapping[str, str | None] | None = None,
        *,
        skip_unsupported: bool = False,
        chunk_rows: int = 200_000,
        name: str = "greenbutton",
    ) -> None:
        self.path = Path(path)
        self.mapping = load_mapping(mapping)
        self.skip_unsupported = skip_unsupported
        self.chunk_rows = max(1, int(chunk_rows))
        self.name = name
        self.skipped: list[str] = []

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Hand every series of the file to ``sink``; return early when ``stop`` is set."""
        for batch in self.batches():
            if stop.is_set():
                return
            sink.submit(batch)

    def batches(self) -> Iterator[RawBatch]:
        """The file's values as batches (rejects of a series with its first batch)."""
        feed = read_greenbutton(self.path)
        plan = _plan(feed, self.mapping, self.skip_unsupported)
        planned = {id(s) for s, _ in plan}
        self.skipped = [s.key for s in feed.series if id(s) not in planned]
        source = f"greenbutton:{self.path}"
        for s, pid in plan:
            rejects = RejectBatch()
            ts, val, qual = series_values(self.path, s, rejects, pid)
            if len(ts) == 0:
                if len(rejects):
                    yield RawBatch.empty(source, rejects)
                continue
            for lo in range(0, len(ts), self.chunk_rows):
                hi = lo + self.chunk_rows
                yield RawBatch.build(
                    np.full(len(ts[lo:hi]), pid, dtype=object),
                    ts[lo:hi],
                    val[lo:hi],
                    quality=qual[lo:hi],
                    source=source,
                    rejects=rejects if lo == 0 else None,
                )
