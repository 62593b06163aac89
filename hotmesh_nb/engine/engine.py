"""The engine: deploys and activates apps, starts jobs and moves them through their graphs.

Engines are stateless: any number of them, in any processes, read the app's
engine stream as one consumer group. Each message becomes one :class:`Step`,
applied to Redis atomically by one script call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

from ..connection import Connection
from ..errors import DeployError, DuplicateJobError, HotMeshError, JobError
from ..keys import ENGINE_GROUP, WORKER_GROUP, Keys
from ..mapping import UNDEFINED
from ..model import AppSpec, load_app
from . import flow
from . import state as st
from .app import AppRuntime
from .batcher import Batcher
from .codec import dumps, loads
from .config import EngineConfig
from .consumer import StreamConsumer
from .ids import fast_guid, guid, iso_compact
from .scripts import load_all
from .step import SUCCESS, Step
from .stepper import Stepper
from .waiters import Subscriptions

log = logging.getLogger(__name__)

TRIGGER_DAD = ",0"


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
        self.stepper = Stepper(self.client, keys, config, self.batcher)
        self.subscriptions = Subscriptions(connection.new_client(), keys.done_channel)
        self.consumer: StreamConsumer | None = None
        self._active: str | None = None
        self._settings: dict[str, Any] = {}

    # -- life cycle --------------------------------------------------------------

    async def start(self) -> None:
        """Load scripts, subscribe to completions and the quorum, start consuming."""
        await load_all(self.client)
        await self.subscriptions.start(self._run_user_callback)
        await self.subscriptions.subscribe(self.keys.quorum_channel, self._on_quorum)
        await self._refresh_active()
        if self.consume:
            self.consumer = StreamConsumer(
                self.client,
                self.client,
                self.keys.engine_stream,
                ENGINE_GROUP,
                f"{socket.gethostname()}:{os.getpid()}:{self.guid}",
                self._on_message,
                concurrency=self.config.concurrency,
                batch=self.config.batch,
                block_ms=self.config.block_ms,
                reclaim_after=self.config.reclaim_after,
                delivery_cap=self.config.delivery_cap,
                dead_letter=self._dead_letter,
                batcher=self.batcher,
            )
            await self.consumer.start()

    async def stop(self) -> None:
        """Stop consuming and close the subscriptions."""
        if self.consumer is not None:
            await self.consumer.stop()
        await self.subscriptions.close()
        await self.batcher.close()

    async def _run_user_callback(self, callback: Any, channel: str, payload: dict) -> None:
        from ..runtime import get_runtime

        try:
            await get_runtime().call_user(callback, channel, payload)
        except Exception:
            log.exception("subscriber callback for %s failed", channel)

    def _on_quorum(self, channel: str, payload: dict[str, Any]) -> None:
        if payload.get("type") == "activate":
            self._active = str(payload["version"])

    # -- deployment --------------------------------------------------------------

    async def deploy(self, source: Any) -> AppSpec:
        """Validate, compile and store an app version (a YAML path or text)."""
        spec = source if isinstance(source, AppSpec) else load_app(source)
        if spec.id != self.keys.app:
            raise DeployError(
                f"the YAML deploys app '{spec.id}' but this HotMesh serves app "
                f"'{self.keys.app}'; use HotMesh.init('{spec.id}') or change app.id"
            )
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.keys.version(spec.version), dumps(spec.to_dict()))
        pipe.hset(
            self.keys.app_record,
            mapping={"id": spec.id, f"versions/{spec.version}": f"deployed:{iso_compact()}"},
        )
        await pipe.execute()
        await self._create_group(self.keys.engine_stream, ENGINE_GROUP)
        for activity in spec.activities.values():
            topic = activity.topic if activity.type == "worker" else None
            if isinstance(topic, str) and topic and not topic.startswith("{"):
                await self._create_group(self.keys.worker_stream(topic), WORKER_GROUP)
        self.stepper.apps[spec.version] = AppRuntime(spec, self.keys)
        return spec

    async def _create_group(self, stream: str, group: str) -> None:
        try:
            await self.client.xgroup_create(stream, group, id="0", mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise

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
            self._active = record[0]

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

    # -- starting jobs -----------------------------------------------------------

    async def pub(
        self,
        topic: str,
        data: dict[str, Any] | None = None,
        *,
        context: dict[str, Any] | None = None,
        on_id: Any = None,
    ) -> str:
        """Start a job of the graph subscribed to ``topic``; returns its id.

        ``on_id(job_id)`` runs just before the job is written (``pubsub`` uses it
        to wait for the completion without a race).
        """
        app = await self.active_app()
        graph = app.spec.graph_for_topic(topic)
        if graph is None:
            topics = ", ".join(g.subscribes for g in app.spec.graphs)
            raise HotMeshError(
                f"no graph of app '{self.keys.app}' version {app.version} subscribes to "
                f"'{topic}' (topics: {topics})"
            )
        if data is not None and not isinstance(data, dict):
            raise HotMeshError(f"job data must be a dict, not {type(data).__name__}")
        payload = dict(data or {})
        dumps(payload)  # reject what cannot be stored before anything is written
        trigger = graph.activities[graph.trigger]
        node = {"input": {"data": payload}, "output": {"data": payload}}
        ctx = {trigger.id: node, "$self": node, "$job": {"data": {}, "metadata": {}}}
        ctx["$app"] = {"settings": app.spec.settings}
        stats = trigger.stats
        job_id = app.resolve(stats.get("id"), ctx, f"{trigger.id}.stats.id") if stats else None
        if job_id in (None, UNDEFINED, ""):
            job_id = guid()
        job_id = str(job_id)
        now = iso_compact()
        metadata: dict[str, Any] = {
            "jid": job_id,
            "gid": fast_guid(),
            "tpc": topic,
            "app": self.keys.app,
            "vrs": app.version,
            "aid": trigger.id,
            "ts": now,
            "jc": now,
            "ju": now,
        }
        if stats and stats.get("key") is not None:
            key = app.resolve(stats["key"], ctx, f"{trigger.id}.stats.key")
            if key not in (None, UNDEFINED):
                metadata["key"] = str(key)
        if context:
            metadata.update(context)
        job = st.JobState(metadata=metadata, settings=app.spec.settings)
        job.activities[trigger.id] = {TRIGGER_DAD: node}
        step = Step(app, graph, job, self.config.default_expire)
        step.save_activity(
            trigger, TRIGGER_DAD, data=payload, code=SUCCESS, started=True, ended=True
        )
        node["input"] = {"data": payload}
        ctx = step.context(trigger, TRIGGER_DAD)
        step.apply_job_maps(trigger, ctx)
        step.resolve_flags(trigger, ctx)
        flow.complete(step, trigger, TRIGGER_DAD, SUCCESS)
        step.writes[st.GID] = metadata["gid"]
        step.writes[st.META] = dumps({k: v for k, v in metadata.items() if k not in ("ju", "js")})
        step.writes[st.UPDATED] = metadata["ju"]
        if on_id is not None:
            on_id(job_id)
        code, _ = await self.commit(step, create_status=1 + step.delta)
        if code == 0:
            raise DuplicateJobError(job_id)
        return job_id

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
            payload = await asyncio.wait_for(future, wait_for)
        except asyncio.TimeoutError:
            self.subscriptions.forget(job_id, future)
            raise HotMeshTimeout(
                f"job '{job_id}' on topic '{topic}' did not finish within {wait_for} s; it "
                "keeps running (are workers for its topics running?)"
            ) from None
        job = {"data": payload.get("d") or {}, "metadata": payload.get("m") or {}}
        return _result(job_id, job, payload.get("err"))

    # -- consuming the engine stream ---------------------------------------------

    async def _on_message(self, message_id: str, fields: dict[str, str], deliveries: int) -> bool:
        message = loads(fields["m"])
        kind = message.get("k")
        ack = (self.keys.engine_stream, ENGINE_GROUP, message_id)
        if kind == "response":
            return await self.stepper.resume(message, ack)
        if kind == "transition":
            return await self.stepper.transition(message, ack)
        log.warning("engine ignored message %s of unknown kind %r", message_id, kind)
        return False

    async def _dead_letter(
        self, message_id: str, fields: dict[str, str], deliveries: int, reason: str
    ) -> None:
        await self.client.xadd(
            self.keys.dead_letters,
            {"stream": self.keys.engine_stream, "id": message_id, "error": reason, **fields},
        )

    # -- reading jobs ------------------------------------------------------------

    async def commit(self, step: Step, **options: Any) -> tuple[int, int]:
        """Apply a step (see :meth:`Stepper.commit`)."""
        return await self.stepper.commit(step, **options)

    async def get_state(self, job_id: str) -> st.JobState:
        """The job's data, metadata and activity states."""
        return await self.stepper.get_state(job_id)

    async def app_version(self, version: str) -> AppRuntime:
        """The runtime of a deployed version."""
        return await self.stepper.app_version(version)


def _result(job_id: str, job: dict[str, Any], error: Any) -> dict[str, Any]:
    if error:
        err = error if isinstance(error, dict) else loads(error)
        raise JobError(
            str(err.get("message", "job failed")),
            code=int(err.get("code", 500)),
            job_id=job_id,
            data=job.get("data"),
            stack=err.get("stack"),
        )
    return job
