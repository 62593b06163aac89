"""The trigger: leg 1 of every job, run by whoever publishes it.

``Engine.pub`` calls :func:`start_job`: it maps the trigger's data, resolves the
job id, records trigger stats and search fields, links a child to its parent's
``await``, and writes the new job and its first messages in one step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import telemetry
from ..._codec import check_value, dumps
from ..._ids import fast_guid, guid, iso_compact
from ...errors import DuplicateJobError, HotMeshError
from ...mapping import UNDEFINED, to_js_string
from .. import _flow as flow
from .. import _state as st
from .. import _trigger_stats as trigger_stats
from .._app_runtime import AppRuntime
from .._batcher import STOPPED
from .._protocol import Await, Result
from .._step import SUCCESS, Step
from .._waiters import process_token

if TYPE_CHECKING:
    from .._engine import Engine

TRIGGER_DAD = ",0"
"""The trigger's dimensional address."""


async def start_job(
    engine: Engine,
    topic: str,
    data: dict[str, Any] | None = None,
    *,
    context: dict[str, Any] | None = None,
    on_id: Any = None,
    pending: float | None = None,
    search: dict[str, Any] | None = None,
    markers: dict[str, Any] | None = None,
    parent: Await | None = None,
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

    A stopped engine raises :class:`~hotmesh_nb.errors.HotMeshError` at once.
    """
    if engine.batcher.closed:
        raise HotMeshError(STOPPED)
    app = app or engine.active_app_loaded() or await engine.active_app()
    graph = app.spec.graph_for_topic(topic)
    if graph is None:
        topics = ", ".join(g.subscribes for g in app.spec.graphs)
        raise HotMeshError(
            f"no graph of app '{engine.keys.app}' version {app.version} subscribes to "
            f"'{topic}' (topics: {topics})"
        )
    if data is not None and not isinstance(data, dict):
        raise HotMeshError(f"job data must be a dict, not {type(data).__name__}")
    payload = dict(data or {})
    # Refuse what cannot be stored exactly (or is too big) before anything is written.
    check_value(payload, "data", engine.config.max_payload)
    trigger = graph.activities[graph.trigger]
    node = {"input": {"data": payload}, "output": {"data": payload}}
    ctx = {trigger.id: node, "$self": node, "$job": {"data": {}, "metadata": {}}}
    ctx["$app"] = {"settings": app.spec.settings}
    stats = trigger.stats
    job_id = app.resolve(stats.get("id"), ctx, f"{trigger.id}.stats.id") if stats else None
    fresh = job_id in (None, UNDEFINED, "") and not default_id  # a random id: unique
    if job_id in (None, UNDEFINED, ""):
        job_id = default_id or guid()
    job_id = str(job_id)
    now = iso_compact()
    metadata: dict[str, Any] = {
        "jid": job_id,
        "gid": fast_guid(),
        "tpc": topic,
        "app": engine.keys.app,
        "vrs": app.version,
        "aid": trigger.id,
        "ts": trigger_stats.current_bucket(trigger.stats or {}),  # as the original's
        "jc": now,
        "ju": now,
        "js": 0,  # what the trigger's rules read, as the original's (not stored: see below)
    }
    if stats and stats.get("key") is not None:
        key = app.resolve(stats["key"], ctx, f"{trigger.id}.stats.key")
        if key not in (None, UNDEFINED):
            metadata["key"] = str(key)
    if parent:
        metadata.update(
            {"pj": parent.job_id, "pg": parent.gid, "pd": parent.dad, "pa": parent.activity}
        )
        if not parent.wait:
            metadata["px"] = True
    if context:
        metadata.update(context)
    span = telemetry.job_begin(metadata, topic, payload, parent)
    # The trigger's own thread is the job's first open thread.
    job = st.JobState(metadata=metadata, settings=app.spec.settings, status=1)
    job.activities[trigger.id] = {TRIGGER_DAD: node}
    step = Step(app, graph, job, engine.config.default_expire)
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
    _index(step, trigger, ctx, job_id)
    trigger_stats.record(
        step, trigger, ctx, job_id, metadata.get("key", ""), engine.config.stats_expire
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
        _link_parent(engine, step, parent, job_id, now)
    if ack is None and engine.backlog.may_refuse:  # a user's new job, while a topic is full
        await engine.backlog.refuse_if_full([stream for stream, _ in step.messages])
    if on_id is not None:
        on_id(job_id)
        if engine.subscriptions.claim(job_id):  # settled from the step's reply, here
            step.writes[st.WAITED_BY] = process_token()
            # Or, when another process ends it, from its partition's done channel: listened
            # to before the job exists (once per partition; then a set lookup).
            if not engine.subscriptions.follows(job_id):
                await engine.subscriptions.follow(job_id)
    code, _ = await engine.commit(step, create_status=status, ack=ack, fresh=fresh)
    telemetry.job_created(span, code)
    if code == 0:
        raise DuplicateJobError(job_id)
    if pending is not None:
        await engine.client.expire(engine.keys.job(job_id), max(int(pending), 1))
    return job_id


def _index(step: Step, trigger: Any, ctx: dict[str, Any], job_id: str) -> None:
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


def _link_parent(engine: Engine, step: Step, parent: Await, job_id: str, now: str) -> None:
    result = Result.for_parent(parent, job_id)
    step.add_link(parent.job_id, f"c:{job_id}", "1")
    if parent.wait:
        # The step script completes it with the child's outcome when the child ends.
        step.writes["p"] = dumps(result.to_wire())
    else:
        result.status, result.code = "success", SUCCESS
        result.data = {"job_id": job_id, "jc": now, "ju": now}
        step.send(step.engine_stream, result)


def _search_text(value: Any) -> str:
    return value if isinstance(value, str) else to_js_string(value)
