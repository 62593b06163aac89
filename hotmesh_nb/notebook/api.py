"""The notebook views of a :class:`~hotmesh_nb.HotMesh`, as coroutines for the runtime loop.

``HotMesh.graph/jobs/timeline/streams`` (and their ``*_async`` twins) call
these; the magics and the dashboard use them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from ..connection import connect_async
from ..errors import DeployError
from ..keys import Keys
from ..model import AppSpec
from . import frames, probe
from .paint import ActivityFailure
from .views import GraphView, JobView

if TYPE_CHECKING:
    from ..hotmesh import HotMesh

_meter = probe.RateMeter()
"""Rates of ``HotMesh.streams()``: since the previous call in this process."""


async def is_deployed(url: str, keys: Keys) -> bool:
    """Whether some version of the app ``keys`` names was deployed on the server at ``url``."""
    conn = await connect_async(url)
    return bool(await conn.client.exists(keys.app_record))


async def active_version(hm: HotMesh) -> str:
    """The app's active version; else its latest deployed one (a graph may be drawn before
    it is activated). Raises :class:`DeployError` when nothing was deployed."""
    record = await hm.connection.client.hgetall(hm.keys.app_record)
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
    """The app's DAG; painted with the job's path when ``job_id`` is given."""
    if job_id is None:
        return GraphView(await app_spec(hm, version))
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
    hm: HotMesh, status: str | Iterable[str] | None = None, limit: int | None = 1000
) -> pd.DataFrame:
    """See :func:`.frames.jobs_frame`."""
    records = await probe.read_jobs(hm.connection.client, hm.keys)
    return frames.jobs_frame(records, status=status, limit=limit)


async def timeline(hm: HotMesh, job_id: str) -> pd.DataFrame:
    """See :func:`.frames.timeline_frame`."""
    return frames.timeline_frame(await probe.here(hm, "export_async", job_id))


async def streams(hm: HotMesh) -> pd.DataFrame:
    """See :func:`.frames.streams_frame`."""
    records = await probe.read_streams(hm.connection.client, hm.keys)
    return frames.streams_frame(records, _meter)


async def members(meshes: Iterable[HotMesh]) -> pd.DataFrame:
    """See :func:`.frames.members_frame`."""
    return frames.members_frame(await probe.read_members(meshes))


async def failures(hm: HotMesh, job_id: str) -> tuple[ActivityFailure, ...]:
    """The activities of job ``job_id`` that failed (empty when none did)."""
    key = hm.keys.job(job_id)
    return (await probe.read_failures(hm.connection.client, [key])).get(key, ())
