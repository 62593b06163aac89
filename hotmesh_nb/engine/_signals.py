"""Signals, interrupts and descend: effects on jobs sent from outside their own steps.

``hook`` resumes a waiting hook activity, ``hook_all`` every waiter of a topic
(or those a facet or a stats query selects), ``interrupt`` ends a job (and with
``descend`` its children). The stats queries live here too, because they select
the targets of ``hook_all``. Each function takes the app's :class:`Engine`; the
engine exposes them as its methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from .._codec import check_value, dumps, loads
from .._ids import iso_compact
from .._replies import text_set, texts
from ..errors import HotMeshError, JobNotFoundError
from ..mapping import UNDEFINED
from . import _state as st
from . import _trigger_stats as trigger_stats
from ._protocol import SignalAll
from ._scripts import INTERRUPT
from ._step import Step
from .activities._interrupt_activity import error_for as interrupt_error
from .activities._signal_activity import signal_value

if TYPE_CHECKING:
    from ._engine import Engine


async def hook(
    engine: Engine, topic: str, data: dict[str, Any], *, status: str = "success", code: int = 200
) -> str | None:
    """Send a signal to the hook waiting on ``topic`` whose match value ``data`` gives.

    Returns the match value, or None when no graph of the app listens on the
    topic. A signal whose hook has not registered yet is kept until it does.
    """
    check_value(data, "data", engine.config.max_payload)  # refused before it is queued
    app = await engine.active_app()
    job = st.JobState(metadata={"jid": "-", "gid": "-"}, settings=app.spec.settings)
    step = Step(app, app.spec.graphs[0], job, engine.config.default_expire)
    value = signal_value(step, topic, data)
    if value is None:
        return None
    step.add_signal(topic, value, data, code=code, status=status)
    await engine.stepper.run_ops(step)
    return value


class StatsSource(NamedTuple):
    """Where a stats query reads: the key its data gives, and the trigger's settings."""

    key: str
    granularity: str
    medians: list[str]
    """The targets of the trigger's ``mdn`` measures."""


async def stats_source(engine: Engine, topic: str, query: dict[str, Any]) -> StatsSource:
    """The trigger's ``stats.key`` on the query's data, with its granularity and medians.

    ``topic`` is a graph's ``subscribes`` topic or a hook topic of its ``hooks``.
    """
    app = await engine.active_app()
    graph = app.spec.graph_for_topic(topic) or next(
        (g for g in app.spec.graphs if topic in (g.hooks or {})), None
    )
    if graph is None:
        raise HotMeshError(f"no graph of app '{engine.keys.app}' subscribes to or hooks '{topic}'")
    trigger = graph.activities[graph.trigger]
    stats = trigger.stats or {}
    rule = stats.get("key")
    if rule is None:
        raise HotMeshError(
            f"the trigger '{trigger.id}' of '{graph.subscribes}' has no stats.key: it keeps "
            "no stats (add stats: {key: ..., measures: [...]})"
        )
    data = query.get("data") or {}
    node = {"input": {"data": data}, "output": {"data": data}}
    ctx = {trigger.id: node, "$self": node, "$job": {"data": {}, "metadata": {}}}
    ctx["$app"] = {"settings": app.spec.settings}
    key = app.resolve(rule, ctx, f"{trigger.id}.stats.key")
    if key in (None, UNDEFINED, ""):
        raise HotMeshError(f"the stats key rule {rule!r} resolves to nothing for {data!r}")
    granularity = trigger_stats.granularity_of(stats)
    return StatsSource(str(key), granularity, trigger_stats.median_targets(stats))


async def get_stats(engine: Engine, topic: str, query: dict[str, Any]) -> dict[str, Any]:
    """Counts and measures of the jobs of one stats key over a time window."""
    key, granularity, _ = await stats_source(engine, topic, query)
    return await trigger_stats.get_stats(engine.client, engine.keys, key, granularity, query)


async def measure_rows(
    engine: Engine, topic: str, query: dict[str, Any]
) -> list[tuple[str, str, str, int | float]]:
    """Every measure of one stats key per bucket: ``(bucket, target, type, value)``
    (``sum``, ``avg`` and ``mdn`` too, which the original's report leaves out)."""
    key, granularity, medians = await stats_source(engine, topic, query)
    return await trigger_stats.measure_rows(
        engine.client, engine.keys, key, granularity, query, medians
    )


async def get_ids(
    engine: Engine, topic: str, query: dict[str, Any], facets: list[str]
) -> dict[str, Any]:
    """Ids of the jobs of one stats key under ``facets``, per time bucket."""
    key, granularity, _ = await stats_source(engine, topic, query)
    return await trigger_stats.get_ids(engine.client, engine.keys, key, granularity, query, facets)


