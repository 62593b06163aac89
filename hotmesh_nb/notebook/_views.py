"""Objects with rich notebook reprs: app graphs, painted jobs, run results and notices.

Every repr method catches everything and degrades (a repr that raises turns a
notebook cell into an error); ``text/plain`` is always offered, SVG/HTML when
possible, and none of them holds addresses, random ids or timestamps of its own.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from .._ids import parse_compact
from ..model import AppSpec
from . import _theme as theme
from ._graph import ActivityState, DagBuilder, JobMark, format_duration
from ._paint import ActivityFailure, job_mark, overlay
from ._render import NO_DOT_HINT, configure_graphviz, find_dot, render_svg

if TYPE_CHECKING:
    import graphviz

log = logging.getLogger(__name__)

T = TypeVar("T")
_RED = f";color:{theme.ERROR}"
FIT_UNITS = 1000
"""Widest drawing (points) shrunk to the notebook's width; at about 1,000 px of output its
10-point labels stay at least 10 px high. Wider apps are folded to fit (:meth:`GraphView.fit`);
what is still wider (:meth:`GraphView.full`) scrolls."""
FIT_NOTE = "folded to fit the width; .full() draws every activity"
"""The line under the title of a view that :meth:`GraphView.fit` folded."""
_WIDTH = re.compile(r'<svg[^>]*?\bwidth="([0-9.]+)pt"')
DATA_CHARS = 2000
"""Most characters of job data shown in a job view (the rest is elided)."""


def never_raises(fallback: Callable[[Any, BaseException], T]) -> Callable[..., Callable[..., T]]:
    """Decorate a repr method: on any exception return ``fallback(self, exc)`` instead."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> T:
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:
                log.debug("%s.%s failed", type(self).__name__, method.__name__, exc_info=True)
                return fallback(self, exc)

        return wrapper

    return decorate


def _plain_only(self: Any, exc: BaseException) -> dict[str, str]:
    return {"text/plain": f"<{type(self).__name__}: cannot display it: {exc!r}>"}


def _nothing(self: Any, exc: BaseException) -> None:
    return None


def _mimebundle(
    plain: str, rich: dict[str, str], include: Any = None, exclude: Any = None
) -> dict[str, str]:
    bundle = {"text/plain": plain, **rich}
    if include:
        bundle = {k: v for k, v in bundle.items() if k in set(include)}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in set(exclude)}
    return bundle


