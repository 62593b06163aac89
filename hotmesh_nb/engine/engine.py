"""The engine: deploys and activates apps, starts jobs and moves them through their graphs.

Engines are stateless: any number of them, in any processes, read the app's
engine stream as one consumer group. Each message becomes one :class:`Step`,
applied to Redis atomically by one script call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from .. import telemetry
from .._replies import as_fields, text, text_set, texts
from ..connection import Connection
from ..errors import DeployError, DuplicateJobError, HotMeshError, JobError, JobNotFoundError
from ..keys import ENGINE_GROUP, WORKER_GROUP, Keys
from ..mapping import UNDEFINED, to_js_string
from ..model import AppSpec, load_app
from . import flow
from . import state as st
from . import stats as trigger_stats
from .activities.interrupt import error_for as interrupt_error
from .activities.signal import signal_value
from .app import AppRuntime
from .backlog import Backlog
from .batcher import Batcher
from .codec import check_value, dumps, loads
from .config import EngineConfig
from .consumer import StreamConsumer
from .ids import fast_guid, guid, iso_compact
from .protocol import MessageKind
from .quorum import Quorum, member_profile
from .scout import Scout
from .scripts import INTERRUPT, load_all
from .step import SUCCESS, Step
from .stepper import Stepper
from .waiters import Subscriptions

log = logging.getLogger(__name__)

TRIGGER_DAD = ",0"


_RESUMES = frozenset(
    {
        MessageKind.RESPONSE,
        MessageKind.RESULT,
        MessageKind.TIMEHOOK,
        MessageKind.WEBHOOK,
        MessageKind.CYCLE,
    }
)
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
        self.stepper = Stepper(self.client, keys, config, self.batcher)
        self.subscriptions = Subscriptions(connection.new_client(), keys.done_channel)
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

    # -- life cycle --------------------------------------------------------------

    async def start(self) -> None:
        """Load scripts, subscribe to completions and the quorum, start consuming."""
        await load_all(self.client)
        self.subscriptions.on_resubscribed = self._settle_missed
        await self.subscriptions.start(self._run_user_callback)
        await self.quorum.load()
        await self.subscriptions.subscribe(
            self.keys.quorum_channel, self.quorum.on_message, internal=True
        )
        await self._refresh_active()
        if self.consume:
            self.consumer = StreamConsumer(
                self.client,
                self.keys.engine_stream,
                ENGINE_GROUP,
                self.guid,
                self._on_message,
                self.config,
                dead_letter=self._dead_letter,
                batcher=self.batcher,
                reader=self.connection.reader(self.config.block_ms),
                handed_back=lambda: self.announce_handed_back(self.keys.engine_stream),
                throttle=lambda: self.quorum.throttles.delay(None, self.guid),
            )
            self.quorum.throttles.listeners.append(self.consumer.throttle_changed)
            await self.consumer.start()
            self.scout = Scout(self.connection, self.keys)
            self.stepper.on_timer = self.scout.timer_added
            self.scout.start()

    async def stop(self, grace: float = 2.0) -> None:
        """Stop consuming (steps in flight get ``grace`` seconds) and close the subscriptions."""
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

    def consumers(self) -> list[StreamConsumer]:
        """This process's stream consumers of the app: its engine's and its workers'."""
        from ..runtime import get_runtime

        found = [self.consumer] if self.consumer is not None else []
        for key, service in get_runtime().services().items():
            if isinstance(key, tuple) and key[:4] == (
                "worker",
                self.connection.url,
                self.keys.namespace,
                self.keys.app,
            ):
                found.append(service.consumer)
        return found

    async def announce_handed_back(self, stream: str) -> None:
        """Tell every process of the app to take over what a stopping consumer handed back."""
        await self.client.publish(
            self.keys.quorum_channel, dumps({"type": "reclaim", "stream": stream})
        )

    def members(self) -> list[dict[str, Any]]:
        """Roll-call entries of this process's engine and workers of the app."""
        from ..runtime import get_runtime

        out = []
        if self.consumer is not None:
            out.append(
                member_profile(
                    "engine",
                    self.guid,
                    self.keys,
                    self.consumer.stats,
                    stream=self.keys.engine_stream,
                    started=self.started,
                )
            )
        for key, service in get_runtime().services().items():
            if isinstance(key, tuple) and key[:4] == (
                "worker",
                self.connection.url,
                self.keys.namespace,
                self.keys.app,
            ):
                out.append(service.profile())
        return out

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
        _hint_unconditional_edges(spec)
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
            self._active = text(record[0])

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
        pending: float | None = None,
        search: dict[str, Any] | None = None,
        markers: dict[str, Any] | None = None,
        parent: dict[str, Any] | None = None,
        app: AppRuntime | None = None,
        default_id: str | None = None,
        ack: Any = None,
    ) -> str:
        """Start a job of the graph subscribed to ``topic``; returns its id.

        ``on_id(job_id)`` runs just before the job is written (``pubsub`` uses it
        to wait for the completion without a race). ``pending`` seconds creates
        the job without running it; it expires after that time unless resumed.
        ``search`` fields are stored as searchable strings (``_name``) and
        ``markers`` literally (``-name``). ``parent`` links a child job to the
        ``await`` activity that started it.
        """
        app = app or await self.active_app()
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
        # Refuse what cannot be stored exactly (or is too big) before anything is written.
        check_value(payload, "data", self.config.max_payload)
        trigger = graph.activities[graph.trigger]
        node = {"input": {"data": payload}, "output": {"data": payload}}
        ctx = {trigger.id: node, "$self": node, "$job": {"data": {}, "metadata": {}}}
        ctx["$app"] = {"settings": app.spec.settings}
        stats = trigger.stats
        job_id = app.resolve(stats.get("id"), ctx, f"{trigger.id}.stats.id") if stats else None
        if job_id in (None, UNDEFINED, ""):
            job_id = default_id or guid()
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
        if parent:
            metadata.update(
                {"pj": parent["j"], "pg": parent["gid"], "pd": parent["d"], "pa": parent["a"]}
            )
            if not parent.get("wait", True):
                metadata["px"] = True
        if context:
            metadata.update(context)
        span = telemetry.job_begin(metadata, topic, payload, parent)
        # The trigger's own thread is the job's first open thread.
        job = st.JobState(metadata=metadata, settings=app.spec.settings, status=1)
        job.activities[trigger.id] = {TRIGGER_DAD: node}
        step = Step(app, graph, job, self.config.default_expire)
        step.save_activity(
            trigger,
            TRIGGER_DAD,
            data=payload,
            code=SUCCESS,
            status="success",
            started=True,
            ended=True,
        )
        node["input"] = {"data": payload}
        step.begin()
        ctx = step.context(trigger, TRIGGER_DAD)
        step.apply_job_maps(trigger, ctx)
        for name, value in (search or {}).items():
            step.set_data(name if name.startswith("_") else f"_{name}", _search_text(value))
        for name, value in (markers or {}).items():
            step.set_data(name if name.startswith("-") else f"-{name}", value)
        self._index(step, trigger, ctx, job_id)
        trigger_stats.record(
            step, trigger, ctx, job_id, metadata.get("key", ""), self.config.stats_expire
        )
        if pending is None:
            step.resolve_flags(trigger, ctx)
            flow.complete(step, trigger, TRIGGER_DAD, SUCCESS)
            status = 1 + step.delta
        else:
            status = -1  # waits, unstarted, until it expires
            step.expire = max(int(pending), 1)
        step.writes[st.GID] = metadata["gid"]
        step.writes[st.META] = dumps({k: v for k, v in metadata.items() if k not in ("ju", "js")})
        step.writes[st.UPDATED] = metadata["ju"]
        if parent:
            self._link_parent(step, parent, job_id, now)
        if ack is None:  # a user's new job, not a child started by a step
            await self.backlog.refuse_if_full([stream for stream, _ in step.messages])
        if on_id is not None:
            on_id(job_id)
        code, _ = await self.commit(step, create_status=status, ack=ack)
        telemetry.job_created(span, code)
        if code == 0:
            raise DuplicateJobError(job_id)
        if pending is not None:
            await self.client.expire(self.keys.job(job_id), max(int(pending), 1))
        return job_id

    def _index(self, step: Step, trigger: Any, ctx: dict[str, Any], job_id: str) -> None:
        # Trigger ``stats.measures`` with ``measure: index`` make the job findable by
        # ``hook_all`` and ``signal`` (subtype all) under ``<target name>:<value>``.
        for measure in (trigger.stats or {}).get("measures") or []:
            if not isinstance(measure, dict) or measure.get("measure") != "index":
                continue
            target = measure.get("target")
            value = step.resolve(target, ctx, trigger, "stats.measures.target")
            if value in (None, UNDEFINED):
                continue
            name = str(target).strip("{}").split(".")[-1]
            step.add_index(f"{name}:{to_js_string(value)}", job_id)

    def _link_parent(self, step: Step, parent: dict[str, Any], job_id: str, now: str) -> None:
        result = {
            "k": MessageKind.RESULT.value,
            "j": parent["j"],
            "gid": parent["gid"],
            "a": parent["a"],
            "d": parent["d"],
            "v": parent["v"],
            "g": job_id,
        }
        if telemetry.MESSAGE_KEY in parent:  # the parent's trace goes on when it resumes
            result[telemetry.MESSAGE_KEY] = parent[telemetry.MESSAGE_KEY]
        step.add_link(self.keys.job(parent["j"]), f"c:{job_id}", "1")
        if parent.get("wait", True):
            step.writes["p"] = dumps(result)  # the step script completes it with the outcome
        else:
            result.update(
                {
                    "status": "success",
                    "code": SUCCESS,
                    "data": {"job_id": job_id, "jc": now, "ju": now},
                }
            )
            step.send(self.keys.engine_stream, result)

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
                "keeps running (are workers for its topics running?)",
                job_id=job_id,
            ) from None
        job = {"data": payload.get("d") or {}, "metadata": payload.get("m") or {}}
        return _result(job_id, job, payload.get("err"), payload.get("ed"))

    # -- consuming the engine stream ---------------------------------------------

    async def _on_message(self, message_id: str, fields: dict[str, str], deliveries: int) -> bool:
        message = loads(fields["m"])
        kind = message.get("k")
        ack = (self.keys.engine_stream, ENGINE_GROUP, message_id)
        if kind in _RESUMES:
            return await self.stepper.resume(message, ack)
        if kind == MessageKind.TRANSITION:
            return await self.stepper.transition(message, ack)
        if kind == MessageKind.AWAIT:
            await self._start_child(message, ack)
            return True
        if kind == MessageKind.SIGNAL_ALL:
            await self._signal_all(message)
            return False
        if kind == MessageKind.DESCEND:
            await self._descend(message["j"], message.get("err"))
            return False
        log.warning("engine ignored message %s of unknown kind %r", message_id, kind)
        return False

    async def _start_child(self, message: dict[str, Any], ack: Any) -> None:
        """Start the child job an ``await`` activity asked for (once, even if redelivered)."""
        app = await self.stepper.app_version(message["v"])
        child_id = f"{message['j']}-{message['a']}-{message['g'][1:9]}"
        try:
            await self.pub(
                message["t"],
                message.get("data") or {},
                parent=message,
                app=app,
                default_id=child_id,
                ack=ack,
            )
        except DuplicateJobError as exc:
            existing = await self.client.hget(self.keys.job(exc.job_id), st.META)
            if existing and loads(existing).get("pj") == message["j"]:
                await self._ack(ack)  # a redelivered await: the child already runs
                return
            await self._fail_parent(message, 409, str(exc), ack)
        except Exception as exc:  # the child could not start: the parent must hear why
            await self._fail_parent(message, 500, f"child job could not start: {exc}", ack)

    async def _fail_parent(self, message: dict[str, Any], code: int, text: str, ack: Any) -> None:
        result = {
            "k": MessageKind.RESULT.value,
            "j": message["j"],
            "gid": message["gid"],
            "a": message["a"],
            "d": message["d"],
            "v": message["v"],
            "g": message["g"],
            "status": "error",
            "code": code,
            "data": {"message": text, "code": code},
        }
        stream, group, message_id = ack

        def send(pipe: Any) -> None:
            pipe.xadd(self.keys.engine_stream, {"m": dumps(result)})
            pipe.xack(stream, group, message_id)

        await self.batcher.submit(send)

    async def _ack(self, ack: Any) -> None:
        stream, group, message_id = ack
        await self.batcher.submit(lambda pipe: pipe.xack(stream, group, message_id))

    # -- signals and interrupts ---------------------------------------------------

    async def hook(
        self, topic: str, data: dict[str, Any], *, status: str = "success", code: int = 200
    ) -> str | None:
        """Send a signal to the hook waiting on ``topic`` whose match value ``data`` gives.

        Returns the match value, or None when no graph of the app listens on the
        topic. A signal whose hook has not registered yet is kept until it does.
        """
        check_value(data, "data", self.config.max_payload)  # refused before it is queued
        app = await self.active_app()
        job = st.JobState(metadata={"jid": "-", "gid": "-"}, settings=app.spec.settings)
        step = Step(app, app.spec.graphs[0], job, self.config.default_expire)
        value = signal_value(step, topic, data)
        if value is None:
            return None
        step.add_signal(topic, value, data, code=code, status=status)
        await self.stepper.run_ops(step)
        return value

    async def stats_source(self, topic: str, query: dict[str, Any]) -> tuple[str, str]:
        """``(key, granularity)`` of a stats query: the trigger's ``stats.key`` on its data.

        ``topic`` is a graph's ``subscribes`` topic or a hook topic of its ``hooks``.
        """
        app = await self.active_app()
        graph = app.spec.graph_for_topic(topic) or next(
            (g for g in app.spec.graphs if topic in (g.hooks or {})), None
        )
        if graph is None:
            raise HotMeshError(
                f"no graph of app '{self.keys.app}' subscribes to or hooks '{topic}'"
            )
        trigger = graph.activities[graph.trigger]
        rule = (trigger.stats or {}).get("key")
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
        return str(key), trigger_stats.granularity_of(trigger.stats or {})

    async def get_stats(self, topic: str, query: dict[str, Any]) -> dict[str, Any]:
        """Counts and measures of the jobs of one stats key over a time window."""
        key, granularity = await self.stats_source(topic, query)
        return await trigger_stats.get_stats(self.client, self.keys, key, granularity, query)

    async def get_ids(self, topic: str, query: dict[str, Any], facets: list[str]) -> dict[str, Any]:
        """Ids of the jobs of one stats key under ``facets``, per time bucket."""
        key, granularity = await self.stats_source(topic, query)
        return await trigger_stats.get_ids(self.client, self.keys, key, granularity, query, facets)

    async def hook_all(
        self,
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
        check_value(data, "data", self.config.max_payload)  # refused before it is queued
        if key_resolver is not None:
            if not facets:
                raise HotMeshError("hook_all with a key_resolver needs facets ('name:value')")
            key, granularity = await self.stats_source(topic, key_resolver)
            report = await trigger_stats.get_ids(
                self.client, self.keys, key, granularity, key_resolver, facets
            )
            count = 0
            for job_id in trigger_stats.ids_of(report):
                if await self.hook(topic, {**data, "id": job_id}) is not None:
                    count += 1
            if key_resolver.get("scrub"):
                lists = [
                    self.keys.stats_ids(key, bucket, facet)
                    for bucket in trigger_stats.window(key_resolver, granularity)
                    for facet in facets
                ]
                await self.client.delete(*lists)
            return count
        if facets:
            ids: set[str] = set()
            for facet in facets:
                ids |= text_set(await self.client.smembers(self.keys.facet(facet)))
            count = 0
            for job_id in sorted(ids):
                if await self.hook(topic, {**data, "id": job_id}) is not None:
                    count += 1
            return count
        app = await self.active_app()
        job = st.JobState(metadata={"jid": "-", "gid": "-"}, settings=app.spec.settings)
        step = Step(app, app.spec.graphs[0], job, self.config.default_expire)
        prefix_len = len(self.keys.hook_waiter(topic, ""))
        async for key in self.client.scan_iter(match=self.keys.hook_waiters(topic), count=500):
            step.add_signal(topic, key[prefix_len:], {**data}, code=200, status="success")
        if step.ops:
            await self.stepper.run_ops(step)
        return len(step.ops)

    async def _signal_all(self, message: dict[str, Any]) -> None:
        ids = await self.client.smembers(self.keys.facet(message["facet"]))
        for job_id in sorted(ids):
            await self.hook(
                message["t"],
                {**(message.get("data") or {}), "id": job_id},
                status=message.get("status", "success"),
                code=int(message.get("code", 200)),
            )

    async def interrupt(
        self,
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
        app = await self.active_app()
        graph = app.spec.graph_for_topic(topic) if topic else None
        if graph is None:
            raw = await self.client.hget(self.keys.job(job_id), st.META)
            if raw is None:
                raise JobNotFoundError(job_id)
            meta = loads(raw)
            graph = (await self.stepper.app_version(meta["vrs"])).spec.graph_for_topic(meta["tpc"])
        publishes = (
            graph.publishes if graph is not None and isinstance(graph.publishes, str) else ""
        )
        error = interrupt_error(job_id, reason, code, stack) if throw else None
        keep = self.config.default_expire if expire is None else expire
        reply = await INTERRUPT.call(
            self.client,
            [self.keys.job(job_id), self.keys.engine_stream],
            [
                dumps(error) if error is not None else "",
                self.keys.done_channel,
                self.keys.topic_channel(publishes, job_id) if publishes else "",
                keep,
                iso_compact(),
            ],
        )
        if int(reply[0]) == -1:
            raise JobNotFoundError(job_id)
        if descend:
            await self._descend(job_id, error)
        return int(reply[0]) == 1

    async def _descend(self, job_id: str, error: dict[str, Any] | None) -> None:
        """Interrupt every child job of ``job_id`` (and theirs)."""
        fields = texts(await self.client.hkeys(self.keys.job(job_id)))
        for name in fields:
            if not name.startswith("c:"):
                continue
            child = name[2:]
            try:
                await self.interrupt(
                    child,
                    reason=None if error is None else error.get("message"),
                    throw=error is not None,
                    descend=True,
                    code=410 if error is None else int(error.get("code", 410)),
                )
            except JobNotFoundError:
                continue

    async def _dead_letter(
        self, message_id: str, fields: dict[str, str], deliveries: int, reason: str
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
        await self.client.xadd(
            self.keys.dead_letters,
            as_fields(
                {"stream": self.keys.engine_stream, "id": message_id, "error": reason, **fields}
            ),
            maxlen=self.config.dead_letter_cap,
            approximate=False,  # letters are rare: an exact cap costs nothing
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


def _search_text(value: Any) -> str:
    return value if isinstance(value, str) else to_js_string(value)


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