async def hook_all(
    engine: Engine,
    topic: str,
    data: dict[str, Any],
    facets: list[str] | None = None,
    key_resolver: dict[str, Any] | None = None,
) -> int:
    """Signal every job waiting on ``topic`` (only those indexed under ``facets``).

    With ``key_resolver`` (the original's ``{data, range, start, end, scrub}``),
    exactly the jobs that query selects are signalled: those of the stats key
    its ``data`` resolves to, indexed under ``facets`` within its window.
    Each job's signal carries ``data`` plus ``id`` (its job id). Returns how
    many jobs were signalled.
    """
    check_value(data, "data", engine.config.max_payload)  # refused before it is queued
    if key_resolver is not None:
        if not facets:
            raise HotMeshError("hook_all with a key_resolver needs facets ('name:value')")
        key, granularity, _ = await stats_source(engine, topic, key_resolver)
        report = await trigger_stats.get_ids(
            engine.client, engine.keys, key, granularity, key_resolver, facets
        )
        count = 0
        for job_id in trigger_stats.ids_of(report):
            if await hook(engine, topic, {**data, "id": job_id}) is not None:
                count += 1
        if key_resolver.get("scrub"):
            await trigger_stats.scrub(
                engine.client, engine.keys, key, granularity, key_resolver, facets
            )
        return count
    if facets:
        ids = await _indexed(engine, facets)
        count = 0
        for job_id in sorted(ids):
            if await hook(engine, topic, {**data, "id": job_id}) is not None:
                count += 1
        return count
    app = await engine.active_app()
    job = st.JobState(metadata={"jid": "-", "gid": "-"}, settings=app.spec.settings)
    step = Step(app, app.spec.graphs[0], job, engine.config.default_expire)
    async for key in engine.client.scan_iter(match=engine.keys.hook_waiters(topic), count=500):
        value = engine.keys.hook_value(key, topic)
        if value is not None:
            step.add_signal(topic, value, {**data}, code=200, status="success")
    if step.ops:
        await engine.stepper.run_ops(step)
    return len(step.ops)


async def _indexed(engine: Engine, facets: list[str]) -> set[str]:
    """Ids of the running jobs indexed under any of ``facets``, in every partition."""
    pipe = engine.client.pipeline(transaction=False)
    for facet in facets:
        for part in engine.keys.parts:
            pipe.smembers(part.facet(facet))
    ids: set[str] = set()
    for members in await pipe.execute():
        ids |= text_set(members)
    return ids


async def signal_all(engine: Engine, message: SignalAll) -> None:
    ids = await _indexed(engine, [message.facet])
    for job_id in sorted(ids):
        await hook(
            engine,
            message.topic,
            {**(message.data or {}), "id": job_id},
            status=message.status,
            code=int(message.code),
        )


async def interrupt(
    engine: Engine,
    job_id: str,
    *,
    topic: str | None = None,
    reason: str | None = None,
    throw: bool = True,
    descend: bool = False,
    expire: int | None = None,
    code: int = 410,
    stack: str | None = None,
) -> bool:
    """End a running job at once; False when it had already ended.

    ``throw`` records an error (``code``, ``reason``) that waiters and an
    awaiting parent see; ``descend`` interrupts its child jobs too.
    """
    app = await engine.active_app()
    graph = app.spec.graph_for_topic(topic) if topic else None
    if graph is None:
        raw = await engine.client.hget(engine.keys.job(job_id), st.META)
        if raw is None:
            raise JobNotFoundError(job_id)
        meta = loads(raw)
        graph = (await engine.stepper.app_version(meta["vrs"])).spec.graph_for_topic(meta["tpc"])
    publishes = graph.publishes if graph is not None and isinstance(graph.publishes, str) else ""
    error = interrupt_error(job_id, reason, code, stack) if throw else None
    keep = engine.config.default_expire if expire is None else expire
    part = engine.keys.part_of(job_id)
    reply = await INTERRUPT.call(
        engine.client,
        [part.job(job_id), part.engine_stream],
        [
            dumps(error) if error is not None else "",
            part.done_channel,
            engine.keys.topic_channel(publishes, job_id) if publishes else "",
            keep,
            iso_compact(),
        ],
    )
    if int(reply[0]) == -1:
        raise JobNotFoundError(job_id)
    if descend:
        await descend_children(engine, job_id, error)
    return int(reply[0]) == 1


async def descend_children(engine: Engine, job_id: str, error: dict[str, Any] | None) -> None:
    """Interrupt every child job of ``job_id`` (and theirs)."""
    fields = texts(await engine.client.hkeys(engine.keys.job(job_id)))
    for name in fields:
        if not name.startswith("c:"):
            continue
        child = name[2:]
        try:
            await interrupt(
                engine,
                child,
                reason=None if error is None else error.get("message"),
                throw=error is not None,
                descend=True,
                code=410 if error is None else int(error.get("code", 410)),
            )
        except JobNotFoundError:
            continue
