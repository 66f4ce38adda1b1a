"""Green Button (ESPI) files: linking, units, multiplier, reverse flow, quality, errors."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gridtwin.errors import InputError
from gridtwin.ingest import Pipeline, RawBatch
from gridtwin.ingest._greenbutton import (
    GreenButtonSource,
    greenbutton_points,
    read_greenbutton,
)
from gridtwin.store import Quality, open_store

FIXTURE = Path(__file__).parent / "data" / "greenbutton_coastal_multifamily.xml"
#: The published values of the sample's IntervalBlocks 173 and 174 [Wh], hourly from
#: 2011-01-01 08:00 UTC (start 1293868800).
PUBLISHED_WH = [450, 430, 418, 410, 395, 444, 509, 507, 590, 613, 614, 605]
PUBLISHED_WH += [595, 591, 611, 581, 600, 729, 788, 797, 802, 752, 650, 538]
START = pd.Timestamp("2011-01-01T08:00:00Z")


def batches(path: Path, **kw: Any) -> list[RawBatch]:
    out: list[RawBatch] = []

    class Sink:
        def submit(self, batch: RawBatch, on_durable: Any = None, timeout_s: Any = None) -> None:
            out.append(batch)

    GreenButtonSource(path, **kw).run(Sink(), threading.Event())
    return out


def variant(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = FIXTURE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "variant.xml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def series_of(got: list[RawBatch], point_id: str) -> tuple[Any, Any, Any]:
    sel = [b for b in got if len(b) and b.point_id[0] == point_id]
    ts = np.concatenate([b.ts_utc for b in sel])
    return ts, np.concatenate([b.raw_value for b in sel]), np.concatenate([b.quality for b in sel])


# ---------------------------------------------------------------------- the fixture


def test_series_are_linked_by_the_atom_links() -> None:
    feed = read_greenbutton(FIXTURE)
    assert [s.key for s in feed.series] == ["1:07", "1:08"]
    imp, exp = feed.series
    assert imp.usage_point_title == "Coastal Multi-Family 12hr"
    assert imp.meter_reading_title == "Hourly Electricity Consumption"
    assert len(imp.blocks) == 2
    assert len(exp.blocks) == 1
    rt = imp.reading_type
    assert (rt.uom, rt.power_of_ten, rt.flow_direction) == (72, 0, 1)
    assert (rt.accumulation, rt.interval_length_s, rt.commodity) == (4, 3600, 1)
    assert exp.reading_type.flow_direction == 19
    assert exp.reading_type.power_of_ten == -1


def test_values_and_times_are_the_published_ones() -> None:
    got = batches(FIXTURE)
    ts, val, qual = series_of(got, "gb:1:07")
    assert val.tolist() == [float(v) for v in PUBLISHED_WH]  # Wh, multiplier 10**0
    expected = pd.date_range(START, periods=24, freq="h")  # interval starts, UTC
    assert list(pd.DatetimeIndex(ts).tz_localize("UTC")) == list(expected)
    assert qual.tolist() == [0] * 24
    assert all(b.source == f"greenbutton:{FIXTURE}" for b in got)
    assert sum(len(b.rejects) for b in got) == 0


def test_reverse_flow_is_negative_with_multiplier_and_quality() -> None:
    ts, val, qual = series_of(batches(FIXTURE), "gb:1:08")
    # values 0, 1250, 3125, 845 in tenths of Wh (powerOfTenMultiplier -1), received
    assert val.tolist() == [0.0, -125.0, -312.5, -84.5]
    assert not np.signbit(val[0])  # no -0.0
    assert qual.tolist() == [0, Quality.ESTIMATED, 0, 0]  # ReadingQuality 8
    assert ts[0] == np.datetime64("2011-01-01T17:00:00", "us")


def test_points_proposed_for_the_series() -> None:
    points = greenbutton_points(FIXTURE)
    assert [p.point_id for p in points] == ["gb:1:07", "gb:1:08"]
    for p in points:
        assert (p.quantity, p.unit, p.element, p.scale, p.source) == (
            "energy",
            "Wh",
            None,
            1.0,
            "greenbutton",
        )
    assert "reverse" in points[1].description


def test_kilo_multiplier_proposes_kwh_points(tmp_path: Path) -> None:
    f = variant(
        tmp_path,
        "<powerOfTenMultiplier>0</powerOfTenMultiplier>",
        "<powerOfTenMultiplier>3</powerOfTenMultiplier>",
    )
    (imp, _) = greenbutton_points(f)
    assert (imp.unit, imp.scale) == ("kWh", 1e-3)
    _, val, _ = series_of(batches(f), "gb:1:07")
    assert val[0] == 450_000.0  # delivered in Wh; the point's scale makes kWh


def test_mapping_renames_and_skips(tmp_path: Path) -> None:
    got = batches(FIXTURE, mapping={"1:07": "house3.import", "gb:1:08": None})
    assert {b.point_id[0] for b in got} == {"house3.import"}
    yaml_map = tmp_path / "map.yaml"
    yaml_map.write_text("'1:07': null\n'1:08': house3.export\n", encoding="utf-8")
    assert [p.point_id for p in greenbutton_points(FIXTURE, yaml_map)] == ["house3.export"]
    csv_map = tmp_path / "map.csv"
    csv_map.write_text("series,point_id\n1:07,a.imp\n1:08,\n", encoding="utf-8")
    assert [p.point_id for p in greenbutton_points(FIXTURE, csv_map)] == ["a.imp"]
    with pytest.raises(InputError, match="both map to point 'x'"):
        batches(FIXTURE, mapping={"1:07": "x", "1:08": "x"})
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("key,point\n", encoding="utf-8")
    bad_csv.write_text("key,point\n1:07,a\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs columns series,point_id"):
        GreenButtonSource(FIXTURE, bad_csv)


# ---------------------------------------------------------------------- bad input


def test_malformed_xml_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "cut.xml"
    f.write_text(FIXTURE.read_text(encoding="utf-8")[:5000], encoding="utf-8")
    with pytest.raises(InputError, match=r"cut\.xml: not well-formed XML"):
        read_greenbutton(f)
    g = tmp_path / "other.xml"
    g.write_text("<html><body/></html>", encoding="utf-8")
    with pytest.raises(InputError, match="not an Atom <feed>"):
        read_greenbutton(g)
    with pytest.raises(InputError, match="file not found"):
        read_greenbutton(tmp_path / "none.xml")


def test_meter_reading_without_reading_type(tmp_path: Path) -> None:
    f = variant(
        tmp_path,
        'rel="related" href="https://services.greenbuttondata.org/DataCustodian/espi/1_1/resource/ReadingType/07"',
        'rel="alternate" href="x"',
    )
    with pytest.raises(
        InputError, match=r"variant\.xml: MeterReading entry 2 .*has no ReadingType"
    ):
        read_greenbutton(f)
    g = variant(tmp_path, "<uom>72</uom>", "")
    with pytest.raises(InputError, match=r"ReadingType entry 3 .* has no <uom>"):
        read_greenbutton(g)


def test_unknown_uom_and_cumulative_registers_are_refused_or_skipped(tmp_path: Path) -> None:
    f = variant(tmp_path, "<uom>72</uom>", "<uom>169</uom>")  # therm (gas)
    with pytest.raises(InputError, match=r"ReadingType .*07 of series 1:07: uom 169 \(therm\)"):
        batches(f)
    source = GreenButtonSource(f, skip_unsupported=True)
    got = list(source.batches())
    assert {b.point_id[0] for b in got} == {"gb:1:08"}
    assert source.skipped == ["1:07"]
    assert [p.point_id for p in greenbutton_points(f, skip_unsupported=True)] == ["gb:1:08"]
    g = variant(
        tmp_path,
        "<accumulationBehaviour>4</accumulationBehaviour>",
        "<accumulationBehaviour>9</accumulationBehaviour>",
    )
    with pytest.raises(InputError, match=r"summation.*cumulative register"):
        batches(g)


def test_bad_readings_are_rejects_and_neighbours_delivered(tmp_path: Path) -> None:
    f = variant(tmp_path, "<value>430</value>", "<value>4x0</value>")
    f.write_text(
        f.read_text(encoding="utf-8")
        .replace(
            "<start>1293876000</start>\n          </timePeriod>",
            "<start>soon</start>\n          </timePeriod>",
        )
        .replace("<quality>8</quality>", "<quality>99</quality>"),
        encoding="utf-8",
    )
    got = batches(f)
    _, imp, _ = series_of(got, "gb:1:07")
    assert len(imp) == 22
    assert imp[:2].tolist() == [450.0, 410.0]
    _, exp, _ = series_of(got, "gb:1:08")
    assert exp.tolist() == [0.0, -312.5, -84.5]
    rejects = [
        (b.rejects.reason[i], b.rejects.detail[i], b.rejects.raw[i], b.rejects.point_id[i])
        for b in got
        for i in range(len(b.rejects))
    ]
    assert [r[0] for r in rejects] == ["malformed", "bad_timestamp", "bad_quality"]
    assert "IntervalBlock 1 IntervalReading 2: value '4x0' is not an integer" in rejects[0][1]
    assert str(f) in rejects[0][1]
    assert "<value>4x0</value>" in rejects[0][2]
    assert "ReadingQuality '99'" in rejects[2][1]
    assert [r[3] for r in rejects] == ["gb:1:07", "gb:1:07", "gb:1:08"]


def test_interval_block_linked_to_nothing(tmp_path: Path) -> None:
    f = variant(
        tmp_path,
        'resource/RetailCustomer/3/UsagePoint/1/MeterReading/02/IntervalBlock/300"/>\n'
        '    <link rel="up" href="https://services.greenbuttondata.org/DataCustodian/espi/1_1/'
        'resource/RetailCustomer/3/UsagePoint/1/MeterReading/02/IntervalBlock"/>',
        'resource/Elsewhere/300"/>\n    <link rel="up" href="Elsewhere"/>',
    )
    with pytest.raises(InputError, match=r"IntervalBlock entry .* is linked to no MeterReading"):
        read_greenbutton(f)


def test_links_missing_fall_back_to_resource_paths(tmp_path: Path) -> None:
    """A file whose UsagePoint omits its 'related' links is linked by the hrefs' paths."""
    f = variant(
        tmp_path,
        '    <link rel="related" href="https://services.greenbuttondata.org/DataCustodian/espi/1_1/resource/RetailCustomer/3/UsagePoint/1/MeterReading"/>\n',
        "",
    )
    feed = read_greenbutton(f)
    assert [s.usage_point_title for s in feed.series] == ["Coastal Multi-Family 12hr"] * 2


