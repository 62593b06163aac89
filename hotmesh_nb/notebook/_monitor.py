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
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..runtime import get_runtime
from . import _probe as probe
from . import _theme as theme
from ._frames import JOB_STATUSES

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
LONG_RUNNING = timedelta(minutes=1)
"""A job running longer than this gets a banner."""
SPARK_POINTS = 60
"""Samples a sparkline keeps (one per refresh)."""

_STATUS_COLOURS = theme.STATUS
# Borders and tints in rgba: readable on light and dark themes alike; text inherits the theme.
_TILE = (
    "display:inline-block;min-width:88px;margin:0 6px 6px 0;padding:4px 10px;"
    "border:1px solid rgba(128,128,128,.45);border-radius:6px;background:rgba(128,128,128,.08)"
)
_CELL = "text-align:left;padding:1px 10px 1px 0"
_BANNER = (
    "margin:0 0 4px 0;padding:4px 8px;border-left:4px solid {colour};"
    "background:rgba(128,128,128,.10)"
)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> str:
    if not rows:
        return f"<div style='opacity:.7'><i>{html.escape(empty)}</i></div>"
    head = "".join(f"<th style='{_CELL}'>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='{_CELL}'>{_html_cell(v)}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table style='border-collapse:collapse'><tr>{head}</tr>{body}</table>"


class _Raw(str):
    """A table cell that is already HTML (a bar, a mark)."""


def _html_cell(value: Any) -> str:
    return value if isinstance(value, _Raw) else html.escape(_cell(value))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.1f}"
    return str(value)


def _section(title: str) -> str:
    return f"<div style='font-weight:bold;margin:8px 0 2px 0'>{html.escape(title)}</div>"


def sparkline(values: Sequence[float], width: int = 80, height: int = 18) -> str:
    """A tiny inline SVG line of ``values`` (empty when there are fewer than two)."""
    points = [v for v in values if not math.isnan(v)]
    if len(points) < 2:
        return ""
    top = max(points) or 1.0
    step = width / (len(points) - 1)
    path = " ".join(
        f"{i * step:.1f},{height - 1 - (v / top) * (height - 2):.1f}" for i, v in enumerate(points)
    )
    return (
        f"<svg width='{width}' height='{height}' style='vertical-align:middle'>"
        f"<polyline points='{path}' fill='none' stroke='currentColor' stroke-width='1.3'/></svg>"
    )


def _bar(value: int, top: int, width: int = 80) -> _Raw:
    filled = 0 if top <= 0 else max(1, round(width * value / top)) if value else 0
    return _Raw(
        f"<span style='display:inline-block;width:{width}px;height:8px;"
        f"background:rgba(128,128,128,.2)'><span style='display:block;width:{filled}px;"
        f"height:8px;background:{theme.ACCENT}'></span></span> {value}"
    )


def _tile(label: str, value: str, colour: str | None = None, extra: str = "") -> str:
    tint = f"color:{colour};" if colour else ""
    return (
        f"<div style='{_TILE}'><div style='font-size:11px;opacity:.75'>{html.escape(label)}</div>"
        f"<div style='font-size:18px;font-weight:bold;{tint}'>{html.escape(value)}{extra}</div>"
        "</div>"
    )


def _banner(text: str, colour: str = theme.ERROR) -> str:
    return f"<div style='{_BANNER.format(colour=colour)}'>{text}</div>"


