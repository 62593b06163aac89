"""The notebook views of a :class:`~hotmesh_nb.HotMesh`, as coroutines for the runtime loop.

``HotMesh.graph/jobs/timeline/streams`` (and their ``*_async`` twins) call
these; the magics and the dashboard use them too.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._codec import loads
from .._replies import text_map
from ..connection import connect_async
from ..errors import DeployError
from ..keys import Keys, check_namespace, glob_escape
from ..model import AppSpec
from . import _frames as frames
from . import _probe as probe
from ._paint import ActivityFailure
from ._views import GraphView, JobView

if TYPE_CHECKING:
    from ..hotmesh import HotMesh

_APP_ID = re.compile(r"[A-Za-z0-9-]+")
"""What an app id is made of (see ``keys.check_app_id``)."""

_meter = probe.RateMeter()
"""Rates of ``HotMesh.streams()``: since the previous call in this process."""


async def is_deployed(url: str, keys: Keys) -> bool:
    """Whether some version of the app ``keys`` names was deployed on the server at ``url``."""
    conn = await connect_async(url)
    return bool(await conn.client.exists(keys.app_record))


async def active_version(hm: HotMesh) -> str:
    """The app's active version; else its latest deployed one (a graph may be drawn before
    it is activated). Raises :class:`DeployError` when nothing was deployed."""
    record = text_map(await hm.connection.client.hgetall(hm.keys.app_record))
    if record.get("version") and record.get("active") == "true":
        return record["version"]
    deployed = [
        (stamp.partition(":")[2], name.removeprefix("versions/"))
        for name, stamp in record.items()
        if name.startswith("versions/")
    ]
    if not deployed:
        raise DeployError(
            f"app '{hm.app_id}' has no deployed version in namespace '{hm.namespace}'; "
            "deploy one first (hm.deploy(yaml) or %%hotmesh deploy)"
        )
    return max(deployed)[1]


async def app_spec(hm: HotMesh, version: str | int | None = None) -> AppSpec:
    """The compiled app of ``version`` (default: :func:`active_version`)."""
    chosen = str(version) if version is not None else await active_version(hm)
    return (await hm.engine.app_version(chosen)).spec


async def graph(
    hm: HotMesh, version: str | int | None = None, job_id: str | None = None
) -> GraphView:
    """The app's DAG, fitted to a notebook's width (:meth:`GraphView.fit`); painted with the
    job's path when ``job_id`` is given."""
    if job_id is None:
        return GraphView(await app_spec(hm, version)).fit()
    export = await probe.here(hm, "export_async", job_id)
    spec = await app_spec(hm, version if version is not None else export["metadata"].get("vrs"))
    return GraphView.of_job(spec, export)


async def job_exists(hm: HotMesh, job_id: str) -> bool:
    """Whether the app holds state for job ``job_id``."""
    return bool(await hm.connection.client.exists(hm.keys.job(job_id)))


async def job_view(hm: HotMesh, job_id: str) -> JobView:
    """A job's facts, data and painted graph."""
    export = await probe.here(hm, "export_async", job_id)
    try:
        spec = await app_spec(hm, export["metadata"].get("vrs"))
    except DeployError:
        return JobView(export, None)  # the version was removed: show the job without a graph
    return JobView(export, GraphView.of_job(spec, export))


async def jobs(
    hm: HotMesh,
    status: str | Iterable[str] | None = None,
    limit: int | None = 1000,
    *,
    styled: bool = False,
) -> Any:
    """See :func:`.frames.jobs_frame`; ``styled`` returns :func:`.frames.style_status` of it."""
    records = await probe.read_jobs(hm.connection.client, hm.keys)
    frame = frames.jobs_frame(records, status=status, limit=limit)
    return frames.style_status(frame) if styled else frame


async def timeline(hm: HotMesh, job_id: str) -> pd.DataFrame:
    """See :func:`.frames.timeline_frame`."""
    return frames.timeline_frame(await probe.here(hm, "export_async", job_id))