# ---------------------------------------------------------------------- cross-check, store


def test_values_agree_with_greenbutton_objects() -> None:
    parse = pytest.importorskip("greenbutton_objects.parse")
    usage_points = parse.parse_feed(str(FIXTURE))
    theirs: dict[str, list[tuple[pd.Timestamp, float]]] = {}
    for up in usage_points:
        for mr in up.meterReadings:
            key = mr.readingType.link_self.rsplit("/", 1)[-1]
            theirs[key] = [
                (pd.Timestamp(ir.timePeriod.start), ir.value) for ir in mr.intervalReadings
            ]
    got = batches(FIXTURE)
    for rt, sign in (("07", 1.0), ("08", -1.0)):  # they keep the sign of the file
        ts, val, _ = series_of(got, f"gb:1:{rt}")
        ours = [(pd.Timestamp(t, tz="UTC"), sign * v + 0.0) for t, v in zip(ts, val, strict=True)]
        assert ours == [(t, float(v)) for t, v in theirs[rt]]


def test_greenbutton_to_store_through_the_pipeline(tmp_path: Path) -> None:
    store = open_store(tmp_path / "st", create=True)
    try:
        store.add_points(greenbutton_points(FIXTURE))
        with Pipeline(store) as pipe:
            GreenButtonSource(FIXTURE).run(pipe, threading.Event())
            counters = pipe.flush()
            GreenButtonSource(FIXTURE).run(pipe, threading.Event())  # again: duplicates
            again = pipe.flush()
        assert counters.stored == 28
        assert counters.rejected == 0
        assert again.duplicates == 28
        got = store.window(None, START, START + pd.Timedelta("1D"))
        imp = got[got["point_id"] == "gb:1:07"]
        assert imp["value"].tolist() == [float(v) for v in PUBLISHED_WH]
        exp = got[got["point_id"] == "gb:1:08"]
        assert exp["value"].tolist() == [0.0, -125.0, -312.5, -84.5]
        assert exp["quality"].tolist() == [0, int(Quality.ESTIMATED), 0, 0]
    finally:
        store.close()
