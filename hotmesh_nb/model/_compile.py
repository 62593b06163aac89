"""Compile a located, ``$ref``-resolved app tree into an :class:`AppSpec`.

The steps follow HotMesh's deployer (spec §3.2): validate, rewrite legacy
``activity`` types to ``hook``, bind graph values (trigger, topics, expire,
persistent) onto every activity, compute parents/ancestors/children by walking
the transitions from the trigger, mark every cycle target, and attach the
``hooks:`` section's topic to its hook activity. Per-node checks live in
:mod:`hotmesh_nb.model._validate`; this module holds the whole-graph checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hotmesh_nb.model._located import file_of, line_of, to_plain
from hotmesh_nb.model._specs import ActivitySpec, AppSpec, GraphSpec, HookRuleSpec, TransitionSpec
from hotmesh_nb.model._validate import (
    Problems,
    check_activity,
    check_header,
    describe,
    parse_match,
    parse_transition,
    rule_problem,
    suggest,
)


@dataclass
class _Graph:
    """Working state of one graph while the app compiles."""

    index: int
    node: dict[str, Any]
    subscribes: str
    types: dict[str, str] = field(default_factory=dict)  # usable activities: id -> type
    trigger: str | None = None
    transitions: dict[str, list[TransitionSpec]] = field(default_factory=dict)
    hooks: dict[str, list[HookRuleSpec]] = field(default_factory=dict)
    hook_topics: dict[str, str] = field(default_factory=dict)  # hook activity -> topic
    ancestors: dict[str, tuple[str, ...]] = field(default_factory=dict)


class _Compiler:
    """Collects problems and working state across all graphs of one app."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.problems = Problems()
        self.graphs: list[_Graph] = []
        self.topics: dict[str, _Graph] = {}
        self.owner: dict[str, tuple[_Graph, int | None]] = {}  # activity id -> graph, line
        self.hook_topic_graph: dict[str, _Graph] = {}

    def add(self, reason: str, node: Any, key: Any = None, activity: str | None = None) -> None:
        self.problems.add(reason, node, key, activity=activity, file=file_of(node, self.source))

    # -- per graph ------------------------------------------------------------------------

    def graph(self, index: int, node: Any, graphs: list[Any]) -> None:
        """First pass over ``graphs[index]``: its header fields and activities."""
        label = f"graph {index + 1}"
        if not isinstance(node, dict):
            self.add(
                f"{label} must be a mapping with 'subscribes' and 'activities', "
                f"not {describe(node)}",
                graphs,
                index,
            )
            return
        subscribes = node.get("subscribes")
        if not isinstance(subscribes, str) or not subscribes.strip():
            self.add(
                f"{label} has no 'subscribes' topic; add the topic that starts its jobs, "
                "e.g. 'subscribes: myapp.run'",
                node,
                "subscribes",
            )
            return
        if subscribes in self.topics:
            first = self.topics[subscribes]
            self.add(
                f"two graphs subscribe to {subscribes!r} (graphs {first.index + 1} and "
                f"{index + 1}); every graph needs its own topic",
                node,
                "subscribes",
            )
            return
        graph = _Graph(index=index, node=node, subscribes=subscribes)
        self.topics[subscribes] = graph
        self.graphs.append(graph)
        if "publishes" in node and not (
            isinstance(node["publishes"], str) and node["publishes"].strip()
        ):
            self.add("'publishes' must be a topic string", node, "publishes")
        for key in ("expire", "persistent"):
            if key in node:
                rule_problem(self.problems, node[key], f"{subscribes}.{key}", node, key, None)
        for key in ("input", "output"):
            if node.get(key) is not None and not isinstance(node[key], dict):
                self.add(
                    f"graph '{key}' must be a mapping such as '{key}: {{schema: ...}}'", node, key
                )
        self.activities(graph)

    def links(self, graph: _Graph) -> None:
        """Second pass, once every graph's activities are known: edges between them."""
        if graph.types:
            self.transitions(graph)
            self.hooks(graph)
            self.topology(graph)

    def activities(self, graph: _Graph) -> None:
        """Check each activity, app-wide id uniqueness and the single trigger."""
        node = graph.node
        activities = node.get("activities")
        if not isinstance(activities, dict) or not activities:
            self.add(
                f"graph {graph.subscribes!r} has no 'activities'; add a mapping of "
                "activity id -> activity, starting with one 'type: trigger'",
                node,
                "activities" if "activities" in node else "subscribes",
            )
            return
        triggers: list[str] = []
        for aid, config in activities.items():
            line = line_of(activities, aid)
            if aid in self.owner:
                first, first_line = self.owner[aid]
                at = f" (line {first_line})" if first_line else ""
                self.add(
                    f"activity id {aid!r} is already used in graph {first.subscribes!r}{at}; "
                    "activity ids must be unique across the whole app",
                    activities,
                    aid,
                    activity=aid,
                )
                continue
            self.owner[aid] = (graph, line)
            kind = check_activity(self.problems, aid, config, activities)
            if kind is None:
                continue
            graph.types[aid] = kind
            if kind == "trigger":
                triggers.append(aid)
        if not triggers and graph.types:
            self.add(
                f"graph {graph.subscribes!r} has no trigger; add an activity with "
                "'type: trigger' (exactly one per graph)",
                node,
                "activities",
            )
        for extra in triggers[1:]:
            self.add(
                f"graph {graph.subscribes!r} has more than one trigger ({triggers[0]!r} and "
                f"{extra!r}); keep exactly one and make the other a hook",
                activities,
                extra,
                activity=extra,
            )
        if triggers:
            graph.trigger = triggers[0]

    def known(
        self, graph: _Graph, aid: str, node: Any, key: Any, role: str, source: str | None = None
    ) -> bool:
        """Report ``aid`` if it is not an activity of ``graph``; True when it is.

        ``role`` is ``from`` or ``to``; ``source`` is the transition's source for ``to``.
        """
        activity = aid if role == "from" else source
        if aid in graph.types:
            return True
        if aid in self.owner and self.owner[aid][0] is not graph:
            other = self.owner[aid][0].subscribes
            self.add(
                f"transition {role} {aid!r}, which belongs to graph {other!r}; a transition "
                "stays inside its graph (use an 'await' activity to start another graph)",
                node,
                key,
                activity=activity,
            )
        elif aid not in self.owner:
            self.add(
                f"transition {role} unknown activity {aid!r}"
                f"{suggest(aid, graph.types)}; define it under 'activities'",
                node,
                key,
                activity=activity if role == "to" else None,
            )
        # else: the activity exists here but is unusable; its own problem is already recorded
        return False

    def transitions(self, graph: _Graph) -> None:
        """Parse ``transitions``: known endpoints in this graph, never into the trigger."""
        node = graph.node
        transitions = node.get("transitions")
        if transitions is None:
            return
        if not isinstance(transitions, dict):
            self.add(
                "'transitions' must be a mapping of activity id -> list of {to: ...}",
                node,
                "transitions",
            )
            return
        for source, items in transitions.items():
            if not self.known(graph, source, transitions, source, "from"):
                continue
            if items is None:
                continue
            if not isinstance(items, list):
                self.add(
                    f"transitions of {source!r} must be a list such as '- to: next_id', "
                    f"not {describe(items)}",
                    transitions,
                    source,
                    activity=source,
                )
                continue
            parsed: list[TransitionSpec] = []
            for index in range(len(items)):
                spec = parse_transition(self.problems, source, items, index)
                if spec is None:
                    continue
                item = items[index]
                if not self.known(graph, spec.to, item, "to", "to", source):
                    continue
                if graph.types[spec.to] == "trigger":
                    self.add(
                        f"transition to the trigger {spec.to!r}; a trigger only starts a job "
                        "- to run it again use a 'cycle' activity whose ancestor is a hook",
                        item,
                        "to",
                        activity=source,
                    )
                    continue
                if any(t.to == spec.to for t in parsed):
                    self.add(
                        f"two transitions from {source!r} to {spec.to!r}; merge them into one "
                        "(use 'gate: or' to accept either condition)",
                        item,
                        "to",
                        activity=source,
                    )
                    continue
                parsed.append(spec)
            graph.transitions[source] = parsed

    def hooks(self, graph: _Graph) -> None:
        """Parse the ``hooks:`` section (topics are app-wide, targets are hooks)."""
        node = graph.node
        hooks = node.get("hooks")
        if hooks is None:
            return
        if not isinstance(hooks, dict):
            self.add(
                "'hooks' must be a mapping of hook topic -> list of {to, conditions}",
                node,
                "hooks",
            )
            return
        for topic, rules in hooks.items():
            if topic is None or (isinstance(topic, str) and not topic.strip()):
                # Signals name their topic; an empty one would be what a caller that
                # forgot it reaches.
                self.add(
                    f"hook topic {topic!r} is empty; name the topic its signals use, "
                    "e.g. 'order.paid:'",
                    hooks,
                    topic,
                )
                continue
            if topic in self.hook_topic_graph:
                other = self.hook_topic_graph[topic].subscribes
                self.add(
                    f"hook topic {topic!r} is also declared in graph {other!r}; hook topics "
                    "are app-wide, so use a distinct topic per graph",
                    hooks,
                    topic,
                )
                continue
            self.hook_topic_graph[topic] = graph
            if not isinstance(rules, list) or not rules:
                self.add(
                    f"hook topic {topic!r} needs a list of rules such as "
                    "'- to: <hook activity id>'",
                    hooks,
                    topic,
                )
                continue
            parsed: list[HookRuleSpec] = []
            for index, rule in enumerate(rules):
                spec = self.hook_rule(graph, topic, rules, index, rule)
                if spec is not None:
                    parsed.append(spec)
            graph.hooks[topic] = parsed

    def hook_rule(
        self, graph: _Graph, topic: str, rules: list[Any], index: int, rule: Any
    ) -> HookRuleSpec | None:
        """Parse one rule of a hook topic; None (problem recorded) when unusable."""
        if not isinstance(rule, dict) or not isinstance(rule.get("to"), str) or not rule["to"]:
            self.add(
                f"a rule of hook topic {topic!r} must be a mapping with 'to: <hook activity "
                "id>' and optional 'conditions: {match: [...]}'",
                rule if isinstance(rule, dict) else rules,
                "to" if isinstance(rule, dict) and "to" in rule else index,
            )
            return None
        target = rule["to"]
        if target not in graph.types:
            if target in self.owner and self.owner[target][0] is graph:
                return None  # the activity is broken; its own problem is already recorded
            if target in self.owner:
                where = f"belongs to graph {self.owner[target][0].subscribes!r}"
            else:
                where = f"is not an activity of this graph{suggest(target, graph.types)}"
            self.add(
                f"hook topic {topic!r} targets {target!r}, which {where}; "
                "point 'to' at a hook activity of the same graph",
                rule,
                "to",
            )
            return None
        if graph.types[target] != "hook":
            self.add(
                f"hook topic {topic!r} targets {target!r}, a {graph.types[target]} activity; "
                "only a 'type: hook' activity can wait for a signal",
                rule,
                "to",
                activity=target,
            )
            return None
        if target in graph.hook_topics:
            self.add(
                f"activity {target!r} already listens on hook topic "
                f"{graph.hook_topics[target]!r}; a hook activity has one topic",
                rule,
                "to",
                activity=target,
            )
            return None
        match: tuple[Any, ...] = ()
        conditions = rule.get("conditions")
        if conditions is not None:
            if not isinstance(conditions, dict):
                self.add(
                    "hook rule 'conditions' must be a mapping such as "
                    "'{match: [{expected: ..., actual: ...}]}'",
                    rule,
                    "conditions",
                    activity=target,
                )
                return None
            match = parse_match(self.problems, conditions, f"hooks.{topic}", target)
        graph.hook_topics[target] = topic
        return HookRuleSpec(to=target, match=match)

    def topology(self, graph: _Graph) -> None:
        """Walk the transitions from the trigger: ancestors, loops, cycle targets."""
        activities = graph.node["activities"]
        if graph.trigger is not None:
            # Iterative depth-first walk; the first path that reaches an activity
            # defines its ancestors. An edge back onto the current path is a loop.
            graph.ancestors[graph.trigger] = ()
            path = [graph.trigger]
            pending = [iter(t.to for t in graph.transitions.get(graph.trigger, []))]
            while pending:
                target = next(pending[-1], None)
                if target is None:
                    pending.pop()
                    path.pop()
                    continue
                if target in path:
                    self.add(
                        f"transitions loop from {path[-1]!r} back to {target!r}; "
                        "to repeat work use a 'cycle' activity with 'ancestor: "
                        f"{target}'",
                        activities,
                        path[-1],
                        activity=path[-1],
                    )
                    continue
                if target in graph.ancestors:
                    continue
                graph.ancestors[target] = tuple(path)
                path.append(target)
                pending.append(iter(t.to for t in graph.transitions.get(target, [])))
        for aid, kind in graph.types.items():
            if kind != "cycle":
                continue
            config = activities[aid]
            ancestor = config.get("ancestor")
            if not isinstance(ancestor, str) or not ancestor:
                continue  # missing ancestor already reported by check_activity
            if ancestor not in graph.ancestors.get(aid, ()):
                known = ", ".join(graph.ancestors.get(aid, ())) or "none - it is not reachable"
                self.add(
                    f"cycle ancestor {ancestor!r} is not an ancestor of {aid!r} (its ancestors: "
                    f"{known}); name an activity on the path from the trigger to {aid!r}",
                    config,
                    "ancestor",
                    activity=aid,
                )

    # -- building the specs ---------------------------------------------------------------

    def build(self, graph: _Graph) -> GraphSpec:
        """Build the specs of a graph that passed every check."""
        node = graph.node
        activities_node = node["activities"]
        cycle_targets = {
            activities_node[aid]["ancestor"] for aid, kind in graph.types.items() if kind == "cycle"
        }
        children: dict[str, list[str]] = {
            aid: [t.to for t in items] for aid, items in graph.transitions.items()
        }
        publishes = node.get("publishes")
        specs: dict[str, ActivitySpec] = {}
        for aid, kind in graph.types.items():
            located = activities_node[aid]
            config = to_plain(located)
            config["type"] = kind  # legacy 'activity' reads 'hook'
            ancestors = graph.ancestors.get(aid, ())
            specs[aid] = ActivitySpec(
                id=aid,
                type=kind,
                config=config,
                parent=ancestors[-1] if ancestors else None,
                ancestors=ancestors,
                children=tuple(children.get(aid, ())),
                hook_topic=graph.hook_topics.get(aid),
                cycle=config.get("cycle") is True or aid in cycle_targets,
                line=line_of(activities_node, aid),
                file=file_of(activities_node, self.source),
                trigger=graph.trigger or "",
                subscribes=graph.subscribes,
                publishes=publishes,
                expire=to_plain(config["expire"] if "expire" in config else node.get("expire")),
                persistent=to_plain(node.get("persistent")),
            )
        input_node = node.get("input") or {}
        output_node = node.get("output") or {}
        return GraphSpec(
            subscribes=graph.subscribes,
            publishes=publishes,
            expire=to_plain(node.get("expire")),
            persistent=to_plain(node.get("persistent")),
            trigger=graph.trigger or "",
            activities=specs,
            transitions=graph.transitions,
            hooks=graph.hooks,
            input_schema=to_plain(input_node.get("schema")),
            output_schema=to_plain(output_node.get("schema")),
        )


def compile_app(root: Any, source: str | None = None) -> AppSpec:
    """Validate a ``$ref``-resolved located tree and compile it.

    Raises :class:`ValidationError`: at once for a broken ``app`` header,
    otherwise after checking everything (see :meth:`Problems.raise_if_any`).
    """
    app, app_id, version, graphs = check_header(root, source)
    compiler = _Compiler(source)
    for index, graph in enumerate(graphs):
        compiler.graph(index, graph, graphs)
    for graph in compiler.graphs:
        compiler.links(graph)
    compiler.problems.raise_if_any()
    return AppSpec(
        id=app_id,
        version=version,
        settings=to_plain(app.get("settings") or {}),
        graphs=[compiler.build(graph) for graph in compiler.graphs],
        source=source,
        partitions=app.get("partitions"),
    )
