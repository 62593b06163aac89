"""Entity functions as MeshFlow workflows, and the ``ttl='infinity'`` hold.

``connect(entity, target)`` registers a workflow named ``entity`` whose body
calls ``target`` with the caller's arguments. Like any workflow function it is
replayed: a plain target simply runs again on a replay, so keep side effects
in activities (``MeshData.proxy_activities``) when a record stays alive.

A record executed with ``ttl='infinity'`` does not end when ``target``
returns: its result is recorded in the job hash (so ``exec`` returns it at
once), announced to waiting callers, and the workflow then waits for
``flush-<record id>``. Until flushed it is a live durable workflow: hook
threads can join it and signals reach it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .._codec import dumps, loads
from ..durations import INFINITY
from ..meshflow import workflow
from ..meshflow._context import current_run
from ._record_ids import CALL_TYPE, split_call

RESPONSE_FIELD = "-md:response"
"""Job hash field holding a held record's result (a marker: JSON, first write wins)."""

READY_TOPIC = "meshdata._ready"
"""Topic announcing that a held record has its result (``<topic>.<record id>``)."""


def flush_signal(record: str) -> str:
    """The signal that releases a held record."""
    return f"flush-{record}"


def entity_workflow(entity: str, target: Callable[..., Any]) -> Callable[..., Any]:
    """The workflow function serving ``entity``: calls ``target`` and holds if asked."""

    async def run(*args: Any) -> Any:
        plain, call = split_call(list(args))
        result = target(*plain)
        if inspect.isawaitable(result):
            result = await result
        if call.get(CALL_TYPE) == "exec" and call.get("ttl") == INFINITY:
            result = await _hold(result)
        return result

    run.__name__ = entity
    run.__qualname__ = entity
    run.__doc__ = target.__doc__
    return run


async def _hold(result: Any) -> Any:
    run = current_run()
    record = run.info.workflow_id
    services = run.services

    async def record_result() -> Any:
        key = services.keys.job(record)
        # First write wins: a replay (which runs the target again) keeps the first result.
        await services.client.hsetnx(key, RESPONSE_FIELD, dumps(result))
        stored = await services.client.hget(key, RESPONSE_FIELD)
        channel = services.keys.topic_channel(READY_TOPIC, record)
        message = {"k": "emit", "m": {"topic": READY_TOPIC, "jid": record}, "d": {"id": record}}
        await services.client.publish(channel, dumps(message))
        return loads(stored) if stored is not None else result

    stored = await run.bridge(record_result())
    await workflow.wait_for(flush_signal(record))
    return stored


def with_call(args: list[Any] | tuple[Any, ...], kind: str, **options: Any) -> list[Any]:
    """``args`` plus the trailing call options an entity workflow pops."""
    call = {CALL_TYPE: kind, **{k: v for k, v in options.items() if v is not None}}
    return [*args, call]
