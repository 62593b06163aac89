"""The compiled form of a YAML app: immutable dataclasses the engine reads.

Everything here is plain JSON data underneath (``config`` dicts, tuples of
strings), so :meth:`AppSpec.to_dict` / :meth:`AppSpec.from_dict` can store a
compiled app in Redis and rebuild an equal object in another process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Literal

#: Version of the :meth:`AppSpec.to_dict` layout; bump when it changes.
FORMAT = 1

#: The activity types HotMesh 0.3.32 can run (``activity`` is rewritten to ``hook``).
ACTIVITY_TYPES = ("trigger", "worker", "await", "hook", "signal", "cycle", "interrupt")


@dataclass(frozen=True)
class MatchSpec:
    """One ``{expected, actual}`` test of a condition or hook rule."""

    expected: Any
    """The value the resolved ``actual`` must equal (``===``); may itself be a mapping rule in
    hook rules, where it is resolved against the job that registered the hook."""
    actual: Any
    """A mapping rule (``'{a.output.data.x}'``, ``{'@pipe': ...}``) or a literal."""

    def to_dict(self) -> dict[str, Any]:
        return {"expected": self.expected, "actual": self.actual}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchSpec:
        return cls(expected=data["expected"], actual=data["actual"])


@dataclass(frozen=True)
class TransitionSpec:
    """An edge ``from -> to`` of a graph, with its optional conditions."""

    to: str
    """Id of the activity to start."""
    code: tuple[str, ...] = ("200",)
    """Status codes (as strings) for which a *conditional* transition is considered."""
    unconditional: bool = False
    """True when the YAML had no ``conditions``: taken for every code, errors included."""
    gate: Literal["and", "or"] = "and"
    """How ``match`` entries combine: all must hold (``and``) or any (``or``)."""
    match: tuple[MatchSpec, ...] = ()
    """The tests; empty means the code test alone decides."""

    def accepts_code(self, code: int | str) -> bool:
        """Whether the status ``code`` lets this transition be considered at all."""
        return self.unconditional or str(code) in self.code

    def to_dict(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "code": list(self.code),
            "unconditional": self.unconditional,
            "gate": self.gate,
            "match": [m.to_dict() for m in self.match],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransitionSpec:
        return cls(
            to=data["to"],
            code=tuple(data["code"]),
            unconditional=data["unconditional"],
            gate=data["gate"],
            match=tuple(MatchSpec.from_dict(m) for m in data["match"]),
        )


@dataclass(frozen=True)
class HookRuleSpec:
    """A ``hooks:`` entry: signals on a topic wake the hook activity ``to``."""

    to: str
    """Id of the ``hook`` activity that waits for the signal."""
    match: tuple[MatchSpec, ...] = ()
    """Tests pairing a signal with a waiting job (``expected`` against the job, ``actual``
    against the signal's ``$self.hook.data``)."""

    def to_dict(self) -> dict[str, Any]:
        return {"to": self.to, "match": [m.to_dict() for m in self.match]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HookRuleSpec:
        return cls(to=data["to"], match=tuple(MatchSpec.from_dict(m) for m in data["match"]))


def _maps(config: dict[str, Any], section: str) -> dict[str, Any]:
    value = config.get(section)
    if isinstance(value, dict) and isinstance(value.get("maps"), dict):
        return value["maps"]
    return {}


@dataclass(frozen=True)
class ActivitySpec:
    """One compiled activity."""

    id: str
    """The activity id (unique across the whole app)."""
    type: str
    """One of :data:`ACTIVITY_TYPES` (legacy ``activity`` already rewritten to ``hook``)."""
    config: dict[str, Any]
    """The activity mapping exactly as written (after ``$ref`` resolution), except that a
    legacy ``type: activity`` reads ``type: hook``. Plain JSON data; treat as read-only."""
    parent: str | None = None
    """The activity whose transition first reaches this one (None for the trigger and for
    activities no transition reaches)."""
    ancestors: tuple[str, ...] = ()
    """The path from the trigger to ``parent`` (empty for the trigger)."""
    children: tuple[str, ...] = ()
    """Targets of this activity's transitions, in YAML order."""
    hook_topic: str | None = None
    """For a hook targeted by the graph's ``hooks:`` section: the topic it listens on."""
    cycle: bool = False
    """True when a ``cycle`` activity can re-enter this one (or ``cycle: true`` was written)."""
    line: int | None = None
    """Line of the activity id in its YAML file."""
    file: str | None = None
    """File the activity was written in (None for inline YAML text)."""
    trigger: str = ""
    """Id of the trigger of this activity's graph."""
    subscribes: str = ""
    """The ``subscribes`` topic of this activity's graph."""
    publishes: str | None = None
    """The ``publishes`` topic of this activity's graph, if any."""
    expire: Any = None
    """The activity's own ``expire`` if written, else the graph's (a number or a mapping
    rule to resolve at run time; None when neither is set)."""
    persistent: Any = None
    """The graph's ``persistent`` value (number, bool or mapping rule; None when absent)."""

    # --- typed accessors over ``config`` ------------------------------------------------
    # Each is read several times per step: computed once (``config`` never changes).

    @functools.cached_property
    def topic(self) -> Any:
        """Worker/await: the stream topic (``subtype`` wins over ``topic`` as in HotMesh);
        signal: the hook topic to signal; interrupt: the target job's topic."""
        if self.type in ("worker", "await"):
            return self.config.get("subtype") or self.config.get("topic")
        return self.config.get("topic")

    @functools.cached_property
    def subtype(self) -> Any:
        """Signal: ``'one'`` (default) or ``'all'``; worker/await: same as :attr:`topic`."""
        if self.type == "signal":
            return self.config.get("subtype") or "one"
        if self.type in ("worker", "await"):
            return self.topic
        return self.config.get("subtype")

    @functools.cached_property
    def title(self) -> str | None:
        """The cosmetic ``title``."""
        return self.config.get("title")

    @functools.cached_property
    def input_maps(self) -> dict[str, Any]:
        """``input.maps`` (empty dict when absent)."""
        return _maps(self.config, "input")

    @functools.cached_property
    def output_maps(self) -> dict[str, Any]:
        """``output.maps`` (HotMesh applies them for hook, signal and interrupt only)."""
        return _maps(self.config, "output")

    @functools.cached_property
    def job_maps(self) -> dict[str, Any]:
        """``job.maps``: rules whose results are written to job data."""
        return _maps(self.config, "job")

    @functools.cached_property
    def hook_maps(self) -> dict[str, Any]:
        """``hook.maps`` (rarely used; ``hook`` usually holds a schema)."""
        return _maps(self.config, "hook")

    @functools.cached_property
    def signal_maps(self) -> dict[str, Any]:
        """Signal activity: ``signal.maps``, the payload sent to the hooked jobs."""
        return _maps(self.config, "signal")

    @functools.cached_property
    def resolver_maps(self) -> dict[str, Any]:
        """Signal ``all``: ``resolver.maps``."""
        return _maps(self.config, "resolver")

    @functools.cached_property
    def retry(self) -> dict[str, list[int]] | None:
        """Worker retry policy ``{'<code>': [max_retries, ...]}`` or None."""
        return self.config.get("retry")

    @functools.cached_property
    def sleep(self) -> Any:
        """Hook: seconds to sleep (number or mapping rule), None when not a time hook."""
        return self.config.get("sleep")

    @functools.cached_property
    def emit(self) -> Any:
        """``emit`` flag or rule (None when absent)."""
        return self.config.get("emit")

    @functools.cached_property
    def persist(self) -> Any:
        """``persist`` flag or rule (None when absent)."""
        return self.config.get("persist")

    @functools.cached_property
    def status_threshold(self) -> Any:
        """``statusThreshold`` number or rule (None when absent)."""
        return self.config.get("statusThreshold")

    @functools.cached_property
    def awaits(self) -> Any:
        """Await: the ``await`` flag or rule (default True: wait for the child's result)."""
        return self.config.get("await", True)

    @functools.cached_property
    def ancestor(self) -> str | None:
        """Cycle: the id of the ancestor to re-enter."""
        return self.config.get("ancestor")

    @functools.cached_property
    def stats(self) -> dict[str, Any]:
        """Trigger: the ``stats`` mapping (``id``, ``key``, ``measures`` ...), empty when absent."""
        value = self.config.get("stats")
        return value if isinstance(value, dict) else {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "config": self.config,
            "parent": self.parent,
            "ancestors": list(self.ancestors),
            "children": list(self.children),
            "hook_topic": self.hook_topic,
            "cycle": self.cycle,
            "line": self.line,
            "file": self.file,
            "trigger": self.trigger,
            "subscribes": self.subscribes,
            "publishes": self.publishes,
            "expire": self.expire,
            "persistent": self.persistent,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActivitySpec:
        return cls(
            **{
                **data,
                "ancestors": tuple(data["ancestors"]),
                "children": tuple(data["children"]),
            }
        )


@dataclass(frozen=True, repr=False)
class GraphSpec:
    """One compiled graph: a trigger topic and the activities it runs."""

    subscribes: str
    """The topic that starts a job of this graph (``.``-prefixed topics are private)."""
    publishes: str | None
    """The topic job completion / emit notifications are published on, if any."""
    expire: Any
    """Seconds to keep a completed job (number or mapping rule); None when not written -
    the engine applies its default."""
    persistent: Any
    """The graph's ``persistent`` value as written (None when absent)."""
    trigger: str
    """Id of the graph's single trigger activity."""
    activities: dict[str, ActivitySpec]
    """Activities by id, in YAML order."""
    transitions: dict[str, list[TransitionSpec]]
    """Outgoing transitions by source activity id, in YAML order."""
    hooks: dict[str, list[HookRuleSpec]]
    """The ``hooks:`` section: hook topic -> rules."""
    input_schema: Any = None
    """``input.schema`` (documentation of the trigger payload)."""
    output_schema: Any = None
    """``output.schema`` (documentation of the job data)."""

    def __repr__(self) -> str:
        # Compact: the full tree is in ``activities``; a notebook echo should stay readable.
        return (
            f"GraphSpec(subscribes={self.subscribes!r}, trigger={self.trigger!r}, "
            f"activities={list(self.activities)!r})"
        )

    def transitions_from(self, activity_id: str) -> list[TransitionSpec]:
        """The transitions leaving ``activity_id`` (empty list for a leaf)."""
        return self.transitions.get(activity_id, [])

    def to_dict(self) -> dict[str, Any]:
        return {
            "subscribes": self.subscribes,
            "publishes": self.publishes,
            "expire": self.expire,
            "persistent": self.persistent,
            "trigger": self.trigger,
            "activities": {k: a.to_dict() for k, a in self.activities.items()},
            "transitions": {k: [t.to_dict() for t in v] for k, v in self.transitions.items()},
            "hooks": {k: [r.to_dict() for r in v] for k, v in self.hooks.items()},
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GraphSpec:
        return cls(
            subscribes=data["subscribes"],
            publishes=data["publishes"],
            expire=data["expire"],
            persistent=data["persistent"],
            trigger=data["trigger"],
            activities={k: ActivitySpec.from_dict(a) for k, a in data["activities"].items()},
            transitions={
                k: [TransitionSpec.from_dict(t) for t in v] for k, v in data["transitions"].items()
            },
            hooks={k: [HookRuleSpec.from_dict(r) for r in v] for k, v in data["hooks"].items()},
            input_schema=data["input_schema"],
            output_schema=data["output_schema"],
        )


@dataclass(frozen=True, repr=False)
class AppSpec:
    """A compiled, validated app."""

    id: str
    """The app id (``^[A-Za-z0-9-]+$``, never ``a``)."""
    version: str
    """The app version as a string (``1`` written unquoted reads ``'1'``)."""
    settings: dict[str, Any]
    """The free-form ``settings`` mapping (empty when absent)."""
    graphs: list[GraphSpec]
    """The graphs, in YAML order."""
    source: str | None = None
    """Absolute path of the file the app was loaded from (None for inline text)."""
    partitions: int | None = None
    """``app.partitions``: how many partitions the app's jobs spread over (None: the
    number the app already has, or the default at its first deploy). Fixed at the first
    deploy; a later version that names another number is refused."""
    _by_activity: dict[str, tuple[GraphSpec, ActivitySpec]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _by_topic: dict[str, GraphSpec] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        # Lookup tables, built once; the dataclass is frozen so use object.__setattr__.
        by_activity: dict[str, tuple[GraphSpec, ActivitySpec]] = {}
        by_topic: dict[str, GraphSpec] = {}
        for graph in self.graphs:
            by_topic[graph.subscribes] = graph
            for activity in graph.activities.values():
                by_activity[activity.id] = (graph, activity)
        object.__setattr__(self, "_by_activity", by_activity)
        object.__setattr__(self, "_by_topic", by_topic)

    def __repr__(self) -> str:
        topics = [g.subscribes for g in self.graphs]
        return f"AppSpec(id={self.id!r}, version={self.version!r}, graphs={topics!r})"

    @property
    def activities(self) -> dict[str, ActivitySpec]:
        """Every activity of every graph, by id."""
        return {aid: pair[1] for aid, pair in self._by_activity.items()}

    @property
    def hooks(self) -> dict[str, list[HookRuleSpec]]:
        """All ``hooks:`` sections merged: hook topic -> rules (topics are app-wide)."""
        merged: dict[str, list[HookRuleSpec]] = {}
        for graph in self.graphs:
            merged.update(graph.hooks)
        return merged

    def activity(self, activity_id: str) -> ActivitySpec:
        """The activity with this id; raises ``KeyError`` naming the known ids."""
        try:
            return self._by_activity[activity_id][1]
        except KeyError:
            known = ", ".join(sorted(self._by_activity)) or "none"
            raise KeyError(
                f"app '{self.id}' has no activity '{activity_id}' (known: {known})"
            ) from None

    def graph_of(self, activity_id: str) -> GraphSpec:
        """The graph holding the activity ``activity_id`` (``KeyError`` if unknown)."""
        self.activity(activity_id)
        return self._by_activity[activity_id][0]

    def graph_for_topic(self, topic: str) -> GraphSpec | None:
        """The graph whose trigger ``subscribes`` to ``topic``, or None."""
        return self._by_topic.get(topic)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :meth:`from_dict` rebuilds an equal AppSpec."""
        return {
            "format": FORMAT,
            "id": self.id,
            "version": self.version,
            "settings": self.settings,
            "source": self.source,
            "partitions": self.partitions,
            "graphs": [g.to_dict() for g in self.graphs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppSpec:
        """Rebuild an AppSpec from :meth:`to_dict` output (e.g. read back from Redis)."""
        if data.get("format") != FORMAT:
            raise ValueError(
                f"compiled app format {data.get('format')!r} is not {FORMAT}; "
                "redeploy the app with this version of hotmesh_nb"
            )
        return cls(
            id=data["id"],
            version=data["version"],
            settings=data["settings"],
            graphs=[GraphSpec.from_dict(g) for g in data["graphs"]],
            source=data["source"],
            partitions=data.get("partitions"),
        )
