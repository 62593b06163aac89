"""Redis-side helpers of MeshFlow: the app deployment, ledger reads, claims, side effects.

Everything here runs on the runtime loop (workflow code reaches it through
``Run.bridge``).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from .._codec import dumps
from .._replies import text_map, texts_or_none
from ..connection import Connection, is_cluster
from ..engine._config import EngineConfig
from ..errors import DuplicateJobError, JobNotFoundError
from ..hotmesh import HotMesh, Worker
from ..keys import DEFAULT_NAMESPACE
from ..search import shared_engine
from ._context import Run, WorkflowInfo
from ._factory import APP_ID, APP_VERSION, EXECUTE, WAIT_SIGNAL, app_yaml
from ._ledger import CLAIM, SEARCH, Ledger, patch_field
from ._meshflow_errors import Suspended

log = logging.getLogger(__name__)

REMOTE_LEDGER_TTL = 30 * 86400
"""Seconds a ledger kept beside another partition's record lives after its last write:
long enough for any replay of the job that wrote it."""

T = TypeVar("T")


async def open_app(
    connection: Connection | str | None,
    namespace: str | None,
    workers: list[Worker],
    config: EngineConfig | None,
) -> HotMesh:
    """The MeshFlow app's HotMesh in ``namespace`` (deployed and activated when missing)."""
    hm = await HotMesh.init_async(
        APP_ID,
        connection=connection,
        namespace=namespace or DEFAULT_NAMESPACE,
        workers=workers,
        config=config,
    )
    client = hm.connection.client
    version, active = await client.hmget(hm.keys.app_record, ["version", "active"])
    if version != APP_VERSION or active != "true":
        await hm.deploy_async(app_yaml())
        await hm.activate_async(APP_VERSION)
    scout = hm.engine.scout
    if scout is not None:
        # Timers set when a worker completes an activity (retry backoffs, sleeps) wake
        # this process's scout at once, without a round trip through the wake stream.
        for service in hm.workers:
            service.stepper.on_timer = scout.timer_added
    return hm