class GraphView:
    """An app version drawn as a DAG; with a job, each activity painted with what it did.

    Displays as SVG when a Graphviz binary is available, else as a text DAG
    and a one-line hint. ``source`` is the DOT text, :meth:`text` the text
    DAG and :meth:`to_graphviz` a ``graphviz.Source`` to save or re-render.
    """

    def __init__(
        self,
        spec: AppSpec,
        overlay: dict[str, ActivityState] | None = None,
        job: JobMark | None = None,
        *,
        reached_only: bool = False,
        collapse: Iterable[str] = (),
        note: str | None = None,
    ) -> None:
        self.spec = spec
        """The compiled app drawn."""
        self.overlay = overlay
        """Activity id → painted state (None for an unpainted graph)."""
        self.job = job
        """The painted job (None for an unpainted graph)."""
        self.reached_only = reached_only
        """Only the activities the job reached are drawn (see :meth:`reached`)."""
        self.note = note
        """A line under the title saying why parts are folded away (see :meth:`fit`)."""
        self._builder = DagBuilder(
            spec, overlay, job, reached_only=reached_only, collapse=collapse, note=note
        )
        self.collapsed = self._builder.collapsed
        """The graphs (``subscribes`` topics) drawn as one node each (see :meth:`collapse`)."""
        self._rendered: dict[str, str | None] = {}

    @classmethod
    def of_job(cls, spec: AppSpec, export: dict[str, Any]) -> GraphView:
        """The graph of ``spec`` painted with an exported job (see ``HotMesh.export``),
        fitted to a notebook's width (:meth:`fit`: the job's path only, when the whole
        painted app is too wide; :meth:`full` draws everything)."""
        return cls(spec, overlay(export.get("timeline") or []), job_mark(export)).fit()

    def fit(self) -> GraphView:
        """This view when it fits a notebook's width (:data:`FIT_UNITS`), else a narrower one.

        A painted job shows its path only (:meth:`reached`). An unpainted app
        folds its other graphs into one node each, then, if still too wide, the
        branches that leave each fan-out (:meth:`DagBuilder.fan_branches`): the
        MeshFlow app becomes an overview about half as wide. The folded view
        says so under its title; :meth:`full` and :meth:`expand`
        draw everything. Without Graphviz nothing is measured: the text DAG
        shows the whole app.
        """
        width = self.natural_width()
        if width is None or width <= FIT_UNITS:
            return self
        if self.job is not None:
            return self if self.reached_only else self.reached()
        graphs = self.collapsed | {g.subscribes for g in self.spec.graphs[1:]}
        if graphs != self.collapsed:
            folded = GraphView(self.spec, collapse=graphs, note=FIT_NOTE)
            if (folded.natural_width() or 0) <= FIT_UNITS:
                return folded
        branches = DagBuilder(self.spec, collapse=graphs).fan_branches()
        if not branches:
            return self
        return GraphView(self.spec, collapse=graphs | set(branches), note=FIT_NOTE)

    def full(self) -> GraphView:
        """The same graph with every activity of the app drawn."""
        return GraphView(self.spec, self.overlay, self.job)

    def collapse(self, *subscribes: str) -> GraphView:
        """The same graph with the named graphs (by ``subscribes`` topic) drawn as one node
        each; with no names, every graph but the app's first (its entry).

        A big app with several graphs (MeshFlow's ``execute`` and ``collate``) then
        fits a notebook's width; :meth:`expand` draws them again.
        """
        names = subscribes or tuple(g.subscribes for g in self.spec.graphs[1:])
        return GraphView(
            self.spec,
            self.overlay,
            self.job,
            reached_only=self.reached_only,
            collapse=self.collapsed | set(names),
        )

    def expand(self, *subscribes: str) -> GraphView:
        """The same graph with the named collapsed graphs drawn in full (no names: all)."""
        kept = self.collapsed - set(subscribes) if subscribes else frozenset()
        return GraphView(
            self.spec, self.overlay, self.job, reached_only=self.reached_only, collapse=kept
        )

    def natural_width(self) -> float | None:
        """The drawing's width at its natural size, in points (None without Graphviz)."""
        svg = self.svg()
        found = _WIDTH.search(svg or "")
        return float(found.group(1)) if found else None

    def reached(self) -> GraphView:
        """The same painted graph with only the activities the job reached: its path."""
        return GraphView(
            self.spec, self.overlay, self.job, reached_only=True, collapse=self.collapsed
        )

    def __repr__(self) -> str:
        job = f", job={self.job.id!r}" if self.job else ""
        return f"GraphView(app={self.spec.id!r}, version={self.spec.version!r}{job})"

    @property
    def source(self) -> str:
        """The DOT source."""
        return self._builder.dot()

    def text(self) -> str:
        """The text DAG (what displays when no Graphviz binary is found)."""
        return self._builder.text()

    def svg(self) -> str | None:
        """The drawing as SVG (byte-stable for the same app and states); None without a binary."""
        binary = find_dot()
        if binary is None:
            return None
        key = str(binary)
        if key not in self._rendered:
            self._rendered[key] = fit_width(render_svg(self.source, binary))
        return self._rendered[key]

    def to_graphviz(self) -> graphviz.Source:
        """A ``graphviz.Source`` of this DAG (``.render('dag', format='png')`` to save it)."""
        import graphviz

        configure_graphviz()
        return graphviz.Source(self.source)

    def html(self) -> str | None:
        """The drawing for an HTML page: fitted to the width, or, when shrinking would make
        its text too small to read, at natural size in a box that scrolls (pans)."""
        svg = self.svg()
        if svg is None:
            return None
        width = self.natural_width()
        if width is not None and width > FIT_UNITS:
            return f"<div style='overflow:auto;max-height:80vh'>{_natural(svg)}</div>"
        return f"<div>{svg}</div>"

    @never_raises(_plain_only)
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        svg = self.svg()
        if svg is not None:
            # HTML first: JupyterLab shows an image/svg+xml output at its natural size, while
            # inline SVG follows the CSS that fits it to the width. The SVG stays for tools
            # that want the picture itself.
            rich = {"text/html": self.html() or "", "image/svg+xml": svg}
            return _mimebundle(self.text(), rich, include, exclude)
        text = self.text() + NO_DOT_HINT + "\n"
        return _mimebundle(text, {"text/html": _pre(text)}, include, exclude)

    @never_raises(_nothing)
    def _repr_svg_(self) -> str | None:
        return self.svg()

    @never_raises(_nothing)
    def _repr_html_(self) -> str | None:
        if self.svg() is not None:
            return self.html()
        return _pre(self.text() + NO_DOT_HINT)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else self.text())


def _natural(svg: str) -> str:
    return svg.replace('<svg style="max-width:100%;height:auto" ', "<svg ", 1)


def fit_width(svg: str | None) -> str | None:
    """Let a drawing shrink to the notebook's width (never grow past its natural size).

    The natural size stays in ``width``/``height``; CSS scales it down where the
    output area is narrower, keeping the aspect ratio (the ``viewBox`` is kept).
    """
    if svg is None or not svg.startswith("<svg "):
        return svg
    return '<svg style="max-width:100%;height:auto" ' + svg[len("<svg ") :]


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="milliseconds") if value else "-"


def _json(value: Any) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= DATA_CHARS else text[:DATA_CHARS] + "\n... (truncated)"


