"""A job's state: how it is laid out in its Redis hash and viewed by mapping rules.

Job hash fields:

==================  ===========================================================
``:``               status semaphore: open threads (> 0 running, 0 done,
                    -1 pending, <= -1e8 interrupted)
``gid``             generation id; a message for an older generation is stale
``m``               job metadata (JSON: jid, gid, tpc, app, vrs, ts, jc, key, …)
``ju``              last update (``YYYYMMDDHHmmss.sss``)
``err``             the job's error once it failed (JSON, as the original's ``metadata.err``)
``ed``              what we know beyond it: the exception's ``name`` (JSON)
``d:<key>``         one top-level key of the job data (JSON)
``a:<aid><dad>``    an activity's state at one dimension (JSON ``{output, hook}``)
``g:<guid>``        a message that was applied (redelivery guard)
``e:<aid><dad>``    an activity that was entered (join guard)
``f:<set key>``     a facet set the job joined (value: the job id), left when it ends
``_<name>``         searchable field, stored as a plain string
``-<name>``         marker (MeshFlow's replay ledger), stored as JSON
``w``               the process that started the job and waits for it (its token)
``W``               a waiter elsewhere needs the completion published
==================  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._codec import dumps, loads
from ..mapping import UNDEFINED

STATUS = ":"
GID = "gid"
META = "m"
UPDATED = "ju"
ERROR = "err"
ERROR_DETAIL = "ed"
DATA = "d:"
ACTIVITY = "a:"
GUARD = "g:"
ENTERED = "e:"
WAITED_BY = "w"
WATCHED = "W"


def completion_payload(fields: dict[str, str]) -> dict[str, Any] | None:
    """The ``done`` announcement of a finished job, rebuilt from its hash (None if running).

    Mirrors ``announce`` in ``lua/announce.lua``, for waiters that missed the message.
    """
    raw = fields.get(STATUS)
    if raw is None or META not in fields:
        return None
    status = int(float(raw))
    if status > 0 or status == -1:
        return None
    return {
        "k": "done",
        "s": status,
        "m": loads(fields[META]),
        "ju": fields.get(UPDATED),
        "err": loads(fields[ERROR]) if ERROR in fields else None,
        "ed": loads(fields[ERROR_DETAIL]) if ERROR_DETAIL in fields else None,
        "d": {name[2:]: loads(raw) for name, raw in fields.items() if name[:2] == DATA},
    }


def depth_of(dad: str) -> int:
    """Number of segments of a dimensional address (``',0,0'`` → 2)."""
    return dad.count(",")


def child_dad(dad: str) -> str:
    """The address of a child of an activity at ``dad``."""
    return f"{dad},0"


@dataclass
class JobState:
    """The job as the engine sees it during one step (mutated as the step runs)."""

    metadata: dict[str, Any]
    """Job metadata (``jid``, ``gid``, ``tpc``, ``app``, ``vrs``, ``jc``, ``ju``, …)."""
    data: dict[str, Any] = field(default_factory=dict)
    """Job data (``$job.data``)."""
    activities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """Activity id → dimension (``dad``) → ``{output: {data, metadata}, hook: {data}}``."""
    status: int = 0
    """The semaphore as read (open threads; 0 for a job being created)."""
    error: dict[str, Any] | None = None
    """The job's error, when it failed."""
    error_detail: dict[str, Any] | None = None
    """Beyond the original's error: the exception's ``name`` and the like."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The app's ``settings`` (``{$app.settings...}``)."""
    markers: dict[str, Any] = field(default_factory=dict)
    """``-``-prefixed fields (MeshFlow replay ledger)."""
    search: dict[str, str] = field(default_factory=dict)
    """``_``-prefixed searchable fields."""

    @classmethod
    def from_hash(cls, fields: dict[str, str], settings: dict[str, Any]) -> JobState:
        """Decode a job hash (``HGETALL``)."""
        state = cls(metadata=loads(fields[META]) if META in fields else {}, settings=settings)
        for name, raw in fields.items():
            head = name[:2]
            if head == DATA:
                state.data[name[2:]] = loads(raw)
            elif head == ACTIVITY:
                aid, dad = _split_activity(name[2:])
                state.activities.setdefault(aid, {})[dad] = loads(raw)
            elif name == STATUS:
                state.status = int(float(raw))
            elif name == ERROR:
                state.error = loads(raw)
                # The stored text itself, byte for byte, as the original's metadata.err.
                state.metadata["err"] = raw
            elif name == ERROR_DETAIL:
                state.error_detail = loads(raw)
            elif name == UPDATED:
                state.metadata["ju"] = raw
            elif name[:1] == "-":
                state.markers[name] = loads(raw)
            elif name[:1] == "_":
                state.search[name] = raw
        state.metadata["js"] = state.status
        return state

    def node(self, aid: str, dad: str) -> dict[str, Any]:
        """The (mutable) state of ``aid`` at ``dad``, created empty if absent."""
        # get-then-set: setdefault would build two empty dicts on every call.
        dims = self.activities.get(aid)
        if dims is None:
            dims = self.activities[aid] = {}
        node = dims.get(dad)
        if node is None:
            node = dims[dad] = {}
        return node

    def context(
        self,
        aid: str,
        dad: str,
        ancestors: tuple[str, ...] = (),
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The mapping context of activity ``aid`` running at ``dad``.

        Each activity is seen at the dimension on this activity's own path:
        an ancestor at depth k at the first k+1 segments of ``dad``; any other
        activity at its most recent dimension.
        """
        ctx: dict[str, Any] = {
            "$job": {"data": self.data, "metadata": self.metadata},
            "$app": {"settings": self.settings},
        }
        # Most contexts have no ancestors: no comprehension to run for them.
        depth_by_id = {a: i for i, a in enumerate(ancestors)} if ancestors else {}
        depth_by_id[aid] = len(ancestors)
        for other, dims in self.activities.items():
            if len(dims) == 1:
                # One dimension: both rules below pick it (most activities, most steps).
                (only,) = dims.values()
                if only is not None:
                    ctx[other] = only
                continue
            wanted = depth_by_id.get(other)
            chosen = None
            if wanted is not None:
                chosen = dims.get(_prefix(dad, wanted + 1))
            if chosen is None:
                chosen = dims[max(dims, key=_dim_order)] if dims else None
            if chosen is not None:
                ctx[other] = chosen
        ctx["$self"] = ctx.get(aid, {})
        if extra:
            ctx.update(extra)
        return ctx

    def output(self) -> dict[str, Any]:
        """The job as returned to callers: ``{data, metadata}``."""
        return {"data": self.data, "metadata": self.metadata}


def _prefix(dad: str, segments: int) -> str:
    parts = dad.split(",")
    return ",".join(parts[: segments + 1])


def _dim_order(dad: str) -> tuple[int, ...]:
    return tuple(int(p) for p in dad.split(",")[1:] if p.isdigit())


def _split_activity(name: str) -> tuple[str, str]:
    cut = name.find(",")
    return (name, "") if cut < 0 else (name[:cut], name[cut:])


def activity_field(aid: str, dad: str) -> str:
    """Hash field of an activity's state at one dimension."""
    return f"{ACTIVITY}{aid}{dad}"


def data_field(key: str) -> str:
    """Hash field of a top-level job data key."""
    return f"{DATA}{key}"


def encode_value(value: Any) -> str | None:
    """JSON for a job data value; None for ``undefined`` (not stored)."""
    if value is UNDEFINED:
        return None
    return dumps(value)
