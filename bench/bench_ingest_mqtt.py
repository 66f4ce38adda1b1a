"""Live ingest through Mosquitto: MqttJsonSource + Pipeline + store, against a plain append.

One run, one machine, loopback only:

- a Mosquitto broker is started on a free port of 127.0.0.1 in a temporary folder;
- a **publisher** process sends ``--n`` measurements (``--points`` points, ``--per-msg``
  values per JSON message, QoS 1) as fast as the broker takes them;
- the **consumer** (this process) runs :class:`gridtwin.ingest._mqtt.MqttJsonSource` into a
  :class:`gridtwin.ingest.Pipeline` on a fresh embedded DuckDB store (acknowledging each
  message after its batch is durable); sustained rate = values stored / (last commit -
  first message received); lag = the pipeline's largest queue wait and the time from the
  publisher's last message to the last commit;
- the **floor** (a subprocess): the same rows appended to a plain DuckDB table directly,
  in the same number of transactions as the pipeline made.

PostgreSQL: ``--pg-url postgresql://...`` runs the consumer on that store as well, with a
plain ``COPY`` of the same rows as its floor (needs ``PostgresStore`` on the branch).

Bounded: ``--n`` values and ``--timeout-s`` seconds. ``--quick`` is the smoke run (20,000
values). Writes ``bench/results/ingest-mqtt-<date>.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import _harness  # first: pins every engine to one thread before numpy loads

ROOT = Path(__file__).resolve().parent
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MOSQUITTO = "/usr/sbin/mosquitto"


# ----------------------------------------------------------------------- broker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Mosquitto on a free loopback port (unbounded queues for the persistent session)."""
    port = _free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"persistence false\nmax_queued_messages 0\nuser root\nlog_dest none\n"
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
    )
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    msg = "mosquitto did not start"
    raise RuntimeError(msg)


# ----------------------------------------------------------------------- publisher


