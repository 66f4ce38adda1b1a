"""``/alarms``: the twin's alarms (read: viewer; act: operator; take out of service: admin).

``GET /alarms/stream`` sends every alarm event as a server-sent event as it happens (see
:func:`stream_events`); ``GET /alarms/delivery`` (admin) shows how the stream and the
webhooks (:mod:`gridtwin.service.webhooks`) are doing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Header, HTTPException, Path, Query
from pydantic import Field
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from gridtwin.alarms import AlarmState, EventKind, PotentialAlarm, Priority
from gridtwin.errors import NotFoundError
from gridtwin.service._accounts import Role
from gridtwin.service._events import EventOut, Subscription, event_out
from gridtwin.service.api._common import InputModel, OutputModel, UtcTime
from gridtwin.service.api.twin import TwinDep
from gridtwin.service.deps import Admin, AuditDep, Operator, StateDep, Viewer

__all__ = ["router"]

router = APIRouter(prefix="/alarms", tags=["alarms"])

Action = Literal[
    "acknowledge",
    "shelve",
    "unshelve",
    "reset",
    "comment",
    "remove-from-service",
    "return-to-service",
]
#: Actions an operator may not take (the alarm system's design is the admin's).
_ADMIN_ACTIONS = frozenset({"remove-from-service", "return-to-service"})


class AlarmOut(OutputModel):
    """An alarm instance (one rule on one element)."""

    instance_id: str
    rule_id: str
    element: str
    priority: str
    state: str = Field(description="normal, unacknowledged, acknowledged, ... (ISA-18.2)")
    condition_active: bool
    shelved_until_utc: dt.datetime | None
    one_shot: bool
    suppressed_reason: str | None
    out_of_service_reason: str | None
    activation_count: int
    chattering_episodes: int
    last_change_utc: dt.datetime | None


class AlarmsOut(OutputModel):
    """Alarm instances."""

    alarms: list[AlarmOut]
    max_shelve_s: float = Field(
        description="The longest shelve the alarm system allows [s] (a timed shelve's "
        "duration_s, a one-shot shelve's latest end)."
    )


class EventsOut(OutputModel):
    """Alarm events, oldest first."""

    events: list[EventOut]


class PotentialOut(OutputModel):
    """A deviation the forward look foresees."""

    instance_id: str
    rule_id: str
    element: str
    priority: str
    first_active_utc: dt.datetime
    lead_time_s: float
    value: float
    limit: float
    message: str
    probability: float | None = Field(
        default=None,
        description="Estimated probability (day-ahead early warning); None for the "
        "forward look's single trajectory.",
    )
    source: str = Field(
        default="forward_look",
        description="forward_look (the profiles' next hours) or forecast (GET /warnings).",
    )


class PotentialsOut(OutputModel):
    """Potential alarms of the newest evaluation, and the forward look they came from."""

    source: str | None = Field(
        description="Where the forward look came from (profiles), None without one."
    )
    horizon_h: float = Field(description="Hours the forward look reaches at each refresh.")
    look_from_utc: dt.datetime | None = Field(description="Interval of the newest look.")
    potential: list[PotentialOut]


class ActionIn(InputModel):
    """An operator's action. ``text`` is the comment, or the reason where one is needed
    (shelve, remove-from-service, comment)."""

    text: str = Field(default="", max_length=2000)
    duration_s: float | None = Field(default=None, gt=0, description="Shelve for this long.")
    one_shot: bool = Field(default=False, description="Shelve until the next return to normal.")


def _alarm(inst: Any) -> AlarmOut:
    return AlarmOut(
        instance_id=inst.instance_id,
        rule_id=inst.rule_id,
        element=inst.element,
        priority=inst.priority,
        state=inst.state,
        condition_active=inst.condition_active,
        shelved_until_utc=inst.shelved_until_utc,
        one_shot=inst.one_shot,
        suppressed_reason=inst.suppressed_reason,
        out_of_service_reason=inst.out_of_service_reason,
        activation_count=inst.activation_count,
        chattering_episodes=inst.chattering_episodes,
        last_change_utc=inst.last_change_utc,
    )


_PriorityQuery = Annotated[
    list[Priority] | None,
    Query(description="Only these priorities (repeat the parameter for several)."),
]
_ElementQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        description="Only this element (bus:3, line:5, trafo:0), or with a trailing * those "
        "it starts with (line:*).",
    ),
]


def _element_matches(pattern: str | None) -> Any:
    """A test of an element name against ``pattern`` (exact, or a prefix before ``*``)."""
    if pattern is None:
        return lambda element: True
    if pattern.endswith("*"):
        head = pattern[:-1]
        return lambda element: element.startswith(head)
    return lambda element: element == pattern


@router.get("", summary="Alarms (active ones unless all=true)")
async def list_alarms(
    user: Viewer,
    runtime: TwinDep,
    all_: Annotated[bool, Query(alias="all", description="Normal ones too.")] = False,
    priority: _PriorityQuery = None,
    state: Annotated[
        list[AlarmState] | None,
        Query(description="Only these states (repeat for several; normal implies all=true)."),
    ] = None,
    element: _ElementQuery = None,
) -> AlarmsOut:
    """Alarm instances, newest change first, filtered by priority, state and element."""
    instances = runtime.alarms.instances()
    if not all_ and not (state and "normal" in state):
        instances = [i for i in instances if i.state != "normal"]
    match = _element_matches(element)
    instances = [
        i
        for i in instances
        if (not priority or i.priority in priority)
        and (not state or i.state in state)
        and match(i.element)
    ]
    far = dt.datetime.min.replace(tzinfo=dt.UTC)
    instances.sort(key=lambda i: i.last_change_utc or far, reverse=True)
    return AlarmsOut(
        alarms=[_alarm(i) for i in instances],
        max_shelve_s=runtime.alarms.rules.config.max_shelve_s,
    )


@router.get("/events", summary="Alarm events (every transition, with who and when)")
async def list_events(
    user: Viewer,
    runtime: TwinDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
    since: Annotated[UtcTime | None, Query(description="Only events at or after.")] = None,
    until: Annotated[UtcTime | None, Query(description="Only events before.")] = None,
    priority: _PriorityQuery = None,
    kind: Annotated[
        list[EventKind] | None,
        Query(description="Only these kinds (activated, acknowledged, comment, ...)."),
    ] = None,
    state: Annotated[
        list[AlarmState] | None,
        Query(description="Only events into these states (the event's to_state)."),
    ] = None,
    element: _ElementQuery = None,
    instance_id: Annotated[
        str | None, Query(min_length=1, max_length=300, description="Only this alarm.")
    ] = None,
    by: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this user's events.")
    ] = None,
) -> EventsOut:
    """The newest ``limit`` events matching the filters (time window ``[since, until)``,
    priority, kind, state entered, element, alarm, user), oldest first."""
    match = _element_matches(element)
    events = [
        e
        for e in runtime.alarms.event_log()
        if (since is None or e.time_utc >= since)
        and (until is None or e.time_utc < until)
        and (not priority or e.priority in priority)
        and (not kind or e.kind in kind)
        and (not state or e.to_state in state)
        and (instance_id is None or e.instance_id == instance_id)
        and (by is None or e.user == by)
        and match(e.element)
    ]
    return EventsOut(events=[event_out(e) for e in events[-limit:]])


_STREAM_DOC = """Every alarm event as it happens, as server-sent events (`text/event-stream`)::

    id: 42
    event: alarm
    data: {<one item of GET /alarms/events>}

