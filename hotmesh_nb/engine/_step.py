"""One engine step: everything that happens to a job between two waits, applied atomically.

A step starts from a message (a new job, a worker's response, a transition)
and runs activities in memory — mapping data, evaluating transitions,
entering children — until every thread waits (for a worker, a timer, a
signal, a child job) or ends. The writes, the change of the status semaphore
and the outgoing stream messages then go to Redis in one Lua script call, so a
step is applied completely or not at all, and a redelivered message is
recognised by its guard and never applied twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._codec import dumps
from .._ids import fast_guid, iso_compact, now_ms
from ..errors import MappingError
from ..mapping import UNDEFINED
from ..model import ActivitySpec, GraphSpec
from . import _job_paths
from . import _state as st
from ._protocol import KEY_REF, Message, WebHook

if TYPE_CHECKING:
    from ..keys import Partition

if TYPE_CHECKING:
    from ._app_runtime import AppRuntime

SUCCESS = 200

KEY = KEY_REF
"""Marks an operation argument that is a Redis key (declared in the script's KEYS)."""


@dataclass(slots=True)
class Step:
    """Writes, messages and the semaphore change accumulated for one job."""

    app: AppRuntime
    """The app version the job runs on."""
    graph: GraphSpec
    """The job's graph."""
    job: st.JobState
    """The job's state, updated in memory as activities run."""
    default_expire: int
    """Seconds to keep a finished job when the graph sets no ``expire``."""
    writes: dict[str, str] = field(default_factory=dict)
    """Hash fields to set."""
    messages: list[tuple[str, str]] = field(default_factory=list)
    """(stream key, JSON payload) to add."""
    delta: int = 0
    """Change of the status semaphore (threads opened minus threads ended)."""
    guard: str = ""
    """Field whose presence means this step was already applied."""
    emit: bool = False
    """Publish the job's state to subscribers after this step (``emit``)."""
    expire: int | None = None
    """Resolved ``expire`` of the last activity run (seconds to keep the finished job)."""
    persist: bool = False
    """Announce the job as done and start its expiry while it stays open (``persist``)."""
    ops: list[list[Any]] = field(default_factory=list)
    """Timer, hook and signal operations for the step script (keys prefixed with KEY)."""
    op_parts: list[int] = field(default_factory=list)
    """The partition each operation of ``ops`` touches (the job's own, or another's:
    then, on a cluster, the operation travels as an ``apply`` message, see
    :meth:`Stepper.commit`)."""
    seen_data: dict[str, Any] | None = None
    """Job data as the running activity saw it when it began (see :meth:`begin`)."""
    _part: Partition | None = field(default=None, init=False, repr=False)
    """:attr:`part`, once read."""

    @property
    def flag(self) -> str:
        """The announcement flag of the step script."""
        return "persist" if self.persist else "1" if self.emit else "0"

    def _op(self, part: int, op: list[Any]) -> None:
        self.ops.append(op)
        self.op_parts.append(part)

    def add_timer(self, due_ms: float, message: Message) -> None:
        """Schedule ``message`` on the job's engine stream at ``due_ms`` (fractions order
        ties): the timer lives in the job's partition."""
        part = self.part
        wire = dumps(message.to_wire())
        self._op(part.index, ["timer", KEY + part.timers, due_ms, wire, KEY + part.timer_wake])

    def add_wait(self, topic: str, value: str, ttl: int, message: WebHook) -> None:
        """Register a hook waiter for signals on ``topic`` matching ``value``.

        The waiter lives in the partition of its topic and value (a signal knows those,
        not the job), so it may be another partition than the job's.
        """
        part = self.app.keys.hook_part(topic, value)
        wire = dumps(message.to_wire())
        self._op(
            part.index,
            [
                "wait",
                KEY + part.hook_waiter(topic, value),
                KEY + part.early_signals(topic, value),
                max(ttl, 1),
                wire,
                wire,
            ],
        )

    def add_signal(self, topic: str, value: str, data: Any, *, code: int, status: str) -> None:
        """Deliver a signal to the waiter of ``topic``/``value`` (or keep it for later)."""
        part = self.app.keys.hook_part(topic, value)
        extra = dumps({"status": status, "code": code, "rg": fast_guid()})[1:-1]
        self._op(
            part.index,
            [
                "signal",
                KEY + part.hook_waiter(topic, value),
                KEY + part.early_signals(topic, value),
                "1" if status == "pending" else "0",  # only a pending signal keeps it open
                extra,
                dumps(data),
            ],
        )

    def add_link(self, job_id: str, field_name: str, value: str) -> None:
        """Set a field of another job's hash (a parent learns of its child)."""
        part = self.app.keys.part_of(job_id)
        self._op(part.index, ["link", KEY + part.job(job_id), field_name, value])

    def forget(self, fields: list[str]) -> None:
        """Remove fields of this job (old cycle iterations)."""
        if fields:
            self._op(self.part.index, ["hdel", len(fields), *fields])

    def halt(self, error: dict[str, Any] | None) -> None:
        """Interrupt this job at the end of the step (``error`` None: quietly)."""
        if error is not None:
            self.job.error = error
        self._op(self.part.index, ["halt", dumps(error) if error is not None else ""])

    def interrupt_other(
        self, job_id: str, error: dict[str, Any] | None, publishes: str, expire: int
    ) -> None:
        """Interrupt another job of the app (atomically with this step when both jobs
        share a slot, else through an ``apply`` message to the other's partition)."""
        keys = self.app.keys
        part = keys.part_of(job_id)
        channel = keys.topic_channel(publishes, job_id) if publishes else ""
        self._op(
            part.index,
            [
                "interrupt",
                KEY + part.job(job_id),
                dumps(error) if error is not None else "",
                part.done_channel,  # its waiters listen on its partition's channel
                channel,
                expire,
                iso_compact(),
            ],
        )

    def add_stat(self, kind: str, key: str, a: Any, b: Any, ttl: int) -> None:
        """A trigger ``stats`` write (see ``stat`` in ``lua/step.lua``) to a key of the
        job's partition."""
        self._op(self.part.index, ["stat", kind, KEY + key, a, b, ttl])

    def add_index(self, facet: str, job_id: str) -> None:
        """Make the job findable by a facet (``hook_all``, ``signal`` with ``subtype: all``)."""
        self._op(self.part.index, ["index", KEY + self.part.facet(facet), job_id])

    @property
    def job_id(self) -> str:
        """The job's id."""
        job_id: str = self.job.metadata["jid"]
        return job_id

    @property
    def part(self) -> Partition:
        """The job's partition (its id never changes within a step)."""
        # Kept by hand: functools.cached_property takes a lock per first read on 3.11.
        part = self._part
        if part is None:
            part = self._part = self.app.keys.part_of(self.job_id)
        return part

    @property
    def engine_stream(self) -> str:
        """The engine stream of the job's partition."""
        return self.part.engine_stream

    def worker_stream(self, topic: str) -> str:
        """The stream of worker ``topic`` in the job's partition."""
        return self.part.worker_stream(topic)

    # -- context and rules -------------------------------------------------------

    def begin(self) -> None:
        """An activity starts: its rules see the job data as it is now.

        As in the original, an activity's own ``job.maps`` do not show in the
        ``$job.data`` its later rules read (its ``emit``, ``expire`` and transition
        conditions); the next activity sees them.
        """
        self.seen_data = dict(self.job.data)

    def context(
        self, activity: ActivitySpec, dad: str, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The mapping context of ``activity`` at ``dad``."""
        ctx = self.job.context(activity.id, dad, activity.ancestors, extra)
        if self.seen_data is not None:
            ctx["$job"] = {"data": self.seen_data, "metadata": self.job.metadata}
        return ctx

    def resolve(
        self,
        value: Any,
        ctx: dict[str, Any],
        activity: ActivitySpec,
        name: str,
        *,
        field: bool = True,
    ) -> Any:
        """Evaluate an activity field as a rule (errors name the activity and field).

        ``field=False`` resolves a value of a ``maps`` object, as the original's mapper
        does (nested members resolve too, ``null`` fails); a single field (``topic``,
        ``sleep``, a condition) resolves only a string or a ``@pipe``.
        """
        return self.app.resolve(value, ctx, f"{activity.id}.{name}", field=field)

    def map_object(
        self, maps: dict[str, Any], ctx: dict[str, Any], activity: ActivitySpec, name: str
    ) -> dict[str, Any]:
        """Resolve every value of a ``maps`` object (``undefined`` keys are dropped)."""
        out = {}
        for key, value in maps.items():
            resolved = self.resolve(value, ctx, activity, f"{name}.{key}", field=False)
            if resolved is not UNDEFINED:
                out[key] = resolved
        return out

    # -- state writes ------------------------------------------------------------

    def touch(self) -> None:
        """Record the update time of the job."""
        updated = iso_compact()
        self.job.metadata["ju"] = updated
        self.writes[st.UPDATED] = updated

    def save_activity(
        self,
        activity: ActivitySpec,
        dad: str,
        *,
        data: Any = UNDEFINED,
        hook: Any = UNDEFINED,
        code: int | None = None,
        status: str | None = None,
        error: Any = UNDEFINED,
        error_type: str | None = None,
        started: bool = False,
        ended: bool = False,
        started_ms: int | None = None,
    ) -> dict[str, Any]:
        """Update an activity's state at ``dad`` (in memory and in the write set).

        ``started_ms`` records when leg 1 began, for steps that did not read the job.
        ``error_type`` (the exception a worker raised) is kept beside the original's
        ``err``, as ``ety``.
        """
        node = self.job.node(activity.id, dad)
        output = node.get("output")
        if output is None:
            output = node["output"] = {}
        meta: dict[str, Any] | None = output.get("metadata")
        if meta is None:  # not setdefault: its default would be built on every call
            meta = {"aid": activity.id, "atp": activity.type}
            output["metadata"] = meta
        meta.setdefault("dad", dad)
        if activity.subtype and isinstance(activity.subtype, str):
            meta.setdefault("stp", activity.subtype)
        stamp = iso_compact()
        if started:
            meta["ac"] = stamp
        elif "ac" not in meta and started_ms:
            meta["ac"] = iso_compact(int(started_ms))
        meta["au"] = stamp
        if ended:
            meta["done"] = True
        if code is not None:
            meta["code"] = code
        if status is not None:
            meta["status"] = status
        if error is not UNDEFINED:
            meta["err"] = dumps(error)
        if error_type:
            meta["ety"] = error_type
        if data is not UNDEFINED:
            output["data"] = data
        if hook is not UNDEFINED:
            node["hook"] = {"data": hook}
        self.writes[st.activity_field(activity.id, dad)] = dumps(node)
        return node

    def set_data(self, key: str, value: Any) -> None:
        """Set a top-level job data key (``_``/``-`` keys are stored literally)."""
        if value is UNDEFINED:
            return
        if key.startswith("_"):
            text = value if isinstance(value, str) else dumps(value)
            self.job.search[key] = text
            self.writes[key] = text
            return
        if key.startswith("-"):
            self.job.markers[key] = value
            self.writes[key] = dumps(value)
            return
        value = _drop_empty_strings(value)
        if value is UNDEFINED:
            return
        self.job.data[key] = value
        self.writes[st.data_field(key)] = dumps(value)

    def output_data(self, activity: ActivitySpec, ctx: dict[str, Any]) -> Any:
        """The ``output.data`` of an activity that makes its own (hook, signal, interrupt):
        its mapped ``output.maps``, or nothing without them (``{$self.output.data}`` is
        then undefined, as in the original)."""
        if not activity.output_maps:
            return UNDEFINED
        return self.map_object(activity.output_maps, ctx, activity, "output.maps")

    def apply_job_maps(self, activity: ActivitySpec, ctx: dict[str, Any]) -> None:
        """Write an activity's ``job.maps`` to job data.

        As the original's ``mapJobData``: the plain keys first, in order, then the
        suffixed ones in order (``name[N]`` sets ``name``, ``name[-]``/``name[_]``
        hoist their object's keys), each overwriting what an earlier one set; then
        what the graph's declared paths keep (see ``_job_paths``) is written.
        """
        resolved = [
            (
                key,
                _job_paths.job_map_name(key),
                self.resolve(rule, ctx, activity, f"job.maps.{key}", field=False),
            )
            for key, rule in activity.job_maps.items()
        ]
        output = {key: value for key, name, value in resolved if name == key}
        for key, name, value in resolved:
            if name is None:
                if isinstance(value, dict):
                    output.update(value)
                elif value is not UNDEFINED and value is not None:
                    raise MappingError(
                        f"'{key}' must map to an object whose keys are hoisted into the job "
                        f"data, not {type(value).__name__}",
                        rule=activity.job_maps[key],
                        path=f"{activity.id}.job.maps.{key}",
                    )
            elif name != key:
                output[name] = value
        for name, value in output.items():
            self.write_job_value(name, value)

    def write_job_value(self, name: str, value: Any) -> None:
        """Write a top-level job data key as the graph's declared paths keep it.

        ``-``/``_`` keys are stored as they are, and so is a key that only a hoist
        (``[-]``/``[_]``) writes (see ``_job_paths``); a key declared with nested
        paths keeps only those, merged with the job's current value (the step has
        read it: ``AppRuntime.needs_state``).
        """
        node = None if name[:1] in ("-", "_") else self.app.job_paths(self.graph).get(name)
        if node is not None and not node.leaf:
            value = _job_paths.kept(node, value)
            if value is UNDEFINED:
                return
            value = _job_paths.merged(node, self.job.data.get(name), value)
        self.set_data(name, value)

    def fail_job(self, error: dict[str, Any], detail: dict[str, Any] | None = None) -> None:
        """Mark the job as failed (the job still ends when its threads end).

        ``error`` is stored as the original stores ``metadata.err``; ``detail``
        (the exception's ``name`` and the like) goes to a field of our own.
        """
        self.job.error = error
        self.job.metadata["err"] = dumps(error)
        self.writes[st.ERROR] = dumps(error)
        if detail:
            self.job.error_detail = detail
            self.writes[st.ERROR_DETAIL] = dumps(detail)

    def send(self, stream: str, message: Message) -> None:
        """Queue a stream message."""
        self.messages.append((stream, dumps(message.to_wire())))

    def resolve_flags(
        self, activity: ActivitySpec, ctx: dict[str, Any], *, expire: int | None = None
    ) -> None:
        """Evaluate ``emit`` and ``expire`` after an activity ran (``expire``: the value
        its rule gave when the activity began, for a rule that cannot change meanwhile)."""
        # Like the original, only a rule resolving to exactly ``true`` emits or persists.
        if activity.emit is not None and self.resolve(activity.emit, ctx, activity, "emit") is True:
            self.emit = True
        persist = activity.persist
        if persist is not None and self.resolve(persist, ctx, activity, "persist") is True:
            self.persist = True
        if expire is not None:
            self.expire = expire
        elif activity.expire is not None:
            value = self.resolve(activity.expire, ctx, activity, "expire")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.expire = int(value)

    def expire_seconds(self) -> int:
        """Seconds to keep the job once it ends (0: keep it)."""
        value = self.expire if self.expire is not None else self.default_expire
        return value if value > 0 else 0

    def address(self, activity: ActivitySpec, dad: str) -> dict[str, Any]:
        """The :class:`~.protocol.JobMessage` fields of a message about ``activity``."""
        return {
            "guid": fast_guid(),
            "job_id": self.job_id,
            "gid": self.job.metadata["gid"],
            "activity": activity.id,
            "dad": dad,
            "version": self.app.version,
            "started": now_ms(),
            # the job's trace context (see telemetry) goes on in the process that reads it
            "trace": self.job.metadata.get("trc"),
        }


def _drop_empty_strings(value: Any) -> Any:
    # The original does not store a top-level empty string of the job data (it reads back
    # as undefined); one inside an object or array is kept (checked side by side with it).
    return UNDEFINED if value == "" else value
