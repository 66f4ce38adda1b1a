"""The live twin inside the service: configuration, start-up and the running parts.

A twin is configured by one YAML file (``gridtwin serve twin.yaml``)::

    name: feeder-7
    network: {simbench: 1-LV-semiurb4--0-sw}     # or {path: net.json | model.zip}
    standard: GOST 32144-2013                      # or EN 50160:2010
    timezone: Europe/Moscow
    alarm_rules: rules.yaml                        # optional; default: the built-in rules
    replay: {speed: 900, loop: true, load_scale: 1}  # optional: play the grid's profiles
    grace_s: 5                                     # how long an interval waits for meters
    forward_look: {horizon_h: 6, every_intervals: 4, anchor: false}  # potential alarms
    early_warning: {threshold: 0.2, method: sf_seasonal_naive}  # day-ahead, GET /warnings
    compliance: {min_intervals: 96}                # weekly supply-voltage counters
    webhooks:                                      # optional: signed POSTs of alarm events
      - {url: https://scada.example/hooks/alarms, secret_env: GRIDTWIN_WEBHOOK_SECRET}
    assets: {file: assets.yaml, window_days: 90, trend_horizon_days: 30}  # optional

The service's store holds the measurements. With ``replay``, the grid's load and
generator profiles are played into it as live telemetry (this is the demo). The
:class:`~gridtwin.workflows.live.LiveRunner` updates the state as intervals arrive and
each state goes through the alarm rules (:class:`~gridtwin.workflows.live_alarms.LiveAlarms`);
alarm events are appended to ``gridtwin-alarms.jsonl`` beside the accounts file (one JSON
object per line, flushed and synced) and read back at start. Each new batch then goes to
the :class:`~gridtwin.service._events.AlarmBroadcaster` (``GET /alarms/stream``) and to the
webhook dispatchers (:mod:`gridtwin.service.webhooks`).
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridtwin._datafile import load_validated
from gridtwin.errors import GridTwinError, InputError
from gridtwin.service.webhooks import WebhookConfig

if TYPE_CHECKING:
    from gridtwin.alarms import AlarmEvent
    from gridtwin.ingest import Pipeline
    from gridtwin.service._events import AlarmBroadcaster
    from gridtwin.service._state import ServiceState
    from gridtwin.service.webhooks import WebhookDispatcher
    from gridtwin.workflows.compliance import WeeklyCompliance
    from gridtwin.workflows.forward import ForwardLooker
    from gridtwin.workflows.live import LiveRunner, LiveState, LiveTwin
    from gridtwin.workflows.live_alarms import LiveAlarms
    from gridtwin.workflows.twin import Twin

__all__ = [
    "START_HOOKS",
    "TwinConfig",
    "TwinRuntime",
    "demo_twin_config",
    "load_twin_config",
    "twin_extension",
]

_log = logging.getLogger("gridtwin.service.twin")
#: The demo's grid: SimBench's semi-urban LV feeder (the one `make run` simulates).
DEMO_GRID = "1-LV-semiurb4--0-sw"
ALARM_LOG = "gridtwin-alarms.jsonl"


class NetworkSource(BaseModel):
    """Where the network model comes from: exactly one of ``simbench`` or ``path``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    simbench: str | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _one(self) -> NetworkSource:
        if (self.simbench is None) == (self.path is None):
            msg = "give exactly one of simbench (a SimBench code) or path (a network file)"
            raise ValueError(msg)
        return self


