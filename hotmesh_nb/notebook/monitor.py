"""The live dashboard: one ipywidgets tree, refreshed by a task on the runtime loop.

The tree is built and displayed once; afterwards only trait values change
(comm messages, not cell output), so it keeps updating while other cells run
or block - the refresh task lives on hotmesh_nb's runtime thread, not on the
kernel's loop. It is a runtime service: :func:`hotmesh_nb.shutdown` stops it,
and asking for the same dashboard again returns the running one.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
import time
from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..runtime import get_runtime
from . import probe
from .frames import JOB_STATUSES

if TYPE_CHECKING:
    from ..hotmesh import HotMesh

log = logging.getLogger(__name__)

MIN_INTERVAL = 0.25
"""Shortest time between two refreshes: at most 4 updates per second."""
MEMBERS_EVERY = 2.0
"""Seconds between roll calls (each one waits for the members' answers)."""
THROUGHPUT_WINDOW = 5.0
"""Jobs that finished within this many seconds make the jobs/s figure."""
RECENT_ERRORS = 5
"""Dead letters and failed jobs listed (each, newest first)."""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> str:
    if not rows:
        return f"<i>{html.escape(empty)}</i>"
    head = "".join(f"<th style='text-align:left;padding:0 8px'>{h}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='text-align:left;padding:0 8px'>{html.escape(_cell(v))}</td>" for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.1f}"
    return str(value)


def _section(title: str) -> widgets.HTML:
    return widgets.HTML(f"<b>{html.escape(title)}</b>")


class Dashboard:
    """Members, streams, jobs by status, throughput and recent errors of some apps.

    Widgets (read them from any thread): :attr:`counts` (status → ``IntText``),
    :attr:`jobs_per_second`, :attr:`messages_per_second` (``FloatText``),
    :attr:`members`, :attr:`streams`, :attr:`errors` (``HTML``) and
    :attr:`footer` (``Label``); :attr:`widget` is the whole tree.
    """

    def __init__(self, meshes: Sequence[HotMesh] | None = None, interval: float = 0.5) -> None:
        self.meshes = list(meshes) if meshes else None
        """The apps shown; None: every app this process runs an engine for (re-read each time)."""
        self.interval = max(float(interval), MIN_INTERVAL)
        """Seconds between refreshes (at least :data:`MIN_INTERVAL`)."""
        self.updates = 0
        """Refreshes applied so far."""
        self._meter = probe.RateMeter()
        self._task: asyncio.Task[None] | None = None
        self._members_task: asyncio.Task[None] | None = None
        self._members_at = -math.inf
        self._stopped = False

        self.title = widgets.HTML()
        self.counts = {
            status: widgets.IntText(
                value=0,
                description=status,
                disabled=True,
                layout=widgets.Layout(width="150px"),
                style={"description_width": "70px"},
            )
            for status in JOB_STATUSES
        }
        self.jobs_per_second = widgets.FloatText(
            value=0.0, description="jobs/s", disabled=True, layout=widgets.Layout(width="150px")
        )
        self.messages_per_second = widgets.FloatText(
            value=0.0, description="msgs/s", disabled=True, layout=widgets.Layout(width="150px")
        )
        self.members = widgets.HTML("<i>waiting for the roll call</i>")
        self.streams = widgets.HTML("<i>reading streams</i>")
        self.errors = widgets.HTML("<i>none</i>")
        self.footer = widgets.Label("starting")
        self.widget = widgets.VBox(
            [
                self.title,
                _section("Jobs"),
                widgets.HBox(list(self.counts.values())),
                widgets.HBox([self.jobs_per_second, self.messages_per_second]),
                _section("Engines and workers"),
                self.members,
                _section("Streams"),
                self.streams,
                _section("Recent errors"),
                self.errors,
                self.footer,
            ]
        )
        self.title.value = f"<h4 style='margin:0'>{html.escape(self.summary())}</h4>"

    def summary(self) -> str:
        """One line describing what the dashboard watches (its text/plain form)."""
        if self.meshes is None:
            scope = "every app of this process"
        else:
            scope = ", ".join(f"{m.app_id} ({m.namespace})" for m in self.meshes)
        return f"HotMesh dashboard: {scope}"

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Dashboard {state}: {self.summary()}>"

    @property
    def running(self) -> bool:
        """True while the refresh task runs."""
        return self._task is not None and not self._task.done() and not self._stopped

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # The widget view plus a stable text/plain (the widget's own repr holds live values).
        try:
            bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        except Exception as exc:  # a repr never raises
            log.debug("dashboard view failed: %r", exc)
            bundle = {}
        bundle["text/plain"] = self.summary()
        return bundle

    # -- life cycle (on the runtime loop) --------------------------------------------

    async def start(self) -> Dashboard:
        """Start refreshing; returns self (a runtime service factory)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="dashboard")
        return self

    async def stop(self) -> None:
        """Stop refreshing (the widgets keep their last values)."""
        self._stopped = True
        for task in (self._task, self._members_task):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self.footer.value = f"stopped after {self.updates} updates"

    def close(self) -> None:
        """Close this dashboard's widgets (frontends drop the view)."""

        def close(widget: widgets.Widget) -> None:
            for child in getattr(widget, "children", ()):
                close(child)
            widget.close()

        close(self.widget)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopped:
            started = loop.time()
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep going: the server may come back
                log.warning("dashboard refresh failed: %r", exc)
                self.footer.value = f"refresh failed: {exc!r}"
            await asyncio.sleep(max(self.interval - (loop.time() - started), 0.0))

    # -- one refresh -----------------------------------------------------------------

    async def refresh(self) -> None:
        """Read everything once and update the widgets."""
        meshes = self.meshes if self.meshes is not None else probe.local_meshes()
        if time.monotonic() - self._members_at >= MEMBERS_EVERY and not (
            self._members_task and not self._members_task.done()
        ):
            # The roll call waits for answers: run it beside the fast refresh.
            self._members_at = time.monotonic()
            self._members_task = asyncio.get_running_loop().create_task(
                self._refresh_members(meshes), name="dashboard members"
            )
        per_app = await asyncio.gather(*(self._read_app(hm) for hm in meshes))
        counts = dict.fromkeys(JOB_STATUSES, 0)
        stream_rows, rates, finished, dead, failed = [], [], 0, [], []
        horizon = datetime.now(timezone.utc) - timedelta(seconds=THROUGHPUT_WINDOW)
        for hm, (jobs, streams, letters) in zip(meshes, per_app):
            for job in jobs:
                counts[job.status] = counts.get(job.status, 0) + 1
                if job.status in ("done", "error") and job.updated and job.updated >= horizon:
                    finished += 1
                if job.status == "error":
                    failed.append((job.updated or horizon, hm.app_id, job))
            for record in streams:
                rate = self._meter.rate(record.key, record.added)
                rates.append(rate)
                stream_rows.append(
                    (hm.app_id, record.stream, record.depth, record.pending, record.consumers, rate)
                )
            dead.extend((hm.app_id, letter) for letter in letters)
        for status, widget in self.counts.items():
            widget.value = counts.get(status, 0)
        self.jobs_per_second.value = round(finished / THROUGHPUT_WINDOW, 2)
        self.messages_per_second.value = round(sum(r for r in rates if not math.isnan(r)), 2)
        self.streams.value = _table(
            ("app", "stream", "depth", "pending", "consumers", "msgs/s"), stream_rows, "no streams"
        )
        self.errors.value = self._errors_html(dead, failed)
        self.updates += 1
        self.footer.value = (
            f"updated {datetime.now().strftime('%H:%M:%S')} "
            f"(every {self.interval:g} s; {self.updates} updates)"
        )

    async def _read_app(self, hm: HotMesh) -> tuple[list[probe.JobRecord], list, list]:
        client = hm.connection.client
        return await asyncio.gather(
            probe.read_jobs(client, hm.keys),
            probe.read_streams(client, hm.keys),
            probe.here(hm, "dead_letters_async", RECENT_ERRORS),
        )

    async def _refresh_members(self, meshes: Sequence[HotMesh]) -> None:
        try:
            rows = await probe.read_members(meshes)
        except Exception as exc:
            log.warning("dashboard roll call failed: %r", exc)
            return
        columns = ("app", "role", "topic", "member", "host", "pid", "processed", "failed")
        self.members.value = _table(
            (*columns[:-2], "done", "failed"),
            [[row.get(c) for c in columns] for row in rows],
            "no engines or workers answered",
        )

    @staticmethod
    def _errors_html(dead: list[tuple[str, dict]], failed: list[tuple]) -> str:
        letters = [(app, item.get("stream"), item.get("error")) for app, item in dead]
        failed.sort(key=lambda entry: entry[0], reverse=True)
        jobs = [(app, job.id, job.topic, job.error) for _, app, job in failed[:RECENT_ERRORS]]
        return (
            "<b>dead letters</b>"
            + _table(("app", "stream", "error"), letters[:RECENT_ERRORS], "none")
            + "<b>failed jobs</b>"
            + _table(("app", "job", "topic", "error"), jobs, "none")
        )


def dashboard(*meshes: HotMesh, interval: float = 0.5) -> Dashboard:
    """A live dashboard of ``meshes`` (default: every app this process runs an engine for).

    Display it (last expression of a cell, or ``display(...)``); it refreshes
    every ``interval`` seconds (at least 0.25) from hotmesh_nb's runtime
    thread, also while other cells run, until :func:`hotmesh_nb.shutdown`.
    Asking again for the same apps returns the running dashboard.
    """
    runtime = get_runtime()
    scope: Hashable = tuple((m.connection.url, m.namespace, m.app_id) for m in meshes) or "local"
    key = ("dashboard", scope)
    existing = runtime.services().get(key)
    if existing is not None:
        return existing
    # Widgets are built on the caller's (kernel) thread; only the refreshes run on the runtime.
    board = Dashboard(meshes or None, interval)
    running = runtime.run(runtime.service(key, board.start), name="dashboard")
    if running is not board:  # another thread registered one first
        board.close()
    return running