class JobView:
    """One job: its status, times, data and the graph painted with its path."""

    def __init__(self, export: dict[str, Any], graph: GraphView | None) -> None:
        self.export = export
        """What ``HotMesh.export`` returned."""
        self.graph = graph
        """The painted graph (None when the job's app version is unknown)."""
        mark = job_mark(export)
        self.id = mark.id
        """The job id."""
        self.status = mark.status
        """``running``, ``done``, ``error``, ``pending`` or ``interrupted``."""
        self.error = mark.error
        """The error message of a failed job."""
        self.failures = list(mark.failures)
        """Activities that failed (:class:`~.paint.ActivityFailure`), though the job went on."""
        self._mark = mark

    @property
    def data(self) -> dict[str, Any]:
        """The job data."""
        return self.export.get("data") or {}

    @property
    def metadata(self) -> dict[str, Any]:
        """The job metadata (``jid``, ``tpc``, ``app``, ``vrs``, ``jc``, ``ju`` ...)."""
        return self.export.get("metadata") or {}

    def __repr__(self) -> str:
        return f"JobView(id={self.id!r}, status={self.status!r})"

    def _facts(self) -> list[tuple[str, str]]:
        meta = self.metadata
        created, updated = parse_compact(meta.get("jc") or ""), parse_compact(meta.get("ju") or "")
        took = (
            format_duration(updated - created)
            if created and updated and self.status != "running"
            else "-"
        )
        facts = [
            ("job", self.id),
            ("app", f"{meta.get('app', '?')} v{meta.get('vrs', '?')}"),
            ("topic", str(meta.get("tpc", "-"))),
            ("status", self._mark.label),
            ("created", _iso(created)),
            ("updated", _iso(updated)),
            ("duration", took),
        ]
        if self.error:
            facts.append(("error", self.error))
        facts.extend(("failed", failure.text()) for failure in self.failures)
        return facts

    def text(self) -> str:
        """A plain-text report: facts, data and the text DAG."""
        lines = [f"{name:<9}{value}" for name, value in self._facts()]
        lines.append("data     " + _json(self.data).replace("\n", "\n         "))
        if self.graph is not None:
            lines.extend(["", self.graph.text().rstrip("\n")])
        return "\n".join(lines) + "\n"

    @never_raises(_plain_only)
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left{_RED if k in ('error', 'failed') else ''}'>"
            f"{html.escape(v)}</td></tr>"
            for k, v in self._facts()
        )
        parts = [f"<table>{rows}</table>", f"<pre>{html.escape(_json(self.data))}</pre>"]
        text = self.text()
        if self.graph is not None:
            drawing = self.graph.html()
            if drawing is not None:
                parts.append(drawing)
            else:
                parts.append(_pre(self.graph.text() + NO_DOT_HINT))
                text += NO_DOT_HINT + "\n"
        return _mimebundle(text, {"text/html": "\n".join(parts)}, include, exclude)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else self.text())


@dataclass(frozen=True)
class RunResult:
    """What ``%hotmesh run`` returns: the finished job's id and data."""

    job_id: str
    """The job id (paint it with ``%hotmesh graph APP --job ID``)."""
    topic: str
    """The topic the job was started on."""
    data: dict[str, Any] = field(default_factory=dict)
    """The job data."""
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)
    """The job metadata."""
    failures: tuple[ActivityFailure, ...] = ()
    """Activities that failed on the way, though the job finished (their errors)."""

    @property
    def status(self) -> str:
        """``done``, or ``done, N activities failed``."""
        return JobMark(self.job_id, "done", failures=self.failures).label

    def text(self) -> str:
        """``job <id> on <topic>: done`` (with any failed activity and its error) and the data
        as JSON (a job that failed as a whole raises instead)."""
        lines = [f"job {self.job_id} on {self.topic}: {self.status}"]
        lines.extend(f"  failed {failure.text()}" for failure in self.failures)
        if self.failures:
            lines.append(f"  (see %hotmesh job {self.job_id})")
        return "\n".join(lines) + f"\n{_json(self.data)}\n"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else self.text().rstrip("\n"))

    @never_raises(_plain_only)
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        head = f"job <code>{html.escape(self.job_id)}</code> on {html.escape(self.topic)}: "
        if self.failures:
            head += f"<b style='{_RED[1:]}'>{html.escape(self.status)}</b>"
            items = "".join(f"<li>{html.escape(f.text())}</li>" for f in self.failures)
            head += f"<ul style='margin:2px 0'>{items}</ul>"
        else:
            head += "<b>done</b>"
        rich = {"text/html": f"<div>{head}<pre>{html.escape(_json(self.data))}</pre></div>"}
        return _mimebundle(self.text().rstrip("\n"), rich, include, exclude)


class Notice(str):
    """A one-line message that displays without quotes (``connected to ...``)."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))
