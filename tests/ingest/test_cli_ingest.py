"""``gridtwin ingest file|greenbutton|replay`` end to end into real stores."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gridtwin.cli import app
from gridtwin.store import open_store
from tests.network.util import LV_CODE

runner = CliRunner()
DATA = Path(__file__).parent / "data"


def invoke(*args: str) -> tuple[int, str]:
    out = runner.invoke(app, list(args), env={"GRIDTWIN_STORE": ""})
    return out.exit_code, out.output


@pytest.fixture
def store_dir(tmp_path: Path) -> str:
    st = str(tmp_path / "st")
    points = tmp_path / "points.csv"
    points.write_text("point_id,quantity,unit,scale\nm1,p,kW,\nm2,vm,pu,\n", encoding="utf-8")
    assert invoke("store", "init", "--store", st, "--points", str(points))[0] == 0
    return st


def test_file_ingest_reports_rejects_and_keeps_neighbours(store_dir: str, tmp_path: Path) -> None:
    csv = tmp_path / "m.csv"
    csv.write_text(
        "point_id,ts_utc,value\n"
        "m1,2026-03-01T00:00Z,5.0\n"
        "m2,2026-03-01T00:00Z,7.0\n"  # 7 pu: out of range
        "m3,2026-03-01T00:00Z,1.0\n"  # unknown point
        "m1,2026-03-01T00:15Z,abc\n"  # not a number
        "m2,2026-03-01T00:15+01:00,1.01\n",
        encoding="utf-8",
    )
    code, text = invoke("ingest", "file", str(csv), "--store", store_dir, "--format", "json")
    assert code == 0, text
    summary = json.loads(text[text.index("{") :])
    assert summary["stored"] == 2
    assert summary["rejected_by_reason"] == {
        "out_of_range": 1,
        "unknown_point": 1,
        "malformed": 1,
    }
    code, text = invoke("ingest", "file", str(csv), "--store", store_dir)
    assert code == 0, text
    assert "duplicates 2" in text
    assert "gridtwin store rejects" in text
    code, text = invoke("store", "info", "--store", store_dir)
    assert "last ingest" in text


def test_file_ingest_bad_options(store_dir: str, tmp_path: Path) -> None:
    code, text = invoke("ingest", "file", str(tmp_path / "none.csv"), "--store", store_dir)
    assert (code, "no such file" in text) == (2, True)
    csv = tmp_path / "naive.csv"
    csv.write_text("point_id,ts_utc,value\nm1,2026-03-01 00:00,5.0\n", encoding="utf-8")
    code, text = invoke("ingest", "file", str(csv), "--store", store_dir)
    assert code == 2
    assert "--timezone" in text
    code, text = invoke("ingest", "file", str(csv), "--store", store_dir, "--layout", "tall")
    assert code == 2
    assert "--layout 'tall'" in text


def test_greenbutton_with_add_points(store_dir: str) -> None:
    xml = next(DATA.glob("greenbutton*.xml"))
    code, text = invoke(
        "ingest", "greenbutton", str(xml), "--store", store_dir, "--add-points", "--format", "json"
    )
    assert code == 0, text
    summary = json.loads(text[text.index("{") :])
    assert summary["stored"] > 0
    assert summary["rejected"] == 0
    s = open_store(store_dir)
    try:
        ids = {p.point_id for p in s.points()}
    finally:
        s.close()
    assert any(i.startswith("gb:") for i in ids)


def test_replay_a_simbench_day(store_dir: str) -> None:
    code, text = invoke(
        "ingest",
        "replay",
        "--store",
        store_dir,
        "--simbench",
        LV_CODE,
        "--end",
        "2016-01-02T00:00Z",
        "--speed",
        "inf",
        "--format",
        "json",
    )
    assert code == 0, text
    summary = json.loads(text[text.index("{") :])
    s = open_store(store_dir)
    try:
        info = s.info()
        latest = s.latest()
    finally:
        s.close()
    n_points = info.points - 2
    assert summary["stored"] == 96 * n_points
    assert str(latest["ts_utc"].max()) == "2016-01-01 23:45:00+00:00"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--speed", "0"], "--speed '0'"),
        ([], "exactly one of --simbench"),
        (["--from-store", "{st}"], "--from-store needs --start and --end"),
        (["--simbench", LV_CODE, "--unit", "GW"], "--unit 'GW'"),
        (["--simbench", LV_CODE, "--start", "2017-01-01T00:00Z"], "select no step"),
        (["--simbench", LV_CODE, "--duration", "-1"], "--duration"),
    ],
)
def test_replay_bad_options(store_dir: str, args: list[str], expected: str) -> None:
    if "--speed" in args:
        args = ["--simbench", LV_CODE, *args]
    code, text = invoke(
        "ingest", "replay", "--store", store_dir, *[a.replace("{st}", store_dir) for a in args]
    )
    assert code == 2, text
    assert expected in text


def test_mqtt_through_the_cli(
    store_dir: str, mosquitto_broker: Any, publisher: Any, topic_ns: str
) -> None:
    """A live subscription for a few seconds: every published value stored once, the
    bad ones rejected with their reason."""

    def publish_later() -> None:
        time.sleep(2.0)  # after the CLI subscribed, also on a busy machine
        for k in range(20):
            item = {"point_id": "m1", "ts": f"2026-03-01T00:{k:02d}:00Z", "value": k}
            publisher.publish(f"{topic_ns}/a", json.dumps([item, {"point_id": "m2", "value": 1}]))

    t = threading.Thread(target=publish_later)
    t.start()
    code, text = invoke(
        "ingest",
        "mqtt",
        "--store",
        store_dir,
        "--host",
        mosquitto_broker.host,
        "--port",
        str(mosquitto_broker.port),
        "--topic",
        f"{topic_ns}/#",
        "--duration",
        "6",
        "--format",
        "json",
    )
    t.join()
    assert code == 0, text
    summary = json.loads(text[text.index("{") :])
    assert summary["stored"] == 20
    assert summary["rejected_by_reason"] == {"bad_timestamp": 20}
    assert next(iter(summary["sources"].values()))["acked"] == 20


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "--topic FILTER"),
        (["--payload", "sparkplug"], "needs --group"),
        (["--payload", "xml"], "--payload 'xml'"),
        (["--topic", "a/#", "--port", "1"], "127.0.0.1:1"),
    ],
)
def test_mqtt_bad_options(store_dir: str, args: list[str], expected: str) -> None:
    code, text = invoke("ingest", "mqtt", "--store", store_dir, *args)
    assert code == 2, text
    assert expected in text
