"""An app version prepared for execution: compiled rules and graph facts, cached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import MappingError
from ..keys import Keys
from ..mapping import Rule, compile_rule
from ..model import ActivitySpec, AppSpec, GraphSpec
from . import _state as st
from ._job_paths import DataPath, declare, job_map_name


@dataclass
class AppRuntime:
    """One deployed version of an app, ready to run."""

    spec: AppSpec
    """The compiled app."""
    keys: Keys
    """Key names of the app."""
    _rules: dict[tuple[int, bool], Rule] = field(default_factory=dict, repr=False)
    _incoming: dict[str, int] = field(default_factory=dict, repr=False)
    _stateless: dict[str, bool] = field(default_factory=dict, repr=False)
    _expire_at_start: dict[str, bool] = field(default_factory=dict, repr=False)
    _job_keys: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _hoists: dict[str, bool] = field(default_factory=dict, repr=False)
    _reads: dict[str, set[str] | None] = field(default_factory=dict, repr=False)
    _job_paths: dict[str, dict[str, DataPath]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for graph in self.spec.graphs:
            sources: dict[str, set[str]] = {}
            for source, transitions in graph.transitions.items():
                for transition in transitions:
                    sources.setdefault(transition.to, set()).add(source)
            for aid, froms in sources.items():
                self._incoming[aid] = len(froms)
            keys: set[str] = set()
            hoists = False
            paths: dict[str, DataPath] = {}
            for activity in graph.activities.values():
                keys.update(_job_map_keys(activity.job_maps))
                hoists = hoists or any(k.endswith(("[-]", "[_]")) for k in activity.job_maps)
                declare(paths, activity.job_maps)
            self._job_keys[graph.subscribes] = frozenset(keys)
            self._job_paths[graph.subscribes] = paths
            self._hoists[graph.subscribes] = hoists

    @property
    def version(self) -> str:
        """The version string."""
        return self.spec.version

    def rule(self, value: Any, path: str, *, field: bool = True) -> Rule:
        """The compiled rule of a YAML value (cached by object identity and kind)."""
        key = (id(value), field)
        rule = self._rules.get(key)
        if rule is None:
            rule = self._rules[key] = compile_rule(value, path=path, field=field)
        return rule

    def resolve(self, value: Any, context: dict[str, Any], path: str, *, field: bool = True) -> Any:
        """Evaluate a YAML value as a rule against ``context``.

        ``field=False`` for a value of a ``maps`` object (see :func:`compile_rule`).
        """
        if isinstance(value, (bool, int, float)) or (value is None and field):
            return value
        try:
            return self.rule(value, path, field=field).evaluate(context)
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

    def job_paths(self, graph: GraphSpec) -> dict[str, DataPath]:
        """The job data paths the graph's ``job.maps`` declare, by top-level key."""
        return self._job_paths.get(graph.subscribes, {})

    def _writes_nested(self, activity: ActivitySpec) -> bool:
        """Whether ``activity`` may write a job data key declared with nested paths (its
        value is merged with the job's, so the step must read the job): through its
        ``job.maps``, or a worker's input key named like one."""
        paths = self.job_paths(self.graph_of(activity.id))
        nested = {name for name, node in paths.items() if not node.leaf}
        if not nested:
            return False
        if any(k.endswith(("[-]", "[_]")) for k in activity.job_maps):
            return True
        written = {job_map_name(key) for key in activity.job_maps}
        if activity.type == "worker":
            written.update(activity.input_maps)
        return not nested.isdisjoint(written)

    def state_fields(self, activity_id: str, dad: str) -> list[str] | None:
        """The job hash fields a step at ``activity_id``/``dad`` reads (None: all of them).

        Reading only the job's metadata, its declared data keys and each
        activity at the dimension on this path keeps a step's cost flat however
        many iterations a cycle has run. Graphs that hoist arbitrary keys into
        the job data (``[-]``/``[_]`` maps) are read whole.
        """
        graph = self.graph_of(activity_id)
        keys = set(self.job_keys(graph))
        if self._hoists.get(graph.subscribes):
            # Hoisted keys are not known in advance: read those some rule reads.
            read = self._data_reads(graph)
            if read is None:
                return None
            keys |= read
        fields = [st.STATUS, st.GID, st.META, st.UPDATED, st.ERROR]
        fields += [st.data_field(k) for k in sorted(keys)]
        segments = dad.split(",")[1:]
        for activity in graph.activities.values():
            depth = len(activity.ancestors)
            path = segments[: depth + 1] + ["0"] * max(0, depth + 1 - len(segments))
            fields.append(st.activity_field(activity.id, "," + ",".join(path)))
        return fields

    def _data_reads(self, graph: GraphSpec) -> set[str] | None:
        """Top-level job data keys the graph's rules read (None: the whole job data)."""
        cached = self._reads.get(graph.subscribes, False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        refs: set[str] = set()
        for activity in graph.activities.values():
            for name, value in activity.config.items():
                refs |= self._refs(value, f"{activity.id}.{name}")
        for transitions in graph.transitions.values():
            for transition in transitions:
                for match in transition.match:
                    refs |= self._refs(match.actual, "transitions")
        for rules in graph.hooks.values():
            for rule in rules:
                for match in rule.match:
                    refs |= self._refs(match.expected, "hooks")
        refs |= self._refs(graph.expire, "expire")
        reads: set[str] = set()
        whole = False  # a rule reads all of ``$job.data``
        for ref in refs:
            parts = ref.split(".")
            if parts[:2] != ["$job", "data"]:
                continue
            if len(parts) < 3:
                whole = True
                break
            reads.add(parts[2])
        self._reads[graph.subscribes] = None if whole else reads
        return reads

    def needs_state(self, activity_id: str) -> bool:
        """Whether resuming ``activity_id`` (and the activities it runs inline) reads the job.

        A step that only reads the message, the app settings and activities it
        runs itself skips the ``HGETALL`` of the job: the status and guard checks
        happen in the step script anyway.
        """
        cached = self._stateless.get(activity_id)
        if cached is None:
            cached = self._stateless[activity_id] = self._reads_state(activity_id)
        return cached

    def _reads_state(self, activity_id: str) -> bool:
        """:meth:`needs_state` worked out (once per activity; a method of its own, so that
        the cached answer costs no cells for its generator)."""
        activity = self.activity(activity_id)
        if activity.hook_topic or activity.type in ("await", "cycle", "interrupt", "signal"):
            # Signals can arrive many times (dimensions come from the state), and the
            # other types read the job to reach other jobs or re-enter ancestors.
            return True
        # An expire resolved when the work was queued travels with the answer.
        early = self.expire_at_start(activity_id)
        fields = tuple(f for f in LEG2_FIELDS if not (early and f == "expire"))
        refs = self._leg_refs(activity, fields, set())
        local = {activity_id}
        refs |= self._children_refs(activity, local)
        if any(self._writes_nested(self.activity(aid)) for aid in local):
            return True
        reads = not all(_is_local(ref, local) for ref in refs)
        expire = self.graph_of(activity_id).expire
        if expire is not None and not early:
            reads = reads or bool(self._refs(expire, "expire"))
        return reads

    def expire_at_start(self, activity_id: str) -> bool:
        """Whether a worker activity's ``expire`` may be resolved when its work is queued.

        True when the rule reads only the graph's trigger (whose data never changes once
        the job exists) and the app's settings: its value at the answer is then the one
        at the start, which the work message carries (``Work.expire``), and the answer's
        step need not read the job for it — MeshCall's per-call ``expire`` is such a rule.
        """
        cached = self._expire_at_start.get(activity_id)
        if cached is None:
            activity = self.activity(activity_id)
            graph = self.graph_of(activity_id)
            refs = self._refs(activity.expire, "expire") if activity.expire is not None else set()
            cached = (
                activity.type == "worker"
                and bool(refs)
                and all(ref.split(".", 1)[0] in (graph.trigger, "$app") for ref in refs)
            )
            self._expire_at_start[activity_id] = cached
        return cached

    def _refs(self, value: Any, path: str) -> set[str]:
        if value is None or isinstance(value, (bool, int, float)):
            return set()
        try:
            # Read as a maps value: it reaches into nested members, so its references
            # cover whatever a field rule of the same value could read.
            return set(self.rule(value, path, field=False).references)
        except MappingError:
            return {"$job"}

    def _leg_refs(
        self, activity: ActivitySpec, names: tuple[str, ...], local: set[str]
    ) -> set[str]:
        refs: set[str] = set()
        for name in names:
            if name in activity.config:
                refs |= self._refs(activity.config[name], f"{activity.id}.{name}")
        for transition in self.graph_of(activity.id).transitions_from(activity.id):
            for match in transition.match:
                refs |= self._refs(match.actual, f"{activity.id}.transitions")
        return refs

    def _children_refs(self, activity: ActivitySpec, local: set[str]) -> set[str]:
        refs: set[str] = set()
        for transition in self.graph_of(activity.id).transitions_from(activity.id):
            child = self.activity(transition.to)
            if self.is_join(child.id):
                continue
            local.add(child.id)
            if child.status_threshold is not None:
                refs.add("$job")  # the threshold is checked against the job's status
            if child.type == "worker":
                refs |= self._refs(child.config.get("topic"), f"{child.id}.topic")
                refs |= self._refs(child.config.get("subtype"), f"{child.id}.subtype")
                refs |= self._refs(child.config.get("input"), f"{child.id}.input")
            elif child.type == "hook" and child.sleep is None and not child.hook_topic:
                refs |= self._leg_refs(child, HOOK_FIELDS, local)
                refs |= self._children_refs(child, local)
            else:
                refs.add("$job")  # other types read the job
        return refs


LEG2_FIELDS = ("job", "emit", "expire", "persist")
"""Fields of an activity evaluated when it resumes."""

HOOK_FIELDS = ("output", "job", "emit", "expire", "persist")
"""Fields of a pass-through hook evaluated when it runs."""


def _is_local(reference: str, local: set[str]) -> bool:
    head = reference.split(".", 1)[0]
    return head in ("$self", "$app") or head in local


def _job_map_keys(maps: dict[str, Any]) -> set[str]:
    return {name for name in map(job_map_name, maps) if name is not None}