async def streams(hm: HotMesh) -> pd.DataFrame:
    """See :func:`.frames.streams_frame`."""
    records = await probe.read_streams(hm.connection.client, hm.keys, hm.connection.url)
    return frames.streams_frame(records, _meter)


async def members(meshes: Iterable[HotMesh], *, all_columns: bool = False) -> pd.DataFrame:
    """See :func:`.frames.members_frame`."""
    return frames.members_frame(await probe.read_members(meshes), all_columns=all_columns)


async def failures(hm: HotMesh, job_id: str) -> tuple[ActivityFailure, ...]:
    """The activities of job ``job_id`` that failed (empty when none did)."""
    key = hm.keys.job(job_id)
    return (await probe.read_failures(hm.connection.client, [key])).get(key, ())


async def run_job(
    hm: HotMesh, topic: str, data: dict[str, Any], timeout: float | None, started: list[str]
) -> dict[str, Any]:
    """``pubsub`` that appends the job id to ``started`` as soon as it exists.

    The magic's thread reads it when an interrupt stops the wait, so it can say
    which job keeps running.
    """
    from ..engine._engine import _result
    from ..errors import TimeoutError as HotMeshTimeout

    engine = hm.engine
    wait_for = engine.config.pubsub_timeout if timeout is None else timeout
    waiting: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []

    def register(job_id: str) -> None:
        started.append(job_id)
        waiting.append((job_id, engine.subscriptions.wait(job_id)))

    try:
        job_id = await engine.pub(topic, data, on_id=register)
        future = waiting[0][1]
        payload = await asyncio.wait_for(asyncio.shield(future), wait_for)
    except asyncio.TimeoutError:
        raise HotMeshTimeout(
            f"job '{started[0]}' on topic '{topic}' did not finish within {wait_for:g} s; "
            "it is still running"
        ) from None
    finally:
        for waited_id, waiter in waiting:
            if not waiter.done():
                engine.subscriptions.forget(waited_id, waiter)
    job = {"data": payload.get("d") or {}, "metadata": payload.get("m") or {}}
    return _result(job_id, job, payload.get("err"))


@dataclass(frozen=True)
class AppInfo:
    """One app deployed in a namespace, as the server records it."""

    app: str
    """The app id."""
    active: str | None
    """The active version (None when none was activated)."""
    versions: tuple[str, ...]
    """Every deployed version, oldest first."""
    topics: tuple[str, ...]
    """Topics the active version's graphs subscribe to (else the latest version's)."""


async def server_apps(url: str, namespace: str) -> list[AppInfo]:
    """Every app deployed in ``namespace`` on the server at ``url``, by id.

    Read from the server, not from this process: a fresh kernel finds the apps
    that another kernel or a ``hotmesh-nb`` process deployed.
    """
    conn = await connect_async(url)
    client = conn.client
    head = glob_escape("{" + check_namespace(namespace) + ":")
    start = "{" + namespace + ":"
    # The pattern also matches a job hash whose id ends in '}:app': keep app records only
    # (an app id has no ':' or '}', so the name is exactly '{ns:<app>}:app').
    names = [
        name
        for name in await probe.scan(client, head + "*\\}:app", "hash")
        if _APP_ID.fullmatch(name[len(start) : -len("}:app")])
    ]
    records = []
    if names:
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(name)
        records = await pipe.execute()
    found = []
    for record in records:
        app_id = record.get("id")
        if not app_id:
            continue
        versions = sorted(
            (
                (stamp.partition(":")[2], field.removeprefix("versions/"))
                for field, stamp in record.items()
                if field.startswith("versions/")
            ),
        )
        active = record.get("version") if record.get("active") == "true" else None
        chosen = active or (versions[-1][1] if versions else None)
        topics: tuple[str, ...] = ()
        if chosen is not None:
            raw = await client.get(Keys(namespace, app_id).version(chosen))
            if raw:
                graphs = (loads(raw) or {}).get("graphs") or []
                topics = tuple(str(g.get("subscribes")) for g in graphs if g.get("subscribes"))
        found.append(AppInfo(app_id, active, tuple(v for _, v in versions), topics))
    found.sort(key=lambda info: info.app)
    return found
