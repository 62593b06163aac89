"""Running and committing steps: shared by engines and by workers.

A worker that has a callback's result completes the activity itself (leg 2)
instead of sending the result through the engine stream: one hop, one round
trip and three commands fewer per activity, with the same guards.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis

from .. import telemetry
from .._codec import dumps, loads
from .._ids import fast_guid
from .._replies import text_map
from ..errors import DeployError, JobNotFoundError
from ..keys import Keys
from ..model import AppSpec
from . import _flow as flow
from . import _local
from . import _state as st
from ._app_runtime import AppRuntime
from ._batcher import Batcher
from ._config import EngineConfig
from ._consumer import Ack, StreamConsumer, add_ack
from ._protocol import (
    Apply,
    Cycle,
    JobMessage,
    Reply,
    Result,
    Resumption,
    StepCall,
    StepOutcome,
    TimeHook,
    Transition,
    WebHook,
    status_for,
)
from ._scripts import STEP
from ._step import Step
from ._waiters import process_token, settle_local
from .activities import TYPES

log = logging.getLogger(__name__)

LocalWork = tuple[StreamConsumer, str, str]
"""(consumer with a slot reserved, stream, message): work a step hands over itself."""


class Stepper:
    """Loads jobs, runs activity legs and commits steps for one app."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        config: EngineConfig,
        batcher: Batcher,
        *,
        relay: bool = False,
        server: str = "",
    ) -> None:
        self.client = client
        self.server = server
        """The server's URL: local work goes only to consumers of the same URL."""
        self.keys = keys
        self.config = config
        self.batcher = batcher
        self.relay = relay or config.relay
        """One slot per script (a cluster): operations on another partition travel as
        ``apply`` messages, and a message read from another partition's stream is
        acknowledged after its step instead of inside it."""
        if config.replicas_to_wait:
            batcher.require_replicas(config.replicas_to_wait, config.replica_wait_ms)
        self.apps: dict[str, AppRuntime] = {}
        self.on_timer: Any = None
        """Called with the due time (ms) of timers this process scheduled (wakes the scout)."""
        self.on_sent: Any = None
        """Called with the streams a committed step wrote messages to."""

    async def app_version(self, version: str) -> AppRuntime:
        """The runtime of a deployed version (loaded from Redis once per process)."""
        app = self.apps.get(version)
        if app is None:
            key = self.keys.version(version)
            raw = await self.batcher.submit(lambda pipe: pipe.get(key))
            if raw is None:
                raise DeployError(f"version '{version}' of app '{self.keys.app}' is not deployed")
            app = self.apps[version] = AppRuntime(AppSpec.from_dict(loads(raw)), self.keys)
        return app

    @staticmethod
    def _stateless(message: JobMessage, app: AppRuntime) -> st.JobState:
        """The state of a step that reads nothing of its job (its writes need no reads)."""
        job = st.JobState(
            metadata={"jid": message.job_id, "gid": message.gid}, settings=app.spec.settings
        )
        if message.trace is not None:
            job.metadata[telemetry.METADATA_KEY] = message.trace
        return job

    async def _read(self, message: JobMessage, app: AppRuntime) -> st.JobState | None:
        """The job state the step reads (None when the job is gone or was recreated)."""
        key = self.keys.job(message.job_id)
        names = app.state_fields(message.activity, message.dad)
        if names is None:
            fields = await self.batcher.submit(lambda pipe: pipe.hgetall(key))
        else:
            values = await self.batcher.submit(lambda pipe: pipe.hmget(key, names))
            fields = {n: v for n, v in zip(names, values) if v is not None}
        if not fields or fields.get(st.GID) != message.gid:
            return None
        return st.JobState.from_hash(fields, app.spec.settings)

    async def resume(self, message: Resumption, ack: Ack | None = None) -> bool:
        """Apply a response (leg 2) to its activity. True when ``ack`` was acknowledged."""
        # Every step asks: a loaded version is a dict lookup, not a coroutine.
        app = self.apps.get(message.version) or await self.app_version(message.version)
        activity = app.activity(message.activity)
        final = not _keeps_open(message)
        # Timer wake-ups always read the job, so that wake-ups that fall due together all
        # take the same path and commit in the order the scout fired them (see hook.resume).
        timer = isinstance(message, TimeHook)
        force = timer or not final
        if force or app.needs_state(message.activity):
            job = await self._read(message, app)
        else:  # most answers: no read, and no coroutine to make
            job = self._stateless(message, app)
        if job is None:
            return False
        # A final message is unique per activity and dimension: naming its guard after
        # them (not the message) lets pruned cycle iterations take their guards along.
        guard = st.GUARD + (
            f"{message.activity}{message.dad}" if final else str(getattr(message, "reply_guid", ""))
        )
        step = Step(app, app.graph_of(activity.id), job, self.config.default_expire, guard=guard)
        try:
            if isinstance(message, Cycle):
                flow.reenter(step, activity, message.dad, message)
            else:
                step.begin()
                TYPES[activity.type].resume(step, activity, message.dad, message)
            step.touch()
        except Exception as exc:  # a step is pure computation: its failure is the job's
            step = self.failed_step(app, job, guard, activity.id, exc)
        await self.commit(step, gid=message.gid, ack=ack)
        return ack is not None

    async def transition(self, message: Transition, ack: Ack | None = None) -> bool:
        """Enter an activity (leg 1) once: a join, whichever path reaches it first, or a
        child queued behind the stream (a timer's wake-up)."""
        app = self.apps.get(message.version) or await self.app_version(message.version)
        activity = app.activity(message.activity)
        graph = app.graph_of(activity.id)
        # A queued child (not a join) always reads the job, so that queued children of
        # different jobs commit in their stream order, whatever they need to read.
        if not app.is_join(activity.id) or app.needs_state(message.activity):
            job = await self._read(message, app)
        else:
            job = self._stateless(message, app)
        if job is None:
            return False
        guard = f"{st.ENTERED}{activity.id}{message.dad}"
        step = Step(app, graph, job, self.config.default_expire, guard=guard)
        try:
            flow.enter(step, activity, message.dad)
            step.touch()
        except Exception as exc:  # a step is pure computation: its failure is the job's
            step = self.failed_step(app, job, guard, activity.id, exc)
        code, _ = await self.commit(step, gid=message.gid)
        if code == StepOutcome.DUPLICATE and not app.is_join(activity.id):
            # Only one path leads here: this message was delivered again after it entered
            # (the consumer acknowledges it).
            return False
        if code == StepOutcome.DUPLICATE:
            # Another path already entered the join: this path's thread ends here.
            ending = Step(
                app,
                graph,
                job,
                self.config.default_expire,
                guard=st.GUARD + message.guid,
                delta=-1,
            )
            await self.commit(ending, gid=message.gid, ack=ack)
            return ack is not None
        return False

    def failed_step(
        self, app: AppRuntime, job: st.JobState, guard: str, aid: str, exc: Exception
    ) -> Step:
        """A step that only ends the activity's thread and records why the job failed."""
        log.info("activity %s of job %s failed: %s", aid, job.metadata.get("jid"), exc)
        graph = app.graph_of(aid)
        step = Step(app, graph, job, self.config.default_expire, guard=guard, delta=-1)
        step.fail_job(
            {"message": str(exc), "code": 500}, {"name": type(exc).__name__, "activity": aid}
        )
        step.touch()
        return step

    async def commit(
        self,
        step: Step,
        *,
        create_status: int | None = None,
        gid: str = "",
        ack: Ack | None = None,
        fresh: bool = False,
    ) -> tuple[int, int]:
        """Apply a step with one script call; returns ``(outcome, status)``.

        ``fresh`` creates a job whose id was just drawn at random (132 bits): no other
        job can hold it, so the script does not check (one command fewer).
        """
        publishes = step.graph.publishes if isinstance(step.graph.publishes, str) else ""
        part = step.part
        ops, messages = step.ops, step.messages
        ack_after = None
        if self.relay:
            ops, messages = self._outbox(step, part.index)
            if ack is not None and self.keys.partition_of_key(ack[0]) is not part:
                # Read from another partition's stream: acknowledged once the step is in.
                ack, ack_after = None, ack
        local: list[LocalWork] = []
        if messages and self.config.local_dispatch:
            messages, local = self._take_local(self.server, messages)
        score = StreamConsumer.lease_score()
        call = StepCall(
            part.job(step.job_id),
            part.engine_stream,
            ("fresh" if fresh else "create") if create_status is not None else "step",
            create_status if create_status is not None else step.delta,
            gid=gid,
            guard=step.guard,
            done_channel=part.done_channel,
            publishes_channel=self.keys.topic_channel(publishes, step.job_id) if publishes else "",
            expire=step.expire_seconds(),
            ack=ack,
            writes=step.writes,
            messages=messages,
            leases=_leases(local, score) if local else [],
            flag=step.flag,
            ops=ops,
            token=process_token(),  # a job this process waits for is settled here
        )
        keys, args = call.encode()
        try:
            reply = await self.batcher.submit(
                STEP.queued(keys, args), patient=create_status is None
            )
        except BaseException:
            for consumer, stream, payload in local:
                consumer.release_local()
                # Its reply may be what was lost: the step, and the lease, may be in.
                consumer.recover_lease(stream, payload, score)
            raise
        outcome = int(reply[0])
        applied = outcome in (StepOutcome.APPLIED, StepOutcome.ENDED)
        for consumer, stream, payload in local:
            # Written only with the step: a step refused by its guards wrote no lease.
            if applied:
                consumer.take_local(stream, payload)
            else:
                consumer.release_local()
                if outcome == StepOutcome.DUPLICATE:
                    # Sent again after a lost reply: the first sending may have written it.
                    consumer.recover_lease(stream, payload, score)
        if ack_after is not None:
            await self.ack(ack_after)
        if len(reply) > 2:  # the completion of a job this process waits for
            settle_local(self.keys.prefix, reply[2])
        if self.on_sent is not None and messages:
            self.on_sent([stream for stream, _ in messages])
        if telemetry.METADATA_KEY in step.job.metadata:
            telemetry.step_committed(step, int(reply[0]))
        if self.on_timer is not None:
            for op in step.ops:
                if op[0] == "timer":
                    self.on_timer(int(op[2]), part.index)
        return int(reply[0]), int(reply[1])

    @staticmethod
    def _take_local(
        server: str, messages: list[tuple[str, str]]
    ) -> tuple[list[tuple[str, str]], list[LocalWork]]:
        """Split off the messages a worker of this process can take now (see ``_local``)."""
        kept: list[tuple[str, str]] = []
        local: list[LocalWork] = []
        for stream, payload in messages:
            consumer = _local.reserve(server, stream)
            if consumer is None:
                kept.append((stream, payload))
            else:
                local.append((consumer, stream, payload))
        return kept, local

    def _outbox(self, step: Step, own: int) -> tuple[list[list[Any]], list[tuple[str, str]]]:
        """The step's own operations, and its messages with one ``apply`` message per other
        partition its operations reach (written to its own engine stream, atomically
        with the step: an outbox)."""
        if all(p == own for p in step.op_parts):
            return step.ops, step.messages
        ops: list[list[Any]] = []
        others: dict[int, list[list[Any]]] = {}
        for op, p in zip(step.ops, step.op_parts):
            (ops if p == own else others.setdefault(p, [])).append(op)
        stream = self.keys.part(own).engine_stream
        messages = list(step.messages)
        for p, batch in others.items():
            relay = Apply(guid=fast_guid(), partition=p, ops=batch)
            messages.append((stream, dumps(relay.to_wire())))
        return ops, messages

    async def apply(self, message: Apply, ack: Ack | None) -> bool:
        """Apply relayed operations in their partition, exactly once (their marker).

        True when ``ack`` was acknowledged in the same script (the message was read
        from that partition's own stream, or the server is one node).
        """
        part = self.keys.part(message.partition)
        if ack is not None and self.relay and self.keys.partition_of_key(ack[0]) is not part:
            ack_after, ack = ack, None
        else:
            ack_after = None
        call = StepCall(
            part.applied(message.guid),
            part.engine_stream,
            "ops",
            guard="1",
            done_channel=part.done_channel,
            ack=ack,
            ops=message.ops,
        )
        keys, args = call.encode()
        reply = await self.batcher.submit(lambda pipe: STEP.add(pipe, keys, args))
        if isinstance(reply, Exception):
            raise reply
        if ack_after is not None:
            await self.ack(ack_after)
        return True

    async def ack(self, ack: Ack) -> None:
        """Acknowledge a message (outside a step script)."""
        await self.batcher.submit(lambda pipe: add_ack(pipe, ack))

    async def run_ops(self, step: Step) -> None:
        """Run a step's operations alone (signals and interrupts from outside a job): one
        script call per partition they touch."""
        by_part: dict[int, list[list[Any]]] = {}
        for op, p in zip(step.ops, step.op_parts):
            by_part.setdefault(p, []).append(op)
        for p, ops in by_part.items():
            part = self.keys.part(p)
            call = StepCall(
                part.job("-"),
                part.engine_stream,
                "ops",
                done_channel=part.done_channel,
                ops=ops,
            )
            keys, args = call.encode()
            await STEP.call(self.client, keys, args)

    async def get_state(self, job_id: str) -> st.JobState:
        """The job's data, metadata and activity states."""
        fields = text_map(await self.client.hgetall(self.keys.job(job_id)))
        if not fields:
            raise JobNotFoundError(job_id)
        app = await self.app_version(loads(fields[st.META])["vrs"])
        return st.JobState.from_hash(fields, app.spec.settings)


def _leases(local: list[LocalWork], score: int) -> list[tuple[str, int, str]]:
    """The lease rows of a step's local work (apart from ``commit``: a comprehension there
    would cost every step cells)."""
    return [(consumer.lease_set(stream), score, payload) for consumer, stream, payload in local]


def _keeps_open(message: Resumption) -> bool:
    """Whether ``message`` leaves its activity open for more: as in the original, a
    ``pending`` status does, whatever the code (a signal without a status succeeds; an
    answer without one has its code's, see ``status_for``)."""
    if isinstance(message, WebHook):
        return message.status == "pending"
    if isinstance(message, (Reply, Result)):
        return (message.status or status_for(int(message.code or 200))) == "pending"
    return False
