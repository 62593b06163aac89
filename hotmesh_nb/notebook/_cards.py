"""An HTML card for a :class:`~hotmesh_nb.HotMesh`, like dask's ``Client`` card.

``hm`` as the last expression of a cell shows the namespace, the server, the
app's versions and topics, the workers this process runs, how many jobs the
server keeps, and the calls that show more (graph, jobs, dashboard).
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from ..connection import mask_url
from ..runtime import get_runtime
from . import _notebook_api as api
from . import _probe as probe

if TYPE_CHECKING:
    from ..hotmesh import HotMesh

log = logging.getLogger(__name__)

READ_TIMEOUT = 2.0
"""Seconds the card waits for the server before it shows what this process knows."""


async def _facts(hm: HotMesh) -> tuple[api.AppInfo | None, int]:
    apps = await api.server_apps(hm.connection.url, hm.namespace)
    info = next((a for a in apps if a.app == hm.app_id), None)
    jobs = await probe.scan_kind(hm.connection.client, hm.keys, "j", "hash")
    return info, len(jobs)


def mesh_card(hm: HotMesh) -> str:
    """The card's HTML (never raises: without the server it shows the local facts)."""
    info: api.AppInfo | None = None
    jobs: int | None = None
    try:
        info, jobs = get_runtime().run(_facts(hm), name="card", timeout=READ_TIMEOUT)
    except Exception as exc:  # a repr never raises
        log.debug("HotMesh card: %r", exc)
    rows = [
        ("app", hm.app_id),
        ("namespace", hm.namespace),
        ("server", mask_url(hm.connection.url)),
        ("engine", "runs here" if hm.engine.consume else "client only"),
        ("workers here", ", ".join(w.topic for w in hm.workers) or "none"),
    ]
    if info is not None:
        rows.append(("active version", info.active or "none (activate one)"))
        rows.append(("versions", ", ".join(info.versions) or "none"))
        rows.append(("topics", ", ".join(info.topics) or "none"))
    else:
        rows.append(("deployed", "not found on the server (deploy it first)"))
    if jobs is not None:
        rows.append(("jobs kept", str(jobs)))
    cell = "text-align:left;padding:1px 12px 1px 0"
    body = "".join(
        f"<tr><th style='{cell}'>{html.escape(k)}</th><td style='{cell}'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    more = (
        "<code>hm.graph()</code> &middot; <code>hm.jobs()</code> &middot; "
        "<code>hm.streams()</code> &middot; "
        f"<code>%hotmesh dashboard {html.escape(hm.app_id)}</code>"
    )
    return (
        "<div style='border:1px solid rgba(128,128,128,.45);border-radius:6px;padding:6px 10px;"
        "display:inline-block'>"
        f"<div style='font-weight:bold;margin-bottom:4px'>HotMesh: {html.escape(hm.app_id)}</div>"
        f"<table style='border-collapse:collapse'>{body}</table>"
        f"<div style='margin-top:4px;opacity:.8'>more: {more}</div></div>"
    )