class Dashboard:
    """Jobs by status, failures, throughput, members, streams and problems of some apps.

    The view is a few ``ipywidgets.HTML`` (read them from any thread):
    :attr:`banners` (problems that need a person), :attr:`tiles` (counts and
    rates), :attr:`members`, :attr:`streams`, :attr:`errors` and
    :attr:`footer`; :attr:`widget` is the whole tree. The numbers behind them
    are :attr:`counts`, :attr:`failed_count`, :attr:`jobs_per_second` and
    :attr:`messages_per_second`. :meth:`snapshot` is the same view as static
    HTML: what a saved notebook, nbconvert or a stopped dashboard shows.
    """

    def __init__(self, meshes: Sequence[HotMesh] | None = None, interval: float = 0.5) -> None:
        self.meshes = list(meshes) if meshes else None
        """The apps shown; None: every app this process runs an engine for (re-read each time)."""
        self.interval = max(float(interval), MIN_INTERVAL)
        """Seconds between refreshes (at least :data:`MIN_INTERVAL`)."""
        self.updates = 0
        """Refreshes applied so far."""
        self.counts: dict[str, int] = dict.fromkeys(JOB_STATUSES, 0)
        """Jobs by status (``running``, ``pending``, ``done``, ``error``, ``interrupted``)."""
        self.failed_count = 0
        """Jobs that failed, or finished after one of their activities failed."""
        self.jobs_per_second = 0.0
        """Jobs finished per second over the last :data:`THROUGHPUT_WINDOW` seconds."""
        self.messages_per_second = 0.0
        """Stream entries added per second (all streams) since the previous refresh."""
        self._history: dict[str, deque[float]] = {
            "jobs": deque(maxlen=SPARK_POINTS),
            "msgs": deque(maxlen=SPARK_POINTS),
        }
        self._meter = probe.RateMeter()
        self._failures: probe.FailureCache = {}
        self._task: asyncio.Task[None] | None = None
        self._members_task: asyncio.Task[None] | None = None
        self._members_at = -math.inf
        self._live_topics: set[tuple[str, str]] = set()
        self._display_ids: list[str] = []
        self._stopped = False

        self.title = widgets.HTML(
            f"<div style='font-size:15px;font-weight:bold'>{html.escape(self.summary())}</div>"
        )
        self.banners = widgets.HTML("")
        self.tiles = widgets.HTML(self._tiles_html())
        self.members = widgets.HTML(
            "<div style='opacity:.7'><i>waiting for the roll call</i></div>"
        )
        self.streams = widgets.HTML("<div style='opacity:.7'><i>reading streams</i></div>")
        self.errors = widgets.HTML("<div style='opacity:.7'><i>none</i></div>")
        self.footer = widgets.HTML("starting")
        self.widget = widgets.VBox(
            [
                self.title,
                self.banners,
                self.tiles,
                widgets.HTML(_section("Engines and workers (every process; * = this process)")),
                self.members,
                widgets.HTML(_section("Streams")),
                self.streams,
                widgets.HTML(_section("Recent errors")),
                self.errors,
                self.footer,
            ]
        )

    def summary(self) -> str:
        """One line describing what the dashboard watches (its text/plain form)."""
        if self.meshes is None:
            scope = "every app this process runs an engine for"
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

    def snapshot(self) -> str:
        """The dashboard as it is now, as static HTML (no widgets, no script)."""
        parts = [
            self.title.value,
            self.banners.value,
            self.tiles.value,
            _section("Engines and workers (every process; * = this process)"),
            self.members.value,
            _section("Streams"),
            self.streams.value,
            _section("Recent errors"),
            self.errors.value,
            f"<div style='opacity:.7;font-size:11px'>{self.footer.value}</div>",
        ]
        return "<div class='hotmesh-dashboard'>" + "".join(parts) + "</div>"

    def _ipython_display_(self) -> None:
        # Displayed with a display id, so that stopping can replace the live widget by the
        # snapshot in every output showing it: a saved notebook then holds plain HTML, and
        # a reopened one never shows "model not found".
        from IPython.display import display

        display_id = uuid.uuid4().hex
        display(self._repr_mimebundle_(), raw=True, display_id=display_id)
        self._display_ids.append(display_id)

    def _freeze_displays(self) -> None:
        """Replace every display of this dashboard by its static snapshot."""
        if not self._display_ids:
            return
        try:
            from IPython.display import update_display

            bundle = {"text/html": self.snapshot(), "text/plain": self.summary()}
            for display_id in self._display_ids:
                update_display(bundle, raw=True, display_id=display_id)
        except Exception as exc:  # the kernel may be going away
            log.debug("dashboard snapshot not sent: %r", exc)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # The live widget while it runs; the static snapshot always rides along as HTML so
        # frontends without the widget (nbconvert, GitHub, a stopped kernel) show something.
        bundle: dict[str, Any] = {}
        if self.running:
            try:
                bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
            except Exception as exc:  # a repr never raises
                log.debug("dashboard view failed: %r", exc)
        bundle["text/html"] = self.snapshot()
        bundle["text/plain"] = self.summary()
        return bundle

    # -- life cycle (on the runtime loop) --------------------------------------------

    async def start(self) -> Dashboard:
        """Start refreshing; returns self (a runtime service factory)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="dashboard")
        return self

    async def stop(self) -> None:
        """Stop refreshing; the widgets keep the last values and say they are a snapshot."""
        self._stopped = True
        for task in (self._task, self._members_task):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self.footer.value = (
            f"stopped after {self.updates} updates at {datetime.now().strftime('%H:%M:%S')}: "
            "a snapshot (show a new dashboard to follow the mesh again)"
        )
        self._freeze_displays()

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
                self.footer.value = html.escape(f"refresh failed: {exc!r}; retrying")
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
        stream_rows, rates, finished, failed = [], [], 0, []
        dead: list[tuple[str, dict[str, Any]]] = []
        banners: list[str] = []
        now = datetime.now(timezone.utc)
        horizon = now - timedelta(seconds=THROUGHPUT_WINDOW)
        long_running: list[probe.JobRecord] = []
        for hm, (jobs, streams, letters) in zip(meshes, per_app):
            for job in jobs:
                counts[job.status] = counts.get(job.status, 0) + 1
                if job.status in ("done", "error") and job.updated and job.updated >= horizon:
                    finished += 1
                if job.status == "error" or job.failures:
                    failed.append((job.updated or horizon, hm.app_id, job))
                if job.status == "running" and job.created and now - job.created > LONG_RUNNING:
                    long_running.append(job)
            deepest = max((r.depth for r in streams), default=0)
            for record in streams:
                rate = self._meter.rate(record.key, record.added)
                rates.append(rate)
                stream_rows.append(
                    (
                        hm.app_id,
                        record.stream,
                        _bar(record.depth, deepest),
                        record.pending,
                        f"{record.live}/{record.consumers}",
                        rate,
                    )
                )
                banners.extend(self._stream_banner(hm, record))
            dead.extend((hm.app_id, letter) for letter in letters)
        if dead:
            messages = "; ".join(
                html.escape(str(letter.get("error") or "?"))[:120] for _, letter in dead[:3]
            )
            banners.append(_banner(f"<b>{len(dead)} dead letter(s)</b> (newest first): {messages}"))
        if long_running:
            oldest = min(long_running, key=lambda j: j.created or now)
            banners.append(
                _banner(
                    f"<b>{len(long_running)} job(s) running for more than "
                    f"{int(LONG_RUNNING.total_seconds() // 60)} min</b>; the oldest: "
                    f"{html.escape(oldest.id)} on {html.escape(str(oldest.topic))}",
                    theme.WARN,
                )
            )
        self.counts = counts
        self.failed_count = len(failed)
        self.jobs_per_second = round(finished / THROUGHPUT_WINDOW, 2)
        self.messages_per_second = round(sum(r for r in rates if not math.isnan(r)), 2)
        self._history["jobs"].append(self.jobs_per_second)
        self._history["msgs"].append(self.messages_per_second)
        self.banners.value = "".join(banners)
        self.tiles.value = self._tiles_html()
        self.streams.value = _table(
            ("app", "stream", "depth", "pending", "live/consumers", "msgs/s"),
            stream_rows,
            "no streams",
        )
        self.errors.value = self._errors_html(dead, failed)
        self.updates += 1
        self.footer.value = (
            f"updated {datetime.now().strftime('%H:%M:%S')} &middot; every {self.interval:g} s "
            f"&middot; {self.updates} {'update' if self.updates == 1 else 'updates'}"
        )

    def _stream_banner(self, hm: HotMesh, record: probe.StreamRecord) -> list[str]:
        """'N waiting on topic X, no live worker' for a worker stream nobody reads."""
        if record.role != "worker" or record.waiting <= 0 or record.live > 0:
            return []
        if (hm.app_id, record.stream) in self._live_topics:
            return []  # a member answered the roll call for it: busy, not gone
        gone = (
            f"{record.consumers} consumer(s) registered, none read in the last "
            f"{probe.LIVE_IDLE_MS // 1000} s"
            if record.consumers
            else "no consumer ever joined"
        )
        return [
            _banner(
                f"<b>{record.waiting} waiting on topic {html.escape(record.stream)}</b> "
                f"({html.escape(hm.app_id)}), no live worker: {gone}. Start one: "
                f"<code>HotMesh.init(..., workers=[Worker('{html.escape(record.stream)}', fn)])"
                "</code> or <code>hotmesh-nb worker</code>"
            )
        ]

    def _tiles_html(self) -> str:
        tiles = [
            _tile(status, str(self.counts.get(status, 0)), _STATUS_COLOURS[status])
            for status in JOB_STATUSES
        ]
        tiles.append(
            _tile(
                "failed (job or activity)",
                str(self.failed_count),
                _STATUS_COLOURS["failed"] if self.failed_count else None,
            )
        )
        tiles.append(
            _tile("jobs/s", f"{self.jobs_per_second:g}", None, sparkline(self._history["jobs"]))
        )
        tiles.append(
            _tile("msgs/s", f"{self.messages_per_second:g}", None, sparkline(self._history["msgs"]))
        )
        return "<div>" + "".join(tiles) + "</div>"

    async def _read_app(self, hm: HotMesh) -> tuple[list[probe.JobRecord], list, list]:
        client = hm.connection.client
        return await asyncio.gather(
            probe.read_jobs(client, hm.keys, cache=self._failures),
            probe.read_streams(client, hm.keys, hm.connection.url),
            probe.read_dead_letters(client, hm.keys, RECENT_ERRORS),
        )

    async def _refresh_members(self, meshes: Sequence[HotMesh]) -> None:
        try:
            rows = await probe.read_members(meshes)
        except Exception as exc:
            log.warning("dashboard roll call failed: %r", exc)
            return
        self._live_topics = {
            (str(row.get("app")), str(row.get("topic")))
            for row in rows
            if row.get("role") == "worker"
        }
        host, pid = socket.gethostname(), os.getpid()
        columns = ("app", "role", "topic", "member", "pid", "processed", "failed")
        self.members.value = _table(
            ("", "app", "role", "topic", "member", "pid", "messages handled", "failed"),
            [
                ["*" if (row.get("host"), row.get("pid")) == (host, pid) else ""]
                + [row.get(c) for c in columns]
                for row in rows
            ],
            "no engines or workers answered",
        )

    @staticmethod
    def _errors_html(dead: list[tuple[str, dict]], failed: list[tuple]) -> str:
        letters = [
            (app, probe.stream_name(str(item.get("stream") or "?")), item.get("error"))
            for app, item in dead
        ]
        failed.sort(key=lambda entry: entry[0], reverse=True)
        jobs = [
            (app, job.id, job.topic, job.status, job.problem)
            for _, app, job in failed[:RECENT_ERRORS]
        ]
        return (
            "<div style='margin-top:2px'>dead letters</div>"
            + _table(("app", "stream", "error"), letters[:RECENT_ERRORS], "none")
            + "<div style='margin-top:4px'>failed jobs and activities</div>"
            + _table(("app", "job", "topic", "status", "error"), jobs, "none")
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
