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
from .activities import TYPES
from .app import AppRuntime
from .batcher import Batcher
from .codec import dumps, loads
from .config import EngineConfig
from .consumer import StreamConsumer
from .ids import fast_guid, guid, iso_compact
from .scripts import STEP, is_noscript, load_all
from .step import SUCCESS, Step
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
        self.subscriptions = Subscriptions(connection.new_client(), keys.done_channel)
        self.consumer: StreamConsumer | None = None
        self._apps: dict[str, AppRuntime] = {}
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
        self._apps[spec.version] = AppRuntime(spec, self.keys)
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

    async def app_version(self, version: str) -> AppRuntime:
        """The runtime of a deployed version (loaded from Redis once)."""
        app = self._apps.get(version)
        if app is None:
            raw = await self.client.get(self.keys.version(version))
            if raw is None:
                raise DeployError(f"version '{version}' of app '{self.keys.app}' is not deployed")
            app = self._apps[version] = AppRuntime(AppSpec.from_dict(loads(raw)), self.keys)
        return app

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

    async def _on_message(self, message_id: str, fields: dict[str, str], deliveries: int) -> None:
        message = loads(fields["m"])
        kind = message.get("k")
        if kind == "response":
            await self._resume(message)
        elif kind == "transition":
            await self._transition(message)
        else:
            log.warning("engine ignored message %s of unknown kind %r", message_id, kind)

    async def _load(
        self, message: dict[str, Any], app: AppRuntime, graph: Any
    ) -> st.JobState | None:
        if app.stateless(graph):
            return st.JobState(
                metadata={"jid": message["j"], "gid": message["gid"]}, settings=app.spec.settings
            )
        fields = await self.batcher.submit(lambda pipe: pipe.hgetall(self.keys.job(message["j"])))
        if not fields or fields.get(st.GID) != message["gid"]:
            return None  # the job is gone or was recreated: the message is stale
        return st.JobState.from_hash(fields, app.spec.settings)

    async def _resume(self, message: dict[str, Any]) -> None:
        app = await self.app_version(message["v"])
        activity = app.activity(message["a"])
        graph = app.graph_of(activity.id)
        job = await self._load(message, app, graph)
        if job is None:
            return
        guard = st.GUARD + (message["g"] if message.get("code") != 202 else message["rg"])
        step = Step(app, graph, job, self.config.default_expire, guard=guard)
        try:
            TYPES[activity.type].resume(step, activity, message["d"], message)
            step.touch()
        except Exception as exc:  # the step is pure computation: any failure is the job's
            step = self._failed_step(app, graph, job, guard, activity.id, exc)
        await self.commit(step, gid=message["gid"])

    async def _transition(self, message: dict[str, Any]) -> None:
        app = await self.app_version(message["v"])
        activity = app.activity(message["a"])
        graph = app.graph_of(activity.id)
        job = await self._load(message, app, graph)
        if job is None:
            return
        guard = f"{st.ENTERED}{activity.id}{message['d']}"
        step = Step(app, graph, job, self.config.default_expire, guard=guard)
        try:
            flow.enter(step, activity, message["d"])
            step.touch()
        except Exception as exc:  # the step is pure computation: any failure is the job's
            step = self._failed_step(app, graph, job, guard, activity.id, exc)
        code, _ = await self.commit(step, gid=message["gid"])
        if code == 0:
            # A second path reached a join that already ran: that path's thread ends here.
            await self.commit(
                Step(app, graph, job, self.config.default_expire, delta=-1), gid=message["gid"]
            )

    def _failed_step(
        self, app: AppRuntime, graph: Any, job: st.JobState, guard: str, aid: str, exc: Exception
    ) -> Step:
        # The activity could not run: end its thread and record why, keep nothing else.
        log.info("activity %s of job %s failed: %s", aid, job.metadata.get("jid"), exc)
        step = Step(app, graph, job, self.config.default_expire, guard=guard, delta=-1)
        step.fail_job({"code": 500, "message": str(exc), "activity": aid})
        step.touch()
        return step

    async def _dead_letter(
        self, message_id: str, fields: dict[str, str], deliveries: int, reason: str
    ) -> None:
        await self.client.xadd(
            self.keys.dead_letters,
            {"stream": self.keys.engine_stream, "id": message_id, "error": reason, **fields},
        )

    # -- committing steps --------------------------------------------------------

    async def commit(
        self, step: Step, *, create_status: int | None = None, gid: str = ""
    ) -> tuple[int, int]:
        """Apply a step with one script call; returns ``(code, status)`` (see step.lua)."""
        streams: list[str] = []
        index: dict[str, int] = {}
        message_args: list[Any] = []
        for stream, payload in step.messages:
            if stream not in index:
                streams.append(stream)
                index[stream] = len(streams)
            message_args += [index[stream], payload]
        graph = step.graph
        publishes = graph.publishes if isinstance(graph.publishes, str) else ""
        args: list[Any] = [
            "create" if create_status is not None else "step",
            create_status if create_status is not None else step.delta,
            gid,
            step.guard,
            self.keys.done_channel,
            self.keys.topic_channel(publishes, step.job_id) if publishes else "",
            step.expire_seconds(),
            len(step.writes),
        ]
        for name, value in step.writes.items():
            args += [name, value]
        args.append(len(step.messages))
        args += message_args
        args.append("1" if step.emit else "0")
        keys = [self.keys.job(step.job_id), *streams]
        reply = await self.batcher.submit(lambda pipe: STEP.add(pipe, keys, args))
        if is_noscript(reply):
            reply = await STEP.call(self.client, keys, args)
        elif isinstance(reply, Exception):
            raise reply
        return int(reply[0]), int(reply[1])

    # -- reading jobs ------------------------------------------------------------

    async def get_state(self, job_id: str) -> st.JobState:
        """The job's data, metadata and activity states."""
        from ..errors import JobNotFoundError

        fields = await self.client.hgetall(self.keys.job(job_id))
        if not fields:
            raise JobNotFoundError(job_id)
        app = await self.app_version(loads(fields[st.META])["vrs"])
        return st.JobState.from_hash(fields, app.spec.settings)


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