`id` is the event's position in the alarm log (1, 2, ...; the same after a restart).
A reconnecting client sends `Last-Event-ID` (browsers' `EventSource` do) or `?after=`:
the events after it come first, then new ones; without either, only new ones. A comment
line (`: ping`) is sent every 15 s while idle. A client that falls too far behind gets
`event: overflow` (`data: {"last_event_id": n, ...}`) and the stream ends: reconnect
with that id and nothing is lost. A stream lasts at most an hour (reconnect), or until
`max_events` events were sent or `timeout_s` seconds passed."""


def _sse(n: int, e: Any) -> ServerSentEvent:
    return ServerSentEvent(data=event_out(e).model_dump_json(), event="alarm", id=str(n))


async def _stream(
    sub: Subscription, max_events: int | None, lifetime_s: float
) -> AsyncIterator[ServerSentEvent]:
    """The events of one subscription until a bound, an overflow or the twin's end."""
    deadline = anyio.current_time() + lifetime_s
    sent = 0
    sent_id = sub.last_id
    try:
        pending = sub.take_backlog()
        while True:
            for n, e in pending:
                yield _sse(n, e)
                sent, sent_id = sent + 1, n
                if max_events is not None and sent >= max_events:
                    return
            if sub.overflowed:
                detail = "this client fell too far behind; reconnect with Last-Event-ID"
                data = json.dumps({"last_event_id": sent_id, "detail": detail})
                yield ServerSentEvent(data=data, event="overflow")
                return
            remaining_s = deadline - anyio.current_time()
            if sub.closed or remaining_s <= 0:
                return
            pending = await sub.next_batch(remaining_s)
    finally:
        sub.cancel()


@router.get(
    "/stream",
    summary="Alarm events as they happen (server-sent events)",
    description=_STREAM_DOC,
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "The event stream.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def stream_events(
    user: Viewer,
    runtime: TwinDep,
    last_event_id: Annotated[
        int | None,
        Header(ge=0, le=2**53, description="Resume after this event id (EventSource sends it)."),
    ] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=2**53, description="Resume after this id (0: the whole log)."),
    ] = None,
    max_events: Annotated[
        int | None, Query(ge=1, le=100_000, description="End after this many events.")
    ] = None,
    timeout_s: Annotated[
        float | None, Query(gt=0, le=3600, description="End after this long [s].")
    ] = None,
) -> EventSourceResponse:
    """Alarm events as server-sent events (see the description above)."""
    broadcaster = runtime.broadcaster
    if broadcaster is None:  # a runtime built without one (not by start_runtime)
        msg = "this twin does not stream its alarms"
        raise NotFoundError(msg)
    start = last_event_id if last_event_id is not None else after
    sub = broadcaster.subscribe(start)  # before the headers go: the client is subscribed
    lifetime_s = min(timeout_s or broadcaster.max_lifetime_s, broadcaster.max_lifetime_s)
    return EventSourceResponse(
        _stream(sub, max_events, lifetime_s),
        ping=broadcaster.heartbeat_s,
        send_timeout=broadcaster.send_timeout_s,
        background=BackgroundTask(sub.cancel),  # also when the stream never starts (HEAD)
    )