class ReplayConfig(BaseModel):
    """Play the grid's own profiles into the store as live telemetry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    speed: float = Field(default=900.0, gt=0, description="Data seconds per wall second.")
    loop: bool = True
    load_scale: float = Field(
        default=1.0,
        gt=0,
        le=100,
        description="Multiplies the loads' profiles: a what-if, e.g. electrified apartments.",
    )


class ForwardLookConfig(BaseModel):
    """The forward look: the next hours of the model's profiles through the alarm rules
    (potential alarms with their lead time; :mod:`gridtwin.workflows.forward`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    horizon_h: float = Field(default=6.0, gt=0, le=48, description="Hours looked ahead.")
    every_intervals: int = Field(
        default=4, ge=1, le=96, description="Refresh the look every this many intervals."
    )
    anchor: bool = Field(
        default=False,
        description="Scale the profile loads by the present measured / profile ratio "
        "(instead of the replay's load_scale).",
    )


class ComplianceConfig(BaseModel):
    """The weekly supply-voltage compliance counters (:mod:`gridtwin.workflows.compliance`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_intervals: int = Field(
        default=96,
        ge=1,
        le=10_000,
        description="Intervals a week needs before a running verdict.",
    )


class EarlyWarningConfig(BaseModel):
    """The day-ahead early warning (``GET /api/v1/warnings``; :mod:`gridtwin.warning`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(
        default=0.2,
        gt=0.05,
        lt=1.0,
        description="Probability from which a potential deviation is reported and raised "
        "as a potential alarm.",
    )
    method: Literal["gbm", "weekly_naive", "sf_seasonal_naive", "sf_mstl"] = Field(
        default="sf_seasonal_naive",
        description="Forecast method of every load and PV unit (gbm: LightGBM, minutes "
        "for a feeder's loads on 2 cores).",
    )
    country: str | None = Field(default=None, description="Holiday calendar (holidays code).")
    history_days: int = Field(default=56, ge=15, le=400, description="Days of history used.")
    samples: int = Field(default=200, ge=10, le=5000, description="Sampled scenarios per step.")
    rho_load: float = Field(
        default=0.5, ge=0, le=1, description="Common-factor weight of the loads (copula)."
    )
    measures: bool = Field(default=True, description="Propose and check measures.")
    load_scale: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="Multiplies the load history (a what-if); default the replay's load_scale.",
    )


class AssetsConfig(BaseModel):
    """Condition-based maintenance: the asset register and the equipment trends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str | None = Field(
        default=None, description="Asset register (YAML/TOML/CSV); relative to the file."
    )
    window_days: float = Field(
        default=90.0, gt=0, le=366, description="History the indicators and trends read."
    )
    trends: bool = Field(default=True, description="Watch the equipment trends.")
    trend_horizon_days: float = Field(
        default=30.0, gt=0, le=366, description="Warn when a limit is this close."
    )
    trend_every_s: float = Field(
        default=300.0, ge=1, description="Wall seconds between two trend evaluations."
    )


class TwinConfig(BaseModel):
    """One twin (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="twin", min_length=1, max_length=100)
    network: NetworkSource
    standard: Literal["GOST 32144-2013", "EN 50160:2010"] = "GOST 32144-2013"
    timezone: str = "UTC"
    alarm_rules: str | None = None
    replay: ReplayConfig | None = None
    grace_s: float = Field(default=5.0, ge=0)
    history: int = Field(default=96, ge=1, le=10_000, description="States kept in memory.")
    forward_look: ForwardLookConfig = Field(default_factory=ForwardLookConfig)
    compliance: ComplianceConfig = Field(default_factory=ComplianceConfig)
    webhooks: list[WebhookConfig] = Field(
        default_factory=list, max_length=20, description="Endpoints sent every alarm event."
    )
    early_warning: EarlyWarningConfig = Field(default_factory=EarlyWarningConfig)
    assets: AssetsConfig = Field(default_factory=AssetsConfig)


def load_twin_config(path: Path) -> TwinConfig:
    """A twin configuration file; errors name the file and the field."""
    cfg = load_validated(Path(path), TwinConfig, InputError)
    base = Path(path).parent
    updates: dict[str, Any] = {}
    if cfg.network.path is not None and not Path(cfg.network.path).is_absolute():
        updates["network"] = NetworkSource(path=str(base / cfg.network.path))
    if cfg.alarm_rules is not None and not Path(cfg.alarm_rules).is_absolute():
        updates["alarm_rules"] = str(base / cfg.alarm_rules)
    reg = cfg.assets.file
    if reg is not None and not Path(reg).is_absolute():
        updates["assets"] = cfg.assets.model_copy(update={"file": str(base / reg)})
    return cfg.model_copy(update=updates) if updates else cfg


#: The demo's what-if: every apartment electrified (seed 000: from 1-2 kW to 6-15 kW),
#: as five times today's load; the feeder's cables and transformer then overload at the
#: evening peaks and the alarms have something to say.
DEMO_LOAD_SCALE = 5.0


def demo_twin_config() -> TwinConfig:
    """The demo: SimBench's semi-urban LV feeder with every apartment electrified, its
    profiles replayed as telemetry at 900x (one 15-minute interval a second), with the
    example asset register of its grid."""
    from gridtwin.assets import demo_register_path

    return TwinConfig(
        name="demo: LV feeder, apartments electrified (5x load)",
        network=NetworkSource(simbench=DEMO_GRID),
        replay=ReplayConfig(speed=900.0, loop=True, load_scale=DEMO_LOAD_SCALE),
        grace_s=2.0,
        assets=AssetsConfig(file=str(demo_register_path())),
    )


@dataclass
class TwinRuntime:
    """The parts of a running twin (what the twin and alarm routes read)."""

    config: TwinConfig
    live: LiveTwin
    alarms: LiveAlarms
    stop: threading.Event
    runner: LiveRunner | None = None
    threads: list[threading.Thread] = field(default_factory=list)
    replay_pipe: Pipeline | None = None
    states: collections.deque[LiveState] = field(default_factory=collections.deque)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    forward: ForwardLooker | None = None
    compliance: WeeklyCompliance | None = None
    broadcaster: AlarmBroadcaster | None = None
    webhooks: list[WebhookDispatcher] = field(default_factory=list)
    warner: Any = None  # the early warning (service._warnings.EarlyWarner), made on first use

    def latest(self) -> LiveState | None:
        """The newest state, if any."""
        with self.lock:
            return self.states[-1] if self.states else None

    def recent(self, n: int) -> list[LiveState]:
        """The newest ``n`` states, oldest first."""
        with self.lock:
            return list(self.states)[-n:]

    def close(self) -> None:
        """Stop the threads and the replay's pipeline."""
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
        if self.replay_pipe is not None:
            self.replay_pipe.close(timeout_s=30)
        if self.broadcaster is not None:
            self.broadcaster.close()
        for dispatcher in self.webhooks:
            dispatcher.close()


def _alarm_log(state: ServiceState) -> Path:
    return Path(state.settings.accounts_path).parent / ALARM_LOG


def _read_alarm_log(path: Path) -> list[AlarmEvent]:
    from gridtwin.alarms import AlarmEvent

    if not path.is_file():
        return []
    events = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(AlarmEvent.from_dict(json.loads(line)))
        except (ValueError, TypeError, KeyError) as exc:
            msg = f"{path}: line {n} is not an alarm event ({exc}); move the file aside"
            raise InputError(msg) from exc
    return events


def _appender(path: Path) -> Callable[[Sequence[AlarmEvent]], None]:
    def append(events: Sequence[AlarmEvent]) -> None:
        with path.open("a", encoding="utf-8") as fh:
            for e in events:
                fh.write(json.dumps(e.to_dict(), default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    return append


def _store_then_publish(
    path: Path, broadcaster: AlarmBroadcaster
) -> Callable[[Sequence[AlarmEvent]], None]:
    """Append a batch to the alarm log, then (once it is durable) publish it."""
    append = _appender(path)

    def on_events(events: Sequence[AlarmEvent]) -> None:
        append(events)
        broadcaster.publish(events)

    return on_events


def _delivery(
    config: TwinConfig, keys: Sequence[bytes], restored: Sequence[AlarmEvent], log: Path
) -> tuple[AlarmBroadcaster, list[WebhookDispatcher]]:
    """The alarm stream's broadcaster (ids continue the restored log) and a webhook
    dispatcher per endpoint, listening to it (started by the caller)."""
    from gridtwin.service._events import AlarmBroadcaster, event_data
    from gridtwin.service.webhooks import DEAD_LETTER_LOG, DeadLetterLog, WebhookDispatcher

    broadcaster = AlarmBroadcaster(restored)
    dead = DeadLetterLog(log.parent / DEAD_LETTER_LOG)
    dispatchers = [
        WebhookDispatcher(w, key, event_data, dead, twin=config.name)
        for w, key in zip(config.webhooks, keys, strict=True)
    ]
    for dispatcher in dispatchers:
        broadcaster.add_listener(dispatcher.submit)
    return broadcaster, dispatchers


def start_runtime(state: ServiceState, config: TwinConfig) -> TwinRuntime:
    """Build the twin, restore its alarms, start the replay (if any) and the runner."""
    from gridtwin.alarms import load_rules
    from gridtwin.service.webhooks import resolve_secret
    from gridtwin.workflows.live import LiveRunner, LiveTwin
    from gridtwin.workflows.live_alarms import LiveAlarms
    from gridtwin.workflows.twin import Twin

    keys = [resolve_secret(w, i, os.environ) for i, w in enumerate(config.webhooks)]
    twin = Twin.load(
        simbench_code=config.network.simbench,
        path=config.network.path,
        standard=config.standard,
        timezone=config.timezone,
    )
    stop = threading.Event()
    pipe, replay_thread = (
        _start_replay(state, config, twin, stop) if config.replay else (None, None)
    )
    live = LiveTwin(twin, state.store)
    rules = (
        None
        if config.alarm_rules is None
        else load_rules(config.alarm_rules, standard=config.standard)
    )
    log = _alarm_log(state)
    restored = _read_alarm_log(log)
    broadcaster, dispatchers = _delivery(config, keys, restored, log)
    alarms = LiveAlarms(
        twin.model, config.standard, rules, on_events=_store_then_publish(log, broadcaster)
    )
    alarms.restore(restored)
    runtime = TwinRuntime(config, live, alarms, stop, replay_pipe=pipe)
    runtime.broadcaster, runtime.webhooks = broadcaster, dispatchers
    for dispatcher in dispatchers:
        dispatcher.start()
    runtime.states = collections.deque(maxlen=config.history)
    _start_forward_and_compliance(runtime, state)
    runner = LiveRunner(live, grace_s=config.grace_s, on_state=_on_state(runtime))
    runtime.runner = runner
    if replay_thread is not None:
        runtime.threads.append(replay_thread)
    runner_thread = threading.Thread(
        target=_guard(runtime, runner.run), args=(stop,), name="twin-runner", daemon=True
    )
    runtime.threads.append(runner_thread)
    runner_thread.start()
    if config.assets.trends:
        runtime.threads.append(_trend_watch(runtime, state))
    return runtime


def _trend_watch(runtime: TwinRuntime, state: ServiceState) -> threading.Thread:
    """The equipment-trend watch (see :mod:`gridtwin.service._assets`)."""
    from gridtwin.service._assets import model_elements, refresh_trends, start_trend_watch

    cfg = runtime.config.assets
    elements = model_elements(runtime.live.twin.model.net)

    def refresh() -> None:
        refresh_trends(
            state.store,
            runtime.alarms,
            elements,
            window_days=cfg.window_days,
            horizon_days=cfg.trend_horizon_days,
            ambient_c=float(runtime.live.twin.ambient_c),
        )

    return start_trend_watch(runtime.stop, cfg.trend_every_s, refresh, runtime.errors)


def _on_state(runtime: TwinRuntime) -> Callable[[LiveState], None]:
    def on_state(s: LiveState) -> None:
        with runtime.lock:
            runtime.states.append(s)
        if runtime.compliance is not None:
            runtime.compliance.add(s)
        forecast: Sequence[Any] = ()
        if runtime.forward is not None:
            try:
                forecast = runtime.forward.forecast(s)
            except GridTwinError as exc:  # the interval's own alarms go on without it
                runtime.forward.available = False
                runtime.forward.reason = f"stopped after {s.time_utc}: {exc}"
                runtime.errors.append(f"forward look {runtime.forward.reason}")
        runtime.alarms.on_state(s, forecast)

    return on_state


def _start_forward_and_compliance(runtime: TwinRuntime, state: ServiceState) -> None:
    """The forward look (when enabled; it says why not when the twin has no profiles)
    and the weekly compliance counters, rebuilt from the stored state history."""
    from gridtwin.workflows.compliance import WeeklyCompliance
    from gridtwin.workflows.forward import ForwardLooker

    config, live = runtime.config, runtime.live
    fl = config.forward_look
    if fl.enabled:
        runtime.forward = ForwardLooker(
            live,
            horizon_h=fl.horizon_h,
            every_intervals=fl.every_intervals,
            load_scale=1.0 if config.replay is None else config.replay.load_scale,
            anchor=fl.anchor,
        )
    runtime.compliance = WeeklyCompliance(
        live.twin.model,
        config.standard,
        config.timezone,
        live.step,
        min_intervals=config.compliance.min_intervals,
    )
    runtime.compliance.rebuild(state.store)


def _guard(runtime: TwinRuntime, fn: Callable[[threading.Event], None]) -> Callable[..., None]:
    """Run a background part; an error is logged and kept for /twin (never silent)."""

    def guarded(stop: threading.Event) -> None:
        try:
            fn(stop)
        except Exception as exc:
            _log.exception("the twin's %s stopped", getattr(fn, "__name__", "part"))
            runtime.errors.append(f"{type(exc).__name__}: {exc}")

    return guarded


def _start_replay(
    state: ServiceState, config: TwinConfig, twin: Twin, stop: threading.Event
) -> tuple[Pipeline, threading.Thread]:
    from gridtwin.ingest import Pipeline, ReplaySource
    from gridtwin.workflows.telemetry import simbench_replay_frame

    if config.network.simbench is None or config.replay is None:
        msg = "replay needs a SimBench network (its profiles are what is played)"
        raise InputError(msg)
    frame, points = simbench_replay_frame(config.network.simbench, model=twin.model)
    loads = [c for c in frame.columns if str(c).startswith("load:")]
    frame[loads] = frame[loads] * config.replay.load_scale
    state.store.add_points(points)
    pipe = Pipeline(state.store)
    source = ReplaySource(frame, speed=config.replay.speed, loop=config.replay.loop, name="replay")
    thread = threading.Thread(target=source.run, args=(pipe, stop), name="twin-replay", daemon=True)
    thread.start()
    return pipe, thread


#: Called with the runtime and the service's state once a twin has started: what the
#: API's modules prepare ahead (the network view's topology answer), registered by them,
#: so that this module needs none of them.
START_HOOKS: list[Callable[[TwinRuntime, ServiceState], None]] = []


def twin_extension(
    config: TwinConfig,
) -> Callable[[ServiceState], contextlib.AbstractAsyncContextManager[TwinRuntime]]:
    """A ``create_app(lifespans=[...])`` extension that runs this twin (as ``extras['twin']``)."""

    @contextlib.asynccontextmanager
    async def twin(state: ServiceState) -> AsyncIterator[TwinRuntime]:
        runtime = await anyio.to_thread.run_sync(start_runtime, state, config)
        for hook in START_HOOKS:
            hook(runtime, state)
        try:
            yield runtime
        finally:
            await anyio.to_thread.run_sync(runtime.close)

    return twin
