"""The engine's wire protocol: every stream message as a typed class.

Stream entries carry one field, ``m``: a compact JSON object whose ``k`` is a
:class:`MessageKind` and whose ``w`` is :data:`WIRE_VERSION`. Each kind has one
class below; ``to_wire()`` gives the JSON-ready dict (short keys, as in
``docs/architecture.md``, "Stream messages") and :func:`decode` turns a stream
entry back into its class, refusing another wire version with
:class:`WireVersionError`. The step script (``lua/step.lua``) answers every call
with a :class:`StepOutcome`; both sides use these names, never bare strings or
numbers.

Two messages are completed inside Lua, which appends ``status``, ``code`` and
``data`` before the closing brace: a :class:`WebHook` (when its signal arrives)
and a :class:`Result` (when the child job ends). Their wire form therefore ends
with ``}`` and leaves those three keys out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from enum import Enum, IntEnum
from typing import Any, ClassVar, TypeVar

from .._codec import loads
from .._ids import fast_guid
from ..errors import HotMeshError

WIRE_VERSION = 2
"""Version of the stream-message format (the ``w`` key of every message; ``lua/announce.lua``
writes its ``unindex`` message with this number too). Version 2: partitions.

Bump it whenever a message changes shape. Processes of different wire versions
must not share a namespace: drain it (``hotmesh-nb worker --drain``, or
``hm.wait_until_idle()``) before starting processes of the new version. A process
that reads a message of another version does not act on it: it leaves it for a
process that can (redelivery), and after the delivery cap it becomes a dead
letter whose reason names both versions.
"""

VERSION_KEY = "w"
"""Key of the wire version in every message."""


class WireVersionError(HotMeshError):
    """A stream message was written by a process of another wire version."""

    def __init__(self, found: object) -> None:
        self.found = found
        written = "no wire version (an older hotmesh_nb)" if found is None else f"version {found}"
        super().__init__(
            f"stream message has {written}; this process reads wire version {WIRE_VERSION}. "
            "Processes of different versions must not share a namespace: drain it, then "
            "upgrade every process (see docs/architecture.md, 'Upgrades')"
        )


class MessageKind(str, Enum):
    """What a stream message asks for (its ``k`` field)."""

    WORK = "work"
    """Run a worker callback (on a worker topic's stream)."""
    RESPONSE = "response"
    """A worker's answer (leg 2 of a ``worker`` activity)."""
    TRANSITION = "transition"
    """Enter a join activity (several paths lead to it; one enters)."""
    RESULT = "result"
    """A child job's outcome for the ``await`` activity that started it."""
    TIMEHOOK = "timehook"
    """A durable timer fell due (a ``hook`` with ``sleep``)."""
    WEBHOOK = "webhook"
    """A signal for a ``hook`` activity waiting on a topic."""
    CYCLE = "cycle"
    """Re-enter an ancestor activity in a new dimension (a ``cycle`` activity)."""
    AWAIT = "await"
    """Start a child job (an ``await`` activity)."""
    SIGNAL_ALL = "signalall"
    """Signal every job indexed under a facet (``signal`` with ``subtype: all``)."""
    DESCEND = "descend"
    """Interrupt the children of an interrupted job."""
    UNINDEX = "unindex"
    """Take an ended job out of the facet sets it joined (written by ``announce.lua``)."""
    APPLY = "apply"
    """Step operations for another partition (the outbox of a step on a cluster)."""


class StepOutcome(IntEnum):
    """The step script's answer (first element of its reply)."""

    DUPLICATE = 0
    """Not applied: the message's guard was seen already (or the job id exists)."""
    APPLIED = 1
    """Applied; the job goes on."""
    ENDED = 2
    """Applied, and the job ended (it was announced)."""
    GONE = -1
    """Not applied: the job does not exist (expired or scrubbed)."""
    STALE = -2
    """Not applied: the message belongs to an older generation of the job id."""
    INACTIVE = -3
    """Not applied: the job has ended (or was interrupted) already."""


def _wire(key: str, default: Any = ..., *, optional: bool = False) -> Any:
    """A message field stored under ``key`` on the wire (left out when ``optional`` and None)."""
    meta = {"wire": key, "optional": optional}
    if default is ...:
        return field(metadata=meta)
    if isinstance(default, (dict, list)):
        return field(default_factory=type(default), metadata=meta)
    return field(default=default, metadata=meta)


M = TypeVar("M", bound="Message")


@dataclass(slots=True, kw_only=True)
class Message:
    """Base of every stream message: its kind and its guid."""

    KIND: ClassVar[MessageKind]
    _LAYOUT: ClassVar[tuple[tuple[str, str, bool, bool], ...]] = ()

    guid: str = _wire("g")
    """Unique id of this message (guards a step against applying it twice)."""

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict written to the stream."""
        wire: dict[str, Any] = {"k": self.KIND.value, VERSION_KEY: WIRE_VERSION}
        for name, key, optional, _ in self._LAYOUT:
            value = getattr(self, name)
            if value is None and optional:
                continue
            wire[key] = value
        return wire

    @classmethod
    def from_wire(cls: type[M], wire: dict[str, Any]) -> M:
        """Read a decoded message of this kind (unknown keys are ignored)."""
        version = wire.get(VERSION_KEY)
        if version != WIRE_VERSION:
            raise WireVersionError(version)
        values: dict[str, Any] = {}
        for name, key, _, required in cls._LAYOUT:
            if key in wire:
                values[name] = wire[key]
            elif required:
                raise ValueError(f"{cls.KIND.value} message lacks its '{key}' field")
        return cls(**values)


def _register(cls: type[M]) -> type[M]:
    """Record a message class's wire layout and make it decodable by kind."""
    from dataclasses import MISSING

    layout = []
    for f in fields(cls):
        required = f.default is MISSING and f.default_factory is MISSING
        layout.append((f.name, f.metadata["wire"], f.metadata["optional"], required))
    cls._LAYOUT = tuple(layout)
    _CLASSES[cls.KIND.value] = cls
    return cls


_CLASSES: dict[str, type[Message]] = {}


@dataclass(slots=True, kw_only=True)
class JobMessage(Message):
    """A message addressed to one activity (at one dimension) of one job."""

    job_id: str = _wire("j")
    """The job."""
    gid: str = _wire("gid")
    """The job's generation: a message for an older job of the same id is stale."""
    activity: str = _wire("a")
    """The activity id."""
    dad: str = _wire("d")
    """The activity's dimensional address (``,0``, ``,0,1`` …)."""
    version: str = _wire("v")
    """The app version the job runs."""
    started: int | None = _wire("ts", None, optional=True)
    """When the activity's leg 1 ran (ms since the epoch)."""
    trace: dict[str, Any] | None = _wire("tc", None, optional=True)
    """The job's W3C trace context (``telemetry``), carried between processes."""


@_register
@dataclass(slots=True, kw_only=True)
class Work(JobMessage):
    """Run a worker callback (written to the worker topic's stream)."""

    KIND = MessageKind.WORK
    topic: str = _wire("t")
    """The worker topic."""
    attempt: int = _wire("try", 0)
    """How many retries came before this delivery (a ``retry`` policy)."""
    data: dict[str, Any] = _wire("data", {})
    """The activity's mapped input."""
    policy: dict[str, Any] | None = _wire("p", None, optional=True)
    """``{"retry": {code: [count]}}``: which error codes the worker retries."""
    expire: int | None = _wire("ex", None, optional=True)
    """The activity's ``expire``, resolved when the work was queued: its rule reads only
    what cannot change meanwhile (the trigger's data, the app's settings), so the answer's
    step need not read the job for it (see ``AppRuntime.expire_at_start``)."""


def status_for(code: int) -> str:
    """The status an answer without one has: 202 is ``pending``, an error code (400 and
    up) ``error``, anything else ``success``. Given a status, the status decides (a
    ``pending`` 200 keeps its activity open, a ``success`` 202 closes it)."""
    if code == 202:
        return "pending"
    return "success" if code < 400 else "error"


@_register
@dataclass(slots=True, kw_only=True)
class Reply(JobMessage):
    """A worker's answer to a :class:`Work` message (leg 2 of the activity)."""

    KIND = MessageKind.RESPONSE
    reply_guid: str = _wire("rg")
    """Unique id of this answer (a pending 202 answer may be followed by others)."""
    status: str = _wire("status")
    """``success``, ``pending`` (the activity stays open) or ``error``."""
    code: int = _wire("code")
    """200, 202 or an error code: the transitions' ``code`` conditions read it."""
    data: Any = _wire("data", None)
    """The callback's output (or the error's description)."""
    attempt: int = _wire("try", 0)
    """The attempt that answered."""
    expire: int | None = _wire("ex", None, optional=True)
    """The work's resolved ``expire``, carried back (see :attr:`Work.expire`)."""

    @classmethod
    def answering(cls, work: Work, status: str, code: int, data: Any) -> Reply:
        """The one builder of replies: the answer to ``work``."""
        return cls(
            guid=work.guid,
            job_id=work.job_id,
            gid=work.gid,
            activity=work.activity,
            dad=work.dad,
            version=work.version,
            started=work.started,  # when leg 1 started: the activity's start time
            trace=work.trace,  # the job's trace goes on in the step the answer starts
            reply_guid=fast_guid(),
            status=status,
            code=code,
            data=data,
            attempt=work.attempt,
            expire=work.expire,
        )


@_register
@dataclass(slots=True, kw_only=True)
class Transition(JobMessage):
    """Enter a join activity; its guard admits the first path to arrive."""

    KIND = MessageKind.TRANSITION


@_register
@dataclass(slots=True, kw_only=True)
class Result(JobMessage):
    """A child job's outcome, for the ``await`` activity of its parent.

    Written by the step script when the child ends (it appends ``status``,
    ``code`` and ``data``), or by the engine when the child could not start.
    ``guid`` is the child's job id.
    """

    KIND = MessageKind.RESULT
    status: str | None = _wire("status", None, optional=True)
    """``success`` or ``error``."""
    code: int | None = _wire("code", None, optional=True)
    """The child's outcome code."""
    data: Any = _wire("data", None, optional=True)
    """The child's job data (or the error)."""

    @classmethod
    def for_parent(cls, order: Await | dict[str, Any], child_id: str) -> Result:
        """The result message of the child ``child_id`` started by the await ``order``."""
        parent = order if isinstance(order, Await) else Await.from_wire(order)
        return cls(
            guid=child_id,
            job_id=parent.job_id,
            gid=parent.gid,
            activity=parent.activity,
            dad=parent.dad,
            version=parent.version,
            trace=parent.trace,  # the parent's trace goes on when it resumes
        )


@_register
@dataclass(slots=True, kw_only=True)
class TimeHook(JobMessage):
    """A durable timer fell due for a sleeping ``hook`` activity."""

    KIND = MessageKind.TIMEHOOK


@_register
@dataclass(slots=True, kw_only=True)
class WebHook(JobMessage):
    """A signal for a waiting ``hook`` (the step script appends the signal's outcome)."""

    KIND = MessageKind.WEBHOOK
    reply_guid: str | None = _wire("rg", None, optional=True)
    """Unique id of the signal (a pending 202 signal may be followed by others)."""
    status: str | None = _wire("status", None, optional=True)
    """The signal's status."""
    code: int | None = _wire("code", None, optional=True)
    """The signal's code (a ``pending`` status, not the code, keeps the hook open)."""
    data: Any = _wire("data", None, optional=True)
    """The signal's data."""


@_register
@dataclass(slots=True, kw_only=True)
class Cycle(JobMessage):
    """Run an ancestor activity again at a new dimension (a ``cycle`` activity)."""

    KIND = MessageKind.CYCLE
    data: dict[str, Any] = _wire("data", {})
    """The cycle activity's mapped input."""


@_register
@dataclass(slots=True, kw_only=True)
class Await(JobMessage):
    """Start a child job on ``topic`` (an ``await`` activity)."""

    KIND = MessageKind.AWAIT
    topic: str = _wire("t")
    """The child graph's topic."""
    data: dict[str, Any] = _wire("data", {})
    """The child's input."""
    wait: bool = _wire("wait", True)
    """Whether the parent waits for the child's result."""


@_register
@dataclass(slots=True, kw_only=True)
class SignalAll(Message):
    """Signal every job indexed under ``facet`` (``signal`` with ``subtype: all``)."""

    KIND = MessageKind.SIGNAL_ALL
    topic: str = _wire("t")
    """The hook topic to signal."""
    data: Any = _wire("data", None)
    """The signal's data."""
    facet: str = _wire("facet")
    """``name:value``: the index whose jobs are signalled."""
    code: int = _wire("code", 200)
    """The signal's code."""
    status: str = _wire("status", "success")
    """The signal's status."""
    version: str = _wire("v")
    """The app version of the job that sent it."""


@_register
@dataclass(slots=True, kw_only=True)
class Descend(Message):
    """Interrupt the children of an interrupted job."""

    KIND = MessageKind.DESCEND
    job_id: str = _wire("j")
    """The interrupted job."""
    error: Any = _wire("err", None)
    """The interruption's error (``None``: quietly)."""
    version: str = _wire("v")
    """The app version of the job that interrupted it."""


@_register
@dataclass(slots=True, kw_only=True)
class Unindex(Message):
    """Take an ended job out of the facet sets it joined.

    Written by the script that ends the job (``lua/announce.lua``), applied by an
    engine: a script touches only the keys it was given, and the sets are named in
    the job's hash. Removing a member twice is harmless.
    """

    KIND = MessageKind.UNINDEX
    job_id: str = _wire("j")
    """The ended job."""
    facets: list[str] = _wire("facets", [])
    """The facet sets (keys) it joined."""


@_register
@dataclass(slots=True, kw_only=True)
class Apply(Message):
    """Step operations bound for another partition: a step's outbox.

    On a cluster one script touches one slot, so a step whose operations reach
    another partition (a hook waiter, another job it links or interrupts) writes
    them as this message to its own engine stream, atomically with the rest of
    the step. An engine forwards it to partition ``partition`` and applies it
    there once: ``guid`` names a marker set in the same script as the operations.
    """

    KIND = MessageKind.APPLY
    partition: int = _wire("p")
    """The partition whose keys the operations touch."""
    ops: list[list[Any]] = _wire("ops", [])
    """The operations (``lua/step.lua``'s, with key names marked by ``KEY_REF``)."""


Resumption = Reply | Result | TimeHook | WebHook | Cycle
"""A message that resumes an activity (leg 2, or a cycle's next iteration)."""


def decode(raw: str | bytes) -> Message:
    """The typed message of a stream entry's ``m`` field.

    Raises :class:`WireVersionError` for another wire version and ``ValueError``
    for a malformed message or an unknown kind.
    """
    wire = loads(raw)
    if not isinstance(wire, dict):
        raise ValueError("stream message is not a JSON object")
    cls = _CLASSES.get(wire.get("k"))  # type: ignore[arg-type]
    if cls is None:
        if wire.get(VERSION_KEY) != WIRE_VERSION:
            raise WireVersionError(wire.get(VERSION_KEY))
        raise ValueError(f"stream message of unknown kind {wire.get('k')!r}")
    return cls.from_wire(wire)


KEY_REF = "\x00"
"""Marks an operation argument that names a Redis key (it travels in ``KEYS``)."""


def _key_index(index: dict[str, int], name: str) -> int:
    """The KEYS index (1-based) of ``name``, added at the end when new: ``index`` lists
    the keys in their order (dicts keep insertion order)."""
    return index.setdefault(name, len(index) + 1)


def _op_arg(part: Any, index: dict[str, int]) -> Any:
    """An operation's argument as the script reads it: a key reference becomes its KEYS
    index, anything else a string."""
    if isinstance(part, str) and part[:1] == KEY_REF:
        return _key_index(index, part[1:])
    return str(part)


@dataclass(slots=True)
class StepCall:
    """One call of the step script (``lua/step.lua``): what it applies, atomically.

    :meth:`encode` lays the call out as the script reads it and declares every key
    the call touches in ``KEYS`` (cluster, ACL and Dragonfly rules). Operations
    travel as one JSON table whose values are strings (cjson would read big
    integers as doubles); only key references are numbers, their ``KEYS`` index.
    """

    job_key: str
    """The job's hash (``KEYS[1]``)."""
    engine_stream: str
    """The app's engine stream (``KEYS[2]``)."""
    mode: str
    """``create`` (a new job, its id checked), ``fresh`` (a new job whose id was just
    drawn at random: not checked), ``step``, ``ops`` (operations only) or ``watch``
    (a late waiter marks a job)."""
    number: int = 0
    """``create``/``fresh``: the job's initial status; ``step``: the status delta."""
    gid: str = ""
    """The job generation the step expects ('' = no check)."""
    guard: str = ""
    """A field whose presence means the step was applied already ('' = none)."""
    done_channel: str = ""
    """The completion channel of the job's partition (a shard channel)."""
    publishes_channel: str = ""
    """The graph's ``publishes`` channel for this job ('' = none)."""
    expire: int = 0
    """Seconds to keep the job once it ends (<= 0: keep)."""
    ack: tuple[str, str, str] | None = None
    """(stream, group, message id) of the message the step consumes, acknowledged whatever
    the outcome; (lease set, '', member) for local work."""
    writes: dict[str, str] = field(default_factory=dict)
    """Job hash fields to set."""
    messages: list[tuple[str, str]] = field(default_factory=list)
    """(stream, payload) messages to add."""
    leases: list[tuple[str, int, str]] = field(default_factory=list)
    """(lease set, ms now, payload): local work written as leases (see ``engine/_local.py``)."""
    flag: str = "0"
    """'1' announces the job without ending it (emit); 'persist' announces it as done and
    starts its expiry while it stays open."""
    ops: list[list[Any]] = field(default_factory=list)
    """Operations, each ``[name, *arguments]``; a key argument is ``KEY_REF + name``."""
    token: str = ""
    """The process running the step: a job it waits for is settled from the reply."""

    def encode(self) -> tuple[list[str], list[Any]]:
        """``(KEYS, ARGV)`` of the script call."""
        # KEYS in order of first use (no closure: every step encodes one call).
        index = {self.job_key: 1, self.engine_stream: 2}
        ack: list[Any] = (
            [0, "", ""] if self.ack is None else [_key_index(index, self.ack[0]), *self.ack[1:]]
        )
        args: list[Any] = [
            self.mode,
            self.number,
            self.gid,
            self.guard,
            self.done_channel,
            self.publishes_channel,
            self.expire,
            *ack,
            len(self.writes),
        ]
        for name, value in self.writes.items():
            args += (name, value)
        args.append(len(self.messages))
        for stream, payload in self.messages:
            args += (_key_index(index, stream), payload)
        args.append(len(self.leases))
        for lease_set, due, payload in self.leases:
            args += (_key_index(index, lease_set), due, payload)
        args.append(self.flag)
        ops_text = "[]"
        if self.ops:  # most steps have none: no comprehension to run
            ops = [[op[0], *(_op_arg(part, index) for part in op[1:])] for op in self.ops]
            ops_text = json.dumps(ops, ensure_ascii=False, separators=(",", ":"))
        args.append(ops_text)
        args.append(self.token)
        return list(index), args