def messages(n: int, points: int, per_msg: int) -> list[bytes]:
    """The JSON messages: value i is point i % points at T0 + (i // points) s."""
    out: list[bytes] = []
    for start in range(0, n, per_msg):
        items = [
            {"point_id": f"p{i % points}", "ts": T0_MS + (i // points) * 1000, "value": i * 0.5}
            for i in range(start, min(n, start + per_msg))
        ]
        out.append(json.dumps(items, separators=(",", ":")).encode())
    return out


def publish(port: int, topic: str, n: int, points: int, per_msg: int) -> None:
    """The publisher process: prints the wall time of its first and last publish."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    payloads = messages(n, points, per_msg)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    client.max_inflight_messages_set(200)
    client.connect("127.0.0.1", port)
    client.loop_start()
    t0 = time.time()
    infos = [client.publish(topic, p, qos=1) for p in payloads]
    for info in infos:
        info.wait_for_publish(timeout=300)
    t1 = time.time()
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"first_s": t0, "last_s": t1, "messages": len(payloads)}))


# ----------------------------------------------------------------------- consumer


def consume(location: str, port: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run source + pipeline + store until every value is stored (or the time is up)."""
    from gridtwin.ingest import Pipeline, PipelineConfig
    from gridtwin.ingest._mqtt import MqttConfig, MqttJsonSource
    from gridtwin.store import MeasurementPoint, open_store

    store = open_store(location, create=True)
    store.add_points(MeasurementPoint(f"p{k}", "p", "kW") for k in range(args.points))
    topic = f"bench/{time.time_ns()}"
    config = MqttConfig(
        port=port,
        topics=(topic,),
        client_id=f"bench-consumer-{time.time_ns()}",
        batch_max_messages=args.batch_messages,
        batch_max_s=0.05,
    )
    src = MqttJsonSource(config)
    stop = threading.Event()
    pipe = Pipeline(store, PipelineConfig(flush_s=0.2))
    runner = threading.Thread(target=src.run, args=(pipe, stop), daemon=True)
    runner.start()
    while src.counters().connects == 0:
        time.sleep(0.02)
    time.sleep(0.2)
    cmd = [sys.executable, __file__, "--publisher", str(port), topic]
    cmd += [str(args.n), str(args.points), str(args.per_msg)]
    pub = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    first_rx = None
    deadline = time.monotonic() + args.timeout_s
    while time.monotonic() < deadline:
        c = pipe.counters()
        if first_rx is None and src.counters().messages:
            first_rx = time.time()
        if c.stored + c.duplicates + c.rejected >= args.n:
            break
        if pub.poll() not in (None, 0):
            msg = f"the publisher failed with exit code {pub.returncode}"
            raise RuntimeError(msg)
        time.sleep(0.005)
    done = time.time()
    stop.set()
    runner.join(timeout=60)
    final = pipe.close()
    out_text, _ = pub.communicate(timeout=60)
    sent = json.loads(out_text.strip().splitlines()[-1])
    info = store.info()
    store.close()
    elapsed = done - (first_rx or sent["first_s"])
    return {
        "stored": final.stored,
        "duplicates": final.duplicates,
        "rejected": final.rejected,
        "rows_in_store": info.measurements,
        "writes": final.writes,
        "elapsed_s": elapsed,
        "per_s": final.stored / elapsed if elapsed > 0 else 0.0,
        "publisher_s": sent["last_s"] - sent["first_s"],
        "max_queue_lag_s": final.max_lag_s,
        "drain_after_publisher_s": max(0.0, done - sent["last_s"]),
        "source": src.counters().__dict__ | {"rejected_by_reason": None},
        "complete": final.stored == args.n,
    }


# ----------------------------------------------------------------------- floors


def floor_duckdb(n: int, points: int, writes: int) -> dict[str, Any]:
    """The same rows appended to a plain DuckDB table in ``writes`` transactions."""
    import duckdb
    import numpy as np
    import pandas as pd

    i = np.arange(n)
    frame = pd.DataFrame(
        {
            "point_id": np.array([f"p{k}" for k in range(points)], dtype=object)[i % points],
            "ts_utc": pd.to_datetime(T0_MS + (i // points) * 1000, unit="ms"),
            "value": i * 0.5,
            "quality": np.zeros(n, np.uint8),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        con = duckdb.connect(str(Path(folder) / "floor.duckdb"))
        con.execute(
            "CREATE TABLE m (point_id VARCHAR, ts_utc TIMESTAMP, value DOUBLE, quality UTINYINT)"
        )
        t0 = time.perf_counter()
        for chunk in np.array_split(np.arange(n), max(1, writes)):
            part = frame.iloc[chunk]  # noqa: F841 - read by DuckDB's replacement scan
            con.execute("BEGIN")
            con.execute("INSERT INTO m SELECT * FROM part")
            con.execute("COMMIT")
        elapsed = time.perf_counter() - t0
        con.close()
    return {"elapsed_s": elapsed, "per_s": n / elapsed, "transactions": max(1, writes)}


def floor_postgres(url: str, n: int, points: int) -> dict[str, Any]:
    """The same rows by one plain COPY into a temporary table."""
    import psycopg

    rows = [(f"p{i % points}", T0_MS + (i // points) * 1000, i * 0.5) for i in range(n)]
    with psycopg.connect(url) as con:
        con.execute(
            "CREATE TEMP TABLE m (point_id text, ts_utc timestamptz, value float8, quality int2)"
        )
        t0 = time.perf_counter()
        with con.cursor().copy("COPY m FROM STDIN") as copy:
            for pid, ms, v in rows:
                copy.write_row((pid, dt.datetime.fromtimestamp(ms / 1000, dt.UTC), v, 0))
        con.commit()
        elapsed = time.perf_counter() - t0
    return {"elapsed_s": elapsed, "per_s": n / elapsed}


# ----------------------------------------------------------------------- main


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--publisher":
        port, topic, n, points, per_msg = sys.argv[2:7]
        publish(int(port), topic, int(n), int(points), int(per_msg))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--floor":
        n, points, writes = (int(x) for x in sys.argv[2:5])
        print(json.dumps(floor_duckdb(n, points, writes)))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="measurements (500,000; --quick 20,000)")
    p.add_argument("--points", type=int, default=1000)
    p.add_argument("--per-msg", type=int, default=250, help="values per MQTT message")
    p.add_argument("--batch-messages", type=int, default=200, help="messages per batch")
    p.add_argument("--timeout-s", type=float, default=180.0)
    p.add_argument("--pg-url", default=None, help="also a PostgreSQL store (postgresql://...)")
    p.add_argument(
        "--pg", action="store_true", help="also PostgreSQL, on a throwaway server (initdb)"
    )
    p.add_argument("--quick", action="store_true", help="20,000 values (smoke run)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    if args.n is None:
        args.n = 20_000 if args.quick else 500_000
    if args.quick:
        args.timeout_s = min(args.timeout_s, 60.0)
    if args.pg and not args.pg_url:
        with _harness.pg_server_module().PgServer() as server:
            args.pg_url = server.url(server.create_database("bench_mqtt"))
            result = run(args)
            args.pg_url = "throwaway server"
    else:
        result = run(args)
    table = _table(result)
    print(table)
    result["table"] = table
    out = args.out or ROOT / "results" / f"ingest-mqtt-{dt.date.today().isoformat()}.json"
    if args.out or not args.quick:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {out}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Broker, consumer(s) and floor(s); every figure in one dict."""
    if not Path(MOSQUITTO).exists():
        msg = f"{MOSQUITTO} is missing: run scripts/sysdeps-mosquitto.sh as root"
        raise SystemExit(msg)
    params = {k: v for k, v in vars(args).items() if k not in ("out", "pg_url")}
    result: dict[str, Any] = {"params": params, "machine": _harness.machine(("duckdb",))}
    folder = Path(tempfile.mkdtemp(prefix="bench-mqtt-"))
    proc, port = start_broker(folder)
    try:
        result["duckdb"] = consume(str(folder / "store"), port, args)
        if args.pg_url:
            result["postgresql"] = consume(args.pg_url, port, args)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    writes = result["duckdb"]["writes"]
    cmd = [sys.executable, __file__, "--floor", str(args.n), str(args.points), str(writes)]
    floor = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
    result["duckdb_floor"] = json.loads(floor.stdout.strip().splitlines()[-1])
    if args.pg_url:
        result["postgresql_floor"] = floor_postgres(args.pg_url, args.n, args.points)
    else:
        result["postgresql"] = "not run: give --pg-url postgresql://... (PostgresStore)"
    return result


def _table(r: dict[str, Any]) -> str:
    lines = [
        "| path | measurements/s | max queue lag | drain after publisher |",
        "|---|---|---|---|",
    ]
    for name in ("duckdb", "postgresql"):
        c = r.get(name)
        if isinstance(c, dict):
            lines.append(
                f"| MQTT -> pipeline -> {name} | {c['per_s']:,.0f} | "
                f"{c['max_queue_lag_s']:.3f} s | {c['drain_after_publisher_s']:.3f} s |"
            )
        f = r.get(f"{name}_floor")
        if isinstance(f, dict):
            lines.append(f"| floor: plain {name} append | {f['per_s']:,.0f} | | |")
            if isinstance(c, dict):
                lines.append(f"| ratio gridtwin / floor | {c['per_s'] / f['per_s']:.2f} | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
