"""An app's graphs as a DAG: DOT text for Graphviz and a plain-text tree, optionally painted.

Activities are nodes whose shape and colour say their type; transitions are
edges labelled with their conditions; ``hooks:`` topics are nodes with dashed
edges to the hooks they wake; ``cycle`` activities get a back edge to their
ancestor. With an overlay (a job's activity states) each node is coloured
done / running / error / not reached and shows its duration.

Layout is made independent of run-time values: every node has a fixed size,
computed from the app alone (its own id and type, and room for a state line
when painted), so the same app gives the same geometry whatever durations a
job shows - only the text changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..model import ActivitySpec, AppSpec, GraphSpec, MatchSpec, TransitionSpec

#: Node shape, fill and border colour per activity type (6-digit hex: Debian's dot
#: 2.43 paints 3-digit colours black).
TYPE_STYLES: dict[str, tuple[str, str, str]] = {
    "trigger": ("invhouse", "#d9ead3", "#38761d"),
    "worker": ("box", "#cfe2f3", "#0b5394"),
    "await": ("box3d", "#d9d2e9", "#351c75"),
    "hook": ("hexagon", "#fff2cc", "#7f6000"),
    "signal": ("cds", "#fce5cd", "#b45f06"),
    "cycle": ("doubleoctagon", "#ead1dc", "#741b47"),
    "interrupt": ("octagon", "#f4cccc", "#990000"),
}
_OTHER_STYLE = ("box", "#eeeeee", "#666666")

#: Fill, border and text colour per painted state.
STATE_STYLES: dict[str, tuple[str, str, str]] = {
    "done": ("#b6d7a8", "#274e13", "#000000"),
    "running": ("#ffe599", "#7f6000", "#000000"),
    "error": ("#ea9999", "#660000", "#000000"),
    "not reached": ("#f3f3f3", "#999999", "#999999"),
}
STATES = tuple(STATE_STYLES)
"""The painted states, in the order a legend lists them."""

_WIDE_SHAPES = {"invhouse": 1.15, "hexagon": 1.3, "octagon": 1.3, "doubleoctagon": 1.35}
_FONT = "Helvetica"
_LINE_CHARS = 30
_STATE_LINE_CHARS = len("running 99.9 min x99")
_MIN_LINE_CHARS = 8


@dataclass(frozen=True)
class ActivityState:
    """What one job did at one activity (over all its dimensions)."""

    status: str
    """One of :data:`STATES`."""
    duration: timedelta | None = None
    """From the first start to the last end (to now while running); None when unknown."""
    runs: int = 1
    """How many times the activity ran (dimensions: cycles, re-entries)."""
    error: str | None = None
    """The first failed run's message (``w1: ValueError: ... (code 500)``), if one failed."""


@dataclass(frozen=True)
class JobMark:
    """The job a painted graph shows."""

    id: str
    """The job id."""
    status: str
    """The job's status label (``done``, ``running``, ``error`` ...)."""
    error: str | None = None
    """The job's error message, if it failed."""
    topic: str | None = None
    """The topic that started the job: only its graph is painted."""
    failures: tuple[Any, ...] = ()
    """Activities that failed (:class:`~.paint.ActivityFailure`), though the job went on."""

    @property
    def label(self) -> str:
        """The status as a person reads it: ``done, 1 activity failed``."""
        if self.failures and self.status != "error":
            count = len({f.activity for f in self.failures})
            return f"{self.status}, {count} {'activity' if count == 1 else 'activities'} failed"
        return self.status


