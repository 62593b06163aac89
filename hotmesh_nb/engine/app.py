"""An app version prepared for execution: compiled rules and graph facts, cached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import MappingError
from ..keys import Keys
from ..mapping import Rule, compile_rule
from ..model import ActivitySpec, AppSpec, GraphSpec


@dataclass
class AppRuntime:
    """One deployed version of an app, ready to run."""

    spec: AppSpec
    """The compiled app."""
    keys: Keys
    """Key names of the app."""
    _rules: dict[int, Rule] = field(default_factory=dict, repr=False)
    _incoming: dict[str, int] = field(default_factory=dict, repr=False)
    _stateless: dict[str, bool] = field(default_factory=dict, repr=False)
    _job_keys: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for graph in self.spec.graphs:
            sources: dict[str, set[str]] = {}
            for source, transitions in graph.transitions.items():
                for transition in transitions:
                    sources.setdefault(transition.to, set()).add(source)
            for aid, froms in sources.items():
                self._incoming[aid] = len(froms)
            keys: set[str] = set()
            for activity in graph.activities.values():
                keys.update(_job_map_keys(activity.job_maps))
            self._job_keys[graph.subscribes] = frozenset(keys)

    @property
    def version(self) -> str:
        """The version string."""
        return self.spec.version

    def rule(self, value: Any, path: str) -> Rule:
        """The compiled rule of a YAML value (cached by object identity)."""
        key = id(value)
        rule = self._rules.get(key)
        if rule is None:
            rule = self._rules[key] = compile_rule(value, path=path)
        return rule

    def resolve(self, value: Any, context: dict[str, Any], path: str) -> Any:
        """Evaluate a YAML value as a rule against ``context``."""
        if value is None or isinstance(value, (bool, int, float)):
            return value
        try:
            return self.rule(value, path).evaluate(context)
        except MappingError:
            raise
        except Exception as exc:  # a function failed in a way the mapping layer did not wrap
            raise MappingError(
                f"evaluating {value!r} failed: {exc}", rule=value, path=path
            ) from exc

    def is_join(self, activity_id: str) -> bool:
        """True when transitions from more than one activity lead to ``activity_id``."""
        return self._incoming.get(activity_id, 0) > 1

    def graph_of(self, activity_id: str) -> GraphSpec:
        """The graph holding an activity."""
        return self.spec.graph_of(activity_id)

    def activity(self, activity_id: str) -> ActivitySpec:
        """An activity by id."""
        return self.spec.activity(activity_id)

    def job_keys(self, graph: GraphSpec) -> frozenset[str]:
        """Top-level job data keys some ``job.maps`` of the graph writes."""
        return self._job_keys.get(graph.subscribes, frozenset())

    def stateless(self, graph: GraphSpec) -> bool:
        """True when no rule of the graph reads job state (its steps skip the read)."""
        cached = self._stateless.get(graph.subscribes)
        if cached is None:
            cached = not any(_has_references(self, a) for a in graph.activities.values())
            if any(t.match for ts in graph.transitions.values() for t in ts):
                cached = False
            if graph.expire is not None and not isinstance(graph.expire, (int, float)):
                cached = False
            self._stateless[graph.subscribes] = cached
        return cached


def _job_map_keys(maps: dict[str, Any]) -> set[str]:
    keys = set()
    for key in maps:
        name = key.split("[", 1)[0] if key.endswith("]") else key
        if not key.endswith(("[-]", "[_]")):
            keys.add(name)
    return keys


def _has_references(app: AppRuntime, activity: ActivitySpec) -> bool:
    for name, value in activity.config.items():
        if name in ("type", "title", "retry", "cycle", "ancestor", "subtype", "topic"):
            continue
        if isinstance(value, (dict, list, str)):
            try:
                if app.rule(value, f"{activity.id}.{name}").references:
                    return True
            except MappingError:
                return True
    topic = activity.topic
    return isinstance(topic, str) and topic.startswith("{") and activity.type != "trigger"