class StreamStatsOut(OutputModel):
    """The alarm stream (SSE)."""

    last_event_id: int = Field(description="The newest event's id (0: none yet).")
    subscribers: int
    overflows: int = Field(description="Subscribers dropped for falling behind.")
    queue_size: int = Field(description="Events a subscriber may have waiting.")


class WebhookStatsOut(OutputModel):
    """One webhook endpoint."""

    url: str = Field(description="Without credentials or query.")
    delivered: int = Field(description="Events the endpoint accepted.")
    retried: int = Field(description="Attempts repeated after a retryable failure.")
    failed: int = Field(description="Events given up (in the dead-letter file).")
    queue_length: int = Field(description="Events waiting (the batch in flight too).")
    last_error: str | None
    last_error_utc: dt.datetime | None
    last_delivered_utc: dt.datetime | None


class DeliveryOut(OutputModel):
    """How alarm events reach their subscribers."""

    stream: StreamStatsOut
    webhooks: list[WebhookStatsOut]
    dead_letter_file: str | None = Field(description="Where failed webhook batches go.")


@router.get("/delivery", summary="Alarm delivery: stream subscribers and webhook counters")
async def delivery(user: Admin, runtime: TwinDep) -> DeliveryOut:
    """Subscribers of the stream, and per webhook endpoint: events delivered, retries,
    events failed (dead-lettered), the queue and the last error."""
    b = runtime.broadcaster
    stream = StreamStatsOut(
        last_event_id=0 if b is None else b.last_id,
        subscribers=0 if b is None else b.subscribers,
        overflows=0 if b is None else b.overflows,
        queue_size=0 if b is None else b.queue_size,
    )
    hooks = [WebhookStatsOut.model_validate(vars(d.stats())) for d in runtime.webhooks]
    dead = str(runtime.webhooks[0].dead_letter_path) if runtime.webhooks else None
    return DeliveryOut(stream=stream, webhooks=hooks, dead_letter_file=dead)


@router.get("/potential", summary="Potential alarms with their lead time")
async def list_potential(user: Viewer, runtime: TwinDep) -> PotentialsOut:
    """What the newest evaluation's forward look foresees, and the equipment trends'
    early warnings (rules ``trend-...``, lead time = projected time to the limit)."""
    fw = runtime.forward
    last = None if fw is None else fw.latest
    return PotentialsOut(
        source=None if fw is None or not fw.available else fw.source,
        horizon_h=runtime.config.forward_look.horizon_h,
        look_from_utc=None if last is None else last.from_utc.to_pydatetime(),
        potential=[
            potential_out(p)
            for p in (
                *runtime.alarms.potential,
                *runtime.alarms.early,
                *runtime.alarms.trend_potential,
            )
        ],
    )


def potential_out(p: PotentialAlarm) -> PotentialOut:
    """A potential alarm as the API gives it."""
    return PotentialOut(
        instance_id=p.instance_id,
        rule_id=p.rule_id,
        element=p.element,
        priority=p.priority,
        first_active_utc=p.first_active_utc,
        lead_time_s=p.lead_time_s,
        value=p.value,
        limit=p.limit,
        message=p.message,
        probability=p.probability,
        source=p.source,
    )


