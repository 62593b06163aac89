"""The engine: deploys and activates apps, starts jobs and moves them through their graphs.

Engines are stateless: any number of them, in any processes, read the app's
engine stream as one consumer group. Each message becomes one :class:`Step`,
applied to Redis atomically by one script call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from .._codec import dumps, loads
from .._ids import guid, iso_compact
from .._lua import load_all
from .._replies import as_fields, text
from ..connection import Connection
from ..errors import DeployError, DuplicateJobError, JobError, JobNotFoundError
from ..keys import DEFAULT_PARTITIONS, ENGINE_GROUP, WORKER_GROUP, Keys, check_partitions
from ..model import AppSpec, load_app
from ..runtime import cancel_and_wait
from . import _signals as signals
from . import _state as st
from ._app_runtime import AppRuntime
from ._backlog import Backlog
from ._batcher import Batcher
from ._config import EngineConfig
from ._consumer import ConsumerStats, StreamConsumer, create_groups
from ._protocol import (
    Apply,
    Await,
    Cycle,
    Descend,
    Reply,
    Result,
    SignalAll,
    TimeHook,
    Transition,
    Unindex,
    WebHook,
    decode,
)
from ._quorum import Quorum, member_profile
from ._scout import Scout
from ._step import Step
from ._stepper import Stepper
from ._waiters import Subscriptions, settled
from .activities import _trigger_activity as trigger

log = logging.getLogger(__name__)


"""Kinds that resume an activity (its leg 2)."""


class Engine:
    """One engine of one app in one namespace, living on the runtime loop."""

    def __init__(
        self, connection: Connection, keys: Keys, config: EngineConfig, *, consume: bool = True
    ) -> None:
        self.connection = connection
        self.client = connection.client
        self.keys = keys
        self.config = config
        self.consume = consume
        self.guid = guid()
        self.batcher = Batcher(self.client)
        self.stepper = Stepper(
            self.client, keys, config, self.batcher, relay=connection.cluster, server=connection.url
        )
        self.subscriptions = Subscriptions(connection.new_client(), keys)
        self.consumer: StreamConsumer | None = None
        self.started = time.time()
        self.quorum = Quorum(
            self.client, keys, self.guid, self.members, self._set_active, self.consumers
        )
        self.scout: Scout | None = None
        self.backlog = Backlog(self.client, keys, config.unserved_cap)
        self.stepper.on_sent = self.backlog.wrote
        self._active: str | None = None
        self._settings: dict[str, Any] = {}
        self._starting: asyncio.Task[None] | None = None

    # Starting jobs, signals and interrupts live in their own modules; the engine
    # offers them as its methods (each takes the engine as its first argument).
    pub = trigger.start_job
    hook = signals.hook
    hook_all = signals.hook_all
    interrupt = signals.interrupt
    stats_source = signals.stats_source
    get_stats = signals.get_stats
    get_ids = signals.get_ids
    measure_rows = signals.measure_rows

    # -- life cycle --------------------------------------------------------------

    async def start(self) -> None:
        """Load scripts, subscribe to the quorum, start consuming (completions: per partition)."""
        await load_all(self.client)
        self.subscriptions.on_resubscribed = self._settle_missed
        await self.subscriptions.start(self._run_user_callback)
        await self.quorum.load()
        await self.subscriptions.subscribe(
            self.keys.quorum_channel, self.quorum.on_message, internal=True
        )
        await self._refresh_active()
        await self.load_layout()
        if self.consume:
            # Consuming needs the app's partitions: at once when it is deployed, else
            # when a deploy or an activation message makes them known.
            if self.keys.known:
                await self._start_consuming()
            else:
                self.keys.on_layout(self._layout_known)

    def _layout_known(self) -> None:
        task = asyncio.get_running_loop().create_task(self._start_consuming(), name="consume")
        self._starting = task

    async def _start_consuming(self) -> None:
        if self.consumer is not None:
            return
        try:
            streams = [part.engine_stream for part in self.keys.parts]
            self.consumer = StreamConsumer(
                self.client,
                streams,
                ENGINE_GROUP,
                self.guid,
                self._on_message,
                self.config,
                dead_letter=self._dead_letter,
                batcher=self.batcher,
                reader=self.connection.reader(self.config.block_ms),
                handed_back=lambda: self.announce_handed_back(streams[0]),
                throttle=lambda: self.quorum.throttles.delay(None, self.guid),
                split=self.connection.cluster,
            )
            self.quorum.throttles.listeners.append(self.consumer.throttle_changed)
            await self.consumer.start()
            self.scout = Scout(self.connection, self.keys)
            self.stepper.on_timer = self.scout.timer_added
            await self.scout.start()
        except Exception:
            log.exception("the engine of app '%s' could not start consuming", self.keys.app)
            raise

    async def load_layout(self) -> bool:
        """Learn the app's partitions from its record; False while it is not deployed.

        An app deployed before partitions existed has no ``partitions`` field: it keeps
        its one partition, whose keys are the app's own (see :mod:`hotmesh_nb.keys`).
        """
        if self.keys.known:
            return True
        stored, app_id = await self.client.hmget(self.keys.app_record, ["partitions", "id"])
        if stored:
            self.keys.adopt(int(stored))
        elif app_id:
            self._adopt_unpartitioned()
        return self.keys.known

    def _adopt_unpartitioned(self) -> None:
        self.keys.adopt(1)
        if self.connection.cluster:
            log.warning(
                "app '%s' was deployed before partitions existed: all its jobs live in one "
                "partition, on one shard of the cluster. To spread it, let its jobs finish, "
                "delete its keys (redis-cli --scan --pattern '%s' | xargs redis-cli del) and "
                "deploy it again (see README, 'Scale out')",
                self.keys.app,
                self.keys.match_all(),
            )

    async def stop(self, grace: float = 2.0) -> None:
        """Stop consuming (steps in flight get ``grace`` seconds) and close the subscriptions."""
        if self._starting is not None and not self._starting.done():
            await cancel_and_wait(self._starting)
        if self.scout is not None:
            await self.scout.stop()
        if self.consumer is not None:
            await self.consumer.stop(grace)
        await self.backlog.stop()
        await self.subscriptions.close()
        await self.batcher.close()

    async def _settle_missed(self, job_ids: list[str]) -> None:
        """Settle waiters whose job finished while the pub/sub connection was down."""
        try:
            pipe = self.client.pipeline(transaction=False)
            for job_id in job_ids:
                pipe.hgetall(self.keys.job(job_id))
            hashes = await pipe.execute()
        except Exception as exc:
            log.warning("could not look up jobs finished during an outage: %s", exc)
            return
        for fields in hashes:
            payload = st.completion_payload(fields)
            if payload is not None:
                self.subscriptions.settle(payload)

    async def _run_user_callback(
        self, callback: Any, channel: str, payload: dict[str, Any]
    ) -> None:
        from ..runtime import get_runtime

        try:
            await get_runtime().call_user(callback, channel, payload)
        except Exception:
            log.exception("subscriber callback for %s failed", channel)

    def _set_active(self, version: str) -> None:
        self._active = version
        if not self.keys.known:  # deployed by another process since this one started
            task = asyncio.get_running_loop().create_task(self.load_layout(), name="layout")
            task.add_done_callback(_log_failure)

    def _workers(self) -> list[Any]:
        """This process's workers of the app (``WorkerService``s of the runtime)."""
        from ..runtime import get_runtime

        mine = ("worker", self.connection.url, self.keys.namespace, self.keys.app)
        return [
            service
            for key, service in get_runtime().services().items()
            if isinstance(key, tuple) and key[:4] == mine
        ]

    def consumers(self) -> list[StreamConsumer]:
        """This process's stream consumers of the app: its engine's and its workers'."""

        found = [self.consumer] if self.consumer is not None else []
        found += [w.consumer for w in self._workers() if w.consumer is not None]
        return found

    async def announce_handed_back(self, stream: str) -> None:
        """Tell every process of the app to take over what a stopping consumer handed back."""
        await self.client.publish(
            self.keys.quorum_channel, dumps({"type": "reclaim", "stream": stream})
        )

    def members(self) -> list[dict[str, Any]]:
        """Roll-call entries of this process's engine and workers of the app."""

        out = []
        if self.consume:  # a member before its app is deployed too (it waits to consume)
            consumer = self.consumer
            out.append(
                member_profile(
                    "engine",
                    self.guid,
                    self.keys,
                    consumer.stats if consumer is not None else ConsumerStats(),
                    stream=consumer.stream if consumer is not None else "",
                    started=self.started,
                )
            )
        out += [worker.profile() for worker in self._workers()]
        return out

    # -- deployment --------------------------------------------------------------

    async def deploy(self, source: Any, *, partitions: int | None = None) -> AppSpec:
        """Validate, compile and store an app version (a YAML path or text).

        The first deploy of an app fixes its partitions: ``partitions``, else the YAML's
        ``app.partitions``, else :data:`~hotmesh_nb.keys.DEFAULT_PARTITIONS`.
        """
        spec = source if isinstance(source, AppSpec) else load_app(source)
        if spec.id != self.keys.app:
            raise DeployError(
                f"the YAML deploys app '{spec.id}' but this HotMesh serves app "
                f"'{self.keys.app}'; use HotMesh.init('{spec.id}') or change app.id"
            )
        asked = partitions if partitions is not None else spec.partitions
        if asked is not None:
            check_partitions(asked)
        await self._fix_partitions(spec, asked)
        await self._consumers_started()
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.keys.version(spec.version), dumps(spec.to_dict()))
        pipe.hset(
            self.keys.app_record,
            mapping={"id": spec.id, f"versions/{spec.version}": f"deployed:{iso_compact()}"},
        )
        await pipe.execute()
        await create_groups(self.client, [p.engine_stream for p in self.keys.parts], ENGINE_GROUP)
        streams = []
        for activity in spec.activities.values():
            topic = activity.topic if activity.type == "worker" else None
            if isinstance(topic, str) and topic and not topic.startswith("{"):
                streams += self.keys.worker_streams(topic)
        await create_groups(self.client, streams, WORKER_GROUP)
        self.stepper.apps[spec.version] = AppRuntime(spec, self.keys)
        _hint_unconditional_edges(spec)
        return spec

    async def _consumers_started(self) -> None:
        """Wait for this process's consumers of the app that the deploy just let start."""

        starting = [self._starting, *(worker._starting for worker in self._workers())]
        for task in starting:
            if task is not None:
                await asyncio.shield(task)

    async def _fix_partitions(self, spec: AppSpec, asked: int | None) -> None:
        """Store the app's partitions at its first deploy; refuse another number later."""
        await self.load_layout()
        if not self.keys.known:
            # HSETNX: two first deploys racing agree on the number the first one stored.
            wanted = asked if asked is not None else DEFAULT_PARTITIONS
            await self.client.hsetnx(self.keys.app_record, "partitions", wanted)
            stored = await self.client.hget(self.keys.app_record, "partitions")
            self.keys.adopt(int(stored or wanted))
        if asked is not None and asked != self.keys.count:
            raise DeployError(
                f"app '{spec.id}' has {self.keys.count} partitions, fixed when it was first "
                f"deployed; version {spec.version} asks for {asked}. Remove 'partitions' "
                f"from the YAML (or set it to {self.keys.count}), or deploy under a new app id"
            )

    async def activate(self, version: str) -> None:
        """Make ``version`` the one new jobs start on, in every engine of the namespace."""
        version = str(version)
        if not await self.client.exists(self.keys.version(version)):
            raise DeployError(
                f"version '{version}' of app '{self.keys.app}' was never deployed; deploy it first"
            )
        await self.client.hset(
            self.keys.app_record,
            mapping={
                "version": version,
                "active": "true",
                f"versions/{version}": f"activated:{iso_compact()}",
            },
        )
        self._active = version
        await self.client.publish(
            self.keys.quorum_channel, dumps({"type": "activate", "version": version})
        )

    async def _refresh_active(self) -> None:
        record = await self.client.hmget(self.keys.app_record, ["version", "active"])
        if record[0] and record[1] == "true":
            self._active = text(record[0])

    def active_app_loaded(self) -> AppRuntime | None:
        """The active version's runtime when it is known and loaded (no I/O, no coroutine:
        every new job asks)."""
        return None if self._active is None else self.stepper.apps.get(self._active)

    async def active_app(self) -> AppRuntime:
        """The active version's runtime."""
        if self._active is None:
            await self._refresh_active()
        if self._active is None:
            raise DeployError(
                f"app '{self.keys.app}' has no active version; call deploy(...) then "
                "activate(version)"
            )
        return await self.app_version(self._active)

    async def pubsub(
        self,
        topic: str,
        data: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Start a job and wait for it to finish; returns ``{data, metadata}``."""
        from ..errors import TimeoutError as HotMeshTimeout

        wait_for = self.config.pubsub_timeout if timeout is None else timeout
        waiting: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []

        def register(job_id: str) -> None:
            waiting.append((job_id, self.subscriptions.wait(job_id)))

        try:
            job_id = await self.pub(topic, data, on_id=register)
        except BaseException:
            for job_id, future in waiting:
                self.subscriptions.forget(job_id, future)
            raise
        future = waiting[0][1]
        try:
            payload = await settled(future, wait_for)
        except asyncio.TimeoutError:
            self.subscriptions.forget(job_id, future)
            raise HotMeshTimeout(
                f"job '{job_id}' on topic '{topic}' did not finish within {wait_for} s; it "
                "keeps running (are workers for its topics running?)",
                job_id=job_id,
            ) from None
        job = {"data": payload.get("d") or {}, "metadata": payload.get("m") or {}}
        return _result(job_id, job, payload.get("err"), payload.get("ed"))

    # -- consuming the engine stream ---------------------------------------------

    async def _on_message(
        self, stream: str, message_id: str, fields: dict[str, str], deliveries: int
    ) -> bool:
        # A message about a job of another partition (a child's result, a signal that
        # met its waiter, relayed operations) is handled here all the same: its step
        # goes to the job's partition, and the stepper acknowledges it after the step
        # when the two partitions cannot share one script (see Stepper.commit).
        message = decode(fields["m"])
        ack = (stream, ENGINE_GROUP, message_id)
        if isinstance(message, Apply):
            return await self.stepper.apply(message, ack)
        if isinstance(message, (Reply, Result, TimeHook, WebHook, Cycle)):
            return await self.stepper.resume(message, ack)
        if isinstance(message, Transition):
            return await self.stepper.transition(message, ack)
        if isinstance(message, Await):
            await self._start_child(message, ack)
            return True
        if isinstance(message, SignalAll):
            await signals.signal_all(self, message)
            return False
        if isinstance(message, Unindex):
            await self._unindex(message)
            return False
        if isinstance(message, Descend):
            await signals.descend_children(self, message.job_id, message.error)
            return False
        log.warning("engine ignored message %s of kind %r", message_id, message.KIND.value)
        return False

    async def _unindex(self, message: Unindex) -> None:
        """Take an ended job out of its facet sets (only sets of this app)."""
        prefixes = tuple(part.facet("") for part in self.keys.parts)
        # A crafted message cannot reach other keys: only this app's facet sets.
        facets = [f for f in message.facets if f.startswith(prefixes)]
        if facets:
            job_id = message.job_id

            def leave(pipe: Any) -> None:
                for facet in facets:
                    pipe.srem(facet, job_id)

            await self.batcher.submit(leave)

    async def _start_child(self, message: Await, ack: Any) -> None:
        """Start the child job an ``await`` activity asked for (once, even if redelivered)."""
        app = await self.stepper.app_version(message.version)
        child_id = f"{message.job_id}-{message.activity}-{message.guid[1:9]}"
        try:
            await self.pub(
                message.topic,
                message.data or {},
                parent=message,
                app=app,
                default_id=child_id,
                ack=ack,
            )
        except DuplicateJobError as exc:
            existing = await self.client.hget(self.keys.job(exc.job_id), st.META)
            if existing and loads(existing).get("pj") == message.job_id:
                await self._ack(ack)  # a redelivered await: the child already runs
                return
            await self._fail_parent(message, 409, str(exc), ack)
        except Exception as exc:  # the child could not start: the parent must hear why
            await self._fail_parent(message, 500, f"child job could not start: {exc}", ack)

    async def _fail_parent(self, message: Await, code: int, text: str, ack: Any) -> None:
        result = Result.for_parent(message, message.guid)
        result.status, result.code, result.data = "error", code, {"message": text, "code": code}
        stream, group, message_id = ack

        def send(pipe: Any) -> None:
            pipe.xadd(self.keys.engine_stream_of(result.job_id), {"m": dumps(result.to_wire())})
            pipe.xack(stream, group, message_id)

        await self.batcher.submit(send)

    async def _ack(self, ack: Any) -> None:
        stream, group, message_id = ack
        await self.batcher.submit(lambda pipe: pipe.xack(stream, group, message_id))

    async def _dead_letter(
        self, stream: str, message_id: str, fields: dict[str, str], deliveries: int, reason: str
    ) -> None:
        # First the job: a step that can never be applied must not leave it open forever;
        # it ends with code 999, as a worker's dead letter ends its activity.
        try:
            job_id = loads(fields["m"]).get("j")
        except (KeyError, ValueError, AttributeError):
            job_id = None
        if job_id and job_id != "-":
            try:
                await self.interrupt(job_id, reason=f"stream message {reason}", code=999)
            except JobNotFoundError:
                pass
        part = self.keys.partition_of_key(stream) or self.keys.part(0)
        await self.client.xadd(
            part.dead_letters,
            as_fields({"stream": stream, "id": message_id, "error": reason, **fields}),
            maxlen=self.config.dead_letter_cap,
            approximate=False,  # letters are rare: an exact cap costs nothing
        )

    # -- reading jobs ------------------------------------------------------------

    def commit(self, step: Step, **options: Any) -> Coroutine[Any, Any, tuple[int, int]]:
        """Apply a step (see :meth:`Stepper.commit`): its coroutine, with no layer of ours."""
        return self.stepper.commit(step, **options)

    async def get_state(self, job_id: str) -> st.JobState:
        """The job's data, metadata and activity states."""
        return await self.stepper.get_state(job_id)

    async def app_version(self, version: str) -> AppRuntime:
        """The runtime of a deployed version."""
        return await self.stepper.app_version(version)


def _result(job_id: str, job: dict[str, Any], error: Any, detail: Any = None) -> dict[str, Any]:
    if error:
        err = error if isinstance(error, dict) else loads(error)
        detail = detail if isinstance(detail, dict) else {}
        raise JobError(
            str(err.get("message", "job failed")),
            code=int(err.get("code", 500)),
            job_id=job_id,
            data=job.get("data"),
            stack=err.get("stack"),
            error_type=detail.get("name") or err.get("name"),
        )
    return job


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("could not read the app's partitions: %s", task.exception())


def _hint_unconditional_edges(spec: AppSpec) -> None:
    """Log each transition without ``conditions`` out of a worker: a trap for newcomers.

    As in the original, such a transition is taken for every code, errors included, so a
    worker that raises does not stop its job: the job ends ``done`` and only the failed
    activity says why. A log line, not a Python warning (test suites turn those into
    errors), and not a change of the original's rule.
    """
    for graph in spec.graphs:
        for source, transitions in graph.transitions.items():
            activity = graph.activities.get(source)
            if activity is None or activity.type != "worker":
                continue
            for transition in transitions:
                if transition.unconditional:
                    log.info(
                        "app '%s' %s: the transition from worker '%s' to '%s' has no "
                        "conditions, so it is also taken when '%s' fails; add "
                        "`conditions: {code: 200}` to stop on a failure",
                        spec.id,
                        spec.version,
                        source,
                        transition.to,
                        source,
                    )