class WorkflowServices:
    """I/O that workflow runs need, bound to one MeshFlow HotMesh."""

    def __init__(self, hm: HotMesh) -> None:
        self.hm = hm
        self.client = hm.connection.client
        self.keys = hm.keys

    async def load_ledger(self, job_id: str) -> Ledger:
        """The ledger of a workflow job (one ``HGETALL``)."""
        return Ledger.from_hash(text_map(await self.client.hgetall(self.keys.job(job_id))))

    async def claim(
        self, job_id: str, owner: str, pairs: list[tuple[str, str]], run: Run | None = None
    ) -> list[int]:
        """Claim ledger indexes for a run (see ``lua/claim.lua``): 1 (ours) or 0 per pair.

        The same script claims and writes ``run``'s pending local-activity results
        first, so a result reaches the job no later than the next thing its run does.
        When another run holds one of them, ``run`` is marked stale (it must replay
        again) and nothing is claimed.
        """
        pending = list(run.pending.items()) if run is not None else []
        args: list[Any] = [owner, len(pending)]
        for result_field_, (claim_field_, claim, record) in pending:
            args += [claim_field_, claim, result_field_, record]
        for name, record in pairs:
            args += [name, record]
        keys = [self.keys.job(job_id)]
        # Through the engine's batcher: concurrent runs share a round trip, an outage is
        # waited out and the (idempotent) script sent again with the same results — never
        # a re-run activity — and a durability setting's WAIT covers these writes too.
        reply = await self.hm.engine.batcher.submit(lambda pipe: CLAIM.add(pipe, keys, args))
        if run is not None:
            for name, _ in pending:
                run.pending.pop(name, None)
        if not reply:
            return [0] * len(pairs)
        if int(reply[0]) and run is not None:
            run.stale = True
        return [int(x) for x in reply[1:]]

    async def flush(self, run: Run) -> None:
        """Write ``run``'s pending local-activity results now."""
        if run.pending:
            await self.claim(run.info.workflow_id, run.owner, [], run)

    async def flushed(self, run: Run, coro: Coroutine[Any, Any, T]) -> T:
        """``coro`` awaited once ``run``'s pending results are written.

        A stale run (another run recorded one of its results first) stops here: what
        it did after that result must not be seen outside.
        """
        try:
            await self.flush(run)
            if run.stale:
                raise Suspended()
        except BaseException:
            coro.close()
            raise
        return await coro

    async def effect(
        self, info: WorkflowInfo, field: str, kind: str, name: str, action: Any
    ) -> Any:
        """Run a side effect once and record it under ``field``.

        Fire-and-forget effects (signal, emit, trace) are claimed first, so they
        happen at most once; effects that are idempotent by id (children, hook
        threads, interrupts) run first and are recorded after, so they happen
        exactly once even if the worker dies in between.
        """
        key = self.keys.job(info.workflow_id)
        if kind in ("signal", "emit", "trace"):
            if not await self.client.hsetnx(key, field, dumps({"n": name, "v": None})):
                return None
            await action()
            return None
        value = await action()
        await self.client.hset(key, field, dumps({"n": name, "v": value}))
        return value

    async def mark_patch(self, workflow_id: str, patch_id: str) -> None:
        """Record that the workflow took the new code path of change ``patch_id``."""
        await self.client.hset(self.keys.job(workflow_id), patch_field(patch_id), "true")

    async def send_signal(self, signal_id: str, data: Any) -> None:
        """Resolve ``wait_for(signal_id)`` (now or when it registers)."""
        await self.hm.engine.hook(WAIT_SIGNAL, {"id": signal_id, "data": data})

    async def start_workflow(self, start: dict[str, Any], *, parent: bool) -> str:
        """Start a workflow job (a child or a hook thread); an existing id is not an error."""
        data = {k: v for k, v in start.items() if k not in ("await", "search")}
        try:
            job_id = await self.hm.engine.pub(EXECUTE, data, search=start.get("search"))
        except DuplicateJobError:
            return str(start["workflowId"])
        if start.get("search"):
            await shared_engine(self.client, self.keys).reindex(job_id)
        return job_id

    async def interrupt(self, workflow_id: str, *, reason: str | None, descend: bool) -> bool:
        """Interrupt a workflow; False when it had ended or does not exist."""
        try:
            return await self.hm.engine.interrupt(workflow_id, reason=reason, descend=descend)
        except JobNotFoundError:
            return False

    async def publish(self, events: dict[str, Any]) -> None:
        """Publish ``{topic: payload}`` to ``hm.sub`` subscribers of the app."""
        for topic, payload in events.items():
            message = {"k": "emit", "m": {"topic": topic}, "d": payload}
            await self.client.publish(self.keys.topic_channel(topic), dumps(message))

    def log_trace(self, info: WorkflowInfo, attributes: dict[str, Any]) -> None:
        """Record trace attributes (logging; no OpenTelemetry exporter)."""
        log.info("workflow %s trace: %s", info.workflow_id, attributes)

    async def search_op(
        self, job_id: str, search_id: str, field: str, op: str, args: list[str]
    ) -> str:
        """A replay-safe search write (see ``lua/search.lua``).

        Where a fallback search index covers the record, the write goes through
        the search layer instead, so the index stays in step (same once-only rule).
        """
        record = self.keys.part_of(search_id)
        remote = is_cluster(self.client) and record is not self.keys.part_of(job_id)
        # The write and its ledger entry are one script, so they must share a slot: on a
        # cluster, a hook thread's writes onto its record keep their ledger beside it.
        ledger = (record.ledger(job_id) if remote else self.keys.job(job_id), field)
        engine = shared_engine(self.client, self.keys)
        done = await engine.apply(search_id, op, args, ledger)
        if done is None:
            keys = [ledger[0], self.keys.job(search_id)]
            done = str(await SEARCH.call(self.client, keys, [field, op, *args]))
        if remote:
            await self.client.expire(ledger[0], REMOTE_LEDGER_TTL)
        return done

    async def search_get(self, search_id: str, fields: list[str]) -> list[str | None]:
        """Live values of searchable fields."""
        return list(texts_or_none(await self.client.hmget(self.keys.job(search_id), fields)))