def format_duration(value: timedelta | None) -> str:
    """A short duration: ``12 ms``, ``1.5 s``, ``2.3 min``, ``1.2 h`` ('' for None)."""
    if value is None:
        return ""
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _clip(text: str, limit: int = _LINE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any, limit: int = 24) -> str:
    """A compact rendering of a rule or literal for an edge label."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict) and len(value) == 1:
        text = f"{next(iter(value))}(...)"  # '@pipe(...)': the whole pipe would not fit
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return _clip(text, limit)


def _match_text(match: MatchSpec) -> str:
    return f"{_short(match.actual)} = {_short(match.expected)}"


def condition_lines(transition: TransitionSpec) -> list[str]:
    """The label of a transition: its codes and a short summary of its ``match`` tests."""
    if transition.unconditional:
        return []
    lines = []
    if transition.code != ("200",) or not transition.match:
        lines.append("code " + "|".join(transition.code))
    joiner = " and " if transition.gate == "and" else " or "
    tests = [_match_text(m) for m in transition.match]
    for index, test in enumerate(tests):
        lines.append(test if index == 0 else joiner.strip() + " " + test)
    return lines


_REF = re.compile(r"\{([\w$-]+)(?:\.[\w$-]+)+\.([\w$-]+)\}")


def describe(activity: ActivitySpec) -> str:
    """``type`` plus the topic it works on (``worker work.do``); a topic read from job data
    keeps the ends of its reference (``worker {trigger…topic}``), which say where it comes
    from, in a narrow node."""
    topic = activity.hook_topic if activity.type == "hook" else activity.topic
    if activity.type == "cycle" and activity.ancestor:
        topic = f"to {activity.ancestor}"
    if isinstance(topic, str) and topic:
        short = _REF.sub(r"{\1…\2}", topic)
        return _clip(f"{activity.type} {short}")
    return activity.type


def state_text(state: ActivityState) -> str:
    """``done 12 ms``, ``error 3 ms x2``, ``not reached``."""
    parts = [state.status, format_duration(state.duration)]
    if state.runs > 1:
        parts.append(f"x{state.runs}")
    return " ".join(p for p in parts if p)


def _quote(text: str) -> str:
    """A DOT double-quoted string (backslashes and quotes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Quoted(str):
    """DOT text that is already quoted (a multi-line label)."""


def _label(lines: Iterable[str]) -> _Quoted:
    escaped = (line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return _Quoted('"' + "\\n".join(escaped) + '"')


def _attrs(**attrs: Any) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        text = value if isinstance(value, _Quoted) else _quote(str(value))
        parts.append(f"{key}={text}")
    return "[" + " ".join(parts) + "]"


def _hook_node(topic: str) -> str:
    # A space cannot occur in an activity id, so this never collides with one.
    return f"hook topic {topic}"


def _graph_node(graph: GraphSpec) -> str:
    """The one node a collapsed graph is drawn as (a space: never an activity id)."""
    return f"graph {graph.subscribes}"


def _branch_node(head: str) -> str:
    """The one node a collapsed branch is drawn as."""
    return f"branch {head}"


def _branch(graph: GraphSpec, head: str) -> list[str]:
    """``head`` and every activity its transitions lead to, in visiting order."""
    order, queue = [head], [head]
    while queue:
        for transition in graph.transitions_from(queue.pop(0)):
            if transition.to not in order:
                order.append(transition.to)
                queue.append(transition.to)
    return order


class DagBuilder:
    """Builds the DOT source and the text tree of an app, with an optional job overlay."""

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
        self.overlay = overlay
        self.job = job
        self.note = note
        """A line under the title (why parts of the app are folded away), or None."""
        self.reached_only = reached_only and overlay is not None
        """Draw only the activities the job reached (its path), not the whole app."""
        self.collapsed = frozenset(collapse)
        """What is drawn as one node: graphs (by ``subscribes`` topic) and branches (by the
        id of their first activity: it and every activity after it)."""
        self._home = {aid: g for g in spec.graphs for aid in g.activities}
        topics = {graph.subscribes for graph in spec.graphs}
        unknown = sorted(self.collapsed - topics - set(self._home))
        if unknown:
            raise ValueError(
                f"cannot collapse {', '.join(unknown)}: app {spec.id} has no such graph or "
                f"activity; name a graph by the topic it subscribes to "
                f"({', '.join(sorted(topics))}) or a branch by its first activity's id"
            )
        self._folded: dict[str, str] = {}  # activity id -> the node it is drawn in
        for graph in spec.graphs:
            if graph.subscribes in self.collapsed:
                self._folded.update(dict.fromkeys(graph.activities, _graph_node(graph)))
                continue
            for head in graph.activities:
                if head in self.collapsed and head not in self._folded:
                    for aid in _branch(graph, head):
                        self._folded.setdefault(aid, _branch_node(head))

    # -- shared facts ------------------------------------------------------------

    def state(self, activity_id: str) -> ActivityState | None:
        """The painted state of an activity (None for an unpainted graph)."""
        if self.overlay is None:
            return None
        if self.job is not None and self.job.topic:
            graph = self.spec.graph_for_topic(self.job.topic)
            if graph is not None and activity_id not in graph.activities:
                return None  # another graph of the app: the job never runs there
        return self.overlay.get(activity_id, ActivityState("not reached"))

    def title(self, *, with_id: bool = True) -> str:
        """The first line: app, version, and the painted job's id and status (with its error)."""
        head = f"{self.spec.id} v{self.spec.version}"
        if self.job is not None:
            head += f" - job {self.job.id}: " if with_id else " - job: "
            head += self.job.label
            error = self.job.error or (self.job.failures[0].text() if self.job.failures else None)
            if error:
                head += f" ({_clip(error, 40)})"
        if self.reached_only:
            head += " [the job's path only]"
        return head

    def fan_branches(self, fan_out: int = 3) -> list[str]:
        """The first activities of the branches that leave a fan-out (an activity with at
        least ``fan_out`` transitions) and hold more than one activity, in YAML order.

        Folding them (``collapse``) turns a wide graph into an overview: the
        fan-out stays, each branch becomes one node.
        """
        heads: list[str] = []
        for graph in self.graphs():
            if self.is_collapsed(graph):
                continue
            for transitions in graph.transitions.values():
                if len(transitions) < fan_out:
                    continue
                for transition in transitions:
                    if transition.to not in heads and len(_branch(graph, transition.to)) > 1:
                        heads.append(transition.to)
        return heads

    def _node_lines(self, activity: ActivitySpec) -> list[str]:
        lines = [_clip(activity.id), describe(activity)]
        state = self.state(activity.id)
        if state is not None:
            lines.append(state_text(state))
        return lines

    def _node_size(self, activity: ActivitySpec) -> tuple[float, float]:
        """A node's width (from its own id and type, and room for any state line) and the
        height every node shares: from the app alone, never from a job, so a painted
        graph has the geometry of the unpainted one."""
        longest = max(len(line) for line in self._node_lines(activity)[:2])
        if self.overlay is not None:
            longest = max(longest, _STATE_LINE_CHARS)
        lines = 3 if self.overlay is not None else 2
        return round(0.4 + 0.085 * max(longest, _MIN_LINE_CHARS), 2), round(0.25 + 0.2 * lines, 2)

    def graphs(self) -> list[GraphSpec]:
        """The graphs drawn: a painted job's own graph (it never runs in the others), else all."""
        if self.overlay is not None and self.job is not None and self.job.topic:
            own = self.spec.graph_for_topic(self.job.topic)
            if own is not None:
                return [own]
        return list(self.spec.graphs)

    def shown(self, activity_id: str) -> bool:
        """Whether the drawing includes the activity (all of them, unless ``reached_only``)."""
        return not self.reached_only or activity_id in (self.overlay or {})

    def is_collapsed(self, graph: GraphSpec) -> bool:
        """Whether ``graph`` is drawn as one node (see ``collapse``)."""
        return graph.subscribes in self.collapsed

    def _node_id(self, activity_id: str) -> str:
        """The drawn node of an activity: its own, or its collapsed graph's or branch's."""
        return self._folded.get(activity_id, activity_id)

    def rankdir(self) -> str:
        """``TB`` for a narrow app; ``LR`` when a rank would be wider than the graph is deep.

        A router that fans out to many activities makes a top-to-bottom drawing
        several thousand points wide, unreadable once shrunk to a notebook's
        width; drawn left to right the fan runs down the page instead.
        """
        widest, deepest = 0, 0  # nodes across (all clusters), ranks down
        for graph in self.graphs():
            if self.is_collapsed(graph):
                widest, deepest = widest + 1, max(deepest, 1)
                continue
            level: dict[str, int] = {graph.trigger: 0}
            queue = [graph.trigger]
            while queue:
                node = queue.pop(0)
                for transition in graph.transitions_from(node):
                    if transition.to not in level:
                        level[transition.to] = level[node] + 1
                        queue.append(transition.to)
            shown = [depth for aid, depth in level.items() if self.shown(aid)]
            if shown:
                per_rank = [shown.count(d) for d in set(shown)]
                widest += max(per_rank)  # clusters stand side by side
                deepest = max(deepest, len(per_rank))
        return "LR" if widest > max(4, deepest) else "TB"

    def legend(self) -> str | None:
        """The colour key of a painted graph (None for an unpainted one)."""
        if self.overlay is None:
            return None
        return "green done | yellow running | red error (hover: why) | dashed not reached"

    # -- DOT ---------------------------------------------------------------------

    def dot(self) -> str:
        """The DOT source (deterministic: YAML order, no ids that change between runs)."""
        legend = self.legend()
        out = [
            f"digraph {_quote(f'{self.spec.id} v{self.spec.version}')} {{",
            "  graph "
            + _attrs(
                rankdir=self.rankdir(),
                # The id on a line of its own, shorter than the legend: its letters have
                # different widths, and a title that sets the width would change the layout.
                label=_label(
                    [self.title(with_id=False)]
                    + ([self.note] if self.note else [])
                    + ([f"job {self.job.id}"] if self.job is not None else [])
                    + ([legend] if legend else [])
                ),
                labelloc="t",
                fontname=_FONT,
                fontsize=14,
                nodesep=0.4,
                # xlabels take no room in the layout: leave room for them between ranks.
                ranksep=0.75 if self._labelled() else 0.45,
                # Condition labels (xlabel) sit beside their edge, not on its line.
                forcelabels="true",
            ),
            "  node "
            + _attrs(fontname=_FONT, fontsize=12, style="filled", fixedsize="true", margin=0.05),
            "  edge " + _attrs(fontname=_FONT, fontsize=10, color="#444444", arrowsize=0.7),
        ]
        graphs = self.graphs()
        several = len(graphs) > 1
        for index, graph in enumerate(graphs):
            indent = "    " if several else "  "
            if several:
                out.append(f"  subgraph cluster_{index} {{")
                title = [f"subscribes {graph.subscribes}"]
                if graph.publishes:
                    title.append(f"publishes {graph.publishes}")
                attrs = _attrs(label=_label(title), style="rounded", color="#999999")
                out.append(f"    graph {attrs}")
            if self.is_collapsed(graph):
                out.append(indent + self._dot_folded(_graph_node(graph), graph.activities))
            else:
                for activity in graph.activities.values():
                    if not self.shown(activity.id):
                        continue
                    if activity.id not in self._folded:
                        out.append(indent + self._dot_node(activity))
                    elif self._folded[activity.id] == _branch_node(activity.id):
                        members = [
                            a for a, n in self._folded.items() if n == _branch_node(activity.id)
                        ]
                        out.append(indent + self._dot_folded(_branch_node(activity.id), members))
            if several:
                out.append("  }")
        for graph in graphs:
            if self.is_collapsed(graph):
                continue  # its inner edges are folded away; links into it are drawn below
            for line in self._dot_edges(graph):
                if self._edge_shown(line) and line not in out:  # folding can repeat an edge
                    out.append("  " + line)
        out.append("}")
        return "\n".join(out) + "\n"

    def _dot_node(self, activity: ActivitySpec) -> str:
        width, height = self._node_size(activity)
        shape, fill, border = TYPE_STYLES.get(activity.type, _OTHER_STYLE)
        font = "#000000"
        style = "rounded,filled" if shape == "box" else "filled"
        state = self.state(activity.id)
        if state is not None:
            fill, border, font = STATE_STYLES[state.status]
            if state.status == "not reached":
                style += ",dashed"
        where = f"{activity.file or 'YAML'}:{activity.line}" if activity.line else None
        if state is not None and state.error:
            # The SVG tooltip (hover) says why the node is red.
            where = state.error + (f" | {where}" if where else "")
        return f"{_quote(activity.id)} " + _attrs(
            label=_label(self._node_lines(activity)),
            shape=shape,
            style=style,
            fillcolor=fill,
            color=border,
            fontcolor=font,
            width=round(width * _WIDE_SHAPES.get(shape, 1.0), 2),
            height=height,
            tooltip=where,
        )

    def _labelled(self) -> bool:
        """Whether any drawn edge has a condition label."""
        return any(
            condition_lines(t)
            for graph in self.graphs()
            if not self.is_collapsed(graph)
            for transitions in graph.transitions.values()
            for t in transitions
        )

    def _dot_folded(self, node: str, members: Iterable[str]) -> str:
        count = len(list(members))
        return f"{_quote(node)} " + _attrs(
            label=_label([_clip(node), f"{count} activities (collapsed)"]),
            shape="folder",
            style="filled",
            fillcolor="#eeeeee",
            color="#666666",
            fontcolor="#000000",
            fixedsize="false",
            tooltip=f"{count} activities drawn as one node; GraphView.expand() draws them",
        )

    def _edge_shown(self, line: str) -> bool:
        """Edges (and hook topic nodes) between activities the drawing includes."""
        if not self.reached_only:
            return True
        ends = re.findall(r'^"((?:[^"\\]|\\.)*)"(?: -> "((?:[^"\\]|\\.)*)")?', line)
        if not ends:
            return True
        source, target = ends[0]
        names = [source, target] if target else [source]
        return all(
            self.shown(name)
            for name in names
            if not name.startswith(("hook topic ", "graph ", "branch "))
        )

    def _reached(self, source: str, target: str) -> bool | None:
        if self.overlay is None:
            return None
        return source in self.overlay and target in self.overlay

    def _edge_style(self, reached: bool | None) -> dict[str, Any]:
        if reached is None:
            return {}
        if reached:
            return {"color": "#274e13", "penwidth": 2}
        return {"color": "#bbbbbb", "fontcolor": "#999999"}

    def _dot_edges(self, graph: GraphSpec) -> list[str]:
        lines = []
        for source, transitions in graph.transitions.items():
            for transition in transitions:
                tail, head = self._node_id(source), self._node_id(transition.to)
                if tail == head and tail != source:
                    continue  # inside a collapsed branch
                label = condition_lines(transition)
                attrs = self._edge_style(self._reached(source, transition.to))
                lines.append(
                    f"{_quote(tail)} -> {_quote(head)} "
                    + _attrs(xlabel=_label(label) if label else None, **attrs)
                )
        for topic, rules in graph.hooks.items():
            node = _hook_node(topic)
            lines.append(
                f"{_quote(node)} "
                + _attrs(
                    label=_label(["hook topic", _clip(topic)]),
                    shape="note",
                    style="filled",
                    fillcolor="#ffffff",
                    color="#7f6000",
                    fixedsize="false",
                )
            )
            for rule in rules:
                summary = [_match_text(m) for m in rule.match[:2]]
                lines.append(
                    f"{_quote(node)} -> {_quote(self._node_id(rule.to))} "
                    + _attrs(
                        style="dashed",
                        color="#7f6000",
                        xlabel=_label(summary) if summary else None,
                    )
                )
        for activity in graph.activities.values():
            lines.extend(self._dot_links(activity))
        return lines

    def _dot_links(self, activity: ActivitySpec) -> list[str]:
        """Back edges of cycles and dotted links from signals and awaits to their targets."""
        if activity.type == "cycle" and activity.ancestor:
            tail, head = self._node_id(activity.id), self._node_id(activity.ancestor)
            if tail == head and tail != activity.id:
                return []
            return [
                f"{_quote(tail)} -> {_quote(head)} "
                + _attrs(
                    label="cycle",
                    style="bold",
                    color="#741b47",
                    fontcolor="#741b47",
                    constraint="false",
                )
            ]
        topic = activity.topic
        if not isinstance(topic, str) or not topic:
            return []
        if activity.type == "signal" and topic in self.spec.hooks:
            target = _hook_node(topic)
        elif activity.type == "await" and self.spec.graph_for_topic(topic) is not None:
            target = self._node_id(self.spec.graph_for_topic(topic).trigger)  # type: ignore[union-attr]
        else:
            return []
        return [
            f"{_quote(self._node_id(activity.id))} -> {_quote(target)} "
            + _attrs(label=activity.type, style="dotted", color="#666666", constraint="false")
        ]

    # -- text --------------------------------------------------------------------

    def text(self) -> str:
        """An indented tree of every graph: ``-> child [type topic] | state | condition``."""
        out = [self.title()] + ([f"({self.note})"] if self.note else [])
        for graph in self.spec.graphs:
            head = f"graph {graph.subscribes}"
            if graph.publishes:
                head += f" (publishes {graph.publishes})"
            if self.is_collapsed(graph):
                out.append(f"{head}: {len(graph.activities)} activities (collapsed)")
                continue
            out.append(head)
            seen: set[str] = set()
            self._walk(graph, graph.trigger, 1, "", seen, out)
            for activity_id in graph.activities:
                if activity_id not in seen and activity_id not in self._folded:
                    # reached only through hooks, or not at all
                    self._walk(graph, activity_id, 1, "", seen, out)
            for topic, rules in graph.hooks.items():
                for rule in rules:
                    out.append(f"  hook topic {topic} ~> {rule.to}")
        return "\n".join(out) + "\n"

    def _walk(
        self,
        graph: GraphSpec,
        activity_id: str,
        depth: int,
        arrow: str,
        seen: set[str],
        out: list[str],
        condition: str = "",
    ) -> None:
        activity = graph.activities[activity_id]
        if not self.shown(activity_id):
            return
        parts = [f"{'  ' * depth}{arrow}{activity_id} [{describe(activity)}]"]
        state = self.state(activity_id)
        if state is not None:
            parts.append(state_text(state))
            if state.error:
                parts.append(state.error)
        if condition:
            parts.append(f"when {condition}")
        if activity_id in seen:
            out.append(" | ".join(parts) + " (see above)")
            return
        seen.add(activity_id)
        if self._folded.get(activity_id) == _branch_node(activity_id):
            count = sum(1 for node in self._folded.values() if node == _branch_node(activity_id))
            out.append(" | ".join(parts) + f" (collapsed: {count} activities)")
            return
        out.append(" | ".join(parts))
        for transition in graph.transitions_from(activity_id):
            condition = ", ".join(condition_lines(transition))
            self._walk(graph, transition.to, depth + 1, "-> ", seen, out, condition)
        if activity.type == "cycle" and activity.ancestor:
            out.append(f"{'  ' * (depth + 1)}=> {activity.ancestor} (cycle)")