class PositionHealthOut(OutputModel):
    """Alarm load of one operator position."""

    position: str
    alarms: int
    mean_per_10min: float
    max_per_10min: int
    share_10min_over_flood_percent: float = Field(
        description="10-minute periods with more than 10 alarms [%] (ISA-18.2)."
    )
    time_in_flood_s: float
    share_of_time_in_flood_percent: float


class HealthOut(OutputModel):
    """Alarm-system health over a window of the twin's time (ISA-18.2 metrics)."""

    start_utc: dt.datetime
    end_utc: dt.datetime
    positions: list[PositionHealthOut]
    stale: list[str] = Field(description="Alarms active longer than 24 h (instance ids).")
    chattering: list[str] = Field(description="Alarms that chattered (instance ids).")
    priority_percent: dict[str, float]
    priority_target_percent: dict[str, float]
    bad_actors: list[str] = Field(description="The most frequent alarms, most first.")


@router.get("/health", summary="Alarm-system health (rate, flood, stale, chattering)")
async def alarm_system_health(
    user: Viewer,
    runtime: TwinDep,
    state: StateDep,
    window_s: Annotated[
        float, Query(gt=0, le=366 * 86400, description="The window [s] up to the twin's time.")
    ] = 86400.0,
) -> HealthOut:
    """Annunciated alarms per 10 minutes per position, floods (more than 10 in 10
    minutes), stale and chattering alarms, the priority split against the 80/15/5 target,
    and the bad actors; over the last ``window_s`` of the twin's timeline."""
    from gridtwin.alarms import alarm_health

    events = runtime.alarms.event_log()
    end = runtime.alarms.state.time_utc
    if end is None:
        msg = "no interval has been evaluated yet"
        raise NotFoundError(msg)
    end = end + dt.timedelta(microseconds=1)
    start = end - dt.timedelta(seconds=window_s)
    h = await state.run(alarm_health, events, start, end, config=runtime.alarms.rules.config)
    return HealthOut(
        start_utc=h.start_utc,
        end_utc=h.end_utc,
        positions=[
            PositionHealthOut(
                position=pos,
                alarms=r.total,
                mean_per_10min=r.mean_per_10min,
                max_per_10min=r.max_per_bin,
                share_10min_over_flood_percent=r.share_bins_over_percent,
                time_in_flood_s=h.flood[pos].time_in_flood_s if pos in h.flood else 0.0,
                share_of_time_in_flood_percent=(
                    h.flood[pos].share_of_time_percent if pos in h.flood else 0.0
                ),
            )
            for pos, r in h.rate.items()
        ],
        stale=[a.instance_id for a in h.stale],
        chattering=[a.instance_id for a in h.chattering],
        priority_percent=dict(h.priorities.percent),
        priority_target_percent=dict(h.priorities.target_percent),
        bad_actors=[b.instance_id for b in h.bad_actors],
    )


_InstanceId = Annotated[str, Path(min_length=1, max_length=300)]


@router.post("/{instance_id}/{action}", summary="Act on an alarm")
async def act(
    instance_id: _InstanceId,
    action: Action,
    body: ActionIn,
    user: Operator,
    runtime: TwinDep,
    state: StateDep,
    audit: AuditDep,
) -> AlarmOut:
    """Acknowledge, shelve (``duration_s`` or ``one_shot``, with a reason), unshelve,
    reset (latched), comment; admins also remove from and return to service. The event
    records the user; the audit log records the request."""
    audit.obj = f"alarm={instance_id}"
    audit.detail = action
    if action in _ADMIN_ACTIONS and not user.role.allows(Role.admin):
        detail = f"{action} needs the admin role; {user.username} has the role {user.role.value}"
        raise HTTPException(status_code=403, detail=detail)
    alarms = runtime.alarms
    if instance_id not in alarms.state.instances:
        msg = f"no alarm {instance_id!r}"
        raise NotFoundError(msg)
    kwargs: dict[str, Any] = {}
    if action == "shelve":
        kwargs = {"reason": body.text, "duration_s": body.duration_s, "one_shot": body.one_shot}
    elif action == "remove-from-service":
        kwargs = {"reason": body.text}
    elif action == "comment":
        kwargs = {"text": body.text}
    else:
        kwargs = {"comment": body.text}
    await state.run(alarms.act, action, instance_id, user=user.username, **kwargs)
    return _alarm(alarms.state.instances[instance_id])
